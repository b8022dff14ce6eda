/* Accounts policy: argon2id hashes, the login delay and lock-out, sessions, API tokens. */
#include "gateway/accounts.h"

#include <argon2.h>
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/log.h"
#include "store/db.h"

/* OWASP's argon2id floor (19 MiB, 2 passes): about 30 ms on an old PC, and memory for a
 * handful of parallel logins only. */
#define ARGON_T 2
#define ARGON_M_KIB 19456
#define ARGON_P 1
#define SALT_LEN 16
#define HASH_LEN 32

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int random_hex(char *out, size_t nbytes)
{
	unsigned char raw[32];
	if (nbytes > sizeof(raw) || RAND_bytes(raw, (int)nbytes) != 1)
		return -EIO;
	hex(raw, nbytes, out);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned len = 0;
	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	hex(md, 32, out);
}

int accounts_password_check(const char *pw, char *why, size_t whylen)
{
	size_t n = strlen(pw);
	if (n < ACCOUNTS_PASSWORD_MIN || n > ACCOUNTS_PASSWORD_MAX) {
		snprintf(why, whylen, "the password must have %d to %d characters", ACCOUNTS_PASSWORD_MIN,
			 ACCOUNTS_PASSWORD_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f) {
			snprintf(why, whylen, "the password must not contain control characters");
			return -EINVAL;
		}
	return 0;
}

int accounts_hash(const char *pw, char out[USER_HASH_MAX])
{
	unsigned char salt[SALT_LEN];
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	int rc = argon2id_hash_encoded(ARGON_T, ARGON_M_KIB, ARGON_P, pw, strlen(pw), salt, sizeof(salt),
				       HASH_LEN, out, USER_HASH_MAX);
	if (rc != ARGON2_OK) {
		log_error("accounts: argon2id: %s", argon2_error_message(rc));
		return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EIO;
	}
	return 0;
}

int accounts_add(struct db *db, const char *name, const char *role, const char *pw, int one_time,
		 const char *actor, char *why, size_t whylen)
{
	char hash[USER_HASH_MAX];
	int r;
	if (!users_name_valid(name)) {
		snprintf(why, whylen, "the user name must be 1-32 characters of a-z, 0-9, '.', '_' or '-'");
		return -EINVAL;
	}
	if (!users_role_valid(role)) {
		snprintf(why, whylen, "the role must be admin or staff");
		return -EINVAL;
	}
	r = accounts_password_check(pw, why, whylen);
	if (r < 0)
		return r;
	r = accounts_hash(pw, hash);
	if (r == 0)
		r = users_add(db, name, role, hash, one_time, actor);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r == -EEXIST)
		snprintf(why, whylen, "there is already a user named %s", name);
	else if (r < 0)
		snprintf(why, whylen, "could not add the user: %s", strerror(-r));
	return r;
}

int accounts_passwd(struct db *db, const char *name, const char *pw, int one_time, const char *actor,
		    char *why, size_t whylen)
{
	char hash[USER_HASH_MAX];
	int r = accounts_password_check(pw, why, whylen);
	if (r < 0)
		return r;
	r = accounts_hash(pw, hash);
	if (r == 0)
		r = users_set_hash(db, name, hash, one_time, actor);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (r == -ENOENT)
		snprintf(why, whylen, "there is no user named %.40s", name);
	else if (r < 0)
		snprintf(why, whylen, "could not set the password: %s", strerror(-r));
	return r;
}

int accounts_disable(struct db *db, const char *name, int disabled, const char *actor, char *why,
		     size_t whylen)
{
	int r = users_set_disabled(db, name, disabled, actor);
	if (r == -ENOENT)
		snprintf(why, whylen, "there is no user named %.40s", name);
	else if (r < 0)
		snprintf(why, whylen, "could not change the user: %s", strerror(-r));
	return r;
}

int accounts_change_own(struct db *db, const char *name, const char *old, const char *new_pw, char *why,
			size_t whylen)
{
	struct user u;
	char actor[48];
	int r = users_get(db, name, &u);
	if (r < 0)
		return r;
	if (argon2id_verify(u.hash, old, strlen(old)) != ARGON2_OK) {
		snprintf(why, whylen, "the current password is wrong");
		return -EACCES;
	}
	snprintf(actor, sizeof(actor), "web:%s", name);
	return accounts_passwd(db, name, new_pw, 0, actor, why, whylen);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* A hash of a random password, made once, so that an unknown name costs as much as a
 * known one; and a random key for the failure counts of names that are no account (what
 * was typed may be a password in the wrong field: only its keyed hash is stored). */
static char dummy_hash[USER_HASH_MAX];
static unsigned char unknown_key[32];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void make_dummy(void)
{
	char pw[33];
	if (random_hex(pw, 16) < 0 || accounts_hash(pw, dummy_hash) < 0)
		dummy_hash[0] = '\0';
	if (RAND_bytes(unknown_key, sizeof(unknown_key)) != 1)
		memset(unknown_key, 0, sizeof(unknown_key)); /* still no name in clear */
	OPENSSL_cleanse(pw, sizeof(pw));
}

void accounts_prepare(void)
{
	pthread_once(&dummy_once, make_dummy);
}

/* The source a failure count belongs to: the IPv4 address, or an IPv6 address's /64 (one
 * machine holds a whole /64 and picks new addresses in it at will). */
static void source_key(const char *remote, char out[INET6_ADDRSTRLEN])
{
	struct in6_addr a;
	snprintf(out, INET6_ADDRSTRLEN, "%s", remote);
	if (!strchr(remote, ':') || strchr(remote, '.') || inet_pton(AF_INET6, remote, &a) != 1)
		return;
	memset(a.s6_addr + 8, 0, 8);
	inet_ntop(AF_INET6, &a, out, INET6_ADDRSTRLEN);
	size_t n = strlen(out);
	if (n + 3 < INET6_ADDRSTRLEN)
		memcpy(out + n, "/64", 4);
}

int accounts_login(struct db *db, const struct accounts_policy *p, const char *name, const char *pw,
		   const char *remote, struct user *ret_user, int64_t *ret_wait_s)
{
	struct user u;
	char detail[200], key[80], source[INET6_ADDRSTRLEN];
	int64_t now = (int64_t)time(NULL), failures = 0, until = 0;
	int known, ok = 0, r;

	accounts_prepare();
	known = users_name_valid(name) && users_get(db, name, &u) == 0;
	if (known) {
		snprintf(key, sizeof(key), "%s", name);
	} else {
		unsigned char mac[32];
		unsigned maclen = 0;
		HMAC(EVP_sha256(), unknown_key, sizeof(unknown_key), (const unsigned char *)name,
		     strlen(name), mac, &maclen);
		key[0] = '?';
		hex(mac, 16, key + 1);
	}
	source_key(remote, source);
	/* Known and unknown names take the same path (count, argon2, record) and get the same
	 * answers, locks included: neither the answer nor its timing tells whether a name
	 * exists. */
	r = users_login_reserve(db, key, source, now, p->max_failures, p->lockout_s, &failures, &until);
	if (r < 0)
		return r;
	if (until > now) {
		snprintf(detail, sizeof(detail), "{\"remote\":\"%.60s\",\"why\":\"locked\"}", remote);
		users_login_record(db, key, source, USERS_LOGIN_LOCKED, now, p->max_failures, p->lockout_s,
				   known ? name : "(unknown)", detail);
		sleep_ms(p->delay_ms);
		*ret_wait_s = until - now;
		return -ENOLCK;
	}
	/* Always run argon2, so the answer's timing does not tell whether the name exists. */
	ok = argon2id_verify(known ? u.hash : dummy_hash, pw, strlen(pw)) == ARGON2_OK && known;
	if (!ok && known && strncmp(u.hash, "$argon2id$", 10) != 0)
		log_error("accounts: %s has a password hash that is not argon2id; reset it", name);
	if (ok && u.disabled) {
		snprintf(detail, sizeof(detail), "{\"remote\":\"%.60s\",\"why\":\"disabled\"}", remote);
		users_login_record(db, key, source, USERS_LOGIN_DISABLED, now, p->max_failures, p->lockout_s,
				   name, detail);
		sleep_ms(p->delay_ms);
		return -EPERM;
	}
	if (ok) {
		snprintf(detail, sizeof(detail), "{\"remote\":\"%.60s\"}", remote);
		r = users_login_record(db, key, source, USERS_LOGIN_OK, now, p->max_failures, p->lockout_s,
				       name, detail);
		if (r < 0)
			return r;
		*ret_user = u;
		return 0;
	}
	int locks = failures >= p->max_failures;
	snprintf(detail, sizeof(detail), "{\"remote\":\"%.60s\",\"why\":\"%s\",\"failures\":%lld%s}", remote,
		 known ? "password" : "unknown user", (long long)failures, locks ? ",\"locked\":true" : "");
	/* An unknown name is audited under a fixed subject: a mistyped password in the name
	 * field must not land in the chain. */
	users_login_record(db, key, source, USERS_LOGIN_WRONG, now, p->max_failures, p->lockout_s,
			   known ? name : "(unknown)", detail);
	if (locks)
		log_warn("accounts: %s locked for %s for %llds after %lld failed logins",
			 known ? name : "an unknown name", remote, (long long)p->lockout_s,
			 (long long)failures);
	sleep_ms(p->delay_ms);
	return -EACCES;
}

int accounts_session_open(struct db *db, const struct accounts_policy *p, const char *user,
			  char ret_cookie[ACCOUNTS_COOKIE_LEN], char ret_csrf[65])
{
	struct session s;
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(&s, 0, sizeof(s));
	r = random_hex(ret_cookie, 32);
	if (r == 0)
		r = random_hex(s.csrf, 32);
	if (r < 0)
		return r;
	sha256_hex(ret_cookie, s.id);
	snprintf(s.user, sizeof(s.user), "%s", user);
	s.created = s.last_seen = now;
	sessions_purge(db, now - p->idle_s, now - p->absolute_s);
	r = sessions_add(db, &s);
	if (r == 0)
		memcpy(ret_csrf, s.csrf, 65);
	return r;
}

static int cookie_valid(const char *cookie)
{
	if (strlen(cookie) != 64)
		return 0;
	for (int i = 0; i < 64; i++)
		if (!((cookie[i] >= '0' && cookie[i] <= '9') || (cookie[i] >= 'a' && cookie[i] <= 'f')))
			return 0;
	return 1;
}

int accounts_session_check(struct db *db, const struct accounts_policy *p, const char *cookie,
			   struct session *ret_session, struct user *ret_user)
{
	struct session s;
	struct user u;
	char id[65];
	int64_t now = (int64_t)time(NULL);
	int r;

	if (!cookie_valid(cookie))
		return -ENOENT;
	sha256_hex(cookie, id);
	r = sessions_get(db, id, &s);
	if (r < 0)
		return r;
	if (s.last_seen + p->idle_s < now || s.created + p->absolute_s < now) {
		sessions_delete(db, id, NULL);
		return -ENOENT;
	}
	r = users_get(db, s.user, &u);
	if (r < 0 || u.disabled)
		return -ENOENT;
	/* The idle clock needs minute precision only: spare the disk a commit per request. */
	if (now - s.last_seen >= 30)
		sessions_touch(db, id, now);
	*ret_session = s;
	*ret_user = u;
	return 0;
}

int accounts_session_close(struct db *db, const char *cookie, const char *actor)
{
	char id[65];
	if (!cookie_valid(cookie))
		return -ENOENT;
	sha256_hex(cookie, id);
	return sessions_delete(db, id, actor);
}

int accounts_token_equal(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

int accounts_token_new(struct db *db, const char *name, const char *actor, char ret_token[ACCOUNTS_TOKEN_LEN],
		       int64_t *ret_id)
{
	char tok[ACCOUNTS_TOKEN_LEN], hash[65];
	memcpy(tok, "mct_", 4);
	int r = random_hex(tok + 4, 32);
	if (r < 0)
		return r;
	sha256_hex(tok, hash);
	r = tokens_add(db, name, hash, actor, ret_id);
	if (r == 0)
		memcpy(ret_token, tok, sizeof(tok));
	OPENSSL_cleanse(tok, sizeof(tok));
	return r;
}

int accounts_token_check(struct db *db, const char *token, struct api_token *ret)
{
	char hash[65];
	if (strlen(token) != ACCOUNTS_TOKEN_LEN - 1 || strncmp(token, "mct_", 4) != 0)
		return -ENOENT;
	sha256_hex(token, hash);
	return tokens_find(db, hash, ret);
}
