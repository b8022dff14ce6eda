/* Working-day arithmetic over a yearly calendar file.  Dates are day numbers (days since
 * 1970-01-01), converted with Howard Hinnant's civil-date algorithms. */
#include "gateway/dossier/calendar.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/fsutil.h"

int32_t calendar_day(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void calendar_ymd(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yoe + era * 400 + (*m <= 2);
}

void calendar_format(int32_t day, char out[11])
{
	int y, m, d;
	calendar_ymd(day, &y, &m, &d);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u, (unsigned)d % 100u);
}

int calendar_parse_day(const char *s, int32_t *ret)
{
	int y, m, d, n = 0;
	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || y < 1970 ||
	    y > 2999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -EINVAL;
	int32_t z = calendar_day(y, m, d);
	int yy, mm, dd;
	calendar_ymd(z, &yy, &mm, &dd);
	if (yy != y || mm != m || dd != d)
		return -EINVAL; /* 2025-02-30 */
	*ret = z;
	return 0;
}

static int iso_weekday(int32_t day)
{
	int w = (int)((day % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday (ISO 4) */
	return w + 1;
}

static int in_sorted(const int32_t *a, int n, int32_t v)
{
	int lo = 0, hi = n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (a[mid] == v)
			return 1;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return 0;
}

int calendar_covers(const struct calendar *c, int year)
{
	for (int i = 0; i < c->nyears; i++)
		if (c->years[i] == year)
			return 1;
	return 0;
}

int calendar_is_working(const struct calendar *c, int32_t day)
{
	int y, m, d;
	if (in_sorted(c->working, c->nworking, day))
		return 1;
	if (in_sorted(c->holidays, c->nholidays, day))
		return 0;
	calendar_ymd(day, &y, &m, &d);
	for (int i = 0; i < c->nfixed; i++)
		if (c->fixed[i] == m * 100 + d)
			return 0;
	return !(c->weekend & (1u << iso_weekday(day)));
}

int32_t calendar_local_day(const struct calendar *c, int64_t utc_s, int *ret_minute)
{
	int64_t t = utc_s + (int64_t)c->utc_offset_min * 60;
	int64_t day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	if (ret_minute)
		*ret_minute = (int)((t - day * 86400) / 60);
	return (int32_t)day;
}

static int32_t next_working(const struct calendar *c, int32_t day)
{
	/* A year holds far fewer than 366 days off in a row: the bound only guards a bad file. */
	for (int i = 0; i < 366; i++)
		if (calendar_is_working(c, ++day))
			return day;
	return day;
}

int32_t calendar_start_day(const struct calendar *c, int64_t utc_s)
{
	int minute;
	int32_t day = calendar_local_day(c, utc_s, &minute);
	if (calendar_is_working(c, day) && minute < c->cutoff_min)
		return day;
	return next_working(c, day);
}

int32_t calendar_add_working(const struct calendar *c, int32_t day, int n)
{
	for (int i = 0; i < n; i++)
		day = next_working(c, day);
	return day;
}

int calendar_working_between(const struct calendar *c, int32_t a, int32_t b)
{
	int n = 0;
	for (int32_t d = a + 1; d <= b && n < 100000; d++)
		n += calendar_is_working(c, d);
	return n;
}

int32_t calendar_due(const struct calendar *c, int64_t utc_s, int days)
{
	return calendar_add_working(c, calendar_start_day(c, utc_s), days < 0 ? 0 : days);
}

static int cmp32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

static int fail(char *err, const char *name, const char *fmt, const char *arg)
{
	char what[160];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(what, sizeof(what), fmt, arg);
#pragma GCC diagnostic pop
	snprintf(err, CALENDAR_ERR_MAX, "%.80s: %.160s", name, what);
	return -EINVAL;
}

/* Adds the "YYYY-MM-DD" strings of arr (all in year) to list. */
static int add_days(json_t *arr, int year, int32_t *list, int *n, const char *name, const char *what,
		    char *err)
{
	json_t *v;
	size_t i;
	char label[64];
	snprintf(label, sizeof(label), "%d.%s", year, what);
	if (arr && !json_is_array(arr))
		return fail(err, name, "\"%s\" must be an array of dates", label);
	json_array_foreach (arr, i, v) {
		int32_t day;
		int y, m, d;
		const char *s = json_string_value(v);
		if (!s || calendar_parse_day(s, &day) < 0)
			return fail(err, name, "\"%s\" holds something that is not a YYYY-MM-DD date", label);
		calendar_ymd(day, &y, &m, &d);
		if (y != year)
			return fail(err, name, "\"%s\" holds a date of another year", label);
		if (*n >= CALENDAR_MAX_DAYS)
			return fail(err, name, "too many dates (at most 512 of each kind)%s", "");
		list[(*n)++] = day;
	}
	return 0;
}

int calendar_parse(const char *text, size_t len, const char *name, struct calendar *ret,
		   char err[CALENDAR_ERR_MAX])
{
	json_error_t je;
	struct calendar c;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v, *years, *yo;
	const char *key;
	size_t i;
	int r = -EINVAL, hh, mm, n = 0;

	memset(&c, 0, sizeof(c));
	if (!root) {
		snprintf(err, CALENDAR_ERR_MAX, "%.80s: line %d: %.120s", name, je.line, je.text);
		return -EINVAL;
	}
	v = json_object_get(root, "schema");
	if (!json_is_string(v) || strcmp(json_string_value(v), "motcua.calendar.v1") != 0) {
		r = fail(err, name, "not a calendar (\"schema\" must be \"motcua.calendar.v1\")%s", "");
		goto out;
	}
	v = json_object_get(root, "utc_offset_minutes");
	if (!json_is_integer(v) || json_integer_value(v) < -720 || json_integer_value(v) > 840) {
		r = fail(err, name, "\"utc_offset_minutes\" must be -720..840 (420 for Vietnam)%s", "");
		goto out;
	}
	c.utc_offset_min = (int)json_integer_value(v);
	v = json_object_get(root, "cutoff");
	if (!json_is_string(v) || sscanf(json_string_value(v), "%2d:%2d%n", &hh, &mm, &n) != 2 ||
	    (size_t)n != strlen(json_string_value(v)) || hh < 0 || hh > 24 || mm < 0 || mm > 59 ||
	    hh * 60 + mm > 24 * 60) {
		r = fail(err, name, "\"cutoff\" must be HH:MM (e.g. 15:00)%s", "");
		goto out;
	}
	c.cutoff_min = hh * 60 + mm;
	v = json_object_get(root, "weekend");
	if (!json_is_array(v)) {
		r = fail(err, name, "\"weekend\" must list ISO weekdays (6 Saturday, 7 Sunday)%s", "");
		goto out;
	}
	json_t *e;
	json_array_foreach (v, i, e) {
		if (!json_is_integer(e) || json_integer_value(e) < 1 || json_integer_value(e) > 7) {
			r = fail(err, name, "\"weekend\" must list ISO weekdays 1-7%s", "");
			goto out;
		}
		c.weekend |= 1u << json_integer_value(e);
	}
	v = json_object_get(root, "fixed_holidays");
	if (v && (!json_is_array(v) || json_array_size(v) > 16)) {
		r = fail(err, name, "\"fixed_holidays\" must list at most 16 MM-DD days%s", "");
		goto out;
	}
	json_array_foreach (v, i, e) {
		const char *s = json_string_value(e);
		if (!s || strlen(s) != 5 || sscanf(s, "%2d-%2d", &mm, &hh) != 2 || mm < 1 || mm > 12 ||
		    hh < 1 || hh > 31) {
			r = fail(err, name, "\"fixed_holidays\" must hold MM-DD days%s", "");
			goto out;
		}
		c.fixed[c.nfixed++] = mm * 100 + hh;
	}
	years = json_object_get(root, "years");
	if (!json_is_object(years)) {
		r = fail(err, name, "\"years\" must be an object of years%s", "");
		goto out;
	}
	json_object_foreach (years, key, yo) {
		char *end;
		long y = strtol(key, &end, 10);
		if (*end || y < 1970 || y > 2999 || !json_is_object(yo))
			r = fail(err, name, "\"years\" key %s must be a year holding an object", key);
		else if (c.nyears >= CALENDAR_MAX_YEARS)
			r = fail(err, name, "at most 32 years%s", "");
		else
			r = add_days(json_object_get(yo, "holidays"), (int)y, c.holidays, &c.nholidays, name,
				     "holidays", err);
		if (r == 0)
			r = add_days(json_object_get(yo, "working_days"), (int)y, c.working, &c.nworking,
				     name, "working_days", err);
		if (r < 0)
			goto out;
		c.years[c.nyears++] = (int)y;
	}
	qsort(c.holidays, (size_t)c.nholidays, sizeof(int32_t), cmp32);
	qsort(c.working, (size_t)c.nworking, sizeof(int32_t), cmp32);
	for (int k = 0; k < c.nworking; k++)
		if (in_sorted(c.holidays, c.nholidays, c.working[k])) {
			char d[11];
			calendar_format(c.working[k], d);
			r = fail(err, name, "%s is listed both as a holiday and as a working day", d);
			goto out;
		}
	*ret = c;
	r = 0;
out:
	json_decref(root);
	return r;
}

int calendar_load(const char *path, struct calendar *ret, char err[CALENDAR_ERR_MAX])
{
	char *text = NULL;
	size_t len = 0;
	int r = fs_read_small(path, 1 << 20, &text, &len);
	if (r < 0) {
		snprintf(err, CALENDAR_ERR_MAX, "%.160s: cannot read the working-day calendar: %.40s", path,
			 strerror(-r));
		return r;
	}
	r = calendar_parse(text, len, path, ret, err);
	free(text);
	return r;
}
