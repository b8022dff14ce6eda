/* motcua-lgsp-sim: the city-side LGSP simulator (docs/lgsp.md).  The shared state of the
 * simulator and the entry points of its modules; one mutex guards the database and the RNG. */
#ifndef MOTCUA_LGSP_SIM_H
#define MOTCUA_LGSP_SIM_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/lgsp-sim/parse.h"

#define SIM_CLIENTS_MAX 16
#define SIM_CLIENT_ID_MAX 64
#define SIM_SECRET_MAX 128
#define SIM_FORM_MAX 4096 /* token request body */
#define SIM_CHUNK_LIMIT (16 << 20) /* hard ceiling for --chunk-max */
#define SIM_JSON_LIMIT (4 << 20) /* hard ceiling for --json-max */
#define SIM_HDRS_MAX 4

struct sim_client {
	char id[SIM_CLIENT_ID_MAX];
	char secret[SIM_SECRET_MAX];
};

struct sim_opts {
	const char *data_dir;
	const char *listen; /* numeric IPv4 or IPv6 address */
	unsigned port;
	const char *port_file;
	struct sim_client clients[SIM_CLIENTS_MAX];
	int nclients;
	long token_ttl; /* seconds */
	size_t chunk_max;
	int64_t blob_max;
	size_t json_max;
	double p_5xx, p_429, p_reset;
	enum { RESET_AT_ANY = 0, RESET_AT_REQUEST, RESET_AT_RESPONSE } reset_at;
	unsigned retry_after; /* seconds, sent with 429 and 503 */
	unsigned latency_ms;
	uint64_t seed;
	const char *tls_cert, *tls_key, *tls_client_ca;
	unsigned max_conns;
	unsigned conn_timeout; /* seconds of inactivity before a connection is closed */
};

struct sim {
	struct sim_opts o;
	sqlite3 *db;
	pthread_mutex_t lock; /* guards db and rng */
	uint64_t rng;
};

/* An answer being built by a handler: status, JSON body (owned) and a few extra headers. */
struct reply {
	unsigned status;
	json_t *body;
	int nhdrs;
	char hname[SIM_HDRS_MAX][32];
	char hval[SIM_HDRS_MAX][96];
};

/* reply.c-like helpers (http.c) */
void reply_json(struct reply *rp, unsigned status, json_t *body); /* takes ownership of body */
void reply_error(struct reply *rp, unsigned status, const char *code, const char *field, const char *reason);
void reply_err(struct reply *rp, const struct sim_err *err);
void reply_header(struct reply *rp, const char *name, const char *value);

/* simdb.c: the database (sim.db in the data directory); callers hold sim->lock. */
int simdb_open(struct sim *s);
void simdb_close(struct sim *s);
/* Adds delta to the named counter. */
void simdb_count(struct sim *s, const char *name, int64_t delta);
/* Fills a stats JSON object (see docs/lgsp.md, GET /_sim/stats). */
json_t *simdb_stats(struct sim *s);
/* Runs one SQL statement with no result rows; returns 0 or -EIO (logged). */
int simdb_exec(struct sim *s, const char *sql);
/* Prepares sql or logs and returns NULL. */
sqlite3_stmt *simdb_prepare(struct sim *s, const char *sql);
/* Current time: Unix seconds and an RFC 3339 UTC string with milliseconds. */
int64_t sim_now(void);
void sim_now_iso(char out[32]);
/* Fills out with 2*nbytes random lower-case hex digits (OpenSSL RAND_bytes). */
int sim_random_hex(char *out, size_t nbytes);
/* SHA-256 of data as 64 hex digits. */
void sim_sha256_hex(const void *data, size_t len, char out[65]);

/* faults.c: the seeded generator; callers hold sim->lock. */
enum fault { FAULT_NONE = 0, FAULT_5XX, FAULT_429, FAULT_RESET };
enum fault faults_pick(struct sim *s);
/* Uniform integer in [0, n). */
uint64_t faults_below(struct sim *s, uint64_t n);

/* token.c */
void token_issue(struct sim *s, const char *basic_user, const char *basic_pass, const char *body, size_t len,
		 struct reply *rp);
/* Checks an Authorization header; on success copies the client id and returns 0; otherwise
 * fills rp with the 401 and returns -EACCES. */
int token_check(struct sim *s, const char *authz, char client[SIM_CLIENT_ID_MAX], struct reply *rp);

/* upload.c */
void upload_create(struct sim *s, const char *client, const char *key, const char *body, size_t len,
		   struct reply *rp);
void upload_query(struct sim *s, const char *client, const char *id, struct reply *rp);
void upload_finish(struct sim *s, const char *client, const char *id, struct reply *rp);

/* One PATCH in flight: the chunk is written as it arrives and committed whole at the end. */
struct upload_write {
	char id[SIM_ID_MAX];
	char client[SIM_CLIENT_ID_MAX];
	int fd;
	uint64_t gen;
	int64_t start; /* Upload-Offset of this chunk */
	int64_t length; /* Content-Length of this chunk */
	int64_t got; /* bytes received so far */
	int64_t hwm; /* highest byte offset ever received for this upload */
	int64_t dup; /* bytes of this chunk that the server had received before */
	int failed;
};
/* Checks the PATCH headers against the upload; on success w is ready for data (returns 0),
 * otherwise rp holds the answer (returns -errno). */
int upload_write_begin(struct sim *s, const char *client, const char *id, const char *offset_hdr,
		       const char *length_hdr, const char *ctype, struct upload_write *w, struct reply *rp);
/* Writes the next body bytes; -ESTALE when a newer PATCH took the upload over. */
int upload_write_data(struct sim *s, struct upload_write *w, const char *data, size_t len);
/* Commits the chunk when it arrived whole and fills rp. */
void upload_write_end(struct sim *s, struct upload_write *w, struct reply *rp);
/* Releases w whatever happened (counts received bytes); safe to call twice. */
void upload_write_done(struct sim *s, struct upload_write *w);

/* submit.c */
void submit_handle(struct sim *s, const char *client, const char *kind, const char *key, const char *body,
		   size_t len, struct reply *rp);
void status_pull(struct sim *s, const char *client, const char *since, const char *limit, struct reply *rp);
void status_one(struct sim *s, const char *client, const char *code, struct reply *rp);
void status_set(struct sim *s, const char *code, const char *body, size_t len, struct reply *rp);

/* http.c */
struct MHD_Daemon;
int http_start(struct sim *s, struct MHD_Daemon **ret);
unsigned http_bound_port(struct MHD_Daemon *d);
/* Stops the daemon (waits for its threads) and wipes the TLS key; accepts NULL. */
void http_stop(struct MHD_Daemon *d);

#endif
