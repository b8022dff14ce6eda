/* motcuactl store check: asks motcuad to read back every stored document, recognition
 * result and manifest, and prints what is damaged or missing (nothing is ever deleted). */
#include "tools/ctl_store.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/ctlproto.h"

void ctl_store_usage(FILE *f)
{
	fprintf(f,
		"  store check                    read back every stored document and manifest; list\n"
		"                                 what is damaged or missing (exit 1 if anything is);\n"
		"                                 never deletes anything\n");
}

/* Sends req (takes ownership) and returns the reply, or NULL after printing why. */
static json_t *request(struct ctl_conn *conn, json_t *req)
{
	json_t *rep = NULL;
	int r = req ? ctl_send(conn, req) : -ENOMEM;
	json_decref(req);
	if (r == 0)
		r = ctl_recv(conn, CTL_REPLY_MAX, &rep);
	if (r < 0) {
		fprintf(stderr, "motcuactl: no answer from motcuad: %s\n", strerror(-r));
		return NULL;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "motcuactl: %s (%s)\n", json_string_value(json_object_get(rep, "message")),
			json_string_value(json_object_get(rep, "error")));
		json_decref(rep);
		return NULL;
	}
	return rep;
}

static long long jint(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static int print_check(json_t *rep)
{
	json_t *list = json_object_get(rep, "problems"), *p;
	size_t i;
	long long bad = jint(rep, "damaged") + jint(rep, "missing") + jint(rep, "manifest_problems");

	printf("store check at %s: %lld blobs (%lld bytes) and %lld manifests read back\n", jstr(rep, "at"),
	       jint(rep, "blobs"), jint(rep, "bytes"), jint(rep, "manifests"));
	json_array_foreach (list, i, p) {
		const char *problem = jstr(p, "problem");
		printf("%-17s %-12s %s (blob %.16s...)", problem, jstr(p, "what"), jstr(p, "ref"),
		       jstr(p, "sha256"));
		if (json_is_true(json_object_get(p, "delivered")))
			printf(": the city holds a copy (receipt %s)\n", jstr(p, "receipt"));
		else if (strncmp(problem, "manifest", 8) == 0)
			printf(": the document itself is readable; its manifest is rewritten by the next "
			       "rebuild\n");
		else
			printf(": not delivered yet: restore it from a backup (motcuactl restore) or take it "
			       "in again\n");
	}
	if ((long long)json_array_size(list) < bad)
		printf("... and %lld more (see the daemon's log)\n", bad - (long long)json_array_size(list));
	printf("%lld damaged, %lld missing, %lld manifest problems%s; nothing was deleted\n",
	       jint(rep, "damaged"), jint(rep, "missing"), jint(rep, "manifest_problems"),
	       jint(rep, "delivered_damaged") ? " (the city holds a copy of some: see above)" : "");
	return bad > 0 ? 1 : 0;
}

int ctl_store_main(struct ctl_conn *conn, int json_out, int ac, char **av)
{
	const char *sub = ac > 1 ? av[1] : "";
	json_t *rep;
	int status;
	if (strcmp(sub, "check") == 0 && ac == 2) {
		rep = request(conn, json_pack("{s:s}", "cmd", "store.check"));
		if (!rep)
			return 1;
		if (json_out) {
			json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			fputc('\n', stdout);
			status =
			    jint(rep, "damaged") + jint(rep, "missing") + jint(rep, "manifest_problems") > 0;
		} else {
			status = print_check(rep);
		}
		json_decref(rep);
		return status;
	}
	fprintf(stderr, "motcuactl: unknown store command; see motcuactl --help\n");
	return 2;
}
