/* The uplink: delivers the outbox to the city's LGSP (docs/lgsp.md) from a thread of its own
 * with a libcurl multi handle.  The core starts and stops it; everything else goes through
 * the store (outbox rows) and gateway/events.h (wake-ups, the published report). */
#ifndef MOTCUA_UPLINK_H
#define MOTCUA_UPLINK_H

#include "gateway/config.h"

struct store;
struct uplink;

/* Starts the uplink thread when cfg says [uplink] enabled = yes (*ret stays NULL and 0 is
 * returned when it is disabled).  Reads the client secret file, checks the TLS files exist.
 * Returns 0 or -errno (logged, naming the key at fault). */
int uplink_start(struct store *s, const struct config *cfg, struct uplink **ret);

/* Stops the thread: transfers in flight are abandoned (their rows stay in sending with the
 * last confirmed offset and go back to queued at the next start), the secret is wiped.
 * Accepts NULL. */
void uplink_stop(struct uplink *u);

#endif
