/* motcuad's side of motcua-signer: starts it over a socketpair (as its own user when motcuad
 * may switch users), keeps its certificate from the hello, and asks it for signatures.
 * One signer per daemon; requests from several threads are serialised by a mutex. */
#ifndef MOTCUA_SIGNCLIENT_H
#define MOTCUA_SIGNCLIENT_H

#include <stddef.h>

#include "gateway/sign/signproto.h"

struct signer;

struct signer_options {
	const char *path; /* the motcua-signer binary */
	const char *user; /* run it as this user; "" or NULL: motcuad's own user */
	const char *key; /* PEM file or pkcs11:token=T;object=O */
	const char *cert; /* PEM certificate of the key */
	const char *module; /* PKCS#11 library, "" for a file key */
	const char *pin_file; /* PKCS#11 user PIN file, "" for none */
	const char *record; /* the signer's own record of what it signed (written by it alone) */
};

/* Starts the signer and waits (up to 10 s) for its hello.  Resolves the user before forking,
 * so it may be called again later from a threaded process.  Returns 0, -ENOENT (no such
 * user or binary), -EPERM (cannot switch user), -EPROTO (the signer exited or said
 * something else: its own message is in its stderr, which is motcuad's). */
int signer_start(const struct signer_options *o, struct signer **ret);

/* Closes the socket (the signer then exits) and reaps it.  Accepts NULL. */
void signer_stop(struct signer *s);

/* Asks for a signature of data (kind SIGN_KIND_SEAL: a seal's Sig_structure; SIGN_KIND_PADES:
 * a copy's DER signed attributes; 1..SIGN_DATA_MAX bytes) with key 0; the signer checks the
 * shape, hashes it and records it.  ret_der gets a DER ECDSA-Sig-Value over SHA-256(data) (up
 * to SIGN_SIG_MAX bytes).  If the signer died it is started once more, when this
 * process still may (see signer_lost).  Returns 0 or -errno
 * (-EPERM when the signer refuses the data, -EPIPE when it cannot be reached, -ETIMEDOUT
 * after 15 s, -EIO when it could not record or sign). */
int signer_sign(struct signer *s, int kind, const unsigned char *data, size_t len, unsigned char *ret_der,
		size_t *ret_len);

/* The signer certificate (DER) from its hello; valid while s lives. */
const unsigned char *signer_cert(const struct signer *s, size_t *ret_len);

/* The signer's process id (for tests and status), or -1. */
int signer_pid(const struct signer *s);

/* 1 when the signer has exited and cannot be started again by this process: it runs as
 * another user and motcuad gave up the capabilities to switch users (signer_drop_privileges).
 * Only a new motcuad can start a new signer then.  Never blocks on a request in hand. */
int signer_lost(struct signer *s);

/* When motcuad runs as a non-root user with CAP_SETUID/CAP_SETGID (to start the signer as
 * its own user), drops every capability for good.  No-op for root and without caps. */
int signer_drop_privileges(void);

#endif
