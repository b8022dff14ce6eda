/* motcuactl ask: the assistant's answer as text. */
#include "tools/ctl_ask.h"

#include <stdio.h>

void ctl_ask_print(json_t *a)
{
	json_dumpf(a, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
}

int ctl_ask_offline(int json_out, int argc, char **argv, const char *catalogue)
{
	fprintf(stderr, "motcuactl: offline answers are not built yet\n");
	return 2;
}
