/* The store check (motcuactl store check, and a throttled background run): reads back every
 * blob the database refers to and every document's manifest.  Never deletes, never repairs:
 * it reports, so that staff can fetch the city's copy or restore from a backup. */
#include "store/check.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"
#include "store/db.h"
#include "store/docs.h"
#include "store/fsutil.h"
#include "store/store.h"

struct run {
	struct store *s;
	struct db *db;
	int64_t bytes_per_s;
	const int *stop;
	int (*on_problem)(void *ctx, const struct store_check_problem *p);
	void *ctx;
	struct store_check_result *res;
	json_t *list;
};

static int stopping(const struct run *run)
{
	return run->stop && __atomic_load_n(run->stop, __ATOMIC_RELAXED);
}

/* Sleeps long enough that reading `bytes` took 1/bytes_per_s of a second each. */
static void throttle(const struct run *run, int64_t bytes)
{
	if (run->bytes_per_s <= 0 || bytes <= 0)
		return;
	int64_t ns = bytes * 1000000000LL / run->bytes_per_s;
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000LL), .tv_nsec = (long)(ns % 1000000000LL) };
	while (!stopping(run) && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Whether the city confirmed the document (its outbox item delivered, with the receipt). */
static void delivery(struct db *db, const char *doc_id, struct store_check_problem *p)
{
	sqlite3_stmt *st;
	if (db_prepare(db,
		       "SELECT receipt FROM outbox WHERE kind = 'document' AND ref = ? AND state = "
		       "'delivered' LIMIT 1",
		       &st) < 0)
		return;
	sqlite3_bind_text(st, 1, doc_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		p->delivered = 1;
		db_column_text(st, 0, p->receipt, sizeof(p->receipt));
	}
	sqlite3_finalize(st);
}

static int report(struct run *run, struct store_check_problem *p)
{
	struct store_check_result *res = run->res;
	if (strcmp(p->what, "document") == 0)
		delivery(run->db, p->ref, p);
	if (strcmp(p->problem, "damaged") == 0)
		res->damaged++;
	else if (strcmp(p->problem, "missing") == 0)
		res->missing++;
	else
		res->manifest_problems++;
	if (p->delivered && (strcmp(p->problem, "damaged") == 0 || strcmp(p->problem, "missing") == 0))
		res->delivered_damaged++;
	if (json_array_size(run->list) < STORE_CHECK_LIST_MAX)
		json_array_append_new(run->list,
				      json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "what", p->what, "ref",
						p->ref, "sha256", p->sha256, "problem", p->problem,
						"delivered", p->delivered, "receipt", p->receipt));
	log_warn("store check: %s %s (blob %.16s...): %s%s", p->what, p->ref, p->sha256, p->problem,
		 p->delivered ? "; the city holds a copy" : "");
	return run->on_problem ? run->on_problem(run->ctx, p) : 0;
}

static int check_blob(struct run *run, const char *what, const char *ref, const char *sha256)
{
	struct store_check_problem p;
	int64_t size = 0;
	int r = blob_verify(store_blobs(run->s), sha256, &size);
	if (r == 0) {
		run->res->blobs++;
		run->res->bytes += size;
		throttle(run, size);
		return 0;
	}
	if (r != -ENOENT && r != -EBADMSG)
		return r;
	memset(&p, 0, sizeof(p));
	snprintf(p.what, sizeof(p.what), "%s", what);
	snprintf(p.ref, sizeof(p.ref), "%.79s", ref);
	snprintf(p.sha256, sizeof(p.sha256), "%.64s", sha256);
	snprintf(p.problem, sizeof(p.problem), "%s", r == -ENOENT ? "missing" : "damaged");
	return report(run, &p);
}

/* The manifest of document m must exist and say what its row says. */
static int check_manifest(struct run *run, const struct doc_meta *m)
{
	struct store_check_problem p;
	struct doc_meta got;
	char path[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	int r;

	if (snprintf(path, sizeof(path), "%s/%.2s/%s.json", store_manifest_dir(run->s), m->id, m->id) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	r = fs_read_small(path, 4096, &text, &len);
	if (r == 0)
		r = manifest_parse(text, len, &got) < 0 ? 1 : 0;
	free(text);
	run->res->manifests++;
	if (r == 0 && strcmp(got.sha256, m->sha256) == 0 && got.size == m->size &&
	    strcmp(got.intake_key, m->intake_key) == 0 && strcmp(got.id, m->id) == 0)
		return 0;
	if (r < 0 && r != -ENOENT)
		return r;
	memset(&p, 0, sizeof(p));
	snprintf(p.what, sizeof(p.what), "document");
	snprintf(p.ref, sizeof(p.ref), "%.79s", m->id);
	snprintf(p.sha256, sizeof(p.sha256), "%.64s", m->sha256);
	snprintf(p.problem, sizeof(p.problem), "%s", r == -ENOENT ? "manifest-missing" : "manifest-differs");
	return report(run, &p);
}

/* Each row of sql gives (ref, sha256); every blob is checked. */
static int check_rows(struct run *run, const char *what, const char *sql)
{
	sqlite3_stmt *st;
	char ref[80], sha[BLOB_HASH_HEX];
	int r = db_prepare(run->db, sql, &st), rc;
	if (r < 0)
		return r;
	while (r == 0 && !stopping(run) && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_column_text(st, 0, ref, sizeof(ref));
		db_column_text(st, 1, sha, sizeof(sha));
		if (blob_hash_valid(sha))
			r = check_blob(run, what, ref, sha);
	}
	sqlite3_finalize(st);
	return r;
}

static int check_documents(struct run *run)
{
	struct doc_meta m;
	sqlite3_stmt *st;
	int64_t after = 0;
	int r = 0, n;

	/* In pages, so that intakes are never held up behind a long read of the table. */
	do {
		n = 0;
		r = db_prepare(run->db,
			       "SELECT id, seq, sha256, size, intake_key FROM documents WHERE seq > ? "
			       "ORDER BY seq LIMIT 100",
			       &st);
		if (r < 0)
			return r;
		sqlite3_bind_int64(st, 1, after);
		struct doc_meta page[100];
		while (sqlite3_step(st) == SQLITE_ROW && n < 100) {
			memset(&m, 0, sizeof(m));
			db_column_text(st, 0, m.id, sizeof(m.id));
			m.seq = sqlite3_column_int64(st, 1);
			db_column_text(st, 2, m.sha256, sizeof(m.sha256));
			m.size = sqlite3_column_int64(st, 3);
			db_column_text(st, 4, m.intake_key, sizeof(m.intake_key));
			page[n++] = m;
		}
		sqlite3_finalize(st);
		for (int i = 0; r == 0 && i < n && !stopping(run); i++) {
			after = page[i].seq;
			r = check_blob(run, "document", page[i].id, page[i].sha256);
			if (r == 0)
				r = check_manifest(run, &page[i]);
		}
	} while (r == 0 && n == 100 && !stopping(run));
	return r;
}

int store_check_run(struct store *s, struct db *db, int64_t bytes_per_s, const int *stop,
		    int (*on_problem)(void *ctx, const struct store_check_problem *p), void *ctx,
		    struct store_check_result *ret)
{
	struct store_check_result res;
	struct run run = { s, db, bytes_per_s, stop, on_problem, ctx, &res, json_array() };
	int r;

	if (!run.list)
		return -ENOMEM;
	memset(&res, 0, sizeof(res));
	db_now(res.at);
	r = check_documents(&run);
	if (r == 0)
		r = check_rows(
		    &run, "recognition",
		    "SELECT doc_id, result_sha256 FROM recognitions WHERE result_sha256 IS NOT NULL");
	if (r == 0)
		r = check_rows(&run, "correction", "SELECT doc_id, result_sha256 FROM recog_corrections");
	if (r == 0)
		r = check_rows(&run, "queue-report", "SELECT day, sha256 FROM queue_reports");
	res.complete = r == 0 && !stopping(&run);
	if (r == 0) {
		json_t *j =
		    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "at", res.at, "complete",
			      res.complete, "blobs", (json_int_t)res.blobs, "bytes", (json_int_t)res.bytes,
			      "manifests", (json_int_t)res.manifests, "damaged", (json_int_t)res.damaged,
			      "missing", (json_int_t)res.missing, "manifest_problems",
			      (json_int_t)res.manifest_problems, "delivered_damaged",
			      (json_int_t)res.delivered_damaged, "problems", json_incref(run.list));
		char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		r = text ? db_meta_set(db, "store_check", text) : -ENOMEM;
		free(text);
	}
	json_decref(run.list);
	if (r == 0 && ret)
		*ret = res;
	return r;
}
