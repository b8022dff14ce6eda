/* motcua-device: the reference device client for docs/mqtt.md, written to be read by kiosk
 * vendors.  One small state machine per device (claim -> pending -> registered -> online),
 * driven by libmosquitto's network thread (callbacks) and a 100 ms tick in the main thread
 * (hellos, heartbeats, resends).  `sim` runs N of them in one process for load tests.
 *
 *   motcua-device [--host H] [--port P] [--dir DIR] register --kind K --serial S
 *   motcua-device [...] send FILE --kind id-front|id-back|page|original-for-copy
 *   motcua-device [...] listen
 *   motcua-device [...] ticket SERVICE [--print kiosk|box|none]
 *   motcua-device [...] dossier open|submit JSON
 *   motcua-device [...] sim --count N [--docs M] [--size BYTES]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROOT "motcua/v1"
#define HELLO_EVERY_MS 30000 /* a pending device repeats its hello this often */
#define SESSION_EXPIRY_S 3600

enum state { CLAIMING, PENDING, RECLAIM, REGISTERED, CONNECTING, ONLINE, FINISHED, FAILED };

struct opts {
	const char *host;
	int port;
	const char *cafile; /* TLS: the CA that signed the broker's certificate (the box's mqtt-ca.crt) */
	const char *dir;
	const char *claim_user;
	char claim_password[256];
	const char *kind, *model, *firmware, *serial;
	const char *doc_kind, *session, *content_type, *sha_override, *doc_id;
	const char *file; /* send: the document; sim: NULL (synthetic scans) */
	int count, docs, heartbeat_s, resend_ms, wait_s, listen_max;
	int listen; /* listen: also follow the queue displays' topics */
	const char *service, *print; /* ticket: the service letter, who prints it */
	const char *dverb, *dbody; /* dossier: the request (docs/mqtt.md 6c) and its JSON */
	long size;
	FILE *log;
	int verbose;
};

struct doc {
	unsigned char *data;
	size_t len;
	char id[48];
	char sha[65];
	const char *type;
	int64_t sent_ms; /* 0: not sent yet */
	int64_t first_ms;
	int attempts;
};

struct dev {
	const struct opts *o;
	pthread_mutex_t lock;
	struct mosquitto *m;
	enum state st;
	char dir[PATH_MAX];
	char serial[64];
	char claim_id[48]; /* random: the secret that names its reply topic */
	char code[8]; /* its pairing code, shown to staff who approve it */
	char id[32], password[128];
	char reason[512];
	char last_err[256]; /* libmosquitto's last error text (a TLS failure says why here) */
	char gw_boot[32];
	int64_t hello_ms, hb_ms, t0_ms, registered_ms;
	struct doc cur; /* the document waiting for its ack */
	int docs_done, docs_stored, docs_dup, docs_rejected, cmds;
	int ticket_sent, ticket_done, ticket_printed_here;
	int64_t retry_ms; /* reconnect the claim account then (0: no) */
	double latency_sum;
	int64_t bytes;
	int exit_code;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stopping;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(struct dev *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct dev *d, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "motcua-device[%s]: ", d->id[0] ? d->id : d->serial);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&log_lock);
}

static void sha256_hex(const void *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned n = 0;
	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- the device's small state directory: claim-id and credentials.json ---------------- */

static int write_file(const char *path, const char *text)
{
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

/* SHA-256("motcua-pairing-code:" + claim id): its first four bytes, big-endian, mod 10^6. */
static void pairing_code(const char *claim_id, char out[7])
{
	char text[96];
	unsigned char md[32];
	unsigned n = 0;
	int len = snprintf(text, sizeof(text), "motcua-pairing-code:%s", claim_id);
	EVP_Digest(text, (size_t)len, md, &n, EVP_sha256(), NULL);
	uint32_t v = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
	snprintf(out, 7, "%06u", (unsigned)(v % 1000000u));
}

static void load_state(struct dev *d)
{
	char path[PATH_MAX + 32], buf[128] = "";
	mkdir(d->dir, 0700);
	snprintf(path, sizeof(path), "%s/claim-id", d->dir);
	FILE *f = fopen(path, "re");
	if (f && fgets(buf, sizeof(buf), f))
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
	if (strlen(buf) < 20) {
		/* A device keeps one random claim id: its reply topic is named after it. */
		unsigned char raw[16];
		RAND_bytes(raw, sizeof(raw));
		snprintf(buf, sizeof(buf), "claim-");
		for (int i = 0; i < 16; i++)
			snprintf(buf + 6 + 2 * i, 3, "%02x", raw[i]);
		char line[80];
		snprintf(line, sizeof(line), "%s\n", buf);
		write_file(path, line);
	}
	snprintf(d->claim_id, sizeof(d->claim_id), "%s", buf);
	/* The pairing code staff type when approving (docs/mqtt.md 3): a real kiosk shows it on
	 * its screen; this one logs it and keeps it in DIR/pairing-code. */
	pairing_code(d->claim_id, d->code);
	snprintf(path, sizeof(path), "%s/pairing-code", d->dir);
	char codeline[16];
	snprintf(codeline, sizeof(codeline), "%s\n", d->code);
	write_file(path, codeline);
	snprintf(path, sizeof(path), "%s/credentials.json", d->dir);
	json_t *c = json_load_file(path, 0, NULL);
	const char *id = json_string_value(json_object_get(c, "username"));
	const char *pw = json_string_value(json_object_get(c, "password"));
	if (id && pw) {
		snprintf(d->id, sizeof(d->id), "%s", id);
		snprintf(d->password, sizeof(d->password), "%s", pw);
		d->st = REGISTERED;
	}
	json_decref(c);
}

/* ---- MQTT plumbing ------------------------------------------------------------------- */

static void publish(struct dev *d, const char *topic, const char *text, int retain)
{
	mosquitto_publish_v5(d->m, NULL, topic, (int)strlen(text), text, 1, retain, NULL);
}

static void send_hello(struct dev *d)
{
	char topic[128];
	const struct opts *o = d->o;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:[s]}", "kind", o->kind, "model", o->model, "serial",
			      d->serial, "firmware", o->firmware, "capabilities", "documents");
	char *text = json_dumps(j, JSON_COMPACT);
	snprintf(topic, sizeof(topic), ROOT "/provision/%s/hello", d->claim_id);
	publish(d, topic, text, 0);
	free(text);
	json_decref(j);
	d->hello_ms = now_ms();
}

static void send_status(struct dev *d, const char *state)
{
	char topic[128], text[256];
	snprintf(topic, sizeof(topic), ROOT "/dev/%s/status", d->id);
	snprintf(text, sizeof(text), "{\"state\":\"%s\",\"firmware\":\"%s\"}", state, d->o->firmware);
	publish(d, topic, text, 1);
}

/* A document goes out as raw bytes with its description in user properties. */
static void send_doc(struct dev *d)
{
	mosquitto_property *props = NULL;
	char topic[128];
	struct doc *c = &d->cur;
	const char *sha = d->o->sha_override ? d->o->sha_override : c->sha;
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "doc-id", c->id);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "sha256", sha);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "content-type", c->type);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "kind", d->o->doc_kind);
	if (d->o->session)
		mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "session", d->o->session);
	snprintf(topic, sizeof(topic), ROOT "/dev/%s/doc", d->id);
	int rc = mosquitto_publish_v5(d->m, NULL, topic, (int)c->len, c->data, 1, false, props);
	mosquitto_property_free_all(&props);
	if (rc != MOSQ_ERR_SUCCESS && d->o->verbose)
		say(d, "publish of %s failed (%s); will resend", c->id, mosquitto_strerror(rc));
	c->sent_ms = now_ms();
	if (!c->first_ms)
		c->first_ms = c->sent_ms;
	c->attempts++;
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags, const mosquitto_property *p)
{
	struct dev *d = obj;
	char topic[128];
	if (rc != 0) {
		/* Refused (an account not set up yet, or revoked): libmosquitto tries again. */
		pthread_mutex_lock(&d->lock);
		if (!d->reason[0] && (d->o->count == 1 || d->o->verbose))
			say(d, "the broker refused the login (%s); retrying", mosquitto_reason_string(rc));
		snprintf(d->reason, sizeof(d->reason), "the broker refused the login: %s",
			 mosquitto_reason_string(rc));
		/* libmosquitto does not retry a refused login by itself.  Refused with its own
		 * credentials: they were replaced or never took effect, so go back to the claim
		 * step with the same claim id (the gateway answers the hello).  Refused as the
		 * claim account (not set up yet): try again in 2 s. */
		if (d->st != CLAIMING && d->st != PENDING)
			d->st = RECLAIM;
		else
			d->retry_ms = now_ms() + 2000;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (d->st == CLAIMING || d->st == PENDING) {
		/* Subscribe first: the hello goes out once the broker confirmed (on_subscribe). */
		snprintf(topic, sizeof(topic), ROOT "/provision/%s/reply", d->claim_id);
		mosquitto_subscribe_v5(m, NULL, topic, 1, 0, NULL);
	} else {
		snprintf(topic, sizeof(topic), ROOT "/dev/%s/cmd", d->id);
		mosquitto_subscribe_v5(m, NULL, topic, 1, 0, NULL);
		snprintf(topic, sizeof(topic), ROOT "/dev/%s/ack", d->id);
		if (d->o->doc_kind || d->o->service || d->o->dverb)
			mosquitto_subscribe_v5(m, NULL, topic, 1, 0, NULL);
		/* A queue display (or a kiosk showing the queue) follows every counter call. */
		if (d->o->listen)
			mosquitto_subscribe_v5(m, NULL, ROOT "/queue/#", 1, 0, NULL);
		send_status(d, "online");
		d->st = ONLINE;
		if (d->cur.data)
			d->cur.sent_ms = 0; /* resend what had no ack yet */
	}
	mosquitto_subscribe_v5(m, NULL, ROOT "/gateway/status", 1, 0, NULL);
	pthread_mutex_unlock(&d->lock);
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted,
			 const mosquitto_property *p)
{
	struct dev *d = obj;
	pthread_mutex_lock(&d->lock);
	if ((d->st == CLAIMING || d->st == PENDING) && d->hello_ms == 0) {
		if (granted[0] >= 0x80) {
			snprintf(d->reason, sizeof(d->reason),
				 "the broker refused the reply topic subscription");
			d->st = FAILED;
		} else {
			send_hello(d);
		}
	}
	pthread_mutex_unlock(&d->lock);
}

static void on_reply(struct dev *d, json_t *j)
{
	const char *status = json_string_value(json_object_get(j, "status"));
	const char *id = json_string_value(json_object_get(j, "device_id"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	if (!status)
		return;
	if (id)
		snprintf(d->id, sizeof(d->id), "%s", id);
	if (strcmp(status, "pending") == 0) {
		if (d->st != PENDING && (d->o->count == 1 || d->o->verbose))
			say(d,
			    "waiting for staff approval; pairing code %s (motcuactl devices approve %s "
			    "--code %s)%s",
			    d->code, d->id, d->code,
			    json_is_true(json_object_get(j, "conflict"))
				? "; another device said hello with this serial, staff choose by the code"
				: "");
		d->st = PENDING;
	} else if (strcmp(status, "approved") == 0) {
		const char *pw = json_string_value(json_object_get(j, "password"));
		char path[PATH_MAX + 32];
		char *text = json_dumps(j, JSON_COMPACT);
		snprintf(path, sizeof(path), "%s/credentials.json", d->dir);
		if (!pw || !text || write_file(path, text) < 0) {
			snprintf(d->reason, sizeof(d->reason), "cannot keep the credentials in %.300s", path);
			d->st = FAILED;
		} else {
			snprintf(d->password, sizeof(d->password), "%s", pw);
			d->st = REGISTERED;
			d->registered_ms = now_ms();
		}
		free(text);
	} else if (strcmp(status, "retry") != 0) {
		snprintf(d->reason, sizeof(d->reason), "%s: %s", status, reason ? reason : "");
		d->st = FAILED;
	}
}

static int next_doc(struct dev *d, const char *file);

/* The answer to a ticket request (docs/mqtt.md §6a): the ticket, or why not. */
static void on_ticket(struct dev *d, json_t *j)
{
	const char *result = json_string_value(json_object_get(j, "result"));
	const char *printed = json_string_value(json_object_get(j, "printed"));
	json_t *t = json_object_get(j, "ticket");
	char *text = json_dumps(t ? t : j, JSON_COMPACT);
	pthread_mutex_lock(&log_lock);
	if (d->o->dverb) {
		/* A dossier answer: the whole JSON, the caller reads it. */
		printf("dossier %s %s\n", result ? result : "?", text ? text : "{}");
		if (!result || (strcmp(result, "dossier") != 0 && strcmp(result, "receipt") != 0))
			d->exit_code = 1;
	} else if (result && strcmp(result, "ticket") == 0) {
		printf("ticket %s %s\n", json_string_value(json_object_get(t, "code")), text ? text : "{}");
	} else {
		printf("%s %s: %s\n", result ? result : "?", json_string_value(json_object_get(j, "error")),
		       json_string_value(json_object_get(j, "reason")));
		d->exit_code = 1;
	}
	fflush(stdout);
	pthread_mutex_unlock(&log_lock);
	free(text);
	d->ticket_printed_here = printed && strcmp(printed, "kiosk") == 0;
	d->ticket_done = 1;
}

static void on_ack(struct dev *d, json_t *j)
{
	const char *doc = json_string_value(json_object_get(j, "doc_id"));
	const char *result = json_string_value(json_object_get(j, "result"));
	const char *gid = json_string_value(json_object_get(j, "id"));
	const char *reason = json_string_value(json_object_get(j, "reason"));
	const char *err = json_string_value(json_object_get(j, "error"));
	struct doc *c = &d->cur;

	if (!doc || !result || !c->data || strcmp(doc, c->id) != 0)
		return; /* an answer to an earlier resend: already counted */
	if (strcmp(result, "retry") == 0) {
		c->sent_ms = now_ms() + 5000 - d->o->resend_ms; /* the gateway asked: again in 5 s */
		return;
	}
	if (d->o->log) {
		pthread_mutex_lock(&log_lock);
		fprintf(d->o->log, "%s %s %s %s %s %d\n", d->id, c->id, c->sha, result, gid ? gid : "-",
			c->attempts);
		fflush(d->o->log);
		pthread_mutex_unlock(&log_lock);
	}
	if (d->o->count == 1) {
		if (strcmp(result, "rejected") == 0)
			printf("rejected %s: %s\n", err ? err : "", reason ? reason : "");
		else {
			json_t *ds = json_object_get(j, "dossier");
			char *dt = ds ? json_dumps(ds, JSON_COMPACT) : NULL;
			printf("%s %s%s%s\n", result, gid ? gid : "", dt ? " " : "", dt ? dt : "");
			free(dt);
		}
		fflush(stdout);
	}
	d->docs_done++;
	d->docs_stored += strcmp(result, "stored") == 0;
	d->docs_dup += strcmp(result, "duplicate") == 0;
	d->docs_rejected += strcmp(result, "rejected") == 0;
	if (strcmp(result, "rejected") == 0)
		d->exit_code = 1;
	d->latency_sum += (double)(now_ms() - c->sent_ms);
	d->bytes += (int64_t)c->len;
	free(c->data);
	memset(c, 0, sizeof(*c));
	/* sim: the next synthetic document goes out at once, not at the next tick. */
	if (d->st == ONLINE && !d->o->file && d->docs_done < d->o->docs && next_doc(d, NULL) == 0)
		send_doc(d);
}

/* Commands: print a ticket or receipt, update a display, answer a ping.  This reference
 * device only prints them to stdout and acks "done". */
static void on_cmd(struct dev *d, json_t *j)
{
	char topic[128], text[256];
	json_t *id = json_object_get(j, "cmd_id");
	const char *cmd = json_string_value(json_object_get(j, "cmd"));
	char *body = json_dumps(json_object_get(j, "body"), JSON_COMPACT);
	if (!json_is_integer(id) || !cmd) {
		free(body);
		return;
	}
	pthread_mutex_lock(&log_lock);
	printf("command %lld %s %s\n", (long long)json_integer_value(id), cmd, body ? body : "{}");
	fflush(stdout);
	pthread_mutex_unlock(&log_lock);
	free(body);
	snprintf(topic, sizeof(topic), ROOT "/dev/%s/cmd/ack", d->id);
	snprintf(text, sizeof(text), "{\"cmd_id\":%lld,\"result\":\"done\",\"reason\":\"%s\"}",
		 (long long)json_integer_value(id), strcmp(cmd, "ping") == 0 ? "pong" : "");
	publish(d, topic, text, 0);
	d->cmds++;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		       const mosquitto_property *p)
{
	struct dev *d = obj;
	json_t *j = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	const char *t = msg->topic;
	size_t tl = strlen(t);
	if (!j)
		return;
	pthread_mutex_lock(&d->lock);
	if (strcmp(t, ROOT "/gateway/status") == 0) {
		/* The gateway's birth: re-announce (a restarted gateway may have missed us). */
		const char *st = json_string_value(json_object_get(j, "state"));
		const char *boot = json_string_value(json_object_get(j, "boot"));
		if (st && boot && strcmp(st, "online") == 0 && strcmp(boot, d->gw_boot) != 0) {
			int first = !d->gw_boot[0];
			snprintf(d->gw_boot, sizeof(d->gw_boot), "%s", boot);
			if (!first && d->st == PENDING)
				send_hello(d);
			if (!first && d->st == ONLINE)
				send_status(d, "online");
		}
	} else if (tl > 6 && strcmp(t + tl - 6, "/reply") == 0) {
		on_reply(d, j);
	} else if (strncmp(t, ROOT "/queue/", sizeof(ROOT "/queue/") - 1) == 0) {
		char *text = json_dumps(j, JSON_COMPACT);
		pthread_mutex_lock(&log_lock);
		printf("queue %s %s\n", t, text ? text : "{}");
		fflush(stdout);
		pthread_mutex_unlock(&log_lock);
		free(text);
		d->cmds++;
	} else if (tl > 4 && strcmp(t + tl - 4, "/ack") == 0 && json_object_get(j, "req_id")) {
		on_ticket(d, j);
	} else if (tl > 4 && strcmp(t + tl - 4, "/ack") == 0) {
		on_ack(d, j);
	} else if (tl > 4 && strcmp(t + tl - 4, "/cmd") == 0) {
		on_cmd(d, j);
	}
	pthread_mutex_unlock(&d->lock);
	json_decref(j);
}

/* Connects as the claim account (before approval) or as the device itself. */
/* libmosquitto's errors (a TLS certificate that does not verify, a refused connection) become
 * the reason the device reports when it gives up. */
static void on_log(struct mosquitto *m, void *obj, int level, const char *text)
{
	struct dev *d = obj;
	(void)m;
	if (level != MOSQ_LOG_ERR || !text)
		return;
	pthread_mutex_lock(&d->lock);
	snprintf(d->last_err, sizeof(d->last_err), "%s", text);
	if (!d->reason[0]) /* a TLS failure in the network thread: the reason given at exit */
		snprintf(d->reason, sizeof(d->reason), "%s", text);
	pthread_mutex_unlock(&d->lock);
	if (d->o->verbose)
		say(d, "%s", text);
}

static int dev_connect(struct dev *d)
{
	const struct opts *o = d->o;
	int claim = d->st == CLAIMING || d->st == PENDING;
	mosquitto_property *props = NULL;
	char will[128], topic[128];

	if (d->m) {
		mosquitto_disconnect(d->m);
		mosquitto_loop_stop(d->m, false);
		mosquitto_destroy(d->m);
	}
	/* The device's own session is kept by the broker (clean start off) so that acks and
	 * commands sent while it is briefly away still reach it. */
	d->m = mosquitto_new(claim ? d->claim_id : d->id, claim, d);
	if (!d->m)
		return -ENOMEM;
	mosquitto_int_option(d->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(d->m, on_connect);
	mosquitto_subscribe_v5_callback_set(d->m, on_subscribe);
	mosquitto_message_v5_callback_set(d->m, on_message);
	mosquitto_reconnect_delay_set(d->m, 1, 10, true);
	mosquitto_log_callback_set(d->m, on_log);
	if (o->cafile) {
		/* Passwords travel only inside TLS, to a broker whose certificate the box's CA signed
		 * for the name or address we dial (hostname checked by OpenSSL). */
		int trc = mosquitto_tls_set(d->m, o->cafile, NULL, NULL, NULL, NULL);
		if (trc == MOSQ_ERR_SUCCESS)
			trc = mosquitto_tls_opts_set(d->m, 1, "tlsv1.2", NULL);
		if (trc != MOSQ_ERR_SUCCESS) {
			snprintf(d->reason, sizeof(d->reason), "cannot use the CA file %.300s: %s", o->cafile,
				 mosquitto_strerror(trc));
			return -EINVAL;
		}
	}
	if (claim) {
		mosquitto_username_pw_set(d->m, o->claim_user, o->claim_password);
	} else {
		mosquitto_username_pw_set(d->m, d->id, d->password);
		snprintf(topic, sizeof(topic), ROOT "/dev/%s/status", d->id);
		snprintf(will, sizeof(will), "{\"state\":\"offline\"}");
		mosquitto_will_set_v5(d->m, topic, (int)strlen(will), will, 1, true, NULL);
		mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, SESSION_EXPIRY_S);
		d->st = CONNECTING;
	}
	d->hello_ms = 0;
	int rc = mosquitto_connect_bind_v5(d->m, o->host, o->port, 30, NULL, props);
	mosquitto_property_free_all(&props);
	if (rc == MOSQ_ERR_SUCCESS)
		rc = mosquitto_loop_start(d->m);
	if (rc != MOSQ_ERR_SUCCESS) {
		snprintf(d->reason, sizeof(d->reason), "cannot reach the broker at %s:%d: %s%s%.256s%s",
			 o->host, o->port, mosquitto_strerror(rc), d->last_err[0] ? " (" : "", d->last_err,
			 d->last_err[0] ? ")" : "");
		return -EIO;
	}
	return 0;
}

/* A synthetic scan for `sim`: a PDF header and random bytes, unique per document. */
static int next_doc(struct dev *d, const char *file)
{
	struct doc *c = &d->cur;
	memset(c, 0, sizeof(*c));
	if (file) {
		FILE *f = fopen(file, "rb");
		struct stat st;
		if (!f || fstat(fileno(f), &st) < 0 || !(c->data = malloc((size_t)st.st_size + 1)) ||
		    fread(c->data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
			if (f)
				fclose(f);
			return -errno;
		}
		fclose(f);
		c->len = (size_t)st.st_size;
	} else {
		c->len = (size_t)d->o->size < 16 ? 16 : (size_t)d->o->size;
		c->data = malloc(c->len);
		if (!c->data)
			return -ENOMEM;
		RAND_bytes(c->data, (int)c->len);
		memcpy(c->data, "%PDF-1.4\n%", 10);
	}
	sha256_hex(c->data, c->len, c->sha);
	const unsigned char *h = c->data;
	c->type = d->o->content_type                                               ? d->o->content_type
	    : c->len >= 3 && h[0] == 0xff && h[1] == 0xd8                          ? "image/jpeg"
	    : c->len >= 4 && memcmp(h, "\x89PNG", 4) == 0                          ? "image/png"
	    : c->len >= 4 && (memcmp(h, "II*", 3) == 0 || memcmp(h, "MM", 2) == 0) ? "image/tiff"
										   : "application/pdf";
	/* The id is the device's own: stable across resends, so a resend is answered "duplicate". */
	if (d->o->doc_id)
		snprintf(c->id, sizeof(c->id), "%s", d->o->doc_id);
	else
		snprintf(c->id, sizeof(c->id), "%.32s", c->sha);
	return 0;
}

/* The 100 ms tick: hellos while pending, the switch to the device's own account, heartbeats,
 * the next document, resends.  Returns 1 when this device has nothing more to do. */
static int tick(struct dev *d, const char *mode, const char *file)
{
	const struct opts *o = d->o;
	int64_t now = now_ms();
	int done = 0, reconnect = 0;

	pthread_mutex_lock(&d->lock);
	switch (d->st) {
	case CLAIMING:
	case PENDING:
		if (d->retry_ms && now >= d->retry_ms) {
			d->retry_ms = 0;
			reconnect = 1;
		} else if (d->st == PENDING && now - d->hello_ms > HELLO_EVERY_MS) {
			send_hello(d);
		}
		break;
	case RECLAIM:
		say(d, "its credentials are refused: registering again");
		d->st = CLAIMING;
		reconnect = 1;
		break;
	case REGISTERED:
		if (strcmp(mode, "register") == 0)
			done = 1;
		else
			reconnect = 1;
		break;
	case ONLINE:
		if (o->heartbeat_s > 0 && now - d->hb_ms >= o->heartbeat_s * 1000) {
			char topic[128];
			snprintf(topic, sizeof(topic), ROOT "/dev/%s/heartbeat", d->id);
			publish(d, topic, "{}", 0);
			d->hb_ms = now;
		}
		if (!d->cur.data && d->docs_done < o->docs) {
			if (next_doc(d, file) < 0) {
				snprintf(d->reason, sizeof(d->reason), "cannot read %s", file);
				d->st = FAILED;
				d->exit_code = 1;
				break;
			}
		}
		if (d->cur.data && (d->cur.sent_ms == 0 || now - d->cur.sent_ms > o->resend_ms))
			send_doc(d); /* first send, or no ack in time: the same id again */
		if (o->service && !d->ticket_sent) {
			char topic[128], req[160];
			snprintf(topic, sizeof(topic), ROOT "/dev/%s/queue/take", d->id);
			snprintf(req, sizeof(req),
				 "{\"req_id\":\"t%lld\",\"service\":\"%s\",\"print\":\"%s\"}", (long long)now,
				 o->service, o->print);
			publish(d, topic, req, 0);
			d->ticket_sent = 1;
		}
		if (o->dverb && !d->ticket_sent) {
			char topic[128];
			snprintf(topic, sizeof(topic), ROOT "/dev/%s/dossier/%s", d->id, o->dverb);
			publish(d, topic, o->dbody, 0);
			d->ticket_sent = 1;
		}
		if (o->dverb) {
			if (d->ticket_done)
				done = 1;
		} else if (o->service) {
			/* Done with the ticket, and with the print command when the kiosk prints it. */
			if (d->ticket_done && (!d->ticket_printed_here || d->cmds > 0))
				done = 1;
		} else if (d->docs_done >= o->docs && strcmp(mode, "listen") != 0 && strcmp(mode, "sim") != 0)
			done = 1;
		if (strcmp(mode, "listen") == 0 && o->listen_max > 0 && d->cmds >= o->listen_max)
			done = 1;
		break;
	case FAILED: done = 1; break;
	default: break;
	}
	if (done && d->st != FAILED)
		d->st = FINISHED;
	pthread_mutex_unlock(&d->lock);
	/* Outside the lock: the old connection's thread may still be in a callback. */
	if (reconnect && dev_connect(d) < 0) {
		pthread_mutex_lock(&d->lock);
		d->st = FAILED;
		d->exit_code = 1;
		pthread_mutex_unlock(&d->lock);
	}
	return d->st == FINISHED || d->st == FAILED;
}

static void on_signal(int sig)
{
	stopping = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: motcua-device [OPTIONS] COMMAND\n"
	    "commands:\n"
	    "  register --kind K --serial S   claim, hello, wait for approval, keep the credentials\n"
	    "  send FILE --kind K [--session S] [--doc-id ID]\n"
	    "                                 hand over one document, resend until acked; prints the result\n"
	    "  listen [--max N]               go online, heartbeat, print and ack commands and queue calls\n"
	    "  ticket SERVICE [--print kiosk|box|none]\n"
	    "                                 a kiosk asks for a queue ticket; prints it (and the print "
	    "command)\n"
	    "  dossier open|submit JSON       a kiosk opens or submits a dossier; prints the answer\n"
	    "  sim --count N [--docs M] [--size BYTES] [--duration S]\n"
	    "                                 N simulated devices: register, go online, send, heartbeat\n"
	    "options:\n"
	    "  --host H --port P              the broker (127.0.0.1 1883; the office LAN: 8883 with "
	    "--cafile)\n"
	    "  --cafile F                     TLS, verifying the broker with this CA (the box's "
	    "mqtt-ca.crt);\n"
	    "                                 required for any broker not on this machine\n"
	    "  --dir DIR                      state: claim-id, credentials.json (./motcua-device)\n"
	    "  --claim-user U                 claim account (motcua-claim)\n"
	    "  --claim-password-file F        its password (or $MOTCUA_CLAIM_PASSWORD)\n"
	    "  --kind K --model M --firmware F --serial S    what the hello says\n"
	    "  --heartbeat S                  heartbeat period (60; 0 none)\n"
	    "  --resend-ms MS                 resend a document with no ack after this long (10000)\n"
	    "  --wait S                       give up after S seconds (600)\n"
	    "  --log FILE                     one line per ack: device doc-id sha256 result id attempts\n"
	    "  --content-type T --sha256 H    override what is declared (to try the gateway's checks)\n");
}

int main(int argc, char **argv)
{
	enum {
		O_HOST = 256,
		O_PORT,
		O_CAFILE,
		O_DIR,
		O_CU,
		O_CPF,
		O_KIND,
		O_MODEL,
		O_FW,
		O_SERIAL,
		O_DKIND,
		O_SESS,
		O_DOCID,
		O_CT,
		O_SHA,
		O_COUNT,
		O_DOCS,
		O_SIZE,
		O_HB,
		O_RESEND,
		O_WAIT,
		O_LOG,
		O_MAX,
		O_DUR,
		O_PRINT
	};
	static const struct option lo[] = {
		{ "host", 1, 0, O_HOST },
		{ "port", 1, 0, O_PORT },
		{ "cafile", 1, 0, O_CAFILE },
		{ "dir", 1, 0, O_DIR },
		{ "claim-user", 1, 0, O_CU },
		{ "claim-password-file", 1, 0, O_CPF },
		{ "model", 1, 0, O_MODEL },
		{ "firmware", 1, 0, O_FW },
		{ "serial", 1, 0, O_SERIAL },
		{ "kind", 1, 0, O_KIND },
		{ "session", 1, 0, O_SESS },
		{ "doc-id", 1, 0, O_DOCID },
		{ "content-type", 1, 0, O_CT },
		{ "sha256", 1, 0, O_SHA },
		{ "count", 1, 0, O_COUNT },
		{ "docs", 1, 0, O_DOCS },
		{ "size", 1, 0, O_SIZE },
		{ "heartbeat", 1, 0, O_HB },
		{ "resend-ms", 1, 0, O_RESEND },
		{ "wait", 1, 0, O_WAIT },
		{ "log", 1, 0, O_LOG },
		{ "max", 1, 0, O_MAX },
		{ "duration", 1, 0, O_DUR },
		{ "print", 1, 0, O_PRINT },
		{ "verbose", 0, 0, 'v' },
		{ "help", 0, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct opts o = { .host = "127.0.0.1",
			  .port = 1883,
			  .dir = "motcua-device",
			  .claim_user = "motcua-claim",
			  .kind = "kiosk",
			  .model = "motcua-device",
			  .firmware = "1.0",
			  .count = 1,
			  .docs = 0,
			  .heartbeat_s = 60,
			  .resend_ms = 10000,
			  .wait_s = 600,
			  .size = 1048576 };
	const char *cpf = NULL, *kind = NULL, *file = NULL, *logpath = NULL;
	int c, duration = 0;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case O_HOST: o.host = optarg; break;
		case O_PORT: o.port = (int)strtol(optarg, NULL, 10); break;
		case O_CAFILE: o.cafile = optarg; break;
		case O_DIR: o.dir = optarg; break;
		case O_CU: o.claim_user = optarg; break;
		case O_CPF: cpf = optarg; break;
		case O_KIND: kind = optarg; break;
		case O_MODEL: o.model = optarg; break;
		case O_FW: o.firmware = optarg; break;
		case O_SERIAL: o.serial = optarg; break;
		case O_SESS: o.session = optarg; break;
		case O_DOCID: o.doc_id = optarg; break;
		case O_CT: o.content_type = optarg; break;
		case O_SHA: o.sha_override = optarg; break;
		case O_COUNT: o.count = (int)strtol(optarg, NULL, 10); break;
		case O_DOCS: o.docs = (int)strtol(optarg, NULL, 10); break;
		case O_SIZE: o.size = strtol(optarg, NULL, 10); break;
		case O_HB: o.heartbeat_s = (int)strtol(optarg, NULL, 10); break;
		case O_RESEND: o.resend_ms = (int)strtol(optarg, NULL, 10); break;
		case O_WAIT: o.wait_s = (int)strtol(optarg, NULL, 10); break;
		case O_LOG: logpath = optarg; break;
		case O_MAX: o.listen_max = (int)strtol(optarg, NULL, 10); break;
		case O_DUR: duration = (int)strtol(optarg, NULL, 10); break;
		case O_PRINT: o.print = optarg; break;
		case 'v': o.verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* GNU getopt moves the options first: what is left is COMMAND [FILE] (dossier: VERB JSON). */
	if (optind >= argc || argc - optind > (strcmp(argv[optind], "dossier") == 0 ? 3 : 2)) {
		usage(stderr);
		return 2;
	}
	const char *mode = argv[optind];
	file = optind + 1 < argc ? argv[optind + 1] : NULL;
	o.file = file;
	if (strcmp(mode, "send") == 0) {
		if (!file || !kind) {
			fprintf(stderr, "motcua-device: send needs FILE and --kind\n");
			return 2;
		}
		o.doc_kind = kind;
		o.docs = 1;
		o.heartbeat_s = 0;
	} else if (strcmp(mode, "register") == 0) {
		if (kind)
			o.kind = kind;
		if (!o.serial) {
			fprintf(stderr, "motcua-device: register needs --serial\n");
			return 2;
		}
	} else if (strcmp(mode, "sim") == 0) {
		if (kind)
			o.kind = kind;
		o.doc_kind = "page";
	} else if (strcmp(mode, "listen") == 0) {
		o.docs = 0;
		o.listen = 1;
	} else if (strcmp(mode, "ticket") == 0) {
		if (!file) {
			fprintf(stderr, "motcua-device: ticket needs SERVICE (a letter)\n");
			return 2;
		}
		o.service = file;
		o.file = file = NULL;
		if (!o.print)
			o.print = "kiosk";
		o.docs = 0;
		o.heartbeat_s = 0;
	} else if (strcmp(mode, "dossier") == 0) {
		if (!file || optind + 2 >= argc) {
			fprintf(stderr, "motcua-device: dossier needs open|submit and a JSON request\n");
			return 2;
		}
		o.dverb = file;
		o.dbody = argv[optind + 2];
		o.file = file = NULL;
		o.docs = 0;
		o.heartbeat_s = 0;
	} else {
		usage(stderr);
		return 2;
	}
	/* docs/mqtt.md 1: passwords cross the LAN only inside TLS.  Plain MQTT is for a broker on
	 * this machine (the box's own tools, tests on loopback). */
	if (!o.cafile && strcmp(o.host, "127.0.0.1") != 0 && strcmp(o.host, "localhost") != 0 &&
	    strcmp(o.host, "::1") != 0) {
		fprintf(stderr,
			"motcua-device: %s is not this machine: connect with TLS, --cafile mqtt-ca.crt "
			"(the box's CA; compare its fingerprint with the staff devices page) --port 8883\n",
			o.host);
		return 2;
	}
	const char *envpw = getenv("MOTCUA_CLAIM_PASSWORD");
	if (cpf) {
		FILE *f = fopen(cpf, "re");
		if (!f || !fgets(o.claim_password, sizeof(o.claim_password), f)) {
			fprintf(stderr, "motcua-device: cannot read %s\n", cpf);
			return 1;
		}
		fclose(f);
		o.claim_password[strcspn(o.claim_password, "\r\n")] = '\0';
	} else if (envpw) {
		snprintf(o.claim_password, sizeof(o.claim_password), "%s", envpw);
	}
	if (logpath && !(o.log = fopen(logpath, "ae"))) {
		fprintf(stderr, "motcua-device: cannot open %s\n", logpath);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	mosquitto_lib_init();

	int n = strcmp(mode, "sim") == 0 ? o.count : 1;
	struct dev *devs = calloc((size_t)n, sizeof(*devs));
	if (!devs)
		return 1;
	int64_t t0 = now_ms();
	for (int i = 0; i < n; i++) {
		struct dev *d = &devs[i];
		d->o = &o;
		pthread_mutex_init(&d->lock, NULL);
		if (n > 1) {
			snprintf(d->dir, sizeof(d->dir), "%s/sim-%d", o.dir, i);
			mkdir(o.dir, 0700);
			snprintf(d->serial, sizeof(d->serial), "%s-%d", o.serial ? o.serial : "SIM", i);
		} else {
			snprintf(d->dir, sizeof(d->dir), "%s", o.dir);
			snprintf(d->serial, sizeof(d->serial), "%s", o.serial ? o.serial : "");
		}
		load_state(d);
		if (d->st == CLAIMING && strcmp(mode, "register") != 0 && strcmp(mode, "sim") != 0) {
			fprintf(stderr, "motcua-device: %s holds no credentials: run register first\n",
				d->dir);
			return 1;
		}
		if (d->st == REGISTERED && strcmp(mode, "register") == 0) {
			printf("already registered as %s (credentials in %s/credentials.json)\n", d->id,
			       d->dir);
			return 0;
		}
		if (d->st == CLAIMING && (dev_connect(d) < 0)) {
			fprintf(stderr, "motcua-device: %s\n", d->reason);
			return 1;
		}
	}
	int64_t all_registered = 0, end_at = duration ? t0 + (int64_t)duration * 1000 : 0;
	for (;;) {
		int finished = 0, registered = 0, online = 0;
		for (int i = 0; i < n; i++) {
			finished += tick(&devs[i], mode, file);
			registered += devs[i].st >= REGISTERED && devs[i].st != FAILED;
			online += devs[i].st == ONLINE;
		}
		if (!all_registered && registered == n)
			all_registered = now_ms();
		if (strcmp(mode, "sim") == 0) {
			int sent = 0;
			for (int i = 0; i < n; i++)
				sent += devs[i].docs_done >= o.docs;
			if (online == n && sent == n && (!end_at || now_ms() >= end_at))
				break;
		} else if (finished == n) {
			break;
		}
		if (stopping || now_ms() - t0 > (int64_t)o.wait_s * 1000)
			break;
		usleep(100 * 1000);
	}

	int status = 0, ok = 0, stored = 0, dup = 0, rej = 0, online = 0;
	double lat = 0;
	int64_t bytes = 0, t1 = now_ms();
	for (int i = 0; i < n; i++) {
		struct dev *d = &devs[i];
		pthread_mutex_lock(&d->lock);
		if (d->st == FAILED) {
			fprintf(stderr, "motcua-device[%s]: %s\n", d->id[0] ? d->id : d->serial, d->reason);
			status = 1;
		}
		if (d->exit_code)
			status = d->exit_code;
		ok += d->docs_done;
		stored += d->docs_stored;
		dup += d->docs_dup;
		rej += d->docs_rejected;
		lat += d->latency_sum;
		bytes += d->bytes;
		online += d->st == ONLINE || d->st == FINISHED;
		pthread_mutex_unlock(&d->lock);
	}
	if (strcmp(mode, "register") == 0 && status == 0 && devs[0].st == FINISHED)
		printf("registered as %s (credentials in %s/credentials.json)\n", devs[0].id, devs[0].dir);
	else if (strcmp(mode, "register") == 0 && devs[0].st != FINISHED && status == 0)
		status = 3;
	if (strcmp(mode, "send") == 0 && ok == 0 && status == 0) {
		fprintf(stderr,
			"motcua-device: no ack within %ds; the document may not be stored: keep it and send "
			"it again\n",
			o.wait_s);
		status = 3;
	}
	if (strcmp(mode, "sim") == 0) {
		double secs = (double)(t1 - t0) / 1000.0;
		printf(
		    "sim: %d devices, %d online, registered in %.2f s; %d docs acked (%d stored, %d "
		    "duplicate, "
		    "%d rejected), %.1f MB in %.2f s: %.1f docs/s, %.1f MB/s, mean publish-to-ack %.1f ms\n",
		    n, online, all_registered ? (double)(all_registered - t0) / 1000.0 : -1.0, ok, stored,
		    dup, rej, (double)bytes / 1048576.0, secs, ok / secs, (double)bytes / 1048576.0 / secs,
		    ok ? lat / ok : 0.0);
		if (online < n || ok < n * o.docs)
			status = 1;
	}
	for (int i = 0; i < n; i++) {
		struct dev *d = &devs[i];
		if (d->m) {
			if (d->st == ONLINE || d->st == FINISHED) {
				if (strcmp(mode, "listen") == 0 || strcmp(mode, "sim") == 0)
					send_status(d, "offline");
			}
			mosquitto_disconnect(d->m);
			mosquitto_loop_stop(d->m, false);
			mosquitto_destroy(d->m);
		}
		free(d->cur.data);
	}
	free(devs);
	if (o.log)
		fclose(o.log);
	mosquitto_lib_cleanup();
	return status;
}
