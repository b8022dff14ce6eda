/* Escaping what motcuactl prints for a terminal (see termsafe.h). */
#include "tools/termsafe.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static size_t put_hex(unsigned char b, char *out, size_t room)
{
	static const char d[] = "0123456789abcdef";
	if (room < 4)
		return 0;
	out[0] = '\\', out[1] = 'x', out[2] = d[b >> 4], out[3] = d[b & 15];
	return 4;
}

/* Whether the code point of a complete UTF-8 sequence may reach a terminal as it is. */
static int allowed(const unsigned char *s, size_t n)
{
	uint32_t cp = n == 2 ? (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f)
	    : n == 3         ? (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f)
			     : (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		(uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0; /* overlong or out of range */
	if (cp >= 0x80 && cp < 0xa0)
		return 0; /* C1 controls (CSI is U+009B) */
	if (cp >= 0xd800 && cp < 0xe000)
		return 0; /* surrogates */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0; /* bidirectional overrides and isolates */
	return 1;
}

size_t termsafe_escape(struct termsafe_state *st, const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	if (outlen == 0)
		return 0;
	outlen--; /* room for the NUL */
	if (!in) {
		for (size_t k = 0; k < st->npend; k++)
			o += put_hex(st->pend[k], out + o, outlen - o);
		st->npend = st->need = 0;
		out[o] = 0;
		return o;
	}
	for (size_t i = 0; i < len && outlen - o >= 16; i++) {
		unsigned char b = (unsigned char)in[i];
		if (st->need) {
			if ((b & 0xc0) == 0x80) {
				st->pend[st->npend++] = b;
				if (st->npend < st->need)
					continue;
				if (allowed(st->pend, st->npend)) {
					memcpy(out + o, st->pend, st->npend);
					o += st->npend;
				} else {
					for (size_t k = 0; k < st->npend; k++)
						o += put_hex(st->pend[k], out + o, outlen - o);
				}
				st->npend = st->need = 0;
				continue;
			}
			/* Cut short: the bytes so far are escaped, b is looked at afresh. */
			for (size_t k = 0; k < st->npend; k++)
				o += put_hex(st->pend[k], out + o, outlen - o);
			st->npend = st->need = 0;
		}
		if (b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7f)) {
			out[o++] = (char)b;
		} else if (b >= 0xc2 && b <= 0xf4) {
			st->pend[0] = b;
			st->npend = 1;
			st->need = b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
		} else {
			o += put_hex(b, out + o, outlen - o); /* C0, ESC, DEL, stray or invalid bytes */
		}
	}
	out[o] = 0;
	return o;
}

struct sink {
	int fd;
	struct termsafe_state st;
};

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t len)
{
	struct sink *s = cookie;
	char out[4096 + 64];
	size_t done = 0;
	while (done < len) {
		/* At most 256 input bytes per round: each becomes at most 4 output bytes. */
		size_t take = len - done < 256 ? len - done : 256;
		size_t n = termsafe_escape(&s->st, buf + done, take, out, sizeof(out));
		if (write_all(s->fd, out, n) < 0)
			return done ? (ssize_t)done : -1;
		done += take;
	}
	return (ssize_t)len;
}

static int sink_close(void *cookie)
{
	struct sink *s = cookie;
	char out[32];
	size_t n = termsafe_escape(&s->st, NULL, 0, out, sizeof(out));
	int r = n ? write_all(s->fd, out, n) : 0;
	return r;
}

int termsafe_wrap(FILE **stream, int fd)
{
	static struct sink sinks[2];
	static int used;
	if (used >= 2)
		return -ENOSPC;
	struct sink *s = &sinks[used];
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	cookie_io_functions_t io = { .write = sink_write, .close = sink_close };
	fflush(*stream);
	FILE *f = fopencookie(s, "w", io);
	if (!f)
		return -errno;
	/* Line buffered like a terminal's stdout; a partial UTF-8 sequence waits in the state. */
	setvbuf(f, NULL, _IOLBF, 0);
	used++;
	*stream = f;
	return 0;
}
