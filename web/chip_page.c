/* The chip on a document's page (issue 18): the "Đọc chip" action next to a recognised ID
 * card (the key from its MRZ, or 3 typed lines), and the latest read: verified or not with
 * each check, the chip's fields, what differs from the recognised picture, the portrait. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/chip/service.h"
#include "gateway/daemon.h"
#include "store/chipreads.h"
#include "store/docs.h"
#include "store/recog.h"
#include "store/store.h"
#include "web/form.h"
#include "web/internal.h"
#include "web/labels.h"

#define HTML "text/html; charset=utf-8"

static const struct {
	const char *field;
	enum str label;
	int date;
} shown[] = {
	{ "id_number", S_F_ID_NUMBER, 0 },
	{ "full_name", S_F_FULL_NAME, 0 },
	{ "date_of_birth", S_F_DOB, 1 },
	{ "sex", S_F_SEX, 0 },
	{ "nationality", S_F_NATIONALITY, 0 },
	{ "ethnicity", S_CHIP_ETHNICITY, 0 },
	{ "religion", S_CHIP_RELIGION, 0 },
	{ "place_of_origin", S_CHIP_ORIGIN, 0 },
	{ "place_of_residence", S_F_RESIDENCE, 0 },
	{ "identifying_features", S_CHIP_FEATURES, 0 },
	{ "issue_date", S_F_ISSUE_DATE, 1 },
	{ "expiry_date", S_F_EXPIRY_DATE, 1 },
	{ "father_name", S_CHIP_FATHER, 0 },
	{ "mother_name", S_CHIP_MOTHER, 0 },
	{ "spouse_name", S_CHIP_SPOUSE, 0 },
	{ "old_id_number", S_F_OLD_ID, 0 },
};

static const struct {
	const char *check;
	enum str label;
} checks[] = {
	{ "sod_parsed", S_CHIP_CHECK_SOD },    { "signature", S_CHIP_CHECK_SIGNATURE },
	{ "csca_trusted", S_CHIP_CHECK_CSCA }, { "ds_valid_at_signing", S_CHIP_CHECK_DS_TIME },
	{ "all_hashes", S_CHIP_CHECK_HASHES },
};

static void last_read(struct req *r, struct buf *b, struct db *db, const struct chip_read_row *row)
{
	char *text = NULL;
	size_t len;
	if (recog_blob_text(store_blobs(r->w->store), row->result_sha256, &text, &len) < 0)
		return;
	json_t *res = json_loadb(text, len, 0, NULL);
	free(text);
	if (!res)
		return;
	json_t *pa = json_object_get(json_object_get(res, "checks"), "passive_authentication");
	json_t *fields = json_object_get(res, "fields");
	buf_puts(b, "<p id=\"chip-last\">");
	buf_esc(b, T(r->lang, S_CHIP_LAST));
	buf_puts(b, " ");
	buf_when_iso(b, row->at);
	buf_puts(b, ", ");
	web_actor(b, r->lang, row->actor);
	buf_puts(b, "</p>");
	if (row->verified) {
		buf_puts(b, "<p class=\"ok\" id=\"chip-verified\"><strong>");
		buf_esc(b, T(r->lang, S_CHIP_VERIFIED));
		buf_puts(b, "</strong></p>");
	} else {
		buf_puts(b, "<p class=\"err\" id=\"chip-not-verified\"><strong>");
		buf_esc(b, T(r->lang, S_CHIP_NOT_VERIFIED));
		buf_puts(b, "</strong></p>");
	}
	buf_puts(b, "<ul id=\"chip-checks\">");
	for (size_t i = 0; i < sizeof(checks) / sizeof(*checks); i++) {
		int ok = json_is_true(json_object_get(pa, checks[i].check));
		buf_printf(b, "<li id=\"chk-%s\" class=\"%s\">", checks[i].check, ok ? "ok" : "err");
		buf_esc(b, T(r->lang, checks[i].label));
		buf_puts(b, ": ");
		buf_esc(b, T(r->lang, ok ? S_CHIP_PASSED : S_CHIP_FAILED));
		buf_puts(b, "</li>");
	}
	json_t *aa = json_object_get(json_object_get(res, "chip"), "active_authentication");
	if (json_is_true(json_object_get(aa, "performed"))) {
		int ok = json_is_true(json_object_get(aa, "passed"));
		buf_printf(b, "<li id=\"chk-active_authentication\" class=\"%s\">", ok ? "ok" : "err");
		buf_esc(b, T(r->lang, S_CHIP_CHECK_AA));
		buf_puts(b, ": ");
		buf_esc(b, T(r->lang, ok ? S_CHIP_PASSED : S_CHIP_FAILED));
		buf_puts(b, "</li>");
	}
	buf_puts(b, "</ul>");
	json_t *diffs = json_object_get(res, "differences");
	if (json_array_size(diffs)) {
		buf_puts(b, "<p class=\"err\" id=\"chip-differs\"><strong>");
		buf_esc(b, T(r->lang, S_CHIP_DIFFERS));
		buf_puts(b, "</strong></p>");
	}
	buf_puts(b, "<table id=\"chip-fields\"><thead><tr><th scope=\"col\">");
	buf_esc(b, T(r->lang, S_REC_FIELD));
	buf_puts(b, "</th><th scope=\"col\">");
	buf_esc(b, T(r->lang, S_CHIP_VALUE));
	buf_puts(b, "</th><th scope=\"col\">");
	buf_esc(b, T(r->lang, S_REC_RECOGNISED));
	buf_puts(b, "</th></tr></thead><tbody>");
	for (size_t i = 0; i < sizeof(shown) / sizeof(*shown); i++) {
		const char *v = json_string_value(json_object_get(fields, shown[i].field));
		if (!v)
			continue;
		const char *other = NULL;
		size_t k;
		json_t *d;
		json_array_foreach (diffs, k, d)
			if (strcmp(json_string_value(json_object_get(d, "field")) ?: "", shown[i].field) == 0)
				other = json_string_value(json_object_get(d, "recognised"));
		buf_printf(b, "<tr id=\"chip-%s\"%s><th scope=\"row\">", shown[i].field,
			   other ? " class=\"err\"" : "");
		buf_esc(b, T(r->lang, shown[i].label));
		buf_puts(b, "</th><td>");
		if (shown[i].date)
			buf_when_iso(b, v);
		else
			buf_esc(b, v);
		buf_puts(b, "</td><td>");
		if (other)
			buf_esc(b, other);
		buf_puts(b, "</td></tr>");
	}
	buf_puts(b, "</tbody></table>");
	if (row->face_doc_id[0]) {
		buf_puts(b, "<figure>");
		buf_printf(b, "<img id=\"chip-face\" src=\"/documents/%s/raw\" alt=\"", row->face_doc_id);
		buf_esc(b, T(r->lang, S_CHIP_FACE));
		buf_printf(b, "\" width=\"180\"><figcaption><a href=\"/documents/%s\">", row->face_doc_id);
		buf_esc(b, T(r->lang, S_CHIP_FACE));
		buf_puts(b, "</a></figcaption></figure>");
	}
	json_decref(res);
	(void)db;
}

void web_chip_section(struct req *r, struct buf *b, const char *doc_id)
{
	struct db *db = web_db(r);
	struct recog_row rec;
	struct chip_read_row row;
	if (!db)
		return;
	int have_read = chipreads_latest(db, doc_id, &row) == 0;
	int is_card = recog_get(db, doc_id, &rec) == 0 && strncmp(rec.type, "id_card", 7) == 0;
	if (!have_read && !is_card)
		return;
	buf_puts(b, "<section aria-labelledby=\"chip\"><h2 id=\"chip\">");
	buf_esc(b, T(r->lang, S_CHIP_TITLE));
	buf_puts(b, "</h2>");
	if (have_read)
		last_read(r, b, db, &row);
	if (strcmp(rec.type, "id_card_chip") != 0) {
		buf_printf(b, "<form method=\"post\" action=\"/documents/%s/chip\" id=\"chip-form\"><p>",
			   doc_id);
		buf_esc(b, T(r->lang, S_CHIP_HELP));
		buf_puts(b, "</p>");
		web_csrf_input(r, b);
		buf_puts(b, "<p><label for=\"in-mrz\">");
		buf_esc(b, T(r->lang, S_CHIP_MRZ));
		buf_puts(b,
			 "</label><br><input id=\"in-mrz\" name=\"mrz\" maxlength=\"100\" size=\"60\" "
			 "autocomplete=\"off\"></p><p><button id=\"chip-read\">");
		buf_esc(b, T(r->lang, S_CHIP_READ));
		buf_puts(b, "</button></p></form>");
	}
	buf_puts(b, "</section>");
}

/* POST /documents/ID/chip: reads the card on the reader (blocks this connection's thread
 * for the read, a few seconds), then back to the document's page. */
enum MHD_Result post_document_chip(struct req *r, const char *id)
{
	char mrz[128] = "", why[300] = "", loc[96];
	struct db *db = web_db(r);
	struct doc_meta m;
	struct config cfg;
	json_t *ans = NULL;
	if (!db)
		return web_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, S_SERVER_ERROR);
	if (docs_get(db, id, &m) < 0)
		return web_error(r, MHD_HTTP_NOT_FOUND, S_NOT_FOUND);
	ssize_t got = form_get(r->body.p ? r->body.p : "", r->body.len, "mrz", mrz, sizeof(mrz));
	if (got < 0 && got != -ENOENT)
		return web_error(r, MHD_HTTP_BAD_REQUEST, S_BAD_REQUEST);
	daemon_config_snapshot(&cfg);
	int rc =
	    chip_read_card(r->w->store, db, &cfg, mrz[0] ? mrz : NULL, id, r->actor, &ans, why, sizeof(why));
	if (rc == 0 && json_is_true(json_object_get(ans, "ok"))) {
		json_decref(ans);
		snprintf(loc, sizeof(loc), "/documents/%s#chip", id);
		return web_redirect(r, loc);
	}
	if (rc == 0)
		snprintf(why, sizeof(why), "%s", json_string_value(json_object_get(ans, "message")) ?: "");
	json_decref(ans);
	struct buf b, t;
	buf_init(&b, WEB_PAGE_MAX);
	web_page_begin(r, &b, S_DOC_VIEW, "/documents");
	buf_init(&t, 512);
	buf_esc(&t, T(r->lang, S_CHIP_FAILED_READ));
	buf_puts(&t, " ");
	buf_esc(&t, why);
	web_notice(&b, "err", t.p ? t.p : "");
	buf_free(&t);
	buf_printf(&b, "<p><a href=\"/documents/%s#chip\">", id);
	buf_esc(&b, T(r->lang, S_DOC_VIEW));
	buf_puts(&b, "</a></p>");
	web_page_end(r, &b);
	return web_send(r, rc == -EINVAL ? MHD_HTTP_UNPROCESSABLE_CONTENT : MHD_HTTP_OK, HTML, &b);
}
