/* Rebuilding the database from the blob files' sidecar manifests after a quarantine.
 * Delivered items come back as queued: the upstream idempotency keys make the re-sends
 * harmless (the LGSP answers with the receipt it gave the first time). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/docs.h"
#include "store/fsutil.h"
#include "store/outbox.h"
#include "store/store.h"

#define BATCH 500

static int restore_file(struct db *db, struct blobs *b, const char *path, int64_t *restored, int64_t *skipped)
{
	struct doc_meta m;
	char *text = NULL;
	size_t len;
	int r = fs_read_small(path, 4096, &text, &len);
	if (r == 0)
		r = manifest_parse(text, len, &m);
	free(text);
	if (r < 0) {
		log_warn("store: rebuild: skipping manifest %s: %s", path,
			 r == -EINVAL ? "not a valid manifest" : strerror(-r));
		(*skipped)++;
		return 0;
	}
	if (!blob_exists(b, m.sha256)) {
		log_warn("store: rebuild: document %s has a manifest but its blob %.16s... is missing", m.id,
			 m.sha256);
		(*skipped)++;
		return 0;
	}
	r = docs_restore(db, &m);
	if (r == -EEXIST) {
		log_warn("store: rebuild: manifest %s clashes with another document (id or sequence)", path);
		(*skipped)++;
		return 0;
	}
	if (r < 0)
		return r;
	if (r == 0)
		(*restored)++;
	return 0;
}

static int enqueue_all(struct db *db)
{
	sqlite3_stmt *st;
	/* Only documents without an item: the journal brings back the items it knew, in
	 * their state (a delivered one stays delivered). */
	int r = db_prepare(db,
			   "SELECT id, intake_key, size FROM documents d WHERE NOT EXISTS (SELECT 1 FROM "
			   "outbox o WHERE o.idem_key = d.intake_key) ORDER BY seq",
			   &st);
	int rc;
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = outbox_enqueue(db, "documents", OUTBOX_PRIO_DOCUMENT, "document",
				   (const char *)sqlite3_column_text(st, 0),
				   (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2),
				   NULL);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "rebuild outbox");
	sqlite3_finalize(st);
	return r;
}

int store_rebuild(struct db *db, struct blobs *b, const char *manifest_dir, int64_t *ret_restored,
		  int64_t *ret_skipped)
{
	int64_t restored = 0, skipped = 0;
	char sub[PATH_MAX], path[PATH_MAX];
	struct dirent *e, *f;
	DIR *d = opendir(manifest_dir);
	int r = 0, in_batch = 0;

	if (!d)
		return -errno;
	r = db_begin(db);
	while (r == 0 && (e = readdir(d))) {
		if (strlen(e->d_name) != 2 || fs_join(sub, sizeof(sub), manifest_dir, e->d_name) < 0)
			continue;
		DIR *s = opendir(sub);
		if (!s)
			continue;
		while (r == 0 && (f = readdir(s))) {
			size_t n = strlen(f->d_name);
			if (n < 6 || strcmp(f->d_name + n - 5, ".json") != 0 ||
			    fs_join(path, sizeof(path), sub, f->d_name) < 0)
				continue;
			r = restore_file(db, b, path, &restored, &skipped);
			if (r == 0 && ++in_batch >= BATCH) {
				r = db_commit(db);
				if (r == 0)
					r = db_begin(db);
				in_batch = 0;
			}
		}
		closedir(s);
	}
	closedir(d);
	if (r == 0)
		r = enqueue_all(db);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		log_error("store: rebuild failed: %s", strerror(-r));
		return r;
	}
	*ret_restored = restored;
	*ret_skipped = skipped;
	return 0;
}
