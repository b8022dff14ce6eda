/* libFuzzer target for the parsers of what devices send (devices/proto.c): the hello JSON,
 * a document's user properties, command acks and kiosk ticket requests, status messages and
 * topics.  The first byte picks the parser; user properties are NUL-separated name/value
 * strings. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512], dev[DEVICE_CLIENT_MAX];
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 5) {
	case 0: {
		struct proto_hello h;
		proto_hello_parse(p, n, &h, why, sizeof(why));
		break;
	}
	case 1: {
		/* "name\0value\0name\0value\0..." */
		char *buf = malloc(n + 1);
		const char *names[PROTO_PROPS_MAX + 2], *values[PROTO_PROPS_MAX + 2];
		size_t k = 0, off = 0;
		struct proto_doc d;
		if (!buf)
			return 0;
		memcpy(buf, p, n);
		buf[n] = '\0';
		while (off < n && k < PROTO_PROPS_MAX + 2) {
			names[k] = buf + off;
			off += strlen(buf + off) + 1;
			values[k] = off < n ? buf + off : "";
			off += off < n ? strlen(buf + off) + 1 : 0;
			k++;
		}
		proto_doc_props(names, values, k, &d, why, sizeof(why));
		free(buf);
		break;
	}
	case 2: {
		struct proto_cmd_ack a;
		struct proto_queue_take q;
		proto_cmd_ack_parse(p, n, &a);
		proto_queue_take_parse(p, n, &q, why, sizeof(why)); /* the same small JSON objects */
		break;
	}
	case 3: {
		int online;
		proto_status_parse(p, n, &online);
		break;
	}
	case 4: {
		char *t = malloc(n + 1);
		const char *rest;
		if (!t)
			return 0;
		memcpy(t, p, n);
		t[n] = '\0';
		proto_topic(t, dev, sizeof(dev), &rest);
		free(t);
		break;
	}
	}
	return 0;
}
