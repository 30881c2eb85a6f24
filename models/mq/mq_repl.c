/*
 * mq_repl.c - replication of a partition to follower brokers, leader
 * election and failover (topics with replication > 1).
 *
 * The leader records every change to a partition as an operation (append a
 * message; a group finished an entry: ack, dead-letter; drop the oldest
 * entry) in an operation log kept for the whole run.  Followers pull it, in
 * the manner of Kafka: a follower sends replica_fetch with the end of its
 * own operation log and the epoch of its last operation; the leader answers
 * with the next operations (up to MQ_REPL_BATCH), or parks the fetch for
 * broker.replica_wait and answers with an empty batch, which also tells the
 * follower that the leader is alive.  A follower applies operations to its
 * own copy of the log in order, so its log is the leader's as of that
 * point, without the deliveries in flight.
 *
 * In-sync replicas.  A follower is in sync while it has been caught up
 * within broker.isr_timeout: it fetched with nothing left to send, or
 * fetched past everything the leader had when it sent the previous batch
 * (then it was caught up as of that send, Kafka's rule).  With
 * acks = "all" the leader acknowledges a publish once every in-sync
 * follower has fetched past it (the high watermark); with acks = "leader"
 * at once, which is faster and can lose acknowledged messages when the
 * leader dies before its followers fetched them.  Either way consumers see
 * only committed messages (below the high watermark), as in Kafka; a
 * follower that becomes leader commits its whole log.  With acks = "all" and
 * fewer than min_insync replicas in sync (the leader counts), publishes are
 * refused as busy and the producer retries.
 *
 * Election.  A follower that was in sync at its last fetch and has heard
 * nothing from its leader for election_timeout x d, where d is its distance
 * after the leader in the replica list (1, 2, ...), makes itself leader of
 * the next epoch and announces it; the nearest follower so goes first and
 * the others hear it before their turn.  Announcements carry the epoch: a
 * replica that learns of a newer epoch follows its leader; a leader that
 * learns of one steps down (deliveries in flight return to READY, unsent
 * acknowledgements are dropped, the producers retry).  Two leaders of the
 * same epoch keep the one earlier in the replica list.  A leader also
 * re-announces itself, every broker tick, to replicas that are not
 * fetching from it, so a leader cut off by a partition learns of its
 * successor when the partition heals.
 *
 * Divergence.  Operations carry the epoch of the leader that wrote them.
 * When a follower's last operation does not match the leader's log at that
 * offset (it led an older epoch and wrote operations nobody copied), the
 * leader answers "truncate" with the end of the follower's last epoch in
 * its own log; the follower cuts its operation log there and rebuilds its
 * partition by replaying it.  The copies only it held are lost (cause
 * "truncated"): acknowledged and lost.
 *
 * Not modelled: a controller, unclean-election settings, log compaction,
 * and fencing of consumers (a rebalanced-away consumer may still ack).
 */
#include "mq_int.h"

static uint32_t node_of(const mq_shared *p, const mq_bpart *bp, int rank) {
    return p->parts[bp->pg].replicas[rank];
}

static int rank_of(const mq_shared *p, const mq_bpart *bp, uint32_t node) {
    for (int r = 0; r < bp->n_replicas; r++)
        if (node_of(p, bp, r) == node)
            return r;
    return -1;
}

static void push_op(mq_bpart *bp, const mq_op *op) {
    if (bp->n_ops == bp->cap_ops) {
        bp->cap_ops = bp->cap_ops ? bp->cap_ops * 2 : 256;
        bp->ops = sim_realloc(bp->ops, (size_t)bp->cap_ops * sizeof *bp->ops);
    }
    bp->ops[bp->n_ops++] = *op;
}

void mq_repl_record(mq_shared *p, mq_bpart *bp, int kind, uint32_t a, int sub, uint8_t hops) {
    (void)p;
    if (bp->n_replicas < 2)
        return;
    mq_op op = {
        .a = a, .epoch = bp->epoch, .kind = (uint8_t)kind, .sub = (uint8_t)sub, .hops = hops};
    push_op(bp, &op);
}

/* ---- Leader side. ---- */

static bool in_sync(const mq_shared *p, const mq_bpart *bp, int r, sim_time now) {
    return now - bp->caught[r] <= p->isr_timeout;
}

/* Makes the entries appended by operations [hw_ops, hw) deliverable. */
static void commit(mq_shared *p, mq_bpart *bp, uint32_t hw) {
    for (; bp->hw_ops < hw; bp->hw_ops++) {
        if (bp->ops[bp->hw_ops].kind != MQ_OP_APPEND)
            continue;
        uint32_t off = bp->committed++;
        if (off < bp->lo || off >= bp->hi)
            continue;
        for (int k = 0; k < bp->n_subs; k++) {
            uint8_t *st = mq_bpart_st(bp, off, k);
            if (*st != MQ_ST_PENDING)
                continue;
            *st = MQ_ST_READY;
            bp->subs[k].ready++;
            if (off < bp->subs[k].cursor)
                bp->subs[k].cursor = off;
        }
    }
    (void)p;
}

/* The high watermark: what every in-sync follower has copied.  Commits
 * it (consumers may now see those messages) and acknowledges the publishes
 * waiting for it. */
void mq_repl_advance(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    sim_time now = sim_now(ctx);
    uint32_t hw = bp->n_ops;
    for (int r = 0; r < bp->n_replicas; r++)
        if (r != bp->rank && in_sync(p, bp, r, now) && bp->prog[r] < hw)
            hw = bp->prog[r];
    if (hw > bp->hw_ops) {
        commit(p, bp, hw);
        for (int k = 0; k < bp->n_subs; k++)
            p->dispatch(ctx, p, bp->broker, bp, k);
        mq_bpart_backlog(ctx, p, bp);
    }
    while (bp->acks.n) {
        mq_pending_ack *a = mq_ring_front(&bp->acks);
        if (a->op >= hw)
            break;
        mq_wire w = {.msg = a->msg, .tag = a->tag, .part = (uint16_t)bp->pg, .slot = a->slot};
        mq_send(ctx, p, a->node, MQ_MSG_PUBLISH_ACK, &w, sizeof w, 0);
        mq_ring_pop(&bp->acks);
    }
}

void mq_repl_ack_or_wait(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t src, const mq_wire *w) {
    const mq_topic_cfg *t = &p->topics[p->parts[bp->pg].topic];
    if (bp->n_replicas < 2 || t->acks == MQ_ACKS_LEADER) {
        mq_wire r = *w;
        mq_send(ctx, p, src, MQ_MSG_PUBLISH_ACK, &r, sizeof r, 0);
    } else {
        *(mq_pending_ack *)mq_ring_push(&bp->acks) = (mq_pending_ack){
            .op = bp->n_ops - 1, .node = src, .msg = w->msg, .tag = w->tag, .slot = w->slot};
    }
    if (bp->n_replicas > 1)
        mq_repl_advance(ctx, p, bp); /* commits at once when no follower is in sync */
}

static void send_replicate(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, int r, uint32_t from) {
    const mq_topic_cfg *t = &p->topics[p->parts[bp->pg].topic];
    mq_repl m;
    uint32_t n = bp->n_ops - from < MQ_REPL_BATCH ? bp->n_ops - from : MQ_REPL_BATCH;
    m.from = from;
    m.epoch = bp->epoch;
    m.n = n;
    m.part = (uint16_t)bp->pg;
    m.in_isr = in_sync(p, bp, r, sim_now(ctx));
    m.pad = 0;
    int64_t body = 0;
    for (uint32_t i = 0; i < n; i++) {
        m.ops[i] = bp->ops[from + i];
        body += 16 + (m.ops[i].kind == MQ_OP_APPEND ? t->message_bytes : 0);
    }
    uint32_t len = (uint32_t)(offsetof(mq_repl, ops) + n * sizeof(mq_op));
    mq_send(ctx, p, node_of(p, bp, r), MQ_MSG_REPLICATE, &m, len, body);
    bp->parked[r] = false;
    bp->sent_end[r] = bp->n_ops;
    bp->sent_at[r] = sim_now(ctx);
}

static void arm_park(sim_ctx *ctx, mq_bpart *bp) {
    sim_time first = SIM_TIME_MAX;
    for (int r = 0; r < bp->n_replicas; r++)
        if (bp->parked[r] && bp->park_deadline[r] < first)
            first = bp->park_deadline[r];
    if (first == SIM_TIME_MAX || bp->park_armed)
        return;
    sim_time now = sim_now(ctx);
    sim_timer_set(ctx, first > now ? first - now : 0, MQ_T_REPL_PARK, bp->pg);
    bp->park_armed = true;
}

void mq_repl_park_timer(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    bp->park_armed = false;
    if (!bp->leading)
        return;
    for (int r = 0; r < bp->n_replicas; r++)
        if (bp->parked[r] && bp->park_deadline[r] <= sim_now(ctx))
            send_replicate(ctx, p, bp, r, bp->prog[r]);
    arm_park(ctx, bp);
}

void mq_repl_appended(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    if (bp->n_replicas < 2)
        return;
    for (int r = 0; r < bp->n_replicas; r++)
        if (bp->parked[r])
            send_replicate(ctx, p, bp, r, bp->prog[r]);
}

/* The first operation offset whose epoch is newer than e, at most `limit`. */
static uint32_t end_of_epoch(const mq_bpart *bp, uint32_t e, uint32_t limit) {
    uint32_t lo = 0, hi = bp->n_ops < limit ? bp->n_ops : limit;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (bp->ops[mid].epoch <= e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void send_leader(sim_ctx *ctx, const mq_shared *p, const mq_bpart *bp, uint32_t dst,
                        uint8_t flags) {
    mq_wire w = {.part = (uint16_t)bp->pg,
                 .tag = bp->epoch,
                 .node = node_of(p, bp, bp->leader_rank),
                 .flags = flags};
    mq_send(ctx, p, dst, MQ_MSG_LEADER, &w, sizeof w, 0);
}

static void on_replica_fetch(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t src,
                             const mq_wire *w) {
    int r = rank_of(p, bp, src);
    if (r < 0)
        return;
    if (!bp->leading) {
        send_leader(ctx, p, bp, src, MQ_F_HINT);
        return;
    }
    uint32_t from = w->offset, last_epoch = w->tag;
    if (from > bp->n_ops || (from > 0 && bp->ops[from - 1].epoch != last_epoch)) {
        mq_wire t = {.part = (uint16_t)bp->pg,
                     .tag = bp->epoch,
                     .node = sim_self(ctx),
                     .offset = end_of_epoch(bp, last_epoch, from)};
        mq_send(ctx, p, src, MQ_MSG_TRUNCATE, &t, sizeof t, 0);
        return;
    }
    /* Caught up as of the last replicate if it now has all the leader had
     * then (Kafka's rule; "nothing left now" would never hold for a
     * follower a round trip away from a busy leader). */
    sim_time now = sim_now(ctx);
    bp->prog[r] = from;
    bp->seen[r] = now;
    if (from == bp->n_ops)
        bp->caught[r] = now;
    else if (from >= bp->sent_end[r] && bp->sent_at[r] > bp->caught[r])
        bp->caught[r] = bp->sent_at[r];
    mq_repl_advance(ctx, p, bp);
    if (from < bp->n_ops) {
        send_replicate(ctx, p, bp, r, from);
        return;
    }
    bp->parked[r] = true;
    bp->park_deadline[r] = now + p->replica_wait;
    arm_park(ctx, bp);
}

/* ---- Follower side. ---- */

static void send_fetch(sim_ctx *ctx, const mq_shared *p, mq_bpart *bp) {
    mq_wire w = {.part = (uint16_t)bp->pg,
                 .offset = bp->n_ops,
                 .tag = bp->n_ops ? bp->ops[bp->n_ops - 1].epoch : 0,
                 .node = bp->epoch};
    mq_send(ctx, p, node_of(p, bp, bp->leader_rank), MQ_MSG_REPLICA_FETCH, &w, sizeof w, 0);
    bp->fetch_out = true;
    bp->fetch_sent = sim_now(ctx);
}

/* Applies one operation to the partition (the log already holds it). */
static void apply(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, const mq_op *op) {
    switch (op->kind) {
    case MQ_OP_APPEND:
        mq_bpart_append(ctx, p, bp, op->a, op->hops);
        break;
    case MQ_OP_ACK:
    case MQ_OP_DLQ:
        if (op->a >= bp->lo && op->a < bp->hi && *mq_bpart_st(bp, op->a, op->sub) != MQ_ST_DONE)
            mq_bpart_finish(ctx, p, bp, op->a, op->sub, op->kind, MQ_CAUSE_NONE);
        break;
    case MQ_OP_DROP:
        if (op->a >= bp->lo && op->a < bp->hi)
            for (int k = 0; k < bp->n_subs; k++)
                if (*mq_bpart_st(bp, op->a, k) != MQ_ST_DONE)
                    mq_bpart_finish(ctx, p, bp, op->a, k, MQ_OP_DROP, MQ_CAUSE_DROPPED_OLDEST);
        break;
    default:
        SIM_ASSERT(0);
    }
}

/* Cuts the operation log at `to` and rebuilds the partition from it. */
static void truncate_to(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t to) {
    if (to >= bp->n_ops)
        return;
    mq_bpart_wipe(ctx, p, bp, MQ_CAUSE_TRUNCATED);
    bp->n_ops = to;
    for (uint32_t i = 0; i < bp->n_ops; i++)
        apply(ctx, p, bp, &bp->ops[i]);
}

void mq_repl_step_down(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    (void)ctx;
    (void)p;
    bp->leading = false;
    mq_bpart_unflight(bp);
    mq_ring_clear(&bp->acks);
    memset(bp->parked, 0, sizeof bp->parked);
}

static void become_leader(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    sim_time now = sim_now(ctx);
    bp->epoch++;
    bp->leading = true;
    bp->leader_rank = bp->rank;
    bp->fetch_out = false;
    for (int r = 0; r < bp->n_replicas; r++) {
        bp->prog[r] = bp->sent_end[r] = 0;
        bp->seen[r] = bp->caught[r] = bp->sent_at[r] = now; /* a grace period to fetch */
        bp->parked[r] = false;
    }
    for (int k = 0; k < bp->n_subs; k++)
        bp->subs[k].cursor = bp->lo;
    /* Its whole log becomes the truth: the others will truncate to it. */
    bp->hw_ops = bp->committed = 0;
    commit(p, bp, bp->n_ops);
    p->failovers++;
    sim_count(p->s, p->c_failovers, 1);
    sim_log(ctx, "partition %u: leader of epoch %u", bp->pg, bp->epoch);
    for (int r = 0; r < bp->n_replicas; r++)
        if (r != bp->rank)
            send_leader(ctx, p, bp, node_of(p, bp, r), 0);
    mq_bpart_backlog(ctx, p, bp);
}

/* Follows `node` as leader of `epoch`. */
static void follow(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, int rank, uint32_t epoch) {
    if (bp->leading)
        mq_repl_step_down(ctx, p, bp);
    bp->epoch = epoch;
    bp->leader_rank = (uint8_t)rank;
    bp->heard_at = sim_now(ctx);
    send_fetch(ctx, p, bp);
}

static void on_leader(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t src, const mq_wire *w) {
    int r = rank_of(p, bp, w->node);
    if (r < 0 || rank_of(p, bp, src) < 0)
        return;
    bool self = r == bp->rank;
    if (w->tag > bp->epoch ||
        (w->tag == bp->epoch && r != bp->leader_rank && r < bp->leader_rank)) {
        if (self)
            return; /* "you lead": only an election makes a leader */
        follow(ctx, p, bp, r, w->tag);
        return;
    }
    if (w->tag == bp->epoch && r == bp->leader_rank) {
        if (!bp->leading)
            bp->heard_at = sim_now(ctx);
        return;
    }
    /* The sender knows an older epoch: tell it, unless it only hinted. */
    if (!(w->flags & MQ_F_HINT))
        send_leader(ctx, p, bp, src, bp->leading ? 0 : MQ_F_HINT);
}

static void on_replicate(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t src, const mq_repl *m) {
    int r = rank_of(p, bp, src);
    if (r < 0 || m->epoch < bp->epoch || (bp->leading && m->epoch == bp->epoch))
        return;
    if (m->epoch > bp->epoch || r != bp->leader_rank) {
        if (bp->leading)
            mq_repl_step_down(ctx, p, bp);
        bp->epoch = m->epoch;
        bp->leader_rank = (uint8_t)r;
    }
    bp->heard_at = sim_now(ctx);
    bp->fetch_out = false;
    bp->in_isr = m->in_isr;
    if (m->from == bp->n_ops) {
        for (uint32_t i = 0; i < m->n; i++) {
            push_op(bp, &m->ops[i]);
            apply(ctx, p, bp, &m->ops[i]);
        }
    }
    send_fetch(ctx, p, bp);
}

static void on_truncate(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, uint32_t src, const mq_wire *w) {
    int r = rank_of(p, bp, src);
    if (r < 0 || w->tag < bp->epoch || bp->leading)
        return;
    bp->epoch = w->tag;
    bp->leader_rank = (uint8_t)r;
    bp->heard_at = sim_now(ctx);
    truncate_to(ctx, p, bp, w->offset);
    send_fetch(ctx, p, bp);
}

void mq_repl_on_message(sim_ctx *ctx, mq_shared *p, mq_broker *b, const sim_msg *msg) {
    if (msg->type == MQ_MSG_REPLICATE) {
        mq_repl m;
        SIM_ASSERT(msg->len >= offsetof(mq_repl, ops) && msg->len <= sizeof m);
        memcpy(&m, msg->data, msg->len);
        if (m.part < p->n_parts && b->parts[m.part])
            on_replicate(ctx, p, b->parts[m.part], msg->src, &m);
        return;
    }
    mq_wire w;
    SIM_ASSERT(msg->len == sizeof w);
    memcpy(&w, msg->data, sizeof w);
    mq_bpart *bp = w.part < p->n_parts ? b->parts[w.part] : NULL;
    if (!bp || bp->n_replicas < 2)
        return;
    switch (msg->type) {
    case MQ_MSG_REPLICA_FETCH:
        on_replica_fetch(ctx, p, bp, msg->src, &w);
        break;
    case MQ_MSG_TRUNCATE:
        on_truncate(ctx, p, bp, msg->src, &w);
        break;
    case MQ_MSG_LEADER:
        on_leader(ctx, p, bp, msg->src, &w);
        break;
    default:
        SIM_ASSERT(0);
    }
}

void mq_repl_start(sim_ctx *ctx, mq_shared *p, mq_bpart *bp, bool recovering) {
    sim_time now = sim_now(ctx);
    if (bp->n_replicas < 2) {
        bp->leading = true;
        mq_bpart_backlog(ctx, p, bp);
        return;
    }
    if (!recovering) {
        bp->epoch = 1;
        bp->leader_rank = 0;
        bp->leading = bp->rank == 0;
        bp->in_isr = true;
    } else if (bp->epoch == 0) {
        /* Empty (in-memory crash or replacement): follow the next one. */
        bp->leading = false;
        bp->leader_rank = (uint8_t)((bp->rank + 1) % bp->n_replicas);
        bp->in_isr = false;
    }
    if (bp->leading) {
        for (int r = 0; r < bp->n_replicas; r++)
            bp->seen[r] = bp->caught[r] = now;
        if (recovering)
            for (int r = 0; r < bp->n_replicas; r++)
                if (r != bp->rank)
                    send_leader(ctx, p, bp, node_of(p, bp, r), 0);
        mq_bpart_backlog(ctx, p, bp);
        return;
    }
    bp->heard_at = now;
    send_fetch(ctx, p, bp);
}

void mq_repl_tick(sim_ctx *ctx, mq_shared *p, mq_bpart *bp) {
    if (bp->n_replicas < 2)
        return;
    sim_time now = sim_now(ctx);
    if (bp->leading) {
        mq_repl_advance(ctx, p, bp); /* the in-sync set may have shrunk */
        for (int r = 0; r < bp->n_replicas; r++)
            if (r != bp->rank && now - bp->seen[r] > p->isr_timeout)
                send_leader(ctx, p, bp, node_of(p, bp, r), 0);
        return;
    }
    int d = (bp->rank - bp->leader_rank + bp->n_replicas) % bp->n_replicas;
    if (bp->in_isr && now - bp->heard_at >= p->election_timeout * d) {
        become_leader(ctx, p, bp);
        return;
    }
    if (!bp->fetch_out || now - bp->fetch_sent > p->replica_wait + p->request_timeout)
        send_fetch(ctx, p, bp);
}
