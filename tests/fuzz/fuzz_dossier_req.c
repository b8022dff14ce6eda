/* libFuzzer target for a kiosk's dossier requests (devices/proto.c, docs/mqtt.md 6c): the JSON
 * of dev/<id>/dossier/open and /submit, and a scan's "dossier:<number>:<item>" session.  The
 * first byte picks the parser; every string the parser hands out is read to its end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t len_or_0(const char *s)
{
	return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	volatile size_t sink = 0;
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	if (data[0] % 2 == 0) {
		struct proto_dossier_req req;
		int r = proto_dossier_req_parse(p, n, &req);
		sink += strlen(req.req_id);
		if (r == 0)
			sink += len_or_0(req.procedure) + len_or_0(req.id_card) + len_or_0(req.name) +
			    len_or_0(req.id_number) + (size_t)req.has_dossier;
		proto_dossier_req_done(&req);
	} else {
		/* The session arrives NUL-terminated (an MQTT user property, at most 64 bytes). */
		char *s = malloc(n + 1), item[32] = "";
		long long num = 0;
		if (!s)
			return 0;
		memcpy(s, p, n);
		s[n] = '\0';
		if (proto_dossier_session(s, &num, item, sizeof(item)) == 1)
			sink += strlen(item) + (size_t)(num & 1);
		free(s);
	}
	(void)sink;
	return 0;
}
