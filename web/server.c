/* The HTTP server: libmicrohttpd in thread-per-connection mode (blocking store calls are
 * fine there), limits, routing, sessions, CSRF, security headers and request metrics. */
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gateway/log.h"
#include "store/db.h"
#include "store/fsutil.h"
#include "store/store.h"
#include "web/internal.h"

/* Browsers ask for it on their own: a plain 404, not a bounce to the login page. */
static enum MHD_Result no_icon(struct req *r)
{
	struct buf b;
	buf_init(&b, 16);
	return web_send(r, MHD_HTTP_NOT_FOUND, "text/plain", &b);
}

static const struct route routes[] = {
	{ "GET", "/", 0, page_dashboard },
	{ "GET", "/login", R_PUBLIC, page_login },
	{ "POST", "/login", R_PUBLIC, post_login },
	{ "POST", "/logout", R_CSRF | R_ANY_STATE, post_logout },
	{ "GET", "/static/app.css", R_PUBLIC, static_css },
	{ "GET", "/healthz", R_PUBLIC, api_healthz },
	{ "GET", "/favicon.ico", R_PUBLIC, no_icon },
	{ "GET", "/verify", R_PUBLIC | R_PREFIX, page_verify },
	{ "POST", "/verify", R_PUBLIC | R_VERIFY, post_verify },
	{ "GET", "/metrics", R_TOKEN, api_metrics },
	{ "GET", "/api/v1/", R_TOKEN | R_PREFIX, api_dispatch },
	{ "GET", "/devices", 0, page_devices },
	{ "POST", "/devices", R_ADMIN | R_CSRF, post_devices },
	{ "GET", "/documents", 0, page_documents },
	{ "POST", "/documents", R_UPLOAD, NULL },
	{ "GET", "/documents/", R_PREFIX, page_document },
	{ "POST", "/documents/", R_PREFIX | R_CSRF, post_document },
	{ "GET", "/outbox", 0, page_outbox },
	{ "POST", "/outbox", R_CSRF, post_outbox },
	{ "GET", "/audit", R_ADMIN, page_audit },
	{ "GET", "/settings", R_ADMIN, page_settings },
	{ "GET", "/users", R_ADMIN, page_users },
	{ "POST", "/users", R_ADMIN | R_CSRF, post_users },
	{ "GET", "/account", R_ANY_STATE, page_account },
	{ "POST", "/account", R_CSRF | R_ANY_STATE, post_account },
	{ "GET", "/queue", 0, page_queue },
	{ "POST", "/queue", R_CSRF, post_queue },
	{ "GET", "/copies", 0, page_copies },
	{ "POST", "/copies", R_CSRF, post_copies },
	{ "GET", "/dossiers", R_PREFIX, page_dossiers },
	{ "POST", "/dossiers", R_CSRF, post_dossiers },
	{ "GET", "/track", R_PUBLIC, page_track },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* ---- per-thread store connections ---------------------------------------------------- */

static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void close_db(void *p)
{
	db_close(p);
}

static void make_key(void)
{
	pthread_key_create(&db_key, close_db);
}

struct db *web_db(struct req *r)
{
	struct db *db = pthread_getspecific(db_key);
	if (db)
		return db;
	if (store_connect(r->w->store, &db) < 0) {
		log_error("web: cannot open a store connection");
		return NULL;
	}
	pthread_setspecific(db_key, db);
	return db;
}

/* ---- helpers for handlers ------------------------------------------------------------ */

const char *web_arg(struct req *r, const char *name)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

int web_field(struct req *r, const char *name, char *out, size_t size)
{
	ssize_t n = form_get(r->body.p ? r->body.p : "", r->body.len, name, out, size);
	if (n == -ENOENT) {
		out[0] = '\0';
		return 0;
	}
	return n < 0 ? (int)n : 0;
}

int web_csrf_valid(struct req *r)
{
	char tok[80];
	if (!r->authed || web_field(r, "csrf", tok, sizeof(tok)) < 0)
		return 0;
	return accounts_token_equal(r->sess.csrf, tok);
}

void web_csrf_input(struct req *r, struct buf *b)
{
	buf_printf(b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", r->sess.csrf);
}

void web_add_security_headers(struct MHD_Response *resp, int tls)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; "
				"form-action 'self'; frame-ancestors 'self'; base-uri 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "SAMEORIGIN");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	if (tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

enum MHD_Result web_send(struct req *r, unsigned status, const char *type, struct buf *b)
{
	size_t len;
	char *body;
	if (b->err) {
		buf_free(b);
		log_error("web: response for %s is larger than %zu bytes", r->path, b->max);
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		type = "text/plain; charset=utf-8";
		body = strdup("response too large\n");
		len = body ? strlen(body) : 0;
	} else {
		body = buf_steal(b, &len);
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    len, body ? body : (char *)"", body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	if (strcmp(r->path, "/static/app.css") == 0)
		MHD_add_response_header(resp, "Cache-Control", "max-age=86400");
	else
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	web_add_security_headers(resp, r->w->tls);
	r->status = status;
	enum MHD_Result ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result web_redirect(struct req *r, const char *location)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Location", location);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	web_add_security_headers(resp, r->w->tls);
	r->status = MHD_HTTP_SEE_OTHER;
	enum MHD_Result ret = MHD_queue_response(r->c, MHD_HTTP_SEE_OTHER, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int is_api(struct req *r)
{
	return strncmp(r->path, "/api/", 5) == 0 || strcmp(r->path, "/metrics") == 0;
}

enum MHD_Result web_error(struct req *r, unsigned status, enum str msg)
{
	struct buf b;
	buf_init(&b, WEB_PAGE_MAX);
	if (is_api(r)) {
		buf_printf(&b, "{\"error\":%u,\"message\":", status);
		buf_json(&b, T(LANG_EN, msg));
		buf_puts(&b, "}\n");
		return web_send(r, status, "application/json", &b);
	}
	web_page_begin(r, &b, S_ERROR, "");
	buf_puts(&b, "<p class=\"err\" role=\"alert\">");
	buf_esc(&b, T(r->lang, msg));
	buf_puts(&b, "</p><p><a href=\"");
	buf_puts(&b, r->authed ? "/" : "/login");
	buf_puts(&b, "\">");
	buf_esc(&b, T(r->lang, r->authed ? S_BACK_HOME : S_LOGIN));
	buf_puts(&b, "</a></p>");
	web_page_end(r, &b);
	return web_send(r, status, "text/html; charset=utf-8", &b);
}

void web_notice(struct buf *b, const char *kind, const char *html_text)
{
	buf_printf(b, "<p class=\"%s\" role=\"%s\">%s</p>", kind,
		   strcmp(kind, "err") == 0 ? "alert" : "status", html_text);
}

static const struct {
	const char *href;
	enum str label;
	int admin;
} nav[] = {
	{ "/", S_NAV_DASHBOARD, 0 },          { "/devices", S_NAV_DEVICES, 0 },
	{ "/documents", S_NAV_DOCUMENTS, 0 }, { "/outbox", S_NAV_OUTBOX, 0 },
	{ "/queue", S_NAV_QUEUE, 0 },         { "/dossiers", S_NAV_DOSSIERS, 0 },
	{ "/copies", S_NAV_COPIES, 0 },       { "/audit", S_NAV_AUDIT, 1 },
	{ "/users", S_NAV_USERS, 1 },         { "/settings", S_NAV_SETTINGS, 1 },
	{ "/account", S_NAV_ACCOUNT, 0 },
};

void web_page_begin(struct req *r, struct buf *b, enum str title, const char *active)
{
	enum lang other = r->lang == LANG_EN ? LANG_VI : LANG_EN;
	buf_printf(b,
		   "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
		   i18n_code(r->lang));
	buf_esc(b, T(r->lang, title));
	buf_puts(b, " — ");
	buf_esc(b, T(r->lang, S_APP));
	buf_puts(b,
		 "</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body>"
		 "<a class=\"skip\" href=\"#main\">");
	buf_esc(b, T(r->lang, S_SKIP));
	buf_puts(b, "</a><header><p class=\"brand\">");
	buf_esc(b, T(r->lang, S_APP));
	buf_puts(b, "</p>");
	if (r->authed && !r->user.must_change) {
		buf_puts(b, "<nav aria-label=\"menu\"><ul>");
		for (size_t i = 0; i < sizeof(nav) / sizeof(nav[0]); i++) {
			if (nav[i].admin && strcmp(r->user.role, "admin") != 0)
				continue;
			buf_printf(b, "<li><a href=\"%s\"%s>", nav[i].href,
				   strcmp(active, nav[i].href) == 0 ? " aria-current=\"page\"" : "");
			buf_esc(b, T(r->lang, nav[i].label));
			buf_puts(b, "</a></li>");
		}
		buf_puts(b, "</ul></nav>");
	}
	buf_puts(b, "<div class=\"who\">");
	if (r->authed) {
		buf_esc(b, T(r->lang, S_SIGNED_IN_AS));
		buf_puts(b, " <strong>");
		buf_esc(b, r->user.name);
		buf_puts(b, "</strong> (");
		buf_esc(b, T(r->lang, strcmp(r->user.role, "admin") == 0 ? S_ROLE_ADMIN : S_ROLE_STAFF));
		buf_puts(b, ") <form method=\"post\" action=\"/logout\" class=\"inline\">");
		web_csrf_input(r, b);
		buf_puts(b, "<button type=\"submit\">");
		buf_esc(b, T(r->lang, S_LOGOUT));
		buf_puts(b, "</button></form> ");
	}
	buf_printf(b, "<a href=\"/lang?to=%s&amp;back=", i18n_code(other));
	buf_url(b, r->path);
	buf_printf(b, "\" lang=\"%s\" hreflang=\"%s\">", i18n_code(other), i18n_code(other));
	buf_esc(b, T(r->lang, S_OTHER_LANG));
	buf_puts(b, "</a></div></header><main id=\"main\"><h1>");
	buf_esc(b, T(r->lang, title));
	buf_puts(b, "</h1>");
}

void web_th(struct buf *b, struct req *r, enum str s)
{
	buf_puts(b, "<th scope=\"col\">");
	buf_esc(b, T(r->lang, s));
	buf_puts(b, "</th>");
}

void web_td(struct buf *b, const char *text)
{
	buf_puts(b, "<td>");
	buf_esc(b, text);
	buf_puts(b, "</td>");
}

void web_pager(struct req *r, struct buf *b, const char *path, const char *q, int paged, int more,
	       long long last)
{
	buf_puts(b, "<p class=\"pager\">");
	if (paged) {
		buf_printf(b, "<a href=\"%s?q=", path);
		buf_url(b, q);
		buf_puts(b, "\">");
		buf_esc(b, T(r->lang, S_NEWEST));
		buf_puts(b, "</a> ");
	}
	if (more) {
		buf_printf(b, "<a rel=\"next\" href=\"%s?q=", path);
		buf_url(b, q);
		buf_printf(b, "&amp;before=%lld\">", last);
		buf_esc(b, T(r->lang, S_OLDER));
		buf_puts(b, "</a>");
	}
	buf_puts(b, "</p>");
}

void web_page_end(struct req *r, struct buf *b)
{
	buf_printf(b, "</main><footer>motcua %s</footer></body></html>\n", MOTCUA_VERSION);
}

int web_local_path(const char *p)
{
	/* Browsers drop tabs and line breaks inside a URL and read '\\' as '/': "/\t/host" and
	 * "/\\host" become "//host", another site.  So: one '/', then printable ASCII without
	 * a backslash (our own links are percent-encoded), and nothing that starts with "//". */
	size_t n = strlen(p);
	if (n == 0 || n > WEB_LOCAL_PATH_MAX || p[0] != '/' || p[1] == '/')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return 0;
	}
	return 1;
}

/* ---- the language switch (a cookie; a GET changes nothing on the server) -------------- */

static enum MHD_Result lang_switch(struct req *r)
{
	const char *to = web_arg(r, "to"), *back = web_arg(r, "back");
	char cookie[128];
	if (!back || !web_local_path(back))
		back = "/";
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	snprintf(cookie, sizeof(cookie), "motcua_lang=%s; Path=/; Max-Age=31536000; SameSite=Strict%s",
		 to && strcmp(to, "en") == 0 ? "en" : "vi", r->w->tls ? "; Secure" : "");
	MHD_add_response_header(resp, "Set-Cookie", cookie);
	MHD_add_response_header(resp, "Location", back);
	web_add_security_headers(resp, r->w->tls);
	r->status = MHD_HTTP_SEE_OTHER;
	enum MHD_Result ret = MHD_queue_response(r->c, MHD_HTTP_SEE_OTHER, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- request life ---------------------------------------------------------------------- */

static const struct route *find_route(const char *method, const char *path, int *ret_other_method)
{
	*ret_other_method = 0;
	for (size_t i = 0; i < NROUTES; i++) {
		const struct route *rt = &routes[i];
		int match = (rt->flags & R_PREFIX) ? strncmp(path, rt->path, strlen(rt->path)) == 0
						   : strcmp(path, rt->path) == 0;
		if (!match)
			continue;
		if (strcmp(rt->method, method) == 0)
			return rt;
		*ret_other_method = 1;
	}
	return NULL;
}

static void remote_of(struct req *r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(r->remote, sizeof(r->remote), "?");
	if (!ci || !ci->client_addr)
		return;
	if (ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
			  r->remote, sizeof(r->remote));
	else if (ci->client_addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ci->client_addr)->sin6_addr,
			  r->remote, sizeof(r->remote));
}

static int authenticate(struct req *r)
{
	struct db *db = web_db(r);
	const char *cookie = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "motcua_session");
	if (!db || !cookie)
		return -ENOENT;
	if (accounts_session_check(db, &r->w->pol, cookie, &r->sess, &r->user) < 0)
		return -ENOENT;
	r->authed = 1;
	snprintf(r->actor, sizeof(r->actor), "web:%s", r->user.name);
	return 0;
}

static int bearer_ok(struct req *r)
{
	const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Authorization");
	struct api_token t;
	struct db *db = web_db(r);
	if (!db || !h || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	if (accounts_token_check(db, h + 7, &t) < 0)
		return 0;
	snprintf(r->actor, sizeof(r->actor), "token:%lld", (long long)t.id);
	return 1;
}

static enum MHD_Result refuse_unauthenticated(struct req *r)
{
	struct buf b;
	if (r->route && (r->route->flags & R_TOKEN)) {
		buf_init(&b, 4096);
		buf_puts(&b,
			 "{\"error\":401,\"message\":\"a valid bearer token is needed "
			 "(Authorization: Bearer mct_...; admins create them on the Users page)\"}\n");
		struct MHD_Response *resp =
		    MHD_create_response_from_buffer(b.len, b.p, MHD_RESPMEM_MUST_FREE);
		b.p = NULL;
		if (!resp)
			return MHD_NO;
		MHD_add_response_header(resp, "Content-Type", "application/json");
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"motcua\"");
		web_add_security_headers(resp, r->w->tls);
		r->status = MHD_HTTP_UNAUTHORIZED;
		enum MHD_Result ret = MHD_queue_response(r->c, MHD_HTTP_UNAUTHORIZED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	if (!r->post) {
		char loc[600];
		struct buf q;
		buf_init(&q, 520);
		buf_url(&q, r->path);
		snprintf(loc, sizeof(loc), "/login?next=%s", q.err || !q.p ? "%2F" : q.p);
		buf_free(&q);
		return web_redirect(r, loc);
	}
	return web_error(r, MHD_HTTP_UNAUTHORIZED, S_SESSION_ENDED);
}

static int64_t content_length(struct req *r)
{
	const char *cl = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return -1;
	char *end;
	long long v = strtoll(cl, &end, 10);
	return (*end || v < 0) ? -1 : v;
}

/* Everything decided from the headers alone: route, session, role, limits. */
static enum MHD_Result begin(struct req *r, const char *url, const char *method)
{
	struct web *w = r->w;
	int other = 0;
	const char *lang;

	r->method = method;
	if (strlen(url) >= sizeof(r->path))
		return web_error(r, MHD_HTTP_URI_TOO_LONG, S_BAD_REQUEST);
	snprintf(r->path, sizeof(r->path), "%s", url);
	lang = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "motcua_lang");
	r->lang = lang ? (strcmp(lang, "en") == 0 ? LANG_EN : LANG_VI)
		       : (strcmp(w->cfg.web_lang, "en") == 0 ? LANG_EN : LANG_VI);
	remote_of(r);
	r->post = strcmp(method, "POST") == 0;
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	if (strcmp(method, "GET") != 0 && !r->post)
		return web_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, S_BAD_REQUEST);
	if (strcmp(r->path, "/lang") == 0 && !r->post)
		return lang_switch(r);

	r->route = find_route(method, r->path, &other);
	if (r->route && (r->route->flags & R_TOKEN)) {
		if (!bearer_ok(r))
			return refuse_unauthenticated(r);
	} else if (!r->route || !(r->route->flags & R_PUBLIC)) {
		/* Unknown paths too: nothing about the box is told without a session. */
		authenticate(r);
		if (!r->authed)
			return refuse_unauthenticated(r);
		if (!r->route)
			return web_error(r, other ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND,
					 other ? S_BAD_REQUEST : S_NOT_FOUND);
		if (r->user.must_change && !(r->route->flags & R_ANY_STATE))
			return r->post ? web_error(r, MHD_HTTP_FORBIDDEN, S_MUST_CHANGE)
				       : web_redirect(r, "/account");
		if ((r->route->flags & R_ADMIN) && strcmp(r->user.role, "admin") != 0)
			return web_error(r, MHD_HTTP_FORBIDDEN, S_FORBIDDEN);
	}
	if (!r->post)
		return r->route->fn(r);

	int64_t len = content_length(r);
	const char *ct = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (r->route->flags & R_UPLOAD) {
		int64_t limit = w->cfg.web_max_upload_mb * 1024 * 1024 + 64 * 1024;
		if (len > limit)
			return web_error(r, MHD_HTTP_CONTENT_TOO_LARGE, S_TOO_LARGE);
		if (!ct || upload_begin(r, ct) < 0)
			return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
		return MHD_YES;
	}
	if ((r->route->flags & R_VERIFY) && ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
		int64_t limit = w->cfg.web_max_upload_mb * 1024 * 1024 + 64 * 1024;
		if (limit > WEB_VERIFY_MAX)
			limit = WEB_VERIFY_MAX;
		if (len > limit)
			return web_error(r, MHD_HTTP_CONTENT_TOO_LARGE, S_TOO_LARGE);
		int e = verify_begin(r, ct, len, limit);
		if (e == -EBUSY)
			return web_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, S_BUSY);
		if (e < 0)
			return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
		return MHD_YES;
	}
	if (len > w->cfg.web_max_form_kb * 1024)
		return web_error(r, MHD_HTTP_CONTENT_TOO_LARGE, S_TOO_LARGE);
	if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0)
		return web_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, S_BAD_REQUEST);
	buf_init(&r->body, (size_t)w->cfg.web_max_form_kb * 1024);
	return MHD_YES;
}

static enum MHD_Result body_chunk(struct req *r, const char *data, size_t len)
{
	if (r->refused) {
		/* Drain what the client already sends, up to the upload limit, then hang up. */
		r->swallowed += len;
		return r->swallowed > (uint64_t)r->w->cfg.web_max_upload_mb * 1024 * 1024 + 65536 ? MHD_NO
												  : MHD_YES;
	}
	if (r->route->flags & R_UPLOAD) {
		int e = upload_feed(r, data, len);
		if (e < 0)
			r->refused = e == -EMSGSIZE ? MHD_HTTP_CONTENT_TOO_LARGE
			    : e == -EACCES          ? MHD_HTTP_FORBIDDEN
						    : MHD_HTTP_BAD_REQUEST;
		return MHD_YES;
	}
	if (r->vp) {
		int e = verify_feed(r, data, len);
		if (e < 0) {
			r->refused = e == -EMSGSIZE ? MHD_HTTP_CONTENT_TOO_LARGE
			    : e == -EBUSY           ? MHD_HTTP_SERVICE_UNAVAILABLE
						    : MHD_HTTP_BAD_REQUEST;
			verify_abort(r); /* its memory back at once, not when the body ends */
		}
		return MHD_YES;
	}
	buf_add(&r->body, data, len);
	if (r->body.err)
		r->refused = MHD_HTTP_CONTENT_TOO_LARGE;
	return MHD_YES;
}

static enum MHD_Result finish(struct req *r)
{
	if (r->route->flags & R_UPLOAD)
		return upload_finish(r);
	if (r->refused)
		return web_error(r, (unsigned)r->refused,
				 r->refused == MHD_HTTP_CONTENT_TOO_LARGE         ? S_TOO_LARGE
				     : r->refused == MHD_HTTP_SERVICE_UNAVAILABLE ? S_BUSY
										  : S_BAD_REQUEST);
	if ((r->route->flags & R_CSRF) && !web_csrf_valid(r))
		return web_error(r, MHD_HTTP_FORBIDDEN, S_CSRF_BAD);
	return r->route->fn(r);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *upload_data, size_t *upload_data_size,
			       void **con_cls)
{
	struct req *r = *con_cls;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->w = cls;
		r->c = c;
		clock_gettime(CLOCK_MONOTONIC, &r->t0);
		*con_cls = r;
		return begin(r, url, method);
	}
	if (r->status) { /* answered from the headers: drop what follows */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size) {
		enum MHD_Result ret = body_chunk(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return ret;
	}
	return finish(r);
}

static const double lat_bounds[WEB_LAT_BUCKETS] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
						    0.25,  0.5,   1,    2.5,   10 };

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	struct req *r = *con_cls;
	struct timespec t1;
	if (!r)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double dt = (double)(t1.tv_sec - r->t0.tv_sec) + (double)(t1.tv_nsec - r->t0.tv_nsec) / 1e9;
	int i = 0;
	while (i < WEB_LAT_BUCKETS && dt > lat_bounds[i])
		i++;
	atomic_fetch_add(&w->lat[i], 1);
	atomic_fetch_add(&w->lat_sum_us, (unsigned long long)(dt * 1e6));
	atomic_fetch_add(&w->by_class[r->status / 100 < 6 ? r->status / 100 : 0], 1);
	if (r->up)
		upload_abort(r);
	verify_abort(r);
	if (r->held)
		atomic_fetch_sub(&w->held, r->held);
	buf_free(&r->body);
	OPENSSL_cleanse(&r->sess, sizeof(r->sess));
	free(r);
	*con_cls = NULL;
}

double web_lat_bound(int i);
double web_lat_bound(int i)
{
	return lat_bounds[i];
}

/* ---- connections: the box's console always has room --------------------------------- */

static int is_console(const struct sockaddr *sa)
{
	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr ==
		    htonl(INADDR_LOOPBACK);
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		static const unsigned char v4lo[16] = {
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1
		};
		return IN6_IS_ADDR_LOOPBACK(a) || memcmp(a->s6_addr, v4lo, 16) == 0;
	}
	return 0;
}

/* Called by the listening thread before a connection is taken: other computers together
 * get max_connections - console_reserve, so that connections left open from the LAN
 * (slowloris) never lock the box's own browser out.  MHD's own limits (in total, per
 * address) apply after this. */
static enum MHD_Result accept_policy(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct web *w = cls;
	(void)addrlen;
	if (is_console(addr))
		return MHD_YES;
	if (atomic_load(&w->lan_conns) >= w->cfg.web_max_connections - w->cfg.web_console_reserve) {
		atomic_fetch_add(&w->conns_refused, 1);
		return MHD_NO;
	}
	return MHD_YES;
}

static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	struct web *w = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
		    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (!ci || !is_console(ci->client_addr)) {
			atomic_fetch_add(&w->lan_conns, 1);
			*socket_context = w; /* counted */
		}
	} else if (toe == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
		atomic_fetch_sub(&w->lan_conns, 1);
		*socket_context = NULL;
	}
}

/* ---- memory held for request bodies --------------------------------------------------- */

int web_hold(struct req *r, int64_t n)
{
	struct web *w = r->w;
	int64_t max = w->cfg.web_verify_memory_mb * 1024 * 1024;
	int64_t now = atomic_fetch_add(&w->held, n) + n;
	if (n > 0 && now > max) {
		atomic_fetch_sub(&w->held, n);
		atomic_fetch_add(&w->holds_refused, 1);
		return -EBUSY;
	}
	r->held += n;
	return 0;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT: libmicrohttpd's own format */
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n'))
		msg[--n] = '\0';
	log_warn("web: %s", msg);
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	return fs_read_small(path, 1 << 20, ret, ret_len);
}

static void web_free(struct web *w)
{
	if (!w)
		return;
	if (w->tls_key) {
		OPENSSL_cleanse(w->tls_key, w->tls_key_len);
		free(w->tls_key);
	}
	free(w->tls_cert);
	free(w);
}

int web_start(struct store *s, const struct config *cfg, struct web **ret)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct web *w;
	size_t certlen = 0;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ERROR_LOG;
	int r;

	*ret = NULL;
	if (strcmp(cfg->web_enabled, "no") == 0) {
		log_info("web: disabled ([web] enabled = no)");
		return 0;
	}
	pthread_once(&db_key_once, make_key);
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->store = s;
	w->cfg = *cfg;
	w->pol = (struct accounts_policy){
		.max_failures = cfg->web_login_max_failures,
		.lockout_s = cfg->web_login_lockout_s,
		.delay_ms = cfg->web_login_delay_ms,
		.idle_s = cfg->web_session_idle_min * 60,
		.absolute_s = cfg->web_session_max_hours * 3600,
	};
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, cfg->web_listen, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)cfg->web_port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, cfg->web_listen, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)cfg->web_port);
		sslen = sizeof(*sin6);
		flags |= MHD_USE_IPv6;
	} else {
		log_error("web: [web] listen = %s is not an IPv4 or IPv6 address", cfg->web_listen);
		web_free(w);
		return -EINVAL;
	}
	(void)sslen;
	if (cfg->web_cert_file[0]) {
		r = read_file(cfg->web_cert_file, &w->tls_cert, &certlen);
		if (r == 0)
			r = read_file(cfg->web_key_file, &w->tls_key, &w->tls_key_len);
		if (r < 0) {
			log_error("web: cannot read the TLS certificate %s or key %s: %s", cfg->web_cert_file,
				  cfg->web_key_file, strerror(-r));
			web_free(w);
			return r;
		}
		w->tls = 1;
		flags |= MHD_USE_TLS;
	}
	struct MHD_OptionItem opts[] = {
		{ MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL },
		{ MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->web_max_connections, NULL },
		{ MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)cfg->web_max_per_ip, NULL },
		{ MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->web_timeout_s, NULL },
		{ MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(cfg->web_max_header_kb * 1024), NULL },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, w },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)connection_notify, w },
		{ MHD_OPTION_SOCK_ADDR, 0, &ss },
		{ w->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, w->tls_cert },
		{ w->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, w->tls_key },
		{ MHD_OPTION_END, 0, NULL },
	};
	w->d = MHD_start_daemon(flags, (uint16_t)cfg->web_port, accept_policy, w, handler, w,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!w->d) {
		log_error("web: cannot listen on %s port %lld%s (is the port in use? see the messages above)",
			  cfg->web_listen, (long long)cfg->web_port, w->tls ? " with TLS" : "");
		web_free(w);
		return -EADDRINUSE;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_BIND_PORT);
	w->port = di ? di->port : (unsigned)cfg->web_port;
	/* The port actually bound (port = 0 picks a free one), for scripts and tests. */
	snprintf(w->port_file, sizeof(w->port_file), "%s/web.port", cfg->runtime_dir);
	char txt[16];
	int n = snprintf(txt, sizeof(txt), "%u\n", w->port);
	if (fs_write_atomic(w->port_file, txt, (size_t)n, 0644) < 0)
		log_warn("web: cannot write %s", w->port_file);
	log_info("web: serving %s://%s:%u/", w->tls ? "https" : "http", cfg->web_listen, w->port);
	/* The dummy hash for unknown names, now rather than in the first login (whose time
	 * would tell). */
	accounts_prepare();
	*ret = w;
	return 0;
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	MHD_stop_daemon(w->d);
	unlink(w->port_file);
	web_free(w);
}
