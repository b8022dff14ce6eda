/* Control commands queue.* for motcuactl (and the JSON shape of a ticket, which the web
 * page and the device edge reuse). */
#ifndef MOTCUA_QUEUE_CMDS_H
#define MOTCUA_QUEUE_CMDS_H

#include <jansson.h>

#include "gateway/config.h"
#include "store/queue.h"

struct control_ctx;

/* Answers one queue.* request (take, counter, status, list, events, report). */
int queue_control(struct control_ctx *x, const char *cmd, void *req_json);

/* A ticket as JSON: id, day, code, service, service_name, state, counter, calls, ahead,
 * times in ms, source and qr (the text of its QR code).  New reference, NULL on ENOMEM. */
json_t *queue_ticket_json(const struct config *cfg, const struct queue_ticket *t);

#endif
