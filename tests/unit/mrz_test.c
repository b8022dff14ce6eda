/* MRZ parsing: valid Vietnamese TD1 and ICAO TD3 read completely; each kind of wrong check
 * digit is named; a misread is corrected only where exactly one correction makes the checks
 * agree; what the check digits cannot see (dates, countries, fillers, sex, name) is
 * validated and flagged for review instead of returned as if sure. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/recognize/mrz.h"

/* Synthetic card: ID 079301004567, born 2001-03-09, F, expires 2026-03-09. */
#define L1 "IDVNM3010045676079301004567<<6"
#define L2 "0103093F2603092VNM<<<<<<<<<<<2"
#define L3 "TRAN<<THI<BAO<NGOC<<<<<<<<<<<<"
/* Synthetic card without expiry (991231). */
#define N1 "IDVNM0990123459001099012345<<0"
#define N2 "9901155M9912315VNM<<<<<<<<<<<0"
#define N3 "NGUYEN<<VAN<A<<<<<<<<<<<<<<<<<"

static int parse3(const char *a, const char *b, const char *c, struct mrz *m)
{
	char text[256];
	snprintf(text, sizeof(text), "%s\n%s\n%s\n", a, b, c);
	return mrz_parse(text, strlen(text), 2025, m);
}

static void check_digit_follows_icao(void **state)
{
	assert_int_equal(mrz_check_digit("L898902C3", 9), 6);
	assert_int_equal(mrz_check_digit("740812", 6), 2);
	assert_int_equal(mrz_check_digit("<<<", 3), 0);
	assert_int_equal(mrz_check_digit("ab", 2), -1);
}

static void valid_vietnamese_card_reads_every_field(void **state)
{
	struct mrz m;
	assert_int_equal(parse3(L1, L2, L3, &m), 0);
	assert_int_equal(m.format, 1);
	assert_string_equal(m.id_number, "079301004567");
	assert_string_equal(m.doc_number, "301004567");
	assert_string_equal(m.date_of_birth, "2001-03-09");
	assert_string_equal(m.expiry_date, "2026-03-09");
	assert_int_equal(m.sex, 'F');
	assert_string_equal(m.nationality, "VNM");
	assert_string_equal(m.full_name, "TRAN THI BAO NGOC");
	for (int i = 0; i < MRZ_NCHECKS; i++)
		assert_int_equal(m.check[i], MRZ_CHECK_OK);
	assert_int_equal(m.corrections, 0);
	assert_false(m.needs_review);
}

static void card_without_expiry_has_no_expiry_date(void **state)
{
	struct mrz m;
	assert_int_equal(parse3(N1, N2, N3, &m), 0);
	assert_true(m.no_expiry);
	assert_string_equal(m.expiry_date, "");
	assert_string_equal(m.date_of_birth, "1999-01-15");
	assert_int_equal(m.sex, 'M');
	assert_string_equal(m.full_name, "NGUYEN VAN A");
	assert_false(m.needs_review);
}

static void spaces_case_and_surrounding_text_are_ignored(void **state)
{
	struct mrz m;
	const char *t = "some noise line\n idvnm3010045676079301004567<<6 \r\n" L2 "\n" L3;
	assert_int_equal(mrz_parse(t, strlen(t), 2025, &m), 0);
	assert_string_equal(m.id_number, "079301004567");
	assert_false(m.needs_review);
}

static void passport_td3_reads(void **state)
{
	struct mrz m;
	const char *t = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
			"L898902C36UTO7408122F1204159ZE184226B<<<<<10\n";
	assert_int_equal(mrz_parse(t, strlen(t), 2025, &m), 0);
	assert_int_equal(m.format, 3);
	assert_string_equal(m.doc_number, "L898902C3");
	assert_string_equal(m.date_of_birth, "1974-08-12");
	assert_string_equal(m.expiry_date, "2012-04-15");
	assert_string_equal(m.full_name, "ERIKSSON ANNA MARIA");
	for (int i = 0; i < MRZ_NCHECKS; i++)
		assert_int_equal(m.check[i], MRZ_CHECK_OK);
	assert_false(m.needs_review);
}

static void letter_in_a_digit_field_is_coerced(void **state)
{
	struct mrz m;
	/* O for 0 and I for 1 in the date of birth: one reading only, then the check agrees. */
	assert_int_equal(parse3(L1, "O1O3O93F2603092VNM<<<<<<<<<<<2", L3, &m), 0);
	assert_string_equal(m.date_of_birth, "2001-03-09");
	assert_int_equal(m.check[MRZ_CK_BIRTH], MRZ_CHECK_OK);
	assert_int_equal(m.coercions, 3);
	assert_false(m.needs_review);
}

static void misread_filler_is_restored(void **state)
{
	struct mrz m;
	assert_int_equal(parse3(L1, "0103093F2603092VNM<<<K<<<<<<<2", L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_COMPOSITE], MRZ_CHECK_OK);
	assert_string_equal(m.line[1], L2);
	assert_false(m.needs_review);
}

static void unique_correction_is_made(void **state)
{
	struct mrz m;
	/* Birth date 010309 read as 010369 (0 -> 6): the birth check fails; of the confusable
	 * substitutions only 6 -> 0 at that place satisfies it, the composite and the calendar. */
	assert_int_equal(parse3(L1, "0103693F2603092VNM<<<<<<<<<<<2", L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_BIRTH], MRZ_CHECK_CORRECTED);
	assert_string_equal(m.date_of_birth, "2001-03-09");
	assert_string_equal(m.line[1], L2);
	assert_false(m.needs_review);
}

static void ambiguous_correction_is_not_made(void **state)
{
	struct mrz m;
	/* 010309 read as 010809 (3 -> 8): changing the 8 back or changing the check digit 3 to 8
	 * both satisfy the birth and composite checks and give valid dates: not corrected. */
	assert_int_equal(parse3(L1, "0108093F2603092VNM<<<<<<<<<<<2", L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_BIRTH], MRZ_CHECK_FAILED);
	assert_true(m.needs_review);

	/* Two digits of the birth date wrong: no single correction agrees with both checks. */
	assert_int_equal(parse3(L1, "0168693F2603092VNM<<<<<<<<<<<2", L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_BIRTH], MRZ_CHECK_FAILED);
	assert_true(m.needs_review);
	assert_non_null(strstr(m.problem, "date_of_birth"));
}

static void each_failed_check_is_named(void **state)
{
	struct mrz m;
	/* Wrong check digits that no confusable substitution repairs uniquely (both the digit
	 * and the composite are off): */
	assert_int_equal(parse3("IDVNM3010045671079301004567<<6", L2, L3, &m), 0);
	assert_true(m.needs_review);
	assert_int_not_equal(m.check[MRZ_CK_DOC_NUMBER], MRZ_CHECK_OK);

	assert_int_equal(parse3(L1, "0103093F2603097VNM<<<<<<<<<<<2", L3, &m), 0);
	assert_int_not_equal(m.check[MRZ_CK_EXPIRY], MRZ_CHECK_OK);

	assert_int_equal(parse3(L1, "0103093F2603092VNM<<<<<<<<<<<3", L3, &m), 0);
	assert_int_not_equal(m.check[MRZ_CK_COMPOSITE], MRZ_CHECK_OK);

	assert_int_equal(parse3("IDVNM3010045676079301004567<<1", L2, L3, &m), 0);
	assert_int_not_equal(m.check[MRZ_CK_OPTIONAL], MRZ_CHECK_OK);
}

static void document_number_is_corrected_from_its_duplicate(void **state)
{
	struct mrz m;
	/* 301004567 read as 301004587: the 12-digit copy picks the one correction. */
	assert_int_equal(parse3("IDVNM3010045876079301004567<<6", L2, L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_DOC_NUMBER], MRZ_CHECK_CORRECTED);
	assert_string_equal(m.doc_number, "301004567");
	assert_false(m.needs_review);
}

static void wrong_check_digit_is_corrected_when_unique(void **state)
{
	struct mrz m;
	/* The composite check digit itself misread 2 -> 7: nothing else is wrong, so the only
	 * correction is the digit. */
	assert_int_equal(parse3(L1, "0103093F2603092VNM<<<<<<<<<<<7", L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_COMPOSITE], MRZ_CHECK_CORRECTED);
	assert_string_equal(m.line[1], L2);
	assert_false(m.needs_review);
}

static void sex_not_covered_by_checks_is_validated(void **state)
{
	struct mrz m;
	/* M on a card whose personal number says female: no check digit covers the sex. */
	assert_int_equal(parse3(L1, "0103093M2603092VNM<<<<<<<<<<<2", L3, &m), 0);
	assert_true(m.needs_review);
	assert_non_null(strstr(m.problem, "sex"));
}

static void impossible_date_with_valid_check_is_flagged(void **state)
{
	struct mrz m;
	char l2[31];
	/* Month 13 with a correct check digit. */
	memcpy(l2, "011309", 6);
	l2[6] = (char)('0' + mrz_check_digit("011309", 6));
	memcpy(l2 + 7, "F2603092VNM<<<<<<<<<<<", 22);
	char comp[64];
	snprintf(comp, sizeof(comp), "%.25s%.7s%.7s%.11s", L1 + 5, l2, l2 + 8, l2 + 18);
	l2[29] = (char)('0' + mrz_check_digit(comp, strlen(comp)));
	l2[30] = 0;
	assert_int_equal(parse3(L1, l2, L3, &m), 0);
	assert_int_equal(m.check[MRZ_CK_BIRTH], MRZ_CHECK_OK);
	assert_true(m.needs_review);
	assert_string_equal(m.date_of_birth, "");
}

static void unknown_country_is_flagged(void **state)
{
	struct mrz m;
	assert_int_equal(parse3(L1, "0103093F2603092VMM<<<<<<<<<<<2", L3, &m), 0);
	assert_true(m.needs_review);
	assert_non_null(strstr(m.problem, "nationality"));
}

static void name_with_misread_fillers_is_flagged(void **state)
{
	struct mrz m;
	assert_int_equal(parse3(L1, L2, "TRAN<<THI<BAO<NGOC<<<<KK<<<<<<", &m), 0);
	assert_true(m.needs_review);
	assert_int_equal(parse3(L1, L2, "TRAN<<THI<BAO<NGOCKKKKKKKKKKKK", &m), 0);
	assert_true(m.needs_review);
	/* A digit in a name has one letter reading. */
	assert_int_equal(parse3(L1, L2, "TRAN<<THI<8AO<NGOC<<<<<<<<<<<<", &m), 0);
	assert_string_equal(m.full_name, "TRAN THI BAO NGOC");
	assert_false(m.needs_review);
}

static void wrong_shape_is_refused(void **state)
{
	struct mrz m;
	const char *t = "IDVNM3010045676079301004567<<\n" L2 "\n" L3;
	assert_int_equal(mrz_parse(t, strlen(t), 2025, &m), -EINVAL);
	assert_int_equal(mrz_parse("", 0, 2025, &m), -EINVAL);
	char big[MRZ_TEXT_MAX + 2];
	memset(big, 'A', sizeof(big));
	assert_int_equal(mrz_parse(big, sizeof(big), 2025, &m), -EMSGSIZE);
}

static void unreadable_character_is_flagged(void **state)
{
	struct mrz m;
	assert_int_equal(parse3(L1, L2, "TRAN<<TH#<BAO<NGOC<<<<<<<<<<<<", &m), 0);
	assert_true(m.needs_review);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_digit_follows_icao),
		cmocka_unit_test(valid_vietnamese_card_reads_every_field),
		cmocka_unit_test(card_without_expiry_has_no_expiry_date),
		cmocka_unit_test(spaces_case_and_surrounding_text_are_ignored),
		cmocka_unit_test(passport_td3_reads),
		cmocka_unit_test(letter_in_a_digit_field_is_coerced),
		cmocka_unit_test(misread_filler_is_restored),
		cmocka_unit_test(unique_correction_is_made),
		cmocka_unit_test(ambiguous_correction_is_not_made),
		cmocka_unit_test(each_failed_check_is_named),
		cmocka_unit_test(document_number_is_corrected_from_its_duplicate),
		cmocka_unit_test(wrong_check_digit_is_corrected_when_unique),
		cmocka_unit_test(sex_not_covered_by_checks_is_validated),
		cmocka_unit_test(impossible_date_with_valid_check_is_flagged),
		cmocka_unit_test(unknown_country_is_flagged),
		cmocka_unit_test(name_with_misread_fillers_is_flagged),
		cmocka_unit_test(wrong_shape_is_refused),
		cmocka_unit_test(unreadable_character_is_flagged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
