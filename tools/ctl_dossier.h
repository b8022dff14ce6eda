/* motcuactl's dossier, ask and feedback commands. */
#ifndef MOTCUA_CTL_DOSSIER_H
#define MOTCUA_CTL_DOSSIER_H

#include <stdio.h>

/* Runs "dossier ...", "ask ..." or "feedback ..." (argv[0] is the word) against the daemon
 * at sock (ask --catalogue answers offline); returns the exit status (2: usage error). */
int ctl_dossier_main(const char *sock, int json_out, int argc, char **argv);

void ctl_dossier_usage(FILE *f);

#endif
