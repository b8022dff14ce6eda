/* Read-side queries for the staff page and the JSON API (search, counts, filtered audit),
 * and the staff's "set aside" mark on rejected outbox items. */
#ifndef MOTCUA_STORE_VIEWS_H
#define MOTCUA_STORE_VIEWS_H

#include <stdint.h>

#include "store/audit.h"
#include "store/docs.h"
#include "store/outbox.h"

struct db;

/* Like docs_list, but only documents whose id starts with q, whose name contains q, or whose
 * kind or source equals q (q "" matches all). */
int views_docs_search(struct db *db, const char *q, int64_t before_seq, int limit,
		      int (*fn)(void *ctx, const struct doc_meta *m), void *ctx);

/* Documents received at or after since ("YYYY-MM-DDTHH:MM:SSZ"), and all documents. */
int views_docs_count(struct db *db, const char *since, int64_t *ret_since, int64_t *ret_total);

/* Up to limit audit rows, newest first, with seq < before_seq (0: from the newest), whose
 * actor, action or subject contains q (q "" matches all). */
int views_audit_search(struct db *db, const char *q, int64_t before_seq, int limit,
		       int (*fn)(void *ctx, const struct audit_row *row), void *ctx);

/* Rejected items, in delivery order; set-aside ones only when aside is set (then only
 * those).  ret_aside_note may be NULL. */
int views_rejected(struct db *db, int aside, int limit, int (*fn)(void *ctx, const struct outbox_item *it),
		   void *ctx);

/* Marks a rejected item as set aside by staff (it stays rejected and is never dropped; a
 * later retry clears the mark).  Audited "outbox.aside".  -ESTALE when not rejected. */
int views_outbox_aside(struct db *db, int64_t id, const char *actor, const char *note);

/* Staff retry of a rejected item: outbox_retry, clears the aside mark, audited
 * "outbox.retry", one transaction.  -ESTALE when not rejected. */
int views_outbox_retry(struct db *db, int64_t id, const char *actor);

/* What the dossier list is narrowed to; NULL members do not narrow. */
struct views_dossier_query {
	const char *words; /* FTS5 query on the applicant's name (dossier_names), built by the caller */
	const char *id_hash; /* the keyed hash of the applicant's number (DOSSIER_ID_PURPOSE) */
	const char *code; /* a dossier code, exactly */
	const char *state; /* "open" or "accepted" */
	const char *from, *to; /* opened_at >= from and < to (UTC, "YYYY-MM-DDTHH:MM:SS") */
	int sort; /* VIEWS_NEWEST, VIEWS_OLDEST or VIEWS_DUE (soonest due day first) */
	int offset, limit;
};
enum { VIEWS_NEWEST = 0, VIEWS_OLDEST = 1, VIEWS_DUE = 2 };

/* Calls fn with the id of each dossier q selects, in q's order (limit at most 500).  Every
 * filter reads an index (the name index, dossiers_id_hash, the code's unique index,
 * dossiers_opened): a year of dossiers is never read whole to find one citizen's. */
int views_dossiers_search(struct db *db, const struct views_dossier_query *q,
			  int (*fn)(void *ctx, int64_t id), void *ctx);

#endif
