/* One HTTP exchange with the LGSP on the uplink's multi handle: the TLS, proxy and timeout
 * settings every request shares, bounded answer buffers, and the paced chunk reader. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/log.h"
#include "uplink/internal.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb;
	if (x->resp_len + n > LGSP_ANSWER_MAX) {
		x->resp_over = 1;
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	}
	if (!x->resp) {
		x->resp = malloc(LGSP_ANSWER_MAX + 1);
		if (!x->resp)
			return 0;
	}
	memcpy(x->resp + x->resp_len, data, n);
	x->resp_len += n;
	x->resp[x->resp_len] = '\0';
	return n;
}

/* Keeps the few answer headers the client reads; a new status line (after 100 Continue or a
 * proxy's CONNECT answer) starts over. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb;
	static const struct {
		const char *name;
		size_t off;
	} keep[] = {
		{ "upload-offset:", offsetof(struct xfer, upload_offset) },
		{ "retry-after:", offsetof(struct xfer, retry_after) },
	};
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		x->upload_offset[0] = x->retry_after[0] = '\0';
		return n;
	}
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		size_t kl = strlen(keep[i].name);
		if (n > kl && strncasecmp(data, keep[i].name, kl) == 0) {
			char *out = (char *)x + keep[i].off;
			size_t vl = n - kl;
			const char *v = data + kl;
			while (vl && (*v == ' ' || *v == '\t'))
				v++, vl--;
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
				vl--;
			if (vl >= 24)
				vl = 0; /* longer than any valid value: read as malformed */
			memcpy(out, v, vl);
			out[vl] = '\0';
		}
	}
	return n;
}

/* Streams the chunk, paced by the uplink's byte budget: pauses when the budget is spent
 * (the loop resumes the transfer when it refills). */
static size_t on_read(char *buf, size_t size, size_t nmemb, void *ctx)
{
	struct xfer *x = ctx;
	size_t n = size * nmemb, left = x->body_len - x->body_pos;
	if (left == 0)
		return 0;
	size_t allow = uplink_allowance(x->u);
	if (allow == 0) {
		x->paused = 1;
		x->u->npaused++;
		return CURL_READFUNC_PAUSE;
	}
	if (n > left)
		n = left;
	if (n > allow)
		n = allow;
	memcpy(buf, x->body + x->body_pos, n);
	x->body_pos += n;
	uplink_count_sent(x->u, n);
	return n;
}

/* libcurl asks before rewinding (a redirect or an auth retry); the chunk is in memory. */
static int on_seek(void *ctx, curl_off_t offset, int origin)
{
	struct xfer *x = ctx;
	if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->body_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* Notes when bytes last moved, for the link monitor's suspicion of a silent outage. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *x = ctx;
	if (ulnow != x->seen_up || dlnow != x->seen_down) {
		x->seen_up = ulnow;
		x->seen_down = dlnow;
		x->progress_ms = x->u->now;
	}
	return 0;
}

struct xfer *xfer_new(struct uplink *u, struct job *j, enum op op, const char *path_or_url)
{
	const struct config *c = &u->cfg;
	char url[CONFIG_PATH_MAX + 256];
	struct xfer *x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->u = u;
	x->job = j;
	x->op = op;
	x->easy = curl_easy_init();
	if (!x->easy) {
		free(x);
		return NULL;
	}
	if (strncmp(path_or_url, "http", 4) == 0)
		snprintf(url, sizeof(url), "%s", path_or_url);
	else
		snprintf(url, sizeof(url), "%s%s", c->uplink_base_url, path_or_url);
	CURL *e = x->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "motcuad/" MOTCUA_VERSION);
	/* TLS: verification is always on; the CA file and the pin only narrow it. */
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->uplink_ca_file[0])
		curl_easy_setopt(e, CURLOPT_CAINFO, c->uplink_ca_file);
	if (c->uplink_pin[0])
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, c->uplink_pin);
	if (c->uplink_client_cert[0]) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->uplink_client_cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY,
				 c->uplink_client_key[0] ? c->uplink_client_key : c->uplink_client_cert);
	}
	/* "" turns off the *_proxy environment variables: only the config decides. */
	curl_easy_setopt(e, CURLOPT_PROXY, c->uplink_proxy);
	if (c->uplink_proxy[0])
		curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)c->uplink_connect_timeout_s);
	/* A transfer that moves nothing for stall_timeout_s is given up: the link is suspect. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)c->uplink_stall_timeout_s);
	if (op == OP_PROBE) {
		long t = (long)(c->uplink_connect_timeout_s < 3 ? c->uplink_connect_timeout_s : 3);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, t);
		curl_easy_setopt(e, CURLOPT_TIMEOUT, t + 2);
		/* A fresh connection: a probe must prove the path works now. */
		curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	} else if (op != OP_PATCH) {
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
	}
	/* No "Expect: 100-continue" on small JSON bodies (a round trip for nothing). */
	if (op != OP_PATCH)
		xfer_header(x, "Expect:");
	return x;
}

int xfer_header(struct xfer *x, const char *line)
{
	struct curl_slist *n = curl_slist_append(x->hdrs, line);
	if (!n)
		return -ENOMEM;
	x->hdrs = n;
	return 0;
}

void xfer_post(struct xfer *x, char *body, const char *content_type)
{
	char h[96];
	free(x->post);
	x->post = body;
	curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
	if (content_type) {
		snprintf(h, sizeof(h), "Content-Type: %s", content_type);
		xfer_header(x, h);
	}
}

/* PATCH of x->body (set by the caller) at an offset. */
static void set_patch(struct xfer *x)
{
	curl_easy_setopt(x->easy, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "PATCH");
	curl_easy_setopt(x->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body_len);
	curl_easy_setopt(x->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
	/* The server checks the offset before the body: a repeated chunk never crosses. */
	xfer_header(x, "Expect: 100-continue");
	xfer_header(x, "Content-Type: application/offset+octet-stream");
}

int xfer_auth(struct xfer *x)
{
	char h[LGSP_TOKEN_MAX + 32];
	if (!token_ready(x->u))
		return -EAGAIN;
	snprintf(h, sizeof(h), "Authorization: Bearer %s", x->u->token);
	x->token_gen = x->u->token_gen;
	int r = xfer_header(x, h);
	memset(h, 0, sizeof(h));
	return r;
}

int xfer_start(struct xfer *x)
{
	CURLMcode mc;
	if (x->op == OP_PATCH)
		set_patch(x);
	if (x->hdrs)
		curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	x->progress_ms = x->u->now;
	mc = curl_multi_add_handle(x->u->multi, x->easy);
	if (mc != CURLM_OK) {
		log_error("uplink: cannot start a request: %s", curl_multi_strerror(mc));
		xfer_free(x);
		return -ENOMEM;
	}
	return 0;
}

void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	if (x->easy) {
		curl_multi_remove_handle(x->u->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	if (x->paused)
		x->u->npaused--;
	/* The header list holds the bearer token. */
	for (struct curl_slist *s = x->hdrs; s; s = s->next)
		memset(s->data, 0, strlen(s->data));
	curl_slist_free_all(x->hdrs);
	free(x->resp);
	free(x->post);
	free(x);
}
