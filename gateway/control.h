/* The control socket: motcuactl's way into the running daemon.  A fixed pool of worker
 * threads, each with its own store connection, serves one request per connection. */
#ifndef MOTCUA_CONTROL_H
#define MOTCUA_CONTROL_H

#include <jansson.h>

#include "gateway/config.h"

struct control;
struct store;

/* Binds the socket at cfg->control_socket (mode 0660, group control_group when set).
 * A stale socket file is replaced; a live daemon on it gives -EADDRINUSE. */
int control_open(const struct config *cfg, int *ret_fd);

/* Starts cfg->control_workers threads serving listen_fd.  Takes ownership of listen_fd. */
int control_start(int listen_fd, struct store *s, const struct config *cfg, struct control **ret);

/* Stops taking connections, lets each worker finish the request in hand (its commit
 * included), joins them, closes and removes the socket.  Accepts NULL. */
void control_stop(struct control *c);

/* The request handlers (control_cmds.c): one request per call; replies on c. */
struct ctl_conn;
struct db;
#define CONTROL_ACTOR_MAX 48
struct control_ctx {
	struct ctl_conn *conn;
	struct db *db;
	struct store *store;
	/* Who asked, for the audit chain: "cli:<user name>" of the connected process's uid
	 * (SO_PEERCRED).  The request's own "actor" member is replaced by this before dispatch.
	 * The web never comes through here: it calls the core in-process with its session's
	 * "web:<user>". */
	const char *actor;
};
int control_dispatch(struct control_ctx *x, const char *cmd, void *req_json);

/* Helpers for every command table (gateway/, devices/): */
/* Sends j with "ok": true and frees it (takes ownership; NULL answers "out of memory"). */
int control_reply(struct control_ctx *x, json_t *j);
/* Sends {"ok": false, "error": <errno name>, "message": why} and returns err. */
int control_fail(struct control_ctx *x, int err, const char *why);
int control_failf(struct control_ctx *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The string at key in a request, or dflt when absent or not a string. */
const char *control_str(json_t *req, const char *key, const char *dflt);

#endif
