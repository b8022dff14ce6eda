/* Bench helper: scores the plain tools (zbarimg, tesseract with default settings) through
 * the same parsers and result builder as motcua-recognize.
 * Usage: recbaseline QR_BYTES_FILE OCR_TEXT_FILE   (either may be empty) -> one JSON line */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/recognize/result.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 20);
	*len = 0;
	if (f && buf)
		*len = fread(buf, 1, (1 << 20) - 1, f);
	if (buf)
		buf[*len] = 0;
	if (f)
		fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: recbaseline QR_FILE OCR_FILE\n");
		return 2;
	}
	size_t qlen, tlen;
	char *q = slurp(argv[1], &qlen), *t = slurp(argv[2], &tlen);
	if (!q || !t)
		return 1;
	/* zbarimg --raw ends the payload with a newline; several codes are one per line. */
	struct cccd_qr qr;
	int have_qr = 0;
	for (char *line = q; line && *line && !have_qr;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		have_qr = cccd_qr_parse(line, n, &qr) == 0;
		line = nl ? nl + 1 : NULL;
	}
	/* The MRZ: any window of the OCR text that parses; the shortest input is the text with
	 * blank lines removed. */
	struct mrz m;
	char *packed = malloc(tlen + 1);
	size_t p = 0;
	for (size_t i = 0; i < tlen; i++)
		if (!(t[i] == '\n' && (p == 0 || packed[p - 1] == '\n')))
			packed[p++] = t[i];
	int have_mrz = p <= MRZ_TEXT_MAX && mrz_parse(packed, p, 0, &m) == 0;
	struct classify_result cls;
	classify_text(t, tlen, &cls);
	struct rec_input in = { .qr = have_qr ? &qr : NULL, .mrz = have_mrz ? &m : NULL, .ocr = &cls };
	json_t *r = result_build(&in);
	char *s = json_dumps(r, JSON_COMPACT);
	printf("%s\n", s);
	free(s);
	json_decref(r);
	free(q), free(t), free(packed);
	return 0;
}
