/*
 * mq_part.c - a partition's log at a broker: entries [lo, hi) in offset
 * order, each a message id and, per consumer group of the topic, a state
 * (READY, in FLIGHT to a consumer, DONE) and its deliveries so far.
 *
 * Invariants: an entry stays until every group is DONE with it, then
 * leaves from the head; the backlog gauge counts entries some group has
 * not finished; the broker holds a message in the oracle from append until
 * its entry leaves (released as delivered, dropped or wiped).  No messages
 * are sent here: the leader (mq_broker.c) and the followers (mq_repl.c)
 * both change the log only through these functions, which is what keeps
 * their logs the same.  Below both in the file order (mq_int.h).
 */
#include "mq_int.h"

uint8_t *mq_bpart_st(const mq_bpart *bp, uint32_t off, int sub) {
    return &bp->st[(size_t)(off & (bp->cap - 1)) * bp->n_subs + (size_t)sub];
}

static void grow_log(mq_bpart *bp) {
    uint32_t cap = bp->cap ? bp->cap * 2 : 64;
    uint32_t *ids = sim_malloc((size_t)cap * sizeof *ids);
    uint8_t *hops = sim_malloc(cap);
    uint8_t *st = sim_malloc((size_t)cap * bp->n_subs);
    uint8_t *att = sim_malloc((size_t)cap * bp->n_subs);
    for (uint32_t off = bp->lo; off != bp->hi; off++) {
        uint32_t i = off & (bp->cap - 1), j = off & (cap - 1);
        ids[j] = bp->ids[i];
        hops[j] = bp->hops[i];
        memcpy(&st[(size_t)j * bp->n_subs], &bp->st[(size_t)i * bp->n_subs], bp->n_subs);
        memcpy(&att[(size_t)j * bp->n_subs], &bp->att[(size_t)i * bp->n_subs], bp->n_subs);
    }
    sim_free(bp->ids);
    sim_free(bp->hops);
    sim_free(bp->st);
    sim_free(bp->att);
    bp->ids = ids;
    bp->hops = hops;
    bp->st = st;
    bp->att = att;
    bp->cap = cap;
}

void mq_bpart_backlog(sim_ctx *ctx, const mq_shared *p, const mq_bpart *bp) {
    if (bp->leading)
        sim_gauge_set(sim_of(ctx), p->parts[bp->pg].g_backlog, (double)bp->n_live);
}

void mq_bpart_append(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t msg, uint8_t hops) {
    if (bp->hi - bp->lo == bp->cap)
        grow_log(bp);
    uint32_t off = bp->hi++;
    uint32_t i = off & (bp->cap - 1);
    bp->ids[i] = msg;
    bp->hops[i] = hops;
    bool pending = bp->n_replicas > 1;
    memset(&bp->st[(size_t)i * bp->n_subs], pending ? MQ_ST_PENDING : MQ_ST_READY, bp->n_subs);
    memset(&bp->att[(size_t)i * bp->n_subs], 0, bp->n_subs);
    bp->n_live++;
    for (int k = 0; k < bp->n_subs; k++) {
        bp->subs[k].ready += !pending;
        mq_oracle_hold(p, sim_now(ctx), msg, k, MQ_HOLD_BROKER);
    }
}

static bool all_done(const mq_bpart *bp, uint32_t off) {
    for (int k = 0; k < bp->n_subs; k++)
        if (*mq_bpart_st(bp, off, k) != MQ_ST_DONE)
            return false;
    return true;
}

/* Group `sub` is done with the entry at off (processed, dead-lettered,
 * dropped or deleted on delivery); the broker lets its copy go. */
void mq_bpart_finish(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t off, int sub, int kind,
                     int cause) {
    (void)kind;
    uint8_t *st = mq_bpart_st(bp, off, sub);
    SIM_ASSERT(off >= bp->lo && off < bp->hi && *st != MQ_ST_DONE);
    mq_bsub *s = &bp->subs[sub];
    if (*st == MQ_ST_READY)
        s->ready--;
    else if (*st == MQ_ST_FLIGHT)
        s->inflight--;
    *st = MQ_ST_DONE;
    mq_oracle_release(p, sim_now(ctx), bp->ids[off & (bp->cap - 1)], sub, MQ_HOLD_BROKER, cause);
    if (all_done(bp, off)) {
        bp->n_live--;
        while (bp->lo < bp->hi && all_done(bp, bp->lo))
            bp->lo++;
        for (int k = 0; k < bp->n_subs; k++)
            if (bp->subs[k].cursor < bp->lo)
                bp->subs[k].cursor = bp->lo;
    }
}

void mq_bpart_drop_oldest(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    SIM_ASSERT(bp->lo < bp->hi);
    uint32_t off = bp->lo; /* the head is always live: finished heads leave */
    for (int k = 0; k < bp->n_subs; k++)
        if (*mq_bpart_st(bp, off, k) != MQ_ST_DONE)
            mq_bpart_finish(ctx, p, bp, off, k, MQ_OP_DROP, MQ_CAUSE_DROPPED_OLDEST);
}

/* Deliveries in flight come back to READY (crash, or leadership lost). */
void mq_bpart_unflight(mq_bpart *bp) {
    for (int k = 0; k < bp->n_subs; k++) {
        mq_bsub *s = &bp->subs[k];
        mq_ring_clear(&s->fly);
        s->vis_armed = false;
        s->cursor = bp->lo;
    }
    for (uint32_t off = bp->lo; off != bp->hi; off++)
        for (int k = 0; k < bp->n_subs; k++) {
            uint8_t *st = mq_bpart_st(bp, off, k);
            if (*st == MQ_ST_FLIGHT) {
                *st = MQ_ST_READY;
                bp->subs[k].inflight--;
                bp->subs[k].ready++;
            }
        }
}

/* Empties the log, letting every copy go with `cause`. */
void mq_bpart_wipe(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, int cause) {
    mq_bpart_unflight(bp);
    for (uint32_t off = bp->lo; off != bp->hi; off++)
        for (int k = 0; k < bp->n_subs; k++)
            if (*mq_bpart_st(bp, off, k) != MQ_ST_DONE)
                mq_oracle_release(p, sim_now(ctx), bp->ids[off & (bp->cap - 1)], k, MQ_HOLD_BROKER,
                                  cause);
    bp->lo = bp->hi = 0;
    bp->n_live = bp->hw_ops = bp->committed = 0;
    for (int k = 0; k < bp->n_subs; k++)
        bp->subs[k].cursor = bp->subs[k].ready = bp->subs[k].inflight = 0;
}
