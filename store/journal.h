/* The record journal: every committed change to the database's rows, appended to
 * STATE/journal/NNNNNNNN.mj and fsynced before the commit, hash-chained, so that the
 * database can be rebuilt row for row after it is lost or corrupted (docs/operations.md,
 * "The record journal").  One struct journal per store, shared by its connections. */
#ifndef MOTCUA_JOURNAL_H
#define MOTCUA_JOURNAL_H

#include <stdint.h>

struct db;
struct journal;

/* What opening the journal found. */
struct journal_info {
	int64_t entries; /* sound entries in the current segment */
	int64_t bytes; /* size of the current segment */
	int64_t segment; /* its number (0: none yet) */
	int torn; /* an unfinished last entry was cut off (a crash while appending) */
	int damaged; /* an entry failed its check: replay stops before it */
	int64_t damaged_seq; /* the first entry that failed */
};

/* Opens the journal directory dir (created if missing), checks the current segment and cuts
 * off an entry left unfinished by a crash.  Nothing is appended until journal_attach. */
int journal_open(const char *dir, struct journal **ret, struct journal_info *ret_info);
void journal_close(struct journal *j);

/* Makes every commit on db append its row changes first (and fsync them); a commit whose
 * entry cannot be written fails.  Changes to the tables of web sessions are not kept. */
int journal_attach(struct journal *j, struct db *db);

/* Replays the current segment into db (a fresh, empty database): every row as it was at the
 * last commit, entries of transactions that rolled back left out.  ret_applied and
 * ret_failed count row changes. */
int journal_replay(struct journal *j, struct db *db, int64_t *ret_applied, int64_t *ret_failed);

/* At start-up on a sound database: if the last entry's transaction never committed (a crash
 * between the append and the commit), appends its cancellation; then starts a new segment
 * holding the database's rows when there is no segment yet, the current one is damaged or
 * larger than max_bytes (old segments are removed once the new one is durable). */
int journal_settle(struct journal *j, struct db *db, int64_t max_bytes);

/* Writes a new segment holding every row of db and makes it the current one. */
int journal_snapshot(struct journal *j, struct db *db);

/* Path of the current segment ("" when none), for backups and status. */
const char *journal_path(const struct journal *j);

#endif
