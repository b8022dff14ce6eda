/* CCCD QR payloads: a full payload with diacritics, a missing old ID, a scanner's trailing CR,
 * extra trailing fields are read; a wrong field count, bad ID, bad dates, unknown sex and
 * invalid UTF-8 are refused with the field named; a QR agreeing or disagreeing with an MRZ
 * is told apart. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/recognize/cccd_qr.h"
#include "gateway/recognize/mrz.h"
#include "gateway/recognize/result.h"

#define FULL                                                                                                                      \
	"079301004567|123456789|Trần Thị Bảo Ngọc|09032001|Nữ|Số 5 Lê Lợi, Phường Bến Thành, Quận 1, TP. " \
	"Hồ Chí Minh|20042021"

static int parse(const char *s, struct cccd_qr *q)
{
	return cccd_qr_parse(s, strlen(s), q);
}

static void full_payload_with_diacritics_reads(void **state)
{
	struct cccd_qr q;
	assert_int_equal(parse(FULL, &q), 0);
	assert_string_equal(q.id_number, "079301004567");
	assert_string_equal(q.old_id_number, "123456789");
	assert_string_equal(q.full_name, "Trần Thị Bảo Ngọc");
	assert_string_equal(q.date_of_birth, "2001-03-09");
	assert_int_equal(q.sex, 'F');
	assert_string_equal(q.place_of_residence, "Số 5 Lê Lợi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh");
	assert_string_equal(q.issue_date, "2021-04-20");
	assert_int_equal(q.nfields, 7);
}

static void missing_old_id_and_trailing_cr(void **state)
{
	struct cccd_qr q;
	assert_int_equal(
	    parse("001099012345||Nguyễn Văn A|15011999|Nam|Thôn 1, Xã Yên Sở, Hà Nội|20042021\r\n", &q), 0);
	assert_string_equal(q.old_id_number, "");
	assert_int_equal(q.sex, 'M');
	assert_string_equal(q.issue_date, "2021-04-20");
}

static void six_fields_and_extra_fields(void **state)
{
	struct cccd_qr q;
	assert_int_equal(parse("001099012345||Nguyễn Văn A|15011999|Nam|Hà Nội", &q), 0);
	assert_string_equal(q.issue_date, "");
	assert_int_equal(parse(FULL "|extra|fields", &q), 0);
	assert_int_equal(q.nfields, 9);
}

static void wrong_fields_are_named(void **state)
{
	struct cccd_qr q;
	struct {
		const char *payload, *field;
	} cases[] = {
		{ "001099012345|Nguyễn Văn A|15011999|Nam|Hà Nội", "field count" },
		{ "00109901234||Nguyễn Văn A|15011999|Nam|Hà Nội|20042021", "id_number" },
		{ "00109901234X||Nguyễn Văn A|15011999|Nam|Hà Nội|20042021", "id_number" },
		{ "001099012345|12345|Nguyễn Văn A|15011999|Nam|Hà Nội|20042021", "old_id_number" },
		{ "001099012345|||15011999|Nam|Hà Nội|20042021", "full_name" },
		{ "001099012345||Nguyễn Văn A|31021999|Nam|Hà Nội|20042021", "date_of_birth" },
		{ "001099012345||Nguyễn Văn A|1999-01-15|Nam|Hà Nội|20042021", "date_of_birth" },
		{ "001099012345||Nguyễn Văn A|15011999|Male|Hà Nội|20042021", "sex" },
		{ "001099012345||Nguyễn Văn A|15011999|Nam||20042021", "place_of_residence" },
		{ "001099012345||Nguyễn Văn A|15011999|Nam|Hà Nội|20049999", "issue_date" },
		{ "001099012345||Nguyễn Văn A|15011999|Nam|Hà Nội|01011990", "issue_date" },
		{ "001099012345||Nguy\xff\xfe|15011999|Nam|Hà Nội|20042021", "payload" },
		{ "001099012345||Nguy\xc3|15011999|Nam|Hà Nội|20042021", "payload" },
		{ "001099012345||Ng\x01|15011999|Nam|Hà Nội|20042021", "payload" },
		{ "1|2|3|4|5|6|7|8|9|10|11|12|13", "field count" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int r = parse(cases[i].payload, &q);
		if (r != -EINVAL || !q.error || strcmp(q.error, cases[i].field) != 0)
			fail_msg("case %zu: r=%d error=%s, expected %s", i, r, q.error ? q.error : "(null)",
				 cases[i].field);
	}
	char big[CCCD_QR_MAX + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(cccd_qr_parse(big, sizeof(big), &q), -EMSGSIZE);
}

static void qr_and_mrz_agree_or_not(void **state)
{
	struct cccd_qr q;
	struct mrz m;
	const char *mrz = "IDVNM3010045676079301004567<<6\n0103093F2603092VNM<<<<<<<<<<<2\n"
			  "TRAN<<THI<BAO<NGOC<<<<<<<<<<<<\n";
	const char *bad = NULL;
	assert_int_equal(parse(FULL, &q), 0);
	assert_int_equal(mrz_parse(mrz, strlen(mrz), 2025, &m), 0);
	assert_true(result_crosscheck(&q, &m, &bad));
	assert_null(bad);

	assert_int_equal(parse("079301004568|123456789|Trần Thị Bảo Ngọc|09032001|Nữ|Hà Nội|20042021", &q),
			 0);
	assert_false(result_crosscheck(&q, &m, &bad));
	assert_string_equal(bad, "id_number");
	assert_int_equal(parse("079301004567|123456789|Trần Thị Bảo Ngọc|09032002|Nữ|Hà Nội|20042021", &q),
			 0);
	assert_false(result_crosscheck(&q, &m, &bad));
	assert_string_equal(bad, "date_of_birth");
	assert_int_equal(parse("079301004567|123456789|Trần Thị Bảo Ngọc|09032001|Nam|Hà Nội|20042021", &q),
			 0);
	assert_false(result_crosscheck(&q, &m, &bad));
	assert_string_equal(bad, "sex");
	assert_int_equal(parse("079301004567|123456789|Trần Thị Bảo Ngân|09032001|Nữ|Hà Nội|20042021", &q),
			 0);
	assert_false(result_crosscheck(&q, &m, &bad));
	assert_string_equal(bad, "full_name");

	/* Both read and disagreeing: the result is flagged and its confidence low. */
	struct rec_input in = { .qr = &q, .mrz = &m, .mrz_quality = 1 };
	json_t *r = result_build(&in);
	assert_true(json_is_true(json_object_get(r, "needs_review")));
	assert_true(json_real_value(json_object_get(r, "confidence")) <= 0.3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "checks"), "qr_mrz")),
			    "disagree");
	json_decref(r);
}

static void result_keeps_diacritics_and_sources(void **state)
{
	struct cccd_qr q;
	assert_int_equal(parse(FULL, &q), 0);
	struct rec_input in = { .qr = &q };
	json_t *r = result_build(&in);
	json_t *f = json_object_get(r, "fields");
	assert_string_equal(json_string_value(json_object_get(r, "type")), "id_card_front");
	assert_string_equal(json_string_value(json_object_get(f, "full_name")), "Trần Thị Bảo Ngọc");
	assert_string_equal(json_string_value(json_object_get(f, "sex")), "F");
	assert_null(json_object_get(f, "expiry_date")); /* not read: absent, never guessed */
	json_t *src = json_object_get(json_object_get(r, "sources"), "id_number");
	assert_string_equal(json_string_value(json_array_get(src, 0)), "qr");
	assert_true(json_is_false(json_object_get(r, "needs_review")));
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_payload_with_diacritics_reads),
		cmocka_unit_test(missing_old_id_and_trailing_cr),
		cmocka_unit_test(six_fields_and_extra_fields),
		cmocka_unit_test(wrong_fields_are_named),
		cmocka_unit_test(qr_and_mrz_agree_or_not),
		cmocka_unit_test(result_keeps_diacritics_and_sources),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
