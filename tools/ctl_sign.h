/* motcuactl's commands for certified copies and keys: copy issue/show/verify, seal verify,
 * keys init/trustlist.  Verification and keys init work without a running motcuad. */
#ifndef MOTCUA_CTL_SIGN_H
#define MOTCUA_CTL_SIGN_H

#include <stdio.h>

/* Runs "copy ...", "seal ..." or "keys ..." (argv[0] is the word), connecting to motcuad at
 * sock only when the command needs it.  Returns the exit status (2 for a usage error). */
int ctl_sign_main(const char *sock, int json_out, int argc, char **argv);

/* The usage lines of these commands. */
void ctl_sign_usage(FILE *f);

#endif
