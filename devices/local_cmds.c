/* Control commands for the box's own devices: usb.list, scan.list, scan.page. */
#include "devices/local_cmds.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "devices/scanner.h"
#include "devices/usb.h"
#include "gateway/control.h"
#include "gateway/ctlproto.h"
#include "gateway/daemon.h"
#include "gateway/log.h"

static int cmd_usb_list(struct control_ctx *x, json_t *req)
{
	struct usb_dev_info d[USB_MAX_DEVICES];
	int n = usb_list(d, USB_MAX_DEVICES);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		char c[8];
		snprintf(c, sizeof(c), "%d", d[i].counter);
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:i, s:s}", "port", d[i].port,
						"kind", d[i].kind, "vid", d[i].vid, "pid", d[i].pid,
						"product", d[i].product, "status", d[i].status, "counter",
						d[i].counter, "counter_text", c));
	}
	return control_reply(x, json_pack("{s:o}", "devices", arr));
}

static int cmd_scan_list(struct control_ctx *x, json_t *req)
{
	struct scanner_info s[16];
	int n = scanner_list(s, 16);
	if (n < 0)
		return ctl_send_error(x->conn, n, "SANE cannot start");
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:s, s:s}", "name", s[i].name, "vendor",
						s[i].vendor, "model", s[i].model, "type", s[i].type));
	return control_reply(x, json_pack("{s:o}", "scanners", arr));
}

static int cmd_scan_page(struct control_ctx *x, json_t *req)
{
	struct config cfg;
	struct doc_meta m;
	char why[512] = "";
	const char *dev = json_string_value(json_object_get(req, "device"));
	const char *kind = json_string_value(json_object_get(req, "kind"));
	const char *actor = json_string_value(json_object_get(req, "actor"));
	if (!dev || !dev[0])
		return ctl_send_error(x->conn, -EINVAL, "scan.page needs \"device\" (see scan.list)");
	daemon_config_snapshot(&cfg);
	int r =
	    scanner_scan(x->store, x->db, &cfg, dev, kind, actor ? actor : "motcuactl", &m, why, sizeof(why));
	if (r < 0) {
		log_warn("scanner: scan on %.100s failed: %s", dev, why);
		return ctl_send_error(x->conn, r, why);
	}
	return control_reply(x,
			     json_pack("{s:s, s:s, s:I, s:s, s:s}", "id", m.id, "sha256", m.sha256, "size",
				       (json_int_t)m.size, "content_type", m.content_type, "kind", m.kind));
}

int local_control(struct control_ctx *x, const char *cmd, void *req_json)
{
	if (strcmp(cmd, "usb.list") == 0)
		return cmd_usb_list(x, req_json);
	if (strcmp(cmd, "scan.list") == 0)
		return cmd_scan_list(x, req_json);
	if (strcmp(cmd, "scan.page") == 0)
		return cmd_scan_page(x, req_json);
	return ctl_send_error(x->conn, -EINVAL, "unknown local device command");
}
