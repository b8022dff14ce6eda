/* The control commands: status, documents, outbox and audit, each answering one request. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "devices/devices.h"
#include "gateway/config.h"
#include "gateway/chip/service.h"
#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/dossier/cmds.h"
#include "gateway/events.h"
#include "gateway/intake.h"
#include "gateway/log.h"
#include "gateway/sign/copy.h"
#include "gateway/queue_cmds.h"
#include "gateway/recog_view.h"
#include "devices/local_cmds.h"
#include "gateway/store_cmds.h"
#include "gateway/users_cmds.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/docs.h"
#include "store/fsutil.h"
#include "store/outbox.h"
#include "store/store.h"

#define LIST_MAX 1000

static json_t *doc_json(const struct doc_meta *m)
{
	return json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "id", m->id, "seq",
			 (json_int_t)m->seq, "sha256", m->sha256, "size", (json_int_t)m->size, "content_type",
			 m->content_type, "kind", m->kind, "source", m->source, "name", m->name, "intake_key",
			 m->intake_key, "received_at", m->received_at);
}

static int age_seconds(const char *iso)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!iso[0] || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	long d = (long)difftime(time(NULL), timegm(&tm));
	return d < 0 ? 0 : (int)d;
}

static int cmd_status(struct control_ctx *x, json_t *req)
{
	struct outbox_stats os;
	struct config cfg;
	int64_t docs = 0, db_bytes = 0, blob_bytes = 0, free_bytes = 0;
	sqlite3_stmt *st;
	char rebuild[1024] = "";
	int r;

	daemon_config_snapshot(&cfg);
	r = outbox_stats(x->db, &os);
	if (r < 0)
		return control_failf(x, r, "cannot read the outbox");
	r = db_prepare(x->db, "SELECT COUNT(*) FROM documents", &st);
	if (r == 0 && sqlite3_step(st) == SQLITE_ROW)
		docs = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	store_disk_usage(x->store, &db_bytes, &blob_bytes);
	fs_free_bytes(store_state_dir(x->store), &free_bytes);
	db_meta_get(x->db, "last_rebuild", rebuild, sizeof(rebuild));

	json_t *outbox = json_object();
	for (int s = 0; s < 4; s++) {
		json_t *by = json_array();
		int64_t total = 0;
		for (int p = 0; p < OUTBOX_NPRIO; p++) {
			json_array_append_new(by, json_integer(os.count[s][p]));
			total += os.count[s][p];
		}
		json_object_set_new(outbox, outbox_state_names[s],
				    json_pack("{s:I, s:o}", "total", (json_int_t)total, "by_priority", by));
	}
	json_object_set_new(outbox, "pending_bytes", json_integer(os.pending_bytes));
	json_object_set_new(outbox, "oldest_queued_at", json_string(os.oldest_queued_at));
	json_object_set_new(outbox, "oldest_queued_age_s", json_integer(age_seconds(os.oldest_queued_at)));

	const struct store_startup *su = store_startup_info(x->store);
	json_t *j = json_pack(
	    "{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:{s:b, s:s, s:I}, s:b}", "version",
	    MOTCUA_VERSION, "uptime_s", (json_int_t)(time(NULL) - daemon_started()), "state_dir",
	    store_state_dir(x->store), "documents", (json_int_t)docs, "db_bytes", (json_int_t)db_bytes,
	    "blob_bytes", (json_int_t)blob_bytes, "free_bytes", (json_int_t)free_bytes, "low_water_bytes",
	    (json_int_t)config_low_water_bytes(&cfg), "outbox", outbox, "startup", "rebuilt", su->rebuilt,
	    "quarantined", su->quarantined, "restored", (json_int_t)su->restored, "intake_paused",
	    free_bytes < config_low_water_bytes(&cfg));
	if (j && rebuild[0])
		json_object_set_new(j, "last_rebuild", json_loads(rebuild, 0, NULL));
	return control_reply(x, j);
}

struct body {
	struct ctl_conn *conn;
	int64_t left;
};

static ssize_t body_read(void *ctx, void *buf, size_t len)
{
	struct body *b = ctx;
	if (b->left <= 0)
		return 0;
	if ((int64_t)len > b->left)
		len = (size_t)b->left;
	ssize_t n = ctl_read(b->conn, buf, len);
	if (n < 0)
		return n;
	if (n == 0)
		return -ECONNRESET; /* the sender went away before the announced size */
	b->left -= n;
	return n;
}

static int cmd_doc_put(struct control_ctx *x, json_t *req)
{
	struct config cfg;
	struct doc_meta m;
	char why[512] = "";
	json_t *size = json_object_get(req, "size");
	int r;

	daemon_config_snapshot(&cfg);
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return control_failf(x, -EINVAL, "doc.put needs \"size\", the number of bytes that follow");
	struct body b = { .conn = x->conn, .left = json_integer_value(size) };
	struct intake_request ir = {
		.declared_size = b.left,
		.max_bytes = config_max_document_bytes(&cfg),
		.low_water_bytes = config_low_water_bytes(&cfg),
		.kind = control_str(req, "kind", "scan"),
		.source = control_str(req, "source", "cli"),
		.name = control_str(req, "name", ""),
		.intake_key = control_str(req, "intake_key", NULL),
		.actor = x->actor,
	};
	r = intake_document(x->store, x->db, &ir, body_read, &b, &m, why, sizeof(why));
	if (r < 0) {
		if (r != -ECONNRESET)
			log_warn("intake: document from %s refused: %s", ir.source, why);
		return control_failf(x, r, "%s", why);
	}
	json_t *j = doc_json(&m);
	if (j)
		json_object_set_new(j, "duplicate", json_boolean(r == 1));
	return control_reply(x, j);
}

static int send_chunk(void *ctx, const void *buf, size_t len)
{
	return ctl_write(ctx, buf, len);
}

static int cmd_doc_get(struct control_ctx *x, json_t *req)
{
	const char *id = control_str(req, "id", "");
	struct doc_meta m;
	int r = docs_get(x->db, id, &m);
	if (r == -ENOENT)
		return control_failf(x, r, "no document with id %.40s", id);
	if (r < 0)
		return control_failf(x, r, "cannot read document %.40s", id);
	/* Check the whole blob before the first byte goes out. */
	r = blob_verify(store_blobs(x->store), m.sha256, NULL);
	if (r == -EBADMSG)
		return control_failf(x, r,
				     "document %s is corrupt: its stored file failed authentication; "
				     "it was not returned (restore it from a backup or the LGSP copy)",
				     id);
	if (r == -ENOENT)
		return control_failf(x, -EBADMSG, "document %s is missing its stored file", id);
	if (r < 0)
		return control_failf(x, r, "cannot read document %s", id);
	r = control_reply(x, doc_json(&m));
	if (r < 0)
		return r;
	r = blob_get(store_blobs(x->store), m.sha256, send_chunk, x->conn);
	if (r < 0) {
		/* The header went out already: the closing line tells the client to discard. */
		return control_failf(x, r, "document %s could not be read to the end", id);
	}
	return control_reply(x, json_pack("{s:s}", "sha256", m.sha256));
}

static int list_limit(json_t *req)
{
	json_t *v = json_object_get(req, "limit");
	int64_t n = json_is_integer(v) ? json_integer_value(v) : 100;
	return n < 1 ? 1 : n > LIST_MAX ? LIST_MAX : (int)n;
}

static int add_doc(void *ctx, const struct doc_meta *m)
{
	return json_array_append_new(ctx, doc_json(m)) == 0 ? 0 : -ENOMEM;
}

static int cmd_doc_list(struct control_ctx *x, json_t *req)
{
	json_t *arr = json_array();
	json_t *before = json_object_get(req, "before_seq");
	int r = docs_list(x->db, json_is_integer(before) ? json_integer_value(before) : 0, list_limit(req),
			  add_doc, arr);
	if (r < 0) {
		json_decref(arr);
		return control_failf(x, r, "cannot list documents");
	}
	return control_reply(x, json_pack("{s:o}", "documents", arr));
}

static int add_item(void *ctx, const struct outbox_item *it)
{
	json_t *j =
	    json_pack("{s:I, s:s, s:I, s:i, s:s, s:s, s:s, s:I, s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "id",
		      (json_int_t)it->id, "stream", it->stream, "seq", (json_int_t)it->seq, "priority",
		      it->priority, "kind", it->kind, "ref", it->ref, "idem_key", it->idem_key, "bytes",
		      (json_int_t)it->bytes, "state", it->state, "offset", (json_int_t)it->offset, "receipt",
		      it->receipt, "reason", it->reason, "attempts", (json_int_t)it->attempts, "created_at",
		      it->created_at, "updated_at", it->updated_at);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

static int cmd_outbox_list(struct control_ctx *x, json_t *req)
{
	const char *state = control_str(req, "state", NULL);
	if (state && outbox_state_index(state) < 0)
		return control_failf(x, -EINVAL, "state must be queued, sending, delivered or rejected");
	json_t *arr = json_array();
	int r = outbox_list(x->db, state, list_limit(req), add_item, arr);
	if (r < 0) {
		json_decref(arr);
		return control_failf(x, r, "cannot list the outbox");
	}
	return control_reply(x, json_pack("{s:o}", "items", arr));
}

/* The uplink's numbers: its published report plus the backlog read from the outbox. */
static int cmd_uplink_status(struct control_ctx *x, json_t *req)
{
	struct uplink_report u;
	struct outbox_stats os;
	struct config cfg;
	int64_t items = 0, queued = 0, sending = 0;
	int r;

	daemon_config_snapshot(&cfg);
	events_uplink_read(&u);
	r = outbox_stats(x->db, &os);
	if (r < 0)
		return control_failf(x, r, "cannot read the outbox");
	for (int p = 0; p < OUTBOX_NPRIO; p++) {
		queued += os.count[0][p];
		sending += os.count[1][p];
	}
	items = queued + sending;
	int64_t rejected = 0;
	for (int p = 0; p < OUTBOX_NPRIO; p++)
		rejected += os.count[3][p];
	/* Time to drain from the minute's average rate; unknown while nothing moves or the link
	 * is not known to be up (a rate from before an outage says nothing about after it). */
	int64_t rate = u.rate_avg_bps > u.rate_bps ? u.rate_avg_bps : u.rate_bps;
	int64_t eta = os.pending_bytes == 0        ? 0
	    : rate > 0 && u.link == UPLINK_LINK_UP ? os.pending_bytes / rate
						   : -1;
	json_t *rep = json_pack(
	    "{s:b, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:i, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
	    "enabled", strcmp(cfg.uplink_enabled, "yes") == 0, "base_url", cfg.uplink_base_url, "link",
	    events_link_name(u.link), "reason", u.reason, "link_since", (json_int_t)u.link_since,
	    "last_success", (json_int_t)u.last_success, "backlog_items", (json_int_t)items, "queued",
	    (json_int_t)queued, "sending", (json_int_t)sending, "rejected", (json_int_t)rejected,
	    "backlog_bytes", (json_int_t)os.pending_bytes, "oldest_queued_at", os.oldest_queued_at,
	    "oldest_queued_age_s", age_seconds(os.oldest_queued_at), "rate_bps", (json_int_t)u.rate_bps,
	    "rate_avg_bps", (json_int_t)u.rate_avg_bps, "cap_bps", (json_int_t)u.cap_bps, "eta_s",
	    (json_int_t)eta, "delivered_since_start", (json_int_t)u.delivered, "bytes_sent_since_start",
	    (json_int_t)u.bytes_sent, "active", u.active, "concurrency", u.concurrency);
	if (rep) {
		json_object_set_new(rep, "last_answer", json_integer(u.last_ok));
		json_object_set_new(rep, "disk_full", json_boolean(u.disk_full));
		json_object_set_new(rep, "store_writes_refused", json_integer(u.store_refused));
		json_object_set_new(rep, "unrecorded", json_integer(u.unrecorded));
	}
	return control_reply(x, rep);
}

/* rejected -> queued on a staff decision, audited in the same commit. */
static int cmd_outbox_retry(struct control_ctx *x, json_t *req)
{
	json_t *idv = json_object_get(req, "id");
	struct outbox_item it;
	char subject[64], detail[OUTBOX_TEXT_MAX + 128];
	int r;

	if (!json_is_integer(idv) || json_integer_value(idv) < 1)
		return control_failf(x, -EINVAL, "outbox.retry needs \"id\", an outbox item number");
	int64_t id = json_integer_value(idv);
	r = outbox_get(x->db, id, &it);
	if (r == -ENOENT)
		return control_failf(x, r, "no outbox item %lld", (long long)id);
	if (r < 0)
		return control_failf(x, r, "cannot read outbox item %lld", (long long)id);
	json_t *d = json_pack("{s:s, s:s, s:s}", "kind", it.kind, "ref", it.ref, "reason", it.reason);
	char *dj = d ? json_dumps(d, JSON_COMPACT) : NULL;
	snprintf(detail, sizeof(detail), "%s", dj ? dj : "");
	free(dj);
	json_decref(d);
	snprintf(subject, sizeof(subject), "outbox:%lld", (long long)id);
	r = db_begin(x->db);
	if (r < 0)
		return control_failf(x, r, "cannot write to the store");
	r = outbox_retry(x->db, id);
	if (r == 0)
		r = audit_append(x->db, x->actor, "outbox.retry", subject, detail);
	if (r == 0)
		r = db_commit(x->db);
	else
		db_rollback(x->db);
	if (r == -ESTALE)
		return control_failf(
		    x, -EINVAL, "outbox item %lld is %s, not rejected; only a rejected item can be retried",
		    (long long)id, it.state);
	if (r < 0)
		return control_failf(x, r, "cannot requeue outbox item %lld", (long long)id);
	log_info("outbox: item %lld requeued by staff (was rejected: %s)", (long long)id, it.reason);
	events_outbox_changed();
	return control_reply(x, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state", "queued"));
}

static int cmd_audit_verify(struct control_ctx *x, json_t *req)
{
	int64_t rows = 0, bad = 0;
	char why[256] = "";
	int r = audit_verify(x->db, &rows, &bad, why, sizeof(why));
	if (r == -EBADMSG)
		return control_reply(x,
				     json_pack("{s:b, s:I, s:s}", "valid", 0, "first_bad_seq",
					       (json_int_t)bad, "problem", why));
	if (r < 0)
		return control_failf(x, r, "cannot read the audit chain");
	return control_reply(x, json_pack("{s:b, s:I}", "valid", 1, "rows", (json_int_t)rows));
}

static int add_row(void *ctx, const struct audit_row *a)
{
	json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)a->seq, "at", a->at,
			      "actor", a->actor, "action", a->action, "subject", a->subject, "detail",
			      a->detail, "hash", a->hash);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

static int cmd_audit_tail(struct control_ctx *x, json_t *req)
{
	json_t *arr = json_array();
	int r = audit_tail(x->db, list_limit(req), add_row, arr);
	if (r < 0) {
		json_decref(arr);
		return control_failf(x, r, "cannot read the audit chain");
	}
	return control_reply(x, json_pack("{s:o}", "rows", arr));
}

static int cmd_config_show(struct control_ctx *x, json_t *req)
{
	struct config cfg;
	char text[8192];
	daemon_config_snapshot(&cfg);
	config_dump(&cfg, text, sizeof(text));
	return control_reply(x, json_pack("{s:s}", "config", text));
}

int control_reply(struct control_ctx *x, json_t *j)
{
	int r;
	if (!j)
		return ctl_send_error(x->conn, -ENOMEM, "out of memory");
	json_object_set_new(j, "ok", json_true());
	r = ctl_send(x->conn, j);
	json_decref(j);
	return r;
}

int control_fail(struct control_ctx *x, int err, const char *why)
{
	ctl_send_error(x->conn, err, why);
	return err;
}

int control_failf(struct control_ctx *x, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return control_fail(x, err, msg);
}

const char *control_str(json_t *req, const char *key, const char *dflt)
{
	json_t *v = json_object_get(req, key);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

static const struct {
	const char *name;
	int (*fn)(struct control_ctx *x, json_t *req);
} cmds[] = {
	{ "status", cmd_status },
	{ "doc.put", cmd_doc_put },
	{ "doc.get", cmd_doc_get },
	{ "doc.list", cmd_doc_list },
	{ "outbox.list", cmd_outbox_list },
	{ "audit.verify", cmd_audit_verify },
	{ "audit.tail", cmd_audit_tail },
	{ "config.show", cmd_config_show },
	{ "uplink.status", cmd_uplink_status },
	{ "outbox.retry", cmd_outbox_retry },
};

int control_dispatch(struct control_ctx *x, const char *cmd, void *req_json)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, cmd) == 0)
			return cmds[i].fn(x, req_json);
	if (strncmp(cmd, "devices.", 8) == 0)
		return devices_control(x, cmd, req_json);
	if (strncmp(cmd, "copy.", 5) == 0 || strncmp(cmd, "keys.", 5) == 0)
		return copy_control(x, cmd, req_json);
	if (strncmp(cmd, "queue.", 6) == 0)
		return queue_control(x, cmd, req_json);
	if (strncmp(cmd, "recognize.", 10) == 0)
		return recog_view_control(x, cmd, req_json);
	if (strncmp(cmd, "usb.", 4) == 0 || strncmp(cmd, "scan.", 5) == 0)
		return local_control(x, cmd, req_json);
	if (strncmp(cmd, "store.", 6) == 0)
		return store_control(x, cmd, req_json);
	if (strncmp(cmd, "users.", 6) == 0)
		return users_control(x, cmd, req_json);
	if (strncmp(cmd, "dossier.", 8) == 0 || strcmp(cmd, "ask") == 0 || strncmp(cmd, "feedback.", 9) == 0)
		return dossier_control(x, cmd, req_json);
	if (strncmp(cmd, "chip.", 5) == 0)
		return chip_control(x, cmd, req_json);
	return control_failf(x, -EINVAL, "unknown command %.40s", cmd);
}
