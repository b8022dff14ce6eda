/* Control socket: binding, the worker pool and orderly shut-down. */
#include "gateway/control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/ctlproto.h"
#include "gateway/log.h"
#include "store/db.h"
#include "store/store.h"

#define IO_TIMEOUT_S 30

struct control {
	int listen_fd;
	int stop_pipe[2];
	atomic_int stopping;
	struct store *store;
	char path[CONFIG_PATH_MAX];
	int nworkers;
	pthread_t *threads;
};

int control_open(const struct config *cfg, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(cfg->control_socket) >= sizeof(sa.sun_path)) {
		log_error("control: socket path %s is too long", cfg->control_socket);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, cfg->control_socket, strlen(cfg->control_socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A socket file that nobody answers on is left over from a crash: replace it. */
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(probe);
			close(fd);
			log_error("control: another motcuad is already running on %s", cfg->control_socket);
			return -EADDRINUSE;
		}
		close(probe);
	}
	unlink(cfg->control_socket);
	mode_t old = umask(0117);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0) {
		r = -errno;
		log_error("control: cannot bind %s: %s", cfg->control_socket, strerror(-r));
		close(fd);
		return r;
	}
	if (cfg->control_group[0]) {
		struct group *g = getgrnam(cfg->control_group);
		if (!g || chown(cfg->control_socket, (uid_t)-1, g->gr_gid) < 0)
			log_warn("control: cannot give %s to group %s: %s", cfg->control_socket,
				 cfg->control_group, g ? strerror(errno) : "no such group");
	}
	chmod(cfg->control_socket, 0660);
	if (listen(fd, (int)cfg->control_clients) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* "cli:<user>" for the peer's uid (the kernel's word, SO_PEERCRED), "cli:uid<N>" when the
 * uid has no name.  Returns 0 or -errno. */
static int peer_actor(int fd, char *out, size_t size)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct passwd pw, *found = NULL;
	char buf[1024];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	if (getpwuid_r(cr.uid, &pw, buf, sizeof(buf), &found) == 0 && found)
		snprintf(out, size, "cli:%.40s", found->pw_name);
	else
		snprintf(out, size, "cli:uid%u", (unsigned)cr.uid);
	return 0;
}

static void serve(struct control *c, struct db *db, int fd)
{
	struct ctl_conn *conn = malloc(sizeof(*conn));
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	json_t *req = NULL;
	char actor[CONTROL_ACTOR_MAX];
	int r;

	if (!conn)
		return;
	if (peer_actor(fd, actor, sizeof(actor)) < 0) {
		log_warn("control: cannot tell who is connected (SO_PEERCRED): %s", strerror(errno));
		free(conn);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctl_conn_init(conn, fd);
	r = ctl_recv(conn, CTL_REQUEST_MAX, &req);
	if (r < 0) {
		if (r != -ECONNRESET)
			ctl_send_error(conn, r,
				       r == -EMSGSIZE ? "request line too long"
						      : "request is not a JSON object line");
		goto out;
	}
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	if (!cmd) {
		ctl_send_error(conn, -EINVAL, "request has no \"cmd\"");
		goto out;
	}
	/* Who acts is the connected process's user, never what the request says: a handler that
	 * reads "actor" from the request reads this. */
	if (json_object_set_new(req, "actor", json_string(actor)) < 0) {
		ctl_send_error(conn, -ENOMEM, "out of memory");
		goto out;
	}
	struct control_ctx x = { .conn = conn, .db = db, .store = c->store, .actor = actor };
	control_dispatch(&x, cmd, req);
out:
	json_decref(req);
	free(conn);
}

static void *worker(void *arg)
{
	struct control *c = arg;
	struct db *db = NULL;
	int r = store_connect(c->store, &db);

	if (r < 0) {
		log_error("control: worker cannot open the store: %s", strerror(-r));
		return NULL;
	}
	while (!atomic_load(&c->stopping)) {
		struct pollfd p[2] = { { .fd = c->listen_fd, .events = POLLIN },
				       { .fd = c->stop_pipe[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (atomic_load(&c->stopping) || (p[1].revents & POLLIN))
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue; /* another worker took it, or the client went away */
		serve(c, db, fd);
		close(fd);
	}
	db_close(db);
	return NULL;
}

int control_start(int listen_fd, struct store *s, const struct config *cfg, struct control **ret)
{
	struct control *c = calloc(1, sizeof(*c));
	if (!c) {
		close(listen_fd);
		return -ENOMEM;
	}
	c->listen_fd = listen_fd;
	c->store = s;
	snprintf(c->path, sizeof(c->path), "%s", cfg->control_socket);
	if (pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
		close(listen_fd);
		free(c);
		return -errno;
	}
	c->threads = calloc((size_t)cfg->control_workers, sizeof(pthread_t));
	if (!c->threads) {
		control_stop(c);
		return -ENOMEM;
	}
	for (int i = 0; i < cfg->control_workers; i++) {
		int r = pthread_create(&c->threads[i], NULL, worker, c);
		if (r != 0) {
			control_stop(c);
			return -r;
		}
		c->nworkers++;
	}
	*ret = c;
	return 0;
}

void control_stop(struct control *c)
{
	if (!c)
		return;
	atomic_store(&c->stopping, 1);
	if (c->stop_pipe[1] > 0) {
		ssize_t w = write(c->stop_pipe[1], "x", 1);
		(void)w;
	}
	for (int i = 0; i < c->nworkers; i++)
		pthread_join(c->threads[i], NULL);
	close(c->listen_fd);
	unlink(c->path);
	if (c->stop_pipe[0] > 0) {
		close(c->stop_pipe[0]);
		close(c->stop_pipe[1]);
	}
	free(c->threads);
	free(c);
}
