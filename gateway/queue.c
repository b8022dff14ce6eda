/* Queue policy over store/queue.c: services and counters from [queue], the local day,
 * counter verbs, ticket QR content and the daily statistics for the LGSP. */
#include "gateway/queue.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"
#include "store/blob.h"
#include "store/db.h"
#include "store/outbox.h"
#include "store/store.h"

#define REPORT_MAX (256 * 1024) /* the LGSP's JSON body limit */

int64_t queue_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void queue_day(int64_t now_ms, char day[QUEUE_DAY_LEN])
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(day, QUEUE_DAY_LEN, "%Y-%m-%d", &tm);
}

static int load_services(const struct config *cfg, struct queue_services *q, char *why, size_t whylen)
{
	int r = queue_services_parse(cfg->services, q, why, whylen);
	if (r < 0)
		log_error("queue: [queue] services: %s", why);
	return r;
}

int queue_take(struct store *s, struct db *db, const struct config *cfg, const char *service,
	       const char *source, int64_t now_ms, struct queue_ticket *ret, char *why, size_t whylen)
{
	struct queue_services q;
	char day[QUEUE_DAY_LEN];
	int r = load_services(cfg, &q, why, whylen);
	if (r < 0)
		return r;
	const struct queue_service *sv =
	    service && strlen(service) == 1 ? queue_service_find(&q, service[0]) : NULL;
	if (!sv) {
		snprintf(why, whylen, "no service %.8s; the services are", service ? service : "");
		for (int i = 0; i < q.n; i++) {
			size_t n = strlen(why);
			snprintf(why + n, whylen - n, " %c (%s)", q.s[i].letter, q.s[i].name);
		}
		return -ENOENT;
	}
	queue_day(now_ms, day);
	r = qstore_take(db, day, sv->letter, (int)cfg->tickets_per_day, source, now_ms, ret);
	if (r == -EOVERFLOW) {
		snprintf(why, whylen,
			 "service %c has given out all %lld numbers for today ([queue] tickets_per_day)",
			 sv->letter, (long long)cfg->tickets_per_day);
		return r;
	}
	if (r < 0) {
		snprintf(why, whylen, "could not record the ticket: %s", strerror(-r));
		return r;
	}
	if (s && queue_report_due(s, db, cfg, now_ms) < 0)
		log_warn(
		    "queue: the statistics of a past day could not be queued; retried with the next ticket");
	return 0;
}

/* The service letters counter serves, as a string. */
static int counter_services(const struct queue_services *q, int counter, char out[QUEUE_SERVICES_MAX + 1])
{
	int n = 0;
	for (int i = 0; i < q->n; i++)
		if (q->s[i].counter[counter])
			out[n++] = q->s[i].letter;
	out[n] = '\0';
	return n;
}

int queue_counter(struct db *db, const struct config *cfg, int counter, const char *verb, const char *arg,
		  int64_t now_ms, struct queue_ticket *ret, char *why, size_t whylen)
{
	static const struct {
		const char *verb;
		enum qstore_op op;
	} ops[] = { { "again", QSTORE_RECALL },
		    { "serve", QSTORE_SERVE },
		    { "done", QSTORE_DONE },
		    { "skip", QSTORE_SKIP },
		    { "move", QSTORE_MOVE } };
	struct queue_services q;
	char day[QUEUE_DAY_LEN], letters[QUEUE_SERVICES_MAX + 1];
	int r = load_services(cfg, &q, why, whylen);
	if (r < 0)
		return r;
	if (counter < 1 || counter > QUEUE_COUNTER_MAX || counter_services(&q, counter, letters) == 0) {
		snprintf(why, whylen, "counter %d serves no service ([queue] services)", counter);
		return -EINVAL;
	}
	queue_day(now_ms, day);
	if (strcmp(verb, "next") == 0) {
		r = qstore_call_next(db, day, counter, letters, now_ms, ret, NULL);
		if (r == -ENOENT)
			snprintf(why, whylen, "nobody is waiting for counter %d (services %s)", counter,
				 letters);
		else if (r < 0)
			snprintf(why, whylen, "could not call the next ticket: %s", strerror(-r));
		return r;
	}
	if (strcmp(verb, "call") == 0) {
		r = qstore_call_code(db, day, counter, arg ? arg : "", now_ms, ret);
		if (r == -ENOENT)
			snprintf(why, whylen, "no ticket %.8s today", arg ? arg : "");
		else if (r == -ESTALE)
			snprintf(why, whylen, "ticket %.8s is not waiting or skipped", arg ? arg : "");
		else if (r < 0)
			snprintf(why, whylen, "could not call ticket %.8s: %s", arg ? arg : "", strerror(-r));
		return r;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(verb, ops[i].verb) != 0)
			continue;
		char to = 0;
		if (ops[i].op == QSTORE_MOVE) {
			const struct queue_service *sv =
			    arg && strlen(arg) == 1 ? queue_service_find(&q, arg[0]) : NULL;
			if (!sv) {
				snprintf(why, whylen, "move needs the letter of a configured service");
				return -EINVAL;
			}
			to = sv->letter;
		}
		r = qstore_counter_op(db, day, counter, ops[i].op, to, now_ms, ret);
		if (r == -ENOENT)
			snprintf(why, whylen, "counter %d has no ticket in hand (call next first)", counter);
		else if (r == -ESTALE)
			snprintf(why, whylen, "%s is not possible for a ticket in this state", verb);
		else if (r == -EINVAL)
			snprintf(why, whylen, "the ticket is already in service %c", to);
		else if (r < 0)
			snprintf(why, whylen, "could not %s: %s", verb, strerror(-r));
		return r;
	}
	snprintf(why, whylen, "unknown counter action %.16s (next, again, serve, done, skip, move, call)",
		 verb);
	return -EINVAL;
}

void queue_ticket_qr(const struct config *cfg, const struct queue_ticket *t, char *out, size_t size)
{
	if (cfg->ticket_url[0])
		snprintf(out, size, "%s%s/%s", cfg->ticket_url, t->day, t->code);
	else
		snprintf(out, size, "MOTCUA-Q:%s:%s", t->day, t->code);
}

/* RFC 3339 local midnight of day plus add_days, with the zone offset of that moment. */
static void midnight(const char *day, int add_days, char out[40])
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!strptime(day, "%Y-%m-%d", &tm)) {
		snprintf(out, 40, "%s", day);
		return;
	}
	tm.tm_mday += add_days;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	localtime_r(&t, &tm);
	char z[8];
	strftime(z, sizeof(z), "%z", &tm); /* +0700 */
	char d[24];
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s%.3s:%.2s", d, z, z + 3);
}

static json_t *figures_json(const struct queue_figures *f)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "taken", (json_int_t)f->taken,
			 "waiting", (json_int_t)f->waiting, "in_service",
			 (json_int_t)(f->called + f->serving), "done", (json_int_t)f->done, "skipped",
			 (json_int_t)f->skipped, "avg_wait_s",
			 (json_int_t)(f->wait_n ? f->wait_ms_sum / f->wait_n / 1000 : 0), "max_wait_s",
			 (json_int_t)(f->wait_ms_max / 1000), "avg_service_s",
			 (json_int_t)(f->service_n ? f->service_ms_sum / f->service_n / 1000 : 0), "called",
			 (json_int_t)f->wait_n);
}

struct fig_ctx {
	json_t *services, *desks;
	const struct queue_services *q;
};

static int add_figures(void *ctx, const struct queue_figures *f)
{
	struct fig_ctx *c = ctx;
	json_t *j = figures_json(f);
	char key[8];
	if (!j)
		return -ENOMEM;
	if (f->key) {
		const struct queue_service *sv = queue_service_find(c->q, f->key);
		json_object_set_new(j, "name", json_string(sv ? sv->name : ""));
		key[0] = f->key;
		key[1] = '\0';
		return json_object_set_new(c->services, key, j) == 0 ? 0 : -ENOMEM;
	}
	snprintf(key, sizeof(key), "%d", f->counter);
	return json_object_set_new(c->desks, key, j) == 0 ? 0 : -ENOMEM;
}

int queue_report_body(struct db *db, const struct config *cfg, const char *day, char **ret_json)
{
	struct queue_services q;
	char why[200], start[40], end[40], now[32];
	struct fig_ctx c = { .services = json_object(), .desks = json_object(), .q = &q };
	json_t *body = NULL;
	int r;

	if (queue_services_parse(cfg->services, &q, why, sizeof(why)) < 0)
		q.n = 0;
	r = qstore_figures(db, day, add_figures, &c);
	if (r < 0)
		goto out;
	midnight(day, 0, start);
	midnight(day, 1, end);
	db_now(now);
	body = json_pack("{s:s, s:s, s:s, s:[], s:s, s:s, s:s, s:{s:O, s:O}}", "schema", "motcua.lgsp.v1",
			 "commune_code", cfg->agency_code, "created_at", now, "blobs", "day", day,
			 "period_start", start, "period_end", end, "counters", "services", c.services,
			 "desks", c.desks);
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	*ret_json = text;
	r = 0;
out:
	json_decref(body);
	json_decref(c.services);
	json_decref(c.desks);
	return r;
}

struct mem_reader {
	const char *p;
	size_t left;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem_reader *m = ctx;
	if (len > m->left)
		len = m->left;
	memcpy(buf, m->p, len);
	m->p += len;
	m->left -= len;
	return (ssize_t)len;
}

int queue_report_day(struct store *s, struct db *db, const struct config *cfg, const char *day,
		     int64_t *ret_outbox_id)
{
	char hash[BLOB_HASH_HEX], key[64];
	char *body = NULL;
	int64_t size = 0, id = 0;
	int r = qstore_report_get(db, day, &id);
	if (r == 0) {
		if (ret_outbox_id)
			*ret_outbox_id = id;
		return 1;
	}
	if (r != -ENOENT)
		return r;
	r = queue_report_body(db, cfg, day, &body);
	if (r < 0)
		return r;
	/* The body bytes are fixed now, as a blob, and re-sent byte for byte (docs/lgsp.md 7.1). */
	struct mem_reader m = { body, strlen(body) };
	r = blob_put(store_blobs(s), mem_read, &m, REPORT_MAX, hash, &size);
	free(body);
	if (r < 0)
		return r;
	snprintf(key, sizeof(key), "queue-stats:%s", day);
	r = db_begin(db);
	if (r < 0)
		return r;
	r = qstore_report_get(db, day, &id); /* another thread may have been first */
	if (r == 0) {
		db_rollback(db);
		if (ret_outbox_id)
			*ret_outbox_id = id;
		return 1;
	}
	r = outbox_enqueue(db, "queue-stats", OUTBOX_PRIO_BULK, "queue-stats", hash, key, size, &id);
	if (r == 0)
		r = qstore_report_add(db, day, hash, id);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		return r;
	}
	log_info("queue: statistics of %s queued for the LGSP (outbox item %lld)", day, (long long)id);
	if (ret_outbox_id)
		*ret_outbox_id = id;
	return 0;
}

int queue_report_due(struct store *s, struct db *db, const struct config *cfg, int64_t now_ms)
{
	char today[QUEUE_DAY_LEN], days[8][QUEUE_DAY_LEN];
	queue_day(now_ms, today);
	int n = qstore_days_unreported(db, today, days, 8);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		int r = queue_report_day(s, db, cfg, days[i], NULL);
		if (r < 0)
			return r;
	}
	return n;
}
