/*
 * phold.c - PHOLD, the standard benchmark of discrete-event engines
 * (Fujimoto 1990).
 *
 * `lps` logical processes, one per node.  Each starts `events_per_lp`
 * events addressed to itself at lookahead + Exp(mean).  Handling an event
 * sends one new event to a uniformly random LP (itself included) that
 * arrives lookahead + Exp(mean) later.  The population of pending events
 * stays constant, so the run measures the engine: queue, dispatch, trace
 * hash.  The scenario's network latency is added on top; the benchmark
 * scenario sets it to 0.
 *
 * Invariants:
 *  (1) every handled event schedules exactly one event, so pending events
 *      = lps * events_per_lp at all times;
 *  (2) every delay is >= lookahead.
 */
#include "phold.h"

#include <stdio.h>

typedef struct phold_shared {
    int64_t lps, events_per_lp;
    uint32_t first; /* index of lp0: the scenario may have nodes of its own */
    sim_time lookahead, mean;
    sim_dist delay; /* lookahead + Exp(mean) */
    int c_events;
    int64_t handled;
} phold_shared;

static const char *const phold_msg_types[] = {"event", NULL};

static int phold_configure(sim_cfg *c, void *shared) {
    phold_shared *p = shared;
    if (sim_cfg_int(c, "lps", 1000, 1, 1000000, &p->lps) < 0 ||
        sim_cfg_int(c, "events_per_lp", 1, 1, 1000, &p->events_per_lp) < 0 ||
        sim_cfg_time(c, "lookahead", "100ms", 0, 3600 * SIM_S, &p->lookahead) < 0 ||
        sim_cfg_time(c, "mean", "1s", SIM_NS, 3600 * SIM_S, &p->mean) < 0)
        return -1;
    if (p->lps * p->events_per_lp > 10000000)
        return sim_cfg_fail(c, "events_per_lp",
                            "lps x events_per_lp = %lld pending events is too many "
                            "(at most 10000000)",
                            (long long)(p->lps * p->events_per_lp));
    p->delay = (sim_dist){
        .kind = SIM_DIST_EXPONENTIAL, .a = (double)p->mean, .offset = (double)p->lookahead};
    p->c_events = sim_counter(sim_cfg_sim(c), "phold.events");
    return sim_cfg_add_nodes(c, "lp", (uint32_t)p->lps);
}

/* Finds the LP group among the nodes (it follows any the scenario made). */
static int phold_validate(sim_cfg *c, void *shared) {
    phold_shared *p = shared;
    sim *s = sim_cfg_sim(c);
    p->first = sim_group_first(s, sim_group_find(s, "lp"));
    return 0;
}

static void send_event(sim_ctx *ctx, phold_shared *p, uint32_t dst) {
    sim_time d = sim_dist_sample_time(&p->delay, sim_node_rng(ctx));
    sim_send_after(ctx, d, dst, 0, NULL, 0, 8);
}

static void phold_node_init(sim_ctx *ctx, void *node) {
    (void)node;
    phold_shared *p = sim_shared(ctx);
    if (sim_self(ctx) < p->first || sim_self(ctx) - p->first >= (uint64_t)p->lps)
        return; /* not an LP: the scenario's own nodes take no part */
    for (int64_t i = 0; i < p->events_per_lp; i++)
        send_event(ctx, p, sim_self(ctx));
}

static void phold_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    (void)node;
    (void)msg;
    phold_shared *p = sim_shared(ctx);
    p->handled++;
    sim_count(sim_of(ctx), p->c_events, 1);
    uint32_t dst = p->first + sim_rng_below(sim_node_rng(ctx), (uint32_t)p->lps);
    send_event(ctx, p, dst);
}

static void phold_report(sim_report *r, void *shared) {
    phold_shared *p = shared;
    sim_report_int(r, "events_handled", p->handled);
    sim_report_num(r, "events_per_lp", (double)p->handled / (double)p->lps);
    sim_report_line(r, "phold: %lld events handled by %lld LPs (%lld pending each)",
                    (long long)p->handled, (long long)p->lps, (long long)p->events_per_lp);
}

/* What a run will cost (for the kernel's budget): every LP's events hop
 * once per lookahead + mean. */
static void phold_estimate(const sim *s, const void *shared, sim_model_estimate *e) {
    const phold_shared *p = shared;
    double hop = (double)(p->lookahead + p->mean);
    e->events = (double)p->lps * (double)p->events_per_lp * ((double)sim_duration(s) / hop);
    e->events_key = "duration";
    snprintf(e->events_why, sizeof e->events_why,
             "%lld LPs with %lld events each, a hop every %g s", (long long)p->lps,
             (long long)p->events_per_lp, hop / 1e9);
}

const sim_model phold_model = {
    .name = "phold",
    .summary = "PHOLD engine benchmark: LPs bouncing events at lookahead + Exp(mean)",
    .msg_types = phold_msg_types,
    .shared_size = sizeof(phold_shared),
    .node_size = 0,
    .configure = phold_configure,
    .validate = phold_validate,
    .node_init = phold_node_init,
    .on_message = phold_on_message,
    .report = phold_report,
    .estimate = phold_estimate,
};
