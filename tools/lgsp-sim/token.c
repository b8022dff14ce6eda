/* OAuth2 client-credentials tokens for motcua-lgsp-sim (RFC 6749 section 4.4): issues opaque
 * bearer tokens with a lifetime of --token-ttl and checks them on every /lgsp/v1 request.
 * Only the SHA-256 of a token is stored. */
#include "tools/lgsp-sim/sim.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "gateway/log.h"

/* Constant-time comparison of two NUL-terminated secrets. */
static int secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

static const struct sim_client *find_client(struct sim *s, const char *id, const char *secret)
{
	for (int i = 0; i < s->o.nclients; i++)
		if (strcmp(s->o.clients[i].id, id) == 0 && secret_equal(s->o.clients[i].secret, secret))
			return &s->o.clients[i];
	return NULL;
}

void token_issue(struct sim *s, const char *basic_user, const char *basic_pass, const char *body, size_t len,
		 struct reply *rp)
{
	char grant[64], id[SIM_CLIENT_ID_MAX], secret[SIM_SECRET_MAX], tok[65], tsha[65];
	const struct sim_client *c;
	sqlite3_stmt *st = NULL;
	int r;

	r = sim_form_get(body, len, "grant_type", grant, sizeof(grant));
	if (r == -ENOENT) {
		reply_error(rp, 400, "invalid_request", "grant_type", "grant_type is required");
		goto out;
	}
	if (r < 0) {
		reply_error(rp, 400, "invalid_request", "grant_type", "grant_type is malformed");
		goto out;
	}
	if (strcmp(grant, "client_credentials") != 0) {
		reply_error(rp, 400, "unsupported_grant_type", "grant_type",
			    "only grant_type=client_credentials is supported");
		goto out;
	}
	if (basic_user && basic_pass) {
		snprintf(id, sizeof(id), "%s", basic_user);
		snprintf(secret, sizeof(secret), "%s", basic_pass);
	} else if (sim_form_get(body, len, "client_id", id, sizeof(id)) < 0 ||
		   sim_form_get(body, len, "client_secret", secret, sizeof(secret)) < 0) {
		reply_error(rp, 401, "invalid_client", "",
			    "client authentication is required (HTTP Basic or client_id/client_secret)");
		reply_header(rp, "WWW-Authenticate", "Basic realm=\"lgsp\"");
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	c = find_client(s, id, secret);
	if (!c) {
		simdb_count(s, "auth_failures", 1);
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 401, "invalid_client", "", "unknown client or wrong secret");
		reply_header(rp, "WWW-Authenticate", "Basic realm=\"lgsp\"");
		goto out;
	}
	if (sim_random_hex(tok, 32) < 0) {
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 500, "server_error", "", "no randomness");
		goto out;
	}
	sim_sha256_hex(tok, strlen(tok), tsha);
	st = simdb_prepare(s, "INSERT INTO tokens(token_sha, client, expires) VALUES(?1, ?2, ?3)");
	if (st) {
		sqlite3_bind_text(st, 1, tsha, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, sim_now() + s->o.token_ttl);
	}
	if (!st || sqlite3_step(st) != SQLITE_DONE) {
		pthread_mutex_unlock(&s->lock);
		reply_error(rp, 500, "server_error", "", "cannot store the token");
		goto out;
	}
	simdb_count(s, "tokens_issued", 1);
	/* Expired tokens are useless after a day; keep the table small. */
	simdb_exec(s, "DELETE FROM tokens WHERE expires < strftime('%s','now') - 86400");
	log_debug("token issued to client %s", c->id);
	pthread_mutex_unlock(&s->lock);
	reply_json(rp, 200,
		   json_pack("{s:s, s:s, s:I, s:s}", "access_token", tok, "token_type", "Bearer",
			     "expires_in", (json_int_t)s->o.token_ttl, "scope", "lgsp"));
	reply_header(rp, "Cache-Control", "no-store");
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(tok, sizeof(tok));
	sqlite3_finalize(st);
}

int token_check(struct sim *s, const char *authz, char client[SIM_CLIENT_ID_MAX], struct reply *rp)
{
	char tok[SIM_TOKEN_MAX + 1], tsha[65];
	sqlite3_stmt *st = NULL;
	const char *why = NULL;
	int r = -EACCES;

	if (sim_bearer_parse(authz, tok, sizeof(tok)) < 0) {
		why = "an Authorization: Bearer token is required";
		goto out;
	}
	sim_sha256_hex(tok, strlen(tok), tsha);
	pthread_mutex_lock(&s->lock);
	st = simdb_prepare(s, "SELECT client, expires FROM tokens WHERE token_sha = ?1");
	if (st)
		sqlite3_bind_text(st, 1, tsha, -1, SQLITE_STATIC);
	if (!st || sqlite3_step(st) != SQLITE_ROW) {
		why = "unknown token";
	} else if (sqlite3_column_int64(st, 1) <= sim_now()) {
		why = "token expired";
	} else {
		snprintf(client, SIM_CLIENT_ID_MAX, "%s", (const char *)sqlite3_column_text(st, 0));
		r = 0;
	}
	if (r < 0)
		simdb_count(s, "auth_failures", 1);
	pthread_mutex_unlock(&s->lock);
out:
	OPENSSL_cleanse(tok, sizeof(tok));
	sqlite3_finalize(st);
	if (r < 0) {
		reply_error(rp, 401, "invalid_token", "", why);
		reply_header(rp, "WWW-Authenticate", "Bearer realm=\"lgsp\", error=\"invalid_token\"");
	}
	return r;
}
