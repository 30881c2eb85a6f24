/*
 * mq.h - message queues: producers, brokers holding partitioned topics,
 * consumer groups with delivery guarantees, and the no-queue baseline (a
 * load balancer in front of the same services).
 *
 * The model is `mq_model`.  The configuration, the shared oracle and the
 * node state are declared here only so that tests can check them against
 * the model's invariants; the kernel treats them as opaque bytes and other
 * models must not use them.  models/mq/mq.c opens with the design notes.
 */
#ifndef DSIM_MQ_H
#define DSIM_MQ_H

#include "sim.h"

extern const sim_model mq_model;

/* Bounds of a scenario.  Fixed so that the configuration needs no
 * allocation; each is far above what a lesson needs. */
#define MQ_MAX_TOPICS     16
#define MQ_MAX_GROUPS     16
#define MQ_MAX_PRODUCERS  16
#define MQ_MAX_PARTITIONS 32 /* per topic: a set of partitions is a uint32_t mask */
#define MQ_MAX_SUBS       8  /* consumer groups per topic */
#define MQ_MAX_REPLICAS   5
#define MQ_MAX_BROKERS    64
#define MQ_MAX_ATTEMPTS   100
#define MQ_NAME_MAX       25  /* 24 characters and the terminator */
#define MQ_REPL_BATCH     512 /* operations per replicate message */

typedef enum mq_mode { MQ_MODE_QUEUE, MQ_MODE_DIRECT } mq_mode;
typedef enum mq_acks { MQ_ACKS_LEADER, MQ_ACKS_ALL } mq_acks;
typedef enum mq_full {
    MQ_FULL_REJECT,
    MQ_FULL_DROP_NEWEST,
    MQ_FULL_DROP_OLDEST,
    MQ_FULL_BLOCK
} mq_full;
typedef enum mq_assignment { MQ_ASSIGN_SHARED, MQ_ASSIGN_PARTITIONS } mq_assignment;
typedef enum mq_delivery { MQ_AT_MOST_ONCE, MQ_AT_LEAST_ONCE, MQ_EFFECTIVELY_ONCE } mq_delivery;
typedef enum mq_arrivals { MQ_ARRIVALS_POISSON, MQ_ARRIVALS_CONSTANT } mq_arrivals;
typedef enum mq_partitioner { MQ_PART_ROUND_ROBIN, MQ_PART_RANDOM } mq_partitioner;

/* Why a copy of a message was let go without being processed.  The last
 * cause recorded wins; a copy that is later processed is not lost. */
typedef enum mq_cause {
    MQ_CAUSE_NONE,
    MQ_CAUSE_REJECTED,       /* full queue, policy reject */
    MQ_CAUSE_DROPPED_NEWEST, /* full queue, policy drop_newest */
    MQ_CAUSE_DROPPED_OLDEST, /* full queue, policy drop_oldest */
    MQ_CAUSE_BUFFER_FULL,    /* the producer's local buffer was full */
    MQ_CAUSE_GAVE_UP,        /* the producer ran out of retries */
    MQ_CAUSE_PRODUCER_CRASH, /* the producer crashed holding it */
    MQ_CAUSE_BROKER_CRASH,   /* an in-memory broker crashed holding it */
    MQ_CAUSE_TRUNCATED,      /* removed from a replica after a leader change */
    MQ_CAUSE_CONSUMER_CRASH, /* at-most-once: the consumer crashed holding it */
    MQ_CAUSE_IN_TRANSIT,     /* at-most-once: deleted on delivery, never arrived */
    MQ_CAUSE_FAILED,         /* at-most-once or direct: processing failed */
    MQ_CAUSE_BUSY,           /* direct: every server of the service was busy */
    MQ_CAUSE_SERVER_LOST,    /* direct: the server or balancer crashed or timed out */
    MQ_CAUSE_COUNT
} mq_cause;

/* ---- Configuration (docs/models/mq.md lists every key). ---- */

typedef struct mq_topic_cfg {
    char name[MQ_NAME_MAX];
    int64_t partitions, replication, min_insync, max_messages, message_bytes;
    int acks, when_full;
    bool durable;
    uint32_t first_part;   /* global index of its partition 0 */
    int n_subs;            /* groups subscribed, in scenario order */
    int subs[MQ_MAX_SUBS]; /* their indices */
    int64_t external_msgs; /* producers' expected messages (for sizing) */
} mq_topic_cfg;

typedef struct mq_group_cfg {
    char name[MQ_NAME_MAX];
    int topic, publish, sub; /* sub: position among the topic's groups */
    int64_t count, concurrency, max_attempts, dedupe_window;
    int assignment, delivery;
    sim_dist processing;
    double failure_probability, poison_probability;
    uint64_t poison_key; /* from the run's seed: which messages are poison */
    sim_time visibility_timeout, heartbeat, session_timeout, rebalance_pause;
    uint32_t first_node, coordinator;
    int c_processed, g_lag, h_latency; /* metric ids */
} mq_group_cfg;

typedef struct mq_producer_cfg {
    char name[MQ_NAME_MAX];
    int topic, arrivals, partitioner;
    int64_t count;
    double rate_per_s;
    sim_time start, stop;
    sim_dist gap; /* time between two messages of one producer node */
    uint32_t first_node;
} mq_producer_cfg;

/* One partition: where it lives. */
typedef struct mq_part_info {
    uint16_t topic, index;
    uint8_t n_replicas;
    uint32_t replicas[MQ_MAX_REPLICAS]; /* broker nodes, preferred leader first */
    int g_backlog;
} mq_part_info;

/* ---- The oracle. ---- */

/* One message, as created by a producer or a consumer's publish. */
typedef struct mq_msg_rec {
    sim_time created;
    uint32_t copy0; /* index of its first copy (one per subscribed group) */
    uint16_t topic;
    uint8_t prod_held; /* a producer still holds it (buffer or awaiting ack) */
    uint8_t hops;      /* publish-on-completion depth, 0 from a producer */
} mq_msg_rec;

/* One copy: the message as seen by one consumer group. */
typedef struct mq_copy_rec {
    uint16_t n_proc; /* times processed to completion */
    uint16_t held_b; /* brokers (replicas) or the balancer holding it */
    uint16_t held_c; /* consumers (servers) holding it */
    uint8_t cause;   /* last mq_cause recorded */
    uint8_t flags;   /* MQ_COPY_* */
} mq_copy_rec;

enum { MQ_COPY_OPEN = 1, MQ_COPY_DLQ = 2, MQ_COPY_LATE = 4, MQ_COPY_LEFT = 8 };

typedef struct mq_oracle {
    mq_msg_rec *msgs;
    mq_copy_rec *copies;
    uint32_t n_msgs, cap_msgs, n_copies, cap_copies;
    bool full; /* max_messages reached: the run was stopped */
    /* Copies "in the system": created and not yet processed, dead-lettered
     * or lost.  Integrated over time after the warm-up for L.  A copy that
     * comes back after leaving (at-most-once: deleted on delivery, then
     * taken by the consumer) was in the system all along: its departure is
     * undone and the gap added to the area (mq_oracle.c, settle). */
    int64_t open, open_group[MQ_MAX_GROUPS];
    sim_time last_change;
    double area;        /* integral of open over [warmup, last_change] (ns) */
    int64_t first_done; /* first processings at or after the warm-up */
    int64_t lat_count;  /* publish -> first processing, messages created after */
    double lat_sum_ns;  /* the warm-up */
    int64_t left;       /* departures (processed, dead-lettered, lost) after it */
    int64_t soj_count;  /* time in system of departed copies created after it */
    double soj_sum_ns;
    /* When each copy that left unprocessed (flag MQ_COPY_LEFT) left: only
     * those can come back.  Open addressing on copy index + 1 (0: empty). */
    uint32_t *gap_keys, gap_mask, gap_n;
    sim_time *gap_at;
    int64_t processings, duplicates, dead_lettered;
    int64_t crash_held; /* copies consumers held when they crashed */
} mq_oracle;

struct mq_broker;
struct mq_bpart;

typedef struct mq_shared {
    sim *s;
    /* Configuration. */
    int mode;
    int64_t n_brokers, header_bytes, max_messages, max_chain;
    double expected_msgs; /* messages the producers and chains will publish (estimate) */
    sim_time warmup, request_timeout, poll_wait;
    /* publisher (every node that publishes) */
    int64_t pub_max_in_flight, pub_buffer, pub_retries;
    sim_time pub_timeout, pub_backoff;
    /* brokers */
    sim_time election_timeout, isr_timeout, replica_wait, broker_tick;
    /* direct mode */
    int64_t lb_count;
    sim_time direct_timeout, direct_eject;

    int n_topics, n_groups, n_producers;
    mq_topic_cfg topics[MQ_MAX_TOPICS];
    mq_group_cfg groups[MQ_MAX_GROUPS];
    mq_producer_cfg producers[MQ_MAX_PRODUCERS];
    uint32_t n_parts;
    mq_part_info parts[MQ_MAX_TOPICS * MQ_MAX_PARTITIONS];
    uint32_t broker_first, lb_node;
    /* Role of each node group (indexed by the kernel's group index). */
    int8_t group_role[256];
    int8_t group_entity[256];

    /* Metric ids. */
    int c_published, c_publish_sent, c_retries, c_rejected, c_dropped, c_gave_up;
    int c_buffer_full, c_delivered, c_redeliveries, c_processed, c_duplicates;
    int c_deduplicated, c_failed, c_dead_lettered, c_rebalances, c_failovers;
    int c_busy, c_acked_lost;
    int g_in_system, g_buffered;
    int h_latency, h_ack_latency;

    /* Live figures kept by the nodes (for gauges and reports). */
    int64_t buffered; /* messages held by publishers */
    int64_t rebalances, failovers, redeliveries, deduplicated, busy_rejects;

    mq_oracle oracle;
    /* Delivery of newly committed entries (mq_broker.c's
     * mq_bpart_dispatch), set by the broker: the followers' file (mq_repl.c)
     * commits, and calls up through it rather than naming the broker. */
    void (*dispatch)(sim_ctx *ctx, struct mq_shared *p, struct mq_broker *b, struct mq_bpart *bp,
                     int sub);
} mq_shared;

/* ---- Node state. ---- */

typedef enum mq_role {
    MQ_ROLE_NONE,
    MQ_ROLE_BROKER,
    MQ_ROLE_PRODUCER,
    MQ_ROLE_CONSUMER,
    MQ_ROLE_LB
} mq_role;

typedef struct mq_pub mq_pub;
typedef struct mq_cons mq_cons;
typedef struct mq_broker mq_broker;
typedef struct mq_lb mq_lb;

typedef struct mq_node {
    int role;
    int entity;     /* producer or group index */
    uint32_t index; /* position in its node group */
    /* Where this node believes each partition's leader is: a replica
     * index, and the leader epoch it learnt it with. */
    uint8_t *leader;
    uint32_t *leader_epoch;
    mq_pub *pub;       /* producers, and consumers whose group publishes */
    mq_cons *cons;     /* consumers (and servers in direct mode) */
    mq_broker *broker; /* brokers */
    mq_lb *lb;         /* the load balancer in direct mode */
} mq_node;

#endif
