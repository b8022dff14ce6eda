/* Dossiers in the store: a dossier opened for one procedure and one applicant, the scans
 * attached to its items, acceptance with a dossier code from a daily sequence (Thông tư
 * 01/2018/TT-VPCP: <agency>-YYMMDD-XXXX) and its LGSP submission queued in the same commit,
 * the city's status, and the fixed bodies of outbox items that are not documents. */
#ifndef MOTCUA_STORE_DOSSIERS_H
#define MOTCUA_STORE_DOSSIERS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DOSSIER_CODE_MAX 64
#define DOSSIER_NAME_MAX 128
#define DOSSIER_NOTE_MAX 512
#define DOSSIER_STATUS_TEXT_MAX 256
#define DOSSIER_SEQ_MAX 9999
#define DOSSIER_BODY_MAX 16384

struct dossier_row {
	int64_t id;
	char procedure[32];
	char state[16]; /* open, accepted */
	char applicant_name[DOSSIER_NAME_MAX];
	char applicant_id_hash[65]; /* keyed hash (DOSSIER_ID_PURPOSE) of the number's SHA-256 */
	char applicant_id_tail[5]; /* its last 4 digits, for staff to compare with the card */
	char applicant_doc[33]; /* the recognised ID card document, "" when typed */
	char source[64];
	char opened_by[64];
	char opened_at[32];
	char code[DOSSIER_CODE_MAX]; /* "" until accepted */
	char accepted_by[64];
	char accepted_at[32];
	char note[DOSSIER_NOTE_MAX];
	int64_t received_s; /* UTC seconds of acceptance */
	char due_day[11]; /* YYYY-MM-DD, "" when the procedure has no fixed time limit */
	int64_t outbox_id;
	char city_status[32];
	char city_status_text[DOSSIER_STATUS_TEXT_MAX];
	char city_updated_at[40];
	/* Processing at the commune (store/dossier_steps.h) */
	char step
	    [16]; /* "" open; received, processing, supplement, signing, ready, returned, refused, withdrawn */
	char assignee[64]; /* the official handling it, "" none */
	char first_due_day[11]; /* the due day given at acceptance (the receipt's) */
	char pause_day[11]; /* local day more papers were asked for, "" when the clock runs */
	int64_t paused_days; /* working days the clock stood still, already added to due_day */
	char new_due_day[11]; /* the apology's new appointment, "" none */
	int64_t done_s; /* when the result was ready or the dossier refused/withdrawn, 0 not yet */
	int64_t returned_s; /* when the result was handed back at the counter, 0 not yet */
};

struct dossier_item_row {
	char item[32];
	char doc_id[33];
	char doc_type[64]; /* recognised type when known at attach time, else "" */
	char attached_at[32];
};

/* Inserts a new open dossier from in (procedure, applicant_*, source) and audits it, in one
 * commit.  Returns the new id in *ret_id. */
int dossiers_open(struct db *db, const char *actor, const struct dossier_row *in, int64_t *ret_id);

/* Attaches document doc_id to item of open dossier id (audited).  -ENOENT no dossier,
 * -EBUSY not open any more, 1 when that document was already attached there. */
int dossiers_attach(struct db *db, const char *actor, int64_t id, const char *item, const char *doc_id,
		    const char *doc_type);

int dossiers_get(struct db *db, int64_t id, struct dossier_row *ret);
int dossiers_get_by_code(struct db *db, const char *code, struct dossier_row *ret);

/* Calls fn for each attached item of dossier id in attach order. */
int dossiers_items(struct db *db, int64_t id, int (*fn)(void *ctx, const struct dossier_item_row *it),
		   void *ctx);

/* Calls fn for up to limit dossiers, newest first; state NULL for any. */
int dossiers_list(struct db *db, const char *state, int limit,
		  int (*fn)(void *ctx, const struct dossier_row *d), void *ctx);

/* Accepts open dossier id in one transaction: takes the next number of day's sequence
 * (day = "YYMMDD", local date of receipt), sets its code agency-YYMMDD-XXXX, received time,
 * due day and note, builds its LGSP submission body (fixed for good), queues it on stream
 * "dossiers" (priority OUTBOX_PRIO_DOSSIER, kind "dossier") and audits it.  -EBUSY when
 * already accepted, -ENOSPC when the day's 9999 numbers are used up. */
int dossiers_accept(struct db *db, const char *actor, int64_t id, const char *agency,
		    const char *commune_code, const char *day, int64_t received_s, const char *due_day,
		    const char *note, struct dossier_row *ret);

/* Records the city's status of a dossier (newest updated_at wins; older ones are ignored
 * and return 1).  Audited.  -ENOENT for an unknown code. */
int dossiers_set_status(struct db *db, const char *actor, const char *code, const char *status,
			const char *text, const char *updated_at);

/* Counts accepted dossiers: all, and those not finished by the city whose due day is before
 * today ("YYYY-MM-DD"). */
int dossiers_late_counts(struct db *db, const char *today, int64_t *ret_accepted, int64_t *ret_late);

/* The fixed submission body of a non-document outbox item (inside the caller's transaction
 * for put).  get copies it into buf; -ENOENT when none, -EMSGSIZE when buf is too small. */
int outbox_body_put(struct db *db, int64_t outbox_id, const char *body);
int outbox_body_get(struct db *db, int64_t outbox_id, char *buf, size_t size);

/* The purpose the applicant's number is hashed under (blob_keyed_hash). */
#define DOSSIER_ID_PURPOSE "dossier-applicant-id"
struct blobs;
/* Once, at start: applicant numbers stored before they were keyed (a plain SHA-256, found
 * from the number by trying them all in seconds) become the keyed hash of that SHA-256; the
 * submission bodies that can still change lose it too (audited "dossier.ids_keyed"). */
int dossiers_key_ids(struct db *db, struct blobs *b);

/* 1 when status is one the city sends (docs/lgsp.md 8). */
int dossiers_status_valid(const char *status);
/* 1 when the city has finished with a dossier in this status. */
int dossiers_status_final(const char *status);

#endif
