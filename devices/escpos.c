/* ESC/POS job building: Pango/Cairo lay the printout out in an A8 surface, which is
 * thresholded to 1 bit and sent as GS v 0 raster bands. */
#include "devices/escpos.h"

#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARGIN 8
#define FONT "DejaVu Sans"
#define QR_QUIET 4 /* modules of white around a QR code */

void escpos_image_free(struct escpos_image *img)
{
	if (!img)
		return;
	free(img->bits);
	img->bits = NULL;
}

static PangoLayout *text_layout(cairo_t *cr, const struct escpos_block *b, int width)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(FONT);
	pango_font_description_set_absolute_size(fd, (double)b->px * PANGO_SCALE);
	pango_font_description_set_weight(fd, b->bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
	pango_layout_set_font_description(l, fd);
	pango_font_description_free(fd);
	pango_layout_set_width(l, (width - 2 * MARGIN) * PANGO_SCALE);
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, b->center ? PANGO_ALIGN_CENTER : PANGO_ALIGN_LEFT);
	pango_layout_set_text(l, b->text ? b->text : "", -1);
	return l;
}

/* Height of a block in dots (and its QR, when it is one; the caller frees it). */
static int block_height(cairo_t *cr, const struct escpos_block *b, int width, QRcode **ret_qr)
{
	switch (b->kind) {
	case ESCPOS_TEXT: {
		PangoLayout *l = text_layout(cr, b, width);
		int w, h;
		pango_layout_get_pixel_size(l, &w, &h);
		g_object_unref(l);
		return h;
	}
	case ESCPOS_QR: {
		QRcode *q = QRcode_encodeString(b->text ? b->text : "", 0, QR_ECLEVEL_M, QR_MODE_8, 1);
		if (!q)
			return -EMSGSIZE;
		int side = (q->width + 2 * QR_QUIET) * b->px;
		if (side > width) {
			QRcode_free(q);
			return -EMSGSIZE;
		}
		*ret_qr = q;
		return side;
	}
	case ESCPOS_GAP:
	case ESCPOS_RULE: return b->px;
	}
	return -EINVAL;
}

int escpos_layout(const struct escpos_block *b, int n, int width, struct escpos_image *ret)
{
	cairo_surface_t *probe = NULL, *s = NULL;
	cairo_t *cr = NULL;
	QRcode **qr = calloc((size_t)(n > 0 ? n : 1), sizeof(*qr));
	int *h = calloc((size_t)(n > 0 ? n : 1), sizeof(*h));
	int total = 0, r = 0;

	if (!qr || !h) {
		r = -ENOMEM;
		goto out;
	}
	if (width < 64 || width > 2048 || n < 1) {
		r = -EINVAL;
		goto out;
	}
	for (int i = 0; i < n; i++)
		if (b[i].px < 1 || b[i].px > 400) {
			r = -EINVAL;
			goto out;
		}
	probe = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
	cr = cairo_create(probe);
	for (int i = 0; i < n; i++) {
		h[i] = block_height(cr, &b[i], width, &qr[i]);
		if (h[i] < 0) {
			r = h[i];
			goto out;
		}
		total += h[i];
		if (total > ESCPOS_MAX_HEIGHT) {
			r = -EMSGSIZE;
			goto out;
		}
	}
	cairo_destroy(cr);
	cr = NULL;
	s = cairo_image_surface_create(CAIRO_FORMAT_A8, width, total > 0 ? total : 1);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		r = -ENOMEM;
		goto out;
	}
	cr = cairo_create(s);
	cairo_set_source_rgba(cr, 0, 0, 0, 1);
	int y = 0;
	for (int i = 0; i < n; i++) {
		if (b[i].kind == ESCPOS_TEXT) {
			PangoLayout *l = text_layout(cr, &b[i], width);
			cairo_move_to(cr, MARGIN, y);
			pango_cairo_show_layout(cr, l);
			g_object_unref(l);
		} else if (b[i].kind == ESCPOS_QR) {
			int m = b[i].px, side = (qr[i]->width + 2 * QR_QUIET) * m;
			int x0 = b[i].center ? (width - side) / 2 : MARGIN;
			for (int yy = 0; yy < qr[i]->width; yy++)
				for (int xx = 0; xx < qr[i]->width; xx++)
					if (qr[i]->data[yy * qr[i]->width + xx] & 1)
						cairo_rectangle(cr, x0 + (QR_QUIET + xx) * m,
								y + (QR_QUIET + yy) * m, m, m);
			cairo_fill(cr);
		} else if (b[i].kind == ESCPOS_RULE) {
			cairo_rectangle(cr, MARGIN, y + b[i].px / 2 - 1, width - 2 * MARGIN, 2);
			cairo_fill(cr);
		}
		y += h[i];
	}
	cairo_surface_flush(s);

	ret->width = width;
	ret->height = total;
	ret->stride = (width + 7) / 8;
	ret->bits = calloc((size_t)ret->stride * (size_t)(total > 0 ? total : 1), 1);
	if (!ret->bits) {
		r = -ENOMEM;
		goto out;
	}
	const unsigned char *src = cairo_image_surface_get_data(s);
	int sstride = cairo_image_surface_get_stride(s);
	for (int yy = 0; yy < total; yy++)
		for (int xx = 0; xx < width; xx++)
			if (src[yy * sstride + xx] >= 128)
				ret->bits[yy * ret->stride + xx / 8] |= (unsigned char)(0x80 >> (xx % 8));
	r = 0;
out:
	if (cr)
		cairo_destroy(cr);
	if (s)
		cairo_surface_destroy(s);
	if (probe)
		cairo_surface_destroy(probe);
	for (int i = 0; qr && i < n; i++)
		if (qr[i])
			QRcode_free(qr[i]);
	free(qr);
	free(h);
	return r;
}

int escpos_job(const struct escpos_image *img, int feed_lines, int cut, unsigned char **ret, size_t *ret_len)
{
	int bands = (img->height + ESCPOS_BAND - 1) / ESCPOS_BAND;
	size_t cap = 2 + (size_t)bands * 8 + (size_t)img->stride * (size_t)img->height + 3 + 4;
	unsigned char *out = malloc(cap), *p = out;
	if (!out)
		return -ENOMEM;
	if (feed_lines < 0 || feed_lines > 255 || img->stride > 0xffff) {
		free(out);
		return -EINVAL;
	}
	*p++ = 0x1b; /* ESC @: initialise */
	*p++ = '@';
	for (int y0 = 0; y0 < img->height; y0 += ESCPOS_BAND) {
		int rows = img->height - y0 < ESCPOS_BAND ? img->height - y0 : ESCPOS_BAND;
		/* GS v 0 m xL xH yL yH: m = 0 normal density; x in bytes, y in dots */
		*p++ = 0x1d;
		*p++ = 'v';
		*p++ = '0';
		*p++ = 0;
		*p++ = (unsigned char)(img->stride & 0xff);
		*p++ = (unsigned char)(img->stride >> 8);
		*p++ = (unsigned char)(rows & 0xff);
		*p++ = (unsigned char)(rows >> 8);
		memcpy(p, img->bits + (size_t)y0 * (size_t)img->stride, (size_t)rows * (size_t)img->stride);
		p += (size_t)rows * (size_t)img->stride;
	}
	*p++ = 0x1b; /* ESC d n: print and feed n lines */
	*p++ = 'd';
	*p++ = (unsigned char)feed_lines;
	if (cut) {
		*p++ = 0x1d; /* GS V 66 0: feed to the cutter and cut partially */
		*p++ = 'V';
		*p++ = 66;
		*p++ = 0;
	}
	*ret = out;
	*ret_len = (size_t)(p - out);
	return 0;
}

static int render(const struct escpos_block *b, int n, int width, unsigned char **ret, size_t *ret_len)
{
	struct escpos_image img = { 0 };
	int r = escpos_layout(b, n, width, &img);
	if (r == 0)
		r = escpos_job(&img, 3, 1, ret, ret_len);
	escpos_image_free(&img);
	return r;
}

int escpos_ticket_job(const struct escpos_ticket *t, int width, unsigned char **ret, size_t *ret_len)
{
	char ahead[64];
	int big = width >= ESCPOS_WIDTH_80MM ? 1 : 0;
	if (t->ahead <= 0)
		snprintf(ahead, sizeof(ahead), "Không có ai trước bạn");
	else
		snprintf(ahead, sizeof(ahead), "Trước bạn: %d người", t->ahead);
	const struct escpos_block b[] = {
		{ ESCPOS_TEXT, t->commune, 22 + 4 * big, 1, 1 },
		{ ESCPOS_TEXT, "BỘ PHẬN MỘT CỬA", 18 + 4 * big, 0, 1 },
		{ ESCPOS_RULE, NULL, 12, 0, 0 },
		{ ESCPOS_TEXT, "SỐ THỨ TỰ", 22 + 4 * big, 0, 1 },
		{ ESCPOS_TEXT, t->code, 96 + 32 * big, 1, 1 },
		{ ESCPOS_TEXT, t->service, 28 + 4 * big, 1, 1 },
		{ ESCPOS_GAP, NULL, 6, 0, 0 },
		{ ESCPOS_TEXT, ahead, 22 + 2 * big, 0, 1 },
		{ ESCPOS_TEXT, t->when, 20 + 2 * big, 0, 1 },
		{ ESCPOS_QR, t->qr, 4 + big, 0, 1 },
		{ ESCPOS_TEXT, "Quét mã để theo dõi lượt của bạn", 18 + 2 * big, 0, 1 },
	};
	return render(b, (int)(sizeof(b) / sizeof(b[0])), width, ret, ret_len);
}

int escpos_receipt_job(const struct escpos_receipt *rc, int width, unsigned char **ret, size_t *ret_len)
{
	int big = width >= ESCPOS_WIDTH_80MM ? 1 : 0, n = 0, r;
	if (rc->nlines < 0 || rc->nlines > 32)
		return -EINVAL;
	struct escpos_block *b = calloc((size_t)rc->nlines + 8, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b[n++] = (struct escpos_block){ ESCPOS_TEXT, rc->commune, 22 + 4 * big, 1, 1 };
	b[n++] = (struct escpos_block){ ESCPOS_TEXT, rc->title, 22 + 4 * big, 1, 1 };
	b[n++] = (struct escpos_block){ ESCPOS_RULE, NULL, 12, 0, 0 };
	for (int i = 0; i < rc->nlines; i++)
		b[n++] = (struct escpos_block){ ESCPOS_TEXT, rc->lines[i], 20 + 2 * big, 0, 0 };
	if (rc->qr && rc->qr[0])
		b[n++] = (struct escpos_block){ ESCPOS_QR, rc->qr, 4 + big, 0, 1 };
	if (rc->footer && rc->footer[0])
		b[n++] = (struct escpos_block){ ESCPOS_TEXT, rc->footer, 18 + 2 * big, 0, 1 };
	r = render(b, n, width, ret, ret_len);
	free(b);
	return r;
}

void escpos_status_query(enum escpos_status_query q, unsigned char out[3])
{
	out[0] = 0x10; /* DLE EOT n */
	out[1] = 0x04;
	out[2] = (unsigned char)q;
}

int escpos_status_parse(enum escpos_status_query q, unsigned char a, struct escpos_status *st)
{
	if ((a & 0x93) != 0x12)
		return -EPROTO;
	st->answered = 1;
	switch (q) {
	case ESCPOS_Q_PRINTER: st->offline = (a & 0x08) != 0; break;
	case ESCPOS_Q_OFFLINE:
		st->cover_open = (a & 0x04) != 0;
		if (a & 0x20)
			st->paper_out = 1;
		st->error = (a & 0x40) != 0;
		break;
	case ESCPOS_Q_PAPER:
		st->paper_near_end = (a & 0x0c) != 0;
		if (a & 0x60)
			st->paper_out = 1;
		break;
	default: return -EINVAL;
	}
	return 0;
}

const char *escpos_status_text(const struct escpos_status *st)
{
	if (!st->answered)
		return "unknown";
	if (st->paper_out)
		return "paper out";
	if (st->cover_open)
		return "cover open";
	if (st->error)
		return "error";
	if (st->offline)
		return "offline";
	if (st->paper_near_end)
		return "paper low";
	return "ready";
}
