/*
 * mq_int.h - the mq model's internal header: message formats, node-side
 * structures, the ring buffer, and the functions the model's files share
 * (prefixes mq_oracle_, mq_pub_, mq_cons_, mq_broker_, mq_lb_).
 *
 * The files, bottom up; each calls only files above it in this list:
 *   mq_common.c  ring buffer, sending, partition of a key, leader hints
 *   mq_oracle.c  the oracle: every message's fate, judged as it happens
 *   mq_config.c  reading the scenario's "mq" object
 *   mq_part.c    a partition's log at a broker
 *   mq_repl.c    followers: replicating a leader's log, leader election
 *   mq_broker.c  a broker: delivery, requests from clients, coordinator
 *   mq_client.c  producers and consumers
 *   mq_direct.c  the no-queue baseline: a balancer and its services
 *   mq.c         the model: hook table, dispatch to the roles, report
 */
#ifndef DSIM_MQ_INT_H
#define DSIM_MQ_INT_H

#include "mq.h"
#include "set.h"

#include <string.h>

/* ---- Message types (names in mq.c, same order). ---- */

enum {
    MQ_MSG_PUBLISH,        /* producer -> leader: store this message */
    MQ_MSG_PUBLISH_ACK,    /* leader -> producer: stored (or dropped by drop_newest) */
    MQ_MSG_PUBLISH_REJECT, /* leader -> producer: queue full (flag BUSY: retry later) */
    MQ_MSG_NOT_LEADER,     /* replica -> client: ask `node` (epoch in offset); tag echoed */
    MQ_MSG_FETCH,          /* consumer -> broker: one message from these partitions */
    MQ_MSG_DELIVER,        /* leader -> consumer: a message for a slot */
    MQ_MSG_EMPTY,          /* leader -> consumer: nothing came within poll_wait */
    MQ_MSG_ACK,            /* consumer -> leader: processed (flag MORE: and fetch again) */
    MQ_MSG_NACK,           /* consumer -> leader: failed, redeliver (flag MORE as for ack) */
    MQ_MSG_REPLICA_FETCH,  /* follower -> leader: operations from offset, please */
    MQ_MSG_REPLICATE,      /* leader -> follower: a batch of operations */
    MQ_MSG_TRUNCATE,       /* leader -> follower: your log diverged; cut it at offset */
    MQ_MSG_LEADER,         /* replica -> replica: I lead (or: X leads) at this epoch */
    MQ_MSG_HEARTBEAT,      /* consumer -> coordinator: I am alive (partitions mode) */
    MQ_MSG_ASSIGN,         /* coordinator -> consumer: your partitions for a generation */
    MQ_MSG_REQUEST,        /* direct: producer -> balancer */
    MQ_MSG_RESPONSE,       /* direct: balancer -> producer (request dispatched or refused) */
    MQ_MSG_CALL,           /* direct: balancer -> server */
    MQ_MSG_DONE,           /* direct: server -> balancer (flag BUSY: refused) */
    MQ_MSG_COUNT
};

/* Flags of mq_wire: MORE, an ack that is also the slot's next fetch;
 * RELEASE, a nack that does not count as an attempt (the consumer did not
 * ask for the message); BUSY, a refusal to retry later; PUB, a not_leader
 * that answers a publish (not a fetch); HINT, a leader message from a
 * replica that does not lead (never answered, so never a loop). */
enum { MQ_F_MORE = 1, MQ_F_RELEASE = 2, MQ_F_BUSY = 4, MQ_F_PUB = 8, MQ_F_HINT = 16 };

/* The payload of every message but assign and replicate: 24 bytes, which
 * the kernel stores inline in the event.  Fields unused by a type are 0. */
typedef struct mq_wire {
    uint32_t msg;    /* message id (the oracle's index; also what dedupe keys on) */
    uint32_t offset; /* position in the partition log; op offset in replication */
    uint32_t tag;    /* request tag, echoed in the answer; epoch for replicas */
    uint32_t node;   /* leader hint; member index in heartbeats; the partitions
                        of a fetch (bit k: the topic's partition k) */
    uint16_t part;   /* global partition index */
    uint16_t slot;   /* publisher or consumer slot */
    uint8_t attempt, hops, flags;
    uint8_t group; /* consumer group index */
} mq_wire;

_Static_assert(sizeof(mq_wire) == 24, "mq_wire fits an event inline");

typedef struct mq_assign {
    uint64_t mask; /* partitions of the topic, bit k = partition k */
    uint32_t gen;
    uint32_t member;
    uint8_t group, paused, pad[6];
} mq_assign;

_Static_assert(sizeof(mq_assign) == 24, "mq_assign fits an event inline");

/* A replicated operation: the replicas' logs are sequences of these. */
enum { MQ_OP_APPEND = 1, MQ_OP_ACK, MQ_OP_DLQ, MQ_OP_DROP };
typedef struct mq_op {
    uint32_t a;     /* APPEND: message id; others: message offset */
    uint32_t epoch; /* leader epoch that appended the operation */
    uint8_t kind, sub, hops, pad;
} mq_op;

typedef struct mq_repl {
    uint32_t from, epoch, n;
    uint16_t part;
    uint8_t in_isr, pad;
    mq_op ops[MQ_REPL_BATCH];
} mq_repl;

/* ---- Timers (kind; arg as noted). ---- */
enum {
    MQ_T_ARRIVAL,    /* producer: next message */
    MQ_T_PUB_TICK,   /* publisher: look for timed-out publishes */
    MQ_T_PUB_RESUME, /* publisher: end of a block back-off */
    MQ_T_CONS_TICK,  /* consumer: heartbeat, poll timeouts */
    MQ_T_DONE,       /* consumer/server: processing ends; arg = slot << 32 | tag */
    MQ_T_BROKER_TICK,
    MQ_T_VIS,       /* broker: visibility deadline; arg = pg << 8 | sub */
    MQ_T_POLL,      /* broker: long-poll deadline; arg = pg << 8 | sub */
    MQ_T_REPL_PARK, /* broker: replica fetch deadline; arg = pg */
    MQ_T_REBALANCE, /* coordinator: end of a rebalance pause; arg = group */
    MQ_T_LB_TICK
};

/* ---- A ring buffer of fixed-size elements that doubles when full. ---- */

typedef struct mq_ring {
    unsigned char *buf;
    uint32_t head, n, cap, esz; /* cap: 0 or a power of two */
} mq_ring;

void mq_ring_init(mq_ring *r, uint32_t esz);
void mq_ring_fini(mq_ring *r);
void mq_ring_grow(mq_ring *r);
/* Removes element i, keeping the order of the others: O(n - i). */
void mq_ring_remove(mq_ring *r, uint32_t i);

static inline void *mq_ring_at(const mq_ring *r, uint32_t i) {
    return r->buf + (size_t)((r->head + i) & (r->cap - 1)) * r->esz;
}
static inline void *mq_ring_front(const mq_ring *r) { return mq_ring_at(r, 0); }
static inline void *mq_ring_push(mq_ring *r) {
    if (r->n == r->cap)
        mq_ring_grow(r);
    return mq_ring_at(r, r->n++);
}
static inline void *mq_ring_push_front(mq_ring *r) {
    if (r->n == r->cap)
        mq_ring_grow(r);
    r->head = (r->head - 1) & (r->cap - 1);
    r->n++;
    return mq_ring_at(r, 0);
}
static inline void mq_ring_pop(mq_ring *r) {
    r->head = (r->head + 1) & (r->cap - 1);
    r->n--;
}
static inline void mq_ring_clear(mq_ring *r) { r->head = r->n = 0; }

/* ---- Publisher side (producers; consumers whose group publishes). ---- */

typedef struct mq_waiting {
    uint32_t msg;
    uint16_t part;
    uint8_t hops, tries;
    sim_time created;
} mq_waiting;

typedef struct mq_pslot {
    uint32_t msg, tag, dst;
    sim_time sent_at, created;
    uint16_t part;
    uint8_t hops, tries, used;
} mq_pslot;

struct mq_pub {
    mq_ring wait; /* mq_waiting, not yet sent, oldest first */
    mq_pslot *slots;
    uint32_t *free, n_free, n_slots;
    uint32_t tagseq, rr;
    int64_t held; /* wait.n + slots in use */
    sim_time paused_until;
    bool resume_armed, tick_armed;
};

/* ---- Consumer side. ---- */

enum { MQ_CS_IDLE, MQ_CS_POLLING, MQ_CS_BUSY };

typedef struct mq_cslot {
    uint8_t state, attempt, hops, flags;
    uint16_t part;    /* global partition index (polling or processing) */
    uint16_t lb_slot; /* direct mode: the balancer's slot */
    uint32_t tag;     /* poll tag; processing timer tag */
    uint32_t msg, offset, lb_tag;
    uint32_t from; /* broker polled, or the message came from */
    uint32_t mask; /* partitions of the outstanding fetch */
    sim_time since;
} mq_cslot;

struct mq_cons {
    mq_cslot *slots;
    uint32_t n_slots, rot, tagseq;
    uint32_t assigned; /* partitions mode: bit k = topic partition k */
    uint32_t gen;
    /* Dedupe window (effectively-once; dd_ring NULL when off): the last
     * ids processed, in a ring, and the set of them (id + 1). */
    uint32_t *dd_ring, dd_n, dd_head, dd_cap;
    sim_set dd_set;
};

/* ---- Broker side. ---- */

/* Entry states per group.  PENDING: appended to a replicated partition
 * and not yet committed (copied by the in-sync followers); consumers see
 * only committed entries, as in Kafka. */
enum { MQ_ST_READY = 1, MQ_ST_FLIGHT, MQ_ST_DONE, MQ_ST_PENDING };

typedef struct mq_poll {
    uint32_t node, tag;
    sim_time deadline;
    uint32_t mask; /* partitions of the topic it may take from */
    uint16_t slot;
} mq_poll;

typedef struct mq_fly {
    uint32_t offset;
    uint8_t attempt;
    sim_time deadline;
} mq_fly;

/* One consumer group's view of a partition at a replica. */
typedef struct mq_bsub {
    uint32_t cursor;          /* no READY entry below it */
    uint32_t ready, inflight; /* entries READY, in FLIGHT */
    mq_ring fly;              /* mq_fly, delivered, by deadline */
    bool vis_armed;
} mq_bsub;

/* Fetches of one consumer group waiting at a broker (long polls). */
typedef struct mq_gpolls {
    mq_ring polls; /* mq_poll, by deadline */
    uint32_t rr;   /* next partition to serve first (round robin) */
    bool armed;
} mq_gpolls;

typedef struct mq_pending_ack {
    uint32_t op, node, msg, tag;
    uint16_t slot;
} mq_pending_ack;

/* One partition at one of its replicas. */
typedef struct mq_bpart {
    uint32_t pg;
    uint8_t rank, leader_rank, n_subs, n_replicas;
    bool leading;
    uint32_t epoch;
    /* The log: entries [lo, hi) at index offset & (cap - 1); per entry
     * a message id, its hop count, and per group a state and attempts. */
    uint32_t lo, hi, cap;
    uint32_t *ids;
    uint8_t *hops, *st, *att;
    uint32_t n_live;            /* entries some group has not finished */
    uint32_t hw_ops, committed; /* operations and entries committed */
    struct mq_broker *broker;   /* the broker holding this replica */
    mq_bsub subs[MQ_MAX_SUBS];
    /* Replication (replication > 1): the operation log, kept for the run. */
    mq_op *ops;
    uint32_t n_ops, cap_ops;
    /* leader side, per replica rank */
    uint32_t prog[MQ_MAX_REPLICAS];     /* each follower's operation log end */
    sim_time seen[MQ_MAX_REPLICAS];     /* its last fetch */
    sim_time caught[MQ_MAX_REPLICAS];   /* when it last had all the leader had */
    uint32_t sent_end[MQ_MAX_REPLICAS]; /* leader's log end at the last replicate to it */
    sim_time sent_at[MQ_MAX_REPLICAS];  /* and when that was sent */
    bool parked[MQ_MAX_REPLICAS];
    sim_time park_deadline[MQ_MAX_REPLICAS];
    bool park_armed;
    mq_ring acks; /* mq_pending_ack waiting for replication (acks = all) */
    /* follower side */
    sim_time heard_at, fetch_sent;
    bool fetch_out, in_isr;
} mq_bpart;

typedef struct mq_coord {
    int group;
    uint32_t n;     /* members = the group's consumer nodes */
    sim_time *seen; /* last heartbeat per member, -1 = not a member */
    uint32_t gen, n_members;
    sim_time paused_until;
    bool pausing;
} mq_coord;

struct mq_broker {
    mq_bpart **parts; /* by global partition index; NULL where not a replica */
    mq_gpolls gpolls[MQ_MAX_GROUPS];
    mq_coord coords[MQ_MAX_GROUPS];
    int n_coords;
};

/* ---- The balancer (direct mode). ---- */

typedef struct mq_call {
    uint32_t msg, tag;
    sim_time sent_at;
    uint8_t used, sub;
} mq_call;

typedef struct mq_lbsrv {
    uint32_t active;
    sim_time ejected_until;
    mq_call *calls;
    uint32_t *free, n_free;
} mq_lbsrv;

struct mq_lb {
    mq_lbsrv *srv[MQ_MAX_GROUPS];
    uint32_t rr[MQ_MAX_GROUPS];
    uint32_t tagseq;
};

/* ---- Shared helpers (mq.c). ---- */

/* Sends m (any payload) counting header_bytes + body_bytes on the wire. */
void mq_send(sim_ctx *ctx, const mq_shared *p, uint32_t dst, uint32_t type, const void *m,
             uint32_t len, int64_t body_bytes);
/* The broker this node believes leads partition pg. */
uint32_t mq_leader_of(const mq_shared *p, const mq_node *n, uint32_t pg);
/* Believes the next replica leads pg (after a timeout). */
void mq_leader_next(const mq_shared *p, mq_node *n, uint32_t pg);
/* Believes `node` leads pg if epoch is not older than what it knows;
 * returns true if the epoch is newer (worth asking again at once). */
bool mq_leader_hint(const mq_shared *p, mq_node *n, uint32_t pg, uint32_t node, uint32_t epoch);
uint32_t mq_pg(const mq_shared *p, int topic, uint32_t k);
/* Whether message msg is poison for group g (it fails every processing):
 * a fixed function of the run's seed, the group and the message id, so
 * every consumer and every delivery agrees. */
bool mq_poison(const mq_shared *p, int g, uint32_t msg);

/* ---- Oracle (mq_oracle.c): only the simulator's knowledge. ---- */

enum { MQ_HOLD_BROKER, MQ_HOLD_CONSUMER };

int mq_oracle_init(mq_shared *p, uint64_t est_msgs);
void mq_oracle_fini(mq_oracle *o);
/* A new message of topic: its id, or UINT32_MAX when max_messages is
 * reached (the oracle is full: nothing more can be tracked). */
uint32_t mq_oracle_create(mq_shared *p, sim_time now, int topic, uint8_t hops);
void mq_oracle_producer_release(mq_shared *p, sim_time now, uint32_t msg, int cause);
void mq_oracle_hold(mq_shared *p, sim_time now, uint32_t msg, int sub, int kind);
void mq_oracle_release(mq_shared *p, sim_time now, uint32_t msg, int sub, int kind, int cause);
void mq_oracle_note(mq_shared *p, uint32_t msg, int sub, int cause);
/* A consumer finished processing; returns true if this was the first time. */
bool mq_oracle_processed(mq_shared *p, sim_time now, uint32_t msg, int sub);
void mq_oracle_dead_letter(mq_shared *p, sim_time now, uint32_t msg, int sub);
void mq_oracle_flush(mq_shared *p, sim_time now);

/* End states of a copy (the oracle's classification after the run). */
typedef enum mq_end {
    MQ_END_ONCE,
    MQ_END_DUPLICATED,
    MQ_END_DEAD_LETTERED,
    MQ_END_AT_PRODUCER,
    MQ_END_AT_BROKER,
    MQ_END_IN_PROCESSING,
    MQ_END_LOST,
    MQ_END_COUNT
} mq_end;
mq_end mq_oracle_end(const mq_shared *p, uint32_t msg, int sub);

/* ---- Publisher (mq_client.c). ---- */

void mq_pub_init(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_pub_fini(mq_node *n);
/* Creates a message of topic and queues it for publishing. */
void mq_pub_create(sim_ctx *ctx, mq_shared *p, mq_node *n, int topic, uint8_t hops);
void mq_pub_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t type, const mq_wire *w);
void mq_pub_on_timer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t kind);
void mq_pub_crash(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_pub_start(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_producer_arrival(sim_ctx *ctx, mq_shared *p, mq_node *n, bool first);

/* ---- Consumer (mq_client.c). ---- */

void mq_cons_init(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_cons_fini(mq_node *n);
void mq_cons_start(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_cons_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, const sim_msg *msg);
void mq_cons_on_timer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t kind, uint64_t arg);
void mq_cons_crash(sim_ctx *ctx, mq_shared *p, mq_node *n);

/* ---- Broker (mq_broker.c, mq_repl.c). ---- */

void mq_broker_init(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_broker_fini(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_broker_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, const sim_msg *msg);
void mq_broker_on_timer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t kind, uint64_t arg);
void mq_broker_crash(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_broker_recover(sim_ctx *ctx, mq_shared *p, mq_node *n);

/* Shared between mq_broker.c and mq_repl.c. */
void mq_bpart_append(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t msg, uint8_t hops);
void mq_bpart_finish(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t off, int sub, int kind,
                     int cause);
void mq_bpart_drop_oldest(sim_ctx *ctx, mq_shared *p, mq_bpart *bp);
void mq_bpart_wipe(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, int cause);
void mq_bpart_unflight(mq_bpart *bp);
void mq_bpart_backlog(sim_ctx *ctx, const mq_shared *p, const mq_bpart *bp);
void mq_bpart_dispatch(sim_ctx *ctx, mq_shared *p, mq_broker *b, mq_bpart *bp, int sub);
uint8_t *mq_bpart_st(const mq_bpart *bp, uint32_t off, int sub);
/* The deliveries so far of entry off to the topic's group sub. */
static inline uint8_t *mq_bpart_att(const mq_bpart *bp, uint32_t off, int sub) {
    return &bp->att[(size_t)(off & (bp->cap - 1)) * bp->n_subs + (size_t)sub];
}
/* The configuration of the topic's group sub. */
static inline const mq_group_cfg *mq_bpart_group(const mq_shared *p, const mq_bpart *bp, int sub) {
    return &p->groups[p->topics[p->parts[bp->pg].topic].subs[sub]];
}
void mq_repl_record(mq_shared *p, mq_bpart *bp, int kind, uint32_t a, int sub, uint8_t hops);
void mq_repl_on_message(sim_ctx *ctx, mq_shared *p, mq_broker *b, const sim_msg *msg);
void mq_repl_tick(sim_ctx *ctx, mq_shared *p, mq_bpart *bp);
void mq_repl_park_timer(sim_ctx *ctx, mq_shared *p, mq_bpart *bp);
void mq_repl_appended(sim_ctx *ctx, mq_shared *p, mq_bpart *bp);
void mq_repl_start(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, bool recovering);
void mq_repl_advance(sim_ctx *ctx, mq_shared *p, mq_bpart *bp);
void mq_repl_step_down(sim_ctx *ctx, mq_shared *p, mq_bpart *bp);
void mq_repl_ack_or_wait(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t src, const mq_wire *w);

/* ---- Balancer (mq_direct.c). ---- */

void mq_lb_init(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_lb_fini(const mq_shared *p, mq_node *n);
void mq_lb_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, const sim_msg *msg);
void mq_lb_tick(sim_ctx *ctx, mq_shared *p, mq_node *n);
void mq_lb_crash(sim_ctx *ctx, mq_shared *p, mq_node *n);

/* ---- Configuration (mq_config.c). ---- */

int mq_configure(sim_cfg *c, void *shared);
int mq_validate(sim_cfg *c, void *shared);
void mq_shared_fini(void *shared);

#endif
