/* Outbox state machine on a real SQLite file: order by (priority, sequence), transitions
 * only from the right state, requeue at start-up, nothing dropped however often it fails. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <string.h>

#include "store/db.h"
#include "store/outbox.h"
#include "tests/unit/testutil.h"

struct fx {
	char dir[PATH_MAX];
	struct db *db;
};

/* A full disk for SQLite: the default VFS, except that while disk_full is set every write to
 * any file fails with SQLITE_FULL (as a real full file system makes it do). */
static int disk_full;
static sqlite3_vfs full_vfs, *base_vfs;
static sqlite3_io_methods full_methods;
static const sqlite3_io_methods *base_methods;
struct full_file {
	sqlite3_file base; /* full_methods */
	sqlite3_file *real; /* the base VFS's file, right after this struct */
};

static int full_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct full_file *ff = (struct full_file *)f;
	return disk_full ? SQLITE_FULL : ff->real->pMethods->xWrite(ff->real, p, n, off);
}
#define FWD(name, sig, args)                                  \
	static int full_##name sig                            \
	{                                                     \
		struct full_file *ff = (struct full_file *)f; \
		return ff->real->pMethods->x##name args;      \
	}
FWD(Read, (sqlite3_file * f, void *p, int n, sqlite3_int64 off), (ff->real, p, n, off))
FWD(Truncate, (sqlite3_file * f, sqlite3_int64 size), (ff->real, size))
FWD(Sync, (sqlite3_file * f, int flags), (ff->real, flags))
FWD(FileSize, (sqlite3_file * f, sqlite3_int64 *size), (ff->real, size))
FWD(Lock, (sqlite3_file * f, int l), (ff->real, l))
FWD(Unlock, (sqlite3_file * f, int l), (ff->real, l))
FWD(CheckReservedLock, (sqlite3_file * f, int *out), (ff->real, out))
FWD(FileControl, (sqlite3_file * f, int op, void *arg), (ff->real, op, arg))
FWD(SectorSize, (sqlite3_file * f), (ff->real))
FWD(DeviceCharacteristics, (sqlite3_file * f), (ff->real))
FWD(ShmMap, (sqlite3_file * f, int pg, int sz, int ext, void volatile **pp), (ff->real, pg, sz, ext, pp))
FWD(ShmLock, (sqlite3_file * f, int off, int n, int flags), (ff->real, off, n, flags))
FWD(ShmUnmap, (sqlite3_file * f, int del), (ff->real, del))
static void full_ShmBarrier(sqlite3_file *f)
{
	struct full_file *ff = (struct full_file *)f;
	ff->real->pMethods->xShmBarrier(ff->real);
}
static int full_Close(sqlite3_file *f)
{
	struct full_file *ff = (struct full_file *)f;
	return ff->real->pMethods ? ff->real->pMethods->xClose(ff->real) : SQLITE_OK;
}

static int full_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct full_file *ff = (struct full_file *)f;
	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	int rc = base_vfs->xOpen(base_vfs, name, ff->real, flags, out);
	if (rc != SQLITE_OK) {
		ff->base.pMethods = NULL;
		return rc;
	}
	if (!base_methods) {
		base_methods = ff->real->pMethods;
		full_methods = *base_methods;
		full_methods.xClose = full_Close;
		full_methods.xRead = full_Read;
		full_methods.xWrite = full_write;
		full_methods.xTruncate = full_Truncate;
		full_methods.xSync = full_Sync;
		full_methods.xFileSize = full_FileSize;
		full_methods.xLock = full_Lock;
		full_methods.xUnlock = full_Unlock;
		full_methods.xCheckReservedLock = full_CheckReservedLock;
		full_methods.xFileControl = full_FileControl;
		full_methods.xSectorSize = full_SectorSize;
		full_methods.xDeviceCharacteristics = full_DeviceCharacteristics;
		full_methods.xShmMap = full_ShmMap;
		full_methods.xShmLock = full_ShmLock;
		full_methods.xShmBarrier = full_ShmBarrier;
		full_methods.xShmUnmap = full_ShmUnmap;
		full_methods.iVersion = 2; /* no xFetch/xUnfetch: no memory-mapped I/O */
	}
	ff->base.pMethods = &full_methods;
	return SQLITE_OK;
}

static int full_vfs_install(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs)
		return -1;
	full_vfs = *base_vfs;
	full_vfs.zName = "motcua-test-full";
	full_vfs.szOsFile = (int)sizeof(struct full_file) + base_vfs->szOsFile;
	full_vfs.xOpen = full_open;
	return sqlite3_vfs_register(&full_vfs, 1) == SQLITE_OK ? 0 : -1;
}

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

/* A claim whose commit the disk refuses is not a claim: the item stays queued, nothing
 * reports it as taken (before the fix the RETURNING row came back as a claim while the commit
 * failed, and the uplink sent the same item again and again), and once space is back the
 * same item is claimed for real.  Meanwhile outbox_next_unheld finds it without writing. */
static void a_claim_the_disk_refuses_is_not_a_claim(void **state)
{
	struct fx *f = *state;
	struct outbox_item it, peek;
	int64_t held[1];
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "d1");
	add(f->db, "documents", OUTBOX_PRIO_DOCUMENT, "d2");
	disk_full = 1;
	assert_int_equal(outbox_claim_next(f->db, &it), -ENOSPC);
	assert_int_equal(outbox_claim_id(f->db, 1), -ENOSPC);
	assert_int_equal(outbox_next_unheld(f->db, NULL, 0, &peek), 0);
	assert_string_equal(peek.ref, "d1");
	assert_string_equal(peek.state, "queued");
	held[0] = peek.id;
	assert_int_equal(outbox_next_unheld(f->db, held, 1, &peek), 0);
	assert_string_equal(peek.ref, "d2");
	disk_full = 0;
	assert_int_equal(outbox_get(f->db, 1, &it), 0);
	assert_string_equal(it.state, "queued");
	assert_int_equal(outbox_claim_next(f->db, &it), 0);
	assert_string_equal(it.ref, "d1");
	assert_string_equal(it.state, "sending");
	/* an item claimed in memory is claimed by id once the disk allows */
	assert_int_equal(outbox_claim_id(f->db, 2), 0);
	assert_int_equal(outbox_claim_id(f->db, 2), -ESTALE);
	assert_int_equal(outbox_claim_next(f->db, &it), -ENOENT);
	/* sending rows nobody holds (a return to the queue the disk refused) are found */
	held[0] = 1;
	assert_int_equal(outbox_next_unheld(f->db, held, 1, &peek), 0);
	assert_int_equal(peek.id, 2);
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
		cmocka_unit_test_setup_teardown(a_claim_the_disk_refuses_is_not_a_claim, setup, teardown),
	};
	if (full_vfs_install() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
