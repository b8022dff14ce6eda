/* The storage key's check value (STATE/keycheck): proves a key is this store's key without
 * reading any document file. */
#ifndef MOTCUA_KEYCHECK_H
#define MOTCUA_KEYCHECK_H

#include "store/blob.h"

/* Seals a known text under key into path (atomically, fsynced, mode 0600).  0 or -errno. */
int keycheck_write(const char *path, const unsigned char key[BLOB_KEY_LEN]);

/* 0 when the file at path opens with key; -EKEYREJECTED when it does not (another key);
 * -ENOENT when absent; -EBADMSG when the file is not a key check (damaged). */
int keycheck_verify(const char *path, const unsigned char key[BLOB_KEY_LEN]);

#endif
