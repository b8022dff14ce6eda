/* Fuzz target: the certified-copy PDF checks behind the public /verify page, which anyone
 * reaches without an account (gateway/sign/verify.c and the PDF readers of pades.c).  A
 * trust list with one throw-away certificate is made once, so that the CMS path runs too. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "gateway/sign/pades.h"
#include "gateway/sign/verify.h"

static struct trustlist *tl;

static void make_trustlist(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	char *pem = NULL;
	if (!k || !x || !b)
		abort();
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"fuzz TEST", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	if (X509_sign(x, k, EVP_sha256()) <= 0 || PEM_write_bio_X509(b, x) != 1)
		abort();
	long n = BIO_get_mem_data(b, &pem);
	if (trustlist_load(pem, (size_t)n, &tl) < 0)
		abort();
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct copy_verdict v;
	struct pades_sig ps;
	const unsigned char *jpeg;
	size_t jlen;
	char seal[SEAL_TEXT_MAX];

	if (!tl)
		make_trustlist();
	verify_copy_pdf(tl, data, size, &v);
	/* The readers alone too, over the whole input: verify_copy_pdf reaches the JPEG reader
	 * only for a PDF signed by a trusted key. */
	if (pades_find_signature(data, size, &ps) == 0)
		free(ps.cms);
	pades_find_jpeg(data, size, &jpeg, &jlen);
	pades_find_keywords(data, size, seal, sizeof(seal));
	return 0;
}
