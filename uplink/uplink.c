/* The uplink thread: owns the CURLM, its own store connection and every job; fills its
 * slots from the outbox by (priority, sequence), paces the bytes, watches the link with a
 * cheap probe while it is down and wakes everything the moment it is back. */
#include "uplink/uplink.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "gateway/daemon.h"
#include "gateway/log.h"
#include "store/audit.h"
#include "store/db.h"
#include "store/fsutil.h"
#include "store/store.h"
#include "uplink/backoff.h"
#include "uplink/internal.h"

#define CLAIM_RECHECK_MS 5000 /* a missed wake-up costs at most this */
#define PUBLISH_MS 500
#define REVIVE_MS 1000 /* grace for transfers from before a cut to move again */
#define IDLE_PROBE_MS 15000 /* with nothing to send, the link is still checked this often */
#define RATE_SHORT_S 10 /* "now" is the last 10 s; the average the last minute */
#define CHUNK_SECONDS 1 /* a chunk takes about this long at the measured rate */
#define CHUNK_MIN 16384
#define STORE_LOG_MS 60000 /* a refused write is logged once, then a count this often */
#define FULL_BYTES (1 << 20) /* a refused write with less free than this: the disk is full */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t uplink_backoff(struct uplink *u, int attempt)
{
	return backoff_delay_ms(u->cfg.uplink_backoff_base_ms, u->cfg.uplink_backoff_cap_s * 1000, attempt,
				backoff_random(&u->rng));
}

/* ---- pacing and rate ------------------------------------------------------------------ */

static double burst(const struct uplink *u)
{
	double b = (double)u->cfg.uplink_max_bytes_per_second / 8;
	return b < 16384 ? 16384 : b;
}

size_t uplink_allowance(struct uplink *u)
{
	if (u->cfg.uplink_max_bytes_per_second <= 0)
		return SIZE_MAX;
	return u->bucket >= 1 ? (size_t)u->bucket : 0;
}

/* Moves the ring to the current second, zeroing the seconds skipped. */
static void rate_roll(struct uplink *u)
{
	int64_t sec = u->now / 1000;
	if (sec - u->rate_sec >= UPLINK_RATE_SECS) {
		memset(u->ring_sent, 0, sizeof(u->ring_sent));
		memset(u->ring_acked, 0, sizeof(u->ring_acked));
		u->rate_sec = sec;
	}
	while (u->rate_sec < sec) {
		u->rate_sec++;
		u->rate_pos = (u->rate_pos + 1) % UPLINK_RATE_SECS;
		u->ring_sent[u->rate_pos] = u->ring_acked[u->rate_pos] = 0;
	}
}

void uplink_count_sent(struct uplink *u, size_t n)
{
	u->bucket -= (double)n;
	u->bytes_sent += (int64_t)n;
	rate_roll(u);
	u->ring_sent[u->rate_pos] += (int64_t)n;
}

void uplink_count_acked(struct uplink *u, int64_t n)
{
	rate_roll(u);
	u->ring_acked[u->rate_pos] += n;
}

void uplink_answered(struct uplink *u)
{
	u->last_ok = time(NULL);
	u->last_ok_ms = u->now;
}

/* Bytes over the last secs seconds (the current one included), divided by the time they
 * cover: the window, or less when the rates started counting later (but at least 5 s, so
 * the first acknowledgements after a cut cannot make a burst look like a rate).  The lower of
 * what was handed to the socket and what the LGSP confirmed: neither can exceed the wire for
 * long, and a socket buffer filling after a cut, or a backlog of confirmations arriving at
 * once, inflates only one of them. */
static double window_rate(struct uplink *u, int secs)
{
	int64_t sent = 0, acked = 0;
	for (int i = 0; i < secs; i++) {
		int k = (u->rate_pos - i + UPLINK_RATE_SECS) % UPLINK_RATE_SECS;
		sent += u->ring_sent[k];
		acked += u->ring_acked[k];
	}
	double span = (double)(u->now - u->rate_from_ms) / 1000.0;
	if (span > secs)
		span = secs;
	if (span < 5)
		span = 5;
	return (double)(sent < acked ? sent : acked) / span;
}

size_t uplink_chunk_len(struct uplink *u, const struct job *j)
{
	(void)j;
	int64_t cfg = u->cfg.uplink_chunk_bytes;
	int active = 0;
	for (int i = 0; i < u->nslots; i++)
		active += u->jobs[i].used && u->jobs[i].has_blob;
	if (active < 1)
		active = 1;
	/* No measurement yet (start, or just after a cut): start small and let the rate grow
	 * it; a chunk cut by the link costs what it held. */
	double rate = u->rate_short;
	int64_t want = (int64_t)(rate * CHUNK_SECONDS / active);
	want = want / 4096 * 4096;
	if (want < CHUNK_MIN)
		want = CHUNK_MIN;
	if (want > cfg)
		want = cfg;
	return (size_t)want;
}

static void pace(struct uplink *u)
{
	int64_t cap = u->cfg.uplink_max_bytes_per_second;
	if (cap > 0) {
		u->bucket += (double)cap * (double)(u->now - u->bucket_ms) / 1000.0;
		if (u->bucket > burst(u))
			u->bucket = burst(u);
	}
	u->bucket_ms = u->now;
	if (u->npaused > 0 && uplink_allowance(u) > 0) {
		/* Resume every paused chunk; each takes what is left and pauses again. */
		for (int i = 0; i < u->nslots; i++) {
			struct xfer *x = u->jobs[i].x;
			if (x && x->paused) {
				x->paused = 0;
				x->progress_ms = u->now;
				u->npaused--;
				curl_easy_pause(x->easy, CURLPAUSE_CONT);
			}
		}
	}
	rate_roll(u);
	u->rate_short = window_rate(u, RATE_SHORT_S);
	u->rate_long = window_rate(u, UPLINK_RATE_SECS);
}

/* ---- status ---------------------------------------------------------------------------- */

static int active_jobs(const struct uplink *u)
{
	int n = 0;
	for (int i = 0; i < u->nslots; i++)
		n += u->jobs[i].used;
	return n;
}

static void publish(struct uplink *u)
{
	struct uplink_report r;
	memset(&r, 0, sizeof(r));
	r.link = u->stopped_by_config ? UPLINK_LINK_DOWN : u->link;
	snprintf(r.reason, sizeof(r.reason), "%s", u->reason);
	r.link_since = u->link_since;
	r.last_success = u->last_success;
	r.delivered = u->delivered;
	r.rejected = u->rejected;
	r.bytes_sent = u->bytes_sent;
	r.rate_bps = (int64_t)u->rate_short;
	r.rate_avg_bps = (int64_t)u->rate_long;
	r.cap_bps = u->cfg.uplink_max_bytes_per_second;
	r.active = active_jobs(u);
	r.concurrency = u->nslots;
	r.last_ok = u->last_ok;
	r.disk_full = u->disk_full;
	r.store_refused = u->store_refused;
	r.unrecorded = u->nunrec;
	events_uplink_publish(&r);
	u->published_ms = u->now;
}

/* The numbers of `motcuactl uplink status`, in the log when the link changes. */
static void log_numbers(struct uplink *u, const char *what)
{
	struct outbox_stats st;
	int64_t items = 0;
	char last[32] = "never since start";
	if (outbox_stats(u->db, &st) < 0)
		return;
	for (int p = 0; p < OUTBOX_NPRIO; p++)
		items += st.count[0][p] + st.count[1][p];
	if (u->last_success) {
		struct tm tm;
		time_t t = (time_t)u->last_success;
		gmtime_r(&t, &tm);
		strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	log_info("uplink: %s: backlog %lld items, %lld bytes, oldest queued %s; last success %s; "
		 "%lld delivered since start; rate %lld B/s",
		 what, (long long)items, (long long)st.pending_bytes,
		 st.oldest_queued_at[0] ? st.oldest_queued_at : "-", last, (long long)u->delivered,
		 (long long)u->rate_long);
}

/* ---- link monitor ---------------------------------------------------------------------- */

static void set_link(struct uplink *u, int link, const char *why)
{
	char what[UPLINK_REASON_MAX + 64];
	if (u->link == link)
		return;
	int64_t was_since = u->link_since;
	u->link = link;
	u->link_since = time(NULL);
	publish(u);
	if (link == UPLINK_LINK_UP) {
		snprintf(what, sizeof(what), "link up (after %llds)", (long long)(u->link_since - was_since));
		u->reason[0] = '\0';
	} else {
		snprintf(what, sizeof(what), "link down: %s", why);
	}
	log_numbers(u, what);
}

static void link_down(struct uplink *u, const char *why)
{
	snprintf(u->reason, sizeof(u->reason), "%s", why);
	set_link(u, UPLINK_LINK_DOWN, why);
	/* Waiting items go back to the queue with their confirmed offsets.  Transfers in flight
	 * are left to TCP: a short cut costs them nothing; a long one ends them at the stall
	 * timeout; and link_up restarts any that have not moved a second after the link is
	 * back (TCP's retransmission backoff can otherwise idle them for many seconds). */
	for (int i = 0; i < u->nslots; i++)
		if (u->jobs[i].used && !u->jobs[i].x)
			job_release(u, &u->jobs[i], "link down");
}

static void link_up(struct uplink *u)
{
	u->probe_fails = 0;
	u->suspect_ms = 0;
	set_link(u, UPLINK_LINK_UP, "");
	/* Every waiting item at once: slots fill now, waiting jobs start now. */
	u->queue_empty = 0;
	for (int i = 0; i < u->nslots; i++)
		if (u->jobs[i].used && !u->jobs[i].x)
			u->jobs[i].wake_ms = u->now;
	u->revive_ms = u->now + REVIVE_MS;
	u->up_ms = u->now;
	u->next_pull_ms = u->now; /* the city's news first thing after a cut */
}

/* A second after the link came back, transfers from before the cut that still move nothing
 * are restarted: asking the offset and sending from there costs at most the chunk in hand. */
static void revive(struct uplink *u)
{
	if (!u->revive_ms || u->now < u->revive_ms)
		return;
	u->revive_ms = 0;
	if (u->link != UPLINK_LINK_UP)
		return;
	for (int i = 0; i < u->nslots; i++) {
		struct job *j = &u->jobs[i];
		if (j->used && j->x && !j->x->paused && j->x->progress_ms < u->up_ms) {
			log_debug("uplink: item %lld: its transfer did not resume after the link came back; "
				  "restarting it",
				  (long long)j->it.id);
			xfer_free(j->x);
			j->x = NULL;
			if (j->ph == PH_PATCH)
				j->ph = PH_QUERY;
			j->wake_ms = u->now;
		}
	}
}

/* 1 when the transfer's connection has bytes out that nothing acknowledged for quiet_ms and
 * libcurl moved nothing meanwhile: the wire, not the server, is stuck (TCP_INFO; a chunk that
 * merely waits in the socket buffer on a slow link still sees ACKs). */
static int wire_stalled(const struct uplink *u, const struct xfer *x, int64_t quiet_ms)
{
	curl_socket_t fd = CURL_SOCKET_BAD;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	if (!x || x->paused || u->now - x->progress_ms < quiet_ms)
		return 0;
	if (curl_easy_getinfo(x->easy, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK || fd == CURL_SOCKET_BAD)
		return u->now - x->progress_ms >= 2 * quiet_ms; /* connecting: only the clock */
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return 0;
	return ti.tcpi_unacked > 0 && (int64_t)ti.tcpi_last_ack_recv >= quiet_ms;
}

static int64_t quiet_ms(const struct uplink *u)
{
	int64_t q = u->cfg.uplink_probe_interval_ms;
	return q < 1000 ? 1000 : q;
}

/* The probe sent because transfers went quiet came back: the path works, so transfers that
 * have not moved since before it was sent are stuck in TCP's back-off on a dead connection.
 * They are restarted from the LGSP's confirmed offset at once instead of waiting for the
 * stall timeout; a restart costs only the unconfirmed part of the chunk in hand. */
static void restart_stalled(struct uplink *u)
{
	int64_t since = u->suspect_ms;
	u->suspect_ms = 0;
	for (int i = 0; i < u->nslots; i++) {
		struct job *j = &u->jobs[i];
		if (!j->used || !j->x || !wire_stalled(u, j->x, u->now - since))
			continue;
		u->restarts++;
		log_info("uplink: item %lld: nothing moved for %lld ms while the link answers; "
			 "restarting the transfer from the confirmed offset (%lld restarts since start)",
			 (long long)j->it.id, (long long)(u->now - j->x->progress_ms),
			 (long long)u->restarts);
		xfer_free(j->x);
		j->x = NULL;
		if (j->ph == PH_PATCH)
			j->ph = PH_QUERY;
		j->wake_ms = u->now;
	}
}

static int probes_in_flight(const struct uplink *u)
{
	int n = 0;
	for (int i = 0; i < UPLINK_PROBES_MAX; i++)
		n += u->probes[i] != NULL;
	return n;
}

static void probe_start(struct uplink *u)
{
	int i;
	for (i = 0; i < UPLINK_PROBES_MAX && u->probes[i]; i++)
		;
	if (i == UPLINK_PROBES_MAX)
		return;
	struct xfer *x = xfer_new(u, NULL, OP_PROBE, "/lgsp/v1/ping");
	if (x && xfer_start(x) == 0)
		u->probes[i] = x;
	u->next_probe_ms = u->now + u->cfg.uplink_probe_interval_ms;
}

static void probe_done(struct uplink *u, struct xfer *x, CURLcode cc, long status)
{
	char why[UPLINK_REASON_MAX];
	for (int i = 0; i < UPLINK_PROBES_MAX; i++)
		if (u->probes[i] == x)
			u->probes[i] = NULL;
	if (cc == CURLE_OK) {
		/* Any HTTP answer proves the path (server faults are handled per request). */
		uplink_answered(u);
		if (u->link != UPLINK_LINK_UP)
			link_up(u);
		u->probe_fails = 0;
		if (u->suspect_ms)
			restart_stalled(u);
		return;
	}
	snprintf(why, sizeof(why), "%.190s", x->err[0] ? x->err : curl_easy_strerror(cc));
	/* Two failures in a row: one reset is a fault, not an outage. */
	if (++u->probe_fails >= 2 || u->link == UPLINK_LINK_UNKNOWN)
		link_down(u, why);
	else
		u->next_probe_ms = u->now;
}

/* A link that dies silently (packets vanish) leaves transfers hanging until TCP and the
 * stall timeout give up, and TCP's backoff then wastes seconds after the link is back.  So a
 * transfer that moves nothing for two probe intervals makes the monitor probe on a fresh
 * connection: a failure there means the link is down, and every transfer is abandoned for the
 * probes, which notice the return within one interval. */
static void suspect_silence(struct uplink *u)
{
	if (u->link != UPLINK_LINK_UP || probes_in_flight(u) > 0)
		return;
	/* With nothing to send, nothing else would notice the city going away: a light probe
	 * now and then keeps "link up" true. */
	if (u->now - u->last_ok_ms >= IDLE_PROBE_MS && u->now >= u->next_probe_ms) {
		probe_start(u);
		return;
	}
	if (u->now < u->next_probe_ms)
		return;
	for (int i = 0; i < u->nslots; i++) {
		struct xfer *x = u->jobs[i].x;
		if (wire_stalled(u, x, quiet_ms(u))) {
			log_debug("uplink: item %lld: nothing moved for %lld ms; probing the link",
				  (long long)u->jobs[i].it.id, (long long)(u->now - x->progress_ms));
			if (u->probe_fails < 1)
				u->probe_fails = 1;
			u->suspect_ms = u->now;
			probe_start(u);
			return;
		}
	}
}

void uplink_link_fault(struct uplink *u, const char *reason)
{
	snprintf(u->reason, sizeof(u->reason), "%s", reason);
	/* The failed transfer counts as the first failure: one failed probe more and the link
	 * is down. */
	if (u->probe_fails < 1)
		u->probe_fails = 1;
	/* Suspect the link: probe it now (unless a probe is already out). */
	if (u->link != UPLINK_LINK_DOWN && probes_in_flight(u) == 0)
		probe_start(u);
}

void uplink_config_fault(struct uplink *u, const char *reason)
{
	if (!u->stopped_by_config)
		log_error("uplink: stopped until the configuration is fixed (or for %llds): %s",
			  (long long)u->cfg.uplink_backoff_cap_s, reason);
	snprintf(u->reason, sizeof(u->reason), "refused by the LGSP: %s", reason);
	u->stopped_by_config = 1;
	u->config_wake_ms = u->now + u->cfg.uplink_backoff_cap_s * 1000;
	for (int i = 0; i < u->nslots; i++)
		if (u->jobs[i].used && !u->jobs[i].x)
			job_release(u, &u->jobs[i], "stopped");
	publish(u);
}

/* ---- a full or failing disk ------------------------------------------------------------ */

void uplink_store_fault(struct uplink *u, int r, const char *what)
{
	/* The layer that refused may say so in its own words (the record journal turns a failed
	 * append into a refused commit), so the free space decides too. */
	int64_t free_b = -1;
	int full =
	    r == -ENOSPC || (fs_free_bytes(store_state_dir(u->store), &free_b) == 0 && free_b < FULL_BYTES);
	u->store_refused++;
	if (full && !u->disk_full) {
		u->disk_full = 1;
		u->store_logged_ms = u->now;
		log_error("uplink: the disk is full: %s cannot be written; still sending what is "
			  "stored, keeping progress and receipts in memory until space is freed "
			  "(free space in the state directory)",
			  what);
		publish(u);
	} else if (u->now - u->store_logged_ms >= STORE_LOG_MS || u->store_refused == 1) {
		u->store_logged_ms = u->now;
		log_msg(full ? LOG_LEVEL_WARN : LOG_LEVEL_ERROR,
			"uplink: %s: %lld store writes refused so far (last: %s, %s); %d receipts wait "
			"to be written",
			full ? "the disk is still full" : "store writes fail", (long long)u->store_refused,
			what, strerror(-r), u->nunrec);
	}
}

void uplink_store_ok(struct uplink *u)
{
	if (!u->disk_full && u->store_refused == 0)
		return;
	log_info("uplink: store writes work again after %lld refused%s", (long long)u->store_refused,
		 u->disk_full ? " (the disk has room again)" : "");
	u->disk_full = 0;
	u->store_refused = 0;
	publish(u);
}

int uplink_unrecorded_add(struct uplink *u, const struct job *j, enum unrec_what what, const char *text,
			  const char *detail)
{
	if (u->nunrec >= UPLINK_UNRECORDED_MAX)
		return -ENOSPC;
	struct unrecorded *e = &u->unrec[u->nunrec++];
	memset(e, 0, sizeof(*e));
	e->id = j->it.id;
	e->claimed = j->claimed;
	e->what = what;
	snprintf(e->receipt, sizeof(e->receipt), "%s", text ? text : "");
	snprintf(e->detail, sizeof(e->detail), "%s", detail ? detail : "");
	snprintf(e->kind, sizeof(e->kind), "%s", j->it.kind);
	snprintf(e->ref, sizeof(e->ref), "%s", j->it.ref);
	e->bytes = j->it.bytes;
	if (!u->unrec_wake_ms)
		u->unrec_wake_ms = u->now + uplink_backoff(u, ++u->unrec_fails);
	return 0;
}

static void unrecorded_drop(struct uplink *u, int i)
{
	u->unrec[i] = u->unrec[--u->nunrec];
}

/* One kept record in one commit (with its audit row, and the claim when it was held in
 * memory). */
static int unrecorded_write(struct uplink *u, struct unrecorded *e)
{
	char subject[64];
	int r;
	if (e->what == UNREC_RELEASE)
		return e->claimed ? outbox_release(u->db, e->id) : 0;
	snprintf(subject, sizeof(subject), "outbox:%lld", (long long)e->id);
	r = db_begin(u->db);
	if (r == 0 && !e->claimed)
		r = outbox_claim_id(u->db, e->id);
	if (r == 0 && e->what == UNREC_DELIVER)
		r = outbox_deliver(u->db, e->id, e->receipt);
	if (r == 0 && e->what == UNREC_REJECT)
		r = outbox_reject(u->db, e->id, e->receipt);
	if (r == 0)
		r = audit_append(u->db, "uplink",
				 e->what == UNREC_DELIVER ? "outbox.delivered" : "outbox.rejected", subject,
				 e->what == UNREC_DELIVER ? e->receipt : e->detail);
	if (r == 0)
		r = db_commit(u->db);
	if (r < 0)
		db_rollback(u->db);
	if (r == 0)
		log_info("uplink: item %lld (%s %s, %lld bytes) %s %s (written late: the disk was full)",
			 (long long)e->id, e->kind, e->ref, (long long)e->bytes,
			 e->what == UNREC_DELIVER ? "delivered, receipt" : "rejected:", e->receipt);
	return r;
}

/* Writes what was kept in memory; stops at the first refusal and tries again after a
 * back-off. */
static void unrecorded_flush(struct uplink *u)
{
	if (!u->nunrec || u->now < u->unrec_wake_ms)
		return;
	while (u->nunrec > 0) {
		struct unrecorded *e = &u->unrec[u->nunrec - 1];
		int r = unrecorded_write(u, e);
		if (r < 0 && r != -ESTALE) {
			uplink_store_fault(u, r, "a record kept in memory");
			u->unrec_wake_ms = u->now + uplink_backoff(u, ++u->unrec_fails);
			return;
		}
		if (r == -ESTALE)
			log_warn("uplink: item %lld changed state before what happened to it could be "
				 "written",
				 (long long)e->id);
		else
			uplink_store_ok(u);
		unrecorded_drop(u, u->nunrec - 1);
		u->published_ms = 0;
	}
	u->unrec_fails = 0;
	u->unrec_wake_ms = 0;
	u->queue_empty = 0;
}

/* When a claim cannot be written: the next item no slot and no kept receipt holds, read
 * without writing (a release not yet written does not hold its item: it may be sent). */
static int claim_in_memory(struct uplink *u, struct outbox_item *it)
{
	int64_t held[UPLINK_SLOTS_MAX + UPLINK_UNRECORDED_MAX];
	int n = 0;
	for (int i = 0; i < u->nslots; i++)
		if (u->jobs[i].used)
			held[n++] = u->jobs[i].it.id;
	for (int i = 0; i < u->nunrec; i++)
		if (u->unrec[i].what != UNREC_RELEASE)
			held[n++] = u->unrec[i].id;
	int r = outbox_next_unheld(u->db, held, n, it);
	if (r < 0)
		return r;
	for (int i = 0; i < u->nunrec; i++)
		if (u->unrec[i].id == it->id) {
			/* its release was not written: the row still says sending, and so it is */
			unrecorded_drop(u, i);
			break;
		}
	return 0;
}

/* ---- slots ----------------------------------------------------------------------------- */

void uplink_job_finished(struct uplink *u, struct job *j)
{
	(void)j;
	u->queue_empty = 0;
	u->published_ms = 0; /* status readers see the change at once */
}

static int first_queued(void *ctx, const struct outbox_item *it)
{
	*(int *)ctx = it->priority;
	return -1; /* one is enough */
}

int uplink_should_yield(struct uplink *u, const struct job *j)
{
	int best = OUTBOX_NPRIO;
	if (active_jobs(u) < u->nslots)
		return 0;
	outbox_list(u->db, "queued", 1, first_queued, &best);
	return best < j->it.priority;
}

static void fill_slots(struct uplink *u)
{
	if (u->now >= u->next_claim_ms)
		u->queue_empty = 0;
	if (u->queue_empty || u->link != UPLINK_LINK_UP || u->stopped_by_config)
		return;
	for (int i = 0; i < u->nslots; i++) {
		struct outbox_item it;
		if (u->jobs[i].used)
			continue;
		/* Records kept in memory hold their items: keep room for every slot's. */
		if (u->nunrec + u->nslots > UPLINK_UNRECORDED_MAX) {
			u->queue_empty = 1;
			u->next_claim_ms = u->unrec_wake_ms;
			return;
		}
		int r = outbox_claim_next(u->db, &it);
		if (r < 0 && r != -ENOENT) {
			/* Not a claim: the commit failed (a full disk).  Delivering is what frees
			 * the box, so the item is sent with its claim held in memory. */
			uplink_store_fault(u, r, "a claim");
			r = claim_in_memory(u, &it);
			if (r < 0 && r != -ENOENT) {
				u->claim_fails++;
				u->queue_empty = 1;
				u->next_claim_ms = u->now + uplink_backoff(u, u->claim_fails);
				log_msg(u->claim_fails == 1 ? LOG_LEVEL_ERROR : LOG_LEVEL_DEBUG,
					"uplink: cannot read the outbox: %s; trying again with a back-off",
					strerror(-r));
				return;
			}
		} else if (r == 0) {
			uplink_store_ok(u);
		}
		if (r == -ENOENT) {
			u->claim_fails = 0;
			u->queue_empty = 1;
			u->next_claim_ms = u->now + CLAIM_RECHECK_MS;
			return;
		}
		u->claim_fails = 0;
		job_begin(u, &u->jobs[i], &it);
	}
}

/* ---- configuration reloads ------------------------------------------------------------- */

static void check_reload(struct uplink *u)
{
	struct config c;
	if (u->now - u->config_ms < 1000)
		return;
	u->config_ms = u->now;
	daemon_config_snapshot(&c);
	if (c.uplink_max_bytes_per_second != u->cfg.uplink_max_bytes_per_second) {
		log_info("uplink: [uplink] max_bytes_per_second is now %lld",
			 (long long)c.uplink_max_bytes_per_second);
		u->cfg.uplink_max_bytes_per_second = c.uplink_max_bytes_per_second;
		u->bucket = 0;
	}
}

/* ---- the thread ------------------------------------------------------------------------ */

static void finished(struct uplink *u, CURLMsg *m)
{
	struct xfer *x = NULL;
	long status = 0;
	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
	curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
	CURLcode cc = m->data.result;
	switch (x->op) {
	case OP_TOKEN: token_done(u, x, cc, status); break;
	case OP_PROBE: probe_done(u, x, cc, status); break;
	case OP_PULL: pull_done(u, x, cc, status); break;
	default: job_done(u, x, cc, status); break;
	}
	xfer_free(x);
}

static int64_t next_wake(struct uplink *u)
{
	int64_t t = u->now + 1000;
	if (u->npaused)
		t = u->now + 10;
	if (u->link != UPLINK_LINK_UP && u->next_probe_ms < t)
		t = u->next_probe_ms;
	if (!u->queue_empty && u->link == UPLINK_LINK_UP && active_jobs(u) < u->nslots)
		t = u->now;
	if (u->revive_ms && u->revive_ms < t)
		t = u->revive_ms;
	if (u->nunrec && u->unrec_wake_ms < t)
		t = u->unrec_wake_ms;
	if (u->link == UPLINK_LINK_UP && !u->pull_x && u->next_pull_ms < t)
		t = u->next_pull_ms;
	int64_t tk = token_next_ms(u);
	if (tk < t)
		t = tk;
	for (int i = 0; i < u->nslots; i++)
		if (u->jobs[i].used && !u->jobs[i].x && u->jobs[i].wake_ms < t)
			t = u->jobs[i].wake_ms;
	return t;
}

static void *thread_main(void *arg)
{
	struct uplink *u = arg;
	int r = store_connect(u->store, &u->db);
	if (r < 0) {
		log_error("uplink: cannot open the store: %s; the uplink is not running", strerror(-r));
		return NULL;
	}
	u->multi = curl_multi_init();
	if (!u->multi) {
		log_error("uplink: cannot create the libcurl multi handle");
		db_close(u->db);
		return NULL;
	}
	curl_multi_setopt(u->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)(u->nslots + UPLINK_PROBES_MAX + 1));
	curl_multi_setopt(u->multi, CURLMOPT_MAXCONNECTS, (long)(u->nslots + 2));
	u->now = mono_ms();
	u->bucket_ms = u->rate_from_ms = u->now;
	u->rate_sec = u->now / 1000;
	u->bucket = burst(u);
	u->link = UPLINK_LINK_UNKNOWN;
	u->link_since = time(NULL);
	u->next_probe_ms = u->now;
	publish(u);
	log_info("uplink: started: %s, %d at a time, chunks of %lld bytes, cap %lld B/s%s%s",
		 u->cfg.uplink_base_url, u->nslots, (long long)u->cfg.uplink_chunk_bytes,
		 (long long)u->cfg.uplink_max_bytes_per_second, u->cfg.uplink_proxy[0] ? ", proxy " : "",
		 u->cfg.uplink_proxy);

	while (!atomic_load(&u->stopping)) {
		struct curl_waitfd fds[2];
		int nfds = 0, running = 0;
		CURLMsg *m;

		u->now = mono_ms();
		check_reload(u);
		if (u->stopped_by_config && u->now >= u->config_wake_ms) {
			u->stopped_by_config = 0;
			u->token_wake_ms = 0;
			u->next_probe_ms = u->now;
			u->link = UPLINK_LINK_UNKNOWN;
		}
		if (!u->stopped_by_config && u->link != UPLINK_LINK_UP && u->now >= u->next_probe_ms)
			probe_start(u);
		suspect_silence(u);
		revive(u);
		unrecorded_flush(u);
		pull_tick(u);
		fill_slots(u);
		for (int i = 0; i < u->nslots; i++)
			job_step(u, &u->jobs[i]);
		pace(u);
		curl_multi_perform(u->multi, &running);
		while ((m = curl_multi_info_read(u->multi, &nfds)))
			if (m->msg == CURLMSG_DONE)
				finished(u, m);
		u->now = mono_ms();
		if (u->now - u->published_ms >= PUBLISH_MS)
			publish(u);

		int64_t wait = next_wake(u) - u->now;
		if (wait < 0)
			wait = 0;
		if (wait > 1000)
			wait = 1000;
		nfds = 0;
		fds[nfds++] = (struct curl_waitfd){ .fd = u->stop_fd, .events = CURL_WAIT_POLLIN };
		if (events_outbox_fd() >= 0)
			fds[nfds++] =
			    (struct curl_waitfd){ .fd = events_outbox_fd(), .events = CURL_WAIT_POLLIN };
		curl_multi_poll(u->multi, fds, (unsigned)nfds, (int)wait, NULL);
		if (nfds > 1 && (fds[1].revents & CURL_WAIT_POLLIN)) {
			events_outbox_drain();
			u->queue_empty = 0;
		}
	}

	/* Abandon what is in flight; confirmed offsets are in the rows already. */
	for (int i = 0; i < u->nslots; i++)
		if (u->jobs[i].used) {
			if (u->jobs[i].x)
				xfer_free(u->jobs[i].x);
			u->jobs[i].x = NULL;
			free(u->jobs[i].chunk);
			u->jobs[i].used = 0;
		}
	for (int i = 0; i < UPLINK_PROBES_MAX; i++) {
		xfer_free(u->probes[i]);
		u->probes[i] = NULL;
	}
	xfer_free(u->token_x);
	u->token_x = NULL;
	xfer_free(u->pull_x);
	u->pull_x = NULL;
	struct uplink_report off;
	memset(&off, 0, sizeof(off));
	events_uplink_publish(&off);
	curl_multi_cleanup(u->multi);
	db_close(u->db);
	log_info("uplink: stopped");
	return NULL;
}

static int read_secret(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = fs_read_full(fd, out, size);
	close(fd);
	if (n < 0)
		return (int)n;
	if ((size_t)n >= size)
		return -EMSGSIZE;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
		n--;
	out[n] = '\0';
	return n > 0 ? 0 : -ENODATA;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int uplink_start(struct store *s, const struct config *cfg, struct uplink **ret)
{
	static const struct {
		const char *key;
		size_t off;
	} files[] = {
		{ "ca_file", offsetof(struct config, uplink_ca_file) },
		{ "client_cert", offsetof(struct config, uplink_client_cert) },
		{ "client_key", offsetof(struct config, uplink_client_key) },
	};
	struct uplink *u;
	int r;

	*ret = NULL;
	if (strcmp(cfg->uplink_enabled, "yes") != 0) {
		log_info("uplink: disabled ([uplink] enabled = no); items stay queued");
		return 0;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *p = (const char *)cfg + files[i].off;
		if (p[0] && access(p, R_OK) < 0) {
			r = -errno;
			log_error("uplink: [uplink] %s %s cannot be read: %s", files[i].key, p, strerror(-r));
			return r;
		}
	}
	if (!cfg->uplink_client_id[0]) {
		log_error("uplink: [uplink] client_id is empty; the LGSP gives one per commune");
		return -EINVAL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		log_error("uplink: libcurl did not initialise: %s", curl_easy_strerror(curl_init_rc));
		return -EIO;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->store = s;
	u->cfg = *cfg;
	u->stop_fd = -1;
	u->nslots = (int)cfg->uplink_concurrency;
	if (u->nslots > UPLINK_SLOTS_MAX)
		u->nslots = UPLINK_SLOTS_MAX;
	if (cfg->uplink_client_secret_file[0]) {
		r = read_secret(cfg->uplink_client_secret_file, u->secret, sizeof(u->secret));
		if (r < 0) {
			log_error("uplink: [uplink] client_secret_file %s: %s",
				  cfg->uplink_client_secret_file, r == -ENODATA ? "empty" : strerror(-r));
			goto fail;
		}
	} else {
		snprintf(u->secret, sizeof(u->secret), "%s", cfg->uplink_client_secret);
	}
	/* The copy of the configuration keeps no secret (it is logged nowhere, but still). */
	OPENSSL_cleanse(u->cfg.uplink_client_secret, sizeof(u->cfg.uplink_client_secret));
	if (cfg->uplink_token_url[0])
		snprintf(u->token_url, sizeof(u->token_url), "%s", cfg->uplink_token_url);
	else
		snprintf(u->token_url, sizeof(u->token_url), "%s/lgsp/v1/oauth/token", cfg->uplink_base_url);
	if (strncmp(cfg->uplink_base_url, "http://", 7) == 0)
		log_warn("uplink: [uplink] base_url is plain HTTP: nothing is encrypted or authenticated "
			 "(for tests only; the LGSP is https://)");
	u->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->stop_fd < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&u->thread, NULL, thread_main, u);
	if (r < 0)
		goto fail;
	*ret = u;
	return 0;
fail:
	if (u->stop_fd >= 0)
		close(u->stop_fd);
	OPENSSL_cleanse(u->secret, sizeof(u->secret));
	free(u);
	return r;
}

void uplink_stop(struct uplink *u)
{
	uint64_t one = 1;
	if (!u)
		return;
	atomic_store(&u->stopping, 1);
	if (write(u->stop_fd, &one, sizeof(one)) < 0)
		log_warn("uplink: cannot wake the thread to stop it: %s", strerror(errno));
	pthread_join(u->thread, NULL);
	close(u->stop_fd);
	OPENSSL_cleanse(u->secret, sizeof(u->secret));
	OPENSSL_cleanse(u->token, sizeof(u->token));
	free(u);
}
