/*
 * gossip.h - epidemic dissemination of updates (Demers et al. 1987):
 * anti-entropy and rumor mongering, push, pull and push-pull.
 *
 * The model is `gossip_model`.  The node and shared state are declared here
 * only so that tests can check them against the model's invariants; the
 * kernel treats them as opaque bytes and other models must not use them.
 */
#ifndef DSIM_GOSSIP_H
#define DSIM_GOSSIP_H

#include "sim.h"

extern const sim_model gossip_model;

/* Updates are bits of a uint64_t mask; fanout is bounded so that peer
 * choice needs no allocation. */
#define GOSSIP_MAX_UPDATES 64
#define GOSSIP_MAX_FANOUT  32

typedef enum gossip_mode { GOSSIP_ANTI_ENTROPY, GOSSIP_RUMOR } gossip_mode;
typedef enum gossip_direction { GOSSIP_PUSH, GOSSIP_PULL, GOSSIP_PUSH_PULL } gossip_direction;
typedef enum gossip_feedback { GOSSIP_FEEDBACK, GOSSIP_BLIND } gossip_feedback;
typedef enum gossip_removal { GOSSIP_COUNTER, GOSSIP_COIN } gossip_removal;
typedef enum gossip_phase { GOSSIP_PHASE_RANDOM, GOSSIP_PHASE_ALIGNED } gossip_phase;

/* One node.  Fixed size: the model allocates nothing. */
typedef struct gossip_node {
    uint64_t have;   /* updates this node holds */
    uint64_t hot;    /* updates it is still spreading (infective); subset of have */
    sim_time offset; /* its rounds run at offset + m * period, offset in [0, period) */
    sim_time learned_at[GOSSIP_MAX_UPDATES]; /* valid for the bits of have */
    uint8_t unnecessary[GOSSIP_MAX_UPDATES]; /* rumor counter: unnecessary contacts */
} gossip_node;

/* Configuration, metric ids and the oracle: counts only the simulator can
 * see, kept by the node whose state changes, used for metrics and for
 * stop_when_done, never for a node's decisions. */
typedef struct gossip_shared {
    /* Configuration (see docs/models/gossip.md). */
    int mode, direction, feedback, removal, phase;
    sim_time period, inject_at, update_interval;
    int64_t fanout, k, updates, update_bytes, header_bytes;
    bool stop_when_done, volatile_state;
    const char *origin_name;
    uint32_t origin, n_nodes;

    /* Metric ids. */
    int c_rounds, c_contacts, c_infections, c_redundant, c_removals, c_forgotten, c_injected;
    int c_update_copies;
    int g_informed, g_infective;
    int h_delay;

    /* Oracle. */
    uint32_t live;           /* nodes up */
    uint32_t infective_live; /* up nodes with a hot update */
    uint32_t hot_nodes;      /* nodes, up or down, with a hot update */
    int64_t injected;        /* updates injected so far (0 .. updates) */
    sim_time injected_at[GOSSIP_MAX_UPDATES];
    uint32_t holders[GOSSIP_MAX_UPDATES];      /* nodes, up or down, holding u */
    uint32_t holders_live[GOSSIP_MAX_UPDATES]; /* up nodes holding u */
    bool all_now[GOSSIP_MAX_UPDATES];          /* every up node holds u */
    sim_time all_since[GOSSIP_MAX_UPDATES];    /* since when all_now holds */
    int64_t messages, bytes, update_copies;
    int64_t delay_count, delay_sum_ns;
    sim_time delay_max_ns;
    bool stopped;
    sim_time stopped_at;
} gossip_shared;

#endif
