/* Fuzz target: an EF.SOD (CMS SignedData around an LDS security object) from a card, through
 * the whole passive authentication with an empty trust list, and the LDS security object
 * parser on its own. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/chip/pa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pa_sod s;
	pa_sod_hashes(data, size, &s);
	static const uint8_t dg1[] = { 0x61, 0x00 };
	struct pa_dg dgs[1] = { { 1, dg1, sizeof(dg1) } };
	json_t *r = pa_verify(data, size, dgs, 1, NULL, NULL);
	json_decref(r);
	return 0;
}
