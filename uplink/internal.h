/* The uplink's insides, shared by its files only: the thread state (owned by the uplink
 * thread alone, never touched by another), the jobs (one outbox item each) and the HTTP
 * exchanges in flight. */
#ifndef MOTCUA_UPLINK_INTERNAL_H
#define MOTCUA_UPLINK_INTERNAL_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/events.h"
#include "store/docs.h"
#include "store/outbox.h"
#include "uplink/lgsp.h"

#define UPLINK_SLOTS_MAX 16
#define UPLINK_PROBES_MAX 3
#define UPLINK_SUBMIT_MAX 20480 /* a submission body (a dossier's is at most 16 KiB) */

enum op { OP_TOKEN, OP_PROBE, OP_CREATE, OP_QUERY, OP_PATCH, OP_FINISH, OP_SUBMIT, OP_PULL };

/* What a job does next. */
enum phase { PH_VERIFY, PH_CREATE, PH_QUERY, PH_PATCH, PH_FINISH, PH_SUBMIT };

struct uplink;
struct job;

/* One HTTP exchange in flight. */
struct xfer {
	struct uplink *u;
	struct job *job; /* NULL for the token and probes */
	enum op op;
	CURL *easy;
	struct curl_slist *hdrs;
	char *resp; /* answer body, at most LGSP_ANSWER_MAX */
	size_t resp_len;
	int resp_over;
	char upload_offset[24];
	char retry_after[24];
	/* request body streamed by the read callback (PATCH) */
	const unsigned char *body;
	size_t body_len, body_pos;
	int paused;
	int64_t progress_ms; /* when bytes last moved either way (monotonic) */
	curl_off_t seen_up, seen_down;
	char *post; /* JSON or form body (owned) */
	int token_gen; /* which token the request carried */
	char err[CURL_ERROR_SIZE];
};

struct job {
	int used;
	struct outbox_item it;
	struct doc_meta doc;
	enum phase ph;
	struct xfer *x; /* in flight, or NULL */
	int64_t wake_ms; /* not before (monotonic) */
	int fails; /* faults in a row, for the backoff */
	int auth_fails; /* 401 in a row */
	int mismatches; /* hash_mismatch answers */
	char key[LGSP_KEY_MAX + 1]; /* wire Idempotency-Key of the submission */
	char upload_id[LGSP_UPLOAD_ID_MAX];
	int gen; /* upload generation (1, then 2 after an unknown_upload, ...) */
	int64_t offset; /* confirmed by the server */
	int64_t chunk_max; /* from the server, else 1 MiB */
	unsigned char *chunk; /* chunk_bytes, allocated for the job's life */
	size_t chunk_cap;
	char sub_kind[24]; /* POST /submissions/{sub_kind} */
	int has_blob; /* doc's blob is uploaded first (documents, certified copies) */
	char body[UPLINK_SUBMIT_MAX];
	size_t body_len;
	char body_sha[65];
	int64_t sent_this_claim; /* chunk bytes sent since the claim (for the log) */
	int claimed; /* the claim is written in the outbox row (0: held in memory, disk full) */
	int dirty; /* progress newer than the row (a write was refused) */
	int64_t chunk_t0; /* when the chunk in flight started (monotonic ms) */
};

/* A delivery (receipt) or a release that could not be written yet (a full disk); written
 * again with a back-off until it goes through.  The receipt is not lost meanwhile: the LGSP
 * gives the same receipt for the same key. */
#define UPLINK_UNRECORDED_MAX 64
enum unrec_what { UNREC_RELEASE, UNREC_DELIVER, UNREC_REJECT };
struct unrecorded {
	int64_t id;
	int claimed;
	enum unrec_what what;
	char receipt[OUTBOX_TEXT_MAX]; /* the receipt, or the rejection's reason */
	char detail[OUTBOX_TEXT_MAX + 128]; /* the rejection's audit detail */
	char kind[32], ref[80];
	int64_t bytes;
};

/* One-second buckets of bytes handed to the socket and bytes the LGSP acknowledged. */
#define UPLINK_RATE_SECS 60

struct uplink {
	struct store *store;
	struct db *db;
	struct config cfg;
	char secret[256];
	char token_url[CONFIG_PATH_MAX + 32];
	pthread_t thread;
	int stop_fd; /* eventfd: uplink_stop rings it */
	atomic_int stopping;
	CURLM *multi;
	uint64_t rng;
	int64_t now; /* monotonic ms, refreshed each turn of the loop */

	struct job jobs[UPLINK_SLOTS_MAX];
	int nslots;
	int queue_empty; /* the last claim found nothing: wait for a ring or a timer */
	int64_t next_claim_ms;

	/* token cache (memory only) */
	char token[LGSP_TOKEN_MAX + 1];
	int token_gen;
	int64_t token_expires_ms, token_refresh_ms;
	struct xfer *token_x;
	int64_t token_wake_ms;
	int token_fails;

	/* link monitor */
	int link; /* enum uplink_link */
	int64_t link_since; /* wall clock */
	char reason[UPLINK_REASON_MAX];
	struct xfer *probes[UPLINK_PROBES_MAX];
	int probe_fails;
	int64_t next_probe_ms;
	int64_t up_ms, revive_ms; /* when the link came back; when to check old transfers */
	int stopped_by_config; /* 403 / invalid_client: wait for the admin */
	int64_t suspect_ms; /* when a probe was sent because transfers went quiet, or 0 */
	int64_t restarts; /* stalled transfers restarted while the link answered */
	/* dossier status pull (pull.c) */
	struct xfer *pull_x;
	int64_t next_pull_ms;
	int pull_fails;
	int64_t config_wake_ms;

	/* pacing and rate */
	double bucket;
	int64_t bucket_ms;
	int npaused;
	int64_t rate_sec; /* monotonic second of ring slot rate_pos */
	int rate_pos;
	int64_t ring_sent[UPLINK_RATE_SECS], ring_acked[UPLINK_RATE_SECS];
	double rate_short, rate_long;
	int64_t rate_from_ms; /* rates count from here (link up, start) */
	int64_t last_ok; /* wall clock of the last exchange the LGSP answered */
	int64_t last_ok_ms; /* the same, monotonic */

	/* a full or failing disk: what could not be written is kept here */
	struct unrecorded unrec[UPLINK_UNRECORDED_MAX];
	int nunrec;
	int64_t unrec_wake_ms;
	int unrec_fails;
	int disk_full; /* a write was refused for lack of space and none succeeded since */
	int64_t store_refused; /* writes refused since the condition began */
	int64_t store_logged_ms; /* last time the count was logged */
	int claim_fails;
	int64_t bytes_sent, delivered, rejected, last_success;
	int64_t published_ms;
	int64_t config_ms;
};

/* xfer.c: building and running exchanges */
struct xfer *xfer_new(struct uplink *u, struct job *j, enum op op, const char *path_or_url);
/* Adds a header line (copied). 0 or -ENOMEM. */
int xfer_header(struct xfer *x, const char *line);
/* Sets a JSON (or, for the token, form) body; takes ownership of body. */
void xfer_post(struct xfer *x, char *body, const char *content_type);
/* Starts it on the multi handle; on failure frees it and returns -errno. */
int xfer_start(struct xfer *x);
void xfer_free(struct xfer *x);
/* Adds the bearer token header; -EAGAIN when there is no valid token (a fetch is started). */
int xfer_auth(struct xfer *x);

/* token.c */
/* 1 when a token is usable now; starts a fetch when none is or a refresh is due. */
int token_ready(struct uplink *u);
void token_done(struct uplink *u, struct xfer *x, CURLcode cc, long status);
/* A request carrying token generation gen was answered 401: forget that token. */
void token_invalidate(struct uplink *u, int gen);
/* Earliest time the token needs attention (refresh or retry), or INT64_MAX. */
int64_t token_next_ms(const struct uplink *u);

/* job.c */
/* Takes a claimed outbox item into slot j. */
void job_begin(struct uplink *u, struct job *j, const struct outbox_item *it);
/* Starts the job's next exchange when it is due. */
void job_step(struct uplink *u, struct job *j);
void job_done(struct uplink *u, struct xfer *x, CURLcode cc, long status);
/* Gives the item back to the queue (link down, stop, a better item waits). */
void job_release(struct uplink *u, struct job *j, const char *why);

/* pull.c: the city's dossier statuses (docs/lgsp.md 8), cursor in the store's meta table */
/* Starts a pull when the link is up and one is due. */
void pull_tick(struct uplink *u);
void pull_done(struct uplink *u, struct xfer *x, CURLcode cc, long status);

/* uplink.c: what the job and token code report to the thread */
void uplink_link_fault(struct uplink *u, const char *reason);
void uplink_config_fault(struct uplink *u, const char *reason);
void uplink_count_sent(struct uplink *u, size_t n);
/* n upload bytes the LGSP confirmed (a chunk's answer). */
void uplink_count_acked(struct uplink *u, int64_t n);
/* Any answer from the LGSP: the path works now. */
void uplink_answered(struct uplink *u);
/* A store write on the uplink's path returned r (< 0): logged once per condition, then
 * counted; -ENOSPC marks the disk full for the status. */
void uplink_store_fault(struct uplink *u, int r, const char *what);
/* A store write went through: clears the disk-full condition. */
void uplink_store_ok(struct uplink *u);
/* Keeps a delivery (text: the receipt), a rejection (text: the reason, detail: the audit
 * detail) or a release that could not be written.  0 or -ENOSPC when the list is full. */
int uplink_unrecorded_add(struct uplink *u, const struct job *j, enum unrec_what what, const char *text,
			  const char *detail);
/* The bytes a chunk should hold now: about CHUNK_SECONDS of this job's share of the measured
 * rate, within [CHUNK_MIN, chunk_bytes]. */
size_t uplink_chunk_len(struct uplink *u, const struct job *j);
int64_t uplink_backoff(struct uplink *u, int attempt);
/* For the pacing read callback: bytes it may send now (SIZE_MAX when unlimited). */
size_t uplink_allowance(struct uplink *u);
/* 1 when an item with a better priority than prio waits and every slot is busy. */
int uplink_should_yield(struct uplink *u, const struct job *j);
void uplink_job_finished(struct uplink *u, struct job *j);

#endif
