/* The audit chain: append-only rows, each holding the SHA-256 of the previous row, for every
 * intake, recognition, signature, upload, receipt, deletion, config change, login and device
 * approval.  audit_verify finds any edited, inserted or deleted row. */
#ifndef MOTCUA_AUDIT_H
#define MOTCUA_AUDIT_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define AUDIT_DETAIL_MAX 2048

struct audit_row {
	int64_t seq;
	char at[32];
	char actor[64];
	char action[64];
	char subject[128];
	char detail[AUDIT_DETAIL_MAX];
	char prev[65];
	char hash[65];
};

/* Appends a row inside the caller's write transaction (db_begin), so that the row commits
 * with the change it records.  detail is JSON text or "" (never personal data). */
int audit_append(struct db *db, const char *actor, const char *action, const char *subject,
		 const char *detail);

/* Same, in a transaction of its own (for events that change nothing else). */
int audit_record(struct db *db, const char *actor, const char *action, const char *subject,
		 const char *detail);

/* Walks the whole chain.  Returns 0 when it is sound (ret_rows = rows checked), -EBADMSG at
 * the first bad row: *ret_bad_seq is its sequence and why says what is wrong with it. */
int audit_verify(struct db *db, int64_t *ret_rows, int64_t *ret_bad_seq, char *why, size_t whylen);

/* Calls fn for the last n rows, oldest first. */
int audit_tail(struct db *db, int n, int (*fn)(void *ctx, const struct audit_row *row), void *ctx);

#endif
