/*
 * test_dist.c - tests of the distributions and the Zipf sampler
 * (sim/dist.c): exact means and CDFs against closed forms, sample moments
 * and Kolmogorov-Smirnov fits for every continuous kind, the offset and the
 * floor at 0, empirical tables, mixtures, rounding to nanoseconds, deep copy,
 * parameter checks, and Zipf rank frequencies against the exact pmf.
 *
 * Every statistical test runs at a fixed seed, so results are reproducible.
 * Bounds are set so a correct sampler passes at practically any seed:
 *  - sample means within 5 standard errors, sqrt(var / n);
 *  - sample variances within 5 standard errors of the variance estimator,
 *    sqrt((mu4 - var^2) / n), with mu4 the central fourth moment;
 *  - KS distance below 1.949 / sqrt(n), the critical value at alpha = 0.001;
 *  - chi-square below its critical value at alpha = 0.001.
 * (A false alarm has probability below about 1e-3 per check, and with fixed
 * seeds it either happens on every run or never.)
 */
#include "check_util.h"
#include "sim.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 100000 };

#define PI 3.14159265358979323846

#define KS_CRIT(n) (1.949 / sqrt((double)(n)))

/* Critical chi-square values at alpha = 0.001 by degrees of freedom. */
#define CHI2_CRIT_DF2  13.816
#define CHI2_CRIT_DF9  27.877
#define CHI2_CRIT_DF10 29.588

static double samples[N];

static sim_rng stream(uint32_t index) {
    sim_rng rng;
    sim_rng_stream(&rng, 20240601, 0, SIM_DOMAIN_MODEL, 0, index);
    return rng;
}

static void draw(const sim_dist *d, uint32_t index, size_t n) {
    sim_rng rng = stream(index);
    for (size_t i = 0; i < n; i++)
        samples[i] = sim_dist_sample(d, &rng);
}

/* Raw moments E[X^1..4] of the laws used below, written out independently of
 * the code under test. */
typedef struct moments {
    double m[5]; /* m[r] = E[X^r]; m[0] unused */
} moments;

static moments point_moments(double x) {
    moments mo = {{0, x, x * x, x * x * x, x * x * x * x}};
    return mo;
}

static moments uniform_moments(double a, double b) {
    moments mo = {{0}};
    for (int r = 1; r <= 4; r++)
        mo.m[r] = (pow(b, r + 1) - pow(a, r + 1)) / ((r + 1) * (b - a));
    return mo;
}

static moments exponential_moments(double mean) {
    moments mo = {{0, mean, 2 * pow(mean, 2), 6 * pow(mean, 3), 24 * pow(mean, 4)}};
    return mo;
}

static moments normal_moments(double mu, double s) {
    moments mo = {{0, mu, mu * mu + s * s, pow(mu, 3) + 3 * mu * s * s,
                   pow(mu, 4) + 6 * mu * mu * s * s + 3 * pow(s, 4)}};
    return mo;
}

static moments lognormal_moments(double mu, double sigma) {
    moments mo = {{0}};
    for (int r = 1; r <= 4; r++)
        mo.m[r] = exp(r * mu + 0.5 * r * r * sigma * sigma);
    return mo;
}

static moments pareto_moments(double xm, double alpha) {
    moments mo = {{0}};
    for (int r = 1; r <= 4; r++)
        mo.m[r] = alpha * pow(xm, r) / (alpha - r);
    return mo;
}

static moments weibull_moments(double scale, double shape) {
    moments mo = {{0}};
    for (int r = 1; r <= 4; r++)
        mo.m[r] = pow(scale, r) * tgamma(1.0 + r / shape);
    return mo;
}

/* sum_i w[i] * parts[i] */
static moments mix_moments(size_t n, const double *w, const moments *parts) {
    moments mo = {{0}};
    for (size_t i = 0; i < n; i++)
        for (int r = 1; r <= 4; r++)
            mo.m[r] += w[i] * parts[i].m[r];
    return mo;
}

/* Compares the mean and variance of samples[0..n) with the law's moments. */
static void check_moments(const char *what, size_t n, moments mo) {
    double dn = (double)n;
    double m1 = mo.m[1];
    double var = mo.m[2] - m1 * m1;
    double mu4 = mo.m[4] - 4 * m1 * mo.m[3] + 6 * m1 * m1 * mo.m[2] - 3 * pow(m1, 4);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += samples[i];
    double mean = sum / dn;
    double ss = 0.0;
    for (size_t i = 0; i < n; i++)
        ss += (samples[i] - mean) * (samples[i] - mean);
    double s2 = ss / (dn - 1);
    double mean_tol = 5.0 * sqrt(var / dn);
    double var_tol = 5.0 * sqrt((mu4 - var * var) / dn);
    ck_assert_msg(fabs(mean - m1) < mean_tol, "%s: sample mean %.9g, expected %.9g +- %.3g", what,
                  mean, m1, mean_tol);
    ck_assert_msg(fabs(s2 - var) < var_tol, "%s: sample variance %.9g, expected %.9g +- %.3g", what,
                  s2, var, var_tol);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov distance between samples[0..n) (sorted in place) and
 * the CDF F(x) = (cdf(d, x) - shift) / scale. */
static double ks_distance(const sim_dist *d, size_t n, double shift, double scale) {
    qsort(samples, n, sizeof samples[0], cmp_double);
    double dmax = 0.0;
    for (size_t i = 0; i < n; i++) {
        double f = (sim_dist_cdf(d, samples[i]) - shift) / scale;
        double above = f - (double)i / (double)n, below = (double)(i + 1) / (double)n - f;
        dmax = fmax(dmax, fmax(above, below));
    }
    return dmax;
}

static void check_ks(const char *what, const sim_dist *d, size_t n) {
    double dist = ks_distance(d, n, 0.0, 1.0);
    ck_assert_msg(dist < KS_CRIT(n), "%s: KS distance %.5f >= %.5f", what, dist, KS_CRIT(n));
}

/* Draws N values, then checks moments and the KS fit to sim_dist_cdf. */
static void check_law(const char *what, const sim_dist *d, uint32_t index, moments mo) {
    draw(d, index, N);
    check_moments(what, N, mo);
    check_ks(what, d, N);
}

static sim_dist make(sim_dist_kind kind, double a, double b) {
    sim_dist d = {.kind = kind, .a = a, .b = b};
    return d;
}

static void assert_close(double got, double want, double rel, const char *what) {
    ck_assert_msg(fabs(got - want) <= rel * fabs(want), "%s: got %.17g, want %.17g", what, got,
                  want);
}

/* ---- Exact means and CDFs. -------------------------------------------- */

START_TEST(test_mean_matches_closed_form) {
    sim_dist d = make(SIM_DIST_CONSTANT, 4.5, 0);
    assert_close(sim_dist_mean(&d), 4.5, 1e-15, "constant");
    d = make(SIM_DIST_UNIFORM, 2, 10);
    assert_close(sim_dist_mean(&d), 6, 1e-15, "uniform");
    d = make(SIM_DIST_EXPONENTIAL, 3, 0);
    assert_close(sim_dist_mean(&d), 3, 1e-15, "exponential");
    d = make(SIM_DIST_NORMAL, 100, 15);
    assert_close(sim_dist_mean(&d), 100, 1e-15, "normal");
    /* exp(1 + 0.5^2 / 2) */
    d = make(SIM_DIST_LOGNORMAL, 1, 0.5);
    assert_close(sim_dist_mean(&d), 3.0802168489180310, 1e-14, "lognormal");
    /* alpha x_m / (alpha - 1) = 10 * 2 / 9 */
    d = make(SIM_DIST_PARETO, 2, 10);
    assert_close(sim_dist_mean(&d), 20.0 / 9.0, 1e-15, "pareto");
    /* 2 * Gamma(1 + 1/1.5) = 2 * Gamma(5/3) */
    d = make(SIM_DIST_WEIBULL, 2, 1.5);
    assert_close(sim_dist_mean(&d), 1.8054905859018672, 1e-14, "weibull");
    /* The offset is added. */
    d = make(SIM_DIST_EXPONENTIAL, 3, 0);
    d.offset = 7;
    assert_close(sim_dist_mean(&d), 10, 1e-15, "exponential + offset");
}
END_TEST

START_TEST(test_mean_is_infinite_for_pareto_alpha_at_most_one) {
    sim_dist d = make(SIM_DIST_PARETO, 1, 1);
    ck_assert(isinf(sim_dist_mean(&d)) && sim_dist_mean(&d) > 0);
    d.b = 0.5;
    ck_assert(isinf(sim_dist_mean(&d)) && sim_dist_mean(&d) > 0);
    /* ...and a mixture containing it with positive weight. */
    sim_dist parts[2] = {make(SIM_DIST_PARETO, 1, 0.5), make(SIM_DIST_CONSTANT, 1, 0)};
    double ps[2] = {0.5, 1.0};
    sim_dist mix = {.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = ps};
    ck_assert(isinf(sim_dist_mean(&mix)));
    /* A zero-weight part with an infinite mean does not poison the mean. */
    ps[0] = 0.0;
    assert_close(sim_dist_mean(&mix), 1.0, 1e-15, "mixture with empty pareto part");
}
END_TEST

START_TEST(test_cdf_matches_closed_form_values) {
    sim_dist d = make(SIM_DIST_UNIFORM, 2, 10);
    assert_close(sim_dist_cdf(&d, 4), 0.25, 1e-15, "uniform");
    ck_assert(sim_dist_cdf(&d, 1) == 0.0 && sim_dist_cdf(&d, 11) == 1.0);
    d = make(SIM_DIST_EXPONENTIAL, 3, 0);
    assert_close(sim_dist_cdf(&d, 3), 1 - exp(-1), 1e-15, "exponential");
    ck_assert(sim_dist_cdf(&d, -1) == 0.0);
    d = make(SIM_DIST_NORMAL, 100, 15);
    assert_close(sim_dist_cdf(&d, 100), 0.5, 1e-15, "normal at mean");
    assert_close(sim_dist_cdf(&d, 115), 0.84134474606854293, 1e-14, "normal at +1 sd");
    /* Deep lower tail: Phi(-10), where 1 + erf would cancel to 0. */
    assert_close(sim_dist_cdf(&d, -50), 7.6198530241605269e-24, 1e-10, "normal tail");
    d = make(SIM_DIST_LOGNORMAL, 1, 0.5);
    assert_close(sim_dist_cdf(&d, exp(1)), 0.5, 1e-15, "lognormal at median");
    assert_close(sim_dist_cdf(&d, exp(1.5)), 0.84134474606854293, 1e-14, "lognormal +1 sd");
    ck_assert(sim_dist_cdf(&d, 0) == 0.0);
    d = make(SIM_DIST_PARETO, 2, 10);
    assert_close(sim_dist_cdf(&d, 4), 1 - pow(2, -10), 1e-15, "pareto");
    ck_assert(sim_dist_cdf(&d, 1.999) == 0.0);
    d = make(SIM_DIST_WEIBULL, 2, 1.5);
    assert_close(sim_dist_cdf(&d, 2), 1 - exp(-1), 1e-15, "weibull at scale");
    assert_close(sim_dist_cdf(&d, 4), 1 - exp(-pow(2, 1.5)), 1e-15, "weibull");
    /* The offset shifts the CDF. */
    d = make(SIM_DIST_EXPONENTIAL, 3, 0);
    d.offset = 5;
    ck_assert(sim_dist_cdf(&d, 5) == 0.0);
    assert_close(sim_dist_cdf(&d, 8), 1 - exp(-1), 1e-15, "exponential + offset");
    d = make(SIM_DIST_CONSTANT, 3, 0);
    ck_assert(sim_dist_cdf(&d, 2.999) == 0.0 && sim_dist_cdf(&d, 3) == 1.0);
}
END_TEST

/* ---- Continuous kinds: moments and KS. -------------------------------- */

START_TEST(test_uniform_matches_its_law) {
    sim_dist d = make(SIM_DIST_UNIFORM, 2, 10);
    check_law("uniform", &d, 1, uniform_moments(2, 10));
}
END_TEST

START_TEST(test_exponential_matches_its_law) {
    sim_dist d = make(SIM_DIST_EXPONENTIAL, 3, 0);
    check_law("exponential", &d, 2, exponential_moments(3));
}
END_TEST

START_TEST(test_normal_matches_its_law) {
    /* 100 / 15 standard deviations above 0, so the floor never acts. */
    sim_dist d = make(SIM_DIST_NORMAL, 100, 15);
    check_law("normal", &d, 3, normal_moments(100, 15));
}
END_TEST

START_TEST(test_lognormal_matches_its_law) {
    sim_dist d = make(SIM_DIST_LOGNORMAL, 1, 0.5);
    check_law("lognormal", &d, 4, lognormal_moments(1, 0.5));
}
END_TEST

START_TEST(test_pareto_matches_its_law) {
    /* alpha = 10 so that the fourth moment, needed for the variance bound,
     * exists. */
    sim_dist d = make(SIM_DIST_PARETO, 2, 10);
    check_law("pareto", &d, 5, pareto_moments(2, 10));
}
END_TEST

START_TEST(test_heavy_pareto_matches_its_cdf) {
    /* alpha = 1.2: infinite variance, so only the KS fit and the minimum. */
    sim_dist d = make(SIM_DIST_PARETO, 1000, 1.2);
    draw(&d, 6, N);
    double lo = INFINITY;
    for (size_t i = 0; i < N; i++)
        lo = fmin(lo, samples[i]);
    ck_assert(lo >= 1000);
    check_ks("pareto alpha 1.2", &d, N);
}
END_TEST

START_TEST(test_weibull_matches_its_law) {
    sim_dist d = make(SIM_DIST_WEIBULL, 2, 1.5);
    check_law("weibull", &d, 7, weibull_moments(2, 1.5));
    d = make(SIM_DIST_WEIBULL, 5, 0.7);
    check_law("weibull shape 0.7", &d, 8, weibull_moments(5, 0.7));
}
END_TEST

/* ---- Offset, floor, rounding. ----------------------------------------- */

START_TEST(test_constant_returns_value_plus_offset) {
    sim_dist d = make(SIM_DIST_CONSTANT, 3, 0);
    d.offset = 2;
    sim_rng rng = stream(9);
    sim_rng before = rng;
    int wrong = 0;
    for (int i = 0; i < 100; i++)
        wrong += sim_dist_sample(&d, &rng) != 5.0;
    ck_assert_int_eq(wrong, 0);
    /* A constant consumes no randomness. */
    ck_assert_uint_eq(rng.state, before.state);
    d.offset = -5;
    ck_assert(sim_dist_sample(&d, &rng) == 0.0);
}
END_TEST

START_TEST(test_offset_shifts_every_draw) {
    sim_dist d = make(SIM_DIST_EXPONENTIAL, 10, 0);
    d.offset = 5;
    draw(&d, 10, N);
    double lo = INFINITY;
    for (size_t i = 0; i < N; i++)
        lo = fmin(lo, samples[i]);
    ck_assert(lo >= 5.0 && lo < 5.01);
    moments mo = exponential_moments(10);
    /* X + 5: E[(X+5)^r] by the binomial expansion. */
    moments shifted = {{0, mo.m[1] + 5, mo.m[2] + 10 * mo.m[1] + 25,
                        mo.m[3] + 15 * mo.m[2] + 75 * mo.m[1] + 125,
                        mo.m[4] + 20 * mo.m[3] + 150 * mo.m[2] + 500 * mo.m[1] + 625}};
    check_moments("exponential + 5", N, shifted);
    check_ks("exponential + 5", &d, N);
}
END_TEST

/* Normal(0, 1) floored at 0: P(exactly 0) = 1/2, and the positive part is
 * the half-normal. */
START_TEST(test_floor_at_zero_clamps_negative_draws) {
    sim_dist d = make(SIM_DIST_NORMAL, 0, 1);
    draw(&d, 11, N);
    long zeros = 0, negative = 0;
    double sum = 0.0;
    for (size_t i = 0; i < N; i++) {
        zeros += samples[i] == 0.0;
        negative += samples[i] < 0.0 || signbit(samples[i]);
        sum += samples[i];
    }
    ck_assert_int_eq(negative, 0);
    /* Binomial(N, 1/2): 5 standard errors of the fraction. */
    ck_assert_msg(fabs((double)zeros / N - 0.5) < 5.0 * sqrt(0.25 / N), "zero fraction %g",
                  (double)zeros / N);
    /* E[max(0, Z)] = 1/sqrt(2 pi), variance 1/2 - 1/(2 pi). */
    double want = 1.0 / sqrt(2 * PI);
    double sd = sqrt(0.5 - 1.0 / (2 * PI));
    ck_assert_msg(fabs(sum / N - want) < 5 * sd / sqrt(N), "mean %g", sum / N);
    /* A negative offset pushes mass onto 0 the same way. */
    d = make(SIM_DIST_UNIFORM, 0, 4);
    d.offset = -3;
    draw(&d, 12, N);
    zeros = 0;
    for (size_t i = 0; i < N; i++)
        zeros += samples[i] == 0.0;
    ck_assert_msg(fabs((double)zeros / N - 0.75) < 5.0 * sqrt(0.75 * 0.25 / N), "zero fraction %g",
                  (double)zeros / N);
}
END_TEST

START_TEST(test_sample_time_rounds_to_nearest_and_clamps) {
    sim_rng rng = stream(13);
    sim_dist d = make(SIM_DIST_CONSTANT, 2.5, 0);
    ck_assert_int_eq(sim_dist_sample_time(&d, &rng), 3);
    d.a = 2.4999;
    ck_assert_int_eq(sim_dist_sample_time(&d, &rng), 2);
    d.a = 1e30;
    ck_assert_int_eq(sim_dist_sample_time(&d, &rng), INT64_MAX);
    d.a = 0x1.0p63;
    ck_assert_int_eq(sim_dist_sample_time(&d, &rng), INT64_MAX);
    /* The largest double below 2^63 converts exactly. */
    d.a = 0x1.fffffffffffffp62;
    ck_assert_int_eq(sim_dist_sample_time(&d, &rng), (int64_t)0x7ffffffffffffc00);
    d.a = -7;
    ck_assert_int_eq(sim_dist_sample_time(&d, &rng), 0);
    /* Uniform on [0, 1): about half round to 1. */
    d = make(SIM_DIST_UNIFORM, 0, 1);
    long ones = 0, other = 0;
    for (int i = 0; i < N; i++) {
        sim_time t = sim_dist_sample_time(&d, &rng);
        ones += t == 1;
        other += t != 0 && t != 1;
    }
    ck_assert_int_eq(other, 0);
    ck_assert(fabs((double)ones / N - 0.5) < 5.0 * sqrt(0.25 / N));
}
END_TEST

/* ---- Empirical. -------------------------------------------------------- */

/* Samples with equal weight: {1, 2, 2, 5} gives P(1) = P(5) = 1/4 and
 * P(2) = 1/2. */
START_TEST(test_empirical_samples_pick_points_with_their_weights) {
    double xs[] = {1, 2, 2, 5}, ps[] = {0.25, 0.5, 0.75, 1.0};
    sim_dist d = {.kind = SIM_DIST_EMPIRICAL, .n = 4, .xs = xs, .ps = ps};
    ck_assert_ptr_null(sim_dist_check(&d));
    assert_close(sim_dist_mean(&d), 2.5, 1e-15, "empirical mean");
    ck_assert(sim_dist_cdf(&d, 0.5) == 0.0);
    ck_assert(sim_dist_cdf(&d, 1) == 0.25);
    ck_assert(sim_dist_cdf(&d, 1.5) == 0.25);
    ck_assert(sim_dist_cdf(&d, 2) == 0.75);
    ck_assert(sim_dist_cdf(&d, 4.9) == 0.75);
    ck_assert(sim_dist_cdf(&d, 5) == 1.0);

    draw(&d, 14, N);
    long counts[3] = {0}, other = 0;
    for (size_t i = 0; i < N; i++) {
        if (samples[i] == 1)
            counts[0]++;
        else if (samples[i] == 2)
            counts[1]++;
        else if (samples[i] == 5)
            counts[2]++;
        else
            other++;
    }
    ck_assert_int_eq(other, 0);
    const double p[3] = {0.25, 0.5, 0.25};
    double chi = 0.0;
    for (int k = 0; k < 3; k++)
        chi += pow((double)counts[k] - p[k] * N, 2) / (p[k] * N);
    ck_assert_msg(chi < CHI2_CRIT_DF2, "chi-square %g", chi);
}
END_TEST

/* CDF points (10, 0.2), (20, 0.6), (40, 1): an atom of 0.2 at 10, then
 * uniform on [10, 20] with mass 0.4 and on [20, 40] with mass 0.4. */
START_TEST(test_empirical_cdf_points_interpolate) {
    double xs[] = {10, 20, 40}, ps[] = {0.2, 0.6, 1.0};
    sim_dist d = {.kind = SIM_DIST_EMPIRICAL, .n = 3, .xs = xs, .ps = ps, .interpolate = true};
    ck_assert_ptr_null(sim_dist_check(&d));
    /* 0.2 * 10 + 0.4 * 15 + 0.4 * 30 */
    assert_close(sim_dist_mean(&d), 20, 1e-15, "interpolated mean");
    ck_assert(sim_dist_cdf(&d, 9.99) == 0.0);
    assert_close(sim_dist_cdf(&d, 10), 0.2, 1e-15, "cdf(10)");
    assert_close(sim_dist_cdf(&d, 15), 0.4, 1e-15, "cdf(15)");
    assert_close(sim_dist_cdf(&d, 20), 0.6, 1e-15, "cdf(20)");
    assert_close(sim_dist_cdf(&d, 30), 0.8, 1e-15, "cdf(30)");
    ck_assert(sim_dist_cdf(&d, 40) == 1.0 && sim_dist_cdf(&d, 100) == 1.0);

    draw(&d, 15, N);
    long atoms = 0, outside = 0;
    for (size_t i = 0; i < N; i++) {
        atoms += samples[i] == 10;
        outside += samples[i] < 10 || samples[i] > 40;
    }
    ck_assert_int_eq(outside, 0);
    ck_assert_msg(fabs((double)atoms / N - 0.2) < 5.0 * sqrt(0.2 * 0.8 / N), "atom fraction %g",
                  (double)atoms / N);
    double w[3] = {0.2, 0.4, 0.4};
    moments parts[3] = {point_moments(10), uniform_moments(10, 20), uniform_moments(20, 40)};
    check_moments("interpolated empirical", N, mix_moments(3, w, parts));
    /* KS on the continuous part: drop the atom (sorted to the front) and
     * compare with the conditional CDF (F(x) - 0.2) / 0.8. */
    qsort(samples, N, sizeof samples[0], cmp_double);
    size_t rest = N - (size_t)atoms;
    memmove(samples, samples + atoms, rest * sizeof samples[0]);
    double dist = ks_distance(&d, rest, 0.2, 0.8);
    ck_assert_msg(dist < KS_CRIT(rest), "KS distance %g", dist);
}
END_TEST

START_TEST(test_empirical_single_point_always_returns_it) {
    double xs[] = {42}, ps[] = {1};
    sim_dist d = {.kind = SIM_DIST_EMPIRICAL, .n = 1, .xs = xs, .ps = ps};
    sim_rng rng = stream(16);
    int wrong = 0;
    for (int i = 0; i < 1000; i++)
        wrong += sim_dist_sample(&d, &rng) != 42;
    d.interpolate = true;
    for (int i = 0; i < 1000; i++)
        wrong += sim_dist_sample(&d, &rng) != 42;
    ck_assert_int_eq(wrong, 0);
}
END_TEST

/* ---- Mixtures. --------------------------------------------------------- */

/* 91.22 % Pareto(x_m = 0.235 ms, alpha = 10) + 8.78 % Exponential(mean
 * 0.602 ms), in nanoseconds: a latency law with a tight body and a tail. */
START_TEST(test_mixture_pareto_exponential_matches_mean_and_ks) {
    sim_dist parts[2] = {make(SIM_DIST_PARETO, 235000, 10), make(SIM_DIST_EXPONENTIAL, 602000, 0)};
    double ps[2] = {0.9122, 1.0};
    sim_dist d = {.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = ps};
    ck_assert_ptr_null(sim_dist_check(&d));
    double w[2] = {0.9122, 0.0878};
    moments mp[2] = {pareto_moments(235000, 10), exponential_moments(602000)};
    moments mo = mix_moments(2, w, mp);
    /* 0.9122 * 10 * 235000 / 9 + 0.0878 * 602000 */
    assert_close(mo.m[1], 291041.15555555556, 1e-12, "mixture mean formula");
    assert_close(sim_dist_mean(&d), mo.m[1], 1e-12, "mixture mean");
    /* CDF: weighted sum of the parts. */
    double x = 300000;
    assert_close(sim_dist_cdf(&d, x),
                 0.9122 * (1 - pow(235000 / x, 10)) + 0.0878 * (1 - exp(-x / 602000)), 1e-14,
                 "mixture cdf");
    check_law("mixture", &d, 17, mo);

    /* Whole nanoseconds: rounding moves the mean by far less than its
     * standard error. */
    sim_rng rng = stream(18);
    double sum = 0.0;
    for (int i = 0; i < N; i++)
        sum += (double)sim_dist_sample_time(&d, &rng);
    double sd = sqrt(mo.m[2] - mo.m[1] * mo.m[1]);
    ck_assert_msg(fabs(sum / N - mo.m[1]) < 5 * sd / sqrt(N), "time mean %g", sum / N);
}
END_TEST

/* A part's offset and floor apply first, then the mixture's: part A is
 * 1 + 2 = 3, then 3 - 5 floors to 0; part B is 10 - 5 = 5. */
START_TEST(test_mixture_applies_part_offset_then_its_own) {
    sim_dist parts[2] = {make(SIM_DIST_CONSTANT, 1, 0), make(SIM_DIST_CONSTANT, 10, 0)};
    parts[0].offset = 2;
    double ps[2] = {0.3, 1.0};
    sim_dist d = {.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = ps, .offset = -5};
    draw(&d, 19, N);
    long zeros = 0, fives = 0;
    for (size_t i = 0; i < N; i++) {
        zeros += samples[i] == 0;
        fives += samples[i] == 5;
    }
    ck_assert_int_eq(zeros + fives, N);
    ck_assert_msg(fabs((double)zeros / N - 0.3) < 5.0 * sqrt(0.3 * 0.7 / N), "zero fraction %g",
                  (double)zeros / N);
    /* The mean ignores the floor: 0.3 * 3 + 0.7 * 10 - 5. */
    assert_close(sim_dist_mean(&d), 2.9, 1e-14, "mixture mean with offsets");
    ck_assert(sim_dist_cdf(&d, -2.01) == 0.0);
    assert_close(sim_dist_cdf(&d, -2), 0.3, 1e-15, "cdf at part A");
    ck_assert(sim_dist_cdf(&d, 5) == 1.0);
}
END_TEST

/* ---- Determinism. ------------------------------------------------------ */

/* A normal draw depends only on the stream state at the call: a second
 * sampler picking up the stream mid-way gets exactly what the first would
 * have drawn.  A cached Box-Muller twin would break this. */
START_TEST(test_normal_draw_depends_only_on_stream_state) {
    sim_dist d = make(SIM_DIST_NORMAL, 0, 1);
    d.offset = 10;
    sim_dist e = d;
    for (int i = 0; i < 100; i++) {
        sim_rng a = stream(20 + (uint32_t)i);
        (void)sim_dist_sample(&d, &a);
        sim_rng b = a;
        double first = sim_dist_sample(&d, &a);
        double second = sim_dist_sample(&e, &b);
        ck_assert(first == second);
        /* Both uniforms are consumed every time. */
        ck_assert_uint_eq(a.state, b.state);
    }
    /* Each normal draw consumes exactly two doubles (four u32 words). */
    sim_rng a = stream(200), b = stream(200);
    (void)sim_dist_sample(&d, &a);
    for (int i = 0; i < 4; i++)
        (void)sim_rng_u32(&b);
    ck_assert_uint_eq(a.state, b.state);
}
END_TEST

START_TEST(test_every_kind_is_deterministic_per_stream) {
    double xs[] = {1, 2, 3}, ps[] = {0.1, 0.5, 1.0};
    sim_dist parts[2] = {make(SIM_DIST_EXPONENTIAL, 5, 0), make(SIM_DIST_NORMAL, 50, 5)};
    double mps[2] = {0.5, 1.0};
    sim_dist kinds[] = {
        make(SIM_DIST_UNIFORM, 1, 2),
        make(SIM_DIST_EXPONENTIAL, 1, 0),
        make(SIM_DIST_NORMAL, 5, 1),
        make(SIM_DIST_LOGNORMAL, 0, 1),
        make(SIM_DIST_PARETO, 1, 2),
        make(SIM_DIST_WEIBULL, 1, 2),
        {.kind = SIM_DIST_EMPIRICAL, .n = 3, .xs = xs, .ps = ps},
        {.kind = SIM_DIST_EMPIRICAL, .n = 3, .xs = xs, .ps = ps, .interpolate = true},
        {.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = mps},
    };
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        sim_rng a = stream(300), b = stream(300), c = stream(301);
        int differ = 0, same_as_other = 0;
        for (int i = 0; i < 1000; i++) {
            double x = sim_dist_sample(&kinds[k], &a);
            differ += x != sim_dist_sample(&kinds[k], &b);
            same_as_other += x == sim_dist_sample(&kinds[k], &c);
        }
        ck_assert_msg(differ == 0, "kind %zu: same stream gave different values", k);
        /* Empirical kinds have few distinct values; continuous ones none. */
        ck_assert_msg(same_as_other < 700, "kind %zu: other stream gave the same values", k);
    }
}
END_TEST

/* ---- Copy, fini, check. ----------------------------------------------- */

START_TEST(test_copy_is_deep_and_fini_frees_everything) {
    long live = sim_live_blocks();
    sim_dist src = {.kind = SIM_DIST_MIXTURE, .n = 2, .offset = 1};
    src.ps = sim_malloc(2 * sizeof *src.ps);
    src.ps[0] = 0.5;
    src.ps[1] = 1.0;
    src.parts = sim_calloc(2, sizeof *src.parts);
    src.parts[0] = make(SIM_DIST_EXPONENTIAL, 4, 0);
    sim_dist *emp = &src.parts[1];
    *emp = (sim_dist){.kind = SIM_DIST_EMPIRICAL, .n = 2, .interpolate = true};
    emp->xs = sim_malloc(2 * sizeof *emp->xs);
    emp->ps = sim_malloc(2 * sizeof *emp->ps);
    emp->xs[0] = 1;
    emp->xs[1] = 3;
    emp->ps[0] = 0;
    emp->ps[1] = 1;

    sim_dist dst;
    sim_dist_copy(&dst, &src);
    ck_assert_ptr_ne(dst.ps, src.ps);
    ck_assert_ptr_ne(dst.parts, src.parts);
    ck_assert_ptr_ne(dst.parts[1].xs, emp->xs);
    ck_assert_ptr_ne(dst.parts[1].ps, emp->ps);
    ck_assert(dst.parts[1].interpolate && dst.offset == 1);
    /* Same draws from the same stream. */
    sim_rng a = stream(400), b = stream(400);
    int differ = 0;
    for (int i = 0; i < 1000; i++)
        differ += sim_dist_sample(&src, &a) != sim_dist_sample(&dst, &b);
    ck_assert_int_eq(differ, 0);
    /* Changing the source leaves the copy alone. */
    emp->xs[1] = 1000;
    src.ps[0] = 0.0;
    ck_assert(dst.parts[1].xs[1] == 3 && dst.ps[0] == 0.5);
    assert_close(sim_dist_mean(&dst), 1 + 0.5 * 4 + 0.5 * 2, 1e-15, "copy mean");

    sim_dist_fini(&src);
    sim_dist_fini(&dst);
    ck_assert_int_eq(sim_live_blocks(), live);
    ck_assert_ptr_null(dst.parts);
    ck_assert_uint_eq(dst.n, 0);
    /* Again, and on a zeroed struct: both harmless. */
    sim_dist_fini(&dst);
    sim_dist zero;
    memset(&zero, 0, sizeof zero);
    sim_dist_fini(&zero);
    ck_assert_int_eq(sim_live_blocks(), live);
}
END_TEST

START_TEST(test_check_accepts_valid_parameters) {
    double xs[] = {1, 1, 2}, ps[] = {0.0, 0.5, 1.0};
    /* Cumulative sums that miss 1 by rounding are accepted. */
    double ps_rounded[] = {0.1, 0.3, 0.1 + 0.2 + 0.7 - 1e-12};
    sim_dist parts[2] = {make(SIM_DIST_CONSTANT, 0, 0), make(SIM_DIST_PARETO, 1, 0.5)};
    double mps[2] = {0.0, 1.0};
    sim_dist good[] = {
        make(SIM_DIST_CONSTANT, 0, 0),
        make(SIM_DIST_UNIFORM, 3, 3),
        make(SIM_DIST_EXPONENTIAL, 1e-9, 0),
        make(SIM_DIST_NORMAL, -5, 0),
        make(SIM_DIST_LOGNORMAL, -1, 2),
        make(SIM_DIST_PARETO, 0.1, 0.5),
        make(SIM_DIST_WEIBULL, 1, 0.3),
        {.kind = SIM_DIST_EMPIRICAL, .n = 3, .xs = xs, .ps = ps},
        {.kind = SIM_DIST_EMPIRICAL, .n = 3, .xs = xs, .ps = ps_rounded, .interpolate = true},
        {.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = mps, .offset = -3},
    };
    for (size_t k = 0; k < sizeof good / sizeof good[0]; k++) {
        const char *why = sim_dist_check(&good[k]);
        ck_assert_msg(why == NULL, "case %zu refused: %s", k, why);
    }
}
END_TEST

static void assert_refused(const sim_dist *d, const char *expect, const char *what) {
    const char *why = sim_dist_check(d);
    ck_assert_msg(why != NULL, "%s: accepted", what);
    ck_assert_msg(strstr(why, expect) != NULL, "%s: reason \"%s\" lacks \"%s\"", what, why, expect);
}

START_TEST(test_check_rejects_bad_parameters) {
    sim_dist d = make(SIM_DIST_EXPONENTIAL, 0, 0);
    assert_refused(&d, "exponential mean must be > 0", "exponential 0");
    d.a = -1;
    assert_refused(&d, "exponential mean must be > 0", "exponential -1");
    d.a = NAN;
    assert_refused(&d, "exponential mean must be > 0", "exponential NaN");
    d = make(SIM_DIST_UNIFORM, 5, 4);
    assert_refused(&d, "uniform needs min <= max", "uniform reversed");
    d = make(SIM_DIST_UNIFORM, 0, INFINITY);
    assert_refused(&d, "uniform", "uniform infinite");
    d = make(SIM_DIST_NORMAL, 1, -1);
    assert_refused(&d, "stddev >= 0", "normal negative sd");
    d = make(SIM_DIST_LOGNORMAL, NAN, 1);
    assert_refused(&d, "lognormal", "lognormal NaN mu");
    d = make(SIM_DIST_PARETO, 0, 2);
    assert_refused(&d, "pareto needs x_m > 0 and alpha > 0", "pareto x_m 0");
    d = make(SIM_DIST_PARETO, 1, 0);
    assert_refused(&d, "pareto needs x_m > 0 and alpha > 0", "pareto alpha 0");
    d = make(SIM_DIST_WEIBULL, 1, -2);
    assert_refused(&d, "weibull", "weibull negative shape");
    d = make(SIM_DIST_CONSTANT, 1, 0);
    d.offset = NAN;
    assert_refused(&d, "offset", "NaN offset");
    d = (sim_dist){.kind = (sim_dist_kind)99};
    assert_refused(&d, "unknown", "unknown kind");

    const char *cdf_msg = "CDF points must be ascending with probabilities in [0,1] ending at 1";
    d = (sim_dist){.kind = SIM_DIST_EMPIRICAL};
    assert_refused(&d, "empirical needs at least one point", "empirical empty");
    double xs_desc[] = {2, 1}, ps_ok[] = {0.5, 1};
    d = (sim_dist){.kind = SIM_DIST_EMPIRICAL, .n = 2, .xs = xs_desc, .ps = ps_ok};
    assert_refused(&d, cdf_msg, "descending xs");
    double xs_ok[] = {1, 2}, ps_short[] = {0.5, 0.9};
    d.xs = xs_ok;
    d.ps = ps_short;
    assert_refused(&d, cdf_msg, "ps not ending at 1");
    double ps_desc[] = {0.7, 0.5};
    d.ps = ps_desc;
    assert_refused(&d, cdf_msg, "ps descending");
    double ps_neg[] = {-0.1, 1};
    d.ps = ps_neg;
    assert_refused(&d, cdf_msg, "negative probability");
    double ps_big[] = {0.5, 1.5};
    d.ps = ps_big;
    assert_refused(&d, cdf_msg, "probability above 1");
    double xs_nan[] = {NAN, 2};
    d.xs = xs_nan;
    d.ps = ps_ok;
    assert_refused(&d, cdf_msg, "NaN point");

    sim_dist parts[2] = {make(SIM_DIST_CONSTANT, 1, 0), make(SIM_DIST_CONSTANT, 2, 0)};
    double w_neg[2] = {0.6, 0.4}; /* cumulative going down: a negative weight */
    d = (sim_dist){.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = w_neg};
    assert_refused(&d, "weights must be >= 0 and sum to > 0", "negative weight");
    double w_zero[2] = {0, 0};
    d.ps = w_zero;
    assert_refused(&d, "weights must be >= 0 and sum to > 0", "zero weights");
    d = (sim_dist){.kind = SIM_DIST_MIXTURE};
    assert_refused(&d, "mixture", "empty mixture");
    /* A bad part is reported with its own reason. */
    double w_ok[2] = {0.5, 1};
    parts[1] = make(SIM_DIST_EXPONENTIAL, -1, 0);
    d = (sim_dist){.kind = SIM_DIST_MIXTURE, .n = 2, .parts = parts, .ps = w_ok};
    assert_refused(&d, "exponential mean must be > 0", "bad part");
}
END_TEST

/* ---- Zipf. ------------------------------------------------------------- */

/* Generalized harmonic number H(n, theta) = sum_{k=1}^n k^-theta, by direct
 * summation up to m and Euler-Maclaurin beyond (the next term is below
 * m^-(theta+3) / 720, about 1e-12 here). */
static double harmonic(uint64_t n, double theta) {
    const uint64_t m = 1000;
    double sum = 0.0;
    if (n <= m) {
        for (uint64_t k = n; k >= 1; k--)
            sum += pow((double)k, -theta);
        return sum;
    }
    for (uint64_t k = m - 1; k >= 1; k--)
        sum += pow((double)k, -theta);
    double dm = (double)m, dn = (double)n;
    /* The integral of x^-theta from m to n, via expm1 so that theta close
     * to 1 does not cancel. */
    double q = 1.0 - theta, l = log(dn / dm);
    double integral = q == 0.0 ? l : pow(dm, q) * expm1(q * l) / q;
    return sum + integral + 0.5 * (pow(dm, -theta) + pow(dn, -theta)) +
           theta / 12.0 * (pow(dm, -theta - 1) - pow(dn, -theta - 1));
}

/* Chi-square of ranks 1..10 plus an "11 and above" bin against the exact
 * pmf k^-theta / H(n, theta); with n = 10 the last bin is empty. */
static double zipf_chi_square(uint64_t n, double theta, uint32_t index, int draws, int *df) {
    sim_zipf z;
    sim_zipf_init(&z, n, theta);
    sim_rng rng = stream(index);
    long counts[11] = {0}, outside = 0;
    for (int i = 0; i < draws; i++) {
        uint64_t k = sim_zipf_sample(&z, &rng);
        if (k < 1 || k > n)
            outside++;
        else
            counts[k <= 10 ? k - 1 : 10]++;
    }
    ck_assert_int_eq(outside, 0);
    double h = harmonic(n, theta), head = 0.0, chi = 0.0;
    int bins = 0;
    for (int k = 1; k <= 10 && (uint64_t)k <= n; k++, bins++) {
        double p = pow(k, -theta) / h;
        head += p;
        chi += pow((double)counts[k - 1] - p * draws, 2) / (p * draws);
    }
    if (n > 10) {
        double p = 1.0 - head;
        chi += pow((double)counts[10] - p * draws, 2) / (p * draws);
        bins++;
    } else {
        ck_assert_int_eq(counts[10], 0);
    }
    *df = bins - 1;
    return chi;
}

START_TEST(test_zipf_small_n_matches_exact_pmf) {
    const double thetas[] = {0.5, 0.99, 1.0, 2.0};
    for (size_t t = 0; t < sizeof thetas / sizeof thetas[0]; t++) {
        int df;
        double chi = zipf_chi_square(10, thetas[t], 500 + (uint32_t)t, N, &df);
        ck_assert_int_eq(df, 9);
        ck_assert_msg(chi < CHI2_CRIT_DF9, "theta %g, n 10: chi-square %g", thetas[t], chi);
    }
}
END_TEST

/* Over a billion ranks the head frequencies and the mass of the tail beyond
 * rank 10 must match the exact pmf, which tests the normalisation as well as
 * the ratios P(1) / P(k) = k^theta.  1 - 1e-9 exercises the series branch
 * of the sampler's helpers, where (1 - theta) log x is tiny. */
START_TEST(test_zipf_large_n_head_matches_exact_pmf) {
    const double thetas[] = {0.99, 1.0 - 1e-9, 1.0, 1.2};
    for (size_t t = 0; t < sizeof thetas / sizeof thetas[0]; t++) {
        int df;
        double chi = zipf_chi_square(1000000000, thetas[t], 510 + (uint32_t)t, 2 * N, &df);
        ck_assert_int_eq(df, 10);
        ck_assert_msg(chi < CHI2_CRIT_DF10, "theta %g, n 1e9: chi-square %g", thetas[t], chi);
    }
}
END_TEST

/* n = 2^63: ranks stay in [1, n], and for theta = 0.5 the far tail is
 * reached with the right mass.  For theta < 1 and large n,
 * P(X <= x) ~ (x / n)^(1 - theta), so P(X > n / 4) ~ 1 - 0.25^0.5 = 1/2
 * (the error of that approximation is of order n^-(1/2)). */
START_TEST(test_zipf_huge_n_stays_in_range_and_reaches_the_tail) {
    const uint64_t n = UINT64_C(1) << 63;
    const double thetas[] = {0.5, 0.99, 1.0, 3.0};
    enum { DRAWS = 20000 };
    for (size_t t = 0; t < sizeof thetas / sizeof thetas[0]; t++) {
        sim_zipf z;
        sim_zipf_init(&z, n, thetas[t]);
        sim_rng rng = stream(520 + (uint32_t)t);
        long outside = 0, far = 0;
        for (int i = 0; i < DRAWS; i++) {
            uint64_t k = sim_zipf_sample(&z, &rng);
            outside += k < 1 || k > n;
            far += k > n / 4;
        }
        ck_assert_int_eq(outside, 0);
        if (thetas[t] == 0.5)
            ck_assert_msg(fabs((double)far / DRAWS - 0.5) < 5.0 * sqrt(0.25 / DRAWS),
                          "P(X > n/4) = %g", (double)far / DRAWS);
    }
}
END_TEST

START_TEST(test_zipf_single_rank_and_determinism) {
    sim_zipf z;
    sim_zipf_init(&z, 1, 0.99);
    sim_rng rng = stream(530);
    int wrong = 0;
    for (int i = 0; i < 1000; i++)
        wrong += sim_zipf_sample(&z, &rng) != 1;
    ck_assert_int_eq(wrong, 0);

    sim_zipf_init(&z, 1000000, 1.0);
    sim_rng a = stream(531), b = stream(531);
    for (int i = 0; i < 1000; i++)
        wrong += sim_zipf_sample(&z, &a) != sim_zipf_sample(&z, &b);
    ck_assert_int_eq(wrong, 0);
}
END_TEST

static Suite *dist_suite(void) {
    Suite *s = suite_create("dist");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_mean_matches_closed_form);
    tcase_add_test(tc, test_mean_is_infinite_for_pareto_alpha_at_most_one);
    tcase_add_test(tc, test_cdf_matches_closed_form_values);
    tcase_add_test(tc, test_uniform_matches_its_law);
    tcase_add_test(tc, test_exponential_matches_its_law);
    tcase_add_test(tc, test_normal_matches_its_law);
    tcase_add_test(tc, test_lognormal_matches_its_law);
    tcase_add_test(tc, test_pareto_matches_its_law);
    tcase_add_test(tc, test_heavy_pareto_matches_its_cdf);
    tcase_add_test(tc, test_weibull_matches_its_law);
    tcase_add_test(tc, test_constant_returns_value_plus_offset);
    tcase_add_test(tc, test_offset_shifts_every_draw);
    tcase_add_test(tc, test_floor_at_zero_clamps_negative_draws);
    tcase_add_test(tc, test_sample_time_rounds_to_nearest_and_clamps);
    tcase_add_test(tc, test_empirical_samples_pick_points_with_their_weights);
    tcase_add_test(tc, test_empirical_cdf_points_interpolate);
    tcase_add_test(tc, test_empirical_single_point_always_returns_it);
    tcase_add_test(tc, test_mixture_pareto_exponential_matches_mean_and_ks);
    tcase_add_test(tc, test_mixture_applies_part_offset_then_its_own);
    tcase_add_test(tc, test_normal_draw_depends_only_on_stream_state);
    tcase_add_test(tc, test_every_kind_is_deterministic_per_stream);
    tcase_add_test(tc, test_copy_is_deep_and_fini_frees_everything);
    tcase_add_test(tc, test_check_accepts_valid_parameters);
    tcase_add_test(tc, test_check_rejects_bad_parameters);
    tcase_add_test(tc, test_zipf_small_n_matches_exact_pmf);
    tcase_add_test(tc, test_zipf_large_n_head_matches_exact_pmf);
    tcase_add_test(tc, test_zipf_huge_n_stays_in_range_and_reaches_the_tail);
    tcase_add_test(tc, test_zipf_single_rank_and_determinism);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(dist_suite()); }
