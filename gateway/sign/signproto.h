/* The wire protocol between motcuad and motcua-signer over their socketpair.  Fixed-size
 * frames, big-endian lengths; the signer exits on any frame that is not exactly this.
 *
 *   hello (signer -> motcuad, once, at start):
 *     "MCS1" 'H' u8 nkeys(=1) u16 certlen  cert DER (certlen bytes, 1..SIGN_CERT_MAX)
 *   request (motcuad -> signer):
 *     "MCS1" 'S' u8 key  u8 alg(=1: ECDSA P-256 over a SHA-256 digest) u8 len(=32)  digest[32]
 *   reply (signer -> motcuad):
 *     "MCS1" 'R' u8 status(0 ok, else an errno)  u16 siglen  DER ECDSA-Sig-Value (siglen bytes)
 */
#ifndef MOTCUA_SIGNPROTO_H
#define MOTCUA_SIGNPROTO_H

#define SIGN_MAGIC "MCS1"
#define SIGN_REQ_LEN 40 /* 4 + 1 + 1 + 1 + 1 + 32 */
#define SIGN_REPLY_HEAD 8 /* 4 + 1 + 1 + 2 */
#define SIGN_HELLO_HEAD 8 /* 4 + 1 + 1 + 2 */
#define SIGN_SIG_MAX 72 /* DER ECDSA P-256 signature */
#define SIGN_CERT_MAX 16384
#define SIGN_ALG_ES256 1
#define SIGN_DIGEST_LEN 32

#endif
