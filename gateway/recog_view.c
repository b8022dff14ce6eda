/* Recognition results for staff: reading the stored (encrypted) result and its latest
 * correction, and applying corrections with every value checked. */
#include "gateway/recog_view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "store/db.h"
#include "store/recog.h"
#include "store/store.h"

#define VALUE_MAX 200

const char *const recog_fields[] = { "id_number",     "old_id_number", "full_name",
				     "date_of_birth", "sex",           "place_of_residence",
				     "issue_date",    "expiry_date",   "nationality" };
const size_t recog_nfields = sizeof(recog_fields) / sizeof(recog_fields[0]);

static json_t *load_json(struct store *s, const char *hash)
{
	char *text = NULL;
	size_t len = 0;
	if (!hash[0] || recog_blob_text(store_blobs(s), hash, &text, &len) < 0)
		return NULL;
	json_t *j = json_loadb(text, len, 0, NULL);
	free(text);
	return j;
}

int recog_view(struct store *s, struct db *db, const char *doc_id, json_t **ret)
{
	struct recog_row row;
	struct recog_correction c;
	int r = recog_get(db, doc_id, &row);
	if (r < 0)
		return r;
	json_t *v =
	    json_pack("{s:s, s:s, s:s, s:f, s:b, s:I, s:s}", "doc_id", doc_id, "state", row.state, "type",
		      row.type, "confidence", row.confidence, "needs_review", row.needs_review, "attempts",
		      (json_int_t)row.attempts, "updated_at", row.updated_at);
	if (!v)
		return -ENOMEM;
	json_t *res = load_json(s, row.result_sha256);
	if (res)
		json_object_set_new(v, "result", res);
	r = recog_correction_get(db, doc_id, &c);
	if (r < 0 && r != -ENOENT) {
		json_decref(v);
		return r;
	}
	json_t *cres = r == 0 ? load_json(s, c.result_sha256) : NULL;
	if (cres) {
		json_object_set_new(
		    v, "correction",
		    json_pack("{s:s, s:s, s:O}", "actor", c.actor, "at", c.at, "result", cres));
		json_object_set(v, "current", cres);
		json_object_set(v, "type", json_object_get(cres, "type"));
		json_object_set_new(v, "needs_review", json_false());
		json_decref(cres);
	} else if (res) {
		json_object_set(v, "current", res);
	}
	/* One identity with the card's other side, when paired. */
	struct recog_pair pair;
	if (recog_pair_get(db, doc_id, &pair) == 0) {
		json_t *pres = load_json(s, pair.result_sha256);
		json_object_set_new(v, "identity",
				    json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:o*}", "front_doc",
					      pair.front_doc, "back_doc", pair.back_doc, "how", pair.how,
					      "agree", pair.agree, "needs_review", pair.needs_review, "at",
					      pair.at, "result", pres));
	}
	*ret = v;
	return 0;
}

static int is_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int digits(const char *s, size_t n)
{
	if (strlen(s) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* UTF-8 text without control characters (jansson has already checked the encoding). */
static int plain_text(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int check(const char *name, const char *v, char *why, size_t whylen)
{
	const char *rule = NULL;
	if (strlen(v) > VALUE_MAX || !plain_text(v))
		rule = "at most 200 bytes of text without control characters";
	else if (strstr(name, "date") && !is_date(v))
		rule = "a date YYYY-MM-DD";
	else if (strcmp(name, "sex") == 0 && strcmp(v, "M") != 0 && strcmp(v, "F") != 0)
		rule = "M or F";
	else if (strcmp(name, "id_number") == 0 && !digits(v, 12))
		rule = "12 digits";
	else if (strcmp(name, "old_id_number") == 0 && !digits(v, 9))
		rule = "9 digits";
	else if (strcmp(name, "nationality") == 0 && (strlen(v) != 3 || !plain_text(v)))
		rule = "a 3-letter country code (VNM)";
	if (!rule)
		return 0;
	snprintf(why, whylen, "%s must be %s (or empty to remove it)", name, rule);
	return -EINVAL;
}

static int known(const char *name)
{
	for (size_t i = 0; i < recog_nfields; i++)
		if (strcmp(name, recog_fields[i]) == 0)
			return 1;
	return 0;
}

int recog_correct_fields(struct store *s, struct db *db, const char *doc_id, json_t *edits, const char *actor,
			 char *why, size_t whylen)
{
	json_t *view = NULL, *cur, *fields, *v;
	const char *name;
	char changed[512] = "";
	size_t cl = 0;
	int r = recog_view(s, db, doc_id, &view);
	if (r == -ENOENT || (r == 0 && !json_object_get(view, "current"))) {
		snprintf(why, whylen, "document %.40s has no finished recognition to correct", doc_id);
		json_decref(view);
		return -ENOENT;
	}
	if (r < 0) {
		snprintf(why, whylen, "cannot read the recognition: %s", strerror(-r));
		return r;
	}
	cur = json_deep_copy(json_object_get(view, "current"));
	json_decref(view);
	if (!cur)
		return -ENOMEM;
	fields = json_object_get(cur, "fields");
	if (!json_is_object(fields)) {
		fields = json_object();
		json_object_set_new(cur, "fields", fields);
	}
	json_object_foreach (edits, name, v) {
		const char *val = json_string_value(v);
		int is_type = strcmp(name, "type") == 0;
		if (!val || (!is_type && !known(name))) {
			snprintf(why, whylen, "unknown field %.40s", name);
			r = -EINVAL;
			goto out;
		}
		if (is_type) {
			if (!val[0] || strlen(val) > 40 || !plain_text(val)) {
				snprintf(why, whylen, "type must be 1-40 bytes of text");
				r = -EINVAL;
				goto out;
			}
			const char *ot = json_string_value(json_object_get(cur, "type"));
			if (ot && strcmp(val, ot) == 0)
				continue;
			json_object_set_new(cur, "type", json_string(val));
		} else {
			json_t *old = json_object_get(fields, name);
			const char *ov = json_is_string(old) ? json_string_value(old) : NULL;
			if ((!val[0] && !old) || (ov && strcmp(ov, val) == 0))
				continue;
			if (val[0] && check(name, val, why, whylen) < 0) {
				r = -EINVAL;
				goto out;
			}
			if (val[0])
				json_object_set_new(fields, name, json_string(val));
			else
				json_object_del(fields, name);
			json_t *src = json_object_get(cur, "sources");
			if (json_is_object(src))
				json_object_set_new(src, name, json_string("staff"));
		}
		cl += (size_t)snprintf(changed + cl, sizeof(changed) - cl, "%s\"%s\"", cl ? "," : "", name);
		if (cl >= sizeof(changed))
			cl = sizeof(changed) - 1;
	}
	if (cl == 0) {
		r = 1;
		goto out;
	}
	json_object_set_new(cur, "needs_review", json_false());
	json_object_set_new(cur, "corrected_by", json_string(actor));
	char *text = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	r = recog_correct(db, store_blobs(s), doc_id, text, strlen(text), actor, changed);
	free(text);
	if (r < 0)
		snprintf(why, whylen, "cannot store the correction: %s", strerror(-r));
out:
	json_decref(cur);
	return r;
}

int recog_view_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	json_t *id = json_object_get(req_json, "id"), *v = NULL;
	if (strcmp(cmd, "recognize.show") != 0 || !json_is_string(id))
		return ctl_send_error(x->conn, -EINVAL, "recognize.show needs \"id\", a document id");
	int r = recog_view(x->store, x->db, json_string_value(id), &v);
	if (r == -ENOENT)
		return ctl_send_error(x->conn, r,
				      "that document has no recognition (not an image, or unknown id)");
	if (r < 0)
		return ctl_send_error(x->conn, r, "cannot read the recognition");
	json_object_set_new(v, "ok", json_true());
	r = ctl_send(x->conn, v);
	json_decref(v);
	return r;
}
