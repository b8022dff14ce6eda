/* Control commands dossier.*, ask and feedback.* (motcuactl dossier/ask/feedback), and the
 * JSON shape of a dossier that the web page and the device edge reuse. */
#ifndef MOTCUA_DOSSIER_CMDS_H
#define MOTCUA_DOSSIER_CMDS_H

#include <jansson.h>

struct control_ctx;
struct db;
struct dossier_row;

/* Answers one dossier.* / ask / feedback.* request. */
int dossier_control(struct control_ctx *x, const char *cmd, void *req_json);

/* A dossier as JSON: its row, procedure name/fee/time/service, items attached, missing
 * items, flag (overdue, near_due, "").  with_items adds items and missing (reads the db).
 * New reference or NULL. */
json_t *dossier_json(struct db *db, const struct dossier_row *d, int with_items);

#endif
