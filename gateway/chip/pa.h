/* Passive authentication (ICAO 9303-11 5.1): the SOD's CMS signature, the Document Signer
 * chained to a CSCA of the trust list and valid when it signed, and every data group's hash
 * equal to the one the SOD holds.  OpenSSL does the CMS and X.509 work; the SOD's own
 * content (LDSSecurityObject) is read by pa_sod_hashes. */
#ifndef MOTCUA_CHIP_PA_H
#define MOTCUA_CHIP_PA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define PA_DG_MAX 16
#define PA_HASH_MAX 64

struct pa_sod {
	char hash_alg[16]; /* "sha256"... */
	int nid; /* OpenSSL's number for the hash */
	int count;
	struct {
		int dg;
		uint8_t hash[PA_HASH_MAX];
		size_t len;
	} h[PA_DG_MAX];
};

/* Reads an LDSSecurityObject (the SOD's signed content, DER): the hash algorithm and each
 * data group's hash.  Returns 0, -EPROTO when malformed, -ENOTSUP for an unknown hash. */
int pa_sod_hashes(const uint8_t *der, size_t len, struct pa_sod *ret);

struct pa_trust; /* the CSCA certificates, loaded before the sandbox closes the files */

/* Loads every certificate of a PEM file (an empty file is an empty list).  Returns 0 with
 * *ret or -errno (-ENOENT: no such file; -EPROTO: not PEM certificates). */
int pa_trust_load(const char *path, struct pa_trust **ret);
int pa_trust_count(const struct pa_trust *t);
void pa_trust_free(struct pa_trust *t);

struct pa_dg {
	int dg;
	const uint8_t *data;
	size_t len;
};

/* Runs every check on an EF.SOD (tag 0x77 around a CMS SignedData) against the data groups
 * read, and returns a JSON object naming each check and whether it passed:
 *   sod_parsed, signature, csca_trusted, ds_valid_at_signing, hashes {DGn: true|false},
 *   all_hashes, passed (all of them), plus signing_time, ds_subject, csca_subject, hash and
 *   a "failed" array naming the checks that did not pass and "problems" with OpenSSL's words.
 * The lds security object found is written to *ret_sod (may be NULL).  NULL only on ENOMEM. */
json_t *pa_verify(const uint8_t *sod, size_t len, const struct pa_dg *dgs, int ndgs,
		  const struct pa_trust *trust, struct pa_sod *ret_sod);

#endif
