/* A dossier's processing at the commune after acceptance, in the store: the timeline of steps
 * (local ones made by officials, and the city's statuses as they are pulled), the official a
 * dossier is assigned to, which role handles a procedure and which officials hold a role.
 * A local step changes the dossier's row, adds a timeline row, queues its LGSP submission
 * (kind "dossier-step", docs/lgsp.md 7.4) and audits it, in one commit. */
#ifndef MOTCUA_STORE_DOSSIER_STEPS_H
#define MOTCUA_STORE_DOSSIER_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "store/dossiers.h"

struct db;

#define DOSSIER_ROLE_MAX 32
#define DOSSIER_USER_MAX 64

struct dossier_step_row {
	int64_t id;
	char step[32]; /* local: a step name; city: the city's status code */
	char origin[8]; /* local, city */
	char actor[64];
	int64_t at_s; /* when it happened (UTC seconds) */
	char recorded_at[32]; /* when it was written down */
	char assignee[DOSSIER_USER_MAX];
	char note[DOSSIER_NOTE_MAX];
	char due_day[11];
	int64_t outbox_id; /* its LGSP item, 0 none */
};

/* Adds a timeline row inside the caller's transaction. */
int dossier_steps_insert(struct db *db, int64_t dossier, const char *step, const char *origin,
			 const char *actor, int64_t at_s, const char *assignee, const char *note,
			 const char *due_day, int64_t outbox_id);

/* What one local step changes.  NULL / -1 members leave the dossier's column as it is. */
struct dossier_change {
	const char *name; /* the timeline's name of it: a step, or "assigned", "apology" */
	const char *expect_step; /* the dossier's step must still be this (else -EBUSY) */
	const char *step; /* the new step, NULL unchanged */
	const char *assignee;
	const char *note;
	int64_t at_s;
	const char *due_day;
	const char *pause_day;
	int64_t paused_add; /* added to paused_days */
	const char *new_due_day;
	int64_t done_s, returned_s; /* -1 unchanged */
	const char *lgsp_status; /* the city's status code it is sent with; NULL: not sent */
	const char *commune_code;
};

/* Applies c to dossier id in one commit (row, timeline, LGSP item, audit).  -ENOENT no such
 * dossier, -EBUSY when its step is no longer c->expect_step. */
int dossier_steps_apply(struct db *db, const char *actor, int64_t id, const struct dossier_change *c,
			int64_t *ret_step_id);

/* Calls fn for each timeline row of dossier id, oldest first. */
int dossier_steps_list(struct db *db, int64_t id, int (*fn)(void *ctx, const struct dossier_step_row *s),
		       void *ctx);

/* The role a procedure is handled by ("" when none is set) and setting it (audited). */
int dossier_role_of(struct db *db, const char *procedure, char role[DOSSIER_ROLE_MAX]);
int dossier_role_set(struct db *db, const char *actor, const char *procedure, const char *role);
/* Gives (add = 1) or takes an official's role (audited). */
int dossier_official_role(struct db *db, const char *actor, const char *user, const char *role, int add);
/* Calls fn(user, role) for every official's role, by user. */
int dossier_officials(struct db *db, int (*fn)(void *ctx, const char *user, const char *role), void *ctx);
/* The official holding role with the fewest dossiers in hand (ties: by name); -ENOENT none. */
int dossier_pick_official(struct db *db, const char *role, char user[DOSSIER_USER_MAX]);

/* Dossiers in hand (accepted, step not final) of user ("" : of everyone, NULL: unassigned
 * only when unassigned = 1), due soonest first (no due day last). */
int dossier_worklist(struct db *db, const char *user, int unassigned, int limit,
		     int (*fn)(void *ctx, const struct dossier_row *d), void *ctx);

/* Accepted dossiers received in [from_s, to_s) or finished in it or still in hand then:
 * every accepted dossier with received_s < to_s, for the summary to sort out. */
int dossier_for_summary(struct db *db, int64_t to_s, int (*fn)(void *ctx, const struct dossier_row *d),
			void *ctx);

/* 1 for a step after which nothing more is done (returned, refused, withdrawn). */
int dossier_step_final(const char *step);
/* 1 when the dossier's processing is over: result ready or a final step. */
int dossier_step_done(const char *step);

#endif
