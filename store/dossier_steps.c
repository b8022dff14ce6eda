/* Dossier steps, assignment and roles in the store (see store/dossier_steps.h). */
#include "store/dossier_steps.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/outbox.h"

int dossier_step_final(const char *s)
{
	return strcmp(s, "returned") == 0 || strcmp(s, "refused") == 0 || strcmp(s, "withdrawn") == 0;
}

int dossier_step_done(const char *s)
{
	return strcmp(s, "ready") == 0 || dossier_step_final(s);
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, rc, what);
}

static void iso(int64_t s, char out[32])
{
	time_t t = (time_t)s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int dossier_steps_insert(struct db *db, int64_t dossier, const char *step, const char *origin,
			 const char *actor, int64_t at_s, const char *assignee, const char *note,
			 const char *due_day, int64_t outbox_id)
{
	sqlite3_stmt *st;
	char now[32];
	int r =
	    db_prepare(db,
		       "INSERT INTO dossier_steps(dossier, step, origin, actor, at_s, recorded_at, assignee, "
		       "note, due_day, outbox_id) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       &st);
	if (r < 0)
		return r;
	db_now(now);
	sqlite3_bind_int64(st, 1, dossier);
	sqlite3_bind_text(st, 2, step, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, origin, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, at_s);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, assignee ? assignee : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, note ? note : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, due_day ? due_day : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, outbox_id);
	return step_done(db, st, "recording a dossier step");
}

static int steps_count(struct db *db, int64_t id, int64_t *ret)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db, "SELECT COUNT(*) FROM dossier_steps WHERE dossier = ? AND origin = 'local'", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	*ret = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : db_error(db, rc, "counting dossier steps");
}

/* The fixed body of a step's submission (docs/lgsp.md 7.4, kind dossier-steps). */
static char *step_body(const struct dossier_row *d, const struct dossier_change *c, int64_t seq)
{
	char at[32], now[32];
	iso(c->at_s, at);
	db_now(now);
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:[]}", "schema",
			      "motcua.lgsp.v1", "commune_code", c->commune_code ? c->commune_code : "",
			      "created_at", now, "dossier_code", d->code, "seq", (json_int_t)seq, "step",
			      c->name, "status", c->lgsp_status, "at", at, "official", d->assignee, "due_day",
			      d->due_day, "note", c->note ? c->note : "", "blobs");
	if (b && d->new_due_day[0])
		json_object_set_new(b, "new_due_day", json_string(d->new_due_day));
	if (b && d->pause_day[0])
		json_object_set_new(b, "paused_since", json_string(d->pause_day));
	char *s = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(b);
	return s;
}

int dossier_steps_apply(struct db *db, const char *actor, int64_t id, const struct dossier_change *c,
			int64_t *ret_step_id)
{
	struct dossier_row d;
	sqlite3_stmt *st = NULL;
	char subject[32], key[96], *body = NULL, *detail = NULL;
	int64_t oid = 0, seq = 0;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = dossiers_get(db, id, &d);
	if (r < 0)
		goto fail;
	if (strcmp(d.state, "accepted") != 0 || (c->expect_step && strcmp(d.step, c->expect_step) != 0)) {
		r = -EBUSY;
		goto fail;
	}
	/* The row as it will be, for the body. */
	if (c->step)
		snprintf(d.step, sizeof(d.step), "%s", c->step);
	if (c->assignee)
		snprintf(d.assignee, sizeof(d.assignee), "%s", c->assignee);
	if (c->due_day)
		snprintf(d.due_day, sizeof(d.due_day), "%s", c->due_day);
	if (c->pause_day)
		snprintf(d.pause_day, sizeof(d.pause_day), "%s", c->pause_day);
	if (c->new_due_day)
		snprintf(d.new_due_day, sizeof(d.new_due_day), "%s", c->new_due_day);
	d.paused_days += c->paused_add;
	if (c->done_s >= 0)
		d.done_s = c->done_s;
	if (c->returned_s >= 0)
		d.returned_s = c->returned_s;
	r = db_prepare(
	    db,
	    "UPDATE dossiers SET step = ?, assignee = ?, due_day = ?, pause_day = ?, paused_days = ?, "
	    "new_due_day = ?, done_s = ?, returned_s = ? WHERE id = ?",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, d.step, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d.assignee, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d.due_day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d.pause_day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, d.paused_days);
	sqlite3_bind_text(st, 6, d.new_due_day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, d.done_s);
	sqlite3_bind_int64(st, 8, d.returned_s);
	sqlite3_bind_int64(st, 9, id);
	r = step_done(db, st, "recording a dossier step");
	if (r < 0)
		goto fail;
	if (c->lgsp_status) {
		r = steps_count(db, id, &seq);
		if (r < 0)
			goto fail;
		seq++;
		body = step_body(&d, c, seq);
		if (!body) {
			r = -ENOMEM;
			goto fail;
		}
		if (strlen(body) > DOSSIER_BODY_MAX) {
			r = -EMSGSIZE;
			goto fail;
		}
		/* The code and the step's number on this dossier name the item for good. */
		snprintf(key, sizeof(key), "dstep-%lld-%.36s", (long long)seq, d.code);
		r = outbox_enqueue(db, "dossiers", OUTBOX_PRIO_DOSSIER, "dossier-step", d.code, key,
				   (int64_t)strlen(body), &oid);
		if (r == 0)
			r = outbox_body_put(db, oid, body);
		if (r < 0)
			goto fail;
	}
	r = dossier_steps_insert(db, id, c->name, "local", actor, c->at_s, d.assignee, c->note, d.due_day,
				 oid);
	if (r < 0)
		goto fail;
	if (ret_step_id)
		*ret_step_id = sqlite3_last_insert_rowid(db_handle(db));
	snprintf(subject, sizeof(subject), "dossier:%lld", (long long)id);
	/* Who and when; the note stays in the dossier's timeline, out of the chain. */
	json_t *dj =
	    json_pack("{s:s, s:s, s:s, s:I, s:s, s:I}", "code", d.code, "step", c->name, "assignee",
		      d.assignee, "at", (json_int_t)c->at_s, "due", d.due_day, "outbox", (json_int_t)oid);
	detail = dj ? json_dumps(dj, JSON_COMPACT) : NULL;
	json_decref(dj);
	r = detail ? audit_append(db, actor, "dossier.step", subject, detail) : -ENOMEM;
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	free(body);
	free(detail);
	return 0;
fail:
	free(body);
	free(detail);
	db_rollback(db);
	return r;
}

int dossier_steps_list(struct db *db, int64_t id, int (*fn)(void *ctx, const struct dossier_step_row *s),
		       void *ctx)
{
	sqlite3_stmt *st;
	struct dossier_step_row s;
	int rc,
	    r = db_prepare(db,
			   "SELECT id, step, origin, actor, at_s, recorded_at, assignee, note, due_day, "
			   "outbox_id FROM dossier_steps WHERE dossier = ? ORDER BY id",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&s, 0, sizeof(s));
		s.id = sqlite3_column_int64(st, 0);
		db_column_text(st, 1, s.step, sizeof(s.step));
		db_column_text(st, 2, s.origin, sizeof(s.origin));
		db_column_text(st, 3, s.actor, sizeof(s.actor));
		s.at_s = sqlite3_column_int64(st, 4);
		db_column_text(st, 5, s.recorded_at, sizeof(s.recorded_at));
		db_column_text(st, 6, s.assignee, sizeof(s.assignee));
		db_column_text(st, 7, s.note, sizeof(s.note));
		db_column_text(st, 8, s.due_day, sizeof(s.due_day));
		s.outbox_id = sqlite3_column_int64(st, 9);
		r = fn(ctx, &s);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(db, rc, "listing dossier steps");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int dossier_role_of(struct db *db, const char *procedure, char role[DOSSIER_ROLE_MAX])
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT role FROM procedure_roles WHERE procedure = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, procedure, -1, SQLITE_STATIC);
	role[0] = '\0';
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_column_text(st, 0, role, DOSSIER_ROLE_MAX);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_error(db, rc, "reading a procedure's role");
}

static int exec_audited(struct db *db, const char *sql, const char *a, const char *b, const char *actor,
			const char *action, const char *subject, const char *detail)
{
	sqlite3_stmt *st;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(db, sql, &st);
	if (r == 0) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		r = step_done(db, st, action);
	}
	if (r == 0)
		r = audit_append(db, actor, action, subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int dossier_role_set(struct db *db, const char *actor, const char *procedure, const char *role)
{
	char subject[64], detail[96];
	snprintf(subject, sizeof(subject), "procedure:%.40s", procedure);
	snprintf(detail, sizeof(detail), "{\"role\":\"%.32s\"}", role);
	return exec_audited(db,
			    "INSERT INTO procedure_roles(procedure, role) VALUES(?1, ?2) "
			    "ON CONFLICT(procedure) DO UPDATE SET role = ?2",
			    procedure, role, actor, "dossier.role", subject, detail);
}

int dossier_official_role(struct db *db, const char *actor, const char *user, const char *role, int add)
{
	char subject[96], detail[96];
	snprintf(subject, sizeof(subject), "user:%.64s", user);
	snprintf(detail, sizeof(detail), "{\"role\":\"%.32s\",\"given\":%s}", role, add ? "true" : "false");
	return exec_audited(db,
			    add ? "INSERT OR IGNORE INTO official_roles(user, role) VALUES(?1, ?2)"
				: "DELETE FROM official_roles WHERE user = ?1 AND role = ?2",
			    user, role, actor, "dossier.official", subject, detail);
}

int dossier_officials(struct db *db, int (*fn)(void *ctx, const char *user, const char *role), void *ctx)
{
	sqlite3_stmt *st;
	int rc, r = db_prepare(db, "SELECT user, role FROM official_roles ORDER BY user, role", &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char u[DOSSIER_USER_MAX], ro[DOSSIER_ROLE_MAX];
		db_column_text(st, 0, u, sizeof(u));
		db_column_text(st, 1, ro, sizeof(ro));
		r = fn(ctx, u, ro);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(db, rc, "listing officials");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int dossier_pick_official(struct db *db, const char *role, char user[DOSSIER_USER_MAX])
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "SELECT o.user FROM official_roles o LEFT JOIN users u ON u.name = o.user "
			   "WHERE o.role = ?1 AND IFNULL(u.disabled, 0) = 0 ORDER BY (SELECT COUNT(*) FROM "
			   "dossiers d WHERE d.assignee = o.user AND d.state = 'accepted' AND d.step NOT IN "
			   "('ready','returned','refused','withdrawn')), o.user LIMIT 1",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, role, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_column_text(st, 0, user, DOSSIER_USER_MAX);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "choosing an official");
}

static int each_dossier(struct db *db, sqlite3_stmt *st, int (*fn)(void *ctx, const struct dossier_row *d),
			void *ctx)
{
	struct dossier_row d;
	int rc, r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		r = dossiers_get(db, id, &d);
		if (r == 0)
			r = fn(ctx, &d);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(db, rc, "listing dossiers");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int dossier_worklist(struct db *db, const char *user, int unassigned, int limit,
		     int (*fn)(void *ctx, const struct dossier_row *d), void *ctx)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db,
		       "SELECT id FROM dossiers WHERE state = 'accepted' AND step NOT IN "
		       "('ready','returned','refused','withdrawn') AND (?1 = 1 AND assignee = '' OR ?1 = 0 "
		       "AND (?2 = '' OR assignee = ?2)) ORDER BY due_day = '', due_day, id LIMIT ?3",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, unassigned);
	sqlite3_bind_text(st, 2, user ? user : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	return each_dossier(db, st, fn, ctx);
}

int dossier_for_summary(struct db *db, int64_t to_s, int (*fn)(void *ctx, const struct dossier_row *d),
			void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(
	    db, "SELECT id FROM dossiers WHERE state = 'accepted' AND received_s < ? ORDER BY id", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, to_s);
	return each_dossier(db, st, fn, ctx);
}
