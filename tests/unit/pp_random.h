/*
 * Seeded pseudo-random numbers for the unit tests' randomized cases: Knuth's 64-bit linear
 * congruential generator (MMIX constants), returning the state's high 31 bits. The same seed
 * gives the same sequence on every run and machine, so a failing case is reproduced by its seed.
 */
#ifndef PP_RANDOM_H
#define PP_RANDOM_H

#include <stdint.h>

static inline uint64_t pp_test_rnd(uint64_t *seed)
{
    *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
    return *seed >> 33;
}

#endif
