/* The control protocol between motcuactl and motcuad over a UNIX stream socket.
 * A request is one JSON object on one line ({"cmd": ...}), optionally followed by exactly
 * "size" raw bytes (doc.put).  A reply is one JSON line {"ok": true, ...} or
 * {"ok": false, "error": "ENOSPC", "message": "..."}; doc.get's reply line is followed by
 * "size" raw bytes and a closing line {"ok": true, "sha256": ...}.
 * Who acts is never taken from the request: motcuad audits every change as "cli:<user>" of
 * the connected process's uid (SO_PEERCRED); an "actor" member sent by a client is replaced. */
#ifndef MOTCUA_CTLPROTO_H
#define MOTCUA_CTLPROTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CTL_REQUEST_MAX (16 * 1024)
#define CTL_REPLY_MAX (16 * 1024 * 1024)
#define CTL_BUF 65536

struct ctl_conn {
	int fd;
	size_t start, end;
	char buf[CTL_BUF];
};

void ctl_conn_init(struct ctl_conn *c, int fd);

/* Reads one line (at most max bytes) and parses it as a JSON object.  -EMSGSIZE when the
 * line is longer, -EPROTO when it is not a JSON object, -ECONNRESET at end of stream. */
int ctl_recv(struct ctl_conn *c, size_t max, json_t **ret);

/* Writes msg as one compact line.  Does not take ownership. */
int ctl_send(struct ctl_conn *c, json_t *msg);

/* Reads up to len raw bytes (returns fewer only at end of stream), draining the buffer first. */
ssize_t ctl_read(struct ctl_conn *c, void *buf, size_t len);

/* Writes raw bytes. */
int ctl_write(struct ctl_conn *c, const void *buf, size_t len);

/* Sends {"ok": false, "error": <errno name>, "message": msg}. */
int ctl_send_error(struct ctl_conn *c, int err, const char *msg);

/* "ENOSPC" for -ENOSPC and the like; "EIO" for unknown codes. */
const char *ctl_errno_name(int err);

#endif
