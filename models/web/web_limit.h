/*
 * web_limit.h - rate limiters for the web tier: fixed window, sliding
 * window log, sliding window counter, token bucket, leaky bucket as a meter
 * (GCRA) and leaky bucket as a queue (a shaper), each with optional soft
 * limits.  A pure library: it knows nothing of messages, nodes or keys.
 * The balancer keeps one `web_rl` per key and asks web_rl_decide at each
 * request, with the simulated time; the answer is what to do with that one
 * request.
 *
 * Every decision is integer arithmetic on nanoseconds and counts, so gcc
 * and clang at any optimisation level decide alike.  The two doubles of the
 * configuration (rate_per_s, soft_margin) are turned into integers once per
 * call by exactly rounded IEEE operations, never compared as floats.
 *
 * The algorithms.  `limit` and `window` apply to the three window
 * algorithms, `rate_per_s` and `burst` to the buckets, `rate_per_s` and
 * `queue` to the shaper.  A request "admitted" below is one the algorithm
 * lets through; only admitted requests are counted or consume credit.
 *
 *  WEB_RL_FIXED: windows [k W, (k+1) W) aligned at multiples of W from time
 *    0; a request is admitted iff fewer than `limit` were admitted in its
 *    window.  Any aligned window holds at most `limit`; a window of length W
 *    straddling a boundary can hold 2 limit.  Retry-After: the next window
 *    start, exact.
 *  WEB_RL_SLIDING_LOG: admitted at t iff fewer than `limit` admitted
 *    requests lie in (t - W, t].  Keeps the last `limit` admitted times in a
 *    ring allocated at the first admission (8 limit bytes per key, limit at
 *    most 1,000,000).  Retry-After: the oldest of them plus W, exact.
 *  WEB_RL_SLIDING_COUNTER: Cloudflare's two-window estimate.  With the
 *    fixed windows above, cur the admitted count of the current window,
 *    prev that of the one before, and e = t - k W the time into the
 *    current window, the estimate is prev (W - e) / W + cur, counting
 *    admitted requests before this one; admitted iff estimate < limit,
 *    computed exactly as prev (W - e) + cur W < limit W in 128-bit
 *    products.  (So the request itself is the +1: after admission the
 *    estimate is below limit + 1.)  Retry-After: the first nanosecond at
 *    which the estimate, decaying, drops below limit, exact.
 *  WEB_RL_TOKEN: a bucket of `burst` tokens, full at the key's first
 *    request, refilled at rate_per_s and never above burst; a request takes
 *    one token and is admitted iff one is there.  Refill is continuous
 *    (tick 0) or, with tick > 0, a whole tick's worth (tick rate_per_s
 *    tokens) at each multiple of tick from time 0.  Continuous: at most
 *    burst + rate t admitted in any closed window of length t.  Per tick:
 *    at most burst + rate tick (floor(t / tick) + 1), since a window can
 *    start just before a refill.  Retry-After: when one token is there,
 *    exact (a tick boundary with ticks).
 *  WEB_RL_LEAKY_METER: the same bucket as a meter, by virtual scheduling
 *    (GCRA, ITU-T I.371): with emission interval T = 1 / rate and
 *    tolerance tau = (burst - 1) T, a request at t with theoretical arrival
 *    time TAT is conforming iff max(TAT, t) - t <= tau, and then TAT becomes
 *    max(TAT, t) + T.  The bucket's level is max(TAT, t) - t, so the meter
 *    decides exactly as WEB_RL_TOKEN with tick 0 and the same rate and
 *    burst, request by request, with the same Retry-After (TAT - tau).
 *    tick must be 0.
 *  WEB_RL_LEAKY_QUEUE: a FIFO of `queue` places in front of a server that
 *    lets one request out every T = 1 / rate.  A request finding the server
 *    free leaves at once (ALLOW, *when = now); otherwise it takes a place
 *    if one is free and leaves at the previous request's release time plus
 *    T (DELAY, *when = that time, rounded up to the nanosecond); with
 *    every place taken it is rejected (REJECT, *when = the first time a
 *    place is free).  Release times are kept exactly (a nanosecond and a
 *    fraction), so a backlog leaves exactly T apart without drift.  No
 *    soft margin (a shaper delays rather than flags).
 *
 * Integer rates.  A rate is kept as credit units gained per nanosecond,
 * with U units to a token: U is the largest power of ten up to 10^18 with
 * (burst + 2) U <= 9e18 (burst + 1 = queue + 1 places for the shaper), at
 * least 10^12 within the caps below, so rate_per_s is rounded to a
 * multiple of 10^9 / U per second (0.001/s at worst, 10^-6/s for bursts up
 * to 8,998).  Everything after that is exact.
 *
 * Soft limits.  soft_margin m >= 0 (rounded to a millionth) and grace
 * g >= 0 (a duration).  With m > 0 the limiter runs a second, larger
 * instance of the same algorithm, "soft", beside the base one: limit
 * floor(limit (1 + m)), burst floor(burst (1 + m)), rate rate (1 + m),
 * same window and tick.  At each request:
 *   (1) base and soft both admit: ALLOW; both count it.
 *   (2) soft admits, base does not: SOFT ("over the limit, within the
 *       margin"); only soft counts it.  *when = when base would admit.
 *   (3) soft does not admit (whatever base says): the request exceeds the
 *       soft limit.  The first such request of a run opens the run at its
 *       time t0; while now - t0 < g the excess is SOFT too (counted by
 *       neither instance); from t0 + g on it is REJECT.  *when = when soft
 *       would admit.
 *   (4) the run ends at a request of case (1) or (2) that leaves room to
 *       spare: soft would admit another at the same instant.  The next
 *       exceedance opens a new run with a fresh grace.  Room, not just
 *       admission, because a backlogged key is admitted now and then as
 *       credit trickles back (one token, one place in the log) and would
 *       otherwise renew its grace for ever; so grace needs a soft limit,
 *       burst or queue + 1 of at least 2.  A fixed window's run ends at
 *       the first request of the next window, a bucket's once the key has
 *       slowed enough for two tokens to gather.
 * With m = 0 the soft instance is the base one (case (2) never happens);
 * with m = 0 and g = 0 the limiter is a hard limiter.  Hence ALLOW alone
 * obeys the base bounds above, ALLOW + SOFT of cases (1) and (2) the soft
 * instance's bounds, and grace adds at most what arrives in g per run.
 * For the shaper, "base admits" means ALLOW or DELAY, and a grace SOFT
 * passes at once without taking a place.
 */
#ifndef DSIM_WEB_LIMIT_H
#define DSIM_WEB_LIMIT_H

#include "sim.h"

typedef enum web_rl_algo {
    WEB_RL_FIXED,
    WEB_RL_SLIDING_LOG,
    WEB_RL_SLIDING_COUNTER,
    WEB_RL_TOKEN,
    WEB_RL_LEAKY_METER,
    WEB_RL_LEAKY_QUEUE,
    WEB_RL_ALGO_COUNT
} web_rl_algo;

typedef enum web_rl_decision {
    WEB_RL_ALLOW,  /* within the limit: pass now */
    WEB_RL_SOFT,   /* over the limit but let through: the caller delays, flags or deprioritises */
    WEB_RL_DELAY,  /* the shaper: pass at *when */
    WEB_RL_REJECT, /* refuse; *when is the Retry-After */
    WEB_RL_DECISION_COUNT
} web_rl_decision;

/* Caps checked by web_rl_check, so that every product in web_limit.c fits
 * in 64 bits (128 for the sliding counter's comparison). */
#define WEB_RL_MAX_LIMIT     1000000000 /* fixed window and sliding counter */
#define WEB_RL_MAX_LOG_LIMIT 1000000    /* the sliding log: 8 MB of ring per key */
#define WEB_RL_MAX_WINDOW    (1000000 * SIM_S)
#define WEB_RL_MAX_RATE      1e9 /* per second */
#define WEB_RL_MIN_RATE      1e-3
#define WEB_RL_MAX_BURST     1000000
#define WEB_RL_MAX_QUEUE     1000000
#define WEB_RL_MAX_MARGIN    4.0

typedef struct web_rl_cfg {
    int algo;           /* a web_rl_algo */
    int64_t limit;      /* windows: admitted requests per window, >= 1 */
    sim_time window;    /* windows: > 0 */
    double rate_per_s;  /* buckets and shaper: > 0 */
    int64_t burst;      /* buckets: capacity in requests, >= 1 */
    sim_time tick;      /* token bucket: 0 = continuous refill, else the refill period */
    int64_t queue;      /* shaper: waiting places, >= 0 */
    double soft_margin; /* >= 0: fraction over the limit admitted as SOFT */
    sim_time grace;     /* >= 0: how long excess over the soft limit is SOFT */
} web_rl_cfg;

/* One instance's state: the fields of its algorithm only.  Private to
 * web_limit.c; declared here so the caller can embed a web_rl by value. */
typedef struct web_rl_part {
    int64_t a, b; /* window index and count, credit and time, or TAT */
    union {
        int64_t c;     /* the sliding counter's previous window */
        int64_t *ring; /* the sliding log's admitted times, or NULL */
    };
    bool started;  /* the key has had a request (buckets start full then) */
    bool has_ring; /* ring is allocated (and c is not a count) */
} web_rl_part;

/* The per-key state: the base instance, the soft one (with a soft margin,
 * from the key's first decision on), and the grace run.  One cache line,
 * so that a decision among 100,000 keys misses once. */
typedef struct web_rl {
    web_rl_part base;
    web_rl_part *soft;
    sim_time run_start; /* start of the current run over the soft limit */
    sim_time last_now;  /* decisions must come in non-decreasing time */
    bool in_run;
} web_rl;

/* Returns NULL when c is valid, else a static message naming the field and
 * what is allowed (the caller prefixes the JSON path).  Fields that the
 * algorithm does not use are not checked, except tick, which must be 0 for
 * every algorithm but WEB_RL_TOKEN. */
const char *web_rl_check(const web_rl_cfg *c);

/* Initialises caller-owned *st for c (which must pass web_rl_check) at no
 * time in particular: a bucket fills at the key's first request.  Allocates
 * nothing (the log's ring comes with its first admission).  Returns 0, or
 * -1 if c is invalid (st is then zeroed and may be fini'd). */
int web_rl_init(web_rl *st, const web_rl_cfg *c);

/* Frees what st owns (the log's rings); st may be init'ed again. */
void web_rl_fini(web_rl *st);

/* Decides one request of the key at now (>= 0, non-decreasing per key, or
 * it aborts) and returns a web_rl_decision.  *when (if when is not NULL)
 * receives now for ALLOW, the release time for DELAY, for SOFT the time of
 * the next ALLOW (margin) or of the next admission (grace) as in the notes
 * above, and for REJECT the Retry-After: the earliest time at which a
 * request, with no other request in between, would be admitted (ALLOW,
 * DELAY or margin SOFT).  c must be the configuration st was initialised
 * with; st is the caller's. */
int web_rl_decide(const web_rl_cfg *c, web_rl *st, sim_time now, sim_time *when);

/* Names for configurations and reports: "fixed", "sliding_log",
 * "sliding_counter", "token", "leaky_meter", "leaky_queue"; and "allow",
 * "soft", "delay", "reject".  Static strings; "?" when out of range. */
const char *web_rl_algo_name(int algo);
const char *web_rl_decision_name(int decision);
/* Returns the web_rl_algo named, or -1. */
int web_rl_algo_parse(const char *name);

#endif
