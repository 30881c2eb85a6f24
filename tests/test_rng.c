/*
 * test_rng.c - tests of the PCG32 generator and its streams (sim/rng.c):
 * bit-exact agreement with the reference pcg32, determinism and independence
 * of derived streams, the 53-bit doubles, and the absence of modulo bias in
 * the bounded draws.
 *
 * Statistical checks use fixed seeds, so they are deterministic; their bounds
 * are chosen wide enough (5 standard errors or alpha = 0.001) that a correct
 * generator passes for practically any seed, and narrow enough that the
 * defect each one targets fails by a wide margin.
 */
#include "check_util.h"
#include "sim.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

/* The first outputs of the reference pcg32-demo after
 * pcg32_srandom_r(&rng, 42, 54). */
START_TEST(test_pcg32_matches_reference_output) {
    static const uint32_t expected[] = {0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                        0x83d2f293, 0xbfa4784b, 0xcbed606e};
    sim_rng rng;
    sim_rng_seed(&rng, 42, 54);
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        uint32_t got = sim_rng_u32(&rng);
        ck_assert_msg(got == expected[i], "output %zu: got 0x%08x, want 0x%08x", i, got,
                      expected[i]);
    }
}
END_TEST

START_TEST(test_u64_is_high_word_then_low_word) {
    sim_rng a, b;
    sim_rng_seed(&a, 7, 11);
    b = a;
    for (int i = 0; i < 100; i++) {
        uint64_t high = sim_rng_u32(&a);
        uint64_t low = sim_rng_u32(&a);
        ck_assert_uint_eq(sim_rng_u64(&b), (high << 32) | low);
    }
}
END_TEST

START_TEST(test_stream_is_deterministic) {
    sim_rng a, b;
    sim_rng_stream(&a, 12345, 3, SIM_DOMAIN_NET_LATENCY, 17, 2);
    sim_rng_stream(&b, 12345, 3, SIM_DOMAIN_NET_LATENCY, 17, 2);
    ck_assert_uint_eq(a.state, b.state);
    ck_assert_uint_eq(a.inc, b.inc);
    int differ = 0;
    for (int i = 0; i < 1000; i++)
        differ += sim_rng_u32(&a) != sim_rng_u32(&b);
    ck_assert_int_eq(differ, 0);
}
END_TEST

/* Changing any one of the five numbers, including the top bit of the seed,
 * must change both the state and the sequence selector. */
START_TEST(test_stream_changes_with_each_tuple_component) {
    const uint64_t seed = 99;
    sim_rng base, other[7];
    sim_rng_stream(&base, seed, 1, 2, 3, 4);
    sim_rng_stream(&other[0], seed + 1, 1, 2, 3, 4);
    sim_rng_stream(&other[1], seed ^ (1ULL << 63), 1, 2, 3, 4);
    sim_rng_stream(&other[2], seed, 2, 2, 3, 4);
    sim_rng_stream(&other[3], seed, 1, 3, 3, 4);
    sim_rng_stream(&other[4], seed, 1, 2, 4, 4);
    sim_rng_stream(&other[5], seed, 1, 2, 3, 5);
    /* Swapping two fields must not give the same stream either. */
    sim_rng_stream(&other[6], seed, 1, 2, 4, 3);
    for (int i = 0; i < 7; i++) {
        ck_assert_msg(other[i].state != base.state, "variant %d: same state", i);
        ck_assert_msg(other[i].inc != base.inc, "variant %d: same increment", i);
        sim_rng x = base, y = other[i];
        int equal = 0;
        for (int k = 0; k < 64; k++)
            equal += sim_rng_u32(&x) == sim_rng_u32(&y);
        /* Unrelated streams agree on a 32-bit word with probability 2^-32. */
        ck_assert_msg(equal <= 1, "variant %d: %d of 64 outputs equal", i, equal);
    }
}
END_TEST

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A grid of 4^5 = 1024 nearby tuples: all first outputs and all increments
 * must differ (a collision among random 64-bit values has probability about
 * 2^-44). */
START_TEST(test_streams_of_nearby_tuples_are_distinct) {
    enum { G = 4, N = G * G * G * G * G };
    uint64_t *firsts = malloc(N * sizeof *firsts);
    uint64_t *incs = malloc(N * sizeof *incs);
    ck_assert_ptr_nonnull(firsts);
    ck_assert_ptr_nonnull(incs);
    size_t k = 0;
    for (uint32_t s = 0; s < G; s++)
        for (uint32_t r = 0; r < G; r++)
            for (uint32_t d = 0; d < G; d++)
                for (uint32_t e = 0; e < G; e++)
                    for (uint32_t i = 0; i < G; i++) {
                        sim_rng rng;
                        sim_rng_stream(&rng, s, r, d, e, i);
                        incs[k] = rng.inc;
                        firsts[k++] = sim_rng_u64(&rng);
                    }
    qsort(firsts, N, sizeof *firsts, cmp_u64);
    qsort(incs, N, sizeof *incs, cmp_u64);
    for (size_t j = 1; j < N; j++) {
        ck_assert_msg(firsts[j] != firsts[j - 1], "two tuples share a first output");
        ck_assert_msg(incs[j] != incs[j - 1], "two tuples share an increment");
    }
    free(firsts);
    free(incs);
}
END_TEST

/* Creating and drawing from streams in a different order, interleaved, gives
 * each stream the same sequence. */
START_TEST(test_stream_sequence_is_independent_of_creation_order) {
    enum { S = 3, DRAWS = 50 };
    const uint32_t entities[S] = {5, 0, 1000};
    uint32_t forward[S][DRAWS], backward[S][DRAWS];
    sim_rng rngs[S];
    for (int i = 0; i < S; i++)
        sim_rng_stream(&rngs[i], 2024, 0, SIM_DOMAIN_MODEL, entities[i], 0);
    for (int k = 0; k < DRAWS; k++)
        for (int i = 0; i < S; i++)
            forward[i][k] = sim_rng_u32(&rngs[i]);

    for (int i = S - 1; i >= 0; i--) {
        sim_rng_stream(&rngs[i], 2024, 0, SIM_DOMAIN_MODEL, entities[i], 0);
        /* An unrelated stream created and used in between. */
        sim_rng noise;
        sim_rng_stream(&noise, 2024, 0, SIM_DOMAIN_MODEL, entities[i] + 1, 0);
        (void)sim_rng_u64(&noise);
    }
    /* Drain the streams one after another instead of round-robin. */
    for (int i = S - 1; i >= 0; i--)
        for (int k = 0; k < DRAWS; k++)
            backward[i][k] = sim_rng_u32(&rngs[i]);
    for (int i = 0; i < S; i++)
        for (int k = 0; k < DRAWS; k++)
            ck_assert_uint_eq(forward[i][k], backward[i][k]);
}
END_TEST

/* Adjacent entity streams must be uncorrelated: the Pearson correlation of
 * n paired uniforms has standard error 1/sqrt(n); 5 of those is the bound. */
START_TEST(test_adjacent_streams_are_uncorrelated) {
    enum { N = 100000 };
    for (uint32_t e = 0; e < 3; e++) {
        sim_rng a, b;
        sim_rng_stream(&a, 1, 0, SIM_DOMAIN_NET_LATENCY, e, 0);
        sim_rng_stream(&b, 1, 0, SIM_DOMAIN_NET_LATENCY, e + 1, 0);
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int i = 0; i < N; i++) {
            double x = sim_rng_double(&a), y = sim_rng_double(&b);
            sx += x;
            sy += y;
            sxx += x * x;
            syy += y * y;
            sxy += x * y;
        }
        double cov = sxy / N - (sx / N) * (sy / N);
        double vx = sxx / N - (sx / N) * (sx / N);
        double vy = syy / N - (sy / N) * (sy / N);
        double r = cov / sqrt(vx * vy);
        ck_assert_msg(fabs(r) < 5.0 / sqrt(N), "entities %u/%u: correlation %g", e, e + 1, r);
    }
}
END_TEST

START_TEST(test_double_is_in_unit_interval_with_53_bits) {
    enum { N = 1000000 };
    sim_rng rng, twin;
    sim_rng_seed(&rng, 3, 5);
    twin = rng;
    double lo = 1.0, hi = 0.0;
    /* Checked once after the loop: a Check assertion per draw is slow. */
    long out_of_range = 0, not_top_bits = 0, not_multiple = 0;
    int odd = 0, low21_nonzero = 0;
    for (int i = 0; i < N; i++) {
        double u = sim_rng_double(&rng);
        out_of_range += !(u >= 0.0 && u < 1.0);
        /* The exact construction from the top 53 bits of a u64 draw. */
        not_top_bits += u != (double)(sim_rng_u64(&twin) >> 11) * 0x1.0p-53;
        double scaled = u * 0x1.0p53;
        /* Every value is a multiple of 2^-53... */
        not_multiple += scaled != floor(scaled);
        /* ...and the lowest of the 53 bits is used: with only 32 random bits
         * (or a float) it would always be 0. */
        odd += fmod(scaled, 2.0) == 1.0;
        low21_nonzero += fmod(scaled, 0x1.0p21) != 0.0;
        lo = fmin(lo, u);
        hi = fmax(hi, u);
    }
    ck_assert_int_eq(out_of_range, 0);
    ck_assert_int_eq(not_top_bits, 0);
    ck_assert_int_eq(not_multiple, 0);
    /* About half the values have the lowest bit set: 5 standard errors. */
    ck_assert_msg(fabs(odd - N / 2.0) < 5.0 * sqrt(N / 4.0), "odd count %d", odd);
    ck_assert_int_gt(low21_nonzero, N / 2);
    ck_assert(lo < 1e-5);
    ck_assert(hi > 1.0 - 1e-5);
}
END_TEST

/* Chi-square statistic of counts against equal expected counts. */
static double chi_square_uniform(const long *counts, int bins, long n) {
    double expected = (double)n / bins, chi = 0.0;
    for (int i = 0; i < bins; i++) {
        double diff = (double)counts[i] - expected;
        chi += diff * diff / expected;
    }
    return chi;
}

/* Critical chi-square values at alpha = 0.001. */
#define CHI2_CRIT_DF2 13.816
#define CHI2_CRIT_DF9 27.877

START_TEST(test_below_is_uniform_for_small_bounds) {
    enum { N = 300000 };
    sim_rng rng;
    sim_rng_seed(&rng, 1, 2);
    long counts3[3] = {0}, bad = 0;
    for (int i = 0; i < N; i++) {
        uint32_t r = sim_rng_below(&rng, 3);
        if (r < 3)
            counts3[r]++;
        else
            bad++;
    }
    ck_assert_int_eq(bad, 0);
    double chi = chi_square_uniform(counts3, 3, N);
    ck_assert_msg(chi < CHI2_CRIT_DF2, "bound 3: chi-square %g", chi);

    long counts10[10] = {0};
    for (int i = 0; i < N; i++) {
        uint32_t r = sim_rng_below(&rng, 10);
        if (r < 10)
            counts10[r]++;
        else
            bad++;
    }
    ck_assert_int_eq(bad, 0);
    chi = chi_square_uniform(counts10, 10, N);
    ck_assert_msg(chi < CHI2_CRIT_DF9, "bound 10: chi-square %g", chi);

    for (int i = 0; i < 1000; i++)
        bad += sim_rng_below(&rng, 1) != 0;
    ck_assert_int_eq(bad, 0);
}
END_TEST

/*
 * Modulo bias is only visible with a bound that is a large fraction of 2^32.
 * With bound B = 3 * 2^30 (a bound near 2^31 + 1 shows almost no bias, as
 * 2^32 mod (2^31 + 1) leaves just two values underweighted):
 *  - x % B gives values below 2^30 two preimages each: P(r < 2^30) = 1/2
 *    instead of 1/3;
 *  - (x * B) >> 32 without rejection gives r = floor(3x/4), so r % 3 == 0
 *    has probability 1/2 instead of 1/3.
 * An unbiased draw passes both at 5 standard errors (sqrt(2/9/n)); either
 * bias misses by over 100.
 */
START_TEST(test_below_has_no_modulo_bias_near_full_range) {
    enum { N = 100000 };
    const uint32_t bound = 3u << 30;
    sim_rng rng;
    sim_rng_seed(&rng, 77, 78);
    long low = 0, mult3 = 0, bad = 0;
    uint32_t max = 0;
    for (int i = 0; i < N; i++) {
        uint32_t r = sim_rng_below(&rng, bound);
        bad += r >= bound;
        low += r < (1u << 30);
        mult3 += r % 3 == 0;
        max = r > max ? r : max;
    }
    ck_assert_int_eq(bad, 0);
    double tol = 5.0 * sqrt(2.0 / 9.0 / N);
    ck_assert_msg(fabs((double)low / N - 1.0 / 3) < tol, "P(r < 2^30) = %g", (double)low / N);
    ck_assert_msg(fabs((double)mult3 / N - 1.0 / 3) < tol, "P(r %% 3 == 0) = %g",
                  (double)mult3 / N);
    /* The top of the range is reached. */
    ck_assert_uint_gt(max, bound - bound / 1000);
}
END_TEST

/* The same two bias probes for 64 bits with B = 3 * 2^62, plus a check that
 * draws use the high bits (a 32-bit implementation would stay below 2^32). */
START_TEST(test_below64_has_no_modulo_bias) {
    enum { N = 100000 };
    const uint64_t bound = 3ULL << 62;
    sim_rng rng;
    sim_rng_seed(&rng, 91, 92);
    long low = 0, mult3 = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        uint64_t r = sim_rng_below64(&rng, bound);
        bad += r >= bound;
        low += r < (1ULL << 62);
        mult3 += r % 3 == 0;
    }
    ck_assert_int_eq(bad, 0);
    double tol = 5.0 * sqrt(2.0 / 9.0 / N);
    ck_assert_msg(fabs((double)low / N - 1.0 / 3) < tol, "P(r < 2^62) = %g", (double)low / N);
    ck_assert_msg(fabs((double)mult3 / N - 1.0 / 3) < tol, "P(r %% 3 == 0) = %g",
                  (double)mult3 / N);

    long counts[3] = {0};
    for (int i = 0; i < 3 * N; i++) {
        uint64_t r = sim_rng_below64(&rng, 3);
        if (r < 3)
            counts[r]++;
        else
            bad++;
    }
    ck_assert_int_eq(bad, 0);
    double chi = chi_square_uniform(counts, 3, 3 * N);
    ck_assert_msg(chi < CHI2_CRIT_DF2, "bound 3: chi-square %g", chi);

    const uint64_t big = (1ULL << 40) + 12345;
    int high = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t r = sim_rng_below64(&rng, big);
        bad += r >= big;
        high += r >= (1ULL << 39);
    }
    ck_assert_int_gt(high, 400);
    for (int i = 0; i < 1000; i++)
        bad += sim_rng_below64(&rng, 1) != 0;
    ck_assert_int_eq(bad, 0);
}
END_TEST

static Suite *rng_suite(void) {
    Suite *s = suite_create("rng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pcg32_matches_reference_output);
    tcase_add_test(tc, test_u64_is_high_word_then_low_word);
    tcase_add_test(tc, test_stream_is_deterministic);
    tcase_add_test(tc, test_stream_changes_with_each_tuple_component);
    tcase_add_test(tc, test_streams_of_nearby_tuples_are_distinct);
    tcase_add_test(tc, test_stream_sequence_is_independent_of_creation_order);
    tcase_add_test(tc, test_adjacent_streams_are_uncorrelated);
    tcase_add_test(tc, test_double_is_in_unit_interval_with_53_bits);
    tcase_add_test(tc, test_below_is_uniform_for_small_bounds);
    tcase_add_test(tc, test_below_has_no_modulo_bias_near_full_range);
    tcase_add_test(tc, test_below64_has_no_modulo_bias);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(rng_suite()); }
