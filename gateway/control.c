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
#include <time.h>
#include <unistd.h>

#include "gateway/ctlproto.h"
#include "gateway/log.h"
#include "store/db.h"
#include "store/store.h"

#define IO_TIMEOUT_S 30

struct ready;

struct control {
	int listen_fd;
	int stop_pipe[2];
	atomic_int stopping;
	struct store *store;
	char path[CONFIG_PATH_MAX];
	int nworkers;
	pthread_t *threads;
	pthread_t gate;
	int gate_running;
	int max_clients;
	int64_t idle_ms;
	/* Connections with their first line read, for the workers: a ring of max_clients. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ready *ready;
	int ready_head, nready;
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

/* A connection whose first request line has not fully arrived: the gate thread holds it
 * (never a worker) until the line is complete, the client goes away or its idle time ends. */
struct pending {
	int fd;
	int64_t deadline_ms;
	size_t len;
	char buf[CTL_REQUEST_MAX + 1];
};

/* A connection with its whole first line read, waiting for a worker. */
struct ready {
	int fd;
	size_t len;
	char *buf;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void serve(struct control *c, struct db *db, struct ready *rd)
{
	struct ctl_conn *conn = malloc(sizeof(*conn));
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	json_t *req = NULL;
	char actor[CONTROL_ACTOR_MAX];
	int fd = rd->fd, r;

	if (!conn)
		return;
	if (peer_actor(fd, actor, sizeof(actor)) < 0) {
		log_warn("control: cannot tell who is connected (SO_PEERCRED): %s", strerror(errno));
		free(conn);
		return;
	}
	/* The rest (a doc.put body, the reply) in blocking mode with a timeout. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ctl_conn_init(conn, fd);
	memcpy(conn->buf, rd->buf, rd->len); /* the first line and what came with it */
	conn->end = rd->len;
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
	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (c->nready == 0 && !atomic_load(&c->stopping))
			pthread_cond_wait(&c->cond, &c->lock);
		if (atomic_load(&c->stopping))
			break;
		struct ready rd = c->ready[c->ready_head];
		c->ready_head = (c->ready_head + 1) % c->max_clients;
		c->nready--;
		pthread_mutex_unlock(&c->lock);
		serve(c, db, &rd);
		close(rd.fd);
		free(rd.buf);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	db_close(db);
	return NULL;
}

/* Tells a client why it is cut off (best effort: the socket is non-blocking) and closes it. */
static void drop(struct pending *p, int err, const char *why)
{
	if (err) {
		char line[160];
		int n =
		    snprintf(line, sizeof(line), "{\"ok\": false, \"error\": \"%s\", \"message\": \"%s\"}\n",
			     err == -ETIMEDOUT      ? "ETIMEDOUT"
				 : err == -EMSGSIZE ? "EMSGSIZE"
						    : "EBUSY",
			     why);
		if (n > 0 && send(p->fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			/* the client is gone or not reading: nothing more to say */
		}
	}
	close(p->fd);
	free(p);
}

/* Hands a connection whose first line is complete to the workers; takes p. */
static void hand_over(struct control *c, struct pending *p)
{
	pthread_mutex_lock(&c->lock);
	if (c->nready == c->max_clients) {
		pthread_mutex_unlock(&c->lock);
		log_warn("control: %d requests already wait for a worker; one refused", c->max_clients);
		drop(p, -EBUSY, "motcuad is busy; try again");
		return;
	}
	struct ready *rd = &c->ready[(c->ready_head + c->nready) % c->max_clients];
	rd->fd = p->fd;
	rd->len = p->len;
	/* The line moves to the start of p's own allocation, which the worker frees. */
	rd->buf = (char *)p;
	memmove(rd->buf, p->buf, rd->len);
	c->nready++;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

/* Reads what a pending client sent: 1 when its first line is complete (handed over or
 * dropped), 0 to keep waiting, -1 when it is gone (closed here). */
static int gather(struct control *c, struct pending *p)
{
	for (;;) {
		ssize_t n = recv(p->fd, p->buf + p->len, CTL_REQUEST_MAX + 1 - p->len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			drop(p, 0, "");
			return -1;
		}
		size_t old = p->len;
		p->len += (size_t)n;
		if (memchr(p->buf + old, '\n', (size_t)n)) {
			hand_over(c, p);
			return 1;
		}
		if (p->len > CTL_REQUEST_MAX) {
			drop(p, -EMSGSIZE, "request line too long");
			return 1;
		}
	}
}

/* The gate: accepts every connection and holds it until its first line is in, so that idle
 * or slow clients never occupy a worker.  At most max_clients are held; a newcomer beyond
 * that evicts the longest-held one; each is closed after idle_ms without its line. */
static void *gate(void *arg)
{
	struct control *c = arg;
	int max = c->max_clients, n = 0;
	struct pending **pend = calloc((size_t)max, sizeof(*pend));
	struct pollfd *pf = calloc((size_t)max + 2, sizeof(*pf));

	if (!pend || !pf) {
		log_error("control: out of memory; the control socket does not answer");
		goto out;
	}
	while (!atomic_load(&c->stopping)) {
		int64_t now = now_ms(), next = now + 60000;
		pf[0] = (struct pollfd){ .fd = c->stop_pipe[0], .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
		for (int i = 0; i < n; i++) {
			pf[i + 2] = (struct pollfd){ .fd = pend[i]->fd, .events = POLLIN };
			if (pend[i]->deadline_ms < next)
				next = pend[i]->deadline_ms;
		}
		if (poll(pf, (nfds_t)n + 2, next > now ? (int)(next - now) : 0) < 0 && errno != EINTR)
			break;
		if (pf[0].revents || atomic_load(&c->stopping))
			break;
		now = now_ms();
		/* Clients first (their slots may free up), then newcomers. */
		for (int i = n - 1; i >= 0; i--) {
			int done = 0;
			if (pf[i + 2].revents)
				done = gather(c, pend[i]) != 0;
			if (!done && pend[i]->deadline_ms <= now) {
				drop(pend[i], -ETIMEDOUT,
				     "no request within the idle time; connection closed");
				done = 1;
			}
			if (done) {
				memmove(&pend[i], &pend[i + 1], sizeof(*pend) * (size_t)(n - i - 1));
				memmove(&pf[i + 2], &pf[i + 3], sizeof(*pf) * (size_t)(n - i - 1));
				n--;
			}
		}
		if (!(pf[1].revents & POLLIN))
			continue;
		for (int k = 0; k < 16; k++) { /* a few per round: the others get their turn */
			int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
			if (fd < 0)
				break;
			struct pending *p = malloc(sizeof(*p));
			if (!p) {
				close(fd);
				break;
			}
			p->fd = fd;
			p->len = 0;
			p->deadline_ms = now + c->idle_ms;
			/* The line may already be here (motcuactl writes at once). */
			if (gather(c, p) != 0)
				continue;
			if (n == max) { /* full: the oldest has waited longest without a line */
				log_warn("control: %d connections hold no request; the oldest is closed",
					 max);
				drop(pend[0], -EBUSY, "too many idle connections; connection closed");
				memmove(&pend[0], &pend[1], sizeof(*pend) * (size_t)(n - 1));
				n--;
			}
			pend[n++] = p;
		}
	}
out:
	for (int i = 0; i < n; i++)
		drop(pend[i], 0, "");
	free(pend);
	free(pf);
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
	c->max_clients = (int)cfg->control_clients;
	c->idle_ms = cfg->control_idle_s * 1000;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	snprintf(c->path, sizeof(c->path), "%s", cfg->control_socket);
	if (pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
		close(listen_fd);
		free(c);
		return -errno;
	}
	c->ready = calloc((size_t)c->max_clients, sizeof(*c->ready));
	c->threads = calloc((size_t)cfg->control_workers, sizeof(pthread_t));
	if (!c->threads || !c->ready) {
		control_stop(c);
		return -ENOMEM;
	}
	int r = pthread_create(&c->gate, NULL, gate, c);
	if (r != 0) {
		control_stop(c);
		return -r;
	}
	c->gate_running = 1;
	for (int i = 0; i < cfg->control_workers; i++) {
		r = pthread_create(&c->threads[i], NULL, worker, c);
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
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (c->gate_running)
		pthread_join(c->gate, NULL);
	for (int i = 0; i < c->nworkers; i++)
		pthread_join(c->threads[i], NULL);
	for (int i = 0; c->ready && i < c->nready; i++) {
		struct ready *rd = &c->ready[(c->ready_head + i) % c->max_clients];
		close(rd->fd);
		free(rd->buf);
	}
	close(c->listen_fd);
	unlink(c->path);
	if (c->stop_pipe[0] > 0) {
		close(c->stop_pipe[0]);
		close(c->stop_pipe[1]);
	}
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c->ready);
	free(c->threads);
	free(c);
}
