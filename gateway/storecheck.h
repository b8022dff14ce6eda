/* The store check's background run: a thread that checks the whole store every
 * store.check_interval_h hours, reading at most store.check_mb_per_s. */
#ifndef MOTCUA_STORECHECK_H
#define MOTCUA_STORECHECK_H

struct config;
struct store;
struct storecheck;

/* Starts the thread (nothing when store.check_interval_h is 0).  The first run comes
 * store.check_delay_s after start. */
int storecheck_start(struct store *s, const struct config *cfg, struct storecheck **ret);
/* Stops a run in progress at the next blob and joins the thread.  Accepts NULL. */
void storecheck_stop(struct storecheck *c);

#endif
