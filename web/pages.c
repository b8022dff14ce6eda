/* The staff pages: dashboard, devices, documents, outbox, audit log, settings, and the
 * places kept for the queue and certified copies.  Every action is a plain form. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/devinfo.h"
#include "gateway/events.h"
#include "store/audit.h"
#include "store/devices.h"
#include "store/docs.h"
#include "store/outbox.h"
#include "store/views.h"
#include "web/internal.h"
#include "web/labels.h"

#define HTML "text/html; charset=utf-8"
#define PAGE_ROWS 50
#define OB_WAITING_ROWS 100 /* the outbox page lists the first items of the queue, not all */

/* Messages a redirect after a POST carries in ?msg= */
static const struct {
	const char *code;
	enum str text;
	const char *kind;
} msgs[] = {
	{ "uploaded", S_UPLOADED, "ok" },    { "duplicate", S_UPLOAD_DUP, "ok" },
	{ "retried", S_OB_RETRIED, "ok" },   { "aside", S_OB_ASIDE_DONE, "ok" },
	{ "stale", S_OB_STALE, "err" },      { "device", S_DEV_DONE, "ok" },
	{ "user", S_USER_DONE, "ok" },       { "passwd", S_PASSWORD_CHANGED, "ok" },
	{ "loggedout", S_LOGGED_OUT, "ok" }, { "expired", S_SESSION_ENDED, "err" },
	{ "corrected", S_REC_SAVED, "ok" },  { "unchanged", S_REC_UNCHANGED, "ok" },
};

static void flash(struct req *r, struct buf *b)
{
	const char *m = web_arg(r, "msg");
	if (!m)
		return;
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		if (strcmp(m, msgs[i].code) == 0) {
			struct buf t;
			buf_init(&t, 1024);
			buf_esc(&t, T(r->lang, msgs[i].text));
			web_notice(b, msgs[i].kind, t.p ? t.p : "");
			buf_free(&t);
		}
}

static int64_t arg_int(struct req *r, const char *name)
{
	const char *v = web_arg(r, name);
	if (!v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	return (*end || n < 0) ? 0 : n;
}

static void tile(struct buf *b, struct req *r, enum str label, const char *cls)
{
	buf_printf(b, "<div class=\"tile%s%s\"><h2>", cls[0] ? " " : "", cls);
	buf_esc(b, T(r->lang, label));
	buf_puts(b, "</h2>");
}

/* ---- dashboard ----------------------------------------------------------------------- */

enum MHD_Result page_dashboard(struct req *r)
{
	struct web_status st;
	struct buf b;

	if (web_status_read(r, &st) < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_DASHBOARD, "/");
	if (st.intake_paused) {
		struct buf t;
		buf_init(&t, 512);
		buf_esc(&t, T(r->lang, S_INTAKE_PAUSED));
		web_notice(&b, "err", t.p ? t.p : "");
		buf_free(&t);
	}
	if (st.uplink_disk_full) {
		struct buf t;
		buf_init(&t, 1024);
		buf_t(&t, r->lang, S_UPLINK_DISK_FULL, st.uplink_unrecorded, 0, NULL);
		web_notice(&b, "err", t.p ? t.p : "");
		buf_free(&t);
	}
	buf_puts(&b, "<div class=\"tiles\">");

	enum str ls = st.link == UPLINK_LINK_UP ? S_LINK_UP
	    : st.link == UPLINK_LINK_DOWN       ? S_LINK_DOWN
	    : st.link == UPLINK_LINK_UNKNOWN    ? S_LINK_UNKNOWN
						: S_LINK_OFF;
	tile(&b, r, S_LINK, st.link == UPLINK_LINK_DOWN ? "bad" : st.link == UPLINK_LINK_UP ? "good" : "");
	buf_printf(&b, "<p class=\"big\" id=\"link\" data-state=\"%s\">", web_link_name(st.link));
	buf_esc(&b, T(r->lang, ls));
	buf_puts(&b, "</p>");
	if (st.link_since > 0 && st.link >= UPLINK_LINK_UP) {
		struct buf when;
		buf_init(&when, 64);
		buf_when(&when, st.link_since);
		buf_puts(&b, "<p>");
		buf_t(&b, r->lang, S_LINK_SINCE, 0, 0, when.p ? when.p : "");
		buf_free(&when);
		buf_puts(&b, "</p>");
	}
	if (st.link_checked > 0 && st.link >= UPLINK_LINK_UP) {
		int64_t ago = (int64_t)time(NULL) - st.link_checked;
		buf_puts(&b, "<p id=\"link-checked\">");
		buf_esc(&b, T(r->lang, S_LINK_CHECKED));
		buf_puts(&b, " ");
		buf_age(&b, r->lang, ago < 0 ? 0 : ago);
		buf_puts(&b, "</p>");
	}
	if (st.link_reason[0] && st.link == UPLINK_LINK_DOWN) {
		buf_puts(&b, "<p>");
		buf_esc(&b, st.link_reason);
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "</div>");

	int64_t waiting = st.queued + st.sending;
	tile(&b, r, S_BACKLOG, "");
	buf_puts(&b, "<dl id=\"backlog\"><dt>");
	buf_esc(&b, T(r->lang, S_BACKLOG_ITEMS));
	buf_printf(&b, "</dt><dd id=\"backlog-items\">%lld</dd><dt>", (long long)waiting);
	buf_esc(&b, T(r->lang, S_BACKLOG_BYTES));
	buf_puts(&b, "</dt><dd id=\"backlog-bytes\">");
	buf_bytes(&b, st.pending_bytes);
	buf_puts(&b, "</dd><dt>");
	buf_esc(&b, T(r->lang, S_BACKLOG_OLDEST));
	buf_puts(&b, "</dt><dd id=\"backlog-oldest\">");
	if (st.oldest_age_s >= 0)
		buf_age(&b, r->lang, st.oldest_age_s);
	else
		buf_puts(&b, "—");
	buf_puts(&b, "</dd></dl>");
	if (waiting == 0) {
		buf_puts(&b, "<p>");
		buf_esc(&b, T(r->lang, S_BACKLOG_NONE));
		buf_puts(&b, "</p>");
	} else if (st.link == UPLINK_LINK_UP && st.delivered_since_start > 0) {
		/* Progress of the drain since the link came back: delivered of delivered + left. */
		long long done = st.delivered_since_start, total = st.delivered_since_start + waiting;
		buf_puts(&b, "<p><label for=\"drain\">");
		buf_t(&b, r->lang, S_BACKLOG_DRAINING, done, 0, NULL);
		buf_printf(
		    &b,
		    "</label><br><progress id=\"drain\" max=\"%lld\" value=\"%lld\">%lld%%</progress></p>",
		    total, done, total ? done * 100 / total : 0);
	}
	if (st.rejected - st.rejected_aside > 0) {
		buf_printf(&b, "<p class=\"err\"><a href=\"/outbox\">");
		buf_esc(&b, T(r->lang, S_REJECTED_COUNT));
		buf_printf(&b, ": %lld</a></p>", (long long)(st.rejected - st.rejected_aside));
	}
	buf_puts(&b, "</div>");

	tile(&b, r, S_NAV_DEVICES, "");
	if (!st.devices_known) {
		buf_puts(&b, "<p>—</p>");
	} else {
		buf_puts(&b, "<dl><dt>");
		buf_esc(&b, T(r->lang, S_DEVICES_ONLINE));
		buf_printf(&b, "</dt><dd id=\"dev-online\">%lld / %lld</dd><dt>", (long long)st.dev_online,
			   (long long)st.dev_active);
		buf_esc(&b, T(r->lang, S_DEVICES_PENDING));
		buf_printf(&b, "</dt><dd id=\"dev-pending\"><a href=\"/devices\">%lld</a></dd><dt>",
			   (long long)st.dev_pending);
		buf_esc(&b, T(r->lang, S_DEVICES_STALE));
		buf_printf(&b, "</dt><dd id=\"dev-stale\">%lld</dd></dl>", (long long)st.dev_stale);
	}
	buf_puts(&b, "</div>");

	tile(&b, r, S_INTAKE_TODAY, "");
	buf_printf(&b, "<p class=\"big\" id=\"intake-today\">%lld</p><p>", (long long)st.intake_today);
	buf_esc(&b, T(r->lang, S_DOCS_TOTAL));
	buf_printf(&b, ": %lld</p><p>", (long long)st.docs_total);
	buf_esc(&b, T(r->lang, S_DISK_FREE));
	buf_puts(&b, ": ");
	buf_bytes(&b, st.free_bytes);
	buf_puts(&b, "</p></div>");
	web_queue_tile(r, &b);
	web_dossier_tile(r, &b);
	web_store_tile(r, &b);
	web_features_tile(r, &b);
	buf_puts(&b, "</div>");
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

/* ---- devices ------------------------------------------------------------------------- */

struct devlist {
	struct req *r;
	struct buf *b;
	int section; /* 0 pending, 1 active, 2 stale, 3 other */
	int rows;
	int64_t now;
};

static int device_section(const struct device *d, int64_t now)
{
	if (strcmp(d->state, "pending") == 0)
		return 0;
	if (strcmp(d->state, "active") == 0 || strcmp(d->state, "approved") == 0) {
		if (strcmp(d->presence, "online") != 0 && d->last_seen > 0 && now - d->last_seen > 86400)
			return 2;
		return 1;
	}
	return 3;
}

static void device_button(struct devlist *x, const struct device *d, const char *verb, enum str label)
{
	struct buf *b = x->b;
	buf_puts(b, "<form method=\"post\" action=\"/devices\" class=\"inline\">");
	web_csrf_input(x->r, b);
	buf_puts(b, "<input type=\"hidden\" name=\"id\" value=\"");
	buf_esc(b, d->id);
	buf_puts(b, "\">");
	if (strcmp(verb, "approve") == 0) {
		/* Approval binds the physical device: staff type the code it shows. */
		buf_puts(b, "<label>");
		buf_esc(b, T(x->r->lang, S_DEV_CODE));
		buf_printf(b,
			   " <input name=\"code\" id=\"code-%s\" inputmode=\"numeric\" autocomplete=\"off\" "
			   "pattern=\"[0-9 ]{6,7}\" maxlength=\"7\" size=\"7\" required></label> ",
			   d->id);
	}
	buf_printf(b,
		   "<input type=\"hidden\" name=\"verb\" value=\"%s\"><button type=\"submit\" "
		   "aria-label=\"",
		   verb);
	buf_esc(b, T(x->r->lang, label));
	buf_puts(b, " ");
	buf_esc(b, d->id);
	buf_puts(b, "\">");
	buf_esc(b, T(x->r->lang, label));
	buf_puts(b, "</button></form> ");
}

static int device_row(void *ctx, const struct device *d)
{
	struct devlist *x = ctx;
	struct buf *b = x->b;
	int admin = strcmp(x->r->user.role, "admin") == 0;
	if (device_section(d, x->now) != x->section)
		return 0;
	x->rows++;
	buf_printf(b, "<tr id=\"dev-%s\">", d->id);
	web_td(b, d->id);
	web_td(b, d->kind);
	web_td(b, d->model);
	web_td(b, d->serial);
	web_td(b, d->state);
	web_td(b, d->presence);
	if (d->last_seen) {
		char when[32];
		time_t t = (time_t)d->last_seen;
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		web_td(b, when);
	} else {
		web_td(b, T(x->r->lang, S_DEV_NEVER));
	}
	buf_puts(b, "<td>");
	if (d->conflicts > 0) {
		buf_printf(b, "<p class=\"err\" id=\"conflict-%s\">", d->id);
		buf_esc(b, T(x->r->lang, S_DEV_CONFLICT));
		buf_puts(b, "</p>");
	}
	if (admin && x->section == 0) {
		device_button(x, d, "approve", S_DEV_APPROVE);
		device_button(x, d, "reject", S_DEV_REJECT);
	} else if (admin && (x->section == 1 || x->section == 2)) {
		device_button(x, d, "revoke", S_DEV_REVOKE);
	}
	buf_puts(b, "</td></tr>");
	return 0;
}

/* For installers: where devices connect and the fingerprint of the CA they must trust. */
static void broker_info(struct req *r, struct buf *b)
{
	struct config cfg;
	char fp[DEVINFO_FP_MAX];
	daemon_config_snapshot(&cfg);
	if (!cfg.tls_port)
		return;
	buf_puts(b, "<section aria-labelledby=\"broker\"><h2 id=\"broker\">");
	buf_esc(b, T(r->lang, S_DEV_BROKER));
	buf_puts(b, "</h2><dl><dt>");
	buf_esc(b, T(r->lang, S_DEV_BROKER_PORT));
	buf_printf(b, "</dt><dd id=\"broker-port\">%lld</dd>", (long long)cfg.tls_port);
	if (devinfo_ca_fingerprint(cfg.tls_ca_file, fp, sizeof(fp)) == 0) {
		buf_puts(b, "<dt>");
		buf_esc(b, T(r->lang, S_DEV_BROKER_FP));
		buf_puts(b, "</dt><dd><code id=\"broker-fp\">");
		buf_esc(b, fp);
		buf_puts(b, "</code></dd></dl>");
	} else {
		buf_puts(b, "</dl>");
		web_notice(b, "err", T(r->lang, S_DEV_BROKER_NOCA));
	}
	buf_puts(b, "</section>");
}

enum MHD_Result page_devices(struct req *r)
{
	static const enum str titles[] = { S_DEV_PENDING, S_DEV_ACTIVE, S_DEV_STALE, S_DEV_OTHER };
	struct db *db = web_db(r);
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_DEVICES, "/devices");
	flash(r, &b);
	broker_info(r, &b);
	for (int s = 0; s < 4; s++) {
		struct devlist x = { .r = r, .b = &b, .section = s, .now = (int64_t)time(NULL) };
		buf_printf(&b, "<section aria-labelledby=\"devs%d\"><h2 id=\"devs%d\">", s, s);
		buf_esc(&b, T(r->lang, titles[s]));
		buf_puts(&b, "</h2><table><thead><tr>");
		web_th(&b, r, S_DEV_ID);
		web_th(&b, r, S_DEV_KIND);
		web_th(&b, r, S_DEV_MODEL);
		web_th(&b, r, S_DEV_SERIAL);
		web_th(&b, r, S_DEV_STATE);
		web_th(&b, r, S_DEV_PRESENCE);
		web_th(&b, r, S_DEV_LAST_SEEN);
		web_th(&b, r, S_ACTIONS);
		buf_puts(&b, "</tr></thead><tbody>");
		if (devices_list(db, device_row, &x) < 0) {
			buf_free(&b);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		if (x.rows == 0) {
			buf_puts(&b, "<tr><td colspan=\"8\">");
			buf_esc(&b, T(r->lang, S_DEV_NONE));
			buf_puts(&b, "</td></tr>");
		}
		buf_puts(&b, "</tbody></table></section>");
	}
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

enum MHD_Result post_devices(struct req *r)
{
	struct db *db = web_db(r);
	char id[DEVICE_ID_MAX + 8], verb[16], code[16], why[256] = "";
	struct device d;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "id", id, sizeof(id)) < 0 || web_field(r, "verb", verb, sizeof(verb)) < 0 ||
	    web_field(r, "code", code, sizeof(code)) < 0 ||
	    (strcmp(verb, "approve") != 0 && strcmp(verb, "reject") != 0 && strcmp(verb, "revoke") != 0))
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	int rc = devices_decide(db, id, verb, r->actor, "", code, &d, why, sizeof(why));
	if (rc == -ENOENT)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	if (rc < 0 && rc != -EALREADY) {
		struct buf b;
		buf_init(&b, WEB_PAGE_MAX);
		web_page_begin(r, &b, S_NAV_DEVICES, "/devices");
		struct buf t;
		buf_init(&t, 1024);
		if (rc == -ENOKEY || rc == -EKEYREJECTED)
			buf_esc(&t, T(r->lang, rc == -ENOKEY ? S_DEV_CODE_NEEDED : S_DEV_CODE_WRONG));
		else
			buf_esc(&t, why[0] ? why : T(r->lang, S_BAD_REQUEST));
		web_notice(&b, "err", t.p ? t.p : "");
		buf_free(&t);
		buf_puts(&b, "<p><a href=\"/devices\">");
		buf_esc(&b, T(r->lang, S_NAV_DEVICES));
		buf_puts(&b, "</a></p>");
		web_page_end(r, &b);
		return web_send(r, MHD_HTTP_CONFLICT, HTML, &b);
	}
	web_status_changed();
	return web_redirect(r, "/devices?msg=device");
}

/* ---- documents ----------------------------------------------------------------------- */

struct doclist {
	struct req *r;
	struct buf *b;
	int rows;
	int64_t last_seq;
};

static int doc_row(void *ctx, const struct doc_meta *m)
{
	struct doclist *x = ctx;
	struct buf *b = x->b;
	if (x->rows++ >= PAGE_ROWS)
		return 0; /* the extra row only tells that an older page exists */
	x->last_seq = m->seq;
	buf_puts(b, "<tr><td>");
	buf_when_iso(b, m->received_at);
	buf_printf(b, "</td><td><a href=\"/documents/%s\">", m->id);
	buf_esc(b, m->name[0] ? m->name : m->id);
	buf_puts(b, "</a></td><td>");
	buf_label(b, x->r->lang, LG_DOC_KIND, m->kind);
	buf_puts(b, "</td><td>");
	buf_label(b, x->r->lang, LG_SOURCE, m->source);
	buf_puts(b, "</td>");
	web_td(b, web_format_name(m->content_type));
	buf_puts(b, "<td class=\"num\">");
	buf_bytes(b, m->size);
	buf_printf(b, "</td><td><code>%.12s</code></td></tr>", m->id);
	return 0;
}

void pages_upload_form(struct req *r, struct buf *b);
void pages_upload_form(struct req *r, struct buf *b)
{
	struct config cfg;
	daemon_config_snapshot(&cfg);
	int64_t mb = cfg.max_document_mb < r->w->cfg.web_max_upload_mb ? cfg.max_document_mb
								       : r->w->cfg.web_max_upload_mb;
	buf_puts(b, "<section aria-labelledby=\"up\"><h2 id=\"up\">");
	buf_esc(b, T(r->lang, S_UPLOAD_TITLE));
	buf_puts(b, "</h2><form method=\"post\" action=\"/documents\" enctype=\"multipart/form-data\">");
	web_csrf_input(r, b);
	buf_puts(b, "<p><label for=\"file\">");
	buf_t(b, r->lang, S_UPLOAD_FILE, (long long)mb, 0, NULL);
	buf_puts(
	    b,
	    "</label><br><input type=\"file\" id=\"file\" name=\"file\" required "
	    "accept=\"image/jpeg,image/png,image/tiff,application/pdf\"></p><p><button type=\"submit\">");
	buf_esc(b, T(r->lang, S_UPLOAD));
	buf_puts(b, "</button></p></form></section>");
}

/* The documents page with an optional notice (used by the upload's error answers too). */
enum MHD_Result pages_documents(struct req *r, unsigned status, const char *notice_kind,
				const char *notice_html);
enum MHD_Result pages_documents(struct req *r, unsigned status, const char *notice_kind,
				const char *notice_html)
{
	struct db *db = web_db(r);
	const char *q = web_arg(r, "q");
	int64_t before = arg_int(r, "before");
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (!q || r->post)
		q = "";
	if (strlen(q) > 128)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_DOCUMENTS, "/documents");
	flash(r, &b);
	if (notice_kind)
		web_notice(&b, notice_kind, notice_html);
	pages_upload_form(r, &b);
	buf_puts(&b, "<section aria-labelledby=\"list\"><h2 id=\"list\">");
	buf_esc(&b, T(r->lang, S_NAV_DOCUMENTS));
	buf_puts(&b, "</h2><form method=\"get\" action=\"/documents\" role=\"search\"><label for=\"q\">");
	buf_esc(&b, T(r->lang, S_DOC_SEARCH));
	buf_puts(&b, "</label> <input type=\"search\" id=\"q\" name=\"q\" maxlength=\"128\" value=\"");
	buf_esc(&b, q);
	buf_puts(&b, "\"> <button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_SEARCH));
	buf_puts(&b, "</button></form><table id=\"docs\"><thead><tr>");
	web_th(&b, r, S_DOC_RECEIVED);
	web_th(&b, r, S_DOC_NAME);
	web_th(&b, r, S_DOC_KIND);
	web_th(&b, r, S_DOC_SOURCE);
	web_th(&b, r, S_DOC_TYPE);
	web_th(&b, r, S_DOC_SIZE);
	web_th(&b, r, S_DOC_ID);
	buf_puts(&b, "</tr></thead><tbody>");
	struct doclist x = { .r = r, .b = &b };
	if (views_docs_search(db, q, before, PAGE_ROWS + 1, doc_row, &x) < 0) {
		buf_free(&b);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (x.rows == 0) {
		buf_puts(&b, "<tr><td colspan=\"7\">");
		buf_esc(&b, T(r->lang, S_DOC_NONE));
		buf_puts(&b, "</td></tr>");
	}
	buf_puts(&b, "</tbody></table>");
	web_pager(r, &b, "/documents", q, before != 0, x.rows > PAGE_ROWS, (long long)x.last_seq);
	buf_puts(&b, "</section>");
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_documents(struct req *r)
{
	return pages_documents(r, MHD_HTTP_OK, NULL, NULL);
}

/* A row whose value is already HTML in v (emptied after use). */
static void field_row_html(struct buf *b, struct req *r, enum str label, struct buf *v)
{
	buf_puts(b, "<tr><th scope=\"row\">");
	buf_esc(b, T(r->lang, label));
	buf_puts(b, "</th><td>");
	if (v->p)
		buf_add(b, v->p, v->len);
	buf_puts(b, "</td></tr>");
	v->len = 0;
}

static void field_row(struct buf *b, struct req *r, enum str label, const char *value)
{
	buf_puts(b, "<tr><th scope=\"row\">");
	buf_esc(b, T(r->lang, label));
	buf_puts(b, "</th><td>");
	buf_esc(b, value);
	buf_puts(b, "</td></tr>");
}

enum MHD_Result page_document(struct req *r)
{
	const char *rest = r->path + strlen("/documents/");
	char id[DOC_ID_LEN];
	size_t n = strspn(rest, "0123456789abcdef");

	if (!web_db(r))
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	/* An id shortened as the lists show it leads to its document. */
	if (n >= 6 && n < DOC_ID_LEN - 1 && rest[n] == '\0' && web_doc_resolve(r, rest, id) == 0) {
		char loc[64];
		snprintf(loc, sizeof(loc), "/documents/%s", id);
		return web_redirect(r, loc);
	}
	if (n != DOC_ID_LEN - 1 || (rest[n] != '\0' && strcmp(rest + n, "/raw") != 0))
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	memcpy(id, rest, n);
	id[n] = '\0';
	if (rest[n] == '/')
		return upload_send_document(r, id, web_arg(r, "download") != NULL);
	return web_document_page(r, id, MHD_HTTP_OK, NULL, NULL);
}

enum MHD_Result web_document_page(struct req *r, const char *id, unsigned status, const char *refused,
				  const char *bad)
{
	struct doc_meta m;
	struct db *db = web_db(r);
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	int rc = docs_get(db, id, &m);
	if (rc == -ENOENT)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	if (rc < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_DOC_VIEW, "/documents");
	flash(r, &b);
	buf_puts(&b, "<table class=\"fields\" id=\"doc-meta\">");
	field_row(&b, r, S_DOC_NAME, m.name);
	field_row(&b, r, S_DOC_ID, m.id);
	{
		struct buf v;
		buf_init(&v, 512);
		buf_when_iso(&v, m.received_at);
		field_row_html(&b, r, S_DOC_RECEIVED, &v);
		buf_label(&v, r->lang, LG_DOC_KIND, m.kind);
		field_row_html(&b, r, S_DOC_KIND, &v);
		buf_label(&v, r->lang, LG_SOURCE, m.source);
		field_row_html(&b, r, S_DOC_SOURCE, &v);
		buf_free(&v);
	}
	field_row(&b, r, S_DOC_TYPE, web_format_name(m.content_type));
	field_row(&b, r, S_DOC_SHA, m.sha256);
	buf_puts(&b, "<tr><th scope=\"row\">");
	buf_esc(&b, T(r->lang, S_DOC_SIZE));
	buf_puts(&b, "</th><td>");
	buf_bytes(&b, m.size);
	buf_puts(&b, "</td></tr></table>");
	buf_printf(&b, "<p><a href=\"/documents/%s/raw?download=1\" download>", m.id);
	buf_esc(&b, T(r->lang, S_DOC_DOWNLOAD));
	buf_puts(&b, "</a></p><div class=\"scan\">");
	if (strcmp(m.content_type, "image/jpeg") == 0 || strcmp(m.content_type, "image/png") == 0) {
		buf_printf(&b, "<img id=\"scan\" src=\"/documents/%s/raw\" alt=\"", m.id);
		buf_esc(&b, T(r->lang, S_DOC_VIEW));
		buf_puts(&b, " ");
		buf_esc(&b, m.name[0] ? m.name : m.id);
		buf_puts(&b, "\">");
	} else if (strcmp(m.content_type, "application/pdf") == 0) {
		buf_printf(&b, "<iframe id=\"scan\" src=\"/documents/%s/raw\" title=\"", m.id);
		buf_esc(&b, m.name[0] ? m.name : m.id);
		buf_puts(&b, "\"></iframe>");
	} else {
		buf_puts(&b, "<p>");
		buf_esc(&b, T(r->lang, S_DOC_NO_PREVIEW));
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "</div>");
	buf_printf(&b, "<p><a href=\"/dossiers?doc=%s#ds-open\">", m.id);
	buf_esc(&b, T(r->lang, S_DS_NEW_FROM_DOC));
	buf_puts(&b, "</a></p>");
	if (refused) {
		struct buf t;
		buf_init(&t, 2048);
		buf_esc(&t, T(r->lang, S_FORM_REFUSED));
		buf_printf(&t, " <a href=\"#form-error\">%s</a>", refused);
		web_notice(&b, "err", t.p ? t.p : "");
		buf_free(&t);
	}
	web_recog_section(r, &b, m.id, refused, bad);
	web_chip_section(r, &b, m.id);
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

/* ---- outbox -------------------------------------------------------------------------- */

struct oblist {
	struct req *r;
	struct buf *b;
	int rows;
	int aside;
	int waiting; /* the list of what waits to be sent (no reason, no buttons) */
};

/* What an item carries, in words: a document's name (linked), else the item's reference. */
static void outbox_what(struct req *r, struct buf *b, const struct outbox_item *it)
{
	struct db *db = web_db(r);
	struct doc_meta m;
	if (db && (strcmp(it->kind, "document") == 0 || strcmp(it->kind, "certified-copy") == 0) &&
	    docs_get(db, it->ref, &m) == 0) {
		buf_printf(b, "<a href=\"/documents/%s\">", m.id);
		buf_esc(b, m.name[0] ? m.name : T(r->lang, S_OB_UNNAMED));
		buf_puts(b, "</a>");
		return;
	}
	buf_esc(b, it->ref);
}

static void outbox_button(struct oblist *x, const struct outbox_item *it, const char *what, enum str label)
{
	struct buf *b = x->b;
	buf_puts(b, "<form method=\"post\" action=\"/outbox\" class=\"inline\">");
	web_csrf_input(x->r, b);
	buf_printf(b,
		   "<input type=\"hidden\" name=\"id\" value=\"%lld\"><input type=\"hidden\" name=\"do\" "
		   "value=\"%s\"><button type=\"submit\" aria-label=\"",
		   (long long)it->id, what);
	buf_esc(b, T(x->r->lang, label));
	buf_printf(b, " %lld\">", (long long)it->id);
	buf_esc(b, T(x->r->lang, label));
	buf_puts(b, "</button></form> ");
}

static int outbox_row(void *ctx, const struct outbox_item *it)
{
	struct oblist *x = ctx;
	struct buf *b = x->b;
	char n[32];
	x->rows++;
	buf_printf(b, "<tr id=\"ob-%lld\">", (long long)it->id);
	snprintf(n, sizeof(n), "%lld", (long long)it->id);
	web_td(b, n);
	buf_puts(b, "<td>");
	buf_label(b, x->r->lang, LG_OB_KIND, it->kind);
	buf_puts(b, "</td><td>");
	outbox_what(x->r, b, it);
	buf_puts(b, "</td>");
	if (x->waiting) {
		buf_puts(b, "<td>");
		buf_label(b, x->r->lang, LG_OB_STATE, it->state);
		buf_puts(b, "</td><td class=\"num\">");
		buf_bytes(b, it->bytes);
		buf_puts(b, "</td>");
	} else {
		web_td(b, it->reason);
	}
	snprintf(n, sizeof(n), "%lld", (long long)it->attempts);
	web_td(b, n);
	buf_puts(b, "<td>");
	buf_when_iso(b, x->waiting ? it->created_at : it->updated_at);
	buf_puts(b, "</td>");
	if (!x->waiting) {
		buf_puts(b, "<td>");
		outbox_button(x, it, "retry", S_OB_RETRY);
		if (!x->aside)
			outbox_button(x, it, "aside", S_OB_SET_ASIDE);
		buf_puts(b, "</td>");
	}
	buf_puts(b, "</tr>");
	return 0;
}

enum MHD_Result page_outbox(struct req *r)
{
	struct db *db = web_db(r);
	struct web_status st;
	struct buf b;
	if (!db || web_status_read(r, &st) < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_OUTBOX, "/outbox");
	flash(r, &b);
	buf_puts(&b, "<p>");
	buf_esc(&b, T(r->lang, S_BACKLOG));
	buf_printf(&b, ": <strong>%lld</strong> (", (long long)(st.queued + st.sending));
	buf_bytes(&b, st.pending_bytes);
	buf_puts(&b, ")</p>");
	{
		struct oblist x = { .r = r, .b = &b, .waiting = 1 };
		buf_puts(&b, "<section aria-labelledby=\"obw\"><h2 id=\"obw\">");
		buf_esc(&b, T(r->lang, S_OB_WAITING));
		buf_puts(&b, "</h2><p>");
		buf_esc(&b, T(r->lang, S_OB_WAITING_HINT));
		buf_puts(&b, "</p><table id=\"waiting\"><thead><tr>");
		web_th(&b, r, S_OB_ITEM);
		web_th(&b, r, S_DOC_KIND);
		web_th(&b, r, S_OB_REF);
		web_th(&b, r, S_OB_STATE);
		web_th(&b, r, S_DOC_SIZE);
		web_th(&b, r, S_OB_ATTEMPTS);
		web_th(&b, r, S_OB_QUEUED_AT);
		buf_puts(&b, "</tr></thead><tbody>");
		/* In sending order: what is on the wire, then what waits (state, priority, id is
		 * the outbox's index, so each is a short range scan at any size). */
		if (outbox_list(db, "sending", OB_WAITING_ROWS, outbox_row, &x) < 0 ||
		    (x.rows < OB_WAITING_ROWS &&
		     outbox_list(db, "queued", OB_WAITING_ROWS - x.rows, outbox_row, &x) < 0)) {
			buf_free(&b);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		if (x.rows == 0) {
			buf_puts(&b, "<tr><td colspan=\"7\">");
			buf_esc(&b, T(r->lang, S_OB_NONE));
			buf_puts(&b, "</td></tr>");
		}
		buf_puts(&b, "</tbody></table>");
		if (x.rows >= OB_WAITING_ROWS) {
			buf_puts(&b, "<p>");
			buf_t(&b, r->lang, S_OB_WAITING_MORE, OB_WAITING_ROWS, 0, NULL);
			buf_puts(&b, "</p>");
		}
		buf_puts(&b, "</section>");
	}
	for (int aside = 0; aside < 2; aside++) {
		struct oblist x = { .r = r, .b = &b, .aside = aside };
		buf_printf(&b, "<section aria-labelledby=\"ob%d\"><h2 id=\"ob%d\">", aside, aside);
		buf_esc(&b, T(r->lang, aside ? S_OB_ASIDE : S_OB_REJECTED));
		buf_puts(&b, "</h2><p>");
		buf_esc(&b, T(r->lang, aside ? S_OB_ASIDE_HINT : S_OB_REJECTED_HINT));
		buf_printf(&b, "</p><table id=\"%s\"><thead><tr>", aside ? "aside" : "rejected");
		web_th(&b, r, S_OB_ITEM);
		web_th(&b, r, S_DOC_KIND);
		web_th(&b, r, S_OB_REF);
		web_th(&b, r, S_OB_REASON);
		web_th(&b, r, S_OB_ATTEMPTS);
		web_th(&b, r, S_OB_UPDATED);
		web_th(&b, r, S_ACTIONS);
		buf_puts(&b, "</tr></thead><tbody>");
		if (views_rejected(db, aside, 200, outbox_row, &x) < 0) {
			buf_free(&b);
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		}
		if (x.rows == 0) {
			buf_puts(&b, "<tr><td colspan=\"7\">");
			buf_esc(&b, T(r->lang, S_OB_NONE));
			buf_puts(&b, "</td></tr>");
		}
		buf_puts(&b, "</tbody></table></section>");
	}
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

enum MHD_Result post_outbox(struct req *r)
{
	struct db *db = web_db(r);
	char id[24], what[16];
	char *end;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "id", id, sizeof(id)) < 0 || web_field(r, "do", what, sizeof(what)) < 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	long long n = strtoll(id, &end, 10);
	if (!id[0] || *end || n <= 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	int rc;
	if (strcmp(what, "retry") == 0)
		rc = views_outbox_retry(db, n, r->actor);
	else if (strcmp(what, "aside") == 0)
		rc = views_outbox_aside(db, n, r->actor, "");
	else
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	web_status_changed();
	if (rc == -ESTALE || rc == -ENOENT)
		return web_redirect(r, "/outbox?msg=stale");
	if (rc < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	return web_redirect(r, strcmp(what, "retry") == 0 ? "/outbox?msg=retried" : "/outbox?msg=aside");
}

/* ---- audit --------------------------------------------------------------------------- */

struct auditlist {
	struct buf *b;
	enum lang lang;
	int rows;
	int64_t last;
};

static int audit_row(void *ctx, const struct audit_row *a)
{
	struct auditlist *x = ctx;
	struct buf *b = x->b;
	char n[24];
	if (x->rows++ >= PAGE_ROWS)
		return 0;
	x->last = a->seq;
	snprintf(n, sizeof(n), "%lld", (long long)a->seq);
	buf_puts(b, "<tr>");
	web_td(b, n);
	buf_puts(b, "<td class=\"nowrap\">");
	buf_when_iso(b, a->at);
	buf_puts(b, "</td><td>");
	web_actor(b, x->lang, a->actor);
	buf_puts(b, "</td><td>");
	buf_label(b, x->lang, LG_ACTION, a->action);
	buf_puts(b, "</td>");
	web_td(b, a->subject);
	buf_puts(b, "<td class=\"detail\">");
	web_detail(b, x->lang, a->detail);
	buf_puts(b, "</td></tr>");
	return 0;
}

enum MHD_Result page_audit(struct req *r)
{
	struct db *db = web_db(r);
	const char *q = web_arg(r, "q");
	int64_t before = arg_int(r, "before");
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (!q)
		q = "";
	if (strlen(q) > 128)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_AUDIT, "/audit");
	if (web_arg(r, "verify")) {
		int64_t rows = 0, bad = 0;
		char why[256] = "";
		int rc = audit_verify(db, &rows, &bad, why, sizeof(why));
		struct buf t;
		buf_init(&t, 1024);
		if (rc == 0) {
			buf_t(&t, r->lang, S_AUDIT_OK, rows, 0, NULL);
			buf_puts(&b, "<div id=\"verify\">");
			web_notice(&b, "ok", t.p ? t.p : "");
		} else {
			buf_t(&t, r->lang, S_AUDIT_BAD, bad, 0, NULL);
			buf_puts(&t, " ");
			buf_esc(&t, why);
			buf_puts(&b, "<div id=\"verify\">");
			web_notice(&b, "err", t.p ? t.p : "");
		}
		buf_puts(&b, "</div>");
		buf_free(&t);
	}
	buf_puts(&b,
		 "<form method=\"get\" action=\"/audit\"><input type=\"hidden\" name=\"verify\" "
		 "value=\"1\"><button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_AUDIT_VERIFY));
	buf_puts(&b,
		 "</button></form><form method=\"get\" action=\"/audit\" role=\"search\"><label for=\"q\">");
	buf_esc(&b, T(r->lang, S_AUDIT_FILTER));
	buf_puts(&b, "</label> <input type=\"search\" id=\"q\" name=\"q\" maxlength=\"128\" value=\"");
	buf_esc(&b, q);
	buf_puts(&b, "\"> <button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_FILTER));
	buf_puts(&b, "</button></form><table id=\"audit\"><thead><tr>");
	web_th(&b, r, S_AUDIT_SEQ);
	web_th(&b, r, S_AUDIT_AT);
	web_th(&b, r, S_AUDIT_ACTOR);
	web_th(&b, r, S_AUDIT_ACTION);
	web_th(&b, r, S_AUDIT_SUBJECT);
	web_th(&b, r, S_AUDIT_DETAIL);
	buf_puts(&b, "</tr></thead><tbody>");
	struct auditlist x = { .b = &b, .lang = r->lang };
	if (views_audit_search(db, q, before, PAGE_ROWS + 1, audit_row, &x) < 0) {
		buf_free(&b);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	buf_puts(&b, "</tbody></table>");
	web_pager(r, &b, "/audit", q, before != 0, x.rows > PAGE_ROWS, (long long)x.last);
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

/* ---- settings and the places kept for later pages ------------------------------------- */

enum MHD_Result page_settings(struct req *r)
{
	struct config cfg;
	char *text = malloc(32768);
	struct buf b;
	if (!text)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	daemon_config_snapshot(&cfg);
	config_dump(&cfg, text, 32768); /* secrets come out masked */
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_SETTINGS, "/settings");
	buf_puts(&b, "<p>");
	buf_esc(&b, T(r->lang, S_SETTINGS_NOTE));
	buf_puts(&b, "</p><pre id=\"config\">");
	buf_esc(&b, text);
	buf_puts(&b, "</pre>");
	free(text);
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

enum MHD_Result page_coming(struct req *r)
{
	struct buf b;
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, strcmp(r->path, "/queue") == 0 ? S_NAV_QUEUE : S_NAV_COPIES, r->path);
	buf_puts(&b, "<p>");
	buf_esc(&b, T(r->lang, S_COMING));
	buf_puts(&b, "</p>");
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

/* Small, high-contrast, no web fonts: the box works offline and on old screens. */
static const char css[] =
    "*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,'Segoe UI',Arial,sans-serif;"
    "color:#1a1a1a;background:#f4f5f7}"
    ".skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px}"
    "header{background:#7a1010;color:#fff;padding:6px 12px;display:flex;flex-wrap:wrap;gap:4px 16px;"
    "align-items:center}header a{color:#fff}.brand{font-weight:bold;margin:0}"
    "nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:2px 12px}"
    "nav a[aria-current]{font-weight:bold;text-decoration:underline}.who{margin-left:auto}"
    "main{padding:12px 16px;max-width:1200px}h1{font-size:1.5em;margin:.3em 0}h2{font-size:1.15em}"
    ".tiles{display:flex;flex-wrap:wrap;gap:12px}.tile{background:#fff;border:1px solid #c8ccd2;"
    "border-radius:4px;padding:8px 12px;min-width:240px;flex:1}.tile h2{margin:.2em 0}"
    ".tile.good{border-left:6px solid #1e6b2a}.tile.bad{border-left:6px solid #a40000}"
    ".big{font-size:1.8em;margin:.2em 0}dl{display:grid;grid-template-columns:auto auto;gap:2px 12px}"
    "dd{margin:0;font-weight:bold}table{border-collapse:collapse;background:#fff;width:100%;"
    "margin:.5em 0}th,td{border:1px solid #c8ccd2;padding:4px 6px;text-align:left;vertical-align:top}"
    "thead th{background:#e6e8eb}.num{text-align:right}code{font-size:.9em;word-break:break-all}"
    ".ok{background:#e3f1e5;border:1px solid #1e6b2a;padding:6px}"
    ".err{background:#fbe9e9;border:1px solid #a40000;padding:6px}"
    ".invalid{border:2px solid #a40000;background:#fff5f5}ul.plain{list-style:none;padding-left:0}"
    "table.pick td{vertical-align:top}"
    "form.inline{display:inline}button{font:inherit;padding:3px 10px;cursor:pointer}"
    "input[type=text],input[type=password],input[type=search]{font:inherit;padding:3px}"
    ".scan img,.scan iframe{max-width:100%;border:1px solid #c8ccd2;background:#fff}"
    ".scan iframe{width:100%;height:80vh}pre{background:#fff;border:1px solid #c8ccd2;padding:8px;"
    "overflow:auto}footer{padding:12px 16px;color:#555;font-size:.85em}"
    ".login{max-width:380px;background:#fff;border:1px solid #c8ccd2;padding:12px 16px}"
    ".login input{width:100%}.nowrap{white-space:nowrap}td.detail{overflow-wrap:anywhere;min-width:14em}"
    "td.detail span{display:block}dd{overflow-wrap:anywhere}input,textarea,select{max-width:100%}"
    "@media (max-width:600px){main{padding:8px}dl{grid-template-columns:1fr}dd{margin-bottom:6px}"
    ".tile{min-width:0}textarea{width:100%}}"
    "@media print{header,nav,footer,.skip,.noprint,form{display:none}main{padding:0;max-width:none}"
    "body{background:#fff}}\n";

enum MHD_Result static_css(struct req *r)
{
	struct buf b;
	buf_init(&b, sizeof(css));
	buf_add(&b, css, sizeof(css) - 1);
	return web_send(r, MHD_HTTP_OK, "text/css; charset=utf-8", &b);
}
