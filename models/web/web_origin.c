/*
 * web_origin.c - the origin's resources and their versions (see
 * web_origin.h for the model and its invariants).
 *
 * A resource's Poisson gaps are drawn from a counter-based generator, not
 * a stream: gap k of resource r is -ln(u) / rate with u a function of
 * (seed, r, k).  That costs one sim_mix64 pair and a log per change, only
 * when someone looks, and makes every resource's history independent of
 * the order of the questions (invariant 1).
 */
#include "web_origin.h"

#include <math.h>

void web_origin_init(web_origin *o, uint64_t seed, sim_time resolution, int n_classes,
                     const int64_t *items, const double *rate_per_s) {
    SIM_ASSERT(n_classes >= 1 && n_classes <= WEB_ORIGIN_MAX_CLASSES && resolution >= 1);
    *o = (web_origin){.seed = seed, .resolution = resolution, .n_classes = n_classes};
    uint64_t n = 0;
    for (int c = 0; c < n_classes; c++) {
        SIM_ASSERT(items[c] >= 0 && rate_per_s[c] >= 0);
        o->first[c] = (uint32_t)n;
        o->rate_per_s[c] = rate_per_s[c];
        n += (uint64_t)items[c];
        SIM_ASSERT(n <= UINT32_MAX);
    }
    o->first[n_classes] = (uint32_t)n;
    /* next_at 0: not drawn yet (a drawn gap is at least 1 ns). */
    o->res = n ? sim_table_calloc((size_t)n, sizeof *o->res) : NULL;
}

void web_origin_fini(web_origin *o) {
    if (o->res)
        sim_table_free(o->res, web_origin_count(o), sizeof *o->res);
    o->res = NULL;
}

static int class_of(const web_origin *o, uint32_t r) {
    int c = 0;
    while (c + 1 < o->n_classes && r >= o->first[c + 1])
        c++;
    return c;
}

/* Gap k of resource r, in ns (at least 1), or INT64_MAX at rate 0. */
static sim_time gap(const web_origin *o, uint32_t r, uint32_t k) {
    double rate = o->rate_per_s[class_of(o, r)];
    if (!(rate > 0))
        return INT64_MAX;
    uint64_t z = sim_mix64(o->seed ^ sim_mix64(((uint64_t)r << 32) | k));
    double u = ((double)(z >> 11) + 0.5) * 0x1p-53; /* in (0, 1) */
    double ns = -log(u) / rate * 1e9;
    if (!(ns < 9e18))
        return INT64_MAX;
    sim_time g = (sim_time)(ns + 0.5);
    return g < 1 ? 1 : g;
}

/* Applies r's Poisson changes at or before t. */
/* The next version, changed at t. */
static void bump(const web_origin *o, web_res *e, sim_time t) {
    if (t / o->resolution != e->changed_at / o->resolution)
        e->tick_first = e->version + 1;
    e->changed_at = t;
    e->version++;
}

static void advance(web_origin *o, web_res *e, uint32_t r, sim_time t) {
    if (e->next_at == 0)
        e->next_at = gap(o, r, 0);
    while (e->next_at <= t) {
        bump(o, e, e->next_at);
        e->k++;
        sim_time g = gap(o, r, e->k);
        e->next_at = g == INT64_MAX || e->next_at > INT64_MAX - g ? INT64_MAX : e->next_at + g;
    }
}

const web_res *web_origin_at(web_origin *o, uint32_t r, sim_time now) {
    SIM_ASSERT(r < web_origin_count(o));
    web_res *e = &o->res[r];
    advance(o, e, r, now);
    return e;
}

void web_origin_change(web_origin *o, uint32_t r, sim_time at) {
    SIM_ASSERT(r < web_origin_count(o));
    web_res *e = &o->res[r];
    advance(o, e, r, at);
    bump(o, e, at);
}
