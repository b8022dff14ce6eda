/* motcuactl backup, backup verify, restore: the store copied to a directory (a USB disk) and
 * back, run by IT staff or the nightly timer; they read the state directory directly. */
#ifndef MOTCUA_CTL_BACKUP_H
#define MOTCUA_CTL_BACKUP_H

#include <stdio.h>

struct config;

void ctl_backup_usage(FILE *f);
/* Runs "backup [DIR]", "backup verify DIR" or "restore DIR" (av[0] is the verb) with the
 * configuration cfg; sock is motcuad's socket, told of a finished backup when it answers. */
int ctl_backup_main(const struct config *cfg, const char *sock, int json_out, int ac, char **av);

#endif
