/* motcua-recognize: the sandboxed recognition worker.  Loads its models once, enters the
 * sandbox, then answers each IMG1 frame on stdin with one RES1 JSON frame on stdout (see
 * proto.h) until EOF.  Its parent sets OMP_THREAD_LIMIT=1 before starting it. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/log.h"
#include "gateway/recognize/proto.h"
#include "gateway/recognize/recognizer.h"
#include "gateway/sandbox.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: motcua-recognize [--mem-mb N] [--cpu-seconds N] [--font OCRB.otf] [--tessdata DIR]\n"
		"                        [--no-ocr] [--no-sandbox] [--ref-year YYYY] [--verbose]\n"
		"Reads IMG1 frames on stdin, writes RES1 JSON frames on stdout.\n");
}

static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*s == 0 || *end != 0 || v < 0) {
		usage();
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mem-mb", required_argument, NULL, 'm' },   { "cpu-seconds", required_argument, NULL, 'c' },
		{ "font", required_argument, NULL, 'f' },     { "tessdata", required_argument, NULL, 't' },
		{ "no-ocr", no_argument, NULL, 'n' },         { "no-sandbox", no_argument, NULL, 's' },
		{ "ref-year", required_argument, NULL, 'y' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
	};
	struct recognizer_options ro = { 0 };
	long mem_mb = 1024, cpu_s = 3600;
	int sandbox = 1, c;
	struct recognizer *rec = NULL;

	log_init("motcua-recognize", LOG_LEVEL_WARN);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm': mem_mb = number(optarg); break;
		case 'c': cpu_s = number(optarg); break;
		case 'f': ro.ocrb_font = optarg; break;
		case 't': ro.tessdata = optarg; break;
		case 'n': ro.no_ocr = 1; break;
		case 's': sandbox = 0; break;
		case 'y': ro.ref_year = (int)number(optarg); break;
		case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!getenv("OMP_THREAD_LIMIT"))
		log_warn(
		    "OMP_THREAD_LIMIT is not set: Tesseract may use every core (set it before starting)");
	signal(SIGPIPE, SIG_IGN);
	if (recognizer_new(&ro, &rec) < 0)
		return 1;
	/* Writes go to its result pipe (1) and its log pipe (2), nowhere else. */
	struct sandbox_policy sp = {
		.mem_mb = mem_mb, .cpu_seconds = cpu_s, .write_fds = { 1, 2 }, .nwrite_fds = 2
	};
	if (sandbox && sandbox_enter(&sp) < 0) {
		log_error("cannot enter the sandbox");
		recognizer_free(rec);
		return 1;
	}
	for (;;) {
		char *img = NULL;
		size_t len = 0;
		int r = rec_read_frame(0, REC_TAG_IMAGE, REC_IMAGE_MAX, &img, &len);
		if (r == -ENODATA)
			break;
		if (r < 0) {
			log_error("bad request frame: %s", strerror(-r));
			break;
		}
		json_t *res = recognizer_run(rec, (const uint8_t *)img, len);
		free(img);
		char *out = res ? json_dumps(res, JSON_COMPACT | JSON_REAL_PRECISION(5)) : NULL;
		json_decref(res);
		if (!out || strlen(out) > REC_RESULT_MAX) {
			free(out);
			out = strdup(
			    "{\"type\":\"other\",\"error\":\"out of memory\",\"fields\":{},\"confidence\":0,"
			    "\"needs_review\":true}");
		}
		r = out ? rec_write_frame(1, REC_TAG_RESULT, out, strlen(out)) : -ENOMEM;
		free(out);
		if (r < 0)
			break;
	}
	recognizer_free(rec);
	return 0;
}
