/* Read-side queries for the staff page and the API, and the set-aside mark on the outbox. */
#include "store/views.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"

/* q with LIKE's wildcards escaped (ESCAPE '\'), wrapped as pre..post. */
static void like_pattern(const char *q, const char *pre, const char *post, char *out, size_t size)
{
	size_t n = 0;
	for (const char *p = pre; *p && n + 1 < size; p++)
		out[n++] = *p;
	for (const char *p = q; *p && n + 2 < size; p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			out[n++] = '\\';
		out[n++] = *p;
	}
	for (const char *p = post; *p && n + 1 < size; p++)
		out[n++] = *p;
	out[n] = '\0';
}

int views_docs_search(struct db *db, const char *q, int64_t before_seq, int limit,
		      int (*fn)(void *ctx, const struct doc_meta *m), void *ctx)
{
	char prefix[300], contains[300];
	struct doc_meta m;
	sqlite3_stmt *st;
	int r, rc;

	if (strlen(q) > 128)
		return -EINVAL;
	like_pattern(q, "", "%", prefix, sizeof(prefix));
	like_pattern(q, "%", "%", contains, sizeof(contains));
	r = db_prepare(db,
		       "SELECT id, seq, sha256, size, content_type, kind, source, name, intake_key, "
		       "received_at FROM documents WHERE seq < ?1 AND (?4 = '' OR id LIKE ?2 ESCAPE '\\' "
		       "OR name LIKE ?3 ESCAPE '\\' OR kind = ?4 OR source = ?4) ORDER BY seq DESC LIMIT ?5",
		       &st);
	if (r < 0)
		return r;
	/* A plain bound (not "?1 = 0 OR"), so that a deep page walks the seq index from there. */
	sqlite3_bind_int64(st, 1, before_seq > 0 ? before_seq : INT64_MAX);
	sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, contains, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		db_column_text(st, 0, m.id, sizeof(m.id));
		m.seq = sqlite3_column_int64(st, 1);
		db_column_text(st, 2, m.sha256, sizeof(m.sha256));
		m.size = sqlite3_column_int64(st, 3);
		db_column_text(st, 4, m.content_type, sizeof(m.content_type));
		db_column_text(st, 5, m.kind, sizeof(m.kind));
		db_column_text(st, 6, m.source, sizeof(m.source));
		db_column_text(st, 7, m.name, sizeof(m.name));
		db_column_text(st, 8, m.intake_key, sizeof(m.intake_key));
		db_column_text(st, 9, m.received_at, sizeof(m.received_at));
		r = fn(ctx, &m);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "search documents");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

static int count(struct db *db, const char *sql, const char *arg, int64_t *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else
		r = db_error(db, rc, "count");
	sqlite3_finalize(st);
	return r;
}

int views_docs_count(struct db *db, const char *since, int64_t *ret_since, int64_t *ret_total)
{
	int r = count(db, "SELECT COUNT(*) FROM documents WHERE received_at >= ?1", since, ret_since);
	if (r == 0)
		/* MAX(seq) - MIN(seq) would be cheaper but wrong after a rebuild with gaps. */
		r = count(db, "SELECT COUNT(*) FROM documents", NULL, ret_total);
	return r;
}

int views_audit_search(struct db *db, const char *q, int64_t before_seq, int limit,
		       int (*fn)(void *ctx, const struct audit_row *row), void *ctx)
{
	char contains[300];
	struct audit_row a;
	sqlite3_stmt *st;
	int r, rc;

	if (strlen(q) > 128)
		return -EINVAL;
	like_pattern(q, "%", "%", contains, sizeof(contains));
	r = db_prepare(
	    db,
	    "SELECT seq, at, actor, action, subject, detail, prev, hash FROM audit "
	    "WHERE seq < ?1 AND (?2 = '' OR actor LIKE ?3 ESCAPE '\\' OR "
	    "action LIKE ?3 ESCAPE '\\' OR subject LIKE ?3 ESCAPE '\\') ORDER BY seq DESC LIMIT ?4",
	    &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, before_seq > 0 ? before_seq : INT64_MAX);
	sqlite3_bind_text(st, 2, q, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, contains, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&a, 0, sizeof(a));
		a.seq = sqlite3_column_int64(st, 0);
		db_column_text(st, 1, a.at, sizeof(a.at));
		db_column_text(st, 2, a.actor, sizeof(a.actor));
		db_column_text(st, 3, a.action, sizeof(a.action));
		db_column_text(st, 4, a.subject, sizeof(a.subject));
		db_column_text(st, 5, a.detail, sizeof(a.detail));
		db_column_text(st, 6, a.prev, sizeof(a.prev));
		db_column_text(st, 7, a.hash, sizeof(a.hash));
		r = fn(ctx, &a);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "search audit");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

struct rej {
	struct db *db;
	sqlite3_stmt *aside;
	int want_aside;
	int (*fn)(void *ctx, const struct outbox_item *it);
	void *ctx;
};

static int rej_one(void *ctx, const struct outbox_item *it)
{
	struct rej *x = ctx;
	sqlite3_reset(x->aside);
	sqlite3_bind_int64(x->aside, 1, it->id);
	int is_aside = sqlite3_step(x->aside) == SQLITE_ROW;
	if (is_aside != x->want_aside)
		return 0;
	return x->fn(x->ctx, it);
}

int views_rejected(struct db *db, int aside, int limit, int (*fn)(void *ctx, const struct outbox_item *it),
		   void *ctx)
{
	struct rej x = { .db = db, .want_aside = aside ? 1 : 0, .fn = fn, .ctx = ctx };
	int r = db_prepare(db, "SELECT 1 FROM outbox_aside WHERE id = ?", &x.aside);
	if (r < 0)
		return r;
	r = outbox_list(db, "rejected", limit, rej_one, &x);
	sqlite3_finalize(x.aside);
	return r;
}

static int finish(struct db *db, int r, const char *actor, const char *action, int64_t id, const char *detail)
{
	char subject[32];
	snprintf(subject, sizeof(subject), "outbox-%lld", (long long)id);
	if (r == 0)
		r = audit_append(db, actor, action, subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int views_outbox_aside(struct db *db, int64_t id, const char *actor, const char *note)
{
	struct outbox_item it;
	sqlite3_stmt *st;
	char now[32];
	int r;

	if (strlen(note) > 200)
		return -EINVAL;
	r = db_begin(db);
	if (r < 0)
		return r;
	r = outbox_get(db, id, &it);
	if (r == 0 && strcmp(it.state, "rejected") != 0)
		r = -ESTALE;
	if (r == 0)
		r = db_prepare(db,
			       "INSERT INTO outbox_aside(id, actor, at, note) VALUES(?1, ?2, ?3, ?4) "
			       "ON CONFLICT(id) DO UPDATE SET actor = excluded.actor, at = excluded.at, "
			       "note = excluded.note",
			       &st);
	if (r == 0) {
		db_now(now);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, now, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, note, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "set aside");
		sqlite3_finalize(st);
	}
	return finish(db, r, actor, "outbox.aside", id, "");
}

int views_outbox_retry(struct db *db, int64_t id, const char *actor)
{
	sqlite3_stmt *st;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = outbox_retry(db, id);
	if (r == 0)
		r = db_prepare(db, "DELETE FROM outbox_aside WHERE id = ?", &st);
	if (r == 0) {
		sqlite3_bind_int64(st, 1, id);
		int rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "clear aside");
		sqlite3_finalize(st);
	}
	return finish(db, r, actor, "outbox.retry", id, "");
}

int views_dossiers_search(struct db *db, const struct views_dossier_query *q,
			  int (*fn)(void *ctx, int64_t id), void *ctx)
{
	/* The statement is put together from these fixed pieces only; values are bound. */
	char sql[768];
	size_t n = 0;
	sqlite3_stmt *st;
	int r, rc, k = 0;
	const char *binds[6];
	if (q->limit < 1 || q->limit > 500 || q->offset < 0)
		return -EINVAL;
#define ADD(s) n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s", (s))
	ADD("SELECT d.id FROM dossiers d WHERE 1");
	if (q->words) {
		ADD(" AND d.id IN (SELECT rowid FROM dossier_names WHERE dossier_names MATCH ?)");
		binds[k++] = q->words;
	}
	if (q->id_hash) {
		ADD(" AND d.applicant_id_hash = ?");
		binds[k++] = q->id_hash;
	}
	if (q->code) {
		ADD(" AND d.code = ?");
		binds[k++] = q->code;
	}
	if (q->state) {
		ADD(" AND d.state = ?");
		binds[k++] = q->state;
	}
	if (q->from) {
		ADD(" AND d.opened_at >= ?");
		binds[k++] = q->from;
	}
	if (q->to) {
		ADD(" AND d.opened_at < ?");
		binds[k++] = q->to;
	}
	ADD(q->sort == VIEWS_OLDEST    ? " ORDER BY d.id ASC"
		: q->sort == VIEWS_DUE ? " ORDER BY d.due_day = '', d.due_day ASC, d.id ASC"
				       : " ORDER BY d.id DESC");
	ADD(" LIMIT ? OFFSET ?");
#undef ADD
	if (n >= sizeof(sql))
		return -EMSGSIZE;
	r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	for (int i = 0; i < k; i++)
		sqlite3_bind_text(st, i + 1, binds[i], -1, SQLITE_STATIC);
	sqlite3_bind_int(st, k + 1, q->limit);
	sqlite3_bind_int(st, k + 2, q->offset);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn(ctx, sqlite3_column_int64(st, 0));
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "search dossiers");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}
