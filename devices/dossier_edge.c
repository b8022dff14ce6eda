/* Dossiers over MQTT (docs/mqtt.md §6c): a kiosk opens a dossier for a procedure on
 * dev/<id>/dossier/open, sends its scans as ordinary documents whose session property is
 * "dossier:<number>:<item>" (attached once stored), and submits it on dev/<id>/dossier/submit;
 * every answer, the receipt included, comes on dev/<id>/ack after the commit.  A kiosk only
 * touches the dossiers it opened. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/edge.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/dossier/dossier.h"
#include "gateway/dossier/service.h"
#include "gateway/log.h"
#include "store/devices.h"
#include "store/store.h"

static void answer(struct edge *e, const char *id, json_t *j)
{
	char topic[128];
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return;
	snprintf(topic, sizeof(topic), TOPIC_ROOT "/dev/%s/ack", id);
	edge_publish(e, topic, text, 0);
	free(text);
}

static void refuse(struct edge *e, const char *id, const char *req_id, int err, const char *why)
{
	log_warn("devices: dossier request %s from %s refused: %s", req_id[0] ? req_id : "(no req_id)", id,
		 why);
	answer(e, id,
	       json_pack("{s:s, s:s, s:s, s:s}", "req_id", req_id, "result",
			 err == -EAGAIN || err == -EIO ? "retry" : "rejected", "error", ctl_errno_name(err),
			 "reason", why));
}

/* The missing items' keys and names as a JSON array. */
static json_t *missing_json(struct db *db, const struct catalog_proc *p, const struct dossier_row *d)
{
	const char *missing[DOSSIER_MAX_ITEMS];
	json_t *a = json_array();
	int n = dossier_missing(db, p, d, missing, DOSSIER_MAX_ITEMS);
	for (int i = 0; a && i < n && i < DOSSIER_MAX_ITEMS; i++) {
		const struct catalog_doc *cd = catalog_doc_find(p, missing[i]);
		json_array_append_new(
		    a, json_pack("{s:s, s:s}", "item", missing[i], "name", cd ? cd->name : ""));
	}
	return a;
}

static json_t *receipt_json(const struct catalog_proc *p, const struct dossier_row *d)
{
	struct config *cfg = malloc(sizeof(*cfg));
	char qr[CONFIG_PATH_MAX + DOSSIER_CODE_MAX];
	if (!cfg)
		return NULL;
	daemon_config_snapshot(cfg);
	snprintf(qr, sizeof(qr), "%s%s", cfg->dossier_tracking_url, d->code);
	free(cfg);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "code", d->code, "procedure",
			 d->procedure, "procedure_name", p ? p->name : "", "received_at", d->accepted_at,
			 "due_day", d->due_day, "fee", p ? p->fee_text : "", "time", p ? p->time_text : "",
			 "qr", qr);
}

/* The dossier the kiosk names, if it opened it. */
static int own_dossier(struct edge *e, const char *id, const struct proto_dossier_req *req,
		       struct dossier_row *d, char *why, size_t whylen)
{
	if (!req->has_dossier) {
		snprintf(why, whylen, "field \"dossier\" must be the number the open request answered");
		return -EINVAL;
	}
	if (dossiers_get(e->db, (int64_t)req->dossier, d) < 0 || strcmp(d->source, id) != 0) {
		snprintf(why, whylen, "no dossier %lld opened by this kiosk", req->dossier);
		return -ENOENT;
	}
	return 0;
}

void dedge_request(struct edge *e, const char *id, const char *verb, const void *payload, int len)
{
	char why[DOSSIER_WHY_MAX] = "";
	const char *cwhy = "";
	const struct catalog *cat = dossier_catalog(&cwhy);
	struct proto_dossier_req req;
	const char *req_id = req.req_id;
	struct dossier_row d;
	struct device dev;
	int r = proto_dossier_req_parse(payload, len > 0 ? (size_t)len : 0, &req);

	if (r < 0) {
		refuse(e, id, req_id, r, "send a JSON object with \"req_id\" (1-63 of A-Z a-z 0-9 . _ -)");
		goto out;
	}
	r = devices_get(e->db, id, &dev);
	if (r < 0 || strcmp(dev.kind, "kiosk") != 0 ||
	    (strcmp(dev.state, "approved") != 0 && strcmp(dev.state, "active") != 0)) {
		snprintf(why, sizeof(why), "device %s is not an approved kiosk", id);
		refuse(e, id, req_id, -EACCES, why);
		goto out;
	}
	if (!cat) {
		refuse(e, id, req_id, -ENOENT, cwhy);
		goto out;
	}
	if (strcmp(verb, "open") == 0) {
		struct dossier_applicant a = { .doc_id = req.id_card,
					       .name = req.name,
					       .id_number = req.id_number };
		int64_t nid;
		r = dossier_open(e->db, store_blobs(e->store), cat, id, req.procedure ? req.procedure : "",
				 &a, id, &nid, why);
		if (r < 0) {
			refuse(e, id, req_id, r, why);
			goto out;
		}
		dossiers_get(e->db, nid, &d);
		const struct catalog_proc *p = catalog_find(cat, d.procedure);
		char session[48];
		snprintf(session, sizeof(session), "dossier:%lld:", (long long)nid);
		log_info("devices: kiosk %s opened dossier %lld (%s)", id, (long long)nid, d.procedure);
		answer(e, id,
		       json_pack("{s:s, s:s, s:I, s:s, s:s, s:o}", "req_id", req_id, "result", "dossier",
				 "dossier", (json_int_t)nid, "procedure", d.procedure, "session_prefix",
				 session, "missing", missing_json(e->db, p, &d)));
	} else if (strcmp(verb, "submit") == 0) {
		const struct calendar *cal = dossier_calendar(&cwhy);
		r = own_dossier(e, id, &req, &d, why, sizeof(why));
		if (r < 0) {
			refuse(e, id, req_id, r, why);
			goto out;
		}
		const struct catalog_proc *p = catalog_find(cat, d.procedure);
		int again = strcmp(d.state, "open") != 0;
		if (!again) {
			struct config *cfg = malloc(sizeof(*cfg));
			if (!cfg || !cal) {
				free(cfg);
				refuse(e, id, req_id, cal ? -EAGAIN : -ENOENT, cal ? "out of memory" : cwhy);
				goto out;
			}
			daemon_config_snapshot(cfg);
			/* A kiosk has no staff note to give: only a complete dossier is accepted. */
			r = dossier_accept(e->db, cat, cal, cfg, id, d.id, "", (int64_t)time(NULL), &d, why);
			if (r == 0) {
				char pwhy[256];
				if (dossier_print_receipt(cfg, p, &d, pwhy, sizeof(pwhy)) < 0)
					log_info("devices: receipt of dossier %s not printed: %s", d.code,
						 pwhy);
			}
			free(cfg);
			if (r < 0) {
				log_warn("devices: dossier %lld from %s not accepted: %s", (long long)d.id,
					 id, why);
				answer(e, id,
				       json_pack("{s:s, s:s, s:s, s:s, s:o}", "req_id", req_id, "result",
						 "incomplete", "error", ctl_errno_name(r), "reason", why,
						 "missing", p ? missing_json(e->db, p, &d) : json_array()));
				goto out;
			}
			log_info("devices: kiosk %s submitted dossier %s", id, d.code);
		}
		answer(e, id,
		       json_pack("{s:s, s:s, s:o, s:b}", "req_id", req_id, "result", "receipt", "receipt",
				 receipt_json(p, &d), "again", again));
	} else {
		refuse(e, id, req_id, -EINVAL, "unknown dossier request");
	}
out:
	proto_dossier_req_done(&req);
}

json_t *dedge_attach(struct edge *e, const char *id, const char *session, const char *doc_id)
{
	char why[DOSSIER_WHY_MAX] = "", item[CATALOG_CODE_MAX] = "";
	const struct catalog *cat = dossier_catalog(NULL);
	struct dossier_row d;
	long long n = 0;
	int r = proto_dossier_session(session, &n, item, sizeof(item));

	if (r == 0)
		return NULL;
	if (r < 0) {
		snprintf(why, sizeof(why), "session must be dossier:<number>:<item>");
		goto refuse;
	}
	if (!cat || dossiers_get(e->db, n, &d) < 0 || strcmp(d.source, id) != 0) {
		snprintf(why, sizeof(why), "no dossier %lld opened by this kiosk", n);
		r = -ENOENT;
		goto refuse;
	}
	r = dossier_attach(e->db, cat, id, n, item, doc_id, why);
	if (r < 0)
		goto refuse;
	dossiers_get(e->db, n, &d);
	const struct catalog_proc *p = catalog_find(cat, d.procedure);
	return json_pack("{s:I, s:s, s:s, s:o}", "dossier", (json_int_t)n, "item", item, "result", "attached",
			 "missing", p ? missing_json(e->db, p, &d) : json_array());
refuse:
	log_warn("devices: document %s from %s not attached to %s: %s", doc_id, id, session, why);
	return json_pack("{s:I, s:s, s:s, s:s, s:s}", "dossier", (json_int_t)n, "item", item, "result",
			 "refused", "error", ctl_errno_name(r), "reason", why);
}
