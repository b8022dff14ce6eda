/* Full-jitter exponential backoff (AWS architecture blog, "Exponential Backoff and Jitter"):
 * spreads the retries of many items and many boxes instead of synchronising them. */
#include "uplink/backoff.h"

#include <openssl/rand.h>
#include <time.h>

int64_t backoff_delay_ms(int64_t base_ms, int64_t cap_ms, int attempt, uint64_t rnd)
{
	int64_t ceil = base_ms;
	if (base_ms <= 0 || cap_ms <= 0)
		return 0;
	for (int i = 1; i < attempt && ceil < cap_ms; i++)
		ceil *= 2;
	if (ceil > cap_ms)
		ceil = cap_ms;
	return (int64_t)(rnd % (uint64_t)(ceil + 1));
}

uint64_t backoff_random(uint64_t *state)
{
	uint64_t x = *state;
	if (x == 0) {
		if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1 || x == 0)
			x = (uint64_t)time(NULL) | 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}
