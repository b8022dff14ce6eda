/* ICAO 9303 TD1/TD3 parsing with check-digit verification and unique-correction repair. */
#include "gateway/recognize/mrz.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ISO 3166-1 alpha-3 codes plus ICAO's own (D, GBD..GBS, EUE, UNO/UNA/UNK, XX?, RKS). */
static const char countries[] =
    "ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR "
    "BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL "
    "COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK "
    "FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV "
    "HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO "
    "LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG "
    "MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN "
    "PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE "
    "SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO "
    "TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE "
    "D<< GBD GBN GBO GBP GBS EUE UNO UNA UNK XXA XXB XXC XXX RKS UTO ";

static int country_valid(const char *c)
{
	char key[5];
	snprintf(key, sizeof(key), "%.3s ", c);
	return strlen(key) == 4 && strstr(countries, key) != NULL &&
	    (strstr(countries, key) - countries) % 4 == 0;
}

static int char_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c == '<')
		return 0;
	return -1;
}

int mrz_check_digit(const char *s, size_t n)
{
	static const int w[3] = { 7, 3, 1 };
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = char_value(s[i]);
		if (v < 0)
			return -1;
		sum += v * w[i % 3];
	}
	return sum % 10;
}

/* Kinds of position: digit, letter, alphanumeric, filler only, name (letters and '<'),
 * sex (M, F, '<'), letter-or-filler (doc code, country). */
enum {
	K_DIGIT = 'D',
	K_LETTER = 'A',
	K_ALNUM = 'X',
	K_FILLER = 'F',
	K_NAME = 'N',
	K_SEX = 'S',
	K_CODE = 'C'
};

struct seg {
	int line, start, len;
};
struct field {
	enum mrz_check_id id;
	struct seg seg[4];
	int nseg;
	int cline, cpos;
};

struct ctx {
	struct mrz *m;
	char kind[3][45];
	struct field f[MRZ_NCHECKS];
	int have[MRZ_NCHECKS];
	int vn;
};

/* Flags the result for review and marks the field as not to be trusted. */
static void problem(struct mrz *m, const char *field, const char *what)
{
	static const char *names[] = { "document_number", "date_of_birth", "expiry_date", "sex",
				       "nationality",     "full_name",     "id_number" };
	m->needs_review = 1;
	for (unsigned i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcmp(field, names[i]) == 0)
			m->bad |= 1u << i;
	if (!m->problem[0])
		snprintf(m->problem, sizeof(m->problem), "%s %s", field, what);
}

static void set_kind(struct ctx *c, int line, int start, int len, char k)
{
	memset(&c->kind[line][start], k, (size_t)len);
}

static char to_digit(char ch)
{
	static const char from[] = "OQDUILTJZSGBA";
	static const char to[] = "0000111125684";
	const char *p = strchr(from, ch);
	return (ch && p) ? to[p - from] : '?';
}

static char to_letter(char ch)
{
	static const char from[] = "0125684";
	static const char to[] = "OIZSGBA";
	const char *p = strchr(from, ch);
	return (ch && p) ? to[p - from] : '?';
}

/* Characters a reader typically confuses with ch at a position of the given kind. */
static const char *alternatives(char kind, char ch)
{
	static const char *digit_alt[10] = { "869", "74", "7", "895", "1", "63", "850", "12", "0369", "803" };
	if (ch == '?')
		return kind == K_DIGIT ? "0123456789" : "0123456789<";
	if (kind == K_DIGIT)
		return (ch >= '0' && ch <= '9') ? digit_alt[ch - '0'] : "0";
	if (kind == K_ALNUM) {
		switch (ch) {
		case '0': return "869ODQ";
		case '1': return "74I";
		case '2': return "7Z";
		case '5': return "63S";
		case '6': return "850G";
		case '8': return "0369B";
		case 'O': return "0QD";
		case 'D': return "0O";
		case 'Q': return "0O";
		case 'I': return "1";
		case 'S': return "5";
		case 'B': return "8";
		case 'Z': return "2";
		case 'G': return "6";
		case 'K': return "<";
		case '<': return "K";
		default: return (ch >= '0' && ch <= '9') ? digit_alt[ch - '0'] : "";
		}
	}
	return "";
}

static int field_ok(struct ctx *c, const struct field *f)
{
	char buf[64];
	size_t n = 0;
	int all_filler = 1;
	for (int s = 0; s < f->nseg; s++) {
		memcpy(buf + n, &c->m->line[f->seg[s].line][f->seg[s].start], (size_t)f->seg[s].len);
		n += (size_t)f->seg[s].len;
	}
	for (size_t i = 0; i < n; i++)
		all_filler &= buf[i] == '<';
	char got = c->m->line[f->cline][f->cpos];
	/* TD3 personal number: an empty field may carry '<' as its check digit. */
	if (f->id == MRZ_CK_OPTIONAL && c->m->format == 3 && all_filler && got == '<')
		return 1;
	int cd = mrz_check_digit(buf, n);
	return cd >= 0 && got == '0' + cd;
}

static int parse_date(const char *s, int birth, int ref_year, char out[11], int *ret_year);

/* Consistency filters used to choose between several corrections: the other checks, the
 * Vietnamese duplicate of the document number, and a valid date. */
static int consistent(struct ctx *c, enum mrz_check_id id)
{
	if (id == MRZ_CK_BIRTH || id == MRZ_CK_EXPIRY) {
		const struct seg *sg = &c->f[id].seg[0];
		const char *d = &c->m->line[sg->line][sg->start];
		char out[11];
		int y;
		if (!(c->vn && id == MRZ_CK_EXPIRY && memcmp(d, "991231", 6) == 0) &&
		    parse_date(d, id == MRZ_CK_BIRTH, 9999, out, &y) < 0)
			return 0;
	}
	if (id != MRZ_CK_COMPOSITE && c->have[MRZ_CK_COMPOSITE] && !field_ok(c, &c->f[MRZ_CK_COMPOSITE]))
		return 0;
	if (c->vn && (id == MRZ_CK_DOC_NUMBER || id == MRZ_CK_OPTIONAL) &&
	    memcmp(&c->m->line[0][5], &c->m->line[0][18], 9) != 0)
		return 0;
	return 1;
}

struct cand {
	int line, pos;
	char ch;
};

/* Verifies a check; when it fails, applies the one single-character correction that makes
 * it agree (narrowed by the other checks when several do), else marks it failed. */
static void verify(struct ctx *c, enum mrz_check_id id, const char *skip_mask)
{
	struct field *f = &c->f[id];
	struct mrz *m = c->m;
	if (field_ok(c, f)) {
		m->check[id] = MRZ_CHECK_OK;
		return;
	}
	struct cand cand[64];
	int ncand = 0;
	for (int s = 0; s <= f->nseg; s++) {
		int line = s < f->nseg ? f->seg[s].line : f->cline;
		int start = s < f->nseg ? f->seg[s].start : f->cpos;
		int len = s < f->nseg ? f->seg[s].len : 1;
		for (int p = start; p < start + len; p++) {
			if (skip_mask && skip_mask[line * 45 + p])
				continue;
			char kind = (s == f->nseg) ? K_DIGIT : c->kind[line][p];
			char orig = m->line[line][p];
			for (const char *a = alternatives(kind, orig); *a; a++) {
				m->line[line][p] = *a;
				if (field_ok(c, f) && ncand < 64)
					cand[ncand++] = (struct cand){ line, p, *a };
			}
			m->line[line][p] = orig;
		}
	}
	if (ncand >= 1) {
		int keep = 0;
		for (int i = 0; i < ncand; i++) {
			char orig = m->line[cand[i].line][cand[i].pos];
			m->line[cand[i].line][cand[i].pos] = cand[i].ch;
			if (consistent(c, id))
				cand[keep++] = cand[i];
			m->line[cand[i].line][cand[i].pos] = orig;
		}
		ncand = keep;
	}
	if (ncand == 1) {
		m->line[cand[0].line][cand[0].pos] = cand[0].ch;
		m->check[id] = MRZ_CHECK_CORRECTED;
		m->corrections++;
		return;
	}
	m->check[id] = MRZ_CHECK_FAILED;
	problem(m, id == MRZ_CK_OPTIONAL ? "id_number" : mrz_check_name(id), "check digit does not agree");
}

static int days_in_month(int y, int mo)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[mo - 1];
}

static void format_date(char out[11], int y, int m, int d)
{
	out[0] = (char)('0' + y / 1000 % 10), out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10), out[3] = (char)('0' + y % 10), out[4] = '-';
	out[5] = (char)('0' + m / 10), out[6] = (char)('0' + m % 10), out[7] = '-';
	out[8] = (char)('0' + d / 10), out[9] = (char)('0' + d % 10), out[10] = 0;
}

/* YYMMDD to YYYY-MM-DD; birth dates after ref_year are of the previous century. */
static int parse_date(const char *s, int birth, int ref_year, char out[11], int *ret_year)
{
	for (int i = 0; i < 6; i++)
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
	int yy = (s[0] - '0') * 10 + (s[1] - '0');
	int mo = (s[2] - '0') * 10 + (s[3] - '0');
	int d = (s[4] - '0') * 10 + (s[5] - '0');
	int y = 2000 + yy;
	if (birth && y > ref_year)
		y -= 100;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -EINVAL;
	format_date(out, y, mo, d);
	*ret_year = y;
	return 0;
}

/* A plausible unaccented Vietnamese syllable: onset, 1-3 vowels, coda. */
static int vn_syllable(const char *s, size_t n)
{
	static const char *onsets[] = { "NGH", "CH", "GH", "GI", "KH", "NG", "NH", "PH", "QU",
					"TH",  "TR", "B",  "C",  "D",  "G",  "H",  "K",  "L",
					"M",   "N",  "P",  "R",  "S",  "T",  "V",  "X",  "" };
	static const char *codas[] = { "NG", "NH", "CH", "C", "M", "N", "P", "T", "" };
	for (size_t o = 0; o < sizeof(onsets) / sizeof(*onsets); o++) {
		size_t ol = strlen(onsets[o]);
		if (ol > n || memcmp(s, onsets[o], ol) != 0)
			continue;
		size_t v = ol;
		while (v < n && strchr("AEIOUY", s[v]))
			v++;
		size_t nv = v - ol;
		if (nv < 1 && !(ol == 2 && memcmp(s, "GI", 2) == 0))
			continue;
		if (nv > 3)
			continue;
		if (n > 7)
			return 0;
		for (size_t k = 0; k < sizeof(codas) / sizeof(*codas); k++)
			if (strlen(codas[k]) == n - v && memcmp(s + v, codas[k], n - v) == 0)
				return 1;
	}
	return 0;
}

static void parse_name(struct ctx *c, const char *src, int len)
{
	struct mrz *m = c->m;
	char name[45];
	memcpy(name, src, (size_t)len);
	name[len] = 0;
	int end = len;
	while (end > 0 && name[end - 1] == '<')
		end--;
	if (end == 0 || name[0] == '<') {
		problem(m, "full_name", "is empty or starts with a filler");
		return;
	}
	/* Letters after a run of three or more fillers are a misread filler (K, C) more often
	 * than a name. */
	if (strstr(name, "<<<") && strstr(name, "<<<") - name < end) {
		problem(m, "full_name", "has letters after the filler run");
		return;
	}
	for (int i = 2; i < end; i++)
		if (name[i] != '<' && name[i] == name[i - 1] && name[i] == name[i - 2]) {
			problem(m, "full_name", "has a letter three times in a row");
			return;
		}
	size_t o = 0;
	int words = 0;
	for (int i = 0; i < end && o + 1 < sizeof(m->full_name); i++) {
		if (name[i] == '<') {
			if (o > 0 && m->full_name[o - 1] != ' ')
				m->full_name[o++] = ' ';
			continue;
		}
		if (name[i] < 'A' || name[i] > 'Z') {
			problem(m, "full_name", "has a character that is not a letter");
			m->full_name[0] = 0;
			return;
		}
		m->full_name[o++] = name[i];
	}
	m->full_name[o] = 0;
	if (c->vn) {
		const char *w = m->full_name;
		while (*w) {
			size_t n = strcspn(w, " ");
			/* The last word may be cut by the line's end. */
			int truncated = (w + n == m->full_name + o) && end == len;
			if ((!truncated && !vn_syllable(w, n)) || n > 7)
				problem(m, "full_name", "has a word that is not a Vietnamese syllable");
			words++;
			w += n;
			while (*w == ' ')
				w++;
		}
	}
	(void)words;
}

static int split_lines(const char *text, size_t len, char lines[][45], int *widths, int max)
{
	int n = 0;
	size_t i = 0;
	while (i < len && n < max) {
		char buf[64];
		size_t w = 0;
		int too_long = 0;
		for (; i < len && text[i] != '\n'; i++) {
			char ch = text[i];
			if (ch == ' ' || ch == '\r' || ch == '\t')
				continue;
			if (w >= 44) {
				too_long = 1;
				continue;
			}
			ch = (char)toupper((unsigned char)ch);
			if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '<'))
				ch = '?';
			buf[w++] = ch;
		}
		i++;
		if (w == 0)
			continue;
		memcpy(lines[n], buf, w);
		lines[n][w] = 0;
		widths[n] = too_long ? 99 : (int)w;
		n++;
	}
	return n;
}

int mrz_parse(const char *text, size_t len, int ref_year, struct mrz *ret)
{
	char lines[16][45];
	int widths[16];
	struct ctx c;
	struct mrz *m = ret;

	if (len > MRZ_TEXT_MAX)
		return -EMSGSIZE;
	if (ref_year <= 0) {
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		ref_year = tm.tm_year + 1900;
	}
	int n = split_lines(text, len, lines, widths, 16);
	int first = -1, format = 0;
	for (int i = 0; i < n && first < 0; i++) {
		if (i + 2 < n && widths[i] == 30 && widths[i + 1] == 30 && widths[i + 2] == 30)
			first = i, format = 1;
		else if (i + 1 < n && widths[i] == 44 && widths[i + 1] == 44)
			first = i, format = 3;
	}
	if (first < 0)
		return -EINVAL;

	memset(m, 0, sizeof(*m));
	memset(&c, 0, sizeof(c));
	c.m = m;
	m->format = format;
	m->nlines = format == 1 ? 3 : 2;
	m->width = format == 1 ? 30 : 44;
	for (int i = 0; i < m->nlines; i++)
		memcpy(m->line[i], lines[first + i], 45);

	/* Position kinds and checked fields. */
	if (format == 1) {
		set_kind(&c, 0, 0, 2, K_CODE);
		set_kind(&c, 0, 2, 3, K_CODE);
		set_kind(&c, 0, 5, 9, K_ALNUM);
		set_kind(&c, 0, 14, 1, K_DIGIT);
		set_kind(&c, 0, 15, 15, K_ALNUM);
		set_kind(&c, 1, 0, 7, K_DIGIT);
		set_kind(&c, 1, 7, 1, K_SEX);
		set_kind(&c, 1, 8, 7, K_DIGIT);
		set_kind(&c, 1, 15, 3, K_CODE);
		set_kind(&c, 1, 18, 11, K_ALNUM);
		set_kind(&c, 1, 29, 1, K_DIGIT);
		set_kind(&c, 2, 0, 30, K_NAME);
		c.f[MRZ_CK_DOC_NUMBER] = (struct field){ MRZ_CK_DOC_NUMBER, { { 0, 5, 9 } }, 1, 0, 14 };
		c.f[MRZ_CK_BIRTH] = (struct field){ MRZ_CK_BIRTH, { { 1, 0, 6 } }, 1, 1, 6 };
		c.f[MRZ_CK_EXPIRY] = (struct field){ MRZ_CK_EXPIRY, { { 1, 8, 6 } }, 1, 1, 14 };
		c.f[MRZ_CK_OPTIONAL] = (struct field){ MRZ_CK_OPTIONAL, { { 0, 15, 12 } }, 1, 0, 29 };
		c.f[MRZ_CK_COMPOSITE] = (struct field){
			MRZ_CK_COMPOSITE, { { 0, 5, 25 }, { 1, 0, 7 }, { 1, 8, 7 }, { 1, 18, 11 } }, 4, 1, 29
		};
	} else {
		set_kind(&c, 0, 0, 2, K_CODE);
		set_kind(&c, 0, 2, 3, K_CODE);
		set_kind(&c, 0, 5, 39, K_NAME);
		set_kind(&c, 1, 0, 9, K_ALNUM);
		set_kind(&c, 1, 9, 1, K_DIGIT);
		set_kind(&c, 1, 10, 3, K_CODE);
		set_kind(&c, 1, 13, 7, K_DIGIT);
		set_kind(&c, 1, 20, 1, K_SEX);
		set_kind(&c, 1, 21, 7, K_DIGIT);
		set_kind(&c, 1, 28, 14, K_ALNUM);
		set_kind(&c, 1, 42, 2, K_DIGIT);
		c.f[MRZ_CK_DOC_NUMBER] = (struct field){ MRZ_CK_DOC_NUMBER, { { 1, 0, 9 } }, 1, 1, 9 };
		c.f[MRZ_CK_BIRTH] = (struct field){ MRZ_CK_BIRTH, { { 1, 13, 6 } }, 1, 1, 19 };
		c.f[MRZ_CK_EXPIRY] = (struct field){ MRZ_CK_EXPIRY, { { 1, 21, 6 } }, 1, 1, 27 };
		c.f[MRZ_CK_OPTIONAL] = (struct field){ MRZ_CK_OPTIONAL, { { 1, 28, 14 } }, 1, 1, 42 };
		c.f[MRZ_CK_COMPOSITE] = (struct field){
			MRZ_CK_COMPOSITE, { { 1, 0, 10 }, { 1, 13, 7 }, { 1, 21, 22 } }, 3, 1, 43
		};
	}
	for (int i = 0; i < MRZ_NCHECKS; i++)
		c.have[i] = 1;

	/* The Vietnamese card: digits-only document number and personal number, fixed fillers. */
	const char *issuer = format == 1 ? &m->line[0][2] : &m->line[0][2];
	c.vn = format == 1 && memcmp(issuer, "VNM", 3) == 0;
	if (c.vn) {
		set_kind(&c, 0, 5, 9, K_DIGIT);
		set_kind(&c, 0, 15, 12, K_DIGIT);
		set_kind(&c, 0, 27, 2, K_FILLER);
		set_kind(&c, 0, 29, 1, K_DIGIT);
		set_kind(&c, 1, 18, 11, K_FILLER);
	} else if (format == 1) {
		c.have[MRZ_CK_OPTIONAL] = 0; /* generic TD1 optional data has no check digit */
	}

	/* Type coercion: a letter where only digits may stand (and the reverse) has one reading. */
	for (int l = 0; l < m->nlines; l++)
		for (int p = 0; p < m->width; p++) {
			char k = c.kind[l][p], ch = m->line[l][p], to = ch;
			if (ch == '?')
				continue;
			if (k == K_DIGIT && !isdigit((unsigned char)ch))
				to = ch == '<' ? ch : to_digit(ch);
			else if ((k == K_NAME || k == K_LETTER || k == K_CODE) && isdigit((unsigned char)ch))
				to = to_letter(ch);
			else if (k == K_FILLER && ch != '<')
				to = '<';
			else if (k == K_SEX && ch != 'M' && ch != 'F' && ch != '<')
				to = '?';
			if (to != ch) {
				m->line[l][p] = to;
				m->coercions++;
			}
		}

	for (int i = 0; i < MRZ_NCHECKS - 1; i++)
		if (c.have[i])
			verify(&c, (enum mrz_check_id)i, NULL);
	/* The composite check may repair only what no other check covers (or what failed). */
	char skip[3 * 45];
	memset(skip, 0, sizeof(skip));
	for (int i = 0; i < MRZ_NCHECKS - 1; i++) {
		if (!c.have[i] || m->check[i] == MRZ_CHECK_FAILED)
			continue;
		const struct field *f = &c.f[i];
		for (int s = 0; s < f->nseg; s++)
			memset(&skip[f->seg[s].line * 45 + f->seg[s].start], 1, (size_t)f->seg[s].len);
		skip[f->cline * 45 + f->cpos] = 1;
	}
	verify(&c, MRZ_CK_COMPOSITE, skip);
	for (int i = 0; i < MRZ_NCHECKS - 1; i++)
		if (c.have[i] && m->check[i] == MRZ_CHECK_FAILED &&
		    m->check[MRZ_CK_COMPOSITE] != MRZ_CHECK_FAILED) {
			/* Repaired by the composite search: re-verify. */
			if (field_ok(&c, &c.f[i]))
				m->check[i] = MRZ_CHECK_CORRECTED;
		}

	/* Fields. */
	const char *l0 = m->line[0], *l1 = m->line[1];
	memcpy(m->doc_code, l0, 2);
	if (format == 1 ? !strchr("IAC", l0[0]) : l0[0] != 'P')
		problem(m, "document_code", "is not a known document code");
	memcpy(m->issuer, l0 + 2, 3);
	if (!country_valid(m->issuer))
		problem(m, "issuer", "is not a known country code");
	const char *num = format == 1 ? l0 + 5 : l1;
	int nl = 9;
	while (nl > 0 && num[nl - 1] == '<')
		nl--;
	memcpy(m->doc_number, num, (size_t)nl);
	const char *dob = format == 1 ? l1 : l1 + 13;
	const char *exp = format == 1 ? l1 + 8 : l1 + 21;
	char sex = format == 1 ? l1[7] : l1[20];
	const char *nat = format == 1 ? l1 + 15 : l1 + 10;
	int by = 0, ey = 0;
	if (parse_date(dob, 1, ref_year, m->date_of_birth, &by) < 0 || by > ref_year)
		problem(m, "date_of_birth", "is not a valid date"), m->date_of_birth[0] = 0;
	if (c.vn && memcmp(exp, "991231", 6) == 0)
		m->no_expiry = 1;
	else if (parse_date(exp, 0, ref_year, m->expiry_date, &ey) < 0)
		problem(m, "expiry_date", "is not a valid date"), m->expiry_date[0] = 0;
	else if (m->date_of_birth[0] && strcmp(m->expiry_date, m->date_of_birth) <= 0)
		problem(m, "expiry_date", "is before the date of birth");
	m->sex = sex == '<' ? 'X' : (sex == 'M' || sex == 'F') ? sex : 0;
	if (!m->sex)
		problem(m, "sex", "is unreadable");
	memcpy(m->nationality, nat, 3);
	if (!country_valid(m->nationality))
		problem(m, "nationality", "is not a known country code");
	for (int l = 0; l < m->nlines; l++)
		if (strchr(m->line[l], '?'))
			problem(m, l == m->nlines - 1 ? "full_name" : "mrz", "has an unreadable character");

	if (c.vn) {
		memcpy(m->id_number, l0 + 15, 12);
		if (memcmp(l0 + 5, l0 + 18, 9) != 0)
			problem(m, "document_number", "differs from the 12-digit number");
		if (memcmp(l0 + 27, "<<", 2) != 0 || memcmp(l1 + 18, "<<<<<<<<<<<", 11) != 0)
			problem(m, "filler", "is not all fillers");
		/* Digit 4 of the personal number: century and sex; digits 5-6: year of birth. */
		int g = l0[18] - '0';
		if (g >= 0 && g <= 9 && m->date_of_birth[0]) {
			int century = (g / 2 + 19) * 100;
			if ((g % 2 ? 'F' : 'M') != m->sex)
				problem(m, "sex", "disagrees with the personal number");
			if (by / 100 * 100 != century || (by % 100) / 10 != l0[19] - '0' ||
			    by % 10 != l0[20] - '0')
				problem(m, "date_of_birth", "disagrees with the personal number");
		}
	}
	parse_name(&c, format == 1 ? m->line[2] : l0 + 5, format == 1 ? 30 : 39);
	for (int i = 0; i < MRZ_NCHECKS; i++)
		if (m->check[i] == MRZ_CHECK_FAILED)
			m->needs_review = 1;
	return 0;
}

const char *mrz_check_name(enum mrz_check_id id)
{
	static const char *names[] = { "document_number", "date_of_birth", "expiry_date", "optional_data",
				       "composite" };
	return (unsigned)id < MRZ_NCHECKS ? names[id] : "?";
}

const char *mrz_check_state_name(enum mrz_check_state s)
{
	static const char *names[] = { "absent", "ok", "corrected", "failed" };
	return (unsigned)s <= MRZ_CHECK_FAILED ? names[s] : "?";
}
