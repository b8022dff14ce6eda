/* The city's answer to the dossier status pull (docs/lgsp.md 8): a page of items and the next
 * cursor.  Pure functions over hostile bytes (no libcurl, no store handle), so they are fuzzed
 * alone (tests/fuzz/fuzz_lgsp_status.c). */
#ifndef MOTCUA_LGSP_STATUS_H
#define MOTCUA_LGSP_STATUS_H

#include <stddef.h>

#define LGSP_CURSOR_MAX 64 /* a cursor goes into a URL: 1-64 of [A-Za-z0-9._-] */

struct json_t;

struct lgsp_status_page {
	struct json_t *json; /* owned; lgsp_status_page_done frees it */
	size_t count; /* items, valid or not */
	const char *next_cursor; /* borrowed from json, checked */
	int more; /* "more": true, pull again at once */
};

/* One item of a page; the strings borrow from the page. */
struct lgsp_status_item {
	const char *code; /* under DOSSIER_CODE_MAX bytes */
	const char *status; /* dossiers_status_valid */
	const char *text; /* "" when absent; under DOSSIER_STATUS_TEXT_MAX bytes */
	const char *updated_at; /* under 40 bytes */
};

/* Parses a page of len bytes: an object with an "items" array and a valid "next_cursor".
 * 0 with *ret filled (call lgsp_status_page_done), or -EPROTO with *ret untouched. */
int lgsp_status_page_parse(const char *body, size_t len, struct lgsp_status_page *ret);

/* Item i (< page->count).  0 with *ret filled, or -EINVAL when the item is not valid (the
 * caller skips it) with *ret untouched. */
int lgsp_status_page_item(const struct lgsp_status_page *page, size_t i, struct lgsp_status_item *ret);

/* Frees the page's JSON; accepts NULL and a page already done. */
void lgsp_status_page_done(struct lgsp_status_page *page);

#endif
