/* A dossier's processing after acceptance (issue 21): assignment to an official by the
 * procedure's role, the steps a commune uses (received, processing, needs more papers,
 * waiting for signature, result ready, returned, refused, withdrawn) and which may follow
 * which, the clock stopped while more papers are awaited (working days, the calendar), the
 * apology with a new appointment for a late dossier, the return of the result at the
 * counter, and the city's status code each step is sent to the LGSP with. */
#ifndef MOTCUA_DOSSIER_PROCESS_H
#define MOTCUA_DOSSIER_PROCESS_H

#include <stdint.h>

#include "gateway/config.h"
#include "gateway/dossier/calendar.h"
#include "gateway/dossier/catalog.h"
#include "store/dossier_steps.h"

struct db;

#define DOSSIER_WHY_MAX 512

/* 1 when step is one an official may record (not "received", which acceptance makes). */
int dossier_step_valid(const char *step);
/* 1 when a dossier at step `from` may go to `to`. */
int dossier_step_allowed(const char *from, const char *to);
/* The city's status code (docs/lgsp.md 8) a local step is sent with. */
const char *dossier_lgsp_status(const char *step);
/* The role handling procedure p: the one set for it, else by its field (Hộ tịch and Chứng
 * thực: tuphap, Cư trú: congan, otherwise vanphong). */
void dossier_role_for(struct db *db, const struct catalog_proc *p, char role[DOSSIER_ROLE_MAX]);

/* Assigns accepted dossier id to user, or ("" user) to the official with the procedure's
 * role who has the fewest dossiers in hand.  -ENOENT with why when nobody holds the role. */
int dossier_assign(struct db *db, const struct catalog *cat, const struct config *cfg, const char *actor,
		   int64_t id, const char *user, int64_t at_s, char why[DOSSIER_WHY_MAX]);

/* Records step on dossier id at at_s (UTC seconds, never in the future nor before its last
 * step).  needs more papers and refused need a note (what papers, why).  Leaving "needs
 * more papers" moves the due day on by the working days the clock stood still. */
int dossier_step(struct db *db, const struct calendar *cal, const struct config *cfg, const char *actor,
		 int64_t id, const char *step, const char *note, int64_t at_s, char why[DOSSIER_WHY_MAX]);

/* The apology (Mẫu 04) for a dossier that is or will be late: a reason and a new appointment
 * day (a working day after today's and after the due day). */
int dossier_apologize(struct db *db, const struct calendar *cal, const struct config *cfg, const char *actor,
		      int64_t id, const char *new_due, const char *reason, int64_t at_s,
		      char why[DOSSIER_WHY_MAX]);

/* The due day a dossier is measured against today (its due day, plus while it waits for more
 * papers the working days since the request); -1 when it has none. */
int32_t dossier_effective_due(const struct calendar *cal, const struct dossier_row *d, int32_t today);

/* 1 when a dossier finished (ready, refused, ...) after its due day, or is unfinished and its
 * due day is before today. */
int dossier_is_late(const struct calendar *cal, const struct dossier_row *d, int32_t today);

/* A receipt code as typed, or read from the receipt's QR (the tracking URL ending in
 * code=CODE): spaces dropped, letters upper case.  NULL when it does not fit. */
const char *dossier_code_from_scan(const char *in, char out[DOSSIER_CODE_MAX]);

#endif
