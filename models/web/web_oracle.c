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
 */
#include "web_int.h"

void web_oracle_init(web_shared *p) {
    web_oracle *o = sim_calloc(1, sizeof *o);
    p->oracle = o;
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

void web_oracle_shown(web_shared *p, uint32_t r, uint32_t v, sim_time now, int cause) {
    web_oracle *o = p->oracle;
    o->shown++;
    const web_res *e = web_origin_at(&p->origin, r, now);
    if (e->version > v) {
        o->stale++;
        o->stale_by[cause]++;
        sim_count(p->s, p->c_stale, 1);
    }
}
