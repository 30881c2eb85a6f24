/*
 * metrics.c - histograms, the metric registry, its time series and writers.
 *
 * See metrics.h for the bucket layout and the 1 % error argument.  The
 * registry keeps one array per metric kind, indexed by id, so updates are a
 * bounds check and a store; a small open-addressing hash maps names to ids
 * for registration only.  Everything that is written out walks the arrays
 * in registration order, so output never depends on hashing.
 */
#include "metrics.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64
#define UNIT_MAX_LEN 64

/* ------------------------------------------------------------------------ */
/* Formatting.                                                              */

void sim_format_double(char *buf, size_t n, double v) {
    SIM_ASSERT(buf != NULL && n >= SIM_FORMAT_DOUBLE_SIZE);
    /* printf spells these "nan"/"-nan"/"NaN" depending on the C library and
     * the sign bit, which says nothing useful; fix one spelling. */
    if (isnan(v)) {
        snprintf(buf, n, "nan");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, n, "%s", v > 0 ? "inf" : "-inf");
        return;
    }
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* 17 significant digits always round-trip a binary64, so the loop's
     * last precision needs no check. */
    snprintf(buf, n, "%.*g", prec, v);
    /* %g switches to an exponent once the exponent reaches the precision,
     * which turns 100 into "1e+02".  Printing the same value with more
     * digits is still the correctly rounded decimal, so it still reads back
     * as v; do that for integers of moderate size, which gauges often are. */
    const char *e = strchr(buf, 'e');
    if (e != NULL) {
        long exp10 = strtol(e + 1, NULL, 10);
        if (exp10 >= prec && exp10 < 17)
            snprintf(buf, n, "%.*g", (int)exp10 + 1, v);
    }
}

/* ------------------------------------------------------------------------ */
/* Histograms.                                                              */

static inline size_t bucket_of(uint64_t v) {
    /* v | 1 keeps clz defined for 0, which lands in the linear region anyway. */
    int msb = 63 - __builtin_clzll(v | 1);
    int shift = msb >= SIM_HIST_SUB_BITS ? msb - (SIM_HIST_SUB_BITS - 1) : 0;
    return (size_t)shift * SIM_HIST_HALF + (size_t)(v >> shift);
}

size_t sim_hist_bucket_of(int64_t v) {
    SIM_ASSERT(v >= 0);
    return bucket_of((uint64_t)v);
}

void sim_hist_bucket_range(size_t b, int64_t *lo, int64_t *hi) {
    SIM_ASSERT(b < SIM_HIST_BUCKETS);
    if (b < 2 * SIM_HIST_HALF) {
        *lo = *hi = (int64_t)b;
        return;
    }
    unsigned shift = (unsigned)(b / SIM_HIST_HALF) - 1;
    uint64_t sub = b % SIM_HIST_HALF + SIM_HIST_HALF;
    uint64_t low = sub << shift;
    /* The top bucket ends at exactly INT64_MAX, so neither bound overflows. */
    *lo = (int64_t)low;
    *hi = (int64_t)(low + (((uint64_t)1 << shift) - 1));
}

/* The value reported for bucket b: see the error argument in metrics.h. */
static int64_t bucket_midpoint(const sim_hist *h, size_t b) {
    int64_t lo, hi;
    sim_hist_bucket_range(b, &lo, &hi);
    int64_t mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo + 1) / 2);
    if (mid < h->min)
        return h->min;
    if (mid > h->max)
        return h->max;
    return mid;
}

void sim_hist_init(sim_hist *h) {
    SIM_ASSERT(h != NULL);
    memset(h, 0, sizeof *h);
}

void sim_hist_fini(sim_hist *h) {
    if (h == NULL)
        return;
    sim_free(h->counts);
    memset(h, 0, sizeof *h);
}

void sim_hist_reset(sim_hist *h) {
    uint64_t *counts = h->counts;
    if (counts != NULL)
        memset(counts, 0, SIM_HIST_BUCKETS * sizeof *counts);
    memset(h, 0, sizeof *h);
    h->counts = counts;
}

static void ensure_counts(sim_hist *h) {
    if (h->counts == NULL)
        h->counts = sim_calloc(SIM_HIST_BUCKETS, sizeof *h->counts);
}

/* Adds the 128-bit number (hi, lo) to the exact sum. */
static void sum_add(sim_hist *h, uint64_t hi, uint64_t lo) {
    h->sum_lo += lo;
    h->sum_hi += hi + (h->sum_lo < lo);
}

/* The full 128-bit product of a and b, from four 32x32 partial products. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
    const uint64_t mask = 0xffffffffu;
    uint64_t p0 = (a & mask) * (b & mask);
    uint64_t p1 = (a & mask) * (b >> 32);
    uint64_t p2 = (a >> 32) * (b & mask);
    uint64_t p3 = (a >> 32) * (b >> 32);
    uint64_t mid = (p0 >> 32) + (p1 & mask) + (p2 & mask);
    *lo = (p0 & mask) | (mid << 32);
    *hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
}

static void note_extremes(sim_hist *h, int64_t lo, int64_t hi) {
    if (h->count == 0 || lo < h->min)
        h->min = lo;
    if (h->count == 0 || hi > h->max)
        h->max = hi;
}

void sim_hist_record(sim_hist *h, int64_t v) {
    SIM_ASSERT(v >= 0);
    SIM_ASSERT(h->count < INT64_MAX);
    ensure_counts(h);
    h->counts[bucket_of((uint64_t)v)]++;
    note_extremes(h, v, v);
    h->count++;
    sum_add(h, 0, (uint64_t)v);
}

void sim_hist_record_n(sim_hist *h, int64_t v, int64_t n) {
    SIM_ASSERT(v >= 0 && n >= 0);
    if (n == 0)
        return;
    int64_t total;
    bool overflow = __builtin_add_overflow(h->count, n, &total);
    SIM_ASSERT(!overflow);
    ensure_counts(h);
    h->counts[bucket_of((uint64_t)v)] += (uint64_t)n;
    note_extremes(h, v, v);
    h->count = total;
    uint64_t hi, lo;
    mul_64x64((uint64_t)v, (uint64_t)n, &hi, &lo);
    sum_add(h, hi, lo);
}

void sim_hist_merge(sim_hist *dst, const sim_hist *src) {
    SIM_ASSERT(dst != src);
    if (src->count == 0)
        return;
    int64_t total;
    bool overflow = __builtin_add_overflow(dst->count, src->count, &total);
    SIM_ASSERT(!overflow);
    ensure_counts(dst);
    size_t first = bucket_of((uint64_t)src->min), last = bucket_of((uint64_t)src->max);
    for (size_t b = first; b <= last; b++)
        dst->counts[b] += src->counts[b];
    note_extremes(dst, src->min, src->max);
    dst->count = total;
    sum_add(dst, src->sum_hi, src->sum_lo);
}

int64_t sim_hist_count(const sim_hist *h) { return h->count; }

int64_t sim_hist_min(const sim_hist *h) { return h->count ? h->min : 0; }

int64_t sim_hist_max(const sim_hist *h) { return h->count ? h->max : 0; }

double sim_hist_mean(const sim_hist *h) {
    if (h->count == 0)
        return NAN;
    double sum = (double)h->sum_hi * 18446744073709551616.0 + (double)h->sum_lo;
    return sum / (double)h->count;
}

/* The nearest rank for percentile p, in [1, count]; see metrics.h. */
static int64_t rank_of(double p, int64_t count) {
    double x = p * (double)count / 100.0;
    double near = round(x);
    if (fabs(x - near) <= 1e-12 * near)
        x = near;
    double r = ceil(x);
    if (r < 1.0)
        return 1;
    if (r >= (double)count)
        return count;
    return (int64_t)r;
}

int64_t sim_hist_percentile(const sim_hist *h, double p) {
    /* Written so that NaN fails too. */
    SIM_ASSERT(p >= 0.0 && p <= 100.0);
    if (h->count == 0)
        return 0;
    int64_t rank = rank_of(p, h->count);
    if (rank == 1)
        return h->min;
    if (rank == h->count)
        return h->max;
    uint64_t seen = 0;
    size_t last = bucket_of((uint64_t)h->max);
    for (size_t b = bucket_of((uint64_t)h->min); b <= last; b++) {
        seen += h->counts[b];
        if (seen >= (uint64_t)rank)
            return bucket_midpoint(h, b);
    }
    sim_panic(__FILE__, __LINE__, "histogram buckets hold fewer than its %" PRId64 " samples",
              h->count);
}

uint64_t sim_hist_bucket_count(const sim_hist *h, size_t b) {
    SIM_ASSERT(b < SIM_HIST_BUCKETS);
    return h->counts != NULL ? h->counts[b] : 0;
}

/* ------------------------------------------------------------------------ */
/* The registry.                                                            */

/* One registered name; the hash index points at these. */
struct name_entry {
    char *name;
    sim_metric_kind kind;
    int id;
};

struct counter {
    int64_t value;
    const char *name; /* owned by the name entry */
};

struct gauge {
    double value;
    const char *name;
};

/* Allocated one by one so that sim_metrics_hist pointers stay put. */
struct hist_entry {
    sim_hist hist;
    const char *name;
    char *unit;
};

struct column {
    sim_metric_kind kind;
    int id;
};

/* A time-series cell: counters stay exact int64, gauges are doubles. */
union cell {
    int64_t i;
    double d;
};

struct sim_metrics {
    struct name_entry *names;
    size_t n_names, cap_names;
    /* Open addressing, linear probing; slots hold a names index or -1.
     * Capacity is a power of two at least twice n_names. */
    int32_t *slots;
    size_t cap_slots;

    struct counter *counters;
    size_t n_counters, cap_counters;
    struct gauge *gauges;
    size_t n_gauges, cap_gauges;
    struct hist_entry **hists;
    size_t n_hists, cap_hists;

    /* Set by the first sample; from then on columns are fixed. */
    bool sampled;
    struct column *cols;
    size_t n_cols;
    sim_time *times;
    union cell *cells; /* n_rows * n_cols, row-major */
    size_t n_rows, cap_rows;
};

/* Returns p grown to hold at least need elements of size elem (doubling). */
static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 8;
    while (c < need) {
        SIM_ASSERT(c <= SIZE_MAX / 2 / elem);
        c *= 2;
    }
    *cap = c;
    return sim_realloc(p, c * elem);
}

/* FNV-1a: simple and good enough for a few thousand short names. */
static uint32_t hash_name(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

/* The slot holding name, or the empty slot where it would go. */
static size_t find_slot(const sim_metrics *m, const char *name) {
    size_t mask = m->cap_slots - 1;
    size_t i = hash_name(name) & mask;
    while (m->slots[i] >= 0 && strcmp(m->names[m->slots[i]].name, name) != 0)
        i = (i + 1) & mask;
    return i;
}

static void rehash(sim_metrics *m, size_t cap) {
    sim_free(m->slots);
    m->slots = sim_malloc(cap * sizeof *m->slots);
    m->cap_slots = cap;
    for (size_t i = 0; i < cap; i++)
        m->slots[i] = -1;
    for (size_t k = 0; k < m->n_names; k++)
        m->slots[find_slot(m, m->names[k].name)] = (int32_t)k;
}

sim_metrics *sim_metrics_create(void) {
    sim_metrics *m = sim_calloc(1, sizeof *m);
    rehash(m, 64);
    return m;
}

void sim_metrics_destroy(sim_metrics *m) {
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n_hists; i++) {
        sim_hist_fini(&m->hists[i]->hist);
        sim_free(m->hists[i]->unit);
        sim_free(m->hists[i]);
    }
    for (size_t i = 0; i < m->n_names; i++)
        sim_free(m->names[i].name);
    sim_free(m->names);
    sim_free(m->slots);
    sim_free(m->counters);
    sim_free(m->gauges);
    sim_free(m->hists);
    sim_free(m->cols);
    sim_free(m->times);
    sim_free(m->cells);
    sim_free(m);
}

static const char *kind_name(sim_metric_kind kind) {
    switch (kind) {
    case SIM_METRIC_COUNTER:
        return "counter";
    case SIM_METRIC_GAUGE:
        return "gauge";
    case SIM_METRIC_HISTOGRAM:
        return "histogram";
    }
    return "?";
}

/* Aborts with the offending name: a bad name is the model author's bug. */
static void check_name(const char *name) {
    if (name == NULL)
        sim_panic(__FILE__, __LINE__, "metric name is NULL");
    size_t n = 0;
    for (; name[n] != '\0'; n++) {
        char c = name[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
        if (!ok || n >= NAME_MAX_LEN)
            sim_panic(__FILE__, __LINE__,
                      "bad metric name \"%.80s\" (1..64 characters of [a-z0-9_.])", name);
    }
    if (n == 0)
        sim_panic(__FILE__, __LINE__, "empty metric name");
}

/* Units end up in JSON and reports; keep them to plain printable tokens. */
static void check_unit(const char *name, const char *unit) {
    if (unit == NULL)
        sim_panic(__FILE__, __LINE__, "histogram %s: unit is NULL", name);
    size_t n = 0;
    for (; unit[n] != '\0'; n++) {
        unsigned char c = (unsigned char)unit[n];
        bool ok = c > ' ' && c < 127 && c != ',' && c != '"' && c != '\\';
        if (!ok || n >= UNIT_MAX_LEN)
            sim_panic(__FILE__, __LINE__, "histogram %s: bad unit \"%.80s\"", name, unit);
    }
    if (n == 0)
        sim_panic(__FILE__, __LINE__, "histogram %s: empty unit", name);
}

/*
 * Returns the names index of name, registering it with kind if new (*fresh
 * tells which); the caller then creates the metric with id entry->id.
 */
static size_t register_name(sim_metrics *m, const char *name, sim_metric_kind kind, int next_id,
                            bool *fresh) {
    check_name(name);
    size_t slot = find_slot(m, name);
    if (m->slots[slot] >= 0) {
        const struct name_entry *e = &m->names[m->slots[slot]];
        if (e->kind != kind)
            sim_panic(__FILE__, __LINE__, "metric %s is a %s, registered again as a %s", name,
                      kind_name(e->kind), kind_name(kind));
        *fresh = false;
        return (size_t)m->slots[slot];
    }
    if (m->sampled && kind != SIM_METRIC_HISTOGRAM)
        sim_panic(__FILE__, __LINE__,
                  "%s %s registered after the first sample (time-series columns are fixed)",
                  kind_name(kind), name);
    SIM_ASSERT(next_id < INT_MAX && m->n_names < INT32_MAX);
    m->names = grow(m->names, &m->cap_names, m->n_names + 1, sizeof *m->names);
    size_t k = m->n_names++;
    m->names[k] = (struct name_entry){.name = sim_strdup(name), .kind = kind, .id = next_id};
    m->slots[slot] = (int32_t)k;
    if (2 * m->n_names > m->cap_slots)
        rehash(m, 2 * m->cap_slots);
    *fresh = true;
    return k;
}

int sim_metrics_counter(sim_metrics *m, const char *name) {
    bool fresh;
    size_t k = register_name(m, name, SIM_METRIC_COUNTER, (int)m->n_counters, &fresh);
    if (fresh) {
        m->counters = grow(m->counters, &m->cap_counters, m->n_counters + 1, sizeof *m->counters);
        m->counters[m->n_counters++] = (struct counter){.value = 0, .name = m->names[k].name};
    }
    return m->names[k].id;
}

int sim_metrics_gauge(sim_metrics *m, const char *name) {
    bool fresh;
    size_t k = register_name(m, name, SIM_METRIC_GAUGE, (int)m->n_gauges, &fresh);
    if (fresh) {
        m->gauges = grow(m->gauges, &m->cap_gauges, m->n_gauges + 1, sizeof *m->gauges);
        m->gauges[m->n_gauges++] = (struct gauge){.value = 0.0, .name = m->names[k].name};
    }
    return m->names[k].id;
}

int sim_metrics_histogram(sim_metrics *m, const char *name, const char *unit) {
    check_name(name);
    check_unit(name, unit);
    bool fresh;
    size_t k = register_name(m, name, SIM_METRIC_HISTOGRAM, (int)m->n_hists, &fresh);
    int id = m->names[k].id;
    if (!fresh) {
        if (strcmp(m->hists[id]->unit, unit) != 0)
            sim_panic(__FILE__, __LINE__, "histogram %s has unit %s, registered again with %s",
                      name, m->hists[id]->unit, unit);
        return id;
    }
    m->hists = grow(m->hists, &m->cap_hists, m->n_hists + 1, sizeof *m->hists);
    struct hist_entry *e = sim_malloc(sizeof *e);
    sim_hist_init(&e->hist);
    e->name = m->names[k].name;
    e->unit = sim_strdup(unit);
    m->hists[m->n_hists++] = e;
    return id;
}

int sim_metrics_find(const sim_metrics *m, sim_metric_kind kind, const char *name) {
    if (name == NULL)
        return -1;
    int32_t k = m->slots[find_slot(m, name)];
    if (k < 0 || m->names[k].kind != kind)
        return -1;
    return m->names[k].id;
}

/* Ids come from models; an out-of-range one must not become a wild write. */
#define CHECK_ID(id, n) SIM_ASSERT((id) >= 0 && (size_t)(id) < (n))

void sim_metrics_count(sim_metrics *m, int counter, int64_t delta) {
    CHECK_ID(counter, m->n_counters);
    int64_t *v = &m->counters[counter].value;
    bool overflow = __builtin_add_overflow(*v, delta, v);
    SIM_ASSERT(!overflow);
}

void sim_metrics_gauge_set(sim_metrics *m, int gauge, double value) {
    CHECK_ID(gauge, m->n_gauges);
    m->gauges[gauge].value = value;
}

void sim_metrics_record(sim_metrics *m, int histogram, int64_t value) {
    CHECK_ID(histogram, m->n_hists);
    sim_hist_record(&m->hists[histogram]->hist, value);
}

int64_t sim_metrics_counter_value(const sim_metrics *m, int counter) {
    CHECK_ID(counter, m->n_counters);
    return m->counters[counter].value;
}

double sim_metrics_gauge_value(const sim_metrics *m, int gauge) {
    CHECK_ID(gauge, m->n_gauges);
    return m->gauges[gauge].value;
}

sim_hist *sim_metrics_hist(sim_metrics *m, int histogram) {
    CHECK_ID(histogram, m->n_hists);
    return &m->hists[histogram]->hist;
}

int sim_metrics_n_counters(const sim_metrics *m) { return (int)m->n_counters; }

int sim_metrics_n_gauges(const sim_metrics *m) { return (int)m->n_gauges; }

int sim_metrics_n_histograms(const sim_metrics *m) { return (int)m->n_hists; }

const char *sim_metrics_counter_name(const sim_metrics *m, int counter) {
    CHECK_ID(counter, m->n_counters);
    return m->counters[counter].name;
}

const char *sim_metrics_gauge_name(const sim_metrics *m, int gauge) {
    CHECK_ID(gauge, m->n_gauges);
    return m->gauges[gauge].name;
}

const char *sim_metrics_hist_name(const sim_metrics *m, int histogram) {
    CHECK_ID(histogram, m->n_hists);
    return m->hists[histogram]->name;
}

const char *sim_metrics_hist_unit(const sim_metrics *m, int histogram) {
    CHECK_ID(histogram, m->n_hists);
    return m->hists[histogram]->unit;
}

/* ------------------------------------------------------------------------ */
/* Time series.                                                             */

/* Counters and gauges in registration order; the same list the CSV header
 * walks, so header and rows always agree. */
static void freeze_columns(sim_metrics *m) {
    m->n_cols = m->n_counters + m->n_gauges;
    if (m->n_cols > 0)
        m->cols = sim_malloc(m->n_cols * sizeof *m->cols);
    size_t c = 0;
    for (size_t k = 0; k < m->n_names; k++) {
        if (m->names[k].kind != SIM_METRIC_HISTOGRAM)
            m->cols[c++] = (struct column){.kind = m->names[k].kind, .id = m->names[k].id};
    }
    SIM_ASSERT(c == m->n_cols);
    m->sampled = true;
}

void sim_metrics_sample(sim_metrics *m, sim_time now) {
    SIM_ASSERT(now >= 0);
    SIM_ASSERT(m->n_rows == 0 || now >= m->times[m->n_rows - 1]);
    if (!m->sampled)
        freeze_columns(m);
    size_t cap = m->cap_rows;
    m->times = grow(m->times, &m->cap_rows, m->n_rows + 1, sizeof *m->times);
    if (m->n_cols > 0 && m->cap_rows != cap) {
        SIM_ASSERT(m->cap_rows <= SIZE_MAX / sizeof *m->cells / m->n_cols);
        m->cells = sim_realloc(m->cells, m->cap_rows * m->n_cols * sizeof *m->cells);
    }
    m->times[m->n_rows] = now;
    /* cells stays NULL without columns, and NULL + 0 is still undefined. */
    union cell *row = m->n_cols > 0 ? m->cells + m->n_rows * m->n_cols : NULL;
    for (size_t c = 0; c < m->n_cols; c++) {
        if (m->cols[c].kind == SIM_METRIC_COUNTER)
            row[c].i = m->counters[m->cols[c].id].value;
        else
            row[c].d = m->gauges[m->cols[c].id].value;
    }
    m->n_rows++;
}

size_t sim_metrics_n_samples(const sim_metrics *m) { return m->n_rows; }

sim_time sim_metrics_sample_time(const sim_metrics *m, size_t row) {
    SIM_ASSERT(row < m->n_rows);
    return m->times[row];
}

double sim_metrics_sample_value(const sim_metrics *m, size_t row, size_t col) {
    SIM_ASSERT(row < m->n_rows && col < m->n_cols);
    union cell v = m->cells[row * m->n_cols + col];
    return m->cols[col].kind == SIM_METRIC_COUNTER ? (double)v.i : v.d;
}

/* ------------------------------------------------------------------------ */
/* Writers.                                                                 */

/* cJSON returns NULL when malloc fails; treat it like sim_malloc does. */
static cJSON *json_ok(cJSON *item) {
    SIM_ASSERT(item != NULL);
    return item;
}

static void json_hist(cJSON *obj, const struct hist_entry *e) {
    const sim_hist *h = &e->hist;
    json_ok(cJSON_AddStringToObject(obj, "unit", e->unit));
    json_ok(cJSON_AddNumberToObject(obj, "count", (double)h->count));
    static const char *const keys[] = {"min", "max", "mean", "p50", "p90", "p99", "p999"};
    if (h->count == 0) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            json_ok(cJSON_AddNullToObject(obj, keys[i]));
        return;
    }
    json_ok(cJSON_AddNumberToObject(obj, "min", (double)h->min));
    json_ok(cJSON_AddNumberToObject(obj, "max", (double)h->max));
    json_ok(cJSON_AddNumberToObject(obj, "mean", sim_hist_mean(h)));
    json_ok(cJSON_AddNumberToObject(obj, "p50", (double)sim_hist_percentile(h, 50.0)));
    json_ok(cJSON_AddNumberToObject(obj, "p90", (double)sim_hist_percentile(h, 90.0)));
    json_ok(cJSON_AddNumberToObject(obj, "p99", (double)sim_hist_percentile(h, 99.0)));
    json_ok(cJSON_AddNumberToObject(obj, "p999", (double)sim_hist_percentile(h, 99.9)));
}

cJSON *sim_metrics_to_json(const sim_metrics *m) {
    cJSON *root = json_ok(cJSON_CreateObject());
    cJSON *counters = json_ok(cJSON_AddObjectToObject(root, "counters"));
    for (size_t i = 0; i < m->n_counters; i++)
        json_ok(
            cJSON_AddNumberToObject(counters, m->counters[i].name, (double)m->counters[i].value));
    cJSON *gauges = json_ok(cJSON_AddObjectToObject(root, "gauges"));
    for (size_t i = 0; i < m->n_gauges; i++)
        json_ok(cJSON_AddNumberToObject(gauges, m->gauges[i].name, m->gauges[i].value));
    cJSON *hists = json_ok(cJSON_AddObjectToObject(root, "histograms"));
    for (size_t i = 0; i < m->n_hists; i++)
        json_hist(json_ok(cJSON_AddObjectToObject(hists, m->hists[i]->name)), m->hists[i]);
    return root;
}

int sim_metrics_write_timeseries_csv(const sim_metrics *m, FILE *f) {
    fputs("time_s", f);
    for (size_t k = 0; k < m->n_names; k++) {
        if (m->names[k].kind != SIM_METRIC_HISTOGRAM)
            fprintf(f, ",%s", m->names[k].name);
    }
    fputc('\n', f);
    char buf[SIM_FORMAT_DOUBLE_SIZE];
    for (size_t r = 0; r < m->n_rows; r++) {
        /* Integer seconds and nanoseconds: a double would misprint large
         * times (2^53 ns is only 104 days). */
        sim_time t = m->times[r];
        fprintf(f, "%" PRId64 ".%09" PRId64, t / SIM_S, t % SIM_S);
        const union cell *row = m->n_cols > 0 ? m->cells + r * m->n_cols : NULL;
        for (size_t c = 0; c < m->n_cols; c++) {
            if (m->cols[c].kind == SIM_METRIC_COUNTER) {
                fprintf(f, ",%" PRId64, row[c].i);
            } else {
                sim_format_double(buf, sizeof buf, row[c].d);
                fprintf(f, ",%s", buf);
            }
        }
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

int sim_metrics_write_histograms_csv(const sim_metrics *m, FILE *f) {
    fputs("name,lower,upper,count\n", f);
    for (size_t i = 0; i < m->n_hists; i++) {
        const sim_hist *h = &m->hists[i]->hist;
        if (h->count == 0)
            continue;
        size_t last = bucket_of((uint64_t)h->max);
        for (size_t b = bucket_of((uint64_t)h->min); b <= last; b++) {
            if (h->counts[b] == 0)
                continue;
            int64_t lo, hi;
            sim_hist_bucket_range(b, &lo, &hi);
            fprintf(f, "%s,%" PRId64 ",%" PRId64 ",%" PRIu64 "\n", m->hists[i]->name, lo, hi,
                    h->counts[b]);
        }
    }
    return ferror(f) ? -1 : 0;
}
