/* Recognition job runner (see recjobs.h). */
#include "gateway/recjobs.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/recognize/proto.h"
#include "gateway/recognize/result.h"
#include "store/db.h"
#include "store/recog.h"
#include "store/store.h"

#define MAX_WORKERS 16

struct worker {
	int pid, to, from;
	int busy;
	char doc_id[33];
	double deadline_ms;
};

struct recjobs {
	struct store *store;
	struct db *db;
	pthread_t thread;
	int stop_fd;
	int nworkers;
	double timeout_ms;
	int64_t pair_window_s;
	char path[PATH_MAX];
	char mem_arg[32];
	struct worker w[MAX_WORKERS];
	/* The workers' stderr: one pipe whose lines this thread relays to our log, so that a
	 * worker holds no descriptor of ours (not even our journal stream). */
	int log_rd, log_wr;
	char logbuf[1024];
	size_t loglen;
};

static atomic_int wake_fd = -1;

void recjobs_wake(void)
{
	int fd = atomic_load(&wake_fd);
	uint64_t one = 1;
	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* the counter is full: a wake-up is pending anyway */
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void worker_kill(struct worker *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
	}
	if (w->to >= 0)
		close(w->to);
	if (w->from >= 0)
		close(w->from);
	w->pid = 0, w->to = w->from = -1, w->busy = 0;
}

static int worker_start(struct recjobs *rj, struct worker *w)
{
	char *args[] = { (char *)"--mem-mb", rj->mem_arg, NULL };
	int r = rec_spawn(rj->path, args, rj->log_wr, &w->pid, &w->to, &w->from);
	if (r < 0)
		log_error("recognize: cannot start %s: %s", rj->path, strerror(-r));
	return r;
}

struct membuf {
	char *p;
	size_t len, cap;
};

static int mem_sink(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;
	if (m->len + len > REC_IMAGE_MAX)
		return -EMSGSIZE;
	if (m->len + len > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1 << 20;
		while (cap < m->len + len)
			cap *= 2;
		char *p = realloc(m->p, cap);
		if (!p)
			return -ENOMEM;
		m->p = p, m->cap = cap;
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

/* Hands the next queued image to an idle worker; 0 when one was sent, -ENOENT when the
 * queue is empty. */
static int dispatch(struct recjobs *rj, struct worker *w)
{
	struct recog_job job;
	struct membuf img = { 0 };
	int r = recog_claim(rj->db, &job);
	if (r < 0)
		return r;
	r = blob_get(store_blobs(rj->store), job.sha256, mem_sink, &img);
	if (r < 0) {
		log_warn("recognize: document %s cannot be read: %s", job.doc_id, strerror(-r));
		recog_fail(rj->db, job.doc_id, "the document's blob cannot be read");
		free(img.p);
		return 0;
	}
	if (w->pid <= 0 && worker_start(rj, w) < 0) {
		recog_fail(rj->db, job.doc_id, "the recognition worker cannot start");
		free(img.p);
		return -EIO;
	}
	/* An idle worker is blocked reading its stdin: the write completes. */
	r = rec_write_frame(w->to, REC_TAG_IMAGE, img.p, img.len);
	free(img.p);
	if (r < 0) {
		log_warn("recognize: worker %d gone: %s", w->pid, strerror(-r));
		worker_kill(w);
		recog_fail(rj->db, job.doc_id, "the recognition worker died");
		return 0;
	}
	w->busy = 1;
	snprintf(w->doc_id, sizeof(w->doc_id), "%s", job.doc_id);
	w->deadline_ms = now_ms() + rj->timeout_ms;
	return 0;
}

/* A card's side just read: its other side from the same source within the window, read
 * already and not paired, makes one identity with the QR-MRZ cross-check (stored and
 * audited; a mismatch flagged with the differing fields). */
static void pair_sides(struct recjobs *rj, const char *doc_id, const char *type, json_t *mine)
{
	int front = strcmp(type, "id_card_front") == 0;
	char other[33], sha[BLOB_HASH_HEX], *text = NULL, differ[128] = "";
	size_t len = 0;
	if (rj->pair_window_s <= 0 || (!front && strcmp(type, "id_card_back") != 0))
		return;
	if (recog_pair_partner(rj->db, doc_id, front ? "id_card_back" : "id_card_front", rj->pair_window_s,
			       other, sha) < 0)
		return;
	if (recog_blob_text(store_blobs(rj->store), sha, &text, &len) < 0)
		return;
	json_t *theirs = json_loadb(text, len, 0, NULL);
	free(text);
	json_t *one = theirs ? result_pair(front ? mine : theirs, front ? theirs : mine) : NULL;
	char *out = one ? json_dumps(one, JSON_COMPACT | JSON_REAL_PRECISION(5)) : NULL;
	if (out) {
		json_t *checks = json_object_get(one, "checks");
		size_t i, o = 0;
		json_t *v;
		json_array_foreach (json_object_get(checks, "differing_fields"), i, v) {
			int n = snprintf(differ + o, sizeof(differ) - o, "%s%s", o ? "," : "",
					 json_string_value(v));
			if (n < 0 || (size_t)n >= sizeof(differ) - o)
				break;
			o += (size_t)n;
		}
		const char *verdict = json_string_value(json_object_get(checks, "pair"));
		int agree = verdict && strcmp(verdict, "agree") == 0;
		int review = json_is_true(json_object_get(one, "needs_review"));
		int r = recog_pair_store(rj->db, store_blobs(rj->store), front ? doc_id : other,
					 front ? other : doc_id, out, strlen(out), agree, review,
					 "same_source", "recognizer", differ);
		if (r < 0)
			log_warn("recognize: documents %s and %s not paired: %s", doc_id, other,
				 strerror(-r));
		else
			log_info("recognize: documents %s and %s are one card's two sides%s%s",
				 front ? doc_id : other, front ? other : doc_id,
				 agree ? "" : "; they differ on ", differ);
	}
	free(out);
	json_decref(one);
	json_decref(theirs);
}

static void collect(struct recjobs *rj, struct worker *w)
{
	char *res = NULL;
	size_t len = 0;
	int r = rec_read_frame(w->from, REC_TAG_RESULT, REC_RESULT_MAX, &res, &len);
	json_t *obj = r == 0 ? json_loadb(res, len, 0, NULL) : NULL;
	if (!obj || !json_is_object(obj)) {
		log_warn("recognize: worker %d died on document %s", w->pid, w->doc_id);
		worker_kill(w);
		recog_fail(rj->db, w->doc_id, "the recognition worker died on this image");
	} else {
		const char *type = json_string_value(json_object_get(obj, "type"));
		double conf = json_number_value(json_object_get(obj, "confidence"));
		int review = json_is_true(json_object_get(obj, "needs_review"));
		r = recog_finish(rj->db, store_blobs(rj->store), w->doc_id, res, len, type ? type : "other",
				 conf, review);
		if (r < 0)
			log_error("recognize: result of document %s not stored: %s", w->doc_id, strerror(-r));
		else
			log_info("recognize: document %s: %s, confidence %.2f%s", w->doc_id,
				 type ? type : "other", conf, review ? ", needs review" : "");
		if (r >= 0 && type)
			pair_sides(rj, w->doc_id, type, obj);
		w->busy = 0;
	}
	json_decref(obj);
	free(res);
}

/* Logs one line a worker wrote, control characters replaced (the line may come from a worker
 * that an image took over). */
static void log_line(char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = '?';
	line[len] = 0;
	if (len > 0)
		log_warn("recognize: worker says: %s", line);
}

static void relay_log(struct recjobs *rj)
{
	for (;;) {
		size_t room = sizeof(rj->logbuf) - 1 - rj->loglen;
		ssize_t n = read(rj->log_rd, rj->logbuf + rj->loglen, room);
		if (n <= 0)
			return;
		rj->loglen += (size_t)n;
		char *start = rj->logbuf, *nl;
		while ((nl = memchr(start, '\n', rj->loglen - (size_t)(start - rj->logbuf))) != NULL) {
			log_line(start, (size_t)(nl - start));
			start = nl + 1;
		}
		rj->loglen -= (size_t)(start - rj->logbuf);
		memmove(rj->logbuf, start, rj->loglen);
		if (rj->loglen == sizeof(rj->logbuf) - 1) { /* a line too long: cut it */
			log_line(rj->logbuf, rj->loglen);
			rj->loglen = 0;
		}
	}
}

static void *run(void *arg)
{
	struct recjobs *rj = arg;
	int fd = atomic_load(&wake_fd);
	int first = 1;
	for (;;) {
		struct pollfd pf[MAX_WORKERS + 3];
		int idx[MAX_WORKERS + 3], n = 0;
		if (recog_sweep(rj->db, first, NULL) == 0)
			first = 0;
		for (int i = 0; i < rj->nworkers; i++)
			if (!rj->w[i].busy && dispatch(rj, &rj->w[i]) == -ENOENT)
				break;
		double now = now_ms(), next = now + 60000;
		pf[n] = (struct pollfd){ .fd = rj->stop_fd, .events = POLLIN }, idx[n++] = -1;
		pf[n] = (struct pollfd){ .fd = fd, .events = POLLIN }, idx[n++] = -2;
		pf[n] = (struct pollfd){ .fd = rj->log_rd, .events = POLLIN }, idx[n++] = -3;
		for (int i = 0; i < rj->nworkers; i++) {
			struct worker *w = &rj->w[i];
			if (!w->busy)
				continue;
			if (now >= w->deadline_ms) {
				log_warn("recognize: document %s took over %.0f s: worker %d killed",
					 w->doc_id, rj->timeout_ms / 1000, w->pid);
				worker_kill(w);
				recog_fail(rj->db, w->doc_id, "recognition timed out");
				next = now; /* hand the next image out at once */
				continue;
			}
			if (w->deadline_ms < next)
				next = w->deadline_ms;
			pf[n] = (struct pollfd){ .fd = w->from, .events = POLLIN }, idx[n++] = i;
		}
		int timeout = next <= now ? 0 : (int)(next - now) + 1;
		if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		if (pf[1].revents) {
			uint64_t v;
			if (read(fd, &v, sizeof(v)) < 0) {
				/* nothing pending */
			}
		}
		if (pf[2].revents)
			relay_log(rj);
		for (int k = 3; k < n; k++)
			if (pf[k].revents)
				collect(rj, &rj->w[idx[k]]);
	}
	return NULL;
}

int recjobs_start(struct store *store, const struct config *cfg, struct recjobs **ret)
{
	*ret = NULL;
	if (cfg->recognize_workers <= 0)
		return 0;
	struct recjobs *rj = calloc(1, sizeof(*rj));
	int r;
	if (!rj)
		return -ENOMEM;
	rj->store = store;
	int logp[2] = { -1, -1 };
	rj->stop_fd = eventfd(0, EFD_CLOEXEC);
	int wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rj->stop_fd < 0 || wfd < 0 || pipe2(logp, O_CLOEXEC) < 0 ||
	    fcntl(logp[0], F_SETFL, O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	atomic_store(&wake_fd, wfd);
	rj->log_rd = logp[0], rj->log_wr = logp[1];
	rj->nworkers = (int)(cfg->recognize_workers > MAX_WORKERS ? MAX_WORKERS : cfg->recognize_workers);
	rj->timeout_ms = (double)cfg->recognize_timeout_s * 1000;
	rj->pair_window_s = cfg->recognize_pair_window_s;
	snprintf(rj->mem_arg, sizeof(rj->mem_arg), "%lld", (long long)cfg->recognize_memory_mb);
	if (cfg->recognize_worker[0])
		snprintf(rj->path, sizeof(rj->path), "%s", cfg->recognize_worker);
	else
		rec_worker_path(rj->path, sizeof(rj->path));
	for (int i = 0; i < MAX_WORKERS; i++)
		rj->w[i].to = rj->w[i].from = -1;
	r = store_connect(store, &rj->db);
	if (r < 0)
		goto fail;
	r = -pthread_create(&rj->thread, NULL, run, rj);
	if (r < 0)
		goto fail;
	log_info("recognize: %d worker(s) of %s", rj->nworkers, rj->path);
	*ret = rj;
	return 0;
fail:
	if (rj->db)
		db_close(rj->db);
	if (rj->stop_fd >= 0)
		close(rj->stop_fd);
	if (wfd >= 0) {
		atomic_store(&wake_fd, -1);
		close(wfd);
	}
	if (logp[0] >= 0)
		close(logp[0]), close(logp[1]);
	free(rj);
	return r;
}

void recjobs_stop(struct recjobs *rj)
{
	uint64_t one = 1;
	if (!rj)
		return;
	if (write(rj->stop_fd, &one, sizeof(one)) < 0)
		log_warn("recognize: cannot signal the runner to stop");
	pthread_join(rj->thread, NULL);
	for (int i = 0; i < rj->nworkers; i++)
		worker_kill(&rj->w[i]);
	db_close(rj->db);
	close(rj->stop_fd);
	close(atomic_exchange(&wake_fd, -1));
	relay_log(rj);
	close(rj->log_rd);
	close(rj->log_wr);
	free(rj);
}
