/* What motcua-signer agrees to sign: the two shapes of signproto.h, checked strictly.  Linked
 * by the signer (and its fuzzer); plain C and OpenSSL's SHA-256. */
#ifndef MOTCUA_SIGNREQ_H
#define MOTCUA_SIGNREQ_H

#include <stddef.h>
#include <stdint.h>

struct signreq_info {
	int kind; /* SIGN_KIND_SEAL or SIGN_KIND_PADES */
	unsigned char digest[32]; /* SHA-256 of the data: what is signed */
	/* SIGN_KIND_SEAL: the copy number and issuer the seal carries. */
	uint64_t year, book, number;
	char issuer[64];
	/* SIGN_KIND_PADES: the message-digest attribute (SHA-256 of the signed PDF bytes). */
	unsigned char content_md[32];
};

/* Checks data of the given kind: a seal's Sig_structure (docs/seal.md: ES256 protected header,
 * empty external data, a deterministic 4-entry payload map with valid fields), or PAdES
 * signed attributes (DER SET of exactly content-type = id-data, a 32-byte message-digest and
 * a signing-certificate-v2 whose certificate hash is cert_sha256).  Fills *ret (digest
 * included) and returns 0, or returns -EPERM with the reason in why.  Never reads past len. */
int signreq_check(int kind, const unsigned char *data, size_t len, const unsigned char cert_sha256[32],
		  struct signreq_info *ret, char *why, size_t whylen);

#endif
