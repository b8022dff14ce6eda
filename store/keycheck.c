/* The storage key's check value, kept beside the store in STATE/keycheck: a known text
 * sealed with AES-256-GCM under the key.  A wrong key fails the tag at once, whatever state
 * the document files are in; damaged documents are then only reported (store check). */
#include "store/keycheck.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "store/fsutil.h"

#define KC_MAGIC "MCK1"
#define KC_NONCE 12
#define KC_TAG 16
#define KC_TEXT "motcua storage key check, v1...." /* 32 bytes */
#define KC_TEXT_LEN 32
#define KC_LEN (4 + KC_NONCE + KC_TEXT_LEN + KC_TAG)

static int seal(const unsigned char key[BLOB_KEY_LEN], int enc, const unsigned char *nonce,
		const unsigned char *in, unsigned char *out, unsigned char *tag)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int outl = 0, ok;
	if (!c)
		return -ENOMEM;
	ok = EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, KC_NONCE, NULL) == 1 &&
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) == 1 &&
	    EVP_CipherUpdate(c, NULL, &outl, (const unsigned char *)KC_MAGIC, 4) == 1 &&
	    EVP_CipherUpdate(c, out, &outl, in, KC_TEXT_LEN) == 1 &&
	    (enc || EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, KC_TAG, tag) == 1);
	if (ok)
		ok = EVP_CipherFinal_ex(c, out + outl, &outl) == 1;
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, KC_TAG, tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EKEYREJECTED;
}

int keycheck_write(const char *path, const unsigned char key[BLOB_KEY_LEN])
{
	unsigned char buf[KC_LEN];
	memcpy(buf, KC_MAGIC, 4);
	if (RAND_bytes(buf + 4, KC_NONCE) != 1)
		return -EIO;
	int r = seal(key, 1, buf + 4, (const unsigned char *)KC_TEXT, buf + 4 + KC_NONCE,
		     buf + 4 + KC_NONCE + KC_TEXT_LEN);
	if (r < 0)
		return -EIO;
	return fs_write_atomic(path, buf, sizeof(buf), 0600);
}

int keycheck_verify(const char *path, const unsigned char key[BLOB_KEY_LEN])
{
	unsigned char plain[KC_TEXT_LEN];
	char *data = NULL;
	size_t len = 0;
	int r = fs_read_small(path, 1024, &data, &len);
	if (r < 0)
		return r;
	if (len != KC_LEN || memcmp(data, KC_MAGIC, 4) != 0) {
		r = -EBADMSG;
		goto out;
	}
	unsigned char *b = (unsigned char *)data;
	r = seal(key, 0, b + 4, b + 4 + KC_NONCE, plain, b + 4 + KC_NONCE + KC_TEXT_LEN);
	if (r == 0 && memcmp(plain, KC_TEXT, KC_TEXT_LEN) != 0)
		r = -EKEYREJECTED;
	OPENSSL_cleanse(plain, sizeof(plain));
out:
	free(data);
	return r;
}
