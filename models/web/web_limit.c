/*
 * web_limit.c - the rate limiters of web_limit.h (the semantics of every
 * algorithm and of soft limits are stated there).  Each call derives the
 * integer parameters of the base and soft instances from the
 * configuration, asks each instance whether it would admit the request
 * ("peek", which only brings the state up to now: a window rolls over, a
 * bucket refills), and then lets the admitting instances count it
 * ("take").  Deriving per call keeps a key's state to a few words; it costs
 * a handful of integer operations and two exactly rounded multiplications.
 *
 * Overflow.  Every product below is bounded by the caps of web_rl_check:
 * credit and bucket levels stay below (burst + 2) U <= 9e18 (U is chosen
 * for that), refills are clamped before they are multiplied, and the
 * sliding counter, whose limit times window reaches 10^24, compares its
 * products in 128 bits built from 64-bit halves.
 */
#include "web_limit.h"

#include <string.h>

/* The integer form of one instance (base or soft) of a configuration. */
typedef struct params {
    int algo;
    int64_t limit;   /* windows */
    sim_time window; /* windows */
    int64_t burst;   /* buckets */
    int64_t queue;   /* shaper */
    sim_time tick;   /* token bucket; 0 = continuous */
    int64_t unit;    /* U: credit units per token, a power of ten */
    int64_t per_ns;  /* the rate: credit units gained per nanosecond, >= 1 */
    int64_t cap;     /* burst U */
    int64_t gain;    /* credit added per tick, clamped to cap */
    int64_t t_ns;    /* the emission interval T = U / per_ns ns ... */
    int64_t t_frac;  /* ... plus t_frac / per_ns ns */
} params;

/* What an instance would do with a request at now.  For the shaper, the
 * release time (rel_ns + rel_frac / per_ns) to record on take. */
typedef struct verdict {
    bool ok;
    bool delayed;  /* the shaper: ok, but released after now */
    sim_time when; /* now if ok (the release time if delayed), else Retry-After */
    int64_t rel_ns, rel_frac;
} verdict;

static const char *const algo_names[WEB_RL_ALGO_COUNT] = {
    "fixed", "sliding_log", "sliding_counter", "token", "leaky_meter", "leaky_queue",
};

static const char *const decision_names[WEB_RL_DECISION_COUNT] = {
    "allow",
    "soft",
    "delay",
    "reject",
};

const char *web_rl_algo_name(int algo) {
    return algo >= 0 && algo < WEB_RL_ALGO_COUNT ? algo_names[algo] : "?";
}

const char *web_rl_decision_name(int decision) {
    return decision >= 0 && decision < WEB_RL_DECISION_COUNT ? decision_names[decision] : "?";
}

int web_rl_algo_parse(const char *name) {
    for (int i = 0; i < WEB_RL_ALGO_COUNT; i++)
        if (strcmp(name, algo_names[i]) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Integer helpers.                                                         */

/* a * b < c * d for non-negative 64-bit operands, exactly: the products are
 * formed in 128 bits from 32-bit halves, since C11 has no wider type. */
static void mul_wide(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

static bool mul_less(int64_t a, int64_t b, int64_t c, int64_t d) {
    uint64_t h1, l1, h2, l2;
    mul_wide((uint64_t)a, (uint64_t)b, &h1, &l1);
    mul_wide((uint64_t)c, (uint64_t)d, &h2, &l2);
    return h1 < h2 || (h1 == h2 && l1 < l2);
}

/* ceil(a / b) for a >= 0, b > 0. */
static int64_t ceil_div(int64_t a, int64_t b) { return a / b + (a % b != 0); }

/* The margin in millionths, rounded to nearest (the margin is >= 0). */
static int64_t margin_ppm(const web_rl_cfg *c) { return (int64_t)(c->soft_margin * 1e6 + 0.5); }

/* n (1 + m), rounded down, with m in millionths. */
static int64_t scale_up(int64_t n, int64_t ppm) { return n + n * ppm / 1000000; }

/* The largest power of ten up to 10^18 with (places + 2) U <= 9e18. */
static int64_t unit_for(int64_t places) {
    int64_t u = 1000000000000000000;
    while (u > 9000000000000000000 / (places + 2))
        u /= 10;
    return u;
}

/* Derives the base (soft false) or soft instance's parameters. */
static void derive(const web_rl_cfg *c, bool soft, params *p) {
    memset(p, 0, sizeof *p);
    p->algo = c->algo;
    int64_t ppm = soft ? margin_ppm(c) : 0;
    p->limit = scale_up(c->limit, ppm);
    p->window = c->window;
    if (c->algo < WEB_RL_TOKEN)
        return;
    p->tick = c->tick;
    p->queue = c->queue;
    p->burst = c->algo == WEB_RL_LEAKY_QUEUE ? c->queue + 1 : scale_up(c->burst, ppm);
    p->unit = unit_for(p->burst);
    /* U >= 10^12 under the caps, so U / 10^9 is a whole power of ten and
     * the product below is rounded once, the same way by every IEEE-754
     * compiler. */
    double rate = c->rate_per_s;
    if (soft)
        rate = rate * (double)(1000000 + ppm) / 1e6;
    p->per_ns = (int64_t)(rate * (double)(p->unit / 1000000000) + 0.5);
    if (p->per_ns < 1)
        p->per_ns = 1;
    p->cap = p->burst * p->unit;
    if (p->tick > 0)
        p->gain = p->per_ns > p->cap / p->tick ? p->cap : p->tick * p->per_ns;
    p->t_ns = p->unit / p->per_ns;
    p->t_frac = p->unit % p->per_ns;
}

/* ------------------------------------------------------------------------ */
/* Fixed window.  a = window index, b = admitted in it.                     */

static void fixed_peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    int64_t k = now / p->window;
    if (!s->started || k != s->a) {
        s->a = k;
        s->b = 0;
        s->started = true;
    }
    v->ok = s->b < p->limit;
    v->when = v->ok ? now : (k + 1) * p->window;
}

/* ------------------------------------------------------------------------ */
/* Sliding log.  a = next write position (the oldest entry once full), b =
 * entries, ring = the last `limit` admitted times in order.                */

static void log_peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    if (s->b < p->limit) {
        v->ok = true;
        v->when = now;
        return;
    }
    int64_t oldest = s->ring[s->a];
    v->ok = oldest <= now - p->window;
    v->when = v->ok ? now : oldest + p->window;
}

static void log_take(const params *p, web_rl_part *s, sim_time now) {
    if (!s->has_ring) {
        s->ring = sim_calloc((size_t)p->limit, sizeof *s->ring);
        s->has_ring = true;
    }
    s->ring[s->a] = now;
    s->a = s->a + 1 == p->limit ? 0 : s->a + 1;
    if (s->b < p->limit)
        s->b++;
}

/* ------------------------------------------------------------------------ */
/* Sliding counter.  a = window index, b = cur, c = prev.                   */

/* Whether a request e ns into a window whose counts are (prev, cur) is
 * admitted: prev (W - e) + cur W < limit W. */
static bool counter_ok(int64_t prev, int64_t cur, int64_t limit, sim_time w, sim_time e) {
    return cur < limit && mul_less(prev, w - e, limit - cur, w);
}

/* The smallest e in [lo, w) at which counter_ok holds, or -1.  The
 * estimate only falls as e grows, so a binary search finds it. */
static sim_time counter_first(int64_t prev, int64_t cur, int64_t limit, sim_time w, sim_time lo) {
    if (lo >= w || !counter_ok(prev, cur, limit, w, w - 1))
        return -1;
    sim_time hi = w - 1;
    while (lo < hi) {
        sim_time mid = lo + (hi - lo) / 2;
        if (counter_ok(prev, cur, limit, w, mid))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void counter_peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    sim_time w = p->window;
    int64_t k = now / w;
    if (!s->started || k > s->a + 1) {
        s->a = k;
        s->b = s->c = 0;
        s->started = true;
    } else if (k == s->a + 1) {
        s->a = k;
        s->c = s->b;
        s->b = 0;
    }
    sim_time e = now - k * w;
    v->ok = counter_ok(s->c, s->b, p->limit, w, e);
    if (v->ok) {
        v->when = now;
        return;
    }
    /* Later in this window, else in the next one (whose prev is this
     * window's cur), else the one after, where both counts are 0. */
    sim_time f = counter_first(s->c, s->b, p->limit, w, e + 1);
    if (f >= 0) {
        v->when = k * w + f;
        return;
    }
    f = counter_first(s->b, 0, p->limit, w, 0);
    v->when = f >= 0 ? (k + 1) * w + f : (k + 2) * w;
}

/* ------------------------------------------------------------------------ */
/* Token bucket.  a = credit in units (U to a token), b = time of the last
 * refill (continuous) or index of the last tick seen.                      */

static void token_peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    if (!s->started) {
        s->a = p->cap;
        s->b = p->tick > 0 ? now / p->tick : now;
        s->started = true;
    } else if (p->tick == 0) {
        /* Full as soon as the elapsed time covers the deficit; otherwise
         * the product is below the deficit plus one nanosecond's gain. */
        int64_t dt = now - s->b;
        if (dt >= ceil_div(p->cap - s->a, p->per_ns))
            s->a = p->cap;
        else
            s->a += dt * p->per_ns;
        s->b = now;
    } else {
        int64_t k = now / p->tick, n = k - s->b;
        if (n >= ceil_div(p->cap - s->a, p->gain))
            s->a = p->cap;
        else
            s->a += n * p->gain;
        s->b = k;
    }
    v->ok = s->a >= p->unit;
    if (v->ok)
        v->when = now;
    else if (p->tick == 0)
        v->when = now + ceil_div(p->unit - s->a, p->per_ns);
    else
        v->when = (s->b + ceil_div(p->unit - s->a, p->gain)) * p->tick;
}

/* ------------------------------------------------------------------------ */
/* Leaky bucket as a meter (GCRA).  TAT = a + b / per_ns ns, 0 <= b <
 * per_ns.  Kept as a time, not a level: no refill step, which is what makes
 * it a distinct check on the token bucket.                                 */

static void meter_peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    if (!s->started || s->a < now) {
        s->a = now; /* TAT = max(TAT, now) */
        s->b = 0;
        s->started = true;
    }
    int64_t level = (s->a - now) * p->per_ns + s->b; /* (TAT - now) in units */
    int64_t tau = (p->burst - 1) * p->unit;
    v->ok = level <= tau;
    v->when = v->ok ? now : now + ceil_div(level - tau, p->per_ns);
}

static void meter_take(const params *p, web_rl_part *s) {
    s->a += p->t_ns;
    s->b += p->t_frac;
    if (s->b >= p->per_ns) {
        s->b -= p->per_ns;
        s->a++;
    }
}

/* ------------------------------------------------------------------------ */
/* Leaky bucket as a queue.  a + b / per_ns = release time of the last
 * request accepted; no list of the waiting ones is needed.  Each release
 * is r_i = max(a_i, r_(i-1) + T) for arrival a_i, so going back from the
 * last release the releases are exactly T apart until one that left at its
 * own arrival, which is <= now.  Hence the releases after now are last,
 * last - T, ..., and a new request would have ceil((last + T - now) / T)
 * releases at or before its own, itself included, all after now: it fits
 * iff that is at most `queue`.  The same count gives the Retry-After:
 * the first t with last + T - t <= queue T.                               */

static void queue_peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    v->ok = true;
    v->delayed = false;
    v->when = v->rel_ns = now;
    v->rel_frac = 0;
    if (!s->started)
        return;
    int64_t n_ns = s->a + p->t_ns, n_frac = s->b + p->t_frac; /* last + T */
    if (n_frac >= p->per_ns) {
        n_frac -= p->per_ns;
        n_ns++;
    }
    if (n_ns < now || (n_ns == now && n_frac == 0))
        return;                                        /* the server is free: out at once */
    int64_t ahead = (n_ns - now) * p->per_ns + n_frac; /* (last + T - now) in units */
    int64_t limit = p->queue * p->unit;
    if (ahead <= limit) {
        v->delayed = true;
        v->rel_ns = n_ns;
        v->rel_frac = n_frac;
        v->when = n_ns + (n_frac > 0);
        return;
    }
    v->ok = false;
    v->when = now + ceil_div(ahead - limit, p->per_ns);
}

/* ------------------------------------------------------------------------ */
/* Dispatch.                                                                */

static void peek(const params *p, web_rl_part *s, sim_time now, verdict *v) {
    v->delayed = false;
    switch (p->algo) {
    case WEB_RL_FIXED:
        fixed_peek(p, s, now, v);
        break;
    case WEB_RL_SLIDING_LOG:
        log_peek(p, s, now, v);
        break;
    case WEB_RL_SLIDING_COUNTER:
        counter_peek(p, s, now, v);
        break;
    case WEB_RL_TOKEN:
        token_peek(p, s, now, v);
        break;
    case WEB_RL_LEAKY_METER:
        meter_peek(p, s, now, v);
        break;
    default:
        queue_peek(p, s, now, v);
        break;
    }
}

/* Counts the request that peek (at now, just before) found admissible. */
static void take(const params *p, web_rl_part *s, sim_time now, const verdict *v) {
    switch (p->algo) {
    case WEB_RL_FIXED:
    case WEB_RL_SLIDING_COUNTER:
        s->b++;
        break;
    case WEB_RL_SLIDING_LOG:
        log_take(p, s, now);
        break;
    case WEB_RL_TOKEN:
        s->a -= p->unit;
        break;
    case WEB_RL_LEAKY_METER:
        meter_take(p, s);
        break;
    default:
        s->a = v->rel_ns;
        s->b = v->rel_frac;
        s->started = true;
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* The public calls.                                                        */

static bool rate_ok(double r) { return r >= WEB_RL_MIN_RATE && r <= WEB_RL_MAX_RATE; }

const char *web_rl_check(const web_rl_cfg *c) {
    if (c->algo < 0 || c->algo >= WEB_RL_ALGO_COUNT)
        return "algo: unknown algorithm; allowed: fixed, sliding_log, sliding_counter, token, "
               "leaky_meter, leaky_queue";
    /* Written as negations so that NaN fails them. */
    if (!(c->soft_margin >= 0 && c->soft_margin <= WEB_RL_MAX_MARGIN))
        return "soft_margin: must be a number from 0 to 4 (400 % over the limit)";
    if (c->grace < 0)
        return "grace: must be a duration >= 0";
    if (c->tick != 0 && c->algo != WEB_RL_TOKEN)
        return "tick: applies to algo token only; must be 0 here";
    switch (c->algo) {
    case WEB_RL_FIXED:
    case WEB_RL_SLIDING_LOG:
    case WEB_RL_SLIDING_COUNTER:
        if (c->window <= 0 || c->window > WEB_RL_MAX_WINDOW)
            return "window: must be > 0 and at most 1000000 s";
        if (c->limit < 1)
            return "limit: must be >= 1";
        if (c->algo == WEB_RL_SLIDING_LOG && c->limit > WEB_RL_MAX_LOG_LIMIT)
            return "limit: must be at most 1000000 for sliding_log (8 bytes per request kept)";
        if (c->limit > WEB_RL_MAX_LIMIT)
            return "limit: must be at most 1000000000";
        break;
    case WEB_RL_TOKEN:
    case WEB_RL_LEAKY_METER:
        if (!rate_ok(c->rate_per_s))
            return "rate_per_s: must be from 0.001 to 1e9 per second";
        if (c->burst < 1 || c->burst > WEB_RL_MAX_BURST)
            return "burst: must be from 1 to 1000000 (a bucket of 0 admits nothing)";
        if (c->tick < 0 || c->tick > WEB_RL_MAX_WINDOW)
            return "tick: must be 0 (continuous refill) or a duration up to 1000000 s";
        break;
    default:
        if (!rate_ok(c->rate_per_s))
            return "rate_per_s: must be from 0.001 to 1e9 per second";
        if (c->queue < 0 || c->queue > WEB_RL_MAX_QUEUE)
            return "queue: must be from 0 to 1000000 places";
        if (c->soft_margin != 0)
            return "soft_margin: must be 0 for leaky_queue (a shaper delays instead of flagging)";
        break;
    }
    /* A run over the limit ends at a request admitted with room for one
     * more, which a limit of one never leaves. */
    if (c->grace > 0) {
        int64_t ppm = margin_ppm(c);
        int64_t room = c->algo <= WEB_RL_SLIDING_COUNTER ? scale_up(c->limit, ppm)
                       : c->algo == WEB_RL_LEAKY_QUEUE   ? c->queue + 1
                                                         : scale_up(c->burst, ppm);
        if (room < 2)
            return "grace: needs a limit, burst or queue + 1 of at least 2 (with the margin)";
    }
    return NULL;
}

int web_rl_init(web_rl *st, const web_rl_cfg *c) {
    memset(st, 0, sizeof *st);
    return web_rl_check(c) == NULL ? 0 : -1;
}

_Static_assert(sizeof(web_rl) == 64, "a key's limiter state is one cache line");

void web_rl_fini(web_rl *st) {
    if (st->base.has_ring)
        sim_free(st->base.ring);
    if (st->soft && st->soft->has_ring)
        sim_free(st->soft->ring);
    sim_free(st->soft);
    memset(st, 0, sizeof *st);
}

int web_rl_decide(const web_rl_cfg *c, web_rl *st, sim_time now, sim_time *when) {
    SIM_ASSERT(now >= 0 && now >= st->last_now);
    st->last_now = now;
    bool margin = margin_ppm(c) > 0;
    params pb, ps;
    verdict vb, vs;
    derive(c, false, &pb);
    peek(&pb, &st->base, now, &vb);
    if (margin) {
        derive(c, true, &ps);
        if (!st->soft)
            st->soft = sim_calloc(1, sizeof *st->soft);
        peek(&ps, st->soft, now, &vs);
    } else {
        vs = vb;
    }
    int d;
    sim_time w;
    if (vs.ok) {
        if (margin)
            take(&ps, st->soft, now, &vs);
        if (vb.ok) {
            take(&pb, &st->base, now, &vb);
            d = vb.delayed ? WEB_RL_DELAY : WEB_RL_ALLOW;
        } else {
            d = WEB_RL_SOFT;
        }
        w = vb.when;
        /* The run ends only if the key is back within the limit with room
         * to spare: a backlogged key is admitted now and then, as credit
         * trickles back, and ending its run then would renew the grace
         * for ever.  Peeking again at the same time changes nothing. */
        verdict again;
        if (margin)
            peek(&ps, st->soft, now, &again);
        else
            peek(&pb, &st->base, now, &again);
        if (again.ok)
            st->in_run = false;
    } else {
        if (!st->in_run) {
            st->in_run = true;
            st->run_start = now;
        }
        d = now - st->run_start < c->grace ? WEB_RL_SOFT : WEB_RL_REJECT;
        w = vs.when;
    }
    if (when != NULL)
        *when = w;
    return d;
}
