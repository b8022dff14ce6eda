/* Fuzz target: motcua-signer's request checks (gateway/sign/signreq.c).  The first byte picks
 * the kind (seal Sig_structure or PAdES signed attributes), the rest is the data: whoever
 * controls motcuad controls these bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/sign/signproto.h"
#include "gateway/sign/signreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char cert_sha256[32] = { 0 };
	struct signreq_info info;
	char why[160];
	if (size < 1)
		return 0;
	int kind = data[0] & 1 ? SIGN_KIND_SEAL : SIGN_KIND_PADES;
	signreq_check(kind, data + 1, size - 1, cert_sha256, &info, why, sizeof(why));
	return 0;
}
