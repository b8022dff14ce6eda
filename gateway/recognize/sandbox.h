/* Confines the recognition worker once its files are loaded. */
#ifndef MOTCUA_SANDBOX_H
#define MOTCUA_SANDBOX_H

/* Sets RLIMIT_AS (mem_mb), RLIMIT_CPU (cpu_seconds; SIGXCPU ends the worker), no file
 * new files (seccomp), no core dumps, few descriptors, no new privileges, then a seccomp allow-list:
 * I/O on open descriptors, memory, clocks, exit.  Files, sockets and processes are
 * refused from then on.  <= 0 leaves a limit unset.  Returns 0 or -errno. */
int sandbox_enter(long mem_mb, long cpu_seconds);

#endif
