/* ICAO 9303-11 Basic Access Control and 3DES secure messaging: the MRZ key seed, key
 * derivation, the mutual-authentication cryptograms and the wrapping of command and response
 * APDUs.  Pure byte functions over OpenSSL's libcrypto; no I/O. */
#ifndef MOTCUA_CHIP_SM_H
#define MOTCUA_CHIP_SM_H

#include <stddef.h>
#include <stdint.h>

#define SM_APDU_MAX 65544 /* the longest command or response handled (extended length) */

struct sm {
	uint8_t ks_enc[16], ks_mac[16];
	uint8_t ssc[8];
};

/* The MRZ information of 9303-11 4.3: document number (<= 9 characters here, padded with
 * '<'; a longer one is refused), birth and expiry YYMMDD, each followed by its check digit.
 * Writes SHA-1(MRZ information)[0..15] into seed.  Returns 0 or -EINVAL (bad characters). */
int sm_bac_seed(const char *doc_number, const char *birth, const char *expiry, uint8_t seed[16]);

/* Derives a 3DES key from a seed with counter 1 (encryption) or 2 (MAC), parity adjusted. */
void sm_derive(const uint8_t seed[16], uint32_t counter, uint8_t key[16]);

/* ISO 9797-1 MAC algorithm 3 (retail MAC, DES) over data padded with method 2 here. */
int sm_mac(const uint8_t key[16], const uint8_t *data, size_t len, uint8_t mac[8]);

/* 3DES-CBC with a zero IV over len (a multiple of 8) bytes, in place.  Returns 0 or -EIO. */
int sm_3des(const uint8_t key[16], int encrypt, uint8_t *buf, size_t len);

/* BAC step 2: the EXTERNAL AUTHENTICATE body (E_IFD || M_IFD, 40 bytes) from the card's
 * challenge, the reader's random and key material. */
int sm_bac_request(const uint8_t kenc[16], const uint8_t kmac[16], const uint8_t rnd_icc[8],
		   const uint8_t rnd_ifd[8], const uint8_t k_ifd[16], uint8_t out[40]);

/* BAC step 3: checks the card's answer (E_ICC || M_ICC) and sets the session keys and the
 * send sequence counter.  Returns 0, -EACCES when the MAC or the echoed randoms are wrong. */
int sm_bac_finish(const uint8_t kenc[16], const uint8_t kmac[16], const uint8_t rnd_icc[8],
		  const uint8_t rnd_ifd[8], const uint8_t k_ifd[16], const uint8_t *resp, size_t len,
		  struct sm *ret);

/* Wraps a plain command APDU (header, data, ne: 0 = none, up to 65536) as a protected one
 * (CLA | 0x0C, DO87, DO97, DO8E); extended forms when the data or ne need it, or always
 * when ext is set.  Returns the length written into out (at most cap) or -EMSGSIZE/-EIO. */
int sm_wrap(struct sm *sm, const uint8_t hdr[4], const uint8_t *data, size_t dlen, size_t ne, int ext,
	    uint8_t *out, size_t cap);

/* Checks and opens a protected response (body without SW1SW2): the MAC over DO87/DO99, the
 * plain data into out (at most cap), the card's status word into *ret_sw.  Returns the data
 * length, -EACCES on a bad MAC, -EPROTO on a malformed body. */
int sm_unwrap(struct sm *sm, const uint8_t *resp, size_t len, uint8_t *out, size_t cap, unsigned *ret_sw);

#endif
