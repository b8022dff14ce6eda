/* Confines motcua-chip once its trust list is loaded and its pcscd socket is open. */
#ifndef MOTCUA_CHIP_SANDBOX_H
#define MOTCUA_CHIP_SANDBOX_H

/* Memory and CPU limits, no core dumps, at most 16 descriptors, no new privileges, then a
 * seccomp allow-list: I/O on descriptors already open (the pipes and pcscd's socket), poll,
 * memory, clocks, exit.  Opening files or sockets, exec and fork are refused from then on.
 * Returns 0 or -errno. */
int chip_sandbox_enter(long mem_mb, long cpu_seconds);

#endif
