/* de_rng.c — per-entity random streams (see de_rng.h). */
#include "de_rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "de_util.h"

unsigned long de_rng_seed(unsigned long seed, const char *kind, const char *name)
{
    uint64_t h = de_fnv1a64(&seed, sizeof seed, DE_FNV1A64_INIT);
    h = de_fnv1a64(kind, strlen(kind) + 1, h);
    h = de_fnv1a64(name, strlen(name), h);
    /* splitmix64 finaliser: spread the bits before seeding */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return (unsigned long)(h ? h : 1);
}

static gsl_rng *make(unsigned long s)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (!r) {
        fprintf(stderr, "deepedge: out of memory allocating a random stream\n");
        abort();
    }
    gsl_rng_set(r, s);
    return r;
}

gsl_rng *de_rng_stream(unsigned long seed, const char *kind, const char *name)
{
    return make(de_rng_seed(seed, kind, name));
}

gsl_rng *de_rng_stream_i(unsigned long seed, const char *kind, uint64_t index)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)index);
    return make(de_rng_seed(seed, kind, buf));
}
