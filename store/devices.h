/* Devices that registered over MQTT: their rows (pending -> approved -> active, or rejected,
 * revoked), presence, the link from a device's own document id to the stored document, and
 * the commands staff send to devices.  Every approval, rejection and revocation is audited in
 * the transaction that makes it. */
#ifndef MOTCUA_STORE_DEVICES_H
#define MOTCUA_STORE_DEVICES_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DEVICE_ID_MAX 24 /* "<kind>-<n>" */
#define DEVICE_SERIAL_MAX 64
#define DEVICE_KIND_MAX 16
#define DEVICE_MODEL_MAX 64
#define DEVICE_FIRMWARE_MAX 32
#define DEVICE_CAPS_MAX 256
#define DEVICE_CLIENT_MAX 64
#define DEVICE_STATE_MAX 12
#define DEVICE_REASON_MAX 256
#define DEVICE_CODE_LEN 6 /* digits of a pairing code */
#define DEVICE_CLAIMS_PER_SERIAL 8 /* other claimers of one serial kept for staff to choose from */

struct device {
	int64_t n;
	char id[DEVICE_ID_MAX];
	char serial[DEVICE_SERIAL_MAX];
	char kind[DEVICE_KIND_MAX];
	char model[DEVICE_MODEL_MAX];
	char firmware[DEVICE_FIRMWARE_MAX];
	char capabilities[DEVICE_CAPS_MAX]; /* JSON array text */
	char state[DEVICE_STATE_MAX]; /* pending approved active rejected revoked */
	char action[DEVICE_STATE_MAX]; /* work for the MQTT thread: "", approve, reject, revoke */
	char claim_client[DEVICE_CLIENT_MAX]; /* the claim id bound to it (see devices_hello) */
	char presence[DEVICE_STATE_MAX]; /* unknown online offline */
	int64_t last_seen; /* unix seconds of its last message, 0 never */
	char reason[DEVICE_REASON_MAX];
	char created_at[32];
	char updated_at[32];
	int conflicts; /* other claim ids that said hello with this serial, not adopted */
};

/* What a device says about itself in its hello (validated by the caller). */
struct device_hello {
	const char *kind;
	const char *model;
	const char *serial;
	const char *firmware;
	const char *capabilities; /* JSON array text */
};

/* 1 when kind is one of kiosk, id-scanner, doc-scanner, printer, display. */
int devices_kind_valid(const char *kind);
/* 1 when a device of that kind may hand over documents. */
int devices_kind_sends_docs(const char *kind);

/* Records a hello from claim id claim_client.  A claim id is bound to the first serial it
 * said hello with.  A new serial becomes a pending device bound to that claim id (or approved
 * at once when auto_approve is set, audited with actor); the bound claimer's hello refreshes
 * model, firmware and capabilities.  A hello for a known serial from another claim id is a
 * conflict: remembered (audited the first time) for staff to choose by pairing code, never
 * adopted.  *ret is the device row after the change.  Returns 1 for a new device, 0 for the
 * bound claimer of a known one, 2 for a conflict, -EXDEV when the claim id is bound to another
 * serial (named in bound_serial, bslen bytes, when not NULL), -errno on failure. */
int devices_hello(struct db *db, const struct device_hello *h, const char *claim_client, int auto_approve,
		  const char *actor, struct device *ret, char *bound_serial, size_t bslen);

/* The pairing code a device shows for its claim id (docs/mqtt.md 3): the first four bytes of
 * SHA-256("motcua-pairing-code:" + claim id), big-endian, modulo 10^6, as six digits. */
void devices_pairing_code(const char *claim_client, char out[DEVICE_CODE_LEN + 1]);

/* Reads one device by id ("kiosk-3") or by serial when id is not found. -ENOENT if none. */
int devices_get(struct db *db, const char *id, struct device *ret);

/* Calls fn for every device in registration order; fn < 0 stops and is returned. */
int devices_list(struct db *db, int (*fn)(void *ctx, const struct device *d), void *ctx);

/* Staff decisions: verb is "approve", "reject" or "revoke".  Checks that the device's state
 * allows it (-EEXIST when it is already in that state, -EACCES when not allowed, with a
 * message in why), sets the new state and the action for the MQTT thread, and appends an
 * audit row in the same transaction.  Approval needs the pairing code the physical device
 * shows (code; -ENOKEY when empty, -EKEYREJECTED when no claimer of the serial has it): the
 * device is bound to that claimer (audited device.rebind when it was another one) and the
 * serial's other claimers are forgotten.  code is ignored for reject and revoke.  *ret is
 * the row after the change. */
int devices_decide(struct db *db, const char *id, const char *verb, const char *actor, const char *reason,
		   const char *code, struct device *ret, char *why, size_t whylen);

/* Calls fn for each device with an action waiting. */
int devices_with_action(struct db *db, int (*fn)(void *ctx, const struct device *d), void *ctx);

/* Clears the device's action if it is still `action` (a newer decision is kept). */
int devices_action_done(struct db *db, const char *id, const char *action);

/* An approved device showed up with its own credentials: approved -> active (audited). */
int devices_mark_active(struct db *db, const char *id);

/* Presence: sets presence ("online"/"offline"/NULL to keep) and last_seen for one device.
 * Callers batch several inside db_begin/db_commit. */
int devices_set_presence(struct db *db, const char *id, const char *presence, int64_t last_seen);

/* Links a device's document id to the stored document (idempotent). */
int devices_doc_link(struct db *db, const char *device, const char *device_doc_id, const char *doc_id,
		     const char *session);

/* Commands to devices. */
struct device_cmd {
	int64_t id;
	char device[DEVICE_ID_MAX];
	char cmd[16]; /* print display ping */
	char body[1024]; /* JSON object text */
	char state[12]; /* queued sent done failed */
	char result[DEVICE_REASON_MAX];
};
int devices_cmd_queue(struct db *db, const char *device, const char *cmd, const char *body, int64_t *ret_id);
int devices_cmd_get(struct db *db, int64_t id, struct device_cmd *ret);
/* Calls fn for up to limit queued commands, oldest first. */
int devices_cmd_queued(struct db *db, int limit, int (*fn)(void *ctx, const struct device_cmd *c), void *ctx);
/* Moves a command to state (sent, done, failed) with result text; only forward moves. */
int devices_cmd_set(struct db *db, int64_t id, const char *state, const char *result);

#endif
