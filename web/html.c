/* Bounded response buffers and escaping. */
#include "web/html.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void buf_init(struct buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *buf_steal(struct buf *b, size_t *ret_len)
{
	char *p = b->p;
	*ret_len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static int reserve(struct buf *b, size_t more)
{
	if (b->err)
		return -1;
	if (more > b->max || b->len + more > b->max) {
		b->err = 1;
		return -1;
	}
	if (b->len + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->err = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void buf_add(struct buf *b, const char *s, size_t n)
{
	if (reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->err = 1;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		buf_add(b, small, (size_t)n);
		return;
	}
	if (reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void buf_esc(struct buf *b, const char *s)
{
	const char *run = s;
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		buf_add(b, run, (size_t)(s - run));
		buf_puts(b, rep);
		run = s + 1;
	}
	buf_add(b, run, (size_t)(s - run));
}

void buf_url(struct buf *b, const char *s)
{
	static const char digits[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~') {
			buf_add(b, s, 1);
		} else {
			char e[3] = { '%', digits[c >> 4], digits[c & 15] };
			buf_add(b, e, 3);
		}
	}
}

void buf_json(struct buf *b, const char *s)
{
	buf_add(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			buf_add(b, e, 2);
		} else if (c < 0x20) {
			buf_printf(b, "\\u%04x", c);
		} else if (c == '<') {
			buf_puts(b, "\\u003c"); /* never "</script>" even if embedded */
		} else {
			buf_add(b, s, 1);
		}
	}
	buf_add(b, "\"", 1);
}

void buf_t(struct buf *b, enum lang lang, enum str key, long long a, long long bb, const char *s)
{
	const char *f = T(lang, key), *run = f;
	int nums = 0;
	for (; *f; f++) {
		if (f[0] != '%')
			continue;
		buf_add(b, run, (size_t)(f - run));
		if (strncmp(f, "%lld", 4) == 0) {
			buf_printf(b, "%lld", nums++ == 0 ? a : bb);
			f += 3;
		} else if (f[1] == 's') {
			buf_esc(b, s ? s : "");
			f += 1;
		} else {
			buf_add(b, "%", 1);
		}
		run = f + 1;
	}
	buf_add(b, run, (size_t)(f - run));
}

void buf_bytes(struct buf *b, int64_t n)
{
	if (n >= (int64_t)1 << 30)
		buf_printf(b, "%.1f GB", (double)n / (1 << 30));
	else if (n >= 1 << 20)
		buf_printf(b, "%.1f MB", (double)n / (1 << 20));
	else if (n >= 1 << 10)
		buf_printf(b, "%.1f KB", (double)n / (1 << 10));
	else
		buf_printf(b, "%lld B", (long long)n);
}

void buf_age(struct buf *b, enum lang lang, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		buf_t(b, lang, S_AGE_S, s, 0, NULL);
	else if (s < 3600)
		buf_t(b, lang, S_AGE_M, s / 60, 0, NULL);
	else if (s < 86400)
		buf_t(b, lang, S_AGE_H, s / 3600, (s % 3600) / 60, NULL);
	else
		buf_t(b, lang, S_AGE_D, s / 86400, (s % 86400) / 3600, NULL);
}

void buf_when(struct buf *b, int64_t unix_s)
{
	char out[32];
	struct tm tm;
	time_t t = (time_t)unix_s;
	if (unix_s <= 0 || !localtime_r(&t, &tm)) {
		buf_puts(b, "—");
		return;
	}
	strftime(out, sizeof(out), "%d/%m/%Y %H:%M", &tm);
	buf_puts(b, out);
}

int64_t web_parse_iso(const char *iso)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!end)
		return -1;
	if (*end == '.') /* milliseconds */
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (strcmp(end, "Z") != 0)
		return -1;
	return (int64_t)timegm(&tm);
}

void buf_when_iso(struct buf *b, const char *iso)
{
	struct tm tm;
	const char *end;
	int64_t t;
	if (!iso || !iso[0]) {
		buf_puts(b, "—");
		return;
	}
	if ((t = web_parse_iso(iso)) >= 0) {
		buf_when(b, t);
		return;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(iso, "%Y-%m-%d", &tm);
	if (end && !*end) {
		char out[16];
		strftime(out, sizeof(out), "%d/%m/%Y", &tm);
		buf_puts(b, out);
		return;
	}
	buf_esc(b, iso);
}
