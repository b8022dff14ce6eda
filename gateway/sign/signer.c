/* motcua-signer: the only holder of the commune signing key (a PEM file readable by its user
 * alone, or a key on a PKCS#11 token).  Started by motcuad with one end of a socketpair on
 * fd 3, it says hello with its certificate, then signs only what it can check is a seal's
 * Sig_structure or a copy's PAdES signed attributes naming its own certificate (signproto.h,
 * signreq.c), hashing them itself; it refuses anything else and exits on a malformed frame.
 * Each signature is first appended to its own hash-chained record (--record).  No network, a
 * seccomp allow-list, an empty (deleted) working directory, no core dumps, no ptrace, tight
 * rlimits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/sign/signproto.h"
#include "gateway/sign/signreq.h"

#define SOCK_FD 3

static void die(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "motcua-signer: %s\n", msg);
	_exit(status);
}

static void openssl_die(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	ERR_error_string_n(e, buf, sizeof(buf));
	die(1, "%s: %s", what, e ? buf : "unknown error");
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	/* Only async-signal-safe calls: the number goes out in decimal by hand. */
	char msg[64] = "motcua-signer: forbidden system call ";
	size_t n = strlen(msg);
	int nr = si->si_syscall, d = 1000;
	(void)sig;
	(void)uc;
	for (; d; d /= 10)
		if (nr >= d || d == 1)
			msg[n++] = (char)('0' + nr / d % 10);
	msg[n++] = '\n';
	if (write(2, msg, n) < 0)
		_exit(159);
	_exit(159);
}

/* The record of what was signed: one line per signature, appended (O_APPEND) and synced
 * before the signature leaves, each line's hash covering the previous line's hash:
 *   seq=N time=YYYY-MM-DDTHH:MM:SSZ kind=seal|pades digest=HEX copy=Y/B/N|- prev=HEX hash=HEX
 * hash = SHA-256 of the line up to " hash=". */
static int record_fd = -1;
static char record_prev[65];
static unsigned long long record_seq;

static void hexof(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

/* Opens (creating) the record, which must be a regular file of ours that nobody else can
 * write, and reads the chain's tail (seq and hash of the last line). */
static void record_open(const char *path)
{
	struct stat st;
	char tail[1024];
	record_fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (record_fd < 0)
		die(1, "cannot open the signature record %s: %s", path, strerror(errno));
	if (fstat(record_fd, &st) < 0 || !S_ISREG(st.st_mode))
		die(1, "the signature record %s is not a regular file", path);
	if (st.st_uid != geteuid() || (st.st_mode & 022))
		die(1,
		    "the signature record %s must belong to the signer's uid %u and be writable by it alone",
		    path, geteuid());
	/* glibc reads the time zone files on the first gmtime_r: now, not under seccomp. */
	time_t t0 = 0;
	struct tm tm0;
	gmtime_r(&t0, &tm0);
	memset(record_prev, '0', 64);
	record_prev[64] = 0;
	if (st.st_size == 0)
		return;
	off_t from = st.st_size > (off_t)sizeof(tail) - 1 ? st.st_size - (off_t)sizeof(tail) + 1 : 0;
	ssize_t n = pread(record_fd, tail, sizeof(tail) - 1, from);
	if (n <= 0 || tail[n - 1] != '\n')
		die(1,
		    "the signature record %s does not end with a whole line; check it (it may have been cut)",
		    path);
	tail[n - 1] = 0;
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	char *h = strstr(line, " hash=");
	if (sscanf(line, "seq=%llu ", &record_seq) != 1 || !h || strlen(h + 6) != 64)
		die(1, "the last line of the signature record %s is not a record line; check it", path);
	memcpy(record_prev, h + 6, 64);
}

/* Appends the line for one signature; 0, or -1 when it is not on disk (then nothing is signed). */
static int record_append(const struct signreq_info *in)
{
	char line[512], dh[65], copy[64], when[64];
	unsigned char md[32];
	struct tm tm;
	time_t now = time(NULL);
	gmtime_r(&now, &tm);
	/* By hand: glibc's strftime reads /etc/localtime, which the sandbox forbids. */
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	hexof(in->digest, 32, dh);
	if (in->kind == SIGN_KIND_SEAL)
		snprintf(copy, sizeof(copy), "%llu/%llu/%llu", (unsigned long long)in->year,
			 (unsigned long long)in->book, (unsigned long long)in->number);
	else
		snprintf(copy, sizeof(copy), "-");
	int n =
	    snprintf(line, sizeof(line), "seq=%llu time=%s kind=%s digest=%s copy=%s prev=%s", record_seq + 1,
		     when, in->kind == SIGN_KIND_SEAL ? "seal" : "pades", dh, copy, record_prev);
	if (n < 0 || (size_t)n + 6 + 64 + 2 > sizeof(line))
		return -1;
	if (EVP_Digest(line, (size_t)n, md, NULL, EVP_sha256(), NULL) != 1)
		return -1;
	char hh[65];
	hexof(md, 32, hh);
	n += snprintf(line + n, sizeof(line) - (size_t)n, " hash=%s\n", hh);
	if (write(record_fd, line, (size_t)n) != n || fdatasync(record_fd) < 0)
		return -1;
	record_seq++;
	memcpy(record_prev, hh, 65);
	return 0;
}

/* Allow-list: what signing a digest and talking over the socket need, nothing that opens a
 * file (file key) or a network connection (either key). */
static void sandbox(int pkcs11)
{
	static const int base[] = {
		SCMP_SYS(read),   SCMP_SYS(exit),           SCMP_SYS(exit_group), SCMP_SYS(brk),
		SCMP_SYS(mmap),   SCMP_SYS(munmap),         SCMP_SYS(mremap),     SCMP_SYS(madvise),
		SCMP_SYS(futex),  SCMP_SYS(rt_sigreturn),   SCMP_SYS(getrandom),  SCMP_SYS(clock_gettime),
		SCMP_SYS(close),  SCMP_SYS(fstat),          SCMP_SYS(newfstatat), SCMP_SYS(getpid),
		SCMP_SYS(gettid), SCMP_SYS(rt_sigprocmask), SCMP_SYS(mprotect),   SCMP_SYS(tgkill),
		SCMP_SYS(getuid), SCMP_SYS(geteuid),
	};
	/* A PKCS#11 module (SoftHSM2) re-reads its token files and takes locks while signing. */
	static const int token[] = {
		SCMP_SYS(openat),   SCMP_SYS(open),        SCMP_SYS(lseek),     SCMP_SYS(fcntl),
		SCMP_SYS(flock),    SCMP_SYS(stat),        SCMP_SYS(lstat),     SCMP_SYS(statx),
		SCMP_SYS(access),   SCMP_SYS(getdents64),  SCMP_SYS(pread64),   SCMP_SYS(pwrite64),
		SCMP_SYS(fsync),    SCMP_SYS(fdatasync),   SCMP_SYS(ftruncate), SCMP_SYS(rename),
		SCMP_SYS(unlink),   SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
		SCMP_SYS(readlink),
	};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSYS, &sa, NULL);

	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		die(1, "seccomp_init failed");
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, base[i], 0) < 0)
			die(1, "seccomp rule %zu", i);
	/* Writing: to motcuad's socket, our stderr and our record only. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, SOCK_FD)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 2)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, record_fd)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(fdatasync), 1, SCMP_A0(SCMP_CMP_EQ, record_fd)) <
		0)
		die(1, "seccomp write rule");
	if (pkcs11)
		for (size_t i = 0; i < sizeof(token) / sizeof(token[0]); i++)
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, token[i], 0) < 0)
				die(1, "seccomp token rule %zu", i);
	/* SIGSYS must stay deliverable so that a forbidden call is reported, not hidden. */
	if (seccomp_load(ctx) < 0)
		die(1, "cannot load the seccomp filter");
	seccomp_release(ctx);
}

static void limits(void)
{
	struct rlimit zero = { 0, 0 }, files = { 64, 64 };
	setrlimit(RLIMIT_CORE, &zero);
	setrlimit(RLIMIT_NPROC, &zero);
	setrlimit(RLIMIT_NOFILE, &files);
#if !defined(__SANITIZE_ADDRESS__)
	struct rlimit mem = { 256u << 20, 256u << 20 };
	setrlimit(RLIMIT_AS, &mem);
#endif
}

/* Working directory: a fresh directory removed at once, so nothing can be created in it. */
static void empty_cwd(void)
{
	char dir[] = "/tmp/motcua-signer.XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) < 0 || rmdir(dir) < 0)
		die(1, "cannot set up an empty working directory: %s", strerror(errno));
}

static EVP_PKEY *load_file_key(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		die(1, "cannot open the key %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die(1, "%s is not a regular file", path);
	if (st.st_mode & 077)
		die(1, "the key %s is readable by others (mode %03o); chmod 600 it", path, st.st_mode & 0777);
	if (st.st_uid != geteuid())
		die(1, "the key %s belongs to uid %u, not to the signer's uid %u", path, st.st_uid,
		    geteuid());
	FILE *f = fdopen(fd, "r");
	if (!f)
		die(1, "fdopen: %s", strerror(errno));
	EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!k)
		openssl_die("cannot read the private key");
	return k;
}

/* "pkcs11:token=LABEL;object=LABEL" (a subset of RFC 7512). */
static void uri_attr(const char *uri, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name);
	const char *p = uri + strlen("pkcs11:");
	out[0] = '\0';
	while (*p) {
		size_t n = strcspn(p, ";");
		if (n > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			snprintf(out, size, "%.*s", (int)(n - nl - 1), p + nl + 1);
			return;
		}
		p += n;
		if (*p == ';')
			p++;
	}
}

static PKCS11_CTX *p11;
static PKCS11_SLOT *p11_slots;
static unsigned int p11_nslots;

static EVP_PKEY *load_token_key(const char *uri, const char *module, const char *pin_file)
{
	char token[128], object[128], pin[128] = "";
	PKCS11_KEY *keys;
	unsigned int nkeys;

	uri_attr(uri, "token", token, sizeof(token));
	uri_attr(uri, "object", object, sizeof(object));
	if (!token[0] || !object[0])
		die(1, "a PKCS#11 key is named pkcs11:token=LABEL;object=LABEL, not %s", uri);
	if (!module || !module[0])
		die(1, "a PKCS#11 key needs --module (the token's PKCS#11 library)");
	if (pin_file && pin_file[0]) {
		FILE *f = fopen(pin_file, "re");
		if (!f || !fgets(pin, sizeof(pin), f))
			die(1, "cannot read the PIN file %s", pin_file);
		fclose(f);
		pin[strcspn(pin, "\r\n")] = '\0';
	}
	p11 = PKCS11_CTX_new();
	if (!p11 || PKCS11_CTX_load(p11, module) < 0)
		die(1, "cannot load the PKCS#11 module %s", module);
	if (PKCS11_enumerate_slots(p11, &p11_slots, &p11_nslots) < 0)
		die(1, "cannot list the PKCS#11 slots");
	PKCS11_SLOT *slot = NULL;
	for (unsigned i = 0; i < p11_nslots; i++)
		if (p11_slots[i].token && strcmp(p11_slots[i].token->label, token) == 0)
			slot = &p11_slots[i];
	if (!slot)
		die(1, "no PKCS#11 token labelled %s", token);
	if (PKCS11_open_session(slot, 0) < 0 || (pin[0] && PKCS11_login(slot, 0, pin) < 0))
		die(1, "cannot log in to token %s (wrong PIN?)", token);
	OPENSSL_cleanse(pin, sizeof(pin));
	if (PKCS11_enumerate_keys(slot->token, &keys, &nkeys) < 0)
		die(1, "cannot list the keys of token %s", token);
	for (unsigned i = 0; i < nkeys; i++)
		if (keys[i].label && strcmp(keys[i].label, object) == 0) {
			EVP_PKEY *k = PKCS11_get_private_key(&keys[i]);
			if (!k)
				die(1, "cannot use key %s of token %s", object, token);
			return k;
		}
	die(1, "no private key labelled %s on token %s", object, token);
}

static int write_all(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len) {
		ssize_t n = write(SOCK_FD, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes: 1 done, 0 clean end before the first byte, exits on a torn frame. */
static int read_frame(unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(SOCK_FD, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && got == 0)
			return 0;
		if (n <= 0)
			die(3, "request cut short after %zu of %zu bytes; exiting", got, len);
		got += (size_t)n;
	}
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },    { "cert", required_argument, NULL, 'c' },
		{ "module", required_argument, NULL, 'm' }, { "pin-file", required_argument, NULL, 'p' },
		{ "record", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 }
	};
	const char *key = NULL, *cert = NULL, *module = NULL, *pin_file = NULL, *record = NULL;
	unsigned char req[SIGN_REQ_HEAD], data[SIGN_DATA_MAX], reply[SIGN_REPLY_HEAD + SIGN_SIG_MAX];
	unsigned char *der = NULL, cert_sha256[32];
	struct stat st;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k': key = optarg; break;
		case 'c': cert = optarg; break;
		case 'm': module = optarg; break;
		case 'p': pin_file = optarg; break;
		case 'r': record = optarg; break;
		default:
			die(2,
			    "usage: motcua-signer --key PATH|pkcs11:token=T;object=O --cert PATH --record "
			    "FILE");
		}
	}
	if (!key || !cert || !record || !record[0] || optind != argc)
		die(2,
		    "usage: motcua-signer --key PATH|pkcs11:token=T;object=O --cert PATH --record FILE "
		    "[--module LIB --pin-file PATH] (socket on fd 3)");
	if (fstat(SOCK_FD, &st) < 0 || !S_ISSOCK(st.st_mode))
		die(2, "fd 3 is not motcuad's socket; motcua-signer is started by motcuad only");
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* no ptrace or /proc/pid/mem, even for our uid */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	limits();

	FILE *cf = fopen(cert, "re");
	X509 *x = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	if (cf)
		fclose(cf);
	if (!x)
		die(1, "cannot read the certificate %s", cert);
	int pkcs11 = strncmp(key, "pkcs11:", 7) == 0;
	EVP_PKEY *pk = pkcs11 ? load_token_key(key, module, pin_file) : load_file_key(key);
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_bits(pk) != 256)
		die(1, "the signing key must be EC P-256 (ES256 seals)");
	if (X509_check_private_key(x, pk) != 1)
		die(1, "the key does not belong to the certificate %s", cert);
	int dl = i2d_X509(x, &der);
	if (dl <= 0 || dl > SIGN_CERT_MAX)
		die(1, "the certificate is larger than %d bytes", SIGN_CERT_MAX);
	X509_free(x);
	if (EVP_Digest(der, (size_t)dl, cert_sha256, NULL, EVP_sha256(), NULL) != 1)
		openssl_die("cannot hash the certificate");
	record_open(record);
	empty_cwd();
	for (int fd = 0; fd < 2; fd++) {
		int n = open("/dev/null", O_RDWR);
		if (n >= 0 && n != fd) {
			dup2(n, fd);
			close(n);
		}
	}
	sandbox(pkcs11);

	unsigned char hello[SIGN_HELLO_HEAD] = {
		0, 0, 0, 0, 'H', 1, (unsigned char)(dl >> 8), (unsigned char)dl
	};
	memcpy(hello, SIGN_MAGIC, 4);
	if (write_all(hello, sizeof(hello)) < 0 || write_all(der, (size_t)dl) < 0)
		die(1, "cannot greet motcuad");
	OPENSSL_free(der);
	fprintf(stderr, "motcua-signer: ready, key %s\n", pkcs11 ? "on a PKCS#11 token" : "from a file");

	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	if (!ctx)
		openssl_die("EVP_PKEY_CTX_new");
	for (;;) {
		if (!read_frame(req, sizeof(req)))
			break;
		if (memcmp(req, SIGN_MAGIC, 4) != 0 || req[4] != 'S')
			die(2, "not a sign request; exiting");
		if (req[5] != 0)
			die(2, "unknown key %u; exiting", req[5]);
		size_t len = (size_t)req[8] << 8 | req[9];
		if (req[7] != 0 || len == 0 || len > SIGN_DATA_MAX)
			die(2, "bad request header (length %zu); exiting", len);
		if (!read_frame(data, len))
			die(3, "request cut short; exiting");
		struct signreq_info info;
		char why[160];
		size_t sl = SIGN_SIG_MAX;
		memcpy(reply, SIGN_MAGIC, 4);
		reply[4] = 'R';
		int r = signreq_check(req[6], data, len, cert_sha256, &info, why, sizeof(why));
		if (r < 0) {
			fprintf(stderr, "motcua-signer: refused a request of kind %u: %s\n", req[6], why);
			reply[5] = (unsigned char)-r;
			sl = 0;
		} else if (record_append(&info) < 0) {
			fprintf(stderr, "motcua-signer: cannot write the signature record; nothing signed\n");
			reply[5] = EIO;
			sl = 0;
		} else if (EVP_PKEY_sign_init(ctx) != 1 ||
			   EVP_PKEY_sign(ctx, reply + SIGN_REPLY_HEAD, &sl, info.digest, SIGN_DIGEST_LEN) !=
			       1) {
			fprintf(stderr, "motcua-signer: signing failed\n");
			ERR_clear_error();
			reply[5] = EIO;
			sl = 0;
		} else {
			reply[5] = 0;
		}
		reply[6] = (unsigned char)(sl >> 8);
		reply[7] = (unsigned char)sl;
		if (write_all(reply, SIGN_REPLY_HEAD + sl) < 0)
			die(3, "motcuad went away");
	}
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return 0;
}
