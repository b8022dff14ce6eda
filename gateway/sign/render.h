/* The certified copy's page: the original scan (a JPEG embedded byte for byte, never
 * decoded or re-encoded), the certification text in Vietnamese, a watermark and the QR seal,
 * drawn with cairo and pango into a one-page PDF. */
#ifndef MOTCUA_RENDER_H
#define MOTCUA_RENDER_H

#include <stddef.h>
#include <stdint.h>

struct render_input {
	const unsigned char *jpeg; /* the original scan, embedded unchanged */
	size_t jpeg_len;
	const char *commune; /* [gateway] commune_name */
	const char *official; /* the official who certifies (UTF-8) */
	const char *number_text; /* "123, quyển số 01/2026-SCT/BS" */
	int64_t time; /* signing time (printed as the date in Hà Nội) */
	const char *seal; /* "VNCC1:..." printed as the QR code and kept in /Keywords */
	const char *signer; /* the signing certificate's subject name, printed */
	int test_key; /* the key is a TEST key: the watermark says the copy has no legal value */
};

/* Width, height and components of a baseline or progressive JPEG from its SOF marker.
 * -EMEDIUMTYPE when jpeg is not a JPEG we can embed (hostile input: bounded walk). */
int render_jpeg_info(const unsigned char *jpeg, size_t len, int *ret_w, int *ret_h, int *ret_comps);

/* Renders the PDF (classic xref table, as cairo writes it) into a malloc'd buffer owned by
 * the caller.  Returns 0, -EMEDIUMTYPE (not an embeddable JPEG), -ENOMEM or -EIO. */
int render_copy_pdf(const struct render_input *in, unsigned char **ret_pdf, size_t *ret_len);

#endif
