/* The wire protocol between motcuad and motcua-signer over their socketpair.  Big-endian
 * lengths; the signer exits on any frame that is not exactly this.
 *
 *   hello (signer -> motcuad, once, at start):
 *     "MCS2" 'H' u8 nkeys(=1) u16 certlen  cert DER (certlen bytes, 1..SIGN_CERT_MAX)
 *   request (motcuad -> signer):
 *     "MCS2" 'S' u8 key(=0) u8 kind u8 0  u16 len  data (len bytes, 1..SIGN_DATA_MAX)
 *       kind 1 (SIGN_KIND_SEAL): the COSE Sig_structure of a VNCC1 seal (docs/seal.md):
 *         ["Signature1", h'a10126', h'', payload] with payload the 4-entry map of the doc
 *       kind 2 (SIGN_KIND_PADES): the DER signed attributes of a copy's PAdES signature:
 *         SET { content-type id-data, message-digest (32 bytes), signing-certificate-v2
 *         naming the signer's own certificate by its SHA-256 }, nothing else
 *   reply (signer -> motcuad):
 *     "MCS2" 'R' u8 status(0 ok, else an errno)  u16 siglen  DER ECDSA-Sig-Value (siglen bytes)
 *
 * The signer never signs a digest it is handed: it checks the data has one of the two shapes
 * (gateway/sign/signreq.c), hashes it itself (SHA-256) and signs that; anything else gets
 * status EPERM and no signature.  Before answering it appends a line to its own record
 * (--record FILE, a file only its user can write): time, kind, digest, copy number when the
 * data carries it, and a hash chained to the previous line. */
#ifndef MOTCUA_SIGNPROTO_H
#define MOTCUA_SIGNPROTO_H

#define SIGN_MAGIC "MCS2"
#define SIGN_REQ_HEAD 10 /* 4 + 1 + 1 + 1 + 1 + 2 */
#define SIGN_DATA_MAX 2048
#define SIGN_REPLY_HEAD 8 /* 4 + 1 + 1 + 2 */
#define SIGN_HELLO_HEAD 8 /* 4 + 1 + 1 + 2 */
#define SIGN_SIG_MAX 72 /* DER ECDSA P-256 signature */
#define SIGN_CERT_MAX 16384
#define SIGN_KIND_SEAL 1
#define SIGN_KIND_PADES 2
#define SIGN_DIGEST_LEN 32

#endif
