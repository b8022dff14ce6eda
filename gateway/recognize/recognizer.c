/* The image pipeline of motcua-recognize (see recognizer.h). */
#include "gateway/recognize/recognizer.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>
#include <zbar.h>

#include "gateway/log.h"
#include "gateway/recognize/cccd_qr.h"
#include "gateway/recognize/classify.h"
#include "gateway/recognize/mrz.h"
#include "gateway/recognize/ocrb.h"
#include "gateway/recognize/result.h"

#define WORK_WIDTH 1200 /* images are brought to this width for the MRZ and the OCR */
#define LINE_CAP 40 /* MRZ lines are upscaled to this character height */

struct recognizer {
	zbar_image_scanner_t *zbar;
	TessBaseAPI *tess;
	struct ocrb *ocrb;
	int ref_year;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int recognizer_new(const struct recognizer_options *opt, struct recognizer **ret)
{
	struct recognizer *r = calloc(1, sizeof(*r));
	int e;
	if (!r)
		return -ENOMEM;
	setMsgSeverity(L_SEVERITY_NONE);
	r->ref_year = opt->ref_year;
	r->zbar = zbar_image_scanner_create();
	if (!r->zbar) {
		e = -ENOMEM;
		goto fail;
	}
	zbar_image_scanner_set_config(r->zbar, 0, ZBAR_CFG_ENABLE, 0);
	zbar_image_scanner_set_config(r->zbar, ZBAR_QRCODE, ZBAR_CFG_ENABLE, 1);
	/* Raw bytes: zbar's charset guessing mangles UTF-8 with diacritics. */
	zbar_image_scanner_set_config(r->zbar, ZBAR_QRCODE, ZBAR_CFG_BINARY, 1);
	e = ocrb_new(opt->ocrb_font ? opt->ocrb_font : OCRB_FONT_DEFAULT, &r->ocrb);
	if (e < 0) {
		log_error("cannot render the OCR-B templates from %s",
			  opt->ocrb_font ? opt->ocrb_font : OCRB_FONT_DEFAULT);
		goto fail;
	}
	if (!opt->no_ocr) {
		r->tess = TessBaseAPICreate();
		if (!r->tess || TessBaseAPIInit3(r->tess, opt->tessdata, "vie") != 0) {
			log_error("cannot load the Tesseract model vie");
			e = -ENOENT;
			goto fail;
		}
		TessBaseAPISetPageSegMode(r->tess, PSM_AUTO);
	}
	*ret = r;
	return 0;
fail:
	recognizer_free(r);
	return e;
}

void recognizer_free(struct recognizer *r)
{
	if (!r)
		return;
	if (r->zbar)
		zbar_image_scanner_destroy(r->zbar);
	if (r->tess) {
		TessBaseAPIEnd(r->tess);
		TessBaseAPIDelete(r->tess);
	}
	ocrb_free(r->ocrb);
	free(r);
}

/* Copies an 8 bpp pix into a packed buffer (invert: ink high). */
static uint8_t *pix_bytes(PIX *pix, int invert)
{
	int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
	l_uint32 *data = pixGetData(pix);
	uint8_t *out = malloc((size_t)w * h);
	if (!out)
		return NULL;
	for (int y = 0; y < h; y++) {
		l_uint32 *line = data + y * wpl;
		for (int x = 0; x < w; x++) {
			uint8_t v = (uint8_t)GET_DATA_BYTE(line, x);
			out[y * w + x] = invert ? (uint8_t)(255 - v) : v;
		}
	}
	return out;
}

/* ---- QR ---------------------------------------------------------------------------- */

/* Scans one 8 bpp image; 1 with *q filled when a valid CCCD payload was found, 0 when
 * none (*ret_error set when a QR was there but its payload was refused). */
static int scan_qr(struct recognizer *r, PIX *pix, struct cccd_qr *q, const char **ret_error)
{
	int w = pixGetWidth(pix), h = pixGetHeight(pix), found = 0;
	uint8_t *buf = pix_bytes(pix, 0);
	if (!buf)
		return 0;
	zbar_image_t *img = zbar_image_create();
	zbar_image_set_format(img, zbar_fourcc('Y', '8', '0', '0'));
	zbar_image_set_size(img, (unsigned)w, (unsigned)h);
	zbar_image_set_data(img, buf, (unsigned long)w * h, NULL);
	if (zbar_scan_image(r->zbar, img) > 0) {
		for (const zbar_symbol_t *s = zbar_image_first_symbol(img); s && !found;
		     s = zbar_symbol_next(s)) {
			if (zbar_symbol_get_type(s) != ZBAR_QRCODE)
				continue;
			if (cccd_qr_parse(zbar_symbol_get_data(s), zbar_symbol_get_data_length(s), q) == 0)
				found = 1;
			else
				*ret_error = q->error ? q->error : "payload";
		}
	}
	zbar_image_destroy(img);
	free(buf);
	return found;
}

static int read_qr(struct recognizer *r, PIX *gray, struct cccd_qr *q, const char **ret_error)
{
	/* zbar needs about two pixels per module: retry larger, sharper, smoother. */
	PIX *tries[5] = { NULL };
	int w = pixGetWidth(gray), found = 0;
	PIX *big = w < 1800 ? pixScaleGrayLI(gray, 2.0, 2.0) : pixClone(gray);
	PIX *base = big ? big : gray;
	/* Binarising after the upscale (adaptive, for uneven light) helps zbar most on blurred
	 * and compressed images; then sharpened, then smoothed. */
	PIX *bin = NULL;
	if (pixSauvolaBinarize(base, 16, 0.3f, 1, NULL, NULL, NULL, &bin) == 0 && bin)
		tries[0] = pixConvert1To8(NULL, bin, 255, 0);
	pixDestroy(&bin);
	tries[1] = pixClone(base);
	tries[2] = pixUnsharpMaskingGray(base, 2, 0.7f);
	tries[3] = pixThresholdToBinary(base, 128);
	if (tries[3]) {
		PIX *t8 = pixConvert1To8(NULL, tries[3], 255, 0);
		pixDestroy(&tries[3]);
		tries[3] = t8;
	}
	tries[4] = pixBlockconvGray(gray, NULL, 1, 1);
	for (int i = 0; i < 5 && !found; i++)
		if (tries[i])
			found = scan_qr(r, tries[i], q, ret_error);
	for (int i = 0; i < 5; i++)
		pixDestroy(&tries[i]);
	pixDestroy(&big);
	return found;
}

/* ---- MRZ --------------------------------------------------------------------------- */

static PIX *binarize(PIX *gray)
{
	PIX *b = NULL;
	if (pixSauvolaBinarize(gray, 12, 0.34f, 1, NULL, NULL, NULL, &b) != 0)
		return NULL;
	return b;
}

struct band {
	int n; /* lines: 3 (TD1) or 2 (TD3) */
	BOX *line[3]; /* in the deskewed image */
};

/* Finds the MRZ lines: characters joined into bars by a horizontal closing, short bars
 * removed by an opening, then the lowest group of 3 (or 2) long bars of equal length and
 * left edge with even spacing. */
static int find_band(PIX *bin, struct band *band)
{
	int W = pixGetWidth(bin);
	int pitch = W / 38 > 4 ? W / 38 : 4;
	PIX *closed = pixCloseBrick(NULL, bin, pitch * 4 / 3, 1);
	PIX *opened = closed ? pixOpenBrick(NULL, closed, W / 5, 1) : NULL;
	BOXA *boxa = opened ? pixConnComp(opened, NULL, 8) : NULL;
	int found = 0;
	pixDestroy(&closed);
	pixDestroy(&opened);
	if (!boxa)
		return 0;
	BOXA *sorted = boxaSort(boxa, L_SORT_BY_Y, L_SORT_INCREASING, NULL);
	boxaDestroy(&boxa);
	if (!sorted)
		return 0;
	boxa = sorted;
	int n = boxaGetCount(boxa);
	int bx[64], by[64], bw[64], bh[64], m = 0;
	for (int i = 0; i < n && m < 64; i++) {
		int x, y, w, h;
		boxaGetBoxGeometry(boxa, i, &x, &y, &w, &h);
		if (w < W * 0.35 || h < W / 200 || h > W / 15)
			continue;
		bx[m] = x, by[m] = y, bw[m] = w, bh[m] = h, m++;
	}
	for (int lines = 3; lines >= 2 && !found; lines--)
		for (int i = m - lines; i >= 0 && !found; i--) {
			int ok = 1;
			double gap0 = by[i + 1] - by[i];
			for (int k = 1; k < lines && ok; k++) {
				int j = i + k;
				double gap = by[j] - by[j - 1];
				ok = abs(bx[j] - bx[i]) < W * 0.04 &&
				    fabs((double)bw[j] - bw[i]) < bw[i] * 0.12 && gap > bh[i] * 1.1 &&
				    gap < bh[i] * 2.6 && fabs(gap - gap0) < gap0 * 0.3 &&
				    abs(bh[j] - bh[i]) < bh[i] * 0.5;
			}
			/* Aspect of the line: 30 characters (TD1) against 44 (TD3). */
			double aspect = (double)bw[i] / bh[i];
			if (ok && lines == 2 && aspect < 28)
				ok = 0;
			if (!ok)
				continue;
			band->n = lines;
			for (int k = 0; k < lines; k++)
				band->line[k] = boxCreate(bx[i + k], by[i + k], bw[i + k], bh[i + k]);
			found = 1;
		}
	boxaDestroy(&boxa);
	return found;
}

struct mrz_read {
	int ok; /* parsed */
	struct mrz mrz;
	double quality;
	int good_checks;
};

static void read_band(struct recognizer *r, PIX *gray, const struct band *band, struct mrz_read *out)
{
	char text[3 * 48];
	size_t tl = 0;
	double qsum = 0;
	int nchar = band->n == 3 ? 30 : 44;
	memset(out, 0, sizeof(*out));
	for (int k = 0; k < band->n; k++) {
		int x, y, w, h;
		boxGetGeometry(band->line[k], &x, &y, &w, &h);
		int pitch = w / nchar;
		BOX *clip = boxCreate(x - pitch, y - h / 4, w + 2 * pitch, h + h / 2);
		PIX *crop = pixClipRectangle(gray, clip, NULL);
		boxDestroy(&clip);
		if (!crop)
			return;
		PIX *med = pixRankFilterGray(crop, 3, 3, 0.5f);
		double f = (double)LINE_CAP / h;
		PIX *big = med && f > 1.15 ? pixScaleGrayLI(med, (float)f, (float)f) : NULL;
		PIX *use = big ? big : med ? med : crop;
		uint8_t *ink = pix_bytes(use, 1);
		struct ocrb_line line;
		int e = ink ? ocrb_read_line(r->ocrb, ink, pixGetWidth(use), pixGetHeight(use), nchar, &line)
			    : -ENOMEM;
		free(ink);
		pixDestroy(&big);
		pixDestroy(&med);
		pixDestroy(&crop);
		if (e < 0)
			return;
		memcpy(text + tl, line.text, (size_t)nchar);
		tl += (size_t)nchar;
		text[tl++] = '\n';
		qsum += line.mean_score;
	}
	if (mrz_parse(text, tl, r->ref_year, &out->mrz) < 0)
		return;
	out->ok = 1;
	out->quality = qsum / band->n;
	for (int i = 0; i < MRZ_NCHECKS; i++)
		out->good_checks +=
		    out->mrz.check[i] == MRZ_CHECK_OK || out->mrz.check[i] == MRZ_CHECK_CORRECTED;
}

static int better(const struct mrz_read *a, const struct mrz_read *b)
{
	if (a->ok != b->ok)
		return a->ok > b->ok;
	if (a->good_checks != b->good_checks)
		return a->good_checks > b->good_checks;
	return a->quality > b->quality;
}

/* Reads the MRZ of a deskewed image, upright or upside down. */
static int read_mrz(struct recognizer *r, PIX *gray, struct mrz_read *best)
{
	memset(best, 0, sizeof(*best));
	PIX *flipped = NULL;
	for (int turn = 0; turn < 2; turn++) {
		PIX *img = gray;
		if (turn == 1) {
			if (best->ok && best->good_checks >= 4 && !best->mrz.needs_review)
				break;
			flipped = pixRotate180(NULL, gray);
			if (!flipped)
				break;
			img = flipped;
		}
		PIX *bin = binarize(img);
		struct band band = { 0 };
		if (bin && find_band(bin, &band)) {
			struct mrz_read rd;
			read_band(r, img, &band, &rd);
			if (better(&rd, best))
				*best = rd;
			for (int k = 0; k < band.n; k++)
				boxDestroy(&band.line[k]);
		}
		pixDestroy(&bin);
	}
	pixDestroy(&flipped);
	return best->ok;
}

/* Measures the skew of the text lines (up to 16 degrees either way) and always rotates by
 * it: pixDeskew skips angles it is not confident of. */
static PIX *deskew(PIX *gray, double *ret_angle)
{
	PIX *bin = binarize(gray);
	l_float32 angle = 0, conf = 0, score = 0;
	*ret_angle = 0;
	if (bin &&
	    pixFindSkewSweepAndSearchScore(bin, &angle, &conf, &score, 2, 1, 0.0f, 16.0f, 1.0f, 0.02f) == 0 &&
	    fabsf(angle) > 0.05f) {
		*ret_angle = angle;
		pixDestroy(&bin);
		return pixRotate(gray, (l_float32)(angle * M_PI / 180.0), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE,
				 0, 0);
	}
	pixDestroy(&bin);
	return pixClone(gray);
}

/* ---- page OCR ---------------------------------------------------------------------- */

static void ocr_title(struct recognizer *r, PIX *gray, struct classify_result *cls)
{
	cls->type = "other";
	cls->score = cls->runner_up = 0;
	if (!r->tess)
		return;
	for (int turn = 0; turn < 2; turn++) {
		PIX *img = turn ? pixRotate180(NULL, gray) : pixClone(gray);
		if (!img)
			return;
		int w = pixGetWidth(img), h = pixGetHeight(img);
		/* The title area: the top 40% of a page (all of a card). */
		BOX *box = boxCreate(0, 0, w, h > w ? h * 2 / 5 : h);
		PIX *top = pixClipRectangle(img, box, NULL);
		boxDestroy(&box);
		pixDestroy(&img);
		if (!top)
			return;
		pixSetResolution(top, 150, 150);
		TessBaseAPISetImage2(r->tess, top);
		char *text = TessBaseAPIGetUTF8Text(r->tess);
		struct classify_result c;
		classify_text(text ? text : "", text ? strlen(text) : 0, &c);
		TessDeleteText(text);
		TessBaseAPIClear(r->tess);
		pixDestroy(&top);
		if (c.score > cls->score)
			*cls = c;
		if (cls->score >= 0.6)
			break;
	}
}

/* ---- one image --------------------------------------------------------------------- */

json_t *recognizer_run(struct recognizer *r, const uint8_t *data, size_t len)
{
	double t0 = now_ms(), t1, t2, t3, t4;
	l_int32 format = 0, w = 0, h = 0, bps = 0, spp = 0, cmap = 0;
	if (len < 8 || pixReadHeaderMem(data, len, &format, &w, &h, &bps, &spp, &cmap) != 0)
		return result_error("not a readable image", now_ms() - t0);
	if (w <= 16 || h <= 16 || (long)w * h > REC_MAX_PIXELS)
		return result_error("image dimensions out of range", now_ms() - t0);
	PIX *pix = pixReadMem(data, len);
	if (!pix)
		return result_error("image data is damaged", now_ms() - t0);
	PIX *gray = pixConvertTo8(pix, 0);
	pixDestroy(&pix);
	if (!gray || pixGetWidth(gray) != w)
		return pixDestroy(&gray), result_error("image cannot be converted", now_ms() - t0);
	PIX *work = pixScale(gray, (float)WORK_WIDTH / w, (float)WORK_WIDTH / w);
	t1 = now_ms();

	struct cccd_qr qr;
	const char *qr_error = NULL;
	int have_qr = scan_qr(r, gray, &qr, &qr_error);
	t2 = now_ms();

	double angle = 0;
	struct mrz_read mrz = { 0 };
	PIX *straight = work ? deskew(work, &angle) : NULL;
	if (straight)
		read_mrz(r, straight, &mrz);
	t3 = now_ms();
	/* The QR retries cost more than the first pass: only when the MRZ did not read well. */
	if (!have_qr && !(mrz.ok && mrz.good_checks >= 3)) {
		have_qr = read_qr(r, gray, &qr, &qr_error);
		t2 += now_ms() - t3;
		t3 = now_ms();
	}

	struct classify_result cls;
	int have_ocr = 0;
	if (!have_qr && !mrz.ok && straight) {
		ocr_title(r, straight, &cls);
		have_ocr = r->tess != NULL;
	}
	t4 = now_ms();
	pixDestroy(&straight);
	pixDestroy(&work);
	pixDestroy(&gray);

	struct rec_input in = {
		.qr = have_qr ? &qr : NULL,
		.mrz = mrz.ok ? &mrz.mrz : NULL,
		.mrz_quality = mrz.quality,
		.ocr = have_ocr ? &cls : NULL,
		.qr_error = have_qr ? NULL : qr_error,
		.ms_decode = t1 - t0,
		.ms_qr = t2 - t1,
		.ms_mrz = t3 - t2,
		.ms_ocr = t4 - t3,
		.ms_total = now_ms() - t0,
	};
	json_t *res = result_build(&in);
	if (res)
		json_object_set_new(res, "skew_degrees", json_real(round(angle * 10) / 10));
	return res;
}
