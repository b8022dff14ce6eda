/* motcua-lgsp-sim: a city-side LGSP peer for tests, benchmarks and the demo.  Implements
 * docs/lgsp.md with persistent state in a data directory, plus fault injection. */
#include "tools/lgsp-sim/sim.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "store/fsutil.h"

static const char usage[] =
    "Usage: motcua-lgsp-sim --data DIR [OPTIONS]\n"
    "\n"
    "Simulates the city's LGSP (data-sharing platform) as described in docs/lgsp.md:\n"
    "OAuth2 client-credentials tokens, resumable blob uploads, idempotent submissions with\n"
    "receipts, dossier status pull.  All state (tokens, uploads, blobs, receipts, keys, counters)\n"
    "lives in DIR, so a restart keeps it.  GET /_sim/stats returns the counters as JSON.\n"
    "\n"
    "Service:\n"
    "  -d, --data DIR           state directory (created if missing)           [required]\n"
    "  -l, --listen ADDR        numeric IPv4/IPv6 address to listen on         [127.0.0.1]\n"
    "  -p, --port N             TCP port; 0 picks a free one                   [8480]\n"
    "      --port-file FILE     write the bound port number to FILE once listening\n"
    "  -c, --client ID:SECRET   accept this OAuth2 client (repeatable, up to 16)\n"
    "                           [motcua:motcua-secret when none is given]\n"
    "      --token-ttl SEC      lifetime of issued access tokens               [3600]\n"
    "      --chunk-max BYTES    largest upload chunk accepted (<= 16 MiB)      [1048576]\n"
    "      --blob-max BYTES     largest blob accepted                          [67108864]\n"
    "      --json-max BYTES     largest JSON body accepted (<= 4 MiB)          [262144]\n"
    "      --max-connections N  concurrent connections                        [64]\n"
    "      --conn-timeout SEC   close a connection idle this long              [60]\n"
    "TLS:\n"
    "      --tls-cert FILE      serve HTTPS with this PEM certificate (chain)\n"
    "      --tls-key FILE       ... and this PEM private key\n"
    "      --tls-client-ca FILE require a client certificate issued by this CA (mutual TLS)\n"
    "Faults (applied to /lgsp/v1/ requests only; rates are probabilities 0..1, sum <= 1):\n"
    "      --fail-5xx RATE      answer 500/502/503 without doing anything      [0]\n"
    "      --fail-429 RATE      answer 429 with Retry-After                    [0]\n"
    "      --fail-reset RATE    cut the connection in the middle of the request body\n"
    "                           (when there is one) or of the response body    [0]\n"
    "      --reset-at WHERE     where a reset cuts: request (body, before any effect),\n"
    "                           response (after the effect: the lost answer) or any [any]\n"
    "                           (requests without a body are always cut in the answer)\n"
    "      --retry-after SEC    Retry-After sent with 429 and 503              [1]\n"
    "      --latency-ms MS      delay every request by MS                      [0]\n"
    "      --seed N             seed of the fault generator (same seed and same request\n"
    "                           sequence -> same faults)                       [1]\n"
    "Other:\n"
    "  -v, --log-level LEVEL    error, warn, info or debug                     [info]\n"
    "  -h, --help               this text\n"
    "  -V, --version            print the version\n"
    "\n"
    "SIGTERM or SIGINT stops it cleanly (in-flight requests finish, the database is closed).\n";

enum {
	OPT_PORT_FILE = 256,
	OPT_TOKEN_TTL,
	OPT_CHUNK_MAX,
	OPT_BLOB_MAX,
	OPT_JSON_MAX,
	OPT_MAX_CONNS,
	OPT_CONN_TIMEOUT,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_5XX,
	OPT_429,
	OPT_RESET,
	OPT_RETRY_AFTER,
	OPT_LATENCY,
	OPT_SEED,
	OPT_RESET_AT,
};

static const struct option longopts[] = {
	{ "data", required_argument, NULL, 'd' },
	{ "listen", required_argument, NULL, 'l' },
	{ "port", required_argument, NULL, 'p' },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "client", required_argument, NULL, 'c' },
	{ "token-ttl", required_argument, NULL, OPT_TOKEN_TTL },
	{ "chunk-max", required_argument, NULL, OPT_CHUNK_MAX },
	{ "blob-max", required_argument, NULL, OPT_BLOB_MAX },
	{ "json-max", required_argument, NULL, OPT_JSON_MAX },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "conn-timeout", required_argument, NULL, OPT_CONN_TIMEOUT },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-client-ca", required_argument, NULL, OPT_TLS_CA },
	{ "fail-5xx", required_argument, NULL, OPT_5XX },
	{ "fail-429", required_argument, NULL, OPT_429 },
	{ "fail-reset", required_argument, NULL, OPT_RESET },
	{ "retry-after", required_argument, NULL, OPT_RETRY_AFTER },
	{ "reset-at", required_argument, NULL, OPT_RESET_AT },
	{ "latency-ms", required_argument, NULL, OPT_LATENCY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "log-level", required_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int num(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *ret)
{
	if (sim_parse_u64(arg, max, ret) < 0 || *ret < min) {
		log_error("--%s: expected a whole number from %llu to %llu, got \"%s\"", opt,
			  (unsigned long long)min, (unsigned long long)max, arg);
		return -EINVAL;
	}
	return 0;
}

static int rate(const char *opt, const char *arg, double *ret)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0.0 && v <= 1.0)) {
		log_error("--%s: expected a probability from 0 to 1, got \"%s\"", opt, arg);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int add_client(struct sim_opts *o, const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t idlen = colon ? (size_t)(colon - arg) : 0;
	if (o->nclients >= SIM_CLIENTS_MAX || !colon || idlen == 0 || idlen >= SIM_CLIENT_ID_MAX ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= SIM_SECRET_MAX) {
		log_error("--client: expected ID:SECRET (id < %d bytes, secret < %d bytes, at most %d "
			  "clients)",
			  SIM_CLIENT_ID_MAX, SIM_SECRET_MAX, SIM_CLIENTS_MAX);
		return -EINVAL;
	}
	struct sim_client *c = &o->clients[o->nclients++];
	memcpy(c->id, arg, idlen);
	c->id[idlen] = '\0';
	snprintf(c->secret, sizeof(c->secret), "%s", colon + 1);
	return 0;
}

static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	uint64_t v;
	int ch, r = 0;

	o->listen = "127.0.0.1";
	o->port = 8480;
	o->token_ttl = 3600;
	o->chunk_max = 1 << 20;
	o->blob_max = 64 << 20;
	o->json_max = 256 << 10;
	o->max_conns = 64;
	o->conn_timeout = 60;
	o->retry_after = 1;
	o->seed = 1;
	while (r == 0 && (ch = getopt_long(argc, argv, "d:l:p:c:v:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': o->data_dir = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p':
			r = num("port", optarg, 0, 65535, &v);
			o->port = (unsigned)v;
			break;
		case OPT_PORT_FILE: o->port_file = optarg; break;
		case 'c': r = add_client(o, optarg); break;
		case OPT_TOKEN_TTL:
			r = num("token-ttl", optarg, 1, 86400 * 30, &v);
			o->token_ttl = (long)v;
			break;
		case OPT_CHUNK_MAX:
			r = num("chunk-max", optarg, 1024, SIM_CHUNK_LIMIT, &v);
			o->chunk_max = (size_t)v;
			break;
		case OPT_BLOB_MAX:
			r = num("blob-max", optarg, 1, (uint64_t)1 << 40, &v);
			o->blob_max = (int64_t)v;
			break;
		case OPT_JSON_MAX:
			r = num("json-max", optarg, 1024, SIM_JSON_LIMIT, &v);
			o->json_max = (size_t)v;
			break;
		case OPT_MAX_CONNS:
			r = num("max-connections", optarg, 1, 1024, &v);
			o->max_conns = (unsigned)v;
			break;
		case OPT_CONN_TIMEOUT:
			r = num("conn-timeout", optarg, 1, 3600, &v);
			o->conn_timeout = (unsigned)v;
			break;
		case OPT_TLS_CERT: o->tls_cert = optarg; break;
		case OPT_TLS_KEY: o->tls_key = optarg; break;
		case OPT_TLS_CA: o->tls_client_ca = optarg; break;
		case OPT_5XX: r = rate("fail-5xx", optarg, &o->p_5xx); break;
		case OPT_429: r = rate("fail-429", optarg, &o->p_429); break;
		case OPT_RESET: r = rate("fail-reset", optarg, &o->p_reset); break;
		case OPT_RESET_AT:
			if (strcmp(optarg, "any") == 0) {
				o->reset_at = RESET_AT_ANY;
			} else if (strcmp(optarg, "request") == 0) {
				o->reset_at = RESET_AT_REQUEST;
			} else if (strcmp(optarg, "response") == 0) {
				o->reset_at = RESET_AT_RESPONSE;
			} else {
				log_error("--reset-at: expected request, response or any");
				r = -EINVAL;
			}
			break;
		case OPT_RETRY_AFTER:
			r = num("retry-after", optarg, 0, 86400, &v);
			o->retry_after = (unsigned)v;
			break;
		case OPT_LATENCY:
			r = num("latency-ms", optarg, 0, 600000, &v);
			o->latency_ms = (unsigned)v;
			break;
		case OPT_SEED:
			r = num("seed", optarg, 0, UINT64_MAX, &v);
			o->seed = v;
			break;
		case 'v':
			if (log_level_parse(optarg) < 0) {
				log_error("--log-level: expected error, warn, info or debug");
				r = -EINVAL;
			} else {
				log_set_level((enum log_level)log_level_parse(optarg));
			}
			break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': printf("motcua-lgsp-sim %s\n", MOTCUA_VERSION); exit(0);
		default: r = -EINVAL; break;
		}
	}
	if (r < 0)
		return r;
	if (optind < argc) {
		log_error("unexpected argument \"%s\" (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (!o->data_dir) {
		log_error("--data DIR is required (see --help)");
		return -EINVAL;
	}
	if (o->p_5xx + o->p_429 + o->p_reset > 1.0) {
		log_error("--fail-5xx + --fail-429 + --fail-reset must not exceed 1");
		return -EINVAL;
	}
	if (!o->tls_cert != !o->tls_key || (o->tls_client_ca && !o->tls_cert)) {
		log_error("--tls-cert and --tls-key go together; --tls-client-ca needs both");
		return -EINVAL;
	}
	if (o->nclients == 0) {
		log_info("no --client given: accepting motcua:motcua-secret");
		add_client(o, "motcua:motcua-secret");
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim s;
	struct MHD_Daemon *d = NULL;
	sigset_t set;
	int r, sig = 0;

	log_init("motcua-lgsp-sim", LOG_LEVEL_INFO);
	memset(&s, 0, sizeof(s));
	r = parse_args(argc, argv, &s.o);
	if (r < 0)
		return 2;
	s.rng = s.o.seed;
	pthread_mutex_init(&s.lock, NULL);
	/* Block the stop signals in every thread; main waits for them with sigwait(). */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	r = simdb_open(&s);
	if (r < 0) {
		log_error("cannot open the data directory %s: %s", s.o.data_dir, strerror(-r));
		goto out;
	}
	r = http_start(&s, &d);
	if (r < 0)
		goto out;
	unsigned port = http_bound_port(d);
	if (s.o.port_file) {
		char text[16];
		int n = snprintf(text, sizeof(text), "%u\n", port);
		r = fs_write_atomic(s.o.port_file, text, (size_t)n, 0644);
		if (r < 0) {
			log_error("cannot write %s: %s", s.o.port_file, strerror(-r));
			goto out;
		}
	}
	log_info("listening on %s port %u (%s%s), data in %s, seed %llu", s.o.listen, port,
		 s.o.tls_cert ? "https" : "http", s.o.tls_client_ca ? ", client certificates required" : "",
		 s.o.data_dir, (unsigned long long)s.o.seed);
	if (s.o.p_5xx > 0 || s.o.p_429 > 0 || s.o.p_reset > 0 || s.o.latency_ms)
		log_info("faults: 5xx %.3f, 429 %.3f, reset %.3f, latency %u ms", s.o.p_5xx, s.o.p_429,
			 s.o.p_reset, s.o.latency_ms);
	while (sigwait(&set, &sig) != 0)
		;
	log_info("signal %d: stopping", sig);
	r = 0;
out:
	http_stop(d);
	simdb_close(&s);
	pthread_mutex_destroy(&s.lock);
	for (int i = 0; i < s.o.nclients; i++)
		memset(s.o.clients[i].secret, 0, sizeof(s.o.clients[i].secret));
	return r < 0 ? 1 : 0;
}
