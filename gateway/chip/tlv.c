/* BER-TLV reading for card data (EF.COM, data groups, SM bodies, DER inside the SOD). */
#include "gateway/chip/tlv.h"

#include <errno.h>

int tlv_next(const uint8_t *buf, size_t len, size_t *pos, struct tlv *ret)
{
	size_t p = *pos;
	if (p >= len)
		return -ENODATA;
	uint8_t first = buf[p++];
	uint32_t tag = first;
	if ((first & 0x1F) == 0x1F) {
		int n = 0;
		do {
			if (p >= len || ++n > 2)
				return -EPROTO;
			tag = (tag << 8) | buf[p];
		} while (buf[p++] & 0x80);
	}
	if (p >= len)
		return -EPROTO;
	size_t l = buf[p++];
	if (l & 0x80) {
		size_t nb = l & 0x7F;
		if (nb == 0 || nb > 4 || nb > len - p)
			return -EPROTO;
		l = 0;
		for (size_t i = 0; i < nb; i++)
			l = (l << 8) | buf[p++];
	}
	if (l > len - p)
		return -EPROTO;
	ret->tag = tag;
	ret->constructed = (first & 0x20) != 0;
	ret->value = buf + p;
	ret->len = l;
	ret->total = p + l - *pos;
	*pos = p + l;
	return 0;
}

int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *ret)
{
	size_t pos = 0;
	struct tlv t;
	int r;
	while ((r = tlv_next(buf, len, &pos, &t)) == 0) {
		if (t.tag == tag) {
			*ret = t;
			return 0;
		}
	}
	return r == -ENODATA ? -ENOENT : r;
}

int tlv_whole(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *ret)
{
	size_t pos = 0;
	struct tlv t;
	if (tlv_next(buf, len, &pos, &t) < 0 || pos != len || (tag && t.tag != tag))
		return -EPROTO;
	*ret = t;
	return 0;
}

size_t tlv_put_len(uint8_t out[3], size_t n)
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	if (n < 0x100) {
		out[0] = 0x81;
		out[1] = (uint8_t)n;
		return 2;
	}
	if (n < 0x10000) {
		out[0] = 0x82;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)n;
		return 3;
	}
	return 0;
}
