/* Control commands copy.* and keys.* for motcuactl: issue a copy, show one by number, and
 * export the trust list.  (Verification runs in motcuactl itself, offline.) */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/sign/copy.h"
#include "store/copies.h"

static const char *str(json_t *req, const char *key)
{
	json_t *v = json_object_get(req, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static int cmd_issue(struct control_ctx *x, json_t *req)
{
	struct copy_result res;
	char why[512] = "";
	const char *id = str(req, "doc_id"), *official = str(req, "official");
	if (!id || !official)
		return control_fail(x, -EINVAL, "copy.issue needs \"doc_id\" and \"official\"");
	int r = copy_issue(x->store, x->db, id, official, x->actor, &res, why, sizeof(why));
	if (r < 0)
		return control_fail(x, r, why);
	return control_reply(x,
			     json_pack("{s:s, s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:{s:f, s:f, s:f}}",
				       "doc_id", res.doc_id, "year", (json_int_t)res.year, "book",
				       (json_int_t)res.book, "number", (json_int_t)res.number, "number_text",
				       res.number_text, "sha256", res.sha256, "size", (json_int_t)res.size,
				       "seal", res.seal, "timing_ms", "render", res.ms_render, "sign",
				       res.ms_sign, "store", res.ms_store));
}

static int cmd_show(struct control_ctx *x, json_t *req)
{
	struct copy_row c;
	json_t *y = json_object_get(req, "year"), *n = json_object_get(req, "number");
	if (!json_is_integer(y) || !json_is_integer(n))
		return control_fail(x, -EINVAL, "copy.show needs \"year\" and \"number\"");
	int r = copies_get(x->db, json_integer_value(y), json_integer_value(n), &c);
	if (r == -ENOENT)
		return control_fail(x, r, "no certified copy with that number in that year");
	if (r < 0)
		return control_fail(x, r, "cannot read the copy book");
	return control_reply(x,
			     json_pack("{s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "year",
				       (json_int_t)c.year, "book", (json_int_t)c.book, "number",
				       (json_int_t)c.number, "state", c.state, "original_id", c.original_id,
				       "doc_id", c.doc_id, "official", c.official, "seal", c.seal, "reason",
				       c.reason, "created_at", c.created_at, "issued_at", c.issued_at));
}

static int cmd_trustlist(struct control_ctx *x, json_t *req)
{
	char *pem = NULL;
	int r = copy_trustlist_pem(&pem);
	if (r < 0)
		return control_fail(
		    x, r, "no signing certificate: the signer is not running and [sign] trust_file is empty");
	json_t *j = json_pack("{s:s, s:i}", "pem", pem, "signer_pid", copy_signer_pid());
	free(pem);
	return control_reply(x, j);
}

int copy_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	if (strcmp(cmd, "copy.issue") == 0)
		return cmd_issue(x, req_json);
	if (strcmp(cmd, "copy.show") == 0)
		return cmd_show(x, req_json);
	if (strcmp(cmd, "keys.trustlist") == 0)
		return cmd_trustlist(x, req_json);
	return control_fail(x, -EINVAL, "unknown command");
}
