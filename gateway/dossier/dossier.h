/* Dossier policy: opening a dossier for a procedure and an applicant, attaching scans to the
 * procedure's items (type checked against recognition), what is missing, acceptance with a
 * code and a due date in working days, and the overdue / near-due flags staff see. */
#ifndef MOTCUA_DOSSIER_H
#define MOTCUA_DOSSIER_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/dossier/calendar.h"
#include "gateway/dossier/catalog.h"
#include "gateway/queue_hooks.h"
#include "store/dossiers.h"

struct db;
struct blobs;

#define DOSSIER_WHY_MAX 512
#define DOSSIER_MAX_ITEMS 64

struct dossier_applicant {
	const char *doc_id; /* a recognised ID card document, or NULL */
	const char *name; /* typed: full name */
	const char *id_number; /* typed: the 12-digit personal number */
};

/* The stored form of an applicant's 12-digit number (the keyed hash the dossiers table
 * keeps), so that staff can look a citizen's dossiers up by the number on the card. */
void dossier_id_hash(struct blobs *b, const char *number, char out[65]);

/* Opens a dossier.  The applicant comes from a recognised ID card document (its name and
 * number read from the recognition result) or from typed fields.  why explains a refusal. */
int dossier_open(struct db *db, struct blobs *b, const struct catalog *cat, const char *actor,
		 const char *procedure, const struct dossier_applicant *a, const char *source,
		 int64_t *ret_id, char why[DOSSIER_WHY_MAX]);

/* Attaches document doc_id to item: the item must be one of the procedure's, the document
 * in the store, and when it has been recognised as a known type, of a type the item takes. */
int dossier_attach(struct db *db, const struct catalog *cat, const char *actor, int64_t id, const char *item,
		   const char *doc_id, char why[DOSSIER_WHY_MAX]);

/* What a dossier still lacks: the keys of required items with nothing attached (an item the
 * ID card covers counts when the applicant came from a recognised card).  Returns how many
 * are missing, written to missing[] (up to max), or -errno. */
int dossier_missing(struct db *db, const struct catalog_proc *p, const struct dossier_row *d,
		    const char *missing[], int max);

/* Accepts a dossier: complete, or incomplete with a staff note saying why.  now_s is the
 * time of receipt (UTC seconds).  Sets the code, the due day, queues it for the LGSP. */
int dossier_accept(struct db *db, const struct catalog *cat, const struct calendar *cal,
		   const struct config *cfg, const char *actor, int64_t id, const char *note, int64_t now_s,
		   struct dossier_row *ret, char why[DOSSIER_WHY_MAX]);

/* Prints the receipt of accepted dossier d (code, procedure, received, due day, fee, a QR of
 * the tracking address) on the box's printer when [queue] ticket_printer = auto.  Returns 0
 * when printed, -ENODEV when printing is off or no printer is there, or -errno; why says it.
 * A failed print never undoes the acceptance. */
int dossier_print_receipt(const struct config *cfg, const struct catalog_proc *p, const struct dossier_row *d,
			  char *why, size_t whylen);

/* The receipt of d as lines (for the printer and tests): fills r, using buf for the text. */
void dossier_receipt(const struct config *cfg, const struct catalog_proc *p, const struct dossier_row *d,
		     struct queue_receipt *r, char buf[][QUEUE_RECEIPT_TEXT], char *qr, size_t qrlen);

/* "overdue", "due_today", "near_due" (within near_days working days) or "" for an accepted
 * dossier still in hand on today's local day (a dossier waiting for papers: its clock stands). */
const char *dossier_flag(const struct calendar *cal, const struct dossier_row *d, int32_t today,
			 int near_days);

#endif
