/* Control commands store.* (motcuactl store check, later backup and orphans). */
#ifndef MOTCUA_STORE_CMDS_H
#define MOTCUA_STORE_CMDS_H

struct control_ctx;

/* Answers one store.* request. */
int store_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
