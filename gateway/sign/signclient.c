/* Starting motcua-signer and talking to it (signproto.h): fork, switch user, exec with the
 * socket on fd 3; then fixed frames with a timeout. */
#include "gateway/sign/signclient.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/spawn.h"

#define SIGNER_TIMEOUT_MS 15000
#define SIGNER_ARGS 14
#define SIGNER_GROUPS SPAWN_GROUPS_MAX

struct signer {
	pthread_mutex_t lock;
	int fd;
	pid_t pid;
	/* Resolved before any fork, so that a restart never calls getpwnam in the child. */
	int switch_user;
	uid_t uid;
	gid_t gid;
	gid_t groups[SIGNER_GROUPS];
	int ngroups;
	char *argv[SIGNER_ARGS];
	unsigned char cert[SIGN_CERT_MAX];
	size_t cert_len;
};

static int io_wait(int fd, short ev, int64_t deadline_ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now >= deadline_ms)
		return -ETIMEDOUT;
	struct pollfd p = { .fd = fd, .events = ev };
	int r = poll(&p, 1, (int)(deadline_ms - now));
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int64_t deadline(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + SIGNER_TIMEOUT_MS;
}

static int read_exact(int fd, void *buf, size_t len, int64_t dl)
{
	size_t got = 0;
	while (got < len) {
		int r = io_wait(fd, POLLIN, dl);
		if (r < 0)
			return r;
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -EPIPE;
		got += (size_t)n;
	}
	return 0;
}

static int write_exact(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n = send(fd, (const char *)buf + done, len - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		done += (size_t)n;
	}
	return 0;
}

static void reap(struct signer *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->pid > 0) {
		int st;
		/* Closing the socket makes it exit; give it a moment, then insist. */
		for (int i = 0; i < 100; i++) {
			if (waitpid(s->pid, &st, WNOHANG) != 0)
				goto done;
			struct timespec ts = { 0, 10 * 1000000 };
			nanosleep(&ts, NULL);
		}
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &st, 0);
	}
done:
	s->pid = -1;
}

/* fork + exec with the socket on fd 3, /dev/null on 0 and 1, our log on 2, nothing else. */
static int spawn(struct signer *s)
{
	int sv[2];
	unsigned char head[SIGN_HELLO_HEAD];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	struct spawn_opts so = {
		.path = s->argv[0],
		.argv = s->argv,
		.fds = { { sv[1], 3 }, { 2, 2 } },
		.nfds = 2,
		.switch_user = s->switch_user,
		.uid = s->uid,
		.gid = s->gid,
		.ngroups = (size_t)s->ngroups,
		.no_new_privs = 1,
	};
	memcpy(so.groups, s->groups, sizeof(gid_t) * (size_t)s->ngroups);
	pid_t pid;
	int e = spawn_helper(&so, &pid);
	if (e < 0) {
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	close(sv[1]);
	s->fd = sv[0];
	s->pid = pid;
	int64_t dl = deadline();
	int r = read_exact(s->fd, head, sizeof(head), dl);
	if (r == 0 && (memcmp(head, SIGN_MAGIC, 4) != 0 || head[4] != 'H' || head[5] != 1))
		r = -EPROTO;
	size_t cl = (size_t)head[6] << 8 | head[7];
	if (r == 0 && (cl == 0 || cl > SIGN_CERT_MAX))
		r = -EPROTO;
	if (r == 0)
		r = read_exact(s->fd, s->cert, cl, dl);
	if (r < 0) {
		reap(s);
		return r == -ETIMEDOUT ? r : -EPROTO;
	}
	s->cert_len = cl;
	return 0;
}

int signer_start(const struct signer_options *o, struct signer **ret)
{
	struct signer *s;
	int n = 0, r;

	if (!o->path || access(o->path, X_OK) < 0) {
		log_error("sign: the signer binary %s is missing", o->path ? o->path : "(none)");
		return -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = -1;
	s->pid = -1;
	if (o->user && o->user[0]) {
		struct passwd *pw = getpwnam(o->user);
		if (!pw) {
			log_error("sign: no user %s to run motcua-signer as (set [sign] user)", o->user);
			free(s);
			return -ENOENT;
		}
		if (pw->pw_uid != geteuid()) {
			s->switch_user = 1;
			s->uid = pw->pw_uid;
			s->gid = pw->pw_gid;
			s->ngroups = SIGNER_GROUPS;
			if (getgrouplist(o->user, pw->pw_gid, s->groups, &s->ngroups) < 0)
				s->ngroups = 0;
		}
	}
	s->argv[n++] = strdup(o->path);
	s->argv[n++] = strdup("--key");
	s->argv[n++] = strdup(o->key ? o->key : "");
	s->argv[n++] = strdup("--cert");
	s->argv[n++] = strdup(o->cert ? o->cert : "");
	if (o->module && o->module[0]) {
		s->argv[n++] = strdup("--module");
		s->argv[n++] = strdup(o->module);
	}
	if (o->pin_file && o->pin_file[0]) {
		s->argv[n++] = strdup("--pin-file");
		s->argv[n++] = strdup(o->pin_file);
	}
	s->argv[n++] = strdup("--record");
	s->argv[n++] = strdup(o->record ? o->record : "");
	for (int i = 0; i < n; i++)
		if (!s->argv[i]) {
			signer_stop(s);
			return -ENOMEM;
		}
	r = spawn(s);
	if (r < 0) {
		log_error("sign: motcua-signer did not start (%s); see its message above", strerror(-r));
		signer_stop(s);
		return r;
	}
	log_info("sign: motcua-signer running as pid %d%s", (int)s->pid,
		 s->switch_user ? " under its own user" : "");
	*ret = s;
	return 0;
}

void signer_stop(struct signer *s)
{
	if (!s)
		return;
	reap(s);
	for (int i = 0; i < SIGNER_ARGS; i++)
		free(s->argv[i]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static int ask(struct signer *s, const unsigned char *req, size_t reqlen, unsigned char *ret_der,
	       size_t *ret_len)
{
	unsigned char head[SIGN_REPLY_HEAD];
	int64_t dl = deadline();
	int r = write_exact(s->fd, req, reqlen);
	if (r == 0)
		r = read_exact(s->fd, head, sizeof(head), dl);
	if (r < 0)
		return r;
	size_t sl = (size_t)head[6] << 8 | head[7];
	if (memcmp(head, SIGN_MAGIC, 4) != 0 || head[4] != 'R' || sl > SIGN_SIG_MAX)
		return -EPROTO;
	if (head[5] != 0)
		return sl == 0 ? -(int)head[5] : -EPROTO;
	if (sl == 0)
		return -EPROTO;
	r = read_exact(s->fd, ret_der, sl, dl);
	if (r < 0)
		return r;
	*ret_len = sl;
	return 0;
}

int signer_sign(struct signer *s, int kind, const unsigned char *data, size_t len, unsigned char *ret_der,
		size_t *ret_len)
{
	unsigned char req[SIGN_REQ_HEAD + SIGN_DATA_MAX];
	int r;

	if (!s)
		return -EPIPE;
	if (len == 0 || len > SIGN_DATA_MAX || kind < 1 || kind > 255)
		return -EINVAL;
	memcpy(req, SIGN_MAGIC, 4);
	req[4] = 'S';
	req[5] = 0;
	req[6] = (unsigned char)kind;
	req[7] = 0;
	req[8] = (unsigned char)(len >> 8);
	req[9] = (unsigned char)len;
	memcpy(req + SIGN_REQ_HEAD, data, len);
	pthread_mutex_lock(&s->lock);
	r = s->fd >= 0 ? ask(s, req, SIGN_REQ_HEAD + len, ret_der, ret_len) : -EPIPE;
	if ((r == -EPIPE || r == -ETIMEDOUT || r == -EPROTO) && s->switch_user && geteuid() != 0) {
		/* The capabilities to switch users went at start-up: no new signer from here. */
		log_error("sign: motcua-signer %s and motcuad can no longer start it as its own user",
			  r == -ETIMEDOUT ? "timed out" : "went away");
		reap(s);
		r = -EPIPE;
	} else if (r == -EPIPE || r == -ETIMEDOUT || r == -EPROTO) {
		log_warn("sign: motcua-signer %s; starting it again",
			 r == -ETIMEDOUT ? "timed out" : "went away");
		reap(s);
		r = spawn(s);
		if (r == 0)
			r = ask(s, req, SIGN_REQ_HEAD + len, ret_der, ret_len);
		if (r < 0 && r != -EPERM) {
			log_error("sign: motcua-signer cannot be reached: %s", strerror(-r));
			reap(s);
			r = -EPIPE;
		}
	}
	if (r == -EPERM)
		log_error("sign: motcua-signer refused to sign (its reason is in its log line above)");
	pthread_mutex_unlock(&s->lock);
	return r;
}

const unsigned char *signer_cert(const struct signer *s, size_t *ret_len)
{
	*ret_len = s ? s->cert_len : 0;
	return s ? s->cert : NULL;
}

int signer_pid(const struct signer *s)
{
	return s ? (int)s->pid : -1;
}

int signer_lost(struct signer *s)
{
	if (!s || !s->switch_user || geteuid() == 0)
		return 0;
	/* A request in hand holds the lock (up to the 15 s timeout): look again next time. */
	if (pthread_mutex_trylock(&s->lock) != 0)
		return 0;
	int gone = s->pid <= 0;
	if (!gone) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		/* WNOWAIT: reap() stays the one that collects it. */
		if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == s->pid)
			gone = 1;
	}
	pthread_mutex_unlock(&s->lock);
	return gone;
}

int signer_drop_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];

	if (geteuid() == 0)
		return 0;
	memset(d, 0, sizeof(d));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &h, d) < 0)
		return -errno;
	return 0;
}
