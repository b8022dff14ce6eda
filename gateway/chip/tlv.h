/* BER-TLV as cards and ICAO 9303 use it: tags of one to three bytes, definite lengths of up
 * to four bytes.  Views into the caller's buffer, no copies, no allocation. */
#ifndef MOTCUA_CHIP_TLV_H
#define MOTCUA_CHIP_TLV_H

#include <stddef.h>
#include <stdint.h>

struct tlv {
	uint32_t tag; /* the tag bytes as one number: 0x5F1F, 0x7F61, 0x30 */
	int constructed;
	const uint8_t *value;
	size_t len;
	size_t total; /* tag + length + value bytes */
};

/* Reads the TLV at buf[*pos] (at most len bytes in all) and moves *pos past it.  Returns 0,
 * -ENODATA at the end of the buffer, -EPROTO when the bytes are not a well-formed TLV that
 * fits (indefinite length, a tag over three bytes, a length over the buffer). */
int tlv_next(const uint8_t *buf, size_t len, size_t *pos, struct tlv *ret);

/* Finds the first TLV with the tag among the TLVs of buf (one level, no descent).
 * Returns 0, -ENOENT when absent, -EPROTO as tlv_next. */
int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *ret);

/* Parses exactly one TLV that fills buf and has the tag (0 = any).  Returns 0 or -EPROTO. */
int tlv_whole(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *ret);

/* Writes a length field (1 to 3 bytes for n < 65536) into out; returns its size, or 0 when
 * n does not fit. */
size_t tlv_put_len(uint8_t out[3], size_t n);

#endif
