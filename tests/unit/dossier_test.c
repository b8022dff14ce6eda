/* Dossiers on a real store: codes <agency>-YYMMDD-XXXX unique and gapless under 8 threads
 * accepting at once, continuing after a restart and restarting each day; completeness
 * (required, optional and ID-card-covered items); scans checked against their recognised
 * type; acceptance queues the LGSP submission and audits it in the same commit; the city's
 * newest status wins; overdue and near-due flags. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>

#include "gateway/config.h"
#include "gateway/dossier/dossier.h"
#include "gateway/dossier/process.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/docs.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[PATH_MAX], key[PATH_MAX + 16];
	struct store *s;
	struct db *db;
	struct config cfg;
	struct catalog *cat;
	struct calendar cal;
};

static void reopen(struct fx *f)
{
	struct store_options o = { .state_dir = f->dir, .key_file = f->key, .busy_timeout_ms = 20000 };
	assert_int_equal(store_open(&o, &f->s), 0);
	assert_int_equal(store_connect(f->s, &f->db), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[PATH_MAX], err[256];
	const char *top = getenv("MOTCUA_TOP");
	tu_tmpdir(f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	reopen(f);
	config_defaults(&f->cfg);
	snprintf(f->cfg.agency_code, sizeof(f->cfg.agency_code), "000.00.18.H26");
	snprintf(p, sizeof(p), "%s/data/procedures.json", top ? top : ".");
	assert_int_equal(catalog_load(p, &f->cat, err), 0);
	snprintf(p, sizeof(p), "%s/data/calendar.json", top ? top : ".");
	assert_int_equal(calendar_load(p, &f->cal, err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	store_close(f->s);
	catalog_free(f->cat);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* UTC seconds of a Vietnamese local time. */
static int64_t vn(int y, int m, int d, int hh, int mm)
{
	return (int64_t)calendar_day(y, m, d) * 86400 + (hh - 7) * 3600 + mm * 60;
}

static int64_t open_typed(struct fx *f, struct db *db, const char *proc)
{
	char why[DOSSIER_WHY_MAX];
	int64_t id = 0;
	struct dossier_applicant a = { .name = "Nguyễn Văn A", .id_number = "001099012345" };
	int r = dossier_open(db, store_blobs(f->s), f->cat, "test", proc, &a, "counter", &id, why);
	if (r < 0)
		fail_msg("open: %s", why);
	return id;
}

/* A stored document, recognised as type (NULL: not recognised). */
static void add_doc(struct fx *f, const char *key, const char *type, char id_out[DOC_ID_LEN])
{
	struct doc_meta m;
	memset(&m, 0, sizeof(m));
	snprintf(m.sha256, sizeof(m.sha256), "%064d", 7);
	m.size = 10;
	snprintf(m.content_type, sizeof(m.content_type), "image/png");
	snprintf(m.kind, sizeof(m.kind), "scan");
	snprintf(m.source, sizeof(m.source), "test");
	snprintf(m.intake_key, sizeof(m.intake_key), "%s", key);
	assert_true(docs_intake(f->db, store_manifest_dir(f->s), "test", &m) >= 0);
	snprintf(id_out, DOC_ID_LEN, "%s", m.id);
	if (type) {
		char sql[512];
		snprintf(
		    sql, sizeof(sql),
		    "INSERT INTO recognitions(doc_id, state, type, confidence, needs_review, updated_at) "
		    "VALUES('%s', 'done', '%s', 0.9, 0, 'now')",
		    m.id, type);
		assert_int_equal(sqlite3_exec(db_handle(f->db), sql, NULL, NULL, NULL), SQLITE_OK);
	}
}

struct worker {
	struct fx *f;
	int n;
	int64_t t;
	char codes[32][DOSSIER_CODE_MAX];
};

static void *accept_many(void *arg)
{
	struct worker *w = arg;
	struct db *db;
	char why[DOSSIER_WHY_MAX];
	struct dossier_row d;
	if (store_connect(w->f->s, &db) < 0)
		return NULL;
	for (int i = 0; i < w->n; i++) {
		int64_t id = open_typed(w->f, db, "HT-TL");
		if (dossier_accept(db, w->f->cat, &w->f->cal, &w->f->cfg, "test", id, "papers seen", w->t, &d,
				   why) < 0) {
			fprintf(stderr, "accept: %s\n", why);
			break;
		}
		snprintf(w->codes[i], DOSSIER_CODE_MAX, "%s", d.code);
	}
	db_close(db);
	return NULL;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void codes_are_unique_and_gapless_under_concurrency_and_across_restart(void **state)
{
	struct fx *f = *state;
	enum { NT = 8, PER = 25 };
	static struct worker w[NT];
	static char all[NT * PER][DOSSIER_CODE_MAX];
	pthread_t th[NT];
	int64_t t = vn(2026, 3, 12, 9, 30);
	for (int i = 0; i < NT; i++) {
		w[i] = (struct worker){ .f = f, .n = PER, .t = t };
		pthread_create(&th[i], NULL, accept_many, &w[i]);
	}
	for (int i = 0; i < NT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NT; i++)
		for (int k = 0; k < PER; k++)
			memcpy(all[i * PER + k], w[i].codes[k], DOSSIER_CODE_MAX);
	qsort(all, NT * PER, DOSSIER_CODE_MAX, cmpstr);
	for (int i = 0; i < NT * PER; i++) {
		char want[DOSSIER_CODE_MAX];
		snprintf(want, sizeof(want), "000.00.18.H26-260312-%04d", i + 1);
		assert_string_equal(all[i], want);
	}
	/* A restart continues the day's sequence. */
	db_close(f->db);
	store_close(f->s);
	reopen(f);
	char why[DOSSIER_WHY_MAX];
	struct dossier_row d;
	int64_t id = open_typed(f, f->db, "HT-TL");
	assert_int_equal(
	    dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "test", id, "papers seen", t, &d, why), 0);
	assert_string_equal(d.code, "000.00.18.H26-260312-0201");
	/* The next day starts again at 0001; 23:30 local is still the 12th... */
	id = open_typed(f, f->db, "HT-TL");
	assert_int_equal(dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "test", id, "papers seen",
					vn(2026, 3, 12, 23, 30), &d, why),
			 0);
	assert_string_equal(d.code, "000.00.18.H26-260312-0202");
	/* ...and 00:10 local on the 13th (17:10 UTC on the 12th) is the 13th. */
	id = open_typed(f, f->db, "HT-TL");
	assert_int_equal(dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "test", id, "papers seen",
					vn(2026, 3, 13, 0, 10), &d, why),
			 0);
	assert_string_equal(d.code, "000.00.18.H26-260313-0001");
	int64_t rows = 0, bad = 0;
	char bwhy[128];
	assert_int_equal(audit_verify(f->db, &rows, &bad, bwhy, sizeof(bwhy)), 0);
}

static void completeness_counts_required_items_only_and_the_id_card(void **state)
{
	struct fx *f = *state;
	char why[DOSSIER_WHY_MAX], doc[DOC_ID_LEN];
	const char *missing[DOSSIER_MAX_ITEMS];
	struct dossier_row d;
	const struct catalog_proc *p = catalog_find(f->cat, "HT-KH");
	int64_t id = open_typed(f, f->db, "HT-KH");
	assert_int_equal(dossiers_get(f->db, id, &d), 0);
	/* Typed applicant: the form, the ID paper and the partner's ID; the marriage-status
	 * paper is optional. */
	assert_int_equal(dossier_missing(f->db, p, &d, missing, DOSSIER_MAX_ITEMS), 3);
	assert_string_equal(missing[0], "to_khai");
	assert_string_equal(missing[1], "giay_to_tuy_than");
	assert_string_equal(missing[2], "giay_to_ben_kia");
	/* Incomplete without a note: refused, naming what is missing. */
	assert_int_equal(
	    dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "test", id, "", vn(2026, 3, 12, 9, 0), &d, why),
	    -EINVAL);
	assert_non_null(strstr(why, "to_khai giay_to_tuy_than giay_to_ben_kia"));
	add_doc(f, "k-form", NULL, doc);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "to_khai", doc, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "to_khai", doc, why), 1);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "no_such_item", doc, why), -EINVAL);
	assert_non_null(strstr(why, "no item"));
	assert_int_equal(dossiers_get(f->db, id, &d), 0);
	assert_int_equal(dossier_missing(f->db, p, &d, missing, DOSSIER_MAX_ITEMS), 2);
	/* An applicant from a recognised ID card: the ID item is covered. */
	d.applicant_doc[0] = 'x';
	assert_int_equal(dossier_missing(f->db, p, &d, missing, DOSSIER_MAX_ITEMS), 1);
	assert_string_equal(missing[0], "giay_to_ben_kia");
	/* Accepted by staff with a note while incomplete. */
	assert_int_equal(dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "staff1", id,
					"partner's ID shown on paper", vn(2026, 3, 12, 9, 0), &d, why),
			 0);
	assert_string_equal(d.note, "partner's ID shown on paper");
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "giay_to_ben_kia", doc, why), -EBUSY);
}

static void scans_are_checked_against_their_recognised_type(void **state)
{
	struct fx *f = *state;
	char why[DOSSIER_WHY_MAX], marriage[DOC_ID_LEN], birth[DOC_ID_LEN], unknown[DOC_ID_LEN];
	add_doc(f, "k-marriage", "marriage_certificate", marriage);
	add_doc(f, "k-birth", "birth_certificate", birth);
	add_doc(f, "k-other", "other", unknown);
	int64_t id = open_typed(f, f->db, "HT-KS");
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "giay_chung_sinh", marriage, why),
			 -EINVAL);
	assert_non_null(strstr(why, "recognised as 'marriage_certificate'"));
	assert_non_null(strstr(why, "birth_certificate"));
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "giay_chung_sinh", birth, why), 0);
	/* A scan the recogniser could not tell is left to staff; an item with no types takes any. */
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "to_khai", unknown, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "to_khai", marriage, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "giay_chung_sinh",
					"0123456789abcdef0123456789abcdef", why),
			 -ENOENT);
}

static void acceptance_queues_the_submission_with_due_day_and_status_flows_back(void **state)
{
	struct fx *f = *state;
	char why[DOSSIER_WHY_MAX], doc[DOC_ID_LEN], body[DOSSIER_BODY_MAX + 1];
	struct dossier_row d;
	struct outbox_item it;
	add_doc(f, "k-ct01", NULL, doc);
	int64_t id = open_typed(f, f->db, "CTR-TAM"); /* 3 working days */
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "ct01", doc, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "chung_minh_cho_o", doc, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "giay_to_tuy_than", doc, why), 0);
	/* Thursday 12/3/2026 at 16:00: after the cut-off, counts from Friday; due Wednesday 18/3. */
	assert_int_equal(dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "staff1", id, "",
					vn(2026, 3, 12, 16, 0), &d, why),
			 0);
	assert_string_equal(d.due_day, "2026-03-18");
	assert_int_equal(dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "staff1", id, "",
					vn(2026, 3, 12, 16, 0), &d, why),
			 -EBUSY);
	assert_int_equal(outbox_get(f->db, d.outbox_id, &it), 0);
	assert_string_equal(it.stream, "dossiers");
	assert_int_equal(it.priority, OUTBOX_PRIO_DOSSIER);
	assert_string_equal(it.kind, "dossier");
	assert_string_equal(it.ref, d.code);
	assert_int_equal(outbox_body_get(f->db, it.id, body, sizeof(body)), 0);
	json_t *j = json_loads(body, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "dossier_code")), d.code);
	assert_string_equal(json_string_value(json_object_get(j, "procedure_code")), "CTR-TAM");
	assert_string_equal(json_string_value(json_object_get(j, "received_at")), "2026-03-12T09:00:00Z");
	assert_null(strstr(body, "001099012345")); /* only the number's hash travels */
	json_decref(j);
	/* Flags: near due on Tuesday 17/3, overdue on Thursday 19/3, none once the city is done. */
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 13), 1), "");
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 17), 1), "near_due");
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 19), 1), "overdue");
	int64_t acc = 0, late = 0;
	assert_int_equal(dossiers_late_counts(f->db, "2026-03-19", &acc, &late), 0);
	assert_int_equal(late, 1);
	assert_int_equal(
	    dossiers_set_status(f->db, "uplink", d.code, "approved", "Đã xử lý xong", "2026-03-17T02:00:00Z"),
	    0);
	assert_int_equal(
	    dossiers_set_status(f->db, "uplink", d.code, "processing", "old", "2026-03-16T02:00:00Z"), 1);
	assert_int_equal(dossiers_get(f->db, id, &d), 0);
	assert_string_equal(d.city_status, "approved");
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 19), 1), "");
	assert_int_equal(dossiers_late_counts(f->db, "2026-03-19", &acc, &late), 0);
	assert_int_equal(late, 0);
	assert_int_equal(dossiers_set_status(f->db, "uplink", "nope", "approved", "", "x"), -ENOENT);
}

/* Steps: order enforced; more papers asked Wednesday 11/3 and brought Monday 16/3 move the due
 * day (Thursday 12/3) by the 3 working days between (Thu, Fri, Mon); while the papers are
 * awaited the dossier is neither late nor flagged; finished after its new due day, it is late. */
static void steps_follow_their_order_and_more_papers_stop_the_clock(void **state)
{
	struct fx *f = *state;
	char why[DOSSIER_WHY_MAX], doc[DOC_ID_LEN], code[DOSSIER_CODE_MAX];
	struct dossier_row d;
	add_doc(f, "k-st", NULL, doc);
	int64_t id = open_typed(f, f->db, "CTR-TAM");
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "ct01", doc, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "chung_minh_cho_o", doc, why), 0);
	assert_int_equal(dossier_attach(f->db, f->cat, "test", id, "giay_to_tuy_than", doc, why), 0);
	/* Monday 9/3 09:00, 3 working days: due Thursday 12/3. */
	assert_int_equal(
	    dossier_accept(f->db, f->cat, &f->cal, &f->cfg, "staff1", id, "", vn(2026, 3, 9, 9, 0), &d, why),
	    0);
	assert_string_equal(d.due_day, "2026-03-12");
	assert_string_equal(d.step, "received");
	assert_int_equal(
	    dossier_step(f->db, &f->cal, &f->cfg, "lan", id, "ready", "", vn(2026, 3, 9, 10, 0), why),
	    -EBUSY);
	assert_int_equal(
	    dossier_step(f->db, &f->cal, &f->cfg, "lan", id, "supplement", "", vn(2026, 3, 9, 10, 0), why),
	    -EINVAL);
	assert_int_equal(dossier_step(f->db, &f->cal, &f->cfg, "lan", id, "supplement", "CT01 ký lại",
				      vn(2026, 3, 11, 10, 0), why),
			 0);
	assert_int_equal(dossiers_get(f->db, id, &d), 0);
	assert_string_equal(d.pause_day, "2026-03-11");
	/* Friday 13/3: past the first due day, but the clock stands. */
	assert_int_equal(dossier_effective_due(&f->cal, &d, calendar_day(2026, 3, 13)),
			 calendar_day(2026, 3, 16));
	assert_false(dossier_is_late(&f->cal, &d, calendar_day(2026, 3, 13)));
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 13), 1), "");
	assert_int_equal(
	    dossier_step(f->db, &f->cal, &f->cfg, "lan", id, "processing", "", vn(2026, 3, 16, 8, 0), why),
	    0);
	assert_int_equal(dossiers_get(f->db, id, &d), 0);
	assert_string_equal(d.due_day, "2026-03-17");
	assert_string_equal(d.first_due_day, "2026-03-12");
	assert_int_equal(d.paused_days, 3);
	assert_string_equal(d.pause_day, "");
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 16), 1), "near_due");
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 17), 1), "due_today");
	assert_int_equal(
	    dossier_step(f->db, &f->cal, &f->cfg, "lan", id, "ready", "", vn(2026, 3, 18, 9, 0), why), 0);
	assert_int_equal(dossiers_get(f->db, id, &d), 0);
	assert_true(dossier_is_late(&f->cal, &d, calendar_day(2026, 3, 20)));
	assert_string_equal(dossier_flag(&f->cal, &d, calendar_day(2026, 3, 20), 1), "");
	assert_int_equal(
	    dossier_step(f->db, &f->cal, &f->cfg, "lan", id, "processing", "", vn(2026, 3, 18, 10, 0), why),
	    -EBUSY);
	/* The receipt's code typed with spaces, or read from its QR code. */
	assert_string_equal(dossier_code_from_scan(" 000.00.18.h26-260309-0001 ", code),
			    "000.00.18.H26-260309-0001");
	assert_string_equal(
	    dossier_code_from_scan("https://x.gov.vn/track?code=000.00.18.H26-260309-0001&a=1", code),
	    "000.00.18.H26-260309-0001");
	assert_true(dossier_step_allowed("signing", "processing"));
	assert_false(dossier_step_allowed("returned", "processing"));
	assert_false(dossier_step_allowed("processing", "process"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    codes_are_unique_and_gapless_under_concurrency_and_across_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(completeness_counts_required_items_only_and_the_id_card,
						setup, teardown),
		cmocka_unit_test_setup_teardown(scans_are_checked_against_their_recognised_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
		    acceptance_queues_the_submission_with_due_day_and_status_flows_back, setup, teardown),
		cmocka_unit_test_setup_teardown(steps_follow_their_order_and_more_papers_stop_the_clock,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
