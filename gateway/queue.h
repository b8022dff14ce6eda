/* Queue policy: which counters call which services, the local day that numbering restarts
 * on, what a ticket shows (QR content, people ahead) and the daily statistics sent to the
 * LGSP.  Every channel (motcuactl, web page, kiosks over MQTT, USB buttons) goes through
 * these functions; the tables are store/queue.c. */
#ifndef MOTCUA_QUEUE_H
#define MOTCUA_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/queue_conf.h"
#include "store/queue.h"

struct store;
struct db;

/* Wall clock in milliseconds. */
int64_t queue_now_ms(void);

/* The local calendar day of now_ms ("YYYY-MM-DD"): numbers restart when it changes. */
void queue_day(int64_t now_ms, char day[QUEUE_DAY_LEN]);

/* Gives out the next ticket of service (a letter) for the day of now_ms.  On failure returns
 * -errno and a message for the person in why: -ENOENT unknown service, -EOVERFLOW the day's
 * numbers are used up ([queue] tickets_per_day).  Also sends the statistics of finished
 * days (queue_report_due), whose failure does not fail the ticket. */
int queue_take(struct store *s, struct db *db, const struct config *cfg, const char *service,
	       const char *source, int64_t now_ms, struct queue_ticket *ret, char *why, size_t whylen);

/* Counter actions.  verb: "next" (finish the ticket in hand, call the oldest waiting of the
 * counter's services), "again", "serve", "done", "skip", "move" (arg: the service letter),
 * "call" (arg: a ticket code, called out of order).  -ENOENT: nobody waits / nothing in
 * hand; -EINVAL: unknown counter or verb; -ESTALE: the ticket's state forbids it. */
int queue_counter(struct db *db, const struct config *cfg, int counter, const char *verb, const char *arg,
		  int64_t now_ms, struct queue_ticket *ret, char *why, size_t whylen);

/* The text a ticket's QR code holds: [queue] ticket_url + DAY/CODE, or "MOTCUA-Q:DAY:CODE". */
void queue_ticket_qr(const struct config *cfg, const struct queue_ticket *t, char *out, size_t size);

/* Statistics: the JSON submission body (docs/lgsp.md, kind queue-stats) of day, as a
 * NUL-terminated string the caller frees. */
int queue_report_body(struct db *db, const struct config *cfg, const char *day, char **ret_json);

/* Stores day's statistics as a blob and enqueues it (stream "queue-stats", bulk priority,
 * idempotency key "queue-stats:DAY") unless already done: 0 new, 1 already reported. */
int queue_report_day(struct store *s, struct db *db, const struct config *cfg, const char *day,
		     int64_t *ret_outbox_id);

/* Reports every day before today that has tickets and no report yet.  Returns how many. */
int queue_report_due(struct store *s, struct db *db, const struct config *cfg, int64_t now_ms);

#endif
