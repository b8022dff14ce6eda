/* libFuzzer target: every LGSP answer parser of the uplink (uplink/lgsp.c) on hostile bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uplink/lgsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lgsp_upload up;
	struct lgsp_receipt rc;
	struct lgsp_error e;
	char tok[LGSP_TOKEN_MAX + 1], hv[64], key[LGSP_KEY_MAX + 1], line[512];
	int64_t v;
	const char *body = (const char *)data;

	lgsp_parse_upload(body, size, &up);
	lgsp_parse_receipt(body, size, "01HQ4Z8V6N2C0R5F8K3T7W1M9D",
			   "d2c1000000000000000000000000000000000000000000000000000000000000", &rc);
	lgsp_parse_error(body, size, &e);
	lgsp_reason(422, &e, line, sizeof(line));
	lgsp_parse_token(body, size, tok, &v);
	/* Header values arrive NUL-terminated and short (xfer.c keeps 23 bytes). */
	size_t n = size < sizeof(hv) - 1 ? size : sizeof(hv) - 1;
	memcpy(hv, data, n);
	hv[n] = '\0';
	lgsp_retry_after(hv, &v);
	lgsp_parse_offset(hv, &v);
	lgsp_wire_key(hv, key);
	lgsp_classify(size > 0 ? 400 + data[0] % 200 : 200, hv, size > 1 && data[1] & 1);
	return 0;
}
