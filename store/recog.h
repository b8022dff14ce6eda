/* The recognition queue: one row per image document (queued -> running -> done | failed),
 * the result JSON kept as an encrypted blob (it holds personal data), each result audited. */
#ifndef MOTCUA_RECOG_H
#define MOTCUA_RECOG_H

#include <stdint.h>

#include "store/blob.h"

struct db;

#define RECOG_MAX_ATTEMPTS 3

struct recog_job {
	char doc_id[33];
	char sha256[BLOB_HASH_HEX];
	int64_t attempts;
};

struct recog_row {
	char state[16];
	char type[64];
	double confidence;
	int needs_review;
	int64_t attempts;
	char result_sha256[BLOB_HASH_HEX]; /* "" until done */
	char updated_at[32];
};

/* Queues every image document that has no row yet (the intake commit is the durable
 * enqueue; this materialises it, also after a crash).  Rows left running by a stopped
 * daemon go back to queued when reset_running is set.  *ret_added may be NULL. */
int recog_sweep(struct db *db, int reset_running, int64_t *ret_added);

/* Marks the oldest queued row running (attempts + 1) and returns it; -ENOENT when none. */
int recog_claim(struct db *db, struct recog_job *ret);

/* Stores a worker's result: the JSON as a blob, the row done with its type, confidence and
 * review flag, and an audit row (type, confidence, review: no personal data), one commit. */
int recog_finish(struct db *db, struct blobs *b, const char *doc_id, const char *json, size_t len,
		 const char *type, double confidence, int needs_review);

/* A worker died, timed out or refused: back to queued, or failed (audited, flagged for
 * review) after RECOG_MAX_ATTEMPTS attempts.  why is a short reason without personal data. */
int recog_fail(struct db *db, const char *doc_id, const char *why);

/* Reads one document's recognition row; -ENOENT when none. */
int recog_get(struct db *db, const char *doc_id, struct recog_row *ret);

/* The latest staff correction of a document's result. */
struct recog_correction {
	int64_t id;
	char base_sha256[BLOB_HASH_HEX]; /* the recognised result it corrects (kept as it was) */
	char result_sha256[BLOB_HASH_HEX]; /* the corrected JSON */
	char actor[64];
	char at[32];
};

/* Stores a staff correction: the corrected JSON as a blob, a recog_corrections row naming
 * the result it corrects, and an audit row (actor, the names of the changed fields in
 * changed: no values, they are personal data), one commit.  -ENOENT when the document has
 * no finished recognition. */
int recog_correct(struct db *db, struct blobs *b, const char *doc_id, const char *json, size_t len,
		  const char *actor, const char *changed);

/* The latest correction of doc_id; -ENOENT when none. */
int recog_correction_get(struct db *db, const char *doc_id, struct recog_correction *ret);

/* One identity from two images: a done recognition of type `want` ("id_card_front" or
 * "id_card_back") of another document from the same source as doc_id, received within
 * window_s seconds of it, neither of the two paired yet; the closest in time.  Fills
 * ret_doc and ret_sha (its result blob); -ENOENT when none. */
int recog_pair_partner(struct db *db, const char *doc_id, const char *want, int64_t window_s,
		       char ret_doc[33], char ret_sha[BLOB_HASH_HEX]);

/* Stores a pair: the merged result JSON as a blob, a recog_pairs row, and an audit row
 * (the two document ids, agree or not, the names of the differing fields in differing:
 * no values), one commit.  how is "same_source" or "staff".  -EEXIST when either document
 * is paired already. */
int recog_pair_store(struct db *db, struct blobs *b, const char *front_doc, const char *back_doc,
		     const char *json, size_t len, int agree, int needs_review, const char *how,
		     const char *actor, const char *differing);

struct recog_pair {
	char front_doc[33], back_doc[33];
	char result_sha256[BLOB_HASH_HEX];
	int agree, needs_review;
	char how[16];
	char at[32];
};

/* The pair doc_id is in (as front or back); -ENOENT when none. */
int recog_pair_get(struct db *db, const char *doc_id, struct recog_pair *ret);

/* Reads a result blob (at most 1 MiB) into a NUL-terminated malloc'd string. */
int recog_blob_text(struct blobs *b, const char *hash, char **ret_text, size_t *ret_len);

#endif
