/* The dossier receipt: an accepted dossier's code, procedure, dates and fee reach the box's
 * receipt printer with a QR of the tracking address; printing off or no printer is reported,
 * and the ESC/POS job for it is a raster print (escpos_test decodes its QR). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/escpos.h"
#include "gateway/config.h"
#include "gateway/dossier/dossier.h"
#include "gateway/queue_hooks.h"

struct seen {
	int calls;
	char lines[QUEUE_RECEIPT_LINES][QUEUE_RECEIPT_TEXT];
	int nlines;
	char qr[512];
};

static int fake_printer(void *ctx, const struct config *cfg, const struct queue_receipt *r, char *why,
			size_t whylen)
{
	struct seen *s = ctx;
	s->calls++;
	s->nlines = r->nlines;
	for (int i = 0; i < r->nlines; i++)
		snprintf(s->lines[i], sizeof(s->lines[i]), "%s", r->lines[i]);
	snprintf(s->qr, sizeof(s->qr), "%s", r->qr);
	return 0;
}

static void fixture(struct config *cfg, struct catalog_proc *p, struct dossier_row *d)
{
	config_defaults(cfg);
	snprintf(cfg->dossier_tracking_url, sizeof(cfg->dossier_tracking_url), "http://box.lan/track?code=");
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "Đăng ký khai sinh");
	snprintf(p->fee_text, sizeof(p->fee_text), "Miễn lệ phí");
	memset(d, 0, sizeof(*d));
	snprintf(d->code, sizeof(d->code), "000.00.00.H00-261123-0007");
	snprintf(d->procedure, sizeof(d->procedure), "HT-KS");
	snprintf(d->accepted_at, sizeof(d->accepted_at), "2026-11-23T09:15:00Z");
	snprintf(d->due_day, sizeof(d->due_day), "2026-11-24");
}

static void accepted_dossier_reaches_the_receipt_printer(void **state)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct catalog_proc *p = malloc(sizeof(*p));
	struct dossier_row d;
	struct seen seen = { 0 };
	char why[256] = "";
	fixture(cfg, p, &d);
	queue_hooks_set_receipt_printer(fake_printer, &seen);
	assert_int_equal(dossier_print_receipt(cfg, p, &d, why, sizeof(why)), 0);
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.lines[0], "Mã hồ sơ: 000.00.00.H00-261123-0007");
	assert_string_equal(seen.lines[1], "Thủ tục: Đăng ký khai sinh");
	assert_string_equal(seen.lines[2], "Ngày nhận: 2026-11-23");
	assert_string_equal(seen.lines[3], "Hẹn trả: 2026-11-24");
	assert_string_equal(seen.lines[4], "Lệ phí: Miễn lệ phí");
	assert_string_equal(seen.qr, "http://box.lan/track?code=000.00.00.H00-261123-0007");
	queue_hooks_set_receipt_printer(NULL, NULL);
	free(cfg);
	free(p);
}

static void printing_off_or_no_printer_is_reported(void **state)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct catalog_proc *p = malloc(sizeof(*p));
	struct dossier_row d;
	struct seen seen = { 0 };
	char why[256] = "";
	fixture(cfg, p, &d);
	assert_int_equal(dossier_print_receipt(cfg, p, &d, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "no receipt printer"));
	queue_hooks_set_receipt_printer(fake_printer, &seen);
	snprintf(cfg->ticket_printer, sizeof(cfg->ticket_printer), "none");
	assert_int_equal(dossier_print_receipt(cfg, p, &d, why, sizeof(why)), -ENODEV);
	assert_non_null(strstr(why, "ticket_printer = none"));
	assert_int_equal(seen.calls, 0);
	queue_hooks_set_receipt_printer(NULL, NULL);
	free(cfg);
	free(p);
}

static void receipt_job_is_a_raster_print_ending_in_a_cut(void **state)
{
	struct config *cfg = malloc(sizeof(*cfg));
	struct catalog_proc *p = malloc(sizeof(*p));
	struct dossier_row d;
	struct queue_receipt r;
	char buf[QUEUE_RECEIPT_LINES][QUEUE_RECEIPT_TEXT], qr[512];
	unsigned char *job = NULL;
	size_t len = 0;
	fixture(cfg, p, &d);
	dossier_receipt(cfg, p, &d, &r, buf, qr, sizeof(qr));
	const struct escpos_receipt er = { cfg->commune_name, r.title, r.lines, r.nlines, r.qr, "" };
	assert_int_equal(escpos_receipt_job(&er, ESCPOS_WIDTH_58MM, &job, &len), 0);
	/* ESC @ first, a GS v 0 raster band, a cut at the end */
	assert_true(len > 1000);
	assert_memory_equal(job, "\x1b@", 2);
	assert_non_null(memmem(job, len, "\x1dv0", 3));
	assert_non_null(memmem(job + len - 8, 8, "\x1dV", 2));
	free(job);
	free(cfg);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted_dossier_reaches_the_receipt_printer),
		cmocka_unit_test(printing_off_or_no_printer_is_reported),
		cmocka_unit_test(receipt_job_is_a_raster_print_ending_in_a_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
