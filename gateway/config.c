/* motcua.conf reading and validation: a table of keys with types and bounds, so that every
 * key has one default, one check and one message. */
#include "gateway/config.h"
#include "gateway/queue_conf.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum key_type { KEY_PATH, KEY_STRING, KEY_INT, KEY_ENUM, KEY_OPTPATH /* absolute or empty */ };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size; /* of the char array, for strings */
	int64_t min, max; /* for integers */
	const char *dflt;
	const char *choices; /* for enums: space-separated */
	int secret;
};

#define STR(sec, k, t, dflt)                                                                                 \
	{                                                                                                    \
		sec, #k, t, offsetof(struct config, k), sizeof(((struct config *)0)->k), 0, 0, dflt, NULL, 0 \
	}
#define INT(sec, k, lo, hi, dflt)                                                      \
	{                                                                              \
		sec, #k, KEY_INT, offsetof(struct config, k), 0, lo, hi, dflt, NULL, 0 \
	}
#define ENUM(sec, k, dflt, ch)                                                                              \
	{                                                                                                   \
		sec, #k, KEY_ENUM, offsetof(struct config, k), sizeof(((struct config *)0)->k), 0, 0, dflt, \
		    ch, 0                                                                                   \
	}

/* Keys whose struct field is not named like the key (sections that reuse common names). */
#define STR_AS(sec, k, field, t, dflt, secr)                                                                \
	{                                                                                                   \
		sec, k, t, offsetof(struct config, field), sizeof(((struct config *)0)->field), 0, 0, dflt, \
		    NULL, secr                                                                              \
	}
#define INT_AS(sec, k, field, lo, hi, dflt)                                               \
	{                                                                                 \
		sec, k, KEY_INT, offsetof(struct config, field), 0, lo, hi, dflt, NULL, 0 \
	}
#define ENUM_AS(sec, k, field, dflt, ch)                                                                     \
	{                                                                                                    \
		sec, k, KEY_ENUM, offsetof(struct config, field), sizeof(((struct config *)0)->field), 0, 0, \
		    dflt, ch, 0                                                                              \
	}

static const struct key keys[] = {
	STR("store", state_dir, KEY_PATH, "/var/lib/motcua"),
	STR("store", key_file, KEY_PATH, "/etc/motcua/storage.key"),
	INT("store", max_document_mb, 1, 1024, "50"),
	INT("store", low_water_mb, 0, 1024 * 1024, "512"),
	INT("store", busy_timeout_ms, 100, 600000, "5000"),
	INT("store", check_interval_h, 0, 24 * 90, "24"),
	INT("store", check_delay_s, 0, 86400, "600"),
	INT("store", check_mb_per_s, 1, 10000, "8"),
	STR_AS("backup", "dir", backup_dir, KEY_STRING, "", 0),
	STR("daemon", runtime_dir, KEY_PATH, "/run/motcua"),
	STR("daemon", control_socket, KEY_PATH, "/run/motcua/motcuad.sock"),
	STR("daemon", control_group, KEY_STRING, ""),
	INT("daemon", control_workers, 1, 64, "4"),
	INT("daemon", control_clients, 1, 1024, "32"),
	INT("daemon", control_idle_s, 1, 3600, "10"),
	ENUM("daemon", log_level, "info", "error warn info debug"),
	STR("devices", mqtt_host, KEY_STRING, "127.0.0.1"),
	INT("devices", mqtt_port, 1, 65535, "1883"),
	STR("devices", mqtt_user, KEY_STRING, "motcuad"),
	STR("devices", mqtt_password_file, KEY_PATH, "/etc/motcua/mqtt-admin.password"),
	STR("devices", claim_user, KEY_STRING, "motcua-claim"),
	STR("devices", claim_password_file, KEY_PATH, "/etc/motcua/mqtt-claim.password"),
	STR("devices", auto_approve_serials, KEY_STRING, ""),
	INT("devices", stale_after_s, 10, 86400, "180"),
	INT("devices", dynsec_batch_ms, 0, 10000, "200"),
	INT("devices", tls_port, 0, 65535, "8883"),
	STR("devices", tls_ca_file, KEY_PATH, "/etc/motcua/tls/mqtt-ca.crt"),
	STR("gateway", agency_code, KEY_STRING, "000.00.00.H00"),
	STR("gateway", commune_name, KEY_STRING, "Xã Thử Nghiệm"),
	STR("gateway", timezone, KEY_STRING, "Asia/Ho_Chi_Minh"),
	STR("queue", services, KEY_STRING, "A:Hộ tịch:1,2;B:Chứng thực:3;C:Đất đai:4;D:Cư trú:5"),
	STR("queue", ticket_url, KEY_STRING, ""),
	INT("queue", tickets_per_day, 1, 9999, "999"),
	ENUM("queue", ticket_printer, "auto", "auto none"),
	ENUM("usb", usb_hotplug, "yes", "yes no"),
	STR("usb", hid_counters, KEY_STRING, ""),
	INT("scanner", scan_resolution, 75, 1200, "200"),
	ENUM("scanner", scan_mode, "gray", "gray color lineart"),
	ENUM_AS("uplink", "enabled", uplink_enabled, "no", "yes no"),
	STR_AS("uplink", "base_url", uplink_base_url, KEY_STRING, "", 0),
	STR_AS("uplink", "token_url", uplink_token_url, KEY_STRING, "", 0),
	STR_AS("uplink", "client_id", uplink_client_id, KEY_STRING, "", 0),
	STR_AS("uplink", "client_secret", uplink_client_secret, KEY_STRING, "", 1),
	STR_AS("uplink", "client_secret_file", uplink_client_secret_file, KEY_OPTPATH, "", 0),
	STR_AS("uplink", "ca_file", uplink_ca_file, KEY_OPTPATH, "", 0),
	STR_AS("uplink", "pin", uplink_pin, KEY_STRING, "", 0),
	STR_AS("uplink", "client_cert", uplink_client_cert, KEY_OPTPATH, "", 0),
	STR_AS("uplink", "client_key", uplink_client_key, KEY_OPTPATH, "", 0),
	STR_AS("uplink", "proxy", uplink_proxy, KEY_STRING, "", 0),
	INT_AS("uplink", "max_bytes_per_second", uplink_max_bytes_per_second, 0, INT64_C(1) << 40, "0"),
	INT_AS("uplink", "concurrency", uplink_concurrency, 1, 16, "3"),
	INT_AS("uplink", "chunk_bytes", uplink_chunk_bytes, 1024, 16 << 20, "262144"),
	INT_AS("uplink", "backoff_base_ms", uplink_backoff_base_ms, 10, 600000, "1000"),
	INT_AS("uplink", "backoff_cap_s", uplink_backoff_cap_s, 1, 86400, "300"),
	INT_AS("uplink", "probe_interval_ms", uplink_probe_interval_ms, 100, 600000, "1000"),
	INT_AS("uplink", "stall_timeout_s", uplink_stall_timeout_s, 2, 3600, "10"),
	INT_AS("uplink", "connect_timeout_s", uplink_connect_timeout_s, 1, 600, "10"),
	INT_AS("uplink", "status_pull_s", uplink_status_pull_s, 1, 86400, "300"),
	ENUM_AS("web", "enabled", web_enabled, "yes", "yes no"),
	STR_AS("web", "listen", web_listen, KEY_STRING, "0.0.0.0", 0),
	INT_AS("web", "port", web_port, 0, 65535, "8080"),
	STR_AS("web", "cert_file", web_cert_file, KEY_OPTPATH, "", 0),
	STR_AS("web", "key_file", web_key_file, KEY_OPTPATH, "", 0),
	INT_AS("web", "max_connections", web_max_connections, 2, 1024, "256"),
	INT_AS("web", "max_per_ip", web_max_per_ip, 1, 1024, "16"),
	INT_AS("web", "console_reserve", web_console_reserve, 1, 512, "16"),
	INT_AS("web", "timeout_s", web_timeout_s, 5, 3600, "15"),
	INT_AS("web", "verify_memory_mb", web_verify_memory_mb, 1, 4096, "96"),
	INT_AS("web", "max_header_kb", web_max_header_kb, 8, 1024, "32"),
	INT_AS("web", "max_form_kb", web_max_form_kb, 1, 1024, "64"),
	INT_AS("web", "max_upload_mb", web_max_upload_mb, 1, 1024, "50"),
	INT_AS("web", "session_idle_min", web_session_idle_min, 1, 1440, "30"),
	INT_AS("web", "session_max_hours", web_session_max_hours, 1, 168, "12"),
	INT_AS("web", "login_max_failures", web_login_max_failures, 1, 100, "5"),
	INT_AS("web", "login_lockout_s", web_login_lockout_s, 1, 86400, "300"),
	INT_AS("web", "login_delay_ms", web_login_delay_ms, 0, 10000, "1000"),
	ENUM_AS("web", "lang", web_lang, "vi", "vi en"),
	INT_AS("recognize", "workers", recognize_workers, 0, 16, "1"),
	INT_AS("recognize", "timeout_s", recognize_timeout_s, 1, 600, "30"),
	INT_AS("recognize", "memory_mb", recognize_memory_mb, 128, 16384, "1024"),
	STR_AS("recognize", "worker", recognize_worker, KEY_STRING, "", 0),
	INT_AS("recognize", "pair_window_s", recognize_pair_window_s, 0, 86400, "120"),
	STR_AS("sign", "signer", sign_signer, KEY_PATH, "/usr/libexec/motcua/motcua-signer", 0),
	STR_AS("sign", "user", sign_user, KEY_STRING, "motcua-sign", 0),
	STR_AS("sign", "key", sign_key, KEY_STRING, "/etc/motcua/keys/test-signing.key", 0),
	STR_AS("sign", "cert", sign_cert, KEY_OPTPATH, "/etc/motcua/keys/test-signing.crt", 0),
	STR_AS("sign", "pkcs11_module", sign_pkcs11_module, KEY_OPTPATH, "", 0),
	STR_AS("sign", "pin_file", sign_pin_file, KEY_OPTPATH, "", 0),
	STR_AS("sign", "trust_file", sign_trust_file, KEY_OPTPATH, "", 0),
	STR_AS("sign", "record", sign_record, KEY_PATH, "/var/lib/motcua-sign/signatures.log", 0),
	INT_AS("sign", "book", sign_book, 1, 99, "1"),
	STR_AS("dossier", "catalogue", dossier_catalogue, KEY_PATH, "/usr/share/motcua/procedures.json", 0),
	STR_AS("dossier", "calendar", dossier_calendar, KEY_PATH, "/usr/share/motcua/calendar.json", 0),
	INT_AS("dossier", "near_due_days", dossier_near_due_days, 0, 30, "1"),
	STR_AS("dossier", "tracking_url", dossier_tracking_url, KEY_STRING, "", 0),
	STR_AS("chip", "csca_file", chip_csca_file, KEY_OPTPATH, "/etc/motcua/csca.pem", 0),
	STR_AS("chip", "worker", chip_worker, KEY_STRING, "", 0),
	STR_AS("chip", "reader", chip_reader, KEY_STRING, "", 0),
	INT_AS("chip", "wait_s", chip_wait_s, 1, 300, "20"),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct parse {
	const char *name;
	FILE *file; /* read from this, or else from text */
	const char *text;
	int lineno; /* of the line inih is handling: Debian's inih does not pass it */
	struct config cfg;
	char *err;
	int failed;
};

static int set_value(const struct key *k, struct config *cfg, const char *value, char *why, size_t whylen)
{
	char *base = (char *)cfg + k->offset;
	size_t len = strlen(value);

	switch (k->type) {
	case KEY_OPTPATH:
		if (len > 0 && value[0] != '/') {
			snprintf(why, whylen, "must be an absolute path or empty");
			return -EINVAL;
		}
		goto string;
	case KEY_PATH:
		if (len == 0 || value[0] != '/') {
			snprintf(why, whylen, "must be an absolute path");
			return -EINVAL;
		}
		/* fall through */
	case KEY_STRING:
	string:
		if (len >= k->size) {
			snprintf(why, whylen, "is longer than %zu bytes", k->size - 1);
			return -EINVAL;
		}
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)value[i] < 0x20) {
				snprintf(why, whylen, "contains a control character");
				return -EINVAL;
			}
		memcpy(base, value, len + 1);
		return 0;
	case KEY_ENUM: {
		const char *p = k->choices;
		while (*p) {
			size_t n = strcspn(p, " ");
			if (n == len && strncmp(p, value, n) == 0 && len < k->size) {
				memcpy(base, value, len + 1);
				return 0;
			}
			p += n;
			while (*p == ' ')
				p++;
		}
		snprintf(why, whylen, "must be one of: %s", k->choices);
		return -EINVAL;
	}
	case KEY_INT: {
		char *end;
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (len == 0 || errno != 0 || *end != '\0') {
			snprintf(why, whylen, "must be a whole number");
			return -EINVAL;
		}
		if (v < k->min || v > k->max) {
			snprintf(why, whylen, "must be between %lld and %lld", (long long)k->min,
				 (long long)k->max);
			return -EINVAL;
		}
		*(int64_t *)(void *)base = v;
		return 0;
	}
	}
	return -EINVAL;
}

void config_defaults(struct config *cfg)
{
	char why[128];
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		int r = set_value(&keys[i], cfg, keys[i].dflt, why, sizeof(why));
		(void)r;
	}
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	int lineno = p->lineno;
	char why[160];

	if (p->failed)
		return 0;
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		if (set_value(&keys[i], &p->cfg, value, why, sizeof(why)) == 0)
			return 1;
		snprintf(p->err, CONFIG_ERR_MAX, "%s:%d: [%s] %s %s", p->name, lineno, section, name, why);
		p->failed = 1;
		return 0;
	}
	if (name == NULL) /* a new section (INI_CALL_HANDLER_ON_NEW_SECTION builds only) */
		return 1;
	int known_section = 0;
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, section) == 0)
			known_section = 1;
	if (!known_section)
		snprintf(p->err, CONFIG_ERR_MAX, "%s:%d: unknown section [%s] (key %s)", p->name, lineno,
			 section, name);
	else
		snprintf(p->err, CONFIG_ERR_MAX, "%s:%d: unknown key %s in [%s]", p->name, lineno, name,
			 section);
	p->failed = 1;
	return 0;
}

/* fgets-like reader for ini_parse_stream that counts lines. */
static char *reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	if (num < 2)
		return NULL;
	if (p->file) {
		if (!fgets(str, num, p->file))
			return NULL;
	} else {
		if (!*p->text)
			return NULL;
		size_t n = strcspn(p->text, "\n");
		if (p->text[n] == '\n')
			n++;
		if (n > (size_t)num - 1)
			n = (size_t)num - 1;
		memcpy(str, p->text, n);
		str[n] = '\0';
		p->text += n;
	}
	p->lineno++;
	return str;
}

static int finish(struct parse *p, int rc, struct config *cfg, char *err)
{
	if (rc == -1) {
		snprintf(err, CONFIG_ERR_MAX, "%s: cannot open: %s", p->name, strerror(errno));
		return -ENOENT;
	}
	if (rc == -2) {
		snprintf(err, CONFIG_ERR_MAX, "%s: out of memory while reading", p->name);
		return -ENOMEM;
	}
	if (rc > 0) {
		if (!p->failed)
			snprintf(err, CONFIG_ERR_MAX,
				 "%s:%d: not a valid INI line (expected 'key = value' or '[section]')",
				 p->name, rc);
		return -EINVAL;
	}
	char qwhy[200];
	struct queue_services qs;
	if (queue_services_parse(p->cfg.services, &qs, qwhy, sizeof(qwhy)) < 0) {
		snprintf(err, CONFIG_ERR_MAX, "%s: [queue] services: %s", p->name, qwhy);
		return -EINVAL;
	}
	if (strcmp(p->cfg.control_socket, p->cfg.runtime_dir) == 0) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: [daemon] control_socket must be a file, not the runtime_dir", p->name);
		return -EINVAL;
	}
	if (strcmp(p->cfg.uplink_enabled, "yes") == 0 &&
	    strncmp(p->cfg.uplink_base_url, "https://", 8) != 0 &&
	    strncmp(p->cfg.uplink_base_url, "http://", 7) != 0) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: [uplink] enabled = yes needs base_url, the LGSP's https:// address", p->name);
		return -EINVAL;
	}
	if ((p->cfg.web_cert_file[0] != '\0') != (p->cfg.web_key_file[0] != '\0')) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: [web] cert_file and key_file go together (HTTPS needs both)", p->name);
		return -EINVAL;
	}
	if (p->cfg.web_console_reserve >= p->cfg.web_max_connections) {
		snprintf(err, CONFIG_ERR_MAX,
			 "%s: [web] console_reserve (%lld) must be smaller than max_connections (%lld)",
			 p->name, (long long)p->cfg.web_console_reserve,
			 (long long)p->cfg.web_max_connections);
		return -EINVAL;
	}
	*cfg = p->cfg;
	return 0;
}

int config_load(const char *path, struct config *cfg, char err[CONFIG_ERR_MAX])
{
	struct parse p = { .name = path, .err = err };
	config_defaults(&p.cfg);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, CONFIG_ERR_MAX, "%s: cannot open: %s", path, strerror(errno));
		return errno == ENOENT ? -ENOENT : -EACCES;
	}
	p.file = f;
	int rc = ini_parse_stream(reader, &p, handler, &p);
	fclose(f);
	return finish(&p, rc, cfg, err);
}

int config_load_string(const char *text, const char *name, struct config *cfg, char err[CONFIG_ERR_MAX])
{
	struct parse p = { .name = name, .err = err };
	config_defaults(&p.cfg);
	p.text = text;
	int rc = ini_parse_stream(reader, &p, handler, &p);
	return finish(&p, rc, cfg, err);
}

int64_t config_max_document_bytes(const struct config *cfg)
{
	return cfg->max_document_mb * 1024 * 1024;
}

int64_t config_low_water_bytes(const struct config *cfg)
{
	return cfg->low_water_mb * 1024 * 1024;
}

size_t config_dump(const struct config *cfg, char *buf, size_t size)
{
	size_t n = 0;
	const char *last = "";
	buf[0] = '\0';
	for (size_t i = 0; i < NKEYS && n + 1 < size; i++) {
		const struct key *k = &keys[i];
		const char *base = (const char *)cfg + k->offset;
		int w;
		if (strcmp(last, k->section) != 0) {
			w = snprintf(buf + n, size - n, "%s[%s]\n", n ? "\n" : "", k->section);
			n += (w > 0 && (size_t)w < size - n) ? (size_t)w : size - n - 1;
			last = k->section;
		}
		if (k->secret)
			w = snprintf(buf + n, size - n, "%s = ********\n", k->name);
		else if (k->type == KEY_INT)
			w = snprintf(buf + n, size - n, "%s = %lld\n", k->name,
				     (long long)*(const int64_t *)(const void *)base);
		else
			w = snprintf(buf + n, size - n, "%s = %s\n", k->name, base);
		n += (w > 0 && (size_t)w < size - n) ? (size_t)w : size - n - 1;
	}
	return n;
}
