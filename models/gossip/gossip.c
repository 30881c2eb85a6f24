/*
 * gossip.c - epidemic dissemination of updates, after Demers, Greene,
 * Hauser, Irish, Larson, Shenker, Sturgis, Swinehart and Terry, "Epidemic
 * algorithms for replicated database maintenance" (PODC 1987).
 *
 * Purpose.  One or more updates are written at an origin node; every node
 * runs gossip rounds on its own timer and contacts `fanout` peers chosen
 * uniformly among all other nodes.  Two families of the paper:
 *
 *   anti_entropy   every holder keeps exchanging everything it holds,
 *                  forever (a simple epidemic: it always converges);
 *   rumor          an update is "hot" (infective) at a node until the node
 *                  loses interest in it (a complex epidemic: it dies out
 *                  and may leave a residue of nodes that never heard it).
 *
 * and three directions: push (the caller sends), pull (the caller asks and
 * the callee answers) and push_pull (both in one exchange).  A rumor node
 * loses interest in an update after "strikes": an unnecessary contact (a
 * peer that already knew it) with feedback, or any contact when blind.
 * With a counter it gives up after k strikes since its last necessary
 * contact; with a coin, with probability 1/k at each strike (section 1.4).
 *
 * A node knows nothing about the others: it does not know who is down or
 * cut off, so a contact with a crashed or partitioned peer is simply lost.
 * What only the simulator can see (how many nodes hold an update, whether
 * every live node does) is kept in the shared oracle, for metrics and for
 * stop_when_done, and is never read to make a node's decision.
 *
 * Rounds.  Each node's rounds run at offset + m * period.  With phase
 * "random" (the default) the offset is drawn from the node's own stream at
 * node_init, uniform in [0, period): real nodes are not synchronised, and
 * lock-step rounds create artefacts (every message of a round arrives in a
 * burst, and a node infected during a round can never act in it).  Demers'
 * analysis and simulations assume synchronous rounds; phase "aligned"
 * (offset 0 everywhere) gives those, as long as the network latency is
 * constant and shorter than a period.
 *
 * Invariants (the first three checked by SIM_ASSERT in settle() after
 * every hook):
 *  (1) hot is a subset of have at every node: only a holder spreads.
 *  (2) In anti_entropy mode hot == have: a holder never stops exchanging.
 *  (3) holders[u] is the number of nodes, up or down, whose have holds u;
 *      holders_live[u] the number of up nodes; live the number of up nodes;
 *      so holders_live[u] <= live and holders_live[u] <= holders[u].
 *  (4) The oracle is updated by the node whose state changes, in the same
 *      hook, so it equals the sum over the nodes at the end of every hook.
 *  (5) A node changes its state only on its own events (a message, its
 *      timers, its crash, recovery or replacement); it reads no other
 *      node's state and nothing of the oracle.
 *  (6) Each update is injected exactly once, at the origin, at
 *      inject_at + u * update_interval, or when the origin recovers if it
 *      was down then.
 *  (7) Rumor mode: once a node has lost interest in u it never spreads u
 *      again, unless a volatile crash or a replacement made it forget u.
 *  (8) Messages that arrive at the same instant are simultaneous: an
 *      update learned at this instant does not count as "already known" in
 *      feedback, so the kernel's tie-break (send order) never decides which
 *      contact was necessary.
 *
 * States of one update at one node:
 *
 *                   learn()                     lose_interest()
 *     susceptible ----------> infective ----------------------> removed
 *          ^                      |      (rumor mode only)          |
 *          |                      v                                 v
 *          +---------- forget(): volatile crash, replacement -------+
 *
 * Transitions:
 *     susceptible -> infective   learn(): inject() at the origin; take()
 *                                for a push or a pull_reply
 *     infective -> removed       lose_interest() from strike(): in
 *                                send_round() (blind push), serve() (the
 *                                callee of a pull or push-pull), judge()
 *                                (feedback or a pull_reply's feedback)
 *     any -> susceptible         forget(): gossip_on_crash() with
 *                                "volatile", gossip_node_fini() before a
 *                                replacement's gossip_node_init()
 *
 * Messages (header_bytes on the wire, plus update_bytes per update carried):
 *     push          updates the sender spreads; with `reply` set (push_pull)
 *                   also its digest, asking for a pull_reply
 *     pull_request  the sender's digest (every update it holds)
 *     pull_reply    updates the asker lacks and, in rumor push_pull with
 *                   feedback, which of the pushed updates were known
 *     feedback      rumor push with feedback: answers every push, saying
 *                   which pushed updates the recipient already held
 * A callee with nothing to send does not answer: the caller needs no reply.
 */
#include "gossip.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { MSG_PUSH, MSG_PULL_REQUEST, MSG_PULL_REPLY, MSG_FEEDBACK };
static const char *const gossip_msg_types[] = {"push", "pull_request", "pull_reply", "feedback",
                                               NULL};

enum { TIMER_ROUND, TIMER_INJECT };

/* The payload: five uint64_t, no padding, so every byte that reaches the
 * trace hash is defined. */
typedef struct gossip_msg {
    uint64_t digest;  /* every update the sender holds (pull_request, push_pull) */
    uint64_t updates; /* updates carried */
    uint64_t acked;   /* feedback: the pushed updates this message answers */
    uint64_t known;   /* feedback: those of them the sender already held */
    uint64_t reply;   /* 1: the sender wants a pull_reply (push_pull) */
} gossip_msg;

static const char *const mode_names[] = {"anti_entropy", "rumor", NULL};
static const char *const direction_names[] = {"push", "pull", "push_pull", NULL};
static const char *const feedback_names[] = {"feedback", "blind", NULL};
static const char *const removal_names[] = {"counter", "coin", NULL};
static const char *const phase_names[] = {"random", "aligned", NULL};

static int popcount64(uint64_t x) {
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static uint64_t bit(int u) { return (uint64_t)1 << u; }

/* ---- Configuration. ---- */

/* Reads every key.  Called by configure and again by validate, whose fresh
 * frame would otherwise report the keys it did not read as unknown. */
static int read_keys(sim_cfg *c, gossip_shared *p) {
    if (sim_cfg_enum(c, "mode", "anti_entropy", mode_names, &p->mode) < 0 ||
        sim_cfg_enum(c, "direction", "push_pull", direction_names, &p->direction) < 0 ||
        sim_cfg_time(c, "period", "1s", SIM_US, 3600 * SIM_S, &p->period) < 0 ||
        sim_cfg_enum(c, "phase", "random", phase_names, &p->phase) < 0 ||
        sim_cfg_int(c, "fanout", 1, 1, GOSSIP_MAX_FANOUT, &p->fanout) < 0 ||
        sim_cfg_int(c, "k", 1, 1, 255, &p->k) < 0 ||
        sim_cfg_enum(c, "feedback", "feedback", feedback_names, &p->feedback) < 0 ||
        sim_cfg_enum(c, "removal", "counter", removal_names, &p->removal) < 0 ||
        sim_cfg_time(c, "inject_at", "0s", 0, (sim_time)1000 * 3600 * SIM_S, &p->inject_at) < 0 ||
        sim_cfg_int(c, "updates", 1, 1, GOSSIP_MAX_UPDATES, &p->updates) < 0 ||
        sim_cfg_time(c, "update_interval", "1s", 0, 3600 * SIM_S, &p->update_interval) < 0 ||
        sim_cfg_bool(c, "stop_when_done", true, &p->stop_when_done) < 0 ||
        sim_cfg_bool(c, "volatile", false, &p->volatile_state) < 0 ||
        sim_cfg_int(c, "update_bytes", 64, 1, 1 << 20, &p->update_bytes) < 0 ||
        sim_cfg_int(c, "header_bytes", 16, 1, 1 << 20, &p->header_bytes) < 0)
        return -1;
    return 0;
}

static int gossip_configure(sim_cfg *c, void *shared) {
    gossip_shared *p = shared;
    /* The origin's default is the first node, which does not exist yet:
     * validate resolves it; "" only marks the key as known here. */
    if (read_keys(c, p) < 0 || sim_cfg_str(c, "origin", "", &p->origin_name) < 0)
        return -1;
    sim *s = sim_cfg_sim(c);
    p->c_rounds = sim_counter(s, "gossip.rounds");
    p->c_contacts = sim_counter(s, "gossip.contacts");
    p->c_infections = sim_counter(s, "gossip.infections");
    p->c_redundant = sim_counter(s, "gossip.redundant");
    p->c_removals = sim_counter(s, "gossip.removals");
    p->c_forgotten = sim_counter(s, "gossip.forgotten");
    p->c_injected = sim_counter(s, "gossip.injected");
    p->c_update_copies = sim_counter(s, "gossip.update_copies");
    p->g_informed = sim_gauge(s, "gossip.informed");
    p->g_infective = sim_gauge(s, "gossip.infective");
    p->h_delay = sim_histogram(s, "gossip.infection_delay", "ns");
    return 0;
}

static int gossip_validate(sim_cfg *c, void *shared) {
    gossip_shared *p = shared;
    sim *s = sim_cfg_sim(c);
    p->n_nodes = sim_node_count(s);
    if (read_keys(c, p) < 0)
        return -1;
    const char *def = p->origin_name[0] ? p->origin_name : sim_node_name(s, 0);
    if (sim_cfg_node(c, "origin", def, &p->origin) < 0)
        return -1;
    p->origin_name = sim_node_name(s, p->origin);
    return 0;
}

/* ---- The oracle. ---- */

/*
 * Nothing can change any more.  Anti-entropy: every node is up and holds
 * every update (a node that is down will want them when it recovers), so
 * no message in flight can teach anyone anything.  Rumor: no node, up or
 * down, has a hot update, and no message is in flight (the kernel's count,
 * which forgets dropped and counts duplicated messages): nothing on the
 * wire can revive a rumor.
 */
static bool is_done(const sim *s, const gossip_shared *p) {
    if (p->injected < p->updates)
        return false;
    if (p->mode == GOSSIP_ANTI_ENTROPY) {
        if (p->live != p->n_nodes)
            return false;
        for (int64_t u = 0; u < p->updates; u++)
            if (p->holders_live[u] != p->live)
                return false;
        return true;
    }
    /* Rumors: nobody is spreading and nothing that could revive one is
     * still on the wire (lost messages no longer count as in flight). */
    return p->hot_nodes == 0 && sim_messages_in_flight(s) == 0;
}

/* Ends every hook that may change state: checks the invariants, updates
 * the all-informed flags and the gauges, and stops the run when done. */
static void settle(sim_ctx *ctx, gossip_shared *p, const gossip_node *g) {
    sim *s = sim_of(ctx);
    sim_time now = sim_now(ctx);
    SIM_ASSERT((g->hot & ~g->have) == 0);
    SIM_ASSERT(p->mode != GOSSIP_ANTI_ENTROPY || g->hot == g->have);
    SIM_ASSERT(p->live <= p->n_nodes && p->infective_live <= p->live);
    for (int64_t u = 0; u < p->injected; u++) {
        SIM_ASSERT(p->holders_live[u] <= p->live && p->holders_live[u] <= p->holders[u]);
        bool all = p->live > 0 && p->holders_live[u] == p->live;
        if (all && !p->all_now[u])
            p->all_since[u] = now;
        p->all_now[u] = all;
    }
    sim_gauge_set(s, p->g_informed, p->injected ? (double)p->holders_live[p->injected - 1] : 0.0);
    sim_gauge_set(s, p->g_infective, (double)p->infective_live);
    if (p->stop_when_done && !p->stopped && is_done(s, p)) {
        p->stopped = true;
        p->stopped_at = now;
        sim_stop(ctx);
    }
}

/* Sets a node's hot set, keeping the infective counts (invariant 4). */
static void set_hot(gossip_shared *p, gossip_node *g, uint64_t hot, bool up) {
    if (!g->hot && hot) {
        p->hot_nodes++;
        p->infective_live += up;
    } else if (g->hot && !hot) {
        p->hot_nodes--;
        p->infective_live -= up;
    }
    g->hot = hot;
}

/* ---- State changes. ---- */

/* susceptible -> infective for every update of `fresh` (none already held). */
static void learn(sim_ctx *ctx, gossip_shared *p, gossip_node *g, uint64_t fresh, bool injected) {
    sim *s = sim_of(ctx);
    sim_time now = sim_now(ctx);
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++) {
        if (!(fresh & bit(u)))
            continue;
        g->have |= bit(u);
        g->learned_at[u] = now;
        g->unnecessary[u] = 0;
        p->holders[u]++;
        p->holders_live[u]++;
        if (!injected) {
            sim_time d = now - p->injected_at[u];
            sim_count(s, p->c_infections, 1);
            sim_record(s, p->h_delay, d);
            p->delay_count++;
            p->delay_sum_ns += d;
            if (d > p->delay_max_ns)
                p->delay_max_ns = d;
        }
    }
    set_hot(p, g, g->hot | fresh, true);
}

/* infective -> removed. */
static void lose_interest(sim_ctx *ctx, gossip_shared *p, gossip_node *g, int u) {
    sim_count(sim_of(ctx), p->c_removals, 1);
    set_hot(p, g, g->hot & ~bit(u), true);
}

/* One strike against hot update u: an unnecessary contact (feedback) or
 * any contact (blind).  Counter: out after k strikes since the last
 * necessary contact; coin: out with probability 1/k. */
static void strike(sim_ctx *ctx, gossip_shared *p, gossip_node *g, int u) {
    if (!(g->hot & bit(u)))
        return;
    bool out;
    if (p->removal == GOSSIP_COUNTER) {
        if (g->unnecessary[u] < 255)
            g->unnecessary[u]++;
        out = g->unnecessary[u] >= p->k;
    } else {
        out = sim_rng_below(sim_node_rng(ctx), (uint32_t)p->k) == 0;
    }
    if (out)
        lose_interest(ctx, p, g, u);
}

static void strike_all(sim_ctx *ctx, gossip_shared *p, gossip_node *g, uint64_t set) {
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++)
        if (set & bit(u))
            strike(ctx, p, g, u);
}

/*
 * Feedback on a contact about the updates `acked`: those in `known` were
 * unnecessary (a strike), the others necessary, which resets the counter.
 * The reset is what Demers et al. simulated: their traffic bound k(2m-1)
 * counts unnecessary messages "within the last k cycles" of a necessary one,
 * and Table 1 is reproduced only with it (docs/models/gossip.md).
 */
static void judge(sim_ctx *ctx, gossip_shared *p, gossip_node *g, uint64_t acked, uint64_t known) {
    strike_all(ctx, p, g, acked & known);
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++)
        if (acked & ~known & g->hot & bit(u))
            g->unnecessary[u] = 0;
}

/* Any -> susceptible: the node's memory is gone (volatile crash or
 * replacement).  The node is down. */
static void forget(sim_ctx *ctx, gossip_shared *p, gossip_node *g) {
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++)
        if (g->have & bit(u))
            p->holders[u]--;
    sim_count(sim_of(ctx), p->c_forgotten, popcount64(g->have));
    set_hot(p, g, 0, false);
    g->have = 0;
    memset(g->unnecessary, 0, sizeof g->unnecessary);
}

/* ---- Sending. ---- */

static void send(sim_ctx *ctx, gossip_shared *p, uint32_t dst, uint32_t type, const gossip_msg *m) {
    int n = popcount64(m->updates);
    uint32_t wire = (uint32_t)(p->header_bytes + n * p->update_bytes);
    sim_send(ctx, dst, type, m, sizeof *m, wire);
    p->messages++;
    p->bytes += wire;
    if (n) {
        p->update_copies += n;
        sim_count(sim_of(ctx), p->c_update_copies, n);
    }
}

/* Draws min(fanout, n-1) distinct peers uniformly among the other nodes,
 * up or down: the node has no failure detector. */
static uint32_t pick_peers(sim_ctx *ctx, const gossip_shared *p, uint32_t *out) {
    uint32_t self = sim_self(ctx), others = p->n_nodes - 1;
    uint32_t f = (uint32_t)p->fanout < others ? (uint32_t)p->fanout : others;
    sim_rng *rng = sim_node_rng(ctx);
    for (uint32_t i = 0; i < f; i++) {
        bool dup;
        do {
            uint32_t j = sim_rng_below(rng, others);
            out[i] = j >= self ? j + 1 : j;
            dup = false;
            for (uint32_t q = 0; q < i && !dup; q++)
                dup = out[q] == out[i];
        } while (dup);
    }
    return f;
}

/* The next round time >= now on this node's grid. */
static sim_time next_round(const gossip_shared *p, const gossip_node *g, sim_time now) {
    if (now <= g->offset)
        return g->offset;
    sim_time m = (now - g->offset + p->period - 1) / p->period;
    return g->offset + m * p->period;
}

static void arm_round(sim_ctx *ctx, const gossip_shared *p, const gossip_node *g) {
    sim_time now = sim_now(ctx);
    sim_timer_set(ctx, next_round(p, g, now) - now, TIMER_ROUND, 0);
}

/* At the origin: schedules the next update not yet injected. */
static void arm_inject(sim_ctx *ctx, const gossip_shared *p) {
    if (sim_self(ctx) != p->origin || p->injected >= p->updates)
        return;
    sim_time due = p->inject_at + p->injected * p->update_interval, now = sim_now(ctx);
    sim_timer_set(ctx, due > now ? due - now : 0, TIMER_INJECT, (uint64_t)p->injected);
}

static void send_round(sim_ctx *ctx, gossip_shared *p, gossip_node *g) {
    uint32_t peers[GOSSIP_MAX_FANOUT];
    uint32_t n = pick_peers(ctx, p, peers);
    sim *s = sim_of(ctx);
    sim_count(s, p->c_rounds, 1);
    bool rumor = p->mode == GOSSIP_RUMOR;
    for (uint32_t i = 0; i < n; i++) {
        /* What the node spreads: everything (anti-entropy) or its hot
         * rumors, which may shrink between peers under blind removal. */
        uint64_t spread = rumor ? g->hot : g->have;
        gossip_msg m = {.digest = g->have};
        uint32_t type;
        if (p->direction == GOSSIP_PULL || (p->direction == GOSSIP_PUSH_PULL && !spread)) {
            type = MSG_PULL_REQUEST;
        } else if (spread) {
            type = MSG_PUSH;
            m.updates = spread;
            m.reply = p->direction == GOSSIP_PUSH_PULL;
            if (!m.reply)
                m.digest = 0; /* a plain push carries no digest */
        } else {
            continue; /* push with nothing to spread: no contact */
        }
        sim_count(s, p->c_contacts, 1);
        send(ctx, p, peers[i], type, &m);
        if (rumor && type == MSG_PUSH && p->feedback == GOSSIP_BLIND)
            strike_all(ctx, p, g, spread);
    }
}

/* ---- Hooks. ---- */

static void gossip_node_init(sim_ctx *ctx, void *node) {
    gossip_shared *p = sim_shared(ctx);
    gossip_node *g = node;
    p->live++;
    g->offset = p->phase == GOSSIP_PHASE_RANDOM
                    ? (sim_time)sim_rng_below64(sim_node_rng(ctx), (uint64_t)p->period)
                    : 0;
    arm_inject(ctx, p);
    arm_round(ctx, p, g);
    settle(ctx, p, g);
}

static void inject(sim_ctx *ctx, gossip_shared *p, gossip_node *g, int u) {
    SIM_ASSERT(u == p->injected && !(g->have & bit(u)));
    p->injected_at[u] = sim_now(ctx);
    p->injected++;
    sim_count(sim_of(ctx), p->c_injected, 1);
    sim_log(ctx, "update %d injected", u);
    learn(ctx, p, g, bit(u), true);
    arm_inject(ctx, p);
}

static void gossip_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    gossip_shared *p = sim_shared(ctx);
    gossip_node *g = node;
    if (kind == TIMER_INJECT) {
        inject(ctx, p, g, (int)arg);
    } else {
        send_round(ctx, p, g);
        sim_timer_set(ctx, p->period, TIMER_ROUND, 0);
    }
    settle(ctx, p, g);
}

/*
 * Takes in the updates of m the node lacks and returns, for feedback, those
 * it already knew.  An update learned at this very instant does not count
 * as known: messages that arrive together are simultaneous, and which of
 * them the kernel happens to deliver first (send order) must not decide
 * which contact was necessary.  This only matters with aligned rounds,
 * where it gives the synchronous rounds of the paper, in which every
 * contact of a cycle sees the state at the start of the cycle.
 */
static uint64_t take(sim_ctx *ctx, gossip_shared *p, gossip_node *g, const gossip_msg *m) {
    sim_time now = sim_now(ctx);
    uint64_t held = m->updates & g->have, fresh = m->updates & ~g->have, known = 0;
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++)
        if ((held & bit(u)) && g->learned_at[u] != now)
            known |= bit(u);
    if (held)
        sim_count(sim_of(ctx), p->c_redundant, popcount64(held));
    if (fresh)
        learn(ctx, p, g, fresh, false);
    return known;
}

/*
 * Serving a peer that holds `digest`: returns the updates to send it, and
 * in rumor mode judges the node's own hot rumors by this contact (feedback:
 * unnecessary if the peer held them, necessary if not; blind: a strike for
 * each).  Only rumors hot before the contact count: one just learned from
 * this peer is not a contact of its own.
 */
static uint64_t serve(sim_ctx *ctx, gossip_shared *p, gossip_node *g, uint64_t hot_before,
                      uint64_t digest) {
    if (p->mode == GOSSIP_ANTI_ENTROPY)
        return g->have & ~digest;
    uint64_t give = hot_before & ~digest;
    if (p->feedback == GOSSIP_BLIND)
        strike_all(ctx, p, g, hot_before);
    else
        judge(ctx, p, g, hot_before, hot_before & digest);
    return give;
}

static bool wants_feedback(const gossip_shared *p) {
    return p->mode == GOSSIP_RUMOR && p->feedback == GOSSIP_FEEDBACK;
}

static void on_push(sim_ctx *ctx, gossip_shared *p, gossip_node *g, const sim_msg *msg,
                    const gossip_msg *m) {
    uint64_t hot_before = g->hot;
    uint64_t known = take(ctx, p, g, m);
    if (m->reply) {
        gossip_msg r = {.digest = g->have, .updates = serve(ctx, p, g, hot_before, m->digest)};
        if (wants_feedback(p)) {
            r.acked = m->updates;
            r.known = known;
        }
        if (r.updates || r.acked)
            send(ctx, p, msg->src, MSG_PULL_REPLY, &r);
    } else if (wants_feedback(p)) {
        gossip_msg r = {.digest = g->have, .acked = m->updates, .known = known};
        send(ctx, p, msg->src, MSG_FEEDBACK, &r);
    }
}

static void on_pull_request(sim_ctx *ctx, gossip_shared *p, gossip_node *g, const sim_msg *msg,
                            const gossip_msg *m) {
    gossip_msg r = {.digest = g->have, .updates = serve(ctx, p, g, g->hot, m->digest)};
    if (r.updates)
        send(ctx, p, msg->src, MSG_PULL_REPLY, &r);
}

static void gossip_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    gossip_shared *p = sim_shared(ctx);
    gossip_node *g = node;
    gossip_msg m;
    SIM_ASSERT(msg->len == sizeof m);
    memcpy(&m, msg->data, sizeof m);
    switch (msg->type) {
    case MSG_PUSH:
        on_push(ctx, p, g, msg, &m);
        break;
    case MSG_PULL_REQUEST:
        on_pull_request(ctx, p, g, msg, &m);
        break;
    case MSG_PULL_REPLY:
        take(ctx, p, g, &m);
        if (wants_feedback(p))
            judge(ctx, p, g, m.acked, m.known);
        break;
    case MSG_FEEDBACK:
        if (wants_feedback(p))
            judge(ctx, p, g, m.acked, m.known);
        break;
    default:
        SIM_ASSERT(0);
    }
    settle(ctx, p, g);
}

/* The kernel has cancelled the node's timers.  Durable state survives; a
 * volatile node forgets everything. */
static void gossip_on_crash(sim_ctx *ctx, void *node) {
    gossip_shared *p = sim_shared(ctx);
    gossip_node *g = node;
    p->live--;
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++)
        if (g->have & bit(u))
            p->holders_live[u]--;
    if (g->hot)
        p->infective_live--;
    if (p->volatile_state)
        forget(ctx, p, g);
    settle(ctx, p, g);
}

static void gossip_on_recover(sim_ctx *ctx, void *node) {
    gossip_shared *p = sim_shared(ctx);
    gossip_node *g = node;
    p->live++;
    for (int u = 0; u < GOSSIP_MAX_UPDATES; u++)
        if (g->have & bit(u))
            p->holders_live[u]++;
    if (g->hot)
        p->infective_live++;
    arm_inject(ctx, p);
    arm_round(ctx, p, g);
    settle(ctx, p, g);
}

/* Before a replacement the old node, which is down, leaves the oracle with
 * what it held.  At the end of the run (after the report) this does the
 * same for nodes that are down, harmlessly.  Nothing to free: the state is
 * fixed-size. */
static void gossip_node_fini(sim_ctx *ctx, void *node) {
    gossip_shared *p = sim_shared(ctx);
    gossip_node *g = node;
    if (!sim_node_up(sim_of(ctx), sim_self(ctx)))
        forget(ctx, p, g);
}

/* ---- Report. ---- */

static void gossip_report(sim_report *r, void *shared) {
    gossip_shared *p = shared;
    double n = (double)p->n_nodes;
    char what[160];
    if (p->mode == GOSSIP_RUMOR)
        snprintf(what, sizeof what, "rumor mongering, %s, %s + %s k=%lld",
                 direction_names[p->direction], feedback_names[p->feedback],
                 removal_names[p->removal], (long long)p->k);
    else
        snprintf(what, sizeof what, "anti-entropy, %s", direction_names[p->direction]);
    char per[40];
    sim_time_format(p->period, per, sizeof per);
    sim_report_line(r, "gossip: %s, fanout %lld, period %s, %u nodes, origin %s", what,
                    (long long)p->fanout, per, p->n_nodes, p->origin_name);

    sim_report_int(r, "updates_injected", p->injected);
    if (p->injected == 0) {
        sim_report_line(r, "no update was injected before the end (inject_at is too late?)");
        return;
    }
    int64_t reached = 0;
    double t_sum = 0, residue = 0;
    for (int64_t u = 0; u < p->injected; u++) {
        if (p->all_now[u]) {
            reached++;
            t_sum += sim_time_to_s(p->all_since[u] - p->injected_at[u]);
        }
        residue += (n - (double)p->holders[u]) / n;
    }
    residue /= (double)p->injected;
    double per_s = sim_time_to_s(p->period);
    sim_report_int(r, "updates_reached_all", reached);
    if (reached == p->injected) {
        double t = t_sum / (double)reached;
        sim_report_num(r, "time_to_all_s", t);
        sim_report_num(r, "rounds_to_all", t / per_s);
        sim_report_line(r, "every live node (%u) holds %s %.3f s after injection (%.1f rounds)",
                        p->live, p->injected > 1 ? "each update on average" : "the update", t,
                        t / per_s);
    } else {
        if (p->injected == 1)
            sim_report_line(r, "time_to_all: never; at the end %u of %u live nodes hold the update",
                            p->holders_live[0], p->live);
        else
            sim_report_line(r,
                            "time_to_all: never for %lld of %lld updates; at the end %u of %u "
                            "live nodes hold the last one",
                            (long long)(p->injected - reached), (long long)p->injected,
                            p->holders_live[p->injected - 1], p->live);
    }
    sim_report_num(r, "residue", residue);
    sim_report_int(r, "messages_sent", p->messages);
    sim_report_int(r, "bytes_sent", p->bytes);
    sim_report_num(r, "messages_per_node", (double)p->messages / n);
    sim_report_num(r, "bytes_per_node", (double)p->bytes / n);
    double copies = (double)p->update_copies / (n * (double)p->injected);
    sim_report_num(r, "update_copies_per_node", copies);
    sim_report_line(r, "residue %.4f (fraction of nodes without the update at the end)", residue);
    sim_report_line(r,
                    "traffic: %lld messages (%.1f per node), %.1f KiB; %.2f update copies "
                    "per node per update",
                    (long long)p->messages, (double)p->messages / n, (double)p->bytes / 1024.0,
                    copies);
    if (p->delay_count) {
        double mean = (double)p->delay_sum_ns / (double)p->delay_count / 1e9;
        double last = sim_time_to_s(p->delay_max_ns);
        sim_report_num(r, "infection_delay_mean_s", mean);
        sim_report_num(r, "infection_delay_last_s", last);
        sim_report_line(r, "infection delay: mean %.3f s (%.1f rounds), last %.3f s (%.1f rounds)",
                        mean, mean / per_s, last, last / per_s);
    }
    if (p->stopped) {
        sim_report_num(r, "stopped_at_s", sim_time_to_s(p->stopped_at));
        sim_report_line(r, "stopped at %.3f s: %s", sim_time_to_s(p->stopped_at),
                        p->mode == GOSSIP_RUMOR ? "every rumor has died out"
                                                : "every node is up and holds every update");
    }
}

/*
 * What a run will cost (sim_model.estimate, for the kernel's budget): every
 * node starts a round each period and contacts `fanout` peers, each contact
 * a message and its answer.  A run that stops when done lasts until the
 * last update is injected and some 2 log2(n) + 10 rounds more (push-pull
 * needs about log3(n) + ln ln(n)); one that does not lasts the duration.
 */
static void gossip_estimate(const sim *s, const void *shared, sim_model_estimate *e) {
    const gossip_shared *p = shared;
    double n = (double)sim_node_count(s);
    double rounds = (double)sim_duration(s) / (double)p->period;
    if (p->stop_when_done) {
        double until =
            (double)(p->inject_at + (p->updates - 1) * p->update_interval) / (double)p->period +
            2 * log2(n > 2 ? n : 2) + 10;
        if (until < rounds)
            rounds = until;
    }
    double per_round = 1 + 2 * (double)p->fanout;
    e->events = n * rounds * per_round;
    e->events_key = "nodes";
    snprintf(e->events_why, sizeof e->events_why,
             "%.0f nodes for about %.0f rounds, %.0f events each per round", n, rounds, per_round);
}

const sim_model gossip_model = {
    .name = "gossip",
    .summary = "epidemic dissemination (Demers 1987): anti-entropy and rumor mongering",
    .msg_types = gossip_msg_types,
    .shared_size = sizeof(gossip_shared),
    .node_size = sizeof(gossip_node),
    .configure = gossip_configure,
    .validate = gossip_validate,
    .node_init = gossip_node_init,
    .on_message = gossip_on_message,
    .on_timer = gossip_on_timer,
    .on_crash = gossip_on_crash,
    .on_recover = gossip_on_recover,
    .report = gossip_report,
    .node_fini = gossip_node_fini,
    .estimate = gossip_estimate,
};
