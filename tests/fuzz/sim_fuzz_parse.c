/* libFuzzer target for the parsers of motcua-lgsp-sim (tools/lgsp-sim/parse.c): the first byte
 * picks a parser, the rest is the hostile input (path, header, form body or JSON body). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/lgsp-sim/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "PATCH" };
	static const char *const kinds[] = { "documents",     "dossiers",    "certified-copies",
					     "audit-batches", "queue-stats", "feedback-stats",
					     "dossier-steps" };
	struct sim_route route;
	struct sim_err err;
	struct sim_blob_ref refs[SIM_BLOB_REFS_MAX];
	char out[256], sha[65], ctype[SIM_CTYPE_MAX], dossier[SIM_ID_MAX], status[32], text[256];
	int64_t size64;
	uint64_t u;
	int nrefs;

	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	/* The string parsers take NUL-terminated text, as libmicrohttpd hands it over. */
	char *str = malloc(len + 1);
	if (!str)
		return 0;
	memcpy(str, body, len);
	str[len] = '\0';

	switch (sel % 8) {
	case 0: sim_route_parse(methods[(sel >> 3) % 4], str, &route); break;
	case 1:
		sim_idem_key_check(str);
		sim_upload_id_check(str);
		sim_dossier_code_check(str);
		sim_kind_check(str);
		sim_status_check(str);
		if (strlen(str) >= 64)
			sim_hex64_check(str);
		break;
	case 2: sim_parse_u64(str, UINT64_MAX >> (sel >> 3), &u); break;
	case 3:
		sim_form_get(body, len, "grant_type", out, (size_t)(sel >> 3) + 1);
		sim_form_get(body, len, "client_id", out, sizeof(out));
		sim_form_get(body, len, "client_secret", out, sizeof(out));
		break;
	case 4: sim_bearer_parse(str, out, sizeof(out)); break;
	case 5: sim_upload_create_check(body, len, (int64_t)1 << 26, &size64, sha, ctype, &err); break;
	case 6: sim_submission_check(kinds[(sel >> 3) % 7], body, len, refs, &nrefs, dossier, &err); break;
	case 7: sim_status_set_check(body, len, status, text, &err); break;
	}
	free(str);
	return 0;
}
