/* The MQTT device edge of motcuad: one thread with its own broker connection and its own
 * store connection.  It registers devices (claim, hello, staff approval, dynamic-security
 * accounts), tracks their presence, takes their documents through intake_document and
 * answers each on the device's ack topic after the commit, and delivers staff commands.
 * The core knows it only through this header (no MQTT library types). */
#ifndef MOTCUA_DEVICES_H
#define MOTCUA_DEVICES_H

#include "gateway/config.h"

struct devices;
struct store;

/* Starts the device thread when cfg->mqtt_host is set (otherwise *ret is NULL and 0 is
 * returned).  The thread keeps reconnecting to the broker on its own; failures to reach it
 * are logged once per change, never fatal. */
int devices_start(struct store *s, const struct config *cfg, struct devices **ret);

/* Publishes the gateway's offline status, disconnects, joins the thread.  Accepts NULL. */
void devices_stop(struct devices *d);

/* Control commands devices.* (devices/control.c), called by the control dispatcher. */
struct control_ctx;
int devices_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
