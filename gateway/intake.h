/* Intake policy for documents from any channel (CLI, devices, web): size limit, free-space
 * low-water mark, accepted formats, then the store's durable path.  The caller hears
 * "stored" only when this returns success. */
#ifndef MOTCUA_INTAKE_H
#define MOTCUA_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "store/blob.h"
#include "store/docs.h"

struct store;
struct db;

struct intake_request {
	int64_t declared_size; /* -1 when unknown */
	int64_t max_bytes; /* documents larger than this are refused */
	int64_t low_water_bytes; /* intake stops while free space is below this */
	const char *kind; /* [a-z0-9._-], e.g. "scan", "id-card" */
	const char *source; /* [a-z0-9._-], e.g. "cli", "device-7" */
	const char *name; /* original file name or "" (kept in the database only) */
	const char *intake_key; /* idempotency key from the sender, or NULL for a fresh one */
	const char *actor; /* who, for the audit chain */
};

/* Stores one document read from src.  On success returns 0 (new) or 1 (the intake key was
 * already stored: ret_meta is that document) and the document is durable.  On failure
 * returns -errno and writes a message for the sender into why: -ENOSPC (below the
 * low-water mark), -EMSGSIZE (too large), -EMEDIUMTYPE (not JPEG, PNG, TIFF or PDF),
 * -EINVAL (bad field), -EEXIST (intake key used for different content). */
int intake_document(struct store *s, struct db *db, const struct intake_request *req, blob_reader src,
		    void *ctx, struct doc_meta *ret_meta, char *why, size_t whylen);

/* Content type of a document from its first bytes, or NULL when not an accepted format. */
const char *intake_sniff(const unsigned char *head, size_t len);

#endif
