/* Staff accounts policy: password rules and argon2id hashing, login with delay and
 * lock-out, sessions with an idle timeout and a CSRF token, API tokens.  Every channel
 * (web, API, motcuactl) goes through these; the rows live in store/users.c. */
#ifndef MOTCUA_ACCOUNTS_H
#define MOTCUA_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/users.h"

struct db;

#define ACCOUNTS_PASSWORD_MIN 10
#define ACCOUNTS_PASSWORD_MAX 128
#define ACCOUNTS_COOKIE_LEN 65 /* 64 hex digits and NUL */
#define ACCOUNTS_TOKEN_LEN 69 /* "mct_" + 64 hex digits and NUL */

struct accounts_policy {
	int64_t max_failures; /* failures in a row from one address before it is locked out */
	int64_t lockout_s; /* how long that address stays locked out */
	int64_t delay_ms; /* every failed login takes at least this long */
	int64_t idle_s; /* a session unused this long ends */
	int64_t absolute_s; /* a session ends this long after login whatever happens */
};

/* 0 when pw is acceptable, else -EINVAL with the rule it breaks in why. */
int accounts_password_check(const char *pw, char *why, size_t whylen);

/* argon2id hash (encoded form, with its own salt and parameters). */
int accounts_hash(const char *pw, char out[USER_HASH_MAX]);

/* Adds an account / sets a password / disables or enables one, audited with actor.
 * Errors carry a message for the person in why: -EINVAL (name, role or password rule),
 * -EEXIST (name taken), -ENOENT (no such account). */
int accounts_add(struct db *db, const char *name, const char *role, const char *pw, int one_time,
		 const char *actor, char *why, size_t whylen);
int accounts_passwd(struct db *db, const char *name, const char *pw, int one_time, const char *actor,
		    char *why, size_t whylen);
int accounts_disable(struct db *db, const char *name, int disabled, const char *actor, char *why,
		     size_t whylen);

/* A signed-in person changes their own password: old must be right (-EACCES), new must
 * pass the rules (-EINVAL); the one-time mark is cleared and every session of the account
 * ends (audited "user.passwd" by "web:<name>"). */
int accounts_change_own(struct db *db, const char *name, const char *old, const char *new_pw, char *why,
			size_t whylen);

/* Makes the dummy hash unknown names are checked against (a login calls it too; calling it
 * at start keeps the first login's timing like the others'). */
void accounts_prepare(void);

/* Checks a login.  0 and *ret_user when the password is right and the account usable;
 * -EACCES for a wrong name or password (the same answer for both, after the policy's
 * delay), -ENOLCK while locked (ret_wait_s: seconds left), -EPERM when disabled.  Failures
 * are counted per (name, remote address) and atomically (store/users.h): max_failures
 * attempts from one address at most are ever checked per lock-out period, and a stranger
 * locks only their own address.  Unknown names are counted and locked like known ones.
 * Every outcome is audited with the remote address. */
int accounts_login(struct db *db, const struct accounts_policy *p, const char *name, const char *pw,
		   const char *remote, struct user *ret_user, int64_t *ret_wait_s);

/* Opens a session for user: ret_cookie is the cookie value (only its hash is stored),
 * ret_csrf the token its forms must carry. */
int accounts_session_open(struct db *db, const struct accounts_policy *p, const char *user,
			  char ret_cookie[ACCOUNTS_COOKIE_LEN], char ret_csrf[65]);

/* Finds the live session of a cookie value and its account (which must still be enabled);
 * refreshes its idle clock.  -ENOENT when there is none or it expired. */
int accounts_session_check(struct db *db, const struct accounts_policy *p, const char *cookie,
			   struct session *ret_session, struct user *ret_user);

/* Ends the session of a cookie value (audited "logout" by actor). */
int accounts_session_close(struct db *db, const char *cookie, const char *actor);

/* 1 when the two tokens are equal (constant time over the length of a). */
int accounts_token_equal(const char *a, const char *b);

/* Creates an API token named name (audited): ret_token is shown once and never stored. */
int accounts_token_new(struct db *db, const char *name, const char *actor, char ret_token[ACCOUNTS_TOKEN_LEN],
		       int64_t *ret_id);
/* The live API token with this value; -ENOENT when none. */
int accounts_token_check(struct db *db, const char *token, struct api_token *ret);

#endif
