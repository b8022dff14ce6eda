/* The certified-copy book (sổ chứng thực bản sao, type SCT/BS): numbers run per year from 1
 * and restart each year.  A number is reserved before the copy is made, then issued (with
 * the copy's document, its outbox item and audit row in one commit) or voided with a reason;
 * a number is never given twice, and a spoiled one stays in the book. */
#ifndef MOTCUA_COPIES_H
#define MOTCUA_COPIES_H

#include <stdint.h>

#include "store/docs.h"

struct db;

#define COPY_OFFICIAL_MAX 128
#define COPY_SEAL_MAX 1024

struct copy_row {
	int64_t id;
	int64_t year, book, number;
	char state[16]; /* reserved, issued, void */
	char original_id[DOC_ID_LEN];
	char doc_id[DOC_ID_LEN]; /* the signed PDF, once issued */
	char official[COPY_OFFICIAL_MAX];
	char seal[COPY_SEAL_MAX];
	char reason[256];
	char created_at[32];
	char issued_at[32];
};

/* In one transaction: the next number of year (1 for a new year), a reserved row and an
 * audit row.  ret gets the row. */
int copies_reserve(struct db *db, int64_t year, int64_t book, const char *original_id, const char *official,
		   const char *actor, struct copy_row *ret);

/* In one transaction: the signed PDF's document row (outbox stream "copies", priority
 * DOSSIER, its manifest), the row marked issued with its seal, and the audit row.
 * pdf's sha256, size, content_type, kind, source, name and intake_key are read. */
int copies_issue(struct db *db, int64_t id, const char *manifest_dir, const char *actor, struct doc_meta *pdf,
		 const char *seal);

/* reserved -> void with the reason, audited (the number stays used). */
int copies_void(struct db *db, int64_t id, const char *actor, const char *reason);

/* The copy with that number in year; -ENOENT when there is none. */
int copies_get(struct db *db, int64_t year, int64_t number, struct copy_row *ret);

/* The issued copy whose signed PDF is document doc_id; -ENOENT when there is none. */
int copies_get_by_doc(struct db *db, const char *doc_id, struct copy_row *ret);

/* Calls fn for up to limit copies (every state), newest first; fn < 0 stops and is returned. */
int copies_list(struct db *db, int limit, int (*fn)(void *ctx, const struct copy_row *c), void *ctx);

#endif
