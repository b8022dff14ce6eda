/* The QR seal codec against the test vectors of docs/seal.md: the valid vector decodes to its
 * fields and verifies, re-encoding gives the same text, and each failing vector fails for the
 * reason the doc gives. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "gateway/sign/seal.h"

#define V1                                                                                \
	"VNCC1:RRQXO8O600GKP991NTZBWHQ9/ZMJD8580646446646Y$5446U59536DF3JZ1R13 "          \
	"PG101A60$OFF6BMGDHB25RCR*ADH9PG9BMJD.D.UKPUMMRG M2.:B5+0NCH*9427B36JZQVRVF6$UZ " \
	"I-ECVCRY/QVEQWQ0Z5PY0JLJMD0140G/XS0JV*CBYUIVID0%TN6V%E9ZO4FO5ZET:ZFVOR/HKYS1/T0%P0"

static const char cert_pem[] = "-----BEGIN CERTIFICATE-----\n"
			       "MIICBjCCAaygAwIBAgIBATAKBggqhkjOPQQDAjBhMQswCQYDVQQGEwJWTjEzMDEG\n"
			       "A1UECgwqVEVTVCBPTkxZIC0gTk9UIFZBTElEIEZPUiBDRVJUSUZJRUQgQ09QSUVT\n"
			       "MR0wGwYDVQQDDBRURVNUIHNlYWwgdmVjdG9yIGtleTAgFw0yNjExMjMxMjEyMDRa\n"
			       "GA8yMTI2MTAzMDEyMTIwNFowYTELMAkGA1UEBhMCVk4xMzAxBgNVBAoMKlRFU1Qg\n"
			       "T05MWSAtIE5PVCBWQUxJRCBGT1IgQ0VSVElGSUVEIENPUElFUzEdMBsGA1UEAwwU\n"
			       "VEVTVCBzZWFsIHZlY3RvciBrZXkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATJ\n"
			       "GU54cENqRuGMEX9uGsOrhAYz8JVnlhu+5Q7dJxVCDeNZEgl9T0TiMZhjxkVQwIjB\n"
			       "17C3jmBuNHJ5HJR+wY5qo1MwUTAdBgNVHQ4EFgQU62zv74vKuXo10uztJiPi94YL\n"
			       "taYwHwYDVR0jBBgwFoAU62zv74vKuXo10uztJiPi94YLtaYwDwYDVR0TAQH/BAUw\n"
			       "AwEB/zAKBggqhkjOPQQDAgNIADBFAiEAyn7GXu3V5ySFcyUxjnYeGZqlvYdTzV5W\n"
			       "89L3MMpsMX8CIGGa3caShd6qt5nDGlEv8JHH+uibMZlDjCe9uu3JGuPv\n"
			       "-----END CERTIFICATE-----\n";

static const char key_pem[] = "-----BEGIN PRIVATE KEY-----\n"
			      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeV0Q3stQbYNo05k2\n"
			      "ag53HvEKcxJ3Cuh8Vq9CwAU6kZGhRANCAATJGU54cENqRuGMEX9uGsOrhAYz8JVn\n"
			      "lhu+5Q7dJxVCDeNZEgl9T0TiMZhjxkVQwIjB17C3jmBuNHJ5HJR+wY5q\n"
			      "-----END PRIVATE KEY-----\n";

static const char sig_hex[] = "975cf9ec7c35f3d594d9618bd7ced55bd03f04b2c6c5966db17207f67e94e374"
			      "f88e594693ca6a1eec13f65c49cd23ff2bd4e7fe7cfad9eaa15c0cf70544048b";

static void unhex(const char *h, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(h + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

static X509 *vector_cert(void)
{
	BIO *b = BIO_new_mem_buf(cert_pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(x);
	return x;
}

static void vector_fields(struct seal *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->issuer, sizeof(s->issuer), "000.00.00.H00");
	s->time = 1796088600;
	s->year = 2026;
	s->book = 1;
	s->number = 123;
	EVP_Digest("motcua seal test vector: original scan bytes", 44, s->sha256, NULL, EVP_sha256(), NULL);
	unhex("dfe971ff324bd4b4", s->kid, 8);
}

/* A "signer" that returns the vector's recorded signature, or a fresh one with the key. */
static int recorded_sign(void *ctx, const unsigned char *tbs, size_t len, unsigned char out[SEAL_SIG_LEN])
{
	unsigned char want[32], d[32];
	assert_int_equal(EVP_Digest(tbs, len, d, NULL, EVP_sha256(), NULL), 1);
	unhex("0676505ecdd68cb9c2381a536da279ea72e2527e873511b787b979fb9b7dc64f", want, 32);
	assert_memory_equal(d, want, 32); /* the Sig_structure digest of the doc */
	unhex(sig_hex, out, SEAL_SIG_LEN);
	return 0;
}

static int key_sign(void *ctx, const unsigned char *tbs, size_t len, unsigned char out[SEAL_SIG_LEN])
{
	unsigned char der[80], d[32];
	size_t l = sizeof(der);
	assert_int_equal(EVP_Digest(tbs, len, d, NULL, EVP_sha256(), NULL), 1);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(ctx, NULL);
	assert_int_equal(EVP_PKEY_sign_init(c), 1);
	assert_int_equal(EVP_PKEY_sign(c, der, &l, d, 32), 1);
	EVP_PKEY_CTX_free(c);
	return seal_sig_from_der(der, l, out);
}

static void valid_vector_decodes_to_its_fields_and_verifies(void **state)
{
	struct seal_decoded d;
	struct seal want;
	char why[256], num[64];
	X509 *x = vector_cert();
	unsigned char *der = NULL, kid[8];
	int dl = i2d_X509(x, &der);

	vector_fields(&want);
	assert_int_equal(seal_decode(V1, strlen(V1), &d, why, sizeof(why)), 0);
	assert_string_equal(d.seal.issuer, "000.00.00.H00");
	assert_int_equal(d.seal.time, 1796088600);
	assert_int_equal(d.seal.year, 2026);
	assert_int_equal(d.seal.book, 1);
	assert_int_equal(d.seal.number, 123);
	assert_memory_equal(d.seal.sha256, want.sha256, 32);
	seal_kid_of(der, (size_t)dl, kid);
	assert_memory_equal(d.seal.kid, kid, 8);
	assert_int_equal(seal_check_signature(&d, X509_get0_pubkey(x)), 0);
	seal_number_text(&d.seal, num, sizeof(num));
	assert_string_equal(num, "123, quyển số 01/2026-SCT/BS");
	/* Scanners add CR/LF: ignored. */
	assert_int_equal(seal_decode("  " V1 "\r\n", strlen(V1) + 4, &d, why, sizeof(why)), 0);
	OPENSSL_free(der);
	X509_free(x);
}

static void encoding_the_vector_fields_gives_the_vector_text(void **state)
{
	struct seal s;
	char out[SEAL_TEXT_MAX];
	vector_fields(&s);
	int n = seal_encode(&s, recorded_sign, NULL, out, sizeof(out));
	assert_int_equal(n, (int)strlen(V1));
	assert_string_equal(out, V1);
	assert_true(strlen(V1) < SEAL_TEXT_MAX);
	assert_int_equal(seal_encode(&s, recorded_sign, NULL, out, 100), -ENOBUFS);
}

static void fresh_signature_with_the_test_key_round_trips(void **state)
{
	BIO *b = BIO_new_mem_buf(key_pem, -1);
	EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	X509 *x = vector_cert();
	struct seal s;
	struct seal_decoded d;
	char out[SEAL_TEXT_MAX];
	BIO_free(b);
	vector_fields(&s);
	s.number = 4000000000u;
	s.time = 0;
	snprintf(s.issuer, sizeof(s.issuer), "%s", "X");
	int n = seal_encode(&s, key_sign, k, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(seal_decode(out, (size_t)n, &d, NULL, 0), 0);
	assert_int_equal(d.seal.number, 4000000000u);
	assert_int_equal(seal_check_signature(&d, X509_get0_pubkey(x)), 0);
	/* Out-of-range fields are refused before anything is signed. */
	s.issuer[0] = '\0';
	assert_int_equal(seal_encode(&s, key_sign, k, out, sizeof(out)), -EINVAL);
	EVP_PKEY_free(k);
	X509_free(x);
}

/* Decode the vector's COSE, let edit() change it, re-encode to a seal text. */
static void reencode(void (*edit)(unsigned char *cose, size_t *len), char *out, size_t outlen)
{
	unsigned char cose[SEAL_COSE_MAX];
	int n = base45_decode(V1 + 6, strlen(V1) - 6, cose, sizeof(cose));
	size_t len = (size_t)n;
	assert_int_equal(n, 150);
	edit(cose, &len);
	memcpy(out, "VNCC1:", 6);
	assert_true(base45_encode(cose, len, out + 6, outlen - 6) > 0);
}

static const size_t payload_at = 2 + 4 + 2 + 9 + 2; /* d284 43.. a104 48.. 5841 */

static void edit_number(unsigned char *c, size_t *len)
{
	/* ... 03 83 19 07ea 01 18 7b ...: payload offset 29 holds 0x7b */
	assert_int_equal(c[payload_at + 29], 0x7b);
	c[payload_at + 29] = 0x7c;
}

static void edit_kid(unsigned char *c, size_t *len)
{
	memset(c + 9, 0, 8);
}

static void edit_long_time(unsigned char *c, size_t *len)
{
	/* 02 1a 6b0e2318 -> 02 1b 00000000 6b0e2318: payload grows by 4, its bstr head too. */
	unsigned char tmp[SEAL_COSE_MAX];
	size_t p = payload_at + 17; /* the 0x1a head of the time */
	assert_int_equal(c[p], 0x1a);
	memcpy(tmp, c, p);
	tmp[p] = 0x1b;
	memset(tmp + p + 1, 0, 4);
	memcpy(tmp + p + 5, c + p + 1, *len - p - 1);
	tmp[payload_at - 1] = 0x45;
	*len += 4;
	memcpy(c, tmp, *len);
}

static void failing_vectors_fail_for_the_documented_reason(void **state)
{
	struct seal_decoded d;
	char why[256], text[SEAL_TEXT_MAX + 16];
	X509 *x = vector_cert();
	unsigned char kid[8], *der = NULL;
	int dl = i2d_X509(x, &der);
	seal_kid_of(der, (size_t)dl, kid);

	/* 2: another version's prefix */
	snprintf(text, sizeof(text), "%s", V1);
	text[4] = '2';
	assert_int_equal(seal_decode(text, strlen(text), &d, why, sizeof(why)), -EPROTO);
	assert_non_null(strstr(why, "VNCC1:"));
	/* 3: last character changed: decodes, signature fails */
	snprintf(text, sizeof(text), "%s", V1);
	text[strlen(text) - 1] = '1';
	assert_int_equal(seal_decode(text, strlen(text), &d, why, sizeof(why)), 0);
	assert_int_equal(seal_check_signature(&d, X509_get0_pubkey(x)), -EBADMSG);
	/* 4: copy number 123 -> 124 under the same signature */
	reencode(edit_number, text, sizeof(text));
	assert_int_equal(seal_decode(text, strlen(text), &d, why, sizeof(why)), 0);
	assert_int_equal(d.seal.number, 124);
	assert_int_equal(seal_check_signature(&d, X509_get0_pubkey(x)), -EBADMSG);
	/* 5: kid zeroed: decodes, names no trusted certificate */
	reencode(edit_kid, text, sizeof(text));
	assert_int_equal(seal_decode(text, strlen(text), &d, why, sizeof(why)), 0);
	assert_memory_not_equal(d.seal.kid, kid, 8);
	/* 6: an 8-byte head for the time */
	reencode(edit_long_time, text, sizeof(text));
	assert_int_equal(seal_decode(text, strlen(text), &d, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "shortest"));
	/* 7: cut short */
	assert_int_equal(seal_decode(V1, 200, &d, why, sizeof(why)), -EBADMSG);
	/* 8: ":::" appended is a Base45 group over 65535 */
	snprintf(text, sizeof(text), "%s:::", V1);
	assert_int_equal(seal_decode(text, strlen(text), &d, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "Base45"));
	OPENSSL_free(der);
	X509_free(x);
}

static void base45_matches_rfc9285_examples(void **state)
{
	static const struct {
		const char *in, *out;
	} ex[] = { { "AB", "BB8" },
		   { "Hello!!", "%69 VD92EX0" },
		   { "base-45", "UJCLQE7W581" },
		   { "ietf!", "QED8WEX0" } };
	char out[64];
	unsigned char back[64];
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		int n = base45_encode((const unsigned char *)ex[i].in, strlen(ex[i].in), out, sizeof(out));
		assert_int_equal(n, (int)strlen(ex[i].out));
		assert_string_equal(out, ex[i].out);
		n = base45_decode(out, strlen(out), back, sizeof(back));
		assert_int_equal(n, (int)strlen(ex[i].in));
		assert_memory_equal(back, ex[i].in, (size_t)n);
	}
	assert_int_equal(base45_decode("GGW", 3, back, sizeof(back)), -EBADMSG); /* 65536 */
	assert_int_equal(base45_decode("A", 1, back, sizeof(back)), -EBADMSG);
	assert_int_equal(base45_decode("ab", 2, back, sizeof(back)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_vector_decodes_to_its_fields_and_verifies),
		cmocka_unit_test(encoding_the_vector_fields_gives_the_vector_text),
		cmocka_unit_test(fresh_signature_with_the_test_key_round_trips),
		cmocka_unit_test(failing_vectors_fail_for_the_documented_reason),
		cmocka_unit_test(base45_matches_rfc9285_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
