/* Outbox state machine on SQLite: every transition is one UPDATE guarded by the state it
 * leaves, so a transition from the wrong state changes nothing and reports -ESTALE. */
#include "store/outbox.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"

const char *const outbox_state_names[4] = { "queued", "sending", "delivered", "rejected" };

int outbox_state_index(const char *state)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(state, outbox_state_names[i]) == 0)
			return i;
	return -EINVAL;
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : db_error(db, rc, what);
	sqlite3_finalize(st);
	return r;
}

int outbox_enqueue(struct db *db, const char *stream, int priority, const char *kind, const char *ref,
		   const char *idem_key, int64_t bytes, int64_t *ret_id)
{
	sqlite3_stmt *st;
	char now[32];
	int r;

	if (priority < 0 || priority >= OUTBOX_NPRIO)
		return -EINVAL;
	db_now(now);
	r = db_prepare(db,
		       "INSERT INTO outbox(stream, seq, priority, kind, ref, idem_key, bytes, state, "
		       "created_at, updated_at) VALUES(?1, "
		       "(SELECT COALESCE(MAX(seq), 0) + 1 FROM outbox WHERE stream = ?1), "
		       "?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?7)",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, stream, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, priority);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, idem_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, bytes);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	r = step_done(db, st, "enqueue outbox item");
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(db_handle(db));
	return r;
}

#define ITEM_COLS                                                                                  \
	"id, stream, seq, priority, kind, ref, idem_key, bytes, state, offset, session, receipt, " \
	"reason, attempts, created_at, updated_at"

static void read_item(sqlite3_stmt *st, struct outbox_item *it)
{
	memset(it, 0, sizeof(*it));
	it->id = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, it->stream, sizeof(it->stream));
	it->seq = sqlite3_column_int64(st, 2);
	it->priority = sqlite3_column_int(st, 3);
	db_column_text(st, 4, it->kind, sizeof(it->kind));
	db_column_text(st, 5, it->ref, sizeof(it->ref));
	db_column_text(st, 6, it->idem_key, sizeof(it->idem_key));
	it->bytes = sqlite3_column_int64(st, 7);
	db_column_text(st, 8, it->state, sizeof(it->state));
	it->offset = sqlite3_column_int64(st, 9);
	db_column_text(st, 10, it->session, sizeof(it->session));
	db_column_text(st, 11, it->receipt, sizeof(it->receipt));
	db_column_text(st, 12, it->reason, sizeof(it->reason));
	it->attempts = sqlite3_column_int64(st, 13);
	db_column_text(st, 14, it->created_at, sizeof(it->created_at));
	db_column_text(st, 15, it->updated_at, sizeof(it->updated_at));
}

int outbox_get(struct db *db, int64_t id, struct outbox_item *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " ITEM_COLS " FROM outbox WHERE id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_item(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read outbox item");
	sqlite3_finalize(st);
	return r;
}

int outbox_claim_next(struct db *db, struct outbox_item *ret)
{
	sqlite3_stmt *st;
	char now[32];
	int64_t id = 0;
	int r, rc, frc;

	db_now(now);
	r = db_prepare(db,
		       "UPDATE outbox SET state = 'sending', updated_at = ?1 WHERE id = "
		       "(SELECT id FROM outbox WHERE state = 'queued' ORDER BY priority, id LIMIT 1) "
		       "RETURNING id",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		/* RETURNING hands the row out before the statement's implicit commit, which
		 * runs when the statement ends: only a clean end makes it a claim. */
		id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			rc = SQLITE_MISUSE; /* one id at most: LIMIT 1 */
	} else if (rc == SQLITE_DONE) {
		id = -1;
	}
	frc = sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, rc, "claim outbox item");
	if (frc != SQLITE_OK)
		return db_error(db, frc, "claim outbox item");
	if (id < 0)
		return -ENOENT;
	return outbox_get(db, id, ret);
}

int outbox_next_unheld(struct db *db, const int64_t *held, int nheld, struct outbox_item *ret)
{
	sqlite3_stmt *st;
	char ids[OUTBOX_HELD_MAX * 21 + 3];
	size_t n = 0;
	int r, rc;

	if (nheld < 0 || nheld > OUTBOX_HELD_MAX)
		return -EINVAL;
	ids[n++] = '[';
	for (int i = 0; i < nheld; i++)
		n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%lld", i ? "," : "", (long long)held[i]);
	ids[n++] = ']';
	ids[n] = '\0';
	r = db_prepare(db,
		       "SELECT " ITEM_COLS " FROM outbox WHERE state IN ('queued', 'sending') AND id NOT IN "
		       "(SELECT value FROM json_each(?1)) ORDER BY priority, id LIMIT 1",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, ids, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_item(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read the next outbox item");
	sqlite3_finalize(st);
	return r;
}

/* Runs an UPDATE that must change exactly the row id in the given state. */
static int transition(struct db *db, const char *sql, int64_t id, const char *text, int64_t num)
{
	sqlite3_stmt *st;
	char now[32];
	int r, rc;

	db_now(now);
	r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	/* Parameters the statement does not use are ignored (SQLITE_RANGE). */
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, num);
	rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "update outbox item");
	sqlite3_finalize(st);
	if (r == 0 && sqlite3_changes(db_handle(db)) != 1)
		return -ESTALE;
	return r;
}

int outbox_claim_id(struct db *db, int64_t id)
{
	return transition(db,
			  "UPDATE outbox SET state = 'sending', updated_at = ?2 WHERE id = ?1 AND "
			  "state = 'queued'",
			  id, NULL, 0);
}

int outbox_progress(struct db *db, int64_t id, int64_t offset, const char *session)
{
	if (offset < 0 || strlen(session) >= sizeof(((struct outbox_item *)0)->session))
		return -EINVAL;
	return transition(db,
			  "UPDATE outbox SET offset = ?4, session = ?3, updated_at = ?2 "
			  "WHERE id = ?1 AND state = 'sending'",
			  id, session, offset);
}

int outbox_deliver(struct db *db, int64_t id, const char *receipt)
{
	if (!receipt || !*receipt || strlen(receipt) >= OUTBOX_TEXT_MAX)
		return -EINVAL;
	return transition(db,
			  "UPDATE outbox SET state = 'delivered', receipt = ?3, updated_at = ?2, "
			  "offset = bytes WHERE id = ?1 AND state = 'sending'",
			  id, receipt, 0);
}

int outbox_release(struct db *db, int64_t id)
{
	return transition(db,
			  "UPDATE outbox SET state = 'queued', attempts = attempts + 1, "
			  "updated_at = ?2 WHERE id = ?1 AND state = 'sending'",
			  id, NULL, 0);
}

int outbox_reject(struct db *db, int64_t id, const char *reason)
{
	char r[OUTBOX_TEXT_MAX];
	snprintf(r, sizeof(r), "%s", reason && *reason ? reason : "rejected without a reason");
	return transition(db,
			  "UPDATE outbox SET state = 'rejected', reason = ?3, updated_at = ?2, "
			  "attempts = attempts + 1 WHERE id = ?1 AND state = 'sending'",
			  id, r, 0);
}

int outbox_retry(struct db *db, int64_t id)
{
	return transition(db,
			  "UPDATE outbox SET state = 'queued', reason = '', updated_at = ?2 "
			  "WHERE id = ?1 AND state = 'rejected'",
			  id, NULL, 0);
}

int outbox_requeue_sending(struct db *db)
{
	sqlite3_stmt *st;
	char now[32];
	int r;

	db_now(now);
	r = db_prepare(db, "UPDATE outbox SET state = 'queued', updated_at = ?1 WHERE state = 'sending'",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	r = step_done(db, st, "requeue sending items");
	return r < 0 ? r : sqlite3_changes(db_handle(db));
}

int outbox_list(struct db *db, const char *state, int limit,
		int (*fn)(void *ctx, const struct outbox_item *it), void *ctx)
{
	sqlite3_stmt *st;
	struct outbox_item it;
	int r, rc;

	r = db_prepare(db,
		       "SELECT " ITEM_COLS " FROM outbox WHERE (?1 IS NULL OR state = ?1) "
		       "ORDER BY priority, id LIMIT ?2",
		       &st);
	if (r < 0)
		return r;
	if (state)
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_item(st, &it);
		r = fn(ctx, &it);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list outbox");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int outbox_stats(struct db *db, struct outbox_stats *ret)
{
	struct outbox_stats s;
	sqlite3_stmt *st;
	int r, rc;

	memset(&s, 0, sizeof(s));
	r = db_prepare(db, "SELECT state, priority, COUNT(*) FROM outbox GROUP BY state, priority", &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int si = outbox_state_index((const char *)sqlite3_column_text(st, 0));
		int p = sqlite3_column_int(st, 1);
		if (si >= 0 && p >= 0 && p < OUTBOX_NPRIO)
			s.count[si][p] = sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(db, rc, "outbox stats");
	r = db_prepare(db,
		       "SELECT COALESCE(SUM(bytes - offset), 0), "
		       "(SELECT MIN(created_at) FROM outbox WHERE state = 'queued') "
		       "FROM outbox WHERE state IN ('queued', 'sending')",
		       &st);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s.pending_bytes = sqlite3_column_int64(st, 0);
		db_column_text(st, 1, s.oldest_queued_at, sizeof(s.oldest_queued_at));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_error(db, rc, "outbox stats");
	*ret = s;
	return 0;
}
