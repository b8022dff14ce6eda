/* A document's recognition as staff see it (web page, motcuactl doc show) and their
 * corrections: the recognised result is kept as the worker gave it; a correction is a new
 * whole result stored beside it, audited with the names of the fields it changed. */
#ifndef MOTCUA_RECOG_VIEW_H
#define MOTCUA_RECOG_VIEW_H

#include <jansson.h>
#include <stddef.h>

struct store;
struct db;

/* The fields of the output contract (docs/recognize.md) that staff may correct. */
extern const char *const recog_fields[];
extern const size_t recog_nfields;

/* {"doc_id", "state", "type", "confidence", "needs_review", "attempts", "updated_at",
 *  "result": the recognised JSON (absent until done),
 *  "correction": {"actor", "at", "result": the corrected JSON} (absent when none),
 *  "current": the correction's result, else the recognised one}.
 * -ENOENT when the document has no recognition row.  *ret is a new reference. */
int recog_view(struct store *s, struct db *db, const char *doc_id, json_t **ret);

/* Applies staff edits to the current result of doc_id: edits maps field names of
 * recog_fields (and "type") to strings, "" removing the field.  Each value is checked
 * (dates YYYY-MM-DD, sex M or F, id numbers of digits, text without control characters, at
 * most 200 bytes).  The corrected result has needs_review false and names the correction.
 * Returns 0, 1 when nothing changed, or -errno with a message naming the field in why. */
int recog_correct_fields(struct store *s, struct db *db, const char *doc_id, json_t *edits, const char *actor,
			 char *why, size_t whylen);

/* Answers the control request recognize.show {"id"}. */
struct control_ctx;
int recog_view_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
