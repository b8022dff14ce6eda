/* Certified copies in motcuad: the signer's life (started with the daemon, before any
 * thread), issuing a copy from a stored original scan (number, seal, PDF, PAdES, store,
 * outbox, audit), and the trust list for verifiers (motcuactl and the /verify page). */
#ifndef MOTCUA_COPY_H
#define MOTCUA_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/config.h"
#include "gateway/sign/seal.h"
#include "gateway/sign/verify.h"
#include "store/docs.h"

struct store;
struct db;

/* Starts motcua-signer as [sign] says, then drops motcuad's capabilities.  A missing key or
 * signer is logged (certified copies are then refused with the reason) and is not an error
 * for the daemon; returns 0, or -errno only for resource failures. */
int copy_service_start(const struct config *cfg);
void copy_service_stop(void);

/* The signer's pid, or -1 when it is not running (status, tests). */
int copy_signer_pid(void);

/* 1 when the signer exited and motcuad, without its start-up capabilities, cannot start
 * another (signer_lost): the daemon then exits for systemd to start it again. */
int copy_signer_lost(void);

struct copy_result {
	int64_t year, book, number;
	char number_text[64];
	char doc_id[DOC_ID_LEN]; /* the signed PDF, a document of kind certified-copy */
	char sha256[65];
	int64_t size;
	char seal[SEAL_TEXT_MAX];
	double ms_render, ms_sign, ms_store; /* where the time went (bench, logs) */
};

/* Issues a certified copy of the stored JPEG scan original_id, certified by official.
 * Every signature is audited (action "signature", with actor and purpose) before it is
 * made.  On failure after a number was reserved the number is voided with the reason.
 * Returns 0, or -errno with a message for staff in why: -ENOENT (no such document),
 * -EMEDIUMTYPE (not a JPEG scan), -EINVAL (bad official name), -ENOKEY (no signer). */
int copy_issue(struct store *s, struct db *db, const char *original_id, const char *official,
	       const char *actor, struct copy_result *ret, char *why, size_t whylen);

/* The trust list in force: the signer's certificate plus [sign] trust_file.  *ret is the
 * caller's (trustlist_free).  -ENOKEY when there is none. */
int copy_trustlist(struct trustlist **ret);

/* The same as PEM text (malloc'd, the caller frees), for `motcuactl keys trustlist`. */
int copy_trustlist_pem(char **ret_pem);

/* Answers one control request copy.issue, copy.show or keys.trustlist (copy_cmds.c). */
struct control_ctx;
int copy_control(struct control_ctx *x, const char *cmd, void *req_json);

#endif
