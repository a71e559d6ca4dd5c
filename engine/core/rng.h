/* Counter-based random numbers: every draw is a pure function of
 * (seed, stream, index), so results do not depend on thread count or on the
 * order in which work is done. SplitMix64's finaliser mixes the key. */
#ifndef UF_RNG_H
#define UF_RNG_H

#include <stdint.h>

uint64_t uf_rng_u64(uint64_t seed, uint64_t stream, uint64_t index);
/* Uniform in [0, 1) with 53 random bits. */
double uf_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index);

#endif
