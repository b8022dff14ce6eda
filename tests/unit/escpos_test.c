/* ESC/POS jobs decoded back: the exact command bytes, the GS v 0 raster turned back into an
 * image whose QR code zbarimg reads, Vietnamese text drawn with no missing glyph, and the
 * DLE EOT status answers. */
#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "devices/escpos.h"
#include "tests/unit/testutil.h"

/* An independent reader of what a printer would receive: ESC @, GS v 0 bands, ESC d, GS V. */
struct decoded {
	int width, height, stride;
	unsigned char *bits;
	int feed, cut, bands;
};

static void decode(const unsigned char *p, size_t len, struct decoded *d)
{
	size_t i = 0;
	memset(d, 0, sizeof(*d));
	assert_true(len > 2 && p[0] == 0x1b && p[1] == '@');
	i = 2;
	while (i + 8 <= len && p[i] == 0x1d && p[i + 1] == 'v' && p[i + 2] == '0') {
		assert_int_equal(p[i + 3], 0);
		int x = p[i + 4] | p[i + 5] << 8, y = p[i + 6] | p[i + 7] << 8;
		assert_true(y >= 1 && y <= ESCPOS_BAND);
		if (d->stride == 0)
			d->stride = x;
		assert_int_equal(x, d->stride);
		i += 8;
		assert_true(i + (size_t)x * (size_t)y <= len);
		d->bits = realloc(d->bits, (size_t)x * (size_t)(d->height + y));
		memcpy(d->bits + (size_t)x * (size_t)d->height, p + i, (size_t)x * (size_t)y);
		d->height += y;
		d->bands++;
		i += (size_t)x * (size_t)y;
	}
	d->width = d->stride * 8;
	assert_true(i + 3 <= len && p[i] == 0x1b && p[i + 1] == 'd');
	d->feed = p[i + 2];
	i += 3;
	if (i + 4 <= len && p[i] == 0x1d && p[i + 1] == 'V' && p[i + 2] == 66 && p[i + 3] == 0) {
		d->cut = 1;
		i += 4;
	}
	assert_int_equal(i, len); /* nothing else */
}

/* The decoded raster as a PNG (black on white, 2x so that zbar sees clean modules). */
static void write_png(const struct decoded *d, const char *path)
{
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, d->width, d->height);
	unsigned char *px = cairo_image_surface_get_data(s);
	int st = cairo_image_surface_get_stride(s);
	cairo_surface_flush(s);
	for (int y = 0; y < d->height; y++)
		for (int x = 0; x < d->width; x++) {
			int black = d->bits[y * d->stride + x / 8] & (0x80 >> (x % 8));
			uint32_t v = black ? 0x000000 : 0xffffff;
			memcpy(px + y * st + x * 4, &v, 4);
		}
	cairo_surface_mark_dirty(s);
	assert_int_equal(cairo_surface_write_to_png(s, path), CAIRO_STATUS_SUCCESS);
	cairo_surface_destroy(s);
}

/* What zbarimg reads in the PNG ("" when nothing). */
static void zbar(const char *png, char *out, size_t size)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "zbarimg --raw -q '%s' 2>/dev/null", png);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	pclose(p);
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
}

static int have_zbarimg(void)
{
	FILE *p = popen("command -v zbarimg", "r");
	char buf[256] = "";
	size_t n = p ? fread(buf, 1, sizeof(buf) - 1, p) : 0;
	if (p)
		pclose(p);
	return n > 0;
}

static int64_t ink(const struct decoded *d, int y0, int y1)
{
	int64_t n = 0;
	for (int y = y0; y < y1 && y < d->height; y++)
		for (int x = 0; x < d->stride; x++)
			n += __builtin_popcount(d->bits[y * d->stride + x]);
	return n;
}

static void ticket_prints_as_raster_with_a_readable_qr(void **state)
{
	const struct escpos_ticket t = { .commune = "UBND Xã Hòa Bình",
					 .code = "A007",
					 .service = "Hộ tịch",
					 .ahead = 3,
					 .when = "09:15 14/03/2025",
					 .qr = "http://192.168.1.10/q/2025-03-14/A007" };
	for (int w = 0; w < 2; w++) {
		int width = w ? ESCPOS_WIDTH_80MM : ESCPOS_WIDTH_58MM;
		unsigned char *job = NULL;
		size_t len = 0;
		struct decoded d;
		char dir[PATH_MAX], png[PATH_MAX + 16], got[512];
		assert_int_equal(escpos_ticket_job(&t, width, &job, &len), 0);
		decode(job, len, &d);
		assert_int_equal(d.width, width);
		assert_true(d.height > 300 && d.height < ESCPOS_MAX_HEIGHT);
		assert_int_equal(d.bands, (d.height + ESCPOS_BAND - 1) / ESCPOS_BAND);
		assert_int_equal(d.feed, 3);
		assert_int_equal(d.cut, 1);
		assert_true(ink(&d, 0, d.height) > 2000); /* something is printed */
		tu_tmpdir(dir);
		snprintf(png, sizeof(png), "%s/ticket.png", dir);
		write_png(&d, png);
		if (have_zbarimg()) {
			zbar(png, got, sizeof(got));
			assert_string_equal(got, t.qr);
		}
		tu_rmrf(dir);
		free(d.bits);
		free(job);
	}
	if (!have_zbarimg())
		skip();
}

static void receipt_prints_with_the_dossier_qr(void **state)
{
	const char *lines[] = { "Mã hồ sơ: 000.00.18.H26-250314-0007", "Thủ tục: Đăng ký khai sinh",
				"Người nộp: Nguyễn Văn Ấn", "Ngày nhận: 14/03/2025 09:20",
				"Hẹn trả kết quả: 17/03/2025 (3 ngày làm việc)" };
	const struct escpos_receipt r = { .commune = "UBND Xã Hòa Bình",
					  .title = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
					  .lines = lines,
					  .nlines = 5,
					  .qr = "000.00.18.H26-250314-0007",
					  .footer = "Tra cứu hồ sơ bằng mã QR" };
	unsigned char *job = NULL;
	size_t len = 0;
	struct decoded d;
	char dir[PATH_MAX], png[PATH_MAX + 16], got[512];
	assert_int_equal(escpos_receipt_job(&r, ESCPOS_WIDTH_80MM, &job, &len), 0);
	decode(job, len, &d);
	assert_int_equal(d.width, ESCPOS_WIDTH_80MM);
	tu_tmpdir(dir);
	snprintf(png, sizeof(png), "%s/receipt.png", dir);
	write_png(&d, png);
	if (have_zbarimg()) {
		zbar(png, got, sizeof(got));
		assert_string_equal(got, r.qr);
	}
	tu_rmrf(dir);
	free(d.bits);
	free(job);
}

static void job_bytes_are_exact_for_a_known_image(void **state)
{
	/* 16 x 3 dots: a diagonal pattern. */
	unsigned char bits[] = { 0x80, 0x01, 0x40, 0x02, 0xff, 0xff };
	struct escpos_image img = { .width = 16, .height = 3, .stride = 2, .bits = bits };
	unsigned char *job = NULL;
	size_t len = 0;
	const unsigned char want[] = { 0x1b, '@',  0x1d, 'v',  '0',  0,   2, 0,    3,   0,  0x80, 0x01,
				       0x40, 0x02, 0xff, 0xff, 0x1b, 'd', 5, 0x1d, 'V', 66, 0 };
	assert_int_equal(escpos_job(&img, 5, 1, &job, &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(job, want, sizeof(want));
	free(job);
	/* Tall images are cut into bands a small printer buffer can take. */
	unsigned char *tall = calloc(2 * 600, 1);
	struct escpos_image t = { .width = 16, .height = 600, .stride = 2, .bits = tall };
	assert_int_equal(escpos_job(&t, 0, 0, &job, &len), 0);
	struct decoded d;
	decode(job, len, &d);
	assert_int_equal(d.bands, 3);
	assert_int_equal(d.height, 600);
	assert_int_equal(d.cut, 0);
	free(d.bits);
	free(job);
	free(tall);
}

/* Pango with the system font finds a glyph for every Vietnamese letter (no empty boxes). */
static void vietnamese_text_has_every_glyph(void **state)
{
	const char *text = "ĂÂĐÊÔƠƯăâđêôơư Ấ Ầ Ẩ Ẫ Ậ ế ề ể ễ ệ ố ồ ổ ỗ ộ ớ ờ ở ỡ ợ ứ ừ ử ữ ự ý ỳ ỷ ỹ ỵ "
			   "Nguyễn Thị Hường, Hộ tịch, Chứng thực, Đất đai";
	cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_A8, 10, 10);
	cairo_t *cr = cairo_create(s);
	PangoLayout *l = pango_cairo_create_layout(cr);
	PangoFontDescription *fd = pango_font_description_from_string("DejaVu Sans 20px");
	pango_layout_set_font_description(l, fd);
	pango_layout_set_text(l, text, -1);
	assert_int_equal(pango_layout_get_unknown_glyphs_count(l), 0);
	pango_font_description_free(fd);
	g_object_unref(l);
	cairo_destroy(cr);
	cairo_surface_destroy(s);
	/* ... and the diacritics reach the paper: "Hộ tịch" has more ink than "Ho tich". */
	struct escpos_image a = { 0 }, b = { 0 };
	const struct escpos_block ba = { ESCPOS_TEXT, "Hộ tịch", 40, 1, 1 },
				  bb = { ESCPOS_TEXT, "Ho tich", 40, 1, 1 };
	assert_int_equal(escpos_layout(&ba, 1, ESCPOS_WIDTH_58MM, &a), 0);
	assert_int_equal(escpos_layout(&bb, 1, ESCPOS_WIDTH_58MM, &b), 0);
	struct decoded da = { .width = a.width, .height = a.height, .stride = a.stride, .bits = a.bits };
	struct decoded db = { .width = b.width, .height = b.height, .stride = b.stride, .bits = b.bits };
	assert_true(ink(&da, 0, da.height) > ink(&db, 0, db.height) + 20);
	escpos_image_free(&a);
	escpos_image_free(&b);
}

static void bad_layouts_are_refused(void **state)
{
	struct escpos_image img = { 0 };
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const struct escpos_block qr = { ESCPOS_QR, big, 4, 0, 1 };
	assert_int_equal(escpos_layout(&qr, 1, ESCPOS_WIDTH_58MM, &img), -EMSGSIZE); /* QR wider than paper */
	const struct escpos_block zero = { ESCPOS_TEXT, "x", 0, 0, 0 };
	assert_int_equal(escpos_layout(&zero, 1, ESCPOS_WIDTH_58MM, &img), -EINVAL);
	const struct escpos_block tall = { ESCPOS_GAP, NULL, 400, 0, 0 };
	struct escpos_block many[11];
	for (int i = 0; i < 11; i++)
		many[i] = tall;
	assert_int_equal(escpos_layout(many, 11, ESCPOS_WIDTH_58MM, &img), -EMSGSIZE);
}

static void status_answers_are_understood(void **state)
{
	unsigned char q[3];
	struct escpos_status st = { 0 };
	escpos_status_query(ESCPOS_Q_PAPER, q);
	assert_memory_equal(q, "\x10\x04\x04", 3);
	assert_string_equal(escpos_status_text(&st), "unknown");
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PRINTER, 0x12, &st), 0);
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PAPER, 0x12, &st), 0);
	assert_string_equal(escpos_status_text(&st), "ready");
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PAPER, 0x12 | 0x0c, &st), 0);
	assert_string_equal(escpos_status_text(&st), "paper low");
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PAPER, 0x12 | 0x6c, &st), 0);
	assert_string_equal(escpos_status_text(&st), "paper out");
	struct escpos_status s2 = { 0 };
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PRINTER, 0x12 | 0x08, &s2), 0);
	assert_string_equal(escpos_status_text(&s2), "offline");
	assert_int_equal(escpos_status_parse(ESCPOS_Q_OFFLINE, 0x12 | 0x04, &s2), 0);
	assert_string_equal(escpos_status_text(&s2), "cover open");
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PRINTER, 0xff, &s2), -EPROTO); /* not a status byte */
	assert_int_equal(escpos_status_parse(ESCPOS_Q_PRINTER, 'A', &s2), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(job_bytes_are_exact_for_a_known_image),
		cmocka_unit_test(ticket_prints_as_raster_with_a_readable_qr),
		cmocka_unit_test(receipt_prints_with_the_dossier_qr),
		cmocka_unit_test(vietnamese_text_has_every_glyph),
		cmocka_unit_test(bad_layouts_are_refused),
		cmocka_unit_test(status_answers_are_understood),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
