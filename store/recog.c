/* Recognition queue rows and results (see recog.h). */
#include "store/recog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit.h"
#include "store/db.h"

int recog_sweep(struct db *db, int reset_running, int64_t *ret_added)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	if (reset_running) {
		r = sqlite3_exec(db_handle(db),
				 "UPDATE recognitions SET state='queued' WHERE state='running'", NULL, NULL,
				 NULL);
		if (r != SQLITE_OK) {
			r = db_error(db, r, "resetting running recognitions");
			goto fail;
		}
	}
	r = db_prepare(
	    db,
	    "INSERT INTO recognitions(doc_id, state, updated_at) SELECT id, 'queued', ?1 FROM documents d "
	    "WHERE content_type LIKE 'image/%' AND NOT EXISTS "
	    "(SELECT 1 FROM recognitions r WHERE r.doc_id = d.id) ORDER BY seq",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "queueing images for recognition");
		goto fail;
	}
	if (ret_added)
		*ret_added = sqlite3_changes(db_handle(db));
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

int recog_claim(struct db *db, struct recog_job *ret)
{
	sqlite3_stmt *st = NULL;
	char now[32];
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(
	    db,
	    "SELECT r.doc_id, d.sha256, r.attempts FROM recognitions r JOIN documents d ON d.id = r.doc_id "
	    "WHERE r.state = 'queued' ORDER BY d.seq LIMIT 1",
	    &st);
	if (r < 0)
		goto fail;
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_finalize(st);
		r = r == SQLITE_DONE ? -ENOENT : db_error(db, r, "claiming a recognition");
		goto fail;
	}
	snprintf(ret->doc_id, sizeof(ret->doc_id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(ret->sha256, sizeof(ret->sha256), "%s", (const char *)sqlite3_column_text(st, 1));
	ret->attempts = sqlite3_column_int64(st, 2) + 1;
	sqlite3_finalize(st);
	r = db_prepare(
	    db, "UPDATE recognitions SET state='running', attempts=attempts+1, updated_at=?2 WHERE doc_id=?1",
	    &st);
	if (r < 0)
		goto fail;
	db_now(now);
	sqlite3_bind_text(st, 1, ret->doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "claiming a recognition");
		goto fail;
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

struct mem_src {
	const char *p;
	size_t left;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_src *m = ctx;
	size_t n = len < m->left ? len : m->left;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

int recog_finish(struct db *db, struct blobs *b, const char *doc_id, const char *json, size_t len,
		 const char *type, double confidence, int needs_review)
{
	struct mem_src src = { json, len };
	char hash[BLOB_HASH_HEX], now[32], detail[160];
	int64_t size;
	sqlite3_stmt *st = NULL;
	/* The blob first: durable before the row that names it (an orphan after a failed
	 * commit is harmless: content-addressed). */
	int r = blob_put(b, mem_read, &src, (int64_t)len, hash, &size);
	if (r < 0)
		return r;
	r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(db,
		       "UPDATE recognitions SET state='done', type=?2, confidence=?3, needs_review=?4, "
		       "result_sha256=?5, updated_at=?6 WHERE doc_id=?1",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, confidence);
	sqlite3_bind_int(st, 4, needs_review != 0);
	sqlite3_bind_text(st, 5, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "storing a recognition");
		goto fail;
	}
	snprintf(detail, sizeof(detail), "{\"type\":\"%.40s\",\"confidence\":%.3f,\"needs_review\":%s}", type,
		 confidence, needs_review ? "true" : "false");
	r = audit_append(db, "recognizer", "document.recognized", doc_id, detail);
	if (r < 0)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

int recog_fail(struct db *db, const char *doc_id, const char *why)
{
	sqlite3_stmt *st = NULL;
	char now[32], detail[160];
	int r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(
	    db,
	    "UPDATE recognitions SET state = CASE WHEN attempts >= ?3 THEN 'failed' ELSE 'queued' END, "
	    "needs_review = CASE WHEN attempts >= ?3 THEN 1 ELSE needs_review END, updated_at=?2 "
	    "WHERE doc_id=?1 RETURNING state",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, RECOG_MAX_ATTEMPTS);
	r = sqlite3_step(st);
	int failed = r == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "failed") == 0;
	if (r == SQLITE_ROW)
		r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "recording a failed recognition");
		goto fail;
	}
	if (failed) {
		snprintf(detail, sizeof(detail), "{\"reason\":\"%.100s\",\"needs_review\":true}", why);
		r = audit_append(db, "recognizer", "document.recognition_failed", doc_id, detail);
		if (r < 0)
			goto fail;
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

int recog_get(struct db *db, const char *doc_id, struct recog_row *ret)
{
	sqlite3_stmt *st = NULL;
	int r = db_prepare(
	    db,
	    "SELECT state, COALESCE(type,''), COALESCE(confidence,0), COALESCE(needs_review,0), attempts, "
	    "COALESCE(result_sha256,''), updated_at FROM recognitions WHERE doc_id=?1",
	    &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->state, sizeof(ret->state), "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(ret->type, sizeof(ret->type), "%s", (const char *)sqlite3_column_text(st, 1));
		ret->confidence = sqlite3_column_double(st, 2);
		ret->needs_review = sqlite3_column_int(st, 3);
		ret->attempts = sqlite3_column_int64(st, 4);
		snprintf(ret->result_sha256, sizeof(ret->result_sha256), "%s",
			 (const char *)sqlite3_column_text(st, 5));
		snprintf(ret->updated_at, sizeof(ret->updated_at), "%s",
			 (const char *)sqlite3_column_text(st, 6));
		r = 0;
	} else {
		r = r == SQLITE_DONE ? -ENOENT : db_error(db, r, "reading a recognition");
	}
	sqlite3_finalize(st);
	return r;
}

int recog_correct(struct db *db, struct blobs *b, const char *doc_id, const char *json, size_t len,
		  const char *actor, const char *changed)
{
	struct mem_src src = { json, len };
	struct recog_row row;
	char hash[BLOB_HASH_HEX], now[32], *detail = NULL;
	int64_t size;
	sqlite3_stmt *st = NULL;
	int r = blob_put(b, mem_read, &src, (int64_t)len, hash, &size);
	if (r < 0)
		return r;
	r = db_begin(db);
	if (r < 0)
		return r;
	r = recog_get(db, doc_id, &row);
	if (r == 0 && (strcmp(row.state, "done") != 0 || !row.result_sha256[0]))
		r = -ENOENT;
	if (r < 0)
		goto fail;
	db_now(now);
	r = db_prepare(db,
		       "INSERT INTO recog_corrections(doc_id, base_sha256, result_sha256, actor, at) "
		       "VALUES(?1, ?2, ?3, ?4, ?5)",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, row.result_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "storing a recognition correction");
		goto fail;
	}
	size_t dl = strlen(changed) + 64;
	detail = malloc(dl);
	if (!detail) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(detail, dl, "{\"changed\":[%s],\"result\":\"%.12s\"}", changed, hash);
	r = audit_append(db, actor, "document.corrected", doc_id, detail);
	free(detail);
	if (r < 0)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

int recog_correction_get(struct db *db, const char *doc_id, struct recog_correction *ret)
{
	sqlite3_stmt *st = NULL;
	int r = db_prepare(db,
			   "SELECT id, base_sha256, result_sha256, actor, at FROM recog_corrections "
			   "WHERE doc_id=?1 ORDER BY id DESC LIMIT 1",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		ret->id = sqlite3_column_int64(st, 0);
		snprintf(ret->base_sha256, sizeof(ret->base_sha256), "%s",
			 (const char *)sqlite3_column_text(st, 1));
		snprintf(ret->result_sha256, sizeof(ret->result_sha256), "%s",
			 (const char *)sqlite3_column_text(st, 2));
		snprintf(ret->actor, sizeof(ret->actor), "%s", (const char *)sqlite3_column_text(st, 3));
		snprintf(ret->at, sizeof(ret->at), "%s", (const char *)sqlite3_column_text(st, 4));
		r = 0;
	} else {
		r = r == SQLITE_DONE ? -ENOENT : db_error(db, r, "reading a recognition correction");
	}
	sqlite3_finalize(st);
	return r;
}

#define RESULT_MAX (1024 * 1024)

struct text_sink {
	char *p;
	size_t len;
};

static int text_write(void *ctx, const void *buf, size_t len)
{
	struct text_sink *t = ctx;
	if (t->len + len > RESULT_MAX)
		return -EMSGSIZE;
	char *n = realloc(t->p, t->len + len + 1);
	if (!n)
		return -ENOMEM;
	memcpy(n + t->len, buf, len);
	t->p = n;
	t->len += len;
	t->p[t->len] = '\0';
	return 0;
}

int recog_blob_text(struct blobs *b, const char *hash, char **ret_text, size_t *ret_len)
{
	struct text_sink t = { calloc(1, 1), 0 };
	if (!t.p)
		return -ENOMEM;
	int r = blob_get(b, hash, text_write, &t);
	if (r < 0) {
		free(t.p);
		return r;
	}
	*ret_text = t.p;
	if (ret_len)
		*ret_len = t.len;
	return 0;
}

int recog_pair_partner(struct db *db, const char *doc_id, const char *want, int64_t window_s,
		       char ret_doc[33], char ret_sha[BLOB_HASH_HEX])
{
	sqlite3_stmt *st = NULL;
	int r = db_prepare(
	    db,
	    "SELECT o.id, r.result_sha256 FROM documents d "
	    "JOIN documents o ON o.source = d.source AND o.id != d.id "
	    "JOIN recognitions r ON r.doc_id = o.id AND r.state = 'done' AND r.type = ?2 "
	    "WHERE d.id = ?1 AND abs(julianday(o.received_at) - julianday(d.received_at)) * 86400.0 <= ?3 "
	    "AND NOT EXISTS (SELECT 1 FROM recog_pairs p WHERE p.front_doc IN (o.id, d.id) "
	    "OR p.back_doc IN (o.id, d.id)) "
	    "ORDER BY abs(julianday(o.received_at) - julianday(d.received_at)), o.seq DESC LIMIT 1",
	    &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, want, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, window_s);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_column_text(st, 0, ret_doc, 33);
		db_column_text(st, 1, ret_sha, BLOB_HASH_HEX);
		r = 0;
	} else {
		r = r == SQLITE_DONE ? -ENOENT : db_error(db, r, "looking for a card's other side");
	}
	sqlite3_finalize(st);
	return r;
}

int recog_pair_store(struct db *db, struct blobs *b, const char *front_doc, const char *back_doc,
		     const char *json, size_t len, int agree, int needs_review, const char *how,
		     const char *actor, const char *differing)
{
	struct mem_src src = { json, len };
	char hash[BLOB_HASH_HEX], now[32], detail[256];
	int64_t size;
	sqlite3_stmt *st = NULL;
	int r = blob_put(b, mem_read, &src, (int64_t)len, hash, &size);
	if (r < 0)
		return r;
	r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(
	    db,
	    "INSERT INTO recog_pairs(front_doc, back_doc, result_sha256, agree, needs_review, how, at) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, front_doc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, back_doc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, agree != 0);
	sqlite3_bind_int(st, 5, needs_review != 0);
	sqlite3_bind_text(st, 6, how, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "storing a card's two sides as one identity");
		goto fail;
	}
	snprintf(detail, sizeof(detail),
		 "{\"front\":\"%.32s\",\"back\":\"%.32s\",\"how\":\"%.15s\",\"agree\":%s,\"differing\":\"%."
		 "100s\"}",
		 front_doc, back_doc, how, agree ? "true" : "false", differing ? differing : "");
	r = audit_append(db, actor, "identity.paired", front_doc, detail);
	if (r < 0)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

int recog_pair_get(struct db *db, const char *doc_id, struct recog_pair *ret)
{
	sqlite3_stmt *st = NULL;
	int r = db_prepare(
	    db,
	    "SELECT front_doc, back_doc, result_sha256, agree, needs_review, how, at FROM recog_pairs "
	    "WHERE front_doc = ?1 OR back_doc = ?1",
	    &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		db_column_text(st, 0, ret->front_doc, sizeof(ret->front_doc));
		db_column_text(st, 1, ret->back_doc, sizeof(ret->back_doc));
		db_column_text(st, 2, ret->result_sha256, sizeof(ret->result_sha256));
		ret->agree = sqlite3_column_int(st, 3);
		ret->needs_review = sqlite3_column_int(st, 4);
		db_column_text(st, 5, ret->how, sizeof(ret->how));
		db_column_text(st, 6, ret->at, sizeof(ret->at));
		r = 0;
	} else {
		r = r == SQLITE_DONE ? -ENOENT : db_error(db, r, "reading a card's pair");
	}
	sqlite3_finalize(st);
	return r;
}
