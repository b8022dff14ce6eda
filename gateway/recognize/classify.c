/* Document classification by fuzzy key phrases over diacritic-free OCR text. */
#include "gateway/recognize/classify.h"

#include <stdlib.h>
#include <string.h>

/* Base letter of U+1EA0..U+1EF9 (Vietnamese letters with tone marks), in order. */
static const char viet_block[] = "AAAAAAAAAAAAAAAAAAAAAAAA"
				 "EEEEEEEEEEEEEEEE"
				 "IIII"
				 "OOOOOOOOOOOOOOOOOOOOOOOO"
				 "UUUUUUUUUUUUUU"
				 "YYYYYYYY";
/* U+00C0..U+00FF. */
static const char latin1[] = "AAAAAAACEEEEIIIIDNOOOOO OUUUUY  AAAAAAACEEEEIIIIDNOOOOO OUUUUY Y";

/* 0 for a combining mark, the ASCII letter or digit it folds to, or ' '. */
static char fold_cp(unsigned cp)
{
	if (cp < 0x80) {
		if (cp >= 'a' && cp <= 'z')
			return (char)(cp - 32);
		if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'))
			return (char)cp;
		return ' ';
	}
	if (cp >= 0x300 && cp <= 0x36f)
		return 0;
	if (cp >= 0xc0 && cp <= 0xff)
		return latin1[cp - 0xc0];
	if (cp >= 0x1ea0 && cp <= 0x1ef9)
		return viet_block[cp - 0x1ea0];
	switch (cp) {
	case 0x102:
	case 0x103: return 'A';
	case 0x110:
	case 0x111: return 'D';
	case 0x128:
	case 0x129: return 'I';
	case 0x168:
	case 0x169: return 'U';
	case 0x1a0:
	case 0x1a1: return 'O';
	case 0x1af:
	case 0x1b0: return 'U';
	default: return ' ';
	}
}

size_t text_fold(const char *s, size_t len, char *out, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, i = 0;
	if (size == 0)
		return 0;
	while (i < len && o + 1 < size) {
		unsigned cp = p[i], n = 0;
		if (cp >= 0xf0)
			n = 3, cp &= 0x07;
		else if (cp >= 0xe0)
			n = 2, cp &= 0x0f;
		else if (cp >= 0xc0)
			n = 1, cp &= 0x1f;
		else if (cp >= 0x80)
			cp = 0xfffd; /* stray continuation byte */
		i++;
		for (unsigned k = 0; k < n && i < len && (p[i] & 0xc0) == 0x80; k++, i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		char c = fold_cp(cp);
		if (c == 0)
			continue;
		if (c == ' ' && (o == 0 || out[o - 1] == ' '))
			continue;
		out[o++] = c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = 0;
	return o;
}

/* Smallest edit distance between the phrase and any substring of the text (Sellers). */
static int approx_distance(const char *pat, const char *text, size_t n)
{
	size_t m = strlen(pat);
	int col[64];
	if (m >= 64)
		m = 63;
	for (size_t i = 0; i <= m; i++)
		col[i] = (int)i;
	int best = (int)m;
	for (size_t j = 0; j < n; j++) {
		int diag = 0; /* D[i-1][j-1], with D[0][*] = 0 */
		col[0] = 0;
		for (size_t i = 1; i <= m; i++) {
			int up = col[i]; /* D[i][j-1] */
			int v = diag + (pat[i - 1] != text[j]);
			if (up + 1 < v)
				v = up + 1;
			if (col[i - 1] + 1 < v)
				v = col[i - 1] + 1;
			diag = up;
			col[i] = v;
		}
		if (col[m] < best)
			best = col[m];
	}
	return best;
}

struct phrase {
	const char *type;
	const char *text;
	double weight;
};

static const struct phrase phrases[] = {
	{ "id_card_front", "CAN CUOC CONG DAN", 1.0 },
	{ "id_card_front", "CITIZEN IDENTITY CARD", 0.9 },
	{ "id_card_front", "PLACE OF RESIDENCE", 0.45 },
	{ "id_card_front", "DATE OF BIRTH", 0.35 },
	{ "id_card_back", "DAC DIEM NHAN DANG", 1.0 },
	{ "id_card_back", "PERSONAL IDENTIFICATION", 0.9 },
	{ "id_card_back", "NGON TRO TRAI", 0.7 },
	{ "id_card_back", "NGON TRO PHAI", 0.7 },
	{ "id_card_back", "QUAN LY HANH CHINH VE TRAT TU XA HOI", 0.7 },
	{ "birth_certificate", "GIAY KHAI SINH", 1.0 },
	{ "birth_certificate", "TRICH LUC KHAI SINH", 0.9 },
	{ "marriage_certificate", "CHUNG NHAN KET HON", 1.0 },
	{ "marriage_certificate", "GIAY CHUNG NHAN KET HON", 1.0 },
	{ "residence_confirmation", "XAC NHAN THONG TIN VE CU TRU", 1.0 },
	{ "residence_confirmation", "THONG TIN VE CU TRU", 0.8 },
	{ "land_use_right_certificate", "QUYEN SU DUNG DAT", 1.0 },
	{ "land_use_right_certificate", "TAI SAN KHAC GAN LIEN VOI DAT", 0.9 },
	{ "land_use_right_certificate", "QUYEN SO HUU NHA O", 0.6 },
};

static const char *types[] = {
	"id_card_front",        "id_card_back",           "birth_certificate",
	"marriage_certificate", "residence_confirmation", "land_use_right_certificate"
};

#define NTYPES (sizeof(types) / sizeof(*types))
#define MIN_SCORE 0.6
#define MIN_MARGIN 0.15

void classify_text(const char *text, size_t len, struct classify_result *ret)
{
	double score[NTYPES] = { 0 };
	size_t cap = len > CLASSIFY_TEXT_MAX ? CLASSIFY_TEXT_MAX : len;
	char *folded = malloc(cap + 1);
	ret->type = "other";
	ret->score = ret->runner_up = 0;
	if (!folded)
		return;
	size_t n = text_fold(text, cap, folded, cap + 1);
	for (size_t i = 0; i < sizeof(phrases) / sizeof(*phrases); i++) {
		const struct phrase *ph = &phrases[i];
		int m = (int)strlen(ph->text);
		int allow = m / 5 > 1 ? m / 5 : 1;
		int d = approx_distance(ph->text, folded, n);
		if (d > allow)
			continue;
		double s = ph->weight * (1.0 - (double)d / m);
		for (size_t t = 0; t < NTYPES; t++)
			if (strcmp(types[t], ph->type) == 0 && s > score[t])
				score[t] = s;
	}
	free(folded);
	size_t best = 0, second = 1;
	for (size_t t = 1; t < NTYPES; t++) {
		if (score[t] > score[best]) {
			second = best;
			best = t;
		} else if (t != best && score[t] > score[second]) {
			second = t;
		}
	}
	if (second == best)
		second = best == 0 ? 1 : 0;
	ret->score = score[best];
	ret->runner_up = score[second];
	if (score[best] >= MIN_SCORE && score[best] - score[second] >= MIN_MARGIN)
		ret->type = types[best];
}
