/* Rendering of a certified copy with cairo's PDF backend and pango.  The scan is given to
 * cairo as JPEG mime data on a 1-bit placeholder surface of its size, so the PDF holds the
 * original file byte for byte (/DCTDecode) and no pixel of it is ever decoded here. */
#include "gateway/sign/render.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <glib.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define A4_W 595.276
#define A4_H 841.890
#define MARGIN 36.0
#define PDF_MAX (1024L * 1024 * 1024)

int render_jpeg_info(const unsigned char *j, size_t len, int *ret_w, int *ret_h, int *ret_comps)
{
	size_t p = 2;
	if (len < 4 || j[0] != 0xff || j[1] != 0xd8)
		return -EMEDIUMTYPE;
	while (p + 4 <= len) {
		if (j[p] != 0xff)
			return -EMEDIUMTYPE;
		unsigned char m = j[p + 1];
		if (m == 0xff) { /* fill byte */
			p++;
			continue;
		}
		size_t seg = (size_t)j[p + 2] << 8 | j[p + 3];
		if (seg < 2 || p + 2 + seg > len)
			return -EMEDIUMTYPE;
		/* SOF0-15 except DHT (c4), JPG (c8) and DAC (cc). */
		if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
			if (seg < 8)
				return -EMEDIUMTYPE;
			int h = j[p + 5] << 8 | j[p + 6], w = j[p + 7] << 8 | j[p + 8], c = j[p + 9];
			if (w < 1 || h < 1 || (c != 1 && c != 3 && c != 4) || m == 0xc3 || m == 0xc7 ||
			    m == 0xcb || m == 0xcf)
				return -EMEDIUMTYPE; /* lossless JPEG is not embeddable in PDF */
			*ret_w = w;
			*ret_h = h;
			*ret_comps = c;
			return 0;
		}
		if (m == 0xda || m == 0xd9)
			return -EMEDIUMTYPE; /* scan data before any frame header */
		p += 2 + seg;
	}
	return -EMEDIUMTYPE;
}

struct out {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static cairo_status_t out_write(void *ctx, const unsigned char *data, unsigned int n)
{
	struct out *o = ctx;
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		while (cap < o->len + n)
			cap *= 2;
		unsigned char *np = cap <= PDF_MAX ? realloc(o->p, cap) : NULL;
		if (!np) {
			o->failed = 1;
			return CAIRO_STATUS_WRITE_ERROR;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, data, n);
	o->len += n;
	return CAIRO_STATUS_SUCCESS;
}

static void text(cairo_t *cr, const char *markup, double x, double y, double w, const char *font,
		 PangoAlignment align)
{
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string(font);
	pango_layout_set_font_description(l, fd);
	pango_layout_set_width(l, (int)(w * PANGO_SCALE));
	pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_alignment(l, align);
	pango_layout_set_markup(l, markup, -1);
	cairo_move_to(cr, x, y);
	pango_cairo_show_layout(cr, l);
	pango_font_description_free(fd);
	g_object_unref(l);
}

/* The QR as filled rectangles (runs of dark modules), with a white quiet zone of 4 modules. */
static int draw_qr(cairo_t *cr, const char *seal, double x, double y, double size)
{
	QRcode *q = QRcode_encodeString(seal, 0, QR_ECLEVEL_Q, QR_MODE_8, 1);
	if (!q)
		return -EIO;
	int n = q->width;
	double m = size / (n + 8);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_rectangle(cr, x, y, size, size);
	cairo_fill(cr);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < n; r++)
		for (int c = 0; c < n;) {
			if (!(q->data[r * n + c] & 1)) {
				c++;
				continue;
			}
			int e = c;
			while (e < n && (q->data[r * n + e] & 1))
				e++;
			cairo_rectangle(cr, x + (4 + c) * m, y + (4 + r) * m, (e - c) * m, m);
			c = e;
		}
	cairo_fill(cr);
	QRcode_free(q);
	return 0;
}

static void watermark(cairo_t *cr, const char *line, double cx, double cy)
{
	cairo_save(cr);
	cairo_translate(cr, cx, cy);
	cairo_rotate(cr, -0.6);
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans Bold 30");
	pango_layout_set_font_description(l, fd);
	pango_layout_set_text(l, line, -1);
	int w, h;
	pango_layout_get_pixel_size(l, &w, &h);
	cairo_set_source_rgba(cr, 0.75, 0.1, 0.1, 0.18);
	cairo_move_to(cr, -w / 2.0, -h / 2.0);
	pango_cairo_show_layout(cr, l);
	pango_font_description_free(fd);
	g_object_unref(l);
	cairo_restore(cr);
}

int render_copy_pdf(const struct render_input *in, unsigned char **ret_pdf, size_t *ret_len)
{
	struct out o = { 0 };
	int w, h, comps, r;
	char date[64], title[160];
	char *markup = NULL, *e_commune = NULL, *e_official = NULL, *e_number = NULL, *e_signer = NULL;

	r = render_jpeg_info(in->jpeg, in->jpeg_len, &w, &h, &comps);
	if (r < 0)
		return r;
	time_t t = (time_t)in->time + 7 * 3600; /* Hà Nội, UTC+7, no daylight saving */
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(date, sizeof(date), "ngày %02d tháng %02d năm %d", tm.tm_mday, tm.tm_mon + 1,
		 tm.tm_year + 1900);

	cairo_surface_t *pdf = cairo_pdf_surface_create_for_stream(out_write, &o, A4_W, A4_H);
	cairo_pdf_surface_restrict_to_version(pdf, CAIRO_PDF_VERSION_1_5);
	snprintf(title, sizeof(title), "Bản sao điện tử có chứng thực số %s", in->number_text);
	cairo_pdf_surface_set_metadata(pdf, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(pdf, CAIRO_PDF_METADATA_AUTHOR, in->commune);
	cairo_pdf_surface_set_metadata(pdf, CAIRO_PDF_METADATA_CREATOR, "motcua " MOTCUA_VERSION);
	cairo_pdf_surface_set_metadata(pdf, CAIRO_PDF_METADATA_KEYWORDS, in->seal);
	cairo_t *cr = cairo_create(pdf);

	/* The scan: a placeholder surface carrying the JPEG file as its mime data. */
	cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_A1, w, h);
	unsigned char *copy = malloc(in->jpeg_len);
	if (!copy || cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) {
		free(copy);
		r = -ENOMEM;
		goto out;
	}
	memcpy(copy, in->jpeg, in->jpeg_len);
	cairo_surface_set_mime_data(img, CAIRO_MIME_TYPE_JPEG, copy, in->jpeg_len, free, copy);

	text(cr, "<b>BẢN SAO ĐIỆN TỬ CÓ CHỨNG THỰC</b>", MARGIN, 20, A4_W - 2 * MARGIN, "DejaVu Sans 12",
	     PANGO_ALIGN_CENTER);
	double bx = MARGIN, by = 44, bw = A4_W - 2 * MARGIN, bh = 540;
	double s = bw / w < bh / h ? bw / w : bh / h;
	double dx = bx + (bw - w * s) / 2, dy = by + (bh - h * s) / 2;
	cairo_save(cr);
	cairo_translate(cr, dx, dy);
	cairo_scale(cr, s, s);
	cairo_set_source_surface(cr, img, 0, 0);
	cairo_paint(cr);
	cairo_restore(cr);
	cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
	cairo_set_line_width(cr, 0.5);
	cairo_rectangle(cr, dx, dy, w * s, h * s);
	cairo_stroke(cr);

	watermark(cr, in->test_key ? "MẪU THỬ – KHÔNG CÓ GIÁ TRỊ PHÁP LÝ" : "BẢN SAO ĐIỆN TỬ CÓ CHỨNG THỰC",
		  A4_W / 2, by + bh / 2);

	e_commune = g_markup_escape_text(in->commune, -1);
	e_official = g_markup_escape_text(in->official, -1);
	e_number = g_markup_escape_text(in->number_text, -1);
	e_signer = g_markup_escape_text(in->signer, -1);
	markup =
	    g_strdup_printf("<b>LỜI CHỨNG CỦA NGƯỜI THỰC HIỆN CHỨNG THỰC</b>\n"
			    "Chứng thực bản sao điện tử này đúng với bản chính.\n"
			    "Số chứng thực: <b>%s</b>\n"
			    "%s, %s\n"
			    "Người thực hiện chứng thực: <b>%s</b>\n"
			    "Ký số bởi: %s\n"
			    "<small>Bản sao được ký số (PAdES) và có mã niêm phong QR; kiểm tra tại "
			    "trang /verify của cơ quan cấp hoặc bằng bất kỳ phần mềm đọc mã VNCC1.</small>",
			    e_number, e_commune, date, e_official, e_signer);
	cairo_set_source_rgb(cr, 0, 0, 0);
	double ty = by + bh + 20, qr = 170;
	text(cr, markup, MARGIN, ty, A4_W - 2 * MARGIN - qr - 12, "DejaVu Sans 9.5", PANGO_ALIGN_LEFT);
	r = draw_qr(cr, in->seal, A4_W - MARGIN - qr, ty - 6, qr);
	if (r < 0)
		goto out;
	cairo_show_page(cr);
	r = 0;
out:
	cairo_destroy(cr);
	cairo_surface_destroy(img);
	cairo_surface_finish(pdf);
	if (r == 0 && (o.failed || cairo_surface_status(pdf) != CAIRO_STATUS_SUCCESS))
		r = o.failed ? -ENOMEM : -EIO;
	cairo_surface_destroy(pdf);
	g_free(markup);
	g_free(e_commune);
	g_free(e_official);
	g_free(e_number);
	g_free(e_signer);
	if (r < 0) {
		free(o.p);
		return r;
	}
	*ret_pdf = o.p;
	*ret_len = o.len;
	return 0;
}
