/* Reading an ID card's chip for staff (CLI, web, kiosk): runs motcua-chip once, stores the
 * face as an encrypted document and the result (source "chip", cross-checked against the
 * recognised card) through store/chipreads.c.  motcuad touches only the worker's JSON. */
#ifndef MOTCUA_CHIP_SERVICE_H
#define MOTCUA_CHIP_SERVICE_H

#include <jansson.h>

struct store;
struct db;
struct config;

/* Reads the card on the reader with the BAC key from mrz (three TD1 lines separated by ','
 * or newlines) or, when mrz is NULL, from the recognition result of document doc_id (the
 * back of an ID card; its fields are then cross-checked against the chip's).  Blocks until
 * the read ends (cfg->chip_wait_s for a card, then the read).  Returns 0 with *ret: {"ok",
 * "message" (Vietnamese, for staff), and when read: "read_id", "verified", "passed",
 * "failed", "fields", "differences", "face_doc_id"; when not: "error"}.  -EINVAL (with a
 * Vietnamese why) when neither an MRZ nor a recognised document gives the key; -errno on a
 * store failure. */
int chip_read_card(struct store *s, struct db *db, const struct config *cfg, const char *mrz,
		   const char *doc_id, const char *actor, json_t **ret, char *why, size_t whylen);

/* The control commands "chip.read" {mrz | doc} and "chip.show" {id}. */
struct control_ctx;
int chip_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
