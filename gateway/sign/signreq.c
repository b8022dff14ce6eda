/* The signer's request checks (see signreq.h): a strict CBOR reader for the seal's
 * Sig_structure and a strict DER reader for PAdES signed attributes. */
#include "gateway/sign/signreq.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gateway/sign/signproto.h"

struct rd {
	const unsigned char *p;
	size_t len, pos;
	const char *err;
};

static int bad(struct rd *r, const char *err)
{
	if (!r->err)
		r->err = err;
	return -1;
}

/* ---- CBOR: definite lengths, shortest heads only ---- */

static int cbor_head(struct rd *r, int *ret_major, uint64_t *ret_val)
{
	if (r->pos >= r->len)
		return bad(r, "the CBOR ends too early");
	unsigned char b = r->p[r->pos++];
	int ai = b & 31;
	uint64_t v = 0;
	size_t n = ai < 24 ? 0 : ai == 24 ? 1 : ai == 25 ? 2 : ai == 26 ? 4 : ai == 27 ? 8 : 99;
	if (n == 99)
		return bad(r, "an indefinite or reserved CBOR length");
	if (r->len - r->pos < n)
		return bad(r, "the CBOR ends too early");
	if (n == 0)
		v = (uint64_t)ai;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[r->pos++];
	if ((n == 1 && v < 24) || (n == 2 && v < 256) || (n == 4 && v < 65536) ||
	    (n == 8 && v < ((uint64_t)1 << 32)))
		return bad(r, "a CBOR head not in its shortest form");
	*ret_major = b >> 5;
	*ret_val = v;
	return 0;
}

static int cbor_expect(struct rd *r, int major, uint64_t val, const char *err)
{
	int m;
	uint64_t v;
	if (cbor_head(r, &m, &v) < 0)
		return -1;
	return m == major && v == val ? 0 : bad(r, err);
}

static int cbor_uint(struct rd *r, uint64_t *ret, const char *err)
{
	int m;
	if (cbor_head(r, &m, ret) < 0)
		return -1;
	return m == 0 ? 0 : bad(r, err);
}

/* A byte (major 2) or text (major 3) string of min..max bytes: *ret points into the data. */
static int cbor_str(struct rd *r, int major, size_t min, size_t max, const unsigned char **ret,
		    size_t *ret_len, const char *err)
{
	int m;
	uint64_t v;
	if (cbor_head(r, &m, &v) < 0)
		return -1;
	if (m != major || v < min || v > max || v > r->len - r->pos)
		return bad(r, err);
	*ret = r->p + r->pos;
	*ret_len = (size_t)v;
	r->pos += (size_t)v;
	return 0;
}

/* The seal's payload map, exactly as docs/seal.md defines it. */
static int seal_payload(struct rd *r, struct signreq_info *ret)
{
	const unsigned char *s;
	size_t n;
	uint64_t t;
	if (cbor_expect(r, 5, 4, "the payload is not a map of 4 entries") < 0 ||
	    cbor_expect(r, 0, 1, "payload key 1 (issuer) must come first") < 0 ||
	    cbor_str(r, 3, 1, 63, &s, &n, "the issuer must be text of 1 to 63 bytes") < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return bad(r, "the issuer must be printable ASCII");
	memcpy(ret->issuer, s, n);
	ret->issuer[n] = 0;
	if (cbor_expect(r, 0, 2, "payload key 2 (time) must come second") < 0 ||
	    cbor_uint(r, &t, "the time must be an unsigned integer") < 0 ||
	    cbor_expect(r, 0, 3, "payload key 3 (copy number) must come third") < 0 ||
	    cbor_expect(r, 4, 3, "the copy number must be an array of 3") < 0 ||
	    cbor_uint(r, &ret->year, "the copy year must be an unsigned integer") < 0 ||
	    cbor_uint(r, &ret->book, "the copy book must be an unsigned integer") < 0 ||
	    cbor_uint(r, &ret->number, "the copy number must be an unsigned integer") < 0)
		return -1;
	if (ret->year < 1 || ret->year > 9999 || ret->book < 1 || ret->book >= ((uint64_t)1 << 32) ||
	    ret->number < 1 || ret->number >= ((uint64_t)1 << 32))
		return bad(r, "the copy number is out of range");
	if (cbor_expect(r, 0, 4, "payload key 4 (original) must come fourth") < 0 ||
	    cbor_str(r, 2, 32, 32, &s, &n, "the original's hash must be 32 bytes") < 0)
		return -1;
	return r->pos == r->len ? 0 : bad(r, "extra bytes after the payload map");
}

static int check_seal(const unsigned char *data, size_t len, struct signreq_info *ret, const char **err)
{
	static const unsigned char prot[] = { 0xa1, 0x01, 0x26 };
	struct rd r = { data, len, 0, NULL }, pr;
	const unsigned char *s;
	size_t n;
	if (cbor_expect(&r, 4, 4, "not a Sig_structure (an array of 4)") == 0 &&
	    cbor_str(&r, 3, 10, 10, &s, &n, "the context must be \"Signature1\"") == 0 &&
	    (memcmp(s, "Signature1", 10) == 0 || bad(&r, "the context must be \"Signature1\"") == 0) &&
	    cbor_str(&r, 2, 3, 3, &s, &n, "the protected header must be {1: -7} (ES256)") == 0 &&
	    (memcmp(s, prot, 3) == 0 || bad(&r, "the protected header must be {1: -7} (ES256)") == 0) &&
	    cbor_str(&r, 2, 0, 0, &s, &n, "the external data must be empty") == 0 &&
	    cbor_str(&r, 2, 1, 256, &s, &n, "the payload must be a byte string of 1 to 256 bytes") == 0) {
		if (r.pos != r.len) {
			*err = "extra bytes after the Sig_structure";
			return -1;
		}
		pr = (struct rd){ s, n, 0, NULL };
		if (seal_payload(&pr, ret) == 0)
			return 0;
		*err = pr.err;
		return -1;
	}
	*err = r.err;
	return -1;
}

/* ---- DER: one-byte tags, definite minimal lengths ---- */

/* Reads one TLV with the given tag: *ret is its content inside r. */
static int der_tlv(struct rd *r, unsigned char tag, struct rd *ret, const char *err)
{
	if (r->len - r->pos < 2 || r->p[r->pos] != tag)
		return bad(r, err);
	size_t at = r->pos + 1, n;
	unsigned char l = r->p[at++];
	if (l < 0x80) {
		n = l;
	} else if (l == 0x81) {
		if (at >= r->len || r->p[at] < 0x80)
			return bad(r, "a DER length not in its shortest form");
		n = r->p[at++];
	} else if (l == 0x82) {
		if (r->len - at < 2 || r->p[at] == 0)
			return bad(r, "a DER length not in its shortest form");
		n = (size_t)r->p[at] << 8 | r->p[at + 1];
		at += 2;
	} else {
		return bad(r, "a DER length over 65535");
	}
	if (n > r->len - at)
		return bad(r, "the DER ends too early");
	*ret = (struct rd){ r->p + at, n, 0, NULL };
	r->pos = at + n;
	return 0;
}

static int is_oid(const struct rd *o, const unsigned char *der, size_t len)
{
	return o->len == len && memcmp(o->p, der, len) == 0;
}

static const unsigned char OID_CONTENT_TYPE[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03 };
static const unsigned char OID_MESSAGE_DIGEST[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04 };
static const unsigned char OID_SIGNING_CERT_V2[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
						     0x01, 0x09, 0x10, 0x02, 0x2f };
static const unsigned char OID_DATA[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const unsigned char OID_SHA256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };

/* SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2 } naming one
 * certificate: ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING,
 * issuerSerial OPTIONAL }, certHash = SHA-256 of our certificate. */
static int signing_cert(struct rd *v, const unsigned char cert_sha256[32])
{
	struct rd scv2, certs, id, x, alg, oid;
	if (der_tlv(v, 0x30, &scv2, "signing-certificate-v2 is not a SEQUENCE") < 0)
		return -1;
	if (v->pos != v->len)
		return bad(v, "signing-certificate-v2 has more than one value");
	if (der_tlv(&scv2, 0x30, &certs, "signing-certificate-v2 has no certificate list") < 0)
		return bad(v, scv2.err);
	if (scv2.pos != scv2.len)
		return bad(v, "signing-certificate-v2 carries policies");
	if (der_tlv(&certs, 0x30, &id, "signing-certificate-v2 names no certificate") < 0)
		return bad(v, certs.err);
	if (certs.pos != certs.len)
		return bad(v, "signing-certificate-v2 names more than one certificate");
	if (id.len > 0 && id.p[0] == 0x30) { /* hashAlgorithm present: sha256 only */
		if (der_tlv(&id, 0x30, &alg, "bad hash algorithm") < 0 ||
		    der_tlv(&alg, 0x06, &oid, "bad hash algorithm") < 0 ||
		    !is_oid(&oid, OID_SHA256, sizeof(OID_SHA256)))
			return bad(v, "signing-certificate-v2 does not use SHA-256");
		if (alg.pos != alg.len &&
		    !(alg.len - alg.pos == 2 && alg.p[alg.pos] == 0x05 && alg.p[alg.pos + 1] == 0))
			return bad(v, "signing-certificate-v2 has bad hash parameters");
	}
	if (der_tlv(&id, 0x04, &x, "signing-certificate-v2 has no certificate hash") < 0)
		return bad(v, id.err);
	if (x.len != 32 || memcmp(x.p, cert_sha256, 32) != 0)
		return bad(v, "signing-certificate-v2 names another certificate than the signer's");
	if (id.pos != id.len && der_tlv(&id, 0x30, &x, "bad issuerSerial") < 0)
		return bad(v, id.err);
	return id.pos == id.len ? 0 : bad(v, "extra items in signing-certificate-v2");
}

static int check_pades(const unsigned char *data, size_t len, const unsigned char cert_sha256[32],
		       struct signreq_info *ret, const char **err)
{
	struct rd top = { data, len, 0, NULL }, set, attr, oid, vals, v;
	int seen_ct = 0, seen_md = 0, seen_sc = 0;

	*err = NULL;
	if (der_tlv(&top, 0x31, &set, "not a SET of signed attributes") < 0 || top.pos != top.len) {
		*err = top.err ? top.err : "extra bytes after the signed attributes";
		return -1;
	}
	while (set.pos < set.len) {
		if (der_tlv(&set, 0x30, &attr, "a signed attribute is not a SEQUENCE") < 0 ||
		    der_tlv(&attr, 0x06, &oid, "a signed attribute has no type") < 0 ||
		    der_tlv(&attr, 0x31, &vals, "a signed attribute has no value set") < 0 ||
		    attr.pos != attr.len) {
			*err = set.err ? set.err : attr.err ? attr.err : "extra items in a signed attribute";
			return -1;
		}
		if (is_oid(&oid, OID_CONTENT_TYPE, sizeof(OID_CONTENT_TYPE)) && !seen_ct++) {
			if (der_tlv(&vals, 0x06, &v, "content-type is not an OID") < 0 ||
			    !is_oid(&v, OID_DATA, sizeof(OID_DATA)) || vals.pos != vals.len) {
				*err = "content-type must be id-data alone";
				return -1;
			}
		} else if (is_oid(&oid, OID_MESSAGE_DIGEST, sizeof(OID_MESSAGE_DIGEST)) && !seen_md++) {
			if (der_tlv(&vals, 0x04, &v, "message-digest is not an OCTET STRING") < 0 ||
			    v.len != 32 || vals.pos != vals.len) {
				*err = "message-digest must be one 32-byte SHA-256";
				return -1;
			}
			memcpy(ret->content_md, v.p, 32);
		} else if (is_oid(&oid, OID_SIGNING_CERT_V2, sizeof(OID_SIGNING_CERT_V2)) && !seen_sc++) {
			if (signing_cert(&vals, cert_sha256) < 0) {
				*err = vals.err;
				return -1;
			}
		} else {
			*err =
			    "an attribute other than content-type, message-digest, signing-certificate-v2, "
			    "or one given twice";
			return -1;
		}
	}
	if (!seen_ct || !seen_md || !seen_sc) {
		*err = "content-type, message-digest or signing-certificate-v2 is missing";
		return -1;
	}
	return 0;
}

int signreq_check(int kind, const unsigned char *data, size_t len, const unsigned char cert_sha256[32],
		  struct signreq_info *ret, char *why, size_t whylen)
{
	struct signreq_info info;
	const char *err = NULL;
	int r = -1;

	memset(&info, 0, sizeof(info));
	info.kind = kind;
	if (len == 0 || len > SIGN_DATA_MAX)
		err = "empty or too long";
	else if (kind == SIGN_KIND_SEAL)
		r = check_seal(data, len, &info, &err);
	else if (kind == SIGN_KIND_PADES)
		r = check_pades(data, len, cert_sha256, &info, &err);
	else
		err = "neither a seal nor a PAdES signature";
	if (r < 0) {
		snprintf(why, whylen, "%s", err ? err : "malformed");
		return -EPERM;
	}
	if (EVP_Digest(data, len, info.digest, NULL, EVP_sha256(), NULL) != 1) {
		snprintf(why, whylen, "cannot hash the request");
		return -EIO;
	}
	*ret = info;
	return 0;
}
