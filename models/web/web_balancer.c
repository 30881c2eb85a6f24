/*
 * web_balancer.c - load balancers: the policies that pick a server, sticky
 * sessions, health checks, timeouts and retries.
 *
 * Messages: a balancer takes `request` from clients, sends `forward` to the
 * server it picks, and answers the client with one `reply` when the
 * server's `response` comes, or when it gives up (timeout, no server,
 * every try refused).  It sends `ping` to every server in service each
 * health interval and reads the `pong`s.
 *
 * The request path is a pipeline a later stage can join without rewriting
 * it: admit (a rate limiter's place; part 2), pin (stickiness), pick (the
 * policy), forward.  Clients have the same shape on their side (a cache's
 * place is before the request leaves the client).
 *
 * Invariants
 *  (1) A balancer answers every request it accepts exactly once; a
 *      response after it gave up is counted late and dropped.
 *  (2) It picks only among its candidates: servers in service (from
 *      discovery, instantly) that its own health checks call healthy.  It
 *      knows nothing else of servers but what it sent and was answered:
 *      out[] counts its own outstanding forwards, so two balancers'
 *      least-connections views differ, as in real deployments.
 *  (3) A retry never goes to the server that just failed it, unless it is
 *      the only candidate.
 *  (4) Health: unhealthy after unhealthy_threshold unanswered rounds in a
 *      row, healthy again after healthy_threshold answered ones; a server
 *      that joins service starts healthy.
 *  (6) The limiter (when on) decides every request once, before pin and
 *      pick; a request it holds (a shared store's answer, a delay, the
 *      leaky queue) has no server yet (server WEB_NOWHERE) and is not in
 *      out[]; what it rejects is answered 429 with a Retry-After.  Answers
 *      from a client's cache never get here (web_client.c).
 *  (5) Consistent hashing with bounded loads (Mirrokni, Thorup and
 *      Zadimoghaddam 2018): a server takes a request only while its
 *      outstanding count is below ceil(c x (total + 1) / n); the walk goes
 *      on round the ring otherwise, so no server exceeds the bound.
 */
#include "web_int.h"

#include <math.h>

void web_lb_init(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    web_lb *lb = sim_calloc(1, sizeof *lb);
    nd->lb = lb;
    size_t n = (size_t)p->pool;
    web_pool_init(&lb->reqs, sizeof(web_lreq), (uint32_t)p->lb_max_outstanding);
    lb->out = sim_calloc(n, sizeof *lb->out);
    lb->ewma = sim_calloc(n, sizeof *lb->ewma);
    lb->ewma_at = sim_calloc(n, sizeof *lb->ewma_at);
    lb->wrr = sim_calloc(n, sizeof *lb->wrr);
    lb->healthy = sim_malloc(n);
    memset(lb->healthy, 1, n);
    lb->fails = sim_calloc(n, 1);
    lb->oks = sim_calloc(n, 1);
    lb->ping_due = sim_calloc(n, 1);
    lb->seen = sim_calloc(n, 1);
    lb->cand = sim_calloc(n, sizeof *lb->cand);
    lb->cand_dirty = true;
    if (p->sticky == WEB_STICKY_TABLE)
        lb->affinity = sim_calloc((size_t)p->n_users, sizeof *lb->affinity);
    if (p->limiting && !p->rl_shared) {
        lb->rl = sim_table_calloc(p->rl_keys, sizeof *lb->rl);
        lb->n_rl = p->rl_keys;
        for (uint32_t k = 0; k < p->rl_keys; k++)
            web_rl_init(&lb->rl[k], &p->rl);
    }
    sim_timer_set(ctx, p->lb_timeout / WEB_SCAN_DIVISOR, WEB_T_LB_SCAN, 0);
    if (p->health_interval > 0)
        sim_timer_set(ctx, p->health_interval, WEB_T_HEALTH, 0);
}

void web_lb_fini(web_node *nd) {
    web_lb *lb = nd->lb;
    if (!lb)
        return;
    web_pool_fini(&lb->reqs);
    sim_free(lb->out);
    sim_free(lb->ewma);
    sim_free(lb->ewma_at);
    sim_free(lb->wrr);
    sim_free(lb->healthy);
    sim_free(lb->fails);
    sim_free(lb->oks);
    sim_free(lb->ping_due);
    sim_free(lb->seen);
    sim_free(lb->cand);
    sim_free(lb->affinity);
    if (lb->rl) {
        for (uint32_t k = 0; k < lb->n_rl; k++)
            web_rl_fini(&lb->rl[k]);
        sim_table_free(lb->rl, lb->n_rl, sizeof *lb->rl);
    }
    sim_free(lb);
    nd->lb = NULL;
}

/* The candidates: in service and healthy, by index. */
static void refresh(web_shared *p, web_lb *lb) {
    if (!lb->cand_dirty && lb->cand_version == p->version)
        return;
    uint32_t k = 0;
    for (uint32_t i = 0; i < (uint32_t)p->pool; i++) {
        bool serving = p->member[i] == WEB_SERVING;
        if (serving && !lb->seen[i]) {
            lb->healthy[i] = 1; /* invariant 4: a server joins healthy */
            lb->fails[i] = lb->oks[i] = 0;
            lb->wrr[i] = 0;
        }
        lb->seen[i] = serving;
        if (serving && lb->healthy[i])
            lb->cand[k++] = i;
    }
    lb->n_cand = k;
    lb->cand_version = p->version;
    lb->cand_dirty = false;
}

static bool is_cand(const web_shared *p, const web_lb *lb, uint32_t i) {
    return i < (uint32_t)p->pool && p->member[i] == WEB_SERVING && lb->healthy[i];
}

/* The least loaded of the candidates by score, scanning from a rotating
 * start so that ties spread. */
static uint32_t least(web_shared *p, web_lb *lb, uint32_t avoid, bool latency, sim_time now) {
    uint32_t best = WEB_NOWHERE;
    double best_score = INFINITY;
    uint32_t n = lb->n_cand, start = lb->rr++ % n;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t i = lb->cand[(start + k) % n];
        if (i == avoid && n > 1)
            continue;
        double score = (double)lb->out[i];
        if (latency) {
            double decay = exp(-(double)(now - lb->ewma_at[i]) / (double)p->ewma_tau);
            score = (lb->ewma[i] * decay + 1.0) * (score + 1.0);
        }
        if (score < best_score) {
            best_score = score;
            best = i;
        }
    }
    return best;
}

static uint32_t pick_choices(web_shared *p, web_lb *lb, uint32_t avoid, sim_rng *rng) {
    uint32_t n = lb->n_cand;
    uint32_t d = (uint32_t)p->choices < n ? (uint32_t)p->choices : n;
    uint32_t picked[64], best = WEB_NOWHERE;
    int32_t best_out = INT32_MAX;
    for (uint32_t k = 0; k < d; k++) {
        uint32_t i;
        bool dup;
        do { /* d distinct candidates, uniformly */
            i = lb->cand[sim_rng_below(rng, n)];
            dup = false;
            for (uint32_t j = 0; j < k; j++)
                dup |= picked[j] == i;
        } while (dup);
        picked[k] = i;
        if (i == avoid && n > d)
            continue;
        if (lb->out[i] < best_out) {
            best_out = lb->out[i];
            best = i;
        }
    }
    return best != WEB_NOWHERE ? best : picked[0];
}

static uint32_t pick_consistent(web_shared *p, web_lb *lb, uint32_t user, uint32_t avoid) {
    uint32_t lo = web_ring_find(p, web_user_hash(user));
    int64_t cap = INT64_MAX;
    if (p->bound > 0)
        cap = (int64_t)ceil(p->bound * (double)(lb->total_out + 1) / (double)lb->n_cand);
    uint32_t first = WEB_NOWHERE;
    for (uint32_t k = 0; k < p->ring_n; k++) {
        uint32_t i = p->ring_srv[(lo + k) % p->ring_n];
        if (!is_cand(p, lb, i) || (i == avoid && lb->n_cand > 1))
            continue;
        if (first == WEB_NOWHERE)
            first = i;
        if (lb->out[i] < cap)
            return i;
    }
    return first;
}

static uint32_t pick(sim_ctx *ctx, web_shared *p, web_lb *lb, uint32_t user, uint32_t avoid) {
    refresh(p, lb);
    uint32_t n = lb->n_cand;
    if (n == 0)
        return WEB_NOWHERE;
    sim_rng *rng = sim_node_rng(ctx);
    switch (p->policy) {
    case WEB_POL_ROUND_ROBIN: {
        uint32_t i = lb->cand[lb->rr++ % n];
        if (i == avoid && n > 1)
            i = lb->cand[lb->rr++ % n];
        return i;
    }
    case WEB_POL_WEIGHTED: {
        /* Smooth weighted round robin (nginx): every candidate gains its
         * weight, the largest is picked and pays the total back. */
        double total = 0;
        uint32_t best = WEB_NOWHERE;
        for (uint32_t k = 0; k < n; k++) {
            uint32_t i = lb->cand[k];
            if (i == avoid && n > 1)
                continue;
            lb->wrr[i] += p->weights[i];
            total += p->weights[i];
            if (best == WEB_NOWHERE || lb->wrr[i] > lb->wrr[best])
                best = i;
        }
        lb->wrr[best] -= total;
        return best;
    }
    case WEB_POL_RANDOM: {
        uint32_t i = lb->cand[sim_rng_below(rng, n)];
        if (i == avoid && n > 1) {
            uint32_t k = sim_rng_below(rng, n - 1);
            for (uint32_t j = 0, seen = 0; j < n; j++)
                if (lb->cand[j] != avoid && seen++ == k)
                    return lb->cand[j];
        }
        return i;
    }
    case WEB_POL_LEAST_CONN:
        return least(p, lb, avoid, false, sim_now(ctx));
    case WEB_POL_LEAST_LATENCY:
        return least(p, lb, avoid, true, sim_now(ctx));
    case WEB_POL_CHOICES:
        return pick_choices(p, lb, avoid, rng);
    case WEB_POL_HASH_MOD: {
        uint32_t i = lb->cand[web_user_hash(user) % n];
        if (i == avoid && n > 1)
            i = lb->cand[(web_user_hash(user) + 1) % n];
        return i;
    }
    case WEB_POL_CONSISTENT:
        return pick_consistent(p, lb, user, avoid);
    default:
        SIM_ASSERT(0);
    }
    return WEB_NOWHERE;
}

static void reply(sim_ctx *ctx, uint32_t client, uint32_t ctag, int status, uint32_t server,
                  int64_t bytes) {
    web_wire w = {.tag = ctag, .status = (uint8_t)status, .aux = server};
    web_send(ctx, client, WEB_MSG_REPLY, &w, bytes);
}

static void forward(sim_ctx *ctx, web_shared *p, web_lb *lb, web_lreq *q, uint32_t h,
                    uint32_t server) {
    q->server = server;
    q->sent = sim_now(ctx);
    lb->out[server]++;
    lb->total_out++;
    web_wire w = {.user = q->user,
                  .tag = h,
                  .item = q->item,
                  .cls = q->cls,
                  .flags =
                      (uint8_t)((q->login ? WEB_F_LOGIN : 0) | (q->low ? WEB_F_LOW : 0) | q->cond),
                  .attempt = q->vheld};
    web_send(ctx, web_server_node(p, server), WEB_MSG_FORWARD, &w,
             p->classes[q->cls].request_bytes);
}

/* Pin, then pick: the server for a request of `user` whose cookie names
 * server cookie - 1 (0: none), or WEB_NOWHERE when no server can take it. */
static uint32_t choose(sim_ctx *ctx, web_shared *p, web_lb *lb, uint32_t user, uint32_t cookie) {
    refresh(p, lb);
    uint32_t server = WEB_NOWHERE;
    if (p->sticky == WEB_STICKY_TABLE && lb->affinity[user])
        server = lb->affinity[user] - 1;
    else if (p->sticky == WEB_STICKY_COOKIE && cookie)
        server = cookie - 1;
    if (server != WEB_NOWHERE && !is_cand(p, lb, server))
        server = WEB_NOWHERE; /* pinned to a server that left: pick anew */
    if (server == WEB_NOWHERE)
        server = pick(ctx, p, lb, user, WEB_NOWHERE);
    return server;
}

/* Request q (handle h) goes to `server`: the sticky table learns it. */
static void send_to(sim_ctx *ctx, web_shared *p, web_lb *lb, web_lreq *q, uint32_t h,
                    uint32_t server) {
    if (p->sticky == WEB_STICKY_TABLE)
        lb->affinity[q->user] = server + 1;
    forward(ctx, p, lb, q, h, server);
}

/* A held request goes on: to its server, or answered why not. */
static void route(sim_ctx *ctx, web_shared *p, web_lb *lb, web_lreq *q, uint32_t h) {
    uint32_t server = choose(ctx, p, lb, q->user, q->cookie);
    if (server == WEB_NOWHERE) {
        reply(ctx, q->client, q->ctag, WEB_END_NO_SERVER, 0, 200);
        web_pool_release(&lb->reqs, q);
        return;
    }
    q->held = 0;
    send_to(ctx, p, lb, q, h, server);
}

/* The limiter's key for a request of user from client node `client`. */
static uint32_t rl_key_of(const web_shared *p, uint32_t user, uint32_t client) {
    return p->rl_scope == WEB_RLS_USER     ? user
           : p->rl_scope == WEB_RLS_CLIENT ? client - p->client_first
                                           : 0;
}

static uint32_t rl_key(const web_shared *p, const web_lreq *q) {
    return rl_key_of(p, q->user, q->client);
}

/* The limiter's state for key k: here or at the store. */
static web_rl *rl_state(web_shared *p, web_lb *lb, uint32_t k) {
    return p->rl_shared ? &p->rl_states[k] : &lb->rl[k];
}

/* The admission stage: the limiter decides (invariant 6). */
static void admit(sim_ctx *ctx, web_shared *p, web_lb *lb, web_lreq *q, uint32_t h) {
    sim_time now = sim_now(ctx), when = 0;
    uint32_t k = rl_key(p, q);
    int d = web_rl_decide(&p->rl, rl_state(p, lb, k), now, &when);
    if (d != WEB_RL_REJECT) {
        WEB_USTAT(p, q->user, admitted);
        web_oracle_admitted(p, k, d == WEB_RL_DELAY && when > now ? when : now);
    }
    switch (d) {
    case WEB_RL_ALLOW:
        sim_count(p->s, p->c_rl_allowed, 1);
        break;
    case WEB_RL_SOFT:
        WEB_USTAT(p, q->user, soft);
        sim_count(p->s, p->c_rl_soft, 1);
        if (p->overage == WEB_OVER_DELAY && p->overage_delay > 0) {
            sim_timer_set(ctx, p->overage_delay, WEB_T_RL_RELEASE, h);
            return;
        }
        q->low = p->overage == WEB_OVER_DEPRIORITISE;
        break;
    case WEB_RL_DELAY:
        sim_count(p->s, p->c_rl_delayed, 1);
        if (when > now) {
            sim_timer_set(ctx, when - now, WEB_T_RL_RELEASE, h);
            return;
        }
        break;
    default: {
        sim_count(p->s, p->c_rl_rejected, 1);
        /* Retry-After in microseconds, rounded up (0: none given). */
        sim_time wait = when > now ? when - now : 0;
        uint32_t us = 0;
        if (p->retry_after) {
            int64_t v = (wait + 999) / 1000;
            us = v < 1 ? 1 : v > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        }
        reply(ctx, q->client, q->ctag, WEB_END_LIMITED, us, 200);
        web_pool_release(&lb->reqs, q);
        return;
    }
    }
    route(ctx, p, lb, q, h);
}

/* The balancer's record of request w from node `from` (a fresh slot). */
static void take(web_lreq *q, sim_time now, uint32_t from, const web_wire *w) {
    *q = (web_lreq){.hd = q->hd,
                    .start = now,
                    .sent = now,
                    .client = from,
                    .ctag = w->tag,
                    .user = w->user,
                    .item = w->item,
                    .server = WEB_NOWHERE,
                    .cls = w->cls,
                    .login = (w->flags & WEB_F_LOGIN) != 0,
                    .cond = (uint8_t)(w->flags & (WEB_F_INM | WEB_F_IMS)),
                    .vheld = w->attempt,
                    .cookie = (w->flags & WEB_F_COOKIE) ? (uint16_t)w->aux : 0};
}

static void on_request(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    web_shared *p = web_shared_of(ctx);
    web_lb *lb = nd->lb;
    const web_wire *w = m->data;
    uint32_t h;
    web_lreq *q;
    if (p->limiting) {
        /* The key's state is read next: start it on its way while the
         * request's slot is taken (a hint: no result depends on it). */
        if (!p->rl_shared)
            __builtin_prefetch(rl_state(p, lb, rl_key_of(p, w->user, m->src)));
        /* The request is held from here: the limiter may keep it a while. */
        if (!(q = web_pool_new(&lb->reqs, &h))) {
            reply(ctx, m->src, w->tag, WEB_END_OVERLOAD, 0, 200);
            return;
        }
        take(q, sim_now(ctx), m->src, w);
        q->held = 1;
        if (p->rl_shared)
            sim_timer_set(ctx, sim_dist_sample_time(&p->rl_store_latency, sim_node_rng(ctx)),
                          WEB_T_RL_DECIDE, h);
        else
            admit(ctx, p, lb, q, h);
        return;
    }
    /* No limiter: the server is chosen before a slot is taken, so a
     * request no server can take costs none. */
    uint32_t server = choose(ctx, p, lb, w->user, (w->flags & WEB_F_COOKIE) ? w->aux : 0);
    if (server == WEB_NOWHERE) {
        reply(ctx, m->src, w->tag, WEB_END_NO_SERVER, 0, 200);
        return;
    }
    if (!(q = web_pool_new(&lb->reqs, &h))) {
        reply(ctx, m->src, w->tag, WEB_END_OVERLOAD, 0, 200);
        return;
    }
    take(q, sim_now(ctx), m->src, w);
    send_to(ctx, p, lb, q, h, server);
}

/* A held request's time came: the store's answer, or its release. */
static void on_held(sim_ctx *ctx, web_shared *p, web_lb *lb, uint32_t kind, uint32_t h) {
    web_lreq *q = web_pool_find(&lb->reqs, h);
    if (!q || !q->held)
        return; /* timed out meanwhile */
    if (kind == WEB_T_RL_DECIDE)
        admit(ctx, p, lb, q, h);
    else
        route(ctx, p, lb, q, h);
}

/* The server failed the try (refused, gone, timed out): another server,
 * or the client hears why. */
static void retry_or_fail(sim_ctx *ctx, web_shared *p, web_lb *lb, web_lreq *q, uint32_t h,
                          int why) {
    if (q->attempt < p->retries && (why != WEB_END_REJECTED || p->retry_busy)) {
        uint32_t next = pick(ctx, p, lb, q->user, q->server);
        if (next != WEB_NOWHERE) {
            q->attempt++;
            p->oracle->retries++;
            sim_count(p->s, p->c_retries, 1);
            send_to(ctx, p, lb, q, h, next);
            return;
        }
    }
    reply(ctx, q->client, q->ctag, why, 0, 200);
    web_pool_release(&lb->reqs, q);
}

static void settle(sim_ctx *ctx, web_shared *p, web_lb *lb, web_lreq *q) {
    uint32_t i = q->server;
    lb->out[i]--;
    lb->total_out--;
    if (p->policy != WEB_POL_LEAST_LATENCY)
        return; /* only least_latency reads the response times */
    sim_time now = sim_now(ctx);
    double rtt = (double)(now - q->sent);
    double decay = exp(-(double)(now - lb->ewma_at[i]) / (double)p->ewma_tau);
    lb->ewma[i] = lb->ewma[i] * decay + rtt * (1 - decay);
    lb->ewma_at[i] = now;
}

static void on_response(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    web_shared *p = web_shared_of(ctx);
    web_lb *lb = nd->lb;
    const web_wire *w = m->data;
    web_lreq *q = web_pool_find(&lb->reqs, w->tag);
    if (!q || q->server != w->aux - 1) {
        p->oracle->late++;
        sim_count(p->s, p->c_late, 1);
        return;
    }
    settle(ctx, p, lb, q);
    if (w->status == WEB_END_OK) {
        /* Passed on: the version served and whether it is a 304. */
        web_wire a = {.tag = q->ctag,
                      .status = WEB_END_OK,
                      .aux = q->server + 1,
                      .item = w->item,
                      .flags = (uint8_t)(w->flags & (WEB_F_304 | WEB_F_HIDDEN))};
        web_send(ctx, q->client, WEB_MSG_REPLY, &a, m->wire_bytes);
        web_pool_release(&lb->reqs, q);
    } else if (w->status == WEB_ST_GONE) {
        retry_or_fail(ctx, p, lb, q, w->tag, WEB_END_NO_SERVER);
    } else if (w->status == WEB_END_REJECTED) {
        retry_or_fail(ctx, p, lb, q, w->tag, WEB_END_REJECTED);
    } else {
        reply(ctx, q->client, q->ctag, w->status, 0, 200);
        web_pool_release(&lb->reqs, q);
    }
}

static void scan(sim_ctx *ctx, web_shared *p, web_lb *lb) {
    sim_time now = sim_now(ctx);
    for (uint32_t i = 0; i < lb->reqs.n; i++) {
        web_lreq *q = web_pool_at(&lb->reqs, i);
        if (!q->hd.used || now - q->sent < p->lb_timeout)
            continue;
        uint32_t h = i | (q->hd.gen & 0xffu) << WEB_SLOT_BITS;
        if (q->held) {
            /* Held at the limiter past the timeout: never forwarded. */
            reply(ctx, q->client, q->ctag, WEB_END_TIMEOUT, 0, 200);
            web_pool_release(&lb->reqs, q);
            continue;
        }
        settle(ctx, p, lb, q);
        retry_or_fail(ctx, p, lb, q, h, WEB_END_TIMEOUT);
    }
}

static void health_round(sim_ctx *ctx, web_shared *p, web_lb *lb) {
    lb->round++;
    for (uint32_t i = 0; i < (uint32_t)p->pool; i++) {
        if (p->member[i] != WEB_SERVING && p->member[i] != WEB_DRAINING)
            continue;
        if (lb->ping_due[i]) {
            lb->oks[i] = 0;
            if (lb->fails[i] < 255)
                lb->fails[i]++;
            if (lb->healthy[i] && lb->fails[i] >= p->unhealthy_threshold) {
                lb->healthy[i] = 0;
                lb->cand_dirty = true;
            }
        }
        web_wire w = {.tag = lb->round};
        web_send(ctx, web_server_node(p, i), WEB_MSG_PING, &w, 100);
        lb->ping_due[i] = 1;
    }
}

static void on_pong(web_shared *p, web_lb *lb, const web_wire *w) {
    uint32_t i = w->aux - 1;
    if (w->tag != lb->round || i >= (uint32_t)p->pool)
        return; /* an answer to an older round: too late */
    lb->ping_due[i] = 0;
    lb->fails[i] = 0;
    if (lb->oks[i] < 255)
        lb->oks[i]++;
    if (!lb->healthy[i] && lb->oks[i] >= p->healthy_threshold) {
        lb->healthy[i] = 1;
        lb->cand_dirty = true;
    }
}

void web_lb_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    switch (m->type) {
    case WEB_MSG_REQUEST:
        on_request(ctx, nd, m);
        break;
    case WEB_MSG_RESPONSE:
        on_response(ctx, nd, m);
        break;
    case WEB_MSG_PONG:
        on_pong(web_shared_of(ctx), nd->lb, m->data);
        break;
    default:
        break;
    }
}

void web_lb_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg) {
    web_shared *p = web_shared_of(ctx);
    if (kind == WEB_T_LB_SCAN) {
        scan(ctx, p, nd->lb);
        sim_timer_set(ctx, p->lb_timeout / WEB_SCAN_DIVISOR, WEB_T_LB_SCAN, 0);
    } else if (kind == WEB_T_HEALTH) {
        health_round(ctx, p, nd->lb);
        sim_timer_set(ctx, p->health_interval, WEB_T_HEALTH, 0);
    } else if (kind == WEB_T_RL_DECIDE || kind == WEB_T_RL_RELEASE) {
        on_held(ctx, p, nd->lb, kind, (uint32_t)arg);
    }
}

/* The prefetch hook's part for a balancer (sim.h): a request reads its
 * key's limiter state, which is scattered over one record per key. */
void web_lb_prefetch(const web_shared *p, const web_node *nd, int stage, const sim_peek *ev) {
    const web_lb *lb = nd->lb;
    if (stage != 0 || !lb || !p->limiting || !ev->msg || ev->type != WEB_MSG_REQUEST ||
        ev->len != sizeof(web_wire))
        return;
    uint32_t k = rl_key_of(p, ((const web_wire *)ev->data)->user, ev->src);
    if (p->rl_shared ? !p->rl_states || k >= p->rl_keys : !lb->rl || k >= lb->n_rl)
        return;
    __builtin_prefetch(p->rl_shared ? &p->rl_states[k] : &lb->rl[k]); /* one line */
}
