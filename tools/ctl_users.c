/* motcuactl users add|passwd|disable|enable|list.  Passwords come from a prompt (echo off),
 * a file (--password-file, e.g. a postinst's one-time password) or stdin
 * (--password-stdin, or whenever stdin is not a terminal); never from the command line,
 * where ps would show them. */
#include "tools/ctl_users.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gateway/ctlproto.h"

#define PW_MAX 256

void ctl_users_usage(FILE *f)
{
	fprintf(f,
		"  users add NAME [--role admin|staff] [--one-time] [--password-file F | --password-stdin]\n"
		"                                 add a web account (default role staff); --one-time: the\n"
		"                                 password must be changed at the first login\n"
		"  users passwd NAME [--one-time] [--password-file F | --password-stdin]\n"
		"                                 set a password (ends the account's sessions)\n"
		"  users disable NAME | users enable NAME | users list\n"
		"                                 without --password-*, the password is asked twice on a\n"
		"                                 terminal, or read as the first line of stdin\n");
}

static void chomp(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int read_line(FILE *f, char *out, size_t size)
{
	if (!fgets(out, (int)size, f))
		return -EIO;
	if (!strchr(out, '\n') && !feof(f))
		return -EMSGSIZE;
	chomp(out);
	return 0;
}

static int prompt(const char *what, char *out, size_t size)
{
	struct termios old, quiet;
	int r;
	fprintf(stderr, "%s: ", what);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) < 0)
		return -errno;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	r = read_line(stdin, out, size);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	return r;
}

static int get_password(const char *file, int from_stdin, char *out, size_t size)
{
	char again[PW_MAX];
	int r;
	if (file) {
		struct stat st;
		FILE *f = fopen(file, "re");
		if (!f) {
			fprintf(stderr, "motcuactl: %s: %s\n", file, strerror(errno));
			return -errno;
		}
		if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077))
			fprintf(stderr, "motcuactl: warning: %s can be read by others (chmod 600 it)\n",
				file);
		r = read_line(f, out, size);
		fclose(f);
	} else if (from_stdin || !isatty(STDIN_FILENO)) {
		r = read_line(stdin, out, size);
	} else {
		r = prompt("Password", out, size);
		if (r == 0)
			r = prompt("Password again", again, sizeof(again));
		if (r == 0 && strcmp(out, again) != 0) {
			fprintf(stderr, "motcuactl: the two passwords differ\n");
			r = -EINVAL;
		}
		OPENSSL_cleanse(again, sizeof(again));
		return r;
	}
	if (r < 0)
		fprintf(stderr, "motcuactl: cannot read the password (one line, at most %d bytes)\n",
			PW_MAX - 2);
	return r;
}

static int call(struct ctl_conn *conn, json_t *req, int json_out, const char *okmsg)
{
	json_t *rep = NULL;
	int r = ctl_send(conn, req);
	json_t *pw = json_object_get(req, "password");
	if (json_is_string(pw))
		OPENSSL_cleanse((char *)json_string_value(pw), strlen(json_string_value(pw)));
	json_decref(req);
	if (r == 0)
		r = ctl_recv(conn, CTL_REPLY_MAX, &rep);
	if (r < 0) {
		fprintf(stderr, "motcuactl: no answer from motcuad: %s\n", strerror(-r));
		return 1;
	}
	if (!json_is_true(json_object_get(rep, "ok"))) {
		fprintf(stderr, "motcuactl: %s (%s)\n", json_string_value(json_object_get(rep, "message")),
			json_string_value(json_object_get(rep, "error")));
		json_decref(rep);
		return 1;
	}
	if (json_out) {
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		fputc('\n', stdout);
	} else if (okmsg) {
		printf("%s\n", okmsg);
	} else {
		json_t *arr = json_object_get(rep, "users"), *u;
		size_t i;
		json_array_foreach (arr, i, u)
			printf("%-20s %-6s %s%s\n", json_string_value(json_object_get(u, "name")),
			       json_string_value(json_object_get(u, "role")),
			       json_is_true(json_object_get(u, "disabled")) ? "disabled" : "active",
			       json_is_true(json_object_get(u, "one_time")) ? ", one-time password" : "");
		if (json_array_size(arr) == 0)
			printf("no users\n");
	}
	json_decref(rep);
	return 0;
}

int ctl_users_main(struct ctl_conn *conn, int json_out, int ac, char **av)
{
	const char *sub = ac > 1 ? av[1] : "", *name = NULL, *role = "staff", *file = NULL;
	int one_time = 0, from_stdin = 0;
	char pw[PW_MAX];

	for (int i = 2; i < ac; i++) {
		if (strcmp(av[i], "--role") == 0 && i + 1 < ac)
			role = av[++i];
		else if (strcmp(av[i], "--one-time") == 0)
			one_time = 1;
		else if (strcmp(av[i], "--password-file") == 0 && i + 1 < ac)
			file = av[++i];
		else if (strcmp(av[i], "--password-stdin") == 0)
			from_stdin = 1;
		else if (av[i][0] != '-' && !name)
			name = av[i];
		else {
			fprintf(stderr, "motcuactl: users %s: unexpected argument %s\n", sub, av[i]);
			return 2;
		}
	}
	if (strcmp(sub, "list") == 0 && !name)
		return call(conn, json_pack("{s:s}", "cmd", "users.list"), json_out, NULL);
	if (!name) {
		fprintf(stderr, "motcuactl: users %s needs a NAME (see motcuactl --help)\n", sub);
		return 2;
	}
	if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		char cmd[32], msg[96];
		snprintf(cmd, sizeof(cmd), "users.%s", sub);
		snprintf(msg, sizeof(msg), "%s %sd", name, sub);
		return call(conn, json_pack("{s:s, s:s}", "cmd", cmd, "name", name), json_out, msg);
	}
	if (strcmp(sub, "add") != 0 && strcmp(sub, "passwd") != 0) {
		fprintf(stderr, "motcuactl: unknown users command %s (add, passwd, disable, enable, list)\n",
			sub);
		return 2;
	}
	if (get_password(file, from_stdin, pw, sizeof(pw)) < 0)
		return 1;
	json_t *req =
	    json_pack("{s:s, s:s, s:s, s:s, s:b}", "cmd", sub[0] == 'a' ? "users.add" : "users.passwd",
		      "name", name, "role", role, "password", pw, "one_time", one_time);
	OPENSSL_cleanse(pw, sizeof(pw));
	char msg[96];
	snprintf(msg, sizeof(msg), "%s: %s%s", name, sub[0] == 'a' ? "added" : "password set",
		 one_time ? " (one-time password: to be changed at the first login)" : "");
	return call(conn, req, json_out, msg);
}
