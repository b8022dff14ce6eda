/* Document type from OCR text of the title area: diacritics stripped, weighted key phrases
 * matched with an edit-distance allowance; "other" when the best score is too low or too
 * close to the runner-up.  Also the Vietnamese-to-ASCII folding the MRZ cross-check uses. */
#ifndef MOTCUA_CLASSIFY_H
#define MOTCUA_CLASSIFY_H

#include <stddef.h>

#define CLASSIFY_TEXT_MAX 65536 /* longer text is cut */

/* Folds UTF-8 text to upper-case ASCII: Vietnamese letters lose their diacritics (Đ -> D),
 * every run of other characters becomes one space.  Writes at most size-1 bytes and a NUL;
 * returns the length written. */
size_t text_fold(const char *s, size_t len, char *out, size_t size);

struct classify_result {
	const char *type; /* "id_card_front", "id_card_back", "birth_certificate",
			     "marriage_certificate", "residence_confirmation",
			     "land_use_right_certificate" or "other" */
	double score; /* best score, 0..1 */
	double runner_up; /* second-best type's score */
};

/* Classifies OCR text (UTF-8). Never fails: unknown text is "other". */
void classify_text(const char *text, size_t len, struct classify_result *ret);

#endif
