/* The queue's configured services: "A:Hộ tịch:1,2;B:Chứng thực:3" ([queue] services), parsed
 * and validated here so that motcuad, motcuactl and config checks read it one way. */
#ifndef MOTCUA_QUEUE_CONF_H
#define MOTCUA_QUEUE_CONF_H

#include <stddef.h>

#define QUEUE_SERVICES_MAX 26 /* one per letter A-Z */
#define QUEUE_COUNTER_MAX 99 /* counters are numbered 1..99 */
#define QUEUE_NAME_MAX 64

struct queue_service {
	char letter; /* 'A'..'Z': the ticket prefix */
	char name[QUEUE_NAME_MAX]; /* shown on tickets and displays (UTF-8) */
	unsigned char counter[QUEUE_COUNTER_MAX + 1]; /* counter[n] set: counter n serves it */
};

struct queue_services {
	int n;
	struct queue_service s[QUEUE_SERVICES_MAX];
};

/* Parses "L:name:c1,c2;L:name:c3" (spaces around items ignored).  Every service needs a
 * letter A-Z used once, a name of 1-63 bytes without ':' or ';', and at least one counter
 * 1-99.  Returns 0, or -EINVAL with a message naming the item at fault in why. */
int queue_services_parse(const char *text, struct queue_services *ret, char *why, size_t whylen);

/* The service with that letter (either case), or NULL. */
const struct queue_service *queue_service_find(const struct queue_services *q, char letter);

#endif
