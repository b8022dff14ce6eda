/* Starting a helper process (recognition worker, signer, chip reader) with only the
 * descriptors it needs: every other descriptor of the parent is closed before exec
 * (close_range), whatever its close-on-exec flag says. */
#ifndef MOTCUA_SPAWN_H
#define MOTCUA_SPAWN_H

#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#define SPAWN_FDS_MAX 8
#define SPAWN_LIMITS_MAX 8
#define SPAWN_GROUPS_MAX 32

/* The parent's descriptor `from` becomes the child's descriptor `to`. */
struct spawn_fd {
	int from;
	int to;
};

struct spawn_limit {
	int resource; /* RLIMIT_* */
	rlim_t soft, hard;
};

struct spawn_opts {
	const char *path; /* executable, run with execve */
	char *const *argv; /* NULL-terminated */
	char *const *envp; /* NULL: the parent's environment */
	struct spawn_fd fds[SPAWN_FDS_MAX];
	size_t nfds; /* child descriptors 0, 1 and 2 not named here are /dev/null */
	struct spawn_limit limits[SPAWN_LIMITS_MAX];
	size_t nlimits;
	int switch_user; /* setgroups + setresgid + setresuid to the values below */
	uid_t uid;
	gid_t gid;
	gid_t groups[SPAWN_GROUPS_MAX];
	size_t ngroups;
	int no_new_privs; /* PR_SET_NO_NEW_PRIVS before exec */
};

/* Forks and execs o->path.  The child (async-signal-safe calls only, so a threaded parent
 * may call this) gets an empty signal mask and default dispositions, exactly the
 * descriptors o->fds (close-on-exec cleared) plus /dev/null on unnamed 0..2, every other
 * descriptor closed, the limits, the user switch, then execve; a failure there exits 127
 * (125 for the user switch) with one line on its stderr if it has one.
 * Returns 0 with *ret_pid, -EINVAL on a malformed request, or -errno of fork. */
int spawn_helper(const struct spawn_opts *o, pid_t *ret_pid);

#endif
