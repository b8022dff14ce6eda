/* Document rows: the intake transaction and reads.  The blob is already durable when
 * docs_intake runs; the row, outbox item, audit row and manifest land in one commit. */
#include "store/docs.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "gateway/log.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/outbox.h"

int docs_token_valid(const char *s, size_t max)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return 0;
	return i > 0 && i < max;
}

int docs_key_valid(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-' ||
		      s[i] == ':'))
			return 0;
	return i > 0 && i < DOC_KEY_MAX;
}

#define DOC_COLS "id, seq, sha256, size, content_type, kind, source, name, intake_key, received_at"

static void read_doc(sqlite3_stmt *st, struct doc_meta *m)
{
	memset(m, 0, sizeof(*m));
	db_column_text(st, 0, m->id, sizeof(m->id));
	m->seq = sqlite3_column_int64(st, 1);
	db_column_text(st, 2, m->sha256, sizeof(m->sha256));
	m->size = sqlite3_column_int64(st, 3);
	db_column_text(st, 4, m->content_type, sizeof(m->content_type));
	db_column_text(st, 5, m->kind, sizeof(m->kind));
	db_column_text(st, 6, m->source, sizeof(m->source));
	db_column_text(st, 7, m->name, sizeof(m->name));
	db_column_text(st, 8, m->intake_key, sizeof(m->intake_key));
	db_column_text(st, 9, m->received_at, sizeof(m->received_at));
}

static int find_by_key(struct db *db, const char *key, struct doc_meta *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " DOC_COLS " FROM documents WHERE intake_key = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_doc(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "find document by intake key");
	sqlite3_finalize(st);
	return r;
}

static int insert_doc(struct db *db, const struct doc_meta *m)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "INSERT INTO documents(" DOC_COLS ") VALUES(?,?,?,?,?,?,?,?,?,?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m->seq);
	sqlite3_bind_text(st, 3, m->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, m->size);
	sqlite3_bind_text(st, 5, m->content_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, m->intake_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, m->received_at, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "insert document");
	sqlite3_finalize(st);
	return r;
}

static int next_seq(struct db *db, int64_t *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM documents", &st);
	if (r < 0)
		return r;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else
		r = db_error(db, rc, "next document sequence");
	sqlite3_finalize(st);
	return r;
}

/* The id is derived from the intake key, so that an intake retried after a crash gets the id
 * of its first attempt: that attempt's manifest may be on disk although its commit never
 * happened, and a rebuild must not find two documents for one key. */
static int new_id(const char *intake_key, char out[DOC_ID_LEN])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned mdlen;
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	if (!h)
		return -ENOMEM;
	if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(h, "motcua-document-id", 19) != 1 ||
	    EVP_DigestUpdate(h, intake_key, strlen(intake_key)) != 1 ||
	    EVP_DigestFinal_ex(h, md, &mdlen) != 1) {
		EVP_MD_CTX_free(h);
		return -EIO;
	}
	EVP_MD_CTX_free(h);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[32] = '\0';
	return 0;
}

int docs_intake(struct db *db, const char *manifest_dir, const char *actor, struct doc_meta *meta)
{
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = docs_add(db, manifest_dir, actor, meta, "documents", OUTBOX_PRIO_DOCUMENT, "document");
	if (r == 1) {
		db_rollback(db);
		return 1;
	}
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int docs_add(struct db *db, const char *manifest_dir, const char *actor, struct doc_meta *meta,
	     const char *stream, int priority, const char *outbox_kind)
{
	struct doc_meta m = *meta, old;
	char detail[256];
	int r;

	if (!blob_hash_valid(m.sha256) || m.size < 0 || !docs_token_valid(m.kind, sizeof(m.kind)) ||
	    !docs_token_valid(m.source, sizeof(m.source)) || !docs_key_valid(m.intake_key) ||
	    !m.content_type[0])
		return -EINVAL;
	r = find_by_key(db, m.intake_key, &old);
	if (r == 0) {
		*meta = old;
		return 1;
	}
	if (r != -ENOENT)
		return r;
	r = next_seq(db, &m.seq);
	if (r < 0)
		return r;
	r = new_id(m.intake_key, m.id);
	if (r < 0)
		return r;
	db_now(m.received_at);
	r = insert_doc(db, &m);
	if (r < 0)
		return r;
	/* The intake key becomes the upstream idempotency key: fixed here, for good. */
	r = outbox_enqueue(db, stream, priority, outbox_kind, m.id, m.intake_key, m.size, NULL);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail),
		 "{\"sha256\":\"%s\",\"size\":%lld,\"kind\":\"%s\",\"source\":\"%s\"}", m.sha256,
		 (long long)m.size, m.kind, m.source);
	r = audit_append(db, actor, "document.intake", m.id, detail);
	if (r < 0)
		return r;
	r = manifest_write(manifest_dir, &m);
	if (r < 0) {
		log_error("store: cannot write manifest for document %s: %s", m.id, strerror(-r));
		return r;
	}
	*meta = m;
	return 0;
}

static int seq_taken(struct db *db, int64_t seq)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT 1 FROM documents WHERE seq = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, seq);
	int rc = sqlite3_step(st);
	r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : db_error(db, rc, "find document by sequence");
	sqlite3_finalize(st);
	return r;
}

int docs_restore(struct db *db, const struct doc_meta *meta)
{
	struct doc_meta m = *meta, old;
	int r = find_by_key(db, m.intake_key, &old);
	if (r == 0)
		return 1;
	if (r != -ENOENT)
		return r;
	/* A crash between an intake's manifest and its commit leaves a manifest whose sequence
	 * the next intake reused: keep both documents, this one after the others. */
	r = seq_taken(db, m.seq);
	if (r == 1) {
		r = next_seq(db, &m.seq);
		if (r == 0)
			log_warn("store: rebuild: document %s: sequence %lld is taken (an intake cut off by "
				 "a crash after its manifest was written); restored as %lld",
				 m.id, (long long)meta->seq, (long long)m.seq);
	}
	if (r < 0)
		return r;
	return insert_doc(db, &m);
}

int docs_get(struct db *db, const char *id, struct doc_meta *ret_meta)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT " DOC_COLS " FROM documents WHERE id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_doc(st, ret_meta);
	else
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read document");
	sqlite3_finalize(st);
	return r;
}

int docs_find_prefix(struct db *db, const char *prefix, char out[DOC_ID_LEN])
{
	char lo[DOC_ID_LEN], hi[DOC_ID_LEN + 1], id[DOC_ID_LEN] = "";
	size_t n = prefix ? strlen(prefix) : 0;
	sqlite3_stmt *st;
	int r, rc, found = 0;
	if (n < 6 || n > DOC_ID_LEN - 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = prefix[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -EINVAL;
		lo[i] = hi[i] = c;
	}
	lo[n] = '\0';
	hi[n] = 'g'; /* after every hex digit: [lo, hi) holds exactly the ids starting with lo */
	hi[n + 1] = '\0';
	r = db_prepare(db, "SELECT id FROM documents WHERE id >= ?1 AND id < ?2 LIMIT 2", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hi, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (found++ == 0)
			db_column_text(st, 0, id, sizeof(id));
	}
	if (rc != SQLITE_DONE)
		r = db_error(db, rc, "find document by prefix");
	else
		r = found == 0 ? -ENOENT : found > 1 ? -EEXIST : 0;
	sqlite3_finalize(st);
	if (r == 0)
		memcpy(out, id, DOC_ID_LEN);
	return r;
}

int docs_list(struct db *db, int64_t before_seq, int limit, int (*fn)(void *ctx, const struct doc_meta *m),
	      void *ctx)
{
	struct doc_meta m;
	sqlite3_stmt *st;
	int r, rc;

	r = db_prepare(db,
		       "SELECT " DOC_COLS " FROM documents WHERE (?1 = 0 OR seq < ?1) "
		       "ORDER BY seq DESC LIMIT ?2",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, before_seq);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_doc(st, &m);
		r = fn(ctx, &m);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list documents");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}
