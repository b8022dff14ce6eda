/* Working days for dossier deadlines: weekends, the Labour Code's holidays, each year's
 * announced days off and swapped working Saturdays, from a yearly calendar file
 * (data/calendar.json); lunar holidays come from the file, never from a computation.
 * A day is a count of days since 1970-01-01 in the commune's local time. */
#ifndef MOTCUA_CALENDAR_H
#define MOTCUA_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#define CALENDAR_MAX_DAYS 512
#define CALENDAR_MAX_YEARS 32
#define CALENDAR_ERR_MAX 256

struct calendar {
	int utc_offset_min; /* 420 for Vietnam */
	int cutoff_min; /* minutes after midnight; received at or after it counts from the next working day */
	unsigned weekend; /* bit (ISO weekday 1..7) set for a weekly rest day */
	int nfixed;
	int fixed[16]; /* month*100 + day, every year */
	int nyears;
	int years[CALENDAR_MAX_YEARS]; /* years the file describes */
	int nholidays, nworking;
	int32_t holidays[CALENDAR_MAX_DAYS]; /* sorted */
	int32_t working[CALENDAR_MAX_DAYS]; /* weekend days worked (swaps), sorted */
};

/* Reads and validates a calendar file; -ENOENT / -EINVAL with err naming the file and field. */
int calendar_load(const char *path, struct calendar *ret, char err[CALENDAR_ERR_MAX]);
int calendar_parse(const char *text, size_t len, const char *name, struct calendar *ret,
		   char err[CALENDAR_ERR_MAX]);

/* Civil date <-> day number. */
int32_t calendar_day(int y, int m, int d);
void calendar_ymd(int32_t day, int *y, int *m, int *d);
/* "YYYY-MM-DD" of day into out[11]; parse returns -EINVAL on a bad date. */
void calendar_format(int32_t day, char out[11]);
int calendar_parse_day(const char *s, int32_t *ret);

/* 1 when day is a working day. */
int calendar_is_working(const struct calendar *c, int32_t day);
/* 1 when the file lists this year (otherwise only weekends and fixed holidays are known). */
int calendar_covers(const struct calendar *c, int year);

/* The local day of a UTC time (seconds) and its minutes after midnight. */
int32_t calendar_local_day(const struct calendar *c, int64_t utc_s, int *ret_minute);
/* The working day a dossier received at utc_s counts from: that day when it is a working
 * day and before the cut-off, else the next working day. */
int32_t calendar_start_day(const struct calendar *c, int64_t utc_s);
/* day advanced by n working days (n >= 0). */
int32_t calendar_add_working(const struct calendar *c, int32_t day, int n);
/* Working days from a to b (b > a: days after a up to b that are working; 0 if b <= a). */
int calendar_working_between(const struct calendar *c, int32_t a, int32_t b);
/* The due day of a dossier received at utc_s with a time limit of days working days
 * (0: the same working day). */
int32_t calendar_due(const struct calendar *c, int64_t utc_s, int days);

#endif
