/* Hash-chained audit rows.  A row's hash covers its sequence, every field and the previous
 * row's hash, each field length-prefixed so that no two rows serialise alike. */
#include "store/audit.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"

static const char genesis[65] = "0000000000000000000000000000000000000000000000000000000000000000";

static void feed(EVP_MD_CTX *h, const char *s)
{
	char len[24];
	int n = snprintf(len, sizeof(len), "%zu:", strlen(s));
	EVP_DigestUpdate(h, len, (size_t)n);
	EVP_DigestUpdate(h, s, strlen(s));
}

static int row_hash(const struct audit_row *r, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned mdlen;
	char seq[24];
	EVP_MD_CTX *h = EVP_MD_CTX_new();

	if (!h)
		return -ENOMEM;
	snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	feed(h, "motcua-audit-v1");
	feed(h, seq);
	feed(h, r->at);
	feed(h, r->actor);
	feed(h, r->action);
	feed(h, r->subject);
	feed(h, r->detail);
	feed(h, r->prev);
	EVP_DigestFinal_ex(h, md, &mdlen);
	EVP_MD_CTX_free(h);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static void read_row(sqlite3_stmt *st, struct audit_row *r)
{
	r->seq = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, r->at, sizeof(r->at));
	db_column_text(st, 2, r->actor, sizeof(r->actor));
	db_column_text(st, 3, r->action, sizeof(r->action));
	db_column_text(st, 4, r->subject, sizeof(r->subject));
	db_column_text(st, 5, r->detail, sizeof(r->detail));
	db_column_text(st, 6, r->prev, sizeof(r->prev));
	db_column_text(st, 7, r->hash, sizeof(r->hash));
}

int audit_append(struct db *db, const char *actor, const char *action, const char *subject,
		 const char *detail)
{
	struct audit_row row;
	sqlite3_stmt *st;
	int r, rc;

	if (strlen(actor) >= sizeof(row.actor) || strlen(action) >= sizeof(row.action) ||
	    strlen(subject) >= sizeof(row.subject) || strlen(detail) >= sizeof(row.detail))
		return -EMSGSIZE;
	memset(&row, 0, sizeof(row));
	r = db_prepare(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", &st);
	if (r < 0)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row.seq = sqlite3_column_int64(st, 0) + 1;
		db_column_text(st, 1, row.prev, sizeof(row.prev));
	} else if (rc == SQLITE_DONE) {
		row.seq = 1;
		memcpy(row.prev, genesis, sizeof(row.prev));
	} else {
		r = db_error(db, rc, "read audit head");
	}
	sqlite3_finalize(st);
	if (r < 0)
		return r;
	db_now(row.at);
	memcpy(row.actor, actor, strlen(actor) + 1);
	memcpy(row.action, action, strlen(action) + 1);
	memcpy(row.subject, subject, strlen(subject) + 1);
	memcpy(row.detail, detail, strlen(detail) + 1);
	r = row_hash(&row, row.hash);
	if (r < 0)
		return r;
	r = db_prepare(db,
		       "INSERT INTO audit(seq, at, actor, action, subject, detail, prev, hash) "
		       "VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, row.seq);
	sqlite3_bind_text(st, 2, row.at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, row.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, row.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, row.subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, row.detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, row.prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, row.hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "append audit row");
	sqlite3_finalize(st);
	return r;
}

int audit_record(struct db *db, const char *actor, const char *action, const char *subject,
		 const char *detail)
{
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = audit_append(db, actor, action, subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int audit_verify(struct db *db, int64_t *ret_rows, int64_t *ret_bad_seq, char *why, size_t whylen)
{
	struct audit_row row;
	char prev[65], want[65];
	int64_t expect = 1, rows = 0;
	sqlite3_stmt *st;
	int r, rc;

	memcpy(prev, genesis, sizeof(prev));
	r = db_prepare(db,
		       "SELECT seq, at, actor, action, subject, detail, prev, hash FROM audit "
		       "ORDER BY seq",
		       &st);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &row);
		const char *bad = NULL;
		if (row.seq != expect)
			bad = row.seq > expect ? "a row before it is missing (deleted)" : "out of sequence";
		else if (strcmp(row.prev, prev) != 0)
			bad = "its link to the previous row does not match (a row was inserted, deleted or "
			      "edited)";
		else if (row_hash(&row, want) < 0 || strcmp(want, row.hash) != 0)
			bad = "its content does not match its hash (the row was edited)";
		if (bad) {
			*ret_bad_seq = row.seq;
			snprintf(why, whylen, "row %lld: %s", (long long)row.seq, bad);
			r = -EBADMSG;
			break;
		}
		memcpy(prev, row.hash, sizeof(prev));
		expect++;
		rows++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "read audit chain");
	sqlite3_finalize(st);
	if (r == 0)
		*ret_rows = rows;
	return r;
}

int audit_tail(struct db *db, int n, int (*fn)(void *ctx, const struct audit_row *row), void *ctx)
{
	struct audit_row row;
	sqlite3_stmt *st;
	int r, rc;

	r = db_prepare(db,
		       "SELECT * FROM (SELECT seq, at, actor, action, subject, detail, prev, hash "
		       "FROM audit ORDER BY seq DESC LIMIT ?) ORDER BY seq",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, n);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &row);
		r = fn(ctx, &row);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "read audit tail");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}
