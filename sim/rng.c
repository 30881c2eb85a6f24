/*
 * rng.c - the kernel's random number generator: PCG32 (O'Neill's XSH-RR
 * 64/32 generator, the "minimal C" pcg32_random_r / pcg32_srandom_r), the
 * derivation of independent streams from (seed, run, domain, entity, index),
 * and the unbiased bounded and floating-point draws built on it.
 *
 * Every function here is a pure function of the sim_rng it is given: there
 * is no hidden state, so two streams never influence each other and a run is
 * reproduced exactly from its seed.
 */
#include "sim.h"

#define PCG32_MULT 6364136223846793005ULL

/* 2^64 / golden ratio: the splitmix64 increment, used here to keep the mixer
 * away from its fixed point at zero. */
#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

/* Domain-separation tag ("dsim-rng" in ASCII), so that the stream hash of a
 * seed differs from a plain splitmix64 of it. */
#define STREAM_TAG 0x6473696d2d726e67ULL

void sim_rng_seed(sim_rng *rng, uint64_t initstate, uint64_t initseq) {
    /* Exactly pcg32_srandom_r: the increment must be odd, and the two steps
     * around adding initstate spread it over the whole state. */
    rng->state = 0;
    rng->inc = (initseq << 1) | 1u;
    (void)sim_rng_u32(rng);
    rng->state += initstate;
    (void)sim_rng_u32(rng);
}

uint32_t sim_rng_u32(sim_rng *rng) {
    uint64_t old = rng->state;
    rng->state = old * PCG32_MULT + rng->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    /* (0u - rot) & 31 rather than 32 - rot: a shift by 32 is undefined. */
    return (xorshifted >> rot) | (xorshifted << ((0u - rot) & 31u));
}

uint64_t sim_rng_u64(sim_rng *rng) {
    /* Two statements fix the order of the draws (high word first); inside
     * one expression the evaluation order would be unspecified. */
    uint64_t high = sim_rng_u32(rng);
    uint64_t low = sim_rng_u32(rng);
    return (high << 32) | low;
}

double sim_rng_double(sim_rng *rng) {
    /* The top 53 bits fill a double's significand exactly, so every value is
     * a multiple of 2^-53 in [0, 1) and 1.0 itself cannot occur. */
    return (double)(sim_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint32_t sim_rng_below(sim_rng *rng, uint32_t bound) {
    SIM_ASSERT(bound > 0);
    /*
     * Lemire's nearly divisionless method: the high word of x * bound is
     * uniform on [0, bound) once products whose low word falls below
     * 2^32 mod bound are rejected (those are the extra preimages that would
     * bias small results).  The division that computes that threshold is
     * only needed when the low word is below bound, which is rare.
     */
    uint64_t m = (uint64_t)sim_rng_u32(rng) * bound;
    uint32_t low = (uint32_t)m;
    if (low < bound) {
        uint32_t threshold = (0u - bound) % bound;
        while (low < threshold) {
            m = (uint64_t)sim_rng_u32(rng) * bound;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

uint64_t sim_rng_below64(sim_rng *rng, uint64_t bound) {
    SIM_ASSERT(bound > 0);
    /*
     * Threshold rejection as in pcg's bounded_rand: C11 has no portable
     * 64x64->128 multiply for Lemire's method.  threshold = 2^64 mod bound,
     * so the accepted range [threshold, 2^64) holds a whole number of copies
     * of [0, bound) and r % bound is unbiased.  Rejection happens with
     * probability below bound / 2^64.
     */
    uint64_t threshold = (0u - bound) % bound;
    for (;;) {
        uint64_t r = sim_rng_u64(rng);
        if (r >= threshold)
            return r % bound;
    }
}

/* One link of the hash chain: for a fixed h it is a bijection of word, so two
 * tuples that share a prefix but differ in the next word never collide at
 * that step.  Adding the gamma keeps h ^ word == 0 from mapping to 0. */
static uint64_t mix_step(uint64_t h, uint64_t word) { return sim_mix64((h ^ word) + GOLDEN_GAMMA); }

/*
 * Stream derivation.  The five numbers are absorbed one 64-bit word at a time
 * through a chain of splitmix64 finalizers:
 *
 *   h0 = step(STREAM_TAG, seed)
 *   h1 = step(h0, run << 32 | domain)
 *   h2 = step(h1, entity << 32 | index)
 *   initstate = step(h2, 1),  initseq = step(h2, 2)
 *
 * where step(h, w) = sim_mix64((h ^ w) + GOLDEN_GAMMA), and the result is seeded
 * like pcg32_srandom_r(initstate, initseq).  Both the starting state and the
 * increment (which selects one of 2^63 PCG sequences) come from the hash, so
 * neighbouring tuples such as entity 7 and entity 8 get unrelated states and
 * unrelated increments; PCG streams whose increments and states are related
 * by simple arithmetic are known to be correlated, which a hash avoids.  The
 * result depends on the tuple alone, never on creation order.
 */
void sim_rng_stream(sim_rng *rng, uint64_t seed, uint32_t run, uint32_t domain, uint32_t entity,
                    uint32_t index) {
    uint64_t h = mix_step(STREAM_TAG, seed);
    h = mix_step(h, ((uint64_t)run << 32) | domain);
    h = mix_step(h, ((uint64_t)entity << 32) | index);
    sim_rng_seed(rng, mix_step(h, 1), mix_step(h, 2));
}
