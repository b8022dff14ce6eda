/* BAC and 3DES secure messaging (ICAO 9303-11 sections 4.3 and 9.8) with libcrypto. */
#include "gateway/chip/sm.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include "gateway/chip/tlv.h"

static int mrz_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c == '<')
		return 0;
	return -1;
}

static int check_digit(const char *s, size_t n)
{
	static const int w[3] = { 7, 3, 1 };
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int v = mrz_value(s[i]);
		if (v < 0)
			return -1;
		sum += v * w[i % 3];
	}
	return sum % 10;
}

int sm_bac_seed(const char *doc_number, const char *birth, const char *expiry, uint8_t seed[16])
{
	char info[9 + 1 + 6 + 1 + 6 + 1];
	size_t dn = strlen(doc_number);
	if (dn == 0 || dn > 9 || strlen(birth) != 6 || strlen(expiry) != 6)
		return -EINVAL;
	memset(info, '<', 9);
	memcpy(info, doc_number, dn);
	memcpy(info + 10, birth, 6);
	memcpy(info + 17, expiry, 6);
	int c1 = check_digit(info, 9), c2 = check_digit(info + 10, 6), c3 = check_digit(info + 17, 6);
	if (c1 < 0 || c2 < 0 || c3 < 0)
		return -EINVAL;
	for (int i = 10; i < 16; i++)
		if (info[i] < '0' || info[i] > '9' || info[i + 7] < '0' || info[i + 7] > '9')
			return -EINVAL;
	info[9] = (char)('0' + c1);
	info[16] = (char)('0' + c2);
	info[23] = (char)('0' + c3);
	uint8_t h[SHA_DIGEST_LENGTH];
	SHA1((const uint8_t *)info, sizeof(info), h);
	memcpy(seed, h, 16);
	OPENSSL_cleanse(h, sizeof(h));
	OPENSSL_cleanse(info, sizeof(info));
	return 0;
}

void sm_derive(const uint8_t seed[16], uint32_t counter, uint8_t key[16])
{
	uint8_t d[20], h[SHA_DIGEST_LENGTH];
	memcpy(d, seed, 16);
	d[16] = (uint8_t)(counter >> 24);
	d[17] = (uint8_t)(counter >> 16);
	d[18] = (uint8_t)(counter >> 8);
	d[19] = (uint8_t)counter;
	SHA1(d, sizeof(d), h);
	for (int i = 0; i < 16; i++) {
		uint8_t b = h[i] & 0xFE;
		key[i] = (uint8_t)(b | !(__builtin_popcount(b) & 1));
	}
	OPENSSL_cleanse(d, sizeof(d));
	OPENSSL_cleanse(h, sizeof(h));
}

static int cipher(const EVP_CIPHER *c, const uint8_t *key, int encrypt, uint8_t *buf, size_t len)
{
	static const uint8_t iv[8];
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int out1 = 0, out2 = 0, r = -EIO;
	if (!ctx)
		return -ENOMEM;
	if (len % 8 || len > SM_APDU_MAX)
		goto out;
	if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, encrypt) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, buf, &out1, buf, (int)len) != 1 ||
	    EVP_CipherFinal_ex(ctx, buf + out1, &out2) != 1)
		goto out;
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int sm_3des(const uint8_t key[16], int encrypt, uint8_t *buf, size_t len)
{
	return cipher(EVP_des_ede_cbc(), key, encrypt, buf, len);
}

/* ISO 9797-1 padding method 2 into out (cap bytes); returns the padded length or 0. */
static size_t pad(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t n = (len / 8 + 1) * 8;
	if (n > cap)
		return 0;
	memmove(out, in, len);
	out[len] = 0x80;
	memset(out + len + 1, 0, n - len - 1);
	return n;
}

int sm_mac(const uint8_t key[16], const uint8_t *data, size_t len, uint8_t mac[8])
{
	/* DES-CBC with Ka over every padded block, then DES^-1 with Kb and DES with Ka on the
	 * last one.  Single DES comes from two-key 3DES with Ka = Kb (EDE collapses). */
	uint8_t ka2[16], kb2[16], h[8] = { 0 }, blk[8];
	size_t n = (len / 8 + 1) * 8;
	int r = 0;
	memcpy(ka2, key, 8);
	memcpy(ka2 + 8, key, 8);
	memcpy(kb2, key + 8, 8);
	memcpy(kb2 + 8, key + 8, 8);
	for (size_t i = 0; i < n && r == 0; i += 8) {
		for (size_t j = 0; j < 8; j++) {
			size_t k = i + j;
			uint8_t b = k < len ? data[k] : k == len ? 0x80 : 0;
			blk[j] = h[j] ^ b;
		}
		memcpy(h, blk, 8);
		r = cipher(EVP_des_ede_ecb(), ka2, 1, h, 8);
	}
	if (r == 0)
		r = cipher(EVP_des_ede_ecb(), kb2, 0, h, 8);
	if (r == 0)
		r = cipher(EVP_des_ede_ecb(), ka2, 1, h, 8);
	if (r == 0)
		memcpy(mac, h, 8);
	OPENSSL_cleanse(ka2, sizeof(ka2));
	OPENSSL_cleanse(kb2, sizeof(kb2));
	return r;
}

int sm_bac_request(const uint8_t kenc[16], const uint8_t kmac[16], const uint8_t rnd_icc[8],
		   const uint8_t rnd_ifd[8], const uint8_t k_ifd[16], uint8_t out[40])
{
	memcpy(out, rnd_ifd, 8);
	memcpy(out + 8, rnd_icc, 8);
	memcpy(out + 16, k_ifd, 16);
	int r = sm_3des(kenc, 1, out, 32);
	if (r == 0)
		r = sm_mac(kmac, out, 32, out + 32);
	return r;
}

static void increment(uint8_t ssc[8])
{
	for (int i = 7; i >= 0; i--)
		if (++ssc[i] != 0)
			break;
}

int sm_bac_finish(const uint8_t kenc[16], const uint8_t kmac[16], const uint8_t rnd_icc[8],
		  const uint8_t rnd_ifd[8], const uint8_t k_ifd[16], const uint8_t *resp, size_t len,
		  struct sm *ret)
{
	uint8_t mac[8], plain[32], seed[16];
	int r = -EACCES;
	if (len != 40)
		return -EACCES;
	if (sm_mac(kmac, resp, 32, mac) < 0 || CRYPTO_memcmp(mac, resp + 32, 8) != 0)
		return -EACCES;
	memcpy(plain, resp, 32);
	if (sm_3des(kenc, 0, plain, 32) < 0)
		goto out;
	if (CRYPTO_memcmp(plain, rnd_icc, 8) != 0 || CRYPTO_memcmp(plain + 8, rnd_ifd, 8) != 0)
		goto out;
	for (int i = 0; i < 16; i++)
		seed[i] = k_ifd[i] ^ plain[16 + i];
	sm_derive(seed, 1, ret->ks_enc);
	sm_derive(seed, 2, ret->ks_mac);
	memcpy(ret->ssc, rnd_icc + 4, 4);
	memcpy(ret->ssc + 4, rnd_ifd + 4, 4);
	r = 0;
out:
	OPENSSL_cleanse(plain, sizeof(plain));
	OPENSSL_cleanse(seed, sizeof(seed));
	return r;
}

int sm_wrap(struct sm *sm, const uint8_t hdr[4], const uint8_t *data, size_t dlen, size_t ne, int ext,
	    uint8_t *out, size_t cap)
{
	/* Static: the worker reads one card on one thread; 64 KB is too much for its stack. */
	static uint8_t body[SM_APDU_MAX];
	static uint8_t macin[SM_APDU_MAX + 32];
	size_t bn = 0, mn = 0;
	uint8_t l[3];
	int r;
	if (dlen > 0xFF00 || ne > 65536)
		return -EMSGSIZE;
	if (dlen) {
		uint8_t *enc = body + 8; /* room for 87 L(3) 01 */
		size_t n = pad(data, dlen, enc, sizeof(body) - 8);
		if (!n || (r = sm_3des(sm->ks_enc, 1, enc, n)) < 0)
			return -EMSGSIZE;
		size_t ln = tlv_put_len(l, n + 1);
		body[0] = 0x87;
		memcpy(body + 1, l, ln);
		body[1 + ln] = 0x01;
		memmove(body + 2 + ln, enc, n);
		bn = 2 + ln + n;
	}
	if (ne) {
		int two = ne > 256 || ext;
		body[bn++] = 0x97;
		body[bn++] = two ? 2 : 1;
		if (two) {
			body[bn++] = (uint8_t)((ne == 65536 ? 0 : ne) >> 8);
			body[bn++] = (uint8_t)ne;
		} else {
			body[bn++] = (uint8_t)ne;
		}
	}
	increment(sm->ssc);
	memcpy(macin, sm->ssc, 8);
	macin[8] = hdr[0] | 0x0C;
	memcpy(macin + 9, hdr + 1, 3);
	mn = pad(macin + 8, 4, macin + 8, 8) + 8;
	memcpy(macin + mn, body, bn);
	mn += bn;
	uint8_t mac[8];
	if ((r = sm_mac(sm->ks_mac, macin, mn, mac)) < 0)
		return r;
	body[bn++] = 0x8E;
	body[bn++] = 8;
	memcpy(body + bn, mac, 8);
	bn += 8;

	int extended = ext || bn > 255 || ne > 256;
	size_t n = 0;
	if (cap < 4 + 3 + bn + 2)
		return -EMSGSIZE;
	out[n++] = hdr[0] | 0x0C;
	memcpy(out + n, hdr + 1, 3);
	n += 3;
	if (extended) {
		out[n++] = 0;
		out[n++] = (uint8_t)(bn >> 8);
		out[n++] = (uint8_t)bn;
	} else {
		out[n++] = (uint8_t)bn;
	}
	memcpy(out + n, body, bn);
	n += bn;
	if (extended) {
		out[n++] = 0;
		out[n++] = 0;
	} else {
		out[n++] = 0;
	}
	return (int)n;
}

int sm_unwrap(struct sm *sm, const uint8_t *resp, size_t len, uint8_t *out, size_t cap, unsigned *ret_sw)
{
	static uint8_t macin[SM_APDU_MAX + 16];
	struct tlv t, do87 = { 0 }, do99 = { 0 }, do8e = { 0 };
	size_t pos = 0, covered = 0;
	int r, have87 = 0, have99 = 0, have8e = 0;
	if (len > SM_APDU_MAX)
		return -EPROTO;
	while ((r = tlv_next(resp, len, &pos, &t)) == 0) {
		if (t.tag == 0x87 && !have87 && !have8e) {
			do87 = t;
			have87 = 1;
		} else if (t.tag == 0x99 && !have99 && !have8e) {
			do99 = t;
			have99 = 1;
		} else if (t.tag == 0x8E && !have8e) {
			do8e = t;
			have8e = 1;
			covered = pos - t.total;
		} else {
			return -EPROTO;
		}
	}
	if (r != -ENODATA || !have8e || !have99 || do8e.len != 8 || do99.len != 2)
		return -EPROTO;
	increment(sm->ssc);
	memcpy(macin, sm->ssc, 8);
	memcpy(macin + 8, resp, covered);
	uint8_t mac[8];
	if ((r = sm_mac(sm->ks_mac, macin, 8 + covered, mac)) < 0)
		return r;
	if (CRYPTO_memcmp(mac, do8e.value, 8) != 0)
		return -EACCES;
	*ret_sw = ((unsigned)do99.value[0] << 8) | do99.value[1];
	if (!have87)
		return 0;
	if (do87.len < 9 || do87.value[0] != 0x01 || (do87.len - 1) % 8 || do87.len - 1 > cap)
		return -EPROTO;
	size_t n = do87.len - 1;
	memcpy(out, do87.value + 1, n);
	if ((r = sm_3des(sm->ks_enc, 0, out, n)) < 0)
		return r;
	while (n > 0 && out[n - 1] == 0)
		n--;
	if (n == 0 || out[n - 1] != 0x80)
		return -EPROTO;
	return (int)(n - 1);
}
