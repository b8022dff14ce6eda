/* One image in, one result out: decoding (Leptonica), the front QR (zbar, raw bytes, with
 * retries on upscaled, sharpened and smoothed copies), the back MRZ (band found by
 * morphology, skew measured and always undone, median filter, upscale, OCR-B reader; both
 * orientations) and, when neither is found, the document type from Tesseract `vie` OCR of
 * the title area.  Handles are created once and reused for every image. */
#ifndef MOTCUA_RECOGNIZER_H
#define MOTCUA_RECOGNIZER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define REC_MAX_PIXELS (40L * 1000 * 1000) /* larger images are refused before decoding */

struct recognizer;

struct recognizer_options {
	const char *ocrb_font; /* NULL: OCRB_FONT_DEFAULT */
	const char *tessdata; /* NULL: Tesseract's default */
	int no_ocr; /* 1: do not create the Tesseract handle (no classification) */
	int ref_year; /* 0: the clock's */
};

/* Creates the zbar scanner, the Tesseract handle and the OCR-B templates (reads files:
 * call before entering the sandbox).  Returns 0 or -errno (logged). */
int recognizer_new(const struct recognizer_options *opt, struct recognizer **ret);
void recognizer_free(struct recognizer *r);

/* Recognises one image given as its file bytes.  Returns a new JSON object (the output
 * contract; an unreadable image gives an object with "error"); NULL only on ENOMEM. */
json_t *recognizer_run(struct recognizer *r, const uint8_t *data, size_t len);

#endif
