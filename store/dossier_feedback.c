/* Feedback rows, their figures and the daily statistics item. */
#include "store/dossier_feedback.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/dossiers.h"
#include "store/outbox.h"

int feedback_add(struct db *db, const char *actor, const struct feedback_in *in, int64_t *ret_id)
{
	sqlite3_stmt *st;
	char now[32], subject[96], detail[160];
	int r = db_begin(db);
	if (r < 0)
		return r;
	db_now(now);
	r = db_prepare(
	    db,
	    "INSERT INTO feedback(subject_kind, subject, service, counter, procedure, rating, comment, "
	    "source, day, at) VALUES(?,?,?,?,?,?,?,?,?,?)",
	    &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, in->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, in->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, in->service, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, in->counter);
	sqlite3_bind_text(st, 5, in->procedure, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, in->rating);
	sqlite3_bind_text(st, 7, in->comment, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, in->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, in->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, now, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT) {
		r = -EEXIST;
		goto fail;
	}
	if (rc != SQLITE_DONE) {
		r = db_error(db, rc, "storing feedback");
		goto fail;
	}
	*ret_id = sqlite3_last_insert_rowid(db_handle(db));
	snprintf(subject, sizeof(subject), "feedback:%lld", (long long)*ret_id);
	snprintf(detail, sizeof(detail),
		 "{\"kind\":\"%.8s\",\"rating\":%d,\"service\":\"%.2s\",\"counter\":%d}", in->kind,
		 in->rating, in->service, in->counter);
	r = audit_append(db, actor, "feedback.add", subject, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	return 0;
fail:
	db_rollback(db);
	return r;
}

static json_t *group(struct db *db, const char *day, const char *by)
{
	sqlite3_stmt *st;
	char sql[256];
	json_t *arr = json_array();
	snprintf(
	    sql, sizeof(sql),
	    "SELECT %s, COUNT(*), AVG(rating), SUM(rating <= 2) FROM feedback WHERE (?1 = '' OR day = ?1) "
	    "GROUP BY 1 ORDER BY 1",
	    by);
	if (db_prepare(db, sql, &st) < 0)
		return arr;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:I, s:f, s:I}", "key", (const char *)sqlite3_column_text(st, 0),
			      "count", (json_int_t)sqlite3_column_int64(st, 1), "average",
			      sqlite3_column_double(st, 2), "low", (json_int_t)sqlite3_column_int64(st, 3)));
	sqlite3_finalize(st);
	return arr;
}

/* Words too common in comments to say what they are about. */
static int dull(const char *w)
{
	static const char *const words[] = { "qua",   "rat", "khong", "duoc", "cho", "toi", "cua",   "nhung",
					     "nhung", "the", "con",   "lam",  "nay", "voi", "nhieu", "hon",
					     "cung",  "cac", "mot",   "vien", "can", "bo" };
	if (strlen(w) < 3)
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i], w) == 0)
			return 1;
	return 0;
}

#define KW_MAX 256

json_t *feedback_summary(struct db *db, const char *day, size_t (*fold)(const char *, char *, size_t))
{
	sqlite3_stmt *st;
	static __thread struct {
		char w[24];
		int n, low;
	} kw[KW_MAX];
	int nkw = 0;
	json_t *j = json_pack("{s:s, s:o, s:o}", "day", day, "services", group(db, day, "service"),
			      "counters", group(db, day, "counter"));
	if (db_prepare(db,
		       "SELECT comment, rating FROM feedback WHERE (?1 = '' OR day = ?1) AND comment != ''",
		       &st) == 0) {
		sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			char f[FEEDBACK_COMMENT_MAX * 2], *save = NULL;
			fold((const char *)sqlite3_column_text(st, 0), f, sizeof(f));
			int low = sqlite3_column_int(st, 1) <= 2;
			for (char *w = strtok_r(f, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
				int k;
				if (dull(w) || strlen(w) >= 24)
					continue;
				for (k = 0; k < nkw && strcmp(kw[k].w, w) != 0; k++)
					;
				if (k == nkw) {
					if (nkw == KW_MAX)
						continue;
					snprintf(kw[nkw].w, 24, "%s", w);
					kw[nkw].n = kw[nkw].low = 0;
					nkw++;
				}
				kw[k].n++;
				kw[k].low += low;
			}
		}
		sqlite3_finalize(st);
	}
	/* The ten words that come back most often, complaints first. */
	json_t *words = json_array();
	for (int t = 0; t < 10; t++) {
		int best = -1;
		for (int k = 0; k < nkw; k++)
			if (kw[k].n > 0 &&
			    (best < 0 || kw[k].n * 2 + kw[k].low > kw[best].n * 2 + kw[best].low))
				best = k;
		if (best < 0 || kw[best].n < 2)
			break;
		json_array_append_new(words,
				      json_pack("{s:s, s:i, s:i}", "word", kw[best].w, "count", kw[best].n,
						"low", kw[best].low));
		kw[best].n = 0;
	}
	json_object_set_new(j, "keywords", words);
	return j;
}

int feedback_report(struct db *db, const char *actor, const char *day, const char *commune_code,
		    json_t *summary, int64_t *ret_id)
{
	sqlite3_stmt *st;
	char key[64], *body = NULL;
	int64_t oid = 0;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(db, "SELECT outbox_id FROM feedback_reports WHERE day = ?", &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret_id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		db_rollback(db);
		return 1;
	}
	sqlite3_finalize(st);
	json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:O, s:[]}", "schema", "motcua.lgsp.v1",
			      "commune_code", commune_code, "created_at", day, "period_start", day,
			      "period_end", day, "feedback", summary, "blobs");
	body = b ? json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(b);
	if (!body || strlen(body) > DOSSIER_BODY_MAX) {
		r = body ? -EMSGSIZE : -ENOMEM;
		goto fail;
	}
	snprintf(key, sizeof(key), "feedback-%s", day);
	r = outbox_enqueue(db, "statistics", OUTBOX_PRIO_BULK, "feedback-stats", day, key,
			   (int64_t)strlen(body), &oid);
	if (r == 0)
		r = outbox_body_put(db, oid, body);
	if (r == 0 &&
	    (r = db_prepare(db, "INSERT INTO feedback_reports(day, outbox_id) VALUES(?, ?)", &st)) == 0) {
		sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, oid);
		r = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
		sqlite3_finalize(st);
	}
	if (r == 0)
		r = audit_append(db, actor, "feedback.report", day, "");
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		goto fail;
	free(body);
	*ret_id = oid;
	return 0;
fail:
	free(body);
	db_rollback(db);
	return r;
}
