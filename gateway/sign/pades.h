/* PAdES-B-B signing of a cairo PDF by incremental update (signature field, /ByteRange,
 * /Contents placeholder, detached CMS with SubFilter ETSI.CAdES.detached, the
 * signing-certificate-v2 attribute and no signingTime), and the reading side used by the
 * verifier.  The private key is never here: the signature of the signed attributes' digest
 * comes from a callback (motcua-signer). */
#ifndef MOTCUA_PADES_H
#define MOTCUA_PADES_H

#include <stddef.h>
#include <stdint.h>

#define PADES_CONTENTS_MAX 8192 /* bytes reserved for the CMS (hex doubles it) */
#define PADES_ATTRS_MAX 1024 /* the signed attributes' DER */

/* Makes a DER ECDSA signature (up to 72 bytes) over the SHA-256 of attrs, the DER of the
 * CMS signed attributes as signed (SET OF Attribute: content-type, message-digest,
 * signing-certificate-v2). */
typedef int (*pades_sign_fn)(void *ctx, const unsigned char *attrs, size_t len, unsigned char *der,
			     size_t *ret_len);

/* Appends the signature to pdf (which must end in a classic xref table and trailer, as
 * cairo writes it).  cert_der is the signer's certificate; signing_time goes into /M only.
 * On success *ret_pdf (malloc'd, the caller's) is the signed file.  -EPROTO when pdf is not
 * in the expected form, -ENOBUFS when the CMS would not fit, else sign's error or -EIO. */
int pades_sign(const unsigned char *pdf, size_t len, const unsigned char *cert_der, size_t cert_len,
	       int64_t signing_time, pades_sign_fn sign, void *ctx, unsigned char **ret_pdf, size_t *ret_len);

/* The last signature of a PDF: its /ByteRange and its /Contents decoded from hex (a pointer
 * into a malloc'd buffer the caller frees).  -ENOENT when there is none, -EBADMSG when it is
 * malformed. */
struct pades_sig {
	int64_t range[4];
	unsigned char *cms;
	size_t cms_len;
	int whole; /* the byte range covers the whole file except /Contents */
};
int pades_find_signature(const unsigned char *pdf, size_t len, struct pades_sig *ret);

/* The first /DCTDecode image stream inside [0, limit): *ret points into pdf.  -ENOENT or
 * -EBADMSG.  Lengths given as indirect objects are resolved. */
int pades_find_jpeg(const unsigned char *pdf, size_t limit, const unsigned char **ret, size_t *ret_len);

/* The seal text stored in /Keywords within [0, limit), into out.  -ENOENT when absent. */
int pades_find_keywords(const unsigned char *pdf, size_t limit, char *out, size_t outlen);

#endif
