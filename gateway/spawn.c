/* Starting helper processes with only the descriptors they need (see spawn.h). */
#include "gateway/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

__attribute__((noreturn)) static void child_fail(const char *msg, size_t len, int status)
{
	if (write(2, msg, len) < 0)
		_exit(status);
	_exit(status);
}

#define FAIL(status, text) child_fail("motcuad: " text "\n", sizeof("motcuad: " text "\n") - 1, status)

static int named(const struct spawn_opts *o, int fd)
{
	for (size_t i = 0; i < o->nfds; i++)
		if (o->fds[i].to == fd)
			return 1;
	return 0;
}

/* Between fork and exec: async-signal-safe calls only, no allocation, no locks. */
__attribute__((noreturn)) static void child(const struct spawn_opts *o, int base, int keep_max)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int tmp[SPAWN_FDS_MAX];

	/* Ignored signals (SIGPIPE in motcuad) would stay ignored across exec. */
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Copy every source above all targets first, so that placing one cannot clobber another;
	 * dup2 onto the target then leaves close-on-exec clear. */
	for (size_t i = 0; i < o->nfds; i++)
		if ((tmp[i] = fcntl(o->fds[i].from, F_DUPFD_CLOEXEC, base)) < 0)
			FAIL(127, "cannot pass a descriptor to the helper");
	for (size_t i = 0; i < o->nfds; i++)
		if (dup2(tmp[i], o->fds[i].to) < 0)
			FAIL(127, "cannot pass a descriptor to the helper");
	for (int fd = 0; fd <= 2; fd++) {
		if (named(o, fd))
			continue;
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || (null != fd && dup2(null, fd) < 0))
			FAIL(127, "cannot open /dev/null for the helper");
		if (null == fd)
			fcntl(fd, F_SETFD, 0);
	}
	for (int fd = 3; fd <= keep_max; fd++)
		if (!named(o, fd))
			close(fd);
	if (syscall(SYS_close_range, (unsigned)keep_max + 1, ~0U, 0) < 0) {
		/* Kernels before 5.9: close them one by one up to the descriptor limit. */
		struct rlimit rl;
		long top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
			rl.rlim_cur < (1u << 20)
		    ? (long)rl.rlim_cur
		    : 65536;
		for (long fd = keep_max + 1; fd < top; fd++)
			close((int)fd);
	}

	for (size_t i = 0; i < o->nlimits; i++) {
		struct rlimit rl = { o->limits[i].soft, o->limits[i].hard };
		if (setrlimit(o->limits[i].resource, &rl) < 0)
			FAIL(127, "cannot set the helper's resource limits");
	}
	if (o->switch_user &&
	    (setgroups(o->ngroups, o->groups) < 0 || setresgid(o->gid, o->gid, o->gid) < 0 ||
	     setresuid(o->uid, o->uid, o->uid) < 0))
		FAIL(125, "cannot switch to the helper's user");
	if (o->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		FAIL(127, "cannot set no_new_privs for the helper");
	execve(o->path, o->argv, o->envp ? o->envp : environ);
	FAIL(127, "cannot execute the helper");
}

int spawn_helper(const struct spawn_opts *o, pid_t *ret_pid)
{
	int base = 2, keep_max = 2;

	if (!o->path || !o->argv || o->nfds > SPAWN_FDS_MAX || o->nlimits > SPAWN_LIMITS_MAX ||
	    o->ngroups > SPAWN_GROUPS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < o->nfds; i++) {
		if (o->fds[i].from < 0 || o->fds[i].to < 0 || o->fds[i].to > 255)
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (o->fds[j].to == o->fds[i].to)
				return -EINVAL;
		if (o->fds[i].from > base)
			base = o->fds[i].from;
		if (o->fds[i].to > keep_max)
			keep_max = o->fds[i].to;
	}
	if (keep_max > base)
		base = keep_max;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child(o, base + 1, keep_max);
	*ret_pid = pid;
	return 0;
}
