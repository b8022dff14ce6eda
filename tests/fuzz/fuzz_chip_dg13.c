/* Fuzz target: the Vietnamese DG13 (names, dates, places, parents, spouse) from a card. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/chip/lds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *f = json_object();
	int unknown;
	lds_dg13_parse(data, size, f, &unknown);
	json_decref(f);
	return 0;
}
