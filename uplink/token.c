/* OAuth2 client-credentials token cache (docs/lgsp.md section 4): in memory only, refreshed
 * before expiry (10% of its life, at least 30 s, at most half) and after a 401. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "uplink/internal.h"

static void fetch(struct uplink *u)
{
	struct xfer *x;
	char *form;

	if (u->token_x || u->now < u->token_wake_ms || u->stopped_by_config)
		return;
	x = xfer_new(u, NULL, OP_TOKEN, u->token_url);
	form = strdup("grant_type=client_credentials");
	if (!x || !form) {
		free(form);
		xfer_free(x);
		u->token_wake_ms = u->now + 1000;
		return;
	}
	/* HTTP Basic with the client id and secret (the preferred form in the contract). */
	curl_easy_setopt(x->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(x->easy, CURLOPT_USERNAME, u->cfg.uplink_client_id);
	curl_easy_setopt(x->easy, CURLOPT_PASSWORD, u->secret);
	xfer_post(x, form, "application/x-www-form-urlencoded");
	if (xfer_start(x) == 0)
		u->token_x = x;
	else
		u->token_wake_ms = u->now + 1000;
}

int token_ready(struct uplink *u)
{
	int valid = u->token[0] && u->now < u->token_expires_ms;
	if (!valid || u->now >= u->token_refresh_ms)
		fetch(u);
	return valid;
}

int64_t token_next_ms(const struct uplink *u)
{
	if (u->token_x)
		return INT64_MAX;
	if (!u->token[0])
		return u->token_wake_ms;
	int64_t t = u->token_refresh_ms > u->token_wake_ms ? u->token_refresh_ms : u->token_wake_ms;
	return t;
}

void token_invalidate(struct uplink *u, int gen)
{
	if (gen == u->token_gen && u->token[0]) {
		OPENSSL_cleanse(u->token, sizeof(u->token));
		u->token_expires_ms = u->token_refresh_ms = 0;
		log_info("uplink: the LGSP refused the access token; getting a new one");
	}
}

void token_done(struct uplink *u, struct xfer *x, CURLcode cc, long status)
{
	struct lgsp_error e;
	char reason[UPLINK_REASON_MAX];
	int64_t ttl = 0, ra = 0;

	u->token_x = NULL;
	if (cc != CURLE_OK) {
		u->token_fails++;
		u->token_wake_ms = u->now + uplink_backoff(u, u->token_fails);
		snprintf(reason, sizeof(reason), "token request failed: %.170s",
			 x->err[0] ? x->err : curl_easy_strerror(cc));
		uplink_link_fault(u, reason);
		return;
	}
	if (status == 200 && lgsp_parse_token(x->resp, x->resp_len, u->token, &ttl) == 0) {
		/* Refresh when 10% of the life is left, at least 30 s before, at most halfway. */
		int64_t margin = ttl * 100; /* 10% in ms */
		if (margin < 30000)
			margin = 30000;
		if (margin > ttl * 500)
			margin = ttl * 500;
		u->token_gen++;
		u->token_expires_ms = u->now + ttl * 1000;
		u->token_refresh_ms = u->token_expires_ms - margin;
		u->token_fails = 0;
		u->token_wake_ms = 0;
		log_debug("uplink: new access token, valid %llds", (long long)ttl);
		return;
	}
	lgsp_parse_error(x->resp, x->resp_len, &e);
	enum lgsp_action a = status == 200 ? LGSP_RETRY : lgsp_classify(status, e.error, 1);
	u->token_fails++;
	if (a == LGSP_STOP || a == LGSP_REJECT) {
		lgsp_reason(status, &e, reason, sizeof(reason));
		log_error("uplink: the LGSP refused the client credentials ([uplink] client_id, "
			  "client_secret_file): %s",
			  reason);
		uplink_config_fault(u, reason);
		u->token_wake_ms = u->now + u->cfg.uplink_backoff_cap_s * 1000;
		return;
	}
	int64_t d = uplink_backoff(u, u->token_fails);
	if (lgsp_retry_after(x->retry_after, &ra) == 0 && ra * 1000 > d)
		d = ra * 1000;
	u->token_wake_ms = u->now + d;
	log_warn("uplink: token request answered HTTP %ld%s%s; retrying in %lld ms", status,
		 e.error[0] ? " " : "", e.error, (long long)d);
}
