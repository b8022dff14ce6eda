/* The queue on SQLite: numbers come from one sequence row per (day, service) bumped in the
 * same IMMEDIATE transaction that inserts the ticket, so a number is given out exactly once
 * and only when its ticket is durable; state changes are UPDATEs guarded by the state they
 * leave. */
#include "store/queue.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"

#define TICKET_COLS                                                                                        \
	"id, day, service, number, code, source, state, counter, calls, moved_from, taken_ms, called_ms, " \
	"served_ms, done_ms"

static void row_ticket(sqlite3_stmt *st, struct queue_ticket *t)
{
	char letter[4];
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	db_column_text(st, 1, t->day, sizeof(t->day));
	db_column_text(st, 2, letter, sizeof(letter));
	t->service = letter[0];
	t->number = sqlite3_column_int(st, 3);
	db_column_text(st, 4, t->code, sizeof(t->code));
	db_column_text(st, 5, t->source, sizeof(t->source));
	db_column_text(st, 6, t->state, sizeof(t->state));
	t->counter = sqlite3_column_int(st, 7);
	t->calls = sqlite3_column_int(st, 8);
	db_column_text(st, 9, letter, sizeof(letter));
	t->moved_from = letter[0];
	t->taken_ms = sqlite3_column_int64(st, 10);
	t->called_ms = sqlite3_column_int64(st, 11);
	t->served_ms = sqlite3_column_int64(st, 12);
	t->done_ms = sqlite3_column_int64(st, 13);
}

static int step_done(struct db *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_DONE ? 0 : db_error(db, rc, what);
	sqlite3_finalize(st);
	return r;
}

/* One ticket by a WHERE clause over ?1 = day, ?2 = an int, ?3 = text (parameters a clause
 * does not name are left unbound: SQLITE_RANGE from the bind is expected). */
static int fetch(struct db *db, const char *where, const char *day, int64_t i, const char *s,
		 struct queue_ticket *ret)
{
	char sql[512];
	sqlite3_stmt *st;
	snprintf(sql, sizeof(sql), "SELECT " TICKET_COLS " FROM tickets WHERE %s", where);
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, i);
	sqlite3_bind_text(st, 3, s ? s : "", -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_ticket(st, ret);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read ticket");
	sqlite3_finalize(st);
	return r;
}

static int count_ahead(struct db *db, const struct queue_ticket *t, int *ret)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db,
		       "SELECT COUNT(*) FROM tickets WHERE day = ?1 AND state = 'waiting' AND service = ?2 "
		       "AND id < ?3",
		       &st);
	if (r < 0)
		return r;
	char letter[2] = { t->service, 0 };
	sqlite3_bind_text(st, 1, t->day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, letter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t->id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int(st, 0);
	r = rc == SQLITE_ROW ? 0 : db_error(db, rc, "count tickets ahead");
	sqlite3_finalize(st);
	return r;
}

int qstore_take(struct db *db, const char *day, char service, int max, const char *source, int64_t now_ms,
		struct queue_ticket *ret)
{
	char letter[2] = { service, 0 }, code[QUEUE_CODE_MAX];
	sqlite3_stmt *st = NULL;
	int64_t number = 0, id;
	int r, rc;

	r = db_begin(db);
	if (r < 0)
		return r;
	r = db_prepare(db,
		       "INSERT INTO queue_seq(day, service, last) VALUES(?1, ?2, 1) "
		       "ON CONFLICT(day, service) DO UPDATE SET last = last + 1 RETURNING last",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, letter, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = db_error(db, rc, "next ticket number");
		goto fail;
	}
	number = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (number > max) {
		r = -EOVERFLOW;
		goto fail;
	}
	snprintf(code, sizeof(code), "%c%03d", service, (int)number);
	r = db_prepare(db,
		       "INSERT INTO tickets(day, service, number, code, source, state, taken_ms) "
		       "VALUES(?1, ?2, ?3, ?4, ?5, 'waiting', ?6)",
		       &st);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, letter, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, number);
	sqlite3_bind_text(st, 4, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	r = step_done(db, st, "insert ticket");
	st = NULL;
	if (r < 0)
		goto fail;
	id = sqlite3_last_insert_rowid(db_handle(db));
	r = fetch(db, "id = ?2", day, id, NULL, ret);
	if (r == 0)
		r = count_ahead(db, ret, &ret->ahead);
	if (r < 0)
		goto fail;
	r = db_commit(db);
	if (r < 0)
		goto fail;
	return 0;
fail:
	sqlite3_finalize(st);
	db_rollback(db);
	return r;
}

static int set_state(struct db *db, int64_t id, const char *from_states, const char *sql_set, int64_t now_ms,
		     int counter, const char *s)
{
	char sql[512];
	sqlite3_stmt *st;
	/* ?1 id, ?2 now, ?3 counter, ?4 text: a clause may leave some unused. */
	snprintf(sql, sizeof(sql), "UPDATE tickets SET %s WHERE id = ?1 AND state IN (%s)", sql_set,
		 from_states);
	int r = db_prepare(db, sql, &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_int(st, 3, counter);
	sqlite3_bind_text(st, 4, s ? s : "", -1, SQLITE_STATIC);
	r = step_done(db, st, "change ticket state");
	if (r == 0 && sqlite3_changes(db_handle(db)) != 1)
		r = -ESTALE;
	return r;
}

int qstore_current(struct db *db, const char *day, int counter, struct queue_ticket *ret)
{
	return fetch(db,
		     "day = ?1 AND counter = ?2 AND state IN ('called','serving') "
		     "ORDER BY called_ms DESC, id DESC LIMIT 1",
		     day, counter, NULL, ret);
}

int qstore_get(struct db *db, const char *day, const char *code, struct queue_ticket *ret)
{
	int r = fetch(db, "day = ?1 AND code = ?3", day, 0, code, ret);
	if (r == 0 && strcmp(ret->state, "waiting") == 0)
		r = count_ahead(db, ret, &ret->ahead);
	return r;
}

int qstore_event(struct db *db, int64_t now_ms, int counter, const char *kind, int64_t ticket,
		 const char *code, const char *detail)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "INSERT INTO queue_events(at_ms, counter, kind, ticket, code, detail) "
			   "VALUES(?, ?, ?, ?, ?, ?)",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int(st, 2, counter);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, ticket);
	sqlite3_bind_text(st, 5, code ? code : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, detail ? detail : "", -1, SQLITE_STATIC);
	return step_done(db, st, "add queue event");
}

/* Finishes what counter has in hand (inside the caller's transaction). */
static int finish_current(struct db *db, const char *day, int counter, int64_t now_ms, int64_t *ret_id)
{
	struct queue_ticket cur;
	int r = qstore_current(db, day, counter, &cur);
	*ret_id = 0;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = set_state(db, cur.id, "'called','serving'", "state = 'done', done_ms = ?2", now_ms, counter,
		      NULL);
	if (r == 0)
		r = qstore_event(db, now_ms, counter, "done", cur.id, cur.code, "");
	if (r == 0)
		*ret_id = cur.id;
	return r;
}

static int call_ticket(struct db *db, const struct queue_ticket *t, int counter, int64_t now_ms,
		       struct queue_ticket *ret)
{
	int r = set_state(db, t->id, "'waiting','skipped'",
			  "state = 'called', counter = ?3, calls = 1, called_ms = ?2, served_ms = 0, "
			  "done_ms = 0",
			  now_ms, counter, NULL);
	if (r == 0)
		r = fetch(db, "id = ?2", t->day, t->id, NULL, ret);
	if (r == 0)
		r = qstore_event(db, now_ms, counter, "call", ret->id, ret->code, "");
	return r;
}

int qstore_call_next(struct db *db, const char *day, int counter, const char *services, int64_t now_ms,
		     struct queue_ticket *ret, int64_t *ret_finished)
{
	struct queue_ticket next;
	int64_t fin = 0;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = finish_current(db, day, counter, now_ms, &fin);
	if (r < 0)
		goto fail;
	r = fetch(db, "day = ?1 AND state = 'waiting' AND instr(?3, service) > 0 ORDER BY id LIMIT 1", day, 0,
		  services, &next);
	if (r == 0)
		r = call_ticket(db, &next, counter, now_ms, ret);
	if (r < 0 && r != -ENOENT)
		goto fail;
	int found = r;
	r = db_commit(db);
	if (r < 0)
		goto fail;
	if (ret_finished)
		*ret_finished = fin;
	return found;
fail:
	db_rollback(db);
	return r;
}

int qstore_call_code(struct db *db, const char *day, int counter, const char *code, int64_t now_ms,
		     struct queue_ticket *ret)
{
	struct queue_ticket t;
	int64_t fin;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = fetch(db, "day = ?1 AND code = ?3", day, 0, code, &t);
	if (r == 0 && strcmp(t.state, "waiting") != 0 && strcmp(t.state, "skipped") != 0)
		r = -ESTALE;
	if (r == 0)
		r = finish_current(db, day, counter, now_ms, &fin);
	if (r == 0)
		r = call_ticket(db, &t, counter, now_ms, ret);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

int qstore_counter_op(struct db *db, const char *day, int counter, enum qstore_op op, char to_service,
		      int64_t now_ms, struct queue_ticket *ret)
{
	struct queue_ticket cur;
	char to[2] = { to_service, 0 };
	const char *kind = "";
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = qstore_current(db, day, counter, &cur);
	if (r < 0)
		goto fail;
	switch (op) {
	case QSTORE_RECALL:
		kind = "recall";
		r = set_state(db, cur.id, "'called'", "calls = calls + 1", now_ms, counter, NULL);
		break;
	case QSTORE_SERVE:
		kind = "serve";
		r = set_state(db, cur.id, "'called'", "state = 'serving', served_ms = ?2", now_ms, counter,
			      NULL);
		break;
	case QSTORE_DONE:
		kind = "done";
		r = set_state(db, cur.id, "'called','serving'", "state = 'done', done_ms = ?2", now_ms,
			      counter, NULL);
		break;
	case QSTORE_SKIP:
		kind = "skip";
		r = set_state(db, cur.id, "'called'", "state = 'skipped', done_ms = ?2", now_ms, counter,
			      NULL);
		break;
	case QSTORE_MOVE:
		kind = "move";
		if (to_service == cur.service) {
			r = -EINVAL;
			break;
		}
		/* Back to waiting in the other service, keeping its place by arrival. */
		r = set_state(
		    db, cur.id, "'called','serving'",
		    "state = 'waiting', moved_from = service, service = ?4, counter = 0, calls = 0, "
		    "called_ms = 0, served_ms = 0",
		    now_ms, counter, to);
		break;
	}
	if (r < 0)
		goto fail;
	r = qstore_event(db, now_ms, counter, kind, cur.id, cur.code, op == QSTORE_MOVE ? to : "");
	if (r == 0)
		r = fetch(db, "id = ?2", day, cur.id, NULL, ret);
	if (r == 0 && op == QSTORE_MOVE)
		r = count_ahead(db, ret, &ret->ahead);
	if (r < 0)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return r;
}

static int events_rows(struct db *db, sqlite3_stmt *st, int (*fn)(void *ctx, const struct queue_event *e),
		       void *ctx);

int qstore_events(struct db *db, int64_t after, int counter, int limit,
		  int (*fn)(void *ctx, const struct queue_event *e), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "SELECT id, at_ms, counter, kind, ticket, code, detail FROM queue_events "
			   "WHERE id > ?1 AND (?2 < 0 OR counter = ?2) ORDER BY id LIMIT ?3",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, counter);
	sqlite3_bind_int(st, 3, limit);
	return events_rows(db, st, fn, ctx);
}

int qstore_events_recent(struct db *db, int counter, const char *kind, int64_t since_ms, int limit,
			 int (*fn)(void *ctx, const struct queue_event *e), void *ctx)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "SELECT id, at_ms, counter, kind, ticket, code, detail FROM queue_events "
			   "WHERE (?1 < 0 OR counter = ?1) AND (?2 IS NULL OR kind = ?2) AND at_ms >= ?3 "
			   "ORDER BY id DESC LIMIT ?4",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_int(st, 1, counter);
	if (kind)
		sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, since_ms);
	sqlite3_bind_int(st, 4, limit);
	return events_rows(db, st, fn, ctx);
}

/* Steps st (finalized here), one queue_event per row. */
static int events_rows(struct db *db, sqlite3_stmt *st, int (*fn)(void *ctx, const struct queue_event *e),
		       void *ctx)
{
	int r = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct queue_event e;
		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(st, 0);
		e.at_ms = sqlite3_column_int64(st, 1);
		e.counter = sqlite3_column_int(st, 2);
		db_column_text(st, 3, e.kind, sizeof(e.kind));
		e.ticket = sqlite3_column_int64(st, 4);
		db_column_text(st, 5, e.code, sizeof(e.code));
		db_column_text(st, 6, e.detail, sizeof(e.detail));
		r = fn(ctx, &e);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list queue events");
	sqlite3_finalize(st);
	return r;
}

int qstore_list(struct db *db, const char *day, const char *state, int limit,
		int (*fn)(void *ctx, const struct queue_ticket *t), void *ctx)
{
	sqlite3_stmt *st;
	int r =
	    db_prepare(db,
		       "SELECT " TICKET_COLS " FROM tickets WHERE day = ?1 AND (?2 IS NULL OR state = ?2) "
		       "ORDER BY id LIMIT ?3",
		       &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	if (state)
		sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct queue_ticket t;
		row_ticket(st, &t);
		r = fn(ctx, &t);
		if (r < 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = db_error(db, rc, "list tickets");
	sqlite3_finalize(st);
	return r;
}

/* Service rows grouped by service, then counter rows grouped by counter. */
static const char figures_sql[] =
    "SELECT %s, COUNT(*),"
    " SUM(state = 'waiting'), SUM(state = 'called'), SUM(state = 'serving'),"
    " SUM(state = 'done'), SUM(state = 'skipped'),"
    " SUM(CASE WHEN called_ms > 0 THEN called_ms - taken_ms ELSE 0 END), SUM(called_ms > 0),"
    " SUM(CASE WHEN state = 'done' AND called_ms > 0 THEN done_ms - (CASE WHEN served_ms > 0 THEN served_ms"
    " ELSE called_ms END) ELSE 0 END), SUM(state = 'done' AND called_ms > 0),"
    " MAX(CASE WHEN called_ms > 0 THEN called_ms - taken_ms ELSE 0 END),"
    " (SELECT code FROM tickets t2 WHERE t2.day = tickets.day AND t2.%s = tickets.%s AND t2.called_ms > 0"
    "  ORDER BY t2.called_ms DESC, t2.id DESC LIMIT 1)"
    " FROM tickets WHERE day = ?1 %s GROUP BY %s ORDER BY %s";

int qstore_figures(struct db *db, const char *day, int (*fn)(void *ctx, const struct queue_figures *f),
		   void *ctx)
{
	char sql[2048];
	int r = 0;
	for (int pass = 0; pass < 2 && r == 0; pass++) {
		const char *col = pass == 0 ? "service" : "counter";
		sqlite3_stmt *st;
		snprintf(sql, sizeof(sql), figures_sql, col, col, col, pass == 0 ? "" : "AND counter > 0",
			 col, col);
		r = db_prepare(db, sql, &st);
		if (r < 0)
			return r;
		sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct queue_figures f;
			memset(&f, 0, sizeof(f));
			if (pass == 0) {
				const unsigned char *l = sqlite3_column_text(st, 0);
				f.key = l ? (char)l[0] : '?';
			} else {
				f.counter = sqlite3_column_int(st, 0);
			}
			f.taken = sqlite3_column_int64(st, 1);
			f.waiting = sqlite3_column_int64(st, 2);
			f.called = sqlite3_column_int64(st, 3);
			f.serving = sqlite3_column_int64(st, 4);
			f.done = sqlite3_column_int64(st, 5);
			f.skipped = sqlite3_column_int64(st, 6);
			f.wait_ms_sum = sqlite3_column_int64(st, 7);
			f.wait_n = sqlite3_column_int64(st, 8);
			f.service_ms_sum = sqlite3_column_int64(st, 9);
			f.service_n = sqlite3_column_int64(st, 10);
			f.wait_ms_max = sqlite3_column_int64(st, 11);
			db_column_text(st, 12, f.last_called, sizeof(f.last_called));
			r = fn(ctx, &f);
			if (r < 0)
				break;
		}
		if (r == 0 && rc != SQLITE_DONE)
			r = db_error(db, rc, "queue figures");
		sqlite3_finalize(st);
	}
	return r;
}

int qstore_days_unreported(struct db *db, const char *today, char days[][QUEUE_DAY_LEN], int n)
{
	sqlite3_stmt *st;
	int r = db_prepare(db,
			   "SELECT DISTINCT day FROM tickets WHERE day < ?1 AND day NOT IN "
			   "(SELECT day FROM queue_reports) ORDER BY day LIMIT ?2",
			   &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, today, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, n);
	int rc, k = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < n)
		db_column_text(st, 0, days[k++], QUEUE_DAY_LEN);
	r = rc == SQLITE_ROW || rc == SQLITE_DONE ? k : db_error(db, rc, "unreported queue days");
	sqlite3_finalize(st);
	return r;
}

int qstore_report_add(struct db *db, const char *day, const char *sha256, int64_t outbox_id)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "INSERT INTO queue_reports(day, sha256, outbox_id) VALUES(?, ?, ?)", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, outbox_id);
	return step_done(db, st, "record queue report");
}

int qstore_report_get(struct db *db, const char *day, int64_t *ret_outbox_id)
{
	sqlite3_stmt *st;
	int r = db_prepare(db, "SELECT outbox_id FROM queue_reports WHERE day = ?", &st);
	if (r < 0)
		return r;
	sqlite3_bind_text(st, 1, day, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret_outbox_id = sqlite3_column_int64(st, 0);
	r = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : db_error(db, rc, "read queue report");
	sqlite3_finalize(st);
	return r;
}
