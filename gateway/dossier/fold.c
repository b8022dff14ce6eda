/* Vietnamese folding: each accented letter of the Vietnamese alphabet maps to its base. */
#include "gateway/dossier/fold.h"

#include <stdint.h>
#include <string.h>

/* Each group: the base letter then every accented form (both cases) in UTF-8. */
static const char *const groups[] = {
	"aàáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ",
	"eèéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ",
	"iìíỉĩịÌÍỈĨỊ",
	"oòóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ",
	"uùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ",
	"yỳýỷỹỵỲÝỶỸỴ",
	"dđĐ",
};

static uint32_t decode(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t c = s[0];
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
	if (n < 0) {
		*p = s + 1;
		return 0xfffd;
	}
	c = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;
	for (int i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*p = s + i;
			return 0xfffd;
		}
		c = (c << 6) | (s[i] & 0x3f);
	}
	*p = s + n + 1;
	return c;
}

static char base_of(uint32_t cp)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
		const unsigned char *s = (const unsigned char *)groups[g];
		char base = (char)s[0];
		s++;
		while (*s)
			if (decode(&s) == cp)
				return base;
	}
	return 0;
}

size_t fold_text(const char *in, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = 0;
	if (size == 0)
		return 0;
	while (*p && n + 1 < size) {
		uint32_t c = decode(&p);
		char b;
		if (c < 0x80) {
			b = (char)c;
			if (b >= 'A' && b <= 'Z')
				b = (char)(b - 'A' + 'a');
			if (!((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9')))
				b = ' ';
		} else {
			b = base_of(c);
			if (!b)
				b = ' ';
		}
		out[n++] = b;
	}
	out[n] = 0;
	return n;
}
