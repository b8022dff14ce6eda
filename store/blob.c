/* Encrypted, content-addressed blob files: streaming AES-256-GCM with OpenSSL EVP. */
#include "store/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/log.h"
#include "store/fsutil.h"

#define MAGIC "MCB1"
#define NONCE_LEN 12
#define TAG_LEN 16
#define CHUNK (64 * 1024)

struct blobs {
	char dir[PATH_MAX];
	char tmpdir[PATH_MAX];
	unsigned char key[BLOB_KEY_LEN];
};

int blob_hash_valid(const char *hash)
{
	size_t i;
	for (i = 0; hash[i]; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
			return 0;
	return i == 64;
}

int blobs_open(const char *dir, const unsigned char key[BLOB_KEY_LEN], struct blobs **ret)
{
	struct blobs *b = calloc(1, sizeof(*b));
	int r;
	if (!b)
		return -ENOMEM;
	if (fs_join(b->dir, sizeof(b->dir), dir, "") < 0 ||
	    fs_join(b->tmpdir, sizeof(b->tmpdir), dir, "tmp") < 0) {
		free(b);
		return -ENAMETOOLONG;
	}
	b->dir[strlen(b->dir) - 1] = '\0'; /* drop the trailing '/' */
	r = fs_mkdir_p(b->tmpdir, 0700);
	if (r < 0) {
		log_error("store: cannot create %s: %s", b->tmpdir, strerror(-r));
		free(b);
		return r;
	}
	memcpy(b->key, key, BLOB_KEY_LEN);
	*ret = b;
	return 0;
}

void blobs_close(struct blobs *b)
{
	if (!b)
		return;
	OPENSSL_cleanse(b->key, sizeof(b->key));
	free(b);
}

int blob_path(struct blobs *b, const char *hash, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%.2s/%s", b->dir, hash, hash);
	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

int blob_exists(struct blobs *b, const char *hash)
{
	char path[PATH_MAX];
	if (!blob_hash_valid(hash) || blob_path(b, hash, path, sizeof(path)) < 0)
		return 0;
	return access(path, F_OK) == 0;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void blob_keyed_hash(struct blobs *b, const char *purpose, const void *data, size_t len,
		     char out[BLOB_HASH_HEX])
{
	unsigned char sub[32], mac[32];
	char label[96];
	unsigned n = 0;
	int l = snprintf(label, sizeof(label), "motcua keyed-hash v1 %s", purpose);
	HMAC(EVP_sha256(), b->key, BLOB_KEY_LEN, (const unsigned char *)label, (size_t)l, sub, &n);
	HMAC(EVP_sha256(), sub, sizeof(sub), data, len, mac, &n);
	hex(mac, sizeof(mac), out);
	OPENSSL_cleanse(sub, sizeof(sub));
}

int blob_put(struct blobs *b, blob_reader src, void *ctx, int64_t max, char ret_hash[BLOB_HASH_HEX],
	     int64_t *ret_size)
{
	unsigned char nonce[NONCE_LEN], tag[TAG_LEN], md[32];
	unsigned char *in = NULL, *out = NULL;
	char tmp[PATH_MAX], final[PATH_MAX], sub[PATH_MAX], hash[BLOB_HASH_HEX];
	EVP_CIPHER_CTX *c = NULL;
	EVP_MD_CTX *h = NULL;
	int64_t total = 0;
	int fd = -1, r, outl;
	unsigned mdlen;

	if (snprintf(tmp, sizeof(tmp), "%s/put.XXXXXX", b->tmpdir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	in = malloc(CHUNK);
	out = malloc(CHUNK + 32);
	c = EVP_CIPHER_CTX_new();
	h = EVP_MD_CTX_new();
	if (!in || !out || !c || !h) {
		r = -ENOMEM;
		goto out;
	}
	if (RAND_bytes(nonce, NONCE_LEN) != 1 ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, b->key, nonce) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &outl, (const unsigned char *)MAGIC, 4) != 1 ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		log_error("store: cannot set up AES-256-GCM");
		r = -EIO;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		fd = -1;
		tmp[0] = '\0';
		goto out;
	}
	r = fs_write_all(fd, MAGIC, 4);
	if (r == 0)
		r = fs_write_all(fd, nonce, NONCE_LEN);
	if (r < 0)
		goto out;
	for (;;) {
		ssize_t n = src(ctx, in, CHUNK);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		total += n;
		if (total > max) {
			r = -EMSGSIZE;
			goto out;
		}
		if (EVP_DigestUpdate(h, in, (size_t)n) != 1 ||
		    EVP_EncryptUpdate(c, out, &outl, in, (int)n) != 1) {
			r = -EIO;
			goto out;
		}
		r = fs_write_all(fd, out, (size_t)outl);
		if (r < 0)
			goto out;
	}
	if (EVP_EncryptFinal_ex(c, out, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DigestFinal_ex(h, md, &mdlen) != 1) {
		r = -EIO;
		goto out;
	}
	r = fs_write_all(fd, out, (size_t)outl);
	if (r == 0)
		r = fs_write_all(fd, tag, TAG_LEN);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r < 0)
		goto out;
	hex(md, 32, hash);
	if (snprintf(sub, sizeof(sub), "%s/%.2s", b->dir, hash) >= (int)sizeof(sub) ||
	    blob_path(b, hash, final, sizeof(final)) < 0) {
		r = -ENAMETOOLONG;
		goto out;
	}
	/* store_open pre-creates the 256 fan-out directories durably; a directory made here
	 * (it was removed since) needs its parent fsynced before anything inside counts. */
	int made = mkdir(sub, 0700) == 0;
	if (!made && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	if (rename(tmp, final) < 0) {
		r = -errno;
		goto out;
	}
	tmp[0] = '\0';
	r = fs_fsync_dir(sub);
	if (r == 0 && made)
		r = fs_fsync_dir(b->dir);
	if (r < 0)
		goto out;
	memcpy(ret_hash, hash, BLOB_HASH_HEX);
	*ret_size = total;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp[0] && r < 0)
		unlink(tmp);
	EVP_CIPHER_CTX_free(c);
	EVP_MD_CTX_free(h);
	if (in)
		OPENSSL_cleanse(in, CHUNK);
	if (out)
		OPENSSL_cleanse(out, CHUNK + 32);
	free(in);
	free(out);
	return r;
}

/* Decrypts the blob at hash, passing plaintext to write when it is not NULL; checks the tag
 * and that the plaintext hashes to the name. */
static int decrypt(struct blobs *b, const char *hash, blob_writer sink, void *ctx, int64_t *ret_size)
{
	unsigned char hdr[4 + NONCE_LEN], tag[TAG_LEN], md[32];
	unsigned char *in = NULL, *out = NULL;
	char path[PATH_MAX], got[BLOB_HASH_HEX];
	EVP_CIPHER_CTX *c = NULL;
	EVP_MD_CTX *h = NULL;
	struct stat st;
	int64_t left, total = 0;
	int fd = -1, r, outl;
	unsigned mdlen;

	if (!blob_hash_valid(hash))
		return -EINVAL;
	r = blob_path(b, hash, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	in = malloc(CHUNK);
	out = malloc(CHUNK + 32);
	c = EVP_CIPHER_CTX_new();
	h = EVP_MD_CTX_new();
	if (!in || !out || !c || !h) {
		r = -ENOMEM;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size < BLOB_OVERHEAD || fs_read_full(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, MAGIC, 4) != 0) {
		r = -EBADMSG;
		goto out;
	}
	if (EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, b->key, hdr + 4) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &outl, (const unsigned char *)MAGIC, 4) != 1 ||
	    EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
		r = -EIO;
		goto out;
	}
	left = st.st_size - BLOB_OVERHEAD;
	while (left > 0) {
		size_t want = left > CHUNK ? CHUNK : (size_t)left;
		ssize_t n = fs_read_full(fd, in, want);
		if (n != (ssize_t)want) {
			r = n < 0 ? (int)n : -EBADMSG;
			goto out;
		}
		if (EVP_DecryptUpdate(c, out, &outl, in, (int)n) != 1 ||
		    EVP_DigestUpdate(h, out, (size_t)outl) != 1) {
			r = -EBADMSG;
			goto out;
		}
		if (sink) {
			r = sink(ctx, out, (size_t)outl);
			if (r < 0)
				goto out;
		}
		total += outl;
		left -= n;
	}
	if (fs_read_full(fd, tag, TAG_LEN) != TAG_LEN ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, out, &outl) != 1) {
		r = -EBADMSG;
		goto out;
	}
	if (EVP_DigestFinal_ex(h, md, &mdlen) != 1) {
		r = -EIO;
		goto out;
	}
	hex(md, 32, got);
	if (strcmp(got, hash) != 0) {
		r = -EBADMSG;
		goto out;
	}
	if (ret_size)
		*ret_size = total;
	r = 0;
out:
	close(fd);
	EVP_CIPHER_CTX_free(c);
	EVP_MD_CTX_free(h);
	if (out)
		OPENSSL_cleanse(out, CHUNK + 32);
	free(in);
	free(out);
	return r;
}

int blob_verify(struct blobs *b, const char *hash, int64_t *ret_size)
{
	int r = decrypt(b, hash, NULL, NULL, ret_size);
	if (r == -EBADMSG)
		log_error("store: blob %.16s... failed authentication: it is corrupt or was altered", hash);
	return r;
}

/* GCM with a 12-byte nonce encrypts plaintext block i with the counter block
 * nonce || BE32(2 + i) (J0 = nonce || 1 is kept for the tag), so CTR mode started at that
 * block decrypts any range.  The 32-bit counter cannot wrap: blobs are far below 64 GiB. */
int blob_read_range(struct blobs *b, const char *hash, int64_t offset, void *buf, size_t len)
{
	unsigned char hdr[4 + NONCE_LEN], iv[16], skip[16];
	unsigned char *in = NULL;
	char path[PATH_MAX];
	EVP_CIPHER_CTX *c = NULL;
	struct stat st;
	size_t done = 0;
	int fd, r, outl;

	if (!blob_hash_valid(hash) || offset < 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	r = blob_path(b, hash, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	in = malloc(CHUNK);
	c = EVP_CIPHER_CTX_new();
	if (!in || !c) {
		r = -ENOMEM;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (st.st_size < BLOB_OVERHEAD || fs_read_full(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, MAGIC, 4) != 0) {
		r = -EBADMSG;
		goto out;
	}
	if ((uint64_t)offset > (uint64_t)(st.st_size - BLOB_OVERHEAD) ||
	    len > (uint64_t)(st.st_size - BLOB_OVERHEAD) - (uint64_t)offset) {
		r = -ERANGE;
		goto out;
	}
	uint64_t block = (uint64_t)offset / 16 + 2;
	memcpy(iv, hdr + 4, NONCE_LEN);
	iv[12] = (unsigned char)(block >> 24);
	iv[13] = (unsigned char)(block >> 16);
	iv[14] = (unsigned char)(block >> 8);
	iv[15] = (unsigned char)block;
	if (EVP_DecryptInit_ex(c, EVP_aes_256_ctr(), NULL, b->key, iv) != 1) {
		r = -EIO;
		goto out;
	}
	/* Discard the keystream before offset within its block. */
	memset(skip, 0, sizeof(skip));
	if ((offset % 16) && EVP_DecryptUpdate(c, skip, &outl, skip, (int)(offset % 16)) != 1) {
		r = -EIO;
		goto out;
	}
	if (lseek(fd, 4 + NONCE_LEN + offset, SEEK_SET) < 0) {
		r = -errno;
		goto out;
	}
	while (done < len) {
		size_t want = len - done > CHUNK ? CHUNK : len - done;
		ssize_t n = fs_read_full(fd, in, want);
		if (n != (ssize_t)want) {
			r = n < 0 ? (int)n : -EBADMSG;
			goto out;
		}
		if (EVP_DecryptUpdate(c, (unsigned char *)buf + done, &outl, in, (int)n) != 1 ||
		    outl != (int)n) {
			r = -EIO;
			goto out;
		}
		done += (size_t)n;
	}
	r = 0;
out:
	close(fd);
	EVP_CIPHER_CTX_free(c);
	free(in);
	if (r < 0)
		OPENSSL_cleanse(buf, len);
	return r;
}

int blob_get(struct blobs *b, const char *hash, blob_writer sink, void *ctx)
{
	/* Two passes: nothing leaves before the tag and hash have been checked once. */
	int r = blob_verify(b, hash, NULL);
	if (r < 0)
		return r;
	r = decrypt(b, hash, sink, ctx, NULL);
	if (r == -EBADMSG)
		log_error("store: blob %.16s... changed while it was being read", hash);
	return r;
}

int blobs_count(struct blobs *b, int64_t *ret_count)
{
	int64_t n = 0;
	DIR *d = opendir(b->dir);
	struct dirent *e;
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		char sub[PATH_MAX];
		if (strlen(e->d_name) != 2 || fs_join(sub, sizeof(sub), b->dir, e->d_name) < 0)
			continue;
		DIR *s = opendir(sub);
		struct dirent *f;
		if (!s)
			continue;
		while ((f = readdir(s)))
			if (blob_hash_valid(f->d_name))
				n++;
		closedir(s);
	}
	closedir(d);
	*ret_count = n;
	return 0;
}
