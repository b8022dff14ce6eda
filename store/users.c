/* Staff accounts, sessions and API tokens: rows and their audit, no policy. */
#include "store/users.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/audit.h"
#include "store/db.h"

int users_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= USER_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '_')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int users_role_valid(const char *role)
{
	return strcmp(role, "admin") == 0 || strcmp(role, "staff") == 0;
}

/* Runs one prepared write statement with text/int parameters bound by the caller. */
static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : db_error(db, rc, what);
	sqlite3_finalize(st);
	return r;
}

/* Finishes a write transaction that also appends an audit row. */
static int commit_with_audit(struct db *db, int r, const char *actor, const char *action, const char *subject,
			     const char *detail)
{
	if (r == 0)
		r = audit_append(db, actor, action, subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int users_add(struct db *db, const char *name, const char *role, const char *hash, int must_change,
	      const char *actor)
{
	sqlite3_stmt *st;
	char now[32], detail[96];
	int r;

	if (!users_name_valid(name) || !users_role_valid(role) || strlen(hash) >= USER_HASH_MAX)
		return -EINVAL;
	r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(db,
		       "INSERT INTO users(name, role, hash, must_change, created_at, updated_at) "
		       "VALUES(?1, ?2, ?3, ?4, ?5, ?5)",
		       &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 4, must_change ? 1 : 0);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		r = rc == SQLITE_DONE                  ? 0
		    : (rc & 0xff) == SQLITE_CONSTRAINT ? -EEXIST
						       : db_error(db, rc, "add user");
	}
	snprintf(detail, sizeof(detail), "{\"role\":\"%s\",\"one_time\":%s}", role,
		 must_change ? "true" : "false");
	return commit_with_audit(db, r, actor, "user.add", name, detail);
}

/* failures and locked_until: the worst of the account's sources (login_failures). */
#define USER_COLS                                                                                 \
	"name, role, hash, disabled, must_change,"                                                \
	" (SELECT IFNULL(MAX(failures), 0) FROM login_failures f WHERE f.name = users.name),"     \
	" (SELECT IFNULL(MAX(locked_until), 0) FROM login_failures f WHERE f.name = users.name)," \
	" created_at, updated_at"

static void read_user(sqlite3_stmt *st, struct user *u)
{
	memset(u, 0, sizeof(*u));
	db_column_text(st, 0, u->name, sizeof(u->name));
	db_column_text(st, 1, u->role, sizeof(u->role));
	db_column_text(st, 2, u->hash, sizeof(u->hash));
	u->disabled = sqlite3_column_int(st, 3);
	u->must_change = sqlite3_column_int(st, 4);
	u->failures = sqlite3_column_int64(st, 5);
	u->locked_until = sqlite3_column_int64(st, 6);
	db_column_text(st, 7, u->created_at, sizeof(u->created_at));
	db_column_text(st, 8, u->updated_at, sizeof(u->updated_at));
}

int users_get(struct db *db, const char *name, struct user *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " USER_COLS " FROM users WHERE name = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_user(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read user");
	sqlite3_finalize(st);
	return r;
}

int users_list(struct db *db, int (*fn)(void *ctx, const struct user *u), void *ctx)
{
	sqlite3_stmt *st;
	struct user u;
	int r = db_prepare(db, "SELECT " USER_COLS " FROM users ORDER BY name", &st), rc;
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_user(st, &u);
		r = fn(ctx, &u);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list users");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

static int end_sessions_of(struct db *db, const char *name)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "DELETE FROM sessions WHERE user = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return step_done(db, st, "end sessions");
}

/* UPDATE users ... WHERE name = ?1 inside a transaction, -ENOENT when no row changed. */
static int update_user(struct db *db, const char *sql, const char *name, const char *text, int64_t num)
{
	sqlite3_stmt *st;
	char now[32];
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	db_now(now);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	if (text)
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, num);
	r = step_done(db, st, "update user");
	if (r == 0 && sqlite3_changes(db_handle(db)) != 1)
		r = -ENOENT;
	return r;
}

int users_set_hash(struct db *db, const char *name, const char *hash, int must_change, const char *actor)
{
	sqlite3_stmt *st;
	if (strlen(hash) >= USER_HASH_MAX)
		return -EINVAL;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = update_user(db,
			"UPDATE users SET hash = ?3, must_change = ?4, failures = 0, locked_until = 0, "
			"updated_at = ?2 WHERE name = ?1",
			name, hash, must_change ? 1 : 0);
	if (r == 0)
		r = end_sessions_of(db, name);
	if (r == 0 && (r = db_prepare(db, "DELETE FROM login_failures WHERE name = ?", &st)) == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		r = step_done(db, st, "clear login failures");
	}
	return commit_with_audit(db, r, actor, "user.passwd", name,
				 must_change ? "{\"one_time\":true}" : "{\"one_time\":false}");
}

int users_set_disabled(struct db *db, const char *name, int disabled, const char *actor)
{
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = update_user(db, "UPDATE users SET disabled = ?4, updated_at = ?2 WHERE name = ?1", name, NULL,
			disabled ? 1 : 0);
	if (r == 0 && disabled)
		r = end_sessions_of(db, name);
	return commit_with_audit(db, r, actor, disabled ? "user.disable" : "user.enable", name, "");
}

int users_login_reserve(struct db *db, const char *key, const char *source, int64_t now, int64_t max_failures,
			int64_t lockout_s, int64_t *ret_failures, int64_t *ret_locked_until)
{
	sqlite3_stmt *st;
	/* One statement, so that no two attempts read the same count: the attempt is counted
	 * before its password is checked and given back by a success.  A lock that ran out
	 * starts a new count; attempts past the limit while the last allowed one is still
	 * being checked lock at once. */
	int r = db_prepare(db,
			   "INSERT INTO login_failures(name, source, failures, locked_until, last_at) "
			   "VALUES(?1, ?2, 1, CASE WHEN ?4 < 1 THEN ?3 + ?5 ELSE 0 END, ?3) "
			   "ON CONFLICT(name, source) DO UPDATE SET "
			   " failures = CASE WHEN locked_until > ?3 THEN failures"
			   "  WHEN locked_until != 0 THEN 1 ELSE failures + 1 END,"
			   " locked_until = CASE WHEN locked_until > ?3 THEN locked_until"
			   "  WHEN locked_until != 0 THEN 0"
			   "  WHEN failures + 1 > ?4 THEN ?3 + ?5 ELSE 0 END,"
			   " last_at = ?3 "
			   "RETURNING failures, locked_until",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, max_failures);
	sqlite3_bind_int64(st, 5, lockout_s);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_failures = sqlite3_column_int64(st, 0);
		*ret_locked_until = sqlite3_column_int64(st, 1);
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE)
		r = db_error(db, rc, "count a login attempt");
	sqlite3_finalize(st);
	return r;
}

int users_login_record(struct db *db, const char *key, const char *source, enum users_login outcome,
		       int64_t now, int64_t max_failures, int64_t lockout_s, const char *name,
		       const char *detail)
{
	sqlite3_stmt *st = NULL;
	char actor[80];
	int r = db_begin(db);
	if (r < 0)
		return r;
	if (outcome == USERS_LOGIN_OK || outcome == USERS_LOGIN_DISABLED)
		r = db_prepare(db, "DELETE FROM login_failures WHERE name = ?1 AND source = ?2", &st);
	else if (outcome == USERS_LOGIN_WRONG)
		r = db_prepare(db,
			       "UPDATE login_failures SET locked_until = ?3 + ?5 "
			       "WHERE name = ?1 AND source = ?2 AND failures >= ?4 AND locked_until <= ?3",
			       &st);
	if (r == 0 && st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
		if (outcome == USERS_LOGIN_WRONG) {
			sqlite3_bind_int64(st, 3, now);
			sqlite3_bind_int64(st, 4, max_failures);
			sqlite3_bind_int64(st, 5, lockout_s);
		}
		r = step_done(db, st, "record login");
	}
	/* Counts nobody has touched for a day, and locks long over, are forgotten: the table
	 * stays as small as the recent attempts. */
	if (r == 0 &&
	    db_prepare(db, "DELETE FROM login_failures WHERE last_at < ?1 - 86400 AND locked_until < ?1",
		       &st) == 0) {
		sqlite3_bind_int64(st, 1, now);
		r = step_done(db, st, "forget old login failures");
	}
	snprintf(actor, sizeof(actor), "web:%s", name);
	return commit_with_audit(db, r, actor, outcome == USERS_LOGIN_OK ? "login" : "login.failed", name,
				 detail);
}

#define SESSION_COLS "id, user, csrf, created, last_seen"

int sessions_add(struct db *db, const struct session *s)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "INSERT INTO sessions(" SESSION_COLS ") VALUES(?1, ?2, ?3, ?4, ?5)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, s->user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, s->csrf, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, s->created);
	sqlite3_bind_int64(st, 5, s->last_seen);
	return step_done(db, st, "add session");
}

int sessions_get(struct db *db, const char *id, struct session *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " SESSION_COLS " FROM sessions WHERE id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		db_column_text(st, 0, ret->id, sizeof(ret->id));
		db_column_text(st, 1, ret->user, sizeof(ret->user));
		db_column_text(st, 2, ret->csrf, sizeof(ret->csrf));
		ret->created = sqlite3_column_int64(st, 3);
		ret->last_seen = sqlite3_column_int64(st, 4);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read session");
	}
	sqlite3_finalize(st);
	return r;
}

int sessions_touch(struct db *db, const char *id, int64_t now)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "UPDATE sessions SET last_seen = ?2 WHERE id = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	return step_done(db, st, "touch session");
}

int sessions_delete(struct db *db, const char *id, const char *actor)
{
	sqlite3_stmt *st;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(db, "DELETE FROM sessions WHERE id = ?", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		r = step_done(db, st, "end session");
	}
	if (!actor) {
		if (r == 0)
			r = db_commit(db);
		if (r < 0)
			db_rollback(db);
		return r;
	}
	return commit_with_audit(db, r, actor, "logout", actor, "");
}

int sessions_purge(struct db *db, int64_t idle_before, int64_t created_before)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "DELETE FROM sessions WHERE last_seen < ?1 OR created < ?2", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, idle_before);
	sqlite3_bind_int64(st, 2, created_before);
	return step_done(db, st, "purge sessions");
}

int tokens_add(struct db *db, const char *name, const char *hash, const char *actor, int64_t *ret_id)
{
	sqlite3_stmt *st;
	char now[32], subject[80];
	int64_t id = 0;
	int r;

	if (strlen(name) == 0 || strlen(name) >= sizeof(((struct api_token *)0)->name))
		return -EINVAL;
	r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(
	    db, "INSERT INTO api_tokens(name, hash, created_by, created_at) VALUES(?1, ?2, ?3, ?4)", &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, now, -1, SQLITE_STATIC);
		r = step_done(db, st, "add token");
		id = sqlite3_last_insert_rowid(db_handle(db));
	}
	snprintf(subject, sizeof(subject), "token-%lld", (long long)id);
	r = commit_with_audit(db, r, actor, "token.add", subject, "");
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

#define TOKEN_COLS "id, name, created_by, created_at, revoked, last_used"

static void read_token(sqlite3_stmt *st, struct api_token *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, t->name, sizeof(t->name));
	db_column_text(st, 2, t->created_by, sizeof(t->created_by));
	db_column_text(st, 3, t->created_at, sizeof(t->created_at));
	t->revoked = sqlite3_column_int(st, 4);
	t->last_used = sqlite3_column_int64(st, 5);
}

int tokens_find(struct db *db, const char *hash, struct api_token *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " TOKEN_COLS " FROM api_tokens WHERE hash = ? AND revoked = 0", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_token(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read token");
	sqlite3_finalize(st);
	return r;
}

int tokens_list(struct db *db, int (*fn)(void *ctx, const struct api_token *t), void *ctx)
{
	sqlite3_stmt *st;
	struct api_token t;
	int r = db_prepare(db, "SELECT " TOKEN_COLS " FROM api_tokens ORDER BY id", &st), rc;
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_token(st, &t);
		r = fn(ctx, &t);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list tokens");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int tokens_revoke(struct db *db, int64_t id, const char *actor)
{
	sqlite3_stmt *st;
	char subject[40];
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(db, "UPDATE api_tokens SET revoked = 1 WHERE id = ? AND revoked = 0", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		r = step_done(db, st, "revoke token");
		if (r == 0 && sqlite3_changes(db_handle(db)) != 1)
			r = -ENOENT;
	}
	snprintf(subject, sizeof(subject), "token-%lld", (long long)id);
	return commit_with_audit(db, r, actor, "token.revoke", subject, "");
}
