/* Fuzz target: blob manifests, read back from disk during a rebuild (they may be damaged). */
#include <stddef.h>
#include <stdint.h>

#include "store/docs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct doc_meta m;
	manifest_parse((const char *)data, size, &m);
	return 0;
}
