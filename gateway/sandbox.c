/* A helper's sandbox (see sandbox.h): resource limits, no new privileges, and a seccomp
 * allow-list that leaves reading open descriptors, writing the helper's own pipes, memory
 * and the clock (no files, no network, no processes). */
#include "gateway/sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gateway/log.h"

static int limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { soft, hard };
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

int sandbox_enter(const struct sandbox_policy *p)
{
	scmp_filter_ctx ctx = NULL;
	int r;

	if (p->nwrite_fds > SANDBOX_FDS_MAX || p->nextra > SANDBOX_EXTRA_MAX)
		return -EINVAL;
	if (p->mem_mb > 0 && (r = limit(RLIMIT_AS, (rlim_t)p->mem_mb << 20, (rlim_t)p->mem_mb << 20)) < 0)
		return r;
	if (p->cpu_seconds > 0 &&
	    (r = limit(RLIMIT_CPU, (rlim_t)p->cpu_seconds, (rlim_t)p->cpu_seconds + 5)) < 0)
		return r;
	/* No RLIMIT_FSIZE: stderr may be a file (tests, batch runs) and a library warning would
	 * then kill the helper with SIGXFSZ; seccomp already refuses opening files. */
	rlim_t files = p->max_files > 0 ? (rlim_t)p->max_files : 16;
	if ((r = limit(RLIMIT_CORE, 0, 0)) < 0 || (r = limit(RLIMIT_NOFILE, files, files)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	static const int allow[] = {
		SCMP_SYS(read),
		SCMP_SYS(readv),
		SCMP_SYS(close),
		SCMP_SYS(fstat),
		SCMP_SYS(newfstatat),
		SCMP_SYS(lseek),
		SCMP_SYS(mmap),
		SCMP_SYS(munmap),
		SCMP_SYS(mremap),
		SCMP_SYS(brk),
		SCMP_SYS(madvise),
		SCMP_SYS(mprotect),
		SCMP_SYS(futex),
		SCMP_SYS(rt_sigreturn),
		SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(exit),
		SCMP_SYS(exit_group),
		SCMP_SYS(clock_gettime),
		SCMP_SYS(gettimeofday),
		SCMP_SYS(getpid),
		SCMP_SYS(gettid),
		SCMP_SYS(sched_yield),
		SCMP_SYS(sched_getaffinity),
		SCMP_SYS(getrandom),
		SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep),
		SCMP_SYS(getrusage),
	};
	r = 0;
	for (size_t i = 0; i < sizeof(allow) / sizeof(*allow) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0);
	for (size_t i = 0; i < p->nextra && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, p->extra[i], 0);
	/* Writing: only to the helper's own pipes (rules on one call are alternatives). */
	for (size_t i = 0; i < p->nwrite_fds && r == 0; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)p->write_fds[i]));
		if (r == 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(writev), 1,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)p->write_fds[i]));
	}
	/* Resource limits: its own only (glibc's getrlimit/setrlimit pass pid 0). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1, SCMP_A0(SCMP_CMP_EQ, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prlimit64), 1,
				     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	/* Library calls that may try files or terminals get a clean error, not a kill. */
	static const int refuse[] = {
		SCMP_SYS(openat),   SCMP_SYS(open),   SCMP_SYS(ioctl), SCMP_SYS(access),
		SCMP_SYS(readlink), SCMP_SYS(socket), SCMP_SYS(uname), SCMP_SYS(sysinfo)
	};
	for (size_t i = 0; i < sizeof(refuse) / sizeof(*refuse) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), refuse[i], 0);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		log_error("cannot load the seccomp filter: %d", r);
	return r;
}
