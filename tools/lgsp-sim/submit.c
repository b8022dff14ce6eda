/* Submissions and dossier status for motcua-lgsp-sim: JSON items referencing uploaded blobs,
 * made idempotent by their Idempotency-Key (same key and body -> the same receipt; same key,
 * other body -> 422), and the status pull that sends dossier processing status back down. */
#include "tools/lgsp-sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/log.h"

#define STATUS_PAGE_MAX 500

static json_t *receipt_json(const char *receipt, const char *when, const char *hash, const char *key,
			    const char *kind)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "receipt_id", receipt, "time", when, "hash", hash,
			 "idempotency_key", key, "kind", kind);
}

/* The next value of the dossier change sequence (the status-pull cursor).  Caller holds lock. */
static int64_t next_change_seq(struct sim *s)
{
	int64_t v = 1;
	sqlite3_stmt *st = simdb_prepare(s, "SELECT coalesce(max(change_seq), 0) + 1 FROM dossiers");
	if (st && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* 0 when every referenced blob is held with its size; else fills rp (422) and returns -ENOENT. */
static int check_refs(struct sim *s, const struct sim_blob_ref *refs, int n, struct reply *rp)
{
	char field[48], why[160];
	for (int i = 0; i < n; i++) {
		int ok = 0;
		sqlite3_stmt *st = simdb_prepare(s, "SELECT size FROM blobs WHERE sha256 = ?1");
		if (!st)
			return -EIO;
		sqlite3_bind_text(st, 1, refs[i].sha256, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			ok = sqlite3_column_int64(st, 0) == refs[i].size ? 1 : -1;
		sqlite3_finalize(st);
		if (ok <= 0) {
			snprintf(field, sizeof(field), "blobs[%d].%s", i, ok < 0 ? "size" : "sha256");
			snprintf(why, sizeof(why), "%s",
				 ok < 0 ? "the referenced blob has another size"
					: "no finished upload holds this blob; upload and finish it first");
			reply_error(rp, 422, "unknown_blob", field, why);
			return -ENOENT;
		}
	}
	return 0;
}

void submit_handle(struct sim *s, const char *client, const char *kind, const char *key, const char *body,
		   size_t len, struct reply *rp)
{
	struct sim_blob_ref refs[SIM_BLOB_REFS_MAX];
	struct sim_err err;
	char hash[65], dossier[SIM_ID_MAX], receipt[32], hex[24], when[32];
	sqlite3_stmt *st = NULL;
	int nrefs = 0;

	sim_sha256_hex(body, len, hash);
	pthread_mutex_lock(&s->lock);
	st = simdb_prepare(s,
			   "SELECT kind, body_sha256, receipt_id, time FROM submissions"
			   " WHERE client = ?1 AND idem_key = ?2");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		const char *h = (const char *)sqlite3_column_text(st, 1);
		if (strcmp(k, kind) == 0 && strcmp(h, hash) == 0) {
			simdb_count(s, "submissions", 1);
			simdb_count(s, "duplicates", 1);
			reply_json(rp, 200,
				   receipt_json((const char *)sqlite3_column_text(st, 2),
						(const char *)sqlite3_column_text(st, 3), h, key, kind));
			reply_header(rp, "Idempotent-Replayed", "true");
		} else {
			char why[160];
			simdb_count(s, "key_conflicts", 1);
			snprintf(why, sizeof(why),
				 "this Idempotency-Key was already used for a different %s (receipt %s)",
				 strcmp(k, kind) == 0 ? "body" : "kind",
				 (const char *)sqlite3_column_text(st, 2));
			reply_error(rp, 422, "idempotency_key_reused", "Idempotency-Key", why);
		}
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sim_submission_check(kind, body, len, refs, &nrefs, dossier, &err) < 0) {
		simdb_count(s, "submissions_rejected", 1);
		reply_err(rp, &err);
		goto out;
	}
	if (check_refs(s, refs, nrefs, rp) < 0) {
		simdb_count(s, "submissions_rejected", 1);
		goto out;
	}
	if (sim_random_hex(hex, 10) < 0)
		goto fail;
	snprintf(receipt, sizeof(receipt), "R-%s", hex);
	sim_now_iso(when);
	if (simdb_exec(s, "BEGIN IMMEDIATE") < 0)
		goto fail;
	st = simdb_prepare(s,
			   "INSERT INTO submissions(client, idem_key, kind, body_sha256,"
			   " receipt_id, time, body) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		goto rollback;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, receipt, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, when, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, body, (int)len, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto rollback;
	sqlite3_finalize(st);
	st = NULL;
	if (dossier[0]) {
		st = simdb_prepare(s,
				   "INSERT INTO dossiers(client, code, receipt_id, status, status_text,"
				   " updated_at, change_seq) VALUES(?1, ?2, ?3, 'received', '', ?4, ?5)"
				   " ON CONFLICT(client, code) DO UPDATE SET receipt_id = ?3");
		if (!st)
			goto rollback;
		sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, dossier, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, receipt, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, when, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, next_change_seq(s));
		if (sqlite3_step(st) != SQLITE_DONE)
			goto rollback;
	}
	simdb_count(s, "submissions", 1);
	simdb_count(s, "unique_items", 1);
	if (simdb_exec(s, "COMMIT") < 0)
		goto rollback;
	log_debug("submission %s accepted: %s %s", kind, receipt, hash);
	reply_json(rp, 201, receipt_json(receipt, when, hash, key, kind));
	goto out;
rollback:
	simdb_exec(s, "ROLLBACK");
fail:
	reply_error(rp, 500, "server_error", "", "cannot store the submission");
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
}

static json_t *dossier_json(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "dossier_code", sqlite3_column_text(st, 0), "status",
			 sqlite3_column_text(st, 1), "status_text", sqlite3_column_text(st, 2), "updated_at",
			 sqlite3_column_text(st, 3), "receipt_id", sqlite3_column_text(st, 4));
}

void status_pull(struct sim *s, const char *client, const char *since, const char *limit, struct reply *rp)
{
	uint64_t from = 0, lim = 100;
	int64_t last = 0;
	int n = 0, more = 0;
	char cursor[24];
	json_t *items;
	sqlite3_stmt *st;

	if (since && sim_parse_u64(since, INT64_MAX, &from) < 0) {
		reply_error(rp, 400, "invalid_parameter", "since", "since must be a cursor from next_cursor");
		return;
	}
	if (limit && (sim_parse_u64(limit, STATUS_PAGE_MAX, &lim) < 0 || lim == 0)) {
		reply_error(rp, 400, "invalid_parameter", "limit", "limit must be 1 to 500");
		return;
	}
	last = (int64_t)from;
	items = json_array();
	pthread_mutex_lock(&s->lock);
	st = simdb_prepare(s,
			   "SELECT code, status, status_text, updated_at, receipt_id, change_seq"
			   " FROM dossiers WHERE client = ?1 AND change_seq > ?2"
			   " ORDER BY change_seq LIMIT ?3");
	if (st) {
		sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)from);
		sqlite3_bind_int64(st, 3, (int64_t)lim + 1);
		while (sqlite3_step(st) == SQLITE_ROW) {
			if ((uint64_t)n == lim) {
				more = 1;
				break;
			}
			json_array_append_new(items, dossier_json(st));
			last = sqlite3_column_int64(st, 5);
			n++;
		}
		sqlite3_finalize(st);
	}
	simdb_count(s, "status_pulls", 1);
	pthread_mutex_unlock(&s->lock);
	snprintf(cursor, sizeof(cursor), "%lld", (long long)last);
	reply_json(rp, 200,
		   json_pack("{s:o, s:s, s:b}", "items", items, "next_cursor", cursor, "more", more));
}

void status_one(struct sim *s, const char *client, const char *code, struct reply *rp)
{
	json_t *o = NULL;
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = simdb_prepare(s,
					 "SELECT code, status, status_text, updated_at, receipt_id"
					 " FROM dossiers WHERE client = ?1 AND code = ?2");
	if (st) {
		sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, code, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			o = dossier_json(st);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	if (!o)
		reply_error(rp, 404, "unknown_dossier", "dossier_code", "no dossier with this code");
	else
		reply_json(rp, 200, o);
}

void status_set(struct sim *s, const char *code, const char *body, size_t len, struct reply *rp)
{
	struct sim_err err;
	char status[32], text[256], when[32];
	int changed = 0;

	if (sim_status_set_check(body, len, status, text, &err) < 0) {
		reply_err(rp, &err);
		return;
	}
	sim_now_iso(when);
	pthread_mutex_lock(&s->lock);
	sqlite3_stmt *st = simdb_prepare(s,
					 "UPDATE dossiers SET status = ?1, status_text = ?2,"
					 " updated_at = ?3, change_seq = ?4 WHERE code = ?5");
	if (st) {
		sqlite3_bind_text(st, 1, status, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, when, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, next_change_seq(s));
		sqlite3_bind_text(st, 5, code, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			changed = sqlite3_changes(s->db);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&s->lock);
	if (changed == 0) {
		reply_error(rp, 404, "unknown_dossier", "dossier_code", "no dossier with this code");
		return;
	}
	reply_json(rp, 200,
		   json_pack("{s:s, s:s, s:i}", "dossier_code", code, "status", status, "updated", changed));
}
