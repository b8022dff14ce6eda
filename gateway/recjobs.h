/* The recognition job runner: a thread of motcuad that feeds image documents queued in the
 * store to a small pool of sandboxed motcua-recognize workers and stores their results.
 * It never blocks the daemon: workers run in their own processes, are killed and restarted
 * when they die or exceed [recognize] timeout_s, and the thread waits with poll. */
#ifndef MOTCUA_RECJOBS_H
#define MOTCUA_RECJOBS_H

#include "gateway/config.h"

struct store;
struct recjobs;

/* Starts the thread (nothing when [recognize] workers = 0).  Returns 0 or -errno. */
int recjobs_start(struct store *store, const struct config *cfg, struct recjobs **ret);
/* Stops the thread and its workers; accepts NULL. */
void recjobs_stop(struct recjobs *rj);
/* Tells the runner a document came in (cheap, from any thread). */
void recjobs_wake(void);

#endif
