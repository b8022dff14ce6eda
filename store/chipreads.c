/* ID card chip reads: result blobs and their rows (schema version 10). */
#include "store/chipreads.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/audit.h"
#include "store/db.h"

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

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s && *s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

int chipreads_add(struct db *db, struct blobs *b, const char *doc_id, const char *face_doc_id,
		  const char *json, size_t len, int verified, int differences, const char *failed,
		  const char *actor, int64_t *ret_id)
{
	struct mem_src src = { json, len };
	char hash[BLOB_HASH_HEX], now[32], detail[256];
	int64_t size, id;
	sqlite3_stmt *st = NULL;
	int r = blob_put(b, mem_read, &src, (int64_t)len, hash, &size);
	if (r < 0)
		return r;
	if ((r = db_begin(db)) < 0)
		return r;
	db_now(now);
	r = db_prepare(db,
		       "INSERT INTO chip_reads(doc_id, face_doc_id, result_sha256, verified, differences, "
		       "actor, at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		       &st);
	if (r < 0)
		goto fail;
	bind_opt(st, 1, doc_id);
	bind_opt(st, 2, face_doc_id);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, verified != 0);
	sqlite3_bind_int(st, 5, differences);
	sqlite3_bind_text(st, 6, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, now, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		r = db_error(db, r, "storing a chip read");
		goto fail;
	}
	id = sqlite3_last_insert_rowid(db_handle(db));
	if (face_doc_id && *face_doc_id) {
		r = db_prepare(db,
			       "INSERT INTO recognitions(doc_id, state, attempts, type, confidence, "
			       "needs_review, result_sha256, updated_at) VALUES(?1, 'done', 0, "
			       "'id_card_chip', ?2, ?3, ?4, ?5) ON CONFLICT(doc_id) DO UPDATE SET "
			       "state='done', type='id_card_chip', confidence=?2, needs_review=?3, "
			       "result_sha256=?4, updated_at=?5",
			       &st);
		if (r < 0)
			goto fail;
		sqlite3_bind_text(st, 1, face_doc_id, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, verified ? 1.0 : 0.5);
		sqlite3_bind_int(st, 3, !verified || differences > 0);
		sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		sqlite3_finalize(st);
		if (r != SQLITE_DONE) {
			r = db_error(db, r, "storing the chip result as the face's recognition");
			goto fail;
		}
	}
	snprintf(detail, sizeof(detail),
		 "{\"read\":%lld,\"verified\":%s,\"differences\":%d,\"failed\":\"%.120s\"}", (long long)id,
		 verified ? "true" : "false", differences, failed ? failed : "");
	r = audit_append(db, actor, "document.chip_read",
			 doc_id && *doc_id ? doc_id
			     : face_doc_id ? face_doc_id
					   : "",
			 detail);
	if (r < 0)
		goto fail;
	if ((r = db_commit(db)) < 0)
		return r;
	if (ret_id)
		*ret_id = id;
	return 0;
fail:
	db_rollback(db);
	return r;
}

int chipreads_latest(struct db *db, const char *doc_id, struct chip_read_row *ret)
{
	sqlite3_stmt *st = NULL;
	int r = db_prepare(db,
			   "SELECT id, doc_id, face_doc_id, result_sha256, verified, differences, actor, at "
			   "FROM chip_reads WHERE doc_id=?1 OR face_doc_id=?1 ORDER BY id DESC LIMIT 1",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		struct chip_read_row row;
		memset(&row, 0, sizeof(row));
		row.id = sqlite3_column_int64(st, 0);
		db_column_text(st, 1, row.doc_id, sizeof(row.doc_id));
		db_column_text(st, 2, row.face_doc_id, sizeof(row.face_doc_id));
		db_column_text(st, 3, row.result_sha256, sizeof(row.result_sha256));
		row.verified = sqlite3_column_int(st, 4);
		row.differences = sqlite3_column_int(st, 5);
		db_column_text(st, 6, row.actor, sizeof(row.actor));
		db_column_text(st, 7, row.at, sizeof(row.at));
		*ret = row;
		r = 0;
	} else {
		r = r == SQLITE_DONE ? -ENOENT : db_error(db, r, "reading a chip read");
	}
	sqlite3_finalize(st);
	return r;
}
