/* Audit chain on a real SQLite file: a sound chain verifies; any edited, inserted or
 * deleted row is found and named. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "store/audit.h"
#include "store/db.h"
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
	for (int i = 0; i < 10; i++) {
		char subject[16];
		snprintf(subject, sizeof(subject), "doc-%d", i);
		assert_int_equal(audit_record(f->db, "tester", "document.intake", subject, "{\"n\":1}"), 0);
	}
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

static void sql(struct db *db, const char *s)
{
	char *err = NULL;
	int rc = sqlite3_exec(db_handle(db), s, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", s, err);
}

static int64_t verify(struct db *db, char *why)
{
	int64_t rows = 0, bad = 0;
	int r = audit_verify(db, &rows, &bad, why, 256);
	if (r == 0)
		return 0;
	assert_int_equal(r, -EBADMSG);
	return bad;
}

static void sound_chain_verifies(void **state)
{
	struct fx *f = *state;
	int64_t rows = 0, bad = 0;
	char why[256];
	assert_int_equal(audit_verify(f->db, &rows, &bad, why, sizeof(why)), 0);
	assert_int_equal(rows, 10);
}

static void rows_cannot_be_changed_through_sql_while_triggers_stand(void **state)
{
	struct fx *f = *state;
	assert_int_not_equal(
	    sqlite3_exec(db_handle(f->db), "UPDATE audit SET actor = 'x' WHERE seq = 3", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_not_equal(
	    sqlite3_exec(db_handle(f->db), "DELETE FROM audit WHERE seq = 3", NULL, NULL, NULL), SQLITE_OK);
}

static void edited_row_is_named(void **state)
{
	struct fx *f = *state;
	char why[256];
	sql(f->db, "DROP TRIGGER audit_append_only_u; UPDATE audit SET subject = 'doc-x' WHERE seq = 4");
	assert_int_equal(verify(f->db, why), 4);
	assert_non_null(strstr(why, "row 4"));
}

static void deleted_row_is_found_at_the_gap(void **state)
{
	struct fx *f = *state;
	char why[256];
	sql(f->db, "DROP TRIGGER audit_append_only_d; DELETE FROM audit WHERE seq = 6");
	assert_int_equal(verify(f->db, why), 7);
	assert_non_null(strstr(why, "deleted"));
}

static void deleted_and_renumbered_rows_break_the_link(void **state)
{
	struct fx *f = *state;
	char why[256];
	sql(f->db,
	    "DROP TRIGGER audit_append_only_d; DROP TRIGGER audit_append_only_u;"
	    "DELETE FROM audit WHERE seq = 6; UPDATE audit SET seq = seq - 1 WHERE seq > 6");
	assert_int_equal(verify(f->db, why), 6);
}

static void forged_row_with_recomputed_hash_breaks_the_next_link(void **state)
{
	struct fx *f = *state;
	char why[256];
	/* Replace row 5 by a copy of row 2's content under seq 5: its hash no longer matches. */
	sql(f->db,
	    "DROP TRIGGER audit_append_only_u;"
	    "UPDATE audit SET hash = (SELECT hash FROM audit WHERE seq = 2) WHERE seq = 5");
	assert_int_equal(verify(f->db, why), 5);
}

static void appending_after_verify_keeps_the_chain(void **state)
{
	struct fx *f = *state;
	char why[256];
	assert_int_equal(audit_record(f->db, "tester", "login", "staff-1", ""), 0);
	assert_int_equal(verify(f->db, why), 0);
	assert_int_equal(audit_record(f->db, "t", "a", "s", ""), 0);
	char big[AUDIT_DETAIL_MAX + 10];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(audit_record(f->db, "t", "a", "s", big), -EMSGSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sound_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(rows_cannot_be_changed_through_sql_while_triggers_stand,
						setup, teardown),
		cmocka_unit_test_setup_teardown(edited_row_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_row_is_found_at_the_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_and_renumbered_rows_break_the_link, setup, teardown),
		cmocka_unit_test_setup_teardown(forged_row_with_recomputed_hash_breaks_the_next_link, setup,
						teardown),
		cmocka_unit_test_setup_teardown(appending_after_verify_keeps_the_chain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
