/* The chip reader's card-byte code: BAC key derivation, the mutual authentication and
 * secure messaging reproduce ICAO 9303-11 Appendix D's worked example byte for byte (a
 * wrong key is refused); TLV refuses lengths past the buffer; DG13 gives the Vietnamese
 * fields and refuses text that is not UTF-8; the MRZ lines give the BAC key triple. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/chip/lds.h"
#include "gateway/chip/pa.h"
#include "gateway/chip/sm.h"
#include "gateway/chip/tlv.h"

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2) {
		while (*s == ' ')
			s++;
		unsigned v;
		sscanf(s, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *want)
{
	uint8_t w[256];
	size_t wn = unhex(want, w);
	assert_int_equal(n, wn);
	assert_memory_equal(got, w, n);
}

/* 9303-11 D.2: document L898902C<, born 690806, expires 940623. */
static void bac_keys_match_icao_example(void **state)
{
	uint8_t seed[16], kenc[16], kmac[16];
	assert_int_equal(sm_bac_seed("L898902C", "690806", "940623", seed), 0);
	assert_hex(seed, 16, "239AB9CB282DAF66231DC5A4DF6BFBAE");
	sm_derive(seed, 1, kenc);
	sm_derive(seed, 2, kmac);
	assert_hex(kenc, 16, "AB94FDECF2674FDFB9B391F85D7F76F2");
	assert_hex(kmac, 16, "7962D9ECE03D1ACD4C76089DCE131543");
	assert_int_equal(sm_bac_seed("L898902C", "69O806", "940623", seed), -EINVAL);
	assert_int_equal(sm_bac_seed("L898902C12", "690806", "940623", seed), -EINVAL);
}

/* 9303-11 D.3 and D.4: the cryptograms, the session keys, SELECT EF.COM and READ BINARY. */
static void mutual_auth_and_sm_match_icao_example(void **state)
{
	uint8_t seed[16], kenc[16], kmac[16], rnd_ic[8], rnd_ifd[8], k_ifd[16], req[40], resp[64];
	struct sm sm;
	assert_int_equal(sm_bac_seed("L898902C", "690806", "940623", seed), 0);
	sm_derive(seed, 1, kenc);
	sm_derive(seed, 2, kmac);
	unhex("4608F91988702212", rnd_ic);
	unhex("781723860C06C226", rnd_ifd);
	unhex("0B795240CB7049B01C19B33E32804F0B", k_ifd);
	assert_int_equal(sm_bac_request(kenc, kmac, rnd_ic, rnd_ifd, k_ifd, req), 0);
	assert_hex(req, 40,
		   "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2"
		   "5F1448EEA8AD90A7");
	size_t rn = unhex("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F"
			  "2F2D235D074D7449",
			  resp);
	assert_int_equal(sm_bac_finish(kenc, kmac, rnd_ic, rnd_ifd, k_ifd, resp, rn, &sm), 0);
	assert_hex(sm.ks_enc, 16, "979EC13B1CBFE9DCD01AB0FED307EAE5");
	assert_hex(sm.ks_mac, 16, "F1CB1F1FB5ADF208806B89DC579DC1F8");
	assert_hex(sm.ssc, 8, "887022120C06C226");

	/* A card answer under another key (one bit of the MAC changed) is refused. */
	struct sm other;
	resp[39] ^= 1;
	assert_int_equal(sm_bac_finish(kenc, kmac, rnd_ic, rnd_ifd, k_ifd, resp, rn, &other), -EACCES);

	uint8_t out[300], plain[64];
	unsigned sw = 0;
	const uint8_t sel[4] = { 0x00, 0xA4, 0x02, 0x0C }, fid[2] = { 0x01, 0x1E };
	int n = sm_wrap(&sm, sel, fid, 2, 0, 0, out, sizeof(out));
	assert_true(n > 0);
	assert_hex(out, (size_t)n, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800");
	uint8_t r1[32];
	rn = unhex("990290008E08FA855A5D4C50A8ED", r1);
	assert_int_equal(sm_unwrap(&sm, r1, rn, plain, sizeof(plain), &sw), 0);
	assert_int_equal(sw, 0x9000);

	const uint8_t rb[4] = { 0x00, 0xB0, 0x00, 0x00 };
	n = sm_wrap(&sm, rb, NULL, 0, 4, 0, out, sizeof(out));
	assert_hex(out, (size_t)n, "0CB000000D9701048E08ED6705417E96BA5500");
	uint8_t r2[64];
	rn = unhex("8709019FF0EC34F992265199029000 8E08AD55CC17140B2DED", r2);
	struct sm copy = sm;
	assert_int_equal(sm_unwrap(&sm, r2, rn, plain, sizeof(plain), &sw), 4);
	assert_hex(plain, 4, "60145F01");
	/* The same answer with one byte changed fails its MAC. */
	r2[5] ^= 0x40;
	assert_int_equal(sm_unwrap(&copy, r2, rn, plain, sizeof(plain), &sw), -EACCES);
}

static void tlv_refuses_what_does_not_fit(void **state)
{
	struct tlv t;
	size_t pos = 0;
	const uint8_t ok[] = { 0x5F, 0x1F, 0x02, 'A', 'B' };
	assert_int_equal(tlv_next(ok, sizeof(ok), &pos, &t), 0);
	assert_int_equal(t.tag, 0x5F1F);
	assert_int_equal(t.len, 2);
	assert_int_equal(tlv_next(ok, sizeof(ok), &pos, &t), -ENODATA);
	const uint8_t longer[] = { 0x04, 0x82, 0x01, 0x00, 0x00 };
	pos = 0;
	assert_int_equal(tlv_next(longer, sizeof(longer), &pos, &t), -EPROTO);
	const uint8_t indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
	pos = 0;
	assert_int_equal(tlv_next(indefinite, sizeof(indefinite), &pos, &t), -EPROTO);
	const uint8_t hugelen[] = { 0x04, 0x84, 0xFF, 0xFF, 0xFF, 0xFF };
	pos = 0;
	assert_int_equal(tlv_next(hugelen, sizeof(hugelen), &pos, &t), -EPROTO);
}

/* A DG13 as the test cards lay it out (tests/chip/mkcard.py, docs/chip.md). */
static size_t item(uint8_t *p, int n, uint8_t tag, const char *s)
{
	size_t l = strlen(s);
	p[0] = 0x30;
	p[1] = (uint8_t)(3 + 2 + l);
	p[2] = 0x02, p[3] = 0x01, p[4] = (uint8_t)n;
	p[5] = tag, p[6] = (uint8_t)l;
	memcpy(p + 7, s, l);
	return 7 + l;
}

static void dg13_gives_vietnamese_fields(void **state)
{
	uint8_t b[512], *p = b + 4;
	p += item(p, 1, 0x13, "001203004567");
	p += item(p, 2, 0x0C, "Nguyễn Văn An");
	p += item(p, 3, 0x13, "01/02/1990");
	p += item(p, 4, 0x0C, "Nam");
	p += item(p, 12, 0x0C, "Không thời hạn");
	p += item(p, 20, 0x0C, "?");
	size_t inner = (size_t)(p - (b + 4));
	b[0] = 0x6D, b[1] = (uint8_t)(inner + 2), b[2] = 0x30, b[3] = (uint8_t)inner;
	json_t *f = json_object();
	int unknown = -1;
	assert_int_equal(lds_dg13_parse(b, inner + 4, f, &unknown), 5);
	assert_int_equal(unknown, 1);
	assert_string_equal(json_string_value(json_object_get(f, "full_name")), "Nguyễn Văn An");
	assert_string_equal(json_string_value(json_object_get(f, "date_of_birth")), "1990-02-01");
	assert_string_equal(json_string_value(json_object_get(f, "sex")), "M");
	assert_string_equal(json_string_value(json_object_get(f, "expiry_date")), "Không thời hạn");
	json_decref(f);

	/* Latin-1 bytes where UTF-8 belongs: refused, not passed on. */
	p = b + 4;
	p += item(p, 2, 0x0C, "Nguy\xea\x6e");
	inner = (size_t)(p - (b + 4));
	b[1] = (uint8_t)(inner + 2), b[3] = (uint8_t)inner;
	f = json_object();
	assert_int_equal(lds_dg13_parse(b, inner + 4, f, &unknown), -EPROTO);
	json_decref(f);
}

static void sod_hashes_refuse_wrong_sizes(void **state)
{
	/* SEQUENCE { 0, sha256, SEQUENCE { SEQUENCE { 1, OCTET STRING (31 bytes) } } } */
	uint8_t b[128] = { 0x30, 0,    0x02, 0x01, 0x00, 0x30, 0x0D, 0x06, 0x09, 0x60,
			   0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
			   0x30, 0,    0x30, 0,    0x02, 0x01, 0x01, 0x04, 32 };
	struct pa_sod s;
	size_t n = 29 + 32;
	b[1] = (uint8_t)(n - 2), b[21] = (uint8_t)(n - 22), b[23] = (uint8_t)(n - 24);
	assert_int_equal(pa_sod_hashes(b, n, &s), 0);
	assert_int_equal(s.count, 1);
	assert_string_equal(s.hash_alg, "SHA256");
	b[28] = 31, b[1]--, b[21]--, b[23]--;
	assert_int_equal(pa_sod_hashes(b, n - 1, &s), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bac_keys_match_icao_example),
		cmocka_unit_test(mutual_auth_and_sm_match_icao_example),
		cmocka_unit_test(tlv_refuses_what_does_not_fit),
		cmocka_unit_test(dg13_gives_vietnamese_fields),
		cmocka_unit_test(sod_hashes_refuse_wrong_sizes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
