/*
 * web_client.c - users: sessions that begin with a login and end after
 * session_length (then the user is away a while and logs in anew),
 * requests of weighted classes over a Zipf catalogue, sent open-loop (at
 * think-time intervals regardless of answers) or closed-loop (think time
 * after each answer), and the client's end-to-end timeout.
 *
 * Messages: a client sends `request` to the user's balancer and takes the
 * `reply`.  A user whose request times out moves to the next balancer
 * (clients fail over, as a resolver's next address).  A background
 * revalidation (stale-while-revalidate) is a request of the client's own:
 * no user waits for it, and it is counted apart (swr_*), not in (1).
 *
 * Invariants
 *  (1) Every request a user issues ends exactly once, as the client sees
 *      it: answered (ok, or a cause) or timed out; web.requests equals the
 *      sum of the end counters plus those in flight.
 *  (2) The first request of every session carries the login flag; the
 *      oracle's session is dropped at logout, never by the client's own
 *      state (its crash loses only what it was waiting for).
 *  (3) Users are spread over the client nodes: global user = local index x
 *      clients + node index, so each node's draws are its own stream's.
 *
 * Pooled arrivals (users.arrivals "pooled"; open loop, exponential think
 * time).  n users each sending a Poisson stream of rate l are, in
 * distribution, one Poisson stream of rate n l whose every arrival belongs
 * to a user drawn uniformly (superposition), so a client node keeps one
 * timer chain for its users instead of one pending timer each.  Each link
 * of the chain draws its gap and its user together, so the prefetch hook
 * sees the user as with per-user timers.  A user away after a logout
 * keeps its own timer for its return (it logs in then, as with per-user
 * timers), and arrivals drawn for it meanwhile are dropped (thinning: by
 * memorylessness its next request after the return is again a think time
 * away).  Abusive users think faster, so they keep their own timers: they
 * are the node's first locals (global index below the abusive count), and
 * the pool is the rest.  A load factor applies from the chain's next draw.
 */
#include "web_int.h"

#include <math.h>

static uint32_t global_user(const web_shared *p, const web_node *nd, uint32_t local) {
    return local * (uint32_t)p->n_clients + nd->index;
}

static bool abusive(const web_shared *p, const web_node *nd, uint32_t local) {
    return p->n_abusive > 0 && (int64_t)global_user(p, nd, local) < p->n_abusive;
}

/* A drawn gap (ns) as a timer's delay, rounded and capped. */
static sim_time gap_ns(double t) { return t >= 9e18 ? (sim_time)9e18 : (sim_time)(t + 0.5); }

/* A user's next request a think time from now, on the user's own timer;
 * nothing for a pooled user (the node's chain brings its requests). */
static void next_request(sim_ctx *ctx, web_shared *p, const web_node *nd, uint32_t local) {
    if (local >= nd->cl->pool_first)
        return;
    double t = sim_dist_sample(&p->think, sim_node_rng(ctx)) / p->factor;
    if (abusive(p, nd, local))
        t /= p->abusive_factor;
    sim_timer_set(ctx, gap_ns(t), WEB_T_USER, local);
}

/* The pool's next arrival: the gap to it, a think time divided by the
 * pool's users (an exponential's minimum), and whose it is. */
static void next_arrival(sim_ctx *ctx, web_shared *p, const web_node *nd) {
    const web_client *cl = nd->cl;
    uint32_t n = cl->n_users - cl->pool_first;
    if (n == 0)
        return;
    sim_rng *rng = sim_node_rng(ctx);
    double t = sim_dist_sample(&p->think, rng) / p->factor / n;
    uint32_t local = cl->pool_first + sim_rng_below(rng, n);
    sim_timer_set(ctx, gap_ns(t), WEB_T_ARRIVAL, local);
}

static void arm_users(sim_ctx *ctx, web_shared *p, const web_node *nd) {
    for (uint32_t i = 0; i < nd->cl->pool_first; i++) /* pool_first <= n_users */
        next_request(ctx, p, nd, i);
    if (nd->cl->pool_first < nd->cl->n_users)
        next_arrival(ctx, p, nd);
}

/* The node's first pooled user: locals below it are abusive (global
 * index local x clients + index below the abusive count) and keep their
 * own timers; n_users when arrivals are per user. */
static uint32_t pool_first(const web_shared *p, const web_node *nd, uint32_t n) {
    if (p->arrivals != WEB_ARRIVALS_POOLED)
        return n;
    if (p->n_abusive <= (int64_t)nd->index)
        return 0;
    uint64_t a =
        ((uint64_t)p->n_abusive - nd->index + (uint64_t)p->n_clients - 1) / (uint64_t)p->n_clients;
    return a < n ? (uint32_t)a : n;
}

/* The copies a user's cache is sized for at its first insert: the
 * requests a user makes in the run (duration / mean think time), at most
 * the catalogue's items and 1024 (a longer run grows from there); the
 * cache rounds it up to a size class of the arena.  With a pool of its own
 * a cache's entries are sized by it too, and sizing for two standard
 * deviations more, so that fewer caches outgrow their first table, took
 * more memory in the benchmark, not less.  With the node's shared pool
 * only the chain heads are (4 bytes each), and a cache that outgrows them
 * rehashes every copy it holds (a cache miss each): then it is sized for
 * four standard deviations more (the count is about Poisson), which in
 * the benchmark (16 requests a user) takes less memory than the heads
 * outgrown and far fewer rehashes.  Only the tables' layout depends on
 * it. */
static uint32_t initial_copies(const web_shared *p, bool shared) {
    double think = sim_dist_mean(&p->think), items = 0;
    for (int i = 0; i < p->n_classes; i++)
        if (p->classes[i].cacheable)
            items += (double)p->classes[i].items;
    double asks = think > 0 && isfinite(think) ? (double)sim_duration(p->s) / think : 1024;
    if (shared)
        asks += 4 * sqrt(asks);
    double want = fmin(fmin(asks, items), 1024);
    return want > 4 ? (uint32_t)ceil(want) : 4;
}

void web_client_init(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    web_client *cl = sim_calloc(1, sizeof *cl);
    nd->cl = cl;
    uint32_t n = (uint32_t)(p->n_users / p->n_clients);
    if (nd->index < (uint32_t)(p->n_users % p->n_clients))
        n++;
    cl->n_users = n;
    cl->pool_first = pool_first(p, nd, n);
    cl->users = sim_table_calloc(n, sizeof *cl->users);
    for (uint32_t i = 0; i < n; i++) {
        cl->users[i].pending = UINT32_MAX;
        cl->users[i].lb = (uint16_t)(global_user(p, nd, i) % (uint32_t)p->n_lbs);
    }
    web_pool_init(&cl->reqs, sizeof(web_creq), (uint32_t)p->client_max_outstanding);
    if (p->caching) {
        /* A browser's cache per user (an empty one allocates nothing),
         * their tables in the node's arena: huge pages, no headers. */
        cl->arena = sim_arena_create();
        _Static_assert(_Alignof(web_cache) <= 64, "a table is 64-aligned");
        cl->caches = sim_table_calloc(n, sizeof *cl->caches);
        /* A shared pool where each cache's entries are bounded: no cache
         * then outgrows a pool of its own (web_cache.h). */
        bool shared = p->cache_policy != WEB_CACHE_LFU && p->cache_entries > 0 &&
                      web_cache_slab_init(&cl->slab, (uint64_t)n * (uint64_t)p->cache_entries);
        uint32_t first = initial_copies(p, shared);
        for (uint32_t i = 0; i < n; i++) {
            web_cache_init(&cl->caches[i], (web_cache_policy)p->cache_policy,
                           (uint32_t)p->cache_entries, (uint64_t)p->cache_bytes);
            web_cache_use_arena(&cl->caches[i], cl->arena);
            if (shared)
                web_cache_use_slab(&cl->caches[i], &cl->slab);
            web_cache_reserve_at_first_insert(&cl->caches[i], first);
        }
    }
    arm_users(ctx, p, nd);
    sim_timer_set(ctx, p->client_timeout / WEB_SCAN_DIVISOR, WEB_T_CLIENT_SCAN, 0);
}

void web_client_fini(web_node *nd) {
    web_client *cl = nd->cl;
    if (!cl)
        return;
    web_pool_fini(&cl->reqs);
    sim_set_fini(&cl->revalidating);
    if (cl->caches) {
        /* The shared pool first: the caches then need not give their
         * entries back one by one. */
        web_cache_slab_fini(&cl->slab);
        for (uint32_t i = 0; i < cl->n_users; i++)
            web_cache_fini(&cl->caches[i]);
        sim_table_free(cl->caches, cl->n_users, sizeof *cl->caches);
        sim_arena_destroy(cl->arena);
    }
    sim_table_free(cl->users, cl->n_users, sizeof *cl->users);
    sim_free(cl);
    nd->cl = NULL;
}

static int pick_class(const web_shared *p, sim_rng *rng) {
    if (p->n_classes == 1)
        return 0;
    double x = sim_rng_double(rng);
    for (int i = 0; i < p->n_classes - 1; i++)
        if (x < p->classes[i].cum)
            return i;
    return p->n_classes - 1;
}

/* Request q (handle h) goes to the user's balancer: first sent, or again
 * after a 429. */
static void send_request(sim_ctx *ctx, web_node *nd, const web_creq *q, uint32_t h) {
    web_shared *p = web_shared_of(ctx);
    web_user *us = &nd->cl->users[q->local];
    web_wire w = {.user = global_user(p, nd, q->local),
                  .tag = h,
                  .item = q->item,
                  .cls = q->cls,
                  .flags = (uint8_t)((q->login ? WEB_F_LOGIN : 0) | q->cond),
                  .attempt = q->vheld};
    if (p->sticky == WEB_STICKY_COOKIE && us->cookie) {
        w.flags |= WEB_F_COOKIE;
        w.aux = us->cookie;
    }
    web_send(ctx, p->lb_first + us->lb, WEB_MSG_REQUEST, &w, p->classes[q->cls].request_bytes);
}

/* The conditional headers a revalidation of class k sends. */
static uint8_t validator_flags(const web_class_cfg *k) {
    return k->validators == WEB_VAL_NONE   ? 0
           : k->validators == WEB_VAL_ETAG ? WEB_F_INM
           : k->validators == WEB_VAL_LM   ? WEB_F_IMS
                                           : WEB_F_INM | WEB_F_IMS;
}

/* The key of user local's copy of resource r in web_client.revalidating
 * (nonzero, as the set needs). */
static uint64_t bg_key(uint32_t local, uint32_t r) { return ((uint64_t)local << 32 | r) + 1; }

/* Stale-while-revalidate (RFC 5861): the user's expired copy e of item
 * (resource r) answered at once, and the client revalidates it in the
 * background, with the copy's validators (none: a full fetch), unless a
 * revalidation of that copy is already on its way. */
static void revalidate_in_background(sim_ctx *ctx, web_node *nd, uint32_t local, int cls,
                                     uint32_t item, uint32_t r, const web_cache_entry *e) {
    web_shared *p = web_shared_of(ctx);
    web_client *cl = nd->cl;
    uint64_t key = bg_key(local, r);
    if (sim_set_has(&cl->revalidating, key))
        return;
    uint32_t h;
    web_creq *q = web_pool_new(&cl->reqs, &h);
    if (!q) {
        p->oracle->swr_failed++; /* never sent: counted as ended */
        p->oracle->swr_sent++;
        return;
    }
    q->start = sim_now(ctx);
    q->local = local;
    q->item = item;
    q->cls = (uint16_t)cls;
    q->background = 1;
    q->cond = validator_flags(&p->classes[cls]);
    q->vheld = q->cond ? e->version : 0;
    sim_set_add(&cl->revalidating, key);
    p->oracle->swr_sent++;
    p->oracle->swr_in_flight++;
    send_request(ctx, nd, q, h);
}

/* A background revalidation ended as `end` (its answer, if ok, already
 * stored): no user waited, so only its own counts change. */
static void end_background(web_node *nd, web_shared *p, web_creq *q, int end) {
    if (end != WEB_END_OK)
        p->oracle->swr_failed++;
    p->oracle->swr_in_flight--;
    bool had =
        sim_set_remove(&nd->cl->revalidating, bg_key(q->local, web_res_of(p, q->cls, q->item)));
    SIM_ASSERT(had);
    (void)had;
    web_pool_release(&nd->cl->reqs, q);
}

/* The request leaves the client.  A client-side cache answers here in
 * part 2, before any balancer sees the request. */
static void issue(sim_ctx *ctx, web_node *nd, uint32_t local) {
    web_shared *p = web_shared_of(ctx);
    sim *s = sim_of(ctx);
    web_client *cl = nd->cl;
    web_user *us = &cl->users[local];
    /* The user's cache is needed next: start its line on its way while
     * the user's record is read (two misses at once, not one after the
     * other).  A hint: no result depends on it. */
    if (cl->caches)
        __builtin_prefetch(&cl->caches[local]);
    uint32_t user = global_user(p, nd, local);
    sim_time now = sim_now(ctx);
    sim_rng *rng = sim_node_rng(ctx);
    if (us->in_session && us->session_end > 0 && now >= us->session_end) {
        /* Logout: the session ends; the user may be away a while. */
        us->in_session = 0;
        if (p->oracle->home)
            web_oracle_drop(p, user);
        p->oracle->logouts++;
        sim_time away = sim_dist_sample_time(&p->away, rng);
        if (away > 0) {
            /* Back (and logging in) on its own timer; a pooled user's
             * arrivals until then are dropped. */
            us->away = local >= cl->pool_first;
            sim_timer_set(ctx, away, WEB_T_USER, local);
            return;
        }
    }
    bool login = false;
    if (!us->in_session) {
        us->in_session = 1;
        login = true;
        sim_time len = sim_dist_sample_time(&p->session_length, rng);
        us->session_end = len > 0 ? now + len : 0;
        us->cookie = 0;
    }
    int cls = pick_class(p, rng);
    const web_class_cfg *k = &p->classes[cls];
    uint32_t item = k->items > 0 ? (uint32_t)sim_zipf_sample(&k->catalogue, rng) : 0;
    p->oracle->requests++;
    WEB_USTAT(p, user, requests);
    sim_count(s, p->c_requests, 1);
    uint8_t cond = 0;
    uint32_t vheld = 0;
    if (k->cacheable && !login) {
        /* The browser's cache first (a login always goes to the server:
         * it opens the session). */
        uint32_t r = web_res_of(p, cls, item);
        const web_cache_entry *e = web_cache_lookup(&cl->caches[local], r);
        bool fresh = e && web_cache_fresh(e, now);
        if (fresh || (e && k->swr > 0 && now - e->expires < k->swr)) {
            /* A fresh copy answers, or an expired one within
             * stale-while-revalidate (which the client then revalidates
             * behind the user's back): a hit, the user waits for nothing,
             * and neither the limiter nor a server sees this request.
             * Only a fresh hit saves its bytes here; a background check
             * counts its own. */
            p->oracle->hits++;
            WEB_USTAT(p, user, hits);
            sim_count(s, p->c_hits, 1);
            if (fresh)
                p->oracle->bytes_saved += (double)(k->request_bytes + k->response_bytes);
            else
                p->oracle->swr_served++;
            if (web_oracle_shown(p, r, e->version, now, fresh ? WEB_STALE_MAX_AGE : WEB_STALE_SWR))
                WEB_USTAT(p, user, stale);
            if (!fresh)
                revalidate_in_background(ctx, nd, local, cls, item, r, e);
            next_request(ctx, p, nd, local);
            return;
        }
        if (e && k->validators != WEB_VAL_NONE) {
            cond = validator_flags(k);
            vheld = e->version;
            p->oracle->revalidations++;
            WEB_USTAT(p, user, revalidations);
            sim_count(s, p->c_revalidations, 1);
        }
    }
    uint32_t h;
    web_creq *q = web_pool_new(&cl->reqs, &h);
    if (!q) {
        p->oracle->ends[WEB_END_OVERLOAD]++;
        sim_count(s, p->c_end[WEB_END_OVERLOAD], 1);
        next_request(ctx, p, nd, local);
        return;
    }
    q->start = now;
    q->local = local;
    q->item = item;
    q->cls = (uint16_t)cls;
    q->login = login;
    q->cond = cond;
    q->vheld = vheld;
    us->pending = h;
    sim_gauge_set(s, p->g_in_flight, (double)++p->in_flight);
    send_request(ctx, nd, q, h);
    if (p->loop == WEB_LOOP_OPEN)
        next_request(ctx, p, nd, local);
}

/* Request q ended as `end`. */
static void end_request(sim_ctx *ctx, web_node *nd, web_creq *q, int end, uint32_t server) {
    web_shared *p = web_shared_of(ctx);
    if (q->background) {
        end_background(nd, p, q, end);
        return;
    }
    sim *s = sim_of(ctx);
    web_client *cl = nd->cl;
    web_user *us = &cl->users[q->local];
    sim_time lat = sim_now(ctx) - q->start;
    p->oracle->ends[end]++;
    uint32_t user = global_user(p, nd, q->local);
    if (end == WEB_END_OK)
        WEB_USTAT(p, user, ok);
    else if (end == WEB_END_LIMITED)
        WEB_USTAT(p, user, ended_limited);
    else
        WEB_USTAT(p, user, failed);
    sim_count(s, p->c_end[end], 1);
    if (end == WEB_END_OK) {
        sim_record(s, p->h_latency, lat);
        sim_record(s, p->classes[q->cls].h_latency, lat);
        web_hist_add(&p->oracle->win, lat);
        if (p->sticky == WEB_STICKY_COOKIE && server > 0)
            us->cookie = (uint16_t)server;
    } else if (end == WEB_END_TIMEOUT) {
        us->lb = (uint16_t)((us->lb + 1) % (uint32_t)p->n_lbs);
    }
    if (end != WEB_END_OK && q->login) {
        /* The client never heard that the login worked: its next request
         * logs in again (a login the server did finish is simply redone). */
        us->in_session = 0;
    }
    us->pending = UINT32_MAX;
    uint32_t local = q->local;
    web_pool_release(&cl->reqs, q);
    sim_gauge_set(s, p->g_in_flight, (double)--p->in_flight);
    if (p->loop == WEB_LOOP_CLOSED)
        next_request(ctx, p, nd, local);
}

/* An ok answer to request q (handle h) of a class with a catalogue: the
 * cache keeps the copy and the oracle judges what the user sees.  False
 * when the answer cannot be shown: a 304 for a copy the cache dropped
 * while the check travelled (an eviction race), so the request goes again
 * without validators. */
static bool answered(sim_ctx *ctx, web_node *nd, web_creq *q, uint32_t h, const web_wire *w) {
    web_shared *p = web_shared_of(ctx);
    sim *s = sim_of(ctx);
    const web_class_cfg *k = &p->classes[q->cls];
    uint32_t r = web_res_of(p, q->cls, q->item);
    sim_time now = sim_now(ctx), lat = now - q->start;
    web_cache *cache = k->cacheable ? &nd->cl->caches[q->local] : NULL;
    uint32_t version = w->item;
    int cause = WEB_STALE_IN_FLIGHT;
    if (w->flags & WEB_F_304) {
        const web_cache_entry *e = cache ? web_cache_peek(cache, r) : NULL;
        if (!e || e->version != q->vheld) {
            p->oracle->races++;
            sim_count(s, p->c_races, 1);
            q->cond = 0;
            q->vheld = 0;
            send_request(ctx, nd, q, h);
            return false;
        }
        version = e->version;
        p->oracle->not_modified++;
        WEB_USTAT(p, global_user(p, nd, q->local), not_modified);
        sim_count(s, p->c_not_modified, 1);
        sim_record(s, p->h_latency_304, lat);
        p->oracle->bytes_saved += (double)(k->response_bytes - k->not_modified_bytes);
        if (w->flags & WEB_F_HIDDEN)
            cause = WEB_STALE_LAST_MODIFIED;
    } else if (cache) {
        p->oracle->full++;
        sim_count(s, p->c_full, 1);
        sim_record(s, p->h_latency_full, lat);
    }
    if (cache) {
        web_cache_fields f = {.version = version,
                              .size_bytes = (uint32_t)k->response_bytes,
                              .expires = k->no_cache ? now : now + k->max_age};
        web_cache_insert(cache, r, &f);
    }
    if (web_oracle_shown(p, r, version, now, cause))
        WEB_USTAT(p, global_user(p, nd, q->local), stale);
    return true;
}

/* A 429 for request q (handle h): send it again later, as the user's
 * on_429 says (true), or let it end as limited (false).  retry_after_us is
 * the balancer's Retry-After (0: none given). */
static bool retry_limited(sim_ctx *ctx, web_node *nd, web_creq *q, uint32_t h,
                          uint32_t retry_after_us) {
    web_shared *p = web_shared_of(ctx);
    int mode = abusive(p, nd, q->local) ? p->abusive_on_429 : p->on_429;
    if (mode == WEB_429_GIVE_UP || q->limited >= p->max_429_retries)
        return false;
    q->limited++;
    sim_time wait = 0;
    if (mode == WEB_429_RETRY_AFTER) {
        wait = retry_after_us > 0 ? (sim_time)retry_after_us * 1000 : p->backoff_base;
    } else if (mode == WEB_429_BACKOFF) {
        /* Full jitter: uniform in [0, min(cap, base x 2^(k-1))]. */
        sim_time top = p->backoff_base;
        for (int i = 1; i < q->limited && top < p->backoff_cap; i++)
            top *= 2;
        if (top > p->backoff_cap)
            top = p->backoff_cap;
        wait = (sim_time)sim_rng_below64(sim_node_rng(ctx), (uint64_t)top + 1);
    }
    q->waiting = 1;
    sim_count(p->s, p->c_retries_429, 1);
    sim_timer_set(ctx, wait, WEB_T_RETRY_429, h);
    return true;
}

/* An ok answer to background revalidation q: a 304 refreshes the copy it
 * names (if the cache still holds that one), a 200 stores the new version.
 * Nothing is shown: the user was answered when it was sent. */
static void background_answered(sim_ctx *ctx, web_node *nd, const web_creq *q, const web_wire *w) {
    web_shared *p = web_shared_of(ctx);
    const web_class_cfg *k = &p->classes[q->cls];
    uint32_t r = web_res_of(p, q->cls, q->item), version = w->item;
    web_cache *cache = &nd->cl->caches[q->local];
    sim_time now = sim_now(ctx);
    if (w->flags & WEB_F_304) {
        p->oracle->swr_not_modified++;
        p->oracle->bytes_saved += (double)(k->response_bytes - k->not_modified_bytes);
        const web_cache_entry *e = web_cache_peek(cache, r);
        if (!e || e->version != q->vheld)
            return; /* the copy went while the check travelled */
        version = e->version;
    } else {
        p->oracle->swr_full++;
    }
    web_cache_fields f = {
        .version = version, .size_bytes = (uint32_t)k->response_bytes, .expires = now + k->max_age};
    web_cache_insert(cache, r, &f);
}

void web_client_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    if (m->type != WEB_MSG_REPLY)
        return;
    web_shared *p = web_shared_of(ctx);
    const web_wire *w = m->data;
    web_creq *q = web_pool_find(&nd->cl->reqs, w->tag);
    if (!q)
        return; /* timed out at the client already */
    int end = w->status < WEB_END_COUNT ? w->status : WEB_END_SERVER;
    if (q->background) {
        /* No retry after a 429 either: the next use starts another. */
        if (end == WEB_END_OK)
            background_answered(ctx, nd, q, w);
        end_background(nd, p, q, end);
        return;
    }
    if (end == WEB_END_LIMITED) {
        p->oracle->limited_429++;
        WEB_USTAT(p, global_user(p, nd, q->local), limited_429);
    }
    if (end == WEB_END_LIMITED && q->waiting)
        return; /* a duplicate 429: the retry is set already */
    if (end == WEB_END_LIMITED && retry_limited(ctx, nd, q, w->tag, w->aux))
        return;
    if (end == WEB_END_OK && p->classes[q->cls].items > 0 && !answered(ctx, nd, q, w->tag, w))
        return;
    end_request(ctx, nd, q, end, w->aux);
}

void web_client_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg) {
    web_shared *p = web_shared_of(ctx);
    if (kind == WEB_T_USER) {
        nd->cl->users[(uint32_t)arg].away = 0; /* a pooled user's return */
        issue(ctx, nd, (uint32_t)arg);
        return;
    }
    if (kind == WEB_T_ARRIVAL) {
        next_arrival(ctx, p, nd);
        if (!nd->cl->users[(uint32_t)arg].away)
            issue(ctx, nd, (uint32_t)arg);
        else
            p->oracle->thinned++;
        return;
    }
    if (kind == WEB_T_RETRY_429) {
        web_creq *q = web_pool_find(&nd->cl->reqs, (uint32_t)arg);
        if (q && q->waiting) {
            q->waiting = 0;
            send_request(ctx, nd, q, (uint32_t)arg);
        }
        return;
    }
    if (kind != WEB_T_CLIENT_SCAN)
        return;
    web_client *cl = nd->cl;
    sim_time now = sim_now(ctx);
    for (uint32_t i = 0; i < cl->reqs.n; i++) {
        web_creq *q = web_pool_at(&cl->reqs, i);
        if (q->hd.used && now - q->start >= p->client_timeout)
            end_request(ctx, nd, q, WEB_END_TIMEOUT, 0);
    }
    sim_timer_set(ctx, p->client_timeout / WEB_SCAN_DIVISOR, WEB_T_CLIENT_SCAN, 0);
}

/* A client node crashed: what it waited for is abandoned (not counted as
 * an end), its users start new sessions when it recovers. */
void web_client_crash(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    web_client *cl = nd->cl;
    uint32_t background = cl->revalidating.n; /* one request per copy in the set */
    sim_set_clear(&cl->revalidating);
    p->in_flight -= cl->reqs.live - background;
    p->oracle->abandoned += cl->reqs.live - background;
    p->oracle->swr_failed += background;
    p->oracle->swr_in_flight -= background;
    web_pool_clear(&cl->reqs);
    for (uint32_t i = 0; i < cl->n_users; i++) {
        cl->users[i].pending = UINT32_MAX;
        cl->users[i].in_session = 0;
        cl->users[i].away = 0; /* the timer of its return was cancelled */
    }
}

void web_client_recover(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    arm_users(ctx, p, nd);
    sim_timer_set(ctx, p->client_timeout / WEB_SCAN_DIVISOR, WEB_T_CLIENT_SCAN, 0);
}

/* The prefetch hook's part for a client node (sim.h): a user's next
 * request reads the user, the cache's header and then its chain heads; an
 * answer reads the user, the cache's header, the copy's chain and the
 * origin's record (the oracle's verdict). */
void web_client_prefetch(const web_shared *p, const web_node *nd, int stage, const sim_peek *ev) {
    const web_client *cl = nd->cl;
    if (!cl)
        return;
    uint32_t local;
    const web_creq *q = NULL;
    if (!ev->msg) {
        if ((ev->type != WEB_T_USER && ev->type != WEB_T_ARRIVAL) || ev->arg >= cl->n_users)
            return;
        local = (uint32_t)ev->arg;
    } else {
        if (ev->type != WEB_MSG_REPLY || ev->len != sizeof(web_wire))
            return;
        q = web_pool_find(&cl->reqs, ((const web_wire *)ev->data)->tag);
        if (!q || q->local >= cl->n_users)
            return;
        local = q->local;
    }
    const web_cache *c = cl->caches ? &cl->caches[local] : NULL;
    if (stage == 0) {
        __builtin_prefetch(&cl->users[local]);
        if (c)
            __builtin_prefetch(c);
        if (q && p->classes[q->cls].items > 0)
            web_origin_prefetch(&p->origin, web_res_of(p, q->cls, q->item));
    } else if (c && !q) {
        web_cache_prefetch(c);
    } else if (c && p->classes[q->cls].cacheable) {
        web_cache_prefetch_key(c, web_res_of(p, q->cls, q->item));
    }
}
