/* Logging to stderr with sd-daemon priority prefixes, so journald files each line at the
 * right priority while a terminal still reads plainly. */
#include "gateway/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "motcua";
static atomic_int max_level = LOG_LEVEL_INFO;
static int journal = -1;

void log_init(const char *progname, enum log_level level)
{
	prog = progname;
	atomic_store(&max_level, (int)level);
	/* JOURNAL_STREAM is set by systemd when stderr is connected to the journal. */
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum log_level level)
{
	atomic_store(&max_level, (int)level);
}

int log_level_parse(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -EINVAL;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const tags[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { 3, 4, 6, 7 };
	char line[2048];
	va_list ap;
	int n;

	if ((int)level > atomic_load(&max_level))
		return;
	if (journal > 0)
		n = snprintf(line, sizeof(line), "<%d>%s: ", prio[level], tags[level]);
	else
		n = snprintf(line, sizeof(line), "%s: %s: ", prog, tags[level]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	/* One write per line so that lines from different threads never interleave. */
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
