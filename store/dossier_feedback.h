/* Citizen feedback: one rating (1-5) and comment per dossier or ticket, figures per service
 * and counter, and a day's statistics queued for the LGSP. */
#ifndef MOTCUA_STORE_FEEDBACK_H
#define MOTCUA_STORE_FEEDBACK_H

#include <jansson.h>
#include <stdint.h>

struct db;

#define FEEDBACK_COMMENT_MAX 1000

struct feedback_in {
	const char *kind; /* dossier or ticket */
	const char *subject; /* dossier code or ticket day/code */
	const char *service; /* queue letter or "" */
	int counter;
	const char *procedure;
	int rating;
	const char *comment;
	const char *source;
	const char *day; /* local YYYY-MM-DD */
};

/* Stores one rating (audited, without the comment).  -EEXIST when that dossier or ticket
 * was already rated. */
int feedback_add(struct db *db, const char *actor, const struct feedback_in *in, int64_t *ret_id);

/* Figures of day ("" for all days): count and average per service and per counter, and the
 * comments' words grouped (fold is the caller's folding function).  New reference. */
json_t *feedback_summary(struct db *db, const char *day, size_t (*fold)(const char *, char *, size_t));

/* Queues day's summary for the LGSP as a "statistics" outbox item (kind feedback-stats), once
 * per day; returns the outbox id (1 when already queued, *ret_id the earlier one). */
int feedback_report(struct db *db, const char *actor, const char *day, const char *commune_code,
		    json_t *summary, int64_t *ret_id);

#endif
