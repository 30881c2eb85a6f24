/*
 * web_scale.c - the pool's changes over the run: the scale events of the
 * schedule, the autoscaler, and the measurement windows (world timers, which
 * no crash cancels).
 *
 * A scale-out puts idle servers into service (the lowest-numbered first, or
 * the one named); a scale-in takes servers out (the highest-numbered first,
 * or the one named), either draining (no new requests; the server finishes
 * what it holds, then its sessions migrate or are lost) or abruptly (what
 * it holds is lost at once).  Discovery is instant: every balancer's next
 * pick sees the change.
 *
 * At each event the users whose mapped server changes are counted for the
 * hash policies (hash_mod, consistent_hash): against the ideal, 1/(n+1) of
 * the users move when one server joins n under consistent hashing (all of
 * them onto the new server), and n/(n+1) under mod-N hashing.
 *
 * The autoscaler, every interval: utilisation u = busy worker-time /
 * (workers x interval) over the servers in service; it wants
 * ceil(n x u / target) servers within [min, max].  More: it boots idle
 * servers (in service after boot_time, paid from the start); fewer: it
 * drains the highest-numbered.  After an action it waits cooldown.
 */
#include "web_int.h"

#include <math.h>

static web_node *node_of(sim *s, const web_shared *p, uint32_t i) {
    return sim_node_state(s, web_server_node(p, i));
}

static uint32_t *map_all(web_shared *p) {
    uint32_t *m = sim_malloc((size_t)p->n_users * sizeof *m);
    for (int64_t u = 0; u < p->n_users; u++)
        m[u] = web_map_user(p, (uint32_t)u);
    return m;
}

static void take_out(sim *s, web_shared *p, uint32_t i, bool drain, bool migrate, uint32_t rec) {
    web_node *nd = node_of(s, p, i);
    nd->srv->migrate = migrate;
    nd->srv->scale_rec = rec;
    web_member_set(s, p, i, WEB_DRAINING);
    if (!drain)
        web_srv_reset(s, p, nd); /* abrupt: what it holds is lost now */
    web_srv_drain_check(s, p, nd);
}

static uint32_t find_idle(const web_shared *p) {
    for (uint32_t i = 0; i < (uint32_t)p->pool; i++)
        if (p->member[i] == WEB_IDLE)
            return i;
    return WEB_NOWHERE;
}

static uint32_t find_last_serving(const web_shared *p) {
    for (uint32_t i = (uint32_t)p->pool; i-- > 0;)
        if (p->member[i] == WEB_SERVING)
            return i;
    return WEB_NOWHERE;
}

/* A new row of scale.csv (users -1: remapping not counted). */
static uint32_t new_rec(sim *s, web_shared *p, int action, bool by_autoscaler) {
    web_oracle *o = p->oracle;
    if (o->n_recs == o->cap_recs) {
        o->cap_recs = o->cap_recs ? o->cap_recs * 2 : 8;
        o->recs = sim_realloc(o->recs, o->cap_recs * sizeof *o->recs);
    }
    uint32_t r = o->n_recs++;
    o->recs[r] = (web_scale_rec){.at = sim_time_now(s),
                                 .action = action,
                                 .before = p->n_in_service,
                                 .users = -1,
                                 .remapped = -1,
                                 .onto_new = -1,
                                 .autoscaler = by_autoscaler};
    return r;
}

static void apply_event(sim *s, web_shared *p, const web_scale_cfg *e) {
    web_oracle *o = p->oracle;
    bool hashed = p->policy == WEB_POL_HASH_MOD || p->policy == WEB_POL_CONSISTENT;
    uint32_t r = new_rec(s, p, e->action, false);
    web_scale_rec *rec = &o->recs[r];
    uint32_t *before = hashed ? map_all(p) : NULL;
    bool added[WEB_MAX_SERVERS] = {false};
    for (int64_t k = 0; k < e->count; k++) {
        uint32_t i = e->server_name               ? e->server
                     : e->action == WEB_SCALE_ADD ? find_idle(p)
                                                  : find_last_serving(p);
        if (i == WEB_NOWHERE)
            break; /* nothing idle (the autoscaler took it) or nothing left */
        if (e->action == WEB_SCALE_ADD) {
            if (p->member[i] != WEB_IDLE)
                break; /* named, and the autoscaler started it already */
            web_member_set(s, p, i, WEB_SERVING);
            added[i] = true;
        } else {
            if (p->member[i] != WEB_SERVING)
                break;
            take_out(s, p, i, e->drain, e->migrate, r);
        }
    }
    rec = &o->recs[r]; /* take_out may not grow recs, but keep it plain */
    rec->after = p->n_in_service;
    if (before) {
        uint32_t *after = map_all(p);
        rec->users = p->n_users;
        rec->remapped = rec->onto_new = 0;
        for (int64_t u = 0; u < p->n_users; u++)
            if (before[u] != after[u]) {
                rec->remapped++;
                rec->onto_new += after[u] != WEB_NOWHERE && added[after[u]];
            }
        sim_free(after);
        sim_free(before);
    }
}

static void window(sim *s, web_shared *p) {
    web_oracle *o = p->oracle;
    sim_time now = sim_time_now(s);
    double busy = 0, cap = 0;
    for (uint32_t i = 0; i < (uint32_t)p->pool; i++) {
        web_server *sv = node_of(s, p, i)->srv;
        web_srv_account(sv, now);
        if (p->member[i] == WEB_SERVING) {
            busy += sv->busy_area;
            cap += (double)sv->workers * (double)p->window;
        }
        sv->busy_area = 0;
    }
    sim_gauge_set(s, p->g_util, cap > 0 ? busy / cap : 0);
    /* A window with no answered request has no latency (a gap in the
     * chart, not a 0 that would read as fast). */
    sim_gauge_set(s, p->g_p99, o->win.n ? (double)web_hist_percentile(&o->win, 99) / 1e6 : NAN);
    sim_gauge_set(s, p->g_mean, o->win.n ? o->win.sum / (double)o->win.n / 1e6 : NAN);
    sim_gauge_set(s, p->g_sessions, (double)o->live);
    memset(&o->win, 0, sizeof o->win);
    web_oracle_window(p, now);
    if (now + p->window <= sim_duration(s))
        sim_world_timer_set(s, now + p->window, WEB_W_WINDOW, 0);
}

static void autoscale(sim *s, web_shared *p) {
    sim_time now = sim_time_now(s);
    double busy = 0, cap = 0;
    uint32_t booting = 0;
    for (uint32_t i = 0; i < (uint32_t)p->pool; i++) {
        web_server *sv = node_of(s, p, i)->srv;
        web_srv_account(sv, now);
        if (p->member[i] == WEB_SERVING) {
            busy += sv->busy_area_as;
            cap += (double)sv->workers * (double)p->as_interval;
        }
        booting += p->member[i] == WEB_BOOTING;
        sv->busy_area_as = 0;
    }
    if (now + p->as_interval <= sim_duration(s))
        sim_world_timer_set(s, now + p->as_interval, WEB_W_AUTOSCALE, 0);
    if (now < p->as_ready)
        return;
    uint32_t n = p->n_in_service;
    double util = cap > 0 ? busy / cap : 0;
    int64_t want = (int64_t)ceil((double)n * util / p->target_util);
    if (want < p->as_min)
        want = p->as_min;
    if (want > p->as_max)
        want = p->as_max;
    int64_t have = (int64_t)n + booting;
    if (want > have) {
        uint32_t r = new_rec(s, p, WEB_SCALE_ADD, true);
        for (int64_t k = have; k < want; k++) {
            uint32_t i = find_idle(p);
            if (i == WEB_NOWHERE)
                break;
            web_member_set(s, p, i, WEB_BOOTING);
            sim_world_timer_set(s, now + p->boot_time, WEB_W_BOOTED, i);
        }
        /* In service once booted: the row says how many will be. */
        p->oracle->recs[r].after = (uint32_t)want;
        p->as_ready = now + p->cooldown;
        p->as_actions++;
    } else if (want < (int64_t)n && booting == 0) {
        uint32_t r = new_rec(s, p, WEB_SCALE_REMOVE, true);
        for (int64_t k = want; k < (int64_t)n; k++) {
            uint32_t i = find_last_serving(p);
            if (i == WEB_NOWHERE)
                break;
            take_out(s, p, i, true, p->migrate_default, r);
        }
        p->oracle->recs[r].after = p->n_in_service;
        p->as_ready = now + p->cooldown;
        p->as_actions++;
    }
}

void web_scale_start(sim *s, web_shared *p) {
    for (int i = 0; i < p->n_scale; i++)
        sim_world_timer_set(s, p->scale[i].at, WEB_W_SCALE, (uint64_t)i);
    sim_world_timer_set(s, p->window, WEB_W_WINDOW, 0);
    if (p->autoscale)
        sim_world_timer_set(s, p->as_interval, WEB_W_AUTOSCALE, 0);
    for (int i = 0; i < p->n_load; i++)
        sim_world_timer_set(s, p->load_at[i], WEB_W_LOAD, (uint64_t)i);
    /* Scheduled changes of items: each entry's first; each sets its next. */
    for (int i = 0; i < p->n_changes; i++)
        sim_world_timer_set(s, p->changes[i].at, WEB_W_CHANGE, (uint64_t)i << 32);
}

/* Change j of scheduled entry i. */
static void change(sim *s, web_shared *p, uint64_t arg) {
    const web_change_cfg *e = &p->changes[arg >> 32];
    uint32_t j = (uint32_t)arg;
    sim_time now = sim_time_now(s);
    web_origin_change(&p->origin, web_res_of(p, e->cls, e->item), now);
    if ((int64_t)j + 1 < e->count && now + e->every <= sim_duration(s))
        sim_world_timer_set(s, now + e->every, WEB_W_CHANGE, (arg & ~0xffffffffull) | (j + 1));
}

void web_scale_on_world_timer(sim *s, web_shared *p, uint32_t kind, uint64_t arg) {
    switch (kind) {
    case WEB_W_SCALE:
        apply_event(s, p, &p->scale[arg]);
        break;
    case WEB_W_WINDOW:
        window(s, p);
        break;
    case WEB_W_AUTOSCALE:
        autoscale(s, p);
        break;
    case WEB_W_LOAD:
        p->factor = p->load_factor[arg];
        break;
    case WEB_W_CHANGE:
        change(s, p, arg);
        break;
    case WEB_W_BOOTED:
        if (p->member[arg] == WEB_BOOTING)
            web_member_set(s, p, (uint32_t)arg, WEB_SERVING);
        break;
    default:
        break;
    }
}
