/* motcua.conf: the INI configuration (libinih), its defaults, limits and validation.
 * Every key is a row of one table in config.c; a part adds its keys there and to
 * packaging/motcua.conf, which documents every key with its default. */
#ifndef MOTCUA_CONFIG_H
#define MOTCUA_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_PATH_MAX 256
#define CONFIG_ERR_MAX 512

/* A plain value type: copy it by assignment.  Threads take a copy (config snapshot)
 * instead of sharing a pointer, so a reload never changes a value under a reader. */
struct config {
	/* [store] */
	char state_dir[CONFIG_PATH_MAX];
	char key_file[CONFIG_PATH_MAX];
	int64_t max_document_mb;
	int64_t low_water_mb;
	int64_t busy_timeout_ms;
	int64_t check_interval_h; /* background store check; 0 = off */
	int64_t check_delay_s; /* first background check after start */
	int64_t check_mb_per_s; /* its reading rate */
	char backup_dir[CONFIG_PATH_MAX]; /* [backup] dir: nightly backups go here; "" = none */
	/* [daemon] */
	char runtime_dir[CONFIG_PATH_MAX];
	char control_socket[CONFIG_PATH_MAX];
	char control_group[64];
	int64_t control_workers;
	int64_t control_clients;
	int64_t control_idle_s;
	char log_level[16];
	/* [devices] (devices/: the MQTT device edge) */
	char mqtt_host[128]; /* empty: no MQTT device edge */
	int64_t mqtt_port;
	char mqtt_user[64];
	char mqtt_password_file[CONFIG_PATH_MAX];
	char claim_user[64];
	char claim_password_file[CONFIG_PATH_MAX];
	char auto_approve_serials[1024];
	int64_t stale_after_s;
	int64_t dynsec_batch_ms;
	int64_t tls_port; /* the broker's TLS listener for devices (shown to installers), 0 none */
	char tls_ca_file[CONFIG_PATH_MAX]; /* the CA devices verify it with */
	/* [gateway] */
	char agency_code[32];
	char commune_name[128];
	char timezone[64]; /* tz database name: every time a person reads is in this zone */
	/* [queue] (gateway/queue.c: tickets, counters, statistics) */
	char services[1024]; /* "A:Hộ tịch:1,2;B:Chứng thực:3" (gateway/queue_conf.h) */
	char ticket_url[CONFIG_PATH_MAX]; /* QR on tickets: this URL + day/code; "" plain code */
	int64_t tickets_per_day; /* per service */
	char ticket_printer[8]; /* auto: the box's USB printer prints tickets; none */
	/* [usb] (devices/usb.c: local printers, scanners, code readers) */
	char usb_hotplug[4];
	char hid_counters[512]; /* "PORT=COUNTER;..." e.g. "1-1.2=1;1-1.3=2" */
	/* [scanner] (devices/scanner.c: SANE) */
	int64_t scan_resolution;
	char scan_mode[16];
	/* [uplink] (uplink/: the LGSP client) */
	char uplink_enabled[4];
	char uplink_base_url[CONFIG_PATH_MAX];
	char uplink_token_url[CONFIG_PATH_MAX];
	char uplink_client_id[128];
	char uplink_client_secret[256];
	char uplink_client_secret_file[CONFIG_PATH_MAX];
	char uplink_ca_file[CONFIG_PATH_MAX];
	char uplink_pin[512];
	char uplink_client_cert[CONFIG_PATH_MAX];
	char uplink_client_key[CONFIG_PATH_MAX];
	char uplink_proxy[CONFIG_PATH_MAX];
	int64_t uplink_max_bytes_per_second;
	int64_t uplink_concurrency;
	int64_t uplink_chunk_bytes;
	int64_t uplink_backoff_base_ms;
	int64_t uplink_backoff_cap_s;
	int64_t uplink_probe_interval_ms;
	int64_t uplink_status_pull_s; /* dossier statuses pulled this often while up (lgsp.md 8) */
	int64_t uplink_stall_timeout_s;
	int64_t uplink_connect_timeout_s;
	/* [web] (web/: the staff page, the JSON API, /metrics; restart to change) */
	char web_enabled[4];
	char web_listen[64];
	int64_t web_port;
	char web_cert_file[CONFIG_PATH_MAX];
	char web_key_file[CONFIG_PATH_MAX];
	int64_t web_max_connections;
	int64_t web_max_per_ip;
	int64_t web_console_reserve; /* of max_connections, kept for 127.0.0.1 and ::1 */
	int64_t web_timeout_s;
	int64_t web_verify_memory_mb; /* /verify uploads held at once, all requests */
	int64_t web_max_header_kb;
	int64_t web_max_form_kb;
	int64_t web_max_upload_mb;
	int64_t web_session_idle_min;
	int64_t web_session_max_hours;
	int64_t web_login_max_failures;
	int64_t web_login_lockout_s;
	int64_t web_login_delay_ms;
	char web_lang[4];
	/* [recognize] (gateway/recjobs.c: the motcua-recognize worker pool; restart to change) */
	int64_t recognize_workers; /* 0: images are queued but not recognised */
	int64_t recognize_timeout_s;
	int64_t recognize_memory_mb;
	char recognize_worker[CONFIG_PATH_MAX]; /* "" : next to motcuad, else the installed one */
	int64_t recognize_pair_window_s; /* a card's front and back from one source within this
					    many seconds are one identity; 0: never paired */
	/* [sign] (gateway/sign: motcua-signer and certified copies; restart to change) */
	char sign_signer[CONFIG_PATH_MAX];
	char sign_user[64];
	char sign_key[CONFIG_PATH_MAX];
	char sign_cert[CONFIG_PATH_MAX];
	char sign_pkcs11_module[CONFIG_PATH_MAX];
	char sign_pin_file[CONFIG_PATH_MAX];
	char sign_trust_file[CONFIG_PATH_MAX];
	char sign_record[CONFIG_PATH_MAX];
	int64_t sign_book;
	/* [dossier] (gateway/dossier: procedure catalogue, calendar, dossiers, assistant) */
	char dossier_catalogue[CONFIG_PATH_MAX];
	char dossier_calendar[CONFIG_PATH_MAX];
	int64_t dossier_near_due_days;
	char dossier_tracking_url[CONFIG_PATH_MAX]; /* receipt QR: this URL + code; "" plain code */
	/* [chip] (gateway/chip: reading ID card chips through pcscd with motcua-chip) */
	char chip_csca_file[CONFIG_PATH_MAX]; /* the CSCA trust list (PEM); "" : none */
	char chip_worker[CONFIG_PATH_MAX]; /* "" : next to motcuad, else the installed one */
	char chip_reader[128]; /* part of a reader's name; "" : any reader */
	int64_t chip_wait_s; /* how long a read waits for a card on the reader */
};

/* Fills cfg with every default. */
void config_defaults(struct config *cfg);

/* Reads path over the defaults and validates every key.  On failure returns -errno
 * (-ENOENT missing file, -EINVAL bad content) and writes into err a message naming the
 * file, the line and the key; cfg is then untouched. */
int config_load(const char *path, struct config *cfg, char err[CONFIG_ERR_MAX]);

/* Same as config_load on a string (used by the fuzzer and tests); name labels messages. */
int config_load_string(const char *text, const char *name, struct config *cfg, char err[CONFIG_ERR_MAX]);

/* Derived values in bytes. */
int64_t config_max_document_bytes(const struct config *cfg);
int64_t config_low_water_bytes(const struct config *cfg);

/* Writes "section.key = value" lines of the running configuration to buf, secrets masked.
 * Returns the length written (truncated to size-1). */
size_t config_dump(const struct config *cfg, char *buf, size_t size);

#endif
