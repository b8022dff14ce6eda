/* The numbers shown on the dashboard, in the API and in /metrics, read from the store and
 * from what the uplink publishes. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/events.h"
#include "store/devices.h"
#include "store/fsutil.h"
#include "store/outbox.h"
#include "store/store.h"
#include "store/views.h"
#include "web/internal.h"

const char *web_link_name(int link)
{
	switch (link) {
	case UPLINK_LINK_UP: return "up";
	case UPLINK_LINK_DOWN: return "down";
	case UPLINK_LINK_UNKNOWN: return "unknown";
	default: return "off";
	}
}

static int64_t age_of(const char *iso)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!iso[0] || !strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	int64_t d = (int64_t)(time(NULL) - timegm(&tm));
	return d < 0 ? 0 : d;
}

struct devcount {
	struct web_status *st;
	int64_t now;
};

static int count_device(void *ctx, const struct device *d)
{
	struct devcount *x = ctx;
	struct web_status *st = x->st;
	int live = strcmp(d->state, "active") == 0 || strcmp(d->state, "approved") == 0;
	st->dev_total++;
	if (strcmp(d->state, "pending") == 0)
		st->dev_pending++;
	if (live)
		st->dev_active++;
	if (live && strcmp(d->presence, "online") == 0)
		st->dev_online++;
	else if (live && d->last_seen > 0 && x->now - d->last_seen > 86400)
		st->dev_stale++;
	return 0;
}

static int count_aside(void *ctx, const struct outbox_item *it)
{
	(*(int64_t *)ctx)++;
	return 0;
}

/* Midnight of the box's local day, as the store's UTC text. */
static void local_midnight_utc(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	time_t mid = mktime(&tm);
	gmtime_r(&mid, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int status_compute(struct req *r, struct web_status *st)
{
	struct db *db = web_db(r);
	struct outbox_stats os;
	struct config cfg;
	char since[32];
	int rc;

	memset(st, 0, sizeof(*st));
	if (!db)
		return -EIO;
	struct uplink_report rep;
	events_uplink_read(&rep); /* link OFF when the uplink is not configured */
	st->link = rep.link;
	snprintf(st->link_reason, sizeof(st->link_reason), "%s", rep.reason);
	st->link_since = rep.link_since;
	st->link_checked = rep.last_ok;
	st->uplink_disk_full = rep.disk_full;
	st->uplink_unrecorded = rep.unrecorded;
	st->delivered_since_start = rep.delivered;
	rc = outbox_stats(db, &os);
	if (rc < 0)
		return rc;
	for (int p = 0; p < OUTBOX_NPRIO; p++) {
		st->queued += os.count[0][p];
		st->sending += os.count[1][p];
		st->delivered += os.count[2][p];
		st->rejected += os.count[3][p];
	}
	st->pending_bytes = os.pending_bytes;
	st->oldest_age_s = age_of(os.oldest_queued_at);
	views_rejected(db, 1, 1000, count_aside, &st->rejected_aside);
	struct devcount dc = { .st = st, .now = (int64_t)time(NULL) };
	st->devices_known = devices_list(db, count_device, &dc) == 0;
	local_midnight_utc(since);
	views_docs_count(db, since, &st->intake_today, &st->docs_total);
	daemon_config_snapshot(&cfg);
	fs_free_bytes(store_state_dir(r->w->store), &st->free_bytes);
	st->intake_paused = st->free_bytes < config_low_water_bytes(&cfg);
	return 0;
}

/* The dashboard's numbers cost a few scans of the outbox (tens of ms with 100,000 items
 * queued): every page and scrape within a second shares one reading.  Changes made through
 * the page itself (uploads, retries) drop it at once, so staff see their own action. */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct web_status cached;
static struct timespec cached_at;
static int cache_valid;
static int computing; /* one thread refreshes; the others keep the last reading meanwhile */

void web_status_changed(void)
{
	pthread_mutex_lock(&cache_lock);
	cache_valid = 0;
	pthread_mutex_unlock(&cache_lock);
}

int web_status_read(struct req *r, struct web_status *st)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&cache_lock);
	int64_t age_ms = (now.tv_sec - cached_at.tv_sec) * 1000 + (now.tv_nsec - cached_at.tv_nsec) / 1000000;
	if (cache_valid && (age_ms < 1000 || (computing && age_ms < 10000))) {
		*st = cached;
		pthread_mutex_unlock(&cache_lock);
		return 0;
	}
	computing++;
	pthread_mutex_unlock(&cache_lock);
	int rc = status_compute(r, st);
	pthread_mutex_lock(&cache_lock);
	computing--;
	if (rc == 0) {
		cached = *st;
		cached_at = now;
		cache_valid = 1;
	}
	pthread_mutex_unlock(&cache_lock);
	return rc;
}
