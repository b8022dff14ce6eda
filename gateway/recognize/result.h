/* The recognition output contract (docs/recognize.md): what was read from the QR, the MRZ
 * and the OCR of one image merged into one JSON object, with per-field sources, every
 * check, a QR-MRZ cross-check, a confidence and needs_review.  Fields not read are absent. */
#ifndef MOTCUA_RESULT_H
#define MOTCUA_RESULT_H

#include <jansson.h>

#include "gateway/recognize/cardtext.h"
#include "gateway/recognize/cccd_qr.h"
#include "gateway/recognize/classify.h"
#include "gateway/recognize/mrz.h"

#define REVIEW_BELOW 0.7 /* confidence under which a result is flagged for review */

struct rec_input {
	const struct cccd_qr *qr; /* NULL when no CCCD QR was read */
	const struct mrz *mrz; /* NULL when no MRZ was read */
	double mrz_quality; /* the reader's own 0..1 score for the MRZ characters */
	const struct classify_result *ocr; /* NULL when the page was not OCRed */
	const char *qr_error; /* a QR was found but its payload was refused */
	const char *generation; /* card generation when known from elsewhere, or NULL */
	const struct card_text *card; /* a card front's printed fields by OCR, or NULL */
	double ms_decode, ms_qr, ms_mrz, ms_ocr, ms_total;
};

/* Builds the result object; the caller owns it (json_decref). NULL only on ENOMEM. */
json_t *result_build(const struct rec_input *in);

/* Cross-checks a QR and an MRZ (ID number, date of birth, sex, and the folded name when the
 * MRZ line was not cut): 1 when they agree, 0 when any differs (ret_field names it). */
int result_crosscheck(const struct cccd_qr *qr, const struct mrz *mrz, const char **ret_field);

/* One identity from the results of two images of one card (its front and back, in either
 * order; both borrowed): the fields of both, each from its best source (QR, then MRZ, then
 * OCR); checks.pair compares every field both sides gave (names folded to ASCII; an MRZ name
 * cut at the line's end compares on the part that fits) and lists the differing ones in
 * checks.differing_fields; checks.qr_mrz says whether a QR and an MRZ were compared and
 * agreed.  Flagged for review when either side was, when any field differs, or when the two
 * images are not a front and a back of one card.  A new object (type "id_card"); NULL only
 * on ENOMEM. */
json_t *result_pair(const json_t *a, const json_t *b);

/* An error result: {"error": "...", "needs_review": true, "confidence": 0}. */
json_t *result_error(const char *message, double ms_total);

#endif
