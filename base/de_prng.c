/* de_prng.c — splitmix64 and the draws built on it (see de_prng.h). */
#include "de_prng.h"

#include <math.h>

uint64_t de_prng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double de_prng_uniform(uint64_t *state)
{
    return (double)(de_prng_next(state) >> 11) * 0x1.0p-53;
}

uint32_t de_prng_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((de_prng_next(state) >> 32) * (uint64_t)n) >> 32);
}

double de_prng_normal(uint64_t *state)
{
    double u1 = de_prng_uniform(state), u2 = de_prng_uniform(state);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

uint64_t de_prng_seed(uint64_t seed, uint64_t stream)
{
    uint64_t s = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    de_prng_next(&s);
    return s;
}

void de_prng_shuffle(uint64_t *state, int *idx, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)de_prng_below(state, (uint32_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
