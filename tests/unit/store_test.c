/* The store as a whole on real files: intake is durable and idempotent, the key is never
 * replaced over data, a broken database is quarantined and rebuilt, a newer schema is
 * refused, and the intake policy refuses what it must without storing anything. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "gateway/intake.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/docs.h"
#include "store/outbox.h"
#include "store/store.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[PATH_MAX];
	char key[PATH_MAX + 16];
	struct store *s;
	struct db *db;
};

static void open_store(struct fx *f)
{
	struct store_options o = { .state_dir = f->dir, .key_file = f->key, .busy_timeout_ms = 1000 };
	assert_int_equal(store_open(&o, &f->s), 0);
	assert_int_equal(store_connect(f->s, &f->db), 0);
}

static void close_store(struct fx *f)
{
	db_close(f->db);
	store_close(f->s);
	f->db = NULL;
	f->s = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	tu_tmpdir(f->dir);
	snprintf(f->key, sizeof(f->key), "%s/storage.key", f->dir);
	open_store(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	close_store(f);
	tu_rmrf(f->dir);
	free(f);
	return 0;
}

static int intake(struct fx *f, const char *data, size_t len, const char *key, struct doc_meta *m,
		  int64_t max, int64_t low_water)
{
	struct tu_mem src = { (const unsigned char *)data, len, 0 };
	struct intake_request req = { .declared_size = (int64_t)len,
				      .max_bytes = max,
				      .low_water_bytes = low_water,
				      .kind = "scan",
				      .source = "test",
				      .name = "a.pdf",
				      .intake_key = key,
				      .actor = "tester" };
	char why[512];
	return intake_document(f->s, f->db, &req, tu_mem_read, &src, m, why, sizeof(why));
}

static int64_t count(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	assert_int_equal(sqlite3_prepare_v2(db_handle(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void key_file_is_created_private_for_an_empty_store(void **state)
{
	struct fx *f = *state;
	struct stat st;
	assert_int_equal(stat(f->key, &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(store_startup_info(f->s)->key_created);
}

static void intake_writes_row_outbox_audit_and_manifest_once(void **state)
{
	struct fx *f = *state;
	struct doc_meta m, again;
	char path[PATH_MAX * 2];
	assert_int_equal(intake(f, "%PDF-1.4 one", 12, "kiosk-1:msg-9", &m, 1000, 0), 0);
	assert_string_equal(m.content_type, "application/pdf");
	assert_int_equal(m.seq, 1);
	snprintf(path, sizeof(path), "%s/%.2s/%s.json", store_manifest_dir(f->s), m.id, m.id);
	assert_int_equal(access(path, F_OK), 0);
	/* same key again: the same document, nothing new */
	assert_int_equal(intake(f, "%PDF-1.4 one", 12, "kiosk-1:msg-9", &again, 1000, 0), 1);
	assert_string_equal(again.id, m.id);
	/* same key, other content: refused */
	assert_int_equal(intake(f, "%PDF-1.4 two", 12, "kiosk-1:msg-9", &again, 1000, 0), -EEXIST);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM documents"), 1);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM outbox WHERE idem_key = 'kiosk-1:msg-9'"), 1);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM audit WHERE action = 'document.intake'"), 1);
}

static void policy_refusals_store_nothing(void **state)
{
	struct fx *f = *state;
	struct doc_meta m;
	int64_t blobs = -1;
	assert_int_equal(intake(f, "%PDF-1.4 too big", 16, NULL, &m, 10, 0), -EMSGSIZE);
	assert_int_equal(intake(f, "plain text file!", 16, NULL, &m, 1000, 0), -EMEDIUMTYPE);
	assert_int_equal(intake(f, "%PDF-1.4 no room", 16, NULL, &m, 1000, INT64_MAX / 2), -ENOSPC);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM documents"), 0);
	assert_int_equal(blobs_count(store_blobs(f->s), &blobs), 0);
	assert_int_equal(blobs, 0);
	/* a JPEG, PNG and TIFF header pass */
	assert_int_equal(intake(f, "\xff\xd8\xff\xe0 jpeg", 9, NULL, &m, 1000, 0), 0);
	assert_string_equal(m.content_type, "image/jpeg");
	assert_int_equal(intake(f, "\x89PNG\r\n\x1a\n....", 12, NULL, &m, 1000, 0), 0);
	assert_int_equal(intake(f, "II*\0tiff", 8, NULL, &m, 1000, 0), 0);
	assert_string_equal(m.content_type, "image/tiff");
}

static void missing_key_over_data_is_refused_and_no_new_key_made(void **state)
{
	struct fx *f = *state;
	struct doc_meta m;
	struct store *s2 = NULL;
	struct store_options o = { .state_dir = f->dir, .key_file = f->key, .busy_timeout_ms = 1000 };
	char saved[PATH_MAX * 2];
	assert_int_equal(intake(f, "%PDF-1.4 one", 12, NULL, &m, 1000, 0), 0);
	close_store(f);
	snprintf(saved, sizeof(saved), "%s.saved", f->key);
	assert_int_equal(rename(f->key, saved), 0);
	assert_int_equal(store_open(&o, &s2), -ENOKEY);
	assert_int_equal(access(f->key, F_OK), -1);
	/* another store's key is refused too */
	int fd = open(f->key, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, "abcdefghijklmnopqrstuvwxyz012345", 32), 32);
	close(fd);
	assert_int_equal(store_open(&o, &s2), -EKEYREJECTED);
	assert_int_equal(rename(saved, f->key), 0);
	open_store(f);
	assert_int_equal(blob_verify(store_blobs(f->s), m.sha256, NULL), 0);
}

static void corrupt_database_is_quarantined_and_rebuilt_from_manifests(void **state)
{
	struct fx *f = *state;
	struct doc_meta m[5], back;
	char db[PATH_MAX * 2];
	for (int i = 0; i < 5; i++) {
		char data[32];
		int n = snprintf(data, sizeof(data), "%%PDF-1.4 doc %d", i);
		assert_int_equal(intake(f, data, (size_t)n, NULL, &m[i], 1000, 0), 0);
	}
	close_store(f);
	snprintf(db, sizeof(db), "%s/motcua.db", f->dir);
	/* Overwrite the header and first pages with junk. */
	int fd = open(db, O_WRONLY);
	char junk[8192];
	memset(junk, 0xa5, sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	close(fd);
	open_store(f);
	const struct store_startup *su = store_startup_info(f->s);
	assert_true(su->rebuilt);
	assert_int_equal(su->restored, 5);
	assert_int_equal(access(su->quarantined, F_OK), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(docs_get(f->db, m[i].id, &back), 0);
		assert_string_equal(back.sha256, m[i].sha256);
		assert_int_equal(back.seq, m[i].seq);
		assert_string_equal(back.intake_key, m[i].intake_key);
	}
	/* outbox rebuilt in intake order, audit chain restarted with the rebuild noted */
	struct outbox_item it;
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_string_equal(it.ref, m[0].id);
	assert_int_equal(count(f->db, "SELECT COUNT(*) FROM audit WHERE action = 'store.rebuilt'"), 1);
	int64_t rows, bad;
	char why[256];
	assert_int_equal(audit_verify(f->db, &rows, &bad, why, sizeof(why)), 0);
}

static void newer_schema_is_refused_not_quarantined(void **state)
{
	struct fx *f = *state;
	struct store *s2 = NULL;
	struct store_options o = { .state_dir = f->dir, .key_file = f->key, .busy_timeout_ms = 1000 };
	sqlite3_stmt *st;
	char restore[64];
	/* Put back the real version afterwards, whatever the number of migrations is. */
	assert_int_equal(sqlite3_prepare_v2(db_handle(f->db), "PRAGMA user_version", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(restore, sizeof(restore), "PRAGMA user_version = %d", sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db_handle(f->db), "PRAGMA user_version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	close_store(f);
	assert_int_equal(store_open(&o, &s2), -EPROTONOSUPPORT);
	char db[PATH_MAX * 2];
	snprintf(db, sizeof(db), "%s/motcua.db", f->dir);
	assert_int_equal(access(db, F_OK), 0);
	/* restore so teardown can close */
	struct db *raw;
	assert_int_equal(sqlite3_open(db, (sqlite3 **)&raw), SQLITE_OK);
	sqlite3_exec((sqlite3 *)raw, restore, NULL, NULL, NULL);
	sqlite3_close((sqlite3 *)raw);
	open_store(f);
}

static void sending_items_are_requeued_at_open(void **state)
{
	struct fx *f = *state;
	struct doc_meta m;
	struct outbox_item it;
	assert_int_equal(intake(f, "%PDF-1.4 one", 12, NULL, &m, 1000, 0), 0);
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	close_store(f);
	open_store(f);
	assert_int_equal(store_startup_info(f->s)->requeued, 1);
	assert_int_equal(outbox_get(f->db, it.id, &it), 0);
	assert_string_equal(it.state, "queued");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_file_is_created_private_for_an_empty_store, setup,
						teardown),
		cmocka_unit_test_setup_teardown(intake_writes_row_outbox_audit_and_manifest_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(policy_refusals_store_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_key_over_data_is_refused_and_no_new_key_made, setup,
						teardown),
		cmocka_unit_test_setup_teardown(corrupt_database_is_quarantined_and_rebuilt_from_manifests,
						setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_is_refused_not_quarantined, setup, teardown),
		cmocka_unit_test_setup_teardown(sending_items_are_requeued_at_open, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
