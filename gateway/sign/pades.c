/* PAdES-B-B by incremental update of a cairo PDF, and the reading of our own signed PDFs.
 * The CMS is built with OpenSSL around a public-only key: the signed attributes are added by
 * hand (content-type, message-digest, signing-certificate-v2 from CMS_CADES; never
 * signingTime, which CMS_SignerInfo_sign would add), encoded as DER SET OF in canonical order,
 * and their digest is signed by the callback. */
#include "gateway/sign/pades.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BYTERANGE_W 60 /* "[0 a b c]" padded with spaces to this width */

/* memmem limited to [from, to). */
static const unsigned char *find(const unsigned char *p, size_t from, size_t to, const char *s)
{
	size_t n = strlen(s);
	if (to < from + n)
		return NULL;
	return memmem(p + from, to - from, s, n);
}

static const unsigned char *rfind(const unsigned char *p, size_t to, const char *s)
{
	size_t n = strlen(s);
	for (size_t i = to >= n ? to - n + 1 : 0; i-- > 0;)
		if (memcmp(p + i, s, n) == 0)
			return p + i;
	return NULL;
}

static int parse_int(const unsigned char *p, const unsigned char *end, int64_t *ret,
		     const unsigned char **next)
{
	int64_t v = 0;
	int digits = 0;
	while (p < end && (*p == ' ' || *p == '\r' || *p == '\n'))
		p++;
	while (p < end && *p >= '0' && *p <= '9' && digits < 15) {
		v = v * 10 + (*p++ - '0');
		digits++;
	}
	if (!digits)
		return -EBADMSG;
	*ret = v;
	if (next)
		*next = p;
	return 0;
}

/* "key N 0 R" inside [from, to) */
static int dict_ref(const unsigned char *p, size_t from, size_t to, const char *key, int64_t *ret)
{
	const unsigned char *k = find(p, from, to, key);
	if (!k)
		return -ENOENT;
	return parse_int(k + strlen(key), p + to, ret, NULL);
}

/* Offset of "\nN 0 obj" (object N's header), searching the whole file, last one wins. */
static int find_obj(const unsigned char *p, size_t len, int64_t n, size_t *ret_body, size_t *ret_end)
{
	char hdr[40];
	snprintf(hdr, sizeof(hdr), "\n%lld 0 obj", (long long)n);
	const unsigned char *h = rfind(p, len, hdr);
	if (!h)
		return -EBADMSG;
	size_t body = (size_t)(h - p) + strlen(hdr);
	const unsigned char *e = find(p, body, len, "endobj");
	if (!e)
		return -EBADMSG;
	*ret_body = body;
	*ret_end = (size_t)(e - p);
	return 0;
}

struct buf {
	unsigned char *p;
	size_t len, cap;
	int failed;
};

static void put(struct buf *b, const void *d, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 65536;
		while (cap < b->len + n)
			cap *= 2;
		unsigned char *np = realloc(b->p, cap);
		if (!np) {
			b->failed = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void putf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = 1;
		return;
	}
	put(b, tmp, (size_t)n);
}

/* Rewrites object n's dictionary with extra entries before its closing ">>". */
static int rewrite_obj(struct buf *b, const unsigned char *pdf, size_t len, int64_t n, const char *extra,
		       size_t *ret_off)
{
	size_t body, end;
	int r = find_obj(pdf, len, n, &body, &end);
	if (r < 0)
		return r;
	const unsigned char *close = rfind(pdf, end, ">>");
	if (!close || (size_t)(close - pdf) < body || find(pdf, body, end, "stream"))
		return -EPROTO;
	*ret_off = b->len;
	putf(b, "%lld 0 obj", (long long)n);
	put(b, pdf + body, (size_t)(close - pdf) - body);
	putf(b, "   %s\n>>\nendobj\n", extra);
	return 0;
}

static int der_cmp(const void *a, const void *b)
{
	const struct {
		unsigned char *p;
		int len;
	} *x = a, *y = b;
	int n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, (size_t)n);
	return c ? c : x->len - y->len;
}

/* DER of the signed attributes as signed: SET OF Attribute in canonical (sorted) order, into
 * out (at most size bytes); its length or -errno. */
static int signed_attrs_der(CMS_SignerInfo *si, unsigned char *out, size_t size)
{
	struct {
		unsigned char *p;
		int len;
	} a[16];
	int n = CMS_signed_get_attr_count(si), total = 0, r = -EIO;
	if (n < 1 || n > 16)
		return -EIO;
	memset(a, 0, sizeof(a));
	for (int i = 0; i < n; i++) {
		a[i].len = i2d_X509_ATTRIBUTE(CMS_signed_get_attr(si, i), &a[i].p);
		if (a[i].len <= 0)
			goto out;
		total += a[i].len;
	}
	qsort(a, (size_t)n, sizeof(a[0]), der_cmp);
	unsigned char head[6];
	size_t hl;
	head[0] = 0x31;
	if (total < 128) {
		head[1] = (unsigned char)total;
		hl = 2;
	} else if (total < 256) {
		head[1] = 0x81;
		head[2] = (unsigned char)total;
		hl = 3;
	} else {
		head[1] = 0x82;
		head[2] = (unsigned char)(total >> 8);
		head[3] = (unsigned char)total;
		hl = 4;
	}
	if (hl + (size_t)total > size) {
		r = -ENOBUFS;
		goto out;
	}
	memcpy(out, head, hl);
	size_t at = hl;
	for (int i = 0; i < n; i++) {
		memcpy(out + at, a[i].p, (size_t)a[i].len);
		at += (size_t)a[i].len;
	}
	r = (int)at;
out:
	for (int i = 0; i < n; i++)
		OPENSSL_free(a[i].p);
	return r;
}

static int build_cms(const unsigned char content_md[32], const unsigned char *cert_der, size_t cert_len,
		     pades_sign_fn sign, void *ctx, unsigned char **ret_der, int *ret_len)
{
	const unsigned char *cp = cert_der;
	X509 *x = d2i_X509(NULL, &cp, (long)cert_len);
	CMS_ContentInfo *cms = NULL;
	unsigned char attrs[PADES_ATTRS_MAX], sig[80];
	size_t sl = sizeof(sig);
	int r = -EIO;

	if (!x)
		return -EINVAL;
	cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_DETACHED | CMS_BINARY);
	if (!cms)
		goto out;
	/* The public key stands in for the private one: nothing is signed here. */
	CMS_SignerInfo *si = CMS_add1_signer(cms, x, X509_get0_pubkey(x), EVP_sha256(),
					     CMS_CADES | CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL);
	if (!si)
		goto out;
	if (CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, OBJ_nid2obj(NID_pkcs7_data),
					-1) != 1 ||
	    CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING, content_md, 32) !=
		1)
		goto out;
	if (CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) >= 0 ||
	    CMS_signed_get_attr_by_NID(si, NID_id_smime_aa_signingCertificateV2, -1) < 0)
		goto out; /* PAdES baseline: ESS signing-certificate-v2, no signingTime */
	r = signed_attrs_der(si, attrs, sizeof(attrs));
	if (r < 0)
		goto out;
	r = sign(ctx, attrs, (size_t)r, sig, &sl);
	if (r < 0)
		goto out;
	r = -EIO;
	if (ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)sl) != 1)
		goto out;
	*ret_der = NULL;
	*ret_len = i2d_CMS_ContentInfo(cms, ret_der);
	r = *ret_len > 0 ? 0 : -EIO;
out:
	CMS_ContentInfo_free(cms);
	X509_free(x);
	return r;
}

int pades_sign(const unsigned char *pdf, size_t len, const unsigned char *cert_der, size_t cert_len,
	       int64_t signing_time, pades_sign_fn sign, void *ctx, unsigned char **ret_pdf, size_t *ret_len)
{
	struct buf b = { 0 };
	int64_t prev, size, root, info = -1, page = -1;
	size_t off_page, off_root, off_w, off_s, br_at, ct_at, ct_end, xref_at;
	const unsigned char *sx, *tr;
	unsigned char md[32], *cms = NULL;
	int cms_len = 0, r = -EPROTO;
	char m[40];

	/* The previous trailer: /Size, /Root, /Info and where its xref table is. */
	sx = rfind(pdf, len, "startxref");
	tr = sx ? rfind(pdf, (size_t)(sx - pdf), "trailer") : NULL;
	if (!sx || !tr || parse_int(sx + 9, pdf + len, &prev, NULL) < 0 || (size_t)prev >= len ||
	    memcmp(pdf + prev, "xref", 4) != 0)
		return -EPROTO;
	size_t ts = (size_t)(tr - pdf), te = (size_t)(sx - pdf);
	const unsigned char *sz = find(pdf, ts, te, "/Size");
	if (!sz || parse_int(sz + 5, pdf + te, &size, NULL) < 0 || dict_ref(pdf, ts, te, "/Root", &root) < 0)
		return -EPROTO;
	dict_ref(pdf, ts, te, "/Info", &info);
	/* The one page (cairo: "/Type /Page % 1"), found by its header. */
	const unsigned char *pg = find(pdf, 0, len, "<< /Type /Page %");
	if (!pg || find(pdf, (size_t)(pg - pdf) + 1, len, "<< /Type /Page %"))
		return -EPROTO; /* exactly one page */
	const unsigned char *oh = rfind(pdf, (size_t)(pg - pdf), "\n");
	oh = oh ? rfind(pdf, (size_t)(oh - pdf), "\n") : NULL;
	if (!oh || parse_int(oh + 1, pg, &page, NULL) < 0)
		return -EPROTO;

	if (pdf[len - 1] != '\n')
		put(&b, "\n", 1);
	size_t base = len + b.len;
	int64_t w = size, s = size + 1;
	char extra[96];
	snprintf(extra, sizeof(extra), "/Annots [%lld 0 R]", (long long)w);
	r = rewrite_obj(&b, pdf, len, page, extra, &off_page);
	if (r < 0)
		goto out;
	snprintf(extra, sizeof(extra), "/AcroForm << /Fields [%lld 0 R] /SigFlags 3 >>", (long long)w);
	r = rewrite_obj(&b, pdf, len, root, extra, &off_root);
	if (r < 0)
		goto out;
	off_w = b.len;
	putf(&b,
	     "%lld 0 obj\n<< /Type /Annot /Subtype /Widget /FT /Sig /F 132 /Rect [0 0 0 0] /P %lld 0 R "
	     "/T (Chu ky so) /V %lld 0 R >>\nendobj\n",
	     (long long)w, (long long)page, (long long)s);
	time_t t = (time_t)signing_time + 7 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(m, sizeof(m), "D:%Y%m%d%H%M%S+07'00'", &tm);
	off_s = b.len;
	putf(&b, "%lld 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (%s)\n",
	     (long long)s, m);
	put(&b, "   /ByteRange ", 14);
	br_at = b.len;
	for (int i = 0; i < BYTERANGE_W; i++)
		put(&b, " ", 1);
	put(&b, "\n   /Contents ", 14);
	ct_at = b.len;
	put(&b, "<", 1);
	for (int i = 0; i < 2 * PADES_CONTENTS_MAX; i++)
		put(&b, "0", 1);
	put(&b, ">", 1);
	ct_end = b.len;
	putf(&b, " >>\nendobj\n");
	xref_at = b.len;
	putf(&b, "xref\n%lld 1\n%010zu 00000 n \n", (long long)page, base + off_page);
	putf(&b, "%lld 1\n%010zu 00000 n \n", (long long)root, base + off_root);
	putf(&b, "%lld 2\n%010zu 00000 n \n%010zu 00000 n \n", (long long)w, base + off_w, base + off_s);
	putf(&b, "trailer\n<< /Size %lld /Root %lld 0 R", (long long)(size + 2), (long long)root);
	if (info >= 0)
		putf(&b, " /Info %lld 0 R", (long long)info);
	putf(&b, " /Prev %lld >>\nstartxref\n%zu\n%%%%EOF\n", (long long)prev, base + xref_at);
	if (b.failed) {
		r = -ENOMEM;
		goto out;
	}

	/* The whole file: the original, then the update. */
	unsigned char *all = malloc(base + b.len);
	if (!all) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(all, pdf, len);
	memcpy(all + len, b.p, b.len);
	size_t total = base + b.len;
	int64_t a = (int64_t)(base + ct_at), c0 = (int64_t)(base + ct_end);
	char br[BYTERANGE_W + 1];
	int n = snprintf(br, sizeof(br), "[0 %lld %lld %lld]", (long long)a, (long long)c0,
			 (long long)((int64_t)total - c0));
	if (n < 0 || n > BYTERANGE_W) {
		free(all);
		r = -EIO;
		goto out;
	}
	memcpy(all + base + br_at, br, (size_t)n);

	EVP_MD_CTX *h = EVP_MD_CTX_new();
	r = h && EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1 && EVP_DigestUpdate(h, all, (size_t)a) == 1 &&
		EVP_DigestUpdate(h, all + c0, total - (size_t)c0) == 1 && EVP_DigestFinal_ex(h, md, NULL) == 1
	    ? 0
	    : -EIO;
	EVP_MD_CTX_free(h);
	if (r == 0)
		r = build_cms(md, cert_der, cert_len, sign, ctx, &cms, &cms_len);
	if (r == 0 && cms_len > PADES_CONTENTS_MAX)
		r = -ENOBUFS;
	if (r < 0) {
		free(all);
		goto out;
	}
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < cms_len; i++) {
		all[a + 1 + 2 * i] = (unsigned char)hex[cms[i] >> 4];
		all[a + 2 + 2 * i] = (unsigned char)hex[cms[i] & 15];
	}
	*ret_pdf = all;
	*ret_len = total;
	r = 0;
out:
	OPENSSL_free(cms);
	free(b.p);
	return r;
}

static int hexval(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	    : c >= 'a' && c <= 'f'  ? c - 'a' + 10
	    : c >= 'A' && c <= 'F'  ? c - 'A' + 10
				    : -1;
}

int pades_find_signature(const unsigned char *pdf, size_t len, struct pades_sig *ret)
{
	const unsigned char *br = rfind(pdf, len, "/ByteRange");
	struct pades_sig s;
	const unsigned char *p;

	memset(&s, 0, sizeof(s));
	if (!br)
		return -ENOENT;
	p = br + 10;
	while (p < pdf + len && (*p == ' ' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= pdf + len || *p++ != '[')
		return -EBADMSG;
	for (int i = 0; i < 4; i++)
		if (parse_int(p, pdf + len, &s.range[i], &p) < 0)
			return -EBADMSG;
	if (s.range[0] != 0 || s.range[1] <= 0 || s.range[2] <= s.range[1] || s.range[3] < 0 ||
	    s.range[2] + s.range[3] > (int64_t)len || s.range[1] >= (int64_t)len)
		return -EBADMSG;
	/* The excluded gap must be exactly the /Contents hex string. */
	const unsigned char *g = pdf + s.range[1], *ge = pdf + s.range[2];
	if (*g != '<' || ge[-1] != '>' || (ge - g - 2) % 2 != 0 || ge - g - 2 > 2 * PADES_CONTENTS_MAX)
		return -EBADMSG;
	size_t hl = (size_t)(ge - g - 2);
	s.cms = malloc(hl / 2 + 1);
	if (!s.cms)
		return -ENOMEM;
	for (size_t i = 0; i < hl / 2; i++) {
		int hi = hexval(g[1 + 2 * i]), lo = hexval(g[2 + 2 * i]);
		if (hi < 0 || lo < 0) {
			free(s.cms);
			return -EBADMSG;
		}
		s.cms[i] = (unsigned char)(hi << 4 | lo);
	}
	/* Trailing zero padding is not part of the DER. */
	s.cms_len = hl / 2;
	s.whole = s.range[2] + s.range[3] == (int64_t)len;
	*ret = s;
	return 0;
}

int pades_find_jpeg(const unsigned char *pdf, size_t limit, const unsigned char **ret, size_t *ret_len)
{
	const unsigned char *f = find(pdf, 0, limit, "/Filter /DCTDecode");
	if (!f)
		return -ENOENT;
	size_t at = (size_t)(f - pdf);
	const unsigned char *ds = rfind(pdf, at, "<<"), *st = find(pdf, at, limit, "stream");
	if (!ds || !st)
		return -EBADMSG;
	size_t dstart = (size_t)(ds - pdf), dend = (size_t)(st - pdf);
	const unsigned char *lk = find(pdf, dstart, dend, "/Length ");
	int64_t n, ref;
	const unsigned char *after;
	if (!lk || parse_int(lk + 8, pdf + dend, &n, &after) < 0)
		return -EBADMSG;
	/* "/Length N 0 R": an indirect length. */
	if (after + 4 <= pdf + dend && memcmp(after, " 0 R", 4) == 0) {
		size_t body, end;
		ref = n;
		if (find_obj(pdf, limit, ref, &body, &end) < 0 ||
		    parse_int(pdf + body, pdf + end, &n, NULL) < 0)
			return -EBADMSG;
	}
	size_t data = dend + 6;
	if (data < limit && pdf[data] == '\r')
		data++;
	if (data < limit && pdf[data] == '\n')
		data++;
	if (n < 0 || (int64_t)(limit - data) < n)
		return -EBADMSG;
	*ret = pdf + data;
	*ret_len = (size_t)n;
	return 0;
}

int pades_find_keywords(const unsigned char *pdf, size_t limit, char *out, size_t outlen)
{
	const unsigned char *k = find(pdf, 0, limit, "/Keywords (");
	if (!k)
		return -ENOENT;
	size_t s = (size_t)(k - pdf) + 11, i = 0;
	while (s + i < limit && pdf[s + i] != ')' && i + 1 < outlen)
		i++;
	if (s + i >= limit || pdf[s + i] != ')')
		return -EBADMSG;
	memcpy(out, pdf + s, i);
	out[i] = '\0';
	return 0;
}
