/* Device message parsing: every field bounded and checked against its alphabet. */
#include "devices/proto.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int proto_token(const char *s, size_t max, const char *extra)
{
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n + 1 >= max)
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr(extra, c))))
			return 0;
	}
	return n > 0;
}

static json_t *load(const void *buf, size_t len, size_t max, char *why, size_t whylen)
{
	json_error_t e;
	if (len > max) {
		snprintf(why, whylen, "message is %zu bytes, more than the limit of %zu", len, max);
		return NULL;
	}
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	if (!j) {
		snprintf(why, whylen, "not JSON: %s at byte %d", e.text, e.position);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(why, whylen, "not a JSON object");
		return NULL;
	}
	return j;
}

static int field(json_t *o, const char *name, char *out, size_t max, const char *extra, char *why,
		 size_t whylen)
{
	const char *s = json_string_value(json_object_get(o, name));
	if (!s || !proto_token(s, max, extra)) {
		snprintf(why, whylen, "field \"%s\" must be 1-%zu characters of A-Z, a-z, 0-9 and \"%s\"",
			 name, max - 1, extra);
		return -EINVAL;
	}
	snprintf(out, max, "%s", s);
	return 0;
}

int proto_hello_parse(const void *buf, size_t len, struct proto_hello *ret, char *why, size_t whylen)
{
	struct proto_hello h;
	json_t *j = load(buf, len, PROTO_HELLO_MAX, why, whylen), *caps, *v;
	size_t i, n;
	int r = -EINVAL;

	if (!j)
		return len > PROTO_HELLO_MAX ? -EMSGSIZE : -EINVAL;
	memset(&h, 0, sizeof(h));
	if (field(j, "kind", h.kind, sizeof(h.kind), "-", why, whylen) < 0 ||
	    field(j, "model", h.model, sizeof(h.model), " ._-+/", why, whylen) < 0 ||
	    field(j, "serial", h.serial, sizeof(h.serial), "._-", why, whylen) < 0 ||
	    field(j, "firmware", h.firmware, sizeof(h.firmware), "._-+", why, whylen) < 0)
		goto out;
	if (!devices_kind_valid(h.kind)) {
		snprintf(why, whylen,
			 "field \"kind\" must be kiosk, id-scanner, doc-scanner, printer or display");
		goto out;
	}
	caps = json_object_get(j, "capabilities");
	if (caps && !json_is_array(caps)) {
		snprintf(why, whylen, "field \"capabilities\" must be an array of strings");
		goto out;
	}
	n = snprintf(h.capabilities, sizeof(h.capabilities), "[");
	json_array_foreach (caps, i, v) {
		const char *s = json_string_value(v);
		if (!s || !proto_token(s, 33, "._-")) {
			snprintf(why, whylen,
				 "capabilities[%zu] must be 1-32 characters of A-Z, a-z, 0-9, '.', '_', '-'",
				 i);
			goto out;
		}
		if (n + strlen(s) + 4 >= sizeof(h.capabilities)) {
			snprintf(why, whylen, "field \"capabilities\" is longer than %zu bytes",
				 sizeof(h.capabilities) - 1);
			goto out;
		}
		n += snprintf(h.capabilities + n, sizeof(h.capabilities) - n, "%s\"%s\"", i ? "," : "", s);
	}
	snprintf(h.capabilities + n, sizeof(h.capabilities) - n, "]");
	*ret = h;
	r = 0;
out:
	json_decref(j);
	return r;
}

static const char *const doc_kinds[] = { "id-front", "id-back", "page", "original-for-copy" };

int proto_doc_props(const char *const *names, const char *const *values, size_t n, struct proto_doc *ret,
		    char *why, size_t whylen)
{
	static const struct {
		const char *name;
		size_t off, size;
		const char *extra;
		int required;
	} f[] = {
		{ "doc-id", offsetof(struct proto_doc, doc_id), PROTO_DOC_ID_MAX, "._-", 1 },
		{ "sha256", offsetof(struct proto_doc, sha256), 65, "", 1 },
		{ "content-type", offsetof(struct proto_doc, content_type), 32, "/.+-", 1 },
		{ "kind", offsetof(struct proto_doc, kind), 24, "-", 1 },
		{ "session", offsetof(struct proto_doc, session), PROTO_SESSION_MAX, "._:-", 0 },
	};
	struct proto_doc d;
	int seen[5] = { 0 };

	memset(&d, 0, sizeof(d));
	if (n > PROTO_PROPS_MAX) {
		snprintf(why, whylen, "more than %d user properties", PROTO_PROPS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < 5; k++) {
			if (!names[i] || strcmp(names[i], f[k].name) != 0)
				continue;
			if (seen[k]) {
				snprintf(why, whylen, "user property %s appears twice", f[k].name);
				return -EINVAL;
			}
			seen[k] = 1;
			if (!values[i] || !proto_token(values[i], f[k].size, f[k].extra)) {
				snprintf(
				    why, whylen,
				    "user property %s must be 1-%zu characters of A-Z, a-z, 0-9 and \"%s\"",
				    f[k].name, f[k].size - 1, f[k].extra);
				return -EINVAL;
			}
			snprintf((char *)&d + f[k].off, f[k].size, "%s", values[i]);
		}
	}
	for (size_t k = 0; k < 5; k++)
		if (f[k].required && !seen[k]) {
			snprintf(why, whylen, "user property %s is missing", f[k].name);
			return -EINVAL;
		}
	if (strlen(d.sha256) != 64 || strspn(d.sha256, "0123456789abcdef") != 64) {
		snprintf(why, whylen, "user property sha256 must be 64 lowercase hex digits");
		return -EINVAL;
	}
	int kind_ok = 0;
	for (size_t k = 0; k < sizeof(doc_kinds) / sizeof(doc_kinds[0]); k++)
		kind_ok |= strcmp(d.kind, doc_kinds[k]) == 0;
	if (!kind_ok) {
		snprintf(why, whylen,
			 "user property kind must be id-front, id-back, page or original-for-copy");
		return -EINVAL;
	}
	*ret = d;
	return 0;
}

int proto_cmd_ack_parse(const void *buf, size_t len, struct proto_cmd_ack *ret)
{
	char why[128];
	json_t *j = load(buf, len, PROTO_CTRL_MAX, why, sizeof(why));
	int r = -EINVAL;
	if (!j)
		return -EINVAL;
	json_t *id = json_object_get(j, "cmd_id");
	const char *res = json_string_value(json_object_get(j, "result"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	if (json_is_integer(id) && json_integer_value(id) > 0 && res &&
	    (strcmp(res, "done") == 0 || strcmp(res, "failed") == 0)) {
		memset(ret, 0, sizeof(*ret));
		ret->cmd_id = json_integer_value(id);
		ret->ok = strcmp(res, "done") == 0;
		size_t k = 0;
		/* Printable ASCII only: the reason is shown to staff and kept in the store. */
		for (size_t i = 0; reason && reason[i] && k + 1 < sizeof(ret->reason); i++)
			ret->reason[k++] =
			    (reason[i] >= 0x20 && reason[i] < 0x7f && reason[i] != '"' && reason[i] != '\\')
			    ? reason[i]
			    : '?';
		ret->reason[k] = '\0';
		r = 0;
	}
	json_decref(j);
	return r;
}

int proto_queue_take_parse(const void *buf, size_t len, struct proto_queue_take *ret, char *why,
			   size_t whylen)
{
	struct proto_queue_take q;
	json_t *j = load(buf, len, PROTO_CTRL_MAX, why, whylen);
	int r = -EINVAL;
	if (!j)
		return len > PROTO_CTRL_MAX ? -EMSGSIZE : -EINVAL;
	memset(&q, 0, sizeof(q));
	snprintf(q.print, sizeof(q.print), "kiosk");
	const char *svc = json_string_value(json_object_get(j, "service"));
	json_t *pr = json_object_get(j, "print");
	if (field(j, "req_id", q.req_id, sizeof(q.req_id), "._-", why, whylen) < 0)
		goto out;
	if (!svc || strlen(svc) != 1 ||
	    !((svc[0] >= 'A' && svc[0] <= 'Z') || (svc[0] >= 'a' && svc[0] <= 'z'))) {
		snprintf(why, whylen, "field \"service\" must be one letter A-Z");
		goto out;
	}
	q.service[0] = (char)(svc[0] & ~0x20);
	if (pr) {
		const char *p = json_string_value(pr);
		if (!p || (strcmp(p, "kiosk") != 0 && strcmp(p, "box") != 0 && strcmp(p, "none") != 0)) {
			snprintf(why, whylen, "field \"print\" must be kiosk, box or none");
			goto out;
		}
		snprintf(q.print, sizeof(q.print), "%s", p);
	}
	*ret = q;
	r = 0;
out:
	json_decref(j);
	return r;
}

/* A string field under 256 bytes, else NULL. */
static const char *short_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && strlen(s) < 256 ? s : NULL;
}

int proto_dossier_req_parse(const void *buf, size_t len, struct proto_dossier_req *req)
{
	json_error_t e;
	json_t *j = len > 0 && len <= PROTO_CTRL_MAX ? json_loadb(buf, len, 0, &e) : NULL;
	const char *rid = short_str(j, "req_id");

	memset(req, 0, sizeof(*req));
	if (rid && proto_token(rid, PROTO_REQ_ID_MAX - 1, "._-"))
		snprintf(req->req_id, sizeof(req->req_id), "%s", rid);
	if (!json_is_object(j) || !req->req_id[0]) {
		json_decref(j);
		return len > PROTO_CTRL_MAX ? -EMSGSIZE : -EINVAL;
	}
	req->procedure = short_str(j, "procedure");
	req->id_card = short_str(j, "id_card");
	req->name = short_str(j, "name");
	req->id_number = short_str(j, "id_number");
	json_t *n = json_object_get(j, "dossier");
	req->has_dossier = json_is_integer(n);
	req->dossier = (long long)json_integer_value(n);
	req->json = j;
	return 0;
}

void proto_dossier_req_done(struct proto_dossier_req *req)
{
	if (!req)
		return;
	json_decref(req->json);
	memset(req, 0, sizeof(*req));
}

int proto_dossier_session(const char *session, long long *ret_n, char *item, size_t itemlen)
{
	char *end;
	if (strncmp(session, "dossier:", 8) != 0)
		return 0;
	*ret_n = strtoll(session + 8, &end, 10);
	if (*end != ':' || strlen(end + 1) >= itemlen)
		return -EINVAL;
	snprintf(item, itemlen, "%s", end + 1);
	return 1;
}

int proto_status_parse(const void *buf, size_t len, int *ret_online)
{
	char why[128];
	json_t *j = load(buf, len, PROTO_CTRL_MAX, why, sizeof(why));
	int r = -EINVAL;
	if (!j)
		return -EINVAL;
	const char *s = json_string_value(json_object_get(j, "state"));
	if (s && (strcmp(s, "online") == 0 || strcmp(s, "offline") == 0)) {
		*ret_online = strcmp(s, "online") == 0;
		r = 0;
	}
	json_decref(j);
	return r;
}

int proto_topic(const char *topic, char *dev, size_t devlen, const char **ret_rest)
{
	static const char dp[] = TOPIC_ROOT "/dev/", pp[] = TOPIC_ROOT "/provision/";
	const char *p, *slash;
	int type;

	if (strncmp(topic, dp, sizeof(dp) - 1) == 0) {
		p = topic + sizeof(dp) - 1;
		type = 1;
	} else if (strncmp(topic, pp, sizeof(pp) - 1) == 0) {
		p = topic + sizeof(pp) - 1;
		type = 2;
	} else {
		return 0;
	}
	slash = strchr(p, '/');
	if (!slash || slash == p || (size_t)(slash - p) >= devlen)
		return 0;
	memcpy(dev, p, (size_t)(slash - p));
	dev[slash - p] = '\0';
	if (!proto_token(dev, devlen, "._-"))
		return 0;
	if (type == 2 && strcmp(slash + 1, "hello") != 0)
		return 0;
	*ret_rest = slash + 1;
	return type;
}
