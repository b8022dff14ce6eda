/* Control commands queue.* (motcuactl queue ...): take a ticket, counter actions, the
 * day's status and figures, the event feed that displays and staff pages poll. */
#include "gateway/queue_cmds.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/log.h"
#include "gateway/queue.h"
#include "gateway/queue_hooks.h"

json_t *queue_ticket_json(const struct config *cfg, const struct queue_ticket *t)
{
	struct queue_services q;
	char why[160], svc[2] = { t->service, 0 }, moved[2] = { t->moved_from, 0 }, qr[CONFIG_PATH_MAX + 40];
	const struct queue_service *sv = NULL;
	if (queue_services_parse(cfg->services, &q, why, sizeof(why)) == 0)
		sv = queue_service_find(&q, t->service);
	queue_ticket_qr(cfg, t, qr, sizeof(qr));
	return json_pack(
	    "{s:I, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:i, s:i, s:s, s:I, s:I, s:I, s:I, s:s, s:s}", "id",
	    (json_int_t)t->id, "day", t->day, "code", t->code, "service", svc, "number", t->number,
	    "service_name", sv ? sv->name : "", "state", t->state, "counter", t->counter, "calls", t->calls,
	    "ahead", t->ahead, "moved_from", moved, "taken_ms", (json_int_t)t->taken_ms, "called_ms",
	    (json_int_t)t->called_ms, "served_ms", (json_int_t)t->served_ms, "done_ms",
	    (json_int_t)t->done_ms, "source", t->source, "qr", qr);
}

static int cmd_take(struct control_ctx *x, json_t *req, const struct config *cfg)
{
	struct queue_ticket t;
	char why[512] = "";
	const char *source = control_str(req, "source", "cli");
	int r = queue_take(x->store, x->db, cfg, control_str(req, "service", ""), source, queue_now_ms(), &t,
			   why, sizeof(why));
	if (r < 0)
		return control_fail(x, r, why);
	json_t *j = queue_ticket_json(cfg, &t);
	/* The ticket is durable: printing is a courtesy that may fail (no paper) without undoing it. */
	json_t *pr = json_object_get(req, "print");
	if (j && (pr == NULL || json_is_true(pr)) && strcmp(cfg->ticket_printer, "auto") == 0) {
		char pwhy[256] = "";
		int p = queue_hooks_print_ticket(cfg, &t, pwhy, sizeof(pwhy));
		json_object_set_new(j, "printed", json_boolean(p == 0));
		if (p < 0 && p != -ENODEV)
			json_object_set_new(j, "print_error", json_string(pwhy));
	}
	return control_reply(x, j);
}

static int cmd_counter(struct control_ctx *x, json_t *req, const struct config *cfg)
{
	struct queue_ticket t;
	char why[512] = "";
	json_t *c = json_object_get(req, "counter");
	if (!json_is_integer(c))
		return control_fail(x, -EINVAL, "queue.counter needs \"counter\", a number");
	int counter = (int)json_integer_value(c);
	int r = queue_counter(x->db, cfg, counter, control_str(req, "verb", ""),
			      control_str(req, "arg", NULL), queue_now_ms(), &t, why, sizeof(why));
	if (r < 0)
		return control_fail(x, r, why);
	json_t *j = queue_ticket_json(cfg, &t);
	if (j)
		queue_hooks_announce(cfg, counter, control_str(req, "verb", ""), &t);
	return control_reply(x, j);
}

struct status_ctx {
	const struct config *cfg;
	const struct queue_services *q;
	json_t *services, *counters;
};

static int add_fig(void *ctx, const struct queue_figures *f)
{
	struct status_ctx *c = ctx;
	json_t *j =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "taken", (json_int_t)f->taken,
		      "waiting", (json_int_t)f->waiting, "called", (json_int_t)f->called, "serving",
		      (json_int_t)f->serving, "done", (json_int_t)f->done, "skipped", (json_int_t)f->skipped,
		      "avg_wait_s", (json_int_t)(f->wait_n ? f->wait_ms_sum / f->wait_n / 1000 : 0),
		      "max_wait_s", (json_int_t)(f->wait_ms_max / 1000), "avg_service_s",
		      (json_int_t)(f->service_n ? f->service_ms_sum / f->service_n / 1000 : 0), "last_called",
		      f->last_called);
	if (!j)
		return -ENOMEM;
	if (f->key) {
		json_t *s = NULL;
		size_t i;
		json_array_foreach (c->services, i, s)
			if (json_string_value(json_object_get(s, "service"))[0] == f->key)
				break;
		if (i < json_array_size(c->services))
			json_object_update(s, j);
		json_decref(j);
		return 0;
	}
	json_object_set_new(j, "counter", json_integer(f->counter));
	return json_array_append_new(c->counters, j) == 0 ? 0 : -ENOMEM;
}

static int cmd_status(struct control_ctx *x, json_t *req, const struct config *cfg)
{
	struct queue_services q;
	char why[200], day[QUEUE_DAY_LEN];
	int64_t now = queue_now_ms();
	if (queue_services_parse(cfg->services, &q, why, sizeof(why)) < 0)
		return control_fail(x, -EINVAL, why);
	queue_day(now, day);
	const char *want = control_str(req, "day", day);
	if (strlen(want) != QUEUE_DAY_LEN - 1)
		return control_fail(x, -EINVAL, "day must be YYYY-MM-DD");
	struct status_ctx c = { cfg, &q, json_array(), json_array() };
	for (int i = 0; i < q.n; i++) {
		char letter[2] = { q.s[i].letter, 0 };
		json_t *counters = json_array();
		for (int k = 1; k <= QUEUE_COUNTER_MAX; k++)
			if (q.s[i].counter[k])
				json_array_append_new(counters, json_integer(k));
		json_array_append_new(
		    c.services,
		    json_pack("{s:s, s:s, s:o, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:s}", "service",
			      letter, "name", q.s[i].name, "counters", counters, "taken", 0, "waiting", 0,
			      "called", 0, "serving", 0, "done", 0, "skipped", 0, "avg_wait_s", 0,
			      "avg_service_s", 0, "last_called", ""));
	}
	int r = qstore_figures(x->db, want, add_fig, &c);
	if (r < 0) {
		json_decref(c.services);
		json_decref(c.counters);
		return control_fail(x, r, "cannot read the queue");
	}
	/* What each counter has in hand now. */
	size_t i;
	json_t *cj;
	json_array_foreach (c.counters, i, cj) {
		struct queue_ticket t;
		if (qstore_current(x->db, want, (int)json_integer_value(json_object_get(cj, "counter")),
				   &t) == 0)
			json_object_set_new(cj, "current",
					    json_pack("{s:s, s:s}", "code", t.code, "state", t.state));
	}
	return control_reply(
	    x, json_pack("{s:s, s:o, s:o}", "day", want, "services", c.services, "counters", c.counters));
}

struct list_ctx {
	const struct config *cfg;
	json_t *arr;
};

static int add_ticket(void *ctx, const struct queue_ticket *t)
{
	struct list_ctx *c = ctx;
	return json_array_append_new(c->arr, queue_ticket_json(c->cfg, t)) == 0 ? 0 : -ENOMEM;
}

static int cmd_list(struct control_ctx *x, json_t *req, const struct config *cfg)
{
	char day[QUEUE_DAY_LEN];
	queue_day(queue_now_ms(), day);
	json_t *lim = json_object_get(req, "limit");
	int limit = json_is_integer(lim) ? (int)json_integer_value(lim) : 10000;
	struct list_ctx c = { cfg, json_array() };
	int r = qstore_list(x->db, control_str(req, "day", day), control_str(req, "state", NULL),
			    limit < 1 ? 1 : limit, add_ticket, &c);
	if (r < 0) {
		json_decref(c.arr);
		return control_fail(x, r, "cannot list tickets");
	}
	return control_reply(x, json_pack("{s:o}", "tickets", c.arr));
}

static int add_event(void *ctx, const struct queue_event *e)
{
	json_t *j = json_pack("{s:I, s:I, s:i, s:s, s:I, s:s, s:s}", "id", (json_int_t)e->id, "at_ms",
			      (json_int_t)e->at_ms, "counter", e->counter, "kind", e->kind, "ticket",
			      (json_int_t)e->ticket, "code", e->code, "detail", e->detail);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

static int cmd_events(struct control_ctx *x, json_t *req, const struct config *cfg)
{
	json_t *after = json_object_get(req, "after"), *counter = json_object_get(req, "counter");
	json_t *lim = json_object_get(req, "limit");
	int limit = json_is_integer(lim) ? (int)json_integer_value(lim) : 100;
	json_t *arr = json_array();
	int r = qstore_events(x->db, json_is_integer(after) ? json_integer_value(after) : 0,
			      json_is_integer(counter) ? (int)json_integer_value(counter) : -1,
			      limit < 1          ? 1
				  : limit > 1000 ? 1000
						 : limit,
			      add_event, arr);
	if (r < 0) {
		json_decref(arr);
		return control_fail(x, r, "cannot read the queue events");
	}
	return control_reply(x, json_pack("{s:o}", "events", arr));
}

static int cmd_report(struct control_ctx *x, json_t *req, const struct config *cfg)
{
	const char *day = control_str(req, "day", "");
	int64_t id = 0;
	if (strlen(day) != QUEUE_DAY_LEN - 1)
		return control_fail(x, -EINVAL, "queue.report needs \"day\", YYYY-MM-DD");
	int r = queue_report_day(x->store, x->db, cfg, day, &id);
	if (r < 0)
		return control_fail(x, r, "cannot queue the statistics");
	return control_reply(
	    x, json_pack("{s:s, s:I, s:b}", "day", day, "outbox_id", (json_int_t)id, "already", r == 1));
}

int queue_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	static const struct {
		const char *name;
		int (*fn)(struct control_ctx *x, json_t *req, const struct config *cfg);
	} cmds[] = {
		{ "queue.take", cmd_take }, { "queue.counter", cmd_counter }, { "queue.status", cmd_status },
		{ "queue.list", cmd_list }, { "queue.events", cmd_events },   { "queue.report", cmd_report },
	};
	struct config cfg;
	daemon_config_snapshot(&cfg);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, cmd) == 0)
			return cmds[i].fn(x, req_json, &cfg);
	return control_fail(x, -EINVAL, "unknown queue command");
}
