/* The store as a whole: the state directory (database, blob files, manifests, quarantine),
 * the storage key, and the start-up checks (integrity, quarantine and rebuild, requeue).
 * A struct store is shared read-only by all threads; each thread opens its own connection. */
#ifndef MOTCUA_STORE_H
#define MOTCUA_STORE_H

#include <limits.h>
#include <stdint.h>

struct db;
struct blobs;
struct store;

struct store_options {
	const char *state_dir;
	const char *key_file;
	int64_t busy_timeout_ms;
};

/* What start-up found and did; staff see it in status and the audit chain. */
struct store_startup {
	int rebuilt; /* the database was quarantined and rebuilt */
	char quarantined[PATH_MAX]; /* where the old database went */
	int64_t restored; /* documents in the rebuilt database (from the journal or manifests) */
	int64_t skipped; /* manifests that could not be restored */
	int64_t requeued; /* outbox items moved from sending back to queued */
	int key_created; /* a new storage key was generated (empty store) */
	int64_t journal_applied; /* row changes replayed from the record journal */
	int64_t journal_failed; /* row changes that could not be replayed */
	int journal_damaged; /* the journal had a damaged entry: records after it were lost */
	char restored_kinds[512]; /* JSON object: rows per kind in the rebuilt database */
};

/* A journal segment larger than this is replaced by a snapshot at start-up. */
#define STORE_JOURNAL_MAX_BYTES (256LL << 20)

/* Opens the store: creates the directories, loads the storage key (creating it only for an
 * empty store), opens the database, moves an unreadable or failing database aside and
 * rebuilds it from the manifests, and returns sending items to queued.
 * Errors are logged with what to do; -ENOKEY when the key file is missing for a store that
 * holds data, -EKEYREJECTED when it belongs to another store. */
int store_open(const struct store_options *opt, struct store **ret);
void store_close(struct store *s);

/* At a clean stop, once every other connection is closed: copies the WAL into the database
 * and removes it (threads that close together may each leave that to the other). */
void store_checkpoint(struct store *s);

/* A new connection for the calling thread (never shared). */
int store_connect(struct store *s, struct db **ret);

struct blobs *store_blobs(struct store *s);
const char *store_manifest_dir(const struct store *s);
const char *store_state_dir(const struct store *s);
const char *store_db_path(const struct store *s);
const struct store_startup *store_startup_info(const struct store *s);

/* Bytes used by the database files and the blob directory tree. */
int store_disk_usage(const struct store *s, int64_t *ret_db_bytes, int64_t *ret_blob_bytes);

/* Rebuild: reads every manifest under manifest_dir whose blob exists and restores its
 * document row and outbox item into db (an empty database). */
int store_rebuild(struct db *db, struct blobs *b, const char *manifest_dir, int64_t *ret_restored,
		  int64_t *ret_skipped);

#endif
