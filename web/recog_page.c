/* The recognised fields on a document's page: type, confidence, the "needs review" mark,
 * each field as recognised and as corrected by staff, and the correction form (a plain
 * form; the recognised result is kept, a correction is stored beside it and audited). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/recog_view.h"
#include "store/docs.h"
#include "gateway/log.h"
#include "web/internal.h"
#include "web/labels.h"

#define HTML "text/html; charset=utf-8"

static const enum str labels[] = { S_F_ID_NUMBER, S_F_OLD_ID,     S_F_FULL_NAME,   S_F_DOB,        S_F_SEX,
				   S_F_RESIDENCE, S_F_ISSUE_DATE, S_F_EXPIRY_DATE, S_F_NATIONALITY };

static const char *const types[] = { "id_card_front",          "id_card_back",
				     "birth_certificate",      "marriage_certificate",
				     "household_registration", "land_certificate",
				     "application_form",       "unknown" };

static const char *field_of(json_t *result, const char *name)
{
	json_t *v = json_object_get(json_object_get(result, "fields"), name);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int is_date_field(const char *name)
{
	return strstr(name, "date") != NULL;
}

/* A field's value for people: dates as dd/mm/yyyy, sex and nationality in words. */
static void show_value(struct buf *b, struct req *r, const char *name, const char *v)
{
	if (!v)
		buf_puts(b, "—");
	else if (is_date_field(name))
		buf_when_iso(b, v);
	else if (strcmp(name, "sex") == 0)
		buf_label(b, r->lang, LG_SEX, v);
	else if (strcmp(name, "nationality") == 0)
		buf_label(b, r->lang, LG_NATIONALITY, v);
	else
		buf_esc(b, v);
}

/* "1990-09-02" as "02/09/1990" for a form (anything else as it is). */
static const char *form_date(const char *v, char out[16])
{
	unsigned y, m, d;
	if (v && strlen(v) == 10 && sscanf(v, "%4u-%2u-%2u", &y, &m, &d) == 3)
		snprintf(out, 16, "%02u/%02u/%04u", d % 100, m % 100, y % 10000);
	else
		snprintf(out, 16, "%.15s", v ? v : "");
	return out;
}

/* The value a refused form had for name ("" when absent). */
static const char *typed_of(struct req *r, const char *name, char *out, size_t size)
{
	if (form_get(r->body.p ? r->body.p : "", r->body.len, name, out, size) < 0)
		out[0] = '\0';
	return out;
}

static void invalid_mark(struct buf *b, const char *bad, const char *name)
{
	if (bad && strcmp(bad, name) == 0)
		buf_puts(b, " aria-invalid=\"true\" aria-describedby=\"form-error\" class=\"invalid\"");
}

void web_recog_section(struct req *r, struct buf *b, const char *doc_id, const char *refused, const char *bad)
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
	buf_label(b, r->lang, LG_DOC_TYPE, json_string_value(json_object_get(v, "type")));
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
		web_actor(&m, r->lang, json_string_value(json_object_get(cor, "actor")));
		buf_puts(&m, ", ");
		buf_when_iso(&m, json_string_value(json_object_get(cor, "at")));
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
		show_value(b, r, recog_fields[i], a);
		buf_puts(b, "</td><td>");
		if (cres && (!a || !c || strcmp(a, c) != 0))
			show_value(b, r, recog_fields[i], c);
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</tbody></table>");

	/* The correction form, filled with the current values (or what a refused one had). */
	char tv[256], dv[16];
	buf_printf(b, "<details%s id=\"correct\"><summary>",
		   refused || json_is_true(json_object_get(v, "needs_review")) ? " open" : "");
	buf_esc(b, T(r->lang, S_REC_CORRECT));
	buf_puts(b, "</summary>");
	if (refused)
		buf_printf(b, "<p class=\"err\" id=\"form-error\" role=\"alert\">%s</p>", refused);
	buf_printf(b, "<form method=\"post\" action=\"/documents/%s/fields\">", doc_id);
	web_csrf_input(r, b);
	buf_puts(b, "<p><label for=\"in-type\">");
	buf_esc(b, T(r->lang, S_REC_TYPE));
	buf_puts(b, "</label><br><select id=\"in-type\" name=\"type\"");
	invalid_mark(b, bad, "type");
	buf_puts(b, ">");
	const char *ctype =
	    refused ? typed_of(r, "type", tv, sizeof(tv)) : json_string_value(json_object_get(cur, "type"));
	int known_type = 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int sel = ctype && strcmp(ctype, types[i]) == 0;
		known_type |= sel;
		buf_printf(b, "<option value=\"%s\"%s>", types[i], sel ? " selected" : "");
		buf_label(b, r->lang, LG_DOC_TYPE, types[i]);
		buf_puts(b, "</option>");
	}
	if (ctype && ctype[0] && !known_type) {
		buf_puts(b, "<option value=\"");
		buf_esc(b, ctype);
		buf_puts(b, "\" selected>");
		buf_label(b, r->lang, LG_DOC_TYPE, ctype);
		buf_puts(b, "</option>");
	}
	buf_puts(b, "</select></p>");
	for (size_t i = 0; i < recog_nfields; i++) {
		const char *name = recog_fields[i];
		const char *c = refused ? typed_of(r, name, tv, sizeof(tv)) : field_of(cur, name);
		buf_printf(b, "<p><label for=\"in-%s\">", name);
		buf_esc(b, T(r->lang, labels[i]));
		if (strcmp(name, "sex") == 0) {
			buf_printf(b, "</label><br><select id=\"in-%s\" name=\"%s\"", name, name);
			invalid_mark(b, bad, name);
			buf_printf(b, "><option value=\"\">—</option><option value=\"M\"%s>",
				   c && strcmp(c, "M") == 0 ? " selected" : "");
			buf_label(b, r->lang, LG_SEX, "M");
			buf_printf(b, "</option><option value=\"F\"%s>",
				   c && strcmp(c, "F") == 0 ? " selected" : "");
			buf_label(b, r->lang, LG_SEX, "F");
			buf_puts(b, "</option></select></p>");
			continue;
		}
		buf_printf(b, "</label><br><input id=\"in-%s\" name=\"%s\" maxlength=\"200\" size=\"40\"",
			   name, name);
		if (is_date_field(name))
			buf_puts(b, " placeholder=\"dd/mm/yyyy\"");
		invalid_mark(b, bad, name);
		buf_puts(b, " value=\"");
		buf_esc(b, is_date_field(name) && !refused ? form_date(c, dv) : c ? c : "");
		buf_puts(b, "\"></p>");
	}
	buf_puts(b, "<p><button>");
	buf_esc(b, T(r->lang, S_REC_SAVE));
	buf_puts(b, "</button></p></form></details></section>");
	json_decref(v);
}

/* A day as people type it ("2/9/1990", "02-09-1990", "02.09.1990") or as stored
 * ("1990-09-02") into out as YYYY-MM-DD; -EINVAL for anything else. */
static int vn_date(const char *s, char out[16])
{
	unsigned a, b2, c;
	char s1, s2, tail;
	if (sscanf(s, "%4u%c%2u%c%4u%c", &a, &s1, &b2, &s2, &c, &tail) != 5 || s1 != s2 ||
	    (s1 != '/' && s1 != '-' && s1 != '.'))
		return -EINVAL;
	unsigned y = a > 31 ? a : c, m = b2, d = a > 31 ? c : a;
	if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31 || (a > 31 && s1 != '-'))
		return -EINVAL;
	snprintf(out, 16, "%04u-%02u-%02u", y, m, d);
	return 0;
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
	const char *bad = NULL;
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
		char iso[16];
		if (i < recog_nfields && is_date_field(name) && p[0]) {
			if (vn_date(p, iso) < 0 && !bad)
				bad = name;
			else if (vn_date(p, iso) == 0)
				p = iso;
		}
		json_object_set_new(edits, name, json_string(p));
	}
	int rc = bad ? -EINVAL : recog_correct_fields(r->w->store, db, id, edits, r->actor, why, sizeof(why));
	json_decref(edits);
	if (rc >= 0) {
		snprintf(loc, sizeof(loc), "/documents/%s?msg=%s", id, rc == 0 ? "corrected" : "unchanged");
		return web_redirect(r, loc);
	}
	if (rc == -ENOENT)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	if (!bad) {
		log_info("web: correction of document %s refused: %s", id, why);
		for (size_t i = 0; i <= recog_nfields && !bad; i++) {
			const char *name = i < recog_nfields ? recog_fields[i] : "type";
			size_t n2 = strlen(name);
			if (strncmp(why, name, n2) == 0 && why[n2] == ' ')
				bad = name;
		}
	}
	struct buf t;
	buf_init(&t, 1024);
	if (bad) {
		size_t k = 0;
		while (k < recog_nfields && strcmp(recog_fields[k], bad) != 0)
			k++;
		buf_t(&t, r->lang, S_RCE_FIELD, 0, 0, T(r->lang, k < recog_nfields ? labels[k] : S_REC_TYPE));
		buf_puts(&t, " ");
		buf_esc(&t,
			T(r->lang,
			  is_date_field(bad)                      ? S_RCE_DATE
			      : strcmp(bad, "id_number") == 0     ? S_RCE_ID12
			      : strcmp(bad, "old_id_number") == 0 ? S_RCE_ID9
			      : strcmp(bad, "nationality") == 0   ? S_RCE_NAT
								  : S_RCE_TEXT));
	} else {
		buf_esc(&t, T(r->lang, S_DSE_STORE));
	}
	enum MHD_Result ret =
	    web_document_page(r, id, MHD_HTTP_UNPROCESSABLE_CONTENT, t.p ? t.p : "", bad ? bad : "");
	buf_free(&t);
	return ret;
}
