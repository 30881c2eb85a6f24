/*
 * mq_broker.c - a broker: the partitions it holds, what it delivers to
 * whom, and, for consumer groups with "partitions" assignment, the group
 * coordinator.
 *
 * A partition's log holds entries [lo, hi) in offset order: the message id
 * and, for each consumer group of the topic, a state (READY, in FLIGHT to a
 * consumer, DONE) and the number of deliveries so far.  An entry stays
 * until every group is DONE with it, then leaves from the head.  Only the
 * partition's leader accepts publishes and serves consumers; followers
 * (mq_repl.c) rebuild the same log from the leader's operations.
 *
 * Delivery to a group is first come, first served: a fetch names the
 * partitions it may take from; waiting fetches (long polls) queue per group
 * at the broker, and a new message goes to the oldest one that may take
 * it.  A message
 * in flight comes back to READY when its consumer nacks it or when its
 * visibility timeout expires (at-least-once); after max_attempts
 * deliveries it is dead-lettered instead.  At-most-once deletes it (DONE)
 * when it is delivered.  Visibility deadlines are kept per group in
 * delivery order: the timeout is constant, so that is deadline order, and
 * one timer per group at the earliest deadline serves them all.  Long polls
 * expire the same way after poll_wait.
 *
 * A bounded partition (max_messages > 0) counts entries some group has not
 * finished; when full, the topic's policy decides: reject (the producer
 * loses the message), block (the producer is told to wait and retry),
 * drop_newest (acknowledged, then thrown away), drop_oldest (the oldest
 * entry is dropped for every group to make room).
 *
 * Crash.  Durable topics keep the log: deliveries in flight come back to
 * READY, with their attempts, when the broker recovers.  In-memory topics
 * lose it.  Waiting fetches, unsent acknowledgements and the coordinator's
 * membership are lost either way.
 */
#include "mq_int.h"

#include <stdio.h>

/* ---- Delivery. ---- */

static void arm_sub_timer(sim_ctx *ctx, const mq_bpart *bp, int sub, uint32_t kind,
                          sim_time deadline) {
    sim_time now = sim_now(ctx);
    sim_timer_set(ctx, deadline > now ? deadline - now : 0, kind, (uint64_t)bp->pg << 8 | sub);
}

/* Done with an entry on the leader: also an operation for the followers. */
static void lead_finish(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t off, int sub, int op,
                        int cause) {
    mq_bpart_finish(ctx, p, bp, off, sub, op, cause);
    mq_repl_record(p, bp, op, off, sub, 0);
}

static void dead_letter(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t off, int sub) {
    mq_oracle_dead_letter(p, sim_now(ctx), bp->ids[off & (bp->cap - 1)], sub);
    lead_finish(ctx, p, bp, off, sub, MQ_OP_DLQ, MQ_CAUSE_NONE);
}

/* Back to READY after a nack or a visibility timeout, or dead-lettered
 * after max_attempts deliveries. */
static void requeue(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t off, int sub) {
    if (*mq_bpart_att(bp, off, sub) >= mq_bpart_group(p, bp, sub)->max_attempts) {
        dead_letter(ctx, p, bp, off, sub);
        return;
    }
    mq_bsub *s = &bp->subs[sub];
    *mq_bpart_st(bp, off, sub) = MQ_ST_READY;
    s->inflight--;
    s->ready++;
    if (off < s->cursor)
        s->cursor = off;
}

static void deliver_one(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, int sub, const mq_poll *q) {
    mq_bsub *s = &bp->subs[sub];
    const mq_group_cfg *g = mq_bpart_group(p, bp, sub);
    uint32_t off = s->cursor > bp->lo ? s->cursor : bp->lo;
    while (*mq_bpart_st(bp, off, sub) != MQ_ST_READY) {
        off++;
        SIM_ASSERT(off < bp->hi);
    }
    s->cursor = off + 1;
    uint8_t *att = mq_bpart_att(bp, off, sub);
    if (*att < UINT8_MAX)
        (*att)++;
    uint32_t i = off & (bp->cap - 1);
    mq_wire w = {.msg = bp->ids[i],
                 .offset = off,
                 .tag = q->tag,
                 .part = (uint16_t)bp->pg,
                 .slot = q->slot,
                 .attempt = *att,
                 .hops = bp->hops[i],
                 .group = (uint8_t)(g - p->groups)};
    mq_send(ctx, p, q->node, MQ_MSG_DELIVER, &w, sizeof w,
            p->topics[p->parts[bp->pg].topic].message_bytes);
    sim_count(p->s, p->c_delivered, 1);
    if (*att > 1) {
        p->redeliveries++;
        sim_count(p->s, p->c_redeliveries, 1);
    }
    if (g->delivery == MQ_AT_MOST_ONCE) {
        lead_finish(ctx, p, bp, off, sub, MQ_OP_ACK, MQ_CAUSE_IN_TRANSIT);
        return;
    }
    *mq_bpart_st(bp, off, sub) = MQ_ST_FLIGHT;
    s->ready--;
    s->inflight++;
    mq_fly *f = mq_ring_push(&s->fly);
    *f = (mq_fly){.offset = off, .attempt = *att, .deadline = sim_now(ctx) + g->visibility_timeout};
    if (!s->vis_armed) {
        arm_sub_timer(ctx, bp, sub, MQ_T_VIS, f->deadline);
        s->vis_armed = true;
    }
}

/* Serves the group's waiting fetches that may take from bp, oldest first,
 * while bp has READY messages for the group. */
void mq_bpart_dispatch(sim_ctx *ctx, mq_shared *p, mq_broker *b, mq_bpart *bp, int sub) {
    if (!bp->leading)
        return;
    mq_gpolls *gp = &b->gpolls[mq_bpart_group(p, bp, sub) - p->groups];
    uint32_t bit = 1u << p->parts[bp->pg].index;
    mq_bsub *s = &bp->subs[sub];
    for (uint32_t i = 0; s->ready && i < gp->polls.n;) {
        mq_poll *q = mq_ring_at(&gp->polls, i);
        if (!(q->mask & bit)) {
            i++;
            continue;
        }
        mq_poll taken = *q;
        mq_ring_remove(&gp->polls, i);
        deliver_one(ctx, p, bp, sub, &taken);
    }
}

/* True if the fly record no longer describes a delivery in flight. */
static bool stale_fly(const mq_bpart *bp, int sub, const mq_fly *f) {
    return f->offset < bp->lo || *mq_bpart_st(bp, f->offset, sub) != MQ_ST_FLIGHT ||
           *mq_bpart_att(bp, f->offset, sub) != f->attempt;
}

static void pop_stale_fly(mq_bpart *bp, int sub) {
    mq_bsub *s = &bp->subs[sub];
    while (s->fly.n && stale_fly(bp, sub, mq_ring_front(&s->fly)))
        mq_ring_pop(&s->fly);
}

static void on_visibility(sim_ctx *ctx, mq_shared *p, mq_broker *b, mq_bpart *bp, int sub) {
    mq_bsub *s = &bp->subs[sub];
    sim_time now = sim_now(ctx);
    s->vis_armed = false;
    while (s->fly.n) {
        mq_fly f = *(mq_fly *)mq_ring_front(&s->fly);
        if (stale_fly(bp, sub, &f)) {
            mq_ring_pop(&s->fly);
            continue;
        }
        if (f.deadline > now)
            break;
        mq_ring_pop(&s->fly);
        requeue(ctx, p, bp, f.offset, sub);
    }
    if (s->fly.n) {
        arm_sub_timer(ctx, bp, sub, MQ_T_VIS, ((mq_fly *)mq_ring_front(&s->fly))->deadline);
        s->vis_armed = true;
    }
    mq_bpart_dispatch(ctx, p, b, bp, sub);
    mq_bpart_backlog(ctx, p, bp);
}

static void arm_poll(sim_ctx *ctx, mq_gpolls *gp, int group) {
    if (gp->armed || !gp->polls.n)
        return;
    sim_time at = ((mq_poll *)mq_ring_front(&gp->polls))->deadline, now = sim_now(ctx);
    sim_timer_set(ctx, at > now ? at - now : 0, MQ_T_POLL, (uint64_t)group);
    gp->armed = true;
}

static void on_poll_expiry(sim_ctx *ctx, mq_shared *p, mq_broker *b, int group) {
    mq_gpolls *gp = &b->gpolls[group];
    sim_time now = sim_now(ctx);
    gp->armed = false;
    while (gp->polls.n) {
        mq_poll *q = mq_ring_front(&gp->polls);
        if (q->deadline > now)
            break;
        mq_wire w = {.tag = q->tag, .slot = q->slot, .group = (uint8_t)group};
        mq_send(ctx, p, q->node, MQ_MSG_EMPTY, &w, sizeof w, 0);
        mq_ring_pop(&gp->polls);
    }
    arm_poll(ctx, gp, group);
}

/* ---- Requests from clients. ---- */

static void not_leader(sim_ctx *ctx, const mq_shared *p, const mq_node *n, uint32_t dst,
                       const mq_wire *req, uint32_t pg, uint8_t flags) {
    const mq_bpart *bp = n->broker->parts[pg];
    mq_wire w = *req;
    w.part = (uint16_t)pg;
    w.flags = flags;
    w.node = bp ? p->parts[pg].replicas[bp->leader_rank] : p->parts[pg].replicas[0];
    w.offset = bp ? bp->epoch : 0;
    mq_send(ctx, p, dst, MQ_MSG_NOT_LEADER, &w, sizeof w, 0);
}

static mq_bpart *leading(const mq_shared *p, const mq_node *n, uint32_t pg) {
    if (pg >= p->n_parts)
        return NULL;
    mq_bpart *bp = n->broker->parts[pg];
    return bp && bp->leading ? bp : NULL;
}

/* A fetch names the partitions of the topic it will take from (w->node,
 * a mask).  Those this broker does not lead are answered with not_leader
 * (flag MORE when the rest of the fetch goes on here); a message from the
 * others is delivered at once, partitions taken round robin, or the fetch
 * waits up to poll_wait. */
static void on_fetch(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w) {
    mq_broker *b = n->broker;
    if (w->group >= p->n_groups)
        return;
    const mq_group_cfg *g = &p->groups[w->group];
    const mq_topic_cfg *t = &p->topics[g->topic];
    uint32_t parts = (uint32_t)t->partitions, led = 0, others = 0;
    for (uint32_t k = 0; k < parts; k++)
        if (w->node >> k & 1) {
            if (leading(p, n, t->first_part + k))
                led |= 1u << k;
            else
                others |= 1u << k;
        }
    for (uint32_t k = 0; k < parts; k++) {
        if (!(others >> k & 1))
            continue;
        others &= ~(1u << k);
        /* The last refusal of a fetch refused whole has no MORE flag: it
         * tells the slot to fetch elsewhere. */
        not_leader(ctx, p, n, src, w, t->first_part + k, led || others ? MQ_F_MORE : 0);
    }
    if (!led)
        return;
    mq_gpolls *gp = &b->gpolls[w->group];
    mq_poll q = {.node = src,
                 .tag = w->tag,
                 .slot = w->slot,
                 .mask = led,
                 .deadline = sim_now(ctx) + p->poll_wait};
    for (uint32_t j = 0; j < parts; j++) {
        uint32_t k = (gp->rr + j) % parts;
        mq_bpart *bp = b->parts[t->first_part + k];
        if ((led >> k & 1) && bp->subs[g->sub].ready) {
            gp->rr = k + 1;
            deliver_one(ctx, p, bp, g->sub, &q);
            mq_bpart_backlog(ctx, p, bp);
            return;
        }
    }
    *(mq_poll *)mq_ring_push(&gp->polls) = q;
    arm_poll(ctx, gp, w->group);
}

/* ack and nack: the entry at offset must still hold the same message (a
 * follower turned leader may have a different log). */
static bool entry_is(const mq_bpart *bp, const mq_wire *w) {
    return w->offset >= bp->lo && w->offset < bp->hi &&
           bp->ids[w->offset & (bp->cap - 1)] == w->msg;
}

static void on_ack(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w,
                   bool nack) {
    mq_bpart *bp = leading(p, n, w->part);
    if (bp && w->group < p->n_groups && p->groups[w->group].topic == p->parts[bp->pg].topic &&
        entry_is(bp, w)) {
        uint32_t off = w->offset;
        int sub = p->groups[w->group].sub;
        uint8_t st = *mq_bpart_st(bp, off, sub);
        if (!nack && st != MQ_ST_DONE) {
            /* Processed: even when the timeout already made it READY. */
            lead_finish(ctx, p, bp, off, sub, MQ_OP_ACK, MQ_CAUSE_NONE);
        } else if (nack && st == MQ_ST_FLIGHT && *mq_bpart_att(bp, off, sub) == w->attempt) {
            if (w->flags & MQ_F_RELEASE)
                (*mq_bpart_att(bp, off, sub))--;
            requeue(ctx, p, bp, off, sub);
        }
        pop_stale_fly(bp, sub);
        mq_bpart_dispatch(ctx, p, n->broker, bp, sub);
        mq_bpart_backlog(ctx, p, bp);
    }
    if (w->flags & MQ_F_MORE)
        on_fetch(ctx, p, n, src, w);
}

static int isr_size(const mq_shared *p, const mq_bpart *bp, sim_time now) {
    int n = 1;
    for (int r = 0; r < bp->n_replicas; r++)
        if (r != bp->rank && now - bp->seen[r] <= p->isr_timeout)
            n++;
    return n;
}

static void on_publish(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w) {
    mq_bpart *bp = leading(p, n, w->part);
    if (!bp) {
        not_leader(ctx, p, n, src, w, w->part < p->n_parts ? w->part : 0, MQ_F_PUB);
        return;
    }
    const mq_topic_cfg *t = &p->topics[p->parts[bp->pg].topic];
    mq_wire r = *w;
    if (t->acks == MQ_ACKS_ALL && t->replication > 1 &&
        isr_size(p, bp, sim_now(ctx)) < t->min_insync) {
        r.flags = MQ_F_BUSY; /* not enough replicas in sync: try later */
        mq_send(ctx, p, src, MQ_MSG_PUBLISH_REJECT, &r, sizeof r, 0);
        return;
    }
    if (t->max_messages > 0 && bp->n_live >= (uint32_t)t->max_messages) {
        switch (t->when_full) {
        case MQ_FULL_REJECT:
        case MQ_FULL_BLOCK:
            sim_count(p->s, p->c_rejected, 1);
            r.flags = t->when_full == MQ_FULL_BLOCK ? MQ_F_BUSY : 0;
            mq_send(ctx, p, src, MQ_MSG_PUBLISH_REJECT, &r, sizeof r, 0);
            return;
        case MQ_FULL_DROP_NEWEST:
            sim_count(p->s, p->c_dropped, 1);
            for (int k = 0; k < bp->n_subs; k++)
                mq_oracle_note(p, w->msg, k, MQ_CAUSE_DROPPED_NEWEST);
            mq_send(ctx, p, src, MQ_MSG_PUBLISH_ACK, &r, sizeof r, 0);
            return;
        case MQ_FULL_DROP_OLDEST:
            sim_count(p->s, p->c_dropped, 1);
            mq_repl_record(p, bp, MQ_OP_DROP, bp->lo, 0, 0);
            mq_bpart_drop_oldest(ctx, p, bp);
            break;
        default:
            SIM_ASSERT(0);
        }
    }
    mq_bpart_append(ctx, p, bp, w->msg, w->hops);
    mq_repl_record(p, bp, MQ_OP_APPEND, w->msg, 0, w->hops);
    mq_repl_ack_or_wait(ctx, p, bp, src, w);
    for (int k = 0; k < bp->n_subs; k++)
        mq_bpart_dispatch(ctx, p, n->broker, bp, k);
    mq_repl_appended(ctx, p, bp);
    mq_bpart_backlog(ctx, p, bp);
}

/* ---- The group coordinator ("partitions" assignment). ---- */

static mq_coord *coord_of(mq_broker *b, int group) {
    for (int i = 0; i < b->n_coords; i++)
        if (b->coords[i].group == group)
            return &b->coords[i];
    return NULL;
}

/* Partitions of member m: the k-th partition goes to the (k mod n)-th
 * member in index order. */
static uint64_t mask_of(const mq_shared *p, const mq_coord *co, uint32_t m) {
    if (co->seen[m] < 0 || co->n_members == 0)
        return 0;
    uint32_t rank = 0;
    for (uint32_t i = 0; i < m; i++)
        rank += co->seen[i] >= 0;
    uint64_t mask = 0;
    int64_t parts = p->topics[p->groups[co->group].topic].partitions;
    for (int64_t k = 0; k < parts; k++)
        if ((uint32_t)(k % co->n_members) == rank)
            mask |= (uint64_t)1 << k;
    return mask;
}

static void send_assign(sim_ctx *ctx, const mq_shared *p, const mq_coord *co, uint32_t m) {
    mq_assign a = {.gen = co->gen,
                   .member = m,
                   .group = (uint8_t)co->group,
                   .paused = co->pausing,
                   .mask = co->pausing ? 0 : mask_of(p, co, m)};
    mq_send(ctx, p, p->groups[co->group].first_node + m, MQ_MSG_ASSIGN, &a, sizeof a, 0);
}

/* Membership changed: stop the whole group for rebalance_pause, then hand
 * out the partitions again. */
static void rebalance(sim_ctx *ctx, mq_shared *p, mq_coord *co) {
    co->gen++;
    if (!co->pausing) {
        p->rebalances++;
        sim_count(p->s, p->c_rebalances, 1);
        co->pausing = true;
        co->paused_until = sim_now(ctx) + p->groups[co->group].rebalance_pause;
        sim_timer_set(ctx, p->groups[co->group].rebalance_pause, MQ_T_REBALANCE,
                      (uint64_t)co->group);
    }
    for (uint32_t m = 0; m < co->n; m++)
        if (co->seen[m] >= 0)
            send_assign(ctx, p, co, m);
}

static void on_heartbeat(sim_ctx *ctx, mq_shared *p, mq_node *n, const mq_wire *w) {
    mq_coord *co = coord_of(n->broker, w->group);
    if (!co || w->node >= co->n)
        return;
    bool joined = co->seen[w->node] < 0;
    co->seen[w->node] = sim_now(ctx);
    if (joined) {
        co->n_members++;
        rebalance(ctx, p, co);
    } else {
        send_assign(ctx, p, co, w->node);
    }
}

static void coord_tick(sim_ctx *ctx, mq_shared *p, mq_coord *co) {
    sim_time now = sim_now(ctx);
    bool changed = false;
    for (uint32_t m = 0; m < co->n; m++)
        if (co->seen[m] >= 0 && now - co->seen[m] > p->groups[co->group].session_timeout) {
            co->seen[m] = -1;
            co->n_members--;
            changed = true;
        }
    if (changed)
        rebalance(ctx, p, co);
}

/* ---- Hooks. ---- */

/* The tick serves replication and coordination; a broker with neither
 * needs none. */
static void arm_tick(sim_ctx *ctx, const mq_shared *p, const mq_broker *b) {
    bool needed = b->n_coords > 0;
    for (uint32_t pg = 0; pg < p->n_parts && !needed; pg++)
        needed = b->parts[pg] && b->parts[pg]->n_replicas > 1;
    if (needed)
        sim_timer_set(ctx, p->broker_tick, MQ_T_BROKER_TICK, 0);
}

void mq_broker_init(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    p->dispatch = mq_bpart_dispatch;
    mq_broker *b = sim_calloc(1, sizeof *b);
    n->broker = b;
    uint32_t self = sim_self(ctx);
    b->parts = sim_calloc(p->n_parts, sizeof *b->parts);
    for (int g = 0; g < MQ_MAX_GROUPS; g++)
        mq_ring_init(&b->gpolls[g].polls, sizeof(mq_poll));
    for (uint32_t pg = 0; pg < p->n_parts; pg++) {
        const mq_part_info *pi = &p->parts[pg];
        for (uint8_t r = 0; r < pi->n_replicas; r++) {
            if (pi->replicas[r] != self)
                continue;
            mq_bpart *bp = sim_calloc(1, sizeof *bp);
            bp->pg = pg;
            bp->rank = r;
            bp->n_replicas = pi->n_replicas;
            bp->n_subs = (uint8_t)p->topics[pi->topic].n_subs;
            bp->broker = b;
            for (int k = 0; k < bp->n_subs; k++)
                mq_ring_init(&bp->subs[k].fly, sizeof(mq_fly));
            mq_ring_init(&bp->acks, sizeof(mq_pending_ack));
            b->parts[pg] = bp;
        }
    }
    for (int g = 0; g < p->n_groups; g++) {
        const mq_group_cfg *gc = &p->groups[g];
        if (gc->assignment != MQ_ASSIGN_PARTITIONS || gc->coordinator != self)
            continue;
        mq_coord *co = &b->coords[b->n_coords++];
        co->group = g;
        co->n = (uint32_t)gc->count;
        co->seen = sim_malloc(co->n * sizeof *co->seen);
        for (uint32_t m = 0; m < co->n; m++)
            co->seen[m] = -1;
    }
    if (p->mode == MQ_MODE_DIRECT)
        return;
    /* A replacement node starts empty, like an in-memory broker after a
     * crash: it follows whoever leads. */
    bool fresh = sim_node_incarnation(p->s, self) == 0;
    for (uint32_t pg = 0; pg < p->n_parts; pg++)
        if (b->parts[pg])
            mq_repl_start(ctx, p, b->parts[pg], !fresh);
    arm_tick(ctx, p, n->broker);
}

void mq_broker_fini(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_broker *b = n->broker;
    if (!b)
        return;
    bool down = !sim_node_up(p->s, sim_self(ctx));
    for (uint32_t pg = 0; pg < p->n_parts; pg++) {
        mq_bpart *bp = b->parts[pg];
        if (!bp)
            continue;
        /* Before a replacement the failed node's copies are gone. */
        if (down)
            mq_bpart_wipe(ctx, p, bp, MQ_CAUSE_BROKER_CRASH);
        for (int k = 0; k < bp->n_subs; k++)
            mq_ring_fini(&bp->subs[k].fly);
        mq_ring_fini(&bp->acks);
        sim_free(bp->ids);
        sim_free(bp->hops);
        sim_free(bp->st);
        sim_free(bp->att);
        sim_free(bp->ops);
        sim_free(bp);
    }
    for (int i = 0; i < b->n_coords; i++)
        sim_free(b->coords[i].seen);
    for (int g = 0; g < MQ_MAX_GROUPS; g++)
        mq_ring_fini(&b->gpolls[g].polls);
    sim_free(b->parts);
    sim_free(b);
    n->broker = NULL;
}

void mq_broker_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, const sim_msg *msg) {
    if (msg->type == MQ_MSG_REPLICA_FETCH || msg->type == MQ_MSG_REPLICATE ||
        msg->type == MQ_MSG_TRUNCATE || msg->type == MQ_MSG_LEADER) {
        mq_repl_on_message(ctx, p, n->broker, msg);
        return;
    }
    mq_wire w;
    SIM_ASSERT(msg->len == sizeof w);
    memcpy(&w, msg->data, sizeof w);
    switch (msg->type) {
    case MQ_MSG_PUBLISH:
        on_publish(ctx, p, n, msg->src, &w);
        break;
    case MQ_MSG_FETCH:
        on_fetch(ctx, p, n, msg->src, &w);
        break;
    case MQ_MSG_ACK:
        on_ack(ctx, p, n, msg->src, &w, false);
        break;
    case MQ_MSG_NACK:
        on_ack(ctx, p, n, msg->src, &w, true);
        break;
    case MQ_MSG_HEARTBEAT:
        on_heartbeat(ctx, p, n, &w);
        break;
    default:
        SIM_ASSERT(0);
    }
}

void mq_broker_on_timer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t kind, uint64_t arg) {
    mq_broker *b = n->broker;
    uint32_t pg = (uint32_t)(arg >> 8);
    int sub = (int)(arg & 0xff);
    switch (kind) {
    case MQ_T_VIS:
        if (b->parts[pg]->leading)
            on_visibility(ctx, p, b, b->parts[pg], sub);
        else
            b->parts[pg]->subs[sub].vis_armed = false;
        break;
    case MQ_T_POLL:
        on_poll_expiry(ctx, p, b, (int)arg);
        break;
    case MQ_T_REPL_PARK:
        mq_repl_park_timer(ctx, p, b->parts[arg]);
        break;
    case MQ_T_REBALANCE: {
        mq_coord *co = coord_of(b, (int)arg);
        if (co && co->pausing && sim_now(ctx) >= co->paused_until) {
            co->pausing = false;
            for (uint32_t m = 0; m < co->n; m++)
                if (co->seen[m] >= 0)
                    send_assign(ctx, p, co, m);
        }
        break;
    }
    case MQ_T_BROKER_TICK:
        for (uint32_t i = 0; i < p->n_parts; i++)
            if (b->parts[i])
                mq_repl_tick(ctx, p, b->parts[i]);
        for (int i = 0; i < b->n_coords; i++)
            coord_tick(ctx, p, &b->coords[i]);
        arm_tick(ctx, p, n->broker);
        break;
    default:
        SIM_ASSERT(0);
    }
}

void mq_broker_crash(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_broker *b = n->broker;
    for (uint32_t pg = 0; pg < p->n_parts; pg++) {
        mq_bpart *bp = b->parts[pg];
        if (!bp)
            continue;
        if (bp->leading)
            sim_gauge_set(p->s, p->parts[pg].g_backlog, 0);
        mq_ring_clear(&bp->acks);
        bp->park_armed = bp->fetch_out = false;
        memset(bp->parked, 0, sizeof bp->parked);
        if (p->topics[p->parts[pg].topic].durable) {
            mq_bpart_unflight(bp);
        } else {
            mq_bpart_wipe(ctx, p, bp, MQ_CAUSE_BROKER_CRASH);
            bp->n_ops = 0;
            bp->epoch = 0;
            if (bp->n_replicas > 1) {
                bp->leading = false;
                bp->leader_rank = (uint8_t)((bp->rank + 1) % bp->n_replicas);
            }
        }
    }
    for (int g = 0; g < MQ_MAX_GROUPS; g++) {
        mq_ring_clear(&b->gpolls[g].polls);
        b->gpolls[g].armed = false;
    }
    for (int i = 0; i < b->n_coords; i++) {
        mq_coord *co = &b->coords[i];
        for (uint32_t m = 0; m < co->n; m++)
            co->seen[m] = -1;
        co->n_members = 0;
        co->pausing = false;
    }
}

void mq_broker_recover(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    for (uint32_t pg = 0; pg < p->n_parts; pg++)
        if (n->broker->parts[pg])
            mq_repl_start(ctx, p, n->broker->parts[pg], true);
    arm_tick(ctx, p, n->broker);
}
