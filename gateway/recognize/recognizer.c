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
#include "gateway/recognize/cardtext.h"
#include "gateway/recognize/cccd_qr.h"
#include "gateway/recognize/classify.h"
#include "gateway/recognize/mrz.h"
#include "gateway/recognize/ocrb.h"
#include "gateway/recognize/result.h"

#define WORK_LONG 1200 /* images are brought to this long side for the MRZ and the OCR */
#define PAGE_LONG 800 /* pages are searched for cards at this long side */
#define RECT_PITCH 28 /* a rectified MRZ line has this character pitch */
#define SKEW_RANGE 25.0f /* skew searched either way, degrees */
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
	PIXA *pixa = NULL;
	BOXA *boxa = opened ? pixConnComp(opened, &pixa, 8) : NULL;
	int found = 0;
	pixDestroy(&closed);
	pixDestroy(&opened);
	if (!boxa) {
		pixaDestroy(&pixa);
		return 0;
	}
	/* A bar's thickness is its area over its length: a line left a little tilted (a photo's
	 * perspective) has a taller box but the same thickness. */
	int n = boxaGetCount(boxa);
	int bx[64], by[64], bw[64], bh[64], bt[64], m = 0;
	for (int i = 0; i < n && m < 64; i++) {
		int x, y, w, h, area = 0;
		boxaGetBoxGeometry(boxa, i, &x, &y, &w, &h);
		PIX *c = pixaGetPix(pixa, i, L_CLONE);
		if (c)
			pixCountPixels(c, &area, NULL);
		pixDestroy(&c);
		int t = w > 0 ? area / w : 0;
		if (w < W * 0.35 || t < W / 200 || t > W / 15 || h > W / 6)
			continue;
		/* insertion by y: the lines top to bottom */
		int j = m++;
		for (; j > 0 && by[j - 1] > y; j--)
			bx[j] = bx[j - 1], by[j] = by[j - 1], bw[j] = bw[j - 1], bh[j] = bh[j - 1],
			bt[j] = bt[j - 1];
		bx[j] = x, by[j] = y, bw[j] = w, bh[j] = h, bt[j] = t;
	}
	pixaDestroy(&pixa);
	boxaDestroy(&boxa);
	for (int lines = 3; lines >= 2 && !found; lines--)
		for (int i = m - lines; i >= 0 && !found; i--) {
			int ok = 1;
			double gap0 = by[i + 1] - by[i];
			for (int k = 1; k < lines && ok; k++) {
				int j = i + k;
				double gap = by[j] - by[j - 1];
				ok = abs(bx[j] - bx[i]) < W * 0.04 &&
				    fabs((double)bw[j] - bw[i]) < bw[i] * 0.12 && gap > bt[i] * 1.1 &&
				    gap < bt[i] * 2.6 && fabs(gap - gap0) < gap0 * 0.3 &&
				    abs(bt[j] - bt[i]) < bt[i] * 0.5;
			}
			/* Aspect of the line: 30 characters (TD1) against 44 (TD3). */
			double aspect = (double)bw[i] / bt[i];
			if (ok && lines == 2 && aspect < 28)
				ok = 0;
			if (!ok)
				continue;
			band->n = lines;
			for (int k = 0; k < lines; k++)
				band->line[k] = boxCreate(bx[i + k], by[i + k], bw[i + k], bh[i + k]);
			found = 1;
		}
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

static int good_enough(const struct mrz_read *m)
{
	return m->ok && m->good_checks >= 4 && !m->mrz.needs_review;
}

/* Bilinear sample of an 8 bpp image; white outside. */
static int sample(PIX *g, float x, float y)
{
	int w = pixGetWidth(g), h = pixGetHeight(g), wpl = pixGetWpl(g);
	int x0 = (int)floorf(x), y0 = (int)floorf(y);
	if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h)
		return 255;
	float fx = x - x0, fy = y - y0;
	l_uint32 *l0 = pixGetData(g) + y0 * wpl, *l1 = l0 + wpl;
	float v = (1 - fy) * ((1 - fx) * GET_DATA_BYTE(l0, x0) + fx * GET_DATA_BYTE(l0, x0 + 1)) +
	    fy * ((1 - fx) * GET_DATA_BYTE(l1, x0) + fx * GET_DATA_BYTE(l1, x0 + 1));
	return (int)(v + 0.5f);
}

/* Warps the quadrilateral q (top-left, top-right, bottom-right, bottom-left) of gray to an
 * upright rectangle of dw x dh with margins mx, my: undoes a photo's perspective.  Columns
 * farther than keep from the rectangle are left white (a card's edge or the background
 * there would be taken for ink). */
static PIX *warp_quad(PIX *gray, const float q[4][2], int dw, int dh, int mx, int my, int keep)
{
	PTA *src = ptaCreate(4), *dst = ptaCreate(4);
	l_float32 *vc = NULL;
	PIX *out = NULL;
	if (!src || !dst)
		goto out;
	for (int i = 0; i < 4; i++)
		ptaAddPt(src, q[i][0], q[i][1]);
	ptaAddPt(dst, (float)mx, (float)my);
	ptaAddPt(dst, (float)(mx + dw), (float)my);
	ptaAddPt(dst, (float)(mx + dw), (float)(my + dh));
	ptaAddPt(dst, (float)mx, (float)(my + dh));
	/* Coefficients from the output's points to the input's: each output pixel is sampled. */
	if (getProjectiveXformCoeffs(dst, src, &vc) != 0)
		goto out;
	int W = dw + 2 * mx, H = dh + 2 * my;
	out = pixCreate(W, H, 8);
	if (!out)
		goto out;
	for (int y = 0; y < H; y++) {
		l_uint32 *line = pixGetData(out) + y * pixGetWpl(out);
		for (int x = 0; x < W; x++) {
			l_float32 sx, sy;
			if (x < mx - keep || x > mx + dw + keep) {
				SET_DATA_BYTE(line, x, 255);
				continue;
			}
			projectiveXformPt(vc, x, y, &sx, &sy);
			SET_DATA_BYTE(line, x, sample(gray, sx, sy));
		}
	}
out:
	LEPT_FREE(vc);
	ptaDestroy(&src);
	ptaDestroy(&dst);
	return out;
}

/* One MRZ line measured on its characters: the horizontal run of character-sized
 * components (a card's edge or the background that the bar swallowed is left out), and
 * the lines through their tops and their bottoms (y = a + b x). */
struct line_fit {
	int x0, x1;
	double top_a, top_b, bot_a, bot_b;
};

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void fit(const double *x, const double *y, int n, double *ret_a, double *ret_b)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++)
		sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
	double d = n * sxx - sx * sx;
	*ret_b = n > 1 && fabs(d) > 1e-9 ? (n * sxy - sx * sy) / d : 0;
	*ret_a = (sy - *ret_b * sx) / (n ? n : 1);
}

#define FIT_MAX 96 /* components considered on one line */

static int fit_line(PIX *bin, BOX *line, int nchar, struct line_fit *ret)
{
	int bx, by, bw, bh, n, m = 0, r = -1;
	boxGetGeometry(line, &bx, &by, &bw, &bh);
	BOX *clip = boxCreate(bx, by - bh / 4, bw, bh + bh / 2);
	PIX *sub = clip ? pixClipRectangle(bin, clip, NULL) : NULL;
	int oy = by - bh / 4 < 0 ? 0 : by - bh / 4;
	BOXA *cc = sub ? pixConnComp(sub, NULL, 8) : NULL;
	boxDestroy(&clip);
	pixDestroy(&sub);
	if (!cc)
		return -1;
	n = boxaGetCount(cc);
	int cx[FIT_MAX], cy[FIT_MAX], cw[FIT_MAX], ch[FIT_MAX], hs[FIT_MAX];
	for (int i = 0; i < n && m < FIT_MAX; i++) {
		int x, y, w, h;
		boxaGetBoxGeometry(cc, i, &x, &y, &w, &h);
		if (h < 4)
			continue;
		cx[m] = x, cy[m] = y, cw[m] = w, ch[m] = h, hs[m] = h, m++;
	}
	boxaDestroy(&cc);
	if (m < 8)
		return -1;
	qsort(hs, (size_t)m, sizeof(int), cmp_int);
	double cap = hs[m * 3 / 4];
	/* Order the character-sized ones by x and keep the longest run without a wide gap. */
	int idx[FIT_MAX], k = 0;
	for (int i = 0; i < m; i++)
		if (ch[i] >= cap * 0.4 && ch[i] <= cap * 1.35 && cw[i] <= cap * 3)
			idx[k++] = i;
	for (int i = 1; i < k; i++)
		for (int j = i; j > 0 && cx[idx[j]] < cx[idx[j - 1]]; j--) {
			int t = idx[j];
			idx[j] = idx[j - 1], idx[j - 1] = t;
		}
	int best0 = 0, best1 = -1;
	for (int i = 0; i < k;) {
		int j = i, right = cx[idx[i]] + cw[idx[i]];
		while (j + 1 < k && cx[idx[j + 1]] - right < cap * 1.6) {
			j++;
			if (cx[idx[j]] + cw[idx[j]] > right)
				right = cx[idx[j]] + cw[idx[j]];
		}
		if (j - i > best1 - best0)
			best0 = i, best1 = j;
		i = j + 1;
	}
	if (best1 - best0 < 7)
		return -1;
	/* The characters stand at one pitch: a piece of the card's edge or of the background
	 * at either end of the run makes the run longer than nchar pitches, and its gap to the
	 * run is not a pitch.  Drop such ends. */
	double gaps[FIT_MAX];
	int ng = 0;
	for (int i = best0; i < best1; i++)
		gaps[ng++] = (cx[idx[i + 1]] + cw[idx[i + 1]] / 2.0) - (cx[idx[i]] + cw[idx[i]] / 2.0);
	for (int i = 1; i < ng; i++)
		for (int j = i; j > 0 && gaps[j] < gaps[j - 1]; j--) {
			double t = gaps[j];
			gaps[j] = gaps[j - 1], gaps[j - 1] = t;
		}
	double pitch = gaps[ng / 2];
	while (best1 - best0 > nchar / 2) {
		int l = idx[best0], l2 = idx[best0 + 1], rr = idx[best1], r2 = idx[best1 - 1];
		double width = cx[rr] + cw[rr] - cx[l];
		if (width <= pitch * nchar * 1.03)
			break;
		double gl = (cx[l2] + cw[l2] / 2.0) - (cx[l] + cw[l] / 2.0);
		double gr = (cx[rr] + cw[rr] / 2.0) - (cx[r2] + cw[r2] / 2.0);
		if (fabs(gl - pitch) + fabs(ch[l] - cap) > fabs(gr - pitch) + fabs(ch[rr] - cap))
			best0++;
		else
			best1--;
	}
	double xs[FIT_MAX], ys[FIT_MAX], xb[FIT_MAX], yb[FIT_MAX];
	int nt = 0;
	ret->x0 = bx + cx[idx[best0]], ret->x1 = ret->x0;
	for (int i = best0; i <= best1; i++) {
		int c = idx[i];
		if (bx + cx[c] + cw[c] > ret->x1)
			ret->x1 = bx + cx[c] + cw[c];
		/* Full-height characters only: a chevron is shorter than a letter. */
		if (fabs(ch[c] - cap) > cap * 0.2)
			continue;
		xs[nt] = xb[nt] = bx + cx[c] + cw[c] / 2.0;
		ys[nt] = oy + cy[c];
		yb[nt] = oy + cy[c] + ch[c];
		nt++;
	}
	if (nt >= 4) {
		fit(xs, ys, nt, &ret->top_a, &ret->top_b);
		fit(xb, yb, nt, &ret->bot_a, &ret->bot_b);
		r = 0;
	}
	return r;
}

/* The MRZ block rectified: the top line of the first MRZ line's characters and the bottom
 * line of the last's, each at its own two ends, are the block's corners; they are warped to
 * an upright block of RECT_PITCH per character (a photo's perspective makes the lines
 * converge and the pitch vary along a line, which the fixed-pitch reader cannot follow). */
static PIX *rectify_band(PIX *gray, PIX *bin, const struct band *band)
{
	struct line_fit f0, f1;
	int nchar = band->n == 3 ? 30 : 44;
	if (fit_line(bin, band->line[0], nchar, &f0) < 0 ||
	    fit_line(bin, band->line[band->n - 1], nchar, &f1) < 0)
		return NULL;
	float q[4][2] = { { (float)f0.x0, (float)(f0.top_a + f0.top_b * f0.x0) },
			  { (float)f0.x1, (float)(f0.top_a + f0.top_b * f0.x1) },
			  { (float)f1.x1, (float)(f1.bot_a + f1.bot_b * f1.x1) },
			  { (float)f1.x0, (float)(f1.bot_a + f1.bot_b * f1.x0) } };
	double width = ((f0.x1 - f0.x0) + (f1.x1 - f1.x0)) / 2.0;
	double height = ((q[3][1] - q[0][1]) + (q[2][1] - q[1][1])) / 2.0;
	if (width < nchar * 4 || height < 8)
		return NULL;
	int dw = RECT_PITCH * nchar;
	int dh = (int)(height * dw / width + 0.5);
	return warp_quad(gray, q, dw, dh, 2 * RECT_PITCH, dh / band->n, RECT_PITCH / 2);
}

static void free_band(struct band *band)
{
	for (int k = 0; k < band->n; k++)
		boxDestroy(&band->line[k]);
	band->n = 0;
}

/* Reads the MRZ of one orientation: the band as found, then rectified when that did not
 * read cleanly. */
static void read_mrz_view(struct recognizer *r, PIX *img, struct mrz_read *best)
{
	PIX *bin = binarize(img);
	struct band band = { 0 };
	if (bin && find_band(bin, &band)) {
		struct mrz_read rd;
		read_band(r, img, &band, &rd);
		if (better(&rd, best))
			*best = rd;
		if (!good_enough(&rd)) {
			PIX *rect = rectify_band(img, bin, &band);
			PIX *rbin = rect ? binarize(rect) : NULL;
			struct band rb = { 0 };
			if (rbin && find_band(rbin, &rb)) {
				read_band(r, rect, &rb, &rd);
				if (better(&rd, best))
					*best = rd;
			}
			free_band(&rb);
			pixDestroy(&rbin);
			pixDestroy(&rect);
		}
		free_band(&band);
	}
	pixDestroy(&bin);
}

/* Reads the MRZ of a deskewed image, upright or upside down. */
static int read_mrz(struct recognizer *r, PIX *gray, struct mrz_read *best)
{
	for (int turn = 0; turn < 2 && !good_enough(best); turn++) {
		PIX *img = turn ? pixRotate180(NULL, gray) : pixClone(gray);
		if (!img)
			break;
		read_mrz_view(r, img, best);
		pixDestroy(&img);
	}
	return best->ok;
}

/* Measures the skew of the text lines (up to SKEW_RANGE degrees either way) and always
 * rotates by it: pixDeskew skips angles it is not confident of. */
static PIX *deskew(PIX *gray, double *ret_angle)
{
	PIX *bin = binarize(gray);
	l_float32 angle = 0, conf = 0, score = 0;
	*ret_angle = 0;
	if (bin &&
	    pixFindSkewSweepAndSearchScore(bin, &angle, &conf, &score, 2, 1, 0.0f, SKEW_RANGE, 1.0f, 0.02f) ==
		0 &&
	    fabsf(angle) > 0.05f) {
		*ret_angle = angle;
		pixDestroy(&bin);
		return pixRotate(gray, (l_float32)(angle * M_PI / 180.0), L_ROTATE_AREA_MAP, L_BRING_IN_WHITE,
				 0, 0);
	}
	pixDestroy(&bin);
	return pixClone(gray);
}

/* How strongly text lines run across an image (the best skew search score of its rows,
 * normalised by its area): a card lying sideways scores far lower than turned upright. */
static double line_score(PIX *bin)
{
	l_float32 angle = 0, conf = 0, score = 0;
	if (pixFindSkewSweepAndSearchScore(bin, &angle, &conf, &score, 4, 2, 0.0f, SKEW_RANGE, 2.0f, 0.1f) !=
	    0)
		return 0;
	return score / ((double)pixGetWidth(bin) * pixGetHeight(bin) + 1);
}

/* 1 when the text of gray runs top to bottom (a card turned 90 or 270 degrees). */
static int sideways(PIX *gray)
{
	PIX *small = pixScaleAreaMap2(gray);
	PIX *bin = small ? binarize(small) : NULL;
	PIX *turned = bin ? pixRotateOrth(bin, 1) : NULL;
	int r = turned && line_score(turned) > 1.3 * line_score(bin);
	pixDestroy(&turned);
	pixDestroy(&bin);
	pixDestroy(&small);
	return r;
}

/* ---- page OCR ---------------------------------------------------------------------- */

/* OCR of the title area (all of a card) upright and upside down: the document type, and
 * the printed fields of a card front without QR/MRZ. */
static void ocr_title(struct recognizer *r, PIX *gray, struct classify_result *cls, struct card_text *card)
{
	cls->type = "other";
	cls->score = cls->runner_up = 0;
	memset(card, 0, sizeof(*card));
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
		struct card_text ct;
		classify_text(text ? text : "", text ? strlen(text) : 0, &c);
		cardtext_parse(text ? text : "", text ? strlen(text) : 0, &ct);
		TessDeleteText(text);
		TessBaseAPIClear(r->tess);
		pixDestroy(&top);
		if (c.score > cls->score)
			*cls = c;
		/* Another document that quotes a card's words is not a card. */
		if (ct.generation && ct.nfields > card->nfields &&
		    !(c.score >= 0.6 && strncmp(c.type, "id_card_", 8) != 0 && strcmp(c.type, "other") != 0))
			*card = ct;
		if (cls->score >= 0.6 || card->nfields >= 3)
			break;
	}
}

/* ---- one image --------------------------------------------------------------------- */

/* Reads one card or page (8 bpp, full resolution): QR, then the MRZ in the orientation the
 * text lines give (the other quarter turn only when nothing was found), then OCR. */
static json_t *read_gray(struct recognizer *r, PIX *gray, double t0, double t1)
{
	double t2, t3, t4;
	int w = pixGetWidth(gray), h = pixGetHeight(gray);
	float f = (float)WORK_LONG / (float)(w > h ? w : h);
	PIX *work = pixScale(gray, f, f);

	struct cccd_qr qr;
	const char *qr_error = NULL;
	int have_qr = scan_qr(r, gray, &qr, &qr_error);
	t2 = now_ms();

	double angle = 0;
	int quarter = 0;
	struct mrz_read mrz = { 0 };
	PIX *straight = NULL;
	int turn = work ? sideways(work) : 0;
	for (int v = 0; v < 2 && work; v++) {
		int q = v ? !turn : turn;
		if (v && (have_qr || mrz.ok))
			break;
		PIX *img = q ? pixRotateOrth(work, 1) : pixClone(work);
		double a = 0;
		PIX *s = img ? deskew(img, &a) : NULL;
		pixDestroy(&img);
		if (!s)
			break;
		read_mrz(r, s, &mrz);
		if (!straight || mrz.ok) {
			pixDestroy(&straight);
			straight = s, angle = a, quarter = q;
		} else {
			pixDestroy(&s);
		}
	}
	t3 = now_ms();
	/* The QR retries cost more than the first pass, but a back with an MRZ may be the 2024
	 * card's, whose QR is there too: retried unless the image held a QR already. */
	if (!have_qr) {
		have_qr = read_qr(r, gray, &qr, &qr_error);
		t2 += now_ms() - t3;
		t3 = now_ms();
	}

	struct classify_result cls;
	struct card_text card;
	int have_ocr = 0;
	if (!have_qr && !mrz.ok && straight) {
		ocr_title(r, straight, &cls, &card);
		have_ocr = r->tess != NULL;
	}
	t4 = now_ms();
	pixDestroy(&straight);
	pixDestroy(&work);

	struct rec_input in = {
		.qr = have_qr ? &qr : NULL,
		.mrz = mrz.ok ? &mrz.mrz : NULL,
		.mrz_quality = mrz.quality,
		.ocr = have_ocr ? &cls : NULL,
		.card = have_ocr && card.generation ? &card : NULL,
		.qr_error = have_qr ? NULL : qr_error,
		.ms_decode = t1 - t0,
		.ms_qr = t2 - t1,
		.ms_mrz = t3 - t2,
		.ms_ocr = t4 - t3,
		.ms_total = now_ms() - t0,
	};
	json_t *res = result_build(&in);
	if (res) {
		json_object_set_new(res, "skew_degrees", json_real(round(angle * 10) / 10));
		json_object_set_new(res, "orientation_degrees", json_integer(quarter ? 90 : 0));
	}
	return res;
}

/* Cards on a light page (a flatbed scan or a photocopy of an A4 sheet): a card is darker
 * than the paper around it (its tinted ground, its print), so the pixels a few levels under
 * the page's median (or its outline, on a photocopy that whitened its ground), closed into
 * blobs at a reduced size, are the cards.  Returns how many card-sized blobs of a
 * card's shape were found (0 when the image is not such a page, or holds more than two or
 * two too unlike to be one card's sides) with their boxes in full-resolution coordinates. */
static int find_cards(PIX *gray, BOX *ret[2])
{
	int w = pixGetWidth(gray), h = pixGetHeight(gray), L = w > h ? w : h, n = 0, found = 0;
	float f = (float)PAGE_LONG / (float)L;
	l_uint32 median = 0;
	if (f >= 0.85f) /* a card scanned alone: its own image */
		return 0;
	PIX *small = pixScale(gray, f, f);
	if (!small || pixGetRankValue(small, 2, 0.5f, &median) != 0 || median < 190) {
		pixDestroy(&small);
		return 0;
	}
	int sw = pixGetWidth(small), sh = pixGetHeight(small), brick = PAGE_LONG / 60;
	PIX *bin = pixThresholdToBinary(small, (int)median - 5);
	PIX *closed = bin ? pixCloseSafeBrick(NULL, bin, brick, brick) : NULL;
	BOXA *boxa = closed ? pixConnComp(closed, NULL, 8) : NULL;
	int bx[2], by[2], bw[2], bh[2];
	for (int i = 0; boxa && i < boxaGetCount(boxa); i++) {
		int x, y, cw, chh;
		boxaGetBoxGeometry(boxa, i, &x, &y, &cw, &chh);
		if ((double)cw * chh < 0.02 * sw * sh || cw < PAGE_LONG / 10 || chh < PAGE_LONG / 10)
			continue;
		double aspect = cw > chh ? (double)cw / chh : (double)chh / cw;
		/* A card on an A4 sheet: its long side is 41% of the sheet's short side. */
		if ((cw > chh ? cw : chh) < 0.33 * (sw < sh ? sw : sh))
			continue;
		if (aspect < 1.2 || aspect > 2.2 || (double)cw * chh > 0.25 * sw * sh || n == 2) {
			n = 3; /* something else on the page: leave it whole */
			break;
		}
		bx[n] = x, by[n] = y, bw[n] = cw, bh[n] = chh, n++;
	}
	if (n == 2) {
		double ra = (double)bw[0] * bh[0] / ((double)bw[1] * bh[1]);
		if (ra < 0.6 || ra > 1.67)
			n = 3;
	}
	if (n == 1 || n == 2) {
		for (int k = 0; k < n; k++) {
			int m = brick;
			ret[k] = boxCreate((int)((bx[k] - m) / f), (int)((by[k] - m) / f),
					   (int)((bw[k] + 2 * m) / f), (int)((bh[k] + 2 * m) / f));
		}
		found = n;
	}
	boxaDestroy(&boxa);
	pixDestroy(&closed);
	pixDestroy(&bin);
	pixDestroy(&small);
	return found;
}

/* Reads the card(s) of a page: each found card on its own (two: one identity from its two
 * sides); the whole image otherwise. */
static json_t *read_page(struct recognizer *r, PIX *gray, double t0, double t1)
{
	BOX *box[2] = { NULL, NULL };
	int n = find_cards(gray, box);
	json_t *res[2] = { NULL, NULL }, *out = NULL;
	for (int k = 0; k < n; k++) {
		PIX *card = pixClipRectangle(gray, box[k], NULL);
		boxDestroy(&box[k]);
		if (card)
			res[k] = read_gray(r, card, k ? now_ms() : t0, k ? now_ms() : t1);
		pixDestroy(&card);
	}
	if (n == 2 && res[0] && res[1]) {
		out = result_pair(res[0], res[1]);
		if (out) {
			json_object_set_new(out, "cards_on_page", json_integer(2));
			json_object_set_new(json_object_get(out, "timings_ms"), "total",
					    json_real(now_ms() - t0));
		}
	} else if (n == 1 && res[0]) {
		out = json_incref(res[0]);
		json_object_set_new(out, "cards_on_page", json_integer(1));
	}
	json_decref(res[0]);
	json_decref(res[1]);
	return out ? out : read_gray(r, gray, t0, t1);
}

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

json_t *recognizer_run(struct recognizer *r, const uint8_t *data, size_t len)
{
	double t0 = now_ms(), c0 = cpu_ms();
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
	json_t *res = read_page(r, gray, t0, now_ms());
	pixDestroy(&gray);
	/* The processor time spent, beside the wall time: on a loaded machine only this one
	 * says what an image costs. */
	json_t *t = json_object_get(res, "timings_ms");
	if (t)
		json_object_set_new(t, "cpu", json_real(cpu_ms() - c0));
	return res;
}
