/* Parsers of the outside bytes motcua-lgsp-sim reads: request paths, headers, form bodies and
 * the JSON of uploads and submissions.  Pure functions, no I/O: tests/fuzz/sim_fuzz_parse.c
 * feeds them hostile bytes. */
#ifndef MOTCUA_LGSP_SIM_PARSE_H
#define MOTCUA_LGSP_SIM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define SIM_ID_MAX 72 /* longest path argument (upload id, dossier code, kind) + NUL */
#define SIM_KEY_MIN 8 /* Idempotency-Key length limits */
#define SIM_KEY_MAX 128
#define SIM_TOKEN_MAX 512 /* longest bearer token accepted */
#define SIM_BLOB_REFS_MAX 64 /* blobs one submission may reference */
#define SIM_CTYPE_MAX 128

enum sim_route_kind {
	ROUTE_TOKEN = 1, /* POST /lgsp/v1/oauth/token */
	ROUTE_PING, /* GET  /lgsp/v1/ping */
	ROUTE_UPLOAD_CREATE, /* POST /lgsp/v1/uploads */
	ROUTE_UPLOAD_PATCH, /* PATCH /lgsp/v1/uploads/{id} */
	ROUTE_UPLOAD_QUERY, /* HEAD|GET /lgsp/v1/uploads/{id} */
	ROUTE_UPLOAD_FINISH, /* POST /lgsp/v1/uploads/{id}/finish */
	ROUTE_SUBMIT, /* POST /lgsp/v1/submissions/{kind} */
	ROUTE_STATUS_PULL, /* GET  /lgsp/v1/dossiers/status */
	ROUTE_STATUS_ONE, /* GET  /lgsp/v1/dossiers/{code}/status */
	ROUTE_SIM_STATS, /* GET  /_sim/stats */
	ROUTE_SIM_SET_STATUS, /* POST /_sim/dossiers/{code}/status */
};

struct sim_route {
	enum sim_route_kind kind;
	int has_body; /* the route takes a request body */
	char arg[SIM_ID_MAX]; /* upload id, submission kind or dossier code, validated */
};

/* Maps method and path (no query string) to a route.  Returns 0, -ENOENT for an unknown path,
 * -EOPNOTSUPP for a known path with the wrong method, -EINVAL for a malformed path argument. */
int sim_route_parse(const char *method, const char *url, struct sim_route *ret);

/* 0 when key is a valid Idempotency-Key: SIM_KEY_MIN..SIM_KEY_MAX of [A-Za-z0-9._:~-]. */
int sim_idem_key_check(const char *key);
/* 0 when s is "up_" followed by 24 lower-case hex digits. */
int sim_upload_id_check(const char *s);
/* 0 when s is 64 lower-case hex digits. */
int sim_hex64_check(const char *s);
/* 0 when s is a dossier code: 1..64 of [A-Za-z0-9.-]. */
int sim_dossier_code_check(const char *s);
/* 0 when s names a submission kind (documents, dossiers, certified-copies, audit-batches,
 * queue-stats). */
int sim_kind_check(const char *s);

/* Strict unsigned decimal: digits only, no sign or spaces, at most max.  -EINVAL or -ERANGE. */
int sim_parse_u64(const char *s, uint64_t max, uint64_t *ret);

/* Finds field name in an application/x-www-form-urlencoded body and decodes it into out.
 * Returns the decoded length, -ENOENT when absent, -EINVAL when malformed or given twice,
 * -ENAMETOOLONG when it does not fit out. */
int sim_form_get(const char *body, size_t len, const char *name, char *out, size_t outsz);

/* Extracts the token from an "Authorization: Bearer <token>" value.  -EINVAL if not one. */
int sim_bearer_parse(const char *authz, char *out, size_t outsz);

/* What a failed check reports back to the client: a stable code, the field and a reason. */
struct sim_err {
	int status; /* HTTP status to answer with */
	char code[40]; /* e.g. "invalid_field" */
	char field[64]; /* JSON path of the bad field, or "" */
	char reason[160];
};

struct sim_blob_ref {
	char sha256[65];
	int64_t size;
};

/* Checks the JSON body of POST /uploads: {"size", "sha256", "content_type"?}.  size must be
 * 1..blob_max.  Returns 0 or -EINVAL with *err filled. */
int sim_upload_create_check(const char *body, size_t len, int64_t blob_max, int64_t *ret_size,
			    char ret_sha[65], char ret_ctype[SIM_CTYPE_MAX], struct sim_err *err);

/* Checks the JSON body of a submission of the given kind (common envelope plus the kind's
 * required fields) and collects the blobs it references.  Returns 0 or -EINVAL with *err
 * filled.  ret_dossier gets the dossier code for kind "dossiers" (else ""). */
int sim_submission_check(const char *kind, const char *body, size_t len,
			 struct sim_blob_ref refs[SIM_BLOB_REFS_MAX], int *ret_nrefs,
			 char ret_dossier[SIM_ID_MAX], struct sim_err *err);

/* Checks the body of POST /_sim/dossiers/{code}/status: {"status", "status_text"?}. */
int sim_status_set_check(const char *body, size_t len, char ret_status[32], char ret_text[256],
			 struct sim_err *err);

/* 0 when s is one of the dossier statuses of docs/lgsp.md. */
int sim_status_check(const char *s);

#endif
