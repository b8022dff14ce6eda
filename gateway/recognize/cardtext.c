/* OCR text of an ID card front without QR/MRZ: title, number, name, birth date, sex. */
#include "gateway/recognize/cardtext.h"

#include <string.h>

#include "gateway/recognize/classify.h"

#define LINE_MAX_BYTES 512
#define MAX_LINES 64

struct line {
	const char *s; /* the original bytes */
	size_t len;
	char fold[LINE_MAX_BYTES]; /* folded to ASCII upper case */
};

static int contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The value after the label: the text after the first ':' on the line, else the next
 * non-empty line.  Copies at most size-1 bytes, spaces trimmed. */
static void value_after(const struct line *L, int n, int i, char *out, size_t size)
{
	const char *p = memchr(L[i].s, ':', L[i].len);
	const char *s = NULL;
	size_t len = 0;
	out[0] = 0;
	if (p) {
		s = p + 1;
		len = L[i].len - (size_t)(s - L[i].s);
		while (len && (*s == ' ' || *s == '\t'))
			s++, len--;
	}
	if (!len && i + 1 < n) {
		for (int k = i + 1; k < n && k <= i + 2; k++)
			if (L[k].fold[0]) {
				s = L[k].s, len = L[k].len;
				break;
			}
	}
	if (!s)
		return;
	size_t o = 0;
	for (size_t k = 0; k < len && o + 1 < size; k++) {
		char c = s[k] == '\t' || s[k] == '\r' ? ' ' : s[k];
		if (c == ' ' && (o == 0 || out[o - 1] == ' '))
			continue;
		out[o++] = c;
	}
	while (o && out[o - 1] == ' ')
		o--;
	/* Do not cut a UTF-8 sequence. */
	while (o && ((unsigned char)out[o - 1] & 0xc0) == 0x80 && o + 1 >= size)
		o--;
	out[o] = 0;
}

/* Runs of exactly `want` digits in s (spaces inside a run are not allowed); returns how
 * many, the first copied to out. */
static int digit_runs(const char *s, size_t len, size_t want, char *out)
{
	int found = 0;
	for (size_t i = 0; i < len;) {
		if (s[i] < '0' || s[i] > '9') {
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && s[j] >= '0' && s[j] <= '9')
			j++;
		if (j - i == want) {
			if (!found)
				memcpy(out, s + i, want), out[want] = 0;
			found++;
		}
		i = j;
	}
	return found;
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The first dd/mm/yyyy or dd-mm-yyyy on the line that is a real date after 1900. */
static int find_date(const char *s, size_t len, char out[11])
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	for (size_t i = 0; i + 10 <= len; i++) {
		const char *p = s + i;
		int ok = 1;
		for (int k = 0; k < 10 && ok; k++)
			ok = k == 2 || k == 5 ? (p[k] == '/' || p[k] == '-' || p[k] == '.')
					      : (p[k] >= '0' && p[k] <= '9');
		if (!ok || (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9') ||
		    (i + 10 < len && s[i + 10] >= '0' && s[i + 10] <= '9'))
			continue;
		int d = (p[0] - '0') * 10 + p[1] - '0', m = (p[3] - '0') * 10 + p[4] - '0';
		int y = (p[6] - '0') * 1000 + (p[7] - '0') * 100 + (p[8] - '0') * 10 + p[9] - '0';
		if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 ||
		    d > mdays[m - 1] + (m == 2 && leap(y)))
			continue;
		memcpy(out, p + 6, 4);
		out[4] = '-', out[5] = p[3], out[6] = p[4], out[7] = '-', out[8] = p[0], out[9] = p[1];
		out[10] = 0;
		return 1;
	}
	return 0;
}

/* A name as printed: 2 to 7 words of letters only (upper case on the card). */
static int plausible_name(const char *s)
{
	char f[128];
	size_t n = text_fold(s, strlen(s), f, sizeof(f)), words = 1;
	if (n < 3)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (f[i] == ' ')
			words++;
		else if (f[i] < 'A' || f[i] > 'Z')
			return 0;
	}
	/* folding turns punctuation into spaces: the original must have none */
	for (const char *p = s; *p; p++)
		if ((*p >= '0' && *p <= '9') || *p == ':' || *p == '/' || *p == ',' || *p == '.' ||
		    (*p >= 'a' && *p <= 'z'))
			return 0;
	return words >= 2 && words <= 7;
}

void cardtext_parse(const char *text, size_t len, struct card_text *ret)
{
	struct line L[MAX_LINES];
	int n = 0;
	memset(ret, 0, sizeof(*ret));
	if (len > CARDTEXT_MAX)
		len = CARDTEXT_MAX;
	for (size_t i = 0; i < len && n < MAX_LINES;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		L[n].s = text + i;
		L[n].len = e - i > LINE_MAX_BYTES - 1 ? LINE_MAX_BYTES - 1 : e - i;
		text_fold(L[n].s, L[n].len, L[n].fold, sizeof(L[n].fold));
		n++;
		i = e + 1;
	}
	/* The title says the generation: the 2021 chip card's front is bilingual, the 2016
	 * card's is not; the 2024 card's title is "CĂN CƯỚC" alone. */
	int cmnd = 0, cccd = 0, cc24 = 0, english = 0;
	for (int i = 0; i < n; i++) {
		const char *f = L[i].fold;
		if (contains(f, "CHUNG MINH NHAN DAN"))
			cmnd = 1;
		else if (contains(f, "CAN CUOC CONG DAN"))
			cccd = 1;
		else if (strcmp(f, "CAN CUOC") == 0 || strncmp(f, "CAN CUOC IDENTITY", 17) == 0 ||
			 strcmp(f, "IDENTITY CARD") == 0)
			cc24 = 1;
		if (contains(f, "CITIZEN IDENTITY") || contains(f, "FULL NAME") ||
		    contains(f, "DATE OF BIRTH"))
			english = 1;
	}
	if (cmnd)
		ret->generation = "cmnd_9";
	else if (cccd)
		ret->generation = english ? "cccd_2021" : "cccd_2016";
	else if (cc24)
		ret->generation = "can_cuoc_2024";
	else
		return;
	size_t want = cmnd ? 9 : 12;
	/* The number: the only run of that many digits on the card. */
	char num[13];
	int runs = 0;
	for (int i = 0; i < n; i++) {
		char one[13];
		int k = digit_runs(L[i].s, L[i].len, want, one);
		if (k && !runs)
			memcpy(num, one, want + 1);
		runs += k;
	}
	if (runs == 1) {
		memcpy(ret->id_number, num, want + 1);
		ret->nfields++;
	}
	for (int i = 0; i < n; i++) {
		const char *f = L[i].fold;
		char v[96];
		if (!ret->full_name[0] &&
		    (contains(f, "HO VA TEN") || contains(f, "HO TEN") || contains(f, "HO CHU DEM VA TEN") ||
		     contains(f, "FULL NAME"))) {
			value_after(L, n, i, v, sizeof(v));
			if (plausible_name(v)) {
				memcpy(ret->full_name, v, sizeof(v));
				ret->nfields++;
			}
		}
		if (!ret->date_of_birth[0] && (contains(f, "SINH") || contains(f, "DATE OF BIRTH")) &&
		    !contains(f, "KHAI SINH") && find_date(L[i].s, L[i].len, ret->date_of_birth))
			ret->nfields++;
		if (!ret->sex && contains(f, "GIOI TINH")) {
			value_after(L, n, i, v, sizeof(v));
			char fv[96];
			text_fold(v, strlen(v), fv, sizeof(fv));
			if (strncmp(fv, "NAM", 3) == 0 && (fv[3] == 0 || fv[3] == ' '))
				ret->sex = 'M', ret->nfields++;
			else if (strncmp(fv, "NU", 2) == 0 && (fv[2] == 0 || fv[2] == ' '))
				ret->sex = 'F', ret->nfields++;
		}
		if (!ret->nationality[0] && contains(f, "QUOC TICH") && contains(f, "VIET NAM")) {
			memcpy(ret->nationality, "VNM", 4);
			ret->nfields++;
		}
	}
}
