/* Content-addressed blob files, encrypted at rest with AES-256-GCM.
 * A blob is named by the SHA-256 of its plaintext and stored as
 *   "MCB1" | 12-byte random nonce | ciphertext | 16-byte GCM tag
 * under DIR/ab/<hash>, written temp -> fsync -> rename -> fsync(dir).  A blob whose tag or
 * hash does not check out is reported corrupt and never handed out. */
#ifndef MOTCUA_BLOB_H
#define MOTCUA_BLOB_H

#include <stdint.h>
#include <sys/types.h>

#define BLOB_KEY_LEN 32
#define BLOB_HASH_HEX 65 /* 64 hex digits and NUL */
#define BLOB_OVERHEAD (4 + 12 + 16)

struct blobs;

/* Source of bytes for blob_put: returns bytes read, 0 at the end, or -errno. */
typedef ssize_t (*blob_reader)(void *ctx, void *buf, size_t len);
/* Sink for blob_get: returns 0 or -errno (which stops the copy). */
typedef int (*blob_writer)(void *ctx, const void *buf, size_t len);

/* Opens the blob directory dir (created if missing) with a copy of key. */
int blobs_open(const char *dir, const unsigned char key[BLOB_KEY_LEN], struct blobs **ret);
/* Wipes the key copy; accepts NULL. */
void blobs_close(struct blobs *b);

/* Streams plaintext from read into a new blob, never holding it whole in memory.
 * More than max bytes gives -EMSGSIZE; a full disk -ENOSPC; in every failure nothing is
 * left behind.  On success the blob is durable and ret_hash/ret_size describe it. */
int blob_put(struct blobs *b, blob_reader src, void *ctx, int64_t max, char ret_hash[BLOB_HASH_HEX],
	     int64_t *ret_size);

/* A keyed hash (hex HMAC-SHA256) of data, under a key derived from the storage key for
 * purpose (HMAC-SHA256(storage key, "motcua keyed-hash v1 " purpose)): stable on this box,
 * never derivable without the key file, which is never uploaded.  For personal numbers
 * that must be compared but not be recoverable by trying every value. */
void blob_keyed_hash(struct blobs *b, const char *purpose, const void *data, size_t len,
		     char out[BLOB_HASH_HEX]);

/* Decrypts the whole blob and checks its tag and hash without handing out any byte.
 * 0 and the plaintext size when sound, -ENOENT when absent, -EBADMSG when corrupt. */
int blob_verify(struct blobs *b, const char *hash, int64_t *ret_size);

/* Verifies the blob, then streams its plaintext to write.  Errors as blob_verify. */
int blob_get(struct blobs *b, const char *hash, blob_writer sink, void *ctx);

/* Decrypts len plaintext bytes starting at offset into buf, without reading the rest of the
 * blob (AES-GCM is CTR mode underneath).  The tag cannot be checked on a part: call
 * blob_verify once before handing out ranges of a blob, and let the receiver check the hash
 * of the whole (the LGSP does at the end of an upload).  Returns 0, -ERANGE when the range
 * goes past the end, -ENOENT when absent, -EBADMSG for a file that is not a blob. */
int blob_read_range(struct blobs *b, const char *hash, int64_t offset, void *buf, size_t len);

/* 1 if a blob file with that hash exists, 0 if not. */
int blob_exists(struct blobs *b, const char *hash);

/* Path of the blob file for hash (for tests and diagnostics). */
int blob_path(struct blobs *b, const char *hash, char *out, size_t size);

/* 1 if hash is 64 lowercase hex digits. */
int blob_hash_valid(const char *hash);

/* Number of blob files present (used to refuse creating a new key over existing data). */
int blobs_count(struct blobs *b, int64_t *ret_count);

#endif
