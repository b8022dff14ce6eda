/* Working days and the procedure catalogue: deadlines across a year boundary, the announced
 * swaps (a Saturday worked, a Friday off), the 15:00 cut-off, holidays taken from the file,
 * and the shipped catalogue and calendar validating with clear errors for broken ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gateway/dossier/calendar.h"
#include "gateway/dossier/catalog.h"

static struct calendar cal;

static const char *path_of(const char *rel, char *buf, size_t size)
{
	const char *top = getenv("MOTCUA_TOP");
	snprintf(buf, size, "%s/%s", top ? top : ".", rel);
	return buf;
}

static int setup(void **state)
{
	char p[4096], err[CALENDAR_ERR_MAX];
	int r = calendar_load(path_of("data/calendar.json", p, sizeof(p)), &cal, err);
	if (r < 0)
		fprintf(stderr, "%s\n", err);
	return r < 0 ? -1 : 0;
}

/* UTC seconds of a Vietnamese local time (UTC+7). */
static int64_t vn(int y, int m, int d, int hh, int mm)
{
	return (int64_t)calendar_day(y, m, d) * 86400 + (hh - 7) * 3600 + mm * 60;
}

static const char *fmt(int32_t day)
{
	static char out[4][11];
	static int i;
	i = (i + 1) % 4;
	calendar_format(day, out[i]);
	return out[i];
}

static void dates_round_trip_and_bad_dates_are_refused(void **state)
{
	int32_t d;
	assert_int_equal(calendar_day(1970, 1, 1), 0);
	assert_int_equal(calendar_parse_day("2024-02-29", &d), 0);
	assert_string_equal(fmt(d), "2024-02-29");
	assert_int_equal(calendar_parse_day("2025-02-29", &d), -EINVAL);
	assert_int_equal(calendar_parse_day("2025-13-01", &d), -EINVAL);
	assert_int_equal(calendar_parse_day("2025-1-01", &d), -EINVAL);
}

static void weekends_and_file_holidays_are_not_working_days(void **state)
{
	assert_true(calendar_is_working(&cal, calendar_day(2026, 3, 13))); /* Friday */
	assert_false(calendar_is_working(&cal, calendar_day(2026, 3, 14))); /* Saturday */
	assert_false(calendar_is_working(&cal, calendar_day(2026, 3, 15))); /* Sunday */
	assert_false(calendar_is_working(&cal, calendar_day(2026, 2, 18))); /* Tết, from the file */
	assert_false(calendar_is_working(&cal, calendar_day(2026, 4, 30))); /* fixed holiday */
	assert_false(calendar_is_working(&cal, calendar_day(2026, 5, 1)));
	assert_false(calendar_is_working(&cal, calendar_day(2031, 9, 2))); /* fixed, any year */
	assert_true(calendar_covers(&cal, 2026));
	assert_false(calendar_covers(&cal, 2031));
}

static void announced_swap_moves_the_working_day(void **state)
{
	/* Tết Dương lịch 2026: Fri 2/1 off, worked on Sat 10/1 instead. */
	assert_false(calendar_is_working(&cal, calendar_day(2026, 1, 2)));
	assert_true(calendar_is_working(&cal, calendar_day(2026, 1, 10)));
	/* Received Fri 9/1 morning, 1 working day: Saturday 10/1 is a working day. */
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 1, 9, 9, 0), 1)), "2026-01-10");
	/* 3 working days from Fri 9/1: Sat 10, Mon 12, Tue 13. */
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 1, 9, 9, 0), 3)), "2026-01-13");
}

static void deadline_crosses_the_year_boundary_over_new_year_holidays(void **state)
{
	/* Received Wed 31/12/2025 10:00, 3 working days: 1/1 and 2/1 off, 3-4/1 weekend,
	 * so Mon 5/1, Tue 6/1, Wed 7/1. */
	assert_string_equal(fmt(calendar_due(&cal, vn(2025, 12, 31, 10, 0), 3)), "2026-01-07");
	/* Received Tue 30/12/2025 at 16:00 (after the cut-off): counts from Wed 31/12. */
	assert_string_equal(fmt(calendar_start_day(&cal, vn(2025, 12, 30, 16, 0))), "2025-12-31");
	assert_string_equal(fmt(calendar_due(&cal, vn(2025, 12, 30, 16, 0), 1)), "2026-01-05");
	/* Seven working days over the whole Tết Âm lịch 2026 break (14-22/2). */
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 2, 12, 9, 0), 2)), "2026-02-23");
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 2, 12, 9, 0), 7)), "2026-03-02");
}

static void afternoon_cut_off_counts_from_the_next_working_day(void **state)
{
	/* Same-day procedures (days 0). */
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 3, 12, 14, 59), 0)), "2026-03-12");
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 3, 12, 15, 0), 0)), "2026-03-13");
	/* Friday after 15:00: Monday. */
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 3, 13, 15, 30), 0)), "2026-03-16");
	/* Received on a Sunday: counts from Monday. */
	assert_string_equal(fmt(calendar_due(&cal, vn(2026, 3, 15, 9, 0), 0)), "2026-03-16");
	/* 23:30 local on Thursday is already Thursday in UTC+7 even though UTC says 16:30. */
	assert_string_equal(fmt(calendar_start_day(&cal, vn(2026, 3, 12, 23, 30))), "2026-03-13");
	/* 06:30 local on Friday is Thursday 23:30 UTC: still Friday locally. */
	assert_string_equal(fmt(calendar_start_day(&cal, vn(2026, 3, 13, 6, 30))), "2026-03-13");
	assert_int_equal(calendar_working_between(&cal, calendar_day(2026, 3, 12), calendar_day(2026, 3, 16)),
			 2);
}

static void broken_calendar_files_name_the_field(void **state)
{
	struct calendar c;
	char err[CALENDAR_ERR_MAX];
	const char *base = "{\"schema\":\"motcua.calendar.v1\",\"utc_offset_minutes\":420,\"weekend\":[6,7],";
	char text[1024];
	snprintf(text, sizeof(text), "%s\"cutoff\":\"3pm\",\"years\":{}}", base);
	assert_int_equal(calendar_parse(text, strlen(text), "cal.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "cutoff"));
	snprintf(text, sizeof(text),
		 "%s\"cutoff\":\"15:00\",\"years\":{\"2026\":{\"holidays\":[\"2026-02-30\"]}}}", base);
	assert_int_equal(calendar_parse(text, strlen(text), "cal.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "2026.holidays"));
	snprintf(text, sizeof(text),
		 "%s\"cutoff\":\"15:00\",\"years\":{\"2026\":{\"holidays\":[\"2026-01-10\"],"
		 "\"working_days\":[\"2026-01-10\"]}}}",
		 base);
	assert_int_equal(calendar_parse(text, strlen(text), "cal.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "2026-01-10"));
	assert_int_equal(calendar_load("/nonexistent/calendar.json", &c, err), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/calendar.json"));
}

static void shipped_catalogue_validates_with_at_least_25_procedures(void **state)
{
	char p[4096], err[CATALOG_ERR_MAX];
	struct catalog *c = NULL;
	assert_int_equal(catalog_load(path_of("data/procedures.json", p, sizeof(p)), &c, err), 0);
	assert_true(c->n >= 25);
	const struct catalog_proc *ks = catalog_find(c, "HT-KS");
	assert_non_null(ks);
	assert_int_equal(ks->service, 'A');
	assert_int_equal(ks->days, 0);
	assert_non_null(catalog_doc_find(ks, "giay_chung_sinh"));
	assert_true(catalog_doc_find(ks, "giay_to_tuy_than")->id_card);
	const struct catalog_proc *tt = catalog_find(c, "CTR-TT");
	assert_int_equal(tt->days, 7);
	assert_int_equal(tt->fee_vnd, 20000);
	for (int i = 0; i < c->n; i++) {
		assert_true(c->procs[i].ndocs >= 1);
		assert_true(c->procs[i].legal_basis[0] != 0);
	}
	catalog_free(c);
}

static void broken_catalogue_names_procedure_and_field(void **state)
{
	struct catalog *c = NULL;
	char err[CATALOG_ERR_MAX];
	const char *t1 =
	    "{\"schema\":\"motcua.procedures.v1\",\"procedures\":[{\"code\":\"X-1\",\"name\":\"A\","
	    "\"service\":\"a\",\"days\":1,\"time_text\":\"1\",\"fee_vnd\":0,\"fee_text\":\"0\","
	    "\"legal_basis\":\"L\",\"documents\":[{\"key\":\"k\",\"name\":\"K\"}]}]}";
	assert_int_equal(catalog_parse(t1, strlen(t1), "p.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "procedure 1 (X-1)"));
	assert_non_null(strstr(err, "service"));
	const char *t2 =
	    "{\"schema\":\"motcua.procedures.v1\",\"procedures\":[{\"code\":\"X-1\",\"name\":\"A\","
	    "\"service\":\"A\",\"days\":-3,\"time_text\":\"1\",\"fee_vnd\":0,\"fee_text\":\"0\","
	    "\"legal_basis\":\"L\",\"documents\":[{\"key\":\"k\",\"name\":\"K\"}]}]}";
	assert_int_equal(catalog_parse(t2, strlen(t2), "p.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "days"));
	const char *t3 =
	    "{\"schema\":\"motcua.procedures.v1\",\"procedures\":[{\"code\":\"X-1\",\"name\":\"A\","
	    "\"service\":\"A\",\"days\":1,\"time_text\":\"1\",\"fee_vnd\":0,\"fee_text\":\"0\","
	    "\"legal_basis\":\"L\",\"documents\":[{\"key\":\"k\",\"name\":\"K\"},"
	    "{\"key\":\"k\",\"name\":\"K2\"}]}]}";
	assert_int_equal(catalog_parse(t3, strlen(t3), "p.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(catalog_parse("{", 1, "p.json", &c, err), -EINVAL);
	assert_non_null(strstr(err, "p.json: line"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dates_round_trip_and_bad_dates_are_refused),
		cmocka_unit_test(weekends_and_file_holidays_are_not_working_days),
		cmocka_unit_test(announced_swap_moves_the_working_day),
		cmocka_unit_test(deadline_crosses_the_year_boundary_over_new_year_holidays),
		cmocka_unit_test(afternoon_cut_off_counts_from_the_next_working_day),
		cmocka_unit_test(broken_calendar_files_name_the_field),
		cmocka_unit_test(shipped_catalogue_validates_with_at_least_25_procedures),
		cmocka_unit_test(broken_catalogue_names_procedure_and_field),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
