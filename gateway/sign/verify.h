/* Verification of certified copies and QR seals against a trust list, offline.  This is the
 * API for every verifier in motcua: motcuactl (copy verify, seal verify) and the public
 * /verify web page.  OpenSSL only; no I/O except what the caller hands in; thread-safe (a
 * trust list is read-only once loaded). */
#ifndef MOTCUA_VERIFY_H
#define MOTCUA_VERIFY_H

#include <stddef.h>

#include "gateway/sign/seal.h"

struct trustlist;

/* Loads the PEM certificates in pem[0..len) (the issuers' signing certificates, as
 * `motcuactl keys trustlist` prints them).  -EINVAL when it holds no certificate. */
int trustlist_load(const char *pem, size_t len, struct trustlist **ret);
/* Same from a file. */
int trustlist_load_file(const char *path, struct trustlist **ret);
void trustlist_free(struct trustlist *t);
/* Number of certificates. */
int trustlist_count(const struct trustlist *t);

enum verdict {
	VERDICT_VALID = 0,
	VERDICT_INVALID = 1, /* forged, altered or damaged: reason says which check failed */
	VERDICT_UNTRUSTED = 2, /* well-formed and intact, but signed by a key not in the trust list */
};

struct copy_verdict {
	enum verdict verdict;
	char reason[512]; /* one sentence, Vietnamese-free English for logs; "" when valid */
	int has_seal;
	struct seal seal; /* when has_seal */
	char number_text[64]; /* "123, quyển số 01/2026-SCT/BS" */
	char signer[256]; /* subject of the signing certificate, when known */
	int test_key; /* signed with a TEST key (subject says so): never a real certified copy */
};

/* Verifies a seal text ("VNCC1:...") as docs/seal.md says.  Always fills v; returns 0 when
 * a verdict was reached (see v->verdict), -ENOMEM on resource failure. */
int verify_seal(const struct trustlist *t, const char *text, size_t len, struct copy_verdict *v);

/* Verifies a certified copy PDF: its PAdES signature (CMS over the whole file but
 * /Contents, signing-certificate-v2, no signingTime), the signer certificate against the
 * trust list at the seal's time, the seal stored in the PDF, the SHA-256 of the embedded
 * original scan against the seal, and that the seal's key is the PDF's signer.  One verdict
 * and the first failing check as the reason.  Returns 0 when a verdict was reached. */
int verify_copy_pdf(const struct trustlist *t, const unsigned char *pdf, size_t len, struct copy_verdict *v);

#endif
