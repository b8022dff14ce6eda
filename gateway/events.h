/* Cross-thread wake-ups and published status, so that the core can wake an edge and show its
 * numbers without knowing it: intake rings "the outbox changed" (an eventfd the uplink thread
 * polls), and the uplink publishes a snapshot of its state that motcuactl reads. */
#ifndef MOTCUA_EVENTS_H
#define MOTCUA_EVENTS_H

#include <stdint.h>

/* Creates the outbox eventfd (before any thread starts).  0 or -errno. */
int events_open(void);
/* Closes it (after every thread stopped).  Safe to call when not open. */
void events_close(void);

/* Tells whoever waits that queued work may have appeared.  Never blocks, never fails (a
 * missed ring is covered by the uplink's periodic look). */
void events_outbox_changed(void);
/* The eventfd to poll for POLLIN, or -1 when not open.  The reader drains it with
 * events_outbox_drain. */
int events_outbox_fd(void);
void events_outbox_drain(void);

enum uplink_link { UPLINK_LINK_OFF = 0, UPLINK_LINK_UNKNOWN, UPLINK_LINK_UP, UPLINK_LINK_DOWN };

#define UPLINK_REASON_MAX 200

/* What the uplink thread publishes (copied whole under a mutex; never shared by pointer). */
struct uplink_report {
	int link; /* enum uplink_link */
	char reason[UPLINK_REASON_MAX]; /* why the link is down, or the last fault; "" */
	int64_t link_since; /* wall clock, seconds: when link took its value */
	int64_t last_success; /* wall clock of the last receipt, 0: none since start */
	int64_t delivered; /* items delivered since start */
	int64_t rejected; /* items rejected since start */
	int64_t bytes_sent; /* upload bytes put on the wire since start (chunks) */
	int64_t rate_bps; /* upload bytes per second over the last 10 s (never above the wire's) */
	int64_t rate_avg_bps; /* over the last minute (for the time to drain) */
	int64_t cap_bps; /* configured cap, 0: none */
	int active; /* items being worked on */
	int concurrency;
	int64_t last_ok; /* wall clock of the last answer from the LGSP (any request, probes too) */
	int disk_full; /* the store refused a write for lack of space; progress kept in memory */
	int64_t store_refused; /* store writes refused since that began */
	int unrecorded; /* receipts and returns kept in memory, waiting to be written */
};

/* Publishes r (the uplink thread) / reads the last published one (anyone; zeroes with
 * link OFF when nothing was published). */
void events_uplink_publish(const struct uplink_report *r);
void events_uplink_read(struct uplink_report *ret);

/* Name of a link state for people and JSON: "off", "unknown", "up", "down". */
const char *events_link_name(int link);

#endif
