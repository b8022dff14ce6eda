/* Parsers of what devices send (hostile bytes): topics, the hello JSON, a document's user
 * properties and command acks.  No MQTT library here, so the fuzzer links this file alone. */
#ifndef MOTCUA_DEVICES_PROTO_H
#define MOTCUA_DEVICES_PROTO_H

#include <stddef.h>

#include "store/devices.h"

#define TOPIC_ROOT "motcua/v1"
#define PROTO_HELLO_MAX 4096 /* bytes of a hello */
#define PROTO_CTRL_MAX 4096 /* bytes of any other JSON message from a device */
#define PROTO_DOC_ID_MAX 41 /* a device's document id: 1-40 of [A-Za-z0-9._-] */
#define PROTO_SESSION_MAX 65 /* dossier or session: 0-64 of [A-Za-z0-9._:-] */
#define PROTO_PROPS_MAX 16 /* user properties on one document */

struct proto_hello {
	char kind[DEVICE_KIND_MAX];
	char model[DEVICE_MODEL_MAX];
	char serial[DEVICE_SERIAL_MAX];
	char firmware[DEVICE_FIRMWARE_MAX];
	char capabilities[DEVICE_CAPS_MAX]; /* compact JSON array of tokens */
};

/* Parses and validates a hello: {"kind","model","serial","firmware","capabilities":[...]}.
 * Returns 0, or -EINVAL/-EMSGSIZE with a message naming the field in why. */
int proto_hello_parse(const void *buf, size_t len, struct proto_hello *ret, char *why, size_t whylen);

struct proto_doc {
	char doc_id[PROTO_DOC_ID_MAX];
	char sha256[65];
	char content_type[32];
	char kind[24];
	char session[PROTO_SESSION_MAX];
};

/* Reads a document's user properties (n name/value pairs): doc-id, sha256, content-type,
 * kind (id-front, id-back, page, original-for-copy) and session (optional).  Unknown names
 * are ignored; a repeated or missing one is an error.  Returns 0 or -EINVAL with why. */
int proto_doc_props(const char *const *names, const char *const *values, size_t n, struct proto_doc *ret,
		    char *why, size_t whylen);

/* A command ack from a device: {"cmd_id": N, "result": "done"|"failed", "reason": "..."}. */
struct proto_cmd_ack {
	long long cmd_id;
	int ok;
	char reason[DEVICE_REASON_MAX];
};
int proto_cmd_ack_parse(const void *buf, size_t len, struct proto_cmd_ack *ret);

/* A kiosk's ticket request (dev/<id>/queue/take): {"req_id": "...", "service": "A",
 * "print": "kiosk"|"box"|"none"}.  req_id is 1-40 of [A-Za-z0-9._-], service one letter,
 * print defaults to "kiosk".  Returns 0 or -EINVAL/-EMSGSIZE with a message in why. */
struct proto_queue_take {
	char req_id[PROTO_DOC_ID_MAX];
	char service[2];
	char print[8];
};
int proto_queue_take_parse(const void *buf, size_t len, struct proto_queue_take *ret, char *why,
			   size_t whylen);

/* A kiosk's dossier request (dev/<id>/dossier/open and /submit, docs/mqtt.md 6c): a JSON
 * object with "req_id" (1-62 of [A-Za-z0-9._-]); open reads "procedure" and the applicant
 * ("id_card" or "name" and "id_number"), submit the integer "dossier".  The strings borrow
 * from req->json, which proto_dossier_req_done frees; each is NULL when absent, not a string
 * or 256 bytes or more (the service checks what it needs). */
#define PROTO_REQ_ID_MAX 64
struct proto_dossier_req {
	char req_id[PROTO_REQ_ID_MAX]; /* "" when missing or malformed */
	const char *procedure, *id_card, *name, *id_number;
	int has_dossier; /* "dossier" is a JSON integer */
	long long dossier;
	struct json_t *json;
};

/* Parses a dossier request of len bytes.  Always fills req (unlike other parsers: a refusal
 * still quotes the req_id when it could be read).  0; -EMSGSIZE over PROTO_CTRL_MAX bytes;
 * -EINVAL when not a JSON object with a valid req_id.  Call proto_dossier_req_done after
 * either. */
int proto_dossier_req_parse(const void *buf, size_t len, struct proto_dossier_req *req);
void proto_dossier_req_done(struct proto_dossier_req *req);

/* A document's session "dossier:<number>:<item>" (the scan belongs to that dossier's item).
 * 0 when the session is not a dossier's (no "dossier:" prefix); 1 with *ret_n and item
 * (itemlen bytes) filled; -EINVAL when malformed or the item does not fit, with *ret_n the
 * number read so far (the refusal names it) and item untouched. */
int proto_dossier_session(const char *session, long long *ret_n, char *item, size_t itemlen);

/* A status from a device: {"state": "online"|"offline", ...}.  Sets *ret_online. */
int proto_status_parse(const void *buf, size_t len, int *ret_online);

/* Splits "motcua/v1/dev/<id>/<rest>" (id: a device id) or "motcua/v1/provision/<client>/hello".
 * Returns 1 for a device topic (dev, rest filled), 2 for a hello (dev holds the client id),
 * 0 for anything else. */
int proto_topic(const char *topic, char *dev, size_t devlen, const char **ret_rest);

/* 1 when s is 1..max-1 chars of [A-Za-z0-9] and the extra characters in `extra`. */
int proto_token(const char *s, size_t max, const char *extra);

#endif
