/* ID card chip reads (issue 18): each read's result as an encrypted blob with a row naming
 * the ID card document it was read for (if any) and the face image's document. */
#ifndef MOTCUA_CHIPREADS_H
#define MOTCUA_CHIPREADS_H

#include <stdint.h>

#include "store/blob.h"

struct db;

struct chip_read_row {
	int64_t id;
	char doc_id[33]; /* "" when read without a document */
	char face_doc_id[33]; /* "" when the card gave no face */
	char result_sha256[BLOB_HASH_HEX];
	int verified;
	int differences;
	char actor[64];
	char at[32];
};

/* Stores a read: the JSON as a blob, the row, an audit row (verified, number of
 * differences, the names of failed checks in failed: no personal data), and, when there is
 * a face document, its recognition row set done with this result (type id_card_chip) so the
 * OCR worker leaves the photo alone; one commit.  Writes the new row's id to *ret_id (may be
 * NULL).  Returns 0 or -errno. */
int chipreads_add(struct db *db, struct blobs *b, const char *doc_id, const char *face_doc_id,
		  const char *json, size_t len, int verified, int differences, const char *failed,
		  const char *actor, int64_t *ret_id);

/* The latest read for an ID card document, or the read whose face is face_doc_id;
 * -ENOENT when none. */
int chipreads_latest(struct db *db, const char *doc_id, struct chip_read_row *ret);

#endif
