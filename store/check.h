/* The store check: every blob and manifest the database refers to is read back and compared
 * with its row; what is damaged or missing is listed, never deleted or changed. */
#ifndef MOTCUA_CHECK_H
#define MOTCUA_CHECK_H

#include <stdint.h>

#include "store/blob.h"

struct db;
struct store;

#define STORE_CHECK_LIST_MAX 200 /* problems kept in the saved report (all are counted) */

struct store_check_problem {
	char what[16]; /* "document", "recognition", "correction", "queue-report" */
	char ref[80]; /* the document id (or day of a report) */
	char sha256[BLOB_HASH_HEX];
	char problem[24]; /* "damaged", "missing", "manifest-missing", "manifest-differs" */
	int delivered; /* the city confirmed it: it holds a copy */
	char receipt[128];
};

struct store_check_result {
	char at[32];
	int64_t blobs; /* blobs read back */
	int64_t bytes; /* plaintext bytes read back */
	int64_t manifests;
	int64_t damaged, missing, manifest_problems;
	int64_t delivered_damaged; /* damaged or missing, but the city holds a copy */
	int complete; /* 0 when stopped early (motcuad stopping) */
};

/* Checks the store.  bytes_per_s > 0 throttles the reading (background runs); stop, when
 * not NULL, is polled between blobs and stops the run early.  on_problem (may be NULL) is
 * called for each problem found.  The summary and the first STORE_CHECK_LIST_MAX problems
 * are saved as JSON in meta "store_check" (shown by status and the dashboard).
 * Returns 0, or -errno when the database could not be read. */
int store_check_run(struct store *s, struct db *db, int64_t bytes_per_s, const int *stop,
		    int (*on_problem)(void *ctx, const struct store_check_problem *p), void *ctx,
		    struct store_check_result *ret);

#endif
