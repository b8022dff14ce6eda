/* motcua-chip's sandbox: like the recognition worker's, plus what libpcsclite needs on the
 * socket it opened before (send/recv/poll) and the stat() it does on pcscd's socket path. */
#include "gateway/chip/sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "gateway/log.h"

static int limit(int resource, rlim_t soft, rlim_t hard)
{
	struct rlimit rl = { soft, hard };
	return setrlimit(resource, &rl) < 0 ? -errno : 0;
}

int chip_sandbox_enter(long mem_mb, long cpu_seconds)
{
	scmp_filter_ctx ctx = NULL;
	int r;
	if (mem_mb > 0 && (r = limit(RLIMIT_AS, (rlim_t)mem_mb << 20, (rlim_t)mem_mb << 20)) < 0)
		return r;
	if (cpu_seconds > 0 && (r = limit(RLIMIT_CPU, (rlim_t)cpu_seconds, (rlim_t)cpu_seconds + 5)) < 0)
		return r;
	if ((r = limit(RLIMIT_CORE, 0, 0)) < 0 || (r = limit(RLIMIT_NOFILE, 16, 16)) < 0 ||
	    (r = limit(RLIMIT_NPROC, 0, 0)) < 0)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return -errno;

	ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	static const int allow[] = {
		SCMP_SYS(read),          SCMP_SYS(write),
		SCMP_SYS(readv),         SCMP_SYS(writev),
		SCMP_SYS(close),         SCMP_SYS(fstat),
		SCMP_SYS(newfstatat),    SCMP_SYS(stat),
		SCMP_SYS(lseek),         SCMP_SYS(mmap),
		SCMP_SYS(munmap),        SCMP_SYS(mremap),
		SCMP_SYS(brk),           SCMP_SYS(madvise),
		SCMP_SYS(mprotect),      SCMP_SYS(futex),
		SCMP_SYS(rt_sigreturn),  SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(exit),          SCMP_SYS(exit_group),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday),
		SCMP_SYS(getpid),        SCMP_SYS(gettid),
		SCMP_SYS(getrandom),     SCMP_SYS(clock_nanosleep),
		SCMP_SYS(nanosleep),     SCMP_SYS(poll),
		SCMP_SYS(ppoll),         SCMP_SYS(sendto),
		SCMP_SYS(recvfrom),      SCMP_SYS(sendmsg),
		SCMP_SYS(recvmsg),       SCMP_SYS(fcntl),
		SCMP_SYS(getrusage),     SCMP_SYS(prlimit64),
	};
	r = 0;
	for (size_t i = 0; i < sizeof(allow) / sizeof(*allow) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allow[i], 0);
	static const int refuse[] = {
		SCMP_SYS(openat), SCMP_SYS(open),    SCMP_SYS(ioctl), SCMP_SYS(access),  SCMP_SYS(readlink),
		SCMP_SYS(socket), SCMP_SYS(connect), SCMP_SYS(uname), SCMP_SYS(sysinfo),
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
