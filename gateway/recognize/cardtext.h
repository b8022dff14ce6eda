/* The printed fields of an ID card front read by OCR: the 2024 "the can cuoc" (no QR or
 * MRZ on its front), the 12-digit CCCD of 2016 and the 9-digit CMND (no chip, no QR, no
 * MRZ).  Labels are matched on text folded to ASCII; values are taken as printed.  Every
 * field read this way is an OCR reading: the result is always flagged for review. */
#ifndef MOTCUA_CARDTEXT_H
#define MOTCUA_CARDTEXT_H

#include <stddef.h>

#define CARDTEXT_MAX 16384 /* longer OCR text is cut */

struct card_text {
	const char *generation; /* "can_cuoc_2024", "cccd_2021" (its QR was not read), "cccd_2016",
				   "cmnd_9", or NULL: not a card front */
	char id_number[13]; /* 12 digits, or 9 on a CMND; "" when not read */
	char full_name[96]; /* as printed (upper case with diacritics), spaces normalised */
	char date_of_birth[11]; /* YYYY-MM-DD */
	char sex; /* 'M', 'F' or 0 */
	char nationality[4]; /* "VNM" or "" */
	int nfields; /* fields read */
};

/* Parses OCR text (UTF-8, lines separated by '\n') of a card front.  Never fails: text
 * that is not such a card gives generation NULL and no fields. */
void cardtext_parse(const char *text, size_t len, struct card_text *ret);

#endif
