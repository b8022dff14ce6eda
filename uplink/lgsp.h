/* The LGSP answers as the uplink reads them (docs/lgsp.md): upload state, receipts, error
 * bodies, Retry-After, and what the client does with each answer.  Pure functions over
 * hostile bytes (no libcurl here), so they are unit-tested and fuzzed alone. */
#ifndef MOTCUA_LGSP_H
#define MOTCUA_LGSP_H

#include <stddef.h>
#include <stdint.h>

#define LGSP_ANSWER_MAX (64 * 1024) /* answers over this are an error (docs/lgsp.md 10) */
#define LGSP_UPLOAD_ID_MAX 64
#define LGSP_TOKEN_MAX 512
#define LGSP_KEY_MAX 128

struct lgsp_upload {
	char upload_id[LGSP_UPLOAD_ID_MAX];
	int64_t size;
	int64_t offset;
	int64_t chunk_max; /* 0 when the answer had none */
	int complete; /* state "complete" */
};

struct lgsp_receipt {
	char receipt_id[65];
	char time[41];
	char hash[65];
};

struct lgsp_error {
	char error[64]; /* machine code, "" when the body had none */
	char field[128];
	char reason[256];
	int has_offset;
	int64_t offset;
};

/* What the client does with an answer (docs/lgsp.md section 3). */
enum lgsp_action {
	LGSP_OK = 0, /* 2xx: read the body */
	LGSP_RETRY, /* 408, 429, 5xx: back off and retry (honour Retry-After) */
	LGSP_REAUTH, /* 401 invalid_token: new token, repeat once */
	LGSP_RESYNC, /* 409 offset_mismatch / upload_incomplete: continue at the server's offset */
	LGSP_BUSY, /* 409 request_in_progress: retry after a short delay */
	LGSP_UNKNOWN_UPLOAD, /* 404 unknown_upload: create the upload again (next generation) */
	LGSP_HASH_MISMATCH, /* 422 hash_mismatch on finish */
	LGSP_STOP, /* 403, 401 invalid_client: configuration; stop and alert the admin */
	LGSP_REJECT, /* any other 4xx: the item goes to rejected with the reason */
};

/* Parses an upload answer (create, GET, finish).  0, or -EPROTO when it is not a valid one. */
int lgsp_parse_upload(const char *body, size_t len, struct lgsp_upload *ret);

/* Parses and checks a submission answer: a receipt for idem_key whose hash is sent_sha256
 * (SHA-256 hex of the body that was sent).  0; -EPROTO when it is not a receipt; -EBADMSG when
 * it is a receipt for other bytes or another key (treated like a network error). */
int lgsp_parse_receipt(const char *body, size_t len, const char *idem_key, const char *sent_sha256,
		       struct lgsp_receipt *ret);

/* Parses an error body; fields absent or malformed stay empty.  Always fills ret. */
void lgsp_parse_error(const char *body, size_t len, struct lgsp_error *ret);

/* Parses a token answer: access token (checked charset and length) and its lifetime.
 * 0 or -EPROTO. */
int lgsp_parse_token(const char *body, size_t len, char token[LGSP_TOKEN_MAX + 1], int64_t *ret_expires_in);

/* Retry-After as seconds (0..86400); -EINVAL for anything else (the HTTP-date form
 * included, which the contract does not use). */
int lgsp_retry_after(const char *value, int64_t *ret_seconds);

/* A decimal Upload-Offset header value; -EINVAL when malformed. */
int lgsp_parse_offset(const char *value, int64_t *ret);

/* The action for HTTP status with the answer's error code ("" when none); on_token is set
 * for the token endpoint. */
enum lgsp_action lgsp_classify(long status, const char *error, int on_token);

/* The wire Idempotency-Key for an outbox key: the key itself when it is 8..128 allowed
 * characters, padded with '~' (never in intake keys, so no collision) when shorter.
 * 0 or -EINVAL. */
int lgsp_wire_key(const char *idem_key, char out[LGSP_KEY_MAX + 1]);

/* SHA-256 of data as 64 lower-case hex digits. */
void lgsp_sha256_hex(const void *data, size_t len, char out[65]);

/* One line for staff from a refusal: "HTTP 422 invalid_field (size): reason". */
void lgsp_reason(long status, const struct lgsp_error *e, char *out, size_t size);

#endif
