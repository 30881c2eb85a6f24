/*
 * sim.h - the public interface of the dsim kernel.
 *
 * This is the only kernel header a model includes.  It declares simulated
 * time, the random number generator and its distributions, the model
 * plug-in interface, the context through which a model acts while one of its
 * hooks runs, the typed configuration reader models use to read their part
 * of a scenario, and the metric calls.
 *
 * Everything hangs off one `sim` object; there is no global state, so two
 * simulations can run side by side in one process.  Functions that can fail
 * on bad input return a negative code and leave a message in the sim or
 * config object; broken invariants abort through SIM_ASSERT.
 */
#ifndef DSIM_SIM_H
#define DSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSIM_VERSION "0.1.0"

/* ------------------------------------------------------------------------ */
/* Time: signed 64-bit integer nanoseconds.  Never a double as a time key.  */

typedef int64_t sim_time;

#define SIM_NS       ((sim_time)1)
#define SIM_US       ((sim_time)1000)
#define SIM_MS       ((sim_time)1000000)
#define SIM_S        ((sim_time)1000000000)
#define SIM_TIME_MAX INT64_MAX

/*
 * Parses a duration such as "250ns", "10us", "1.5ms", "2s", "2m" or "1h".
 * Returns 0 and stores the value in *out, or -1 with a short reason in *why
 * (a static string) for a missing or unknown unit, a negative value, NaN,
 * or a value that does not fit in int64 nanoseconds.
 */
int sim_time_parse(const char *text, sim_time *out, const char **why);

/*
 * Formats t with the largest unit that represents it exactly ("1.5ms",
 * "2s", "250ns").  Writes at most size bytes including the terminator and
 * returns buf.
 */
char *sim_time_format(sim_time t, char *buf, size_t size);

/* Seconds as a double, for reports only (never for ordering). */
static inline double sim_time_to_s(sim_time t) { return (double)t / 1e9; }

/*
 * Copies src into dst (n bytes, always terminated) so that it prints as one
 * line that cannot drive a terminal: control characters become JSON-style
 * escapes ("\n", "\t", "\r", "\u001b", DEL "\u007f"), bytes that are not
 * valid UTF-8 (overlong forms, surrogates and past U+10FFFF included)
 * become "\xNN"; valid UTF-8 and everything else is kept.  Every error
 * message that quotes a file or an argument goes through it.  Returns the
 * length written (cut at an escape or character boundary to fit).
 */
size_t sim_escape(char *dst, size_t n, const char *src);

/* Converts d to an integer only when that is exact and defined: d finite,
 * whole, and in [-2^63, 2^63).  Returns false (and leaves *out) otherwise,
 * for the caller's message.  Never cast a JSON number to an integer type
 * without it. */
bool sim_double_to_int64(double d, int64_t *out);

/* ------------------------------------------------------------------------ */
/* Random numbers: PCG32 (O'Neill) with derived, independent streams.       */

typedef struct sim_rng {
    uint64_t state;
    uint64_t inc;
} sim_rng;

/* Seeds like the reference pcg32_srandom_r(rng, initstate, initseq). */
void sim_rng_seed(sim_rng *rng, uint64_t initstate, uint64_t initseq);

/*
 * Derives the stream for (seed, run, domain, entity, index).  The result
 * depends on those five numbers only, never on the order in which streams
 * are created, so adding a node or a kernel draw never shifts another
 * stream.
 */
void sim_rng_stream(sim_rng *rng, uint64_t seed, uint32_t run, uint32_t domain, uint32_t entity,
                    uint32_t index);

uint32_t sim_rng_u32(sim_rng *rng);
uint64_t sim_rng_u64(sim_rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double sim_rng_double(sim_rng *rng);
/* Uniform in [0, bound) without modulo bias; bound must be > 0. */
uint32_t sim_rng_below(sim_rng *rng, uint32_t bound);
uint64_t sim_rng_below64(sim_rng *rng, uint64_t bound);

/* Stream domains.  Kernel domains are below 16; models use SIM_DOMAIN_MODEL+k. */
enum {
    SIM_DOMAIN_NET_LATENCY = 1,
    SIM_DOMAIN_NET_LOSS = 2,
    SIM_DOMAIN_FAULTS = 3,
    SIM_DOMAIN_MODEL = 16,
};

/* ------------------------------------------------------------------------ */
/* Distributions of non-negative reals (durations in ns, sizes in bytes).   */

typedef enum sim_dist_kind {
    SIM_DIST_CONSTANT,
    SIM_DIST_UNIFORM,     /* a = min, b = max */
    SIM_DIST_EXPONENTIAL, /* a = mean */
    SIM_DIST_NORMAL,      /* a = mean, b = stddev */
    SIM_DIST_LOGNORMAL,   /* a = mu, b = sigma (of the underlying normal) */
    SIM_DIST_PARETO,      /* a = x_m (scale), b = alpha (shape) */
    SIM_DIST_WEIBULL,     /* a = scale (lambda), b = shape (k) */
    SIM_DIST_EMPIRICAL,   /* points: samples (equal weight) or CDF points */
    SIM_DIST_MIXTURE,     /* parts with cumulative weights */
} sim_dist_kind;

typedef struct sim_dist sim_dist;

struct sim_dist {
    sim_dist_kind kind;
    double a, b;
    /* Added to every draw; the result is then floored at 0. */
    double offset;
    /* EMPIRICAL: n ascending values xs and cumulative probabilities ps
     * (ps[n-1] == 1).  With samples, ps[i] = (i+1)/n and draws pick one
     * sample; with CDF points, draws interpolate linearly between points,
     * starting from (xs[0], ps[0]).  MIXTURE: n parts and cumulative
     * normalized weights in ps. */
    size_t n;
    double *xs;
    double *ps;
    sim_dist *parts;
    bool interpolate;
};

/* Draws one value (>= 0).  Deterministic given the stream state. */
double sim_dist_sample(const sim_dist *d, sim_rng *rng);
/* Draws a duration: the sample rounded to the nearest nanosecond. */
sim_time sim_dist_sample_time(const sim_dist *d, sim_rng *rng);
/* Exact mean of the distribution (after offset, ignoring the floor at 0),
 * or NaN/INFINITY where it does not exist. */
double sim_dist_mean(const sim_dist *d);
/* Exact CDF at x (before the floor and with the offset applied), used by
 * tests; NaN for kinds where it is not implemented (mixture of empirical). */
double sim_dist_cdf(const sim_dist *d, double x);
/* Frees what the distribution owns (points, parts); the struct itself is the
 * caller's.  Safe on a zeroed struct. */
void sim_dist_fini(sim_dist *d);
/* Deep copy; returns 0, aborts on out of memory. */
void sim_dist_copy(sim_dist *dst, const sim_dist *src);
/* Checks parameters; returns NULL if valid, else a static reason. */
const char *sim_dist_check(const sim_dist *d);

/*
 * Zipf over ranks 1..n with exponent theta > 0, by rejection-inversion
 * (Hormann and Derflinger 1996): O(1) set-up and expected O(1) per draw,
 * no tables, n up to 2^63.
 */
typedef struct sim_zipf {
    uint64_t n;
    double theta;
    double h_integral_x1, h_integral_n, s;
} sim_zipf;

void sim_zipf_init(sim_zipf *z, uint64_t n, double theta);
/* Returns a rank in [1, n]; rank 1 is the most popular. */
uint64_t sim_zipf_sample(const sim_zipf *z, sim_rng *rng);

/* 64-bit hash of len bytes (XXH3-64 with seed): for consistent hashing and
 * digests in models.  The same on every machine. */
uint64_t sim_hash64(const void *data, size_t len, uint64_t seed);
/* The splitmix64 finalizer (Stafford's Mix13): a bijection of 64-bit words
 * with full avalanche, each input bit flipping each output bit with
 * probability close to 1/2.  Inline, for hashes built on whole words. */
static inline uint64_t sim_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* ------------------------------------------------------------------------ */
/* Assertions and memory.                                                   */

/* Aborts with file, line and message.  Always on: these checks are cheap. */
#define SIM_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            sim_panic(__FILE__, __LINE__, "assertion failed: %s", #cond);                          \
    } while (0)

_Noreturn void sim_panic(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* SIM_ASAN: built with AddressSanitizer, which sees only malloc's blocks,
 * so the allocators that pool or map memory themselves (sim/arena.c,
 * sim_table_calloc) hand every block to malloc instead. */
#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif

/* Allocation wrappers: abort on out of memory, count live blocks. */
void *sim_malloc(size_t size);
void *sim_calloc(size_t n, size_t size);
void *sim_realloc(void *p, size_t size);
/* Zeroed n * size bytes aligned to `align` (a power of two); free with
 * sim_free. */
void *sim_aligned_calloc(size_t align, size_t n, size_t size);
/* size bytes, not initialised, aligned to `align` (a power of two); free
 * with sim_free. */
void *sim_aligned_malloc(size_t align, size_t size);
void sim_free(void *p);
/* Zeroed n * size bytes for a large table read at random (a record per
 * user, per key, per resource).  From 1 MiB on it is mapped from the
 * kernel at a 2 MiB boundary and advised onto transparent huge pages, so
 * that reads scattered over many megabytes do not each miss the TLB (Linux
 * in THP "madvise" mode, Debian's default; elsewhere it is only aligned);
 * its pages stay unwritten until used.  Smaller tables, and every table
 * under AddressSanitizer (which sees only malloc's blocks), come from
 * sim_aligned_calloc.  Either way the table starts at a 64-byte boundary
 * (a cache line).  Free with sim_table_free and the same n and size. */
void *sim_table_calloc(size_t n, size_t size);
void sim_table_free(void *p, size_t n, size_t size);
/* Address space for a table that grows in place up to `bytes`, so that
 * what it holds never moves: mapped without access and without taking
 * memory, at a 2 MiB boundary.  huge: advised onto transparent huge pages,
 * for a table read at random (the event pool); otherwise on the kernel's
 * default pages, so that the memory touched ends at the frontier's page (a
 * pool filled from its start: a huge page there would zero up to 2 MiB
 * ahead).  sim_reserve_grow makes its first `usable` bytes readable and
 * writable (zeroed where never used before); growing past the machine's
 * memory ends the run (sim_panic).  Returns NULL when the address space
 * cannot be had (an address-space limit, or bytes of 0): the caller then
 * settles for less or does without.  A mapping even under
 * AddressSanitizer, which therefore does not check accesses inside it (the
 * callers bound their indices themselves).  Free with sim_reserve_free
 * and the same bytes. */
void *sim_reserve(size_t bytes, bool huge);
void sim_reserve_grow(void *base, size_t bytes, size_t old_usable, size_t usable);
void sim_reserve_free(void *base, size_t bytes);
char *sim_strdup(const char *s);
/* Number of blocks allocated through these wrappers and not yet freed. */
long sim_live_blocks(void);
/* The largest single allocation (bytes) since the last reset; diagnostic. */
size_t sim_largest_alloc(bool reset);

/* ------------------------------------------------------------------------ */
/* The simulation object, the context, and the model interface.            */

typedef struct sim sim;
typedef struct sim_ctx sim_ctx;
typedef struct sim_cfg sim_cfg;
typedef struct sim_report sim_report;

/* A timer handle is a value: a stale or cancelled handle is harmless. */
typedef struct sim_timer {
    uint32_t slot;
    uint32_t gen;
} sim_timer;

#define SIM_TIMER_NONE ((sim_timer){0, 0})

/* A delivered message.  Valid only while the handler runs. */
typedef struct sim_msg {
    uint32_t src;
    uint32_t type;       /* index into the model's msg_types */
    uint32_t len;        /* payload bytes carried */
    uint32_t wire_bytes; /* bytes counted on the wire */
    sim_time sent_at;
    const void *data;
} sim_msg;

/*
 * Charts a model declares.  The kernel never draws: `dsim plot` walks the
 * table of the run's model, derives each chart's data file from the run's
 * folder and runs the chart's gnuplot script (under plots/) on it.  A
 * model's charts are data, not code: adding a model adds a table and its
 * scripts, never a change to the command (docs/charts.md).
 *
 * A timeline chart (`series` set) is one panel per series over simulated
 * time, derived from timeseries.csv.  A series names its column, or a
 * pattern of columns: "{}" matches a part of a column's name and makes one
 * series per distinct part (the label's "{}" is replaced by it), "*" matches
 * any part and sums the columns it matches.  Series whose columns are
 * missing, or that have no value at all, are left out; a chart left with no
 * series is not drawn.
 */
typedef enum sim_series_op {
    SIM_SERIES_VALUE,      /* the sampled value (a gauge, or a running count) */
    SIM_SERIES_RATE,       /* the column's increase per simulated second, per interval */
    SIM_SERIES_RATIO,      /* increase of col over increase of den, per interval */
    SIM_SERIES_COMPLEMENT, /* 1 - that ratio (availability = 1 - failed / operations) */
} sim_series_op;

typedef struct sim_chart_series {
    const char *label; /* column header of the chart's data, e.g. "availability" */
    sim_series_op op;
    const char *col; /* a timeseries column or pattern ("mq.backlog.{}.p*") */
    const char *den; /* RATIO, COMPLEMENT: columns added up, '+' between ("kv.reads+kv.writes") */
    const char *ylabel; /* the panel's axis label, e.g. "availability (% of ops)" */
    const char *what;   /* the panel's title: what the series means */
    double scale;       /* values are multiplied by it (100 for a percentage; 0 means 1) */
} sim_chart_series;

typedef struct sim_chart {
    const char *name;   /* the chart is DIR/<name>.png and DIR/<name>.svg */
    const char *script; /* under plots/, e.g. "timeline.gp", "web/servers.gp" */
    const char *title;  /* the chart's title (NULL: the script's own) */
    /* Either a timeline from timeseries.csv (series ends with label NULL), */
    const sim_chart_series *series;
    /* or a file of the run's folder (one the model's report wrote), which
     * the script reads as it is, with `data` set to its path. */
    const char *file;
    /* With `sweep` set, the chart belongs to a sweep's folder instead: one
     * panel per series, one bar per point of the sweep.  A series' col
     * names a metric of points.csv without its suffix
     * ("model.latency_p99_ms"): the bar is its mean (col.mean), the error
     * bar its 95 % confidence interval (col.ci95); op and den are unused. */
    bool sweep;
} sim_chart;

/*
 * What a run will cost, estimated by the model from its resolved
 * configuration before time 0 (sim_model.estimate), so that dsim can refuse
 * a scenario that would take hours or exhaust memory before it starts
 * (docs/scenario-format.md, "Limits").  Estimates, not bounds: within a
 * factor of a few is the aim.  Each names the key that drives it and says
 * in a few words how it was reckoned, for the message.
 */
typedef struct sim_model_estimate {
    double events;          /* events of the whole run (messages and timers) */
    const char *events_key; /* e.g. "kv.workload.rate_per_s" */
    char events_why[200];   /* e.g. "1e+07 operations/s for 1 s, about 12 events each" */
    double bytes;           /* memory of the model's state at its largest */
    const char *bytes_key;  /* e.g. "kv.workload.keys" */
    char bytes_why[200];    /* e.g. "1e+08 keys on 3 replicas, about 40 bytes each" */
} sim_model_estimate;
/* Numbers for people in estimates and messages: "12 billion", "3.4 million",
 * "52,000"; and "1.5 GiB", "300 MiB", "12 KiB".  Return buf. */
char *sim_human_count(double x, char *buf, size_t n);
char *sim_human_bytes(double x, char *buf, size_t n);

/* An event about to be dispatched, as the prefetch hook sees it. */
typedef struct sim_peek {
    uint32_t node;    /* where it will run */
    bool msg;         /* a message (else a node timer) */
    uint32_t type;    /* message type or timer kind */
    uint32_t src;     /* messages: the sender */
    uint64_t arg;     /* timers: the argument */
    const void *data; /* messages: the payload (len bytes) */
    uint32_t len;
} sim_peek;

/*
 * A model is one constant struct of hooks.  The kernel allocates
 * `shared_size` bytes once per simulation (configuration plus whatever all
 * nodes share, such as an oracle) and `node_size` bytes per node, zeroed.
 * Any hook may be NULL.
 */
typedef struct sim_model {
    const char *name;
    const char *summary;
    /* NULL-terminated message type names; a type's id is its index.  Known
     * before configure so the scenario can name them (latency overrides). */
    const char *const *msg_types;
    size_t shared_size;
    size_t node_size;

    /* Reads the model's scenario object through cfg (see sim_cfg_*), may add
     * node groups with sim_cfg_add_nodes.  Returns 0 or a negative code after
     * a sim_cfg error.  No simulated time passes. */
    int (*configure)(sim_cfg *cfg, void *shared);
    /* After all nodes exist and before time 0 runs: reads what needs the
     * node list (sim_cfg_node) and checks across keys.  The model's object
     * is entered again; keys read in configure need not be read again.
     * Returns 0 or negative after sim_cfg_fail. */
    int (*validate)(sim_cfg *cfg, void *shared);
    /* Called once per node at time 0, and again for an empty node that
     * replaces a failed one (sim_node_incarnation tells which). */
    void (*node_init)(sim_ctx *ctx, void *node);
    void (*on_message)(sim_ctx *ctx, void *node, const sim_msg *msg);
    void (*on_timer)(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg);
    /* The node stops: its timers are already cancelled and messages in
     * flight to it will be dropped.  The model decides what state survives. */
    void (*on_crash)(sim_ctx *ctx, void *node);
    void (*on_recover)(sim_ctx *ctx, void *node);
    /* A world timer fired (sim_world_timer_set): model-wide events that
     * belong to no node, such as a membership change or a workload phase. */
    void (*on_world_timer)(sim *s, void *shared, uint32_t kind, uint64_t arg);
    /* A fault action was applied, now: `what` is its name ("crash",
     * "recover", "fail", "replace", "partition", "partition_one_way",
     * "heal", "slow", "slow_link", "clock"), node the node it acted on or
     * UINT32_MAX for network-wide actions.  For metrics only (e.g. time to
     * converge after a heal): a protocol must learn of faults through its
     * own messages and timeouts.  Called after the crash hook for a crash,
     * before the recover hook for a recovery, after the new node's start
     * hook for a replacement. */
    void (*on_fault)(sim *s, void *shared, const char *what, uint32_t node);
    /* Adds the model's results to the report after the run. */
    void (*report)(sim_report *rep, void *shared);
    /* Releases what a node owns (end of run, or before replacement). */
    void (*node_fini)(sim_ctx *ctx, void *node);
    /* Releases what shared owns. */
    void (*shared_fini)(void *shared);
    /* The model's charts, ending with name NULL; NULL for none. */
    const sim_chart *charts;
    /* After validate: fills in what the run will cost (fields it leaves at
     * zero are not estimated).  Reads only.  NULL: nothing estimated. */
    void (*estimate)(const sim *s, const void *shared, sim_model_estimate *e);
    /* After the budget has accepted the estimate, before time 0: allocates
     * the state sized by the configuration (per-key tables and the like),
     * so that a scenario the budget refuses never allocates it.  Must not
     * fail.  NULL: nothing to prepare. */
    void (*prepare)(sim *s, void *shared);
    /* A hint for speed, called as each event is dispatched with two that
     * come after it: stage 0 with the third after it, stage 1 with the
     * next (the one stage 0 saw two dispatches before).  The model starts fetching the state their
     * handlers will read
     * (__builtin_prefetch), the first lines at stage 0 and what those lines
     * point to at stage 1, so that memory latency overlaps the work of the
     * events before.  It may read its state (node: the event's node) but
     * must change nothing, and no result may depend on it: the events it is
     * shown are only likely to come next, since the event being dispatched
     * may schedule earlier ones, and a cancelled one may be among them.
     * NULL: no hint. */
    void (*prefetch)(const void *shared, const void *node, int stage, const sim_peek *ev);
} sim_model;

/* ---- The context: valid only during a hook, names the acting node. ---- */

sim_time sim_now(const sim_ctx *ctx);
uint32_t sim_self(const sim_ctx *ctx);
sim *sim_of(const sim_ctx *ctx);
void *sim_shared(const sim_ctx *ctx);
/* The node's own clock: now plus its offset and drift (for LWW stamps). */
sim_time sim_local_time(const sim_ctx *ctx);
/* The acting node's own model stream (domain SIM_DOMAIN_MODEL, entity =
 * node, index = incarnation), owned by the kernel. */
sim_rng *sim_node_rng(sim_ctx *ctx);
/* Ends the run after the current event (e.g. the model's goal is reached). */
void sim_stop(sim_ctx *ctx);

/*
 * Sends a message of `type` to node dst.  The payload is copied; wire_bytes
 * is what the network counts (0 means len).  Delivery happens after the
 * link's latency if the path is up now and dst is up on arrival, and dst did
 * not crash in between.  Sending to self is allowed (it crosses no link).
 */
void sim_send(sim_ctx *ctx, uint32_t dst, uint32_t type, const void *data, uint32_t len,
              uint32_t wire_bytes);

/* As sim_send, but the message enters the network `delay` after now (the
 * sender's processing time).  Whether the path is up, and the loss draw,
 * are decided now. */
void sim_send_after(sim_ctx *ctx, sim_time delay, uint32_t dst, uint32_t type, const void *data,
                    uint32_t len, uint32_t wire_bytes);

/* Schedules on_timer(kind, arg) on the acting node after `delay` >= 0. */
sim_timer sim_timer_set(sim_ctx *ctx, sim_time delay, uint32_t kind, uint64_t arg);
/* Cancels a pending timer; returns true if it was pending. */
bool sim_timer_cancel(sim_ctx *ctx, sim_timer t);
/* Schedules on_world_timer(kind, arg) at absolute time `at` (>= now): an
 * event of the whole model, which no crash cancels.  Callable from
 * validate (to schedule at the start) and from any hook. */
void sim_world_timer_set(sim *s, sim_time at, uint32_t kind, uint64_t arg);

/* Narrated line for the trace (only written when tracing). */
void sim_log(sim_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when the run writes a trace: narration is worth composing. */
bool sim_tracing(const sim_ctx *ctx);

/* ---- Nodes. ---- */

uint32_t sim_node_count(const sim *s);
/* The run's simulated duration (the scenario's "duration"). */
sim_time sim_duration(const sim *s);
/* The current simulated time, for hooks without a context (world timers,
 * on_fault). */
sim_time sim_time_now(const sim *s);
const char *sim_node_name(const sim *s, uint32_t node);
bool sim_node_up(const sim *s, uint32_t node);
/* 0 for the original node, +1 for each replacement. */
uint32_t sim_node_incarnation(const sim *s, uint32_t node);
/* The node's factor from the fault schedule's `slow` (1 = normal speed).
 * The kernel scales only network latency by it; a model whose nodes do
 * work of their own may scale that too (mq: processing times). */
double sim_node_slow(const sim *s, uint32_t node);
/* Messages sent and not yet delivered or dropped (all types).  For a model's
 * stopping rule ("nothing left in flight"), never for a node's decisions. */
int64_t sim_messages_in_flight(const sim *s);
/* Node groups: index of a group by name or -1; first node and count. */
int sim_group_find(const sim *s, const char *name);
uint32_t sim_group_first(const sim *s, int group);
uint32_t sim_group_count(const sim *s, int group);
int sim_node_group(const sim *s, uint32_t node);
/* Seeds *out with the model stream (SIM_DOMAIN_MODEL + sub, entity, index)
 * of this run's seed, for models that need streams beyond sim_node_rng.
 * sub must be >= 1: sub 0 holds the node streams. */
void sim_model_stream(const sim *s, sim_rng *out, uint32_t sub, uint32_t entity, uint32_t index);

/* ---- Metrics. ---- */

/* Registration returns an id; call during configure or node_init. */
int sim_counter(sim *s, const char *name);
void sim_count(sim *s, int counter, int64_t delta);
int64_t sim_counter_value(const sim *s, int counter);
/* A gauge is set by the model and sampled into the time series. */
int sim_gauge(sim *s, const char *name);
void sim_gauge_set(sim *s, int gauge, double value);
/* Histogram of non-negative integers (ns, bytes), 1 % relative error. */
int sim_histogram(sim *s, const char *name, const char *unit);
void sim_record(sim *s, int histogram, int64_t value);
/* Reading a histogram back (for a model's report): count, and the value at
 * percentile p in [0, 100] (0 when empty). */
int64_t sim_histogram_count(sim *s, int histogram);
int64_t sim_histogram_percentile(sim *s, int histogram, double p);
/* Another node's model state: for an oracle's checks and for reports only,
 * never for a protocol decision. */
void *sim_node_state(sim *s, uint32_t node);

/* ---- Report (after the run). ---- */

void sim_report_num(sim_report *r, const char *name, double value);
void sim_report_int(sim_report *r, const char *name, int64_t value);
void sim_report_str(sim_report *r, const char *name, const char *value);
/* A file the model adds to the run's folder (e.g. "t_visibility.csv"); the
 * text is copied.  name: letters, digits, '_', '-', '.'. */
void sim_report_file(sim_report *r, const char *name, const char *text);
/* Human-readable line for the stdout summary. */
void sim_report_line(sim_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* The configuration reader: how a model reads its part of a scenario.      */
/*                                                                          */
/* Each call reads one key of the current object, applies the default when  */
/* absent, checks the range, records the resolved value for `dsim validate`  */
/* and marks the key as known.  On the first error it formats               */
/*   error: FILE: $.path.to.key: what is wrong (what is allowed)            */
/* and returns -1; later calls return -1 at once.  Keys never read are       */
/* reported as unknown, with a did-you-mean suggestion, by the kernel.       */

int sim_cfg_int(sim_cfg *c, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out);
int sim_cfg_num(sim_cfg *c, const char *key, double def, double min, double max, double *out);
/* A probability in [0, 1]. */
int sim_cfg_prob(sim_cfg *c, const char *key, double def, double *out);
int sim_cfg_bool(sim_cfg *c, const char *key, bool def, bool *out);
/* A duration string with unit within [min, max]; def NULL: required. */
int sim_cfg_time(sim_cfg *c, const char *key, const char *def, sim_time min, sim_time max,
                 sim_time *out);
/* One of `choices` (NULL-terminated); stores the index. */
int sim_cfg_enum(sim_cfg *c, const char *key, const char *def, const char *const *choices,
                 int *out);
/* A string; *out points into the scenario (valid for the run). def may be NULL
 * meaning required. */
int sim_cfg_str(sim_cfg *c, const char *key, const char *def, const char **out);
/* A node name: stores its index.  Only valid in validate (nodes exist). */
int sim_cfg_node(sim_cfg *c, const char *key, const char *def, uint32_t *out);
typedef enum sim_dist_unit { SIM_UNIT_TIME, SIM_UNIT_NUMBER } sim_dist_unit;
/* A distribution object (see docs/scenario-format.md); def is JSON text. */
int sim_cfg_dist(sim_cfg *c, const char *key, const char *def, sim_dist_unit unit, sim_dist *out);
/* A list of durations (each within [min, max]), at most max_n long, e.g.
 * ["0ms", "1ms", "10ms"]; def is JSON text.  *out is allocated with
 * sim_malloc (caller frees with sim_free; NULL when the list is empty). */
int sim_cfg_time_list(sim_cfg *c, const char *key, const char *def, sim_time min, sim_time max,
                      uint32_t max_n, sim_time **out, uint32_t *n);
/* A list of whole numbers (each within [min, max]), at most max_n long;
 * def is JSON text.  *out as for sim_cfg_time_list. */
int sim_cfg_int_list(sim_cfg *c, const char *key, const char *def, int64_t min, int64_t max,
                     uint32_t max_n, int64_t **out, uint32_t *n);
/* A list of objects: stores its length (0 when absent, at most max_n).
 * Read element i with sim_cfg_enter_item ... sim_cfg_leave. */
int sim_cfg_list(sim_cfg *c, const char *key, uint32_t max_n, uint32_t *n);
int sim_cfg_enter_item(sim_cfg *c, const char *key, uint32_t i);
/* Enters a sub-object (created empty if absent); leave with sim_cfg_leave. */
int sim_cfg_enter(sim_cfg *c, const char *key);
void sim_cfg_leave(sim_cfg *c);
/* True if the current object has key (from the scenario file or a --set),
 * whatever its value, even null or an invalid one.  Reads nothing: the key
 * is neither checked, nor marked as known, nor put in the resolved
 * scenario, so a key given and then never read is still reported as
 * unknown.  For keys that only some settings use: ask before reading, and
 * refuse one given that the setting does not read (sim_cfg_fail). */
bool sim_cfg_given(const sim_cfg *c, const char *key);
/* Adds a node group (name + count) before nodes are created. */
int sim_cfg_add_nodes(sim_cfg *c, const char *group, uint32_t count);
/* Formats an error at the current object's `key` (NULL: the object itself).
 * Returns -1. */
int sim_cfg_fail(sim_cfg *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sim *sim_cfg_sim(sim_cfg *c);
/* True once any reader has failed (the message is kept). */
bool sim_cfg_failed(const sim_cfg *c);

#endif
