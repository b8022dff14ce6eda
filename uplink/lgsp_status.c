/* Reading the dossier status pull's answer: the page, its cursor and each item checked field
 * by field before anything reaches the store. */
#include "uplink/lgsp_status.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "store/dossiers.h"

/* A cursor is opaque but goes into a URL: keep it to safe characters. */
static int cursor_ok(const char *s)
{
	if (!s || !*s || strlen(s) > LGSP_CURSOR_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

int lgsp_status_page_parse(const char *body, size_t len, struct lgsp_status_page *ret)
{
	json_error_t jerr;
	json_t *j = json_loadb(body ? body : "", len, 0, &jerr);
	json_t *items = json_object_get(j, "items");
	const char *next = json_string_value(json_object_get(j, "next_cursor"));

	if (!json_is_array(items) || !cursor_ok(next)) {
		json_decref(j);
		return -EPROTO;
	}
	ret->json = j;
	ret->count = json_array_size(items);
	ret->next_cursor = next;
	ret->more = json_is_true(json_object_get(j, "more"));
	return 0;
}

int lgsp_status_page_item(const struct lgsp_status_page *page, size_t i, struct lgsp_status_item *ret)
{
	json_t *it = json_array_get(json_object_get(page->json, "items"), i);
	const char *code = json_string_value(json_object_get(it, "dossier_code"));
	const char *st = json_string_value(json_object_get(it, "status"));
	const char *text = json_string_value(json_object_get(it, "status_text"));
	const char *at = json_string_value(json_object_get(it, "updated_at"));

	if (!text)
		text = "";
	if (!code || strlen(code) >= DOSSIER_CODE_MAX || !st || !dossiers_status_valid(st) || !at ||
	    strlen(at) >= 40 || strlen(text) >= DOSSIER_STATUS_TEXT_MAX)
		return -EINVAL;
	ret->code = code;
	ret->status = st;
	ret->text = text;
	ret->updated_at = at;
	return 0;
}

void lgsp_status_page_done(struct lgsp_status_page *page)
{
	if (!page)
		return;
	json_decref(page->json);
	page->json = NULL;
}
