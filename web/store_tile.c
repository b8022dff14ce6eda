/* The dashboard's storage tile: the last store check (what is damaged or missing, and
 * whether the city holds a copy), the last good backup, and a rebuild when there was one. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/db.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/internal.h"

#define META_MAX 65536

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC) as local "dd/mm/yyyy HH:MM"; "" when unreadable. */
static void local_time(const char *iso, char out[32])
{
	struct tm tm;
	out[0] = '\0';
	memset(&tm, 0, sizeof(tm));
	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return;
	time_t t = timegm(&tm);
	localtime_r(&t, &tm);
	strftime(out, 32, "%d/%m/%Y %H:%M", &tm);
}

static json_t *meta_json(struct db *db, const char *key, char *text)
{
	if (db_meta_get(db, key, text, META_MAX) < 0)
		return NULL;
	return json_loads(text, 0, NULL);
}

static void para(struct buf *b, struct req *r, const char *id, const char *cls, enum str key, long long a,
		 long long bb, const char *s)
{
	buf_printf(b, "<p id=\"%s\"%s%s%s>", id, cls[0] ? " class=\"" : "", cls, cls[0] ? "\"" : "");
	buf_t(b, r->lang, key, a, bb, s);
	buf_puts(b, "</p>");
}

void web_store_tile(struct req *r, struct buf *b)
{
	static __thread char text[META_MAX];
	struct db *db = web_db(r);
	char when[32];
	json_t *j;
	if (!db)
		return;
	buf_puts(b, "<div class=\"tile\" id=\"storage\"><h2>");
	buf_esc(b, T(r->lang, S_ST_TITLE));
	buf_puts(b, "</h2>");

	j = meta_json(db, "store_check", text);
	if (!j) {
		para(b, r, "store-check", "", S_ST_CHECK_NONE, 0, 0, NULL);
	} else {
		long long bad = (long long)(json_integer_value(json_object_get(j, "damaged")) +
					    json_integer_value(json_object_get(j, "missing")));
		long long city = (long long)json_integer_value(json_object_get(j, "delivered_damaged"));
		local_time(json_string_value(json_object_get(j, "at")), when);
		if (bad == 0)
			para(b, r, "store-check", "", S_ST_CHECK_OK,
			     (long long)json_integer_value(json_object_get(j, "blobs")), 0, when);
		else
			para(b, r, "store-check", "err", S_ST_CHECK_BAD, bad, 0, when);
		if (city > 0)
			para(b, r, "store-city-copy", "", S_ST_CITY_COPY, city, 0, NULL);
		if (bad > city)
			para(b, r, "store-not-delivered", "err", S_ST_NOT_DELIVERED, bad - city, 0, NULL);
		json_decref(j);
	}

	j = meta_json(db, "last_backup", text);
	if (!j) {
		para(b, r, "last-backup", "err", S_ST_BACKUP_NONE, 0, 0, NULL);
	} else {
		local_time(json_string_value(json_object_get(j, "at")), when);
		para(b, r, "last-backup", "", S_ST_BACKUP_LAST, 0, 0, when);
		json_decref(j);
	}

	j = meta_json(db, "last_rebuild", text);
	if (j) {
		local_time(json_string_value(json_object_get(j, "at")), when);
		para(b, r, "last-rebuild", "err", S_ST_REBUILT, 0, 0, when);
		json_decref(j);
	}
	buf_puts(b, "</div>");
}
