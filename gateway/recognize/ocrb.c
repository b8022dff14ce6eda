/* OCR-B template matching on a fitted fixed-pitch grid. */
#include "gateway/recognize/ocrb.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <ft2build.h>
#include FT_FREETYPE_H

#define FW 14
#define FH 20
#define NF (FW * FH)
#define VMARGIN 0.10 /* of the cap height, above and below the cell */
#define NVAR 3 /* template variants: as rendered, thicker, blurred */
#define NCHARS 37

struct ocrb {
	float feat[NCHARS][NVAR][NF];
};

/* Averages ink over [x0,x1) x [y0,y1) by sampling 3x3 points with bilinear interpolation. */
static float area(const float *img, int w, int h, double x0, double x1, double y0, double y1)
{
	float sum = 0;
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 3; b++) {
			double x = x0 + (x1 - x0) * (a + 0.5) / 3 - 0.5,
			       y = y0 + (y1 - y0) * (b + 0.5) / 3 - 0.5;
			if (x < 0 || y < 0 || x > w - 1 || y > h - 1)
				continue;
			int xi = (int)x, yi = (int)y;
			int xj = xi + 1 < w ? xi + 1 : xi, yj = yi + 1 < h ? yi + 1 : yi;
			double fx = x - xi, fy = y - yi;
			sum += (float)((1 - fx) * (1 - fy) * img[yi * w + xi] +
				       fx * (1 - fy) * img[yi * w + xj] + (1 - fx) * fy * img[yj * w + xi] +
				       fx * fy * img[yj * w + xj]);
		}
	return sum / 9;
}

/* Ink centroid column within [x0, x1) x [y0, y1); -1 when the window is empty. */
static double centroid(const float *img, int w, int h, double x0, double x1, double y0, double y1)
{
	double s = 0, sx = 0;
	int xa = x0 < 0 ? 0 : (int)x0, xb = x1 > w ? w : (int)x1;
	int ya = y0 < 0 ? 0 : (int)y0, yb = y1 > h ? h : (int)y1;
	for (int y = ya; y < yb; y++)
		for (int x = xa; x < xb; x++) {
			s += img[y * w + x];
			sx += (double)x * img[y * w + x];
		}
	return s > 1e-3 ? sx / s + 0.5 : -1;
}

/* Feature of a cell centred at cx, one pitch wide, between y0 and y1: zero mean, unit norm.
 * Returns the ink energy before normalisation (0 for an empty cell). */
static double feature(const float *img, int w, int h, double cx, double pitch, double y0, double y1, float *f)
{
	double mean = 0, norm = 0;
	for (int j = 0; j < FH; j++)
		for (int i = 0; i < FW; i++) {
			double xa = cx - pitch / 2 + pitch * i / FW, ya = y0 + (y1 - y0) * j / FH;
			f[j * FW + i] = area(img, w, h, xa, xa + pitch / FW, ya, ya + (y1 - y0) / FH);
			mean += f[j * FW + i];
		}
	mean /= NF;
	for (int k = 0; k < NF; k++) {
		f[k] -= (float)mean;
		norm += (double)f[k] * f[k];
	}
	norm = sqrt(norm);
	if (norm < 1e-6)
		return 0;
	for (int k = 0; k < NF; k++)
		f[k] = (float)(f[k] / norm);
	return norm;
}

static void dilate(const float *in, float *out, int w, int h)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			float m = 0;
			for (int dy = -1; dy <= 1; dy++)
				for (int dx = -1; dx <= 1; dx++) {
					int xx = x + dx, yy = y + dy;
					if (xx >= 0 && yy >= 0 && xx < w && yy < h && in[yy * w + xx] > m)
						m = in[yy * w + xx];
				}
			out[y * w + x] = m;
		}
}

static void blur(const float *in, float *out, int w, int h, int r)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			float s = 0;
			int n = 0;
			for (int dy = -r; dy <= r; dy++)
				for (int dx = -r; dx <= r; dx++) {
					int xx = x + dx, yy = y + dy;
					if (xx >= 0 && yy >= 0 && xx < w && yy < h)
						s += in[yy * w + xx], n++;
				}
			out[y * w + x] = s / (float)n;
		}
}

int ocrb_new(const char *font_path, struct ocrb **ret)
{
	FT_Library lib = NULL;
	FT_Face face = NULL;
	struct ocrb *o = calloc(1, sizeof(*o));
	float *canvas = NULL, *tmp = NULL;
	int r = -EIO;
	if (!o)
		return -ENOMEM;
	if (FT_Init_FreeType(&lib) != 0)
		goto out;
	if (FT_New_Face(lib, font_path, 0, &face) != 0) {
		r = -ENOENT;
		goto out;
	}
	if (FT_Set_Pixel_Sizes(face, 0, 64) != 0 || FT_Load_Char(face, 'H', FT_LOAD_RENDER) != 0)
		goto out;
	int cap = face->glyph->bitmap_top;
	if (FT_Load_Char(face, '0', FT_LOAD_RENDER) != 0)
		goto out;
	int adv = (int)(face->glyph->advance.x >> 6);
	int cw = adv * 2, ch = cap * 2, base = cap * 3 / 2;
	canvas = calloc((size_t)cw * ch, sizeof(float));
	tmp = calloc((size_t)cw * ch, sizeof(float));
	if (!canvas || !tmp || cap <= 0 || adv <= 0) {
		r = -ENOMEM;
		goto out;
	}
	for (int c = 0; c < NCHARS; c++) {
		if (FT_Load_Char(face, (FT_ULong)OCRB_ALPHABET[c], FT_LOAD_RENDER) != 0)
			goto out;
		FT_GlyphSlot g = face->glyph;
		memset(canvas, 0, (size_t)cw * ch * sizeof(float));
		for (unsigned y = 0; y < g->bitmap.rows; y++)
			for (unsigned x = 0; x < g->bitmap.width; x++) {
				int X = adv / 2 + g->bitmap_left + (int)x, Y = base - g->bitmap_top + (int)y;
				if (X >= 0 && Y >= 0 && X < cw && Y < ch)
					canvas[Y * cw + X] = g->bitmap.buffer[y * g->bitmap.pitch + (int)x];
			}
		double y0 = base - cap * (1 + VMARGIN), y1 = base + cap * VMARGIN;
		for (int v = 0; v < NVAR; v++) {
			const float *src = canvas;
			if (v == 1) {
				dilate(canvas, tmp, cw, ch);
				src = tmp;
			} else if (v == 2) {
				blur(canvas, tmp, cw, ch, 3);
				src = tmp;
			}
			double cx = centroid(src, cw, ch, 0, cw, y0, y1);
			feature(src, cw, ch, cx < 0 ? adv : cx, adv, y0, y1, o->feat[c][v]);
		}
	}
	*ret = o;
	o = NULL;
	r = 0;
out:
	free(canvas);
	free(tmp);
	if (face)
		FT_Done_Face(face);
	if (lib)
		FT_Done_FreeType(lib);
	free(o);
	return r;
}

void ocrb_free(struct ocrb *o)
{
	free(o);
}

static void classify(const struct ocrb *o, const float *f, char *ret_ch, float *ret_score, float *ret_margin)
{
	float best = -2, second = -2;
	int bi = NCHARS - 1;
	for (int c = 0; c < NCHARS; c++) {
		float cs = -2;
		for (int v = 0; v < NVAR; v++) {
			float s = 0;
			for (int k = 0; k < NF; k++)
				s += f[k] * o->feat[c][v][k];
			if (s > cs)
				cs = s;
		}
		if (cs > best) {
			second = best;
			best = cs;
			bi = c;
		} else if (cs > second) {
			second = cs;
		}
	}
	*ret_ch = OCRB_ALPHABET[bi];
	*ret_score = best;
	*ret_margin = best - second;
}

int ocrb_read_line(const struct ocrb *o, const uint8_t *ink8, int w, int h, int n, struct ocrb_line *ret)
{
	float *img = NULL, *colp = NULL;
	int r = -EINVAL;
	memset(ret, 0, sizeof(*ret));
	if (w < n * 4 || h < 6 || n > 44)
		return -EINVAL;
	img = malloc((size_t)w * h * sizeof(float));
	colp = calloc((size_t)w, sizeof(float));
	if (!img || !colp) {
		r = -ENOMEM;
		goto out;
	}
	/* Ink above each column's own background (the column median, smoothed: light may be
	 * uneven along the line), scaled by the line's darkest ink. */
	float *bg = calloc((size_t)w, sizeof(float));
	int *colhist = malloc(256 * sizeof(int));
	if (!bg || !colhist) {
		free(bg), free(colhist);
		r = -ENOMEM;
		goto out;
	}
	for (int x = 0; x < w; x++) {
		memset(colhist, 0, 256 * sizeof(int));
		for (int y = 0; y < h; y++)
			colhist[ink8[y * w + x]]++;
		int acc = 0, v = 0;
		while (v < 255 && acc + colhist[v] <= h / 2)
			acc += colhist[v++];
		bg[x] = (float)v;
	}
	int win = h / 2 > 2 ? h / 2 : 2;
	for (int x = 0; x < w; x++) {
		float s = 0;
		int k = 0;
		for (int d = -win; d <= win; d++)
			if (x + d >= 0 && x + d < w)
				s += bg[x + d], k++;
		img[x] = s / (float)k; /* borrow the first row as scratch for the smoothed values */
	}
	memcpy(bg, img, (size_t)w * sizeof(float));
	free(colhist);
	int hist[256] = { 0 };
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			float v = ink8[y * w + x] - bg[x];
			img[y * w + x] = v < 0 ? 0 : v;
			hist[(int)img[y * w + x]]++;
		}
	free(bg);
	int hi = 255, acc = 0;
	for (; hi > 0 && acc + hist[hi] < w * h / 50; hi--)
		acc += hist[hi];
	if (hi < 20)
		goto out;
	for (int i = 0; i < w * h; i++)
		img[i] = img[i] >= hi ? 1.0f : img[i] / (float)hi;
	/* Vertical extent: rows whose ink reaches a quarter of the fullest row. */
	float rmax = 0;
	float *rowp = calloc((size_t)h, sizeof(float));
	if (!rowp) {
		r = -ENOMEM;
		goto out;
	}
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++)
			rowp[y] += img[y * w + x] > 0.5f;
		if (rowp[y] > rmax)
			rmax = rowp[y];
	}
	int top = 0, bot = h - 1;
	while (top < h && rowp[top] < rmax * 0.25f)
		top++;
	while (bot > top && rowp[bot] < rmax * 0.25f)
		bot--;
	free(rowp);
	if (bot - top < 4)
		goto out;
	double caph = bot - top + 1;
	double y0 = top - caph * VMARGIN, y1 = bot + 1 + caph * VMARGIN;
	for (int x = 0; x < w; x++)
		for (int y = top; y <= bot; y++)
			colp[x] += img[y * w + x];
	/* The inked extent: first and last columns starting a run of inked columns at least
	 * a fifth of a character wide (specks and edges of the card are narrower or fainter). */
	int left = -1, right = -1, run = 0, minrun = (int)(caph * 0.12) + 1;
	float cthr = (float)caph * 0.15f;
	for (int x = 0; x < w; x++) {
		run = colp[x] >= cthr ? run + 1 : 0;
		if (run >= minrun) {
			if (left < 0)
				left = x - run + 1;
			right = x;
		}
	}
	if (left < 0)
		goto out;
	while (right + 1 < w && colp[right + 1] >= cthr)
		right++;
	double extent = right - left + 1;
	if (extent < n * 3)
		goto out;
	/* Fit the grid: the pitch and offset whose n+1 cell boundaries cross the least ink,
	 * covering the inked extent. */
	double p0 = extent / (n - 0.3), best_cost = 1e30, bp = p0, bo = left;
	for (double p = p0 * 0.94; p <= p0 * 1.06; p += p0 * 0.004) {
		double lo_o = right + 1 - n * p, hi_o = left;
		if (lo_o > hi_o)
			continue;
		for (double off = lo_o; off <= hi_o; off += 0.5) {
			double cost = 0;
			for (int i = 0; i <= n; i++) {
				int x = (int)(off + i * p + 0.5);
				if (x >= 0 && x < w)
					cost += colp[x];
			}
			if (cost < best_cost)
				best_cost = cost, bp = p, bo = off;
		}
	}
	double sum = 0;
	for (int i = 0; i < n; i++) {
		float f[NF];
		double x0 = bo + i * bp, x1 = x0 + bp;
		double cx = centroid(img, w, h, x0 + bp * 0.05, x1 - bp * 0.05, y0, y1);
		/* Keep the centre near the cell's: a neighbour's ink must not pull it away. */
		if (cx < 0 || fabs(cx - (x0 + x1) / 2) > bp * 0.3)
			cx = (x0 + x1) / 2;
		if (feature(img, w, h, cx, bp, y0, y1, f) == 0) {
			ret->text[i] = '?';
			continue;
		}
		classify(o, f, &ret->text[i], &ret->score[i], &ret->margin[i]);
		sum += ret->score[i];
	}
	ret->text[n] = 0;
	ret->mean_score = sum / n;
	r = 0;
out:
	free(img);
	free(colp);
	return r;
}
