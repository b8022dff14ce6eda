/* motcuactl's "users" commands on the control socket (users.add, users.passwd,
 * users.disable, users.enable, users.list). */
#ifndef MOTCUA_USERS_CMDS_H
#define MOTCUA_USERS_CMDS_H

#include "gateway/control.h"

/* Answers one users.* request on x; returns 0 or the -errno it replied with. */
int users_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
