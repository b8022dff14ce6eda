/* A fixed-pitch OCR-B character reader for MRZ lines: templates of the 37 MRZ characters
 * rendered from fonts-ocr-b with FreeType at start-up, cells sampled on the line's fitted
 * character grid and matched by normalised correlation. */
#ifndef MOTCUA_OCRB_H
#define MOTCUA_OCRB_H

#include <stdint.h>

#define OCRB_FONT_DEFAULT "/usr/share/fonts/opentype/ocr-b/OCRB.otf"
#define OCRB_ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"

struct ocrb;

/* Renders the templates from the font file (read once; call before the sandbox).
 * Returns 0 with *ret owning them, -ENOENT / -EIO. */
int ocrb_new(const char *font_path, struct ocrb **ret);
void ocrb_free(struct ocrb *o);

struct ocrb_line {
	char text[48]; /* n characters and a NUL */
	float score[48]; /* best correlation per character */
	float margin[48]; /* best minus the best other character */
	double mean_score;
};

/* Reads one MRZ line of n characters (30 or 44) from an ink image (w x h, row-major,
 * higher = more ink) holding that line only.  Returns 0 or -EINVAL when no line of that
 * shape is found. */
int ocrb_read_line(const struct ocrb *o, const uint8_t *ink, int w, int h, int n, struct ocrb_line *ret);

#endif
