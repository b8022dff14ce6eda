/* Fuzz target: MRZ text as an OCR reader (or a hostile image) may produce it. */
#include <stddef.h>
#include <stdint.h>

#include "gateway/recognize/mrz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mrz m;
	mrz_parse((const char *)data, size, 2025, &m);
	return 0;
}
