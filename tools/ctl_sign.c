/* motcuactl copy/seal/keys: issuing through motcuad, verifying offline against a trust list
 * (gateway/sign/verify.h), and making the signing key with its TEST certificate or CSR. */
#include "tools/ctl_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "gateway/ctlproto.h"
#include "gateway/sign/verify.h"

#define TEST_O "TEST ONLY - NOT VALID FOR CERTIFIED COPIES"

void ctl_sign_usage(FILE *f)
{
	fprintf(
	    f,
	    "  copy issue DOC_ID --official NAME\n"
	    "                                 certify a stored JPEG scan: prints the signed PDF's\n"
	    "                                 document id (get it with doc get), its number and seal\n"
	    "  copy show YEAR NUMBER          a certified copy by its number (SCT/BS book)\n"
	    "  copy verify FILE.pdf [--trust PEM]\n"
	    "                                 PAdES signature, certificate, seal and embedded scan:\n"
	    "                                 VALID / INVALID / UNTRUSTED and why (exit 0 only if VALID)\n"
	    "  seal verify STRING [--trust PEM]\n"
	    "                                 a QR seal (VNCC1:...) alone, offline\n"
	    "  keys init [--test | --csr SUBJECT] [--dir DIR] [--user USER]\n"
	    "                                 make the signing key (P-256) with a TEST self-signed\n"
	    "                                 certificate, or with a CSR for the commune's real one\n"
	    "  keys trustlist                 the issuer certificates verifiers need (PEM)\n"
	    "  (without --trust, verification asks motcuad for its trust list)\n");
}

static int connect_sock(const char *path, struct ctl_conn **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!path || strlen(path) >= sizeof(sa.sun_path))
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

/* One request, one reply (NULL and a message on failure). */
static json_t *ask(const char *sock, json_t *req)
{
	struct ctl_conn *c = NULL;
	json_t *rep = NULL;
	int r = connect_sock(sock, &c);
	if (r < 0) {
		fprintf(stderr, "motcuactl: cannot reach motcuad at %s: %s\n", sock, strerror(-r));
		json_decref(req);
		return NULL;
	}
	r = ctl_send(c, req);
	if (r == 0)
		r = ctl_recv(c, CTL_REPLY_MAX, &rep);
	json_decref(req);
	close(c->fd);
	free(c);
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

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static void print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
}

static int copy_issue(const char *sock, int json_out, int argc, char **argv)
{
	const char *id = NULL, *official = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--official") == 0 && i + 1 < argc)
			official = argv[++i];
		else if (!id)
			id = argv[i];
		else
			return 2;
	}
	if (!id || !official) {
		fprintf(stderr, "motcuactl: copy issue needs DOC_ID and --official NAME\n");
		return 2;
	}
	json_t *rep =
	    ask(sock, json_pack("{s:s, s:s, s:s}", "cmd", "copy.issue", "doc_id", id, "official", official));
	if (!rep)
		return 1;
	if (json_out) {
		print_json(rep);
	} else {
		printf("%s\n", jstr(rep, "doc_id"));
		printf("number: %s\n", jstr(rep, "number_text"));
		printf("seal:   %s\n", jstr(rep, "seal"));
	}
	json_decref(rep);
	return 0;
}

static int copy_show(const char *sock, int json_out, int argc, char **argv)
{
	char *e1, *e2;
	if (argc != 4)
		return 2;
	long y = strtol(argv[2], &e1, 10), n = strtol(argv[3], &e2, 10);
	if (*e1 || *e2 || y < 1 || n < 1) {
		fprintf(stderr, "motcuactl: copy show needs YEAR and NUMBER\n");
		return 2;
	}
	json_t *rep =
	    ask(sock, json_pack("{s:s, s:i, s:i}", "cmd", "copy.show", "year", (int)y, "number", (int)n));
	if (!rep)
		return 1;
	if (json_out)
		print_json(rep);
	else
		printf("copy %lld, quyển số %02lld/%lld-SCT/BS: %s\n  original %s\n  document %s\n  official "
		       "%s\n"
		       "  issued   %s\n  seal     %s%s%s\n",
		       (long long)json_integer_value(json_object_get(rep, "number")),
		       (long long)json_integer_value(json_object_get(rep, "book")),
		       (long long)json_integer_value(json_object_get(rep, "year")), jstr(rep, "state"),
		       jstr(rep, "original_id"), jstr(rep, "doc_id"), jstr(rep, "official"),
		       jstr(rep, "issued_at"), jstr(rep, "seal"),
		       jstr(rep, "reason")[0] ? "\n  reason   " : "", jstr(rep, "reason"));
	json_decref(rep);
	return 0;
}

static int load_trust(const char *sock, const char *file, struct trustlist **ret)
{
	int r;
	if (file) {
		r = trustlist_load_file(file, ret);
		if (r < 0)
			fprintf(stderr, "motcuactl: %s holds no certificate we can read (%s)\n", file,
				strerror(-r));
		return r;
	}
	json_t *rep = ask(sock, json_pack("{s:s}", "cmd", "keys.trustlist"));
	if (!rep) {
		fprintf(stderr,
			"motcuactl: without motcuad, give the issuers' certificates with --trust FILE\n");
		return -ENOKEY;
	}
	r = trustlist_load(jstr(rep, "pem"), strlen(jstr(rep, "pem")), ret);
	json_decref(rep);
	return r;
}

static const char *verdict_name(enum verdict v)
{
	return v == VERDICT_VALID ? "VALID" : v == VERDICT_UNTRUSTED ? "UNTRUSTED" : "INVALID";
}

static int print_verdict(const struct copy_verdict *v, int json_out, const char *what)
{
	char when[64] = "", sha[65] = "";
	if (v->has_seal) {
		time_t t = (time_t)v->seal.time;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		for (int i = 0; i < 32; i++)
			snprintf(sha + 2 * i, 3, "%02x", v->seal.sha256[i]);
	}
	if (json_out) {
		json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:b}", "verdict", verdict_name(v->verdict),
				      "reason", v->reason, "valid", v->verdict == VERDICT_VALID, "signer",
				      v->signer, "test_key", v->test_key);
		if (j && v->has_seal)
			json_object_set_new(
			    j, "seal",
			    json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:s}", "issuer", v->seal.issuer, "time",
				      when, "year", (json_int_t)v->seal.year, "book",
				      (json_int_t)v->seal.book, "number", (json_int_t)v->seal.number,
				      "number_text", v->number_text, "original_sha256", sha));
		print_json(j);
		json_decref(j);
	} else if (v->verdict == VERDICT_VALID) {
		printf("VALID: %s: certified copy %s, issuer %s, signed %s by %s; original scan SHA-256 %s\n",
		       what, v->number_text, v->seal.issuer, when, v->signer, sha);
		if (v->test_key)
			printf("WARNING: signed with a TEST key: this is not a real certified copy\n");
	} else {
		printf("%s: %s: %s\n", verdict_name(v->verdict), what, v->reason);
	}
	return v->verdict == VERDICT_VALID ? 0 : 1;
}

static const char *trust_opt(int argc, char **argv, const char **ret_arg)
{
	const char *trust = NULL;
	*ret_arg = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--trust") == 0 && i + 1 < argc)
			trust = argv[++i];
		else if (!*ret_arg)
			*ret_arg = argv[i];
		else
			*ret_arg = NULL;
	}
	return trust;
}

static int copy_verify(const char *sock, int json_out, int argc, char **argv)
{
	const char *path;
	const char *trust = trust_opt(argc, argv, &path);
	struct trustlist *t = NULL;
	struct copy_verdict v;
	struct stat st;
	if (!path) {
		fprintf(stderr, "motcuactl: copy verify needs FILE.pdf\n");
		return 2;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 30)) {
		fprintf(stderr, "motcuactl: %s: %s\n", path, fd < 0 ? strerror(errno) : "not a regular file");
		return 1;
	}
	unsigned char *pdf = malloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (pdf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, pdf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!pdf || got != (size_t)st.st_size) {
		fprintf(stderr, "motcuactl: cannot read %s\n", path);
		free(pdf);
		return 1;
	}
	if (load_trust(sock, trust, &t) < 0) {
		free(pdf);
		return 1;
	}
	verify_copy_pdf(t, pdf, got, &v);
	trustlist_free(t);
	free(pdf);
	return print_verdict(&v, json_out, path);
}

static int seal_verify(const char *sock, int json_out, int argc, char **argv)
{
	const char *text;
	const char *trust = trust_opt(argc, argv, &text);
	struct trustlist *t = NULL;
	struct copy_verdict v;
	if (!text) {
		fprintf(stderr, "motcuactl: seal verify needs the seal text (VNCC1:...)\n");
		return 2;
	}
	if (load_trust(sock, trust, &t) < 0)
		return 1;
	verify_seal(t, text, strlen(text), &v);
	trustlist_free(t);
	return print_verdict(&v, json_out, "seal");
}

static int keys_trustlist(const char *sock, int json_out)
{
	json_t *rep = ask(sock, json_pack("{s:s}", "cmd", "keys.trustlist"));
	if (!rep)
		return 1;
	if (json_out)
		print_json(rep);
	else
		fputs(jstr(rep, "pem"), stdout);
	json_decref(rep);
	return 0;
}

/* Writes PEM made by write() to path, created 0600 (never over an existing file). */
static int write_new(const char *path, mode_t mode, uid_t uid, gid_t gid, int (*fn)(FILE *f, void *obj),
		     void *obj)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, "motcuactl: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (never replaced: move it away first)" : "");
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f || fn(f, obj) != 1 || fflush(f) != 0 || fsync(fd) < 0) {
		fprintf(stderr, "motcuactl: cannot write %s\n", path);
		if (f)
			fclose(f);
		unlink(path);
		return -1;
	}
	if (uid != (uid_t)-1 && fchown(fd, uid, gid) < 0) {
		fprintf(stderr, "motcuactl: cannot give %s to its user: %s\n", path, strerror(errno));
		fclose(f);
		unlink(path);
		return -1;
	}
	fchmod(fd, mode);
	fclose(f);
	return 0;
}

static int pem_key(FILE *f, void *k)
{
	return PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
}
static int pem_cert(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}
static int pem_req(FILE *f, void *q)
{
	return PEM_write_X509_REQ(f, q);
}

static int add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok;
}

static int keys_init(int argc, char **argv)
{
	const char *dir = "/etc/motcua/keys", *user = NULL, *csr_subject = NULL;
	int test = 0;
	char kpath[512], opath[512];
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int status = 1;

	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--test") == 0)
			test = 1;
		else if (strcmp(argv[i], "--csr") == 0 && i + 1 < argc)
			csr_subject = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc)
			user = argv[++i];
		else
			return 2;
	}
	if (test == !!csr_subject) {
		fprintf(stderr,
			"motcuactl: keys init needs --test (a TEST self-signed certificate) or "
			"--csr SUBJECT (e.g. \"/C=VN/O=UBND Xa X/CN=Xa X\")\n");
		return 2;
	}
	if (user) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			fprintf(stderr, "motcuactl: no user %s\n", user);
			return 1;
		}
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	snprintf(kpath, sizeof(kpath), "%s/%s.key", dir, test ? "test-signing" : "signing");
	snprintf(opath, sizeof(opath), "%s/%s", dir, test ? "test-signing.crt" : "signing.csr");
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = NULL;
	X509_REQ *q = NULL;
	X509_NAME *name = NULL;
	if (!k)
		goto out;
	if (test) {
		x = X509_new();
		name = X509_NAME_new();
		if (!x || !name ||
		    !X509_NAME_add_entry_by_txt(name, "C", MBSTRING_UTF8, (const unsigned char *)"VN", -1, -1,
						0) ||
		    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)TEST_O, -1,
						-1, 0) ||
		    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
						(const unsigned char *)"TEST motcua signing key", -1, -1, 0))
			goto out;
		ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
		X509_set_version(x, 2);
		X509_set_subject_name(x, name);
		X509_set_issuer_name(x, name);
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 825L * 24 * 3600);
		X509_set_pubkey(x, k);
		if (!add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
		    !add_ext(x, NID_key_usage, "critical,digitalSignature,nonRepudiation") ||
		    !add_ext(x, NID_subject_key_identifier, "hash") || !X509_sign(x, k, EVP_sha256()))
			goto out;
	} else {
		q = X509_REQ_new();
		name = X509_NAME_new();
		/* "/C=VN/O=.../CN=..." */
		char *s = strdup(csr_subject), *save = NULL;
		for (char *part = strtok_r(s, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
			char *eq = strchr(part, '=');
			if (!eq ||
			    !X509_NAME_add_entry_by_txt(name, (*eq = '\0', part), MBSTRING_UTF8,
							(const unsigned char *)eq + 1, -1, -1, 0)) {
				fprintf(stderr, "motcuactl: bad subject part %s\n", part);
				free(s);
				goto out;
			}
		}
		free(s);
		if (!q || X509_NAME_entry_count(name) == 0 || !X509_REQ_set_subject_name(q, name) ||
		    !X509_REQ_set_pubkey(q, k) || !X509_REQ_sign(q, k, EVP_sha256()))
			goto out;
	}
	if (write_new(kpath, 0600, uid, gid, pem_key, k) < 0)
		goto out;
	if (write_new(opath, 0644, uid, gid, test ? pem_cert : pem_req, test ? (void *)x : (void *)q) < 0) {
		unlink(kpath);
		goto out;
	}
	printf("%s\n%s\n", kpath, opath);
	if (test)
		printf("made a TEST key: copies signed with it say \"MẪU THỬ\" and have no legal value\n");
	else
		printf("send %s to the certification authority; put the certificate it returns in "
		       "[sign] cert and this key in [sign] key\n",
		       opath);
	status = 0;
out:
	if (status)
		fprintf(stderr, "motcuactl: keys init failed\n");
	X509_NAME_free(name);
	X509_free(x);
	X509_REQ_free(q);
	EVP_PKEY_free(k);
	return status;
}

int ctl_sign_main(const char *sock, int json_out, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(argv[0], "copy") == 0 && strcmp(sub, "issue") == 0)
		return copy_issue(sock, json_out, argc, argv);
	if (strcmp(argv[0], "copy") == 0 && strcmp(sub, "show") == 0)
		return copy_show(sock, json_out, argc, argv);
	if (strcmp(argv[0], "copy") == 0 && strcmp(sub, "verify") == 0)
		return copy_verify(sock, json_out, argc, argv);
	if (strcmp(argv[0], "seal") == 0 && strcmp(sub, "verify") == 0)
		return seal_verify(sock, json_out, argc, argv);
	if (strcmp(argv[0], "keys") == 0 && strcmp(sub, "init") == 0)
		return keys_init(argc, argv);
	if (strcmp(argv[0], "keys") == 0 && strcmp(sub, "trustlist") == 0 && argc == 2)
		return keys_trustlist(sock, json_out);
	fprintf(stderr, "motcuactl: unknown command; see motcuactl --help\n");
	return 2;
}
