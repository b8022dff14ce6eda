/* The queue on the staff page: a counter's own view (the ticket in hand, call next, call
 * again, seated, done, skip, move to another service, call a given number; the codes scanned
 * by the HID reader at that counter), the day's waiting counts and times per service and
 * counter, a ticket given at the desk, and the dashboard's queue tile.  Plain forms; every
 * counter action goes through queue_counter() and is announced to the displays like
 * `motcuactl queue ...`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/log.h"
#include "gateway/queue.h"
#include "gateway/queue_hooks.h"
#include "web/internal.h"

#define HTML "text/html; charset=utf-8"
#define SCANS_SHOWN 10

/* Seconds as people read a waiting time: "—" when nothing was measured. */
static void secs(struct buf *b, struct req *r, int64_t n, int64_t sum_ms)
{
	buf_puts(b, "<td class=\"num\">");
	if (n > 0)
		buf_age(b, r->lang, sum_ms / n / 1000);
	else
		buf_puts(b, "—");
	buf_puts(b, "</td>");
}

/* The counter number in ?counter= or a form field: 1..QUEUE_COUNTER_MAX, else 0. */
static int counter_of(const char *v)
{
	char *end;
	long n = v && *v ? strtol(v, &end, 10) : 0;
	return v && *v && !*end && n >= 1 && n <= QUEUE_COUNTER_MAX ? (int)n : 0;
}

struct figs {
	struct req *r;
	struct buf *b;
	const struct queue_services *q;
	int counters; /* 0: service rows, 1: counter rows */
	int rows;
	int64_t waiting;
};

static int fig_row(void *ctx, const struct queue_figures *f)
{
	struct figs *x = ctx;
	struct buf *b = x->b;
	if ((f->key != 0) == x->counters)
		return 0;
	x->rows++;
	x->waiting += f->waiting;
	buf_puts(b, "<tr><td>");
	if (f->key) {
		const struct queue_service *sv = queue_service_find(x->q, f->key);
		buf_printf(b, "%c ", f->key);
		buf_esc(b, sv ? sv->name : "");
	} else {
		buf_printf(b, "<a href=\"/queue?counter=%d\">%d</a>", f->counter, f->counter);
	}
	buf_printf(b,
		   "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>",
		   (long long)f->waiting, (long long)f->taken, (long long)f->done);
	buf_printf(b, "<td class=\"num\">%lld</td>", (long long)f->skipped);
	secs(b, x->r, f->wait_n, f->wait_ms_sum);
	secs(b, x->r, f->wait_ms_max > 0, f->wait_ms_max);
	secs(b, x->r, f->service_n, f->service_ms_sum);
	buf_puts(b, "<td>");
	buf_esc(b, f->last_called);
	buf_puts(b, "</td></tr>");
	return 0;
}

/* The day's figures, one table per service and one per counter. */
static int figures(struct req *r, struct buf *b, struct db *db, const struct queue_services *q,
		   const char *day)
{
	for (int c = 0; c < 2; c++) {
		struct figs x = { .r = r, .b = b, .q = q, .counters = c };
		buf_printf(b, "<h2 id=\"q-fig-%s\">", c ? "counters" : "services");
		buf_esc(b, T(r->lang, c ? S_Q_BY_COUNTER : S_Q_BY_SERVICE));
		buf_puts(b, "</h2><table><thead><tr>");
		web_th(b, r, c ? S_Q_COUNTER : S_Q_SERVICE);
		web_th(b, r, S_Q_WAITING);
		web_th(b, r, S_Q_GIVEN);
		web_th(b, r, S_Q_DONE_N);
		web_th(b, r, S_Q_SKIPPED_N);
		web_th(b, r, S_Q_AVG_WAIT);
		web_th(b, r, S_Q_MAX_WAIT);
		web_th(b, r, S_Q_AVG_SERVICE);
		web_th(b, r, S_Q_LAST);
		buf_puts(b, "</tr></thead><tbody>");
		int rc = qstore_figures(db, day, fig_row, &x);
		if (rc < 0)
			return rc;
		if (x.rows == 0) {
			buf_puts(b, "<tr><td colspan=\"9\">");
			buf_esc(b, T(r->lang, S_NONE));
			buf_puts(b, "</td></tr>");
		}
		buf_puts(b, "</tbody></table>");
	}
	return 0;
}

static void verb_button(struct req *r, struct buf *b, int counter, const char *verb, enum str label)
{
	buf_puts(b, "<form method=\"post\" action=\"/queue\" class=\"inline\">");
	web_csrf_input(r, b);
	buf_printf(b, "<input type=\"hidden\" name=\"counter\" value=\"%d\">", counter);
	buf_printf(b, "<input type=\"hidden\" name=\"verb\" value=\"%s\"><button>", verb);
	buf_esc(b, T(r->lang, label));
	buf_puts(b, "</button></form> ");
}

struct scans {
	struct req *r;
	struct buf *b;
	int rows;
};

static int scan_row(void *ctx, const struct queue_event *e)
{
	struct scans *x = ctx;
	char at[16];
	time_t t = (time_t)(e->at_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(at, sizeof(at), "%H:%M:%S", &tm);
	x->rows++;
	buf_printf(x->b, "<li><time>%s</time> <code class=\"scan\">", at);
	buf_esc(x->b, e->detail);
	buf_puts(x->b, "</code></li>");
	return 0;
}

static int64_t midnight_ms(int64_t now_ms)
{
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm) * 1000;
}

/* One counter's desk: the ticket in hand, the actions, the codes scanned there today. */
static int counter_view(struct req *r, struct buf *b, struct db *db, const struct queue_services *q,
			int counter, const char *day, int64_t now, const char *refused, const char *typed)
{
	struct queue_ticket t;
	int serves = 0;
	for (int i = 0; i < q->n; i++)
		serves |= q->s[i].counter[counter];
	buf_puts(b, "<section aria-labelledby=\"q-desk\"><h2 id=\"q-desk\">");
	buf_t(b, r->lang, S_Q_COUNTER_N, counter, 0, NULL);
	buf_puts(b, "</h2>");
	if (!serves) {
		struct buf m;
		buf_init(&m, 512);
		buf_t(&m, r->lang, S_Q_NO_SERVICE, counter, 0, NULL);
		web_notice(b, "err", m.p ? m.p : "");
		buf_free(&m);
		buf_puts(b, "</section>");
		return 0;
	}
	int rc = qstore_current(db, day, counter, &t);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	buf_puts(b, "<p>");
	buf_esc(b, T(r->lang, S_Q_IN_HAND));
	buf_puts(b, ": ");
	if (rc == 0) {
		const struct queue_service *sv = queue_service_find(q, t.service);
		buf_printf(b, "<strong class=\"big\" id=\"q-current\">%s</strong> ", t.code);
		buf_esc(b, sv ? sv->name : "");
		buf_printf(b, " (%s, ×%d)", t.state, t.calls);
	} else {
		buf_puts(b, "<span id=\"q-current\">");
		buf_esc(b, T(r->lang, S_Q_NOBODY));
		buf_puts(b, "</span>");
	}
	buf_puts(b, "</p>");
	if (refused)
		buf_printf(b, "<p class=\"err\" id=\"form-error\" role=\"alert\">%s</p>", refused);
	buf_puts(b, "<p>");
	verb_button(r, b, counter, "next", S_Q_NEXT);
	verb_button(r, b, counter, "again", S_Q_AGAIN);
	verb_button(r, b, counter, "serve", S_Q_SERVE);
	verb_button(r, b, counter, "done", S_Q_DONE);
	verb_button(r, b, counter, "skip", S_Q_SKIP);
	buf_puts(b, "</p><form method=\"post\" action=\"/queue\"><p>");
	web_csrf_input(r, b);
	buf_printf(b, "<input type=\"hidden\" name=\"counter\" value=\"%d\">", counter);
	buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"move\"><label for=\"q-move\">");
	buf_esc(b, T(r->lang, S_Q_MOVE));
	buf_puts(b, "</label> <select id=\"q-move\" name=\"arg\">");
	for (int i = 0; i < q->n; i++) {
		buf_printf(b, "<option value=\"%c\">%c ", q->s[i].letter, q->s[i].letter);
		buf_esc(b, q->s[i].name);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select> <button>");
	buf_esc(b, T(r->lang, S_Q_MOVE_DO));
	buf_puts(b, "</button></p></form><form method=\"post\" action=\"/queue\"><p>");
	web_csrf_input(r, b);
	buf_printf(b, "<input type=\"hidden\" name=\"counter\" value=\"%d\">", counter);
	buf_puts(b, "<input type=\"hidden\" name=\"verb\" value=\"call\"><label for=\"q-code\">");
	buf_esc(b, T(r->lang, S_Q_CALL_CODE));
	buf_puts(b,
		 "</label> <input id=\"q-code\" name=\"arg\" size=\"6\" maxlength=\"7\" "
		 "pattern=\"[A-Za-z][0-9]{1,4}\" required");
	if (typed && typed[0])
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
	buf_puts(b, " value=\"");
	buf_esc(b, typed ? typed : "");
	buf_puts(b, "\"> <button>");
	buf_esc(b, T(r->lang, S_Q_CALL));
	buf_puts(b, "</button></p></form>");

	struct scans x = { .r = r, .b = b };
	buf_puts(b, "<h3 id=\"q-scans\">");
	buf_esc(b, T(r->lang, S_Q_SCANS));
	buf_puts(b, "</h3><ul aria-labelledby=\"q-scans\">");
	rc = qstore_events_recent(db, counter, "scan", midnight_ms(now), SCANS_SHOWN, scan_row, &x);
	if (rc < 0)
		return rc;
	if (x.rows == 0) {
		buf_puts(b, "<li>");
		buf_esc(b, T(r->lang, S_Q_NO_SCANS));
		buf_puts(b, "</li>");
	}
	buf_printf(b, "</ul><p><a href=\"/queue?counter=%d\">", counter);
	buf_esc(b, T(r->lang, S_Q_REFRESH));
	buf_puts(b, "</a></p></section>");
	return 0;
}

/* The queue page; refused (HTML) is a refused action's message, shown at the counter with
 * the ticket number that was typed. */
static enum MHD_Result queue_page(struct req *r, unsigned status, int counter, const char *refused,
				  const char *typed)
{
	struct db *db = web_db(r);
	struct queue_services q;
	struct config *cfg = malloc(sizeof(*cfg));
	char why[256], day[QUEUE_DAY_LEN];
	struct buf b;
	int64_t now = queue_now_ms();
	int rc = 0;

	if (!db || !cfg) {
		free(cfg);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	daemon_config_snapshot(cfg);
	if (queue_services_parse(cfg->services, &q, why, sizeof(why)) < 0)
		q.n = 0;
	free(cfg);
	queue_day(now, day);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_QUEUE, "/queue");
	const char *msg = refused ? NULL : web_arg(r, "msg"), *code = web_arg(r, "code");
	if (refused && !counter) {
		buf_printf(&b, "<p class=\"err\" id=\"form-error\" role=\"alert\">%s</p>", refused);
	}
	if (msg && code && strlen(code) < QUEUE_CODE_MAX) {
		struct buf m;
		buf_init(&m, 512);
		if (strcmp(msg, "taken") == 0)
			buf_t(&m, r->lang, S_Q_TAKEN, 0, 0, code);
		else if (strcmp(msg, "called") == 0 && counter)
			buf_t(&m, r->lang, S_Q_CALLED, counter, 0, code);
		if (m.len)
			web_notice(&b, "ok", m.p);
		buf_free(&m);
	}
	/* Choose the counter (a GET form: bookmarkable, one per desk PC). */
	buf_puts(&b, "<form method=\"get\" action=\"/queue\"><p><label for=\"q-counter\">");
	buf_esc(&b, T(r->lang, S_Q_CHOOSE));
	buf_puts(&b, "</label> <select id=\"q-counter\" name=\"counter\">");
	for (int k = 1; k <= QUEUE_COUNTER_MAX; k++) {
		int used = 0;
		for (int i = 0; i < q.n; i++)
			used |= q.s[i].counter[k];
		if (used)
			buf_printf(&b, "<option value=\"%d\"%s>%d</option>", k,
				   k == counter ? " selected" : "", k);
	}
	buf_puts(&b, "</select> <button>");
	buf_esc(&b, T(r->lang, S_Q_OPEN));
	buf_puts(&b, "</button></p></form>");
	if (counter)
		rc = counter_view(r, &b, db, &q, counter, day, now, refused, typed);
	/* A ticket given at the desk (a citizen without the kiosk). */
	if (rc == 0) {
		buf_puts(&b, "<form method=\"post\" action=\"/queue\"><p>");
		web_csrf_input(r, &b);
		buf_printf(&b, "<input type=\"hidden\" name=\"counter\" value=\"%d\">", counter);
		buf_puts(&b, "<input type=\"hidden\" name=\"verb\" value=\"take\"><label for=\"q-take\">");
		buf_esc(&b, T(r->lang, S_Q_TAKE));
		buf_puts(&b, "</label> <select id=\"q-take\" name=\"arg\">");
		for (int i = 0; i < q.n; i++) {
			buf_printf(&b, "<option value=\"%c\">%c ", q.s[i].letter, q.s[i].letter);
			buf_esc(&b, q.s[i].name);
			buf_puts(&b, "</option>");
		}
		buf_puts(&b, "</select> <button>");
		buf_esc(&b, T(r->lang, S_Q_TAKE_DO));
		buf_puts(&b, "</button></p></form>");
		rc = figures(r, &b, db, &q, day);
	}
	if (rc < 0) {
		buf_free(&b);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_queue(struct req *r)
{
	return queue_page(r, MHD_HTTP_OK, counter_of(web_arg(r, "counter")), NULL, NULL);
}

/* A refused counter action in the catalogue's words (the core's reason goes to the log). */
static enum MHD_Result refused(struct req *r, int counter, const char *verb, const char *arg, int rc,
			       const char *why)
{
	struct buf m;
	enum str s;
	int call = strcmp(verb, "call") == 0;
	log_info("web: counter %d %s refused: %s", counter, verb, why);
	if (strcmp(verb, "take") == 0)
		s = rc == -ENOENT ? S_QE_SERVICE : rc == -EOVERFLOW ? S_QE_FULL : S_DSE_STORE;
	else if (rc == -EINVAL && strcmp(verb, "move") != 0)
		s = S_QE_COUNTER;
	else if (strcmp(verb, "next") == 0)
		s = rc == -ENOENT ? S_QE_NOBODY : S_DSE_STORE;
	else if (call)
		s = rc == -ENOENT ? S_QE_NO_TICKET : rc == -ESTALE ? S_QE_NOT_WAITING : S_DSE_STORE;
	else
		s = rc == -ENOENT   ? S_QE_NO_HAND
		    : rc == -ESTALE ? S_QE_STATE
		    : rc == -EINVAL ? (arg[0] ? S_QE_SAME : S_QE_SERVICE)
				    : S_DSE_STORE;
	buf_init(&m, 1024);
	buf_t(&m, r->lang, s, counter, 0, arg);
	enum MHD_Result ret = queue_page(r, MHD_HTTP_CONFLICT, counter, m.p ? m.p : "", call ? arg : NULL);
	buf_free(&m);
	return ret;
}

enum MHD_Result post_queue(struct req *r)
{
	static const char *const verbs[] = {
		"next", "again", "serve", "done", "skip", "move", "call", "take"
	};
	struct db *db = web_db(r);
	char cs[8], verb[8], arg[QUEUE_CODE_MAX], why[512] = "", loc[96];
	struct queue_ticket t;
	size_t i;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "counter", cs, sizeof(cs)) < 0 || web_field(r, "verb", verb, sizeof(verb)) < 0 ||
	    web_field(r, "arg", arg, sizeof(arg)) < 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i]) == 0)
			break;
	int counter = counter_of(cs);
	if (i == sizeof(verbs) / sizeof(verbs[0]) || (!counter && strcmp(verb, "take") != 0))
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	struct config *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	daemon_config_snapshot(cfg);
	int rc;
	if (strcmp(verb, "take") == 0) {
		char source[64];
		snprintf(source, sizeof(source), "%s", r->actor);
		rc = queue_take(r->w->store, db, cfg, arg, source, queue_now_ms(), &t, why, sizeof(why));
		if (rc == 0 && strcmp(cfg->ticket_printer, "auto") == 0) {
			char pwhy[256];
			queue_hooks_print_ticket(cfg, &t, pwhy,
						 sizeof(pwhy)); /* a courtesy: the number stands */
		}
	} else {
		for (char *p = arg; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		rc = queue_counter(db, cfg, counter, verb, arg[0] ? arg : NULL, queue_now_ms(), &t, why,
				   sizeof(why));
		if (rc == 0)
			queue_hooks_announce(cfg, counter, verb, &t);
	}
	free(cfg);
	if (rc < 0)
		return refused(r, counter, verb, arg, rc, why);
	snprintf(loc, sizeof(loc), "/queue?counter=%d&msg=%s&code=%s", counter,
		 strcmp(verb, "take") == 0 ? "taken" : "called", t.code);
	return web_redirect(r, loc);
}

/* The dashboard's tile: people waiting now, per service, with the day's average wait. */
struct tile {
	struct req *r;
	struct buf *b;
	const struct queue_services *q;
	int64_t waiting, taken;
};

static int tile_row(void *ctx, const struct queue_figures *f)
{
	struct tile *x = ctx;
	if (!f->key)
		return 0;
	const struct queue_service *sv = queue_service_find(x->q, f->key);
	x->waiting += f->waiting;
	x->taken += f->taken;
	buf_printf(x->b, "<dt>%c ", f->key);
	buf_esc(x->b, sv ? sv->name : "");
	buf_printf(x->b, "</dt><dd>%lld", (long long)f->waiting);
	if (f->wait_n > 0) {
		buf_puts(x->b, " (");
		buf_esc(x->b, T(x->r->lang, S_Q_AVG_WAIT));
		buf_puts(x->b, " ");
		buf_age(x->b, x->r->lang, f->wait_ms_sum / f->wait_n / 1000);
		buf_puts(x->b, ")");
	}
	buf_puts(x->b, "</dd>");
	return 0;
}

void web_queue_tile(struct req *r, struct buf *b)
{
	struct db *db = web_db(r);
	struct queue_services q;
	struct config *cfg = malloc(sizeof(*cfg));
	char why[256], day[QUEUE_DAY_LEN];
	if (!db || !cfg) {
		free(cfg);
		return;
	}
	daemon_config_snapshot(cfg);
	if (queue_services_parse(cfg->services, &q, why, sizeof(why)) < 0)
		q.n = 0;
	free(cfg);
	queue_day(queue_now_ms(), day);
	buf_puts(b, "<div class=\"tile\"><h2><a href=\"/queue\">");
	buf_esc(b, T(r->lang, S_Q_TODAY));
	buf_puts(b, "</a></h2><dl id=\"queue-today\">");
	struct tile x = { .r = r, .b = b, .q = &q };
	if (qstore_figures(db, day, tile_row, &x) < 0 || x.taken == 0) {
		buf_puts(b, "<dt>");
		buf_esc(b, T(r->lang, S_Q_WAITING));
		buf_printf(b, "</dt><dd>%lld</dd>", (long long)x.waiting);
	}
	buf_puts(b, "</dl></div>");
}
