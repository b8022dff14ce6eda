/* motcuactl's devices.* commands: list, approve, reject, revoke, cmd.  They act on the store
 * only; the device thread picks the decisions and commands up from there. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices/devices.h"
#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/devinfo.h"
#include "store/devices.h"

#define CMD_WAIT_MAX_MS 60000

static const char *str(json_t *req, const char *key, const char *dflt)
{
	json_t *v = json_object_get(req, key);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

/* online, offline, stale (online but silent too long) or unknown. */
static const char *presence(const struct device *d, int64_t stale_after_s)
{
	if (strcmp(d->presence, "online") == 0 && d->last_seen > 0 &&
	    (int64_t)time(NULL) - d->last_seen > stale_after_s)
		return "stale";
	return d->presence;
}

struct listing {
	json_t *arr;
	int64_t stale_after_s;
};

static json_t *device_json(const struct device *d, int64_t stale_after_s)
{
	json_t *caps = json_loads(d->capabilities, 0, NULL);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I, s:s, s:s, s:s, s:i}", "id", d->id,
			 "serial", d->serial, "kind", d->kind, "model", d->model, "firmware", d->firmware,
			 "capabilities", caps ? caps : json_array(), "state", d->state, "presence",
			 presence(d, stale_after_s), "last_seen", (json_int_t)d->last_seen, "reason",
			 d->reason, "created_at", d->created_at, "updated_at", d->updated_at, "conflicts",
			 d->conflicts);
}

static int add(void *ctx, const struct device *d)
{
	struct listing *l = ctx;
	return json_array_append_new(l->arr, device_json(d, l->stale_after_s)) == 0 ? 0 : -ENOMEM;
}

/* How devices reach the broker, for installers: the TLS port and the CA's fingerprint (or
 * why it cannot be read). */
static json_t *broker_json(const struct config *cfg)
{
	char fp[DEVINFO_FP_MAX], why[CONFIG_PATH_MAX + 64] = "";
	int r = cfg->tls_port ? devinfo_ca_fingerprint(cfg->tls_ca_file, fp, sizeof(fp)) : -ENOENT;
	if (r < 0) {
		fp[0] = '\0';
		if (cfg->tls_port)
			snprintf(why, sizeof(why), "cannot read the broker CA %s: %s", cfg->tls_ca_file,
				 r == -EBADMSG ? "not a PEM certificate" : strerror(-r));
	}
	return json_pack("{s:I, s:s, s:s, s:s}", "tls_port", (json_int_t)cfg->tls_port, "ca_file",
			 cfg->tls_ca_file, "ca_sha256", fp, "problem", why);
}

static int cmd_list(struct control_ctx *x, json_t *req)
{
	struct config cfg;
	daemon_config_snapshot(&cfg);
	struct listing l = { .arr = json_array(), .stale_after_s = cfg.stale_after_s };
	int r = devices_list(x->db, add, &l);
	if (r < 0) {
		json_decref(l.arr);
		return control_failf(x, r, "cannot list devices");
	}
	return control_reply(x, json_pack("{s:o, s:o}", "devices", l.arr, "broker", broker_json(&cfg)));
}

static int cmd_decide(struct control_ctx *x, json_t *req, const char *verb)
{
	struct config cfg;
	struct device d;
	char why[512] = "";
	daemon_config_snapshot(&cfg);
	int r = devices_decide(x->db, str(req, "id", ""), verb, str(req, "actor", "motcuactl"),
			       str(req, "reason", ""), str(req, "code", ""), &d, why, sizeof(why));
	if (r < 0)
		return control_failf(x, r, "%s", why);
	return control_reply(x, json_pack("{s:o}", "device", device_json(&d, cfg.stale_after_s)));
}

static int cmd_send(struct control_ctx *x, json_t *req)
{
	const char *cmd = str(req, "cmd_name", "");
	json_t *body = json_object_get(req, "body"), *wait = json_object_get(req, "wait_ms");
	int64_t wait_ms = json_is_integer(wait) ? json_integer_value(wait) : 10000, id = 0;
	struct device d;
	struct device_cmd c;
	int r;

	if (strcmp(cmd, "print") != 0 && strcmp(cmd, "display") != 0 && strcmp(cmd, "ping") != 0)
		return control_failf(x, -EINVAL, "command must be print, display or ping");
	if (body && !json_is_object(body))
		return control_failf(x, -EINVAL, "body must be a JSON object");
	r = devices_get(x->db, str(req, "id", ""), &d);
	if (r == -ENOENT)
		return control_failf(x, r, "no device with id or serial %.64s", str(req, "id", ""));
	if (r < 0)
		return control_failf(x, r, "cannot read the device");
	if (strcmp(d.state, "approved") != 0 && strcmp(d.state, "active") != 0)
		return control_failf(x, -EACCES, "device %s is %s; commands go to approved devices only",
				     d.id, d.state);
	char *text = json_dumps(body ? body : json_object(), JSON_COMPACT);
	if (!text || strlen(text) >= sizeof(c.body)) {
		free(text);
		return control_failf(x, -EMSGSIZE, "body is longer than %zu bytes", sizeof(c.body) - 1);
	}
	r = devices_cmd_queue(x->db, d.id, cmd, text, &id);
	free(text);
	if (r < 0)
		return control_failf(x, r, "cannot queue the command");
	if (wait_ms > CMD_WAIT_MAX_MS)
		wait_ms = CMD_WAIT_MAX_MS;
	/* The device thread sends it within ~100 ms; wait for the device's ack. */
	for (int64_t waited = 0;; waited += 50) {
		r = devices_cmd_get(x->db, id, &c);
		if (r < 0)
			return control_failf(x, r, "cannot read the command");
		if (strcmp(c.state, "done") == 0 || strcmp(c.state, "failed") == 0 || waited >= wait_ms)
			break;
		usleep(50 * 1000);
	}
	return control_reply(x,
			     json_pack("{s:I, s:s, s:s, s:s}", "cmd_id", (json_int_t)id, "device", d.id,
				       "state", c.state, "result", c.result));
}

int devices_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	json_t *req = req_json;
	if (strcmp(cmd, "devices.list") == 0)
		return cmd_list(x, req);
	if (strcmp(cmd, "devices.approve") == 0)
		return cmd_decide(x, req, "approve");
	if (strcmp(cmd, "devices.reject") == 0)
		return cmd_decide(x, req, "reject");
	if (strcmp(cmd, "devices.revoke") == 0)
		return cmd_decide(x, req, "revoke");
	if (strcmp(cmd, "devices.cmd") == 0)
		return cmd_send(x, req);
	return control_failf(x, -EINVAL, "unknown command %.40s", cmd);
}
