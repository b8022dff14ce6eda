/* Outbox state machine on a real SQLite file: order by (priority, sequence), transitions
 * only from the right state, requeue at start-up, nothing dropped however often it fails. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/db.h"
#include "store/outbox.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[PATH_MAX];
	struct db *db;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[PATH_MAX + 16];
	tu_tmpdir(f->dir);
	snprintf(path, sizeof(path), "%s/t.db", f->dir);
	assert_int_equal(db_open(path, 1000, &f->db), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	db_close(f->db);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static void add(struct db *db, const char *stream, int prio, const char *key)
{
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(outbox_enqueue(db, stream, prio, "document", key, key, 100, NULL), 0);
	assert_int_equal(db_commit(db), 0);
}

static void items_come_out_by_priority_then_sequence(void **state)
{
	struct fx *f = *state;
	struct outbox_item it;
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "d1");
	add(f->db, "stats", OUTBOX_PRIO_BULK, "s1");
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "d2");
	add(f->db, "audit", OUTBOX_PRIO_URGENT, "a1");
	const char *want[] = { "a1", "d1", "d2", "s1" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(outbox_claim_next(f->db, &it), 0);
		assert_string_equal(it.idem_key, want[i]);
		assert_string_equal(it.state, "sending");
	}
	assert_int_equal(outbox_claim_next(f->db, &it), -ENOENT);
	/* per-stream sequence */
	assert_int_equal(outbox_get(f->db, 3, &it), 0);
	assert_string_equal(it.stream, "documents");
	assert_int_equal(it.seq, 2);
}

static void only_a_receipt_delivers_and_transitions_check_state(void **state)
{
	struct fx *f = *state;
	struct outbox_item it;
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "k1");
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_int_equal(outbox_progress(f->db, it.id, 50, "upload-7"), 0);
	assert_int_equal(outbox_deliver(f->db, it.id, ""), -EINVAL);
	assert_int_equal(outbox_deliver(f->db, it.id, "R-1"), 0);
	assert_int_equal(outbox_get(f->db, it.id, &it), 0);
	assert_string_equal(it.state, "delivered");
	assert_string_equal(it.receipt, "R-1");
	/* delivered is final: nothing moves it */
	assert_int_equal(outbox_deliver(f->db, it.id, "R-2"), -ESTALE);
	assert_int_equal(outbox_reject(f->db, it.id, "late"), -ESTALE);
	assert_int_equal(outbox_release(f->db, it.id), -ESTALE);
	assert_int_equal(outbox_retry(f->db, it.id), -ESTALE);
}

static void failures_never_drop_an_item(void **state)
{
	struct fx *f = *state;
	struct outbox_item it;
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "k1");
	for (int i = 0; i < 500; i++) {
		assert_int_equal(outbox_claim_next(f->db, &it), 0);
		assert_int_equal(outbox_release(f->db, it.id), 0);
	}
	assert_int_equal(outbox_get(f->db, it.id, &it), 0);
	assert_string_equal(it.state, "queued");
	assert_int_equal(it.attempts, 500);
}

static void rejected_waits_for_staff_then_retries(void **state)
{
	struct fx *f = *state;
	struct outbox_item it;
	struct outbox_stats st;
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "k1");
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_int_equal(outbox_reject(f->db, it.id, "422: missing applicant"), 0);
	assert_int_equal(outbox_claim_next(f->db, &it), -ENOENT);
	assert_int_equal(outbox_stats(f->db, &st), 0);
	assert_int_equal(st.count[3][OUTBOX_PRIO_DOCUMENT], 1);
	assert_int_equal(outbox_get(f->db, 1, &it), 0);
	assert_string_equal(it.reason, "422: missing applicant");
	assert_int_equal(outbox_retry(f->db, 1), 0);
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_int_equal(it.id, 1);
}

static void sending_items_return_to_queued_at_startup_with_offset_kept(void **state)
{
	struct fx *f = *state;
	struct outbox_item it;
	struct outbox_stats st;
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "k1");
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "k2");
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_int_equal(outbox_progress(f->db, it.id, 40, "u-1"), 0);
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_int_equal(outbox_requeue_sending(f->db), 2);
	assert_int_equal(outbox_stats(f->db, &st), 0);
	assert_int_equal(st.count[0][OUTBOX_PRIO_DOCUMENT], 2);
	assert_int_equal(st.pending_bytes, 160);
	assert_true(st.oldest_queued_at[0] != '\0');
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_int_equal(it.offset, 40);
	assert_string_equal(it.session, "u-1");
}

static void idempotency_key_is_unique(void **state)
{
	struct fx *f = *state;
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "same");
	assert_int_equal(db_begin(f->db), 0);
	assert_int_equal(outbox_enqueue(f->db, "documents", 2, "document", "x", "same", 1, NULL), -EEXIST);
	db_rollback(f->db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(items_come_out_by_priority_then_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(only_a_receipt_delivers_and_transitions_check_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(failures_never_drop_an_item, setup, teardown),
		cmocka_unit_test_setup_teardown(rejected_waits_for_staff_then_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(sending_items_return_to_queued_at_startup_with_offset_kept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(idempotency_key_is_unique, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
