/* Control commands for the store as a whole: the check of every blob and manifest. */
#include "gateway/store_cmds.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "gateway/control.h"
#include "store/audit.h"
#include "store/check.h"
#include "store/db.h"

/* store.check: runs the check now, at full speed, and answers with its report. */
static int cmd_check(struct control_ctx *x, json_t *req)
{
	struct store_check_result res;
	char text[65536], detail[256];
	(void)req;
	int r = store_check_run(x->store, x->db, 0, NULL, NULL, NULL, &res);
	if (r < 0)
		return control_failf(x, r, "the store check could not read the database");
	snprintf(detail, sizeof(detail), "{\"damaged\":%lld,\"missing\":%lld,\"manifest_problems\":%lld}",
		 (long long)res.damaged, (long long)res.missing, (long long)res.manifest_problems);
	audit_record(x->db, "control", "store.check", "store", detail);
	if (db_meta_get(x->db, "store_check", text, sizeof(text)) < 0)
		return control_failf(x, -EIO, "the store check ran but its report could not be read");
	json_t *j = json_loads(text, 0, NULL);
	return control_reply(x, j);
}

int store_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	json_t *req = req_json;
	if (strcmp(cmd, "store.check") == 0)
		return cmd_check(x, req);
	return control_failf(x, -EINVAL, "unknown command %.40s", cmd);
}
