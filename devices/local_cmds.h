/* Control commands for the box's own USB devices and SANE scanners (usb.*, scan.*). */
#ifndef MOTCUA_LOCAL_CMDS_H
#define MOTCUA_LOCAL_CMDS_H

struct control_ctx;

/* Answers usb.list, scan.list and scan.page (a page into the store via intake). */
int local_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
