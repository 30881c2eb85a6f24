/*
 * dist.c - distributions of non-negative reals (durations, sizes) drawn from
 * a sim_rng stream, their exact means and CDFs, parameter checks, and the
 * Zipf rank sampler.
 *
 * Sampling is by inversion wherever the inverse CDF is simple, so one draw
 * usually consumes one uniform.  Nothing is cached between calls (the normal
 * generator draws both of its uniforms every time): a value depends only on
 * the distribution and the stream state, which keeps every stream's
 * consumption independent of what other code sampled before.
 */
#include "sim.h"
#include "ziggurat.h"

#include <math.h>

/* Draws must be bit-identical whatever the compiler: clang would otherwise
 * fuse a * b + c into one FMA on targets that have it, changing the last bit
 * of samples.  (gcc ignores this pragma and warns about it; its ISO C modes
 * already do not contract, and -ffp-contract=off covers its GNU modes.) */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

#define TWO_PI 6.283185307179586476925286766559
#define SQRT2  1.4142135623730950488016887242097

/* A mixture or empirical table whose last cumulative probability is within
 * this of 1 is accepted: tables built by summing weights rarely hit 1.0
 * exactly, and sampling treats the last entry as the catch-all anyway. */
#define CUMULATIVE_TOLERANCE 1e-9

/* Index of the first entry of ps[0..n) strictly greater than u, or n - 1 when
 * none is (u at or beyond a last entry that rounding left just below 1). */
static size_t first_above(const double *ps, size_t n, double u) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u < ps[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Index of the last entry of xs[0..n) that is <= x; the caller ensures
 * xs[0] <= x. */
static size_t last_at_or_below(const double *xs, size_t n, double x) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = hi - (hi - lo) / 2;
        if (xs[mid] <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* A standard normal variate by Box-Muller.  Both uniforms are drawn on every
 * call and the second variate of the pair is discarded: caching it would make
 * a draw depend on the previous call rather than on the stream alone. */
static double standard_normal(sim_rng *rng) {
    /* Separate statements fix the order of the two draws. */
    double u1 = sim_rng_double(rng);
    double u2 = sim_rng_double(rng);
    /* 1 - u1 lies in (0, 1], so the logarithm is finite. */
    return sqrt(-2.0 * log1p(-u1)) * cos(TWO_PI * u2);
}

static double empirical_sample(const sim_dist *d, sim_rng *rng) {
    SIM_ASSERT(d->n > 0 && d->xs != NULL && d->ps != NULL);
    double u = sim_rng_double(rng);
    if (!d->interpolate)
        return d->xs[first_above(d->ps, d->n, u)];
    /* CDF points: an atom of mass ps[0] at xs[0], then linear pieces. */
    if (u < d->ps[0] || d->n == 1)
        return d->xs[0];
    size_t i = first_above(d->ps, d->n, u);
    double p0 = d->ps[i - 1], p1 = d->ps[i];
    if (!(u < p1)) /* only when rounding left ps[n-1] just below 1 */
        return d->xs[i];
    /* ps[i-1] <= u < ps[i], so the denominator is positive. */
    return d->xs[i - 1] + (d->xs[i] - d->xs[i - 1]) * ((u - p0) / (p1 - p0));
}

/*
 * Standard exponential (mean 1) by the ziggurat method (Marsaglia and Tsang
 * 2000, laid out as Doornik's ZIGNOR; tables in ziggurat.h).  One 64-bit
 * draw gives the layer (low 8 bits) and the position in it (top 53 bits,
 * disjoint from the layer bits); about 98.9 % of draws are accepted at once
 * with one multiply and one comparison, so the common case needs no log or
 * exp.  This is the distribution every exponential link latency and the
 * PHOLD benchmark draw from.
 */
static double std_exponential(sim_rng *rng) {
    for (;;) {
        uint64_t bits = sim_rng_u64(rng);
        unsigned i = (unsigned)(bits & 0xff);
        double x = (double)(bits >> 11) * 0x1.0p-53 * sim_zig_exp_x[i];
        if (x < sim_zig_exp_x[i + 1])
            return x;
        if (i == 0) /* the tail beyond R is R plus a fresh exponential */
            return SIM_ZIG_EXP_R - log(1.0 - sim_rng_double(rng));
        double y =
            sim_zig_exp_f[i] + (sim_zig_exp_f[i + 1] - sim_zig_exp_f[i]) * sim_rng_double(rng);
        if (y < exp(-x))
            return x;
    }
}

/* The draw before the offset and the floor. */
static double raw_sample(const sim_dist *d, sim_rng *rng) {
    switch (d->kind) {
    case SIM_DIST_CONSTANT:
        return d->a;
    case SIM_DIST_UNIFORM:
        return d->a + (d->b - d->a) * sim_rng_double(rng);
    case SIM_DIST_EXPONENTIAL:
        return d->a * std_exponential(rng);
    case SIM_DIST_NORMAL:
        return d->a + d->b * standard_normal(rng);
    case SIM_DIST_LOGNORMAL:
        return exp(d->a + d->b * standard_normal(rng));
    case SIM_DIST_PARETO:
        /* 1 - u in (0, 1]: the result is >= x_m and finite. */
        return d->a * pow(1.0 - sim_rng_double(rng), -1.0 / d->b);
    case SIM_DIST_WEIBULL:
        return d->a * pow(-log(1.0 - sim_rng_double(rng)), 1.0 / d->b);
    case SIM_DIST_EMPIRICAL:
        return empirical_sample(d, rng);
    case SIM_DIST_MIXTURE: {
        SIM_ASSERT(d->n > 0 && d->parts != NULL && d->ps != NULL);
        double u = sim_rng_double(rng);
        /* The part's own offset and floor apply inside sim_dist_sample. */
        return sim_dist_sample(&d->parts[first_above(d->ps, d->n, u)], rng);
    }
    }
    sim_panic(__FILE__, __LINE__, "unknown distribution kind %d", (int)d->kind);
}

double sim_dist_sample(const sim_dist *d, sim_rng *rng) {
    double v = raw_sample(d, rng) + d->offset;
    /* Written so that NaN also maps to 0. */
    return v > 0.0 ? v : 0.0;
}

sim_time sim_dist_sample_time(const sim_dist *d, sim_rng *rng) {
    double v = sim_dist_sample(d, rng);
    /* (double)INT64_MAX rounds up to 2^63, which does not fit. */
    if (v >= 0x1.0p63)
        return SIM_TIME_MAX;
    /* Round half up.  Not llround: this is on the hot path of every message
     * and v >= 0 makes the truncating conversion a rounding. */
    return (sim_time)(v + 0.5);
}

static double empirical_mean(const sim_dist *d) {
    if (!d->interpolate) {
        double sum = 0.0, prev = 0.0;
        for (size_t i = 0; i < d->n; i++) {
            sum += d->xs[i] * (d->ps[i] - prev);
            prev = d->ps[i];
        }
        return sum;
    }
    /* The atom at xs[0], then each linear piece contributes its midpoint. */
    double sum = d->xs[0] * d->ps[0];
    for (size_t i = 1; i < d->n; i++)
        sum += (d->ps[i] - d->ps[i - 1]) * 0.5 * (d->xs[i - 1] + d->xs[i]);
    return sum;
}

static double mixture_mean(const sim_dist *d) {
    double sum = 0.0, prev = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double w = d->ps[i] - prev;
        prev = d->ps[i];
        /* Skipping empty parts avoids 0 * INFINITY = NaN. */
        if (w > 0.0)
            sum += w * sim_dist_mean(&d->parts[i]);
    }
    return sum;
}

double sim_dist_mean(const sim_dist *d) {
    double m;
    switch (d->kind) {
    case SIM_DIST_CONSTANT:
        m = d->a;
        break;
    case SIM_DIST_UNIFORM:
        m = 0.5 * (d->a + d->b);
        break;
    case SIM_DIST_EXPONENTIAL:
    case SIM_DIST_NORMAL:
        m = d->a;
        break;
    case SIM_DIST_LOGNORMAL:
        m = exp(d->a + 0.5 * d->b * d->b);
        break;
    case SIM_DIST_PARETO:
        /* The integral diverges for alpha <= 1. */
        m = d->b > 1.0 ? d->b * d->a / (d->b - 1.0) : INFINITY;
        break;
    case SIM_DIST_WEIBULL:
        m = d->a * tgamma(1.0 + 1.0 / d->b);
        break;
    case SIM_DIST_EMPIRICAL:
        if (d->n == 0 || d->xs == NULL || d->ps == NULL)
            return NAN;
        m = empirical_mean(d);
        break;
    case SIM_DIST_MIXTURE:
        if (d->n == 0 || d->parts == NULL || d->ps == NULL)
            return NAN;
        m = mixture_mean(d);
        break;
    default:
        return NAN;
    }
    return m + d->offset;
}

static double empirical_cdf(const sim_dist *d, double x) {
    if (d->n == 0 || d->xs == NULL || d->ps == NULL)
        return NAN;
    if (x < d->xs[0])
        return 0.0;
    size_t j = last_at_or_below(d->xs, d->n, x);
    if (!d->interpolate || j == d->n - 1)
        return d->ps[j];
    /* xs[j] <= x < xs[j+1], so the piece has positive width. */
    double t = (x - d->xs[j]) / (d->xs[j + 1] - d->xs[j]);
    return d->ps[j] + (d->ps[j + 1] - d->ps[j]) * t;
}

static double mixture_cdf(const sim_dist *d, double x) {
    if (d->n == 0 || d->parts == NULL || d->ps == NULL)
        return NAN;
    double sum = 0.0, prev = 0.0;
    for (size_t i = 0; i < d->n; i++) {
        double w = d->ps[i] - prev;
        prev = d->ps[i];
        if (w > 0.0)
            sum += w * sim_dist_cdf(&d->parts[i], x);
    }
    return sum;
}

double sim_dist_cdf(const sim_dist *d, double x) {
    x -= d->offset;
    switch (d->kind) {
    case SIM_DIST_CONSTANT:
        return x >= d->a ? 1.0 : 0.0;
    case SIM_DIST_UNIFORM:
        if (x < d->a)
            return 0.0;
        if (x >= d->b)
            return 1.0;
        return (x - d->a) / (d->b - d->a);
    case SIM_DIST_EXPONENTIAL:
        return x <= 0.0 ? 0.0 : -expm1(-x / d->a);
    case SIM_DIST_NORMAL:
        if (d->b == 0.0)
            return x >= d->a ? 1.0 : 0.0;
        /* erfc keeps precision in the lower tail, where 1 + erf cancels. */
        return 0.5 * erfc(-(x - d->a) / (d->b * SQRT2));
    case SIM_DIST_LOGNORMAL:
        if (x <= 0.0)
            return 0.0;
        if (d->b == 0.0)
            return log(x) >= d->a ? 1.0 : 0.0;
        return 0.5 * erfc(-(log(x) - d->a) / (d->b * SQRT2));
    case SIM_DIST_PARETO:
        /* 1 - (x_m/x)^alpha, written to stay accurate near x_m. */
        return x <= d->a ? 0.0 : -expm1(d->b * log(d->a / x));
    case SIM_DIST_WEIBULL:
        return x <= 0.0 ? 0.0 : -expm1(-pow(x / d->a, d->b));
    case SIM_DIST_EMPIRICAL:
        return empirical_cdf(d, x);
    case SIM_DIST_MIXTURE:
        return mixture_cdf(d, x);
    }
    return NAN;
}

void sim_dist_fini(sim_dist *d) {
    if (d->parts != NULL) {
        for (size_t i = 0; i < d->n; i++)
            sim_dist_fini(&d->parts[i]);
        sim_free(d->parts);
    }
    if (d->xs != NULL)
        sim_free(d->xs);
    if (d->ps != NULL)
        sim_free(d->ps);
    d->parts = NULL;
    d->xs = NULL;
    d->ps = NULL;
    d->n = 0;
}

static double *copy_doubles(const double *src, size_t n) {
    if (src == NULL || n == 0)
        return NULL;
    double *p = sim_malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = src[i];
    return p;
}

void sim_dist_copy(sim_dist *dst, const sim_dist *src) {
    SIM_ASSERT(dst != src);
    *dst = *src;
    dst->xs = copy_doubles(src->xs, src->n);
    dst->ps = copy_doubles(src->ps, src->n);
    dst->parts = NULL;
    if (src->parts != NULL && src->n > 0) {
        dst->parts = sim_calloc(src->n, sizeof *dst->parts);
        for (size_t i = 0; i < src->n; i++)
            sim_dist_copy(&dst->parts[i], &src->parts[i]);
    }
}

/* Cumulative probabilities: each in [0, 1], non-decreasing, ending at 1. */
static bool cumulative_ok(const double *ps, size_t n) {
    double prev = 0.0;
    for (size_t i = 0; i < n; i++) {
        /* Written so that NaN fails. */
        if (!(ps[i] >= prev && ps[i] <= 1.0))
            return false;
        prev = ps[i];
    }
    return fabs(ps[n - 1] - 1.0) <= CUMULATIVE_TOLERANCE;
}

static const char *check_empirical(const sim_dist *d) {
    if (d->n == 0 || d->xs == NULL || d->ps == NULL)
        return "empirical needs at least one point";
    for (size_t i = 0; i < d->n; i++) {
        if (!isfinite(d->xs[i]) || (i > 0 && d->xs[i] < d->xs[i - 1]))
            return "CDF points must be ascending with probabilities in [0,1] ending at 1";
    }
    if (!cumulative_ok(d->ps, d->n))
        return "CDF points must be ascending with probabilities in [0,1] ending at 1";
    return NULL;
}

static const char *check_mixture(const sim_dist *d) {
    if (d->n == 0 || d->parts == NULL || d->ps == NULL)
        return "mixture needs at least one part";
    if (!cumulative_ok(d->ps, d->n))
        return "weights must be >= 0 and sum to > 0";
    for (size_t i = 0; i < d->n; i++) {
        const char *why = sim_dist_check(&d->parts[i]);
        if (why != NULL)
            return why;
    }
    return NULL;
}

/* Conditions are written as !(good) so that NaN parameters are refused. */
const char *sim_dist_check(const sim_dist *d) {
    if (!isfinite(d->offset))
        return "offset must be finite";
    switch (d->kind) {
    case SIM_DIST_CONSTANT:
        return isfinite(d->a) ? NULL : "constant value must be finite";
    case SIM_DIST_UNIFORM:
        if (!isfinite(d->a) || !isfinite(d->b))
            return "uniform bounds must be finite";
        return d->a <= d->b ? NULL : "uniform needs min <= max";
    case SIM_DIST_EXPONENTIAL:
        return d->a > 0.0 && isfinite(d->a) ? NULL : "exponential mean must be > 0";
    case SIM_DIST_NORMAL:
        return isfinite(d->a) && d->b >= 0.0 && isfinite(d->b)
                   ? NULL
                   : "normal needs a finite mean and stddev >= 0";
    case SIM_DIST_LOGNORMAL:
        return isfinite(d->a) && d->b >= 0.0 && isfinite(d->b)
                   ? NULL
                   : "lognormal needs a finite mu and sigma >= 0";
    case SIM_DIST_PARETO:
        return d->a > 0.0 && isfinite(d->a) && d->b > 0.0 && isfinite(d->b)
                   ? NULL
                   : "pareto needs x_m > 0 and alpha > 0";
    case SIM_DIST_WEIBULL:
        return d->a > 0.0 && isfinite(d->a) && d->b > 0.0 && isfinite(d->b)
                   ? NULL
                   : "weibull needs scale > 0 and shape > 0";
    case SIM_DIST_EMPIRICAL:
        return check_empirical(d);
    case SIM_DIST_MIXTURE:
        return check_mixture(d);
    }
    return "unknown distribution kind";
}

/* ------------------------------------------------------------------------ */
/*
 * Zipf by rejection-inversion (Hormann and Derflinger 1996), in the form of
 * Apache Commons RNG's RejectionInversionZipfSampler.  The hat is
 * h(x) = x^-theta with integral H(x) = (x^(1-theta) - 1) / (1 - theta),
 * which tends to log(x) as theta -> 1, so one formula covers every
 * theta > 0.  H is evaluated as helper2((1-theta) log x) * log x and its
 * inverse as exp(helper1(t) * x) with t = (1-theta) x, where
 * helper1(t) = log1p(t)/t and helper2(t) = expm1(t)/t; near t = 0 both use
 * their Taylor series so theta close to 1 loses no precision.
 */

/* Below this |t| the Taylor series of helper1/helper2 is exact to double
 * precision, and the log1p(t)/t division would lose digits. */
#define ZIPF_TAYLOR_THRESHOLD 1e-8

/* log1p(t) / t */
static double zipf_helper1(double t) {
    if (fabs(t) > ZIPF_TAYLOR_THRESHOLD)
        return log1p(t) / t;
    return 1.0 - t * (0.5 - t * (1.0 / 3.0 - 0.25 * t));
}

/* expm1(t) / t */
static double zipf_helper2(double t) {
    if (fabs(t) > ZIPF_TAYLOR_THRESHOLD)
        return expm1(t) / t;
    return 1.0 + t * 0.5 * (1.0 + t * (1.0 / 3.0) * (1.0 + 0.25 * t));
}

static double zipf_h(double theta, double x) { return exp(-theta * log(x)); }

static double zipf_h_integral(double theta, double x) {
    double log_x = log(x);
    return zipf_helper2((1.0 - theta) * log_x) * log_x;
}

static double zipf_h_integral_inverse(double theta, double x) {
    double t = x * (1.0 - theta);
    /* H^-1 is only defined for t >= -1; rounding can push t just below. */
    if (t < -1.0)
        t = -1.0;
    return exp(zipf_helper1(t) * x);
}

void sim_zipf_init(sim_zipf *z, uint64_t n, double theta) {
    SIM_ASSERT(n >= 1);
    SIM_ASSERT(theta > 0.0 && isfinite(theta));
    z->n = n;
    z->theta = theta;
    /* Rank 1 takes the whole interval (H(1.5) - 1, H(1.5)]: h(1) = 1, so it
     * is always accepted and the hat needs no mass to the left of 1/2. */
    z->h_integral_x1 = zipf_h_integral(theta, 1.5) - 1.0;
    z->h_integral_n = zipf_h_integral(theta, (double)n + 0.5);
    /* The squeeze: k - x <= s guarantees acceptance (Theorem 2 of the paper)
     * and saves evaluating H in most draws. */
    z->s = 2.0 - zipf_h_integral_inverse(theta, zipf_h_integral(theta, 2.5) - zipf_h(theta, 2.0));
}

uint64_t sim_zipf_sample(const sim_zipf *z, sim_rng *rng) {
    for (;;) {
        /* u is uniform on (H(1.5) - 1, H(n + 1/2)]. */
        double u = z->h_integral_n + sim_rng_double(rng) * (z->h_integral_x1 - z->h_integral_n);
        double x = zipf_h_integral_inverse(z->theta, u);
        /* Round to the nearest rank, clamping in double before converting:
         * rounding error can step just outside [1, n], and (double)n may
         * exceed n when n is near 2^63, which the >= comparison absorbs. */
        double kd = floor(x + 0.5);
        uint64_t k;
        if (!(kd >= 1.0))
            k = 1;
        else if (kd >= (double)z->n)
            k = z->n;
        else
            k = (uint64_t)kd;
        /* Accept k with probability h(k) / (H(k + 1/2) - H(k - 1/2)), so
         * rank k is returned with probability proportional to k^-theta. */
        if ((double)k - x <= z->s ||
            u >= zipf_h_integral(z->theta, (double)k + 0.5) - zipf_h(z->theta, (double)k))
            return k;
    }
}
