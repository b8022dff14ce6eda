/* Dossiers on the staff page (open for a procedure from a recognised ID card or typed
 * fields, attach stored scans to the procedure's items with what is missing shown, accept
 * with a note; the list with overdue and near-due rows marked), the dashboard's late share,
 * and the public tracking page (/track?code=: procedure, status and due day only). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/dossier/dossier.h"
#include "gateway/log.h"
#include "gateway/dossier/service.h"
#include "store/store.h"
#include "web/internal.h"

#define HTML "text/html; charset=utf-8"
#define LIST_SHOWN 100

static int32_t today(const struct calendar *cal)
{
	return calendar_local_day(cal, (int64_t)time(NULL), NULL);
}

static const char *flag_of(const struct dossier_row *d)
{
	const struct calendar *cal = dossier_calendar(NULL);
	struct config *cfg = malloc(sizeof(*cfg));
	const char *f = "";
	if (cal && cfg) {
		daemon_config_snapshot(cfg);
		f = dossier_flag(cal, d, today(cal), (int)cfg->dossier_near_due_days);
	}
	free(cfg);
	return f;
}

static enum str status_str(const char *s)
{
	static const struct {
		const char *k;
		enum str s;
	} m[] = { { "received", S_DS_ST_RECEIVED },
		  { "processing", S_DS_ST_PROCESSING },
		  { "supplement_requested", S_DS_ST_SUPPLEMENT },
		  { "approved", S_DS_ST_APPROVED },
		  { "refused", S_DS_ST_REFUSED },
		  { "returned", S_DS_ST_RETURNED } };
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(s, m[i].k) == 0)
			return m[i].s;
	return S_DS_ST_WAITING;
}

static void dl_row(struct buf *b, struct req *r, enum str label, const char *id, const char *value)
{
	buf_puts(b, "<dt>");
	buf_esc(b, T(r->lang, label));
	buf_printf(b, "</dt><dd id=\"%s\">", id);
	buf_esc(b, value && *value ? value : "—");
	buf_puts(b, "</dd>");
}

struct rows {
	struct req *r;
	struct buf *b;
	int n;
};

static int list_row(void *ctx, const struct dossier_row *d)
{
	struct rows *x = ctx;
	struct buf *b = x->b;
	const char *flag = flag_of(d);
	const struct catalog_proc *p = catalog_find(dossier_catalog(NULL), d->procedure);
	x->n++;
	buf_printf(b, "<tr class=\"%s\" data-flag=\"%s\"><td><a href=\"/dossiers/%lld\">", flag, flag,
		   (long long)d->id);
	if (d->code[0])
		buf_esc(b, d->code);
	else
		buf_printf(b, "#%lld", (long long)d->id);
	buf_puts(b, "</a></td><td>");
	buf_esc(b, d->procedure);
	buf_puts(b, " ");
	buf_esc(b, p ? p->name : "");
	buf_puts(b, "</td><td>");
	buf_esc(b, d->applicant_name);
	buf_puts(b, "</td><td>");
	buf_esc(b,
		T(x->r->lang, strcmp(d->state, "open") == 0 ? S_DS_OPEN_STATE : status_str(d->city_status)));
	buf_puts(b, "</td><td>");
	buf_esc(b, d->due_day[0] ? d->due_day : "—");
	if (flag[0]) {
		buf_puts(b, " <strong>");
		buf_esc(b, T(x->r->lang, strcmp(flag, "overdue") == 0 ? S_DS_OVERDUE : S_DS_NEAR_DUE));
		buf_puts(b, "</strong>");
	}
	buf_puts(b, "</td></tr>");
	return 0;
}

static void open_form(struct req *r, struct buf *b, const struct catalog *cat)
{
	const char *doc = web_arg(r, "doc");
	buf_puts(b, "<h2 id=\"ds-open\">");
	buf_esc(b, T(r->lang, S_DS_OPEN));
	buf_puts(b, "</h2><form method=\"post\" action=\"/dossiers\">");
	web_csrf_input(r, b);
	buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"open\"><p><label for=\"proc\">");
	buf_esc(b, T(r->lang, S_DS_PROCEDURE));
	buf_puts(b, "</label> <select id=\"proc\" name=\"procedure\">");
	for (int i = 0; i < cat->n; i++) {
		buf_puts(b, "<option value=\"");
		buf_esc(b, cat->procs[i].code);
		buf_puts(b, "\">");
		buf_esc(b, cat->procs[i].code);
		buf_puts(b, " — ");
		buf_esc(b, cat->procs[i].name);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select></p><p><label for=\"doc\">");
	buf_esc(b, T(r->lang, S_DS_FROM_CARD));
	buf_puts(b, "</label> <input id=\"doc\" name=\"doc\" size=\"34\" maxlength=\"32\" value=\"");
	buf_esc(b, doc && strlen(doc) <= 32 ? doc : "");
	buf_puts(b, "\"></p><p><label for=\"name\">");
	buf_esc(b, T(r->lang, S_DS_TYPED_NAME));
	buf_puts(b, "</label> <input id=\"name\" name=\"name\" maxlength=\"120\"> <label for=\"idn\">");
	buf_esc(b, T(r->lang, S_DS_TYPED_ID));
	buf_puts(
	    b,
	    "</label> <input id=\"idn\" name=\"id_number\" maxlength=\"12\" inputmode=\"numeric\"></p><p>"
	    "<button>");
	buf_esc(b, T(r->lang, S_DS_OPEN));
	buf_puts(b, "</button></p></form>");
}

enum MHD_Result page_dossiers(struct req *r)
{
	const char *why = "";
	const struct catalog *cat = dossier_catalog(&why);
	struct db *db = web_db(r);
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (strcmp(r->path, "/dossiers") != 0)
		return page_dossier(r);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_DOSSIERS, "/dossiers");
	if (!cat) {
		web_notice(&b, "err", T(r->lang, S_DS_OFF));
		web_page_end(r, &b);
		return web_send(r, MHD_HTTP_OK, HTML, &b);
	}
	open_form(r, &b, cat);
	buf_puts(&b, "<h2 id=\"ds-list\">");
	buf_esc(&b, T(r->lang, S_NAV_DOSSIERS));
	buf_puts(&b, "</h2><table id=\"dossiers\"><thead><tr>");
	web_th(&b, r, S_DS_CODE);
	web_th(&b, r, S_DS_PROCEDURE);
	web_th(&b, r, S_DS_APPLICANT);
	web_th(&b, r, S_DS_STATUS);
	web_th(&b, r, S_DS_DUE);
	buf_puts(&b, "</tr></thead><tbody>");
	struct rows x = { .r = r, .b = &b };
	if (dossiers_list(db, NULL, LIST_SHOWN, list_row, &x) < 0) {
		buf_free(&b);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (x.n == 0) {
		buf_puts(&b, "<tr><td colspan=\"5\">");
		buf_esc(&b, T(r->lang, S_NONE));
		buf_puts(&b, "</td></tr>");
	}
	buf_puts(&b, "</tbody></table>");
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

struct attached {
	struct buf *b;
	const char *item;
	int n;
};

static int item_docs(void *ctx, const struct dossier_item_row *it)
{
	struct attached *a = ctx;
	if (strcmp(it->item, a->item) != 0)
		return 0;
	buf_printf(a->b, "%s<a href=\"/documents/%s\">%.8s</a>", a->n++ ? ", " : "", it->doc_id, it->doc_id);
	return 0;
}

/* The procedure's items with what is attached to each and the missing ones marked. */
static void items_table(struct req *r, struct buf *b, struct db *db, const struct catalog_proc *p,
			const struct dossier_row *d)
{
	const char *missing[DOSSIER_MAX_ITEMS];
	int nm = dossier_missing(db, p, d, missing, DOSSIER_MAX_ITEMS);
	buf_puts(b, "<table id=\"items\"><thead><tr>");
	web_th(b, r, S_DS_ITEM);
	web_th(b, r, S_DS_ATTACHED);
	buf_puts(b, "</tr></thead><tbody>");
	for (int i = 0; i < p->ndocs; i++) {
		const struct catalog_doc *cd = &p->docs[i];
		int miss = 0;
		for (int k = 0; k < nm && k < DOSSIER_MAX_ITEMS; k++)
			miss |= strcmp(missing[k], cd->key) == 0;
		buf_printf(b, "<tr class=\"%s\" data-item=\"%s\"><td>", miss ? "missing" : "", cd->key);
		buf_esc(b, cd->name);
		if (cd->optional) {
			buf_puts(b, " (");
			buf_esc(b, T(r->lang, S_DS_OPTIONAL));
			buf_puts(b, ")");
		}
		buf_puts(b, "</td><td>");
		struct attached a = { .b = b, .item = cd->key };
		dossiers_items(db, d->id, item_docs, &a);
		if (!a.n && miss) {
			buf_puts(b, "<strong>");
			buf_esc(b, T(r->lang, S_DS_MISSING));
			buf_puts(b, "</strong>");
		} else if (!a.n) {
			buf_puts(b, "—");
		}
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</tbody></table>");
	buf_puts(b, "<p id=\"missing-count\">");
	buf_t(b, r->lang, S_DS_MISSING_N, nm < 0 ? 0 : nm, 0, NULL);
	buf_puts(b, "</p>");
	if (strcmp(d->state, "open") != 0)
		return;
	buf_printf(b, "<form method=\"post\" action=\"/dossiers\">");
	web_csrf_input(r, b);
	buf_printf(b,
		   "<input type=\"hidden\" name=\"verb\" value=\"attach\"><input type=\"hidden\" name=\"id\" "
		   "value=\"%lld\"><p><label for=\"item\">",
		   (long long)d->id);
	buf_esc(b, T(r->lang, S_DS_ITEM));
	buf_puts(b, "</label> <select id=\"item\" name=\"item\">");
	for (int i = 0; i < p->ndocs; i++) {
		buf_printf(b, "<option value=\"%s\">", p->docs[i].key);
		buf_esc(b, p->docs[i].name);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select> <label for=\"adoc\">");
	buf_esc(b, T(r->lang, S_DS_SCAN_ID));
	buf_puts(b, "</label> <input id=\"adoc\" name=\"doc\" size=\"34\" maxlength=\"32\"> <button>");
	buf_esc(b, T(r->lang, S_DS_ATTACH));
	buf_puts(b, "</button></p></form><p><a href=\"/documents\">");
	buf_esc(b, T(r->lang, S_DS_UPLOAD_HINT));
	buf_puts(b, "</a></p><form method=\"post\" action=\"/dossiers\">");
	web_csrf_input(r, b);
	buf_printf(b,
		   "<input type=\"hidden\" name=\"verb\" value=\"accept\"><input type=\"hidden\" name=\"id\" "
		   "value=\"%lld\"><p><label for=\"note\">",
		   (long long)d->id);
	buf_esc(b, T(r->lang, S_DS_NOTE));
	buf_puts(b,
		 "</label><br><textarea id=\"note\" name=\"note\" rows=\"2\" cols=\"60\" maxlength=\"500\">"
		 "</textarea></p><p><button>");
	buf_esc(b, T(r->lang, S_DS_ACCEPT));
	buf_puts(b, "</button></p></form>");
}

enum MHD_Result page_dossier(struct req *r)
{
	struct db *db = web_db(r);
	const struct catalog *cat = dossier_catalog(NULL);
	struct dossier_row d;
	struct buf b;
	char *end;
	long long id = strtoll(r->path + strlen("/dossiers/"), &end, 10);
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (strncmp(r->path, "/dossiers/", 10) == 0 && id > 0 && strcmp(end, "/receipt") == 0)
		return web_receipt_page(r, id);
	if (strncmp(r->path, "/dossiers/", 10) != 0 || *end || id <= 0 || !cat ||
	    dossiers_get(db, id, &d) < 0)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	const struct catalog_proc *p = catalog_find(cat, d.procedure);
	const char *flag = flag_of(&d);
	char idt[16];
	snprintf(idt, sizeof(idt), "…%s", d.applicant_id_tail);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_DS_TITLE, "/dossiers");
	const char *msg = web_arg(r, "msg");
	if (msg && strcmp(msg, "accepted") == 0) {
		const char *printed = web_arg(r, "printed");
		web_notice(&b, "ok", T(r->lang, S_DS_ACCEPTED));
		web_notice(
		    &b, printed && strcmp(printed, "1") == 0 ? "ok" : "err",
		    T(r->lang, printed && strcmp(printed, "1") == 0 ? S_RC_PRINTED : S_RC_NOT_PRINTED));
	}
	if (flag[0])
		web_notice(&b, "err",
			   T(r->lang, strcmp(flag, "overdue") == 0 ? S_DS_OVERDUE : S_DS_NEAR_DUE));
	buf_printf(&b, "<dl id=\"dossier\" data-state=\"%s\">", d.state);
	dl_row(&b, r, S_DS_CODE, "ds-code", d.code);
	dl_row(&b, r, S_DS_PROCEDURE, "ds-proc", p ? p->name : d.procedure);
	dl_row(&b, r, S_DS_APPLICANT, "ds-applicant", d.applicant_name);
	dl_row(&b, r, S_DS_ID_TAIL, "ds-idtail", idt);
	dl_row(&b, r, S_DS_DUE, "ds-due", d.due_day);
	dl_row(&b, r, S_DS_STATUS, "ds-status",
	       T(r->lang, strcmp(d.state, "open") == 0 ? S_DS_OPEN_STATE : status_str(d.city_status)));
	dl_row(&b, r, S_DS_STATUS_TEXT, "ds-status-text", d.city_status_text);
	dl_row(&b, r, S_DS_NOTE, "ds-note", d.note);
	buf_puts(&b, "</dl>");
	if (strcmp(d.state, "accepted") == 0 && d.code[0]) {
		buf_printf(&b, "<p><a id=\"receipt-link\" href=\"/dossiers/%lld/receipt\">", id);
		buf_esc(&b, T(r->lang, S_RC_LINK));
		buf_puts(&b, "</a></p>");
	}
	if (p)
		items_table(r, &b, db, p, &d);
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_OK, HTML, &b);
}

static enum MHD_Result refused(struct req *r, const char *why, long long id)
{
	struct buf b, m;
	buf_init(&b, WEB_PAGE_MAX);
	buf_init(&m, 1024);
	buf_esc(&m, why);
	web_page_begin(r, &b, S_DS_TITLE, "/dossiers");
	web_notice(&b, "err", m.p ? m.p : "");
	buf_free(&m);
	if (id > 0)
		buf_printf(&b, "<p><a href=\"/dossiers/%lld\">", id);
	else
		buf_puts(&b, "<p><a href=\"/dossiers\">");
	buf_esc(&b, T(r->lang, S_NAV_DOSSIERS));
	buf_puts(&b, "</a></p>");
	web_page_end(r, &b);
	return web_send(r, MHD_HTTP_CONFLICT, HTML, &b);
}

enum MHD_Result post_dossiers(struct req *r)
{
	struct db *db = web_db(r);
	const char *cwhy = "";
	const struct catalog *cat = dossier_catalog(&cwhy);
	char verb[8], ids[24], proc[CATALOG_CODE_MAX], doc[40], name[DOSSIER_NAME_MAX], idn[16],
	    item[CATALOG_CODE_MAX], note[DOSSIER_NOTE_MAX], why[DOSSIER_WHY_MAX] = "", loc[64];
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "verb", verb, sizeof(verb)) < 0 || web_field(r, "id", ids, sizeof(ids)) < 0 ||
	    web_field(r, "procedure", proc, sizeof(proc)) < 0 || web_field(r, "doc", doc, sizeof(doc)) < 0 ||
	    web_field(r, "name", name, sizeof(name)) < 0 || web_field(r, "id_number", idn, sizeof(idn)) < 0 ||
	    web_field(r, "item", item, sizeof(item)) < 0 || web_field(r, "note", note, sizeof(note)) < 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	if (!cat)
		return refused(r, cwhy, 0);
	char *end;
	long long id = strtoll(ids, &end, 10);
	int rc, printed = 0;
	if (strcmp(verb, "open") == 0) {
		struct dossier_applicant a = { .doc_id = doc[0] ? doc : NULL,
					       .name = name[0] ? name : NULL,
					       .id_number = idn[0] ? idn : NULL };
		int64_t nid = 0;
		rc = dossier_open(db, store_blobs(r->w->store), cat, r->actor, proc, &a, "web", &nid, why);
		id = nid;
	} else if ((strcmp(verb, "attach") == 0 || strcmp(verb, "accept") == 0) && ids[0] && !*end &&
		   id > 0) {
		if (verb[1] == 't') {
			rc = dossier_attach(db, cat, r->actor, id, item, doc, why);
		} else {
			const struct calendar *cal = dossier_calendar(&cwhy);
			struct config *cfg = malloc(sizeof(*cfg));
			struct dossier_row d;
			if (!cfg)
				return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
			daemon_config_snapshot(cfg);
			rc = cal ? dossier_accept(db, cat, cal, cfg, r->actor, id, note, (int64_t)time(NULL),
						  &d, why)
				 : -ENOENT;
			if (!cal)
				snprintf(why, sizeof(why), "%s", cwhy);
			if (rc == 0) {
				char pwhy[256];
				printed = dossier_print_receipt(cfg, catalog_find(cat, d.procedure), &d, pwhy,
								sizeof(pwhy)) >= 0;
				if (!printed)
					log_info("web: receipt of dossier %s not printed: %s", d.code, pwhy);
			}
			free(cfg);
		}
	} else {
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	}
	if (rc < 0)
		return refused(r, why[0] ? why : "refused", id);
	snprintf(loc, sizeof(loc), "/dossiers/%lld%s", id,
		 strcmp(verb, "accept") != 0 ? ""
		     : printed               ? "?msg=accepted&printed=1"
					     : "?msg=accepted&printed=0");
	return web_redirect(r, loc);
}

/* The dashboard's tile: accepted dossiers and the share of them that are late. */
void web_dossier_tile(struct req *r, struct buf *b)
{
	struct db *db = web_db(r);
	const struct calendar *cal = dossier_calendar(NULL);
	int64_t all = 0, late = 0;
	char day[11];
	if (!db || !cal)
		return;
	calendar_format(today(cal), day);
	if (dossiers_late_counts(db, day, &all, &late) < 0)
		return;
	buf_printf(b, "<div class=\"tile%s\"><h2><a href=\"/dossiers\">", late ? " bad" : "");
	buf_esc(b, T(r->lang, S_NAV_DOSSIERS));
	buf_printf(b, "</a></h2><p class=\"big\" id=\"dossiers-late\">%lld%%</p><p>",
		   all ? (long long)(late * 100 / all) : 0LL);
	buf_t(b, r->lang, S_DS_LATE_SHARE, (long long)late, (long long)all, NULL);
	buf_puts(b, "</p></div>");
}

/* Public: what the holder of a dossier code may see (no name, no number, no documents). */
/* A code as a citizen types it or a phone reads it: spaces and tabs dropped, letters upper
 * case ("000.00.18.h26 - 261205-0001" is "000.00.18.H26-261205-0001").  NULL when too long. */
static const char *normal_code(const char *in, char out[DOSSIER_CODE_MAX])
{
	size_t n = 0;
	if (!in)
		return NULL;
	for (; *in; in++) {
		if (*in == ' ' || *in == '\t' || *in == '\r' || *in == '\n')
			continue;
		if (n + 1 >= DOSSIER_CODE_MAX)
			return NULL;
		out[n++] = (*in >= 'a' && *in <= 'z') ? (char)(*in - 'a' + 'A') : *in;
	}
	out[n] = '\0';
	return out;
}

/* "YYYY-MM-DD" as "dd/mm/yyyy" into out[16] ("" stays ""). */
static const char *vn_day(const char *iso, char out[16])
{
	unsigned y, m, d;
	if (iso && sscanf(iso, "%4u-%2u-%2u", &y, &m, &d) == 3)
		snprintf(out, 16, "%02u/%02u/%04u", d % 100, m % 100, y % 10000);
	else
		snprintf(out, 16, "%.15s", iso ? iso : "");
	return out;
}

enum MHD_Result page_track(struct req *r)
{
	char norm[DOSSIER_CODE_MAX];
	const char *typed = web_arg(r, "code");
	const char *code = normal_code(typed, norm);
	struct db *db = web_db(r);
	struct dossier_row d;
	struct buf b;
	unsigned status = MHD_HTTP_OK;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, 64 * 1024);
	web_page_begin(r, &b, S_TRACK_TITLE, "");
	buf_puts(&b, "<form method=\"get\" action=\"/track\"><p><label for=\"code\">");
	buf_esc(&b, T(r->lang, S_DS_CODE));
	buf_puts(&b, "</label> <input id=\"code\" name=\"code\" maxlength=\"63\" value=\"");
	buf_esc(&b, code ? code : "");
	buf_puts(&b, "\"> <button>");
	buf_esc(&b, T(r->lang, S_TRACK_LOOK));
	buf_puts(&b, "</button></p></form>");
	if (typed && *typed) {
		if (!code || !*code || dossiers_get_by_code(db, code, &d) < 0) {
			status = MHD_HTTP_NOT_FOUND;
			web_notice(&b, "err", T(r->lang, S_TRACK_UNKNOWN));
		} else {
			const struct catalog_proc *p = catalog_find(dossier_catalog(NULL), d.procedure);
			char recv[11] = "";
			if (d.received_s > 0) {
				const struct calendar *cal = dossier_calendar(NULL);
				if (cal)
					calendar_format(calendar_local_day(cal, d.received_s, NULL), recv);
			}
			char recv_vn[16], due_vn[16];
			struct buf upd;
			buf_init(&upd, 64);
			if (d.city_updated_at[0])
				buf_when_iso(&upd, d.city_updated_at);
			buf_printf(&b, "<dl id=\"track\" data-status=\"%s\">",
				   d.city_status[0] ? d.city_status : "waiting");
			dl_row(&b, r, S_DS_CODE, "t-code", d.code);
			dl_row(&b, r, S_DS_PROCEDURE, "t-proc", p ? p->name : d.procedure);
			dl_row(&b, r, S_DS_RECEIVED, "t-received", vn_day(recv, recv_vn));
			dl_row(&b, r, S_DS_DUE, "t-due", vn_day(d.due_day, due_vn));
			dl_row(&b, r, S_DS_STATUS, "t-status", T(r->lang, status_str(d.city_status)));
			dl_row(&b, r, S_DS_STATUS_TEXT, "t-status-text", d.city_status_text);
			dl_row(&b, r, S_DS_UPDATED, "t-updated", upd.p ? upd.p : "");
			buf_free(&upd);
			buf_puts(&b, "</dl>");
		}
	}
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}
