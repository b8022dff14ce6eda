/* Fuzz target: the QR seal decoder (docs/seal.md); seals come from anyone's QR scanner. */
#include <stddef.h>
#include <stdint.h>

#include "gateway/sign/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seal_decoded d;
	char why[256];
	unsigned char out[SEAL_COSE_MAX];
	seal_decode((const char *)data, size, &d, why, sizeof(why));
	base45_decode((const char *)data, size, out, sizeof(out));
	return 0;
}
