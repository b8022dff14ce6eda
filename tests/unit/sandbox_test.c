/* Helper processes hold only what they are given: spawn_helper passes exactly the named
 * descriptors (every other one of the parent closed, close-on-exec or not), and the
 * sandbox's seccomp filter kills a helper that writes to any descriptor but its own pipes
 * or touches another process's resource limits. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/sandbox.h"
#include "gateway/spawn.h"

/* What a sandboxed child does after entering the worker's policy (writes to 1 and 2 only). */
enum act { WRITE_OWN, WRITE_OTHER, WRITEV_OTHER, PRLIMIT_SELF, PRLIMIT_PARENT, SOCKET_REFUSED };

/* Runs act in a sandboxed child; returns its wait status and what it wrote on fd 1. */
static int sandboxed(enum act act, char *out, size_t outlen)
{
	int p[2], other[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(other), 0);
	pid_t parent = getpid();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		struct sandbox_policy sp = { .write_fds = { 1, 2 }, .nwrite_fds = 2 };
		if (sandbox_enter(&sp) < 0)
			_exit(3);
		struct rlimit rl;
		struct iovec iov = { (void *)"x", 1 };
		int r = 0;
		switch (act) {
		case WRITE_OWN: r = write(1, "ok", 2) == 2 ? 0 : 4; break;
		case WRITE_OTHER: r = write(other[1], "x", 1) == 1 ? 5 : 6; break;
		case WRITEV_OTHER: r = writev(other[1], &iov, 1) == 1 ? 5 : 6; break;
		case PRLIMIT_SELF:
			r = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 &&
				syscall(SYS_prlimit64, getpid(), RLIMIT_NOFILE, NULL, &rl) == 0
			    ? 0
			    : 7;
			break;
		case PRLIMIT_PARENT:
			r = syscall(SYS_prlimit64, parent, RLIMIT_NOFILE, NULL, &rl) == 0 ? 8 : 9;
			break;
		case SOCKET_REFUSED:
			r = socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EACCES ? 0 : 10;
			break;
		}
		_exit(r);
	}
	close(p[1]);
	close(other[0]);
	close(other[1]);
	ssize_t n = read(p[0], out, outlen - 1);
	out[n > 0 ? n : 0] = 0;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void sandbox_allows_own_pipe_and_own_limits(void **state)
{
	char out[16];
	int st = sandboxed(WRITE_OWN, out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_string_equal(out, "ok");
	st = sandboxed(PRLIMIT_SELF, out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = sandboxed(SOCKET_REFUSED, out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void sandbox_kills_write_to_another_descriptor(void **state)
{
	char out[16];
	int st = sandboxed(WRITE_OTHER, out, sizeof(out));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = sandboxed(WRITEV_OTHER, out, sizeof(out));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void sandbox_kills_prlimit_on_another_process(void **state)
{
	char out[16];
	int st = sandboxed(PRLIMIT_PARENT, out, sizeof(out));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

/* The helper: this test binary run again with --list-fds prints its open descriptors. */
static int list_fds(void)
{
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			printf("%d ", fd);
	printf("\n");
	return 0;
}

static void spawn_passes_only_the_named_descriptors(void **state)
{
	char self[4096], out[256];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = 0;
	/* Descriptors a daemon holds: inheritable ones (no close-on-exec), as a library may leave
	 * its sockets, and close-on-exec ones. */
	int leak1 = open("/dev/null", O_RDONLY);
	int leak2 = socket(AF_UNIX, SOCK_STREAM, 0);
	int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int given = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int p[2];
	assert_true(leak1 >= 0 && leak2 >= 0 && cloexec >= 0 && given >= 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	char *argv[] = { self, (char *)"--list-fds", NULL };
	struct spawn_opts so = {
		.path = self, .argv = argv, .fds = { { p[1], 1 }, { given, 5 } }, .nfds = 2
	};
	pid_t pid;
	assert_int_equal(spawn_helper(&so, &pid), 0);
	close(p[1]);
	size_t got = 0;
	while (got < sizeof(out) - 1 && (n = read(p[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = 0;
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* 0 and 2 are /dev/null, 1 the pipe, 5 the named one; nothing else. */
	assert_string_equal(out, "0 1 2 5 \n");
	close(p[0]);
	close(leak1);
	close(leak2);
	close(cloexec);
	close(given);
}

static void spawn_refuses_two_sources_on_one_descriptor(void **state)
{
	char *argv[] = { (char *)"/bin/true", NULL };
	struct spawn_opts so = {
		.path = "/bin/true", .argv = argv, .fds = { { 0, 3 }, { 1, 3 } }, .nfds = 2
	};
	pid_t pid;
	assert_int_equal(spawn_helper(&so, &pid), -EINVAL);
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--list-fds") == 0)
		return list_fds();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sandbox_allows_own_pipe_and_own_limits),
		cmocka_unit_test(sandbox_kills_write_to_another_descriptor),
		cmocka_unit_test(sandbox_kills_prlimit_on_another_process),
		cmocka_unit_test(spawn_passes_only_the_named_descriptors),
		cmocka_unit_test(spawn_refuses_two_sources_on_one_descriptor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
