/* motcuactl store ...: the store check (and the store's other upkeep commands). */
#ifndef MOTCUA_CTL_STORE_H
#define MOTCUA_CTL_STORE_H

#include <stdio.h>

struct ctl_conn;

void ctl_store_usage(FILE *f);
/* Runs "store SUB ..." (av[0] is "store"); returns the exit status. */
int ctl_store_main(struct ctl_conn *conn, int json_out, int ac, char **av);

#endif
