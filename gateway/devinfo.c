/* The broker CA's fingerprint for installers (see devinfo.h). */
#include "gateway/devinfo.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

int devinfo_ca_fingerprint(const char *path, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	X509 *x = NULL;
	int r;

	if (size < DEVINFO_FP_MAX)
		return -EINVAL;
	out[0] = '\0';
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32) {
		r = -EBADMSG;
		goto out;
	}
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 3 * i, size - 3 * i, i + 1 < n ? "%02X:" : "%02X", md[i]);
	r = 0;
out:
	X509_free(x);
	return r;
}
