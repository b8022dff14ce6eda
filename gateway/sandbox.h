/* Confining a helper process (recognition worker, chip reader) once its files are loaded:
 * resource limits, no new privileges, no core dumps, then a seccomp allow-list. */
#ifndef MOTCUA_SANDBOX_H
#define MOTCUA_SANDBOX_H

#include <stddef.h>

#define SANDBOX_FDS_MAX 8
#define SANDBOX_EXTRA_MAX 16

struct sandbox_policy {
	long mem_mb; /* RLIMIT_AS; <= 0 leaves it unset */
	long cpu_seconds; /* RLIMIT_CPU (SIGXCPU ends the helper); <= 0 leaves it unset */
	long max_files; /* RLIMIT_NOFILE; <= 0 means 16 */
	/* write and writev are allowed on these descriptors only (the helper's own pipes);
	 * any other descriptor kills the process. */
	int write_fds[SANDBOX_FDS_MAX];
	size_t nwrite_fds;
	/* More system calls the helper needs, allowed without argument checks (SCMP_SYS numbers). */
	int extra[SANDBOX_EXTRA_MAX];
	size_t nextra;
};

/* Applies the limits, PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0 and a seccomp filter whose
 * default is to kill the process: reading and closing open descriptors, writing only to
 * p->write_fds, memory, clocks, futexes, exit, prlimit64 on itself only (pid 0 or its own);
 * opening files, sockets, ioctl and a few probes fail with EACCES instead (libraries try
 * them and cope).  Everything else (processes, signals to others, ptrace, networking) kills.
 * Returns 0 or -errno (logged). */
int sandbox_enter(const struct sandbox_policy *p);

#endif
