/* The certified-copy book: number reservation, issue and void (see copies.h). */
#include "store/copies.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/outbox.h"

#define COPY_COLS                                                                                  \
	"id, year, book, number, state, original_id, doc_id, official, seal, reason, created_at, " \
	"issued_at"

static void col(sqlite3_stmt *st, int i, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	snprintf(out, size, "%s", t ? (const char *)t : "");
}

static void read_row(sqlite3_stmt *st, struct copy_row *c)
{
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->year = sqlite3_column_int64(st, 1);
	c->book = sqlite3_column_int64(st, 2);
	c->number = sqlite3_column_int64(st, 3);
	col(st, 4, c->state, sizeof(c->state));
	col(st, 5, c->original_id, sizeof(c->original_id));
	col(st, 6, c->doc_id, sizeof(c->doc_id));
	col(st, 7, c->official, sizeof(c->official));
	col(st, 8, c->seal, sizeof(c->seal));
	col(st, 9, c->reason, sizeof(c->reason));
	col(st, 10, c->created_at, sizeof(c->created_at));
	col(st, 11, c->issued_at, sizeof(c->issued_at));
}

static int get_by(struct db *db, const char *where, int64_t a, int64_t b, struct copy_row *ret)
{
	char sql[256];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT " COPY_COLS " FROM copies WHERE %s", where);
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read certified copy");
	sqlite3_finalize(st);
	return r;
}

static char *detail(const struct copy_row *c, const char *extra_key, const char *extra)
{
	json_t *j =
	    json_pack("{s:I, s:I, s:I, s:s}", "year", (json_int_t)c->year, "book", (json_int_t)c->book,
		      "number", (json_int_t)c->number, "original", c->original_id);
	if (j && extra_key)
		json_object_set_new(j, extra_key, json_string(extra));
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return s;
}

static int subject(const struct copy_row *c, char *out, size_t size)
{
	snprintf(out, size, "copy:%lld/%lld", (long long)c->year, (long long)c->number);
	return 0;
}

int copies_reserve(struct db *db, int64_t year, int64_t book, const char *original_id, const char *official,
		   const char *actor, struct copy_row *ret)
{
	sqlite3_stmt *st = NULL;
	struct copy_row c;
	char subj[64], *d = NULL;
	int r, rc;

	memset(&c, 0, sizeof(c));
	if (year < 1 || year > 9999 || book < 1 || strlen(official) >= sizeof(c.official) ||
	    strlen(original_id) >= sizeof(c.original_id))
		return -EINVAL;
	r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(db, "SELECT COALESCE(MAX(number), 0) + 1 FROM copies WHERE year = ?", &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, year);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = db_error(db, rc, "next copy number");
		goto fail;
	}
	c.number = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	c.year = year;
	c.book = book;
	snprintf(c.state, sizeof(c.state), "reserved");
	snprintf(c.original_id, sizeof(c.original_id), "%s", original_id);
	snprintf(c.official, sizeof(c.official), "%s", official);
	db_now(c.created_at);
	r = db_prepare(db,
		       "INSERT INTO copies(year, book, number, state, original_id, official, created_at) "
		       "VALUES(?,?,?,'reserved',?,?,?)",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, c.year);
	sqlite3_bind_int64(st, 2, c.book);
	sqlite3_bind_int64(st, 3, c.number);
	sqlite3_bind_text(st, 4, c.original_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c.official, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c.created_at, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		r = db_error(db, rc, "reserve copy number");
		goto fail;
	}
	c.id = sqlite3_last_insert_rowid(db_handle(db));
	subject(&c, subj, sizeof(subj));
	d = detail(&c, "official", c.official);
	r = d ? audit_append(db, actor, "copy.reserve", subj, d) : -ENOMEM;
	if (r < 0)
		goto fail;
	r = db_commit(db);
	if (r < 0)
		goto fail;
	sqlite3_finalize(st);
	free(d);
	*ret = c;
	return 0;
fail:
	sqlite3_finalize(st);
	free(d);
	db_rollback(db);
	return r;
}

static int set_state(struct db *db, int64_t id, const char *state, const char *doc_id, const char *seal,
		     const char *reason)
{
	sqlite3_stmt *st;
	char now[32];
	db_now(now);
	int r = db_prepare(db,
			   "UPDATE copies SET state = ?, doc_id = ?, seal = ?, reason = ?, issued_at = ? "
			   "WHERE id = ? AND state = 'reserved'",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, seal, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, strcmp(state, "issued") == 0 ? now : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, id);
	int rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? (sqlite3_changes(db_handle(db)) == 1 ? 0 : -ESTALE)
			      : db_error(db, rc, "update certified copy");
	sqlite3_finalize(st);
	return r;
}

int copies_issue(struct db *db, int64_t id, const char *manifest_dir, const char *actor, struct doc_meta *pdf,
		 const char *seal)
{
	struct copy_row c;
	char subj[64], *d = NULL;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = get_by(db, "id = ?1", id, 0, &c);
	if (r < 0)
		goto fail;
	r = docs_add(db, manifest_dir, actor, pdf, "copies", OUTBOX_PRIO_DOSSIER, "certified-copy");
	if (r == 1)
		r = -EEXIST; /* the copy's intake key names its number: never twice */
	if (r < 0)
		goto fail;
	r = set_state(db, id, "issued", pdf->id, seal, "");
	if (r < 0)
		goto fail;
	subject(&c, subj, sizeof(subj));
	d = detail(&c, "document", pdf->id);
	r = d ? audit_append(db, actor, "copy.issue", subj, d) : -ENOMEM;
	if (r < 0)
		goto fail;
	r = db_commit(db);
	if (r < 0)
		goto fail;
	free(d);
	return 0;
fail:
	free(d);
	db_rollback(db);
	return r;
}

int copies_void(struct db *db, int64_t id, const char *actor, const char *reason)
{
	struct copy_row c;
	char subj[64], *d = NULL;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = get_by(db, "id = ?1", id, 0, &c);
	if (r == 0)
		r = set_state(db, id, "void", "", "", reason);
	if (r < 0)
		goto fail;
	subject(&c, subj, sizeof(subj));
	d = detail(&c, "reason", reason);
	r = d ? audit_append(db, actor, "copy.void", subj, d) : -ENOMEM;
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	free(d);
	return 0;
fail:
	free(d);
	db_rollback(db);
	return r;
}

int copies_get(struct db *db, int64_t year, int64_t number, struct copy_row *ret)
{
	return get_by(db, "year = ?1 AND number = ?2", year, number, ret);
}

int copies_get_by_doc(struct db *db, const char *doc_id, struct copy_row *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " COPY_COLS " FROM copies WHERE doc_id = ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_row(st, ret);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read a certified copy");
	sqlite3_finalize(st);
	return r;
}

int copies_list(struct db *db, int limit, int (*fn)(void *ctx, const struct copy_row *c), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " COPY_COLS " FROM copies ORDER BY id DESC LIMIT ?1", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct copy_row c;
		read_row(st, &c);
		r = fn(ctx, &c);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list certified copies");
	sqlite3_finalize(st);
	return r;
}
