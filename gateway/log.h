/* Logging for every motcua program: one line per event on stderr (journald adds the time
 * and the unit).  Never pass secrets or a citizen's personal data; log ids and hashes. */
#ifndef MOTCUA_LOG_H
#define MOTCUA_LOG_H

enum log_level { LOG_LEVEL_ERROR = 0, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Sets the program name printed before each line and the most verbose level printed. */
void log_init(const char *progname, enum log_level level);
void log_set_level(enum log_level level);
/* Parses "error", "warn", "info" or "debug"; returns the level or -EINVAL. */
int log_level_parse(const char *s);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
