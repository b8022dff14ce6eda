/* Fuzz target: OCR text (any bytes) through folding and classification. */
#include <stddef.h>
#include <stdint.h>

#include "gateway/recognize/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct classify_result r;
	classify_text((const char *)data, size, &r);
	return 0;
}
