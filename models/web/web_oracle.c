/*
 * web_oracle.c - the truth about sessions, which no server or balancer
 * reads for a decision: where each user's session lives, and what became
 * of it.
 *
 * Invariants
 *  (1) A user has at most one live session, held by one holder: a server
 *      (stateful) or the store the user hashes to (stateless).  A copy left
 *      on a server the user no longer uses is dead: the holder's record
 *      moved on, so it is never served again.
 *  (2) A holder's life number grows when it loses its memory (a crash of a
 *      server or of a volatile store, an abrupt removal, the end of a drain
 *      without migration); a session is live only while its epoch equals
 *      its holder's life.  Wiping is O(1) per session held: the count is
 *      kept per holder.
 *  (3) live == sum of live_on over holders, at every moment.
 *
 * It also keeps the figures no node could know: each user's counts, the
 * running counts at every window's end, and the watched limiter key's
 * admissions in its trailing span.
 */
#include "web_int.h"

void web_oracle_init(web_shared *p) {
    web_oracle *o = sim_calloc(1, sizeof *o);
    p->oracle = o;
    if (p->n_users <= WEB_PER_CLIENT_MAX)
        o->ustat = sim_calloc((size_t)p->n_users, sizeof *o->ustat);
    if (p->limiting) {
        bool windows = p->rl.algo == WEB_RL_FIXED || p->rl.algo == WEB_RL_SLIDING_LOG ||
                       p->rl.algo == WEB_RL_SLIDING_COUNTER;
        o->watch.span = windows ? p->rl.window : SIM_S;
        /* The limit per span: the window algorithms' limit, the buckets'
         * and the shaper's rate over 1 s. */
        o->watch.nominal = windows ? (double)p->rl.limit : p->rl.rate_per_s;
    }
    if (p->state == WEB_STATE_NONE)
        return;
    o->home = sim_malloc((size_t)p->n_users * sizeof *o->home);
    o->epoch = sim_calloc((size_t)p->n_users, sizeof *o->epoch);
    for (int64_t u = 0; u < p->n_users; u++)
        o->home[u] = WEB_NOWHERE;
}

void web_oracle_fini(web_shared *p) {
    web_oracle *o = p->oracle;
    if (!o)
        return;
    sim_free(o->home);
    sim_free(o->epoch);
    sim_free(o->recs);
    sim_free(o->ustat);
    sim_free(o->rows);
    sim_free(o->watch.t);
    sim_free(o);
    p->oracle = NULL;
}

bool web_oracle_holds(const web_shared *p, uint32_t u, uint32_t h) {
    const web_oracle *o = p->oracle;
    return o->home[u] == h && o->epoch[u] == o->life[h];
}

bool web_oracle_has(const web_shared *p, uint32_t u) {
    const web_oracle *o = p->oracle;
    uint32_t h = o->home[u];
    return h != WEB_NOWHERE && o->epoch[u] == o->life[h];
}

void web_oracle_drop(web_shared *p, uint32_t u) {
    web_oracle *o = p->oracle;
    if (web_oracle_has(p, u)) {
        o->live_on[o->home[u]]--;
        o->live--;
    }
    o->home[u] = WEB_NOWHERE;
}

void web_oracle_put(web_shared *p, uint32_t u, uint32_t h) {
    web_oracle *o = p->oracle;
    if (web_oracle_holds(p, u, h))
        return;
    web_oracle_drop(p, u);
    o->home[u] = h;
    o->epoch[u] = o->life[h];
    if (++o->live_on[h] > o->live_max[h])
        o->live_max[h] = o->live_on[h];
    if (++o->live > o->live_peak)
        o->live_peak = o->live;
}

int64_t web_oracle_wipe(web_shared *p, uint32_t h) {
    web_oracle *o = p->oracle;
    int64_t n = o->live_on[h];
    o->life[h]++;
    o->live -= n;
    o->live_on[h] = 0;
    return n;
}

bool web_oracle_shown(web_shared *p, uint32_t r, uint32_t v, sim_time now, int cause) {
    web_oracle *o = p->oracle;
    o->shown++;
    const web_res *e = web_origin_at(&p->origin, r, now);
    if (e->version <= v)
        return false;
    o->stale++;
    o->stale_by[cause]++;
    sim_count(p->s, p->c_stale, 1);
    return true;
}

/* Drops the admissions before the span that ends at t. */
static void watch_trim(web_watch *w, sim_time t) {
    while (w->n > 0 && w->t[w->head] <= t - w->span) {
        w->head = (w->head + 1) % w->cap;
        w->n--;
    }
}

void web_oracle_admitted(web_shared *p, uint32_t k, sim_time t) {
    web_watch *w = &p->oracle->watch;
    if (k != 0 || w->span == 0)
        return;
    /* Times go in non-decreasing (a shaper's release can be ahead of a
     * later decision's now: that one counts at the release time). */
    if (t < w->last)
        t = w->last;
    w->last = t;
    watch_trim(w, t);
    if (w->n == WEB_WATCH_MAX) {
        w->saturated = true;
    } else {
        if (w->n == w->cap) {
            /* Grow the ring, unwrapping it. */
            uint32_t cap = w->cap ? w->cap * 2 : 64;
            sim_time *nt = sim_malloc((size_t)cap * sizeof *nt);
            for (uint32_t i = 0; i < w->n; i++)
                nt[i] = w->t[(w->head + i) % w->cap];
            sim_free(w->t);
            w->t = nt;
            w->cap = cap;
            w->head = 0;
        }
        w->t[(w->head + w->n) % w->cap] = t;
        w->n++;
    }
    if (w->n > w->max_win)
        w->max_win = w->n;
    if (w->n > w->max_all)
        w->max_all = w->n;
}

void web_oracle_window(web_shared *p, sim_time now) {
    web_oracle *o = p->oracle;
    if (!p->catalogue && !p->limiting)
        return;
    if (o->n_rows == WEB_MAX_WIN_ROWS)
        return; /* the report says the file stops there */
    if (o->n_rows == o->cap_rows) {
        o->cap_rows = o->cap_rows ? o->cap_rows * 2 : 64;
        o->rows = sim_realloc(o->rows, (size_t)o->cap_rows * sizeof *o->rows);
    }
    sim *s = p->s;
    web_win_row *w = &o->rows[o->n_rows++];
    *w = (web_win_row){.at = now,
                       .requests = o->requests,
                       .hits = o->hits,
                       .not_modified = o->not_modified,
                       .ok = o->ends[WEB_END_OK],
                       .limited_429 = o->limited_429,
                       .stale = o->stale,
                       .swr_served = o->swr_served,
                       .swr_sent = o->swr_sent,
                       .work_full_ns = o->work_full_ns,
                       .work_304_ns = o->work_304_ns,
                       .watch_max = o->watch.max_win};
    if (p->limiting) {
        w->allowed = sim_counter_value(s, p->c_rl_allowed);
        w->soft = sim_counter_value(s, p->c_rl_soft);
        w->delayed = sim_counter_value(s, p->c_rl_delayed);
        w->rejected = sim_counter_value(s, p->c_rl_rejected);
    }
    /* The next window starts with what the trailing span holds now. */
    if (o->watch.span > 0 && now >= o->watch.last)
        watch_trim(&o->watch, now);
    o->watch.max_win = o->watch.n;
}
