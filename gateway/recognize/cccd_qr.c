/* CCCD front QR payload parser: bounded, validated field by field. */
#include "gateway/recognize/cccd_qr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned cp;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, cp = c & 0x07;
		} else {
			return 0;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return 0;
		i += n + 1;
	}
	return 1;
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* DDMMYYYY to YYYY-MM-DD, validating the calendar. */
static int date(const char *s, size_t n, char out[11])
{
	static const int dim[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (n != 8 || !all_digits(s, 8))
		return -EINVAL;
	int d = (s[0] - '0') * 10 + s[1] - '0', m = (s[2] - '0') * 10 + s[3] - '0';
	int y = (s[4] - '0') * 1000 + (s[5] - '0') * 100 + (s[6] - '0') * 10 + s[7] - '0';
	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > dim[m - 1])
		return -EINVAL;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -EINVAL;
	/* YYYY-MM-DD from the validated digits. */
	memcpy(out, s + 4, 4);
	out[4] = '-', out[5] = s[2], out[6] = s[3], out[7] = '-', out[8] = s[0], out[9] = s[1], out[10] = 0;
	return 0;
}

static int copy_text(char *dst, size_t size, const char *s, size_t n)
{
	while (n > 0 && *s == ' ')
		s++, n--;
	while (n > 0 && s[n - 1] == ' ')
		n--;
	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 0;
}

int cccd_qr_parse(const char *data, size_t len, struct cccd_qr *ret)
{
	struct cccd_qr q;
	const char *field[12];
	size_t flen[12];
	int n = 0;

	memset(&q, 0, sizeof(q));
	if (len > CCCD_QR_MAX)
		return -EMSGSIZE;
	while (len > 0 && (data[len - 1] == '\r' || data[len - 1] == '\n'))
		len--;
	q.error = "payload";
	if (!utf8_valid(data, len))
		goto bad;
	const char *p = data, *end = data + len;
	for (;;) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		if (n == 12) {
			q.error = "field count";
			goto bad;
		}
		field[n] = p;
		flen[n] = bar ? (size_t)(bar - p) : (size_t)(end - p);
		n++;
		if (!bar)
			break;
		p = bar + 1;
	}
	q.nfields = n;
	if (n < 6) {
		q.error = "field count";
		goto bad;
	}
	q.error = "id_number";
	if (flen[0] != 12 || !all_digits(field[0], 12))
		goto bad;
	memcpy(q.id_number, field[0], 12);
	q.error = "old_id_number";
	if (flen[1] != 0 && (flen[1] != 9 || !all_digits(field[1], 9)))
		goto bad;
	memcpy(q.old_id_number, field[1], flen[1]);
	q.error = "full_name";
	if (copy_text(q.full_name, sizeof(q.full_name), field[2], flen[2]) < 0 ||
	    strpbrk(q.full_name, "0123456789"))
		goto bad;
	q.error = "date_of_birth";
	if (date(field[3], flen[3], q.date_of_birth) < 0)
		goto bad;
	q.error = "sex";
	if (flen[4] == 3 && memcmp(field[4], "Nam", 3) == 0)
		q.sex = 'M';
	else if (flen[4] == 4 && memcmp(field[4], "N\xe1\xbb\xaf", 4) == 0) /* Nữ */
		q.sex = 'F';
	else
		goto bad;
	q.error = "place_of_residence";
	if (copy_text(q.place_of_residence, sizeof(q.place_of_residence), field[5], flen[5]) < 0)
		goto bad;
	if (n >= 7) {
		q.error = "issue_date";
		if (date(field[6], flen[6], q.issue_date) < 0 || strcmp(q.issue_date, q.date_of_birth) <= 0)
			goto bad;
	}
	q.error = NULL;
	*ret = q;
	return 0;
bad:
	memset(ret, 0, sizeof(*ret));
	ret->error = q.error;
	return -EINVAL;
}
