/* Issuing certified copies: reserve the number, seal (signed by motcua-signer), render,
 * PAdES-sign (motcua-signer again), store the PDF, then one commit for the document row,
 * its outbox item (stream "copies") and the audit row.  Rendering runs here in motcuad: its
 * inputs are our own text and a stored JPEG that is passed through without being decoded
 * (only its header is read), so no untrusted parser runs in the daemon. */
#include "gateway/sign/copy.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/daemon.h"
#include "gateway/log.h"
#include "gateway/sign/pades.h"
#include "gateway/sign/render.h"
#include "gateway/sign/signclient.h"
#include "store/audit.h"
#include "store/blob.h"
#include "store/copies.h"
#include "store/db.h"
#include "store/store.h"

static struct signer *signer;
static struct config start_cfg;
static char signer_problem[256] = "certified copies are off: [sign] key is empty";

int copy_service_start(const struct config *cfg)
{
	struct signer_options o = {
		.path = cfg->sign_signer,
		.user = cfg->sign_user,
		.key = cfg->sign_key,
		.cert = cfg->sign_cert,
		.module = cfg->sign_pkcs11_module,
		.pin_file = cfg->sign_pin_file,
		.record = cfg->sign_record,
	};
	start_cfg = *cfg;
	if (!cfg->sign_key[0]) {
		log_info("sign: [sign] key is empty: certified copies are off");
		signer_drop_privileges();
		return 0;
	}
	int r = signer_start(&o, &signer);
	if (r < 0) {
		snprintf(signer_problem, sizeof(signer_problem),
			 "the signer is not running (%s); see motcuad's log for its own message",
			 strerror(-r));
		log_warn("sign: certified copies are unavailable until motcua-signer starts: %s",
			 strerror(-r));
	}
	r = signer_drop_privileges();
	if (r < 0)
		log_warn("sign: cannot drop capabilities: %s", strerror(-r));
	return 0;
}

void copy_service_stop(void)
{
	signer_stop(signer);
	signer = NULL;
}

int copy_signer_pid(void)
{
	return signer_pid(signer);
}

int copy_signer_lost(void)
{
	return signer_lost(signer);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000 + (double)ts.tv_nsec / 1e6;
}

static void hex(const unsigned char *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

struct signing {
	struct db *db;
	const char *actor;
	const char *subject;
	const char *purpose;
};

/* Every signature is audited before it is asked for, with who asked, what for and the
 * SHA-256 the signer will sign (it hashes data itself and keeps its own record too). */
static int audited_sign(struct signing *g, int kind, const unsigned char *data, size_t len,
			unsigned char *der, size_t *ret_len)
{
	unsigned char digest[32];
	char dh[65], detail[256];
	if (EVP_Digest(data, len, digest, NULL, EVP_sha256(), NULL) != 1)
		return -EIO;
	hex(digest, 32, dh);
	snprintf(detail, sizeof(detail), "{\"purpose\":\"%s\",\"key\":0,\"digest\":\"%s\"}", g->purpose, dh);
	int r = audit_record(g->db, g->actor, "signature", g->subject, detail);
	if (r < 0)
		return r;
	r = signer_sign(signer, kind, data, len, der, ret_len);
	if (r < 0 && signer_lost(signer))
		daemon_restart("motcua-signer is gone and only a new motcuad may start it as its own user");
	return r;
}

static int seal_sign(void *ctx, const unsigned char *tbs, size_t tbs_len, unsigned char ret_sig[SEAL_SIG_LEN])
{
	struct signing *g = ctx;
	unsigned char der[SIGN_SIG_MAX];
	size_t len = 0;
	g->purpose = "seal";
	int r = audited_sign(g, SIGN_KIND_SEAL, tbs, tbs_len, der, &len);
	return r < 0 ? r : seal_sig_from_der(der, len, ret_sig);
}

static int pdf_sign(void *ctx, const unsigned char *attrs, size_t attrs_len, unsigned char *der,
		    size_t *ret_len)
{
	struct signing *g = ctx;
	g->purpose = "pades";
	return audited_sign(g, SIGN_KIND_PADES, attrs, attrs_len, der, ret_len);
}

struct mem {
	unsigned char *p;
	size_t len, cap, pos;
};

static int mem_write(void *ctx, const void *buf, size_t len)
{
	struct mem *m = ctx;
	if (m->len + len > m->cap)
		return -EMSGSIZE;
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
	struct mem *m = ctx;
	size_t n = m->len - m->pos < len ? m->len - m->pos : len;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int official_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 2 || n >= COPY_OFFICIAL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static void subject_name(const unsigned char *der, size_t len, char *out, size_t outlen, int *ret_test)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	char cn[256] = "";
	out[0] = '\0';
	*ret_test = 0;
	if (!x)
		return;
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	char full[256];
	X509_NAME_oneline(X509_get_subject_name(x), full, sizeof(full));
	*ret_test = strstr(full, "TEST") != NULL;
	snprintf(out, outlen, "%s", cn[0] ? cn : full);
	X509_free(x);
}

#define FAIL(code, ...)                             \
	do {                                        \
		snprintf(why, whylen, __VA_ARGS__); \
		r = (code);                         \
		goto out;                           \
	} while (0)

int copy_issue(struct store *s, struct db *db, const char *original_id, const char *official,
	       const char *actor, struct copy_result *ret, char *why, size_t whylen)
{
	struct config cfg;
	struct doc_meta orig, pdfm;
	struct copy_row row;
	struct mem scan = { 0 };
	struct seal seal;
	struct copy_result res;
	unsigned char *pdf = NULL, *signed_pdf = NULL, md[32];
	size_t pdf_len = 0, signed_len = 0, cert_len = 0;
	char subj[64], signer_cn[256];
	int r, reserved = 0, test_key = 0;

	memset(&res, 0, sizeof(res));
	memset(&row, 0, sizeof(row));
	daemon_config_snapshot(&cfg);
	if (!cfg.agency_code[0])
		cfg = start_cfg;
	if (!official || !official_valid(official))
		FAIL(-EINVAL, "the official's name must be 2-127 bytes of text");
	r = docs_get(db, original_id, &orig);
	if (r == -ENOENT)
		FAIL(r, "no document with id %.40s", original_id);
	if (r < 0)
		FAIL(r, "cannot read document %.40s", original_id);
	if (strcmp(orig.content_type, "image/jpeg") != 0)
		FAIL(-EMEDIUMTYPE, "document %s is %s; certified copies are made from JPEG scans", orig.id,
		     orig.content_type);
	const unsigned char *cert = signer_cert(signer, &cert_len);
	if (!signer || !cert_len)
		FAIL(-ENOKEY, "%s", signer_problem);
	subject_name(cert, cert_len, signer_cn, sizeof(signer_cn), &test_key);

	/* The original, verified by the store, into memory (bounded by its recorded size). */
	scan.cap = (size_t)orig.size;
	scan.p = malloc(scan.cap ? scan.cap : 1);
	if (!scan.p)
		FAIL(-ENOMEM, "out of memory for a %lld-byte scan", (long long)orig.size);
	r = blob_get(store_blobs(s), orig.sha256, mem_write, &scan);
	if (r < 0 || scan.len != scan.cap)
		FAIL(r < 0 ? r : -EBADMSG, "the original scan %s cannot be read whole (%s)", orig.id,
		     r == -EBADMSG ? "its stored file is corrupt" : strerror(r < 0 ? -r : EIO));
	int w, h, comps;
	if (render_jpeg_info(scan.p, scan.len, &w, &h, &comps) < 0)
		FAIL(-EMEDIUMTYPE, "document %s is not a JPEG that a PDF can embed unchanged", orig.id);
	EVP_Digest(scan.p, scan.len, md, NULL, EVP_sha256(), NULL);

	time_t now = time(NULL);
	struct tm tm;
	time_t local = now + 7 * 3600; /* the certified-copy year is Hà Nội's */
	gmtime_r(&local, &tm);
	r = copies_reserve(db, tm.tm_year + 1900, start_cfg.sign_book ? start_cfg.sign_book : 1, orig.id,
			   official, actor, &row);
	if (r < 0)
		FAIL(r, "cannot reserve a copy number: %s", strerror(-r));
	reserved = 1;
	snprintf(subj, sizeof(subj), "copy:%lld/%lld", (long long)row.year, (long long)row.number);

	memset(&seal, 0, sizeof(seal));
	snprintf(seal.issuer, sizeof(seal.issuer), "%s", cfg.agency_code);
	seal.time = (int64_t)now;
	seal.year = (uint32_t)row.year;
	seal.book = (uint32_t)row.book;
	seal.number = (uint32_t)row.number;
	memcpy(seal.sha256, md, 32);
	seal_kid_of(cert, cert_len, seal.kid);
	struct signing g = { db, actor, subj, "" };
	double t0 = now_ms();
	r = seal_encode(&seal, seal_sign, &g, res.seal, sizeof(res.seal));
	if (r < 0)
		FAIL(r, "cannot seal copy %s: %s", subj,
		     r == -EINVAL ? "[gateway] agency_code must be 1-63 printable ASCII characters"
				  : strerror(-r));
	seal_number_text(&seal, res.number_text, sizeof(res.number_text));

	struct render_input in = {
		.jpeg = scan.p,
		.jpeg_len = scan.len,
		.commune = cfg.commune_name,
		.official = official,
		.number_text = res.number_text,
		.time = seal.time,
		.seal = res.seal,
		.signer = signer_cn,
		.test_key = test_key,
	};
	double t1 = now_ms();
	r = render_copy_pdf(&in, &pdf, &pdf_len);
	if (r < 0)
		FAIL(r, "cannot render copy %s: %s", subj, strerror(-r));
	double t2 = now_ms();
	r = pades_sign(pdf, pdf_len, cert, cert_len, seal.time, pdf_sign, &g, &signed_pdf, &signed_len);
	if (r < 0)
		FAIL(r, "cannot sign copy %s: %s", subj, strerror(-r));

	double t3 = now_ms();
	struct mem rd = { signed_pdf, signed_len, signed_len, 0 };
	memset(&pdfm, 0, sizeof(pdfm));
	r = blob_put(store_blobs(s), mem_read, &rd, (int64_t)signed_len, pdfm.sha256, &pdfm.size);
	if (r < 0)
		FAIL(r, "cannot store copy %s: %s", subj, strerror(-r));
	snprintf(pdfm.content_type, sizeof(pdfm.content_type), "application/pdf");
	snprintf(pdfm.kind, sizeof(pdfm.kind), "certified-copy");
	snprintf(pdfm.source, sizeof(pdfm.source), "copy");
	snprintf(pdfm.name, sizeof(pdfm.name), "ban-sao-%lld-%06lld.pdf", (long long)row.year,
		 (long long)row.number);
	snprintf(pdfm.intake_key, sizeof(pdfm.intake_key), "copy-%lld-%06lld", (long long)row.year,
		 (long long)row.number);
	r = copies_issue(db, row.id, store_manifest_dir(s), actor, &pdfm, res.seal);
	if (r < 0)
		FAIL(r, "cannot record copy %s: %s", subj, strerror(-r));
	reserved = 0;
	res.year = row.year;
	res.book = row.book;
	res.number = row.number;
	snprintf(res.doc_id, sizeof(res.doc_id), "%s", pdfm.id);
	snprintf(res.sha256, sizeof(res.sha256), "%s", pdfm.sha256);
	res.size = pdfm.size;
	res.ms_sign = (t1 - t0) + (t3 - t2);
	res.ms_render = t2 - t1;
	res.ms_store = now_ms() - t3;
	*ret = res;
	log_info("copy: issued %s (document %s, original %s)", subj, pdfm.id, orig.id);
	r = 0;
out:
	if (reserved && copies_void(db, row.id, actor, why) < 0)
		log_error("copy: cannot void the reserved number of %s", subj);
	if (scan.p)
		OPENSSL_cleanse(scan.p, scan.len); /* a citizen's document */
	free(scan.p);
	free(pdf);
	free(signed_pdf);
	return r;
}

int copy_trustlist_pem(char **ret_pem)
{
	size_t cert_len = 0;
	const unsigned char *cert = signer_cert(signer, &cert_len);
	BIO *b = BIO_new(BIO_s_mem());
	int r = -ENOKEY;
	if (!b)
		return -ENOMEM;
	if (cert_len) {
		const unsigned char *p = cert;
		X509 *x = d2i_X509(NULL, &p, (long)cert_len);
		if (x && PEM_write_bio_X509(b, x) == 1)
			r = 0;
		X509_free(x);
	}
	if (start_cfg.sign_trust_file[0]) {
		FILE *f = fopen(start_cfg.sign_trust_file, "re");
		X509 *x;
		while (f && (x = PEM_read_X509(f, NULL, NULL, NULL))) {
			if (PEM_write_bio_X509(b, x) == 1)
				r = 0;
			X509_free(x);
		}
		if (f)
			fclose(f);
		else
			log_warn("sign: cannot read [sign] trust_file %s", start_cfg.sign_trust_file);
	}
	if (r == 0) {
		char *data;
		long n = BIO_get_mem_data(b, &data);
		*ret_pem = malloc((size_t)n + 1);
		if (*ret_pem) {
			memcpy(*ret_pem, data, (size_t)n);
			(*ret_pem)[n] = '\0';
		} else {
			r = -ENOMEM;
		}
	}
	BIO_free(b);
	return r;
}

int copy_trustlist(struct trustlist **ret)
{
	char *pem = NULL;
	int r = copy_trustlist_pem(&pem);
	if (r == 0)
		r = trustlist_load(pem, strlen(pem), ret);
	free(pem);
	return r == -EINVAL ? -ENOKEY : r;
}
