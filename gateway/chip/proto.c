/* Shared by motcua-chip's clients: the MRZ to BAC key triple and where the worker lives. */
#include "gateway/chip/proto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int mrz_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '<';
}

int chip_bac_from_mrz(const char *mrz, char doc[10], char birth[7], char expiry[7])
{
	char lines[3][45];
	size_t len[3] = { 0 };
	int n = 0;
	for (const char *p = mrz; *p && n < 3; p++) {
		if (*p == ',' || *p == '\n') {
			if (len[n])
				n++;
			continue;
		}
		if (*p == ' ' || *p == '\r')
			continue;
		char c = (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
		if (!mrz_char(c) || len[n] >= 44)
			return -EINVAL;
		lines[n][len[n]++] = c;
	}
	if (n < 3 && len[n])
		n++;
	const char *dn, *b, *e;
	if (n == 3 && len[0] == 30 && len[1] == 30) { /* TD1 */
		dn = lines[0] + 5, b = lines[1], e = lines[1] + 8;
	} else if (n == 2 && len[0] == 44 && len[1] == 44) { /* TD3 */
		dn = lines[1], b = lines[1] + 13, e = lines[1] + 21;
	} else {
		return -EINVAL;
	}
	size_t k = 0;
	for (; k < 9 && dn[k] != '<'; k++)
		doc[k] = dn[k];
	doc[k] = 0;
	memcpy(birth, b, 6);
	birth[6] = 0;
	memcpy(expiry, e, 6);
	expiry[6] = 0;
	for (int i = 0; i < 6; i++)
		if (birth[i] < '0' || birth[i] > '9' || expiry[i] < '0' || expiry[i] > '9')
			return -EINVAL;
	return k ? 0 : -EINVAL;
}

void chip_worker_path(char *buf, size_t size)
{
	const char *env = getenv("MOTCUA_CHIP");
	char self[4096];
	if (env && *env) {
		snprintf(buf, size, "%s", env);
		return;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			snprintf(buf, size, "%s/motcua-chip", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, size, "/usr/libexec/motcua/motcua-chip");
}
