/* motcuad: the commune gateway daemon.  Parses the command line and the configuration,
 * then hands over to daemon_run. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/daemon.h"
#include "gateway/log.h"

#define DEFAULT_CONFIG "/etc/motcua/motcua.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: motcuad [-c FILE] [--check-config] [--version]\n"
		"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
		"      --check-config  validate the configuration, print the problem if any, exit 0 or 1\n"
		"      --version       print the version\n"
		"Runs in the foreground and logs to stderr.  SIGHUP reloads, SIGTERM stops.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	char err[CONFIG_ERR_MAX];
	struct config cfg;
	int check = 0, c;

	log_init("motcuad", LOG_LEVEL_INFO);
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'C': check = 1; break;
		case 'V': printf("motcuad %s\n", MOTCUA_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (config_load(path, &cfg, err) < 0) {
		log_error("configuration: %s", err);
		return 1;
	}
	if (check) {
		printf("%s: configuration is valid\n", path);
		return 0;
	}
	return daemon_run(path, &cfg);
}
