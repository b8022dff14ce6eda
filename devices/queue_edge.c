/* The queue over MQTT: kiosks ask for tickets on their own request topic and get the ticket
 * on their ack topic (printed by the kiosk itself or by the box's USB printer), and every
 * counter call is announced to queue displays on motcua/v1/queue/... (docs/mqtt.md §6a).
 * Calls are made on other threads (motcuactl, web page): they hand the announcement over
 * through a small bounded list that the device thread publishes from. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/edge.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/log.h"
#include "gateway/queue.h"
#include "gateway/queue_cmds.h"
#include "gateway/queue_hooks.h"
#include "store/db.h"

/* Runs on the thread that made the call: copy and return. */
static void announce(void *ctx, const struct config *cfg, int counter, const char *verb,
		     const struct queue_ticket *t)
{
	struct edge *e = ctx;
	pthread_mutex_lock(&e->qlock);
	if (e->nann == EDGE_ANNOUNCE_MAX) {
		/* The device thread is stuck (broker gone): the newest call matters most. */
		memmove(&e->ann[0], &e->ann[1], sizeof(e->ann[0]) * (EDGE_ANNOUNCE_MAX - 1));
		e->nann--;
		e->ann_dropped++;
	}
	struct edge_announce *a = &e->ann[e->nann++];
	a->counter = counter;
	snprintf(a->verb, sizeof(a->verb), "%s", verb);
	a->t = *t;
	pthread_mutex_unlock(&e->qlock);
}

void qedge_start(struct edge *e)
{
	pthread_mutex_init(&e->qlock, NULL);
	queue_hooks_set_announcer(announce, e);
}

void qedge_stop(struct edge *e)
{
	queue_hooks_set_announcer(NULL, NULL); /* waits for a call in progress */
	pthread_mutex_destroy(&e->qlock);
}

void qedge_acls(const char *id, const char *kind, json_t *acls,
		json_t *(*acl)(const char *type, const char *topic))
{
	char t[128];
	if (strcmp(kind, "kiosk") == 0) {
		snprintf(t, sizeof(t), TOPIC_ROOT "/dev/%s/queue/take", id);
		json_array_append_new(acls, acl("publishClientSend", t));
		snprintf(t, sizeof(t), TOPIC_ROOT "/dev/%s/dossier/+", id); /* dossier_edge.c */
		json_array_append_new(acls, acl("publishClientSend", t));
	}
	if (strcmp(kind, "kiosk") == 0 || strcmp(kind, "display") == 0)
		json_array_append_new(acls, acl("subscribePattern", TOPIC_ROOT "/queue/#"));
}

static int publish_json(struct edge *e, const char *topic, json_t *j, int retain)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!text)
		return -ENOMEM;
	int r = edge_publish(e, topic, text, retain);
	free(text);
	return r;
}

static int show_on_counter(const char *verb)
{
	return strcmp(verb, "next") == 0 || strcmp(verb, "again") == 0 || strcmp(verb, "call") == 0 ||
	    strcmp(verb, "serve") == 0;
}

static void publish_announce(struct edge *e, const struct config *cfg, const struct edge_announce *a)
{
	char topic[96], at[32];
	json_t *j = queue_ticket_json(cfg, &a->t);
	if (!j)
		return;
	db_now(at);
	json_object_set_new(j, "verb", json_string(a->verb));
	json_object_set_new(j, "counter", json_integer(a->counter));
	json_object_set_new(j, "at", json_string(at));
	publish_json(e, TOPIC_ROOT "/queue/event", j, 0);
	/* The retained state of the counter: what a display that starts now shows. */
	snprintf(topic, sizeof(topic), TOPIC_ROOT "/queue/counter/%d", a->counter);
	if (show_on_counter(a->verb)) {
		publish_json(e, topic, j, 1);
	} else {
		json_t *idle = json_pack("{s:i, s:s, s:s, s:s, s:s}", "counter", a->counter, "state", "idle",
					 "code", "", "verb", a->verb, "at", at);
		publish_json(e, topic, idle, 1);
		json_decref(idle);
	}
	json_decref(j);
}

void qedge_tick(struct edge *e)
{
	struct edge_announce batch[EDGE_ANNOUNCE_MAX];
	int n, dropped;
	pthread_mutex_lock(&e->qlock);
	n = e->nann;
	dropped = e->ann_dropped;
	memcpy(batch, e->ann, sizeof(batch[0]) * (size_t)n);
	e->nann = 0;
	e->ann_dropped = 0;
	pthread_mutex_unlock(&e->qlock);
	if (n == 0)
		return;
	if (dropped)
		log_warn("devices: %d queue announcements were dropped (the device thread was behind)",
			 dropped);
	struct config cfg;
	daemon_config_snapshot(&cfg);
	for (int i = 0; i < n; i++)
		publish_announce(e, &cfg, &batch[i]);
}

static void answer(struct edge *e, const char *id, json_t *j)
{
	char topic[128];
	snprintf(topic, sizeof(topic), TOPIC_ROOT "/dev/%s/ack", id);
	publish_json(e, topic, j, 0);
	json_decref(j);
}

static void refuse(struct edge *e, const char *id, const char *req_id, int err, const char *why)
{
	log_warn("devices: ticket request %s from %s refused: %s", req_id[0] ? req_id : "(no req_id)", id,
		 why);
	answer(e, id,
	       json_pack("{s:s, s:s, s:s, s:s}", "req_id", req_id, "result",
			 err == -EAGAIN ? "retry" : "rejected", "error", ctl_errno_name(err), "reason", why));
}

/* A request seen before (QoS 1 may deliver it twice, a kiosk resends without an answer):
 * the same ticket again, not a second one. */
static struct edge_take *take_seen(struct edge *e, const char *id, const char *req_id, const char *day)
{
	for (int i = 0; i < EDGE_TAKES_MAX; i++) {
		struct edge_take *k = &e->takes[i];
		if (k->code[0] && strcmp(k->device, id) == 0 && strcmp(k->req_id, req_id) == 0 &&
		    strcmp(k->day, day) == 0)
			return k;
	}
	return NULL;
}

/* Asks the kiosk to print its own ticket with the existing print command. */
static int print_on_kiosk(struct edge *e, const char *id, const struct config *cfg,
			  const struct queue_ticket *t)
{
	char qr[CONFIG_PATH_MAX + 40];
	struct queue_services q;
	char why[160];
	const struct queue_service *sv = NULL;
	if (queue_services_parse(cfg->services, &q, why, sizeof(why)) == 0)
		sv = queue_service_find(&q, t->service);
	queue_ticket_qr(cfg, t, qr, sizeof(qr));
	json_t *body =
	    json_pack("{s:s, s:s, s:i, s:i, s:I, s:s}", "ticket", t->code, "service", sv ? sv->name : "",
		      "number", t->number, "ahead", t->ahead, "taken_ms", (json_int_t)t->taken_ms, "qr", qr);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if (!text)
		return -ENOMEM;
	int64_t cmd_id = 0;
	int r = strlen(text) < sizeof(((struct device_cmd *)0)->body)
	    ? devices_cmd_queue(e->db, id, "print", text, &cmd_id)
	    : -EMSGSIZE;
	free(text);
	return r;
}

void qedge_take(struct edge *e, const char *id, const void *payload, int len)
{
	struct proto_queue_take q;
	struct queue_ticket t;
	struct device d;
	struct config cfg;
	char why[512] = "", day[QUEUE_DAY_LEN];
	int64_t now = queue_now_ms();

	memset(&q, 0, sizeof(q));
	int r = proto_queue_take_parse(payload, (size_t)len, &q, why, sizeof(why));
	if (r < 0) {
		refuse(e, id, q.req_id, r, why);
		return;
	}
	r = devices_get(e->db, id, &d);
	if (r < 0 || strcmp(d.id, id) != 0 || strcmp(d.kind, "kiosk") != 0 ||
	    (strcmp(d.state, "approved") != 0 && strcmp(d.state, "active") != 0)) {
		snprintf(why, sizeof(why), "device %s is not an approved kiosk", id);
		refuse(e, id, q.req_id, -EACCES, why);
		return;
	}
	daemon_config_snapshot(&cfg);
	queue_day(now, day);
	struct edge_take *seen = take_seen(e, id, q.req_id, day);
	if (seen) {
		r = qstore_get(e->db, day, seen->code, &t);
		if (r == 0) {
			json_t *j = queue_ticket_json(&cfg, &t);
			answer(e, id,
			       json_pack("{s:s, s:s, s:o, s:s, s:b}", "req_id", q.req_id, "result", "ticket",
					 "ticket", j ? j : json_object(), "printed", seen->printed, "again",
					 1));
			return;
		}
	}
	r = queue_take(e->store, e->db, &cfg, q.service, id, now, &t, why, sizeof(why));
	if (r < 0) {
		refuse(e, id, q.req_id, r == -ENOENT || r == -EOVERFLOW ? r : -EAGAIN, why);
		return;
	}
	/* The ticket is durable; printing may fail (no paper) without undoing it. */
	const char *printed = "none";
	char pwhy[256] = "";
	if (strcmp(q.print, "kiosk") == 0) {
		int p = print_on_kiosk(e, id, &cfg, &t);
		if (p == 0)
			printed = "kiosk";
		else
			snprintf(pwhy, sizeof(pwhy), "cannot queue the print command: %s", strerror(-p));
	} else if (strcmp(q.print, "box") == 0) {
		int p = strcmp(cfg.ticket_printer, "auto") == 0
		    ? queue_hooks_print_ticket(&cfg, &t, pwhy, sizeof(pwhy))
		    : -ENODEV;
		if (p == 0)
			printed = "box";
		else if (!pwhy[0] || p == -ENODEV)
			snprintf(pwhy, sizeof(pwhy), "the box has no ticket printer");
	}
	struct edge_take *k = &e->takes[e->takes_next];
	e->takes_next = (e->takes_next + 1) % EDGE_TAKES_MAX;
	snprintf(k->device, sizeof(k->device), "%s", id);
	snprintf(k->req_id, sizeof(k->req_id), "%s", q.req_id);
	snprintf(k->day, sizeof(k->day), "%s", day);
	snprintf(k->code, sizeof(k->code), "%s", t.code);
	snprintf(k->printed, sizeof(k->printed), "%s", printed);
	log_debug("devices: ticket %s for %s (request %s)", t.code, id, q.req_id);
	json_t *j = queue_ticket_json(&cfg, &t);
	json_t *a = json_pack("{s:s, s:s, s:o, s:s}", "req_id", q.req_id, "result", "ticket", "ticket",
			      j ? j : json_object(), "printed", printed);
	if (a && pwhy[0])
		json_object_set_new(a, "print_error", json_string(pwhy));
	answer(e, id, a);
}
