/* One identity from a card's two images (result_pair): a front QR and a back MRZ of the
 * same card agree and give every field once, each from its best source, not flagged; a
 * back of another card is flagged with the differing fields named; two fronts are not a
 * card's two sides; a side flagged on its own keeps the pair flagged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/recognize/cccd_qr.h"
#include "gateway/recognize/mrz.h"
#include "gateway/recognize/result.h"

#define QR "001099012345||Nguyễn Văn A|15011999|Nam|Số 1 Phố X, Phường Y, Hà Nội|20042021"
#define MRZ_SAME \
	"IDVNM0990123459001099012345<<0\n9901155M3901153VNM<<<<<<<<<<<6\nNGUYEN<<VAN<A<<<<<<<<<<<<<<<<<\n"
#define MRZ_OTHER \
	"IDVNM0990123460001099012346<<1\n9901155M3901153VNM<<<<<<<<<<<8\nNGUYEN<<VAN<A<<<<<<<<<<<<<<<<<\n"

static json_t *front(void)
{
	struct cccd_qr q;
	assert_int_equal(cccd_qr_parse(QR, strlen(QR), &q), 0);
	struct rec_input in = { .qr = &q };
	return result_build(&in);
}

static json_t *back(const char *lines)
{
	struct mrz m;
	assert_int_equal(mrz_parse(lines, strlen(lines), 2026, &m), 0);
	assert_false(m.needs_review);
	struct rec_input in = { .mrz = &m, .mrz_quality = 0.95 };
	return result_build(&in);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void same_card_agrees(void **state)
{
	json_t *f = front(), *b = back(MRZ_SAME);
	assert_string_equal(str(f, "generation"), "cccd_2021");
	json_t *p = result_pair(b, f); /* either order */
	json_t *fields = json_object_get(p, "fields");
	assert_string_equal(str(p, "type"), "id_card");
	assert_string_equal(str(fields, "id_number"), "001099012345");
	assert_string_equal(str(fields, "full_name"), "Nguyễn Văn A"); /* the QR's, with diacritics */
	assert_string_equal(str(fields, "expiry_date"), "2039-01-15"); /* only the MRZ has it */
	assert_string_equal(str(fields, "place_of_residence"), "Số 1 Phố X, Phường Y, Hà Nội");
	json_t *checks = json_object_get(p, "checks");
	assert_string_equal(str(checks, "qr_mrz"), "agree");
	assert_string_equal(str(checks, "pair"), "agree");
	assert_int_equal(json_array_size(json_object_get(checks, "differing_fields")), 0);
	assert_false(json_is_true(json_object_get(p, "needs_review")));
	json_t *src = json_object_get(json_object_get(p, "sources"), "id_number");
	assert_int_equal(json_array_size(src), 2);
	json_decref(p), json_decref(f), json_decref(b);
}

static void other_card_disagrees_with_fields_named(void **state)
{
	json_t *f = front(), *b = back(MRZ_OTHER);
	json_t *p = result_pair(f, b);
	json_t *checks = json_object_get(p, "checks");
	assert_string_equal(str(checks, "qr_mrz"), "disagree");
	json_t *diff = json_object_get(checks, "differing_fields");
	assert_int_equal(json_array_size(diff), 1);
	assert_string_equal(json_string_value(json_array_get(diff, 0)), "id_number");
	assert_true(json_is_true(json_object_get(p, "needs_review")));
	assert_true(json_number_value(json_object_get(p, "confidence")) < REVIEW_BELOW);
	json_decref(p), json_decref(f), json_decref(b);
}

static void two_fronts_are_not_a_card(void **state)
{
	json_t *f = front(), *g = front();
	json_t *p = result_pair(f, g);
	assert_true(json_is_true(json_object_get(p, "needs_review")));
	assert_string_equal(str(json_object_get(p, "checks"), "qr_mrz"), "not_applicable");
	json_t *problems = json_object_get(p, "problems");
	assert_true(json_array_size(problems) >= 1);
	assert_non_null(strstr(json_string_value(json_array_get(problems, 0)), "not the front and the back"));
	json_decref(p), json_decref(f), json_decref(g);
}

static void a_flagged_side_keeps_the_pair_flagged(void **state)
{
	json_t *f = front(), *e = result_error("image data is damaged", 1.0);
	json_t *p = result_pair(f, e);
	assert_true(json_is_true(json_object_get(p, "needs_review")));
	json_decref(p), json_decref(f), json_decref(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_card_agrees),
		cmocka_unit_test(other_card_disagrees_with_fields_named),
		cmocka_unit_test(two_fronts_are_not_a_card),
		cmocka_unit_test(a_flagged_side_keeps_the_pair_flagged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
