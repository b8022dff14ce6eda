/* motcuactl chip read|show: one request to motcuad each, printed as text or as its JSON. */
#include "tools/ctl_chip.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gateway/ctlproto.h"

void ctl_chip_usage(FILE *f)
{
	fprintf(f,
		"  chip read (--mrz LINE1,LINE2,LINE3 | --doc ID)\n"
		"                                 read the ID card on the chip reader (BAC key from the\n"
		"                                 MRZ typed or recognised on document ID), check it\n"
		"                                 (passive authentication), store the face\n"
		"  chip show ID                   the latest chip read of a document\n");
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int request(const char *sock, json_t *req, json_t **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ctl_conn conn;
	int r;
	if (!req)
		return -ENOMEM;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	ctl_conn_init(&conn, fd);
	r = ctl_send(&conn, req);
	if (r == 0)
		r = ctl_recv(&conn, CTL_REPLY_MAX, ret);
	close(fd);
	return r;
}

static void print_fields(json_t *fields)
{
	static const char *const order[] = { "id_number",          "full_name",
					     "date_of_birth",      "sex",
					     "nationality",        "ethnicity",
					     "religion",           "place_of_origin",
					     "place_of_residence", "identifying_features",
					     "issue_date",         "expiry_date",
					     "father_name",        "mother_name",
					     "spouse_name",        "old_id_number" };
	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		const char *v = jstr(fields, order[i]);
		if (*v)
			printf("  %-22s %s\n", order[i], v);
	}
}

static void print_read(json_t *rep)
{
	printf("%s\n", jstr(rep, "message"));
	if (!json_is_true(json_object_get(rep, "ok")))
		return;
	printf("read:      %lld\nverified:  %s\n",
	       (long long)json_integer_value(json_object_get(rep, "read_id")),
	       json_is_true(json_object_get(rep, "verified")) ? "yes" : "NO");
	char *p = json_dumps(json_object_get(rep, "passed"), JSON_COMPACT);
	char *f = json_dumps(json_object_get(rep, "failed"), JSON_COMPACT);
	printf("passed:    %s\nfailed:    %s\nface:      %s\n", p ? p : "", f ? f : "",
	       json_is_string(json_object_get(rep, "face_doc_id")) ? jstr(rep, "face_doc_id") : "(none)");
	free(p);
	free(f);
	print_fields(json_object_get(rep, "fields"));
	size_t i;
	json_t *d;
	json_array_foreach (json_object_get(rep, "differences"), i, d)
		printf("DIFFERS    %s: chip \"%s\", recognised (%s) \"%s\"\n", jstr(d, "field"),
		       jstr(d, "chip"), jstr(d, "recognised_source"), jstr(d, "recognised"));
}

int ctl_chip_main(const char *sock, int json_out, int argc, char **argv)
{
	json_t *req = NULL, *rep = NULL;
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "read") == 0 && argc == 4 && strcmp(argv[2], "--mrz") == 0)
		req = json_pack("{s:s, s:s}", "cmd", "chip.read", "mrz", argv[3]);
	else if (strcmp(sub, "read") == 0 && argc == 4 && strcmp(argv[2], "--doc") == 0)
		req = json_pack("{s:s, s:s}", "cmd", "chip.read", "doc", argv[3]);
	else if (strcmp(sub, "show") == 0 && argc == 3)
		req = json_pack("{s:s, s:s}", "cmd", "chip.show", "id", argv[2]);
	else {
		ctl_chip_usage(stderr);
		return 2;
	}
	int r = request(sock, req, &rep);
	json_decref(req);
	if (r < 0) {
		fprintf(stderr, "motcuactl: cannot reach motcuad at %s: %s (is it running?)\n", sock,
			strerror(-r));
		return 1;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "motcuactl: %s\n", jstr(rep, "message"));
		json_decref(rep);
		return 1;
	}
	if (json_out) {
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else if (strcmp(sub, "read") == 0) {
		print_read(rep);
	} else {
		json_t *res = json_object_get(rep, "result");
		printf("read:      %lld at %s by %s\nverified:  %s\ndiffers:   %lld\n",
		       (long long)json_integer_value(json_object_get(rep, "read_id")), jstr(rep, "at"),
		       jstr(rep, "actor"), json_is_true(json_object_get(rep, "verified")) ? "yes" : "NO",
		       (long long)json_integer_value(json_object_get(rep, "differences")));
		print_fields(json_object_get(res, "fields"));
	}
	/* A read that did not happen (no card, wrong MRZ) is a failure for scripts too. */
	int status = strcmp(sub, "read") == 0 && !json_is_integer(json_object_get(rep, "read_id")) ? 3 : 0;
	json_decref(rep);
	return status;
}
