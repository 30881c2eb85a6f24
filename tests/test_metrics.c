/*
 * test_metrics.c - tests of the histogram, the metric registry, the time
 * series and the writers (sim/metrics.h).
 *
 * The percentile tests compare against the exact nearest-rank quantile of
 * 10^5 generated values (uniform, exponential, Pareto and a mix of every
 * magnitude), with a local xorshift so that the tests depend on nothing but
 * the module under test.  Writer tests compare exact golden text, because
 * byte-identical output is what determinism promises.  Misuse tests expect
 * SIGABRT from SIM_ASSERT/sim_panic, so they need Check's fork mode (the
 * default).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "check_util.h"
#include "metrics.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* xorshift64*: tiny, deterministic, good enough to spread test values. */
static uint64_t next_u64(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Uniform in (0, 1]: never 0, so logs and negative powers stay finite. */
static double next_unit(uint64_t *s) { return ((next_u64(s) >> 11) + 1) * 0x1.0p-53; }

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef int64_t (*value_fn)(uint64_t *s);

static int64_t uniform_value(uint64_t *s) { return (int64_t)(next_u64(s) % 1000000000u); }

static int64_t exponential_value(uint64_t *s) { return llround(-log(next_unit(s)) * 1e6); }

/* Pareto with x_m = 1000 and alpha = 1.1: infinite variance, long tail. */
static int64_t pareto_value(uint64_t *s) {
    double v = 1000.0 * pow(next_unit(s), -1.0 / 1.1);
    return v > 9e18 ? (int64_t)9e18 : llround(v);
}

/* A random bit pattern shifted by a random amount: every magnitude from 0
 * to 2^63 - 1, including the exact region, equally often. */
static int64_t any_magnitude_value(uint64_t *s) {
    uint64_t v = next_u64(s) >> 1;
    return (int64_t)(v >> (next_u64(s) % 64));
}

/* Percentiles in thousandths of a percent, so the exact rank is integer
 * arithmetic independent of how the code under test rounds doubles. */
static const int64_t percentiles_milli[] = {0,     1,     1000,  10000, 25000, 50000, 75000,
                                            90000, 95000, 99000, 99900, 99990, 99999, 100000};

/*
 * Records n values of fn into a histogram and checks every percentile
 * against the exact nearest-rank sample quantile: within 1 % (the
 * contract), and within 1/128 (the bound proven in metrics.h).
 */
static void check_percentiles(value_fn fn, uint64_t seed, int64_t n) {
    uint64_t s = seed;
    int64_t *vals = malloc((size_t)n * sizeof *vals);
    ck_assert_ptr_nonnull(vals);
    sim_hist h;
    sim_hist_init(&h);
    for (int64_t i = 0; i < n; i++) {
        vals[i] = fn(&s);
        sim_hist_record(&h, vals[i]);
    }
    qsort(vals, (size_t)n, sizeof *vals, cmp_i64);
    ck_assert_int_eq(sim_hist_count(&h), n);
    ck_assert_int_eq(sim_hist_min(&h), vals[0]);
    ck_assert_int_eq(sim_hist_max(&h), vals[n - 1]);
    double worst = 0.0;
    for (size_t i = 0; i < sizeof percentiles_milli / sizeof percentiles_milli[0]; i++) {
        int64_t pm = percentiles_milli[i];
        int64_t rank = (pm * n + 99999) / 100000;
        if (rank < 1)
            rank = 1;
        int64_t exact = vals[rank - 1];
        int64_t got = sim_hist_percentile(&h, (double)pm / 1000.0);
        if (exact == 0) {
            ck_assert_msg(got == 0, "p%g: got %" PRId64 ", exact 0", pm / 1000.0, got);
            continue;
        }
        double err = fabs((double)got - (double)exact) / (double)exact;
        ck_assert_msg(err <= 0.01, "p%g: got %" PRId64 ", exact %" PRId64 ", error %.4f %%",
                      pm / 1000.0, got, exact, err * 100);
        if (err > worst)
            worst = err;
    }
    ck_assert_msg(worst <= 1.0 / 128 + 1e-12, "worst error %g above the proven 1/128", worst);
    sim_hist_fini(&h);
    free(vals);
}

/* Runs a CSV writer into memory; returns malloc'd text (free()). */
static char *csv_text(int (*writer)(const sim_metrics *, FILE *), const sim_metrics *m) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(writer(m, f), 0);
    ck_assert_int_eq(fclose(f), 0);
    return text;
}

static void check_format(double v, const char *want) {
    char buf[SIM_FORMAT_DOUBLE_SIZE];
    sim_format_double(buf, sizeof buf, v);
    ck_assert_str_eq(buf, want);
}

/* ---- histogram: exact statistics ---------------------------------------- */

START_TEST(hist_keeps_exact_count_min_max_mean) {
    sim_hist h;
    sim_hist_init(&h);
    int64_t vals[] = {5, 1000, 3, 1000000000, 77};
    for (size_t i = 0; i < 5; i++)
        sim_hist_record(&h, vals[i]);
    ck_assert_int_eq(sim_hist_count(&h), 5);
    ck_assert_int_eq(sim_hist_min(&h), 3);
    ck_assert_int_eq(sim_hist_max(&h), 1000000000);
    ck_assert_double_eq(sim_hist_mean(&h), 1000001085.0 / 5);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_empty_reports_zero_and_nan_mean) {
    sim_hist h;
    sim_hist_init(&h);
    ck_assert_int_eq(sim_hist_count(&h), 0);
    ck_assert_int_eq(sim_hist_min(&h), 0);
    ck_assert_int_eq(sim_hist_max(&h), 0);
    ck_assert(isnan(sim_hist_mean(&h)));
    ck_assert_int_eq(sim_hist_percentile(&h, 50), 0);
    ck_assert_ptr_null(h.counts); /* nothing allocated until a record */
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_values_below_128_are_exact_nearest_rank) {
    sim_hist h;
    sim_hist_init(&h);
    for (int64_t v = 1; v <= 10; v++)
        sim_hist_record(&h, v * 10);
    ck_assert_int_eq(sim_hist_percentile(&h, 0), 10);
    ck_assert_int_eq(sim_hist_percentile(&h, 10), 10);   /* rank 1 */
    ck_assert_int_eq(sim_hist_percentile(&h, 10.5), 20); /* rank ceil(1.05) = 2 */
    ck_assert_int_eq(sim_hist_percentile(&h, 50), 50);
    ck_assert_int_eq(sim_hist_percentile(&h, 55), 60);
    ck_assert_int_eq(sim_hist_percentile(&h, 90), 90);
    ck_assert_int_eq(sim_hist_percentile(&h, 99.9), 100);
    ck_assert_int_eq(sim_hist_percentile(&h, 100), 100);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_percentile_rank_ignores_binary_rounding_of_p) {
    /* 1.1 * 3000 / 100 and 99.9 * 41000 / 100 come out a hair above the
     * integers 33 and 40959 in binary; a plain ceil would take one rank too
     * many and report the next value. */
    sim_hist h;
    sim_hist_init(&h);
    sim_hist_record_n(&h, 10, 33);
    sim_hist_record_n(&h, 20, 3000 - 33);
    ck_assert_int_eq(sim_hist_percentile(&h, 1.1), 10);
    sim_hist_reset(&h);
    sim_hist_record_n(&h, 10, 40959);
    sim_hist_record_n(&h, 20, 41000 - 40959);
    ck_assert_int_eq(sim_hist_percentile(&h, 99.9), 10);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_percentile_reports_clamped_bucket_midpoint) {
    sim_hist h;
    sim_hist_init(&h);
    /* 1000000 and 1000001 share the bucket [999424, 1007615]. */
    int64_t lo, hi;
    sim_hist_bucket_range(sim_hist_bucket_of(1000000), &lo, &hi);
    ck_assert_int_eq(lo, 999424);
    ck_assert_int_eq(hi, 1007615);
    sim_hist_record(&h, 5);
    sim_hist_record(&h, 1000000);
    sim_hist_record(&h, 1000001);
    sim_hist_record(&h, 2000000);
    ck_assert_int_eq(sim_hist_percentile(&h, 50), 999424 + 4096);
    sim_hist_reset(&h);
    /* The midpoint lies above every sample: clamped to max. */
    sim_hist_record(&h, 1000000);
    sim_hist_record(&h, 1000001);
    sim_hist_record(&h, 1000002);
    ck_assert_int_eq(sim_hist_percentile(&h, 50), 1000002);
    /* Ranks 1 and count are the exact min and max, not a bucket value. */
    ck_assert_int_eq(sim_hist_percentile(&h, 0), 1000000);
    ck_assert_int_eq(sim_hist_percentile(&h, 100), 1000002);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_buckets_tile_int64_with_bounded_width) {
    int64_t prev_hi = -1;
    for (size_t b = 0; b < SIM_HIST_BUCKETS; b++) {
        int64_t lo, hi;
        sim_hist_bucket_range(b, &lo, &hi);
        ck_assert_int_eq(lo, prev_hi + 1);
        ck_assert_int_le(lo, hi);
        ck_assert_uint_eq(sim_hist_bucket_of(lo), b);
        ck_assert_uint_eq(sim_hist_bucket_of(hi), b);
        if (lo < 128) {
            ck_assert_int_eq(lo, hi);
        } else {
            /* (width / 2) / lo <= 1/128 is the error bound; integers, since
             * doubles cannot hold these bounds exactly. */
            uint64_t width = (uint64_t)hi - (uint64_t)lo + 1;
            ck_assert_msg(width * 64 <= (uint64_t)lo, "bucket %zu too wide", b);
        }
        prev_hi = hi;
    }
    ck_assert_int_eq(prev_hi, INT64_MAX);
    ck_assert_uint_eq(sim_hist_bucket_of(INT64_MAX), SIM_HIST_BUCKETS - 1);
}
END_TEST

/* ---- histogram: percentile accuracy ------------------------------------- */

START_TEST(hist_percentiles_within_1pct_uniform) { check_percentiles(uniform_value, 1, 100000); }
END_TEST

START_TEST(hist_percentiles_within_1pct_exponential) {
    check_percentiles(exponential_value, 2, 100000);
}
END_TEST

START_TEST(hist_percentiles_within_1pct_heavy_tailed) {
    check_percentiles(pareto_value, 3, 100000);
}
END_TEST

START_TEST(hist_percentiles_within_1pct_every_magnitude) {
    /* An n that is not a multiple of 100 makes most ranks fractional. */
    check_percentiles(any_magnitude_value, 4, 99991);
}
END_TEST

START_TEST(hist_mean_matches_exact_sum_of_many_values) {
    uint64_t s = 5;
    sim_hist h;
    sim_hist_init(&h);
    int64_t sum = 0;
    for (int i = 0; i < 100000; i++) {
        int64_t v = uniform_value(&s);
        sum += v;
        sim_hist_record(&h, v);
    }
    ck_assert_double_eq(sim_hist_mean(&h), (double)sum / 100000);
    sim_hist_fini(&h);
}
END_TEST

/* ---- histogram: extremes ------------------------------------------------ */

START_TEST(hist_handles_zero_one_and_int64_max) {
    sim_hist h;
    sim_hist_init(&h);
    int64_t big = (int64_t)1 << 62;
    int64_t vals[] = {INT64_MAX, 0, big, 1, INT64_MAX - 1};
    for (size_t i = 0; i < 5; i++)
        sim_hist_record(&h, vals[i]);
    ck_assert_int_eq(sim_hist_min(&h), 0);
    ck_assert_int_eq(sim_hist_max(&h), INT64_MAX);
    ck_assert_int_eq(sim_hist_percentile(&h, 0), 0);
    ck_assert_int_eq(sim_hist_percentile(&h, 20), 0);
    ck_assert_int_eq(sim_hist_percentile(&h, 40), 1);
    int64_t p60 = sim_hist_percentile(&h, 60);
    ck_assert(fabs((double)p60 - (double)big) <= (double)big / 128);
    int64_t p80 = sim_hist_percentile(&h, 80);
    ck_assert(p80 <= INT64_MAX && (double)p80 >= (double)INT64_MAX * (1 - 1.0 / 128));
    ck_assert_int_eq(sim_hist_percentile(&h, 100), INT64_MAX);
    /* The sum 2^64 + 2^62 - 2 overflows int64; the mean must not. */
    double want = (18446744073709551616.0 + 4611686018427387904.0 - 2) / 5;
    ck_assert_double_eq_tol(sim_hist_mean(&h), want, want * 1e-15);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_record_n_sums_beyond_64_bits) {
    sim_hist h;
    sim_hist_init(&h);
    sim_hist_record_n(&h, INT64_MAX, INT64_MAX);
    ck_assert_int_eq(sim_hist_count(&h), INT64_MAX);
    ck_assert_uint_eq(h.sum_hi, ((uint64_t)1 << 62) - 1); /* (2^63-1)^2 >> 64 */
    ck_assert_uint_eq(h.sum_lo, 1);
    ck_assert_double_eq(sim_hist_mean(&h), (double)INT64_MAX);
    ck_assert_int_eq(sim_hist_percentile(&h, 50), INT64_MAX);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_record_n_equals_repeated_records) {
    sim_hist a, b;
    sim_hist_init(&a);
    sim_hist_init(&b);
    sim_hist_record_n(&a, 123456789, 3);
    sim_hist_record_n(&a, 7, 0);
    for (int i = 0; i < 3; i++)
        sim_hist_record(&b, 123456789);
    ck_assert_int_eq(a.count, b.count);
    ck_assert_int_eq(a.min, b.min);
    ck_assert_int_eq(a.max, b.max);
    ck_assert_uint_eq(a.sum_lo, b.sum_lo);
    ck_assert_uint_eq(a.sum_hi, b.sum_hi);
    ck_assert_int_eq(memcmp(a.counts, b.counts, SIM_HIST_BUCKETS * sizeof *a.counts), 0);
    sim_hist_fini(&a);
    sim_hist_fini(&b);
}
END_TEST

/* ---- histogram: merge and reset ----------------------------------------- */

START_TEST(hist_merge_equals_recording_both) {
    uint64_t s = 6;
    sim_hist a, b, both, empty;
    sim_hist_init(&a);
    sim_hist_init(&b);
    sim_hist_init(&both);
    sim_hist_init(&empty);
    for (int i = 0; i < 20000; i++) {
        int64_t v = any_magnitude_value(&s);
        sim_hist_record(i % 3 ? &a : &b, v);
        sim_hist_record(&both, v);
    }
    sim_hist_merge(&a, &b);
    sim_hist_merge(&a, &empty);
    ck_assert_int_eq(a.count, both.count);
    ck_assert_int_eq(a.min, both.min);
    ck_assert_int_eq(a.max, both.max);
    ck_assert_uint_eq(a.sum_lo, both.sum_lo);
    ck_assert_uint_eq(a.sum_hi, both.sum_hi);
    ck_assert_int_eq(memcmp(a.counts, both.counts, SIM_HIST_BUCKETS * sizeof *a.counts), 0);
    for (int p = 0; p <= 100; p++)
        ck_assert_int_eq(sim_hist_percentile(&a, p), sim_hist_percentile(&both, p));
    /* Merging into an empty histogram copies. */
    sim_hist_merge(&empty, &both);
    ck_assert_int_eq(empty.count, both.count);
    ck_assert_int_eq(empty.min, both.min);
    ck_assert_double_eq(sim_hist_mean(&empty), sim_hist_mean(&both));
    sim_hist_fini(&a);
    sim_hist_fini(&b);
    sim_hist_fini(&both);
    sim_hist_fini(&empty);
}
END_TEST

START_TEST(hist_reset_empties_and_allows_reuse) {
    sim_hist h;
    sim_hist_init(&h);
    sim_hist_record(&h, 1000);
    sim_hist_reset(&h);
    ck_assert_int_eq(sim_hist_count(&h), 0);
    ck_assert_uint_eq(sim_hist_bucket_count(&h, sim_hist_bucket_of(1000)), 0);
    sim_hist_record(&h, 50);
    ck_assert_int_eq(sim_hist_min(&h), 50);
    ck_assert_int_eq(sim_hist_max(&h), 50);
    ck_assert_double_eq(sim_hist_mean(&h), 50.0);
    sim_hist_fini(&h);
}
END_TEST

START_TEST(hist_negative_value_aborts) {
    sim_hist h;
    sim_hist_init(&h);
    sim_hist_record(&h, -1);
}
END_TEST

START_TEST(hist_percentile_above_100_aborts) {
    sim_hist h;
    sim_hist_init(&h);
    sim_hist_record(&h, 1);
    sim_hist_percentile(&h, 100.5);
}
END_TEST

/* ---- registry ----------------------------------------------------------- */

START_TEST(metrics_counter_registration_dedupes_by_name) {
    long blocks = sim_live_blocks();
    sim_metrics *m = sim_metrics_create();
    int a = sim_metrics_counter(m, "msgs.sent");
    int b = sim_metrics_counter(m, "msgs.recv");
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 1);
    /* Every node registers the same counter and gets the same id. */
    for (int node = 0; node < 100; node++) {
        ck_assert_int_eq(sim_metrics_counter(m, "msgs.sent"), a);
        sim_metrics_count(m, a, 2);
    }
    sim_metrics_count(m, b, -5);
    ck_assert_int_eq(sim_metrics_n_counters(m), 2);
    ck_assert_int_eq(sim_metrics_counter_value(m, a), 200);
    ck_assert_int_eq(sim_metrics_counter_value(m, b), -5);
    ck_assert_str_eq(sim_metrics_counter_name(m, b), "msgs.recv");
    ck_assert_int_eq(sim_metrics_find(m, SIM_METRIC_COUNTER, "msgs.recv"), b);
    ck_assert_int_eq(sim_metrics_find(m, SIM_METRIC_GAUGE, "msgs.recv"), -1);
    ck_assert_int_eq(sim_metrics_find(m, SIM_METRIC_COUNTER, "nope"), -1);
    sim_metrics_destroy(m);
    ck_assert_int_eq(sim_live_blocks(), blocks);
}
END_TEST

START_TEST(metrics_ids_are_dense_per_kind_in_registration_order) {
    long blocks = sim_live_blocks();
    sim_metrics *m = sim_metrics_create();
    char name[32];
    /* Enough names to force the hash index and arrays to grow. */
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "c%d", i);
        ck_assert_int_eq(sim_metrics_counter(m, name), i);
        snprintf(name, sizeof name, "g%d", i);
        ck_assert_int_eq(sim_metrics_gauge(m, name), i);
        snprintf(name, sizeof name, "h%d", i);
        ck_assert_int_eq(sim_metrics_histogram(m, name, "ns"), i);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "g%d", i);
        ck_assert_int_eq(sim_metrics_gauge(m, name), i);
        ck_assert_str_eq(sim_metrics_gauge_name(m, i), name);
        snprintf(name, sizeof name, "h%d", i);
        ck_assert_int_eq(sim_metrics_histogram(m, name, "ns"), i);
        ck_assert_int_eq(sim_metrics_find(m, SIM_METRIC_HISTOGRAM, name), i);
    }
    ck_assert_int_eq(sim_metrics_n_gauges(m), 1000);
    ck_assert_int_eq(sim_metrics_n_histograms(m), 1000);
    sim_metrics_destroy(m);
    ck_assert_int_eq(sim_live_blocks(), blocks);
}
END_TEST

START_TEST(metrics_gauges_and_histograms_by_id) {
    sim_metrics *m = sim_metrics_create();
    int g = sim_metrics_gauge(m, "queue.len");
    ck_assert_double_eq(sim_metrics_gauge_value(m, g), 0.0);
    sim_metrics_gauge_set(m, g, 3.25);
    ck_assert_double_eq(sim_metrics_gauge_value(m, g), 3.25);
    int h = sim_metrics_histogram(m, "rpc.latency", "ns");
    sim_hist *hp = sim_metrics_hist(m, h);
    /* Later registrations must not move an existing histogram. */
    char name[32];
    for (int i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "other%d", i);
        sim_metrics_histogram(m, name, "bytes");
    }
    ck_assert_ptr_eq(sim_metrics_hist(m, h), hp);
    sim_metrics_record(m, h, 42);
    sim_metrics_record(m, h, 58);
    ck_assert_int_eq(sim_hist_count(hp), 2);
    ck_assert_double_eq(sim_hist_mean(hp), 50.0);
    ck_assert_str_eq(sim_metrics_hist_name(m, h), "rpc.latency");
    ck_assert_str_eq(sim_metrics_hist_unit(m, h), "ns");
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_accepts_64_char_name) {
    sim_metrics *m = sim_metrics_create();
    char name[65];
    memset(name, 'a', 64);
    name[64] = '\0';
    ck_assert_int_eq(sim_metrics_counter(m, name), 0);
    ck_assert_int_eq(sim_metrics_counter(m, "0_9.z"), 1);
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_name_of_65_chars_aborts) {
    sim_metrics *m = sim_metrics_create();
    char name[66];
    memset(name, 'a', 65);
    name[65] = '\0';
    sim_metrics_counter(m, name);
}
END_TEST

START_TEST(metrics_uppercase_name_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_counter(m, "Msgs");
}
END_TEST

START_TEST(metrics_empty_name_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_gauge(m, "");
}
END_TEST

START_TEST(metrics_name_with_comma_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_histogram(m, "a,b", "ns");
}
END_TEST

START_TEST(metrics_same_name_other_kind_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_counter(m, "x");
    sim_metrics_gauge(m, "x");
}
END_TEST

START_TEST(metrics_same_histogram_other_unit_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_histogram(m, "x", "ns");
    sim_metrics_histogram(m, "x", "bytes");
}
END_TEST

START_TEST(metrics_unknown_id_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_counter(m, "x");
    sim_metrics_count(m, 1, 1);
}
END_TEST

START_TEST(metrics_counter_overflow_aborts) {
    sim_metrics *m = sim_metrics_create();
    int c = sim_metrics_counter(m, "x");
    sim_metrics_count(m, c, INT64_MAX);
    sim_metrics_count(m, c, 1);
}
END_TEST

/* ---- time series -------------------------------------------------------- */

START_TEST(metrics_timeseries_csv_golden) {
    long blocks = sim_live_blocks();
    sim_metrics *m = sim_metrics_create();
    int ops = sim_metrics_counter(m, "ops");
    int load = sim_metrics_gauge(m, "load");
    sim_metrics_histogram(m, "lat", "ns"); /* not a column */
    int bytes = sim_metrics_counter(m, "net.bytes");

    sim_metrics_sample(m, 0);
    sim_metrics_count(m, ops, 3);
    sim_metrics_gauge_set(m, load, 0.5);
    sim_metrics_count(m, bytes, 1500);
    sim_metrics_sample(m, 1500 * SIM_MS);
    /* A replacement node registering again after sampling is fine. */
    ck_assert_int_eq(sim_metrics_counter(m, "ops"), ops);
    sim_metrics_histogram(m, "late.hist", "ns");
    sim_metrics_count(m, ops, -1);
    sim_metrics_gauge_set(m, load, 1.0 / 3);
    sim_metrics_sample(m, 2 * SIM_S + 1);
    /* Values a double would mangle: INT64_MAX as time and as counter. */
    sim_metrics_gauge_set(m, load, 1e20);
    sim_metrics_count(m, bytes, INT64_MAX - 1500);
    sim_metrics_sample(m, INT64_MAX);

    ck_assert_uint_eq(sim_metrics_n_samples(m), 4);
    ck_assert_int_eq(sim_metrics_sample_time(m, 1), 1500 * SIM_MS);
    ck_assert_double_eq(sim_metrics_sample_value(m, 1, 0), 3.0);
    ck_assert_double_eq(sim_metrics_sample_value(m, 2, 1), 1.0 / 3);
    ck_assert_double_eq(sim_metrics_sample_value(m, 1, 2), 1500.0);

    char *text = csv_text(sim_metrics_write_timeseries_csv, m);
    ck_assert_str_eq(text, "time_s,ops,load,net.bytes\n"
                           "0.000000000,0,0,0\n"
                           "1.500000000,3,0.5,1500\n"
                           "2.000000001,2,0.3333333333333333,1500\n"
                           "9223372036.854775807,2,1e+20,9223372036854775807\n");
    free(text);
    sim_metrics_destroy(m);
    ck_assert_int_eq(sim_live_blocks(), blocks);
}
END_TEST

START_TEST(metrics_timeseries_csv_before_any_sample_is_header_only) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_gauge(m, "b");
    sim_metrics_counter(m, "a");
    char *text = csv_text(sim_metrics_write_timeseries_csv, m);
    ck_assert_str_eq(text, "time_s,b,a\n");
    free(text);
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_timeseries_without_columns_has_times_only) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_sample(m, 5);
    sim_metrics_sample(m, 5);
    char *text = csv_text(sim_metrics_write_timeseries_csv, m);
    ck_assert_str_eq(text, "time_s\n0.000000005\n0.000000005\n");
    free(text);
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_new_gauge_after_first_sample_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_counter(m, "a");
    sim_metrics_sample(m, 0);
    sim_metrics_gauge(m, "b");
}
END_TEST

START_TEST(metrics_sample_going_back_in_time_aborts) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_sample(m, 10);
    sim_metrics_sample(m, 9);
}
END_TEST

/* ---- writers ------------------------------------------------------------ */

START_TEST(metrics_histograms_csv_golden) {
    sim_metrics *m = sim_metrics_create();
    int lat = sim_metrics_histogram(m, "lat", "ns");
    sim_metrics_histogram(m, "size", "bytes"); /* empty: no rows */
    int q = sim_metrics_histogram(m, "q", "ns");
    int64_t lat_vals[] = {1000000, 5, 200, 5};
    for (size_t i = 0; i < 4; i++)
        sim_metrics_record(m, lat, lat_vals[i]);
    for (int64_t v = 127; v <= 130; v++)
        sim_metrics_record(m, q, v);
    char *text = csv_text(sim_metrics_write_histograms_csv, m);
    ck_assert_str_eq(text, "name,lower,upper,count\n"
                           "lat,5,5,2\n"
                           "lat,200,201,1\n"
                           "lat,999424,1007615,1\n"
                           "q,127,127,1\n"
                           "q,128,129,2\n"
                           "q,130,131,1\n");
    free(text);
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_json_holds_all_metrics_in_registration_order) {
    sim_metrics *m = sim_metrics_create();
    int ops = sim_metrics_counter(m, "ops");
    int zeta = sim_metrics_counter(m, "zeta");
    int alpha = sim_metrics_counter(m, "alpha");
    int load = sim_metrics_gauge(m, "load");
    int lat = sim_metrics_histogram(m, "lat", "ns");
    sim_metrics_count(m, ops, 2);
    sim_metrics_count(m, zeta, 1);
    sim_metrics_count(m, alpha, 7);
    sim_metrics_gauge_set(m, load, 0.5);
    int64_t vals[] = {5, 5, 200, 1000000};
    for (size_t i = 0; i < 4; i++)
        sim_metrics_record(m, lat, vals[i]);

    cJSON *j = sim_metrics_to_json(m);
    const cJSON *counters = cJSON_GetObjectItemCaseSensitive(j, "counters");
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(counters, "alpha")), 7);
    /* Registration order, not alphabetical or hash order. */
    ck_assert_str_eq(counters->child->string, "ops");
    ck_assert_str_eq(counters->child->next->string, "zeta");
    const cJSON *gauges = cJSON_GetObjectItemCaseSensitive(j, "gauges");
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(gauges, "load")), 0.5);
    const cJSON *h =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "histograms"), "lat");
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(h, "unit")), "ns");
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "count")), 4);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "min")), 5);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "max")), 1000000);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "mean")), 250052.5);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "p50")), 5);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "p90")), 1000000);

    char *text = cJSON_PrintUnformatted(j);
    ck_assert_str_eq(text, "{\"counters\":{\"ops\":2,\"zeta\":1,\"alpha\":7},"
                           "\"gauges\":{\"load\":0.5},"
                           "\"histograms\":{\"lat\":{\"unit\":\"ns\",\"count\":4,\"min\":5,"
                           "\"max\":1000000,\"mean\":250052.5,\"p50\":5,\"p90\":1000000,"
                           "\"p99\":1000000,\"p999\":1000000}}}");
    cJSON_free(text);
    cJSON_Delete(j);
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_json_empty_histogram_has_count_0_and_nulls) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_histogram(m, "size", "bytes");
    cJSON *j = sim_metrics_to_json(m);
    const cJSON *h =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "histograms"), "size");
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(h, "count")), 0);
    const char *keys[] = {"min", "max", "mean", "p50", "p90", "p99", "p999"};
    for (size_t i = 0; i < 7; i++)
        ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(h, keys[i])), "%s not null", keys[i]);
    char *text = cJSON_PrintUnformatted(j);
    ck_assert_str_eq(text, "{\"counters\":{},\"gauges\":{},\"histograms\":{\"size\":{"
                           "\"unit\":\"bytes\",\"count\":0,\"min\":null,\"max\":null,"
                           "\"mean\":null,\"p50\":null,\"p90\":null,\"p99\":null,"
                           "\"p999\":null}}}");
    cJSON_free(text);
    cJSON_Delete(j);
    sim_metrics_destroy(m);
}
END_TEST

START_TEST(metrics_writer_reports_stream_error) {
    sim_metrics *m = sim_metrics_create();
    sim_metrics_counter(m, "a");
    FILE *f = fopen("/dev/null", "r"); /* writes to a read-only stream fail */
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(sim_metrics_write_timeseries_csv(m, f), -1);
    ck_assert_int_eq(sim_metrics_write_histograms_csv(m, f), -1);
    fclose(f);
    sim_metrics_destroy(m);
}
END_TEST

/* ---- sim_format_double -------------------------------------------------- */

START_TEST(format_double_is_shortest_and_plain_for_integers) {
    check_format(0.0, "0");
    check_format(-0.0, "-0");
    check_format(0.1, "0.1");
    check_format(0.5, "0.5");
    check_format(1.0 / 3, "0.3333333333333333");
    check_format(123.456, "123.456");
    check_format(100, "100");
    check_format(-2500, "-2500");
    check_format(1.5e10, "15000000000");
    check_format(9007199254740993.0, "9007199254740992");
    check_format(1e17, "1e+17");
    check_format(1e20, "1e+20");
    check_format(1e-5, "1e-05");
    check_format(0.0001, "0.0001");
    check_format(5e-324, "5e-324");
    check_format(2.2250738585072014e-308, "2.2250738585072014e-308");
    check_format(DBL_MAX, "1.7976931348623157e+308");
    check_format(NAN, "nan");
    check_format(-NAN, "nan");
    check_format(INFINITY, "inf");
    check_format(-INFINITY, "-inf");
}
END_TEST

START_TEST(format_double_round_trips_random_bit_patterns) {
    uint64_t s = 7;
    char buf[SIM_FORMAT_DOUBLE_SIZE];
    for (int i = 0; i < 50000; i++) {
        uint64_t bits = next_u64(&s);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        sim_format_double(buf, sizeof buf, v);
        double back = strtod(buf, NULL);
        ck_assert_msg(memcmp(&back, &v, sizeof v) == 0, "%s does not read back as %a", buf, v);
        ck_assert_uint_lt(strlen(buf), SIM_FORMAT_DOUBLE_SIZE);
    }
}
END_TEST

/* ---- runner ------------------------------------------------------------- */

static Suite *metrics_suite(void) {
    Suite *s = suite_create("metrics");

    TCase *hist = tcase_create("hist");
    tcase_set_timeout(hist, 60);
    tcase_add_test(hist, hist_keeps_exact_count_min_max_mean);
    tcase_add_test(hist, hist_empty_reports_zero_and_nan_mean);
    tcase_add_test(hist, hist_values_below_128_are_exact_nearest_rank);
    tcase_add_test(hist, hist_percentile_rank_ignores_binary_rounding_of_p);
    tcase_add_test(hist, hist_percentile_reports_clamped_bucket_midpoint);
    tcase_add_test(hist, hist_buckets_tile_int64_with_bounded_width);
    tcase_add_test(hist, hist_percentiles_within_1pct_uniform);
    tcase_add_test(hist, hist_percentiles_within_1pct_exponential);
    tcase_add_test(hist, hist_percentiles_within_1pct_heavy_tailed);
    tcase_add_test(hist, hist_percentiles_within_1pct_every_magnitude);
    tcase_add_test(hist, hist_mean_matches_exact_sum_of_many_values);
    tcase_add_test(hist, hist_handles_zero_one_and_int64_max);
    tcase_add_test(hist, hist_record_n_sums_beyond_64_bits);
    tcase_add_test(hist, hist_record_n_equals_repeated_records);
    tcase_add_test(hist, hist_merge_equals_recording_both);
    tcase_add_test(hist, hist_reset_empties_and_allows_reuse);
    tcase_add_test_raise_signal(hist, hist_negative_value_aborts, SIGABRT);
    tcase_add_test_raise_signal(hist, hist_percentile_above_100_aborts, SIGABRT);
    suite_add_tcase(s, hist);

    TCase *reg = tcase_create("registry");
    tcase_add_test(reg, metrics_counter_registration_dedupes_by_name);
    tcase_add_test(reg, metrics_ids_are_dense_per_kind_in_registration_order);
    tcase_add_test(reg, metrics_gauges_and_histograms_by_id);
    tcase_add_test(reg, metrics_accepts_64_char_name);
    tcase_add_test_raise_signal(reg, metrics_name_of_65_chars_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_uppercase_name_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_empty_name_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_name_with_comma_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_same_name_other_kind_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_same_histogram_other_unit_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_unknown_id_aborts, SIGABRT);
    tcase_add_test_raise_signal(reg, metrics_counter_overflow_aborts, SIGABRT);
    suite_add_tcase(s, reg);

    TCase *ts = tcase_create("timeseries");
    tcase_add_test(ts, metrics_timeseries_csv_golden);
    tcase_add_test(ts, metrics_timeseries_csv_before_any_sample_is_header_only);
    tcase_add_test(ts, metrics_timeseries_without_columns_has_times_only);
    tcase_add_test_raise_signal(ts, metrics_new_gauge_after_first_sample_aborts, SIGABRT);
    tcase_add_test_raise_signal(ts, metrics_sample_going_back_in_time_aborts, SIGABRT);
    suite_add_tcase(s, ts);

    TCase *out = tcase_create("writers");
    tcase_set_timeout(out, 60);
    tcase_add_test(out, metrics_histograms_csv_golden);
    tcase_add_test(out, metrics_json_holds_all_metrics_in_registration_order);
    tcase_add_test(out, metrics_json_empty_histogram_has_count_0_and_nulls);
    tcase_add_test(out, metrics_writer_reports_stream_error);
    tcase_add_test(out, format_double_is_shortest_and_plain_for_integers);
    tcase_add_test(out, format_double_round_trips_random_bit_patterns);
    suite_add_tcase(s, out);
    return s;
}

int main(void) { return check_run(metrics_suite()); }
