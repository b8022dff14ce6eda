/* The uplink's pure parts: backoff with full jitter and a cap, what the client does with each
 * LGSP answer, receipt checks (a receipt for other bytes is not delivery), the answer
 * parsers, the wire idempotency key, and the [uplink] configuration. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "gateway/config.h"
#include "uplink/backoff.h"
#include "uplink/lgsp.h"

static void backoff_is_full_jitter_doubling_to_a_cap(void **state)
{
	uint64_t rng = 42;
	for (int attempt = 1; attempt <= 40; attempt++) {
		int64_t ceil = 1000;
		for (int i = 1; i < attempt && ceil < 300000; i++)
			ceil *= 2;
		if (ceil > 300000)
			ceil = 300000;
		int64_t lo = INT64_MAX, hi = 0;
		for (int k = 0; k < 2000; k++) {
			int64_t d = backoff_delay_ms(1000, 300000, attempt, backoff_random(&rng));
			assert_true(d >= 0 && d <= ceil);
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		/* Full jitter: the whole range is used, from near 0 to near the ceiling. */
		assert_true(lo < ceil / 20 + 1);
		assert_true(hi > ceil - ceil / 20 - 1);
	}
	assert_int_equal(backoff_delay_ms(1000, 300000, 1, 0), 0);
	assert_int_equal(backoff_delay_ms(1000, 300000, 1, 1000), 1000);
	assert_int_equal(backoff_delay_ms(1000, 300000, 1000000, UINT64_MAX - 5) <= 300000, 1);
}

static void answers_map_to_the_contract_actions(void **state)
{
	assert_int_equal(lgsp_classify(200, "", 0), LGSP_OK);
	assert_int_equal(lgsp_classify(201, "", 0), LGSP_OK);
	assert_int_equal(lgsp_classify(408, "", 0), LGSP_RETRY);
	assert_int_equal(lgsp_classify(429, "rate_limited", 0), LGSP_RETRY);
	assert_int_equal(lgsp_classify(500, "server_error", 0), LGSP_RETRY);
	assert_int_equal(lgsp_classify(503, "", 0), LGSP_RETRY);
	assert_int_equal(lgsp_classify(401, "invalid_token", 0), LGSP_REAUTH);
	assert_int_equal(lgsp_classify(401, "invalid_client", 1), LGSP_STOP);
	assert_int_equal(lgsp_classify(403, "client_certificate_required", 0), LGSP_STOP);
	assert_int_equal(lgsp_classify(409, "offset_mismatch", 0), LGSP_RESYNC);
	assert_int_equal(lgsp_classify(409, "upload_incomplete", 0), LGSP_RESYNC);
	assert_int_equal(lgsp_classify(409, "request_in_progress", 0), LGSP_BUSY);
	assert_int_equal(lgsp_classify(404, "unknown_upload", 0), LGSP_UNKNOWN_UPLOAD);
	assert_int_equal(lgsp_classify(422, "hash_mismatch", 0), LGSP_HASH_MISMATCH);
	static const long reject[] = { 400, 404, 405, 411, 413, 415, 422 };
	for (size_t i = 0; i < sizeof(reject) / sizeof(reject[0]); i++)
		assert_int_equal(lgsp_classify(reject[i], "invalid_field", 0), LGSP_REJECT);
	assert_int_equal(lgsp_classify(302, "", 0), LGSP_RETRY);
}

#define SHA_A "d2c1000000000000000000000000000000000000000000000000000000000000"
#define SHA_B "e3c1000000000000000000000000000000000000000000000000000000000000"

static int receipt(const char *json, const char *key, const char *sha)
{
	struct lgsp_receipt r;
	return lgsp_parse_receipt(json, strlen(json), key, sha, &r);
}

static void only_a_receipt_for_our_bytes_counts(void **state)
{
	struct lgsp_receipt r;
	const char *ok = "{\"receipt_id\":\"R-3f9a\",\"time\":\"2025-03-14T08:15:02.120Z\",\"hash\":\"" SHA_A
			 "\",\"idempotency_key\":\"01HQ4Z8V6N\",\"kind\":\"documents\"}";
	assert_int_equal(lgsp_parse_receipt(ok, strlen(ok), "01HQ4Z8V6N", SHA_A, &r), 0);
	assert_string_equal(r.receipt_id, "R-3f9a");
	assert_string_equal(r.hash, SHA_A);
	/* The hash of other bytes, or another key: not ours. */
	assert_int_equal(receipt(ok, "01HQ4Z8V6N", SHA_B), -EBADMSG);
	assert_int_equal(receipt(ok, "01HQ4Z8V6X", SHA_A), -EBADMSG);
	/* A 2xx body that is not a receipt. */
	assert_int_equal(receipt("{}", "k", SHA_A), -EPROTO);
	assert_int_equal(receipt("{\"ok\":true}", "k", SHA_A), -EPROTO);
	assert_int_equal(receipt("{\"receipt_id\":\"R\",\"time\":\"t\",\"hash\":\"D2C1\"}", "k", SHA_A),
			 -EPROTO);
	assert_int_equal(receipt("{\"receipt_id\":\"R\",\"time\":\"t\",\"hash\":\"" SHA_A "\"", "k", SHA_A),
			 -EPROTO);
	assert_int_equal(
	    receipt("{\"receipt_id\":\"R \\\"x\",\"time\":\"t\",\"hash\":\"" SHA_A "\"}", "k", SHA_A),
	    -EPROTO);
	assert_int_equal(receipt("[1]", "k", SHA_A), -EPROTO);
	assert_int_equal(receipt("{\"receipt_id\":\"R\",\"receipt_id\":\"S\",\"time\":\"t\",\"hash\":\"" SHA_A
				 "\"}",
				 "k", SHA_A),
			 -EPROTO);
	/* The key is optional in the answer (the hash binds it already). */
	assert_int_equal(receipt("{\"receipt_id\":\"R\",\"time\":\"t\",\"hash\":\"" SHA_A "\"}", "k", SHA_A),
			 0);
}

static void upload_and_error_answers_are_validated(void **state)
{
	struct lgsp_upload u;
	const char *open =
	    "{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":3000000,\"offset\":1048576,"
	    "\"sha256\":\"a6\",\"state\":\"open\",\"chunk_max\":1048576}";
	assert_int_equal(lgsp_parse_upload(open, strlen(open), &u), 0);
	assert_string_equal(u.upload_id, "up_0bbd20f01cd0f4cd1d2221fc");
	assert_int_equal(u.offset, 1048576);
	assert_int_equal(u.chunk_max, 1048576);
	assert_false(u.complete);
	const char *done =
	    "{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":5,\"offset\":5,\"state\":\"complete\"}";
	assert_int_equal(lgsp_parse_upload(done, strlen(done), &u), 0);
	assert_true(u.complete);
	static const char *bad[] = {
		"{\"upload_id\":\"up_../../etc\",\"size\":5,\"offset\":0,\"state\":\"open\"}",
		"{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":5,\"offset\":6,\"state\":\"open\"}",
		"{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":5,\"offset\":4,\"state\":"
		"\"complete\"}",
		"{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":5,\"offset\":0,\"state\":\"odd\"}",
		"{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":5,\"offset\":0,\"state\":\"open\","
		"\"chunk_max\":1}",
		"{\"upload_id\":\"up_0bbd20f01cd0f4cd1d2221fc\",\"size\":5,\"offset\":-1,\"state\":\"open\"}",
		"not json",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(lgsp_parse_upload(bad[i], strlen(bad[i]), &u), -EPROTO);

	struct lgsp_error e;
	const char *err =
	    "{\"error\":\"offset_mismatch\",\"field\":\"Upload-Offset\",\"reason\":\"ask\\nwith HEAD\","
	    "\"offset\":1048576}";
	lgsp_parse_error(err, strlen(err), &e);
	assert_string_equal(e.error, "offset_mismatch");
	assert_string_equal(e.reason, "ask with HEAD"); /* control characters never reach a log */
	assert_true(e.has_offset);
	assert_int_equal(e.offset, 1048576);
	char line[300];
	lgsp_reason(422, &e, line, sizeof(line));
	assert_string_equal(line, "HTTP 422 offset_mismatch (Upload-Offset): ask with HEAD");
	lgsp_parse_error("<html>502</html>", 16, &e);
	assert_string_equal(e.error, "");
	assert_false(e.has_offset);

	char tok[LGSP_TOKEN_MAX + 1];
	int64_t ttl;
	const char *t = "{\"access_token\":\"6291fa87\",\"token_type\":\"Bearer\",\"expires_in\":3600}";
	assert_int_equal(lgsp_parse_token(t, strlen(t), tok, &ttl), 0);
	assert_string_equal(tok, "6291fa87");
	assert_int_equal(ttl, 3600);
	t = "{\"access_token\":\"a\\r\\nX-Evil: 1\",\"token_type\":\"Bearer\",\"expires_in\":3600}";
	assert_int_equal(lgsp_parse_token(t, strlen(t), tok, &ttl), -EPROTO);
}

static void headers_and_keys(void **state)
{
	int64_t v;
	char key[LGSP_KEY_MAX + 1];
	assert_int_equal(lgsp_retry_after("7", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(lgsp_retry_after(" 120 ", &v), 0);
	assert_int_equal(lgsp_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", &v), -EINVAL);
	assert_int_equal(lgsp_retry_after("99999999999999999999", &v), -EINVAL);
	assert_int_equal(lgsp_retry_after("-1", &v), -EINVAL);
	assert_int_equal(lgsp_parse_offset("1048576", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(lgsp_parse_offset("1e6", &v), -EINVAL);
	assert_int_equal(lgsp_parse_offset("", &v), -EINVAL);
	assert_int_equal(lgsp_wire_key("local:0123456789abcdef", key), 0);
	assert_string_equal(key, "local:0123456789abcdef");
	assert_int_equal(lgsp_wire_key("k1", key), 0);
	assert_string_equal(key, "k1~~~~~~"); /* the contract wants 8 at least */
	assert_int_equal(lgsp_wire_key("bad key", key), -EINVAL);
	assert_int_equal(lgsp_wire_key("", key), -EINVAL);
}

static void uplink_config_defaults_checks_and_masking(void **state)
{
	struct config c;
	char err[CONFIG_ERR_MAX], dump[16384];
	config_defaults(&c);
	assert_string_equal(c.uplink_enabled, "no");
	assert_int_equal(c.uplink_concurrency, 3);
	assert_int_equal(c.uplink_chunk_bytes, 262144);
	assert_int_equal(c.uplink_max_bytes_per_second, 0);
	assert_int_equal(config_load_string("[uplink]\nenabled = yes\n", "t.conf", &c, err), -EINVAL);
	assert_non_null(strstr(err, "base_url"));
	assert_int_equal(config_load_string("[uplink]\nca_file = certs/ca.pem\n", "t.conf", &c, err),
			 -EINVAL);
	assert_non_null(strstr(err, "ca_file"));
	assert_int_equal(config_load_string("[uplink]\nconcurrency = 0\n", "t.conf", &c, err), -EINVAL);
	assert_int_equal(config_load_string("[uplink]\nchunk_bytes = 100\n", "t.conf", &c, err), -EINVAL);
	assert_int_equal(
	    config_load_string("[uplink]\nenabled = yes\nbase_url = https://lgsp.example.vn\n"
			       "client_secret = hunter2-very-secret\nca_file = /etc/ssl/ca.pem\n",
			       "t.conf", &c, err),
	    0);
	assert_string_equal(c.uplink_client_secret, "hunter2-very-secret");
	config_dump(&c, dump, sizeof(dump));
	assert_null(strstr(dump, "hunter2"));
	assert_non_null(strstr(dump, "client_secret = ********"));
	assert_non_null(strstr(dump, "base_url = https://lgsp.example.vn"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backoff_is_full_jitter_doubling_to_a_cap),
		cmocka_unit_test(answers_map_to_the_contract_actions),
		cmocka_unit_test(only_a_receipt_for_our_bytes_counts),
		cmocka_unit_test(upload_and_error_answers_are_validated),
		cmocka_unit_test(headers_and_keys),
		cmocka_unit_test(uplink_config_defaults_checks_and_masking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
