/*
 * web.c - the web tier: users with sessions send requests through load
 * balancers to web servers, whose sessions are kept in the servers'
 * memory (stateful) or in a shared session store (stateless).
 *
 * Design notes
 * ============
 * Nodes (groups the model adds; a scenario has no "nodes"):
 *
 *   client -request-> lb -forward-> server [-store_get-> store]
 *   client <--reply-- lb <-response- server [<-store_reply- store]
 *
 * Each client node hosts a share of the users; each user logs in, sends
 * requests of the scenario's classes, and logs out after its session
 * length.  The server pool holds every server the run can use: those in
 * service at the start, and idle ones that scale events or the autoscaler
 * put into service (web_scale.c).
 *
 * Invariants (each file states its own in detail)
 *  (1) A request is answered by exactly one server or fails with one
 *      recorded cause (timeout, rejected, no server, server error,
 *      overload); web.requests = sum of the ends + in flight at the end.
 *  (2) No protocol decision reads the oracle (web_oracle.c): the truth
 *      about sessions is for counting misses and losses only.  Balancers
 *      learn of dead servers from health checks and timeouts alone.
 *  (3) A user's session is on at most one holder; a stateful server that
 *      serves a user whose session it does not hold counts a session miss
 *      (the user logs in again there, paying miss_cost).
 *  (4) With no faults and no scale events, no policy loses a session; a
 *      stateless tier loses none at any scale event.
 *  (5) Same seed, same run: every draw comes from the acting node's
 *      stream; world timers (scale events, windows, the autoscaler) draw
 *      nothing.
 *
 * Source map: web_int.h lists the files bottom up.
 */
#include "web_int.h"

static const char *const web_msg_types[] = {"request",   "forward",     "response",  "reply",
                                            "store_get", "store_reply", "store_put", "ping",
                                            "pong",      NULL};

_Static_assert(sizeof web_msg_types / sizeof *web_msg_types == WEB_MSG_COUNT + 1,
               "a name for every message type");

static void web_node_init(sim_ctx *ctx, void *node) {
    web_shared *p = web_shared_of(ctx);
    web_node *nd = node;
    uint32_t self = sim_self(ctx);
    if (self >= p->store_first && p->n_stores > 0) {
        nd->role = WEB_ROLE_STORE;
        nd->index = self - p->store_first;
    } else if (self >= p->server_first) {
        nd->role = WEB_ROLE_SERVER;
        nd->index = self - p->server_first;
    } else if (self >= p->lb_first) {
        nd->role = WEB_ROLE_LB;
        nd->index = self - p->lb_first;
    } else {
        nd->role = WEB_ROLE_CLIENT;
        nd->index = self - p->client_first;
    }
    switch (nd->role) {
    case WEB_ROLE_CLIENT:
        web_client_init(ctx, nd);
        break;
    case WEB_ROLE_LB:
        web_lb_init(ctx, nd);
        break;
    default:
        web_srv_init(ctx, nd);
        break;
    }
}

static void web_node_fini(sim_ctx *ctx, void *node) {
    (void)ctx;
    web_node *nd = node;
    web_client_fini(nd);
    web_lb_fini(nd);
    web_srv_fini(nd);
}

static void web_on_message(sim_ctx *ctx, void *node, const sim_msg *m) {
    web_node *nd = node;
    if (m->len != sizeof(web_wire))
        return;
    switch (nd->role) {
    case WEB_ROLE_CLIENT:
        web_client_on_message(ctx, nd, m);
        break;
    case WEB_ROLE_LB:
        web_lb_on_message(ctx, nd, m);
        break;
    default:
        web_srv_on_message(ctx, nd, m);
        break;
    }
}

static void web_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    web_node *nd = node;
    switch (nd->role) {
    case WEB_ROLE_CLIENT:
        web_client_on_timer(ctx, nd, kind, arg);
        break;
    case WEB_ROLE_LB:
        web_lb_on_timer(ctx, nd, kind, arg);
        break;
    default:
        web_srv_on_timer(ctx, nd, kind, arg);
        break;
    }
}

static void web_prefetch(const void *shared, const void *node, int stage, const sim_peek *ev) {
    const web_node *nd = node;
    switch (nd->role) {
    case WEB_ROLE_CLIENT:
        web_client_prefetch(shared, nd, stage, ev);
        break;
    case WEB_ROLE_LB:
        web_lb_prefetch(shared, nd, stage, ev);
        break;
    default:
        web_srv_prefetch(shared, nd, stage, ev);
        break;
    }
}

static void web_on_crash(sim_ctx *ctx, void *node) {
    web_node *nd = node;
    web_shared *p = web_shared_of(ctx);
    switch (nd->role) {
    case WEB_ROLE_CLIENT:
        web_client_crash(ctx, nd);
        break;
    case WEB_ROLE_LB:
        /* A balancer's state is all in memory: gone. */
        web_lb_fini(nd);
        break;
    default:
        web_srv_crash(sim_of(ctx), p, nd);
        break;
    }
}

static void web_on_recover(sim_ctx *ctx, void *node) {
    web_node *nd = node;
    if (nd->role == WEB_ROLE_CLIENT)
        web_client_recover(ctx, nd);
    else if (nd->role == WEB_ROLE_LB)
        web_lb_init(ctx, nd);
}

static void web_on_world_timer(sim *s, void *shared, uint32_t kind, uint64_t arg) {
    web_scale_on_world_timer(s, shared, kind, arg);
}

static void web_prepare(sim *s, void *shared) {
    web_shared *p = shared;
    web_oracle_init(p);
    if (p->policy == WEB_POL_CONSISTENT)
        web_ring_build(p);
    /* The origin's resources, whenever a class has a catalogue (its
     * versions are what the oracle judges shown copies by). */
    if (p->catalogue) {
        int64_t items[WEB_MAX_CLASSES];
        double rates[WEB_MAX_CLASSES];
        for (int i = 0; i < p->n_classes; i++) {
            items[i] = p->classes[i].items;
            rates[i] = p->classes[i].change_rate_per_s;
        }
        sim_rng rng;
        sim_model_stream(s, &rng, 1, 0, 0);
        web_origin_init(&p->origin, sim_rng_u64(&rng), p->lm_resolution, p->n_classes, items,
                        rates);
    }
    if (p->limiting && p->rl_shared) {
        /* The shared counter store's states (it never crashes). */
        p->rl_states = sim_table_calloc(p->rl_keys, sizeof *p->rl_states);
        for (uint32_t k = 0; k < p->rl_keys; k++)
            web_rl_init(&p->rl_states[k], &p->rl);
    }
    web_scale_start(s, p);
}

static void web_shared_fini(void *shared) {
    web_shared *p = shared;
    sim_dist_fini(&p->think);
    sim_dist_fini(&p->session_length);
    sim_dist_fini(&p->away);
    sim_dist_fini(&p->miss_cost);
    sim_dist_fini(&p->store_service);
    sim_dist_fini(&p->rl_store_latency);
    web_origin_fini(&p->origin);
    if (p->rl_states) {
        for (uint32_t k = 0; k < p->rl_keys; k++)
            web_rl_fini(&p->rl_states[k]);
        sim_table_free(p->rl_states, p->rl_keys, sizeof *p->rl_states);
    }
    for (int i = 0; i < p->n_classes; i++)
        sim_dist_fini(&p->classes[i].service);
    sim_free(p->ring_pos);
    sim_free(p->ring_srv);
    web_oracle_fini(p);
}

const sim_model web_model = {
    .name = "web",
    .summary = "the web tier: users with sessions, load balancers and their policies, web "
               "servers, stateful or stateless sessions, scaling out and in",
    .msg_types = web_msg_types,
    .shared_size = sizeof(web_shared),
    .node_size = sizeof(web_node),
    .configure = web_configure,
    .validate = web_validate,
    .node_init = web_node_init,
    .on_message = web_on_message,
    .on_timer = web_on_timer,
    .on_crash = web_on_crash,
    .on_recover = web_on_recover,
    .on_world_timer = web_on_world_timer,
    .report = web_report,
    .node_fini = web_node_fini,
    .shared_fini = web_shared_fini,
    .charts = web_charts,
    .estimate = web_estimate,
    .prepare = web_prepare,
    .prefetch = web_prefetch,
};
