/* motcuactl recognize FILE...: one motcua-recognize worker (started with
 * OMP_THREAD_LIMIT=1, sandboxed by itself) serves every file in turn over its pipe. */
#include "tools/ctl_recognize.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gateway/recognize/proto.h"
#include "gateway/recognize/result.h"

void ctl_recognize_usage(FILE *f)
{
	fprintf(
	    f,
	    "  recognize [--worker PATH] [--stats] [--no-sandbox] FILE...\n"
	    "                                 read ID cards (QR, MRZ) and document types offline, without\n"
	    "                                 motcuad; one JSON result per file and line (\"file\" added)\n"
	    "  recognize --pair [--worker PATH] FRONT BACK\n"
	    "                                 read the two sides of one card as one identity: one result\n"
	    "                                 with the QR-MRZ cross-check and the fields that differ\n");
}

static int read_file(const char *path, char **ret, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int r = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)REC_IMAGE_MAX) {
		r = S_ISREG(st.st_mode) ? -EFBIG : -EINVAL;
		goto out;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			free(buf);
			goto out;
		}
		got += (size_t)n;
	}
	*ret = buf;
	*ret_len = got;
out:
	close(fd);
	return r;
}

static void print_line(const char *file, json_t *obj)
{
	json_object_set_new(obj, "file", json_string(file));
	char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(5));
	if (s)
		printf("%s\n", s);
	fflush(stdout);
	free(s);
}

int ctl_recognize_main(int argc, char **argv)
{
	static const struct option opts[] = { { "worker", required_argument, NULL, 'w' },
					      { "stats", no_argument, NULL, 's' },
					      { "no-sandbox", no_argument, NULL, 'n' },
					      { "pair", no_argument, NULL, 'p' },
					      { NULL, 0, NULL, 0 } };
	char path[PATH_MAX];
	int c, stats = 0, failed = 0, pid = -1, to = -1, from = -1, pair = 0;
	json_t *side[2] = { NULL, NULL };
	char *extra[2] = { NULL, NULL };
	rec_worker_path(path, sizeof(path));
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'w': snprintf(path, sizeof(path), "%s", optarg); break;
		case 's': stats = 1; break;
		case 'n': extra[0] = (char *)"--no-sandbox"; break;
		case 'p': pair = 1; break;
		default: fprintf(stderr, "usage:\n"), ctl_recognize_usage(stderr); return 2;
		}
	}
	if (optind >= argc || (pair && argc - optind != 2)) {
		fprintf(stderr, "usage:\n");
		ctl_recognize_usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = optind; i < argc; i++) {
		char *img = NULL, *res = NULL;
		size_t len = 0, rlen = 0;
		int r = read_file(argv[i], &img, &len);
		if (r < 0) {
			json_t *e = json_pack("{s:s, s:b}", "error", strerror(-r), "needs_review", 1);
			print_line(argv[i], e);
			json_decref(e);
			failed = 1;
			continue;
		}
		if (pid < 0 && (r = rec_spawn(path, extra, -1, &pid, &to, &from)) < 0) {
			fprintf(stderr, "motcuactl: cannot start %s: %s\n", path, strerror(-r));
			free(img);
			return 1;
		}
		r = rec_write_frame(to, REC_TAG_IMAGE, img, len);
		free(img);
		if (r == 0)
			r = rec_read_frame(from, REC_TAG_RESULT, REC_RESULT_MAX, &res, &rlen);
		json_t *obj = r == 0 ? json_loadb(res, rlen, 0, NULL) : NULL;
		free(res);
		if (!obj) {
			/* The worker died on this image (or answered garbage): say so, start another. */
			int st = 0;
			close(to), close(from);
			if (pid > 0)
				kill(pid, SIGKILL), waitpid(pid, &st, 0);
			obj = json_pack("{s:s, s:b, s:f}", "error",
					WIFSIGNALED(st) ? "the recognition worker was killed"
							: "the recognition worker failed",
					"needs_review", 1, "confidence", 0.0);
			pid = -1;
		}
		if (json_object_get(obj, "error"))
			failed = 1;
		if (pair) {
			json_object_set_new(obj, "file", json_string(argv[i]));
			side[i - optind] = obj;
			continue;
		}
		print_line(argv[i], obj);
		json_decref(obj);
	}
	if (pair) {
		json_t *one = side[0] && side[1] ? result_pair(side[0], side[1]) : NULL;
		if (one) {
			json_object_set_new(one, "front_file", json_string(argv[optind]));
			json_object_set_new(one, "back_file", json_string(argv[optind + 1]));
			json_object_set(one, "front", side[0]);
			json_object_set(one, "back", side[1]);
			char *s = json_dumps(one, JSON_COMPACT | JSON_REAL_PRECISION(5));
			if (s)
				printf("%s\n", s);
			free(s);
			json_decref(one);
		} else if (!failed) {
			failed = 1;
		}
		json_decref(side[0]);
		json_decref(side[1]);
	}
	if (pid > 0) {
		int st;
		close(to), close(from);
		waitpid(pid, &st, 0);
	}
	if (stats) {
		struct rusage ru;
		getrusage(RUSAGE_CHILDREN, &ru);
		fprintf(stderr, "worker peak memory: %ld kB\n", ru.ru_maxrss);
	}
	return failed;
}
