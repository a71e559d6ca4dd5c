#include "rng.h"

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t uf_rng_u64(uint64_t seed, uint64_t stream, uint64_t index)
{
    const uint64_t golden = 0x9e3779b97f4a7c15ULL;
    return mix(mix(mix(seed + golden) ^ (stream + 2 * golden)) ^ (index + 3 * golden));
}

double uf_rng_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    return (double)(uf_rng_u64(seed, stream, index) >> 11) * 0x1.0p-53;
}
