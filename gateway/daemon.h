/* motcuad's life: start-up, signals (SIGTERM stops, SIGHUP reloads), systemd notification
 * and watchdog, shut-down.  Also the shared view of the running configuration. */
#ifndef MOTCUA_DAEMON_H
#define MOTCUA_DAEMON_H

#include <time.h>

#include "gateway/config.h"

/* Runs until SIGTERM/SIGINT.  Returns the process exit status. */
int daemon_run(const char *config_path, const struct config *cfg);

/* A copy of the configuration in force (reloads replace it as a whole). */
void daemon_config_snapshot(struct config *out);

/* When motcuad started (wall clock, for uptime). */
time_t daemon_started(void);

/* Something only a fresh start can mend (why says what): logs it and stops motcuad cleanly
 * with exit status 75 (EX_TEMPFAIL), which systemd answers with a restart
 * (Restart=on-failure).  Any thread may call it. */
void daemon_restart(const char *why);

#endif
