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
#include "gateway/recog_view.h"
#include "store/docs.h"
#include "store/recog.h"
#include "store/store.h"
#include "store/views.h"
#include "web/internal.h"
#include "web/labels.h"

#define HTML "text/html; charset=utf-8"
#define LIST_SHOWN 100
#define CARDS_SHOWN 8 /* recognised ID cards offered when opening */
#define CARDS_SCAN 60 /* newest documents looked at for them */
#define PICKS_SHOWN 15 /* papers offered for attaching */

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

static const char *normal_code(const char *in, char out[DOSSIER_CODE_MAX]);

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
	if (x->n++ >= LIST_SHOWN)
		return 0; /* the extra row only tells that another page exists */
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
	buf_when_iso(b, d->opened_at);
	buf_puts(b, "</td><td>");
	buf_when_iso(b, d->due_day);
	if (flag[0]) {
		buf_puts(b, " <strong>");
		buf_esc(b, T(x->r->lang, strcmp(flag, "overdue") == 0 ? S_DS_OVERDUE : S_DS_NEAR_DUE));
		buf_puts(b, "</strong>");
	}
	buf_puts(b, "</td></tr>");
	return 0;
}

/* The list's search: a name (any accents, any part), a 12-digit number, a dossier code;
 * state; opened from/to (local days); order; page. */
struct search {
	char q[128], state[16], from[16], to[16], sort[8];
	int page;
	int any; /* some filter is set */
};

static void arg_copy(struct req *r, const char *name, char *out, size_t size)
{
	const char *v = web_arg(r, name);
	snprintf(out, size, "%s", v && strlen(v) < size ? v : "");
}

static void search_read(struct req *r, struct search *s)
{
	char page[12];
	arg_copy(r, "q", s->q, sizeof(s->q));
	arg_copy(r, "state", s->state, sizeof(s->state));
	arg_copy(r, "from", s->from, sizeof(s->from));
	arg_copy(r, "to", s->to, sizeof(s->to));
	arg_copy(r, "sort", s->sort, sizeof(s->sort));
	arg_copy(r, "page", page, sizeof(page));
	s->page = (int)strtol(page, NULL, 10);
	if (s->page < 0 || s->page > 10000)
		s->page = 0;
	s->any = s->q[0] || s->state[0] || s->from[0] || s->to[0];
}

/* A local day typed as dd/mm/yyyy or given by a date input (yyyy-mm-dd) as the UTC time of
 * its first second ("YYYY-MM-DDTHH:MM:SS"), plus days; -EINVAL when it is no day. */
static int day_start_utc(const char *s, int plus_days, char out[24])
{
	const struct calendar *cal = dossier_calendar(NULL);
	unsigned a, b, c;
	char s1, s2;
	if (!cal || sscanf(s, "%4u%c%2u%c%4u", &a, &s1, &b, &s2, &c) != 5 || s1 != s2)
		return -EINVAL;
	unsigned y = a > 31 ? a : c, m = b, d = a > 31 ? c : a;
	if (y < 2000 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
		return -EINVAL;
	int64_t t = ((int64_t)calendar_day((int)y, (int)m, (int)d) + plus_days) * 86400 -
	    (int64_t)cal->utc_offset_min * 60;
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		return -EINVAL;
	strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	return 0;
}

static void select_opt(struct buf *b, struct req *r, const char *value, const char *cur, enum str label)
{
	buf_printf(b, "<option value=\"%s\"%s>", value, strcmp(value, cur) == 0 ? " selected" : "");
	buf_esc(b, T(r->lang, label));
	buf_puts(b, "</option>");
}

static void search_form(struct req *r, struct buf *b, const struct search *s)
{
	buf_puts(b,
		 "<form method=\"get\" action=\"/dossiers\" role=\"search\" class=\"filters\"><p><label "
		 "for=\"dq\">");
	buf_esc(b, T(r->lang, S_DS_SEARCH));
	buf_puts(
	    b, "</label> <input type=\"search\" id=\"dq\" name=\"q\" maxlength=\"100\" size=\"30\" value=\"");
	buf_esc(b, s->q);
	buf_puts(b, "\"> <label for=\"dstate\">");
	buf_esc(b, T(r->lang, S_DS_STATUS));
	buf_puts(b, "</label> <select id=\"dstate\" name=\"state\">");
	select_opt(b, r, "", s->state, S_DS_ALL);
	select_opt(b, r, "open", s->state, S_DS_OPEN_STATE);
	select_opt(b, r, "accepted", s->state, S_DS_ACCEPTED_STATE);
	buf_puts(b, "</select></p><p><label for=\"dfrom\">");
	buf_esc(b, T(r->lang, S_DS_FROM));
	buf_puts(b,
		 "</label> <input id=\"dfrom\" name=\"from\" size=\"10\" maxlength=\"10\" "
		 "placeholder=\"dd/mm/yyyy\" value=\"");
	buf_esc(b, s->from);
	buf_puts(b, "\"> <label for=\"dto\">");
	buf_esc(b, T(r->lang, S_DS_TO));
	buf_puts(b,
		 "</label> <input id=\"dto\" name=\"to\" size=\"10\" maxlength=\"10\" "
		 "placeholder=\"dd/mm/yyyy\" value=\"");
	buf_esc(b, s->to);
	buf_puts(b, "\"> <label for=\"dsort\">");
	buf_esc(b, T(r->lang, S_DS_SORT));
	buf_puts(b, "</label> <select id=\"dsort\" name=\"sort\">");
	select_opt(b, r, "", s->sort, S_DS_SORT_NEW);
	select_opt(b, r, "old", s->sort, S_DS_SORT_OLD);
	select_opt(b, r, "due", s->sort, S_DS_SORT_DUE);
	buf_puts(b, "</select> <button>");
	buf_esc(b, T(r->lang, S_SEARCH));
	buf_puts(b, "</button></p></form>");
}

struct ids {
	struct db *db;
	struct rows *x;
};

static int id_row(void *ctx, int64_t id)
{
	struct ids *i = ctx;
	struct dossier_row d;
	if (dossiers_get(i->db, id, &d) < 0)
		return 0;
	return list_row(i->x, &d);
}

/* Runs the search: -EINVAL (nothing listed, a notice shown) for a date that is no day. */
static int search_run(struct req *r, struct db *db, struct search *s, struct rows *x)
{
	struct views_dossier_query q = { .limit = LIST_SHOWN + 1, .offset = s->page * LIST_SHOWN };
	char words[400], hash[65], code[DOSSIER_CODE_MAX], from[24], to[24], digits[16];
	size_t nd = 0, nw = 0, letters = 0;
	int tokens = 0;
	/* Digits only (spaces and dots as typed from a card): a personal number. */
	for (const char *p = s->q; *p; p++) {
		if (*p >= '0' && *p <= '9' && nd + 1 < sizeof(digits))
			digits[nd++] = *p;
		else if (*p != ' ' && *p != '.')
			letters++;
	}
	digits[nd] = '\0';
	if (s->q[0] && !letters && nd == 12) {
		dossier_id_hash(store_blobs(r->w->store), digits, hash);
		q.id_hash = hash;
	} else if (s->q[0] && strchr(s->q, '-') && normal_code(s->q, code)) {
		q.code = code;
	} else if (s->q[0]) {
		/* Each word as a quoted prefix ("nguy" finds Nguyễn); đ is indexed as d. */
		const unsigned char *p = (const unsigned char *)s->q;
		while (*p && tokens < 8) {
			while (*p && *p < 0x80 &&
			       !((*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
				p++;
			if (!*p)
				break;
			if (nw + 4 >= sizeof(words))
				break;
			words[nw++] = tokens++ ? ' ' : '"';
			if (tokens > 1)
				words[nw++] = '"';
			while (*p &&
			       (*p >= 0x80 || (*p >= '0' && *p <= '9') ||
				((*p | 32) >= 'a' && (*p | 32) <= 'z')) &&
			       nw + 4 < sizeof(words)) {
				if ((p[0] == 0xc4 && p[1] == 0x91) ||
				    (p[0] == 0xc4 && p[1] == 0x90)) { /* đ Đ */
					words[nw++] = 'd';
					p += 2;
				} else {
					words[nw++] = (char)*p++;
				}
			}
			words[nw++] = '"';
			words[nw++] = '*';
		}
		words[nw] = '\0';
		if (tokens)
			q.words = words;
	}
	if (strcmp(s->state, "open") == 0 || strcmp(s->state, "accepted") == 0)
		q.state = s->state;
	q.sort = strcmp(s->sort, "old") == 0 ? VIEWS_OLDEST
	    : strcmp(s->sort, "due") == 0    ? VIEWS_DUE
					     : VIEWS_NEWEST;
	if ((s->from[0] && day_start_utc(s->from, 0, from) < 0) ||
	    (s->to[0] && day_start_utc(s->to, 1, to) < 0)) {
		buf_puts(x->b, "<tr><td colspan=\"6\" class=\"err\" role=\"alert\">");
		buf_esc(x->b, T(r->lang, S_DS_BAD_DAY));
		buf_puts(x->b, "</td></tr>");
		x->n = -1;
		return -EINVAL;
	}
	q.from = s->from[0] ? from : NULL;
	q.to = s->to[0] ? to : NULL;
	struct ids i = { .db = db, .x = x };
	return views_dossiers_search(db, &q, id_row, &i);
}

static void search_link(struct buf *b, const struct search *s, int page)
{
	buf_puts(b, "/dossiers?q=");
	buf_url(b, s->q);
	buf_puts(b, "&amp;state=");
	buf_url(b, s->state);
	buf_puts(b, "&amp;from=");
	buf_url(b, s->from);
	buf_puts(b, "&amp;to=");
	buf_url(b, s->to);
	buf_puts(b, "&amp;sort=");
	buf_url(b, s->sort);
	buf_printf(b, "&amp;page=%d#ds-list", page);
}

static void search_pager(struct req *r, struct buf *b, const struct search *s, int more)
{
	if (!s->page && !more)
		return;
	buf_puts(b, "<p class=\"pager\">");
	if (s->page > 0) {
		buf_puts(b, "<a rel=\"prev\" href=\"");
		search_link(b, s, s->page - 1);
		buf_puts(b, "\">");
		buf_esc(b, T(r->lang, S_DS_PREV));
		buf_puts(b, "</a> ");
	}
	buf_t(b, r->lang, S_DS_PAGE_N, s->page + 1, 0, NULL);
	if (more) {
		buf_puts(b, " <a rel=\"next\" href=\"");
		search_link(b, s, s->page + 1);
		buf_puts(b, "\">");
		buf_esc(b, T(r->lang, S_DS_NEXT));
		buf_puts(b, "</a>");
	}
	buf_puts(b, "</p>");
}

/* What a refused form is shown again with: which form, the field to mark, the message
 * (HTML) and the values typed (the ticked papers are read back from the request itself). */
struct ds_form {
	const char *verb; /* "open", "attach", "accept"; NULL when nothing was refused */
	const char *field; /* the input marked invalid, or "" */
	const char *msg;
	const char *proc, *doc, *doc_code, *name, *idn, *item, *note;
};

static const struct ds_form no_form = { 0 };

static int refused_here(const struct ds_form *f, const char *verb)
{
	return f->verb && strcmp(f->verb, verb) == 0;
}

/* An input's value and its invalid mark when it is the refused field. */
static void input_state(struct buf *b, const struct ds_form *f, const char *verb, const char *field,
			const char *value)
{
	if (refused_here(f, verb) && f->field && strcmp(f->field, field) == 0)
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(b, " value=\"");
	buf_esc(b, value ? value : "");
	buf_puts(b, "\"");
}

static void form_error(struct buf *b, const struct ds_form *f, const char *verb)
{
	if (refused_here(f, verb))
		buf_printf(b, "<p class=\"err\" id=\"form-error\" role=\"alert\">%s</p>",
			   f->msg ? f->msg : "");
}

/* The applicant's name as the ID card document gives it now (staff's correction first), or
 * "" when it is not a recognised card. */
static int card_name(struct req *r, const char *doc_id, char *out, size_t size)
{
	json_t *v = NULL;
	out[0] = '\0';
	if (recog_view(r->w->store, web_db(r), doc_id, &v) < 0)
		return 0;
	json_t *cur = json_object_get(v, "current");
	const char *type = json_string_value(json_object_get(cur, "type"));
	const char *name = json_string_value(json_object_get(json_object_get(cur, "fields"), "full_name"));
	int card = type && (strcmp(type, "id_card_front") == 0 || strcmp(type, "id_card_back") == 0);
	if (card && name)
		snprintf(out, size, "%s", name);
	json_decref(v);
	return card;
}

struct cards {
	struct req *r;
	struct buf *b;
	const char *chosen;
	int n;
};

static int card_row(void *ctx, const struct doc_meta *m)
{
	struct cards *c = ctx;
	struct recog_row rr;
	char name[DOSSIER_NAME_MAX];
	if (c->n >= CARDS_SHOWN)
		return 0;
	if (recog_get(web_db(c->r), m->id, &rr) < 0 || strcmp(rr.state, "done") != 0 ||
	    !card_name(c->r, m->id, name, sizeof(name)))
		return 0;
	c->n++;
	buf_printf(
	    c->b,
	    "<li><input type=\"radio\" name=\"doc\" id=\"card-%s\" value=\"%s\"%s> <label for=\"card-%s\">",
	    m->id, m->id, c->chosen && strcmp(c->chosen, m->id) == 0 ? " checked" : "", m->id);
	buf_puts(c->b, "<strong>");
	buf_esc(c->b, name[0] ? name : "—");
	buf_puts(c->b, "</strong> — ");
	web_doc_line(c->r, c->b, m, rr.type);
	buf_puts(c->b, "</label></li>");
	return 0;
}

static void open_form(struct req *r, struct buf *b, const struct catalog *cat, const struct ds_form *f)
{
	const char *doc = refused_here(f, "open") ? f->doc : web_arg(r, "doc");
	const char *proc = refused_here(f, "open") ? f->proc : web_arg(r, "procedure");
	buf_puts(b, "<h2 id=\"ds-open\">");
	buf_esc(b, T(r->lang, S_DS_OPEN));
	buf_puts(b, "</h2>");
	form_error(b, f, "open");
	buf_puts(b, "<form method=\"post\" action=\"/dossiers\">");
	web_csrf_input(r, b);
	buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"open\"><p><label for=\"proc\">");
	buf_esc(b, T(r->lang, S_DS_PROCEDURE));
	buf_puts(b, "</label> <select id=\"proc\" name=\"procedure\"");
	if (refused_here(f, "open") && strcmp(f->field, "procedure") == 0)
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(b, ">");
	for (int i = 0; i < cat->n; i++) {
		buf_puts(b, "<option value=\"");
		buf_esc(b, cat->procs[i].code);
		buf_printf(b, "\"%s>", proc && strcmp(proc, cat->procs[i].code) == 0 ? " selected" : "");
		buf_esc(b, cat->procs[i].name);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select></p><fieldset><legend>");
	buf_esc(b, T(r->lang, S_DS_FROM_CARD));
	buf_puts(b, "</legend><ul class=\"plain\" id=\"cards\">");
	struct cards c = { .r = r, .b = b, .chosen = doc };
	buf_printf(
	    b,
	    "<li><input type=\"radio\" name=\"doc\" id=\"card-none\" value=\"\"%s> <label for=\"card-none\">",
	    doc && doc[0] ? "" : " checked");
	buf_esc(b, T(r->lang, S_DS_TYPED));
	buf_puts(b, "</label></li>");
	docs_list(web_db(r), 0, CARDS_SCAN, card_row, &c);
	buf_puts(b, "</ul><p><label for=\"doc-code\">");
	buf_esc(b, T(r->lang, S_PK_OR_CODE));
	buf_puts(b, "</label> <input id=\"doc-code\" name=\"doc_code\" size=\"34\" maxlength=\"40\"");
	input_state(b, f, "open", "doc_code", refused_here(f, "open") ? f->doc_code : "");
	buf_puts(b, "></p></fieldset><p><label for=\"name\">");
	buf_esc(b, T(r->lang, S_DS_TYPED_NAME));
	buf_puts(b, "</label> <input id=\"name\" name=\"name\" maxlength=\"120\"");
	input_state(b, f, "open", "name", refused_here(f, "open") ? f->name : "");
	buf_puts(b, "> <label for=\"idn\">");
	buf_esc(b, T(r->lang, S_DS_TYPED_ID));
	buf_puts(b, "</label> <input id=\"idn\" name=\"id_number\" maxlength=\"14\" inputmode=\"numeric\"");
	input_state(b, f, "open", "id_number", refused_here(f, "open") ? f->idn : "");
	buf_puts(b, "></p><p><button>");
	buf_esc(b, T(r->lang, S_DS_OPEN));
	buf_puts(b, "</button></p></form>");
}

static enum MHD_Result list_page(struct req *r, unsigned status, const struct ds_form *f)
{
	const char *why = "";
	const struct catalog *cat = dossier_catalog(&why);
	struct db *db = web_db(r);
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_DOSSIERS, "/dossiers");
	if (!cat) {
		web_notice(&b, "err", T(r->lang, S_DS_OFF));
		web_page_end(r, &b);
		return web_send(r, MHD_HTTP_OK, HTML, &b);
	}
	open_form(r, &b, cat, f);
	buf_puts(&b, "<h2 id=\"ds-list\">");
	buf_esc(&b, T(r->lang, S_NAV_DOSSIERS));
	buf_puts(&b, "</h2>");
	struct search sq;
	search_read(r, &sq);
	search_form(r, &b, &sq);
	buf_puts(&b, "<table id=\"dossiers\"><thead><tr>");
	web_th(&b, r, S_DS_CODE);
	web_th(&b, r, S_DS_PROCEDURE);
	web_th(&b, r, S_DS_APPLICANT);
	web_th(&b, r, S_DS_STATUS);
	web_th(&b, r, S_DS_OPENED);
	web_th(&b, r, S_DS_DUE);
	buf_puts(&b, "</tr></thead><tbody>");
	struct rows x = { .r = r, .b = &b };
	int rc = search_run(r, db, &sq, &x);
	if (rc < 0 && rc != -EINVAL) {
		buf_free(&b);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	if (x.n == 0) {
		buf_puts(&b, "<tr><td colspan=\"6\">");
		buf_esc(&b, T(r->lang, sq.any ? S_DS_FOUND_NONE : S_NONE));
		buf_puts(&b, "</td></tr>");
	}
	buf_puts(&b, "</tbody></table>");
	search_pager(r, &b, &sq, x.n > LIST_SHOWN);
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_dossiers(struct req *r)
{
	if (strcmp(r->path, "/dossiers") != 0)
		return page_dossier(r);
	return list_page(r, MHD_HTTP_OK, &no_form);
}

struct attached {
	struct req *r;
	struct buf *b;
	const char *item;
	int n;
};

static int item_docs(void *ctx, const struct dossier_item_row *it)
{
	struct attached *a = ctx;
	struct doc_meta m;
	if (strcmp(it->item, a->item) != 0)
		return 0;
	buf_printf(a->b, "%s<a href=\"/documents/%s\">", a->n++ ? "<br>" : "", it->doc_id);
	if (docs_get(web_db(a->r), it->doc_id, &m) == 0)
		web_doc_line(a->r, a->b, &m, it->doc_type);
	else
		buf_printf(a->b, "%.8s", it->doc_id);
	buf_puts(a->b, "</a>");
	return 0;
}

/* The attach form's rows: which item each listed paper goes to. */
struct pickctx {
	struct req *r;
	const struct catalog_proc *p;
	const char *exclude_card; /* the applicant's own ID card document */
};

static int pick_want(void *ctx, const struct doc_meta *m, const char *type)
{
	struct pickctx *x = ctx;
	(void)type;
	if (x->exclude_card && strcmp(x->exclude_card, m->id) == 0)
		return 0;
	return strcmp(m->kind, "certified-copy") != 0 && strcmp(m->kind, "queue-stats") != 0 &&
	    strcmp(m->kind, "statistics") != 0;
}

static void pick_item(void *ctx, struct buf *b, const struct doc_meta *m, const char *type)
{
	struct pickctx *x = ctx;
	char field[48], typed[CATALOG_CODE_MAX] = "";
	int guess = -1;
	snprintf(field, sizeof(field), "item_%s", m->id);
	if (x->r->post && web_field(x->r, field, typed, sizeof(typed)) < 0)
		typed[0] = '\0';
	for (int i = 0; guess < 0 && type[0] && i < x->p->ndocs; i++)
		for (int k = 0; k < x->p->docs[i].ntypes; k++)
			if (strcmp(x->p->docs[i].types[k], type) == 0)
				guess = i;
	buf_printf(b, "<td><select name=\"%s\" aria-label=\"", field);
	buf_esc(b, T(x->r->lang, S_PK_ITEM_FOR));
	buf_puts(b, "\">");
	for (int i = 0; i < x->p->ndocs; i++) {
		int sel = typed[0] ? strcmp(typed, x->p->docs[i].key) == 0 : i == guess;
		buf_printf(b, "<option value=\"%s\"%s>", x->p->docs[i].key, sel ? " selected" : "");
		buf_esc(b, x->p->docs[i].name);
		if (i == guess)
			buf_printf(b, " %s", T(x->r->lang, S_PK_GUESS));
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select></td>");
}

/* The procedure's items with what is attached to each and the missing ones marked. */
static void items_table(struct req *r, struct buf *b, struct db *db, const struct catalog_proc *p,
			const struct dossier_row *d, const struct ds_form *f)
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
		struct attached a = { .r = r, .b = b, .item = cd->key };
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
	/* Attach: tick the papers in the list (each with its item), or type one paper's code. */
	buf_puts(b, "<h2 id=\"ds-attach\">");
	buf_esc(b, T(r->lang, S_DS_ATTACH));
	buf_puts(b, "</h2>");
	form_error(b, f, "attach");
	buf_puts(b, "<form method=\"post\" action=\"/dossiers\">");
	web_csrf_input(r, b);
	buf_printf(b,
		   "<input type=\"hidden\" name=\"verb\" value=\"attach\"><input type=\"hidden\" name=\"id\" "
		   "value=\"%lld\">",
		   (long long)d->id);
	struct pickctx pc = { .r = r, .p = p, .exclude_card = d->applicant_doc[0] ? d->applicant_doc : NULL };
	struct web_pick wp = { .id = "pick",
			       .max = PICKS_SHOWN,
			       .want = pick_want,
			       .extra = pick_item,
			       .extra_head = S_PK_ITEM_FOR,
			       .ctx = &pc };
	web_pick_table(r, b, &wp);
	buf_puts(b, "<p><label for=\"adoc\">");
	buf_esc(b, T(r->lang, S_PK_OR_CODE));
	buf_puts(b, "</label> <input id=\"adoc\" name=\"doc\" size=\"34\" maxlength=\"40\"");
	input_state(b, f, "attach", "doc", refused_here(f, "attach") ? f->doc : "");
	buf_puts(b, "> <label for=\"item\">");
	buf_esc(b, T(r->lang, S_PK_ITEM_FOR));
	buf_puts(b, "</label> <select id=\"item\" name=\"item\"");
	if (refused_here(f, "attach") && strcmp(f->field, "item") == 0)
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(b, ">");
	for (int i = 0; i < p->ndocs; i++) {
		int sel = refused_here(f, "attach") && f->item && strcmp(f->item, p->docs[i].key) == 0;
		buf_printf(b, "<option value=\"%s\"%s>", p->docs[i].key, sel ? " selected" : "");
		buf_esc(b, p->docs[i].name);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select></p><p><button>");
	buf_esc(b, T(r->lang, S_DS_ATTACH));
	buf_puts(b, "</button> <a href=\"/documents\">");
	buf_esc(b, T(r->lang, S_DS_UPLOAD_HINT));
	buf_puts(b, "</a></p></form><h2 id=\"ds-accept\">");
	buf_esc(b, T(r->lang, S_DS_ACCEPT));
	buf_puts(b, "</h2>");
	form_error(b, f, "accept");
	buf_puts(b, "<form method=\"post\" action=\"/dossiers\">");
	web_csrf_input(r, b);
	buf_printf(b,
		   "<input type=\"hidden\" name=\"verb\" value=\"accept\"><input type=\"hidden\" name=\"id\" "
		   "value=\"%lld\"><p><label for=\"note\">",
		   (long long)d->id);
	buf_esc(b, T(r->lang, S_DS_NOTE));
	buf_puts(b,
		 "</label><br><textarea id=\"note\" name=\"note\" rows=\"2\" cols=\"60\" maxlength=\"500\"");
	if (refused_here(f, "accept") && strcmp(f->field, "note") == 0)
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(b, ">");
	buf_esc(b, refused_here(f, "accept") && f->note ? f->note : "");
	buf_puts(b, "</textarea></p><p><button>");
	buf_esc(b, T(r->lang, S_DS_ACCEPT));
	buf_puts(b, "</button></p></form>");
}

static enum MHD_Result dossier_page(struct req *r, long long id, unsigned status, const struct ds_form *f)
{
	struct db *db = web_db(r);
	const struct catalog *cat = dossier_catalog(NULL);
	struct dossier_row d;
	struct buf b;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (id <= 0 || !cat || dossiers_get(db, id, &d) < 0)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	const struct catalog_proc *p = catalog_find(cat, d.procedure);
	const char *flag = flag_of(&d);
	char idt[16];
	snprintf(idt, sizeof(idt), "…%s", d.applicant_id_tail);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_DS_TITLE, "/dossiers");
	const char *msg = f->verb ? NULL : web_arg(r, "msg");
	if (msg && strcmp(msg, "accepted") == 0) {
		const char *printed = web_arg(r, "printed");
		web_notice(&b, "ok", T(r->lang, S_DS_ACCEPTED));
		web_notice(
		    &b, printed && strcmp(printed, "1") == 0 ? "ok" : "err",
		    T(r->lang, printed && strcmp(printed, "1") == 0 ? S_RC_PRINTED : S_RC_NOT_PRINTED));
	} else if (msg && strcmp(msg, "attached") == 0) {
		const char *n = web_arg(r, "n");
		long long k = n ? strtoll(n, NULL, 10) : 0;
		struct buf m;
		buf_init(&m, 256);
		buf_t(&m, r->lang, S_DS_ATTACHED_N, k, 0, NULL);
		web_notice(&b, "ok", m.p ? m.p : "");
		buf_free(&m);
	}
	if (f->verb) {
		struct buf m;
		buf_init(&m, 4096);
		buf_esc(&m, T(r->lang, S_FORM_REFUSED));
		buf_printf(&m, " <a href=\"#form-error\">%s</a>", f->msg ? f->msg : "");
		web_notice(&b, "err", m.p ? m.p : "");
		buf_free(&m);
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
		items_table(r, &b, db, p, &d, f);
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_dossier(struct req *r)
{
	char *end;
	if (strncmp(r->path, "/dossiers/", 10) != 0)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	long long id = strtoll(r->path + strlen("/dossiers/"), &end, 10);
	if (id > 0 && strcmp(end, "/receipt") == 0)
		return web_receipt_page(r, id);
	if (*end)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	return dossier_page(r, id, MHD_HTTP_OK, &no_form);
}

/* The item names of the missing keys, for people. */
static void missing_names(struct buf *m, const struct catalog_proc *p, struct db *db,
			  const struct dossier_row *d)
{
	const char *missing[DOSSIER_MAX_ITEMS];
	int n = dossier_missing(db, p, d, missing, DOSSIER_MAX_ITEMS);
	for (int i = 0; i < n && i < DOSSIER_MAX_ITEMS; i++) {
		const struct catalog_doc *cd = catalog_doc_find(p, missing[i]);
		buf_puts(m, i ? "; " : "");
		buf_puts(m, cd ? cd->name : missing[i]);
	}
}

static int id_number_typed(const char *s)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			n++;
		else if (*s != ' ' && *s != '.')
			return 0;
	}
	return n == 12;
}

/* Digits only ("001 099 012 345" is "001099012345"), into out[16]. */
static void digits_of(const char *s, char out[16])
{
	size_t n = 0;
	for (; *s && n + 1 < 16; s++)
		if (*s >= '0' && *s <= '9')
			out[n++] = *s;
	out[n] = '\0';
}

/* Opening: the card picked, a paper's code typed, or a name and number typed; a refusal says
 * in the catalogue's words what to change.  Returns 0 with *ret_id, or -1 with f filled. */
static int do_open(struct req *r, struct db *db, const struct catalog *cat, struct ds_form *f, struct buf *m,
		   int64_t *ret_id)
{
	char why[DOSSIER_WHY_MAX] = "", docid[DOC_ID_LEN] = "", idn[16];
	int rc;
	if (!catalog_find(cat, f->proc)) {
		f->field = "procedure";
		buf_esc(m, T(r->lang, S_DSE_PROC));
		return -1;
	}
	if (f->doc[0] || f->doc_code[0]) {
		const char *typed = f->doc[0] ? f->doc : f->doc_code;
		rc = web_doc_resolve(r, typed, docid);
		if (rc < 0) {
			f->field = "doc_code";
			web_doc_refusal(r, m, rc, typed);
			return -1;
		}
	} else if (!f->name[0] && !f->idn[0]) {
		f->field = "name";
		buf_esc(m, T(r->lang, S_DSE_WHO));
		return -1;
	} else if (!f->name[0] || strlen(f->name) >= DOSSIER_NAME_MAX) {
		f->field = "name";
		buf_esc(m, T(r->lang, S_DSE_NAME));
		return -1;
	} else if (!id_number_typed(f->idn)) {
		f->field = "id_number";
		buf_esc(m, T(r->lang, S_DSE_IDN));
		return -1;
	}
	digits_of(f->idn, idn);
	struct dossier_applicant a = { .doc_id = docid[0] ? docid : NULL,
				       .name = f->name[0] ? f->name : NULL,
				       .id_number = idn[0] ? idn : NULL };
	rc = dossier_open(db, store_blobs(r->w->store), cat, r->actor, f->proc, &a, "web", ret_id, why);
	if (rc == 0)
		return 0;
	log_info("web: dossier not opened: %s", why);
	f->field = docid[0] ? "doc_code" : "name";
	buf_esc(m,
		T(r->lang,
		  rc == -EAGAIN                   ? S_DSE_CARD_PENDING
		      : rc == -EINVAL && docid[0] ? S_DSE_CARD_BAD
		      : rc == -EINVAL             ? S_DSE_NAME
						  : S_DSE_STORE));
	return -1;
}

#define ATTACH_MAX 32

/* Attaching the ticked papers (each to its chosen item) and a typed code. */
static int do_attach(struct req *r, struct db *db, const struct catalog *cat, long long id, struct ds_form *f,
		     struct buf *m, int *ret_n)
{
	char ids[ATTACH_MAX + 1][DOC_ID_LEN], items[ATTACH_MAX + 1][CATALOG_CODE_MAX], why[DOSSIER_WHY_MAX];
	struct dossier_row d;
	int n = web_picks(r, ids, ATTACH_MAX);
	*ret_n = 0;
	if (dossiers_get(db, id, &d) < 0)
		return -ENOENT;
	const struct catalog_proc *p = catalog_find(cat, d.procedure);
	if (n < 0) {
		f->field = "";
		buf_esc(m, T(r->lang, S_DSE_PICK_NONE));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char field[48];
		snprintf(field, sizeof(field), "item_%.32s", ids[i]);
		if (web_field(r, field, items[i], sizeof(items[i])) < 0 || !catalog_doc_find(p, items[i])) {
			f->field = "";
			buf_esc(m, T(r->lang, S_DSE_ITEM));
			return -1;
		}
	}
	if (f->doc[0]) {
		int rc = web_doc_resolve(r, f->doc, ids[n]);
		if (rc < 0) {
			f->field = "doc";
			web_doc_refusal(r, m, rc, f->doc);
			return -1;
		}
		if (!catalog_doc_find(p, f->item)) {
			f->field = "item";
			buf_esc(m, T(r->lang, S_DSE_ITEM));
			return -1;
		}
		snprintf(items[n], sizeof(items[n]), "%s", f->item);
		n++;
	}
	if (n == 0) {
		f->field = "";
		buf_esc(m, T(r->lang, S_DSE_PICK_NONE));
		return -1;
	}
	if (strcmp(d.state, "open") != 0) {
		f->field = "";
		buf_esc(m, T(r->lang, S_DSE_ACCEPTED));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int rc = dossier_attach(db, cat, r->actor, id, items[i], ids[i], why);
		if (rc >= 0) {
			(*ret_n)++;
			continue;
		}
		log_info("web: document %s not attached to dossier %lld: %s", ids[i], id, why);
		f->field = i < n - 1 || !f->doc[0] ? "" : "doc";
		if (rc == -EINVAL) {
			struct recog_row rr;
			const struct catalog_doc *cd = catalog_doc_find(p, items[i]);
			buf_t(m, r->lang, S_DSE_WRONG_TYPE, 0, 0, cd ? cd->name : items[i]);
			if (recog_get(db, ids[i], &rr) == 0 && rr.type[0]) {
				buf_puts(m, " ");
				buf_esc(m, T(r->lang, S_DSE_RECOGNISED_AS));
				buf_puts(m, " ");
				buf_label(m, r->lang, LG_DOC_TYPE, rr.type);
				buf_puts(m, ".");
			}
		} else {
			buf_esc(m, T(r->lang, rc == -EBUSY ? S_DSE_ACCEPTED : S_DSE_STORE));
		}
		if (*ret_n > 0) {
			buf_puts(m, " ");
			buf_t(m, r->lang, S_DSE_ATTACHED_N, *ret_n, 0, NULL);
		}
		return -1;
	}
	return 0;
}

static int do_accept(struct req *r, struct db *db, const struct catalog *cat, long long id, struct ds_form *f,
		     struct buf *m, int *ret_printed)
{
	const char *cwhy = "";
	const struct calendar *cal = dossier_calendar(&cwhy);
	char why[DOSSIER_WHY_MAX] = "";
	struct dossier_row d, cur;
	if (dossiers_get(db, id, &cur) < 0)
		return -ENOENT;
	f->field = "note";
	if (strlen(f->note) >= DOSSIER_NOTE_MAX) {
		buf_esc(m, T(r->lang, S_DSE_NOTE_LONG));
		return -1;
	}
	if (!cal) {
		log_info("web: dossier %lld not accepted: %s", id, cwhy);
		buf_esc(m, T(r->lang, S_DS_OFF));
		return -1;
	}
	struct config *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return -ENOMEM;
	daemon_config_snapshot(cfg);
	int rc = dossier_accept(db, cat, cal, cfg, r->actor, id, f->note, (int64_t)time(NULL), &d, why);
	if (rc == 0) {
		char pwhy[256];
		*ret_printed =
		    dossier_print_receipt(cfg, catalog_find(cat, d.procedure), &d, pwhy, sizeof(pwhy)) >= 0;
		if (!*ret_printed)
			log_info("web: receipt of dossier %s not printed: %s", d.code, pwhy);
	}
	free(cfg);
	if (rc == 0)
		return 0;
	log_info("web: dossier %lld not accepted: %s", id, why);
	if (rc == -EINVAL) {
		struct buf names;
		buf_init(&names, 2048);
		missing_names(&names, catalog_find(cat, cur.procedure), db, &cur);
		buf_t(m, r->lang, S_DSE_INCOMPLETE, 0, 0, names.p ? names.p : "");
		buf_free(&names);
	} else {
		f->field = "";
		buf_esc(m,
			T(r->lang,
			  rc == -EBUSY        ? S_DSE_ACCEPTED
			      : rc == -ENOSPC ? S_DSE_NUMBERS
					      : S_DSE_STORE));
	}
	return -1;
}

enum MHD_Result post_dossiers(struct req *r)
{
	struct db *db = web_db(r);
	const struct catalog *cat = dossier_catalog(NULL);
	char verb[8], ids[24], proc[CATALOG_CODE_MAX], doc[48], doc_code[48], name[DOSSIER_NAME_MAX + 64],
	    idn[24], item[CATALOG_CODE_MAX], note[DOSSIER_NOTE_MAX + 512], loc[96];
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "verb", verb, sizeof(verb)) < 0 || web_field(r, "id", ids, sizeof(ids)) < 0 ||
	    web_field(r, "procedure", proc, sizeof(proc)) < 0 || web_field(r, "doc", doc, sizeof(doc)) < 0 ||
	    web_field(r, "doc_code", doc_code, sizeof(doc_code)) < 0 ||
	    web_field(r, "name", name, sizeof(name)) < 0 || web_field(r, "id_number", idn, sizeof(idn)) < 0 ||
	    web_field(r, "item", item, sizeof(item)) < 0 || web_field(r, "note", note, sizeof(note)) < 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	struct ds_form f = { .verb = verb,
			     .field = "",
			     .proc = proc,
			     .doc = doc,
			     .doc_code = doc_code,
			     .name = name,
			     .idn = idn,
			     .item = item,
			     .note = note };
	struct buf m;
	char *end;
	long long id = strtoll(ids, &end, 10);
	int rc, printed = 0, n = 0;
	if (!cat)
		return list_page(r, MHD_HTTP_SERVICE_UNAVAILABLE, &no_form);
	buf_init(&m, 4096);
	if (strcmp(verb, "open") == 0) {
		int64_t nid = 0;
		rc = do_open(r, db, cat, &f, &m, &nid);
		if (rc == 0)
			snprintf(loc, sizeof(loc), "/dossiers/%lld", (long long)nid);
	} else if ((strcmp(verb, "attach") == 0 || strcmp(verb, "accept") == 0) && ids[0] && !*end &&
		   id > 0) {
		rc = verb[1] == 't' ? do_attach(r, db, cat, id, &f, &m, &n)
				    : do_accept(r, db, cat, id, &f, &m, &printed);
		if (rc == 0 && verb[1] == 't')
			snprintf(loc, sizeof(loc), "/dossiers/%lld?msg=attached&n=%d", id, n);
		else if (rc == 0)
			snprintf(loc, sizeof(loc), "/dossiers/%lld?msg=accepted&printed=%d", id, printed);
	} else {
		buf_free(&m);
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	}
	if (rc == 0) {
		buf_free(&m);
		return web_redirect(r, loc);
	}
	if (rc == -ENOENT) {
		buf_free(&m);
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	}
	if (rc < -1) {
		buf_free(&m);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	f.msg = m.p ? m.p : "";
	enum MHD_Result ret = strcmp(verb, "open") == 0 ? list_page(r, MHD_HTTP_CONFLICT, &f)
							: dossier_page(r, id, MHD_HTTP_CONFLICT, &f);
	buf_free(&m);
	return ret;
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
