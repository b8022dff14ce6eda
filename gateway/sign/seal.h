/* The QR seal of a certified copy (docs/seal.md): a COSE_Sign1 (ES256) over a CBOR map
 * {issuer code, signing time, copy number, SHA-256 of the original scan}, in Base45 after the
 * prefix "VNCC1:".  Encoding, strict decoding and the signature check; no I/O. */
#ifndef MOTCUA_SEAL_H
#define MOTCUA_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define SEAL_PREFIX "VNCC1:"
#define SEAL_ISSUER_MAX 64 /* 1-63 printable ASCII characters */
#define SEAL_KID_LEN 8
#define SEAL_SIG_LEN 64 /* ES256: r || s, 32 bytes each */
#define SEAL_COSE_MAX 512 /* a seal's COSE bytes never exceed this */
#define SEAL_TEXT_MAX (sizeof(SEAL_PREFIX) + SEAL_COSE_MAX / 2 * 3 + 2) /* incl. NUL */

struct seal {
	char issuer[SEAL_ISSUER_MAX];
	int64_t time; /* signing time, seconds since 1970-01-01 UTC */
	uint32_t year, book, number; /* copy number: number in book of year, type SCT/BS */
	unsigned char sha256[32]; /* SHA-256 of the original scan's bytes */
	unsigned char kid[SEAL_KID_LEN]; /* first 8 bytes of SHA-256 of the signer certificate (DER) */
};

/* A decoded seal with what its signature check needs. */
struct seal_decoded {
	struct seal seal;
	unsigned char tbs_sha256[32]; /* SHA-256 of the COSE Sig_structure */
	unsigned char sig[SEAL_SIG_LEN];
};

/* Makes the ES256 signature (r || s) of a SHA-256 digest; returns 0 or -errno. */
/* Signs tbs, the COSE Sig_structure (ES256: ECDSA P-256 over its SHA-256), into r || s. */
typedef int (*seal_sign_fn)(void *ctx, const unsigned char *tbs, size_t len,
			    unsigned char ret_sig[SEAL_SIG_LEN]);

/* Encodes s as "VNCC1:<Base45>" into out (SEAL_TEXT_MAX is enough), calling sign once for the
 * Sig_structure's digest.  Returns the text length, -EINVAL for a field out of range,
 * -ENOBUFS when out is too small, or sign's error. */
int seal_encode(const struct seal *s, seal_sign_fn sign, void *ctx, char *out, size_t outlen);

/* Decodes text (len bytes, hostile input: bounded, strict deterministic CBOR, exactly the
 * structure of docs/seal.md).  Leading/trailing ASCII whitespace is ignored.  Returns 0, or
 * -EBADMSG / -EPROTO with a reason in why (why may be NULL).  Does not check the signature. */
int seal_decode(const char *text, size_t len, struct seal_decoded *ret, char *why, size_t whylen);

/* Checks d's signature with an EC P-256 public key given as an EVP_PKEY pointer.
 * 0 when valid, -EBADMSG when not, -EINVAL when the key is not P-256. */
int seal_check_signature(const struct seal_decoded *d, const void *evp_pkey);

/* The key id of a certificate: first SEAL_KID_LEN bytes of SHA-256 of its DER. */
int seal_kid_of(const unsigned char *der, size_t len, unsigned char ret_kid[SEAL_KID_LEN]);

/* "123, quyển số 01/2026-SCT/BS" style text of the copy number. */
void seal_number_text(const struct seal *s, char *out, size_t outlen);

/* RFC 9285 Base45.  encode: returns the text length or -ENOBUFS; decode: the byte count, or
 * -EBADMSG for a character outside the alphabet, a lone character or a group over range. */
int base45_encode(const unsigned char *in, size_t len, char *out, size_t outlen);
int base45_decode(const char *in, size_t len, unsigned char *out, size_t outlen);

/* DER ECDSA-Sig-Value <-> raw r || s (P-256). 0 or -EBADMSG / -ENOBUFS. */
int seal_sig_from_der(const unsigned char *der, size_t len, unsigned char ret_sig[SEAL_SIG_LEN]);

#endif
