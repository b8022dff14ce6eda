/* Framing over pipes and starting a worker process. */
#include "gateway/recognize/proto.h"

#include "gateway/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Returns bytes read (short only at EOF) or -errno. */
static ssize_t read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int rec_write_frame(int fd, const char tag[4], const void *data, size_t len)
{
	unsigned char h[8];
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	memcpy(h, tag, 4);
	h[4] = (unsigned char)(len >> 24), h[5] = (unsigned char)(len >> 16);
	h[6] = (unsigned char)(len >> 8), h[7] = (unsigned char)len;
	int r = write_all(fd, h, sizeof(h));
	if (r == 0 && len > 0)
		r = write_all(fd, data, len);
	return r;
}

int rec_read_frame(int fd, const char tag[4], size_t max, char **ret_data, size_t *ret_len)
{
	unsigned char h[8];
	ssize_t n = read_all(fd, h, sizeof(h));
	if (n < 0)
		return (int)n;
	if (n == 0)
		return -ENODATA;
	if (n < 8 || memcmp(h, tag, 4) != 0)
		return -EPROTO;
	size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
	if (len > max)
		return -EMSGSIZE;
	char *buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	n = read_all(fd, buf, len);
	if (n < 0 || (size_t)n != len) {
		free(buf);
		return n < 0 ? (int)n : -EPROTO;
	}
	buf[len] = 0;
	*ret_data = buf;
	*ret_len = len;
	return 0;
}

void rec_worker_path(char *buf, size_t size)
{
	const char *env = getenv("MOTCUA_RECOGNIZE");
	char self[PATH_MAX];
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, size, "%s/motcua-recognize", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "/usr/libexec/motcua/motcua-recognize");
}

int rec_spawn(const char *path, char *const extra_args[], int err_fd, int *ret_pid, int *ret_to,
	      int *ret_from)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	char *argv[16];
	int argc = 0;
	argv[argc++] = (char *)"motcua-recognize";
	for (int i = 0; extra_args && extra_args[i] && argc < 15; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;

	/* The child's environment: ours plus OMP_THREAD_LIMIT=1 (built before fork: no
	 * allocation between fork and exec in a threaded parent). */
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = calloc(n + 2, sizeof(*env));
	if (!env)
		return -ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "OMP_THREAD_LIMIT=", 17) != 0)
			env[k++] = environ[i];
	env[k++] = (char *)"OMP_THREAD_LIMIT=1";
	env[k] = NULL;

	int r = 0;
	pid_t pid;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	/* The worker gets its two pipes and its log, nothing else of ours. */
	struct spawn_opts so = {
		.path = path,
		.argv = argv,
		.envp = env,
		.fds = { { in[0], 0 }, { out[1], 1 }, { err_fd >= 0 ? err_fd : 2, 2 } },
		.nfds = 3,
		.no_new_privs = 1,
	};
	r = spawn_helper(&so, &pid);
	if (r < 0)
		goto fail;
	close(in[0]);
	close(out[1]);
	free(env);
	*ret_pid = pid;
	*ret_to = in[1];
	*ret_from = out[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
	}
	free(env);
	return r;
}
