/*
 * net.c - the simulated network: link latency, loss and duplication,
 * partitions, slow nodes and links, and message accounting.
 *
 * A message is delivered iff (a) no partition separates sender and
 * receiver when it is sent, (b) the loss draw spares it, and (c) on arrival
 * the receiver is up and has not crashed since the message was sent (the
 * epoch check in sim.c).  Latency comes from the last link rule that sets
 * one for (sender, receiver, message type), else the default, multiplied
 * by the slow factors of both ends and of any slowed link.  All draws come
 * from the sender's network stream, so one node's traffic never shifts
 * another node's latencies.
 */
#include "sim_int.h"

#include <math.h>
#include <stdlib.h>

bool sim__nodeset_has(const sim__nodeset *set, uint32_t node) {
    uint32_t lo = 0, hi = set->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (set->nodes[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < set->n && set->nodes[lo] == node;
}

bool sim__sel_has(const sim *s, sim__sel sel, uint32_t node) {
    switch (sel.kind) {
    case SIM_SEL_ANY:
        return true;
    case SIM_SEL_NODE:
        return sel.id == node;
    case SIM_SEL_GROUP:
        return s->nodes[node].group == (int)sel.id;
    }
    return false;
}

static bool pair_matches(const sim *s, sim__sel from, sim__sel to, bool one_way, uint32_t src,
                         uint32_t dst) {
    if (sim__sel_has(s, from, src) && sim__sel_has(s, to, dst))
        return true;
    return !one_way && sim__sel_has(s, from, dst) && sim__sel_has(s, to, src);
}

bool sim__net_path_up(const sim *s, uint32_t src, uint32_t dst) {
    if (src == dst)
        return true;
    int a = s->nodes[src].part, b = s->nodes[dst].part;
    if (a && b && a != b)
        return false;
    for (uint32_t i = 0; i < s->n_cuts; i++)
        if (sim__nodeset_has(&s->cuts[i].from, src) && sim__nodeset_has(&s->cuts[i].to, dst))
            return false;
    return true;
}

/* Schedules one copy of the message. */
static inline void deliver_later(sim *s, uint32_t src, uint32_t dst, uint32_t type,
                                 const void *data, uint32_t len, uint32_t wire_bytes,
                                 sim_time latency) {
    sim_queue *q = &s->queue;
    uint32_t slot = sim_queue_alloc(q);
    sim_event *ev = sim_queue_slot(q, slot);
    ev->kind = SIM_EV_MSG;
    ev->node = dst;
    ev->src = src;
    ev->type = type;
    ev->wire_bytes = wire_bytes;
    ev->epoch = s->epoch[dst];
    ev->sent_at = s->now;
    sim_queue_set_data(q, ev, data, len);
    SIM_ASSERT(latency >= 0 && s->now <= SIM_TIME_MAX - latency);
    sim_queue_push(q, s->now + latency, slot);
    s->in_flight++;
}

static void net_send_by_rules(sim *s, uint32_t src, uint32_t dst, uint32_t type, const void *data,
                              uint32_t len, uint32_t wire_bytes, sim_time delay)
    __attribute__((noinline));

void sim__net_send(sim *s, uint32_t src, uint32_t dst, uint32_t type, const void *data,
                   uint32_t len, uint32_t wire_bytes, sim_time delay) {
    SIM_ASSERT(dst < s->n_nodes);
    SIM_ASSERT(type < s->n_types);
    if (wire_bytes == 0)
        wire_bytes = len;
    sim__msg_stats *ms = &s->msg_stats[type];
    ms->sent++;
    ms->bytes += wire_bytes;
    s->kval[KC_SENT] += 1;
    s->kval[KC_BYTES] += wire_bytes;

    if (src == dst) {
        /* Local delivery crosses no link: no latency, loss or partition. */
        deliver_later(s, src, dst, type, data, len, wire_bytes, delay);
        return;
    }
    if (s->net_plain) {
        sim_time latency = s->plain_latency >= 0
                               ? s->plain_latency
                               : sim_dist_sample_time(&s->default_latency, &s->nodes[src].net_rng);
        latency = latency > SIM_TIME_MAX - delay ? SIM_TIME_MAX : latency + delay;
        if (latency > SIM_TIME_MAX - s->now)
            latency = SIM_TIME_MAX - s->now;
        deliver_later(s, src, dst, type, data, len, wire_bytes, latency);
        return;
    }
    net_send_by_rules(s, src, dst, type, data, len, wire_bytes, delay);
}

/* Partitions, link rules, loss, duplication and slow links: out of line, so
 * that the plain path above stays small. */
static void net_send_by_rules(sim *s, uint32_t src, uint32_t dst, uint32_t type, const void *data,
                              uint32_t len, uint32_t wire_bytes, sim_time delay) {
    sim__msg_stats *ms = &s->msg_stats[type];
    if (!sim__net_path_up(s, src, dst)) {
        ms->dropped++;
        s->kval[KC_DROPPED_PARTITION] += 1;
        return;
    }

    const sim_dist *lat = &s->default_latency;
    double loss = s->default_loss, dup = s->default_duplicate;
    for (uint32_t i = 0; i < s->n_rules; i++) {
        const sim__link_rule *r = &s->rules[i];
        if (r->msg_type >= 0 && (uint32_t)r->msg_type != type)
            continue;
        if (!pair_matches(s, r->from, r->to, r->one_way, src, dst))
            continue;
        if (r->has_latency)
            lat = &r->latency;
        if (r->has_loss)
            loss = r->loss;
        if (r->has_duplicate)
            dup = r->duplicate;
    }

    sim__node *n = &s->nodes[src];
    if (loss > 0 && sim_rng_double(&n->loss_rng) < loss) {
        ms->dropped++;
        s->kval[KC_DROPPED_LOSS] += 1;
        return;
    }
    double factor = n->slow * s->nodes[dst].slow;
    for (uint32_t i = 0; i < s->n_slow_links; i++) {
        const sim__slow_link *l = &s->slow_links[i];
        if (pair_matches(s, l->from, l->to, l->one_way, src, dst))
            factor *= l->factor;
    }
    int copies = 1;
    if (dup > 0 && sim_rng_double(&n->loss_rng) < dup) {
        copies = 2;
        s->kval[KC_DUPLICATED] += 1;
    }
    for (int k = 0; k < copies; k++) {
        sim_time latency;
        if (factor == 1.0) {
            latency = sim_dist_sample_time(lat, &n->net_rng);
        } else {
            double x = sim_dist_sample(lat, &n->net_rng) * factor;
            latency = x >= 9.2e18 ? SIM_TIME_MAX / 2 : (sim_time)llround(x);
        }
        latency = latency > SIM_TIME_MAX - delay ? SIM_TIME_MAX : latency + delay;
        if (latency > SIM_TIME_MAX - s->now)
            latency = SIM_TIME_MAX - s->now;
        deliver_later(s, src, dst, type, data, len, wire_bytes, latency);
    }
}

void sim__net_refresh(sim *s) {
    bool plain = s->n_rules == 0 && !s->partitioned && s->n_cuts == 0 && s->n_slow_links == 0 &&
                 s->default_loss == 0 && s->default_duplicate == 0;
    for (uint32_t i = 0; plain && i < s->n_nodes; i++)
        plain = s->nodes[i].slow == 1.0;
    s->net_plain = plain;
    /* A constant draws nothing from the stream, so skipping the call
     * changes no other draw. */
    s->plain_latency = -1;
    if (s->default_latency.kind == SIM_DIST_CONSTANT)
        s->plain_latency = sim_dist_sample_time(&s->default_latency, &s->nodes[0].net_rng);
}

void sim__net_fini(sim *s) {
    sim_dist_fini(&s->default_latency);
    for (uint32_t i = 0; i < s->n_rules; i++)
        sim_dist_fini(&s->rules[i].latency);
    sim_free(s->rules);
    for (uint32_t i = 0; i < s->n_cuts; i++) {
        sim_free(s->cuts[i].from.nodes);
        sim_free(s->cuts[i].to.nodes);
    }
    sim_free(s->cuts);
    sim_free(s->slow_links);
    sim_free(s->msg_stats);
}
