/* The recognised fields on a document's page: type, confidence, the "needs review" mark,
 * each field as recognised and as corrected by staff, and the correction form (a plain
 * form; the recognised result is kept, a correction is stored beside it and audited). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/recog_view.h"
#include "store/docs.h"
#include "web/internal.h"

#define HTML "text/html; charset=utf-8"

static const enum str labels[] = { S_F_ID_NUMBER, S_F_OLD_ID,     S_F_FULL_NAME,   S_F_DOB,        S_F_SEX,
				   S_F_RESIDENCE, S_F_ISSUE_DATE, S_F_EXPIRY_DATE, S_F_NATIONALITY };

static const char *field_of(json_t *result, const char *name)
{
	json_t *v = json_object_get(json_object_get(result, "fields"), name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

void web_recog_section(struct req *r, struct buf *b, const char *doc_id)
{
	json_t *v = NULL;
	struct db *db = web_db(r);
	int rc = db ? recog_view(r->w->store, db, doc_id, &v) : -EIO;
	const char *state = rc == 0 ? json_string_value(json_object_get(v, "state")) : "";
	json_t *res = rc == 0 ? json_object_get(v, "result") : NULL;
	json_t *cor = rc == 0 ? json_object_get(v, "correction") : NULL;
	json_t *cres = json_object_get(cor, "result");
	json_t *cur = cres ? cres : res;

	buf_puts(b, "<section aria-labelledby=\"rec\"><h2 id=\"rec\">");
	buf_esc(b, T(r->lang, S_DOC_FIELDS));
	buf_puts(b, "</h2>");
	if (rc < 0 || (!res && strcmp(state, "failed") != 0)) {
		buf_puts(b, "<p id=\"recognised\">");
		buf_esc(b, T(r->lang, rc == 0 ? S_REC_PENDING : S_DOC_NO_FIELDS));
		buf_puts(b, "</p></section>");
		json_decref(v);
		return;
	}
	buf_puts(b, "<dl id=\"recognised\"><dt>");
	buf_esc(b, T(r->lang, S_REC_TYPE));
	buf_puts(b, "</dt><dd id=\"rec-type\">");
	buf_esc(b, json_string_value(json_object_get(v, "type")));
	buf_puts(b, "</dd><dt>");
	buf_esc(b, T(r->lang, S_REC_CONFIDENCE));
	buf_printf(b, "</dt><dd id=\"rec-confidence\">%.0f%%</dd></dl>",
		   100.0 * json_real_value(json_object_get(res ? res : v, "confidence")));
	if (json_is_true(json_object_get(v, "needs_review"))) {
		buf_puts(b, "<p class=\"err\" id=\"needs-review\"><strong>");
		buf_esc(b, T(r->lang, S_REC_NEEDS_REVIEW));
		buf_puts(b, "</strong></p>");
	}
	if (cor) {
		struct buf m;
		buf_init(&m, 512);
		buf_esc(&m, T(r->lang, S_REC_CORRECTED_BY));
		buf_puts(&m, " ");
		buf_esc(&m, json_string_value(json_object_get(cor, "actor")));
		buf_puts(&m, ", ");
		buf_esc(&m, json_string_value(json_object_get(cor, "at")));
		web_notice(b, "ok", m.p ? m.p : "");
		buf_free(&m);
	}
	buf_puts(b, "<table id=\"rec-fields\"><thead><tr><th scope=\"col\">");
	buf_esc(b, T(r->lang, S_REC_FIELD));
	buf_puts(b, "</th><th scope=\"col\">");
	buf_esc(b, T(r->lang, S_REC_RECOGNISED));
	buf_puts(b, "</th><th scope=\"col\">");
	buf_esc(b, T(r->lang, S_REC_CORRECTED));
	buf_puts(b, "</th></tr></thead><tbody>");
	for (size_t i = 0; i < recog_nfields; i++) {
		const char *a = field_of(res, recog_fields[i]),
			   *c = cres ? field_of(cres, recog_fields[i]) : NULL;
		if (!a && !c)
			continue;
		buf_printf(b, "<tr id=\"f-%s\"><th scope=\"row\">", recog_fields[i]);
		buf_esc(b, T(r->lang, labels[i]));
		buf_puts(b, "</th><td>");
		buf_esc(b, a ? a : "—");
		buf_puts(b, "</td><td>");
		if (cres && (!a || !c || strcmp(a, c) != 0))
			buf_esc(b, c ? c : "—");
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</tbody></table>");

	/* The correction form, filled with the current values. */
	buf_printf(b, "<details%s><summary>",
		   json_is_true(json_object_get(v, "needs_review")) ? " open" : "");
	buf_esc(b, T(r->lang, S_REC_CORRECT));
	buf_printf(b, "</summary><form method=\"post\" action=\"/documents/%s/fields\">", doc_id);
	web_csrf_input(r, b);
	buf_puts(b, "<p><label for=\"in-type\">");
	buf_esc(b, T(r->lang, S_REC_TYPE));
	buf_puts(b, "</label><br><input id=\"in-type\" name=\"type\" maxlength=\"40\" value=\"");
	buf_esc(b,
		json_string_value(json_object_get(cur, "type"))
		    ? json_string_value(json_object_get(cur, "type"))
		    : "");
	buf_puts(b, "\"></p>");
	for (size_t i = 0; i < recog_nfields; i++) {
		const char *c = field_of(cur, recog_fields[i]);
		buf_printf(b, "<p><label for=\"in-%s\">", recog_fields[i]);
		buf_esc(b, T(r->lang, labels[i]));
		buf_printf(
		    b, "</label><br><input id=\"in-%s\" name=\"%s\" maxlength=\"200\" size=\"40\" value=\"",
		    recog_fields[i], recog_fields[i]);
		buf_esc(b, c ? c : "");
		buf_puts(b, "\"></p>");
	}
	buf_puts(b, "<p><button>");
	buf_esc(b, T(r->lang, S_REC_SAVE));
	buf_puts(b, "</button></p></form></details></section>");
	json_decref(v);
}

/* POST /documents/ID/fields: a correction. */
enum MHD_Result post_document(struct req *r)
{
	const char *rest = r->path + strlen("/documents/");
	char id[DOC_ID_LEN], why[256] = "", val[256], loc[96];
	size_t n = strspn(rest, "0123456789abcdef");
	struct db *db = web_db(r);
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (n == DOC_ID_LEN - 1 && strcmp(rest + n, "/chip") == 0) {
		memcpy(id, rest, n);
		id[n] = '\0';
		return post_document_chip(r, id);
	}
	if (n != DOC_ID_LEN - 1 || strcmp(rest + n, "/fields") != 0)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	memcpy(id, rest, n);
	id[n] = '\0';
	json_t *edits = json_object();
	if (!edits)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	for (size_t i = 0; i <= recog_nfields; i++) {
		const char *name = i < recog_nfields ? recog_fields[i] : "type";
		/* A field left out of the form is kept; an empty one removes the value. */
		ssize_t got = form_get(r->body.p ? r->body.p : "", r->body.len, name, val, sizeof(val));
		if (got == -ENOENT)
			continue;
		if (got < 0) {
			json_decref(edits);
			return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
		}
		/* Surrounding spaces from a copy-paste are not part of a value. */
		char *p = val + strspn(val, " ");
		size_t len = strlen(p);
		while (len > 0 && p[len - 1] == ' ')
			p[--len] = '\0';
		json_object_set_new(edits, name, json_string(p));
	}
	int rc = recog_correct_fields(r->w->store, db, id, edits, r->actor, why, sizeof(why));
	json_decref(edits);
	if (rc >= 0) {
		snprintf(loc, sizeof(loc), "/documents/%s?msg=%s", id, rc == 0 ? "corrected" : "unchanged");
		return web_redirect(r, loc);
	}
	struct buf b, t;
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_DOC_VIEW, "/documents");
	buf_init(&t, 1024);
	buf_esc(&t, T(r->lang, S_REC_FAILED));
	buf_puts(&t, " ");
	buf_esc(&t, why);
	web_notice(&b, "err", t.p ? t.p : "");
	buf_free(&t);
	buf_printf(&b, "<p><a href=\"/documents/%s\">", id);
	buf_esc(&b, T(r->lang, S_DOC_VIEW));
	buf_puts(&b, "</a></p>");
	web_page_end(r, &b);
	return web_send(r, rc == -ENOENT ? MHD_HTTP_NOT_FOUND : MHD_HTTP_UNPROCESSABLE_CONTENT, HTML, &b);
}
