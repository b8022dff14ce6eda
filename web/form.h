/* Parsers for what browsers send: application/x-www-form-urlencoded bodies and streamed
 * multipart/form-data (file uploads).  Hostile input: every length is bounded, malformed
 * input is an error, nothing is held whole except small fields. */
#ifndef MOTCUA_WEB_FORM_H
#define MOTCUA_WEB_FORM_H

#include <stddef.h>
#include <sys/types.h>

/* Finds field name in a urlencoded body and decodes its value ('+' is a space, %XX a byte)
 * into out (NUL-terminated).  Returns the value's length, -ENOENT when absent, -EMSGSIZE
 * when it does not fit, -EINVAL for a bad escape or a NUL byte. */
ssize_t form_get(const char *body, size_t len, const char *name, char *out, size_t size);

/* The same for the first occurrence of a cookie in a Cookie header ("a=1; b=2"); no
 * decoding (cookie values of ours are plain tokens). */
ssize_t form_cookie(const char *header, const char *name, char *out, size_t size);

#define MP_BOUNDARY_MAX 70
#define MP_FIELD_MAX 4096
#define MP_HEADER_MAX 1024

struct mp_callbacks {
	/* A small field, whole (value is NUL-terminated, len excludes it). */
	int (*field)(void *ctx, const char *name, const char *value, size_t len);
	/* A file part begins (filename as sent, possibly ""). */
	int (*file_begin)(void *ctx, const char *name, const char *filename);
	int (*file_data)(void *ctx, const char *data, size_t len);
	int (*file_end)(void *ctx);
};

struct mp_parser {
	char delim[4 + MP_BOUNDARY_MAX + 1]; /* "\r\n--" boundary */
	size_t dlen;
	size_t match; /* bytes of delim matched so far */
	int state;
	int part; /* 0 none (preamble), 1 field, 2 file */
	char hdr[MP_HEADER_MAX];
	size_t hlen;
	char name[64];
	char filename[256];
	char value[MP_FIELD_MAX + 1];
	size_t vlen;
	int parts;
	const struct mp_callbacks *cb;
	void *ctx;
};

/* Reads the boundary from a Content-Type header value.  -EINVAL when it is not
 * multipart/form-data with a valid boundary. */
int mp_init(struct mp_parser *p, const char *content_type, const struct mp_callbacks *cb, void *ctx);
/* Feeds the next bytes.  0, a callback's negative return, -EPROTO for malformed input,
 * -EMSGSIZE for an oversized header or field, -E2BIG for more than 16 parts. */
int mp_feed(struct mp_parser *p, const char *data, size_t len);
/* 0 when the closing boundary was seen, -EPROTO when the body ended early. */
int mp_finish(struct mp_parser *p);

#endif
