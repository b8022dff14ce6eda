/* motcuactl recognize: runs the recognition worker directly (no daemon) on files. */
#ifndef MOTCUA_CTL_RECOGNIZE_H
#define MOTCUA_CTL_RECOGNIZE_H

#include <stdio.h>

void ctl_recognize_usage(FILE *f);
/* argv[0] is "recognize".  Prints one JSON object per file, one per line, in order.
 * Returns the exit status: 0 when every file gave a result without "error", 1 otherwise,
 * 2 on usage errors. */
int ctl_recognize_main(int argc, char **argv);

#endif
