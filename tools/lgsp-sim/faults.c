/* Fault injection for motcua-lgsp-sim: a seeded splitmix64 generator, so that a run with the
 * same --seed and the same sequence of requests injects the same faults. */
#include "tools/lgsp-sim/sim.h"

static uint64_t next(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double unit(struct sim *s)
{
	return (double)(next(s) >> 11) * (1.0 / 9007199254740992.0);
}

enum fault faults_pick(struct sim *s)
{
	double u = unit(s);
	if (u < s->o.p_5xx)
		return FAULT_5XX;
	u -= s->o.p_5xx;
	if (u < s->o.p_429)
		return FAULT_429;
	u -= s->o.p_429;
	if (u < s->o.p_reset)
		return FAULT_RESET;
	return FAULT_NONE;
}

uint64_t faults_below(struct sim *s, uint64_t n)
{
	return n ? next(s) % n : 0;
}
