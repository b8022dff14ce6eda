/* Scans uploaded from a PC go through intake_document like every other channel, streamed:
 * the multipart parser pushes the file's bytes into a pipe, and a helper thread with its own
 * store connection pulls them into the intake (a pull API fed from a push one).  Stored
 * documents go back out the same way: blob_get pushes into a pipe that libmicrohttpd
 * reads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/daemon.h"
#include "gateway/intake.h"
#include "gateway/log.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/docs.h"
#include "store/fsutil.h"
#include "store/store.h"
#include "web/internal.h"

#define HTML "text/html; charset=utf-8"

enum MHD_Result pages_documents(struct req *r, unsigned status, const char *notice_kind,
				const char *notice_html);

struct upload {
	struct mp_parser mp;
	struct store *store;
	int fds[2];
	pthread_t th;
	int running;
	int has_file; /* a file part with a name began */
	int write_closed;
	atomic_int complete; /* the file part ended at its boundary: EOF is real */
	int reader_gone; /* the intake stopped reading (refused early) */
	char name[DOC_NAME_MAX];
	char actor[48];
	int64_t max_bytes, low_water;
	/* the intake's result */
	int rc;
	char why[512];
	struct doc_meta meta;
};

static ssize_t pipe_read(void *ctx, void *buf, size_t len)
{
	struct upload *u = ctx;
	ssize_t n = read(u->fds[0], buf, len);
	while (n < 0 && errno == EINTR)
		n = read(u->fds[0], buf, len);
	if (n < 0)
		return -errno;
	if (n == 0 && !atomic_load(&u->complete))
		return -ECONNRESET; /* the browser went away mid-file: store nothing */
	return n;
}

static void *intake_thread(void *arg)
{
	struct upload *u = arg;
	struct db *db = NULL;
	struct intake_request ir = {
		.declared_size = -1,
		.max_bytes = u->max_bytes,
		.low_water_bytes = u->low_water,
		.kind = "scan",
		.source = "web",
		.name = u->name,
		.intake_key = NULL,
		.actor = u->actor,
	};
	u->rc = store_connect(u->store, &db);
	if (u->rc < 0)
		snprintf(u->why, sizeof(u->why), "cannot open the store");
	else
		u->rc = intake_document(u->store, db, &ir, pipe_read, u, &u->meta, u->why, sizeof(u->why));
	db_close(db);
	/* Closing our end tells the writer (EPIPE) that nothing more is read. */
	close(u->fds[0]);
	u->fds[0] = -1;
	return NULL;
}

/* The file name as shown to staff: its last path part, at most DOC_NAME_MAX-1 bytes cut on
 * a UTF-8 boundary, without control characters. */
static void clean_name(const char *in, char *out, size_t size)
{
	const char *base = in;
	for (const char *p = in; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	size_t n = 0;
	for (const char *p = base; *p && n + 1 < size; p++)
		out[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '_' : *p;
	while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80 && strlen(base) > n)
		n--; /* drop a cut continuation run */
	if (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0 && strlen(base) > n)
		n--;
	out[n] = '\0';
}

static void close_write(struct upload *u)
{
	if (!u->write_closed && u->fds[1] >= 0) {
		close(u->fds[1]);
		u->fds[1] = -1;
		u->write_closed = 1;
	}
}

static void join(struct upload *u)
{
	close_write(u);
	if (u->running) {
		pthread_join(u->th, NULL);
		u->running = 0;
	}
}

static int on_field(void *ctx, const char *name, const char *value, size_t len)
{
	struct req *r = ctx;
	if (strcmp(name, "csrf") == 0)
		r->csrf_ok = accounts_token_equal(r->sess.csrf, value);
	return 0;
}

static int on_file_begin(void *ctx, const char *name, const char *filename)
{
	struct req *r = ctx;
	struct upload *u = r->up;
	if (!r->csrf_ok)
		return -EACCES; /* the form's token comes first; a file before it is refused */
	if (strcmp(name, "file") != 0 || u->has_file || filename[0] == '\0')
		return 0; /* no file chosen (or a second one): nothing to store */
	clean_name(filename, u->name, sizeof(u->name));
	if (pipe2(u->fds, O_CLOEXEC) < 0)
		return -errno;
	if (pthread_create(&u->th, NULL, intake_thread, u) != 0) {
		close(u->fds[0]);
		close(u->fds[1]);
		u->fds[0] = u->fds[1] = -1;
		return -EAGAIN;
	}
	u->running = 1;
	u->has_file = 1;
	return 0;
}

static int on_file_data(void *ctx, const char *data, size_t len)
{
	struct req *r = ctx;
	struct upload *u = r->up;
	if (!u->running || u->write_closed || u->reader_gone)
		return 0;
	if (fs_write_all(u->fds[1], data, len) < 0)
		u->reader_gone = 1; /* EPIPE: the intake refused; its reason comes at the end */
	return 0;
}

static int on_file_end(void *ctx)
{
	struct req *r = ctx;
	struct upload *u = r->up;
	if (u->running && !u->write_closed) {
		atomic_store(&u->complete, 1);
		close_write(u);
	}
	return 0;
}

static const struct mp_callbacks callbacks = {
	.field = on_field,
	.file_begin = on_file_begin,
	.file_data = on_file_data,
	.file_end = on_file_end,
};

int upload_begin(struct req *r, const char *content_type)
{
	struct config cfg;
	struct upload *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fds[0] = u->fds[1] = -1;
	u->store = r->w->store;
	daemon_config_snapshot(&cfg);
	u->max_bytes = config_max_document_bytes(&cfg);
	if (u->max_bytes > r->w->cfg.web_max_upload_mb * 1024 * 1024)
		u->max_bytes = r->w->cfg.web_max_upload_mb * 1024 * 1024;
	u->low_water = config_low_water_bytes(&cfg);
	snprintf(u->actor, sizeof(u->actor), "%s", r->actor);
	int rc = mp_init(&u->mp, content_type, &callbacks, r);
	if (rc < 0) {
		free(u);
		return rc;
	}
	r->up = u;
	return 0;
}

int upload_feed(struct req *r, const char *data, size_t len)
{
	int rc = mp_feed(&r->up->mp, data, len);
	if (rc < 0)
		join(r->up); /* without complete set: the intake stores nothing */
	return rc;
}

static enum MHD_Result notice(struct req *r, unsigned status, enum str s, long long n, const char *extra)
{
	struct buf t;
	buf_init(&t, 2048);
	buf_t(&t, r->lang, s, n, 0, NULL);
	if (extra) {
		buf_puts(&t, " ");
		buf_esc(&t, extra);
	}
	enum MHD_Result ret = pages_documents(r, status, "err", t.p ? t.p : "");
	buf_free(&t);
	return ret;
}

enum MHD_Result upload_finish(struct req *r)
{
	struct upload *u = r->up;
	char loc[128];
	long long mb = (long long)(u->max_bytes >> 20);

	if (r->refused || mp_finish(&u->mp) < 0) {
		join(u);
		atomic_fetch_add(&r->w->uploads_refused, 1);
		if (r->refused == MHD_HTTP_FORBIDDEN || !r->csrf_ok)
			return web_error(r, MHD_HTTP_FORBIDDEN, S_CSRF_BAD);
		return web_error(r, r->refused ? (unsigned)r->refused : MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	}
	if (!r->csrf_ok)
		return web_error(r, MHD_HTTP_FORBIDDEN, S_CSRF_BAD);
	if (!u->has_file)
		return notice(r, MHD_HTTP_BAD_REQUEST, S_UPLOAD_NOFILE, 0, NULL);
	join(u);
	if (u->rc < 0) {
		atomic_fetch_add(&r->w->uploads_refused, 1);
		log_warn("web: upload by %s refused: %s", u->actor, u->why);
		switch (u->rc) {
		case -EMSGSIZE: return notice(r, MHD_HTTP_CONTENT_TOO_LARGE, S_UPLOAD_BIG, mb, NULL);
		case -EMEDIUMTYPE: return notice(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, S_UPLOAD_TYPE, 0, NULL);
		case -ENOSPC: return notice(r, MHD_HTTP_INSUFFICIENT_STORAGE, S_UPLOAD_DISK, 0, NULL);
		default: return notice(r, MHD_HTTP_BAD_REQUEST, S_UPLOAD_FAILED, 0, u->why);
		}
	}
	atomic_fetch_add(&r->w->uploads_ok, 1);
	web_status_changed();
	snprintf(loc, sizeof(loc), "/documents/%s?msg=%s", u->meta.id, u->rc == 1 ? "duplicate" : "uploaded");
	return web_redirect(r, loc);
}

void upload_abort(struct req *r)
{
	struct upload *u = r->up;
	if (!u)
		return;
	join(u); /* complete is unset unless the file ended: an aborted upload stores nothing */
	if (u->fds[0] >= 0)
		close(u->fds[0]);
	free(u);
	r->up = NULL;
}

/* ---- sending a stored document ---------------------------------------------------------- */

struct sender {
	struct store *store;
	char sha[BLOB_HASH_HEX];
	int fd;
};

static int to_pipe(void *ctx, const void *buf, size_t len)
{
	return fs_write_all(*(int *)ctx, buf, len);
}

static void *send_thread(void *arg)
{
	struct sender *s = arg;
	int rc = blob_get(store_blobs(s->store), s->sha, to_pipe, &s->fd);
	if (rc < 0 && rc != -EPIPE)
		log_warn("web: document blob %.12s could not be sent whole: %s", s->sha, strerror(-rc));
	close(s->fd);
	free(s);
	return NULL;
}

enum MHD_Result upload_send_document(struct req *r, const char *id, int download)
{
	struct db *db = web_db(r);
	struct doc_meta m;
	int fds[2];
	pthread_t th;
	pthread_attr_t attr;

	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	int rc = docs_get(db, id, &m);
	if (rc == -ENOENT)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	if (rc < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	/* Checked whole before the status line goes out: a damaged blob is a clear error, never
	 * a truncated picture.  blob_get checks again as it streams. */
	rc = blob_verify(store_blobs(r->w->store), m.sha256, NULL);
	if (rc < 0) {
		log_error("web: document %s has a damaged or missing blob: %s", m.id, strerror(-rc));
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_DOC_CORRUPT);
	}
	struct sender *s = calloc(1, sizeof(*s));
	if (!s || pipe2(fds, O_CLOEXEC) < 0) {
		free(s);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	s->store = r->w->store;
	memcpy(s->sha, m.sha256, sizeof(s->sha));
	s->fd = fds[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, send_thread, s) != 0) {
		pthread_attr_destroy(&attr);
		close(fds[0]);
		close(fds[1]);
		free(s);
		return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, S_SERVER_ERROR);
	}
	pthread_attr_destroy(&attr);
	struct MHD_Response *resp = MHD_create_response_from_pipe(fds[0]);
	if (!resp) {
		close(fds[0]); /* the sender sees EPIPE and ends */
		return MHD_NO;
	}
	char disp[DOC_NAME_MAX + 64];
	snprintf(disp, sizeof(disp), "%s; filename=\"%s%s\"", download ? "attachment" : "inline", m.id,
		 strcmp(m.content_type, "application/pdf") == 0  ? ".pdf"
		     : strcmp(m.content_type, "image/png") == 0  ? ".png"
		     : strcmp(m.content_type, "image/jpeg") == 0 ? ".jpg"
								 : ".tif");
	MHD_add_response_header(resp, "Content-Type", m.content_type);
	MHD_add_response_header(resp, "Content-Disposition", disp);
	MHD_add_response_header(resp, "Cache-Control", "private, no-store");
	/* Not the pages' policy: a PDF needs the browser's viewer.  Framed by our pages only. */
	MHD_add_response_header(resp, "Content-Security-Policy", "frame-ancestors 'self'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	r->status = MHD_HTTP_OK;
	enum MHD_Result ret = MHD_queue_response(r->c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}
