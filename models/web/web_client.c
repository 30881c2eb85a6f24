/*
 * web_client.c - users: sessions that begin with a login and end after
 * session_length (then the user is away a while and logs in anew),
 * requests of weighted classes over a Zipf catalogue, sent open-loop (at
 * think-time intervals regardless of answers) or closed-loop (think time
 * after each answer), and the client's end-to-end timeout.
 *
 * Messages: a client sends `request` to the user's balancer and takes the
 * `reply`.  A user whose request times out moves to the next balancer
 * (clients fail over, as a resolver's next address).
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
 */
#include "web_int.h"

static uint32_t global_user(const web_shared *p, const web_node *nd, uint32_t local) {
    return local * (uint32_t)p->n_clients + nd->index;
}

static void next_request(sim_ctx *ctx, web_shared *p, uint32_t local) {
    double t = sim_dist_sample(&p->think, sim_node_rng(ctx)) / p->factor;
    sim_timer_set(ctx, t >= 9e18 ? (sim_time)9e18 : (sim_time)(t + 0.5), WEB_T_USER, local);
}

static void arm_users(sim_ctx *ctx, web_shared *p, web_client *cl) {
    for (uint32_t i = 0; i < cl->n_users; i++)
        next_request(ctx, p, i);
}

void web_client_init(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    web_client *cl = sim_calloc(1, sizeof *cl);
    nd->cl = cl;
    uint32_t n = (uint32_t)(p->n_users / p->n_clients);
    if (nd->index < (uint32_t)(p->n_users % p->n_clients))
        n++;
    cl->n_users = n;
    cl->users = sim_calloc(n, sizeof *cl->users);
    for (uint32_t i = 0; i < n; i++) {
        cl->users[i].pending = UINT32_MAX;
        cl->users[i].lb = (uint16_t)(global_user(p, nd, i) % (uint32_t)p->n_lbs);
    }
    web_pool_init(&cl->reqs, sizeof(web_creq), (uint32_t)p->client_max_outstanding);
    arm_users(ctx, p, cl);
    sim_timer_set(ctx, p->client_timeout / WEB_SCAN_DIVISOR, WEB_T_CLIENT_SCAN, 0);
}

void web_client_fini(web_node *nd) {
    web_client *cl = nd->cl;
    if (!cl)
        return;
    web_pool_fini(&cl->reqs);
    sim_free(cl->users);
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

/* The request leaves the client.  A client-side cache answers here in
 * part 2, before any balancer sees the request. */
static void issue(sim_ctx *ctx, web_node *nd, uint32_t local) {
    web_shared *p = web_shared_of(ctx);
    sim *s = sim_of(ctx);
    web_client *cl = nd->cl;
    web_user *us = &cl->users[local];
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
    sim_count(s, p->c_requests, 1);
    uint32_t h;
    web_creq *q = web_pool_new(&cl->reqs, &h);
    if (!q) {
        p->oracle->ends[WEB_END_OVERLOAD]++;
        sim_count(s, p->c_end[WEB_END_OVERLOAD], 1);
        next_request(ctx, p, local);
        return;
    }
    q->start = now;
    q->local = local;
    q->cls = (uint16_t)cls;
    q->login = login;
    us->pending = h;
    sim_gauge_set(s, p->g_in_flight, (double)++p->in_flight);
    web_wire w = {.user = user,
                  .tag = h,
                  .item = item,
                  .cls = (uint16_t)cls,
                  .flags = (uint8_t)(login ? WEB_F_LOGIN : 0)};
    if (p->sticky == WEB_STICKY_COOKIE && us->cookie) {
        w.flags |= WEB_F_COOKIE;
        w.aux = us->cookie;
    }
    web_send(ctx, p->lb_first + us->lb, WEB_MSG_REQUEST, &w, k->request_bytes);
    if (p->loop == WEB_LOOP_OPEN)
        next_request(ctx, p, local);
}

/* Request q ended as `end`. */
static void end_request(sim_ctx *ctx, web_node *nd, web_creq *q, int end, uint32_t server) {
    web_shared *p = web_shared_of(ctx);
    sim *s = sim_of(ctx);
    web_client *cl = nd->cl;
    web_user *us = &cl->users[q->local];
    sim_time lat = sim_now(ctx) - q->start;
    p->oracle->ends[end]++;
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
        next_request(ctx, p, local);
}

void web_client_on_message(sim_ctx *ctx, web_node *nd, const sim_msg *m) {
    if (m->type != WEB_MSG_REPLY)
        return;
    const web_wire *w = m->data;
    web_creq *q = web_pool_find(&nd->cl->reqs, w->tag);
    if (!q)
        return; /* timed out at the client already */
    int end = w->status < WEB_END_COUNT ? w->status : WEB_END_SERVER;
    end_request(ctx, nd, q, end, w->aux);
}

void web_client_on_timer(sim_ctx *ctx, web_node *nd, uint32_t kind, uint64_t arg) {
    web_shared *p = web_shared_of(ctx);
    if (kind == WEB_T_USER) {
        issue(ctx, nd, (uint32_t)arg);
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
    p->in_flight -= cl->reqs.live;
    p->oracle->abandoned += cl->reqs.live;
    web_pool_clear(&cl->reqs);
    for (uint32_t i = 0; i < cl->n_users; i++) {
        cl->users[i].pending = UINT32_MAX;
        cl->users[i].in_session = 0;
    }
}

void web_client_recover(sim_ctx *ctx, web_node *nd) {
    web_shared *p = web_shared_of(ctx);
    arm_users(ctx, p, nd->cl);
    sim_timer_set(ctx, p->client_timeout / WEB_SCAN_DIVISOR, WEB_T_CLIENT_SCAN, 0);
}
