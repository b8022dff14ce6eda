/* The city's dossier statuses (docs/lgsp.md §8): GET /lgsp/v1/dossiers/status from the stored
 * cursor every [uplink] status_pull_s while the link is up and at once when it comes back;
 * each item is recorded with dossiers_set_status (newest updated_at wins), and the cursor
 * is stored only after the items, so a crash re-reads and never skips. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "store/db.h"
#include "store/dossiers.h"
#include "uplink/internal.h"
#include "uplink/lgsp_status.h"

#define CURSOR_KEY "uplink.status_cursor"
#define PULL_LIMIT 100

void pull_tick(struct uplink *u)
{
	char cursor[LGSP_CURSOR_MAX + 1] = "0", path[160];
	if (u->link != UPLINK_LINK_UP || u->stopped_by_config || u->pull_x || u->now < u->next_pull_ms)
		return;
	if (!token_ready(u))
		return; /* the token's answer wakes the loop */
	if (db_meta_get(u->db, CURSOR_KEY, cursor, sizeof(cursor)) < 0 || !cursor[0])
		snprintf(cursor, sizeof(cursor), "0");
	snprintf(path, sizeof(path), "/lgsp/v1/dossiers/status?since=%s&limit=%d", cursor, PULL_LIMIT);
	struct xfer *x = xfer_new(u, NULL, OP_PULL, path);
	u->next_pull_ms = u->now + u->cfg.uplink_status_pull_s * 1000;
	if (!x)
		return;
	if (xfer_auth(x) < 0) {
		xfer_free(x);
		u->next_pull_ms = u->now; /* when the token is there */
		return;
	}
	if (xfer_start(x) == 0)
		u->pull_x = x;
}

static void later(struct uplink *u, const char *why)
{
	int64_t d = uplink_backoff(u, ++u->pull_fails);
	u->next_pull_ms = u->now + d;
	log_msg(u->pull_fails == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
		"uplink: dossier status pull: %s; again in %lld ms", why, (long long)d);
}

void pull_done(struct uplink *u, struct xfer *x, CURLcode cc, long status)
{
	struct lgsp_status_page pg = { 0 };
	char why[200];
	size_t i;
	int stored = 0, unknown = 0, r = 0;

	u->pull_x = NULL;
	if (cc != CURLE_OK) {
		later(u, x->err[0] ? x->err : curl_easy_strerror(cc));
		return;
	}
	if (status == 401) {
		token_invalidate(u, x->token_gen);
		u->next_pull_ms = u->now;
		return;
	}
	if (status != 200) {
		snprintf(why, sizeof(why), "HTTP %ld", status);
		later(u, why);
		return;
	}
	if (lgsp_status_page_parse(x->resp, x->resp_len, &pg) < 0) {
		later(u, "the answer has no items or no valid next_cursor");
		goto out;
	}
	for (i = 0; i < pg.count; i++) {
		struct lgsp_status_item it;
		if (lgsp_status_page_item(&pg, i, &it) < 0) {
			log_warn("uplink: dossier status pull: item %zu is not valid; skipped", i);
			continue;
		}
		r = dossiers_set_status(u->db, "lgsp", it.code, it.status, it.text, it.updated_at);
		if (r == -ENOENT) {
			unknown++; /* not a dossier of this box (or of a rebuilt store) */
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		stored += r == 0;
	}
	if (r < 0) {
		later(u, "cannot record a status in the store");
		goto out;
	}
	/* Only now: the items are committed. */
	if (db_meta_set(u->db, CURSOR_KEY, pg.next_cursor) < 0) {
		later(u, "cannot store the cursor");
		goto out;
	}
	u->pull_fails = 0;
	if (stored || unknown)
		log_info(
		    "uplink: dossier status pull: %d status changes recorded, %d unknown dossiers, cursor %s",
		    stored, unknown, pg.next_cursor);
	if (pg.more)
		u->next_pull_ms = u->now;
out:
	lgsp_status_page_done(&pg);
}
