/* The outbox: one row per item to deliver upstream,
 *   queued -> sending(offset, session) -> delivered(receipt) | rejected(reason).
 * Items are taken by (priority, sequence), never by wall clock; nothing is dropped when
 * retries run out; rows left in sending go back to queued at start-up. */
#ifndef MOTCUA_OUTBOX_H
#define MOTCUA_OUTBOX_H

#include <stdint.h>

struct db;

enum outbox_priority {
	OUTBOX_PRIO_URGENT = 0, /* audit heads, device and control state */
	OUTBOX_PRIO_DOSSIER = 1,
	OUTBOX_PRIO_DOCUMENT = 2,
	OUTBOX_PRIO_BULK = 3, /* statistics, batches */
	OUTBOX_NPRIO
};

#define OUTBOX_TEXT_MAX 512

struct outbox_item {
	int64_t id;
	char stream[32];
	int64_t seq;
	int priority;
	char kind[32];
	char ref[65];
	char idem_key[65];
	int64_t bytes;
	char state[16];
	int64_t offset;
	char session[128];
	char receipt[OUTBOX_TEXT_MAX];
	char reason[OUTBOX_TEXT_MAX];
	int64_t attempts;
	char created_at[32];
	char updated_at[32];
};

struct outbox_stats {
	int64_t count[4][OUTBOX_NPRIO]; /* by state (queued, sending, delivered, rejected), priority */
	int64_t pending_bytes; /* queued + sending, bytes not yet confirmed */
	char oldest_queued_at[32]; /* "" when nothing waits */
};

/* Adds an item inside the caller's transaction; its stream sequence is the next one.
 * idem_key is fixed here for the item's whole life.  ret_id may be NULL. */
int outbox_enqueue(struct db *db, const char *stream, int priority, const char *kind, const char *ref,
		   const char *idem_key, int64_t bytes, int64_t *ret_id);

/* Takes the next queued item by (priority, id) and marks it sending; -ENOENT when none.  Only
 * a committed claim is a claim: a failed commit (-ENOSPC on a full disk) returns its -errno. */
int outbox_claim_next(struct db *db, struct outbox_item *ret);

/* Records how far an upload got (confirmed offset, server's session) for a sending item. */
int outbox_progress(struct db *db, int64_t id, int64_t offset, const char *session);

/* For when a claim cannot be written (a full disk): the next item by (priority, id) that is
 * queued, or sending without being one of the caller's held ids (nheld at most
 * OUTBOX_HELD_MAX), read without writing anything.  0, -ENOENT when none, other -errno. */
#define OUTBOX_HELD_MAX 256
int outbox_next_unheld(struct db *db, const int64_t *held, int nheld, struct outbox_item *ret);

/* queued -> sending for the item id (a claim held in memory while the disk was full, written
 * once it can be); -ESTALE when it is not queued. */
int outbox_claim_id(struct db *db, int64_t id);

/* sending -> delivered with the receipt; only a receipt marks delivery. */
int outbox_deliver(struct db *db, int64_t id, const char *receipt);

/* sending -> queued after a failure worth retrying (attempts counted, offset kept). */
int outbox_release(struct db *db, int64_t id);

/* sending -> rejected with the server's reason, for staff to act on. */
int outbox_reject(struct db *db, int64_t id, const char *reason);

/* rejected -> queued on a staff decision (audited by the caller). */
int outbox_retry(struct db *db, int64_t id);

/* Start-up: every sending row back to queued.  Returns the number of rows moved. */
int outbox_requeue_sending(struct db *db);

int outbox_get(struct db *db, int64_t id, struct outbox_item *ret);

/* Calls fn for up to limit items in state (NULL: any), in delivery order. */
int outbox_list(struct db *db, const char *state, int limit,
		int (*fn)(void *ctx, const struct outbox_item *it), void *ctx);

int outbox_stats(struct db *db, struct outbox_stats *ret);

/* Index of a state name in outbox_stats.count, or -EINVAL. */
int outbox_state_index(const char *state);
extern const char *const outbox_state_names[4];

#endif
