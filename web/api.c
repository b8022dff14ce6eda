/* For machines: the JSON API under /api/v1 (bearer tokens, read-only), /healthz and
 * /metrics in Prometheus' text format. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit.h"
#include "store/db.h"
#include "store/devices.h"
#include "store/docs.h"
#include "store/outbox.h"
#include "store/views.h"
#include "web/internal.h"

#define JSON "application/json"
#define API_LIST_MAX 500

double web_lat_bound(int i);

static enum MHD_Result send_json(struct req *r, unsigned status, json_t *j)
{
	struct buf b;
	if (!j)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!text)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, 16 << 20);
	buf_puts(&b, text);
	buf_puts(&b, "\n");
	free(text);
	return web_send(r, status, JSON, &b);
}

static int64_t arg_int(struct req *r, const char *name, int64_t dflt)
{
	const char *v = web_arg(r, name);
	if (!v)
		return dflt;
	char *end;
	long long n = strtoll(v, &end, 10);
	return (*end || n < 0) ? -1 : n;
}

static json_t *status_json(const struct web_status *st)
{
	return json_pack(
	    "{s:{s:s, s:s, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:{s:I, s:I}, s:I, s:b}", "link",
	    "state", web_link_name(st->link), "reason", st->link_reason, "since", (json_int_t)st->link_since,
	    "outbox", "queued", (json_int_t)st->queued, "sending", (json_int_t)st->sending, "delivered",
	    (json_int_t)st->delivered, "rejected", (json_int_t)st->rejected, "set_aside",
	    (json_int_t)st->rejected_aside, "pending_bytes", (json_int_t)st->pending_bytes, "oldest_age_s",
	    (json_int_t)st->oldest_age_s, "devices",
	    st->devices_known
		? json_pack("{s:I, s:I, s:I, s:I, s:I}", "online", (json_int_t)st->dev_online, "pending",
			    (json_int_t)st->dev_pending, "active", (json_int_t)st->dev_active, "stale",
			    (json_int_t)st->dev_stale, "total", (json_int_t)st->dev_total)
		: json_null(),
	    "intake", "today", (json_int_t)st->intake_today, "total", (json_int_t)st->docs_total,
	    "free_bytes", (json_int_t)st->free_bytes, "intake_paused", st->intake_paused);
}

static json_t *doc_json(const struct doc_meta *m)
{
	return json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "id", m->id, "seq",
			 (json_int_t)m->seq, "sha256", m->sha256, "size", (json_int_t)m->size, "content_type",
			 m->content_type, "kind", m->kind, "source", m->source, "name", m->name,
			 "received_at", m->received_at);
}

static int add_doc(void *ctx, const struct doc_meta *m)
{
	return json_array_append_new(ctx, doc_json(m)) == 0 ? 0 : -ENOMEM;
}

static int add_item(void *ctx, const struct outbox_item *it)
{
	json_t *j =
	    json_pack("{s:I, s:s, s:I, s:i, s:s, s:s, s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)it->id,
		      "stream", it->stream, "seq", (json_int_t)it->seq, "priority", it->priority, "kind",
		      it->kind, "ref", it->ref, "bytes", (json_int_t)it->bytes, "state", it->state, "reason",
		      it->reason, "attempts", (json_int_t)it->attempts, "updated_at", it->updated_at);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

static int add_device(void *ctx, const struct device *d)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", d->id, "kind", d->kind, "model",
			      d->model, "serial", d->serial, "state", d->state, "presence", d->presence,
			      "last_seen", (json_int_t)d->last_seen);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

static int add_row(void *ctx, const struct audit_row *a)
{
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)a->seq, "at", a->at,
			      "actor", a->actor, "action", a->action, "subject", a->subject, "detail",
			      a->detail, "hash", a->hash);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

enum MHD_Result api_dispatch(struct req *r)
{
	const char *p = r->path + strlen("/api/v1/");
	struct db *db = web_db(r);
	struct web_status st;
	int64_t limit = arg_int(r, "limit", 50), before = arg_int(r, "before", 0);
	const char *q = web_arg(r, "q");
	json_t *arr;
	int rc;

	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (limit < 1 || limit > API_LIST_MAX || before < 0 || (q && strlen(q) > 128))
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	if (strcmp(p, "status") == 0) {
		if (web_status_read(r, &st) < 0)
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		return send_json(r, MHD_HTTP_OK, status_json(&st));
	}
	if (strcmp(p, "documents") == 0) {
		arr = json_array();
		rc = views_docs_search(db, q ? q : "", before, (int)limit, add_doc, arr);
		if (rc < 0) {
			json_decref(arr);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		return send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "documents", arr));
	}
	if (strncmp(p, "documents/", 10) == 0) {
		struct doc_meta m;
		if (strlen(p + 10) != DOC_ID_LEN - 1)
			return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
		rc = docs_get(db, p + 10, &m);
		if (rc == -ENOENT)
			return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
		if (rc < 0)
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		return send_json(r, MHD_HTTP_OK, doc_json(&m));
	}
	if (strcmp(p, "outbox") == 0) {
		const char *state = web_arg(r, "state");
		if (state && outbox_state_index(state) < 0)
			return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
		arr = json_array();
		rc = outbox_list(db, state, (int)limit, add_item, arr);
		if (rc < 0) {
			json_decref(arr);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		return send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "items", arr));
	}
	if (strcmp(p, "devices") == 0) {
		arr = json_array();
		rc = devices_list(db, add_device, arr);
		if (rc < 0) {
			json_decref(arr);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		return send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "devices", arr));
	}
	if (strcmp(p, "audit") == 0) {
		arr = json_array();
		rc = views_audit_search(db, q ? q : "", before, (int)limit, add_row, arr);
		if (rc < 0) {
			json_decref(arr);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		return send_json(r, MHD_HTTP_OK, json_pack("{s:o}", "rows", arr));
	}
	return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
}

enum MHD_Result api_healthz(struct req *r)
{
	struct db *db = web_db(r);
	struct outbox_stats os;
	/* Healthy: the store answers.  The link being down is normal and not a health fault. */
	if (!db || outbox_stats(db, &os) < 0)
		return send_json(r, MHD_HTTP_SERVICE_UNAVAILABLE,
				 json_pack("{s:s}", "status", "store unavailable"));
	return send_json(r, MHD_HTTP_OK, json_pack("{s:s, s:s}", "status", "ok", "version", MOTCUA_VERSION));
}

enum MHD_Result api_metrics(struct req *r)
{
	struct web_status st;
	struct web *w = r->w;
	struct buf b;
	if (web_status_read(r, &st) < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, 64 * 1024);
	buf_puts(&b, "# HELP motcua_outbox_items Outbox items by state.\n# TYPE motcua_outbox_items gauge\n");
	buf_printf(
	    &b,
	    "motcua_outbox_items{state=\"queued\"} %lld\nmotcua_outbox_items{state=\"sending\"} %lld\n"
	    "motcua_outbox_items{state=\"delivered\"} %lld\nmotcua_outbox_items{state=\"rejected\"} %lld\n",
	    (long long)st.queued, (long long)st.sending, (long long)st.delivered, (long long)st.rejected);
	buf_printf(&b,
		   "# HELP motcua_backlog_bytes Bytes not yet confirmed by the LGSP.\n"
		   "# TYPE motcua_backlog_bytes gauge\nmotcua_backlog_bytes %lld\n"
		   "# HELP motcua_backlog_oldest_age_seconds Age of the oldest queued item (0: none).\n"
		   "# TYPE motcua_backlog_oldest_age_seconds gauge\nmotcua_backlog_oldest_age_seconds %lld\n",
		   (long long)st.pending_bytes, (long long)(st.oldest_age_s < 0 ? 0 : st.oldest_age_s));
	buf_puts(&b,
		 "# HELP motcua_link_state Link to the LGSP: 1 for the state it is in.\n"
		 "# TYPE motcua_link_state gauge\n");
	static const char *const states[] = { "off", "unknown", "up", "down" };
	for (int i = 0; i < 4; i++)
		buf_printf(&b, "motcua_link_state{state=\"%s\"} %d\n", states[i],
			   strcmp(web_link_name(st.link), states[i]) == 0);
	buf_printf(&b,
		   "# HELP motcua_link_up 1 when the link to the LGSP is up.\n# TYPE motcua_link_up gauge\n"
		   "motcua_link_up %d\n",
		   strcmp(web_link_name(st.link), "up") == 0);
	buf_printf(
	    &b,
	    "# HELP motcua_documents_total Documents in the store.\n# TYPE motcua_documents_total gauge\n"
	    "motcua_documents_total %lld\n# HELP motcua_intake_today Documents received since local "
	    "midnight.\n# TYPE motcua_intake_today gauge\nmotcua_intake_today %lld\n"
	    "# HELP motcua_web_uploads_total Uploads from the staff page by outcome.\n"
	    "# TYPE motcua_web_uploads_total counter\nmotcua_web_uploads_total{outcome=\"stored\"} %llu\n"
	    "motcua_web_uploads_total{outcome=\"refused\"} %llu\n",
	    (long long)st.docs_total, (long long)st.intake_today, atomic_load(&w->uploads_ok),
	    atomic_load(&w->uploads_refused));
	if (st.devices_known)
		buf_printf(
		    &b,
		    "# HELP motcua_devices Devices by condition.\n# TYPE motcua_devices gauge\n"
		    "motcua_devices{condition=\"online\"} %lld\nmotcua_devices{condition=\"pending\"} %lld\n"
		    "motcua_devices{condition=\"active\"} %lld\nmotcua_devices{condition=\"stale\"} %lld\n",
		    (long long)st.dev_online, (long long)st.dev_pending, (long long)st.dev_active,
		    (long long)st.dev_stale);
	buf_printf(&b,
		   "# HELP motcua_disk_free_bytes Free space on the state directory's disk.\n"
		   "# TYPE motcua_disk_free_bytes gauge\nmotcua_disk_free_bytes %lld\n",
		   (long long)st.free_bytes);
	buf_puts(&b,
		 "# HELP motcua_http_request_duration_seconds Staff page and API request latency.\n"
		 "# TYPE motcua_http_request_duration_seconds histogram\n");
	unsigned long long cum = 0;
	for (int i = 0; i < WEB_LAT_BUCKETS; i++) {
		cum += atomic_load(&w->lat[i]);
		buf_printf(&b, "motcua_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   web_lat_bound(i), cum);
	}
	cum += atomic_load(&w->lat[WEB_LAT_BUCKETS]);
	buf_printf(&b,
		   "motcua_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		   "motcua_http_request_duration_seconds_sum "
		   "%.6f\nmotcua_http_request_duration_seconds_count %llu\n",
		   cum, (double)atomic_load(&w->lat_sum_us) / 1e6, cum);
	buf_puts(&b,
		 "# HELP motcua_http_responses_total Responses by status class.\n"
		 "# TYPE motcua_http_responses_total counter\n");
	for (int c = 1; c < 6; c++)
		buf_printf(&b, "motcua_http_responses_total{class=\"%dxx\"} %llu\n", c,
			   atomic_load(&w->by_class[c]));
	buf_printf(&b,
		   "# HELP motcua_http_lan_connections Open connections from other computers than the box.\n"
		   "# TYPE motcua_http_lan_connections gauge\nmotcua_http_lan_connections %lld\n"
		   "# HELP motcua_http_connections_refused_total Connections from other computers refused "
		   "to keep room for the box's console.\n"
		   "# TYPE motcua_http_connections_refused_total counter\n"
		   "motcua_http_connections_refused_total %llu\n"
		   "# HELP motcua_http_body_memory_bytes Memory held for /verify uploads.\n"
		   "# TYPE motcua_http_body_memory_bytes gauge\nmotcua_http_body_memory_bytes %lld\n"
		   "# HELP motcua_http_body_memory_refused_total /verify uploads refused (503) because that "
		   "memory was spent.\n"
		   "# TYPE motcua_http_body_memory_refused_total counter\n"
		   "motcua_http_body_memory_refused_total %llu\n",
		   (long long)atomic_load(&w->lan_conns), atomic_load(&w->conns_refused),
		   (long long)atomic_load(&w->held), atomic_load(&w->holds_refused));
	return web_send(r, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", &b);
}
