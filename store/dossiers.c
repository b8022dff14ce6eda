/* Dossier rows, their attached scans, the daily dossier-code sequence and the city's status.
 * Acceptance is one transaction: number, code, submission body, outbox item, audit row. */
#include "store/dossiers.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/dossier_steps.h"
#include "store/outbox.h"

#define COLS                                                                                            \
	"id, procedure, state, applicant_name, applicant_id_hash, applicant_id_tail, applicant_doc, "   \
	"source, "                                                                                      \
	"opened_by, opened_at, IFNULL(code, ''), accepted_by, accepted_at, note, received_s, due_day, " \
	"outbox_id, city_status, city_status_text, city_updated_at, step, assignee, first_due_day, "    \
	"pause_day, paused_days, new_due_day, done_s, returned_s"

static void read_row(sqlite3_stmt *st, struct dossier_row *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, d->procedure, sizeof(d->procedure));
	db_column_text(st, 2, d->state, sizeof(d->state));
	db_column_text(st, 3, d->applicant_name, sizeof(d->applicant_name));
	db_column_text(st, 4, d->applicant_id_hash, sizeof(d->applicant_id_hash));
	db_column_text(st, 5, d->applicant_id_tail, sizeof(d->applicant_id_tail));
	db_column_text(st, 6, d->applicant_doc, sizeof(d->applicant_doc));
	db_column_text(st, 7, d->source, sizeof(d->source));
	db_column_text(st, 8, d->opened_by, sizeof(d->opened_by));
	db_column_text(st, 9, d->opened_at, sizeof(d->opened_at));
	db_column_text(st, 10, d->code, sizeof(d->code));
	db_column_text(st, 11, d->accepted_by, sizeof(d->accepted_by));
	db_column_text(st, 12, d->accepted_at, sizeof(d->accepted_at));
	db_column_text(st, 13, d->note, sizeof(d->note));
	d->received_s = sqlite3_column_int64(st, 14);
	db_column_text(st, 15, d->due_day, sizeof(d->due_day));
	d->outbox_id = sqlite3_column_int64(st, 16);
	db_column_text(st, 17, d->city_status, sizeof(d->city_status));
	db_column_text(st, 18, d->city_status_text, sizeof(d->city_status_text));
	db_column_text(st, 19, d->city_updated_at, sizeof(d->city_updated_at));
	db_column_text(st, 20, d->step, sizeof(d->step));
	db_column_text(st, 21, d->assignee, sizeof(d->assignee));
	db_column_text(st, 22, d->first_due_day, sizeof(d->first_due_day));
	db_column_text(st, 23, d->pause_day, sizeof(d->pause_day));
	d->paused_days = sqlite3_column_int64(st, 24);
	db_column_text(st, 25, d->new_due_day, sizeof(d->new_due_day));
	d->done_s = sqlite3_column_int64(st, 26);
	d->returned_s = sqlite3_column_int64(st, 27);
}

int dossiers_status_valid(const char *s)
{
	static const char *const ok[] = { "received", "processing", "supplement_requested",
					  "approved", "refused",    "returned",
					  "withdrawn" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

int dossiers_status_final(const char *s)
{
	return strcmp(s, "approved") == 0 || strcmp(s, "refused") == 0 || strcmp(s, "returned") == 0 ||
	    strcmp(s, "withdrawn") == 0;
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, rc, what);
}

int dossiers_open(struct db *db, const char *actor, const struct dossier_row *in, int64_t *ret_id)
{
	sqlite3_stmt *st = NULL;
	char now[32], subject[32], detail[160];
	int64_t id;
	int r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(
	    db,
	    "INSERT INTO dossiers(procedure, state, applicant_name, applicant_id_hash, applicant_id_tail, "
	    "applicant_doc, source, opened_by, opened_at, applicant_id_keyed) "
	    "VALUES(?, 'open', ?, ?, ?, ?, ?, ?, ?, 1)",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, in->procedure, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->applicant_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->applicant_id_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, in->applicant_id_tail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, in->applicant_doc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, in->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, now, -1, SQLITE_STATIC);
	r = step_done(db, st, "opening a dossier");
	if (r < 0)
		goto fail;
	id = sqlite3_last_insert_rowid(db_handle(db));
	snprintf(subject, sizeof(subject), "dossier:%lld", (long long)id);
	/* No personal data in the chain: the procedure and how the applicant was identified. */
	snprintf(detail, sizeof(detail), "{\"procedure\":\"%s\",\"applicant\":\"%s\",\"source\":\"%s\"}",
		 in->procedure, in->applicant_doc[0] ? "id_card" : "typed", in->source);
	r = audit_append(db, actor, "dossier.open", subject, detail);
	if (r < 0)
		goto fail;
	r = db_commit(db);
	if (r < 0)
		goto fail;
	*ret_id = id;
	return 0;
fail:
	db_rollback(db);
	return r;
}

static int get_where(struct db *db, const char *where, int64_t id, const char *code, struct dossier_row *ret)
{
	sqlite3_stmt *st;
	char sql[512];
	snprintf(sql, sizeof(sql), "SELECT " COLS " FROM dossiers WHERE %s", where);
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	if (code)
		sqlite3_bind_text(st, 1, code, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_row(st, ret);
		r = 0;
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "reading a dossier");
	}
	sqlite3_finalize(st);
	return r;
}

int dossiers_get(struct db *db, int64_t id, struct dossier_row *ret)
{
	return get_where(db, "id = ?", id, NULL, ret);
}

int dossiers_get_by_code(struct db *db, const char *code, struct dossier_row *ret)
{
	return get_where(db, "code = ?", 0, code, ret);
}

int dossiers_attach(struct db *db, const char *actor, int64_t id, const char *item, const char *doc_id,
		    const char *doc_type)
{
	struct dossier_row d;
	sqlite3_stmt *st = NULL;
	char now[32], subject[32], detail[256];
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = dossiers_get(db, id, &d);
	if (r < 0)
		goto fail;
	if (strcmp(d.state, "open") != 0) {
		r = -EBUSY;
		goto fail;
	}
	db_now(now);
	r = db_prepare(db,
		       "INSERT OR IGNORE INTO dossier_items(dossier, item, doc_id, doc_type, attached_at) "
		       "VALUES(?, ?, ?, ?, ?)",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, item, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, doc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, doc_type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_STATIC);
	r = step_done(db, st, "attaching a document");
	if (r < 0)
		goto fail;
	if (sqlite3_changes(db_handle(db)) == 0) {
		db_rollback(db);
		return 1;
	}
	snprintf(subject, sizeof(subject), "dossier:%lld", (long long)id);
	snprintf(detail, sizeof(detail), "{\"item\":\"%s\",\"document\":\"%s\",\"type\":\"%s\"}", item,
		 doc_id, doc_type);
	r = audit_append(db, actor, "dossier.attach", subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return r;
}

int dossiers_items(struct db *db, int64_t id, int (*fn)(void *ctx, const struct dossier_item_row *it),
		   void *ctx)
{
	sqlite3_stmt *st;
	struct dossier_item_row it;
	int rc,
	    r = db_prepare(db,
			   "SELECT item, doc_id, doc_type, attached_at FROM dossier_items WHERE dossier = ? "
			   "ORDER BY rowid",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_column_text(st, 0, it.item, sizeof(it.item));
		db_column_text(st, 1, it.doc_id, sizeof(it.doc_id));
		db_column_text(st, 2, it.doc_type, sizeof(it.doc_type));
		db_column_text(st, 3, it.attached_at, sizeof(it.attached_at));
		r = fn(ctx, &it);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(db, rc, "listing dossier items");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

int dossiers_list(struct db *db, const char *state, int limit,
		  int (*fn)(void *ctx, const struct dossier_row *d), void *ctx)
{
	sqlite3_stmt *st;
	struct dossier_row d;
	int rc,
	    r = db_prepare(db,
			   "SELECT " COLS " FROM dossiers WHERE (?1 IS NULL OR state = ?1) ORDER BY id DESC "
			   "LIMIT ?2",
			   &st);
	if (r < 0)
		return r;
	if (state)
		sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_row(st, &d);
		r = fn(ctx, &d);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(db, rc, "listing dossiers");
	sqlite3_finalize(st);
	return r < 0 ? r : 0;
}

static int next_seq(struct db *db, const char *day, int64_t *ret)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "INSERT INTO dossier_seq(day, last) VALUES(?, 1) "
			   "ON CONFLICT(day) DO UPDATE SET last = last + 1 RETURNING last",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(db, rc, "taking a dossier number");
}

static int add_doc_id(void *ctx, const struct dossier_item_row *it)
{
	json_array_append_new((json_t *)ctx, json_string(it->doc_id));
	return 0;
}

static int build_body(struct db *db, const struct dossier_row *d, const char *commune_code, char **ret)
{
	char recv[32];
	time_t t = (time_t)d->received_s;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(recv, sizeof(recv), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *docs = json_array();
	int r = docs ? dossiers_items(db, d->id, add_doc_id, docs) : -ENOMEM;
	if (r < 0) {
		json_decref(docs);
		return r;
	}
	/* Documents travel on their own stream; the dossier names them and references no blob,
	 * so it never waits for a scan's upload. */
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:o, s:s, s:s, s:[]}", "schema",
			      "motcua.lgsp.v1", "commune_code", commune_code, "created_at", d->accepted_at,
			      "dossier_code", d->code, "procedure_code", d->procedure, "received_at", recv,
			      "applicant", "id_last4", d->applicant_id_tail, "documents", docs, "due_day",
			      d->due_day, "note", d->note, "blobs");
	*ret = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(b);
	return *ret ? 0 : -ENOMEM;
}

int dossiers_accept(struct db *db, const char *actor, int64_t id, const char *agency,
		    const char *commune_code, const char *day, int64_t received_s, const char *due_day,
		    const char *note, struct dossier_row *ret)
{
	struct dossier_row d;
	sqlite3_stmt *st = NULL;
	char subject[32], detail[512], key[DOSSIER_CODE_MAX + 16], *body = NULL;
	int64_t seq = 0, oid = 0;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = dossiers_get(db, id, &d);
	if (r < 0)
		goto fail;
	if (strcmp(d.state, "open") != 0) {
		r = -EBUSY;
		goto fail;
	}
	r = next_seq(db, day, &seq);
	if (r < 0)
		goto fail;
	if (seq > DOSSIER_SEQ_MAX) {
		r = -ENOSPC;
		goto fail;
	}
	snprintf(d.code, sizeof(d.code), "%s-%s-%04lld", agency, day, (long long)seq);
	db_now(d.accepted_at);
	snprintf(d.accepted_by, sizeof(d.accepted_by), "%s", actor);
	snprintf(d.note, sizeof(d.note), "%s", note ? note : "");
	snprintf(d.due_day, sizeof(d.due_day), "%s", due_day ? due_day : "");
	d.received_s = received_s;
	snprintf(d.state, sizeof(d.state), "accepted");
	snprintf(d.step, sizeof(d.step), "received");
	snprintf(d.first_due_day, sizeof(d.first_due_day), "%s", d.due_day);
	r = build_body(db, &d, commune_code, &body);
	if (r < 0)
		goto fail;
	if (strlen(body) > DOSSIER_BODY_MAX) {
		r = -EMSGSIZE;
		goto fail;
	}
	/* The code is unique for good, so the key derived from it is fixed at acceptance. */
	snprintf(key, sizeof(key), "dossier-%s", d.code);
	r = outbox_enqueue(db, "dossiers", OUTBOX_PRIO_DOSSIER, "dossier", d.code, key, (int64_t)strlen(body),
			   &oid);
	if (r == 0)
		r = outbox_body_put(db, oid, body);
	if (r < 0)
		goto fail;
	d.outbox_id = oid;
	r = db_prepare(db,
		       "UPDATE dossiers SET state = 'accepted', code = ?, accepted_by = ?, accepted_at = ?, "
		       "note = ?, received_s = ?, due_day = ?6, outbox_id = ?, step = 'received', "
		       "first_due_day = ?6 WHERE id = ?",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, d.code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d.accepted_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d.accepted_at, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d.note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, d.received_s);
	sqlite3_bind_text(st, 6, d.due_day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, oid);
	sqlite3_bind_int64(st, 8, id);
	r = step_done(db, st, "accepting a dossier");
	if (r < 0)
		goto fail;
	snprintf(subject, sizeof(subject), "dossier:%lld", (long long)id);
	snprintf(detail, sizeof(detail), "{\"code\":\"%s\",\"due\":\"%s\",\"outbox\":%lld,\"with_note\":%s}",
		 d.code, d.due_day, (long long)oid, d.note[0] ? "true" : "false");
	r = audit_append(db, actor, "dossier.accept", subject, detail);
	/* The first step of its processing: received (the dossier submission tells the city). */
	if (r == 0)
		r = dossier_steps_insert(db, id, "received", "local", actor, received_s, "", "", d.due_day,
					 oid);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	free(body);
	if (ret)
		*ret = d;
	return 0;
fail:
	free(body);
	db_rollback(db);
	return r;
}

int dossiers_set_status(struct db *db, const char *actor, const char *code, const char *status,
			const char *text, const char *updated_at)
{
	struct dossier_row d;
	sqlite3_stmt *st = NULL;
	char subject[DOSSIER_CODE_MAX + 16], detail[160];
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = dossiers_get_by_code(db, code, &d);
	if (r < 0)
		goto fail;
	if (d.city_updated_at[0] && strcmp(updated_at, d.city_updated_at) <= 0) {
		db_rollback(db);
		return 1; /* a repeat or an older change: the newest wins */
	}
	r = db_prepare(
	    db, "UPDATE dossiers SET city_status = ?, city_status_text = ?, city_updated_at = ? WHERE id = ?",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, updated_at, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, d.id);
	r = step_done(db, st, "recording a dossier status");
	/* Into the timeline beside the commune's own steps, which it never replaces. */
	if (r == 0 && strcmp(d.state, "accepted") == 0)
		r = dossier_steps_insert(db, d.id, status, "city", actor, (int64_t)time(NULL), d.assignee,
					 text, d.due_day, 0);
	if (r < 0)
		goto fail;
	snprintf(subject, sizeof(subject), "dossier:%lld", (long long)d.id);
	snprintf(detail, sizeof(detail), "{\"code\":\"%.64s\",\"status\":\"%.32s\"}", code, status);
	r = audit_append(db, actor, "dossier.status", subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return r;
}

int dossiers_late_counts(struct db *db, const char *today, int64_t *ret_accepted, int64_t *ret_late)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db,
		       "SELECT COUNT(*), IFNULL(SUM(due_day != '' AND due_day < ?1 AND city_status NOT IN "
		       "('approved','refused','returned') AND step NOT IN ('ready','returned','refused',"
		       "'withdrawn')), 0) FROM dossiers WHERE state = 'accepted'",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*ret_accepted = sqlite3_column_int64(st, 0);
		*ret_late = sqlite3_column_int64(st, 1);
		r = 0;
	} else {
		r = db_error(db, rc, "counting late dossiers");
	}
	sqlite3_finalize(st);
	return r;
}

int outbox_body_put(struct db *db, int64_t outbox_id, const char *body)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "INSERT INTO outbox_bodies(outbox_id, body) VALUES(?, ?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, outbox_id);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	return step_done(db, st, "storing a submission body");
}

int outbox_body_get(struct db *db, int64_t outbox_id, char *buf, size_t size)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT body FROM outbox_bodies WHERE outbox_id = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, outbox_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		size_t n = t ? strlen(t) : 0;
		if (n >= size) {
			r = -EMSGSIZE;
		} else {
			memcpy(buf, t ? t : "", n + 1);
			r = 0;
		}
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "reading a submission body");
	}
	sqlite3_finalize(st);
	return r;
}

int dossiers_key_ids(struct db *db, struct blobs *b)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	int64_t n = 0, kept = 0;
	int r = db_begin(db), rc;
	if (r < 0)
		return r;
	r = db_prepare(db,
		       "SELECT id, applicant_id_hash FROM dossiers "
		       "WHERE applicant_id_keyed = 0 AND applicant_id_hash != ''",
		       &st);
	if (r == 0)
		r = db_prepare(
		    db, "UPDATE dossiers SET applicant_id_hash = ?2, applicant_id_keyed = 1 WHERE id = ?1",
		    &up);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char old[65], keyed[BLOB_HASH_HEX];
		db_column_text(st, 1, old, sizeof(old));
		blob_keyed_hash(b, DOSSIER_ID_PURPOSE, old, strlen(old), keyed);
		sqlite3_bind_int64(up, 1, sqlite3_column_int64(st, 0));
		sqlite3_bind_text(up, 2, keyed, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(up);
		sqlite3_reset(up);
		if (rc != SQLITE_DONE)
			r = db_error(db, rc, "key an applicant number");
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "read applicant numbers");
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	st = up = NULL;
	/* Submission bodies made before: the plain hash out, the last 4 digits in (docs/lgsp.md
	 * 7.4).  Only where no attempt was made (or the city has it already): a body the city
	 * may have seen is re-sent byte for byte, or its idempotency key would be refused. */
	if (r == 0)
		r = db_prepare(
		    db,
		    "UPDATE outbox_bodies SET body = json_set(json_remove(body, '$.applicant.id_sha256'),"
		    " '$.applicant.id_last4', (SELECT applicant_id_tail FROM dossiers d"
		    "  WHERE d.outbox_id = outbox_bodies.outbox_id)) "
		    "WHERE json_valid(body) AND json_extract(body, '$.applicant.id_sha256') IS NOT NULL"
		    " AND outbox_id IN (SELECT id FROM outbox WHERE state = 'delivered'"
		    "  OR (state = 'queued' AND attempts = 0))",
		    &st);
	if (r == 0) {
		rc = sqlite3_step(st);
		r = rc == SQLITE_DONE ? 0 : db_error(db, rc, "rewrite dossier bodies");
		sqlite3_finalize(st);
		st = NULL;
	}
	if (r == 0 &&
	    db_prepare(db,
		       "SELECT COUNT(*) FROM outbox_bodies "
		       "WHERE json_valid(body) AND json_extract(body, '$.applicant.id_sha256') IS NOT NULL",
		       &st) == 0) {
		if (sqlite3_step(st) == SQLITE_ROW)
			kept = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (r == 0 && n > 0)
		r = audit_append(db, "motcuad", "dossier.ids_keyed", "dossiers", "{}");
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	if (n > 0)
		log_info("store: %lld applicant numbers stored as plain SHA-256 are now keyed hashes",
			 (long long)n);
	if (kept > 0)
		log_warn("store: %lld dossier submissions already attempted keep their plain hash until "
			 "delivered (their bytes are fixed by the idempotency key)",
			 (long long)kept);
	return 0;
}
