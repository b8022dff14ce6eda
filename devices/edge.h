/* Inside the device edge: the state of the MQTT thread shared by its files (edge.c the
 * connection and routing, dynsec.c broker accounts, registry.c registration, docin.c
 * documents and commands).  Only the device thread touches it. */
#ifndef MOTCUA_DEVICES_EDGE_H
#define MOTCUA_DEVICES_EDGE_H

#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "devices/proto.h"
#include "gateway/config.h"
#include "store/devices.h"
#include "store/queue.h"

#define EDGE_DIRTY_MAX 1024 /* presence updates gathered between flushes */
#define EDGE_REPLIES_MAX 2048 /* provisioning replies waiting for their dynsec batch */
#define EDGE_BATCH_MAX 256 /* dynsec commands in one message */
#define EDGE_PASSWORD_LEN 32 /* characters of a device password */
#define EDGE_HEARTBEAT_S 60 /* heartbeat period told to devices */
#define EDGE_ANNOUNCE_MAX 64 /* queue calls waiting for the device thread */
#define EDGE_TAKES_MAX 64 /* recent kiosk ticket requests remembered against resends */

struct edge_announce {
	int counter;
	char verb[8];
	struct queue_ticket t;
};

struct edge_take {
	char device[DEVICE_ID_MAX];
	char req_id[PROTO_DOC_ID_MAX];
	char day[QUEUE_DAY_LEN];
	char code[QUEUE_CODE_MAX];
	char printed[8];
};

struct edge_reply {
	int64_t batch; /* sent once this dynsec batch is answered */
	char topic[128];
	char *payload; /* owned; wiped before free (it may hold a password) */
	char device[DEVICE_ID_MAX];
	char action[DEVICE_STATE_MAX]; /* cleared in the store once sent */
};

struct edge_dirty {
	char id[DEVICE_ID_MAX];
	int presence; /* -1 keep, 0 offline, 1 online */
	int64_t seen;
};

struct edge {
	struct store *store;
	struct db *db;
	struct config cfg;
	struct mosquitto *mosq;
	pthread_t thread;
	atomic_int stop;
	int connected;
	int64_t backoff_ms; /* before the next connection attempt */
	char boot_id[17];
	char admin_pw[256];
	char claim_pw[256];

	json_t *batch; /* dynsec commands not yet sent */
	int64_t batch_first_ms; /* when the oldest of them was added */
	int batch_urgent; /* a revocation: send now */
	int64_t batch_seq; /* number of the batch being gathered */
	int64_t answered_seq; /* highest batch the broker answered */
	int64_t sent_at_ms; /* when the last batch went out */

	struct edge_reply replies[EDGE_REPLIES_MAX];
	int nreplies;
	struct edge_dirty dirty[EDGE_DIRTY_MAX];
	int ndirty;
	int64_t last_flush_ms;

	/* queue_edge.c: calls handed over by other threads (under qlock), recent ticket requests */
	pthread_mutex_t qlock;
	struct edge_announce ann[EDGE_ANNOUNCE_MAX];
	int nann, ann_dropped;
	struct edge_take takes[EDGE_TAKES_MAX];
	int takes_next;
};

int64_t edge_now_ms(void);

/* Publishes JSON text (QoS 1, retained or not).  Returns 0 or -EIO. */
int edge_publish(struct edge *e, const char *topic, const char *json, int retain);

/* Notes that a device was heard from (presence -1 keep, 0 offline, 1 online). */
void edge_seen(struct edge *e, const char *id, int presence);

/* dynsec.c */
void dynsec_add(struct edge *e, json_t *cmd); /* takes ownership of cmd */
void dynsec_setup(struct edge *e); /* the claim role and account, motcuad's own role */
/* Adds the device's role: its kind's ACLs on its own topics only.  Names it in ret_role. */
void dynsec_device_role(struct edge *e, const char *id, const char *kind, char *ret_role, size_t size);
void dynsec_tick(struct edge *e); /* sends the batch when due */
void dynsec_answer(struct edge *e, const void *payload, int len);
/* Queues a reply to go out after the current batch is answered (takes ownership of payload). */
void edge_reply_after_batch(struct edge *e, const char *topic, char *payload, const char *device,
			    const char *action);
int edge_reply_pending(const struct edge *e, const char *device);

/* registry.c */
void registry_hello(struct edge *e, const char *client, const void *payload, int len);
void registry_tick(struct edge *e);
void registry_status(struct edge *e, const char *id, const void *payload, int len);

/* docin.c */
void docin_document(struct edge *e, const char *id, const struct mosquitto_message *msg,
		    const mosquitto_property *props);
void docin_cmd_ack(struct edge *e, const char *id, const void *payload, int len);
void docin_tick(struct edge *e);

/* queue_edge.c */
void qedge_start(struct edge *e); /* registers the queue announcer */
void qedge_stop(struct edge *e); /* clears it (waits for a call in progress) */
/* A kiosk's ticket request on dev/<id>/queue/take, answered on dev/<id>/ack. */
void qedge_take(struct edge *e, const char *id, const void *payload, int len);
/* Publishes the calls handed over since the last tick (device thread). */
void qedge_tick(struct edge *e);
/* Appends the queue ACLs of a device of kind to acls (built with acl()). */
void qedge_acls(const char *id, const char *kind, json_t *acls,
		json_t *(*acl)(const char *type, const char *topic));

/* dossier_edge.c: a kiosk's dev/<id>/dossier/<verb> request (open, submit), answered on
 * dev/<id>/ack. */
void dedge_request(struct edge *e, const char *id, const char *verb, const void *payload, int len);
/* A stored document whose session is "dossier:<n>:<item>" attached to that dossier of the
 * kiosk's: what to add to the document's ack (new reference), NULL for other sessions. */
json_t *dedge_attach(struct edge *e, const char *id, const char *session, const char *doc_id);

#endif
