/* Passive authentication of a chip's data: CMS signature, CSCA chain, data-group hashes. */
#include "gateway/chip/pa.h"

#include <errno.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/chip/tlv.h"

struct pa_trust {
	STACK_OF(X509) * certs;
};

/* DER OID bytes to a dotted string (for OBJ_txt2nid). */
static int oid_text(const uint8_t *v, size_t n, char *out, size_t size)
{
	ASN1_OBJECT *o = NULL;
	uint8_t der[80];
	const uint8_t *p = der;
	if (n == 0 || n + 2 > sizeof(der))
		return -EPROTO;
	der[0] = 0x06;
	der[1] = (uint8_t)n;
	memcpy(der + 2, v, n);
	o = d2i_ASN1_OBJECT(NULL, &p, (long)(n + 2));
	if (!o)
		return -EPROTO;
	int r = OBJ_obj2txt(out, (int)size, o, 1);
	ASN1_OBJECT_free(o);
	return r > 0 && (size_t)r < size ? 0 : -EPROTO;
}

int pa_sod_hashes(const uint8_t *der, size_t len, struct pa_sod *ret)
{
	struct tlv seq, t, alg, oid;
	size_t pos = 0;
	char txt[80];
	struct pa_sod s;
	memset(&s, 0, sizeof(s));
	if (tlv_whole(der, len, 0x30, &seq) < 0)
		return -EPROTO;
	/* version INTEGER, hashAlgorithm AlgorithmIdentifier, dataGroupHashValues SEQUENCE OF */
	if (tlv_next(seq.value, seq.len, &pos, &t) < 0 || t.tag != 0x02 || t.len != 1 || t.value[0] > 1)
		return -EPROTO;
	if (tlv_next(seq.value, seq.len, &pos, &alg) < 0 || alg.tag != 0x30)
		return -EPROTO;
	if (tlv_find(alg.value, alg.len, 0x06, &oid) < 0 ||
	    oid_text(oid.value, oid.len, txt, sizeof(txt)) < 0)
		return -EPROTO;
	s.nid = OBJ_txt2nid(txt);
	const EVP_MD *md = s.nid != NID_undef ? EVP_get_digestbynid(s.nid) : NULL;
	if (!md)
		return -ENOTSUP;
	snprintf(s.hash_alg, sizeof(s.hash_alg), "%s", OBJ_nid2sn(s.nid));
	struct tlv list;
	if (tlv_next(seq.value, seq.len, &pos, &list) < 0 || list.tag != 0x30)
		return -EPROTO;
	size_t lp = 0;
	struct tlv e;
	int r;
	while ((r = tlv_next(list.value, list.len, &lp, &e)) == 0) {
		struct tlv num, hv;
		size_t ep = 0;
		if (e.tag != 0x30 || s.count >= PA_DG_MAX)
			return -EPROTO;
		if (tlv_next(e.value, e.len, &ep, &num) < 0 || num.tag != 0x02 || num.len != 1 ||
		    num.value[0] < 1 || num.value[0] > 16)
			return -EPROTO;
		if (tlv_next(e.value, e.len, &ep, &hv) < 0 || hv.tag != 0x04 ||
		    hv.len != (size_t)EVP_MD_get_size(md) || ep != e.len)
			return -EPROTO;
		for (int i = 0; i < s.count; i++)
			if (s.h[i].dg == num.value[0])
				return -EPROTO;
		s.h[s.count].dg = num.value[0];
		memcpy(s.h[s.count].hash, hv.value, hv.len);
		s.h[s.count].len = hv.len;
		s.count++;
	}
	if (r != -ENODATA || s.count == 0)
		return -EPROTO;
	*ret = s;
	return 0;
}

int pa_trust_load(const char *path, struct pa_trust **ret)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	struct pa_trust *t = calloc(1, sizeof(*t));
	int r = -ENOMEM;
	if (!t || !(t->certs = sk_X509_new_null()))
		goto out;
	X509 *x;
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(t->certs, x)) {
			X509_free(x);
			goto out;
		}
	}
	unsigned long e = ERR_peek_last_error();
	if (e && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		r = -EPROTO;
		goto out;
	}
	ERR_clear_error();
	*ret = t;
	t = NULL;
	r = 0;
out:
	fclose(f);
	pa_trust_free(t);
	return r;
}

int pa_trust_count(const struct pa_trust *t)
{
	return t ? sk_X509_num(t->certs) : 0;
}

void pa_trust_free(struct pa_trust *t)
{
	if (!t)
		return;
	sk_X509_pop_free(t->certs, X509_free);
	free(t);
}

static void problem(json_t *problems, const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();
	if (e) {
		ERR_error_string_n(e, buf, sizeof(buf));
		json_array_append_new(problems, json_sprintf("%s: %s", what, buf));
	} else {
		json_array_append_new(problems, json_string(what));
	}
	ERR_clear_error();
}

static void name_of(X509_NAME *n, char *buf, size_t size)
{
	buf[0] = 0;
	if (n)
		X509_NAME_oneline(n, buf, (int)size);
}

/* The signingTime signed attribute, when the signer put one. */
static int signing_time(CMS_SignerInfo *si, time_t *ret)
{
	int i = CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1);
	if (i < 0)
		return -ENOENT;
	X509_ATTRIBUTE *a = CMS_signed_get_attr(si, i);
	ASN1_TYPE *v = a ? X509_ATTRIBUTE_get0_type(a, 0) : NULL;
	struct tm tm;
	if (!v)
		return -EPROTO;
	const ASN1_TIME *at = v->type == V_ASN1_UTCTIME ? (const ASN1_TIME *)v->value.utctime
	    : v->type == V_ASN1_GENERALIZEDTIME         ? (const ASN1_TIME *)v->value.generalizedtime
							: NULL;
	if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
		return -EPROTO;
	*ret = timegm(&tm);
	return 0;
}

static void check(json_t *r, json_t *failed, const char *name, int ok)
{
	json_object_set_new(r, name, json_boolean(ok));
	if (!ok)
		json_array_append_new(failed, json_string(name));
}

json_t *pa_verify(const uint8_t *sod, size_t len, const struct pa_dg *dgs, int ndgs,
		  const struct pa_trust *trust, struct pa_sod *ret_sod)
{
	json_t *r = json_object(), *failed = json_array(), *problems = json_array(), *hashes = json_object();
	CMS_ContentInfo *cms = NULL;
	BIO *content = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	struct pa_sod s;
	int sig_ok = 0, chain_ok = 0, time_ok = 0, parsed = 0, all = 0;
	char buf[256];
	memset(&s, 0, sizeof(s));
	if (!r || !failed || !problems || !hashes) {
		json_decref(r), json_decref(failed), json_decref(problems), json_decref(hashes);
		return NULL;
	}
	ERR_clear_error();

	struct tlv outer;
	if (tlv_whole(sod, len, 0x77, &outer) < 0) {
		json_array_append_new(problems, json_string("EF.SOD is not one 0x77 object"));
		goto done;
	}
	const uint8_t *p = outer.value;
	cms = d2i_CMS_ContentInfo(NULL, &p, (long)outer.len);
	if (!cms || p != outer.value + outer.len || OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		problem(problems, "EF.SOD is not a CMS SignedData");
		goto done;
	}
	ASN1_OCTET_STRING **ec = CMS_get0_content(cms);
	const ASN1_OBJECT *etype = CMS_get0_eContentType(cms);
	char et[64];
	if (!ec || !*ec || !etype || OBJ_obj2txt(et, sizeof(et), etype, 1) <= 0 ||
	    strcmp(et, "2.23.136.1.1.1") != 0) {
		json_array_append_new(problems,
				      json_string("the SOD's content is not an LDS security object"));
		goto done;
	}
	int hr = pa_sod_hashes(ASN1_STRING_get0_data(*ec), (size_t)ASN1_STRING_length(*ec), &s);
	if (hr < 0) {
		json_array_append_new(problems,
				      json_string(hr == -ENOTSUP ? "the SOD's hash algorithm is not supported"
								 : "the LDS security object is malformed"));
		goto done;
	}
	parsed = 1;
	json_object_set_new(r, "hash", json_string(s.hash_alg));

	/* 1. the signature over the signed attributes, and the content's digest in them */
	STACK_OF(X509) *signers = NULL;
	content = BIO_new(BIO_s_mem());
	if (content &&
	    CMS_verify(cms, NULL, NULL, NULL, content, CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1)
		sig_ok = 1;
	else
		problem(problems, "signature");
	signers = CMS_get0_signers(cms);
	X509 *ds = signers && sk_X509_num(signers) == 1 ? sk_X509_value(signers, 0) : NULL;
	sk_X509_free(signers);
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	if (!ds || sk_CMS_SignerInfo_num(sis) != 1) {
		json_array_append_new(
		    problems, json_string("the SOD must carry exactly one signer and its certificate"));
		sig_ok = 0;
		goto done;
	}
	name_of(X509_get_subject_name(ds), buf, sizeof(buf));
	json_object_set_new(r, "ds_subject", json_string(buf));
	name_of(X509_get_issuer_name(ds), buf, sizeof(buf));
	json_object_set_new(r, "ds_issuer", json_string(buf));
	time_t when = time(NULL);
	int has_time = signing_time(sk_CMS_SignerInfo_value(sis, 0), &when) == 0;
	char ts[32];
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(r, "signing_time", has_time ? json_string(ts) : json_null());
	json_object_set_new(r, "checked_at", json_string(ts));

	/* 2. the Document Signer chained to a CSCA of the trust list, both valid at signing */
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (!store || !ctx)
		goto done;
	for (int i = 0; i < pa_trust_count(trust); i++)
		X509_STORE_add_cert(store, sk_X509_value(trust->certs, i));
	if (pa_trust_count(trust) == 0)
		json_array_append_new(problems, json_string("the CSCA trust list is empty"));
	/* The chain with time checks off first (is it ours?), then with the signing time. */
	if (X509_STORE_CTX_init(ctx, store, ds, NULL) == 1) {
		X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_flags(vp, X509_V_FLAG_NO_CHECK_TIME);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
		if (X509_verify_cert(ctx) == 1) {
			chain_ok = 1;
			STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
			X509 *top = sk_X509_value(chain, sk_X509_num(chain) - 1);
			name_of(X509_get_subject_name(top), buf, sizeof(buf));
			json_object_set_new(r, "csca_subject", json_string(buf));
		} else {
			json_array_append_new(
			    problems,
			    json_sprintf("chain: %s",
					 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx))));
		}
	}
	X509_STORE_CTX_cleanup(ctx);
	if (chain_ok && X509_STORE_CTX_init(ctx, store, ds, NULL) == 1) {
		X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
		X509_VERIFY_PARAM_set_time(vp, when);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
		if (X509_verify_cert(ctx) == 1)
			time_ok = 1;
		else
			json_array_append_new(
			    problems,
			    json_sprintf("at signing time: %s",
					 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx))));
	}
	/* Without a chain, still say whether the DS itself was valid when it signed. */
	if (!chain_ok)
		time_ok = X509_cmp_time(X509_get0_notBefore(ds), &when) <= 0 &&
		    X509_cmp_time(X509_get0_notAfter(ds), &when) >= 0;

	/* 3. every data group read hashes to the SOD's value; every one listed was read */
	const EVP_MD *md = EVP_get_digestbynid(s.nid);
	all = 1;
	for (int i = 0; i < ndgs; i++) {
		uint8_t h[EVP_MAX_MD_SIZE];
		unsigned hl = 0;
		int ok = 0, listed = 0;
		char key[8];
		snprintf(key, sizeof(key), "DG%d", dgs[i].dg);
		if (EVP_Digest(dgs[i].data, dgs[i].len, h, &hl, md, NULL) != 1)
			goto done;
		for (int j = 0; j < s.count; j++) {
			if (s.h[j].dg != dgs[i].dg)
				continue;
			listed = 1;
			ok = s.h[j].len == hl && CRYPTO_memcmp(s.h[j].hash, h, hl) == 0;
		}
		if (!listed)
			json_array_append_new(problems, json_sprintf("%s is not in the SOD", key));
		json_object_set_new(hashes, key, json_boolean(ok));
		all = all && ok;
	}
	if (ndgs == 0)
		all = 0;
done:
	check(r, failed, "sod_parsed", parsed);
	check(r, failed, "signature", sig_ok);
	check(r, failed, "csca_trusted", chain_ok);
	check(r, failed, "ds_valid_at_signing", time_ok);
	json_object_set_new(r, "hashes", hashes);
	check(r, failed, "all_hashes", parsed && all);
	json_object_set_new(r, "passed", json_boolean(parsed && sig_ok && chain_ok && time_ok && all));
	json_object_set_new(r, "failed", failed);
	json_object_set_new(r, "problems", problems);
	json_object_set_new(r, "csca_count", json_integer(pa_trust_count(trust)));
	if (ret_sod)
		*ret_sod = s;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}
