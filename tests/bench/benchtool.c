/* Benchmark driver for make bench.
 *   benchtool raw DIR SIZE COUNT      write COUNT files of SIZE bytes the way the store writes a
 *                                     blob (temp, fsync, rename, fsync dir): the disk's own rate
 *   benchtool intake SOCKET SIZE COUNT  COUNT durable doc.put intakes of SIZE bytes through
 *                                     motcuad's control socket, one after the other
 * Prints "<per-second rate> <seconds>" on one line.  Content differs per file. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ctlproto.h"
#include "store/fsutil.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fill(unsigned char *buf, size_t size, long i)
{
	memcpy(buf, "%PDF-1.4\n", size < 9 ? size : 9);
	for (size_t k = 9; k < size; k++)
		buf[k] = (unsigned char)((k * 31 + (size_t)i * 7919) >> 3);
	if (size >= 17)
		memcpy(buf + 9, &i, sizeof(i));
}

static int raw(const char *dir, size_t size, long count, unsigned char *buf)
{
	char path[4096];
	for (long i = 0; i < count; i++) {
		fill(buf, size, i);
		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		if (fs_write_atomic(path, buf, size, 0600) < 0) {
			perror(path);
			return 1;
		}
	}
	return 0;
}

static int intake(const char *sock, size_t size, long count, unsigned char *buf)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_conn *c = malloc(sizeof(*c));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	for (long i = 0; i < count; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		json_t *req, *rep = NULL;
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			perror(sock);
			return 1;
		}
		ctl_conn_init(c, fd);
		fill(buf, size, i + (long)time(NULL) * 1000);
		req =
		    json_pack("{s:s, s:I, s:s}", "cmd", "doc.put", "size", (json_int_t)size, "kind", "bench");
		if (ctl_send(c, req) < 0 || ctl_write(c, buf, size) < 0 || ctl_recv(c, 4096, &rep) < 0 ||
		    !json_is_true(json_object_get(rep, "ok"))) {
			fprintf(stderr, "intake %ld failed\n", i);
			return 1;
		}
		json_decref(req);
		json_decref(rep);
		close(fd);
	}
	free(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: benchtool raw|intake DIR|SOCKET SIZE COUNT\n");
		return 2;
	}
	size_t size = (size_t)strtoul(argv[3], NULL, 10);
	long count = strtol(argv[4], NULL, 10);
	unsigned char *buf = malloc(size ? size : 1);
	double t0 = now();
	int r =
	    strcmp(argv[1], "raw") == 0 ? raw(argv[2], size, count, buf) : intake(argv[2], size, count, buf);
	double dt = now() - t0;
	if (r == 0)
		printf("%.1f %.3f\n", (double)count / dt, dt);
	free(buf);
	return r;
}
