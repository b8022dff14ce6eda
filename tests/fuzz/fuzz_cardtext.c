/* Fuzz target: OCR text of a card front without QR/MRZ, then the result JSON built from it
 * and that result paired with itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "gateway/recognize/cardtext.h"
#include "gateway/recognize/result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card_text c;
	cardtext_parse((const char *)data, size, &c);
	if (c.generation) {
		struct rec_input in = { .card = &c };
		json_t *r = result_build(&in);
		json_t *p = r ? result_pair(r, r) : NULL;
		char *s = p ? json_dumps(p, 0) : NULL;
		free(s);
		json_decref(p);
		json_decref(r);
	}
	return 0;
}
