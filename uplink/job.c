/* One outbox item on its way to the LGSP: verify the stored blob, create (or find) the
 * upload, send chunks from the confirmed offset, finish, submit, and only with a checked
 * receipt mark the item delivered.  Every confirmed offset is stored in the outbox row. */
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/copies.h"
#include "store/db.h"
#include "store/dossiers.h"
#include "store/store.h"
#include "uplink/internal.h"

#define DEFAULT_CHUNK_MAX (1 << 20)

static void job_free(struct uplink *u, struct job *j)
{
	if (j->x) {
		xfer_free(j->x);
		j->x = NULL;
	}
	if (j->chunk) {
		OPENSSL_cleanse(j->chunk, j->chunk_cap);
		free(j->chunk);
	}
	memset(j, 0, sizeof(*j));
	uplink_job_finished(u, j);
}

/* "up_x" for generation 1, "up_x:g2" after, ":g2" while the new upload is not created yet. */
static void session_text(const struct job *j, char *out, size_t size)
{
	if (j->gen > 1)
		snprintf(out, size, "%s:g%d", j->upload_id, j->gen);
	else
		snprintf(out, size, "%s", j->upload_id);
}

static void session_parse(struct job *j, const char *s)
{
	const char *g = strstr(s, ":g");
	size_t n = g ? (size_t)(g - s) : strlen(s);
	j->gen = 1;
	if (g) {
		long v = strtol(g + 2, NULL, 10);
		if (v > 1 && v < 1000)
			j->gen = (int)v;
	}
	if (n < sizeof(j->upload_id)) {
		memcpy(j->upload_id, s, n);
		j->upload_id[n] = '\0';
	}
}

/* Writes the claim (when it was held in memory) and the confirmed offset.  A write the disk
 * refuses keeps the progress in memory (the job goes on; the next confirmed offset tries
 * again): the LGSP's offset is the truth and is asked after any interruption anyway.  Only an
 * item no longer ours (-ESTALE: delivered or rejected meanwhile) stops the job. */
static int save_progress(struct uplink *u, struct job *j)
{
	char session[128];
	int r = 0;
	session_text(j, session, sizeof(session));
	if (!j->claimed) {
		r = outbox_claim_id(u->db, j->it.id);
		if (r == 0)
			j->claimed = 1;
	}
	if (r == 0)
		r = outbox_progress(u->db, j->it.id, j->offset, session);
	if (r == -ESTALE) {
		log_error("uplink: item %lld is no longer being sent (changed by someone else); "
			  "dropping its transfer",
			  (long long)j->it.id);
		return r;
	}
	if (r < 0) {
		j->dirty = 1;
		uplink_store_fault(u, r, "upload progress");
		return 0;
	}
	j->dirty = 0;
	uplink_store_ok(u);
	return 0;
}

/* rejected, with the reason, and audited in the same commit. */
static void job_reject(struct uplink *u, struct job *j, const char *reason)
{
	char detail[OUTBOX_TEXT_MAX + 128], subject[64];
	json_t *d = json_pack("{s:s, s:s, s:s}", "kind", j->it.kind, "ref", j->it.ref, "reason", reason);
	char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
	snprintf(detail, sizeof(detail), "%s", dj ? dj : "");
	free(dj);
	json_decref(d);
	snprintf(subject, sizeof(subject), "outbox:%lld", (long long)j->it.id);
	int r = db_begin(u->db);
	if (r == 0 && !j->claimed)
		r = outbox_claim_id(u->db, j->it.id);
	if (r == 0)
		r = outbox_reject(u->db, j->it.id, reason);
	if (r == 0)
		r = audit_append(u->db, "uplink", "outbox.rejected", subject, detail);
	if (r == 0)
		r = db_commit(u->db);
	else
		db_rollback(u->db);
	if (r < 0 && r != -ESTALE) {
		/* Held in memory (so it is not sent again meanwhile) and written later. */
		uplink_store_fault(u, r, "a rejection");
		uplink_unrecorded_add(u, j, UNREC_REJECT, reason, detail);
	}
	if (r == 0)
		uplink_store_ok(u);
	if (r < 0)
		log_warn("uplink: item %lld (%s %s) rejected: %s (not yet written: %s)", (long long)j->it.id,
			 j->it.kind, j->it.ref, reason, strerror(-r));
	else
		log_warn("uplink: item %lld (%s %s) rejected: %s; staff can retry it with "
			 "'motcuactl outbox retry %lld'",
			 (long long)j->it.id, j->it.kind, j->it.ref, reason, (long long)j->it.id);
	u->rejected++;
	job_free(u, j);
}

void job_release(struct uplink *u, struct job *j, const char *why)
{
	/* A claim held in memory was never written: there is nothing to give back. */
	int r = j->claimed ? outbox_release(u->db, j->it.id) : 0;
	if (r < 0 && r != -ESTALE) {
		uplink_store_fault(u, r, "an item's return to the queue");
		uplink_unrecorded_add(u, j, UNREC_RELEASE, NULL, NULL);
	} else
		log_debug("uplink: item %lld back in the queue at offset %lld: %s", (long long)j->it.id,
			  (long long)j->offset, why);
	job_free(u, j);
}

static int build_body(struct uplink *u, struct job *j)
{
	/* Fixed by the document row alone, so every attempt sends the same bytes. */
	json_t *b =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:I, s:s}]}", "schema", "motcua.lgsp.v1",
		      "commune_code", u->cfg.agency_code, "created_at", j->doc.received_at, "document_id",
		      j->doc.id, "document_type", j->doc.kind, "content_type", j->doc.content_type, "blobs",
		      "sha256", j->doc.sha256, "size", (json_int_t)j->doc.size, "role", "scan");
	char *s = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(b);
	if (!s || strlen(s) >= sizeof(j->body)) {
		free(s);
		return -ENOMEM;
	}
	j->body_len = strlen(s);
	memcpy(j->body, s, j->body_len + 1);
	free(s);
	lgsp_sha256_hex(j->body, j->body_len, j->body_sha);
	return 0;
}

static int body_set(struct job *j, const char *s)
{
	if (!s || strlen(s) >= sizeof(j->body))
		return s ? -EMSGSIZE : -ENOMEM;
	j->body_len = strlen(s);
	memmove(j->body, s, j->body_len + 1); /* s may be j->body itself */
	lgsp_sha256_hex(j->body, j->body_len, j->body_sha);
	return 0;
}

/* A certified copy: its signed PDF (j->doc, uploaded first) and the book's facts. */
static int copy_body(struct uplink *u, struct job *j, char *why, size_t n)
{
	struct copy_row c;
	struct doc_meta orig;
	char number[64], book[24];
	int r = copies_get_by_doc(u->db, j->doc.id, &c);
	if (r == 0)
		r = docs_get(u->db, c.original_id, &orig);
	if (r == -ENOENT) {
		snprintf(why, n, "document %s is not a certified copy in the book (or its original is gone)",
			 j->doc.id);
		return -EPERM;
	}
	if (r < 0)
		return r;
	snprintf(number, sizeof(number), "%lld/%lld/SCT/BS", (long long)c.number, (long long)c.year);
	snprintf(book, sizeof(book), "%lld", (long long)c.book);
	json_t *b =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:[{s:s, s:I, s:s}]}", "schema",
		      "motcua.lgsp.v1", "commune_code", u->cfg.agency_code, "created_at",
		      c.issued_at[0] ? c.issued_at : j->doc.received_at, "copy_number", number, "book", book,
		      "year", (json_int_t)c.year, "original_sha256", orig.sha256, "document_id", j->doc.id,
		      "blobs", "sha256", j->doc.sha256, "size", (json_int_t)j->doc.size, "role", "copy_pdf");
	char *s = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(b);
	r = body_set(j, s);
	free(s);
	return r;
}

/* What the item sends, by kind: 0 ready, -EPERM refused for good (why says why), other
 * -errno to try again later.  Bodies come from the item's fixed bytes where intake stored
 * them (outbox_bodies, or a blob for queue statistics), else from rows that never change. */
static int prepare(struct uplink *u, struct job *j, char *why, size_t n)
{
	const struct outbox_item *it = &j->it;
	int r;
	if (strcmp(it->kind, "dossier") == 0 || strcmp(it->kind, "feedback-stats") == 0 ||
	    strcmp(it->kind, "dossier-step") == 0) {
		snprintf(j->sub_kind, sizeof(j->sub_kind), "%s",
			 strcmp(it->kind, "dossier") == 0            ? "dossiers"
			     : strcmp(it->kind, "dossier-step") == 0 ? "dossier-steps"
								     : "feedback-stats");
		r = outbox_body_get(u->db, it->id, j->body, sizeof(j->body));
		if (r == -ENOENT || r == -EMSGSIZE) {
			snprintf(why, n, "its submission body is %s",
				 r == -ENOENT ? "not stored" : "too large");
			return -EPERM;
		}
		return r < 0 ? r : body_set(j, j->body);
	}
	if (strcmp(it->kind, "queue-stats") == 0) {
		int64_t size = 0;
		snprintf(j->sub_kind, sizeof(j->sub_kind), "queue-stats");
		r = blob_verify(store_blobs(u->store), it->ref, &size);
		if (r == -ENOENT || r == -EBADMSG ||
		    (r == 0 && (size < 1 || size >= (int64_t)sizeof(j->body)))) {
			snprintf(why, n, "its statistics blob is %s",
				 r == -ENOENT ? "missing"
				     : r == 0 ? "empty or too large"
					      : "corrupt");
			return -EPERM;
		}
		if (r == 0)
			r = blob_read_range(store_blobs(u->store), it->ref, 0, j->body, (size_t)size);
		if (r < 0)
			return r;
		j->body[size] = '\0';
		return body_set(j, j->body);
	}
	if (strcmp(it->kind, "document") != 0 && strcmp(it->kind, "certified-copy") != 0) {
		snprintf(why, n, "motcuad %s cannot send items of kind '%s'", MOTCUA_VERSION, it->kind);
		return -EPERM;
	}
	j->has_blob = 1;
	r = docs_get(u->db, it->ref, &j->doc);
	if (r == -ENOENT) {
		snprintf(why, n, "document %s is not in the store", it->ref);
		return -EPERM;
	}
	if (r == 0 && j->doc.size < 1) {
		snprintf(why, n, "the document is empty");
		return -EPERM;
	}
	if (r < 0)
		return r;
	if (strcmp(it->kind, "certified-copy") == 0) {
		snprintf(j->sub_kind, sizeof(j->sub_kind), "certified-copies");
		return copy_body(u, j, why, n);
	}
	snprintf(j->sub_kind, sizeof(j->sub_kind), "documents");
	return build_body(u, j);
}

void job_begin(struct uplink *u, struct job *j, const struct outbox_item *it)
{
	char why[OUTBOX_TEXT_MAX];
	int r;

	memset(j, 0, sizeof(*j));
	j->used = 1;
	j->it = *it;
	j->ph = PH_VERIFY;
	j->wake_ms = u->now;
	j->chunk_max = DEFAULT_CHUNK_MAX;
	j->claimed = strcmp(it->state, "sending") == 0;
	session_parse(j, it->session);
	j->offset = j->upload_id[0] ? it->offset : 0;
	if (lgsp_wire_key(it->idem_key, j->key) < 0) {
		job_reject(u, j, "its idempotency key is not valid for the LGSP");
		return;
	}
	r = prepare(u, j, why, sizeof(why));
	if (r == -EPERM) {
		job_reject(u, j, why);
		return;
	}
	if (r == 0 && !j->has_blob)
		j->ph = PH_SUBMIT; /* nothing to upload first */
	if (r == 0 && j->has_blob) {
		j->chunk_cap = (size_t)u->cfg.uplink_chunk_bytes;
		j->chunk = malloc(j->chunk_cap);
		if (!j->chunk)
			r = -ENOMEM;
	}
	if (r < 0) {
		log_error("uplink: item %lld: cannot prepare it: %s", (long long)it->id, strerror(-r));
		job_release(u, j, "cannot prepare");
		return;
	}
	log_debug("uplink: item %lld (%s %s, %lld bytes) claimed, offset %lld", (long long)it->id, it->kind,
		  it->ref, (long long)(j->has_blob ? j->doc.size : (int64_t)j->body_len),
		  (long long)j->offset);
}

/* A fault worth retrying: back off (full jitter), honour Retry-After, and after anything
 * unclear during a chunk ask the server's offset before sending more. */
static void job_fault(struct uplink *u, struct job *j, struct xfer *x, int network, const char *reason)
{
	int64_t d, ra = 0;
	j->fails++;
	if (j->ph == PH_PATCH)
		j->ph = PH_QUERY;
	d = uplink_backoff(u, j->fails);
	if (x && lgsp_retry_after(x->retry_after, &ra) == 0 && ra * 1000 > d)
		d = ra * 1000;
	j->wake_ms = u->now + d;
	/* The first fault of a run and every tenth are worth an operator's eye; the rest are
	 * visible with log_level = debug. */
	log_msg(j->fails == 1 || j->fails % 10 == 0 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		"uplink: item %lld: %s; retry %d in %lld ms", (long long)j->it.id, reason, j->fails,
		(long long)d);
	if (network)
		uplink_link_fault(u, reason);
	if (u->link == UPLINK_LINK_DOWN || u->stopped_by_config)
		job_release(u, j, "link down");
}

static int start(struct uplink *u, struct job *j, enum op op, const char *path)
{
	struct xfer *x = xfer_new(u, j, op, path);
	if (!x)
		return -ENOMEM;
	if (xfer_auth(x) < 0) {
		xfer_free(x);
		return -EAGAIN;
	}
	int r = xfer_start(x);
	if (r == 0)
		j->x = x;
	return r;
}

void job_step(struct uplink *u, struct job *j)
{
	char path[256], h[256], why[OUTBOX_TEXT_MAX];
	struct xfer *x;
	int64_t size;
	int r;

	if (!j->used || j->x || j->wake_ms > u->now)
		return;
	if (j->ph != PH_VERIFY && !token_ready(u))
		return; /* the token fetch is under way; its answer wakes the loop */
	switch (j->ph) {
	case PH_VERIFY:
		/* Once per claim: the whole blob checks out before any of it leaves. */
		r = blob_verify(store_blobs(u->store), j->doc.sha256, &size);
		if (r == -ENOENT || r == -EBADMSG || (r == 0 && size != j->doc.size)) {
			snprintf(why, sizeof(why), "the stored copy of document %s is %s", j->doc.id,
				 r == -ENOENT ? "missing" : "corrupt (it failed authentication)");
			job_reject(u, j, why);
			return;
		}
		if (r < 0) {
			j->fails++;
			j->wake_ms = u->now + uplink_backoff(u, j->fails);
			return;
		}
		j->ph = j->upload_id[0] ? PH_QUERY : PH_CREATE;
		j->wake_ms = u->now;
		job_step(u, j);
		return;
	case PH_CREATE: {
		char gen[16] = "";
		if (j->gen > 1)
			snprintf(gen, sizeof(gen), ":g%d", j->gen);
		x = xfer_new(u, j, OP_CREATE, "/lgsp/v1/uploads");
		char *body = NULL;
		json_t *b = json_pack("{s:I, s:s, s:s}", "size", (json_int_t)j->doc.size, "sha256",
				      j->doc.sha256, "content_type", j->doc.content_type);
		body = b ? json_dumps(b, JSON_COMPACT) : NULL;
		json_decref(b);
		snprintf(h, sizeof(h), "Idempotency-Key: %s:blob:0%s", j->key, gen);
		if (!x || !body || xfer_header(x, h) < 0) {
			free(body);
			xfer_free(x);
			return;
		}
		xfer_post(x, body, "application/json");
		if (xfer_auth(x) < 0) {
			xfer_free(x);
			return;
		}
		if (xfer_start(x) == 0)
			j->x = x;
		return;
	}
	case PH_QUERY:
		snprintf(path, sizeof(path), "/lgsp/v1/uploads/%s", j->upload_id);
		start(u, j, OP_QUERY, path);
		return;
	case PH_PATCH: {
		int64_t left = j->doc.size - j->offset;
		size_t len = uplink_chunk_len(u, j);
		if (len > j->chunk_cap)
			len = j->chunk_cap;
		if ((int64_t)len > j->chunk_max)
			len = (size_t)j->chunk_max;
		if ((int64_t)len > left)
			len = (size_t)left;
		r = blob_read_range(store_blobs(u->store), j->doc.sha256, j->offset, j->chunk, len);
		if (r < 0) {
			snprintf(why, sizeof(why), "the stored copy of document %s cannot be read: %s",
				 j->doc.id, strerror(-r));
			job_reject(u, j, why);
			return;
		}
		snprintf(path, sizeof(path), "/lgsp/v1/uploads/%s", j->upload_id);
		x = xfer_new(u, j, OP_PATCH, path);
		snprintf(h, sizeof(h), "Upload-Offset: %lld", (long long)j->offset);
		if (!x || xfer_header(x, h) < 0 || xfer_auth(x) < 0) {
			xfer_free(x);
			return;
		}
		x->body = j->chunk;
		x->body_len = len;
		j->chunk_t0 = u->now;
		if (xfer_start(x) == 0)
			j->x = x;
		return;
	}
	case PH_FINISH:
		snprintf(path, sizeof(path), "/lgsp/v1/uploads/%s/finish", j->upload_id);
		x = xfer_new(u, j, OP_FINISH, path);
		if (!x)
			return;
		xfer_post(x, NULL, NULL);
		if (xfer_auth(x) < 0) {
			xfer_free(x);
			return;
		}
		if (xfer_start(x) == 0)
			j->x = x;
		return;
	case PH_SUBMIT: {
		snprintf(path, sizeof(path), "/lgsp/v1/submissions/%s", j->sub_kind);
		x = xfer_new(u, j, OP_SUBMIT, path);
		char *body = strdup(j->body);
		snprintf(h, sizeof(h), "Idempotency-Key: %s", j->key);
		if (!x || !body || xfer_header(x, h) < 0) {
			free(body);
			xfer_free(x);
			return;
		}
		xfer_post(x, body, "application/json");
		if (xfer_auth(x) < 0) {
			xfer_free(x);
			return;
		}
		if (xfer_start(x) == 0)
			j->x = x;
		return;
	}
	}
}

static void deliver(struct uplink *u, struct job *j, const struct lgsp_receipt *rc)
{
	char receipt[OUTBOX_TEXT_MAX], subject[64];
	snprintf(receipt, sizeof(receipt), "{\"receipt_id\":\"%s\",\"time\":\"%s\",\"hash\":\"%s\"}",
		 rc->receipt_id, rc->time, rc->hash);
	snprintf(subject, sizeof(subject), "outbox:%lld", (long long)j->it.id);
	int r = db_begin(u->db);
	if (r == 0 && !j->claimed)
		r = outbox_claim_id(u->db, j->it.id);
	if (r == 0)
		r = outbox_deliver(u->db, j->it.id, receipt);
	if (r == 0)
		r = audit_append(u->db, "uplink", "outbox.delivered", subject, receipt);
	if (r == 0)
		r = db_commit(u->db);
	else
		db_rollback(u->db);
	if (r < 0 && r != -ESTALE) {
		/* Kept in memory and written when the disk allows; the slot goes to the next
		 * item.  The receipt is not lost either way: the same key gets the same receipt. */
		uplink_store_fault(u, r, "a receipt");
		if (uplink_unrecorded_add(u, j, UNREC_DELIVER, receipt, NULL) == 0) {
			u->delivered++;
			u->last_success = time(NULL);
			job_free(u, j);
		} else {
			j->wake_ms = u->now + uplink_backoff(u, ++j->fails);
		}
		return;
	}
	if (r < 0) {
		log_error("uplink: item %lld was delivered, but its row is no longer being sent "
			  "(changed by someone else); receipt %s",
			  (long long)j->it.id, rc->receipt_id);
		job_free(u, j);
		return;
	}
	uplink_store_ok(u);
	u->delivered++;
	u->last_success = time(NULL);
	log_info("uplink: item %lld (%s %s, %lld bytes) delivered, receipt %s", (long long)j->it.id,
		 j->it.kind, j->it.ref, (long long)(j->has_blob ? j->doc.size : (int64_t)j->body_len),
		 rc->receipt_id);
	job_free(u, j);
}

/* An upload answer (create, query, finish) moves the job on. */
static void on_upload(struct uplink *u, struct job *j, struct xfer *x)
{
	struct lgsp_upload up;
	char why[OUTBOX_TEXT_MAX];
	if (lgsp_parse_upload(x->resp, x->resp_len, &up) < 0) {
		job_fault(u, j, x, 0, "the LGSP's upload answer is not valid");
		return;
	}
	if (up.size != j->doc.size) {
		snprintf(why, sizeof(why), "the LGSP's upload %s has %lld bytes, the document %lld",
			 up.upload_id, (long long)up.size, (long long)j->doc.size);
		job_reject(u, j, why);
		return;
	}
	if (x->op == OP_FINISH && !up.complete) {
		job_fault(u, j, x, 0, "the LGSP finished an upload without completing it");
		return;
	}
	snprintf(j->upload_id, sizeof(j->upload_id), "%s", up.upload_id);
	j->offset = up.offset;
	if (up.chunk_max)
		j->chunk_max = up.chunk_max;
	if (save_progress(u, j) < 0) {
		job_free(u, j);
		return;
	}
	j->ph = up.complete ? PH_SUBMIT : up.offset == up.size ? PH_FINISH : PH_PATCH;
}

static void on_chunk(struct uplink *u, struct job *j, struct xfer *x)
{
	struct lgsp_error e;
	int64_t off = -1;
	if (lgsp_parse_offset(x->upload_offset, &off) < 0) {
		lgsp_parse_error(x->resp, x->resp_len, &e);
		off = e.has_offset ? e.offset : -1;
	}
	if (off <= j->offset || off > j->doc.size) {
		job_fault(u, j, x, 0, "the LGSP's chunk answer has no valid offset");
		return;
	}
	j->sent_this_claim += off - j->offset;
	uplink_count_acked(u, off - j->offset);
	j->offset = off;
	if (save_progress(u, j) < 0) {
		job_free(u, j);
		return;
	}
	j->ph = off == j->doc.size ? PH_FINISH : PH_PATCH;
	if (j->ph == PH_PATCH && uplink_should_yield(u, j))
		job_release(u, j, "a more urgent item waits");
}

static int tls_error(CURLcode cc)
{
	return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CONNECT_ERROR ||
	    cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
	    cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_SSL_CRL_BADFILE || cc == CURLE_SSL_ISSUER_ERROR;
}

void job_done(struct uplink *u, struct xfer *x, CURLcode cc, long status)
{
	struct job *j = x->job;
	struct lgsp_error e;
	struct lgsp_receipt rc;
	char why[OUTBOX_TEXT_MAX];
	int r;

	j->x = NULL;
	if (cc == CURLE_OK)
		uplink_answered(u);
	if (cc != CURLE_OK) {
		snprintf(why, sizeof(why), "%s%s", tls_error(cc) ? "TLS: " : "",
			 x->resp_over    ? "answer larger than 64 KiB"
			     : x->err[0] ? x->err
					 : curl_easy_strerror(cc));
		job_fault(u, j, x, !x->resp_over, why);
		return;
	}
	lgsp_parse_error(x->resp, x->resp_len, &e);
	enum lgsp_action a = lgsp_classify(status, e.error, 0);
	if (a != LGSP_REAUTH)
		j->auth_fails = 0;
	switch (a) {
	case LGSP_OK:
		if (x->op == OP_SUBMIT) {
			r = lgsp_parse_receipt(x->resp, x->resp_len, j->key, j->body_sha, &rc);
			if (r == 0) {
				deliver(u, j, &rc);
				return;
			}
			if (r == -EBADMSG)
				log_error("uplink: item %lld: the LGSP answered with a receipt for other "
					  "bytes or another key; not taken as delivery",
					  (long long)j->it.id);
			job_fault(u, j, x, 0, "the submission answer is not a valid receipt");
			return;
		}
		j->fails = 0;
		if (x->op == OP_PATCH)
			on_chunk(u, j, x);
		else
			on_upload(u, j, x);
		return;
	case LGSP_RETRY:
		snprintf(why, sizeof(why), "HTTP %ld%s%s", status, e.error[0] ? " " : "", e.error);
		job_fault(u, j, x, 0, why);
		return;
	case LGSP_REAUTH:
		token_invalidate(u, x->token_gen);
		if (++j->auth_fails >= 2) {
			job_fault(u, j, x, 0, "HTTP 401 twice in a row");
			return;
		}
		if (j->ph == PH_PATCH)
			j->ph = PH_QUERY;
		return; /* again as soon as the new token is there */
	case LGSP_RESYNC:
		if (e.has_offset && e.offset <= j->doc.size) {
			j->offset = e.offset;
			if (save_progress(u, j) < 0) {
				job_free(u, j);
				return;
			}
			j->ph = e.offset == j->doc.size ? PH_FINISH : PH_PATCH;
		} else {
			j->ph = PH_QUERY;
		}
		return;
	case LGSP_BUSY:
		if (j->ph == PH_PATCH)
			j->ph = PH_QUERY;
		j->wake_ms = u->now + 1000 + uplink_backoff(u, 1);
		return;
	case LGSP_UNKNOWN_UPLOAD:
		log_warn("uplink: item %lld: the LGSP forgot upload %s; starting a new one",
			 (long long)j->it.id, j->upload_id);
		j->gen++;
		j->upload_id[0] = '\0';
		j->offset = 0;
		if (save_progress(u, j) < 0) {
			job_free(u, j);
			return;
		}
		j->ph = PH_CREATE;
		return;
	case LGSP_HASH_MISMATCH:
		j->mismatches++;
		if (blob_verify(store_blobs(u->store), j->doc.sha256, NULL) < 0) {
			job_reject(u, j, "the stored copy is corrupt (found after the LGSP's hash check)");
			return;
		}
		if (j->mismatches >= 2) {
			lgsp_reason(status, &e, why, sizeof(why));
			job_reject(u, j, why);
			return;
		}
		log_warn("uplink: item %lld: the LGSP's hash of the upload differs; sending it again",
			 (long long)j->it.id);
		j->offset = 0;
		if (save_progress(u, j) < 0) {
			job_free(u, j);
			return;
		}
		j->ph = PH_PATCH;
		return;
	case LGSP_STOP:
		lgsp_reason(status, &e, why, sizeof(why));
		uplink_config_fault(u, why);
		job_release(u, j, "refused by the LGSP");
		return;
	case LGSP_REJECT:
		lgsp_reason(status, &e, why, sizeof(why));
		job_reject(u, j, why);
		return;
	}
}
