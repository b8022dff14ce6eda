/* motcuactl queue/scan/usb: one request each, printed as text or as the daemon's JSON. */
#include "tools/ctl_local.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/ctlproto.h"

static int json_mode;

void ctl_local_usage(FILE *f)
{
	fprintf(
	    f,
	    "  queue take SERVICE [--source S] [--no-print]\n"
	    "                                 give out the next ticket of SERVICE (a letter); prints it\n"
	    "  queue call COUNTER [CODE]      COUNTER calls the next waiting ticket (or CODE out of order)\n"
	    "  queue again|serve|done|skip COUNTER\n"
	    "                                 call again / citizen seated / finished / nobody came\n"
	    "  queue move COUNTER SERVICE     send COUNTER's ticket to another service's queue\n"
	    "  queue status [--day YYYY-MM-DD]\n"
	    "                                 waiting, called, served, times per service and counter\n"
	    "  queue list [--state S] [--day D]  the day's tickets\n"
	    "  queue events [--after ID] [--counter N]\n"
	    "                                 calls and code scans, as displays and staff pages see them\n"
	    "  queue report YYYY-MM-DD        queue that day's statistics for the LGSP now\n"
	    "  usb list                       USB printers, scanners and code readers plugged in\n"
	    "  scan DEVICE [--kind K]         scan a page (SANE device name, see 'scan list') into the "
	    "store\n"
	    "  scan list                      SANE scanners found\n");
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* Sends req (taking it), prints the answer with print; returns the exit status. */
static int request(struct ctl_conn *conn, json_t *req, void (*print)(json_t *rep))
{
	json_t *rep = NULL;
	int r = req ? ctl_send(conn, req) : -ENOMEM;
	json_decref(req);
	if (r == 0)
		r = ctl_recv(conn, CTL_REPLY_MAX, &rep);
	if (r < 0) {
		fprintf(stderr, "motcuactl: no answer from motcuad: %s\n", strerror(-r));
		return 1;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "motcuactl: %s (%s)\n", jstr(rep, "message"), jstr(rep, "error"));
		json_decref(rep);
		return 1;
	}
	json_object_del(rep, "ok");
	if (json_mode) {
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else {
		print(rep);
	}
	json_decref(rep);
	return 0;
}

static void hhmm(long long ms, char out[16])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0) {
		snprintf(out, 16, "-");
		return;
	}
	localtime_r(&t, &tm);
	strftime(out, 16, "%H:%M:%S", &tm);
}

static void print_ticket(json_t *t)
{
	char at[16];
	hhmm(jint(t, "taken_ms"), at);
	printf("%s  %s (%s)  %s", jstr(t, "code"), jstr(t, "service"), jstr(t, "service_name"),
	       jstr(t, "state"));
	if (strcmp(jstr(t, "state"), "waiting") == 0)
		printf(", %lld ahead", jint(t, "ahead"));
	if (jint(t, "counter"))
		printf(", counter %lld", jint(t, "counter"));
	printf(", taken %s", at);
	if (json_is_true(json_object_get(t, "printed")))
		printf(", printed");
	if (jstr(t, "print_error")[0])
		printf(", NOT PRINTED: %s", jstr(t, "print_error"));
	printf("\n");
}

static void print_list(json_t *rep)
{
	json_t *arr = json_object_get(rep, "tickets"), *t;
	size_t i;
	json_array_foreach (arr, i, t)
		print_ticket(t);
	if (json_array_size(arr) == 0)
		printf("no tickets\n");
}

static void print_status(json_t *rep)
{
	json_t *arr = json_object_get(rep, "services"), *s;
	size_t i;
	printf("queue of %s\n", jstr(rep, "day"));
	printf("service                      waiting called serving  done skipped  avg wait  avg service  "
	       "last\n");
	json_array_foreach (arr, i, s)
		printf("%s %-24.24s %9lld %6lld %7lld %5lld %7lld %8llds %11llds  %s\n", jstr(s, "service"),
		       jstr(s, "name"), jint(s, "waiting"), jint(s, "called"), jint(s, "serving"),
		       jint(s, "done"), jint(s, "skipped"), jint(s, "avg_wait_s"), jint(s, "avg_service_s"),
		       jstr(s, "last_called"));
	arr = json_object_get(rep, "counters");
	json_array_foreach (arr, i, s) {
		json_t *cur = json_object_get(s, "current");
		printf("counter %2lld: %lld done, %lld skipped, avg wait %llds, avg service %llds%s%s%s%s\n",
		       jint(s, "counter"), jint(s, "done"), jint(s, "skipped"), jint(s, "avg_wait_s"),
		       jint(s, "avg_service_s"), cur ? ", now " : "", cur ? jstr(cur, "code") : "",
		       cur ? " " : "", cur ? jstr(cur, "state") : "");
	}
}

static void print_events(json_t *rep)
{
	json_t *arr = json_object_get(rep, "events"), *e;
	size_t i;
	char at[16];
	json_array_foreach (arr, i, e) {
		hhmm(jint(e, "at_ms"), at);
		printf("%6lld  %s  counter %2lld  %-7s %s %s\n", jint(e, "id"), at, jint(e, "counter"),
		       jstr(e, "kind"), jstr(e, "code"), jstr(e, "detail"));
	}
}

static void print_report(json_t *rep)
{
	printf("statistics of %s %s outbox item %lld\n", jstr(rep, "day"),
	       json_is_true(json_object_get(rep, "already")) ? "were already queued as" : "queued as",
	       jint(rep, "outbox_id"));
}

static void print_usb(json_t *rep)
{
	json_t *arr = json_object_get(rep, "devices"), *d;
	size_t i;
	json_array_foreach (arr, i, d)
		printf("%-10s %-8s %04llx:%04llx  %-24s %s%s%s\n", jstr(d, "port"), jstr(d, "kind"),
		       jint(d, "vid"), jint(d, "pid"), jstr(d, "product"), jstr(d, "status"),
		       jint(d, "counter") ? " counter " : "",
		       jint(d, "counter") ? jstr(d, "counter_text") : "");
	if (json_array_size(arr) == 0)
		printf("no USB printer, scanner or code reader plugged in\n");
}

static void print_scan(json_t *rep)
{
	printf("%s\n", jstr(rep, "id"));
}

static void print_scanners(json_t *rep)
{
	json_t *arr = json_object_get(rep, "scanners"), *d;
	size_t i;
	json_array_foreach (arr, i, d)
		printf("%-40s %s %s (%s)\n", jstr(d, "name"), jstr(d, "vendor"), jstr(d, "model"),
		       jstr(d, "type"));
	if (json_array_size(arr) == 0)
		printf("no scanner found\n");
}

static int counter_arg(const char *s, long *ret)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 1 || v > 99) {
		fprintf(stderr, "motcuactl: COUNTER must be a number from 1 to 99\n");
		return -1;
	}
	*ret = v;
	return 0;
}

static int queue_cmd(struct ctl_conn *conn, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	long counter;
	if (strcmp(sub, "take") == 0 && argc >= 3) {
		json_t *req = json_pack("{s:s, s:s}", "cmd", "queue.take", "service", argv[2]);
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
				json_object_set_new(req, "source", json_string(argv[++i]));
			} else if (strcmp(argv[i], "--no-print") == 0) {
				json_object_set_new(req, "print", json_false());
			} else {
				json_decref(req);
				return 2;
			}
		}
		return request(conn, req, print_ticket);
	}
	static const char *const verbs[][2] = { { "call", "next" },   { "again", "again" },
						{ "serve", "serve" }, { "done", "done" },
						{ "skip", "skip" },   { "move", "move" } };
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (strcmp(sub, verbs[v][0]) != 0)
			continue;
		int is_move = strcmp(sub, "move") == 0, is_call = strcmp(sub, "call") == 0;
		if (argc < 3 || counter_arg(argv[2], &counter) < 0 || (is_move && argc != 4) ||
		    (!is_move && argc > (is_call ? 4 : 3)))
			return 2;
		const char *verb = is_call && argc == 4 ? "call" : verbs[v][1];
		json_t *req = json_pack("{s:s, s:i, s:s}", "cmd", "queue.counter", "counter", (int)counter,
					"verb", verb);
		if (argc == 4)
			json_object_set_new(req, "arg", json_string(argv[3]));
		return request(conn, req, print_ticket);
	}
	if ((strcmp(sub, "status") == 0 || strcmp(sub, "list") == 0 || strcmp(sub, "events") == 0)) {
		json_t *req = json_pack("{s:s}", "cmd",
					sub[0] == 's'       ? "queue.status"
					    : sub[0] == 'l' ? "queue.list"
							    : "queue.events");
		for (int i = 2; i < argc; i++) {
			const char *k = argv[i];
			if (i + 1 >= argc) {
				json_decref(req);
				return 2;
			}
			if (strcmp(k, "--day") == 0 || strcmp(k, "--state") == 0) {
				json_object_set_new(req, k + 2, json_string(argv[++i]));
			} else if (strcmp(k, "--after") == 0 || strcmp(k, "--counter") == 0 ||
				   strcmp(k, "--limit") == 0) {
				json_object_set_new(req, k + 2, json_integer(strtoll(argv[++i], NULL, 10)));
			} else {
				json_decref(req);
				return 2;
			}
		}
		return request(conn, req,
			       sub[0] == 's'       ? print_status
				   : sub[0] == 'l' ? print_list
						   : print_events);
	}
	if (strcmp(sub, "report") == 0 && argc == 3)
		return request(conn, json_pack("{s:s, s:s}", "cmd", "queue.report", "day", argv[2]),
			       print_report);
	return 2;
}

int ctl_local_main(struct ctl_conn *conn, int json_out, int argc, char **argv)
{
	int r = 2;
	json_mode = json_out;
	if (strcmp(argv[0], "queue") == 0) {
		r = queue_cmd(conn, argc, argv);
	} else if (strcmp(argv[0], "usb") == 0 && argc == 2 && strcmp(argv[1], "list") == 0) {
		r = request(conn, json_pack("{s:s}", "cmd", "usb.list"), print_usb);
	} else if (strcmp(argv[0], "scan") == 0 && argc == 2 && strcmp(argv[1], "list") == 0) {
		r = request(conn, json_pack("{s:s}", "cmd", "scan.list"), print_scanners);
	} else if (strcmp(argv[0], "scan") == 0 && argc >= 2) {
		json_t *req = json_pack("{s:s, s:s}", "cmd", "scan.page", "device", argv[1]);
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc) {
				json_object_set_new(req, "kind", json_string(argv[++i]));
			} else {
				json_decref(req);
				return 2;
			}
		}
		r = request(conn, req, print_scan);
	}
	if (r == 2)
		fprintf(stderr, "motcuactl: wrong use of %s; see motcuactl --help\n", argv[0]);
	return r;
}
