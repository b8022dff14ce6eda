/* The pipe protocol of motcua-chip, framed like motcua-recognize's (gateway/recognize/
 * proto.h: 4-byte tag, 4-byte big-endian length, bytes):
 *   client -> worker  "CHQ1" + JSON {"document_number", "birth" YYMMDD, "expiry" YYMMDD,
 *                      "reader" (optional, part of a reader's name), "wait_ms" (optional)}
 *   worker -> client  "CHR1" + the result JSON (docs/chip.md)
 * One request per worker: it reads one card and exits. */
#ifndef MOTCUA_CHIP_PROTO_H
#define MOTCUA_CHIP_PROTO_H

#include <stddef.h>

#define CHIP_REQUEST_MAX (4u << 10)
#define CHIP_RESULT_MAX (1u << 20)
#define CHIP_TAG_REQUEST "CHQ1"
#define CHIP_TAG_RESULT "CHR1"

/* The BAC triple from the three TD1 lines of an ID card's back (or two TD3 lines): the
 * document number without filler, birth and expiry YYMMDD.  The lines may be separated by
 * ',' or '\n'.  Returns 0 or -EINVAL naming nothing: the caller says "MRZ not usable". */
int chip_bac_from_mrz(const char *mrz, char doc[10], char birth[7], char expiry[7]);

/* The worker binary: $MOTCUA_CHIP, else motcua-chip next to the running program, else the
 * installed one. */
void chip_worker_path(char *buf, size_t size);

#endif
