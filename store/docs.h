/* Documents: the intake transaction (document row, outbox item, audit row and manifest in one
 * commit) and the reading side (get, list). */
#ifndef MOTCUA_DOCS_H
#define MOTCUA_DOCS_H

#include <stdint.h>

#include "store/blob.h"

struct db;

#define DOC_ID_LEN 33 /* 32 hex digits and NUL */
#define DOC_KEY_MAX 65 /* intake key: 1-64 of [A-Za-z0-9._:-] */
#define DOC_KIND_MAX 32
#define DOC_TYPE_MAX 64
#define DOC_SOURCE_MAX 64
#define DOC_NAME_MAX 128

struct doc_meta {
	char id[DOC_ID_LEN];
	int64_t seq;
	char sha256[BLOB_HASH_HEX];
	int64_t size;
	char content_type[DOC_TYPE_MAX];
	char kind[DOC_KIND_MAX];
	char source[DOC_SOURCE_MAX];
	char name[DOC_NAME_MAX];
	char intake_key[DOC_KEY_MAX];
	char received_at[32];
};

/* 1 when s is a valid kind/source token: 1..max-1 chars of [a-z0-9._-]. */
int docs_token_valid(const char *s, size_t max);
/* 1 when s is a valid intake key. */
int docs_key_valid(const char *s);

/* Records a document whose blob is already durable.  In one transaction: allocates the next
 * intake sequence and an id (derived from the intake key, so a retry after a crash gets the
 * same one), inserts the document row, its outbox item (stream "documents") and an audit
 * row, writes the sidecar manifest under manifest_dir durably, then commits.  meta's sha256, size, content_type, kind, source, name and intake_key are
 * read; id, seq and received_at are filled in.  When the intake key is already known,
 * nothing new is written and meta describes the earlier document; returns 1 in that case,
 * 0 for a new document, -errno on failure (nothing committed). */
int docs_intake(struct db *db, const char *manifest_dir, const char *actor, struct doc_meta *meta);

/* docs_intake's work inside the caller's transaction (db_begin), with the outbox item on the
 * given stream, priority and kind (a certified copy goes to "copies").  Returns 1 (nothing
 * written, meta is the earlier document) when the intake key is known, 0, or -errno; the
 * caller rolls back on failure. */
int docs_add(struct db *db, const char *manifest_dir, const char *actor, struct doc_meta *meta,
	     const char *stream, int priority, const char *outbox_kind);

/* Reads one document's row; -ENOENT when there is none. */
int docs_get(struct db *db, const char *id, struct doc_meta *ret_meta);

/* The full id of the one document whose id starts with prefix (6 to 32 hex digits, any case,
 * as the pages show ids shortened) into out.  -EINVAL for a prefix that is not that, -ENOENT
 * when no document matches, -EEXIST when several do.  A range on the primary key: no scan. */
int docs_find_prefix(struct db *db, const char *prefix, char out[DOC_ID_LEN]);

/* Calls fn for up to limit documents, newest first, with seq < before_seq (0: from the
 * newest).  fn returning < 0 stops the walk and is returned. */
int docs_list(struct db *db, int64_t before_seq, int limit, int (*fn)(void *ctx, const struct doc_meta *m),
	      void *ctx);

/* Inserts a document row known from its manifest (used by the rebuild; its outbox item is
 * added afterwards, in sequence order).  Returns 1 if the document was already present; a
 * sequence already taken is replaced by the next free one (and logged). */
int docs_restore(struct db *db, const struct doc_meta *meta);

/* Manifests: DIR/<id[0..1]>/<id>.json, small JSON without personal data. */
int manifest_write(const char *dir, const struct doc_meta *m);
/* Parses a manifest's bytes (hostile input: bounded and validated field by field). */
int manifest_parse(const char *text, size_t len, struct doc_meta *ret);

#endif
