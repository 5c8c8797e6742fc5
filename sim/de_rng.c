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

void de_rng_pool_init(de_rng_pool *p, size_t n, unsigned long seed, const char *kind)
{
    p->type = gsl_rng_taus2;
    p->size = p->type->size;
    p->n = n;
    p->state = de_calloc(n ? n : 1, p->size);
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)i);
        p->type->set(p->state + i * p->size, de_rng_seed(seed, kind, buf));
    }
}

void de_rng_pool_free(de_rng_pool *p)
{
    free(p->state);
    p->state = NULL;
    p->n = 0;
}

double de_rng_pool_uniform(const de_rng_pool *p, size_t i)
{
    return p->type->get_double(p->state + i * p->size);
}

unsigned long de_rng_pool_uniform_int(const de_rng_pool *p, size_t i, unsigned long n)
{
    /* gsl_rng_uniform_int's method: rejection on the generator's integer range */
    void *st = p->state + i * p->size;
    unsigned long offset = p->type->min, range = p->type->max - offset, scale = range / n, k;
    do {
        k = (p->type->get(st) - offset) / scale;
    } while (k >= n);
    return k;
}
