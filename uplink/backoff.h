/* Retry delays: exponential backoff with full jitter and a cap (docs/lgsp.md section 3). */
#ifndef MOTCUA_BACKOFF_H
#define MOTCUA_BACKOFF_H

#include <stdint.h>

/* The delay before retry number attempt (1 = first retry): uniform in
 * [0, min(cap_ms, base_ms * 2^(attempt-1))], drawn from rnd (any 64-bit value). */
int64_t backoff_delay_ms(int64_t base_ms, int64_t cap_ms, int attempt, uint64_t rnd);

/* A random 64-bit value for backoff_delay_ms (xorshift seeded from the OS once per state). */
uint64_t backoff_random(uint64_t *state);

#endif
