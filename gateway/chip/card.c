/* PC/SC transport and the ICAO 9303 command sequence (select, BAC, read binary). */
#include "gateway/chip/card.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/chip/lds.h"
#include "gateway/chip/tlv.h"
#include "gateway/log.h"

#ifndef SCARD_E_NO_READERS_AVAILABLE
#define SCARD_E_NO_READERS_AVAILABLE 0x8010002E
#endif

const char *card_strerror(LONG rv)
{
	return pcsc_stringify_error(rv);
}

static int map(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS: return 0;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_RESET_CARD:
	case SCARD_W_UNPOWERED_CARD:
	case SCARD_W_UNRESPONSIVE_CARD: return -ENOMEDIUM;
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_NO_READERS_AVAILABLE:
	case SCARD_E_UNKNOWN_READER: return -ENODEV;
	case SCARD_E_TIMEOUT: return -ETIMEDOUT;
	case SCARD_E_NO_SERVICE:
	case SCARD_E_SERVICE_STOPPED: return -ECONNREFUSED;
	default: return -EIO;
	}
}

int card_init(struct card *c)
{
	memset(c, 0, sizeof(*c));
	c->buf = malloc(SM_APDU_MAX + 2);
	c->plain = malloc(SM_APDU_MAX + 2);
	if (!c->buf || !c->plain)
		return -ENOMEM;
	LONG rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->ctx);
	if (rv != SCARD_S_SUCCESS) {
		log_error("pcscd: %s", card_strerror(rv));
		return -ECONNREFUSED;
	}
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int card_connect(struct card *c, const char *pattern, int wait_ms)
{
	char *names = NULL;
	DWORD len = SCARD_AUTOALLOCATE;
	SCARD_READERSTATE st[8];
	int n = 0, r;
	long deadline = now_ms() + wait_ms;
	for (;;) {
		len = SCARD_AUTOALLOCATE;
		LONG rv = SCardListReaders(c->ctx, NULL, (LPSTR)&names, &len);
		if (rv == SCARD_S_SUCCESS)
			break;
		if (rv != SCARD_E_NO_READERS_AVAILABLE || now_ms() >= deadline)
			return map(rv) == -EIO ? -ENODEV : map(rv);
		/* No reader yet: wait for one to be plugged in (pcscd's pseudo reader). */
		SCARD_READERSTATE pnp = { .szReader = "\\\\?PnP?\\Notification" };
		SCardGetStatusChange(c->ctx, (DWORD)(deadline - now_ms()), &pnp, 1);
	}
	for (char *p = names; *p && n < 8; p += strlen(p) + 1) {
		if (pattern && *pattern && !strstr(p, pattern))
			continue;
		memset(&st[n], 0, sizeof(st[n]));
		st[n].szReader = p;
		st[n].dwCurrentState = SCARD_STATE_UNAWARE;
		n++;
	}
	if (n == 0) {
		r = -ENODEV;
		goto out;
	}
	for (;;) {
		long left = deadline - now_ms();
		LONG rv = SCardGetStatusChange(c->ctx, left > 0 ? (DWORD)left : 0, st, (DWORD)n);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT) {
			r = map(rv);
			goto out;
		}
		for (int i = 0; i < n; i++) {
			if (!(st[i].dwEventState & SCARD_STATE_PRESENT) ||
			    (st[i].dwEventState & SCARD_STATE_MUTE))
				continue;
			rv = SCardConnect(c->ctx, st[i].szReader, SCARD_SHARE_EXCLUSIVE,
					  SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->h, &c->proto);
			if (rv == SCARD_S_SUCCESS) {
				snprintf(c->reader, sizeof(c->reader), "%s", st[i].szReader);
				c->connected = 1;
				r = 0;
				goto out;
			}
			log_warn("cannot connect to the card in %s: %s", st[i].szReader, card_strerror(rv));
		}
		if (now_ms() >= deadline) {
			r = -ETIMEDOUT;
			goto out;
		}
		for (int i = 0; i < n; i++)
			st[i].dwCurrentState = st[i].dwEventState;
	}
out:
	SCardFreeMemory(c->ctx, names);
	return r;
}

/* After a failed exchange: was the card taken out?  pcscd notices on its next poll of the
 * reader, so wait a little for the slot to report empty. */
static int card_gone(struct card *c)
{
	SCARD_READERSTATE st = { .szReader = c->reader, .dwCurrentState = SCARD_STATE_UNAWARE };
	for (int i = 0; i < 3; i++) {
		LONG rv = SCardGetStatusChange(c->ctx, i == 0 ? 0 : 1000, &st, 1);
		if (rv != SCARD_S_SUCCESS && rv != SCARD_E_TIMEOUT)
			return rv == SCARD_E_UNKNOWN_READER || rv == SCARD_E_READER_UNAVAILABLE;
		if (st.dwEventState & (SCARD_STATE_EMPTY | SCARD_STATE_UNAVAILABLE))
			return 1;
		st.dwCurrentState = st.dwEventState & ~(DWORD)SCARD_STATE_CHANGED;
	}
	return 0;
}

/* One raw exchange; the response (with SW) goes into c->buf. */
static int transmit(struct card *c, const uint8_t *apdu, size_t n, size_t *ret_len)
{
	DWORD rl = SM_APDU_MAX + 2;
	const SCARD_IO_REQUEST *pci = c->proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	c->apdus++;
	LONG rv = SCardTransmit(c->h, pci, apdu, (DWORD)n, NULL, c->buf, &rl);
	if (rv != SCARD_S_SUCCESS) {
		log_debug("transmit: %s", card_strerror(rv));
		int r = map(rv);
		return r == -EIO && card_gone(c) ? -ENOMEDIUM : r;
	}
	if (rl < 2) /* vpcd answers nothing once its card has gone; a reader may do the same */
		return card_gone(c) ? -ENOMEDIUM : -EPROTO;
	*ret_len = rl;
	return 0;
}

/* A plain APDU in short or extended form. */
static size_t plain_apdu(const uint8_t hdr[4], const uint8_t *data, size_t dlen, size_t ne, int ext,
			 uint8_t *out)
{
	size_t n = 4;
	memcpy(out, hdr, 4);
	int e = ext || dlen > 255 || ne > 256;
	if (dlen) {
		if (e) {
			out[n++] = 0;
			out[n++] = (uint8_t)(dlen >> 8);
		}
		out[n++] = (uint8_t)dlen;
		memcpy(out + n, data, dlen);
		n += dlen;
	}
	if (ne) {
		if (e) {
			if (!dlen)
				out[n++] = 0;
			out[n++] = (uint8_t)((ne == 65536 ? 0 : ne) >> 8);
		}
		out[n++] = (uint8_t)(ne == 256 || ne == 65536 ? 0 : ne);
	}
	return n;
}

int card_cmd(struct card *c, const uint8_t hdr[4], const uint8_t *data, size_t dlen, size_t ne, uint8_t *out,
	     size_t cap, size_t *ret_len, unsigned *ret_sw)
{
	static uint8_t apdu[SM_APDU_MAX + 16];
	size_t an, rl = 0;
	int r;
	if (dlen > 0xFF00 || ne > 65536)
		return -EMSGSIZE;
	if (c->secure) {
		r = sm_wrap(&c->sm, hdr, data, dlen, ne, c->extended && ne > 256, apdu, sizeof(apdu));
		if (r < 0)
			return r;
		an = (size_t)r;
	} else {
		an = plain_apdu(hdr, data, dlen, ne, 0, apdu);
	}
	if ((r = transmit(c, apdu, an, &rl)) < 0)
		return r;
	unsigned sw = ((unsigned)c->buf[rl - 2] << 8) | c->buf[rl - 1];
	if (!c->secure) {
		if (rl - 2 > cap)
			return -EMSGSIZE;
		memcpy(out, c->buf, rl - 2);
		*ret_len = rl - 2;
		*ret_sw = sw;
		return 0;
	}
	if (rl == 2) {
		/* A plain status under SM: 6987/6988 end the session; others (6Axx, 6700 from a
		 * reader) come without the card's MAC and cannot be trusted beyond "failed". */
		if (sw == 0x6987 || sw == 0x6988)
			c->secure = 0;
		*ret_len = 0;
		*ret_sw = sw;
		return sw == 0x9000 ? -EPROTO : 0;
	}
	r = sm_unwrap(&c->sm, c->buf, rl - 2, c->plain, SM_APDU_MAX, ret_sw);
	if (r < 0) {
		c->secure = 0;
		return r;
	}
	if ((size_t)r > cap)
		return -EMSGSIZE;
	memcpy(out, c->plain, (size_t)r);
	*ret_len = (size_t)r;
	return 0;
}

int card_select_lds(struct card *c)
{
	static const uint8_t aid[] = { 0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01 };
	static const uint8_t sel[4] = { 0x00, 0xA4, 0x04, 0x0C };
	static const uint8_t rb[4] = { 0x00, 0xB0, 0x00, 0x00 };
	uint8_t out[16];
	size_t n;
	unsigned sw;
	int r = card_cmd(c, sel, aid, sizeof(aid), 0, out, sizeof(out), &n, &sw);
	if (r < 0)
		return r;
	if (sw != 0x9000)
		return -ENOENT;
	/* An extended READ BINARY before access control: the card answers "not allowed" (or
	 * anything but "wrong length") when the APDU reached it; a reader limited to short APDUs
	 * refuses it, or says 6700 itself. */
	uint8_t apdu[8];
	size_t an = plain_apdu(rb, NULL, 0, 65536, 1, apdu), rl;
	r = transmit(c, apdu, an, &rl);
	if (r == -ENOMEDIUM)
		return r;
	c->extended = r == 0 && c->buf[rl - 2] != 0x67;
	if (r < 0) { /* some readers drop the card's state after a refused APDU: select again */
		r = card_cmd(c, sel, aid, sizeof(aid), 0, out, sizeof(out), &n, &sw);
		if (r < 0)
			return r;
	}
	return 0;
}

int card_bac(struct card *c, const char *doc, const char *birth, const char *expiry)
{
	static const uint8_t challenge[4] = { 0x00, 0x84, 0x00, 0x00 };
	static const uint8_t extauth[4] = { 0x00, 0x82, 0x00, 0x00 };
	uint8_t seed[16], kenc[16], kmac[16], rnd_icc[8], rnd_ifd[8], k_ifd[16], req[40], resp[64];
	size_t n;
	unsigned sw;
	int r = sm_bac_seed(doc, birth, expiry, seed);
	if (r < 0)
		return r;
	sm_derive(seed, 1, kenc);
	sm_derive(seed, 2, kmac);
	c->secure = 0;
	if ((r = card_cmd(c, challenge, NULL, 0, 8, rnd_icc, sizeof(rnd_icc), &n, &sw)) < 0)
		goto out;
	if (sw != 0x9000 || n != 8) {
		r = -EPROTO;
		goto out;
	}
	if (RAND_bytes(rnd_ifd, 8) != 1 || RAND_bytes(k_ifd, 16) != 1) {
		r = -EIO;
		goto out;
	}
	if ((r = sm_bac_request(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, req)) < 0)
		goto out;
	if ((r = card_cmd(c, extauth, req, sizeof(req), 40, resp, sizeof(resp), &n, &sw)) < 0)
		goto out;
	if (sw != 0x9000) {
		r = (sw & 0xFF00) == 0x6300 || sw == 0x6982 || sw == 0x6300 ? -EACCES : -EPROTO;
		goto out;
	}
	if ((r = sm_bac_finish(kenc, kmac, rnd_icc, rnd_ifd, k_ifd, resp, n, &c->sm)) < 0)
		goto out;
	c->secure = 1;
	r = 0;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(kenc, sizeof(kenc));
	OPENSSL_cleanse(kmac, sizeof(kmac));
	OPENSSL_cleanse(k_ifd, sizeof(k_ifd));
	return r;
}

/* READ BINARY of up to want bytes at off: B0 below 32 KB, B1 with an offset object above. */
static int read_at(struct card *c, size_t off, size_t want, uint8_t *out, size_t *ret_len, unsigned *ret_sw)
{
	if (off <= 0x7FFF) {
		uint8_t hdr[4] = { 0x00, 0xB0, (uint8_t)(off >> 8), (uint8_t)off };
		return card_cmd(c, hdr, NULL, 0, want, out, want, ret_len, ret_sw);
	}
	uint8_t hdr[4] = { 0x00, 0xB1, 0x00, 0x00 };
	uint8_t d[5] = { 0x54, 0x03, (uint8_t)(off >> 16), (uint8_t)(off >> 8), (uint8_t)off };
	size_t n;
	int r =
	    card_cmd(c, hdr, d, sizeof(d), want + 4, c->plain + SM_APDU_MAX / 2, SM_APDU_MAX / 2, &n, ret_sw);
	if (r < 0)
		return r;
	struct tlv t;
	if (n == 0) {
		*ret_len = 0;
		return 0;
	}
	if (tlv_whole(c->plain + SM_APDU_MAX / 2, n, 0x53, &t) < 0 || t.len > want)
		return -EPROTO;
	memcpy(out, t.value, t.len);
	*ret_len = t.len;
	return 0;
}

static int select_ef(struct card *c, uint16_t fid)
{
	static const uint8_t sel[4] = { 0x00, 0xA4, 0x02, 0x0C };
	uint8_t d[2] = { (uint8_t)(fid >> 8), (uint8_t)fid }, out[4];
	size_t n;
	unsigned sw;
	int r = card_cmd(c, sel, d, 2, 0, out, sizeof(out), &n, &sw);
	if (r < 0)
		return r;
	if (sw == 0x6A82 || sw == 0x6A80)
		return -ENOENT;
	return sw == 0x9000 ? 0 : (sw == 0x6982 ? -EACCES : -EPROTO);
}

static int read_selected(struct card *c, uint8_t **ret, size_t *ret_len)
{
	uint8_t head[8];
	size_t n, total, got;
	unsigned sw;
	int r = read_at(c, 0, sizeof(head), head, &n, &sw);
	if (r < 0)
		return r;
	if ((sw != 0x9000 && sw != 0x6282) || n < 2)
		return sw == 0x6982 ? -EACCES : -EPROTO;
	/* The file is one TLV: its header gives the size. */
	size_t p = (head[0] & 0x1F) == 0x1F ? 2 : 1;
	if (p >= n)
		return -EPROTO;
	if (head[p] < 0x80)
		total = p + 1 + head[p];
	else if (head[p] == 0x81 && p + 1 < n)
		total = p + 2 + head[p + 1];
	else if (head[p] == 0x82 && p + 2 < n)
		total = p + 3 + ((size_t)head[p + 1] << 8 | head[p + 2]);
	else if (head[p] == 0x83 && p + 3 < n)
		total = p + 4 + ((size_t)head[p + 1] << 16 | (size_t)head[p + 2] << 8 | head[p + 3]);
	else
		return -EPROTO;
	if (total > LDS_FILE_MAX)
		return -EMSGSIZE;
	uint8_t *buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	got = n < total ? n : total;
	memcpy(buf, head, got);
	/* Secure messaging adds up to ~30 bytes: 0xDF plain bytes fit a short response. */
	size_t chunk = c->extended ? 0x7000 : 0xDF;
	while (got < total) {
		size_t want = total - got < chunk ? total - got : chunk;
		r = read_at(c, got, want, buf + got, &n, &sw);
		if (r < 0)
			goto fail;
		if ((sw != 0x9000 && sw != 0x6282) || n == 0) {
			r = -EPROTO;
			goto fail;
		}
		got += n;
	}
	c->bytes_read += total;
	*ret = buf;
	*ret_len = total;
	return 0;
fail:
	free(buf);
	return r;
}

int card_read_file(struct card *c, uint16_t fid, uint8_t **ret, size_t *ret_len)
{
	int r = select_ef(c, fid);
	if (r < 0)
		return r;
	return read_selected(c, ret, ret_len);
}

int card_read_cardaccess(struct card *c, uint8_t **ret, size_t *ret_len)
{
	static const uint8_t sel_mf[4] = { 0x00, 0xA4, 0x00, 0x0C };
	uint8_t out[4];
	size_t n;
	unsigned sw;
	if (c->secure)
		return -EINVAL;
	/* Select the master file, then EF.CardAccess by its identifier. */
	int r = card_cmd(c, sel_mf, (const uint8_t *)"\x3F\x00", 2, 0, out, sizeof(out), &n, &sw);
	if (r < 0)
		return r;
	if ((r = select_ef(c, 0x011C)) < 0)
		return r;
	return read_selected(c, ret, ret_len);
}

void card_release(struct card *c)
{
	if (c->connected)
		SCardDisconnect(c->h, SCARD_LEAVE_CARD);
	c->connected = 0;
	c->reader[0] = 0;
	c->apdus = 0;
	c->bytes_read = 0;
}

void card_close(struct card *c)
{
	if (c->connected)
		SCardDisconnect(c->h, SCARD_RESET_CARD);
	if (c->ctx)
		SCardReleaseContext(c->ctx);
	if (c->plain)
		OPENSSL_cleanse(c->plain, SM_APDU_MAX + 2);
	OPENSSL_cleanse(&c->sm, sizeof(c->sm));
	free(c->buf);
	free(c->plain);
	c->buf = c->plain = NULL;
	c->connected = 0;
	c->ctx = 0;
}
