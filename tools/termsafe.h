/* Text for a person's terminal: motcuactl prints names and status texts that kiosks and
 * other clients typed, so every byte that a terminal would act on (C0 controls but newline
 * and tab, DEL, C1 controls, ESC, malformed UTF-8, bidirectional overrides) is shown as
 * \xHH instead of being sent raw. */
#ifndef MOTCUA_TERMSAFE_H
#define MOTCUA_TERMSAFE_H

#include <stddef.h>
#include <stdio.h>

/* Replaces *stream (stdout or stderr) with a stream that escapes as above and writes to fd.
 * Returns 0 or -errno (the stream is left as it was). */
int termsafe_wrap(FILE **stream, int fd);

/* The escaping itself, for tests: state carries an unfinished UTF-8 sequence between calls
 * (zero it first); out gets at most outlen - 1 bytes and a NUL.  Returns the bytes written.
 * in == NULL flushes an unfinished sequence (escaped). */
struct termsafe_state {
	unsigned char pend[4];
	size_t npend, need;
};
size_t termsafe_escape(struct termsafe_state *st, const char *in, size_t len, char *out, size_t outlen);

#endif
