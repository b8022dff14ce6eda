/* Control commands for the store as a whole: the check of every blob and manifest. */
#include "gateway/store_cmds.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
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

/* store.backup_done: motcuactl backup finished; kept for the dashboard and audited. */
static int cmd_backup_done(struct control_ctx *x, json_t *req)
{
	json_t *b = json_object_get(req, "backup");
	if (!json_is_object(b) || !json_is_string(json_object_get(b, "at")))
		return control_failf(x, -EINVAL, "store.backup_done needs \"backup\" with \"at\"");
	char *text = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
	int r = text && strlen(text) < 4096 ? 0 : -EMSGSIZE;
	if (r == 0)
		r = audit_record(x->db, "control", "store.backup",
				 json_string_value(json_object_get(b, "dir")) ?: "", text);
	if (r == 0)
		r = db_meta_set(x->db, "last_backup", text);
	free(text);
	if (r < 0)
		return control_failf(x, r, "cannot record the backup");
	return control_reply(x, json_object());
}

int store_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	json_t *req = req_json;
	if (strcmp(cmd, "store.check") == 0)
		return cmd_check(x, req);
	if (strcmp(cmd, "store.backup_done") == 0)
		return cmd_backup_done(x, req);
	return control_failf(x, -EINVAL, "unknown command %.40s", cmd);
}
