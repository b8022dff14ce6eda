/* motcuactl's commands for the queue and the local devices: queue ..., scan ..., usb ... */
#ifndef MOTCUA_CTL_LOCAL_H
#define MOTCUA_CTL_LOCAL_H

#include <stdio.h>

struct ctl_conn;

/* Runs "queue ...", "scan ..." or "usb ..." (argv[0] is the word); returns the exit status
 * (2 for a usage error). */
int ctl_local_main(struct ctl_conn *conn, int json_out, int argc, char **argv);

/* The usage lines of these commands. */
void ctl_local_usage(FILE *f);

#endif
