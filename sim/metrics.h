/*
 * metrics.h - the kernel's metric registry and histograms (internal).
 *
 * Models see metrics only through sim_counter, sim_gauge and sim_histogram
 * in sim.h; the kernel forwards those calls to the registry declared here,
 * samples it into a time series while the run goes, and writes it out at
 * the end.  Two parts:
 *
 *   sim_hist     an HDR-style log-linear histogram of non-negative int64
 *                values (ns, bytes): O(1) recording, exact count, min, max
 *                and sum, and percentiles within 1 % of the true sample
 *                quantile (the argument is below, above sim_hist).
 *   sim_metrics  named counters, gauges and histograms with dense ids in
 *                registration order, a time series of counter and gauge
 *                values, and the JSON and CSV writers.
 *
 * Every writer lists metrics in registration order, never hash order, and
 * formats doubles with sim_format_double, so equal runs write equal bytes.
 * There are no globals and no wall clock: registries never interact.
 * Misuse (a bad name, a negative value, an unknown id) is a programming
 * error and aborts through SIM_ASSERT or sim_panic.
 */
#ifndef DSIM_METRICS_H
#define DSIM_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"

/* cJSON's own typedef names this struct; declaring it keeps cJSON out of
 * every file that includes this header. */
struct cJSON;

/* ------------------------------------------------------------------------ */
/* Formatting.                                                              */

/* Enough for any output of sim_format_double ("-2.2250738585072014e-308"). */
#define SIM_FORMAT_DOUBLE_SIZE 32

/*
 * Writes the shortest "%.*g" text (precision 1..17) that strtod reads back
 * as exactly v, so the same double always prints the same way.  Integral
 * values below 1e17 are written without an exponent ("100", not "1e+02").
 * NaN is "nan" whatever its sign bit, infinities are "inf" and "-inf".
 * Assumes the C locale (the kernel never calls setlocale).
 * buf is the caller's and n must be at least SIM_FORMAT_DOUBLE_SIZE.
 */
void sim_format_double(char *buf, size_t n, double v);

/* ------------------------------------------------------------------------ */
/* Histograms.                                                              */

/*
 * Bucket layout.  A value v < 128 (2^SIM_HIST_SUB_BITS) has its own bucket.
 * A larger value with highest set bit k (7 <= k <= 62) falls in the octave
 * [2^k, 2^(k+1)), which is split into 64 equal sub-buckets of width
 * w = 2^(k-6).  With shift = k - 6 the bucket index is
 *     shift * 64 + (v >> shift),
 * which continues the linear region without a gap (index 128 holds 128 and
 * 129) and ends at 56 * 64 + 127 = 3711 for INT64_MAX: 3712 buckets cover
 * all of int64.  Recording is one clz, one shift and one add.
 *
 * Error bound.  sim_hist_percentile(h, p) uses the nearest-rank definition:
 * the true answer is x, the sample of rank r = ceil(p/100 * count) (at
 * least 1) in sorted order.  Bucket indices never decrease as values grow,
 * so the first bucket whose running count reaches r holds x.  The reported
 * value is that bucket's midpoint m = lo + w/2, clamped to [min, max]:
 *   - below 128, w = 1 and m = lo = x: exact;
 *   - otherwise lo = s * w with s in [64, 127], so lo >= 64 w, and every
 *     integer x in [lo, lo + w - 1] has |m - x| <= w/2, hence
 *         |m - x| / x <= (w/2) / lo <= (w/2) / (64 w) = 1/128 < 0.79 %;
 *   - clamping only moves m toward x, because min <= x <= max.
 * The bucket's upper bound would allow (w - 1)/lo, up to 1/64 = 1.56 %,
 * which breaks the 1 % promise; that is why the midpoint is reported.
 * Ranks 1 and count are min and max, which are kept exactly, so p = 0 and
 * p = 100 are exact.
 *
 * The sum is kept exactly as a 128-bit unsigned integer in two uint64
 * words (no __int128): values and counts are below 2^63, so the sum is
 * below 2^126 and never overflows.  Exactness makes merging associative
 * and order-independent, which a compensated double sum is not; the mean
 * is that sum converted to double (at most a few ulps off) over count.
 */
#define SIM_HIST_SUB_BITS 7
#define SIM_HIST_HALF     (1 << (SIM_HIST_SUB_BITS - 1))
#define SIM_HIST_BUCKETS  ((size_t)(64 - SIM_HIST_SUB_BITS + 1) * SIM_HIST_HALF)

typedef struct sim_hist {
    /* SIM_HIST_BUCKETS counts, allocated on the first record so that
     * registered but unused histograms cost nothing; NULL until then. */
    uint64_t *counts;
    int64_t count;
    int64_t min, max;
    uint64_t sum_lo, sum_hi;
} sim_hist;

/* Makes h an empty histogram.  h is the caller's; pair with sim_hist_fini. */
void sim_hist_init(sim_hist *h);
/* Frees the buckets h owns and leaves h empty (reusable, or init again). */
void sim_hist_fini(sim_hist *h);
/* Empties h but keeps its buckets allocated for reuse. */
void sim_hist_reset(sim_hist *h);

/* Records v >= 0 once.  O(1); a negative v is a SIM_ASSERT failure. */
void sim_hist_record(sim_hist *h, int64_t v);
/* Records v >= 0 n >= 0 times; the total count must stay below 2^63. */
void sim_hist_record_n(sim_hist *h, int64_t v, int64_t n);
/* Adds every sample of src to dst, as if recorded into dst; dst != src.
 * src is unchanged.  The result equals recording both exactly. */
void sim_hist_merge(sim_hist *dst, const sim_hist *src);

int64_t sim_hist_count(const sim_hist *h);
/* min, max and percentiles are 0 and the mean is NaN on an empty
 * histogram; check sim_hist_count first when that matters. */
int64_t sim_hist_min(const sim_hist *h);
int64_t sim_hist_max(const sim_hist *h);
double sim_hist_mean(const sim_hist *h);
/*
 * The value at percentile p in [0, 100] (see the error bound above): the
 * rank is ceil(p * count / 100) clamped to [1, count].  A product within
 * 1e-12 relative of an integer counts as that integer, so a decimal p such
 * as 99.9 whose binary value is a hair off gives the rank one would expect.
 * O(number of buckets between min and max).
 */
int64_t sim_hist_percentile(const sim_hist *h, double p);

/* The bucket index of v >= 0, in [0, SIM_HIST_BUCKETS). */
size_t sim_hist_bucket_of(int64_t v);
/* The smallest and largest value (both inclusive) that land in bucket b. */
void sim_hist_bucket_range(size_t b, int64_t *lo, int64_t *hi);
/* How many samples of h are in bucket b. */
uint64_t sim_hist_bucket_count(const sim_hist *h, size_t b);

/* ------------------------------------------------------------------------ */
/* The registry.                                                            */

typedef enum sim_metric_kind {
    SIM_METRIC_COUNTER,
    SIM_METRIC_GAUGE,
    SIM_METRIC_HISTOGRAM,
} sim_metric_kind;

typedef struct sim_metrics sim_metrics;

/* Returns a new, empty registry; caller owns, free with sim_metrics_destroy. */
sim_metrics *sim_metrics_create(void);
/* Frees m and everything it owns (names, histograms, samples).  NULL is ok. */
void sim_metrics_destroy(sim_metrics *m);

/*
 * Registration.  A name is 1..64 characters of [a-z0-9_.]; anything else
 * aborts, since names are written by model authors, not users.  A name
 * names one metric of one kind: registering it again with the same kind
 * (and, for histograms, the same unit) returns the existing id, so every
 * node's node_init, and a replacement node's, may register the same
 * counter; another kind or unit aborts.  Ids are dense per kind, from 0 in
 * registration order.  A new counter or gauge after the first
 * sim_metrics_sample aborts, because the time series' columns are fixed
 * then; histograms are not sampled and may be added at any time.
 * The name is copied.  O(1) expected (a hash index; output never uses it).
 */
int sim_metrics_counter(sim_metrics *m, const char *name);
int sim_metrics_gauge(sim_metrics *m, const char *name);
/* unit ("ns", "bytes", ...) is 1..64 printable ASCII characters without
 * space, comma, quote or backslash; it is copied. */
int sim_metrics_histogram(sim_metrics *m, const char *name, const char *unit);

/* The id of name as a metric of kind, or -1 if it is not registered. */
int sim_metrics_find(const sim_metrics *m, sim_metric_kind kind, const char *name);

/* Updates by id: O(1), no lookup; an unknown id aborts.  A counter that
 * would overflow int64 aborts. */
void sim_metrics_count(sim_metrics *m, int counter, int64_t delta);
/* Gauges start at 0 and keep the last value set. */
void sim_metrics_gauge_set(sim_metrics *m, int gauge, double value);
void sim_metrics_record(sim_metrics *m, int histogram, int64_t value);

int64_t sim_metrics_counter_value(const sim_metrics *m, int counter);
double sim_metrics_gauge_value(const sim_metrics *m, int gauge);
/* The histogram itself, valid until sim_metrics_destroy (registering more
 * histograms does not move it). */
sim_hist *sim_metrics_hist(sim_metrics *m, int histogram);

int sim_metrics_n_counters(const sim_metrics *m);
int sim_metrics_n_gauges(const sim_metrics *m);
int sim_metrics_n_histograms(const sim_metrics *m);
/* Names and units are owned by m, valid until sim_metrics_destroy. */
const char *sim_metrics_counter_name(const sim_metrics *m, int counter);
const char *sim_metrics_gauge_name(const sim_metrics *m, int gauge);
const char *sim_metrics_hist_name(const sim_metrics *m, int histogram);
const char *sim_metrics_hist_unit(const sim_metrics *m, int histogram);

/* ------------------------------------------------------------------------ */
/* Time series.                                                             */

/*
 * Appends one row: now and the current value of every counter and gauge.
 * The columns are all counters and gauges in the order they were
 * registered (interleaved as registered), fixed at the first sample.  now
 * must be >= 0 and >= the previous sample's time (equal is allowed).
 * Amortized O(columns).
 */
void sim_metrics_sample(sim_metrics *m, sim_time now);
size_t sim_metrics_n_samples(const sim_metrics *m);
sim_time sim_metrics_sample_time(const sim_metrics *m, size_t row);
/* The value in row, column col (0-based, in the CSV header's order after
 * time_s), as a double: counters above 2^53 lose precision here only. */
double sim_metrics_sample_value(const sim_metrics *m, size_t row, size_t col);

/* ------------------------------------------------------------------------ */
/* Writers.                                                                 */

/*
 * Returns a new cJSON object; caller owns (cJSON_Delete).  Shape:
 *   {"counters": {name: int, ...}, "gauges": {name: last value, ...},
 *    "histograms": {name: {"unit", "count", "min", "max", "mean",
 *                          "p50", "p90", "p99", "p999"}, ...}}
 * in registration order.  An empty histogram has count 0 and null for the
 * rest.  Numbers are cJSON doubles: counters above 2^53 lose precision.
 * Aborts if cJSON runs out of memory, like sim_malloc.
 */
struct cJSON *sim_metrics_to_json(const sim_metrics *m);

/*
 * Writes the time series as CSV to f (the caller's; not closed): the header
 * "time_s,<col>,..." and one line per sample.  time_s has exactly nine
 * decimals, computed from integer nanoseconds; counters are integers and
 * gauges use sim_format_double.  Before any sample it writes the header of
 * the columns registered so far.  Returns 0, or -1 if f reports an error.
 */
int sim_metrics_write_timeseries_csv(const sim_metrics *m, FILE *f);

/*
 * Writes every histogram's non-empty buckets as tidy CSV to f (the
 * caller's): the header "name,lower,upper,count", then one line per bucket
 * in registration order and ascending value; lower and upper are both
 * inclusive.  Returns 0, or -1 if f reports an error.
 */
int sim_metrics_write_histograms_csv(const sim_metrics *m, FILE *f);

#endif
