/* urlencoded forms, cookies and a streaming multipart/form-data parser. */
#include "web/form.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes s[0..n) into out; returns the length or -errno. */
static ssize_t decode(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0')
			return -EINVAL;
		if (o + 1 >= size)
			return -EMSGSIZE;
		out[o++] = c;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

ssize_t form_get(const char *body, size_t len, const char *name, char *out, size_t size)
{
	char key[64];
	size_t i = 0;

	if (size == 0)
		return -EMSGSIZE;
	while (i < len) {
		const char *amp = memchr(body + i, '&', len - i);
		size_t end = amp ? (size_t)(amp - body) : len;
		const char *eq = memchr(body + i, '=', end - i);
		size_t kend = eq ? (size_t)(eq - body) : end;
		ssize_t k = decode(body + i, kend - i, key, sizeof(key));
		if (k >= 0 && strcmp(key, name) == 0) {
			if (!eq) {
				out[0] = '\0';
				return 0;
			}
			return decode(eq + 1, end - kend - 1, out, size);
		}
		i = end + 1;
	}
	return -ENOENT;
}

ssize_t form_cookie(const char *header, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = header;

	if (size == 0)
		return -EMSGSIZE;
	while (p && *p) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t seg = end ? (size_t)(end - p) : strlen(p);
		if (seg > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = seg - nl - 1;
			while (vl > 0 && (p[nl + 1 + vl - 1] == ' ' || p[nl + 1 + vl - 1] == '\t'))
				vl--;
			if (vl + 1 > size)
				return -EMSGSIZE;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return (ssize_t)vl;
		}
		p = end;
	}
	return -ENOENT;
}

/* ---- multipart/form-data (RFC 7578 over RFC 2046) ----------------------------------- */

enum { S_BODY, S_DELIM_1, S_DASH, S_CR, S_HEADERS, S_EPILOGUE };
enum { PART_NONE, PART_FIELD, PART_FILE };
#define MP_PARTS_MAX 16

static int bchar(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    strchr("'()+_,-./:=? ", c) != NULL;
}

int mp_init(struct mp_parser *p, const char *ct, const struct mp_callbacks *cb, void *ctx)
{
	const char *b;
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	if (strncasecmp(ct, "multipart/form-data", 19) != 0)
		return -EINVAL;
	b = strcasestr(ct, "boundary=");
	if (!b)
		return -EINVAL;
	b += 9;
	memcpy(p->delim, "\r\n--", 4);
	if (*b == '"') {
		b++;
		while (b[n] && b[n] != '"')
			n++;
		if (b[n] != '"')
			return -EINVAL;
	} else {
		while (b[n] && b[n] != ';' && b[n] != ' ' && b[n] != '\t')
			n++;
	}
	if (n == 0 || n > MP_BOUNDARY_MAX || b[n - 1] == ' ')
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!bchar(b[i]))
			return -EINVAL;
	memcpy(p->delim + 4, b, n);
	p->dlen = 4 + n;
	p->delim[p->dlen] = '\0';
	p->state = S_BODY;
	p->part = PART_NONE;
	p->match = 2; /* the body may start with the boundary itself: pretend a CRLF came first */
	p->cb = cb;
	p->ctx = ctx;
	return 0;
}

static int emit(struct mp_parser *p, const char *data, size_t len)
{
	if (len == 0 || p->part == PART_NONE)
		return 0;
	if (p->part == PART_FIELD) {
		if (p->vlen + len > MP_FIELD_MAX)
			return -EMSGSIZE;
		memcpy(p->value + p->vlen, data, len);
		p->vlen += len;
		return 0;
	}
	return p->cb->file_data ? p->cb->file_data(p->ctx, data, len) : 0;
}

static int end_part(struct mp_parser *p)
{
	int r = 0;
	if (p->part == PART_FIELD) {
		p->value[p->vlen] = '\0';
		if (p->cb->field)
			r = p->cb->field(p->ctx, p->name, p->value, p->vlen);
	} else if (p->part == PART_FILE && p->cb->file_end) {
		r = p->cb->file_end(p->ctx);
	}
	p->part = PART_NONE;
	return r;
}

/* Copies parameter key (name or filename) of a Content-Disposition value into out. */
static int disposition_param(const char *v, const char *key, char *out, size_t size, int *found)
{
	size_t kl = strlen(key);
	const char *s = v;

	*found = 0;
	while ((s = strchr(s, ';')) != NULL) {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncasecmp(s, key, kl) != 0 || s[kl] != '=')
			continue;
		s += kl + 1;
		size_t n = 0;
		if (*s == '"') {
			s++;
			while (s[n] && s[n] != '"')
				n++;
			if (s[n] != '"')
				return -EPROTO;
		} else {
			while (s[n] && s[n] != ';' && s[n] != ' ')
				n++;
		}
		if (n >= size)
			return -EMSGSIZE;
		memcpy(out, s, n);
		out[n] = '\0';
		*found = 1;
		return 0;
	}
	return 0;
}

static int header_line(struct mp_parser *p, const char *line)
{
	static const char cd[] = "content-disposition:";
	int found = 0, r;

	if (strncasecmp(line, cd, sizeof(cd) - 1) != 0)
		return 0; /* Content-Type and others: the intake sniffs the bytes itself */
	const char *v = line + sizeof(cd) - 1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "form-data", 9) != 0)
		return -EPROTO;
	r = disposition_param(v, "name", p->name, sizeof(p->name), &found);
	if (r < 0)
		return r;
	if (!found)
		return -EPROTO;
	r = disposition_param(v, "filename", p->filename, sizeof(p->filename), &found);
	if (r < 0)
		return r;
	p->part = found ? PART_FILE : PART_FIELD;
	return 0;
}

static int begin_part(struct mp_parser *p)
{
	if (p->name[0] == '\0')
		return -EPROTO; /* no Content-Disposition */
	p->vlen = 0;
	if (p->part == PART_FILE && p->cb->file_begin)
		return p->cb->file_begin(p->ctx, p->name, p->filename);
	return 0;
}

int mp_feed(struct mp_parser *p, const char *data, size_t len)
{
	size_t run = SIZE_MAX; /* start of bytes of the current part not yet emitted */
	int r;

	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		switch (p->state) {
		case S_BODY:
			if (c == p->delim[p->match]) {
				if (p->match == 0 && run != SIZE_MAX) {
					r = emit(p, data + run, i - run);
					if (r < 0)
						return r;
					run = SIZE_MAX;
				}
				if (++p->match == p->dlen) {
					p->match = 0;
					r = end_part(p);
					if (r < 0)
						return r;
					p->state = S_DELIM_1;
				}
				continue;
			}
			if (p->match > 0) {
				/* What looked like a delimiter was data.  No suffix of a delimiter
				 * prefix can start another: '\r' only opens it, and a boundary has no
				 * CR. */
				r = emit(p, p->delim, p->match);
				if (r < 0)
					return r;
				p->match = 0;
				if (c == p->delim[0]) {
					p->match = 1;
					continue;
				}
			}
			if (run == SIZE_MAX)
				run = i;
			break;
		case S_DELIM_1:
			if (c == '-')
				p->state = S_DASH;
			else if (c == '\r')
				p->state = S_CR;
			else if (c != ' ' && c != '\t')
				return -EPROTO;
			break;
		case S_DASH:
			if (c != '-')
				return -EPROTO;
			p->state = S_EPILOGUE;
			break;
		case S_CR:
			if (c != '\n')
				return -EPROTO;
			if (++p->parts > MP_PARTS_MAX)
				return -E2BIG;
			p->state = S_HEADERS;
			p->hlen = 0;
			p->name[0] = p->filename[0] = '\0';
			p->part = PART_NONE;
			break;
		case S_HEADERS:
			if (p->hlen + 1 >= sizeof(p->hdr))
				return -EMSGSIZE;
			p->hdr[p->hlen++] = c;
			if (c == '\0')
				return -EPROTO;
			if (c != '\n')
				break;
			if (p->hlen < 2 || p->hdr[p->hlen - 2] != '\r')
				return -EPROTO;
			p->hdr[p->hlen - 2] = '\0';
			if (p->hlen == 2) {
				r = begin_part(p);
				if (r < 0)
					return r;
				p->state = S_BODY;
				p->match = 0;
			} else {
				r = header_line(p, p->hdr);
				if (r < 0)
					return r;
			}
			p->hlen = 0;
			break;
		case S_EPILOGUE: return 0;
		}
	}
	if (p->state == S_BODY && run != SIZE_MAX)
		return emit(p, data + run, len - run);
	return 0;
}

int mp_finish(struct mp_parser *p)
{
	return p->state == S_EPILOGUE ? 0 : -EPROTO;
}
