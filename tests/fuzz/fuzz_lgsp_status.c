/* libFuzzer target for the LGSP status pull's answer (uplink/lgsp_status.c, docs/lgsp.md 8):
 * the page, its cursor and every item, each string read to its end. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "uplink/lgsp_status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lgsp_status_page pg;
	volatile size_t sink = 0;

	if (lgsp_status_page_parse((const char *)data, size, &pg) < 0)
		return 0;
	sink += strlen(pg.next_cursor) + (size_t)pg.more;
	for (size_t i = 0; i < pg.count; i++) {
		struct lgsp_status_item it;
		if (lgsp_status_page_item(&pg, i, &it) == 0)
			sink += strlen(it.code) + strlen(it.status) + strlen(it.text) + strlen(it.updated_at);
	}
	lgsp_status_page_done(&pg);
	lgsp_status_page_done(&pg); /* done twice is allowed */
	(void)sink;
	return 0;
}
