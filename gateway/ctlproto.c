/* Line-framed JSON with raw byte bodies over a UNIX socket; used by motcuad and motcuactl. */
#include "gateway/ctlproto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/fsutil.h"

void ctl_conn_init(struct ctl_conn *c, int fd)
{
	c->fd = fd;
	c->start = c->end = 0;
}

static int fill(struct ctl_conn *c)
{
	if (c->start > 0) {
		memmove(c->buf, c->buf + c->start, c->end - c->start);
		c->end -= c->start;
		c->start = 0;
	}
	for (;;) {
		ssize_t n = read(c->fd, c->buf + c->end, sizeof(c->buf) - c->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			return -ECONNRESET;
		c->end += (size_t)n;
		return 0;
	}
}

int ctl_recv(struct ctl_conn *c, size_t max, json_t **ret)
{
	char *line = NULL, *nl;
	size_t len = 0, cap = 0;
	int r;

	for (;;) {
		nl = memchr(c->buf + c->start, '\n', c->end - c->start);
		size_t take = nl ? (size_t)(nl - (c->buf + c->start)) : c->end - c->start;
		if (len + take > max) {
			r = -EMSGSIZE;
			goto out;
		}
		if (len + take + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			while (ncap < len + take + 1)
				ncap *= 2;
			char *n = realloc(line, ncap);
			if (!n) {
				r = -ENOMEM;
				goto out;
			}
			line = n;
			cap = ncap;
		}
		memcpy(line + len, c->buf + c->start, take);
		len += take;
		c->start += take + (nl ? 1 : 0);
		if (nl)
			break;
		r = fill(c);
		if (r < 0)
			goto out;
	}
	json_error_t jerr;
	json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		r = -EPROTO;
		goto out;
	}
	*ret = j;
	r = 0;
out:
	free(line);
	return r;
}

int ctl_send(struct ctl_conn *c, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	int r;
	if (!text)
		return -ENOMEM;
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the NUL: json_dumps's buffer is ours until free */
	r = fs_write_all(c->fd, text, n + 1);
	free(text);
	return r;
}

ssize_t ctl_read(struct ctl_conn *c, void *buf, size_t len)
{
	size_t got = 0;
	if (c->end > c->start) {
		size_t n = c->end - c->start;
		if (n > len)
			n = len;
		memcpy(buf, c->buf + c->start, n);
		c->start += n;
		got = n;
	}
	while (got < len) {
		ssize_t n = read(c->fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int ctl_write(struct ctl_conn *c, const void *buf, size_t len)
{
	return fs_write_all(c->fd, buf, len);
}

const char *ctl_errno_name(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOSPC: return "ENOSPC";
	case EMSGSIZE: return "EMSGSIZE";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EBADMSG: return "EBADMSG";
	case EEXIST: return "EEXIST";
	case EPROTO: return "EPROTO";
	case ENOMEM: return "ENOMEM";
	case EBUSY: return "EBUSY";
	case EACCES: return "EACCES";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNRESET: return "ECONNRESET";
	case EMEDIUMTYPE: return "EMEDIUMTYPE";
	case ESHUTDOWN: return "ESHUTDOWN";
	case ESTALE: return "ESTALE";
	case ENOKEY: return "ENOKEY";
	case EKEYREJECTED: return "EKEYREJECTED";
	default: return "EIO";
	}
}

int ctl_send_error(struct ctl_conn *c, int err, const char *msg)
{
	json_t *j = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", ctl_errno_name(err), "message", msg);
	int r;
	if (!j)
		return -ENOMEM;
	r = ctl_send(c, j);
	json_decref(j);
	return r;
}
