/* de_rng.h — independent random streams per simulated entity (GSL generators).
 *
 * Each entity (an LC task, a device, a PHOLD logical process) draws from its own
 * generator, seeded from (run seed, kind, name) by a hash: adding a device leaves
 * every other entity's random numbers unchanged, and the same seed reproduces a
 * run exactly. The generator is GSL's taus2 (Tausworthe, period 2^88, 24 bytes
 * of state): small enough for a stream per logical process at 10^5-10^6 entities. */
#ifndef DE_RNG_H
#define DE_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* The seed of the stream of entity (kind, name) in a run seeded with `seed`. */
unsigned long de_rng_seed(unsigned long seed, const char *kind, const char *name);

/* A new stream for entity (kind, name); free with gsl_rng_free. Never NULL
 * (allocation failure aborts, see de_util.h). */
gsl_rng *de_rng_stream(unsigned long seed, const char *kind, const char *name);

/* Same, for numbered entities (kind, index). */
gsl_rng *de_rng_stream_i(unsigned long seed, const char *kind, uint64_t index);

/* n streams of GSL's taus2 in one contiguous block, without a gsl_rng (and two
 * allocations) per stream: for models with 10^5-10^6 entities, where each draw
 * would otherwise chase pointers to scattered memory. Stream i is seeded like
 * de_rng_stream_i(seed, kind, i), and draws the same numbers. */
typedef struct de_rng_pool {
    const gsl_rng_type *type;
    size_t size;            /* bytes of state per stream */
    size_t n;
    unsigned char *state;
} de_rng_pool;

void de_rng_pool_init(de_rng_pool *p, size_t n, unsigned long seed, const char *kind);
void de_rng_pool_free(de_rng_pool *p);
/* Uniform on [0, 1) from stream i. */
double de_rng_pool_uniform(const de_rng_pool *p, size_t i);
/* Uniform integer on [0, n) from stream i (n >= 1), as gsl_rng_uniform_int. */
unsigned long de_rng_pool_uniform_int(const de_rng_pool *p, size_t i, unsigned long n);

#endif
