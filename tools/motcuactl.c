/* motcuactl: the admin CLI.  Talks to the running motcuad over its control socket; every
 * command prints plain text, or the daemon's JSON with --json. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gateway/config.h"
#include "gateway/ctlproto.h"
#include "gateway/log.h"
#include "store/fsutil.h"
#include "tools/ctl_chip.h"
#include "tools/ctl_dossier.h"
#include "tools/ctl_local.h"
#include "tools/ctl_sign.h"
#include "tools/ctl_backup.h"
#include "tools/ctl_store.h"
#include "tools/ctl_users.h"
#include "tools/termsafe.h"
#include "tools/ctl_recognize.h"

static int json_out;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: motcuactl [-s SOCKET | -c CONFIG] [--json] COMMAND ...\n"
	    "commands:\n"
	    "  status                         version, uptime, store, outbox backlog, free disk\n"
	    "  doc put FILE [--kind K] [--key KEY]\n"
	    "                                 store a document; prints its id once it is durable\n"
	    "  doc get ID [-o FILE]           write a document's bytes to FILE (default stdout);\n"
	    "                                 with --json, print its metadata (needs -o)\n"
	    "  doc list [--limit N]           newest documents first\n"
	    "  doc show ID                    a document's recognition: type, confidence, review mark,\n"
	    "                                 the recognised fields and staff corrections (--json: all)\n"
	    "  outbox list [--state S] [--limit N]\n"
	    "                                 items to deliver (S: queued, sending, delivered, rejected)\n"
	    "  audit verify                   check the audit chain; exit 1 names the first bad row\n"
	    "  audit tail [-n N]              the last N audit rows\n"
	    "  config show                    the running configuration, secrets masked\n"
	    "  devices list                   registered devices: state, presence (online, stale, offline)\n"
	    "  devices approve ID --code CODE [--reason TEXT]   CODE: the pairing code the device shows\n"
	    "  devices reject|revoke ID [--reason TEXT]\n"
	    "                                 staff decision on a device (audited); revoke cuts it off now\n"
	    "  devices cmd ID print|display|ping [BODY]\n"
	    "                                 send a command (BODY: JSON object), wait for the device's ack\n"
	    "  uplink status                  LGSP link state, last success, backlog, rate, time to drain\n"
	    "  outbox retry ID                put a rejected item back in the queue (audited)\n"
	    "options:\n"
	    "  -s, --socket PATH   control socket (default from the config, else /run/motcua/motcuad.sock;\n"
	    "                      or $MOTCUA_SOCKET)\n"
	    "  -c, --config FILE   read the socket path from this motcua.conf\n"
	    "      --json          print the daemon's JSON answer\n");
	fprintf(f, "certified copies and signing keys:\n");
	ctl_sign_usage(f);
	fprintf(f, "queue and local device commands:\n");
	ctl_local_usage(f);
	fprintf(f, "dossiers, the procedure assistant and citizen feedback:\n");
	ctl_dossier_usage(f);
	ctl_chip_usage(f);
	fprintf(f, "web accounts:\n");
	ctl_users_usage(f);
	ctl_store_usage(f);
	ctl_backup_usage(f);
	fprintf(f, "recognition (offline, no daemon):\n");
	ctl_recognize_usage(f);
}

static int connect_to(const char *path, int *ret_fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	*ret_fd = fd;
	return 0;
}

/* Prints an error reply and frees it (takes ownership); returns the exit status. */
static int print_error(json_t *rep)
{
	fprintf(stderr, "motcuactl: %s (%s)\n", json_string_value(json_object_get(rep, "message")),
		json_string_value(json_object_get(rep, "error")));
	json_decref(rep);
	return 1;
}

static int is_ok(json_t *rep)
{
	return json_is_true(json_object_get(rep, "ok"));
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
}

static const char *human_bytes(int64_t b, char *buf, size_t size)
{
	if (b >= (int64_t)1 << 30)
		snprintf(buf, size, "%.1f GB", (double)b / (1 << 30));
	else if (b >= 1 << 20)
		snprintf(buf, size, "%.1f MB", (double)b / (1 << 20));
	else if (b >= 1 << 10)
		snprintf(buf, size, "%.1f KB", (double)b / (1 << 10));
	else
		snprintf(buf, size, "%lld B", (long long)b);
	return buf;
}

static int64_t jint(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void print_status(json_t *s)
{
	char a[32], b[32], c[32];
	json_t *ob = json_object_get(s, "outbox");
	static const char *const states[] = { "queued", "sending", "delivered", "rejected" };

	printf("motcuad %s, up %llds\n", jstr(s, "version"), (long long)jint(s, "uptime_s"));
	printf("store:     %s: %lld documents, database %s, blobs %s\n", jstr(s, "state_dir"),
	       (long long)jint(s, "documents"), human_bytes(jint(s, "db_bytes"), a, sizeof(a)),
	       human_bytes(jint(s, "blob_bytes"), b, sizeof(b)));
	printf("disk:      %s free (low-water mark %s)%s\n", human_bytes(jint(s, "free_bytes"), a, sizeof(a)),
	       human_bytes(jint(s, "low_water_bytes"), c, sizeof(c)),
	       json_is_true(json_object_get(s, "intake_paused")) ? ": INTAKE PAUSED, free some space" : "");
	printf("outbox:   ");
	for (int i = 0; i < 4; i++) {
		json_t *st = json_object_get(ob, states[i]);
		json_t *by = json_object_get(st, "by_priority");
		printf(" %s %lld [", states[i], (long long)jint(st, "total"));
		for (size_t p = 0; p < json_array_size(by); p++)
			printf("%s%lld", p ? " " : "", (long long)json_integer_value(json_array_get(by, p)));
		printf("]%s", i < 3 ? "," : "\n");
	}
	printf("backlog:   %s to send", human_bytes(jint(ob, "pending_bytes"), a, sizeof(a)));
	if (jstr(ob, "oldest_queued_at")[0])
		printf(", oldest queued %s (%llds ago)\n", jstr(ob, "oldest_queued_at"),
		       (long long)jint(ob, "oldest_queued_age_s"));
	else
		printf(", nothing waiting\n");
	json_t *lr = json_object_get(s, "last_rebuild");
	if (lr) {
		json_t *kinds = json_object_get(lr, "kinds"), *v;
		const char *k;
		printf("NOTICE:    the database was rebuilt%s%s from the record journal and the blob "
		       "manifests; the old one is kept at %s (%lld documents restored)\n",
		       jstr(lr, "at")[0] ? " at " : "", jstr(lr, "at"), jstr(lr, "quarantined"),
		       (long long)jint(lr, "restored"));
		if (json_object_size(kinds) > 0) {
			printf("restored: ");
			json_object_foreach (kinds, k, v)
				printf(" %s %lld", k, (long long)json_integer_value(v));
			printf("\n");
		}
		if (json_is_true(json_object_get(lr, "journal_damaged")))
			printf("WARNING:   the record journal was damaged: records after the damage could "
			       "not be "
			       "restored; see the daemon's log\n");
		if (jint(lr, "journal_failed") > 0)
			printf(
			    "WARNING:   %lld journal changes could not be replayed; see the daemon's log\n",
			    (long long)jint(lr, "journal_failed"));
	}
}

/* Sends req, receives the reply line; exits the program on transport errors. */
static json_t *call(struct ctl_conn *conn, json_t *req)
{
	json_t *rep = NULL;
	int r = ctl_send(conn, req);
	if (r == 0)
		r = ctl_recv(conn, CTL_REPLY_MAX, &rep);
	if (r < 0) {
		fprintf(stderr, "motcuactl: no answer from motcuad: %s\n", strerror(-r));
		exit(1);
	}
	return rep;
}

static int cmd_doc_put(struct ctl_conn *conn, int argc, char **argv)
{
	static const struct option opts[] = { { "kind", required_argument, NULL, 'k' },
					      { "key", required_argument, NULL, 'K' },
					      { NULL, 0, NULL, 0 } };
	const char *kind = "scan", *key = NULL;
	char buf[CTL_BUF];
	struct stat st;
	int c, fd, r;

	optind = 0; /* 0, not 1: glibc then re-reads the option string and permutes again */
	while ((c = getopt_long(argc, argv, "k:", opts, NULL)) != -1) {
		if (c == 'k')
			kind = optarg;
		else if (c == 'K')
			key = optarg;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "motcuactl: doc put needs exactly one FILE\n");
		return 2;
	}
	const char *path = argv[optind];
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "motcuactl: %s: %s\n", path, fd < 0 ? strerror(errno) : "not a regular file");
		return 1;
	}
	const char *base = strrchr(path, '/');
	json_t *req = json_pack("{s:s, s:I, s:s, s:s}", "cmd", "doc.put", "size", (json_int_t)st.st_size,
				"kind", kind, "name", base ? base + 1 : path);
	if (key)
		json_object_set_new(req, "intake_key", json_string(key));
	r = ctl_send(conn, req);
	json_decref(req);
	for (int64_t left = st.st_size; r == 0 && left > 0;) {
		ssize_t n = fs_read_full(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0) {
			fprintf(stderr, "motcuactl: %s changed while being sent\n", path);
			return 1;
		}
		/* The daemon may refuse early (too large, wrong format) and close: read its reason. */
		r = ctl_write(conn, buf, (size_t)n);
		left -= n;
	}
	close(fd);
	json_t *rep = NULL;
	int rr = ctl_recv(conn, CTL_REPLY_MAX, &rep);
	if (rr < 0) {
		fprintf(stderr, "motcuactl: no answer from motcuad: %s; the document may not be stored\n",
			strerror(-(r < 0 ? r : rr)));
		return 1;
	}
	if (!is_ok(rep))
		return print_error(rep);
	if (json_out)
		print_json(rep);
	else
		printf("%s\n", jstr(rep, "id"));
	json_decref(rep);
	return 0;
}

struct sink {
	int fd;
	EVP_MD_CTX *h;
};

static int cmd_doc_get(struct ctl_conn *conn, int argc, char **argv)
{
	const char *out = NULL, *id = NULL;
	char tmp[PATH_MAX] = "", buf[CTL_BUF], hex[65];
	unsigned char md[32];
	unsigned mdlen;
	int fd = STDOUT_FILENO, status = 1;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (!id)
			id = argv[i];
		else
			return 2;
	}
	if (!id) {
		fprintf(stderr, "motcuactl: doc get needs an ID\n");
		return 2;
	}
	if (json_out && !out) {
		fprintf(
		    stderr,
		    "motcuactl: doc get --json prints the document's metadata: give -o FILE for its bytes\n");
		return 2;
	}
	json_t *req = json_pack("{s:s, s:s}", "cmd", "doc.get", "id", id);
	json_t *rep = call(conn, req);
	json_decref(req);
	if (!is_ok(rep))
		return print_error(rep);
	int64_t left = jint(rep, "size");
	if (out) {
		if (snprintf(tmp, sizeof(tmp), "%s.part", out) >= (int)sizeof(tmp))
			return 1;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "motcuactl: %s: %s\n", tmp, strerror(errno));
			return 1;
		}
	}
	EVP_MD_CTX *h = EVP_MD_CTX_new();
	EVP_DigestInit_ex(h, EVP_sha256(), NULL);
	while (left > 0) {
		ssize_t n = ctl_read(conn, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
		if (n <= 0) {
			fprintf(stderr,
				"motcuactl: the connection ended before the whole document arrived\n");
			goto out;
		}
		EVP_DigestUpdate(h, buf, (size_t)n);
		if (fs_write_all(fd, buf, (size_t)n) < 0) {
			fprintf(stderr, "motcuactl: cannot write: %s\n", strerror(errno));
			goto out;
		}
		left -= n;
	}
	EVP_DigestFinal_ex(h, md, &mdlen);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	json_t *fin = NULL;
	if (ctl_recv(conn, CTL_REQUEST_MAX, &fin) < 0 || !is_ok(fin)) {
		if (fin)
			print_error(fin);
		else
			fprintf(stderr, "motcuactl: the document did not arrive whole\n");
		goto out;
	}
	json_decref(fin);
	if (strcmp(hex, jstr(rep, "sha256")) != 0) {
		fprintf(stderr, "motcuactl: the received bytes do not match the document's SHA-256\n");
		goto out;
	}
	if (out && (fsync(fd) < 0 || rename(tmp, out) < 0)) {
		fprintf(stderr, "motcuactl: cannot write %s: %s\n", out, strerror(errno));
		goto out;
	}
	tmp[0] = '\0';
	if (json_out) {
		json_object_del(rep, "ok");
		print_json(rep);
	}
	status = 0;
out:
	EVP_MD_CTX_free(h);
	if (out) {
		close(fd);
		if (tmp[0])
			unlink(tmp);
	}
	json_decref(rep);
	return status;
}

static int simple(struct ctl_conn *conn, json_t *req, void (*print)(json_t *rep))
{
	json_t *rep = call(conn, req);
	json_decref(req);
	if (!is_ok(rep))
		return print_error(rep);
	if (json_out)
		print_json(rep);
	else
		print(rep);
	json_decref(rep);
	return 0;
}

/* doc show: the fields as staff read them, the correction beside the recognised value. */
static void print_recognition(json_t *rep)
{
	json_t *res = json_object_get(rep, "result"), *cor = json_object_get(rep, "correction");
	json_t *rf = json_object_get(res, "fields"),
	       *cf = json_object_get(json_object_get(cor, "result"), "fields");
	const char *k;
	json_t *v;
	printf("document:   %s\nstate:      %s\ntype:       %s\nconfidence: %.2f\nreview:     %s\n",
	       jstr(rep, "doc_id"), jstr(rep, "state"), jstr(rep, "type"),
	       json_real_value(json_object_get(rep, "confidence")),
	       json_is_true(json_object_get(rep, "needs_review")) ? "NEEDS REVIEW" : "no");
	if (cor)
		printf("corrected:  by %s at %s\n", jstr(cor, "actor"), jstr(cor, "at"));
	json_object_foreach (rf, k, v) {
		json_t *c = json_object_get(cf, k);
		printf("  %-20s %s", k, json_is_string(v) ? json_string_value(v) : "null");
		if (cor && (!c || !json_equal(c, v)))
			printf("  -> %s", json_is_string(c) ? json_string_value(c) : "(removed)");
		printf("\n");
	}
	json_object_foreach (cf, k, v)
		if (!json_object_get(rf, k))
			printf("  %-20s (none)  -> %s\n", k,
			       json_is_string(v) ? json_string_value(v) : "null");
	json_t *id = json_object_get(rep, "identity");
	if (id) {
		json_t *diff = json_object_get(json_object_get(json_object_get(id, "result"), "checks"),
					       "differing_fields");
		size_t i;
		printf("identity:   front %s + back %s: %s", jstr(id, "front_doc"), jstr(id, "back_doc"),
		       json_is_true(json_object_get(id, "agree")) ? "the two sides agree"
								  : "the two sides DIFFER on");
		json_array_foreach (diff, i, v)
			printf(" %s", json_string_value(v));
		printf("%s\n", json_is_true(json_object_get(id, "needs_review")) ? " (NEEDS REVIEW)" : "");
	}
}

static void print_docs(json_t *rep)
{
	json_t *arr = json_object_get(rep, "documents"), *d;
	size_t i;
	char b[32];
	json_array_foreach (arr, i, d)
		printf("%s  %s  %-10s %-16s %9s  %s\n", jstr(d, "id"), jstr(d, "received_at"),
		       jstr(d, "kind"), jstr(d, "content_type"), human_bytes(jint(d, "size"), b, sizeof(b)),
		       jstr(d, "source"));
	if (i == 0)
		printf("no documents\n");
}

static void print_items(json_t *rep)
{
	json_t *arr = json_object_get(rep, "items"), *d;
	size_t i;
	char b[32];
	json_array_foreach (arr, i, d) {
		printf("%6lld  %-9s p%lld  %s/%lld  %-9s %9s  %s", (long long)jint(d, "id"), jstr(d, "state"),
		       (long long)jint(d, "priority"), jstr(d, "stream"), (long long)jint(d, "seq"),
		       jstr(d, "kind"), human_bytes(jint(d, "bytes"), b, sizeof(b)), jstr(d, "ref"));
		if (jstr(d, "reason")[0])
			printf("  reason: %s", jstr(d, "reason"));
		printf("\n");
	}
	if (i == 0)
		printf("the outbox holds nothing in that state\n");
}

static void print_rows(json_t *rep)
{
	json_t *arr = json_object_get(rep, "rows"), *d;
	size_t i;
	json_array_foreach (arr, i, d)
		printf("%6lld  %s  %-12s %-18s %s %s\n", (long long)jint(d, "seq"), jstr(d, "at"),
		       jstr(d, "actor"), jstr(d, "action"), jstr(d, "subject"), jstr(d, "detail"));
}

static const char *human_age(int64_t s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "unknown");
	else if (s < 120)
		snprintf(buf, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, size, "%lldm %llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, size, "%lldh %lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	return buf;
}

static const char *wall(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t <= 0 || !gmtime_r(&tt, &tm))
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static void print_uplink(json_t *u)
{
	char a[32], b[32], c[32];
	int64_t now = (int64_t)time(NULL);
	const char *link = jstr(u, "link");

	if (!json_is_true(json_object_get(u, "enabled"))) {
		printf("uplink:    disabled ([uplink] enabled = no); items stay queued\n");
	} else {
		printf("uplink:    %s, link %s since %s (%s)\n", jstr(u, "base_url"), link,
		       wall(jint(u, "link_since"), a, sizeof(a)),
		       human_age(jint(u, "link_since") ? now - jint(u, "link_since") : -1, b, sizeof(b)));
		if (jint(u, "last_answer"))
			printf("checked:   the LGSP last answered %s ago\n",
			       human_age(now - jint(u, "last_answer"), b, sizeof(b)));
		else
			printf("checked:   the LGSP has not answered since start\n");
		if (jstr(u, "reason")[0])
			printf("%s %s\n",
			       strcmp(link, "up") == 0 ? "last fault:" : "problem:  ", jstr(u, "reason"));
		if (json_is_true(json_object_get(u, "disk_full")))
			printf(
			    "DISK FULL: the store cannot write (%lld writes refused); the uplink still "
			    "sends what is stored and keeps %lld receipts in memory. Free space in the "
			    "state directory (old files, logs; see motcuactl status) so it can write them\n",
			    (long long)jint(u, "store_writes_refused"), (long long)jint(u, "unrecorded"));
	}
	printf("success:   last receipt %s%s%s; %lld delivered since start\n",
	       wall(jint(u, "last_success"), a, sizeof(a)), jint(u, "last_success") ? ", " : "",
	       jint(u, "last_success") ? human_age(now - jint(u, "last_success"), b, sizeof(b)) : "",
	       (long long)jint(u, "delivered_since_start"));
	printf("backlog:   %lld items (%lld queued, %lld sending), %s to send",
	       (long long)jint(u, "backlog_items"), (long long)jint(u, "queued"),
	       (long long)jint(u, "sending"), human_bytes(jint(u, "backlog_bytes"), a, sizeof(a)));
	if (jstr(u, "oldest_queued_at")[0])
		printf(", oldest queued %s (%s ago)\n", jstr(u, "oldest_queued_at"),
		       human_age(jint(u, "oldest_queued_age_s"), b, sizeof(b)));
	else
		printf("\n");
	if (jint(u, "rejected"))
		printf("rejected:  %lld items wait for staff (motcuactl outbox list --state rejected)\n",
		       (long long)jint(u, "rejected"));
	printf("rate:      %s/s now, %s/s over the last minute",
	       human_bytes(jint(u, "rate_bps"), a, sizeof(a)),
	       human_bytes(jint(u, "rate_avg_bps"), b, sizeof(b)));
	if (jint(u, "cap_bps"))
		printf(" (cap %s/s)", human_bytes(jint(u, "cap_bps"), c, sizeof(c)));
	printf("; %lld of %lld slots busy\n", (long long)jint(u, "active"),
	       (long long)jint(u, "concurrency"));
	printf("drain:     %s\n",
	       jint(u, "backlog_bytes") == 0 ? "nothing to send"
		   : strcmp(link, "up") != 0 ? "unknown (the link is not up)"
		   : jint(u, "eta_s") < 0    ? "unknown (nothing is moving)"
					     : human_age(jint(u, "eta_s"), a, sizeof(a)));
}

static void print_retry(json_t *rep)
{
	printf("outbox item %lld is queued again\n", (long long)jint(rep, "id"));
}

static void print_config(json_t *rep)
{
	fputs(jstr(rep, "config"), stdout);
}

static int cmd_audit_verify(struct ctl_conn *conn)
{
	json_t *req = json_pack("{s:s}", "cmd", "audit.verify");
	json_t *rep = call(conn, req);
	int status;
	json_decref(req);
	if (!is_ok(rep))
		return print_error(rep);
	status = json_is_true(json_object_get(rep, "valid")) ? 0 : 1;
	if (json_out)
		print_json(rep);
	else if (status == 0)
		printf("audit chain verified: %lld rows, no row edited, inserted or deleted\n",
		       (long long)jint(rep, "rows"));
	else
		printf("AUDIT CHAIN BROKEN at row %lld: %s\n", (long long)jint(rep, "first_bad_seq"),
		       jstr(rep, "problem"));
	json_decref(rep);
	return status;
}

static int list_opts(int argc, char **argv, json_t *req, const char *short_n)
{
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "--limit") == 0 || (short_n && strcmp(argv[i], short_n) == 0)) &&
		    i + 1 < argc) {
			char *end;
			long n = strtol(argv[++i], &end, 10);
			if (*end || n < 1) {
				fprintf(stderr, "motcuactl: %s needs a positive number\n", argv[i - 1]);
				return -1;
			}
			json_object_set_new(req, "limit", json_integer(n));
		} else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc) {
			json_object_set_new(req, "state", json_string(argv[++i]));
		} else {
			fprintf(stderr, "motcuactl: unexpected argument %s\n", argv[i]);
			return -1;
		}
	}
	return 0;
}

static void print_devices(json_t *rep)
{
	json_t *arr = json_object_get(rep, "devices"), *d;
	size_t i;
	char seen[32];
	printf("%-14s %-9s %-8s %-12s %-24s %-20s %s\n", "ID", "STATE", "PRESENCE", "KIND", "SERIAL", "MODEL",
	       "LAST SEEN");
	json_array_foreach (arr, i, d) {
		time_t t = (time_t)jint(d, "last_seen");
		struct tm tm;
		if (t > 0 && gmtime_r(&t, &tm))
			strftime(seen, sizeof(seen), "%Y-%m-%dT%H:%M:%SZ", &tm);
		else
			snprintf(seen, sizeof(seen), "-");
		printf("%-14s %-9s %-8s %-12s %-24s %-20s %s\n", jstr(d, "id"), jstr(d, "state"),
		       jstr(d, "presence"), jstr(d, "kind"), jstr(d, "serial"), jstr(d, "model"), seen);
	}
	if (i == 0)
		printf("no devices have said hello yet\n");
	json_t *br = json_object_get(rep, "broker");
	if (br && jint(br, "tls_port") > 0) {
		if (jstr(br, "ca_sha256")[0])
			printf(
			    "devices connect with TLS to port %lld; broker CA %s, SHA-256 fingerprint %s\n",
			    (long long)jint(br, "tls_port"), jstr(br, "ca_file"), jstr(br, "ca_sha256"));
		else
			printf("devices connect with TLS to port %lld; %s\n", (long long)jint(br, "tls_port"),
			       jstr(br, "problem"));
	}
	json_array_foreach (arr, i, d) {
		if (jint(d, "conflicts") > 0)
			printf(
			    "CONFLICT %s: %lld other device(s) said hello with serial %s; approve only with "
			    "the pairing code read on the device itself (--code)\n",
			    jstr(d, "id"), (long long)jint(d, "conflicts"), jstr(d, "serial"));
	}
}

static void print_device(json_t *rep)
{
	json_t *d = json_object_get(rep, "device");
	printf("%s (serial %s): %s\n", jstr(d, "id"), jstr(d, "serial"), jstr(d, "state"));
}

static void print_device_cmd(json_t *rep)
{
	printf("command %lld to %s: %s%s%s\n", (long long)jint(rep, "cmd_id"), jstr(rep, "device"),
	       jstr(rep, "state"), jstr(rep, "result")[0] ? ": " : "", jstr(rep, "result"));
}

/* devices list | approve ID --code CODE | reject|revoke ID [--reason TEXT] | cmd ID ... */
static int cmd_devices(struct ctl_conn *conn, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	json_t *req;
	if (strcmp(sub, "list") == 0 && argc == 2)
		return simple(conn, json_pack("{s:s}", "cmd", "devices.list"), print_devices);
	if ((strcmp(sub, "approve") == 0 || strcmp(sub, "reject") == 0 || strcmp(sub, "revoke") == 0) &&
	    argc >= 3) {
		char cmd[32];
		const char *reason = "", *code = "";
		for (int i = 3; i < argc; i++) {
			if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc) {
				reason = argv[++i];
			} else if (strcmp(argv[i], "--code") == 0 && i + 1 < argc &&
				   strcmp(sub, "approve") == 0) {
				code = argv[++i];
			} else {
				fprintf(stderr, "motcuactl: unexpected argument %s\n", argv[i]);
				return 2;
			}
		}
		snprintf(cmd, sizeof(cmd), "devices.%s", sub);
		req = json_pack("{s:s, s:s, s:s, s:s}", "cmd", cmd, "id", argv[2], "reason", reason, "code",
				code);
		return simple(conn, req, print_device);
	}
	if (strcmp(sub, "cmd") == 0 && (argc == 4 || argc == 5)) {
		json_t *body = NULL;
		if (argc == 5) {
			body = json_loads(argv[4], 0, NULL);
			if (!json_is_object(body)) {
				fprintf(
				    stderr,
				    "motcuactl: BODY must be a JSON object, e.g. '{\"text\":\"A-012\"}'\n");
				json_decref(body);
				return 2;
			}
		}
		req = json_pack("{s:s, s:s, s:s, s:o}", "cmd", "devices.cmd", "id", argv[2], "cmd_name",
				argv[3], "body", body ? body : json_object());
		json_t *rep = call(conn, req);
		json_decref(req);
		if (!is_ok(rep))
			return print_error(rep);
		int st = strcmp(jstr(rep, "state"), "done") == 0 ? 0 : 1;
		if (json_out)
			print_json(rep);
		else
			print_device_cmd(rep);
		json_decref(rep);
		return st;
	}
	fprintf(stderr,
		"motcuactl: devices list | approve ID --code CODE [--reason TEXT] | reject|revoke ID "
		"[--reason TEXT] | "
		"cmd ID print|display|ping [BODY]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },         { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },      { NULL, 0, NULL, 0 }
	};
	const char *sock = getenv("MOTCUA_SOCKET"), *cfgpath = NULL;
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	struct ctl_conn *conn;
	int c, fd = -1, r;

	log_init("motcuactl", LOG_LEVEL_WARN);
	signal(SIGPIPE, SIG_IGN); /* a refused upload closes early: read the reason instead */
	while ((c = getopt_long(argc, argv, "+s:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': sock = optarg; break;
		case 'c': cfgpath = optarg; break;
		case 'j': json_out = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("motcuactl %s\n", MOTCUA_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	/* Names and status texts come from kiosks and other clients: a terminal must never get
	 * their control bytes raw (escape sequences).  --json output escapes them itself. */
	if (!json_out && termsafe_wrap(&stdout, STDOUT_FILENO) < 0)
		return 1;
	if (termsafe_wrap(&stderr, STDERR_FILENO) < 0)
		return 1;
	if (cfgpath || !sock) {
		config_defaults(&cfg);
		if (cfgpath && config_load(cfgpath, &cfg, err) < 0) {
			fprintf(stderr, "motcuactl: %s\n", err);
			return 1;
		}
		if (!sock || cfgpath)
			sock = cfg.control_socket;
	}
	if (strcmp(argv[optind], "backup") == 0 || strcmp(argv[optind], "restore") == 0) {
		/* These read the state directory themselves: they need the configuration. */
		if (!cfgpath) {
			config_defaults(&cfg);
			if (access("/etc/motcua/motcua.conf", R_OK) == 0 &&
			    config_load("/etc/motcua/motcua.conf", &cfg, err) < 0) {
				fprintf(stderr, "motcuactl: %s\n", err);
				return 1;
			}
		}
		return ctl_backup_main(&cfg, sock, json_out, argc - optind, argv + optind);
	}
	if (strcmp(argv[optind], "recognize") == 0)
		return ctl_recognize_main(argc - optind, argv + optind);
	/* Copies, seals and keys connect only when they need motcuad (verification is offline). */
	if (strcmp(argv[optind], "copy") == 0 || strcmp(argv[optind], "seal") == 0 ||
	    strcmp(argv[optind], "keys") == 0)
		return ctl_sign_main(sock, json_out, argc - optind, argv + optind);
	if (strcmp(argv[optind], "chip") == 0)
		return ctl_chip_main(sock, json_out, argc - optind, argv + optind);
	if (strcmp(argv[optind], "dossier") == 0 || strcmp(argv[optind], "ask") == 0 ||
	    strcmp(argv[optind], "feedback") == 0)
		return ctl_dossier_main(sock, json_out, argc - optind, argv + optind);
	r = connect_to(sock, &fd);
	if (r < 0) {
		fprintf(stderr,
			"motcuactl: cannot reach motcuad at %s: %s (is it running? try "
			"'systemctl status motcuad')\n",
			sock, strerror(-r));
		return 1;
	}
	conn = malloc(sizeof(*conn));
	if (!conn)
		return 1;
	ctl_conn_init(conn, fd);

	char **av = argv + optind;
	int ac = argc - optind;
	const char *sub = ac > 1 ? av[1] : "";
	json_t *req;
	r = 2;
	if (strcmp(av[0], "status") == 0 && ac == 1) {
		r = json_out ? simple(conn, json_pack("{s:s}", "cmd", "status"), print_json)
			     : simple(conn, json_pack("{s:s}", "cmd", "status"), print_status);
	} else if (strcmp(av[0], "doc") == 0 && strcmp(sub, "put") == 0) {
		r = cmd_doc_put(conn, ac - 1, av + 1);
	} else if (strcmp(av[0], "doc") == 0 && strcmp(sub, "get") == 0) {
		r = cmd_doc_get(conn, ac - 1, av + 1);
	} else if (strcmp(av[0], "doc") == 0 && strcmp(sub, "show") == 0 && ac == 3) {
		r = simple(conn, json_pack("{s:s, s:s}", "cmd", "recognize.show", "id", av[2]),
			   print_recognition);
	} else if (strcmp(av[0], "doc") == 0 && strcmp(sub, "list") == 0) {
		req = json_pack("{s:s}", "cmd", "doc.list");
		r = list_opts(ac - 1, av + 1, req, NULL) < 0 ? 2 : simple(conn, req, print_docs);
	} else if (strcmp(av[0], "outbox") == 0 && strcmp(sub, "list") == 0) {
		req = json_pack("{s:s}", "cmd", "outbox.list");
		r = list_opts(ac - 1, av + 1, req, NULL) < 0 ? 2 : simple(conn, req, print_items);
	} else if (strcmp(av[0], "audit") == 0 && strcmp(sub, "verify") == 0 && ac == 2) {
		r = cmd_audit_verify(conn);
	} else if (strcmp(av[0], "audit") == 0 && strcmp(sub, "tail") == 0) {
		req = json_pack("{s:s, s:i}", "cmd", "audit.tail", "limit", 20);
		r = list_opts(ac - 1, av + 1, req, "-n") < 0 ? 2 : simple(conn, req, print_rows);
	} else if (strcmp(av[0], "uplink") == 0 && strcmp(sub, "status") == 0 && ac == 2) {
		r = simple(conn, json_pack("{s:s}", "cmd", "uplink.status"),
			   json_out ? print_json : print_uplink);
	} else if (strcmp(av[0], "outbox") == 0 && strcmp(sub, "retry") == 0 && ac == 3) {
		char *end;
		long long id = strtoll(av[2], &end, 10);
		if (*end || id < 1) {
			fprintf(stderr, "motcuactl: outbox retry needs an item number (see outbox list)\n");
		} else {
			req = json_pack("{s:s, s:I}", "cmd", "outbox.retry", "id", (json_int_t)id);
			r = simple(conn, req, print_retry);
		}
	} else if (strcmp(av[0], "queue") == 0 || strcmp(av[0], "scan") == 0 || strcmp(av[0], "usb") == 0) {
		r = ctl_local_main(conn, json_out, ac, av);
	} else if (strcmp(av[0], "users") == 0) {
		r = ctl_users_main(conn, json_out, ac, av);
	} else if (strcmp(av[0], "store") == 0) {
		r = ctl_store_main(conn, json_out, ac, av);
	} else if (strcmp(av[0], "devices") == 0) {
		r = cmd_devices(conn, ac, av);
	} else if (strcmp(av[0], "config") == 0 && strcmp(sub, "show") == 0 && ac == 2) {
		r = simple(conn, json_pack("{s:s}", "cmd", "config.show"), print_config);
	} else {
		fprintf(stderr, "motcuactl: unknown command; see motcuactl --help\n");
	}
	close(fd);
	free(conn);
	return r;
}
