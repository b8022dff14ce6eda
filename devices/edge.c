/* The device thread: its broker connection (MQTT v5, persistent session, the gateway's
 * birth and Last Will), topic routing and batched presence updates. */
#include "devices/devices.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/edge.h"
#include "gateway/log.h"
#include "store/db.h"
#include "store/fsutil.h"
#include "store/store.h"

#define LOOP_MS 100
#define FLUSH_MS 1000
#define SESSION_EXPIRY_S 3600 /* the broker keeps documents for motcuad this long while it is down */
#define CLIENT_ID "motcuad"

struct devices {
	struct edge e;
};

int64_t edge_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int edge_publish(struct edge *e, const char *topic, const char *json, int retain)
{
	int rc = mosquitto_publish_v5(e->mosq, NULL, topic, (int)strlen(json), json, 1, retain, NULL);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_warn("devices: cannot publish to %s: %s", topic, mosquitto_strerror(rc));
		return -EIO;
	}
	return 0;
}

static void flush_presence(struct edge *e)
{
	int r;
	if (e->ndirty == 0)
		return;
	r = db_begin(e->db);
	for (int i = 0; r == 0 && i < e->ndirty; i++) {
		const struct edge_dirty *d = &e->dirty[i];
		r = devices_set_presence(e->db, d->id,
					 d->presence < 0   ? NULL
					     : d->presence ? "online"
							   : "offline",
					 d->seen);
	}
	if (r == 0)
		r = db_commit(e->db);
	if (r < 0) {
		db_rollback(e->db);
		log_warn("devices: presence of %d devices not recorded: %s", e->ndirty, strerror(-r));
	}
	e->ndirty = 0;
	e->last_flush_ms = edge_now_ms();
}

void edge_seen(struct edge *e, const char *id, int presence)
{
	int64_t now = (int64_t)time(NULL);
	for (int i = 0; i < e->ndirty; i++)
		if (strcmp(e->dirty[i].id, id) == 0) {
			if (presence >= 0)
				e->dirty[i].presence = presence;
			e->dirty[i].seen = now;
			return;
		}
	if (e->ndirty == EDGE_DIRTY_MAX)
		flush_presence(e);
	struct edge_dirty *d = &e->dirty[e->ndirty++];
	snprintf(d->id, sizeof(d->id), "%s", id);
	d->presence = presence;
	d->seen = now;
}

static void gateway_status(struct edge *e, int online, char *out, size_t size)
{
	char now[32];
	db_now(now);
	snprintf(out, size, "{\"state\":\"%s\",\"boot\":\"%s\",\"at\":\"%s\",\"version\":\"%s\"}",
		 online ? "online" : "offline", e->boot_id, now, MOTCUA_VERSION);
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct edge *e = obj;
	char birth[256];
	static const char *const subs[] = {
		"$CONTROL/dynamic-security/v1/response",
		TOPIC_ROOT "/provision/+/hello",
		TOPIC_ROOT "/dev/+/status",
		TOPIC_ROOT "/dev/+/heartbeat",
		TOPIC_ROOT "/dev/+/doc",
		TOPIC_ROOT "/dev/+/cmd/ack",
		TOPIC_ROOT "/dev/+/queue/take",
		TOPIC_ROOT "/dev/+/dossier/+",
	};

	if (rc != 0) {
		log_error("devices: the broker refused motcuad's login as %s: %s", e->cfg.mqtt_user,
			  mosquitto_reason_string(rc));
		return;
	}
	e->connected = 1;
	e->backoff_ms = 500;
	log_info("devices: connected to the broker at %s:%lld%s", e->cfg.mqtt_host,
		 (long long)e->cfg.mqtt_port, (flags & 1) ? " (session resumed)" : "");
	/* The broker handles a client's packets in order, so the set-up below is in force before
	 * the birth message and the subscriptions that follow it. */
	mosquitto_subscribe_v5(m, NULL, subs[0], 1, 0, NULL);
	dynsec_setup(e);
	dynsec_tick(e);
	gateway_status(e, 1, birth, sizeof(birth));
	edge_publish(e, TOPIC_ROOT "/gateway/status", birth, 1);
	for (size_t i = 1; i < sizeof(subs) / sizeof(subs[0]); i++)
		mosquitto_subscribe_v5(m, NULL, subs[i], 1, 0, NULL);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc, const mosquitto_property *props)
{
	struct edge *e = obj;
	if (e->connected && !atomic_load(&e->stop))
		log_warn("devices: lost the broker connection: %s", mosquitto_reason_string(rc));
	e->connected = 0;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *props)
{
	struct edge *e = obj;
	char id[DEVICE_CLIENT_MAX];
	const char *rest;

	if (strcmp(msg->topic, "$CONTROL/dynamic-security/v1/response") == 0) {
		dynsec_answer(e, msg->payload, msg->payloadlen);
		return;
	}
	switch (proto_topic(msg->topic, id, sizeof(id), &rest)) {
	case 2: registry_hello(e, id, msg->payload, msg->payloadlen); return;
	case 1: break;
	default: log_debug("devices: ignored a message on %s", msg->topic); return;
	}
	if (strcmp(rest, "status") == 0) {
		registry_status(e, id, msg->payload, msg->payloadlen);
	} else if (strcmp(rest, "heartbeat") == 0) {
		edge_seen(e, id, -1);
	} else if (strcmp(rest, "doc") == 0) {
		edge_seen(e, id, -1);
		docin_document(e, id, msg, props);
	} else if (strcmp(rest, "cmd/ack") == 0) {
		edge_seen(e, id, -1);
		docin_cmd_ack(e, id, msg->payload, msg->payloadlen);
	} else if (strcmp(rest, "queue/take") == 0) {
		edge_seen(e, id, -1);
		qedge_take(e, id, msg->payload, msg->payloadlen);
	} else if (strncmp(rest, "dossier/", 8) == 0) {
		edge_seen(e, id, -1);
		dedge_request(e, id, rest + 8, msg->payload, msg->payloadlen);
	}
}

/* First line of a secret file; "" when it cannot be read. */
static int read_secret(const char *path, char *out, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = fs_read_full(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return (int)n;
	out[n] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -ENODATA;
}

static int try_connect(struct edge *e, int *logged)
{
	mosquitto_property *props = NULL;
	char will[256];
	int r;

	r = read_secret(e->cfg.mqtt_password_file, e->admin_pw, sizeof(e->admin_pw));
	if (r == 0)
		r = read_secret(e->cfg.claim_password_file, e->claim_pw, sizeof(e->claim_pw));
	if (r < 0) {
		if (*logged != 1)
			log_error("devices: cannot read %s or %s: %s; devices cannot register until it is "
				  "readable (the package creates both)",
				  e->cfg.mqtt_password_file, e->cfg.claim_password_file, strerror(-r));
		*logged = 1;
		return r;
	}
	mosquitto_username_pw_set(e->mosq, e->cfg.mqtt_user, e->admin_pw);
	gateway_status(e, 0, will, sizeof(will));
	mosquitto_will_set_v5(e->mosq, TOPIC_ROOT "/gateway/status", (int)strlen(will), will, 1, true, NULL);
	mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, SESSION_EXPIRY_S);
	int rc = mosquitto_connect_bind_v5(e->mosq, e->cfg.mqtt_host, (int)e->cfg.mqtt_port, 30, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS) {
		if (*logged != 2)
			log_warn("devices: cannot reach the broker at %s:%lld: %s; retrying",
				 e->cfg.mqtt_host, (long long)e->cfg.mqtt_port,
				 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		*logged = 2;
		return -EIO;
	}
	*logged = 0;
	return 0;
}

static void *run(void *arg)
{
	struct edge *e = arg;
	int64_t next_try = 0;
	int logged = 0, rc;

	while (!atomic_load(&e->stop)) {
		int64_t now = edge_now_ms();
		if (mosquitto_socket(e->mosq) < 0) {
			/* No TCP connection: try again when the back-off allows. */
			if (now >= next_try) {
				if (try_connect(e, &logged) < 0) {
					next_try = now + e->backoff_ms;
					e->backoff_ms = e->backoff_ms * 2 > 30000 ? 30000 : e->backoff_ms * 2;
				}
			}
			if (mosquitto_socket(e->mosq) < 0) {
				usleep(LOOP_MS * 1000);
				continue;
			}
		}
		rc = mosquitto_loop(e->mosq, LOOP_MS, 1);
		if (rc != MOSQ_ERR_SUCCESS) {
			if (e->connected)
				log_warn("devices: broker connection lost: %s", mosquitto_strerror(rc));
			e->connected = 0;
			next_try = edge_now_ms() + e->backoff_ms;
			e->backoff_ms = e->backoff_ms * 2 > 30000 ? 30000 : e->backoff_ms * 2;
			usleep(LOOP_MS * 1000);
			continue;
		}
		if (!e->connected)
			continue;
		dynsec_tick(e);
		registry_tick(e);
		docin_tick(e);
		qedge_tick(e);
		if (edge_now_ms() - e->last_flush_ms >= FLUSH_MS)
			flush_presence(e);
	}
	flush_presence(e);
	if (e->connected) {
		char bye[256];
		gateway_status(e, 0, bye, sizeof(bye));
		edge_publish(e, TOPIC_ROOT "/gateway/status", bye, 1);
		for (int i = 0; i < 5; i++)
			mosquitto_loop(e->mosq, 20, 1);
		mosquitto_disconnect(e->mosq);
		mosquitto_loop(e->mosq, 20, 1);
	}
	return NULL;
}

int devices_start(struct store *s, const struct config *cfg, struct devices **ret)
{
	struct devices *d;
	struct edge *e;
	unsigned char raw[8];
	int r;

	*ret = NULL;
	if (!cfg->mqtt_host[0]) {
		log_info("devices: [devices] mqtt_host is empty: no MQTT device edge");
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	e = &d->e;
	e->store = s;
	e->backoff_ms = 500;
	e->cfg = *cfg;
	RAND_bytes(raw, sizeof(raw));
	for (int i = 0; i < 8; i++)
		snprintf(e->boot_id + 2 * i, 3, "%02x", raw[i]);
	e->batch = json_array();
	e->answered_seq = -1;
	r = store_connect(s, &e->db);
	if (r < 0)
		goto fail;
	mosquitto_lib_init();
	e->mosq = mosquitto_new(CLIENT_ID, false, e);
	if (!e->mosq || !e->batch) {
		r = -ENOMEM;
		goto fail;
	}
	mosquitto_int_option(e->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(e->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(e->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(e->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(e->mosq, on_message);
	qedge_start(e);
	r = -pthread_create(&e->thread, NULL, run, e);
	if (r < 0) {
		qedge_stop(e);
		goto fail;
	}
	*ret = d;
	return 0;
fail:
	if (e->mosq)
		mosquitto_destroy(e->mosq);
	db_close(e->db);
	json_decref(e->batch);
	free(d);
	return r;
}

void devices_stop(struct devices *d)
{
	if (!d)
		return;
	struct edge *e = &d->e;
	qedge_stop(e);
	atomic_store(&e->stop, 1);
	pthread_join(e->thread, NULL);
	mosquitto_destroy(e->mosq);
	mosquitto_lib_cleanup();
	for (int i = 0; i < e->nreplies; i++) {
		OPENSSL_cleanse(e->replies[i].payload, strlen(e->replies[i].payload));
		free(e->replies[i].payload);
	}
	json_decref(e->batch);
	db_close(e->db);
	OPENSSL_cleanse(e->admin_pw, sizeof(e->admin_pw));
	OPENSSL_cleanse(e->claim_pw, sizeof(e->claim_pw));
	free(d);
}
