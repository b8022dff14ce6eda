/* ICAO 9303 machine-readable zones: TD1 (ID cards, 3 x 30, with the Vietnamese CCCD's
 * 12-digit number in the optional data) and TD3 (passports, 2 x 44).  Every check digit is
 * verified; typical OCR confusions are corrected only where exactly one correction makes a
 * check agree; dates, country codes, fillers and the name are validated, and anything
 * doubtful sets needs_review rather than giving a confident wrong answer. */
#ifndef MOTCUA_MRZ_H
#define MOTCUA_MRZ_H

#include <stddef.h>

#define MRZ_TEXT_MAX 4096 /* longest input accepted by mrz_parse */

enum mrz_check_state { MRZ_CHECK_ABSENT = 0, MRZ_CHECK_OK, MRZ_CHECK_CORRECTED, MRZ_CHECK_FAILED };
enum mrz_field {
	MRZ_F_DOC_NUMBER,
	MRZ_F_BIRTH,
	MRZ_F_EXPIRY,
	MRZ_F_SEX,
	MRZ_F_NATIONALITY,
	MRZ_F_NAME,
	MRZ_F_ID
};
enum mrz_check_id {
	MRZ_CK_DOC_NUMBER,
	MRZ_CK_BIRTH,
	MRZ_CK_EXPIRY,
	MRZ_CK_OPTIONAL,
	MRZ_CK_COMPOSITE,
	MRZ_NCHECKS
};

struct mrz {
	int format; /* 1 (TD1) or 3 (TD3) */
	int nlines, width;
	char line[3][45]; /* the lines after corrections */
	char doc_code[3];
	char issuer[4];
	char doc_number[10];
	char id_number[13]; /* Vietnamese 12-digit personal number (TD1 optional data), or "" */
	char nationality[4];
	char date_of_birth[11]; /* YYYY-MM-DD or "" when invalid */
	char expiry_date[11]; /* YYYY-MM-DD, "" when invalid or no_expiry */
	int no_expiry; /* 991231 on a Vietnamese card */
	char sex; /* 'M', 'F', 'X' (unspecified) or 0 when unreadable */
	char full_name[80]; /* "SURNAME GIVEN NAMES", fillers as spaces */
	enum mrz_check_state check[MRZ_NCHECKS];
	int corrections; /* characters changed to make a check digit agree */
	int coercions; /* characters with one reading at their place (O in a date is 0) */
	int needs_review;
	unsigned bad; /* fields not to be trusted: 1 << MRZ_F_* */
	char problem[96]; /* the first problem found, naming the field; "" when none */
};

/* Computes the ICAO 7-3-1 check digit of n characters ('<' = 0, A = 10 ... Z = 35); returns
 * 0..9, or -1 when a character is outside [0-9A-Z<]. */
int mrz_check_digit(const char *s, size_t n);

/* Parses MRZ text: lines separated by '\n' (spaces and '\r' are ignored, letters
 * upper-cased); the first 3 consecutive lines of 30 characters (TD1) or 2 of 44 (TD3) are
 * used.  ref_year is the current year (two-digit birth years after it are 19xx); 0 takes
 * the clock's.  Returns 0 with *ret filled (look at needs_review and problem), -EINVAL when
 * the text holds no MRZ-shaped lines, -EMSGSIZE when it is longer than MRZ_TEXT_MAX. */
int mrz_parse(const char *text, size_t len, int ref_year, struct mrz *ret);

/* Short names for JSON output. */
const char *mrz_check_name(enum mrz_check_id id);
const char *mrz_check_state_name(enum mrz_check_state s);

#endif
