/* motcuad's main loop: open the store, serve the control socket, react to signals, keep
 * systemd informed.  Signals are taken synchronously (sigtimedwait) by the main thread only. */
#include "gateway/daemon.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/devices.h"
#include "devices/usb.h"
#include "gateway/control.h"
#include "gateway/dossier/service.h"
#include "gateway/events.h"
#include "gateway/log.h"
#include "gateway/storecheck.h"
#include "gateway/recjobs.h"
#include "gateway/sign/copy.h"
#include "store/db.h"
#include "store/fsutil.h"
#include "store/store.h"
#include "uplink/uplink.h"
#include "web/web.h"

static pthread_mutex_t cfg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct config current;
static time_t started;
static atomic_int restart_wanted;

#define EXIT_RESTART 75 /* EX_TEMPFAIL */

void daemon_restart(const char *why)
{
	if (atomic_exchange(&restart_wanted, 1))
		return;
	log_error("%s: motcuad stops so that systemd starts it again", why);
	/* Blocked in every thread: the main loop's sigtimedwait takes it. */
	kill(getpid(), SIGTERM);
}

void daemon_config_snapshot(struct config *out)
{
	pthread_mutex_lock(&cfg_lock);
	*out = current;
	pthread_mutex_unlock(&cfg_lock);
}

time_t daemon_started(void)
{
	return started;
}

static void set_config(const struct config *cfg)
{
	pthread_mutex_lock(&cfg_lock);
	current = *cfg;
	pthread_mutex_unlock(&cfg_lock);
	int lvl = log_level_parse(cfg->log_level);
	if (lvl >= 0)
		log_set_level((enum log_level)lvl);
}

/* Keys read only at start-up: a reload that changes them says so. */
static void warn_restart_keys(const struct config *old, const struct config *new)
{
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
		{ "[store] state_dir", offsetof(struct config, state_dir) },
		{ "[store] key_file", offsetof(struct config, key_file) },
		{ "[daemon] runtime_dir", offsetof(struct config, runtime_dir) },
		{ "[daemon] control_socket", offsetof(struct config, control_socket) },
		{ "[daemon] control_group", offsetof(struct config, control_group) },
		{ "[gateway] timezone", offsetof(struct config, timezone) },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp((const char *)old + keys[i].off, (const char *)new + keys[i].off) != 0)
			log_warn("reload: %s changed; it takes effect at the next restart", keys[i].name);
	if (old->control_workers != new->control_workers || old->control_clients != new->control_clients ||
	    old->control_idle_s != new->control_idle_s || old->busy_timeout_ms != new->busy_timeout_ms)
		log_warn("reload: [daemon] control_workers/control_clients/control_idle_s or [store] "
			 "busy_timeout_ms "
			 "changed; they take effect at the next restart");
}

static void reload(const char *path)
{
	struct config cfg, old;
	char err[CONFIG_ERR_MAX];

	sd_notify(0, "RELOADING=1");
	int r = config_load(path, &cfg, err);
	if (r < 0) {
		log_error("reload: %s; still running on the previous configuration", err);
	} else {
		daemon_config_snapshot(&old);
		warn_restart_keys(&old, &cfg);
		set_config(&cfg);
		log_info("reload: configuration %s in force", path);
	}
	sd_notify(0, "READY=1");
}

int daemon_run(const char *config_path, const struct config *cfg)
{
	struct store_options so = {
		.state_dir = cfg->state_dir,
		.key_file = cfg->key_file,
		.busy_timeout_ms = cfg->busy_timeout_ms,
	};
	struct store *store = NULL;
	struct control *ctl = NULL;
	struct devices *devs = NULL;
	struct usb *usb = NULL;
	struct uplink *up = NULL;
	struct web *web = NULL;
	struct recjobs *rec = NULL;
	struct storecheck *chk = NULL;
	uint64_t wd_usec = 0;
	sigset_t set;
	int r, fd = -1, status = 1;

	started = time(NULL);
	set_config(cfg);
	/* The zone of every time a person reads (localtime_r).  Set once, before any thread: TZ
	 * is process state that libc reads without a lock, so a reload does not change it. */
	char zone[128];
	snprintf(zone, sizeof(zone), "/usr/share/zoneinfo/%s", cfg->timezone);
	if (!cfg->timezone[0] || cfg->timezone[0] == '/' || strstr(cfg->timezone, "..") ||
	    access(zone, R_OK) != 0)
		log_warn("[gateway] timezone = %s is not a zone of the tz database (is tzdata "
			 "installed?): times are shown in UTC",
			 cfg->timezone);
	else if (setenv("TZ", cfg->timezone, 1) == 0)
		tzset();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so only sigtimedwait below sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	r = fs_mkdir_p(cfg->runtime_dir, 0750);
	if (r < 0) {
		log_error("cannot create runtime directory %s: %s", cfg->runtime_dir, strerror(-r));
		goto out;
	}
	/* The key holder first, while motcuad has no thread and may still switch users. */
	copy_service_start(cfg);
	/* The procedure catalogue and calendar: a broken file stops us here, with its field named. */
	r = dossier_service_start(cfg);
	if (r < 0)
		goto out;
	r = store_open(&so, &store);
	if (r < 0) {
		log_error("cannot open the store in %s; see the messages above", cfg->state_dir);
		goto out;
	}
	r = events_open();
	if (r < 0) {
		log_error("cannot create the outbox wake-up: %s", strerror(-r));
		goto out;
	}
	r = control_open(cfg, &fd);
	if (r < 0)
		goto out;
	r = control_start(fd, store, cfg, &ctl);
	fd = -1;
	if (r < 0) {
		log_error("cannot start the control workers: %s", strerror(-r));
		goto out;
	}
	r = devices_start(store, cfg, &devs);
	if (r < 0) {
		log_error("cannot start the device edge: %s", strerror(-r));
		goto out;
	}
	/* The box's own USB printers, scanners and code readers: an extra, never fatal. */
	if (usb_start(store, cfg, &usb) < 0)
		log_error("local USB devices are NOT followed; fix [usb] and restart motcuad");
	r = uplink_start(store, cfg, &up);
	if (r < 0) {
		log_error("cannot start the uplink: %s", strerror(-r));
		goto out;
	}
	/* Recognition is an extra: without it images are kept queued in the store. */
	if (recjobs_start(store, cfg, &rec) < 0)
		log_error("image recognition is NOT running; images stay queued until motcuad restarts");
	if (storecheck_start(store, cfg, &chk) < 0)
		log_error("the background store check is NOT running; run 'motcuactl store check' by hand");
	/* Counters and devices keep working without the staff page: a web server that cannot
	 * start (port taken, unreadable certificate) is logged, not fatal. */
	if (web_start(store, cfg, &web) < 0)
		log_error("the staff web page is NOT available; fix [web] and restart motcuad");
	log_info("motcuad %s ready: store %s, control socket %s", MOTCUA_VERSION, cfg->state_dir,
		 cfg->control_socket);
	sd_notify(0, "READY=1\nSTATUS=serving");
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;

	for (;;) {
		/* Wake at half the watchdog period (or every 5 s) to ping systemd. */
		uint64_t tick = wd_usec ? wd_usec / 2 : 5000000;
		struct timespec ts = { .tv_sec = (time_t)(tick / 1000000),
				       .tv_nsec = (long)(tick % 1000000) * 1000 };
		int sig = sigtimedwait(&set, NULL, &ts);
		if (wd_usec)
			sd_notify(0, "WATCHDOG=1");
		/* A dead signer is noticed here within half a watchdog period, before a copy needs it. */
		if (sig < 0 && copy_signer_lost())
			daemon_restart(
			    "motcua-signer exited and only a new motcuad may start it as its own user");
		if (sig == SIGHUP) {
			reload(config_path);
		} else if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping on %s: finishing requests in hand",
				 sig == SIGTERM ? "SIGTERM" : "SIGINT");
			sd_notify(0, "STOPPING=1");
			break;
		}
	}
	status = atomic_load(&restart_wanted) ? EXIT_RESTART : 0;
out:
	storecheck_stop(chk);
	web_stop(web);
	recjobs_stop(rec);
	uplink_stop(up);
	usb_stop(usb);
	devices_stop(devs);
	control_stop(ctl);
	if (fd >= 0)
		close(fd);
	copy_service_stop();
	dossier_service_stop();
	events_close();
	if (db_open_connections() > 0)
		log_warn("%d store connections were still open at exit; the next start replays the WAL",
			 db_open_connections());
	else
		store_checkpoint(store);
	store_close(store);
	if (status == 0)
		log_info("stopped");
	else if (status == EXIT_RESTART)
		log_info("stopped with status %d for systemd to start motcuad again", EXIT_RESTART);
	return status;
}
