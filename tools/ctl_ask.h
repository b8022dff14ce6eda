/* motcuactl ask: printing an assistant's answer, and answering offline from a catalogue. */
#ifndef MOTCUA_CTL_ASK_H
#define MOTCUA_CTL_ASK_H

#include <jansson.h>

void ctl_ask_print(json_t *answer);
/* argv[0] is the catalogue path; then QUESTION, or --eval TSV. */
int ctl_ask_offline(int json_out, int argc, char **argv, const char *catalogue);

#endif
