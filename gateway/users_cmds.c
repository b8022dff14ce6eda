/* The users.* control commands: accounts for the staff page, managed from the CLI (a
 * package's postinst creates the first admin with a one-time password this way). */
#include "gateway/users_cmds.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "gateway/accounts.h"
#include "gateway/ctlproto.h"
#include "store/users.h"

static const char *str(json_t *req, const char *key)
{
	json_t *v = json_object_get(req, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

static int reply_ok(struct control_ctx *x, json_t *j)
{
	if (!j)
		return ctl_send_error(x->conn, -ENOMEM, "out of memory");
	json_object_set_new(j, "ok", json_true());
	int r = ctl_send(x->conn, j);
	json_decref(j);
	return r;
}

static int add_user(void *ctx, const struct user *u)
{
	json_t *j = json_pack("{s:s, s:s, s:b, s:b, s:I, s:s}", "name", u->name, "role", u->role, "disabled",
			      u->disabled, "one_time", u->must_change, "locked_until",
			      (json_int_t)u->locked_until, "created_at", u->created_at);
	return json_array_append_new(ctx, j) == 0 ? 0 : -ENOMEM;
}

int users_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	json_t *req = req_json;
	char actor[64], why[256] = "";
	const char *name = str(req, "name");
	int one_time = json_is_true(json_object_get(req, "one_time"));
	int r;

	snprintf(actor, sizeof(actor), "%s", x->actor);
	if (strcmp(cmd, "users.list") == 0) {
		json_t *arr = json_array();
		r = users_list(x->db, add_user, arr);
		if (r < 0) {
			json_decref(arr);
			return ctl_send_error(x->conn, r, "cannot list the users");
		}
		return reply_ok(x, json_pack("{s:o}", "users", arr));
	}
	if (strcmp(cmd, "users.add") == 0 || strcmp(cmd, "users.passwd") == 0) {
		json_t *pw = json_object_get(req, "password");
		if (!json_is_string(pw))
			return ctl_send_error(x->conn, -EINVAL, "a password is needed");
		if (cmd[6] == 'a')
			r = accounts_add(x->db, name, str(req, "role")[0] ? str(req, "role") : "staff",
					 json_string_value(pw), one_time, actor, why, sizeof(why));
		else
			r = accounts_passwd(x->db, name, json_string_value(pw), one_time, actor, why,
					    sizeof(why));
		/* jansson owns the string: wipe it before the request is freed. */
		OPENSSL_cleanse((char *)json_string_value(pw), strlen(json_string_value(pw)));
		if (r < 0)
			return ctl_send_error(x->conn, r, why);
		return reply_ok(x, json_pack("{s:s, s:b}", "name", name, "one_time", one_time));
	}
	if (strcmp(cmd, "users.disable") == 0 || strcmp(cmd, "users.enable") == 0) {
		r = accounts_disable(x->db, name, cmd[6] == 'd', actor, why, sizeof(why));
		if (r < 0)
			return ctl_send_error(x->conn, r, why);
		return reply_ok(x, json_pack("{s:s}", "name", name));
	}
	return ctl_send_error(x->conn, -EINVAL, "unknown users command");
}
