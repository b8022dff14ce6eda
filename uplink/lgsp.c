/* Reading LGSP answers: bounded, validated field by field (they are hostile bytes). */
#include "uplink/lgsp.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static json_t *load(const char *body, size_t len)
{
	json_t *j;
	if (!body || len == 0 || len > LGSP_ANSWER_MAX)
		return NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static int hex64(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

/* up_ followed by 24 lower-case hex digits (docs/lgsp.md 6.1). */
static int upload_id_valid(const char *s)
{
	size_t i;
	if (strncmp(s, "up_", 3) != 0)
		return 0;
	for (i = 3; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 27;
}

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

int lgsp_parse_upload(const char *body, size_t len, struct lgsp_upload *ret)
{
	struct lgsp_upload u;
	json_t *j = load(body, len);
	int r = -EPROTO;
	if (!j)
		return -EPROTO;
	memset(&u, 0, sizeof(u));
	const char *id = str(j, "upload_id"), *state = str(j, "state");
	json_t *size = json_object_get(j, "size"), *off = json_object_get(j, "offset");
	json_t *cm = json_object_get(j, "chunk_max");
	if (!id || !upload_id_valid(id) || !state || !json_is_integer(size) || !json_is_integer(off))
		goto out;
	u.size = json_integer_value(size);
	u.offset = json_integer_value(off);
	if (u.size < 1 || u.offset < 0 || u.offset > u.size)
		goto out;
	if (strcmp(state, "complete") == 0) {
		if (u.offset != u.size)
			goto out;
		u.complete = 1;
	} else if (strcmp(state, "open") != 0) {
		goto out;
	}
	if (json_is_integer(cm)) {
		u.chunk_max = json_integer_value(cm);
		if (u.chunk_max < 1024 || u.chunk_max > (16 << 20))
			goto out;
	}
	snprintf(u.upload_id, sizeof(u.upload_id), "%s", id);
	*ret = u;
	r = 0;
out:
	json_decref(j);
	return r;
}

int lgsp_parse_receipt(const char *body, size_t len, const char *idem_key, const char *sent_sha256,
		       struct lgsp_receipt *ret)
{
	struct lgsp_receipt rc;
	json_t *j = load(body, len);
	int r = -EPROTO;
	if (!j)
		return -EPROTO;
	memset(&rc, 0, sizeof(rc));
	const char *id = str(j, "receipt_id"), *t = str(j, "time"), *h = str(j, "hash");
	const char *key = str(j, "idempotency_key");
	if (!id || !*id || strlen(id) > 64 || !t || !*t || strlen(t) > 40 || !h || !hex64(h))
		goto out;
	for (const char *p = id; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			goto out;
	for (const char *p = t; *p; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e || *p == '"' || *p == '\\')
			goto out;
	/* A receipt for other bytes or another key is not ours, whatever its status. */
	if (strcmp(h, sent_sha256) != 0 || (key && strcmp(key, idem_key) != 0)) {
		r = -EBADMSG;
		goto out;
	}
	snprintf(rc.receipt_id, sizeof(rc.receipt_id), "%s", id);
	snprintf(rc.time, sizeof(rc.time), "%s", t);
	snprintf(rc.hash, sizeof(rc.hash), "%s", h);
	*ret = rc;
	r = 0;
out:
	json_decref(j);
	return r;
}

/* Copies a string member keeping printable characters only (it ends up in logs and on
 * staff screens). */
static void copy_clean(char *out, size_t size, const char *in)
{
	size_t n = 0;
	for (; in && *in && n + 1 < size; in++)
		out[n++] = ((unsigned char)*in < 0x20 || *in == 0x7f) ? ' ' : *in;
	out[n] = '\0';
}

void lgsp_parse_error(const char *body, size_t len, struct lgsp_error *ret)
{
	json_t *j = load(body, len);
	memset(ret, 0, sizeof(*ret));
	if (!j)
		return;
	copy_clean(ret->error, sizeof(ret->error), str(j, "error"));
	copy_clean(ret->field, sizeof(ret->field), str(j, "field"));
	copy_clean(ret->reason, sizeof(ret->reason), str(j, "reason"));
	json_t *off = json_object_get(j, "offset");
	if (json_is_integer(off) && json_integer_value(off) >= 0) {
		ret->has_offset = 1;
		ret->offset = json_integer_value(off);
	}
	json_decref(j);
}

int lgsp_parse_token(const char *body, size_t len, char token[LGSP_TOKEN_MAX + 1], int64_t *ret_expires_in)
{
	json_t *j = load(body, len);
	int r = -EPROTO;
	if (!j)
		return -EPROTO;
	const char *t = str(j, "access_token"), *type = str(j, "token_type");
	json_t *exp = json_object_get(j, "expires_in");
	if (!t || !type || strcasecmp(type, "Bearer") != 0 || !*t || strlen(t) > LGSP_TOKEN_MAX)
		goto out;
	for (const char *p = t; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      strchr("-._~+/=", *p)))
			goto out;
	/* expires_in is RECOMMENDED in RFC 6749; without it assume an hour. */
	int64_t e = json_is_integer(exp) ? json_integer_value(exp) : 3600;
	if (e < 1 || e > 30 * 86400)
		goto out;
	snprintf(token, LGSP_TOKEN_MAX + 1, "%s", t);
	*ret_expires_in = e;
	r = 0;
out:
	json_decref(j);
	return r;
}

static int parse_u64(const char *v, int64_t max, int64_t *ret)
{
	int64_t n = 0;
	size_t i;
	if (!v)
		return -EINVAL;
	while (*v == ' ' || *v == '\t')
		v++;
	for (i = 0; v[i] >= '0' && v[i] <= '9'; i++) {
		if (n > (max - (v[i] - '0')) / 10)
			return -EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	if (i == 0)
		return -EINVAL;
	for (; v[i]; i++)
		if (v[i] != ' ' && v[i] != '\t' && v[i] != '\r' && v[i] != '\n')
			return -EINVAL;
	*ret = n;
	return 0;
}

int lgsp_retry_after(const char *value, int64_t *ret_seconds)
{
	return parse_u64(value, 86400, ret_seconds);
}

int lgsp_parse_offset(const char *value, int64_t *ret)
{
	return parse_u64(value, INT64_C(1) << 40, ret);
}

enum lgsp_action lgsp_classify(long status, const char *error, int on_token)
{
	if (status >= 200 && status < 300)
		return LGSP_OK;
	if (status == 408 || status == 429 || status >= 500)
		return LGSP_RETRY;
	if (status == 401)
		return on_token || strcmp(error, "invalid_client") == 0 ? LGSP_STOP : LGSP_REAUTH;
	if (status == 403)
		return LGSP_STOP;
	if (status == 409) {
		if (strcmp(error, "offset_mismatch") == 0 || strcmp(error, "upload_incomplete") == 0)
			return LGSP_RESYNC;
		/* request_in_progress, or a 409 we do not know: the request may work later. */
		return LGSP_BUSY;
	}
	if (status == 404 && strcmp(error, "unknown_upload") == 0)
		return LGSP_UNKNOWN_UPLOAD;
	if (status == 422 && strcmp(error, "hash_mismatch") == 0)
		return LGSP_HASH_MISMATCH;
	if (status >= 400 && status < 500)
		return LGSP_REJECT;
	/* 1xx/3xx as a final answer: not the contract; treat like a network fault. */
	return LGSP_RETRY;
}

int lgsp_wire_key(const char *idem_key, char out[LGSP_KEY_MAX + 1])
{
	size_t n = strlen(idem_key);
	if (n == 0 || n > LGSP_KEY_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = idem_key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("._:~-", c)))
			return -EINVAL;
	}
	memcpy(out, idem_key, n);
	while (n < 8)
		out[n++] = '~';
	out[n] = '\0';
	return 0;
}

void lgsp_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = '\0';
}

void lgsp_reason(long status, const struct lgsp_error *e, char *out, size_t size)
{
	snprintf(out, size, "HTTP %ld %s%s%s%s: %s", status, e->error[0] ? e->error : "(no error code)",
		 e->field[0] ? " (" : "", e->field, e->field[0] ? ")" : "",
		 e->reason[0] ? e->reason : "the LGSP gave no reason");
}
