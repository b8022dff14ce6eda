/* A chip card reached through pcscd (PC/SC): waiting for a card, APDUs plain or under BAC
 * secure messaging, extended-length or chunked file reads.  Used only by motcua-chip. */
#ifndef MOTCUA_CHIP_CARD_H
#define MOTCUA_CHIP_CARD_H

#include <PCSC/winscard.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/chip/sm.h"

struct card {
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	DWORD proto;
	int connected;
	char reader[256];
	struct sm sm;
	int secure; /* BAC done: every command goes through sm */
	int extended; /* the reader and card took an extended-length APDU */
	unsigned apdus;
	size_t bytes_read;
	uint8_t *buf; /* one response buffer, SM_APDU_MAX + 2 */
	uint8_t *plain;
};

/* Connects to pcscd (before the sandbox closes new sockets).  Returns 0 or -errno:
 * -ECONNREFUSED when pcscd does not answer. */
int card_init(struct card *c);

/* Waits at most wait_ms for a card in a reader whose name contains pattern (NULL: any
 * reader), connects to it exclusively.  Returns 0, -ENODEV (no reader), -ETIMEDOUT (no card
 * in time), -EIO. */
int card_connect(struct card *c, const char *pattern, int wait_ms);

/* Sends one command (header, data, ne = expected bytes, 0 for none) through secure
 * messaging once BAC is done.  Response data into out (at most cap), its length into
 * *ret_len, the status word into *ret_sw.  Returns 0 (whatever the status word) or -errno:
 * -ENOMEDIUM (card removed), -EACCES (bad SM MAC: the session is over), -EPROTO, -EIO. */
int card_cmd(struct card *c, const uint8_t hdr[4], const uint8_t *data, size_t dlen, size_t ne, uint8_t *out,
	     size_t cap, size_t *ret_len, unsigned *ret_sw);

/* Selects the LDS1 application (A0 00 00 02 47 10 01) and probes whether extended-length
 * APDUs get through.  Returns 0 or -errno (-ENOENT: no eMRTD application). */
int card_select_lds(struct card *c);

/* Reads EF.CardAccess from the master file (before access control); -ENOENT when absent. */
int card_read_cardaccess(struct card *c, uint8_t **ret, size_t *ret_len);

/* Basic Access Control with the MRZ's document number, birth and expiry (YYMMDD).
 * Returns 0, -EACCES when the card refuses the key (a wrong MRZ), -EINVAL on a bad MRZ,
 * -errno as card_cmd. */
int card_bac(struct card *c, const char *doc, const char *birth, const char *expiry);

/* Selects and reads a whole elementary file of the LDS application (FID 0x0101 DG1...) into
 * a new buffer (the caller frees it).  Returns 0, -ENOENT when the card has no such file,
 * -EMSGSIZE over LDS_FILE_MAX, -errno as card_cmd. */
int card_read_file(struct card *c, uint16_t fid, uint8_t **ret, size_t *ret_len);

/* Lets go of a card that went away before anything was read, so that card_connect can wait
 * for the next one. */
void card_release(struct card *c);

void card_close(struct card *c);

/* pcscd's words for a PC/SC code, for logs. */
const char *card_strerror(LONG rv);

#endif
