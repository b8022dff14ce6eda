/* motcuactl chip: reading an ID card's chip through motcuad (docs/chip.md). */
#ifndef MOTCUA_CTL_CHIP_H
#define MOTCUA_CTL_CHIP_H

#include <stdio.h>

void ctl_chip_usage(FILE *f);
/* argv[0] is "chip".  Returns the exit status. */
int ctl_chip_main(const char *sock, int json_out, int argc, char **argv);

#endif
