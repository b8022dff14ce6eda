/* Parsing of [queue] services: a letter, a name and the counters that serve it. */
#include "gateway/queue_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *trim(const char *s, const char *end, size_t *ret_len)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*ret_len = (size_t)(end - s);
	return s;
}

static int parse_counters(const char *s, size_t len, struct queue_service *sv, char *why, size_t whylen)
{
	const char *p = s, *end = s + len;
	int any = 0;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		size_t n;
		const char *item = trim(p, stop, &n);
		char num[8];
		long v = -1;
		if (n > 0 && n < sizeof(num)) {
			char *e;
			memcpy(num, item, n);
			num[n] = '\0';
			v = strtol(num, &e, 10);
			if (*e)
				v = -1;
		}
		if (v < 1 || v > QUEUE_COUNTER_MAX) {
			snprintf(why, whylen, "service %c: counter \"%.*s\" is not a number from 1 to %d",
				 sv->letter, (int)(n > 16 ? 16 : n), item, QUEUE_COUNTER_MAX);
			return -EINVAL;
		}
		sv->counter[v] = 1;
		any = 1;
		p = comma ? comma + 1 : end;
	}
	if (!any) {
		snprintf(why, whylen, "service %c has no counter (e.g. A:Hộ tịch:1,2)", sv->letter);
		return -EINVAL;
	}
	return 0;
}

static int parse_one(const char *s, size_t len, struct queue_services *q, char *why, size_t whylen)
{
	const char *end = s + len;
	const char *c1 = memchr(s, ':', len);
	const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	struct queue_service *sv;
	size_t n;
	const char *p;

	if (!c1 || !c2) {
		snprintf(why, whylen, "service \"%.*s\" is not LETTER:name:counters (e.g. A:Hộ tịch:1,2)",
			 (int)(len > 40 ? 40 : len), s);
		return -EINVAL;
	}
	if (q->n >= QUEUE_SERVICES_MAX) {
		snprintf(why, whylen, "more than %d services", QUEUE_SERVICES_MAX);
		return -EINVAL;
	}
	sv = &q->s[q->n];
	memset(sv, 0, sizeof(*sv));
	p = trim(s, c1, &n);
	if (n != 1 || p[0] < 'A' || p[0] > 'Z') {
		snprintf(why, whylen, "service \"%.*s\": the prefix must be one capital letter A-Z",
			 (int)(len > 40 ? 40 : len), s);
		return -EINVAL;
	}
	sv->letter = p[0];
	if (queue_service_find(q, sv->letter)) {
		snprintf(why, whylen, "service letter %c is used twice", sv->letter);
		return -EINVAL;
	}
	p = trim(c1 + 1, c2, &n);
	if (n == 0 || n >= sizeof(sv->name)) {
		snprintf(why, whylen, "service %c: the name must be 1-%zu bytes", sv->letter,
			 sizeof(sv->name) - 1);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20) {
			snprintf(why, whylen, "service %c: the name contains a control character",
				 sv->letter);
			return -EINVAL;
		}
	memcpy(sv->name, p, n);
	sv->name[n] = '\0';
	int r = parse_counters(c2 + 1, (size_t)(end - c2 - 1), sv, why, whylen);
	if (r < 0)
		return r;
	q->n++;
	return 0;
}

int queue_services_parse(const char *text, struct queue_services *ret, char *why, size_t whylen)
{
	struct queue_services *q = calloc(1, sizeof(*q));
	const char *p = text, *end = text + strlen(text);
	int r = 0;

	if (!q)
		return -ENOMEM;
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end;
		size_t n;
		const char *item = trim(p, stop, &n);
		if (n > 0) {
			r = parse_one(item, n, q, why, whylen);
			if (r < 0)
				goto out;
		}
		p = semi ? semi + 1 : end;
	}
	if (q->n == 0) {
		snprintf(why, whylen, "no service configured (e.g. A:Hộ tịch:1,2;B:Chứng thực:3)");
		r = -EINVAL;
		goto out;
	}
	*ret = *q;
out:
	free(q);
	return r;
}

const struct queue_service *queue_service_find(const struct queue_services *q, char letter)
{
	if (letter >= 'a' && letter <= 'z')
		letter = (char)(letter - 'a' + 'A');
	for (int i = 0; i < q->n; i++)
		if (q->s[i].letter == letter)
			return &q->s[i];
	return NULL;
}
