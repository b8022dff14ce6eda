/* The QR seal codec: deterministic CBOR, COSE_Sign1 (ES256) and Base45, written here because
 * the structure is fixed and small (docs/seal.md); the decoder accepts exactly that structure. */
#include "gateway/sign/seal.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char b45[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

int base45_encode(const unsigned char *in, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	if (len / 2 * 3 + (len % 2) * 2 + 1 > outlen)
		return -ENOBUFS;
	for (size_t i = 0; i + 1 < len; i += 2) {
		unsigned v = (unsigned)in[i] * 256 + in[i + 1];
		out[n++] = b45[v % 45];
		out[n++] = b45[v / 45 % 45];
		out[n++] = b45[v / 2025];
	}
	if (len % 2) {
		unsigned v = in[len - 1];
		out[n++] = b45[v % 45];
		out[n++] = b45[v / 45];
	}
	out[n] = '\0';
	return (int)n;
}

static int b45_value(char c)
{
	const char *p = c ? strchr(b45, c) : NULL;
	return p ? (int)(p - b45) : -1;
}

int base45_decode(const char *in, size_t len, unsigned char *out, size_t outlen)
{
	size_t n = 0;
	if (len % 3 == 1)
		return -EBADMSG;
	for (size_t i = 0; i < len; i += 3) {
		int c = b45_value(in[i]), d = b45_value(in[i + 1]),
		    e = i + 2 < len ? b45_value(in[i + 2]) : 0;
		if (c < 0 || d < 0 || e < 0)
			return -EBADMSG;
		unsigned v = (unsigned)c + (unsigned)d * 45 + (unsigned)e * 2025;
		if (i + 2 < len) {
			if (v > 0xffff || n + 2 > outlen)
				return v > 0xffff ? -EBADMSG : -ENOBUFS;
			out[n++] = (unsigned char)(v >> 8);
			out[n++] = (unsigned char)v;
		} else {
			if (v > 0xff || n + 1 > outlen)
				return v > 0xff ? -EBADMSG : -ENOBUFS;
			out[n++] = (unsigned char)v;
		}
	}
	return (int)n;
}

/* ---- CBOR writing (deterministic: shortest heads, keys in order) ---- */
struct wbuf {
	unsigned char *p;
	size_t len, cap;
	int overflow;
};

static void put_bytes(struct wbuf *w, const void *b, size_t n)
{
	if (w->len + n > w->cap) {
		w->overflow = 1;
		return;
	}
	memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void put_head(struct wbuf *w, unsigned major, uint64_t v)
{
	unsigned char h[9];
	size_t n;
	h[0] = (unsigned char)(major << 5);
	if (v < 24) {
		h[0] |= (unsigned char)v;
		n = 1;
	} else if (v <= 0xff) {
		h[0] |= 24;
		h[1] = (unsigned char)v;
		n = 2;
	} else if (v <= 0xffff) {
		h[0] |= 25;
		h[1] = (unsigned char)(v >> 8);
		h[2] = (unsigned char)v;
		n = 3;
	} else if (v <= 0xffffffffu) {
		h[0] |= 26;
		for (int i = 0; i < 4; i++)
			h[1 + i] = (unsigned char)(v >> (24 - 8 * i));
		n = 5;
	} else {
		h[0] |= 27;
		for (int i = 0; i < 8; i++)
			h[1 + i] = (unsigned char)(v >> (56 - 8 * i));
		n = 9;
	}
	put_bytes(w, h, n);
}

static void put_bstr(struct wbuf *w, const void *b, size_t n)
{
	put_head(w, 2, n);
	put_bytes(w, b, n);
}

static const unsigned char protected_hdr[] = { 0xa1, 0x01, 0x26 }; /* {1: -7} alg ES256 */

static int payload_encode(const struct seal *s, unsigned char *out, size_t cap, size_t *ret_len)
{
	struct wbuf w = { out, 0, cap, 0 };
	size_t il = strnlen(s->issuer, SEAL_ISSUER_MAX);
	if (il == 0 || il >= SEAL_ISSUER_MAX || s->time < 0 || s->year < 1 || s->number < 1 || s->book < 1)
		return -EINVAL;
	for (size_t i = 0; i < il; i++)
		if (s->issuer[i] < 0x20 || s->issuer[i] > 0x7e)
			return -EINVAL;
	put_head(&w, 5, 4);
	put_head(&w, 0, 1);
	put_head(&w, 3, il);
	put_bytes(&w, s->issuer, il);
	put_head(&w, 0, 2);
	put_head(&w, 0, (uint64_t)s->time);
	put_head(&w, 0, 3);
	put_head(&w, 4, 3);
	put_head(&w, 0, s->year);
	put_head(&w, 0, s->book);
	put_head(&w, 0, s->number);
	put_head(&w, 0, 4);
	put_bstr(&w, s->sha256, 32);
	if (w.overflow)
		return -ENOBUFS;
	*ret_len = w.len;
	return 0;
}

/* Sig_structure = ["Signature1", protected, h'', payload] into buf; its length or -ENOBUFS. */
static int tbs_build(const unsigned char *payload, size_t plen, unsigned char *buf, size_t size)
{
	struct wbuf w = { buf, 0, size, 0 };
	put_head(&w, 4, 4);
	put_head(&w, 3, 10);
	put_bytes(&w, "Signature1", 10);
	put_bstr(&w, protected_hdr, sizeof(protected_hdr));
	put_bstr(&w, "", 0);
	put_bstr(&w, payload, plen);
	return w.overflow ? -ENOBUFS : (int)w.len;
}

/* SHA-256 of the Sig_structure. */
static int tbs_digest(const unsigned char *payload, size_t plen, unsigned char md[32])
{
	unsigned char buf[SEAL_COSE_MAX];
	int n = tbs_build(payload, plen, buf, sizeof(buf));
	if (n < 0)
		return n;
	return EVP_Digest(buf, (size_t)n, md, NULL, EVP_sha256(), NULL) == 1 ? 0 : -EIO;
}

int seal_encode(const struct seal *s, seal_sign_fn sign, void *ctx, char *out, size_t outlen)
{
	unsigned char payload[256], tbs[SEAL_COSE_MAX], sig[SEAL_SIG_LEN], cose[SEAL_COSE_MAX];
	size_t plen;
	int r = payload_encode(s, payload, sizeof(payload), &plen);
	if (r < 0)
		return r;
	r = tbs_build(payload, plen, tbs, sizeof(tbs));
	if (r < 0)
		return r;
	r = sign(ctx, tbs, (size_t)r, sig);
	if (r < 0)
		return r;
	struct wbuf w = { cose, 0, sizeof(cose), 0 };
	put_head(&w, 6, 18); /* COSE_Sign1 tag */
	put_head(&w, 4, 4);
	put_bstr(&w, protected_hdr, sizeof(protected_hdr));
	put_head(&w, 5, 1);
	put_head(&w, 0, 4);
	put_bstr(&w, s->kid, SEAL_KID_LEN);
	put_bstr(&w, payload, plen);
	put_bstr(&w, sig, sizeof(sig));
	if (w.overflow)
		return -ENOBUFS;
	size_t pl = strlen(SEAL_PREFIX);
	if (outlen < pl + 1)
		return -ENOBUFS;
	memcpy(out, SEAL_PREFIX, pl);
	r = base45_encode(cose, w.len, out + pl, outlen - pl);
	return r < 0 ? r : (int)pl + r;
}

/* ---- CBOR reading: definite lengths, shortest heads only ---- */
struct rbuf {
	const unsigned char *p;
	size_t len, pos;
	const char *err;
};

static int get_head(struct rbuf *r, unsigned *ret_major, uint64_t *ret_v)
{
	if (r->pos >= r->len) {
		r->err = "the CBOR ends too early";
		return -EBADMSG;
	}
	unsigned char b = r->p[r->pos++];
	unsigned ai = b & 31, n;
	uint64_t v = 0;
	*ret_major = b >> 5;
	if (ai < 24) {
		*ret_v = ai;
		return 0;
	}
	if (ai > 27) {
		r->err = "indefinite lengths and reserved CBOR heads are not allowed";
		return -EBADMSG;
	}
	n = 1u << (ai - 24);
	if (r->len - r->pos < n) {
		r->err = "the CBOR ends too early";
		return -EBADMSG;
	}
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | r->p[r->pos++];
	/* Deterministic CBOR: the shortest head only. */
	if ((n == 1 && v < 24) || (n == 2 && v <= 0xff) || (n == 4 && v <= 0xffff) ||
	    (n == 8 && v <= 0xffffffffu)) {
		r->err = "a CBOR number is not in its shortest form";
		return -EBADMSG;
	}
	*ret_v = v;
	return 0;
}

static int expect(struct rbuf *r, unsigned major, uint64_t v, const char *what)
{
	unsigned m;
	uint64_t got;
	if (get_head(r, &m, &got) < 0)
		return -EBADMSG;
	if (m != major || got != v) {
		r->err = what;
		return -EBADMSG;
	}
	return 0;
}

static int get_uint(struct rbuf *r, uint64_t max, uint64_t *ret, const char *what)
{
	unsigned m;
	if (get_head(r, &m, ret) < 0)
		return -EBADMSG;
	if (m != 0 || *ret > max) {
		r->err = what;
		return -EBADMSG;
	}
	return 0;
}

/* A byte or text string of major type major; points into the buffer. */
static int get_str(struct rbuf *r, unsigned major, size_t min, size_t max, const unsigned char **ret,
		   size_t *ret_len, const char *what)
{
	unsigned m;
	uint64_t n;
	if (get_head(r, &m, &n) < 0)
		return -EBADMSG;
	if (m != major || n < min || n > max) {
		r->err = what;
		return -EBADMSG;
	}
	if (r->len - r->pos < n) {
		r->err = "the CBOR ends too early";
		return -EBADMSG;
	}
	*ret = r->p + r->pos;
	*ret_len = (size_t)n;
	r->pos += (size_t)n;
	return 0;
}

static int payload_decode(const unsigned char *p, size_t len, struct seal *s, const char **err)
{
	struct rbuf r = { p, len, 0, NULL };
	const unsigned char *str;
	size_t n;
	uint64_t v;
	int rc = -EBADMSG;

	if (expect(&r, 5, 4, "the payload must be a map of exactly 4 entries") < 0 ||
	    expect(&r, 0, 1, "payload key 1 (issuer) must come first") < 0 ||
	    get_str(&r, 3, 1, SEAL_ISSUER_MAX - 1, &str, &n, "the issuer must be text of 1-63 bytes") < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (str[i] < 0x20 || str[i] > 0x7e) {
			r.err = "the issuer must be printable ASCII";
			goto out;
		}
	memcpy(s->issuer, str, n);
	s->issuer[n] = '\0';
	if (expect(&r, 0, 2, "payload key 2 (signing time) must come second") < 0 ||
	    get_uint(&r, INT64_MAX, &v, "the signing time must be an unsigned integer") < 0)
		goto out;
	s->time = (int64_t)v;
	if (expect(&r, 0, 3, "payload key 3 (copy number) must come third") < 0 ||
	    expect(&r, 4, 3, "the copy number must be an array [year, book, number]") < 0 ||
	    get_uint(&r, 9999, &v, "the copy year must be 1-9999") < 0 || v < 1)
		goto fail_num;
	s->year = (uint32_t)v;
	if (get_uint(&r, 0xffffffffu, &v, "the book must be a 32-bit unsigned integer") < 0 || v < 1)
		goto fail_num;
	s->book = (uint32_t)v;
	if (get_uint(&r, 0xffffffffu, &v, "the copy number must be a 32-bit unsigned integer") < 0 || v < 1)
		goto fail_num;
	s->number = (uint32_t)v;
	if (expect(&r, 0, 4, "payload key 4 (SHA-256 of the original) must come last") < 0 ||
	    get_str(&r, 2, 32, 32, &str, &n, "the SHA-256 must be a byte string of 32 bytes") < 0)
		goto out;
	memcpy(s->sha256, str, 32);
	if (r.pos != r.len) {
		r.err = "extra bytes after the payload map";
		goto out;
	}
	rc = 0;
	goto out;
fail_num:
	if (!r.err)
		r.err = "year, book and number start at 1";
out:
	*err = r.err;
	return rc;
}

static int set_why(char *why, size_t whylen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_why(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	if (why && whylen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int seal_decode(const char *text, size_t len, struct seal_decoded *ret, char *why, size_t whylen)
{
	unsigned char cose[SEAL_COSE_MAX];
	const unsigned char *str, *payload;
	size_t pl = strlen(SEAL_PREFIX), n, plen;
	struct seal_decoded d;

	memset(&d, 0, sizeof(d));
	while (len && (text[0] == ' ' || text[0] == '\t' || text[0] == '\r' || text[0] == '\n')) {
		text++;
		len--;
	}
	while (
	    len &&
	    (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r' || text[len - 1] == '\n'))
		len--;
	if (len < pl || memcmp(text, SEAL_PREFIX, pl) != 0)
		return set_why(why, whylen, -EPROTO, "not a motcua seal: it does not start with %s",
			       SEAL_PREFIX);
	if (len - pl > SEAL_COSE_MAX / 2 * 3)
		return set_why(why, whylen, -EBADMSG, "the seal is too long (%zu characters)", len);
	int cl = base45_decode(text + pl, len - pl, cose, sizeof(cose));
	if (cl < 0)
		return set_why(why, whylen, -EBADMSG, "the seal is not valid Base45 (damaged or mistyped)");

	struct rbuf r = { cose, (size_t)cl, 0, NULL };
	if (expect(&r, 6, 18, "the seal is not a COSE_Sign1 (tag 18)") < 0 ||
	    expect(&r, 4, 4, "COSE_Sign1 must be an array of 4") < 0 ||
	    get_str(&r, 2, 0, 16, &str, &n, "the protected header must be a byte string") < 0)
		goto bad;
	if (n != sizeof(protected_hdr) || memcmp(str, protected_hdr, n) != 0) {
		r.err = "the protected header must be exactly {1: -7} (ES256)";
		goto bad;
	}
	if (expect(&r, 5, 1, "the unprotected header must be a map with only the key id (4)") < 0 ||
	    expect(&r, 0, 4, "the unprotected header must be a map with only the key id (4)") < 0 ||
	    get_str(&r, 2, SEAL_KID_LEN, SEAL_KID_LEN, &str, &n, "the key id must be 8 bytes") < 0)
		goto bad;
	memcpy(d.seal.kid, str, SEAL_KID_LEN);
	if (get_str(&r, 2, 1, 256, &payload, &plen, "the payload must be a byte string of 1-256 bytes") < 0)
		goto bad;
	if (get_str(&r, 2, SEAL_SIG_LEN, SEAL_SIG_LEN, &str, &n, "the signature must be 64 bytes (ES256)") <
	    0)
		goto bad;
	memcpy(d.sig, str, SEAL_SIG_LEN);
	if (r.pos != r.len) {
		r.err = "extra bytes after the COSE_Sign1";
		goto bad;
	}
	if (payload_decode(payload, plen, &d.seal, &r.err) < 0)
		goto bad;
	if (tbs_digest(payload, plen, d.tbs_sha256) < 0)
		return set_why(why, whylen, -EIO, "cannot hash the seal");
	*ret = d;
	return 0;
bad:
	return set_why(why, whylen, -EBADMSG, "malformed seal: %s", r.err ? r.err : "bad structure");
}

int seal_check_signature(const struct seal_decoded *d, const void *evp_pkey)
{
	EVP_PKEY *pk = (EVP_PKEY *)evp_pkey;
	char group[32] = "";
	unsigned char der[80], *p = der;
	int rc = -EBADMSG;

	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
	    strcmp(group, "prime256v1") != 0)
		return -EINVAL;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(d->sig, 32, NULL), *bs = BN_bin2bn(d->sig + 32, 32, NULL);
	if (!sig || !br || !bs || !ECDSA_SIG_set0(sig, br, bs)) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(sig);
		return -ENOMEM;
	}
	int dl = i2d_ECDSA_SIG(sig, &p);
	ECDSA_SIG_free(sig);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	if (dl > 0 && ctx && EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_verify(ctx, der, (size_t)dl, d->tbs_sha256, 32) == 1)
		rc = 0;
	EVP_PKEY_CTX_free(ctx);
	return rc;
}

int seal_sig_from_der(const unsigned char *der, size_t len, unsigned char ret_sig[SEAL_SIG_LEN])
{
	const unsigned char *p = der;
	const BIGNUM *br, *bs;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	int rc = -EBADMSG;
	if (!sig)
		return -EBADMSG;
	ECDSA_SIG_get0(sig, &br, &bs);
	if (p == der + len && BN_bn2binpad(br, ret_sig, 32) == 32 && BN_bn2binpad(bs, ret_sig + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

int seal_kid_of(const unsigned char *der, size_t len, unsigned char ret_kid[SEAL_KID_LEN])
{
	unsigned char md[32];
	if (EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL) != 1)
		return -EIO;
	memcpy(ret_kid, md, SEAL_KID_LEN);
	return 0;
}

void seal_number_text(const struct seal *s, char *out, size_t outlen)
{
	snprintf(out, outlen, "%u, quyển số %02u/%u-SCT/BS", s->number, s->book, s->year);
}
