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

/* Why a verdict is not VALID, for people: each has a sentence in the web catalogue. */
enum verify_reason {
	VR_NONE = 0,
	VR_NOT_A_SEAL, /* the text is not a seal at all (no VNCC1: prefix) */
	VR_SEAL_DAMAGED, /* looks like a seal but does not decode (cut, mistyped) */
	VR_SEAL_ALTERED, /* decodes, but its signature does not match its content */
	VR_UNKNOWN_KEY, /* intact, signed by a key not in the trust list */
	VR_CERT_TIME, /* the certificate was not valid when the seal was made */
	VR_NOT_A_PDF,
	VR_NO_SIGNATURE,
	VR_PDF_DAMAGED,
	VR_PDF_ALTERED, /* changed or added to after signing */
	VR_KEYS_DIFFER, /* seal and PDF signed by different keys */
	VR_NO_SEAL,
	VR_NO_SCAN,
	VR_SCAN_ALTERED, /* the embedded scan is not the one the seal names */
};

struct copy_verdict {
	enum verdict verdict;
	enum verify_reason reason_code; /* VR_NONE when valid */
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
