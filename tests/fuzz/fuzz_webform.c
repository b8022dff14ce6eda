/* libFuzzer target for the staff page's parsers of browser bytes: urlencoded bodies,
 * Cookie headers and streamed multipart/form-data, fed in arbitrary chunk sizes.
 * Input layout: byte 0 picks the chunk size, then a Content-Type line, then the body. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	size_t fields, files, bytes;
	int in_file;
};

static int field(void *ctx, const char *name, const char *value, size_t len)
{
	struct sink *s = ctx;
	if (strlen(value) > len)
		abort(); /* value must be NUL-terminated at len, NULs inside allowed */
	s->fields++;
	return 0;
}

static int file_begin(void *ctx, const char *name, const char *filename)
{
	struct sink *s = ctx;
	if (s->in_file)
		abort(); /* begin without end */
	s->in_file = 1;
	s->files++;
	return 0;
}

static int file_data(void *ctx, const char *data, size_t len)
{
	struct sink *s = ctx;
	if (!s->in_file || len == 0)
		abort();
	s->bytes += len;
	return 0;
}

static int file_end(void *ctx)
{
	struct sink *s = ctx;
	if (!s->in_file)
		abort();
	s->in_file = 0;
	return 0;
}

static const struct mp_callbacks cb = { field, file_begin, file_data, file_end };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[256], *text;
	struct mp_parser *p;
	struct sink s = { 0 };

	if (size < 2)
		return 0;
	size_t chunk = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* The whole input as a form body and as a Cookie header. */
	static const char *const names[] = { "csrf", "name", "password", "a", "" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ssize_t n = form_get(text, size, names[i], out, sizeof(out));
		if (n >= 0 && ((size_t)n >= sizeof(out) || strlen(out) != (size_t)n))
			abort();
		n = form_cookie(text, names[i], out, sizeof(out));
		if (n >= 0 && (size_t)n >= sizeof(out))
			abort();
	}

	/* First line: the Content-Type; the rest: the multipart body, fed in chunks. */
	char *nl = memchr(text, '\n', size);
	if (nl) {
		*nl = '\0';
		p = malloc(sizeof(*p));
		if (p && mp_init(p, text, &cb, &s) == 0) {
			const char *body = nl + 1;
			size_t left = size - (size_t)(body - text);
			int r = 0;
			while (left > 0 && r == 0) {
				size_t n = left < chunk ? left : chunk;
				r = mp_feed(p, body, n);
				body += n;
				left -= n;
			}
			if (r == 0 && mp_finish(p) == 0 && s.in_file)
				abort(); /* a complete body ends every file part */
		}
		free(p);
	}
	free(text);
	return 0;
}
