/* Offline verification of seals and certified-copy PDFs (see verify.h and docs/seal.md). */
#include "gateway/sign/verify.h"

#include <errno.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/sign/pades.h"

struct trustlist {
	STACK_OF(X509) * certs;
};

int trustlist_load(const char *pem, size_t len, struct trustlist **ret)
{
	struct trustlist *t = calloc(1, sizeof(*t));
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509 *x;
	if (!t || !b || !(t->certs = sk_X509_new_null())) {
		BIO_free(b);
		trustlist_free(t);
		return -ENOMEM;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		sk_X509_push(t->certs, x);
	ERR_clear_error();
	BIO_free(b);
	if (sk_X509_num(t->certs) == 0) {
		trustlist_free(t);
		return -EINVAL;
	}
	*ret = t;
	return 0;
}

int trustlist_load_file(const char *path, struct trustlist **ret)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;
	int r;
	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > 4 << 20 || fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -EINVAL;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	r = trustlist_load(buf, (size_t)n, ret);
	free(buf);
	return r;
}

void trustlist_free(struct trustlist *t)
{
	if (!t)
		return;
	sk_X509_pop_free(t->certs, X509_free);
	free(t);
}

int trustlist_count(const struct trustlist *t)
{
	return t ? sk_X509_num(t->certs) : 0;
}

static void why(struct copy_verdict *v, enum verdict d, enum verify_reason code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void why(struct copy_verdict *v, enum verdict d, enum verify_reason code, const char *fmt, ...)
{
	va_list ap;
	if (v->verdict != VERDICT_VALID)
		return; /* the first failing check is the reason */
	v->verdict = d;
	v->reason_code = code;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

static X509 *by_kid(const struct trustlist *t, const unsigned char kid[SEAL_KID_LEN])
{
	for (int i = 0; t && i < sk_X509_num(t->certs); i++) {
		X509 *x = sk_X509_value(t->certs, i);
		unsigned char *der = NULL, k[SEAL_KID_LEN];
		int dl = i2d_X509(x, &der);
		int same =
		    dl > 0 && seal_kid_of(der, (size_t)dl, k) == 0 && memcmp(k, kid, SEAL_KID_LEN) == 0;
		OPENSSL_free(der);
		if (same)
			return x;
	}
	return NULL;
}

static void describe(X509 *x, struct copy_verdict *v)
{
	X509_NAME_oneline(X509_get_subject_name(x), v->signer, sizeof(v->signer));
	v->test_key = strstr(v->signer, "TEST") != NULL;
}

/* 1 when text at least looks like a seal (its prefix), so that a failure to decode it is
 * a damaged seal rather than something else pasted. */
static int text_is_seal(const char *text, size_t len)
{
	while (len && (*text == ' ' || *text == '\n' || *text == '\r' || *text == '\t'))
		text++, len--;
	return len >= 6 && strncasecmp(text, "VNCC1:", 6) == 0;
}

/* The seal alone: structure, trusted key by kid, signature, certificate valid at its time. */
static X509 *check_seal(const struct trustlist *t, const char *text, size_t len, struct copy_verdict *v)
{
	struct seal_decoded d;
	char msg[256];
	int r = seal_decode(text, len, &d, msg, sizeof(msg));
	if (r < 0) {
		why(v, VERDICT_INVALID, text_is_seal(text, len) ? VR_SEAL_DAMAGED : VR_NOT_A_SEAL, "%s", msg);
		return NULL;
	}
	v->has_seal = 1;
	v->seal = d.seal;
	seal_number_text(&d.seal, v->number_text, sizeof(v->number_text));
	X509 *x = by_kid(t, d.seal.kid);
	if (!x) {
		why(v, VERDICT_UNTRUSTED, VR_UNKNOWN_KEY,
		    "the seal's key is not in the trust list (issuer %s)", d.seal.issuer);
		return NULL;
	}
	describe(x, v);
	r = seal_check_signature(&d, X509_get0_pubkey(x));
	if (r < 0) {
		why(v, VERDICT_INVALID, VR_SEAL_ALTERED,
		    "the seal's signature does not match its content (altered or forged)");
		return NULL;
	}
	time_t when = (time_t)d.seal.time;
	if (X509_cmp_time(X509_get0_notBefore(x), &when) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(x), &when) < 0) {
		why(v, VERDICT_INVALID, VR_CERT_TIME,
		    "the signing certificate was not valid at the seal's time");
		return NULL;
	}
	return x;
}

int verify_seal(const struct trustlist *t, const char *text, size_t len, struct copy_verdict *v)
{
	memset(v, 0, sizeof(*v));
	check_seal(t, text, len, v);
	return 0;
}

static int cms_check(const struct trustlist *t, const unsigned char *pdf, const struct pades_sig *ps,
		     X509 *seal_cert, struct copy_verdict *v)
{
	const unsigned char *p = ps->cms;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)ps->cms_len);
	X509_STORE *store = NULL;
	BIO *content = NULL;
	unsigned char *buf = NULL;
	int rc = -1;

	if (!cms) {
		why(v, VERDICT_INVALID, VR_PDF_DAMAGED, "the PDF signature is not a CMS structure (damaged)");
		goto out;
	}
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	if (sk_CMS_SignerInfo_num(sis) != 1) {
		why(v, VERDICT_INVALID, VR_PDF_DAMAGED, "the PDF signature must have exactly one signer");
		goto out;
	}
	CMS_SignerInfo *si = sk_CMS_SignerInfo_value(sis, 0);
	if (CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) < 0 ||
	    CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0) {
		why(v, VERDICT_INVALID, VR_PDF_DAMAGED,
		    "the PDF signature is not PAdES baseline (signing-certificate-v2 "
		    "missing or signingTime present)");
		goto out;
	}
	size_t n1 = (size_t)ps->range[1], n2 = (size_t)ps->range[3];
	buf = malloc(n1 + n2 + 1);
	if (!buf)
		goto out;
	memcpy(buf, pdf, n1);
	memcpy(buf + n1, pdf + ps->range[2], n2);
	content = BIO_new_mem_buf(buf, (int)(n1 + n2));
	store = X509_STORE_new();
	if (!content || !store)
		goto out;
	for (int i = 0; i < sk_X509_num(t->certs); i++)
		X509_STORE_add_cert(store, sk_X509_value(t->certs, i));
	X509_VERIFY_PARAM *vp = X509_STORE_get0_param(store);
	X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_PARTIAL_CHAIN);
	if (v->has_seal)
		X509_VERIFY_PARAM_set_time(vp, (time_t)v->seal.time);
	/* First the signature alone, so that a changed byte is told apart from an unknown key. */
	if (CMS_verify(cms, NULL, NULL, content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		why(v, VERDICT_INVALID, VR_PDF_ALTERED,
		    "the PDF was changed after it was signed (its signature does not match)");
		goto out;
	}
	BIO_reset(content);
	if (CMS_verify(cms, NULL, store, content, NULL, CMS_BINARY) != 1) {
		why(v, VERDICT_UNTRUSTED, VR_UNKNOWN_KEY,
		    "the PDF is signed by a certificate that is not in the trust list");
		goto out;
	}
	STACK_OF(X509) *signers = CMS_get0_signers(cms);
	X509 *sx = sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
	if (sx)
		describe(sx, v);
	if (seal_cert && (!sx || X509_cmp(sx, seal_cert) != 0)) {
		sk_X509_free(signers);
		why(v, VERDICT_INVALID, VR_KEYS_DIFFER,
		    "the seal and the PDF signature were made with different keys");
		goto out;
	}
	sk_X509_free(signers);
	rc = 0;
out:
	ERR_clear_error();
	BIO_free(content);
	free(buf);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	return rc;
}

int verify_copy_pdf(const struct trustlist *t, const unsigned char *pdf, size_t len, struct copy_verdict *v)
{
	struct pades_sig ps;
	char seal[SEAL_TEXT_MAX];
	const unsigned char *jpeg;
	size_t jlen;
	unsigned char md[32];

	memset(v, 0, sizeof(*v));
	if (len < 8 || memcmp(pdf, "%PDF-", 5) != 0) {
		why(v, VERDICT_INVALID, VR_NOT_A_PDF, "not a PDF file");
		return 0;
	}
	int r = pades_find_signature(pdf, len, &ps);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		why(v, VERDICT_INVALID, r == -ENOENT ? VR_NO_SIGNATURE : VR_PDF_DAMAGED,
		    r == -ENOENT ? "the PDF carries no signature"
				 : "the PDF signature's byte range or contents are malformed");
		return 0;
	}
	size_t signed_end = (size_t)ps.range[1]; /* the original and our update up to /Contents */
	X509 *sc = NULL;
	if (pades_find_keywords(pdf, signed_end, seal, sizeof(seal)) < 0)
		why(v, VERDICT_INVALID, VR_NO_SEAL, "the PDF carries no VNCC1 seal");
	else
		sc = check_seal(t, seal, strlen(seal), v);
	if (!ps.whole)
		why(v, VERDICT_INVALID, VR_PDF_ALTERED,
		    "the signature does not cover the whole file (bytes were added after signing)");
	if (cms_check(t, pdf, &ps, sc, v) == 0 && v->has_seal) {
		if (pades_find_jpeg(pdf, signed_end, &jpeg, &jlen) < 0)
			why(v, VERDICT_INVALID, VR_NO_SCAN, "the PDF holds no embedded original scan");
		else if (EVP_Digest(jpeg, jlen, md, NULL, EVP_sha256(), NULL) != 1 ||
			 memcmp(md, v->seal.sha256, 32) != 0)
			why(v, VERDICT_INVALID, VR_SCAN_ALTERED,
			    "the embedded original scan does not match the seal's SHA-256");
	}
	free(ps.cms);
	return 0;
}
