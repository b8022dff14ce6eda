/* Fuzz target: the worker's image path (header check, Leptonica decoding, zbar, MRZ band
 * search and the OCR-B reader) on hostile image bytes.  Tesseract is left out (no_ocr) to
 * keep runs fast; its input is the same decoded page. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "gateway/recognize/recognizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct recognizer *rec;
	if (!rec) {
		struct recognizer_options o = { .no_ocr = 1, .ref_year = 2025 };
		if (recognizer_new(&o, &rec) < 0)
			abort();
	}
	if (size > (1u << 20))
		return 0;
	json_t *r = recognizer_run(rec, data, size);
	json_decref(r);
	return 0;
}
