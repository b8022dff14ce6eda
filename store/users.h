/* Staff accounts, their web sessions and the API tokens admins hand out.  Rows only: the
 * password policy, hashing and lock-out decisions live in gateway/accounts.c.  Every change
 * to an account or a token is audited in the transaction that makes it. */
#ifndef MOTCUA_STORE_USERS_H
#define MOTCUA_STORE_USERS_H

#include <stdint.h>

struct db;

#define USER_NAME_MAX 33 /* 1-32 of [a-z0-9._-] */
#define USER_HASH_MAX 160 /* argon2id encoded hash */
#define USER_ROLE_MAX 8

struct user {
	char name[USER_NAME_MAX];
	char role[USER_ROLE_MAX]; /* admin staff */
	char hash[USER_HASH_MAX];
	int disabled;
	int must_change; /* a one-time password: change it before anything else */
	int64_t failures; /* failed logins in a row, from the source with the most */
	int64_t locked_until; /* unix seconds, 0: not locked (the latest lock of any source) */
	char created_at[32];
	char updated_at[32];
};

/* 1 when name is 1-32 characters of [a-z0-9._-] starting with a letter or digit. */
int users_name_valid(const char *name);
/* 1 for "admin" or "staff". */
int users_role_valid(const char *role);

/* Adds an account (audited "user.add" by actor).  -EEXIST when the name is taken. */
int users_add(struct db *db, const char *name, const char *role, const char *hash, int must_change,
	      const char *actor);
/* Reads one account; -ENOENT when there is none. */
int users_get(struct db *db, const char *name, struct user *ret);
/* Calls fn for every account by name; fn < 0 stops and is returned. */
int users_list(struct db *db, int (*fn)(void *ctx, const struct user *u), void *ctx);
/* Replaces the password hash, clears failures and lock-outs of every source, ends the account's sessions
 * (audited "user.passwd").  -ENOENT when there is no such account. */
int users_set_hash(struct db *db, const char *name, const char *hash, int must_change, const char *actor);
/* Disables (1) or enables (0) an account; disabling ends its sessions (audited
 * "user.disable"/"user.enable").  -ENOENT when there is no such account. */
int users_set_disabled(struct db *db, const char *name, int disabled, const char *actor);
/* Failed logins are counted per (key, source): key is the account's name (or, for a name
 * that is no account, a keyed hash of what was typed), source the client's address (an IPv6
 * /64).  A stranger's guesses lock only their own address out.
 *
 * Reserves one attempt, atomically: counts it as a failure before the password is
 * checked, so that parallel guesses cannot all pass a check made before any of them
 * counted.  *ret_locked_until > now when this source is locked out for key (the attempt
 * must then be refused without checking the password); *ret_failures is the count
 * including this attempt. */
int users_login_reserve(struct db *db, const char *key, const char *source, int64_t now, int64_t max_failures,
			int64_t lockout_s, int64_t *ret_failures, int64_t *ret_locked_until);

enum users_login {
	USERS_LOGIN_OK, /* right password, account usable: the count is cleared */
	USERS_LOGIN_WRONG, /* wrong password: the reserved count stays, locks at max_failures */
	USERS_LOGIN_LOCKED, /* refused while locked: nothing changes but the audit */
	USERS_LOGIN_DISABLED, /* right password, account disabled: the count is cleared */
};
/* Records the outcome of a reserved attempt in one transaction with its audit row ("login"
 * or "login.failed" under name, detail JSON without secrets). */
int users_login_record(struct db *db, const char *key, const char *source, enum users_login outcome,
		       int64_t now, int64_t max_failures, int64_t lockout_s, const char *name,
		       const char *detail);

/* Sessions, keyed by the SHA-256 (hex) of the cookie value; the cookie itself is never
 * stored. */
struct session {
	char id[65];
	char user[USER_NAME_MAX];
	char csrf[65];
	int64_t created; /* unix seconds */
	int64_t last_seen;
};
int sessions_add(struct db *db, const struct session *s);
/* -ENOENT when absent. */
int sessions_get(struct db *db, const char *id, struct session *ret);
int sessions_touch(struct db *db, const char *id, int64_t now);
/* Ends one session (audited "logout" when actor is given). */
int sessions_delete(struct db *db, const char *id, const char *actor);
/* Removes sessions idle since before idle_before or created before created_before. */
int sessions_purge(struct db *db, int64_t idle_before, int64_t created_before);

/* API tokens: bearer tokens for machines, kept as SHA-256 (hex) of the token. */
struct api_token {
	int64_t id;
	char name[64];
	char created_by[USER_NAME_MAX];
	char created_at[32];
	int revoked;
	int64_t last_used;
};
/* Audited "token.add"; ret_id may be NULL. */
int tokens_add(struct db *db, const char *name, const char *hash, const char *actor, int64_t *ret_id);
/* The live (not revoked) token with this hash; -ENOENT when none. */
int tokens_find(struct db *db, const char *hash, struct api_token *ret);
int tokens_list(struct db *db, int (*fn)(void *ctx, const struct api_token *t), void *ctx);
/* Audited "token.revoke"; -ENOENT when no live token has that id. */
int tokens_revoke(struct db *db, int64_t id, const char *actor);

#endif
