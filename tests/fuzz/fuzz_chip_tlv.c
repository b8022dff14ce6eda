/* Fuzz target: card bytes as BER-TLV (every file and SM answer starts here), the EF.COM,
 * DG1 and DG2 parsers, and a secure-messaging answer under fixed session keys. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gateway/chip/lds.h"
#include "gateway/chip/sm.h"
#include "gateway/chip/tlv.h"

static void walk(const uint8_t *b, size_t n, int depth)
{
	size_t pos = 0;
	struct tlv t;
	while (depth < 8 && tlv_next(b, n, &pos, &t) == 0)
		if (t.constructed)
			walk(t.value, t.len, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[SM_APDU_MAX];
	walk(data, size, 0);
	uint32_t mask;
	lds_com_parse(data, size, &mask);
	char mrz[96];
	lds_dg1_parse(data, size, mrz, sizeof(mrz));
	const uint8_t *img;
	size_t ilen;
	enum lds_image kind;
	lds_dg2_face(data, size, &img, &ilen, &kind);
	struct sm sm;
	memset(&sm, 0x11, sizeof(sm));
	unsigned sw;
	sm_unwrap(&sm, data, size, out, sizeof(out), &sw);
	return 0;
}
