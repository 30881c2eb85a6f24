/*
 * web_origin.h - the origin's resources (issue 12): every catalogue item of
 * every request class is a resource whose content changes over time.  A
 * resource has a content version (which is also its ETag: unique per
 * resource and version, as a strong validator must be), the time of its
 * last change, and from that a Last-Modified at the header's resolution
 * (one second by default, as HTTP dates are).  The simulator knows every
 * resource's true version at every moment, which is what lets the web
 * model's oracle say exactly when a client showed stale data.
 *
 * Changes come from two sources:
 *  - a Poisson process per resource at its class's rate (updates per
 *    second per resource; 0: never), and
 *  - scheduled changes (web_origin_change), for the bursts a lesson needs:
 *    two changes within one second, which If-Modified-Since cannot tell
 *    apart.
 *
 * Versions are computed lazily, on demand: resource r's k-th Poisson gap is
 * a pure function of (seed, r, k) (sim_mix64 to a uniform, then the
 * exponential's inverse), so a resource's history does not depend on who
 * asked about it before, or when.  A student who changes the clients'
 * caches changes who asks, not what the origin does.
 *
 * Resource ids: one id space over the classes, class c's items at
 * [first[c], first[c] + items[c]).
 *
 * Invariants (tests/test_web_origin.c):
 *  (1) web_origin_at(o, r, t) is a function of (seed, the class rates, the
 *      scheduled changes of r up to t, t) only; calls with t non-decreasing
 *      per resource (the model's clock) see versions that never go back.
 *  (2) version = the changes (Poisson and scheduled) at or before t; 0 if
 *      none, with changed_at 0 (the content as loaded at time 0).
 *  (3) last_modified = changed_at rounded down to the resolution; every
 *      version from tick_first to version has the same one.
 */
#ifndef DSIM_WEB_ORIGIN_H
#define DSIM_WEB_ORIGIN_H

#include "sim.h"

#define WEB_ORIGIN_MAX_CLASSES 8

/* One resource: 32 bytes. */
typedef struct web_res {
    sim_time changed_at; /* its last change at or before the last query */
    sim_time next_at;    /* its next Poisson change (INT64_MAX: none) */
    uint32_t version;    /* changes so far (the ETag) */
    uint32_t k;          /* Poisson changes so far */
    /* The first version with the current Last-Modified: a copy of version
     * v has the current Last-Modified iff v >= tick_first, which is how a
     * server answers If-Modified-Since without the client's date on the
     * wire (the date names the copy's version exactly as well). */
    uint32_t tick_first;
} web_res;

typedef struct web_origin {
    uint64_t seed;
    sim_time resolution; /* of Last-Modified, >= 1 ns */
    int n_classes;
    uint32_t first[WEB_ORIGIN_MAX_CLASSES + 1]; /* first[n_classes]: resources in all */
    double rate_per_s[WEB_ORIGIN_MAX_CLASSES];
    web_res *res;
} web_origin;

/* Sets up n_classes classes of items[c] resources each, changing at
 * rate_per_s[c] (>= 0) per resource; every resource starts at version 0,
 * changed at time 0.  The total must fit in 32 bits (the caller checks:
 * the scenario's limit).  Allocates 32 bytes per resource. */
void web_origin_init(web_origin *o, uint64_t seed, sim_time resolution, int n_classes,
                     const int64_t *items, const double *rate_per_s);
void web_origin_fini(web_origin *o);

static inline uint32_t web_origin_id(const web_origin *o, int cls, uint32_t item) {
    return o->first[cls] + item;
}
static inline uint32_t web_origin_count(const web_origin *o) { return o->first[o->n_classes]; }

/* Resource r as of now (its Poisson changes up to now applied).  now must
 * not go back for a resource.  Valid until the next call for r. */
const web_res *web_origin_at(web_origin *o, uint32_t r, sim_time now);

/* A hint for speed: starts fetching resource r's record.  Changes nothing. */
static inline void web_origin_prefetch(const web_origin *o, uint32_t r) {
    if (r < web_origin_count(o))
        __builtin_prefetch(&o->res[r]);
}

/* A scheduled change of resource r at `at` (the caller's clock, at a time
 * not before any earlier query of r): its Poisson changes up to `at` are
 * applied first, then this one. */
void web_origin_change(web_origin *o, uint32_t r, sim_time at);

/* Last-Modified for a change at t: t rounded down to the resolution. */
static inline sim_time web_origin_last_modified(const web_origin *o, sim_time t) {
    return t - t % o->resolution;
}

#endif
