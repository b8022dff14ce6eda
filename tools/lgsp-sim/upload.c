/* Resumable blob uploads for motcua-lgsp-sim: create (size, SHA-256, Idempotency-Key), PATCH
 * chunks at the confirmed offset, HEAD/GET the offset after an interruption, finish (the hash is
 * checked).  A chunk is committed whole (fdatasync, then the offset row) or not at all. */
#include "tools/lgsp-sim/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gateway/log.h"
#include "store/fsutil.h"

struct urow {
	char id[SIM_ID_MAX];
	int64_t size, offset, hwm;
	char sha256[65];
	char state[16];
};

/* The newest PATCH per upload wins: an older one still sending (a half-open connection the
 * client has given up on) is cut off before it writes again.  Guarded by sim->lock. */
#define WRITERS_MAX 128
static struct {
	char id[SIM_ID_MAX];
	uint64_t gen;
} writers[WRITERS_MAX];
static uint64_t writer_gen;

static uint64_t writer_take(const char *id)
{
	int slot = -1;
	for (int i = 0; i < WRITERS_MAX; i++) {
		if (strcmp(writers[i].id, id) == 0) {
			slot = i;
			break;
		}
		if (slot < 0 && writers[i].id[0] == '\0')
			slot = i;
	}
	if (slot < 0)
		slot = (int)(writer_gen % WRITERS_MAX); /* full: evict one; its writer is cut off */
	snprintf(writers[slot].id, sizeof(writers[slot].id), "%s", id);
	writers[slot].gen = ++writer_gen;
	return writers[slot].gen;
}

static int writer_current(const char *id, uint64_t gen)
{
	for (int i = 0; i < WRITERS_MAX; i++)
		if (writers[i].gen == gen && strcmp(writers[i].id, id) == 0)
			return 1;
	return 0;
}

static void writer_release(const char *id, uint64_t gen)
{
	for (int i = 0; i < WRITERS_MAX; i++)
		if (writers[i].gen == gen && strcmp(writers[i].id, id) == 0)
			writers[i].id[0] = '\0';
}

static int part_path(struct sim *s, const char *id, char *out, size_t size)
{
	char dir[4096], name[SIM_ID_MAX + 8];
	snprintf(name, sizeof(name), "%s.part", id);
	if (fs_join(dir, sizeof(dir), s->o.data_dir, "uploads") < 0)
		return -ENAMETOOLONG;
	return fs_join(out, size, dir, name);
}

/* Loads the upload id owned by client.  Caller holds the lock.  0 or -ENOENT. */
static int load(struct sim *s, const char *client, const char *id, struct urow *u)
{
	int r = -ENOENT;
	sqlite3_stmt *st = simdb_prepare(s,
					 "SELECT id, size, offset, hwm, sha256, state FROM uploads"
					 " WHERE id = ?1 AND client = ?2");
	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(u->id, sizeof(u->id), "%s", (const char *)sqlite3_column_text(st, 0));
		u->size = sqlite3_column_int64(st, 1);
		u->offset = sqlite3_column_int64(st, 2);
		u->hwm = sqlite3_column_int64(st, 3);
		snprintf(u->sha256, sizeof(u->sha256), "%s", (const char *)sqlite3_column_text(st, 4));
		snprintf(u->state, sizeof(u->state), "%s", (const char *)sqlite3_column_text(st, 5));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

static void set_offset_headers(struct reply *rp, const struct urow *u)
{
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)u->offset);
	reply_header(rp, "Upload-Offset", v);
	snprintf(v, sizeof(v), "%lld", (long long)u->size);
	reply_header(rp, "Upload-Length", v);
	reply_header(rp, "Upload-State", u->state);
}

static json_t *upload_json(struct sim *s, const struct urow *u)
{
	json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:s, s:I}", "upload_id", u->id, "size",
			      (json_int_t)u->size, "offset", (json_int_t)u->offset, "sha256", u->sha256,
			      "state", u->state, "chunk_max", (json_int_t)s->o.chunk_max);
	if (o && strcmp(u->state, "complete") == 0)
		json_object_set_new(
		    o, "blob", json_pack("{s:s, s:I}", "sha256", u->sha256, "size", (json_int_t)u->size));
	return o;
}

static void offset_mismatch(struct reply *rp, const struct urow *u, const char *reason)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "error", "offset_mismatch", "field", "Upload-Offset",
			      "reason", reason, "offset", (json_int_t)u->offset);
	reply_json(rp, 409, o);
	set_offset_headers(rp, u);
}

void upload_create(struct sim *s, const char *client, const char *key, const char *body, size_t len,
		   struct reply *rp)
{
	struct sim_err err;
	struct urow u;
	char sha[65], ctype[SIM_CTYPE_MAX], when[32], hex[32];
	int64_t size;
	sqlite3_stmt *st = NULL;
	int found, dedup = 0;

	if (sim_upload_create_check(body, len, s->o.blob_max, &size, sha, ctype, &err) < 0) {
		reply_err(rp, &err);
		return;
	}
	pthread_mutex_lock(&s->lock);
	st = simdb_prepare(s, "SELECT id FROM uploads WHERE client = ?1 AND idem_key = ?2");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(u.id, sizeof(u.id), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (found) {
		if (load(s, client, u.id, &u) < 0)
			goto fail;
		if (u.size != size || strcmp(u.sha256, sha) != 0) {
			pthread_mutex_unlock(&s->lock);
			reply_error(rp, 422, "idempotency_key_reused", "Idempotency-Key",
				    "this key already names an upload with a different size or sha256");
			return;
		}
		pthread_mutex_unlock(&s->lock);
		reply_json(rp, 200, upload_json(s, &u));
		set_offset_headers(rp, &u);
		return;
	}
	/* A blob the server already holds need not cross the link again. */
	st = simdb_prepare(s, "SELECT 1 FROM blobs WHERE sha256 = ?1 AND size = ?2");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, size);
	dedup = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (sim_random_hex(hex, 12) < 0)
		goto fail;
	snprintf(u.id, sizeof(u.id), "up_%s", hex);
	u.size = size;
	u.offset = dedup ? size : 0;
	u.hwm = 0;
	memcpy(u.sha256, sha, sizeof(sha));
	snprintf(u.state, sizeof(u.state), "%s", dedup ? "complete" : "open");
	sim_now_iso(when);
	st = simdb_prepare(s,
			   "INSERT INTO uploads(id, client, idem_key, size, sha256, content_type,"
			   " offset, state, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, u.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, client, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, size);
	sqlite3_bind_text(st, 5, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, ctype, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, u.offset);
	sqlite3_bind_text(st, 8, u.state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, when, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	simdb_count(s, "uploads_created", 1);
	if (dedup)
		simdb_count(s, "uploads_deduplicated", 1);
	pthread_mutex_unlock(&s->lock);
	log_debug("upload %s created: %lld bytes%s", u.id, (long long)size, dedup ? " (already held)" : "");
	reply_json(rp, 201, upload_json(s, &u));
	set_offset_headers(rp, &u);
	{
		char loc[96];
		snprintf(loc, sizeof(loc), "/lgsp/v1/uploads/%s", u.id);
		reply_header(rp, "Location", loc);
	}
	return;
fail:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->lock);
	reply_error(rp, 500, "server_error", "", "cannot store the upload");
}

void upload_query(struct sim *s, const char *client, const char *id, struct reply *rp)
{
	struct urow u;
	pthread_mutex_lock(&s->lock);
	int r = load(s, client, id, &u);
	pthread_mutex_unlock(&s->lock);
	if (r < 0) {
		reply_error(rp, 404, "unknown_upload", "upload_id", "no such upload for this client");
		return;
	}
	reply_json(rp, 200, upload_json(s, &u));
	set_offset_headers(rp, &u);
}

/* SHA-256 of the first size bytes of fd. */
static int hash_fd(int fd, int64_t size, char out[65])
{
	static const char hx[] = "0123456789abcdef";
	unsigned char buf[65536], md[32];
	unsigned mdlen = 0;
	int64_t pos = 0;
	int r = -EIO;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while (pos < size) {
		size_t want = (size_t)(size - pos) < sizeof(buf) ? (size_t)(size - pos) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, pos);
		if (n <= 0)
			goto out;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		pos += n;
	}
	if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[64] = '\0';
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

void upload_finish(struct sim *s, const char *client, const char *id, struct reply *rp)
{
	struct urow u;
	char part[4096], blobdir[4096], blob[4096], actual[65];
	int fd = -1;
	sqlite3_stmt *st = NULL;

	pthread_mutex_lock(&s->lock);
	if (load(s, client, id, &u) < 0) {
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 404, "unknown_upload", "upload_id", "no such upload for this client");
		return;
	}
	if (strcmp(u.state, "complete") == 0)
		goto done;
	if (u.offset < u.size) {
		pthread_mutex_unlock(&s->lock);
		json_t *o = json_pack("{s:s, s:s, s:I}", "error", "upload_incomplete", "reason",
				      "the server holds fewer bytes than the upload's size", "offset",
				      (json_int_t)u.offset);
		reply_json(rp, 409, o);
		set_offset_headers(rp, &u);
		return;
	}
	if (part_path(s, id, part, sizeof(part)) < 0 ||
	    fs_join(blobdir, sizeof(blobdir), s->o.data_dir, "blobs") < 0 ||
	    fs_join(blob, sizeof(blob), blobdir, u.sha256) < 0)
		goto fail;
	fd = open(part, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, u.size) < 0 || hash_fd(fd, u.size, actual) < 0)
		goto fail;
	if (strcmp(actual, u.sha256) != 0) {
		/* Start over: the bytes are wrong somewhere, so none of them can be trusted. */
		if (ftruncate(fd, 0) < 0)
			goto fail;
		simdb_count(s, "hash_mismatches", 1);
		st = simdb_prepare(s, "UPDATE uploads SET offset = 0 WHERE id = ?1");
		if (st) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_step(st);
		}
		pthread_mutex_unlock(&s->lock);
		log_warn("upload %s: hash mismatch, reset to offset 0", id);
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "error", "hash_mismatch", "field",
				      "sha256", "reason",
				      "the received bytes do not have the declared SHA-256; the upload "
				      "was reset to offset 0",
				      "expected", u.sha256, "actual", actual, "offset", (json_int_t)0);
		reply_json(rp, 422, o);
		goto out;
	}
	if (fsync(fd) < 0 || rename(part, blob) < 0 || fs_fsync_dir(blobdir) < 0)
		goto fail;
	st = simdb_prepare(s, "INSERT OR IGNORE INTO blobs(sha256, size) VALUES(?1, ?2)");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, u.sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, u.size);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = simdb_prepare(s, "UPDATE uploads SET state = 'complete' WHERE id = ?1");
	if (!st)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	simdb_count(s, "uploads_completed", 1);
	snprintf(u.state, sizeof(u.state), "complete");
	log_debug("upload %s complete: sha256 %s", id, u.sha256);
done:
	pthread_mutex_unlock(&s->lock);
	reply_json(rp, 200, upload_json(s, &u));
	set_offset_headers(rp, &u);
	goto out;
fail:
	pthread_mutex_unlock(&s->lock);
	log_error("upload %s: cannot finish: %s", id, strerror(errno));
	reply_error(rp, 500, "server_error", "", "cannot finish the upload");
out:
	sqlite3_finalize(st);
	if (fd >= 0)
		close(fd);
}

int upload_write_begin(struct sim *s, const char *client, const char *id, const char *offset_hdr,
		       const char *length_hdr, const char *ctype, struct upload_write *w, struct reply *rp)
{
	struct urow u;
	uint64_t off, len;
	char part[4096];

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	if (!ctype ||
	    (strcmp(ctype, "application/offset+octet-stream") != 0 &&
	     strcmp(ctype, "application/octet-stream") != 0)) {
		reply_error(rp, 415, "unsupported_media_type", "Content-Type",
			    "a chunk must be sent as application/offset+octet-stream");
		return -EINVAL;
	}
	if (!offset_hdr || sim_parse_u64(offset_hdr, INT64_MAX, &off) < 0) {
		reply_error(rp, 400, "invalid_header", "Upload-Offset",
			    "Upload-Offset must be a decimal byte offset");
		return -EINVAL;
	}
	if (!length_hdr) {
		reply_error(rp, 411, "length_required", "Content-Length",
			    "a chunk must carry Content-Length (no chunked encoding)");
		return -EINVAL;
	}
	if (sim_parse_u64(length_hdr, INT64_MAX, &len) < 0 || len == 0 || len > s->o.chunk_max) {
		char why[128];
		snprintf(why, sizeof(why), "a chunk must hold 1 to %zu bytes", s->o.chunk_max);
		reply_error(rp, 413, "chunk_too_large", "Content-Length", why);
		return -EMSGSIZE;
	}
	pthread_mutex_lock(&s->lock);
	if (load(s, client, id, &u) < 0) {
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 404, "unknown_upload", "upload_id", "no such upload for this client");
		return -ENOENT;
	}
	if ((int64_t)off != u.offset || strcmp(u.state, "complete") == 0) {
		pthread_mutex_unlock(&s->lock);
		offset_mismatch(rp, &u, "Upload-Offset differs from the server's offset; ask with HEAD");
		return -EPROTO;
	}
	if ((int64_t)(off + len) > u.size) {
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 422, "chunk_beyond_size", "Content-Length",
			    "the chunk goes past the upload's declared size");
		return -EINVAL;
	}
	if (part_path(s, id, part, sizeof(part)) < 0 ||
	    (w->fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 500, "server_error", "", "cannot open the upload file");
		return -EIO;
	}
	snprintf(w->id, sizeof(w->id), "%s", id);
	snprintf(w->client, sizeof(w->client), "%s", client);
	w->gen = writer_take(id);
	w->start = (int64_t)off;
	w->length = (int64_t)len;
	w->hwm = u.hwm;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int upload_write_data(struct sim *s, struct upload_write *w, const char *data, size_t len)
{
	int r = 0;
	if (w->fd < 0 || w->failed)
		return -EIO;
	if ((int64_t)len > w->length - w->got)
		len = (size_t)(w->length - w->got);
	pthread_mutex_lock(&s->lock);
	if (!writer_current(w->id, w->gen)) {
		r = -ESTALE;
		goto out;
	}
	int64_t pos = w->start + w->got;
	if (pwrite(w->fd, data, len, pos) != (ssize_t)len) {
		r = -EIO;
		goto out;
	}
	int64_t end = pos + (int64_t)len;
	if (w->hwm > pos)
		w->dup += (w->hwm < end ? w->hwm : end) - pos;
	if (end > w->hwm)
		w->hwm = end;
	w->got += (int64_t)len;
out:
	if (r < 0)
		w->failed = 1;
	pthread_mutex_unlock(&s->lock);
	return r;
}

void upload_write_end(struct sim *s, struct upload_write *w, struct reply *rp)
{
	struct urow u;
	sqlite3_stmt *st = NULL;
	int ok = 0;

	if (w->failed || w->got != w->length) {
		reply_error(rp, 400, "incomplete_chunk", "Content-Length",
			    "the chunk body was shorter than Content-Length");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (writer_current(w->id, w->gen) && fdatasync(w->fd) == 0) {
		st = simdb_prepare(s, "UPDATE uploads SET offset = ?1 WHERE id = ?2 AND offset = ?3");
		if (st) {
			sqlite3_bind_int64(st, 1, w->start + w->length);
			sqlite3_bind_text(st, 2, w->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, w->start);
			ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(s->db) == 1;
			sqlite3_finalize(st);
		}
	}
	int found = load(s, w->client, w->id, &u) == 0;
	if (ok)
		simdb_count(s, "chunks_committed", 1);
	pthread_mutex_unlock(&s->lock);
	if (!found) {
		reply_error(rp, 500, "server_error", "", "upload vanished");
		return;
	}
	if (!ok) {
		offset_mismatch(rp, &u, "another request moved the offset; ask with HEAD");
		return;
	}
	reply_json(rp, 200,
		   json_pack("{s:s, s:I, s:I}", "upload_id", u.id, "offset", (json_int_t)u.offset, "size",
			     (json_int_t)u.size));
	set_offset_headers(rp, &u);
}

void upload_write_done(struct sim *s, struct upload_write *w)
{
	if (w->fd < 0)
		return;
	pthread_mutex_lock(&s->lock);
	simdb_count(s, "bytes_received", w->got);
	if (w->dup)
		simdb_count(s, "bytes_received_more_than_once", w->dup);
	sqlite3_stmt *st = simdb_prepare(s, "UPDATE uploads SET hwm = max(hwm, ?1) WHERE id = ?2");
	if (st) {
		sqlite3_bind_int64(st, 1, w->hwm);
		sqlite3_bind_text(st, 2, w->id, -1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	writer_release(w->id, w->gen);
	pthread_mutex_unlock(&s->lock);
	close(w->fd);
	w->fd = -1;
}
