/* The HTTP side of motcua-lgsp-sim: libmicrohttpd (one thread per connection, optional TLS and
 * mutual TLS through GnuTLS), routing, bounded request bodies, authentication, and the faults
 * injected on the wire (5xx, 429, latency, connections cut mid-request or mid-response). */
#include "tools/lgsp-sim/sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/log.h"
#include "store/fsutil.h"

#define MEMORY_LIMIT (64 * 1024) /* per connection: request line, headers, read buffer */
#define PEM_MAX (256 * 1024)
#define DRAIN_MAX (32 * 1024 * 1024) /* body read and dropped before an early answer */

/* One request in flight. */
struct req {
	struct sim_route route;
	int lgsp; /* under /lgsp/v1: faults and auth apply */
	enum fault fault;
	int64_t reset_after; /* cut the connection after this many body bytes, or -1 */
	int have_early; /* answer decided before the body */
	struct reply early;
	char client[SIM_CLIENT_ID_MAX];
	char key[SIM_KEY_MAX + 1];
	char *body;
	size_t body_len, body_cap, body_max;
	int too_large;
	int64_t received;
	struct upload_write w;
};

/* Cuts a response body after its first half, then fails: the client sees a short body. */
struct cut {
	char *text;
	size_t len, keep;
};

static struct {
	char *key, *cert, *trust;
	size_t key_len;
} pem;

void reply_json(struct reply *rp, unsigned status, json_t *body)
{
	json_decref(rp->body);
	rp->status = status;
	rp->body = body;
	if (!body)
		rp->status = 500;
}

void reply_error(struct reply *rp, unsigned status, const char *code, const char *field, const char *reason)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "reason", reason ? reason : "");
	if (o && field && *field)
		json_object_set_new(o, "field", json_string(field));
	reply_json(rp, status, o);
}

void reply_err(struct reply *rp, const struct sim_err *err)
{
	reply_error(rp, (unsigned)err->status, err->code, err->field, err->reason);
}

void reply_header(struct reply *rp, const char *name, const char *value)
{
	if (rp->nhdrs >= SIM_HDRS_MAX)
		return;
	snprintf(rp->hname[rp->nhdrs], sizeof(rp->hname[0]), "%s", name);
	snprintf(rp->hval[rp->nhdrs], sizeof(rp->hval[0]), "%s", value);
	rp->nhdrs++;
}

static void count(struct sim *s, const char *name)
{
	pthread_mutex_lock(&s->lock);
	simdb_count(s, name, 1);
	pthread_mutex_unlock(&s->lock);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* 1 when the connection presented a client certificate that chains to --tls-client-ca. */
static int client_cert_ok(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	unsigned status = 0, n = 0;
	if (!ci || !ci->tls_session)
		return 0;
	gnutls_session_t ts = (gnutls_session_t)ci->tls_session;
	if (!gnutls_certificate_get_peers(ts, &n) || n == 0)
		return 0;
	return gnutls_certificate_verify_peers2(ts, &status) == 0 && status == 0;
}

static int ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);
	return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';');
}

static void early(struct req *q)
{
	q->have_early = 1;
}

/* Everything that can be decided from the request line and headers. */
static void begin(struct sim *s, struct MHD_Connection *c, const char *url, const char *method, struct req *q)
{
	struct reply *rp = &q->early;
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	uint64_t clen = 0;
	int has_cl = cl && sim_parse_u64(cl, INT64_MAX, &clen) == 0;
	int r;

	q->reset_after = -1;
	q->lgsp = strncmp(url, "/lgsp/", 6) == 0;
	r = sim_route_parse(method, url, &q->route);
	if (q->lgsp) {
		count(s, "requests");
		if (s->o.latency_ms) {
			struct timespec ts = { s->o.latency_ms / 1000,
					       (long)(s->o.latency_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
			count(s, "fault_delayed");
		}
		pthread_mutex_lock(&s->lock);
		q->fault = faults_pick(s);
		uint64_t pick = faults_below(s, 3);
		/* A reset cuts the request body (no effect) or, after the effect, the answer. */
		int in_request = s->o.reset_at == RESET_AT_REQUEST ||
		    (s->o.reset_at == RESET_AT_ANY && faults_below(s, 2) == 0);
		if (q->fault == FAULT_RESET && in_request && q->route.has_body && has_cl && clen >= 2 &&
		    r == 0)
			q->reset_after = 1 + (int64_t)faults_below(s, clen - 1);
		pthread_mutex_unlock(&s->lock);
		char ra[16];
		snprintf(ra, sizeof(ra), "%u", s->o.retry_after);
		if (q->fault == FAULT_5XX) {
			static const unsigned codes[] = { 500, 502, 503 };
			count(s, "fault_http_5xx");
			reply_error(rp, codes[pick], "injected_fault", "", "simulated server failure");
			if (codes[pick] == 503)
				reply_header(rp, "Retry-After", ra);
			return early(q);
		}
		if (q->fault == FAULT_429) {
			count(s, "fault_http_429");
			reply_error(rp, 429, "rate_limited", "",
				    "too many requests; wait Retry-After seconds");
			reply_header(rp, "Retry-After", ra);
			return early(q);
		}
	}
	if (r == -EOPNOTSUPP) {
		reply_error(rp, 405, "method_not_allowed", "", "this path does not take this method");
		return early(q);
	}
	if (r < 0) {
		reply_error(rp, 404, "not_found", "", "no such resource");
		return early(q);
	}
	if (q->lgsp && s->o.tls_client_ca && !client_cert_ok(c)) {
		reply_error(rp, 403, "client_certificate_required", "",
			    "a client certificate issued by the platform's CA is required");
		return early(q);
	}
	if (q->lgsp && q->route.kind != ROUTE_TOKEN && q->route.kind != ROUTE_PING &&
	    token_check(s, header(c, MHD_HTTP_HEADER_AUTHORIZATION), q->client, rp) < 0)
		return early(q);
	if (q->route.kind == ROUTE_UPLOAD_CREATE || q->route.kind == ROUTE_SUBMIT) {
		const char *k = header(c, "Idempotency-Key");
		if (!k) {
			reply_error(rp, 400, "missing_idempotency_key", "Idempotency-Key",
				    "this request needs an Idempotency-Key header");
			return early(q);
		}
		if (sim_idem_key_check(k) < 0) {
			reply_error(rp, 400, "invalid_idempotency_key", "Idempotency-Key",
				    "Idempotency-Key must be 8 to 128 of A-Z a-z 0-9 . _ : ~ -");
			return early(q);
		}
		snprintf(q->key, sizeof(q->key), "%s", k);
	}
	if (q->route.kind == ROUTE_UPLOAD_PATCH) {
		if (upload_write_begin(s, q->client, q->route.arg, header(c, "Upload-Offset"), cl,
				       header(c, MHD_HTTP_HEADER_CONTENT_TYPE), &q->w, rp) < 0)
			return early(q);
		return;
	}
	if (!q->route.has_body)
		return;
	const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (q->route.kind == ROUTE_TOKEN) {
		q->body_max = SIM_FORM_MAX;
		if (!ctype_is(ct, "application/x-www-form-urlencoded")) {
			reply_error(rp, 415, "unsupported_media_type", "Content-Type",
				    "send application/x-www-form-urlencoded");
			return early(q);
		}
	} else {
		q->body_max = s->o.json_max;
		if (!ctype_is(ct, "application/json")) {
			reply_error(rp, 415, "unsupported_media_type", "Content-Type",
				    "send application/json");
			return early(q);
		}
	}
	if (has_cl && clen > q->body_max) {
		char why[96];
		snprintf(why, sizeof(why), "the body may hold at most %zu bytes", q->body_max);
		reply_error(rp, 413, "too_large", "Content-Length", why);
		return early(q);
	}
}

/* Takes the next n body bytes. */
static int consume(struct sim *s, struct req *q, const char *data, size_t n)
{
	if (q->route.kind == ROUTE_UPLOAD_PATCH)
		return upload_write_data(s, &q->w, data, n);
	if (q->too_large || q->body_len + n > q->body_max) {
		q->too_large = 1;
		return 0;
	}
	if (q->body_len + n + 1 > q->body_cap) {
		size_t cap = q->body_cap ? q->body_cap : 4096;
		while (cap < q->body_len + n + 1)
			cap *= 2;
		char *b = realloc(q->body, cap);
		if (!b)
			return -ENOMEM;
		q->body = b;
		q->body_cap = cap;
	}
	memcpy(q->body + q->body_len, data, n);
	q->body_len += n;
	q->body[q->body_len] = '\0';
	return 0;
}

static void dispatch(struct sim *s, struct MHD_Connection *c, struct req *q, struct reply *rp)
{
	const char *b = q->body ? q->body : "";
	char when[32];

	if (q->too_large) {
		char why[96];
		snprintf(why, sizeof(why), "the body may hold at most %zu bytes", q->body_max);
		reply_error(rp, 413, "too_large", "", why);
		return;
	}
	switch (q->route.kind) {
	case ROUTE_TOKEN: {
		char *pass = NULL, *user = MHD_basic_auth_get_username_password(c, &pass);
		token_issue(s, user, pass, b, q->body_len, rp);
		if (pass)
			OPENSSL_cleanse(pass, strlen(pass));
		MHD_free(user);
		MHD_free(pass);
		break;
	}
	case ROUTE_PING:
		sim_now_iso(when);
		reply_json(rp, 200, json_pack("{s:b, s:s}", "ok", 1, "time", when));
		break;
	case ROUTE_UPLOAD_CREATE: upload_create(s, q->client, q->key, b, q->body_len, rp); break;
	case ROUTE_UPLOAD_PATCH: upload_write_end(s, &q->w, rp); break;
	case ROUTE_UPLOAD_QUERY: upload_query(s, q->client, q->route.arg, rp); break;
	case ROUTE_UPLOAD_FINISH: upload_finish(s, q->client, q->route.arg, rp); break;
	case ROUTE_SUBMIT: submit_handle(s, q->client, q->route.arg, q->key, b, q->body_len, rp); break;
	case ROUTE_STATUS_PULL:
		status_pull(s, q->client, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"),
			    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit"), rp);
		break;
	case ROUTE_STATUS_ONE: status_one(s, q->client, q->route.arg, rp); break;
	case ROUTE_SIM_STATS:
		pthread_mutex_lock(&s->lock);
		reply_json(rp, 200, simdb_stats(s));
		pthread_mutex_unlock(&s->lock);
		break;
	case ROUTE_SIM_SET_STATUS: status_set(s, q->route.arg, b, q->body_len, rp); break;
	}
}

static ssize_t cut_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cut *k = cls;
	if (pos >= k->keep)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t n = k->keep - (size_t)pos;
	if (n > max)
		n = max;
	memcpy(buf, k->text + pos, n);
	return (ssize_t)n;
}

static void cut_free(void *cls)
{
	struct cut *k = cls;
	free(k->text);
	free(k);
}

static enum MHD_Result send_reply(struct sim *s, struct MHD_Connection *c, struct req *q, struct reply *rp,
				  const char *method)
{
	struct MHD_Response *resp;
	char *text = NULL;
	size_t len = 0;
	enum MHD_Result ret;

	if (rp->body) {
		text = json_dumps(rp->body, JSON_COMPACT);
		json_decref(rp->body);
		rp->body = NULL;
		if (!text)
			return MHD_NO;
		len = strlen(text);
	}
	if (q->fault == FAULT_RESET) {
		count(s, "fault_reset_response");
		struct cut *k = calloc(1, sizeof(*k));
		if (strcmp(method, "HEAD") == 0 || len < 2 || !k) {
			free(k);
			free(text);
			return MHD_NO; /* close without an answer */
		}
		k->text = text;
		k->len = len;
		k->keep = len / 2;
		resp = MHD_create_response_from_callback(len, 4096, cut_read, k, cut_free);
		if (!resp) {
			cut_free(k);
			return MHD_NO;
		}
	} else {
		resp = MHD_create_response_from_buffer(len, text ? text : (char *)"",
						       text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			free(text);
			return MHD_NO;
		}
	}
	if (len)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"application/json; charset=utf-8");
	for (int i = 0; i < rp->nhdrs; i++)
		MHD_add_response_header(resp, rp->hname[i], rp->hval[i]);
	ret = MHD_queue_response(c, rp->status ? rp->status : 500, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int expects_continue(struct MHD_Connection *c)
{
	const char *e = header(c, MHD_HTTP_HEADER_EXPECT);
	return e && strcasecmp(e, "100-continue") == 0;
}

/* A body the early answer waits for: known length of at most DRAIN_MAX. */
static int body_drainable(struct MHD_Connection *c)
{
	uint64_t n = 0;
	const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
	return cl && sim_parse_u64(cl, DRAIN_MAX, &n) == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct sim *s = cls;
	struct req *q = *con_cls;

	if (!q) {
		q = calloc(1, sizeof(*q));
		if (!q)
			return MHD_NO;
		q->w.fd = -1;
		*con_cls = q;
		begin(s, c, url, method, q);
		if (q->have_early && q->route.has_body && q->fault != FAULT_RESET &&
		    (expects_continue(c) || !body_drainable(c))) {
			/* Answer now: a client that sent Expect: 100-continue keeps its body.  One
			 * that did not is already sending it: the body is read and dropped below
			 * before the answer (closing first breaks its pipe mid-send), unless it is
			 * too large to be worth reading. */
			return send_reply(s, c, q, &q->early, method);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size, take = n;
		int cut = 0;
		*upload_data_size = 0;
		if (q->have_early)
			return MHD_YES;
		if (q->reset_after >= 0 && q->received + (int64_t)n >= q->reset_after) {
			take = (size_t)(q->reset_after - q->received);
			cut = 1;
		}
		if (take && consume(s, q, upload_data, take) < 0)
			return MHD_NO;
		q->received += (int64_t)take;
		if (cut) {
			count(s, "fault_reset_request");
			q->fault = FAULT_NONE;
			return MHD_NO;
		}
		return MHD_YES;
	}
	struct reply rp;
	memset(&rp, 0, sizeof(rp));
	if (q->have_early) {
		rp = q->early;
		memset(&q->early, 0, sizeof(q->early));
	} else {
		dispatch(s, c, q, &rp);
	}
	return send_reply(s, c, q, &rp, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct sim *s = cls;
	struct req *q = *con_cls;
	if (!q)
		return;
	upload_write_done(s, &q->w);
	json_decref(q->early.body);
	free(q->body);
	free(q);
	*con_cls = NULL;
}

static int read_pem(const char *path, char **ret, size_t *ret_len)
{
	size_t len = 0;
	int r = fs_read_small(path, PEM_MAX, ret, &len);
	if (r < 0)
		log_error("cannot read %s: %s", path, strerror(-r));
	if (ret_len)
		*ret_len = len;
	return r;
}

int http_start(struct sim *s, struct MHD_Daemon **ret)
{
	struct MHD_OptionItem ops[16];
	struct sockaddr_in sa4;
	struct sockaddr_in6 sa6;
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	int n = 0;

	memset(&sa4, 0, sizeof(sa4));
	memset(&sa6, 0, sizeof(sa6));
	if (inet_pton(AF_INET, s->o.listen, &sa4.sin_addr) == 1) {
		sa4.sin_family = AF_INET;
		sa4.sin_port = htons((uint16_t)s->o.port);
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &sa4 };
	} else if (inet_pton(AF_INET6, s->o.listen, &sa6.sin6_addr) == 1) {
		sa6.sin6_family = AF_INET6;
		sa6.sin6_port = htons((uint16_t)s->o.port);
		flags |= MHD_USE_IPv6;
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0, &sa6 };
	} else {
		log_error("--listen %s is not a numeric IPv4 or IPv6 address", s->o.listen);
		return -EINVAL;
	}
	if (s->o.tls_cert) {
		if (read_pem(s->o.tls_cert, &pem.cert, NULL) < 0 ||
		    read_pem(s->o.tls_key, &pem.key, &pem.key_len) < 0 ||
		    (s->o.tls_client_ca && read_pem(s->o.tls_client_ca, &pem.trust, NULL) < 0))
			return -EINVAL;
		flags |= MHD_USE_TLS;
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, pem.key };
		ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, pem.cert };
		if (pem.trust)
			ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, pem.trust };
	}
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT, s->o.max_conns, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT, s->o.conn_timeout, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_MEMORY_LIMIT, MEMORY_LIMIT, NULL };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s };
	ops[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };

	*ret = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (!*ret) {
		log_error("cannot listen on %s port %u (in use, or bad TLS files?)", s->o.listen, s->o.port);
		return -EADDRINUSE;
	}
	return 0;
}

unsigned http_bound_port(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	return di ? di->port : 0;
}

void http_stop(struct MHD_Daemon *d)
{
	if (d)
		MHD_stop_daemon(d);
	if (pem.key)
		OPENSSL_cleanse(pem.key, pem.key_len);
	free(pem.key);
	free(pem.cert);
	free(pem.trust);
	memset(&pem, 0, sizeof(pem));
}
