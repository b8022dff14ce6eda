/* Helpers shared by the unit tests: a fresh temporary directory per test. */
#ifndef MOTCUA_TESTUTIL_H
#define MOTCUA_TESTUTIL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Creates a temp dir into out (PATH_MAX); aborts the test run on failure. */
static inline void tu_tmpdir(char *out)
{
	const char *base = getenv("TMPDIR");
	snprintf(out, PATH_MAX, "%s/motcua-unit-XXXXXX", base ? base : "/tmp");
	if (!mkdtemp(out)) {
		perror("mkdtemp");
		abort();
	}
}

static inline void tu_rmrf(const char *dir)
{
	char cmd[PATH_MAX + 16];
	/* Test clean-up of a directory we created ourselves; the path has no shell characters. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (strchr(dir, '\'') == NULL) {
		FILE *p = popen(cmd, "r");
		if (p)
			pclose(p);
	}
}

struct tu_mem {
	const unsigned char *data;
	size_t len, pos;
};

/* blob_reader over a memory buffer. */
static inline ssize_t tu_mem_read(void *ctx, void *buf, size_t len)
{
	struct tu_mem *m = ctx;
	size_t n = m->len - m->pos;
	if (n > len)
		n = len;
	memcpy(buf, m->data + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

#endif
