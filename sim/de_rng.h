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

#endif
