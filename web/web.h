/* The staff web page, the JSON API, /healthz and /metrics: an HTTP(S) server
 * (libmicrohttpd) owned by this part, on threads of its own.  The core knows it only
 * through these two calls. */
#ifndef MOTCUA_WEB_H
#define MOTCUA_WEB_H

#include "gateway/config.h"

struct web;
struct store;

/* Starts serving according to cfg's [web] keys (nothing when enabled = no: *ret is NULL).
 * Each server thread opens its own store connection.  -errno when the server cannot start
 * (the reason is logged). */
int web_start(struct store *s, const struct config *cfg, struct web **ret);

/* Stops taking connections, finishes the requests in hand and joins the threads.
 * Accepts NULL. */
void web_stop(struct web *w);

#endif
