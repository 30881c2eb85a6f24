/*
 * faults.c - crashes, recoveries, replacements, partitions, slowdowns and
 * clock changes: the scenario's schedule and random injection.
 *
 * Scheduled faults become kernel events at their time; random faults draw
 * their times from the faults stream of each node (crash/recover cycles
 * from MTBF and MTTR distributions) and from one partition stream, so they
 * depend on the seed only.  A crash increments the node's epoch: timers set
 * and messages sent to it before the crash are dropped when they surface,
 * which makes a crash O(1) whatever is pending.
 */
#include "sim_int.h"

#include <stdlib.h>
#include <string.h>

const char *const sim__fault_names[SIM_FAULT_KIND_COUNT] = {
    "partition", "partition_one_way", "heal", "crash",     "recover",
    "fail",      "replace",           "slow", "slow_link", "clock",
};

static void schedule_kernel(sim *s, sim_time at, int kind, uint32_t node, uint64_t arg) {
    sim_queue *q = &s->queue;
    uint32_t slot = sim_queue_alloc(q);
    sim_event *ev = sim_queue_slot(q, slot);
    ev->kind = (uint8_t)kind;
    ev->node = node;
    ev->src = UINT32_MAX;
    ev->data.arg = arg;
    sim_queue_push(q, at, slot);
}

static void schedule_crash(sim *s, uint32_t node) {
    sim__node *n = &s->nodes[node];
    sim_time d = sim_dist_sample_time(&s->random_crash.mtbf, &n->fault_rng);
    if (d <= SIM_TIME_MAX - s->now && s->now + d <= s->duration)
        schedule_kernel(s, s->now + d, SIM_EV_CRASH_RANDOM, node, 0);
}

static void schedule_partition(sim *s) {
    sim_time d = sim_dist_sample_time(&s->random_partition.every, &s->partition_rng);
    if (d <= SIM_TIME_MAX - s->now && s->now + d <= s->duration)
        schedule_kernel(s, s->now + d, SIM_EV_PARTITION_RANDOM, UINT32_MAX, 0);
}

void sim__faults_schedule(sim *s) {
    for (uint32_t i = 0; i < s->n_faults; i++)
        schedule_kernel(s, s->faults[i].at, SIM_EV_FAULT, UINT32_MAX, i);
    if (s->random_crash.enabled)
        for (uint32_t i = 0; i < s->random_crash.nodes.n; i++)
            schedule_crash(s, s->random_crash.nodes.nodes[i]);
    if (s->random_partition.enabled)
        schedule_partition(s);
}

static void trace_fault(sim *s, const char *what, uint32_t node) {
    s->kval[KC_FAULTS] += 1;
    sim__trace_event(s, SIM_EV_FAULT, node, UINT32_MAX, 0, what, (uint32_t)strlen(what));
    if (s->trace)
        sim__trace_line(s, "fault", node, what);
}

/* Tells the model, after the action has taken effect on the node. */
static void notify_fault(sim *s, const char *what, uint32_t node) {
    if (s->model->on_fault)
        s->model->on_fault(s, s->shared, what, node);
}

void sim__node_crash(sim *s, uint32_t node) {
    sim__node *n = &s->nodes[node];
    if (!n->up)
        return;
    n->up = false;
    s->epoch[node]++;
    sim__node_gate(s, node);
    s->nodes_up--;
    trace_fault(s, "crash", node);
    if (s->model->on_crash) {
        sim_ctx ctx = SIM__CTX(s, node);
        s->acting = node;
        s->model->on_crash(&ctx, n->state);
        s->acting = UINT32_MAX;
    }
    notify_fault(s, "crash", node);
}

void sim__node_recover(sim *s, uint32_t node) {
    sim__node *n = &s->nodes[node];
    if (n->up || n->failed)
        return;
    n->up = true;
    sim__node_gate(s, node);
    s->nodes_up++;
    trace_fault(s, "recover", node);
    notify_fault(s, "recover", node);
    if (s->model->on_recover) {
        sim_ctx ctx = SIM__CTX(s, node);
        s->acting = node;
        s->model->on_recover(&ctx, n->state);
        s->acting = UINT32_MAX;
    }
}

static void node_fail(sim *s, uint32_t node) {
    sim__node_crash(s, node);
    bool was_failed = s->nodes[node].failed;
    if (!was_failed)
        trace_fault(s, "fail", node);
    s->nodes[node].failed = true;
    if (!was_failed)
        notify_fault(s, "fail", node);
}

void sim__node_replace(sim *s, uint32_t node) {
    sim__node *n = &s->nodes[node];
    if (n->up)
        sim__node_crash(s, node);
    n->failed = false;
    sim_ctx ctx = SIM__CTX(s, node);
    s->acting = node;
    if (s->model->node_fini)
        s->model->node_fini(&ctx, n->state);
    memset(n->state, 0, s->model->node_size);
    n->incarnation++;
    s->epoch[node]++;
    sim_rng_stream(&n->rng, s->seed, s->run, SIM_DOMAIN_MODEL, node, n->incarnation);
    n->up = true;
    sim__node_gate(s, node);
    s->nodes_up++;
    trace_fault(s, "replace", node);
    if (s->model->node_init)
        s->model->node_init(&ctx, n->state);
    s->acting = UINT32_MAX;
    notify_fault(s, "replace", node);
}

static void set_partition(sim *s, uint32_t n_groups, const sim__nodeset *groups) {
    for (uint32_t i = 0; i < s->n_nodes; i++)
        s->nodes[i].part = 0;
    for (uint32_t g = 0; g < n_groups; g++)
        for (uint32_t k = 0; k < groups[g].n; k++)
            s->nodes[groups[g].nodes[k]].part = (int)g + 1;
    s->partitioned = n_groups > 0;
}

static void heal(sim *s) {
    set_partition(s, 0, NULL);
    for (uint32_t i = 0; i < s->n_cuts; i++) {
        sim_free(s->cuts[i].from.nodes);
        sim_free(s->cuts[i].to.nodes);
    }
    s->n_cuts = 0;
}

static sim__nodeset copy_set(const sim__nodeset *src) {
    sim__nodeset d = {src->n, sim_calloc(src->n ? src->n : 1, sizeof *d.nodes)};
    memcpy(d.nodes, src->nodes, src->n * sizeof *d.nodes);
    return d;
}

void sim__fault_apply(sim *s, const sim__fault *f) {
    switch (f->kind) {
    case SIM_FAULT_PARTITION:
        set_partition(s, f->n_groups, f->groups);
        trace_fault(s, "partition", UINT32_MAX);
        notify_fault(s, "partition", UINT32_MAX);
        break;
    case SIM_FAULT_CUT:
        s->cuts = sim_realloc(s->cuts, (s->n_cuts + 1) * sizeof *s->cuts);
        s->cuts[s->n_cuts].from = copy_set(&f->cut.from);
        s->cuts[s->n_cuts].to = copy_set(&f->cut.to);
        s->n_cuts++;
        trace_fault(s, "partition_one_way", UINT32_MAX);
        notify_fault(s, "partition_one_way", UINT32_MAX);
        break;
    case SIM_FAULT_HEAL:
        heal(s);
        trace_fault(s, "heal", UINT32_MAX);
        notify_fault(s, "heal", UINT32_MAX);
        break;
    case SIM_FAULT_CRASH:
        for (uint32_t i = 0; i < f->n_nodes; i++)
            sim__node_crash(s, f->nodes[i]);
        break;
    case SIM_FAULT_RECOVER:
        for (uint32_t i = 0; i < f->n_nodes; i++)
            sim__node_recover(s, f->nodes[i]);
        break;
    case SIM_FAULT_FAIL:
        for (uint32_t i = 0; i < f->n_nodes; i++)
            node_fail(s, f->nodes[i]);
        break;
    case SIM_FAULT_REPLACE:
        for (uint32_t i = 0; i < f->n_nodes; i++)
            sim__node_replace(s, f->nodes[i]);
        break;
    case SIM_FAULT_SLOW_NODE:
        for (uint32_t i = 0; i < f->n_nodes; i++) {
            s->nodes[f->nodes[i]].slow = f->factor;
            trace_fault(s, "slow", f->nodes[i]);
            notify_fault(s, "slow", f->nodes[i]);
        }
        break;
    case SIM_FAULT_SLOW_LINK: {
        /* A slowed link replaces an earlier entry for the same pair. */
        uint32_t i = 0;
        for (; i < s->n_slow_links; i++) {
            sim__slow_link *l = &s->slow_links[i];
            if (l->from.kind == f->slow.from.kind && l->from.id == f->slow.from.id &&
                l->to.kind == f->slow.to.kind && l->to.id == f->slow.to.id &&
                l->one_way == f->slow.one_way)
                break;
        }
        if (i == s->n_slow_links)
            s->slow_links = sim_realloc(s->slow_links, ++s->n_slow_links * sizeof *s->slow_links);
        s->slow_links[i] = f->slow;
        trace_fault(s, "slow_link", UINT32_MAX);
        notify_fault(s, "slow_link", UINT32_MAX);
        break;
    }
    case SIM_FAULT_CLOCK:
        for (uint32_t i = 0; i < f->n_nodes; i++) {
            sim__node *n = &s->nodes[f->nodes[i]];
            n->clock_offset = f->clock_offset;
            n->clock_drift_ppm = f->clock_drift_ppm;
            n->clock_set_at = s->now;
            trace_fault(s, "clock", f->nodes[i]);
            notify_fault(s, "clock", f->nodes[i]);
        }
        break;
    case SIM_FAULT_KIND_COUNT:
        SIM_ASSERT(0);
    }
    sim__net_refresh(s);
}

void sim__fault_random_event(sim *s, int kind, uint32_t node) {
    switch (kind) {
    case SIM_EV_CRASH_RANDOM:
        if (s->nodes[node].up) {
            sim__node_crash(s, node);
            sim_time d = sim_dist_sample_time(&s->random_crash.mttr, &s->nodes[node].fault_rng);
            if (d <= SIM_TIME_MAX - s->now)
                schedule_kernel(s, s->now + d, SIM_EV_RECOVER_RANDOM, node, 0);
        } else {
            /* Down already (a scheduled fault): try again after another MTBF. */
            schedule_crash(s, node);
        }
        break;
    case SIM_EV_RECOVER_RANDOM:
        /* A node that failed meanwhile stays down, but its cycle goes on:
         * the next crash draw finds it down and draws again, so a
         * replacement is subject to random crashes like any node. */
        sim__node_recover(s, node);
        schedule_crash(s, node);
        break;
    case SIM_EV_PARTITION_RANDOM: {
        /* Split the chosen nodes in two non-empty halves by fair coins
         * (redrawn until both sides are non-empty). */
        const sim__nodeset *set = &s->random_partition.nodes;
        sim__fault *f = &s->random_part_fault;
        if (!f->groups) {
            f->n_groups = 2;
            f->groups = sim_calloc(2, sizeof *f->groups);
            f->groups[0].nodes = sim_calloc(set->n, sizeof(uint32_t));
            f->groups[1].nodes = sim_calloc(set->n, sizeof(uint32_t));
        }
        do {
            f->groups[0].n = f->groups[1].n = 0;
            for (uint32_t i = 0; i < set->n; i++) {
                int side = (int)(sim_rng_u32(&s->partition_rng) >> 31);
                f->groups[side].nodes[f->groups[side].n++] = set->nodes[i];
            }
        } while (f->groups[0].n == 0 || f->groups[1].n == 0);
        f->kind = SIM_FAULT_PARTITION;
        sim__fault_apply(s, f);
        sim_time d = sim_dist_sample_time(&s->random_partition.duration, &s->partition_rng);
        if (d <= SIM_TIME_MAX - s->now)
            schedule_kernel(s, s->now + d, SIM_EV_HEAL_RANDOM, UINT32_MAX, 0);
        break;
    }
    case SIM_EV_HEAL_RANDOM:
        heal(s);
        sim__net_refresh(s);
        trace_fault(s, "heal", UINT32_MAX);
        notify_fault(s, "heal", UINT32_MAX);
        schedule_partition(s);
        break;
    default:
        SIM_ASSERT(0);
    }
}

void sim__faults_fini(sim *s) {
    for (uint32_t i = 0; i < s->n_faults; i++) {
        sim__fault *f = &s->faults[i];
        sim_free(f->nodes);
        for (uint32_t g = 0; g < f->n_groups; g++)
            sim_free(f->groups[g].nodes);
        sim_free(f->groups);
        sim_free(f->cut.from.nodes);
        sim_free(f->cut.to.nodes);
    }
    sim_free(s->faults);
    sim__fault *rf = &s->random_part_fault;
    if (rf->groups) {
        sim_free(rf->groups[0].nodes);
        sim_free(rf->groups[1].nodes);
        sim_free(rf->groups);
    }
    sim_free(s->random_crash.nodes.nodes);
    sim_dist_fini(&s->random_crash.mtbf);
    sim_dist_fini(&s->random_crash.mttr);
    sim_free(s->random_partition.nodes.nodes);
    sim_dist_fini(&s->random_partition.every);
    sim_dist_fini(&s->random_partition.duration);
}
