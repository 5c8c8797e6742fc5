/* de_prng.h — a tiny deterministic random generator whose whole state is one uint64_t.
 *
 * The training engine draws weight initialisation, data shuffling and augmentation
 * from it. Its state fits in a checkpoint as one integer, so that a resumed run draws
 * exactly the numbers an uninterrupted run would (splitmix64, Steele et al. 2014). */
#ifndef DE_PRNG_H
#define DE_PRNG_H

#include <stdint.h>

/* Next 64 random bits; advances *state. */
uint64_t de_prng_next(uint64_t *state);
/* Uniform on [0, 1) with 53 random bits. */
double de_prng_uniform(uint64_t *state);
/* Uniform integer on [0, n), n >= 1 (multiply-shift, bias < 2^-32 for n < 2^32). */
uint32_t de_prng_below(uint64_t *state, uint32_t n);
/* Standard normal (Box-Muller, one value per call). */
double de_prng_normal(uint64_t *state);
/* A state derived from a seed and a stream number (independent streams per use). */
uint64_t de_prng_seed(uint64_t seed, uint64_t stream);
/* Fisher-Yates shuffle of idx[0..n) in place. */
void de_prng_shuffle(uint64_t *state, int *idx, int n);

#endif
