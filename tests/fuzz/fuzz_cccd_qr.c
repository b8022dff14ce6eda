/* Fuzz target: CCCD QR payloads (raw bytes from zbar), then the result JSON built from them. */
#include <stddef.h>
#include <stdint.h>

#include "gateway/recognize/cccd_qr.h"
#include "gateway/recognize/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cccd_qr q;
	if (cccd_qr_parse((const char *)data, size, &q) == 0) {
		struct rec_input in = { .qr = &q };
		json_t *r = result_build(&in);
		char *s = json_dumps(r, 0);
		free(s);
		json_decref(r);
	}
	return 0;
}
