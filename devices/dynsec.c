/* Broker accounts through the dynamic-security plugin's $CONTROL topic.  Commands are
 * gathered and sent as one message per batch (the plugin rewrites its whole file for every
 * change); replies that hand out credentials wait until the broker has answered their batch,
 * so a device never tries credentials the broker does not know yet. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/edge.h"
#include "gateway/log.h"
#include "store/db.h"

#define CONTROL_TOPIC "$CONTROL/dynamic-security/v1"
#define ANSWER_TIMEOUT_MS 10000

void dynsec_add(struct edge *e, json_t *cmd)
{
	char corr[48];
	if (!cmd)
		return;
	snprintf(corr, sizeof(corr), "%s-%lld", e->boot_id, (long long)e->batch_seq);
	json_object_set_new(cmd, "correlationData", json_string(corr));
	if (json_array_size(e->batch) == 0)
		e->batch_first_ms = edge_now_ms();
	json_array_append_new(e->batch, cmd);
	if (json_array_size(e->batch) >= EDGE_BATCH_MAX)
		e->batch_urgent = 1;
}

static json_t *acl_rule(const char *type, const char *topic, int priority, int allow)
{
	return json_pack("{s:s, s:s, s:i, s:b}", "acltype", type, "topic", topic, "priority", priority,
			 "allow", allow);
}

static json_t *acl(const char *type, const char *topic)
{
	return acl_rule(type, topic, 0, 1);
}

/* Creates role (if missing) and adds each ACL (an existing one is reported and ignored). */
static void role(struct edge *e, const char *name, json_t *acls)
{
	size_t i;
	json_t *a;
	dynsec_add(e, json_pack("{s:s, s:s}", "command", "createRole", "rolename", name));
	json_array_foreach (acls, i, a) {
		json_t *c = json_deep_copy(a);
		json_object_set_new(c, "command", json_string("addRoleACL"));
		json_object_set_new(c, "rolename", json_string(name));
		dynsec_add(e, c);
	}
	json_decref(acls);
}

static int queue_acls_of(void *ctx, const struct device *d)
{
	struct edge *e = ctx;
	char name[64];
	if (strcmp(d->state, "approved") != 0 && strcmp(d->state, "active") != 0)
		return 0;
	json_t *acls = json_array();
	qedge_acls(d->id, d->kind, acls, acl);
	if (json_array_size(acls) == 0) {
		json_decref(acls);
		return 0;
	}
	snprintf(name, sizeof(name), "motcua-%s-%s", d->kind, d->id);
	role(e, name, acls);
	return 0;
}

void dynsec_setup(struct edge *e)
{
	const char *gw = TOPIC_ROOT "/gateway/status";

	/* motcuad itself: the admin role from `mosquitto_ctrl dynsec init` may read everything;
	 * it also needs to publish under the tree.  (Adding the role the first time makes the
	 * broker drop motcuad's connection once; it reconnects at once.) */
	role(e, "motcua-gateway", json_pack("[o]", acl("publishClientSend", TOPIC_ROOT "/#")));
	dynsec_add(e,
		   json_pack("{s:s, s:s, s:s}", "command", "addClientRole", "username", e->cfg.mqtt_user,
			     "rolename", "motcua-gateway"));
	/* The claim account.  Debian 12's mosquitto (2.0.11) does not expand %c in dynsec ACLs,
	 * so the reply topic is named after the device's random claim client id and a claim
	 * client may subscribe to one concrete reply topic only: a wildcard at that level is
	 * refused (higher-priority literal deny), so no device can read another's reply. */
	role(e, "motcua-claim",
	     json_pack("[o, o, o, o, o]", acl("publishClientSend", TOPIC_ROOT "/provision/+/hello"),
		       acl("subscribePattern", TOPIC_ROOT "/provision/+/reply"),
		       acl_rule("subscribeLiteral", TOPIC_ROOT "/provision/+/reply", 10, 0),
		       acl("publishClientReceive", TOPIC_ROOT "/provision/+/reply"),
		       acl("subscribeLiteral", gw)));
	dynsec_add(e,
		   json_pack("{s:s, s:s, s:s, s:[{s:s}]}", "command", "createClient", "username",
			     e->cfg.claim_user, "password", e->claim_pw, "roles", "rolename",
			     "motcua-claim"));
	/* Setting a password disconnects every client of that account: only when it changed. */
	char want[80], have[80] = "";
	unsigned char md[32];
	unsigned mdlen = 0;
	EVP_Digest(e->claim_pw, strlen(e->claim_pw), md, &mdlen, EVP_sha256(), NULL);
	snprintf(want, sizeof(want), "%s:", e->cfg.claim_user);
	for (int i = 0; i < 8; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "%02x", md[i]);
	db_meta_get(e->db, "mqtt_claim_account", have, sizeof(have));
	if (strcmp(want, have) != 0) {
		dynsec_add(e,
			   json_pack("{s:s, s:s, s:s}", "command", "setClientPassword", "username",
				     e->cfg.claim_user, "password", e->claim_pw));
		db_meta_set(e->db, "mqtt_claim_account", want);
	}
	dynsec_add(e,
		   json_pack("{s:s, s:s, s:s}", "command", "addClientRole", "username", e->cfg.claim_user,
			     "rolename", "motcua-claim"));
	/* Devices approved before the queue topics existed get their kind's queue ACLs (an ACL
	 * already there is refused harmlessly). */
	devices_list(e->db, queue_acls_of, e);
	e->batch_urgent = 1;
}

void dynsec_device_role(struct edge *e, const char *id, const char *kind, char *ret_role, size_t size)
{
	static const char *const own[] = { "status", "heartbeat", "cmd/ack" };
	char t[128];
	json_t *acls = json_array();

	/* The kind's template with the device's own id written in (no %u in 2.0.11's dynsec). */
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		snprintf(t, sizeof(t), TOPIC_ROOT "/dev/%s/%s", id, own[i]);
		json_array_append_new(acls, acl("publishClientSend", t));
	}
	snprintf(t, sizeof(t), TOPIC_ROOT "/dev/%s/cmd", id);
	json_array_append_new(acls, acl("subscribeLiteral", t));
	if (devices_kind_sends_docs(kind)) {
		snprintf(t, sizeof(t), TOPIC_ROOT "/dev/%s/doc", id);
		json_array_append_new(acls, acl("publishClientSend", t));
		snprintf(t, sizeof(t), TOPIC_ROOT "/dev/%s/ack", id);
		json_array_append_new(acls, acl("subscribeLiteral", t));
	}
	qedge_acls(id, kind, acls, acl);
	json_array_append_new(acls, acl("subscribeLiteral", TOPIC_ROOT "/gateway/status"));
	snprintf(ret_role, size, "motcua-%s-%s", kind, id);
	role(e, ret_role, acls);
}

void dynsec_tick(struct edge *e)
{
	int64_t now = edge_now_ms();
	size_t n = json_array_size(e->batch);

	/* One batch in flight at a time, so answers arrive in order. */
	if (e->answered_seq < e->batch_seq - 1) {
		if (now - e->sent_at_ms > ANSWER_TIMEOUT_MS) {
			log_warn("devices: the broker did not answer dynamic-security batch %lld; is "
				 "%s its dynsec admin?",
				 (long long)(e->batch_seq - 1), e->cfg.mqtt_user);
			e->answered_seq = e->batch_seq - 1; /* give up waiting; replies go out anyway */
		}
		return;
	}
	if (n == 0 || (!e->batch_urgent && now - e->batch_first_ms < e->cfg.dynsec_batch_ms))
		return;
	json_t *msg = json_pack("{s:O}", "commands", e->batch);
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!text)
		return;
	int r = edge_publish(e, CONTROL_TOPIC, text, 0);
	OPENSSL_cleanse(text, strlen(text)); /* it holds passwords */
	free(text);
	if (r < 0)
		return; /* kept: sent again on the next tick */
	log_debug("devices: sent dynamic-security batch %lld (%zu commands)", (long long)e->batch_seq, n);
	json_array_clear(e->batch);
	e->batch_urgent = 0;
	e->sent_at_ms = now;
	e->batch_seq++;
}

static void send_replies(struct edge *e)
{
	int kept = 0;
	for (int i = 0; i < e->nreplies; i++) {
		struct edge_reply *rp = &e->replies[i];
		if (rp->batch > e->answered_seq) {
			e->replies[kept++] = *rp;
			continue;
		}
		if (edge_publish(e, rp->topic, rp->payload, 0) == 0 && rp->action[0])
			devices_action_done(e->db, rp->device, rp->action);
		OPENSSL_cleanse(rp->payload, strlen(rp->payload));
		free(rp->payload);
	}
	e->nreplies = kept;
}

void dynsec_answer(struct edge *e, const void *payload, int len)
{
	json_t *j = json_loadb(payload, (size_t)len, 0, NULL), *r;
	long long seq = -1;
	size_t i;

	json_array_foreach (json_object_get(j, "responses"), i, r) {
		const char *cmd = json_string_value(json_object_get(r, "command"));
		const char *err = json_string_value(json_object_get(r, "error"));
		const char *corr = json_string_value(json_object_get(r, "correlationData"));
		/* Only this run's batches: answers to a previous run's may still arrive. */
		size_t bl = strlen(e->boot_id);
		if (corr && strncmp(corr, e->boot_id, bl) == 0 && corr[bl] == '-')
			seq = strtoll(corr + bl + 1, NULL, 10);
		/* Set-up is idempotent: "already exists" answers are expected. */
		if (err && !strstr(err, "already exists") && !strstr(err, "already in") &&
		    !(cmd && strcmp(cmd, "addClientRole") == 0))
			log_warn("devices: dynamic security refused %s: %s", cmd ? cmd : "?", err);
	}
	json_decref(j);
	if (seq > e->answered_seq)
		e->answered_seq = seq;
	send_replies(e);
}

void edge_reply_after_batch(struct edge *e, const char *topic, char *payload, const char *device,
			    const char *action)
{
	if (e->nreplies == EDGE_REPLIES_MAX) {
		log_warn(
		    "devices: too many provisioning replies waiting; %s will be answered on its next hello",
		    device);
		OPENSSL_cleanse(payload, strlen(payload));
		free(payload);
		return;
	}
	struct edge_reply *rp = &e->replies[e->nreplies++];
	rp->batch = e->batch_seq;
	snprintf(rp->topic, sizeof(rp->topic), "%s", topic);
	rp->payload = payload;
	snprintf(rp->device, sizeof(rp->device), "%s", device);
	snprintf(rp->action, sizeof(rp->action), "%s", action);
}

int edge_reply_pending(const struct edge *e, const char *device)
{
	for (int i = 0; i < e->nreplies; i++)
		if (strcmp(e->replies[i].device, device) == 0)
			return 1;
	return 0;
}
