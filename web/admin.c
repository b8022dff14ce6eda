/* People: log in and out, one's own password, and the admins' accounts and API tokens. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gateway/accounts.h"
#include "store/users.h"
#include "web/internal.h"

#define HTML "text/html; charset=utf-8"

static enum MHD_Result redirect_with_cookies(struct req *r, const char *location, const char *c1,
					     const char *c2)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	if (c1)
		MHD_add_response_header(resp, "Set-Cookie", c1);
	if (c2)
		MHD_add_response_header(resp, "Set-Cookie", c2);
	MHD_add_response_header(resp, "Location", location);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	web_add_security_headers(resp, r->w->tls);
	r->status = MHD_HTTP_SEE_OTHER;
	enum MHD_Result ret = MHD_queue_response(r->c, MHD_HTTP_SEE_OTHER, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void session_cookie(struct req *r, char *out, size_t size, const char *value)
{
	snprintf(out, size, "motcua_session=%s; Path=/; HttpOnly; SameSite=Strict%s", value,
		 r->w->tls ? "; Secure" : "");
}

/* A local path to go back to after login, or "/". */
static const char *safe_next(const char *next)
{
	if (!next || !web_local_path(next) || strncmp(next, "/login", 6) == 0)
		return "/";
	return next;
}

/* ---- login ------------------------------------------------------------------------------ */

static enum MHD_Result login_form(struct req *r, unsigned status, const char *error_html, const char *next,
				  const char *name)
{
	unsigned char raw[32];
	char pre[65], cookie[160];
	struct buf b;
	static const char digits[] = "0123456789abcdef";

	/* A pre-session token, in a cookie and in the form: a login form posted from another
	 * site carries neither the same value nor (SameSite=Strict) the cookie. */
	/* The one the browser holds is kept: another tab, or a request for an icon bounced
	 * here, must not invalidate the form already on screen. */
	const char *held = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "motcua_pre");
	if (held && strlen(held) == 64 && strspn(held, "0123456789abcdef") == 64) {
		memcpy(pre, held, 65);
	} else {
		if (RAND_bytes(raw, sizeof(raw)) != 1)
			return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		for (int i = 0; i < 32; i++) {
			pre[2 * i] = digits[raw[i] >> 4];
			pre[2 * i + 1] = digits[raw[i] & 15];
		}
		pre[64] = '\0';
	}
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_LOGIN, "");
	const char *m = web_arg(r, "msg");
	if (m && strcmp(m, "loggedout") == 0) {
		buf_puts(&b, "<p class=\"ok\" role=\"status\">");
		buf_esc(&b, T(r->lang, S_LOGGED_OUT));
		buf_puts(&b, "</p>");
	}
	if (error_html)
		web_notice(&b, "err", error_html);
	buf_printf(&b,
		   "<form method=\"post\" action=\"/login\" class=\"login\"><input type=\"hidden\" "
		   "name=\"csrf\" value=\"%s\"><input type=\"hidden\" name=\"next\" value=\"",
		   pre);
	buf_esc(&b, safe_next(next));
	buf_puts(&b, "\"><p><label for=\"name\">");
	buf_esc(&b, T(r->lang, S_USERNAME));
	buf_puts(&b,
		 "</label><br><input type=\"text\" id=\"name\" name=\"name\" autocomplete=\"username\" "
		 "autocapitalize=\"none\" required maxlength=\"32\" value=\"");
	buf_esc(&b, name ? name : "");
	buf_puts(&b, "\"></p><p><label for=\"password\">");
	buf_esc(&b, T(r->lang, S_PASSWORD));
	buf_puts(
	    &b,
	    "</label><br><input type=\"password\" id=\"password\" name=\"password\" "
	    "autocomplete=\"current-password\" required maxlength=\"128\"></p><p><button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_LOGIN));
	buf_puts(&b, "</button></p></form>");
	web_page_end(r, &b);

	size_t len;
	char *body = buf_steal(&b, &len);
	if (b.err || !body) {
		free(body);
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	}
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	snprintf(cookie, sizeof(cookie), "motcua_pre=%s; Path=/login; HttpOnly; SameSite=Strict%s", pre,
		 r->w->tls ? "; Secure" : "");
	MHD_add_response_header(resp, "Set-Cookie", cookie);
	MHD_add_response_header(resp, "Content-Type", HTML);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	web_add_security_headers(resp, r->w->tls);
	r->status = status;
	enum MHD_Result ret = MHD_queue_response(r->c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result page_login(struct req *r)
{
	return login_form(r, MHD_HTTP_OK, NULL, web_arg(r, "next"), NULL);
}

enum MHD_Result post_login(struct req *r)
{
	struct db *db = web_db(r);
	char tok[80], name[64], pw[ACCOUNTS_PASSWORD_MAX + 2], next[420], cookie[ACCOUNTS_COOKIE_LEN],
	    csrf[65], c1[200];
	const char *pre = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "motcua_pre");
	struct user u;
	int64_t wait_s = 0;
	struct buf e;
	int rc;

	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "csrf", tok, sizeof(tok)) < 0 || !pre || !accounts_token_equal(pre, tok) ||
	    strlen(pre) != 64)
		return web_error(r, MHD_HTTP_FORBIDDEN, S_CSRF_BAD);
	if (web_field(r, "name", name, sizeof(name)) < 0 || web_field(r, "password", pw, sizeof(pw)) < 0 ||
	    web_field(r, "next", next, sizeof(next)) < 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	rc = accounts_login(db, &r->w->pol, name, pw, r->remote, &u, &wait_s);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc < 0) {
		unsigned status = rc == -ENOLCK ? MHD_HTTP_TOO_MANY_REQUESTS
		    : rc == -EPERM              ? MHD_HTTP_FORBIDDEN
						: MHD_HTTP_UNAUTHORIZED;
		buf_init(&e, 1024);
		if (rc == -ENOLCK)
			buf_t(&e, r->lang, S_LOGIN_LOCKED, (wait_s + 59) / 60, 0, NULL);
		else
			buf_esc(&e,
				T(r->lang,
				  rc == -EPERM        ? S_LOGIN_DISABLED
				      : rc == -EACCES ? S_LOGIN_BAD
						      : S_SERVER_ERROR));
		enum MHD_Result ret =
		    login_form(r, status, e.p ? e.p : "", next, users_name_valid(name) ? name : "");
		buf_free(&e);
		return ret;
	}
	rc = accounts_session_open(db, &r->w->pol, u.name, cookie, csrf);
	if (rc < 0)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	session_cookie(r, c1, sizeof(c1), cookie);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	enum MHD_Result ret =
	    redirect_with_cookies(r, u.must_change ? "/account" : safe_next(next), c1,
				  "motcua_pre=; Path=/login; Max-Age=0; HttpOnly; SameSite=Strict");
	OPENSSL_cleanse(c1, sizeof(c1));
	return ret;
}

enum MHD_Result post_logout(struct req *r)
{
	struct db *db = web_db(r);
	const char *cookie = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "motcua_session");
	char c1[200];
	if (db && cookie)
		accounts_session_close(db, cookie, r->actor);
	snprintf(c1, sizeof(c1), "motcua_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		 r->w->tls ? "; Secure" : "");
	return redirect_with_cookies(r, "/login?msg=loggedout", c1, NULL);
}

/* ---- one's own account ----------------------------------------------------------------- */

static void password_input(struct buf *b, struct req *r, const char *id, enum str label, const char *ac)
{
	buf_printf(b, "<p><label for=\"%s\">", id);
	buf_esc(b, T(r->lang, label));
	buf_printf(b,
		   "</label><br><input type=\"password\" id=\"%s\" name=\"%s\" autocomplete=\"%s\" required "
		   "minlength=\"%d\" maxlength=\"%d\"></p>",
		   id, id, ac, strcmp(id, "old") == 0 ? 1 : ACCOUNTS_PASSWORD_MIN, ACCOUNTS_PASSWORD_MAX);
}

static enum MHD_Result account_page(struct req *r, unsigned status, enum str error)
{
	struct buf b;
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_ACCOUNT, "/account");
	if (r->user.must_change) {
		buf_puts(&b, "<p class=\"err\" role=\"alert\">");
		buf_esc(&b, T(r->lang, S_MUST_CHANGE));
		buf_puts(&b, "</p>");
	}
	if (error != S_COUNT) {
		buf_puts(&b, "<p class=\"err\" role=\"alert\">");
		buf_esc(&b, T(r->lang, error));
		buf_puts(&b, "</p>");
	}
	buf_puts(&b, "<h2>");
	buf_esc(&b, T(r->lang, S_CHANGE_PASSWORD));
	buf_puts(&b, "</h2><form method=\"post\" action=\"/account\" class=\"login\">");
	web_csrf_input(r, &b);
	buf_printf(&b,
		   "<input type=\"text\" name=\"username\" autocomplete=\"username\" value=\"%s\" hidden>",
		   r->user.name);
	password_input(&b, r, "old", S_CUR_PASSWORD, "current-password");
	password_input(&b, r, "new", S_NEW_PASSWORD, "new-password");
	password_input(&b, r, "again", S_CONFIRM_PASSWORD, "new-password");
	buf_puts(&b, "<p>");
	buf_esc(&b, T(r->lang, S_PASSWORD_RULE));
	buf_puts(&b, "</p><p><button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_CHANGE_PASSWORD));
	buf_puts(&b, "</button></p></form>");
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_account(struct req *r)
{
	return account_page(r, MHD_HTTP_OK, S_COUNT);
}

enum MHD_Result post_account(struct req *r)
{
	struct db *db = web_db(r);
	char old[ACCOUNTS_PASSWORD_MAX + 2], pw[ACCOUNTS_PASSWORD_MAX + 2], again[ACCOUNTS_PASSWORD_MAX + 2],
	    why[256], cookie[ACCOUNTS_COOKIE_LEN], csrf[65], c1[200];
	enum MHD_Result ret;
	int rc;

	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "old", old, sizeof(old)) < 0 || web_field(r, "new", pw, sizeof(pw)) < 0 ||
	    web_field(r, "again", again, sizeof(again)) < 0) {
		ret = account_page(r, MHD_HTTP_BAD_REQUEST, S_PASSWORD_BAD);
		goto out;
	}
	if (strcmp(pw, again) != 0) {
		ret = account_page(r, MHD_HTTP_BAD_REQUEST, S_PASSWORD_MISMATCH);
		goto out;
	}
	rc = accounts_change_own(db, r->user.name, old, pw, why, sizeof(why));
	if (rc == -EACCES) {
		ret = account_page(r, MHD_HTTP_FORBIDDEN, S_PASSWORD_WRONG);
		goto out;
	}
	if (rc == -EINVAL) {
		ret = account_page(r, MHD_HTTP_BAD_REQUEST, S_PASSWORD_BAD);
		goto out;
	}
	if (rc < 0) {
		ret = web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		goto out;
	}
	/* Every session of the account ended with the change: this one gets a fresh one. */
	if (accounts_session_open(db, &r->w->pol, r->user.name, cookie, csrf) < 0) {
		ret = web_redirect(r, "/login");
		goto out;
	}
	session_cookie(r, c1, sizeof(c1), cookie);
	ret = redirect_with_cookies(r, "/?msg=passwd", c1, NULL);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	OPENSSL_cleanse(c1, sizeof(c1));
out:
	OPENSSL_cleanse(old, sizeof(old));
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(again, sizeof(again));
	return ret;
}

/* ---- accounts and tokens (admins) ------------------------------------------------------- */

struct ulist {
	struct req *r;
	struct buf *b;
};

static void user_button(struct ulist *x, const char *name, const char *what, enum str label)
{
	struct buf *b = x->b;
	buf_puts(b, "<form method=\"post\" action=\"/users\" class=\"inline\">");
	web_csrf_input(x->r, b);
	buf_printf(
	    b,
	    "<input type=\"hidden\" name=\"do\" value=\"%s\"><input type=\"hidden\" name=\"name\" value=\"",
	    what);
	buf_esc(b, name);
	buf_puts(b, "\"><button type=\"submit\">");
	buf_esc(b, T(x->r->lang, label));
	buf_puts(b, "</button></form> ");
}

static int user_row(void *ctx, const struct user *u)
{
	struct ulist *x = ctx;
	struct buf *b = x->b;
	enum lang l = x->r->lang;
	buf_puts(b, "<tr><td>");
	buf_esc(b, u->name);
	buf_puts(b, "</td><td>");
	buf_esc(b, T(l, strcmp(u->role, "admin") == 0 ? S_ROLE_ADMIN : S_ROLE_STAFF));
	buf_puts(b, "</td><td>");
	buf_esc(b, T(l, u->disabled ? S_USER_DISABLED : S_USER_ACTIVE));
	if (u->locked_until > (int64_t)time(NULL)) {
		buf_puts(b, ", ");
		buf_esc(b, T(l, S_USER_LOCKED));
	}
	if (u->must_change) {
		buf_puts(b, ", ");
		buf_esc(b, T(l, S_USER_ONE_TIME));
	}
	buf_puts(b, "</td><td>");
	if (strcmp(u->name, x->r->user.name) != 0)
		user_button(x, u->name, u->disabled ? "enable" : "disable",
			    u->disabled ? S_USER_ENABLE : S_USER_DISABLE);
	/* A one-time password for someone who forgot theirs. */
	buf_puts(b, "<form method=\"post\" action=\"/users\" class=\"inline\">");
	web_csrf_input(x->r, b);
	buf_puts(b,
		 "<input type=\"hidden\" name=\"do\" value=\"reset\"><input type=\"hidden\" name=\"name\" "
		 "value=\"");
	buf_esc(b, u->name);
	buf_printf(b, "\"><label for=\"pw-%s\">", u->name);
	buf_esc(b, T(l, S_USER_RESET));
	buf_printf(
	    b,
	    "</label> <input type=\"password\" id=\"pw-%s\" name=\"password\" autocomplete=\"new-password\" "
	    "minlength=\"%d\" maxlength=\"%d\" required> <button type=\"submit\">OK</button></form>",
	    u->name, ACCOUNTS_PASSWORD_MIN, ACCOUNTS_PASSWORD_MAX);
	buf_puts(b, "</td></tr>");
	return 0;
}

static int token_row(void *ctx, const struct api_token *t)
{
	struct ulist *x = ctx;
	struct buf *b = x->b;
	buf_printf(b, "<tr><td>%lld</td><td>", (long long)t->id);
	buf_esc(b, t->name);
	buf_puts(b, "</td><td>");
	buf_esc(b, t->created_by);
	buf_puts(b, "</td><td>");
	buf_when_iso(b, t->created_at);
	buf_puts(b, "</td><td>");
	if (t->revoked) {
		buf_esc(b, T(x->r->lang, S_TOKEN_REVOKED));
	} else {
		buf_puts(b, "<form method=\"post\" action=\"/users\" class=\"inline\">");
		web_csrf_input(x->r, b);
		buf_printf(b,
			   "<input type=\"hidden\" name=\"do\" value=\"token_revoke\"><input type=\"hidden\" "
			   "name=\"id\" value=\"%lld\"><button type=\"submit\">",
			   (long long)t->id);
		buf_esc(b, T(x->r->lang, S_TOKEN_REVOKE));
		buf_puts(b, "</button></form>");
	}
	buf_puts(b, "</td></tr>");
	return 0;
}

static enum MHD_Result users_page(struct req *r, unsigned status, enum str error, const char *new_token)
{
	struct db *db = web_db(r);
	struct buf b;
	struct ulist x = { .r = r, .b = &b };
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_NAV_USERS, "/users");
	const char *m = web_arg(r, "msg");
	if (m && strcmp(m, "user") == 0) {
		buf_puts(&b, "<p class=\"ok\" role=\"status\">");
		buf_esc(&b, T(r->lang, S_USER_DONE));
		buf_puts(&b, "</p>");
	}
	if (error != S_COUNT) {
		buf_puts(&b, "<p class=\"err\" role=\"alert\">");
		buf_esc(&b, T(r->lang, error));
		buf_puts(&b, "</p>");
	}
	if (new_token) {
		buf_puts(&b, "<p class=\"ok\" role=\"status\">");
		buf_esc(&b, T(r->lang, S_TOKEN_SHOWN_ONCE));
		buf_printf(&b, " <code id=\"new-token\">%s</code></p>", new_token);
	}
	buf_puts(&b, "<h2>");
	buf_esc(&b, T(r->lang, S_USERS_LIST));
	buf_puts(&b, "</h2><table id=\"users\"><thead><tr>");
	web_th(&b, r, S_USERNAME);
	web_th(&b, r, S_USER_ROLE);
	web_th(&b, r, S_USER_STATE);
	web_th(&b, r, S_ACTIONS);
	buf_puts(&b, "</tr></thead><tbody>");
	users_list(db, user_row, &x);
	buf_puts(&b, "</tbody></table><h2>");
	buf_esc(&b, T(r->lang, S_USER_ADD));
	buf_puts(&b, "</h2><form method=\"post\" action=\"/users\">");
	web_csrf_input(r, &b);
	buf_puts(&b, "<input type=\"hidden\" name=\"do\" value=\"add\"><p><label for=\"new-name\">");
	buf_esc(&b, T(r->lang, S_USERNAME));
	buf_puts(&b,
		 "</label><br><input type=\"text\" id=\"new-name\" name=\"name\" required maxlength=\"32\" "
		 "autocomplete=\"off\"></p><p><label for=\"new-role\">");
	buf_esc(&b, T(r->lang, S_USER_ROLE));
	buf_puts(&b, "</label><br><select id=\"new-role\" name=\"role\"><option value=\"staff\">");
	buf_esc(&b, T(r->lang, S_ROLE_STAFF));
	buf_puts(&b, "</option><option value=\"admin\">");
	buf_esc(&b, T(r->lang, S_ROLE_ADMIN));
	buf_puts(&b, "</option></select></p><p><label for=\"new-pw\">");
	buf_esc(&b, T(r->lang, S_PASSWORD));
	buf_printf(
	    &b,
	    "</label><br><input type=\"password\" id=\"new-pw\" name=\"password\" required minlength=\"%d\" "
	    "maxlength=\"%d\" autocomplete=\"new-password\"></p><p><input type=\"checkbox\" "
	    "id=\"new-once\" name=\"one_time\" value=\"1\" checked> <label for=\"new-once\">",
	    ACCOUNTS_PASSWORD_MIN, ACCOUNTS_PASSWORD_MAX);
	buf_esc(&b, T(r->lang, S_USER_ONE_TIME_BOX));
	buf_puts(&b, "</label></p><p><button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_USER_ADD));
	buf_puts(&b, "</button></p></form><h2>");
	buf_esc(&b, T(r->lang, S_TOKENS));
	buf_puts(&b, "</h2><table id=\"tokens\"><thead><tr><th scope=\"col\">#</th>");
	web_th(&b, r, S_TOKEN_NAME);
	web_th(&b, r, S_TOKEN_CREATED_BY);
	web_th(&b, r, S_CREATED);
	web_th(&b, r, S_ACTIONS);
	buf_puts(&b, "</tr></thead><tbody>");
	tokens_list(db, token_row, &x);
	buf_puts(&b, "</tbody></table><form method=\"post\" action=\"/users\">");
	web_csrf_input(r, &b);
	buf_puts(&b, "<input type=\"hidden\" name=\"do\" value=\"token_add\"><p><label for=\"tok-name\">");
	buf_esc(&b, T(r->lang, S_TOKEN_NAME));
	buf_puts(
	    &b,
	    "</label><br><input type=\"text\" id=\"tok-name\" name=\"name\" required maxlength=\"60\"></p>"
	    "<p><button type=\"submit\">");
	buf_esc(&b, T(r->lang, S_TOKEN_ADD));
	buf_puts(&b, "</button></p></form>");
	web_page_end(r, &b);
	return web_send(r, status, HTML, &b);
}

enum MHD_Result page_users(struct req *r)
{
	return users_page(r, MHD_HTTP_OK, S_COUNT, NULL);
}

enum MHD_Result post_users(struct req *r)
{
	struct db *db = web_db(r);
	char what[16], name[64], role[8], pw[ACCOUNTS_PASSWORD_MAX + 2], once[4], id[24], why[256],
	    tok[ACCOUNTS_TOKEN_LEN];
	enum MHD_Result ret;
	int rc = 0;

	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (web_field(r, "do", what, sizeof(what)) < 0 || web_field(r, "name", name, sizeof(name)) < 0 ||
	    web_field(r, "role", role, sizeof(role)) < 0 || web_field(r, "password", pw, sizeof(pw)) < 0 ||
	    web_field(r, "one_time", once, sizeof(once)) < 0 || web_field(r, "id", id, sizeof(id)) < 0)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	if (strcmp(what, "add") == 0) {
		rc = accounts_add(db, name, role, pw, once[0] == '1', r->actor, why, sizeof(why));
		ret = rc == 0 ? web_redirect(r, "/users?msg=user")
		    : rc == -EINVAL && accounts_password_check(pw, why, sizeof(why)) < 0
		    ? users_page(r, MHD_HTTP_BAD_REQUEST, S_PASSWORD_BAD, NULL)
		    : rc == -EINVAL || rc == -EEXIST
		    ? users_page(r, MHD_HTTP_BAD_REQUEST, S_USER_BAD, NULL)
		    : web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	} else if (strcmp(what, "reset") == 0) {
		rc = accounts_passwd(db, name, pw, 1, r->actor, why, sizeof(why));
		ret = rc == 0       ? web_redirect(r, "/users?msg=user")
		    : rc == -EINVAL ? users_page(r, MHD_HTTP_BAD_REQUEST, S_PASSWORD_BAD, NULL)
		    : rc == -ENOENT ? web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND)
				    : web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	} else if (strcmp(what, "disable") == 0 || strcmp(what, "enable") == 0) {
		if (strcmp(name, r->user.name) == 0) /* an admin cannot lock themself out */
			return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
		rc = accounts_disable(db, name, what[0] == 'd', r->actor, why, sizeof(why));
		ret = rc == 0       ? web_redirect(r, "/users?msg=user")
		    : rc == -ENOENT ? web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND)
				    : web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	} else if (strcmp(what, "token_add") == 0) {
		rc = name[0] ? accounts_token_new(db, name, r->actor, tok, NULL) : -EINVAL;
		ret = rc == 0       ? users_page(r, MHD_HTTP_OK, S_COUNT, tok)
		    : rc == -EINVAL ? web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST)
				    : web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
		OPENSSL_cleanse(tok, sizeof(tok));
	} else if (strcmp(what, "token_revoke") == 0) {
		char *end;
		long long n = strtoll(id, &end, 10);
		rc = (!id[0] || *end) ? -EINVAL : tokens_revoke(db, n, r->actor);
		ret = rc == 0 ? web_redirect(r, "/users?msg=user")
			      : web_error(r, rc == -ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_BAD_REQUEST,
					  rc == -ENOENT ? S_NOT_FOUND : S_BAD_REQUEST);
	} else {
		ret = web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	return ret;
}
