/* Documents from devices (checked, handed to intake_document, answered on the device's ack
 * topic only after the commit) and staff commands to devices with their acks. */
#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/edge.h"
#include "gateway/ctlproto.h"
#include "gateway/intake.h"
#include "gateway/log.h"
#include "store/db.h"
#include "store/docs.h"

struct mem {
	const unsigned char *p;
	size_t left;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *m = ctx;
	if (len > m->left)
		len = m->left;
	memcpy(buf, m->p, len);
	m->p += len;
	m->left -= len;
	return (ssize_t)len;
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* result: stored, duplicate, rejected (do not resend as is) or retry (resend later). */
static void ack(struct edge *e, const char *id, const char *doc_id, const char *result,
		const struct doc_meta *m, int err, const char *reason, json_t *dossier)
{
	char topic[128];
	json_t *j = json_pack("{s:s, s:s}", "doc_id", doc_id, "result", result);
	if (!j) {
		json_decref(dossier);
		return;
	}
	if (dossier)
		json_object_set_new(j, "dossier", dossier);
	if (m) {
		json_object_set_new(j, "id", json_string(m->id));
		json_object_set_new(j, "sha256", json_string(m->sha256));
		json_object_set_new(j, "received_at", json_string(m->received_at));
	}
	if (err) {
		json_object_set_new(j, "error", json_string(ctl_errno_name(err)));
		json_object_set_new(j, "reason", json_string(reason));
	}
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		return;
	snprintf(topic, sizeof(topic), TOPIC_ROOT "/dev/%s/ack", id);
	edge_publish(e, topic, text, 0);
	free(text);
}

static int permanent(int err)
{
	return err == -EMSGSIZE || err == -EMEDIUMTYPE || err == -EINVAL || err == -EEXIST ||
	    err == -EBADMSG || err == -EACCES || err == -EPROTO;
}

void docin_document(struct edge *e, const char *id, const struct mosquitto_message *msg,
		    const mosquitto_property *props)
{
	const char *names[PROTO_PROPS_MAX + 1], *values[PROTO_PROPS_MAX + 1];
	char *owned[2 * (PROTO_PROPS_MAX + 1)];
	const mosquitto_property *p;
	struct proto_doc pd;
	struct device d;
	struct doc_meta m;
	char why[512] = "", key[DOC_KEY_MAX], hash[65];
	size_t n = 0, nowned = 0;
	int r;

	/* User properties, at most one more than allowed so that too many is noticed. */
	for (p = props; n <= PROTO_PROPS_MAX; p = mosquitto_property_next(p)) {
		char *name = NULL, *value = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, false);
		if (!p)
			break;
		names[n] = name;
		values[n] = value;
		owned[nowned++] = name;
		owned[nowned++] = value;
		n++;
	}
	memset(&pd, 0, sizeof(pd));
	r = proto_doc_props(names, values, n, &pd, why, sizeof(why));
	if (r < 0) {
		/* Answer with whatever doc-id was given, so the device can match the refusal. */
		for (size_t i = 0; i < n; i++)
			if (strcmp(names[i], "doc-id") == 0 &&
			    proto_token(values[i], PROTO_DOC_ID_MAX, "._-"))
				snprintf(pd.doc_id, sizeof(pd.doc_id), "%s", values[i]);
		goto refuse;
	}
	r = devices_get(e->db, id, &d);
	if (r < 0 || strcmp(d.id, id) != 0 ||
	    (strcmp(d.state, "approved") != 0 && strcmp(d.state, "active") != 0)) {
		snprintf(why, sizeof(why), "device %s is not approved", id);
		r = -EACCES;
		goto refuse;
	}
	sha256_hex(msg->payload, (size_t)msg->payloadlen, hash);
	if (strcmp(hash, pd.sha256) != 0) {
		snprintf(
		    why, sizeof(why),
		    "the payload's SHA-256 is %s but the sha256 property says %s: the document was damaged "
		    "or cut on the way; send it again",
		    hash, pd.sha256);
		r = -EBADMSG;
		goto refuse;
	}
	const char *sniffed = intake_sniff(msg->payload, (size_t)msg->payloadlen);
	if (sniffed && strcmp(sniffed, pd.content_type) != 0) {
		snprintf(why, sizeof(why), "content-type says %s but the bytes are %s", pd.content_type,
			 sniffed);
		r = -EMEDIUMTYPE;
		goto refuse;
	}
	snprintf(key, sizeof(key), "%s:%s", id, pd.doc_id);
	struct mem src = { .p = msg->payload, .left = (size_t)msg->payloadlen };
	struct intake_request ir = {
		.declared_size = msg->payloadlen,
		.max_bytes = config_max_document_bytes(&e->cfg),
		.low_water_bytes = config_low_water_bytes(&e->cfg),
		.kind = pd.kind,
		.source = id,
		.name = pd.doc_id,
		.intake_key = key,
		.actor = id,
	};
	r = intake_document(e->store, e->db, &ir, mem_read, &src, &m, why, sizeof(why));
	if (r < 0)
		goto refuse;
	/* The document is durable: link it to the device's id and session, then say so. */
	devices_doc_link(e->db, id, pd.doc_id, m.id, pd.session);
	log_debug("devices: %s document %s from %s: %s", r == 1 ? "duplicate" : "stored", pd.doc_id, id,
		  m.id);
	ack(e, id, pd.doc_id, r == 1 ? "duplicate" : "stored", &m, 0, NULL,
	    pd.session[0] ? dedge_attach(e, id, pd.session, m.id) : NULL);
	goto out;
refuse:
	log_warn("devices: document %s from %s refused: %s", pd.doc_id[0] ? pd.doc_id : "(no doc-id)", id,
		 why);
	ack(e, id, pd.doc_id, permanent(r) ? "rejected" : "retry", NULL, r, why, NULL);
out:
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
}

void docin_cmd_ack(struct edge *e, const char *id, const void *payload, int len)
{
	struct proto_cmd_ack a;
	struct device_cmd c;
	if (proto_cmd_ack_parse(payload, (size_t)len, &a) < 0) {
		log_debug("devices: unreadable command ack from %s", id);
		return;
	}
	if (devices_cmd_get(e->db, a.cmd_id, &c) < 0 || strcmp(c.device, id) != 0)
		return; /* not a command of this device */
	devices_cmd_set(e->db, a.cmd_id, a.ok ? "done" : "failed", a.reason);
}

static int send_cmd(void *ctx, const struct device_cmd *c)
{
	struct edge *e = ctx;
	char topic[128];
	json_t *body = json_loads(c->body, 0, NULL);
	json_t *j = json_pack("{s:I, s:s, s:o}", "cmd_id", (json_int_t)c->id, "cmd", c->cmd, "body",
			      body ? body : json_object());
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	snprintf(topic, sizeof(topic), TOPIC_ROOT "/dev/%s/cmd", c->device);
	int r = edge_publish(e, topic, text, 0);
	free(text);
	if (r == 0)
		devices_cmd_set(e->db, c->id, "sent", "");
	return r;
}

void docin_tick(struct edge *e)
{
	devices_cmd_queued(e->db, 50, send_cmd, e);
}
