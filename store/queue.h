/* The queue's tables: the daily number sequence of each service, the tickets and their
 * states (waiting -> called -> serving -> done, or skipped), and the counter events that
 * displays and staff pages follow.  Each function that changes something runs in its own
 * write transaction (BEGIN IMMEDIATE), so numbers are unique and gapless under any number
 * of concurrent connections and survive a crash at any point. */
#ifndef MOTCUA_STORE_QUEUE_H
#define MOTCUA_STORE_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define QUEUE_DAY_LEN 11 /* "YYYY-MM-DD" */
#define QUEUE_CODE_MAX 8 /* "A0007" */

struct queue_ticket {
	int64_t id;
	char day[QUEUE_DAY_LEN];
	char service; /* letter */
	int number;
	char code[QUEUE_CODE_MAX];
	char source[64];
	char state[12]; /* waiting, called, serving, done, skipped */
	int counter; /* 0 until called */
	int calls;
	char moved_from; /* letter of the service it was moved from, or 0 */
	int64_t taken_ms, called_ms, served_ms, done_ms; /* wall clock, ms; 0: not yet */
	int ahead; /* waiting tickets of the same service before it (filled by take and get) */
};

/* Takes the next number of service for day: the sequence row and the ticket commit
 * together.  -EOVERFLOW when max numbers were already given out that day. */
int qstore_take(struct db *db, const char *day, char service, int max, const char *source, int64_t now_ms,
		struct queue_ticket *ret);

/* Counter's next ticket: the ticket it has in hand (called or serving) becomes done, then
 * the oldest waiting ticket (by sequence) of any of services (a string of letters) becomes
 * called at counter.  -ENOENT when nobody waits (the one in hand is still finished);
 * ret_finished (may be NULL) gets the finished ticket's id or 0. */
int qstore_call_next(struct db *db, const char *day, int counter, const char *services, int64_t now_ms,
		     struct queue_ticket *ret, int64_t *ret_finished);

/* Calls a given ticket (by code) to counter out of order; it must be waiting or skipped. */
int qstore_call_code(struct db *db, const char *day, int counter, const char *code, int64_t now_ms,
		     struct queue_ticket *ret);

enum qstore_op {
	QSTORE_RECALL, /* called: announce again (calls + 1) */
	QSTORE_SERVE, /* called -> serving (the citizen sat down) */
	QSTORE_DONE, /* called/serving -> done */
	QSTORE_SKIP, /* called -> skipped (nobody came) */
	QSTORE_MOVE, /* called/serving -> waiting in another service */
};

/* Applies op to the ticket counter has in hand.  to_service is the target of MOVE.
 * -ENOENT when the counter has no ticket in hand, -ESTALE when the ticket's state does not
 * allow op (e.g. SKIP of a ticket being served). */
int qstore_counter_op(struct db *db, const char *day, int counter, enum qstore_op op, char to_service,
		      int64_t now_ms, struct queue_ticket *ret);

/* The ticket counter has in hand, -ENOENT when none. */
int qstore_current(struct db *db, const char *day, int counter, struct queue_ticket *ret);
int qstore_get(struct db *db, const char *day, const char *code, struct queue_ticket *ret);

/* Adds an event row (kind "call", "recall", "skip", "move", "done", "scan", ...) that
 * displays and staff pages poll; inside the caller's transaction or on its own. */
int qstore_event(struct db *db, int64_t now_ms, int counter, const char *kind, int64_t ticket,
		 const char *code, const char *detail);

struct queue_event {
	int64_t id, at_ms;
	int counter;
	char kind[16];
	int64_t ticket;
	char code[QUEUE_CODE_MAX];
	char detail[256];
};

/* Calls fn for up to limit events with id > after (counter < 0: every counter), oldest first. */
int qstore_events(struct db *db, int64_t after, int counter, int limit,
		  int (*fn)(void *ctx, const struct queue_event *e), void *ctx);

/* Calls fn for the newest limit events of kind (NULL: any) at counter (< 0: every counter)
 * since since_ms, newest first: what a counter's page shows (e.g. the codes scanned there). */
int qstore_events_recent(struct db *db, int counter, const char *kind, int64_t since_ms, int limit,
			 int (*fn)(void *ctx, const struct queue_event *e), void *ctx);

/* Figures of one service or one counter over one day. */
struct queue_figures {
	char key; /* service letter, or 0 for a counter row */
	int counter; /* counter number, or 0 for a service row */
	int64_t taken, waiting, called, serving, done, skipped;
	int64_t wait_ms_sum, wait_n; /* taken -> called, over tickets called that day */
	int64_t service_ms_sum, service_n; /* called (or served) -> done */
	int64_t wait_ms_max;
	char last_called[QUEUE_CODE_MAX];
};

/* Calls fn once per service seen that day, then once per counter that called that day. */
int qstore_figures(struct db *db, const char *day, int (*fn)(void *ctx, const struct queue_figures *f),
		   void *ctx);

/* Calls fn for each ticket of day in state (NULL: any), in sequence order, up to limit. */
int qstore_list(struct db *db, const char *day, const char *state, int limit,
		int (*fn)(void *ctx, const struct queue_ticket *t), void *ctx);

/* Days before today with tickets and no statistics report yet (oldest first, up to n). */
int qstore_days_unreported(struct db *db, const char *today, char days[][QUEUE_DAY_LEN], int n);
/* Records that day's report (inside the caller's transaction, with the outbox item). */
int qstore_report_add(struct db *db, const char *day, const char *sha256, int64_t outbox_id);
/* 0 when day has a report (its outbox id in ret_outbox_id), -ENOENT when not. */
int qstore_report_get(struct db *db, const char *day, int64_t *ret_outbox_id);

#endif
