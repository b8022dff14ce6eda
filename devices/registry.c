/* Registration: hellos on the claim account's provisioning topics, the staff decisions that
 * the store hands over as device actions, credentials for approved devices, revocations and
 * the first sighting of a device under its own account. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/edge.h"
#include "gateway/log.h"
#include "store/db.h"

static void reply_topic(const char *client, char *out, size_t size)
{
	snprintf(out, size, TOPIC_ROOT "/provision/%s/reply", client);
}

/* A reply that carries no secret goes out at once. */
static void reply_now(struct edge *e, const char *client, json_t *j)
{
	char topic[128];
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return;
	reply_topic(client, topic, sizeof(topic));
	edge_publish(e, topic, text, 0);
	free(text);
}

static void new_password(char out[EDGE_PASSWORD_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char raw[EDGE_PASSWORD_LEN];
	RAND_bytes(raw, sizeof(raw));
	for (int i = 0; i < EDGE_PASSWORD_LEN; i++)
		out[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	out[EDGE_PASSWORD_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
}

/* Gives the device a broker account with a fresh password (created, or re-enabled with a
 * new password) and queues its credentials for after the batch is answered. */
static void issue(struct edge *e, const struct device *d, const char *action, int asked)
{
	char pw[EDGE_PASSWORD_LEN + 1], role[64], topic[128];

	if (!d->claim_client[0] || edge_reply_pending(e, d->id))
		return;
	new_password(pw);
	dynsec_device_role(e, d->id, d->kind, role, sizeof(role));
	dynsec_add(e,
		   json_pack("{s:s, s:s, s:s, s:[{s:s}]}", "command", "createClient", "username", d->id,
			     "password", pw, "roles", "rolename", role));
	/* A new password disconnects the account's clients, so it is set only when the device asks
	 * (a hello: it has no working credentials).  After a restart the account may exist
	 * already with credentials the device holds; then createClient fails harmlessly, and a
	 * device that cannot log in with what it got comes back with a hello.  A revoked device's
	 * account was deleted, so its re-approval creates it afresh with this password. */
	if (asked)
		dynsec_add(e,
			   json_pack("{s:s, s:s, s:s}", "command", "setClientPassword", "username", d->id,
				     "password", pw));
	dynsec_add(e, json_pack("{s:s, s:s}", "command", "enableClient", "username", d->id));
	dynsec_add(
	    e, json_pack("{s:s, s:s, s:s}", "command", "addClientRole", "username", d->id, "rolename", role));
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:i}", "status", "approved", "device_id", d->id,
			      "username", d->id, "password", pw, "heartbeat_s", EDGE_HEARTBEAT_S);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j); /* jansson keeps its own copy of pw; freed here */
	OPENSSL_cleanse(pw, sizeof(pw));
	if (!text)
		return;
	reply_topic(d->claim_client, topic, sizeof(topic));
	edge_reply_after_batch(e, topic, text, d->id, action);
	log_info("devices: credentials for %s (serial %s) go out with the next broker batch", d->id,
		 d->serial);
}

static int auto_approved(const struct edge *e, const char *serial)
{
	const char *p = e->cfg.auto_approve_serials;
	size_t len = strlen(serial);
	while (*p) {
		p += strspn(p, " ,\t");
		size_t n = strcspn(p, " ,\t");
		if (n == len && strncmp(p, serial, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

void registry_hello(struct edge *e, const char *client, const void *payload, int len)
{
	struct proto_hello h;
	struct device d;
	char why[256];
	int r;

	r = proto_hello_parse(payload, (size_t)len, &h, why, sizeof(why));
	if (r < 0) {
		log_warn("devices: hello from client %s refused: %s", client, why);
		reply_now(e, client, json_pack("{s:s, s:s}", "status", "invalid", "reason", why));
		return;
	}
	struct device_hello dh = { .kind = h.kind,
				   .model = h.model,
				   .serial = h.serial,
				   .firmware = h.firmware,
				   .capabilities = h.capabilities };
	int aa = auto_approved(e, h.serial);
	char bound[DEVICE_SERIAL_MAX] = "";
	r = devices_hello(e->db, &dh, client, aa, aa ? "config:auto_approve_serials" : "motcuad", &d, bound,
			  sizeof(bound));
	if (r == -EXDEV) {
		char reason[256];
		log_warn(
		    "devices: claim client %s said hello as serial %s but is bound to serial %s; refused",
		    client, h.serial, bound);
		snprintf(reason, sizeof(reason),
			 "this claim id said hello as serial %s before; a device keeps one claim id for "
			 "one serial",
			 bound);
		reply_now(e, client, json_pack("{s:s, s:s}", "status", "refused", "reason", reason));
		return;
	}
	if (r < 0) {
		reply_now(e, client,
			  json_pack("{s:s, s:s}", "status", "retry", "reason",
				    "the gateway could not record the hello"));
		return;
	}
	if (r == 1)
		log_info("devices: new %s %s (serial %s, model %s) is %s", d.kind, d.id, d.serial, d.model,
			 aa ? "approved by the allow-list"
			    : "waiting for approval: motcuactl devices approve --code");
	if (r == 2) {
		/* The reply topic is the secret of the bound claimer: never moved by a hello.  This
		 * claimer waits like a pending device; staff bind it only by its pairing code. */
		log_warn("devices: serial %s (%s) said hello from another claim client id; not adopted, "
			 "shown to staff as a conflict",
			 d.serial, d.id);
		reply_now(e, client,
			  json_pack("{s:s, s:s, s:b, s:s}", "status", "pending", "device_id", d.id,
				    "conflict", 1, "reason",
				    "another device said hello with this serial; staff approve the one whose "
				    "pairing code they type"));
		return;
	}
	if (strcmp(d.kind, h.kind) != 0) {
		reply_now(
		    e, client,
		    json_pack("{s:s, s:s, s:s}", "status", "refused", "device_id", d.id, "reason",
			      "this serial is registered with another kind; staff must remove it first"));
		return;
	}
	if (strcmp(d.state, "pending") == 0) {
		reply_now(e, client, json_pack("{s:s, s:s}", "status", "pending", "device_id", d.id));
	} else if (strcmp(d.state, "approved") == 0) {
		/* Approved but never seen under its account: it lost or never got the credentials. */
		issue(e, &d, d.action, 1);
	} else if (strcmp(d.state, "active") == 0) {
		reply_now(
		    e, client,
		    json_pack("{s:s, s:s, s:s}", "status", "refused", "device_id", d.id, "reason",
			      "this serial is registered and has connected with its own credentials; staff "
			      "must revoke it and approve it again to issue new ones"));
	} else {
		reply_now(
		    e, client,
		    json_pack("{s:s, s:s, s:s}", "status", d.state, "device_id", d.id, "reason", d.reason));
	}
}

static int act(void *ctx, const struct device *d)
{
	struct edge *e = ctx;
	if (strcmp(d->action, "approve") == 0 && strcmp(d->state, "approved") == 0) {
		issue(e, d, "approve", 0);
	} else if (strcmp(d->action, "reject") == 0 && strcmp(d->state, "rejected") == 0) {
		if (d->claim_client[0])
			reply_now(e, d->claim_client,
				  json_pack("{s:s, s:s, s:s}", "status", "rejected", "device_id", d->id,
					    "reason", d->reason));
		devices_action_done(e->db, d->id, "reject");
	} else if (strcmp(d->action, "revoke") == 0) {
		/* disableClient also disconnects it now; the batch goes out at once. */
		dynsec_add(e, json_pack("{s:s, s:s}", "command", "disableClient", "username", d->id));
		/* Deleted too: approving it again creates the account with the password it is sent
		 * (createClient fails on an existing account, which would keep the old one). */
		dynsec_add(e, json_pack("{s:s, s:s}", "command", "deleteClient", "username", d->id));
		e->batch_urgent = 1;
		devices_action_done(e->db, d->id, "revoke");
		edge_seen(e, d->id, 0);
		log_info("devices: %s (serial %s) revoked: its broker account is disabled", d->id, d->serial);
	} else {
		devices_action_done(e->db, d->id, d->action); /* stale: the state moved on */
	}
	return 0;
}

void registry_tick(struct edge *e)
{
	devices_with_action(e->db, act, e);
}

void registry_status(struct edge *e, const char *id, const void *payload, int len)
{
	struct device d;
	int online;

	if (len == 0)
		return; /* a retained status being cleared */
	if (proto_status_parse(payload, (size_t)len, &online) < 0) {
		log_debug("devices: unreadable status from %s", id);
		return;
	}
	if (devices_get(e->db, id, &d) < 0 || strcmp(d.id, id) != 0)
		return;
	if (online && strcmp(d.state, "approved") == 0 && strcmp(d.action, "revoke") != 0)
		devices_mark_active(e->db, id); /* it holds working credentials: approval done */
	edge_seen(e, id, online);
}
