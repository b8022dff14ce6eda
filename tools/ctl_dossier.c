/* motcuactl dossier|ask|feedback: one request each, printed as text or as the daemon's JSON. */
#include "tools/ctl_dossier.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/ctlproto.h"
#include "tools/ctl_ask.h"

static int json_mode;

void ctl_dossier_usage(FILE *f)
{
	fprintf(
	    f,
	    "  dossier open PROCEDURE (--doc ID | --name NAME --id NUMBER) [--source S]\n"
	    "                                 open a dossier for a recognised ID card or typed applicant\n"
	    "  dossier attach ID ITEM DOC     attach a stored scan to one of the procedure's items\n"
	    "  dossier show ID|CODE           items, what is missing, code, due day, city status\n"
	    "  dossier list [--state open|accepted] [--flag overdue|near_due] [--limit N]\n"
	    "  dossier accept ID [--note TEXT] [--at 'YYYY-MM-DD HH:MM']\n"
	    "                                 give the code and due day, queue it for the LGSP\n"
	    "                                 (an incomplete dossier needs a note; --at: received\n"
	    "                                 earlier, local time), assign it by the procedure's role\n"
	    "  dossier assign ID|CODE [USER]  hand it to USER, or to the role's least busy official\n"
	    "  dossier step ID|CODE STEP [--note TEXT] [--at 'YYYY-MM-DD HH:MM']\n"
	    "                                 processing, supplement (needs more papers: the note\n"
	    "                                 says which; the clock stops), signing, ready, returned,\n"
	    "                                 refused (note: why), withdrawn; queued for the LGSP\n"
	    "  dossier apologize ID|CODE YYYY-MM-DD --reason TEXT\n"
	    "                                 a late dossier's apology (Mẫu 04) and new appointment\n"
	    "  dossier return CODE|QR-TEXT    hand the result back at the counter (step returned)\n"
	    "  dossier work [USER] [--unassigned]\n"
	    "                                 dossiers in hand, due soonest first\n"
	    "  dossier role PROCEDURE ROLE    the role that handles a procedure\n"
	    "  dossier official add|remove USER ROLE\n"
	    "  dossier officials              who holds which role, each procedure's role\n"
	    "  dossier status CODE STATUS [TEXT]\n"
	    "                                 record the city's status (received, processing, ...)\n"
	    "  ask QUESTION                   the procedure assistant: papers, fee, time, service\n"
	    "  ask --catalogue FILE QUESTION  the same offline, from a catalogue file\n"
	    "  ask --catalogue FILE --eval TSV\n"
	    "                                 top-1/top-3 accuracy on an evaluation set\n"
	    "  feedback add dossier|ticket SUBJECT RATING [--comment TEXT] [--counter N]\n"
	    "                                 a citizen's rating (1-5) of a dossier (code) or ticket\n"
	    "  feedback summary [--day YYYY-MM-DD]\n"
	    "                                 ratings per service and counter, comments by keyword\n"
	    "  feedback report YYYY-MM-DD     queue that day's feedback statistics for the LGSP\n");
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

static int connect_sock(const char *path, struct ctl_conn **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	struct ctl_conn *c = malloc(sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	ctl_conn_init(c, fd);
	*ret = c;
	return 0;
}

static int request(const char *sock, json_t *req, void (*print)(json_t *rep))
{
	struct ctl_conn *conn = NULL;
	json_t *rep = NULL;
	int r = connect_sock(sock, &conn);
	if (r < 0) {
		json_decref(req);
		fprintf(stderr, "motcuactl: cannot reach motcuad at %s: %s (is it running?)\n", sock,
			strerror(-r));
		return 1;
	}
	r = req ? ctl_send(conn, req) : -ENOMEM;
	json_decref(req);
	if (r == 0)
		r = ctl_recv(conn, CTL_REPLY_MAX, &rep);
	close(conn->fd);
	free(conn);
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

static void print_dossier(json_t *d)
{
	json_t *v;
	size_t i;
	printf("dossier %lld  %s  %s (%s)\n", jint(d, "id"), jstr(d, "state"), jstr(d, "procedure"),
	       jstr(d, "procedure_name"));
	printf("applicant: %s (…%s, %s)\n", jstr(d, "applicant_name"), jstr(d, "applicant_id_tail"),
	       jstr(d, "applicant_from"));
	if (jstr(d, "code")[0])
		printf("code:      %s  received %s  due %s%s%s\n", jstr(d, "code"), jstr(d, "accepted_at"),
		       jstr(d, "due_day")[0] ? jstr(d, "due_day") : "(no fixed time limit)",
		       jstr(d, "flag")[0] ? "  " : "", jstr(d, "flag"));
	if (jstr(d, "note")[0])
		printf("note:      %s\n", jstr(d, "note"));
	if (jstr(d, "city_status")[0])
		printf("city:      %s %s (%s)\n", jstr(d, "city_status"), jstr(d, "city_status_text"),
		       jstr(d, "city_updated_at"));
	if (jstr(d, "step")[0])
		printf("step:      %s  official %s%s%s%s%s\n", jstr(d, "step"),
		       jstr(d, "assignee")[0] ? jstr(d, "assignee") : "(unassigned)",
		       jstr(d, "pause_day")[0] ? "  clock stopped since " : "", jstr(d, "pause_day"),
		       jstr(d, "new_due_day")[0] ? "  new appointment " : "", jstr(d, "new_due_day"));
	json_array_foreach (json_object_get(d, "steps"), i, v)
		printf("  %-5s %-12s %-10s by %s at %lld %s\n", jstr(v, "origin"), jstr(v, "step"),
		       jstr(v, "assignee"), jstr(v, "actor"), jint(v, "at_s"), jstr(v, "note"));
	json_array_foreach (json_object_get(d, "items"), i, v)
		printf("  attached %-20s %s %s\n", jstr(v, "item"), jstr(v, "document"), jstr(v, "type"));
	json_array_foreach (json_object_get(d, "missing"), i, v)
		printf("  MISSING  %-20s %s\n", jstr(v, "item"), jstr(v, "name"));
	if (json_is_true(json_object_get(d, "complete")) && strcmp(jstr(d, "state"), "open") == 0)
		printf("complete: ready to accept\n");
}

static void print_list(json_t *rep)
{
	json_t *d;
	size_t i;
	json_array_foreach (json_object_get(rep, "dossiers"), i, d)
		printf("%6lld %-9s %-28s %-10s %-10s %-9s %s %s %s\n", jint(d, "id"), jstr(d, "state"),
		       jstr(d, "code")[0] ? jstr(d, "code") : "-", jstr(d, "procedure"),
		       jstr(d, "due_day")[0] ? jstr(d, "due_day") : "-",
		       jstr(d, "flag")[0] ? jstr(d, "flag") : "", jstr(d, "city_status"), jstr(d, "step"),
		       jstr(d, "assignee"));
}

static void print_feedback(json_t *rep)
{
	json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
}

static int parse_id(const char *s, json_t *req)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || v < 1)
		json_object_set_new(req, "code", json_string(s));
	else
		json_object_set_new(req, "id", json_integer(v));
	return 0;
}

static int opt(int argc, char **argv, int *i, const char *name, json_t *req, const char *key)
{
	if (strcmp(argv[*i], name) == 0 && *i + 1 < argc) {
		json_object_set_new(req, key, json_string(argv[++*i]));
		return 1;
	}
	return 0;
}

static int cmd_dossier(const char *sock, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	json_t *req = json_object();
	if (strcmp(sub, "open") == 0 && argc >= 3) {
		json_object_set_new(req, "cmd", json_string("dossier.open"));
		json_object_set_new(req, "procedure", json_string(argv[2]));
		for (int i = 3; i < argc; i++)
			if (!opt(argc, argv, &i, "--doc", req, "doc") &&
			    !opt(argc, argv, &i, "--name", req, "name") &&
			    !opt(argc, argv, &i, "--id", req, "id_number") &&
			    !opt(argc, argv, &i, "--source", req, "source"))
				goto usage;
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "attach") == 0 && argc == 5) {
		json_object_set_new(req, "cmd", json_string("dossier.attach"));
		parse_id(argv[2], req);
		json_object_set_new(req, "item", json_string(argv[3]));
		json_object_set_new(req, "doc", json_string(argv[4]));
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "show") == 0 && argc == 3) {
		json_object_set_new(req, "cmd", json_string("dossier.show"));
		parse_id(argv[2], req);
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "list") == 0) {
		json_object_set_new(req, "cmd", json_string("dossier.list"));
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
				json_object_set_new(req, "limit", json_integer(strtol(argv[++i], NULL, 10)));
			else if (!opt(argc, argv, &i, "--state", req, "state") &&
				 !opt(argc, argv, &i, "--flag", req, "flag"))
				goto usage;
		}
		return request(sock, req, print_list);
	}
	if (strcmp(sub, "accept") == 0 && argc >= 3) {
		json_object_set_new(req, "cmd", json_string("dossier.accept"));
		parse_id(argv[2], req);
		for (int i = 3; i < argc; i++)
			if (!opt(argc, argv, &i, "--note", req, "note") &&
			    !opt(argc, argv, &i, "--at", req, "at"))
				goto usage;
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "assign") == 0 && (argc == 3 || argc == 4)) {
		json_object_set_new(req, "cmd", json_string("dossier.assign"));
		parse_id(argv[2], req);
		if (argc == 4)
			json_object_set_new(req, "user", json_string(argv[3]));
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "step") == 0 && argc >= 4) {
		json_object_set_new(req, "cmd", json_string("dossier.step"));
		parse_id(argv[2], req);
		json_object_set_new(req, "step", json_string(argv[3]));
		for (int i = 4; i < argc; i++)
			if (!opt(argc, argv, &i, "--note", req, "note") &&
			    !opt(argc, argv, &i, "--at", req, "at"))
				goto usage;
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "apologize") == 0 && argc >= 4) {
		json_object_set_new(req, "cmd", json_string("dossier.apologize"));
		parse_id(argv[2], req);
		json_object_set_new(req, "new_due", json_string(argv[3]));
		for (int i = 4; i < argc; i++)
			if (!opt(argc, argv, &i, "--reason", req, "reason") &&
			    !opt(argc, argv, &i, "--at", req, "at"))
				goto usage;
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "return") == 0 && argc >= 3) {
		json_object_set_new(req, "cmd", json_string("dossier.return"));
		json_object_set_new(req, "scan", json_string(argv[2]));
		for (int i = 3; i < argc; i++)
			if (!opt(argc, argv, &i, "--note", req, "note") &&
			    !opt(argc, argv, &i, "--at", req, "at"))
				goto usage;
		return request(sock, req, print_dossier);
	}
	if (strcmp(sub, "work") == 0) {
		json_object_set_new(req, "cmd", json_string("dossier.worklist"));
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--unassigned") == 0)
				json_object_set_new(req, "unassigned", json_true());
			else if (argv[i][0] != '-')
				json_object_set_new(req, "user", json_string(argv[i]));
			else
				goto usage;
		}
		return request(sock, req, print_list);
	}
	if (strcmp(sub, "role") == 0 && argc == 4) {
		json_object_set_new(req, "cmd", json_string("dossier.role"));
		json_object_set_new(req, "procedure", json_string(argv[2]));
		json_object_set_new(req, "role", json_string(argv[3]));
		return request(sock, req, print_feedback);
	}
	if (strcmp(sub, "official") == 0 && argc == 5 &&
	    (strcmp(argv[2], "add") == 0 || strcmp(argv[2], "remove") == 0)) {
		json_object_set_new(req, "cmd", json_string("dossier.official"));
		json_object_set_new(req, "add", json_boolean(argv[2][0] == 'a'));
		json_object_set_new(req, "user", json_string(argv[3]));
		json_object_set_new(req, "role", json_string(argv[4]));
		return request(sock, req, print_feedback);
	}
	if (strcmp(sub, "officials") == 0 && argc == 2) {
		json_object_set_new(req, "cmd", json_string("dossier.officials"));
		return request(sock, req, print_feedback);
	}
	if (strcmp(sub, "status") == 0 && (argc == 4 || argc == 5)) {
		json_object_set_new(req, "cmd", json_string("dossier.status"));
		json_object_set_new(req, "code", json_string(argv[2]));
		json_object_set_new(req, "status", json_string(argv[3]));
		if (argc == 5)
			json_object_set_new(req, "text", json_string(argv[4]));
		return request(sock, req, print_dossier);
	}
usage:
	json_decref(req);
	fprintf(stderr, "motcuactl: unknown dossier command; see motcuactl --help\n");
	return 2;
}

static int cmd_feedback(const char *sock, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	json_t *req = json_object();
	if (strcmp(sub, "add") == 0 && argc >= 5) {
		json_object_set_new(req, "cmd", json_string("feedback.add"));
		json_object_set_new(req, "kind", json_string(argv[2]));
		json_object_set_new(req, "subject", json_string(argv[3]));
		json_object_set_new(req, "rating", json_integer(strtol(argv[4], NULL, 10)));
		for (int i = 5; i < argc; i++) {
			if (strcmp(argv[i], "--counter") == 0 && i + 1 < argc)
				json_object_set_new(req, "counter",
						    json_integer(strtol(argv[++i], NULL, 10)));
			else if (!opt(argc, argv, &i, "--comment", req, "comment") &&
				 !opt(argc, argv, &i, "--source", req, "source"))
				goto usage;
		}
		return request(sock, req, print_feedback);
	}
	if (strcmp(sub, "summary") == 0) {
		json_object_set_new(req, "cmd", json_string("feedback.summary"));
		for (int i = 2; i < argc; i++)
			if (!opt(argc, argv, &i, "--day", req, "day"))
				goto usage;
		return request(sock, req, print_feedback);
	}
	if (strcmp(sub, "report") == 0 && argc == 3) {
		json_object_set_new(req, "cmd", json_string("feedback.report"));
		json_object_set_new(req, "day", json_string(argv[2]));
		return request(sock, req, print_feedback);
	}
usage:
	json_decref(req);
	fprintf(stderr, "motcuactl: unknown feedback command; see motcuactl --help\n");
	return 2;
}

static void print_answer(json_t *a)
{
	ctl_ask_print(a);
}

int ctl_dossier_main(const char *sock, int json_out, int argc, char **argv)
{
	json_mode = json_out;
	if (strcmp(argv[0], "dossier") == 0)
		return cmd_dossier(sock, argc, argv);
	if (strcmp(argv[0], "feedback") == 0)
		return cmd_feedback(sock, argc, argv);
	if (argc >= 3 && strcmp(argv[1], "--catalogue") == 0)
		return ctl_ask_offline(json_out, argc - 2, argv + 2, argv[2]);
	if (argc == 2)
		return request(sock, json_pack("{s:s, s:s}", "cmd", "ask", "question", argv[1]),
			       print_answer);
	fprintf(stderr, "motcuactl: ask needs one question (quote it)\n");
	return 2;
}
