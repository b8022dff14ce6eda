/* motcuactl users ...: staff accounts for the web page. */
#ifndef MOTCUA_CTL_USERS_H
#define MOTCUA_CTL_USERS_H

#include <stdio.h>

struct ctl_conn;

void ctl_users_usage(FILE *f);
/* Runs "users SUB ..." (av[0] is "users"); returns the exit status. */
int ctl_users_main(struct ctl_conn *conn, int json_out, int ac, char **av);

#endif
