/*
 * mq_client.c - the clients of the brokers: publishers and consumers.
 *
 * Publisher (producers, and consumers whose group publishes on
 * completion).  A new message goes into the node's local buffer (at most
 * publisher.buffer messages, counting those awaiting an acknowledgement;
 * beyond it the message is refused at the source).  Up to
 * publisher.max_in_flight publishes are outstanding at once, each in a slot
 * with a tag that its answer must echo.  A publish unanswered after
 * publisher.timeout is sent again, to the next replica when the partition
 * is replicated, up to publisher.retries times; then the producer gives up.
 * A not_leader answer naming a newer leader redirects it at once (counted
 * as a try); one that names no newer leader waits publisher.backoff, so
 * replicas that disagree during a failover cannot bounce it in a loop.  A "full" refusal loses the
 * message; a "busy" one (policy block, or too few in-sync replicas) puts it
 * back at the head of the buffer and pauses publishing for
 * publisher.backoff: backpressure reaches the producer, whose buffer fills.
 * One timer, at the earliest deadline of the outstanding publishes, finds
 * the timeouts.
 *
 * Consumer.  concurrency slots, each holding at most one message.  An idle
 * slot sends a fetch for one partition (round robin over the partitions it
 * may read: all of the topic in "shared" assignment, those the coordinator
 * assigned in "partitions" assignment); the leader answers with a message
 * at once or within poll_wait, else with "empty" and the slot moves to the
 * next partition.  Processing takes a draw of the group's distribution;
 * then the slot acknowledges (at-least-once) and the acknowledgement is
 * also its next fetch of the same partition.  A failed processing sends a
 * nack instead: each processing fails with the group's failure_probability
 * (a transient error), and every processing of a poison message fails (a
 * message is poison for the group with poison_probability, mq_poison).
 * At-most-once: the broker deleted the message when it delivered it; the
 * ack is only the next fetch.  Effectively-once: at-least-once plus a window of the last
 * dedupe_window message ids processed by this consumer; a delivery of one
 * of them is acknowledged without processing.  A fetch unanswered after
 * poll_wait + request_timeout is given up (found by the tick every
 * heartbeat) and the next replica is tried.  In "partitions" assignment the
 * tick also sends the heartbeat that keeps the consumer in its group.
 *
 * Server (direct mode).  The same consumer nodes take calls from the
 * balancer, one per free slot, and answer "done"; a call that finds no
 * free slot is refused.  There is no retry, no redelivery and no buffer.
 *
 * Slow consumers.  A consumer (or server) slowed by the fault schedule's
 * "slow" takes its factor times the drawn processing time for a message it
 * starts while slowed, besides the slower network the kernel gives it.
 *
 * Crashes.  A publisher's buffer and outstanding publishes are lost.  A
 * consumer loses the messages it was processing: at-least-once, the broker
 * still has them and redelivers after the visibility timeout; at-most-once
 * they are gone.  The dedupe window is the service's own durable store and
 * survives.
 */
#include "mq_int.h"

/* ---- Publisher. ---- */

void mq_pub_init(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    (void)ctx;
    mq_pub *b = sim_calloc(1, sizeof *b);
    mq_ring_init(&b->wait, sizeof(mq_waiting));
    b->n_slots = (uint32_t)p->pub_max_in_flight;
    b->slots = sim_calloc(b->n_slots, sizeof *b->slots);
    b->free = sim_calloc(b->n_slots, sizeof *b->free);
    for (uint32_t i = 0; i < b->n_slots; i++)
        b->free[i] = b->n_slots - 1 - i;
    b->n_free = b->n_slots;
    n->pub = b;
}

void mq_pub_fini(mq_node *n) {
    if (!n->pub)
        return;
    mq_ring_fini(&n->pub->wait);
    sim_free(n->pub->slots);
    sim_free(n->pub->free);
    sim_free(n->pub);
    n->pub = NULL;
}

static void set_buffered(mq_shared *p, int64_t delta) {
    p->buffered += delta;
    sim_gauge_set(p->s, p->g_buffered, (double)p->buffered);
}

/* One timer at the earliest deadline of the publishes outstanding (a
 * publish sent later has a later deadline, so it never needs an earlier
 * timer than one already set). */
static void arm_tick(sim_ctx *ctx, const mq_shared *p, mq_pub *b, sim_time deadline) {
    if (b->tick_armed)
        return;
    sim_time now = sim_now(ctx);
    sim_timer_set(ctx, deadline > now ? deadline - now : 0, MQ_T_PUB_TICK, 0);
    b->tick_armed = true;
    (void)p;
}

static void send_slot(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t i) {
    mq_pub *b = n->pub;
    mq_pslot *sl = &b->slots[i];
    sl->tag = ++b->tagseq;
    sl->sent_at = sim_now(ctx);
    mq_wire w = {
        .msg = sl->msg, .tag = sl->tag, .part = sl->part, .slot = (uint16_t)i, .hops = sl->hops};
    const mq_topic_cfg *t = &p->topics[p->parts[sl->part].topic];
    bool direct = p->mode == MQ_MODE_DIRECT;
    sl->dst = direct ? p->lb_node : mq_leader_of(p, n, sl->part);
    mq_send(ctx, p, sl->dst, direct ? MQ_MSG_REQUEST : MQ_MSG_PUBLISH, &w, sizeof w,
            t->message_bytes);
    sim_count(p->s, p->c_publish_sent, 1);
    arm_tick(ctx, p, b, sl->sent_at + p->pub_timeout);
}

/* Sends buffered messages while slots are free and no back-off holds. */
static void pump(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_pub *b = n->pub;
    while (b->n_free && b->wait.n && sim_now(ctx) >= b->paused_until) {
        mq_waiting w = *(mq_waiting *)mq_ring_front(&b->wait);
        mq_ring_pop(&b->wait);
        uint32_t i = b->free[--b->n_free];
        b->slots[i] = (mq_pslot){.msg = w.msg,
                                 .part = w.part,
                                 .hops = w.hops,
                                 .tries = w.tries,
                                 .used = 1,
                                 .created = w.created};
        send_slot(ctx, p, n, i);
    }
}

static void free_slot(mq_shared *p, mq_pub *b, uint32_t i) {
    b->slots[i].used = 0;
    b->free[b->n_free++] = i;
    b->held--;
    set_buffered(p, -1);
}

/* The slot's message leaves the publisher: handed over or lost. */
static void finish_slot(sim_ctx *ctx, mq_shared *p, mq_pub *b, uint32_t i, int cause) {
    mq_oracle_producer_release(p, sim_now(ctx), b->slots[i].msg, cause);
    free_slot(p, b, i);
}

static uint32_t pick_partition(sim_ctx *ctx, const mq_shared *p, mq_node *n, int topic) {
    uint32_t parts = (uint32_t)p->topics[topic].partitions;
    int how =
        n->role == MQ_ROLE_PRODUCER ? p->producers[n->entity].partitioner : MQ_PART_ROUND_ROBIN;
    if (how == MQ_PART_RANDOM)
        return sim_rng_below(sim_node_rng(ctx), parts);
    /* Round robin from a per-node start, so that producers do not all
     * begin on partition 0. */
    return (n->index + n->pub->rr++) % parts;
}

void mq_pub_create(sim_ctx *ctx, mq_shared *p, mq_node *n, int topic, uint8_t hops) {
    mq_pub *b = n->pub;
    sim_time now = sim_now(ctx);
    uint32_t id = mq_oracle_create(p, now, topic, hops);
    if (id == UINT32_MAX) {
        sim_stop(ctx); /* the oracle is full: mq.max_messages */
        return;
    }
    if (b->held >= p->pub_buffer) {
        sim_count(p->s, p->c_buffer_full, 1);
        mq_oracle_producer_release(p, now, id, MQ_CAUSE_BUFFER_FULL);
        return;
    }
    uint32_t k = pick_partition(ctx, p, n, topic);
    mq_waiting *w = mq_ring_push(&b->wait);
    *w =
        (mq_waiting){.msg = id, .part = (uint16_t)mq_pg(p, topic, k), .hops = hops, .created = now};
    b->held++;
    set_buffered(p, 1);
    pump(ctx, p, n);
}

/* A try more for slot i: resend, or give up after publisher.retries. */
static void retry(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t i) {
    mq_pub *b = n->pub;
    mq_pslot *sl = &b->slots[i];
    if (sl->tries >= p->pub_retries) {
        sim_count(p->s, p->c_gave_up, 1);
        finish_slot(ctx, p, b, i, MQ_CAUSE_GAVE_UP);
        return;
    }
    sl->tries++;
    sim_count(p->s, p->c_retries, 1);
    send_slot(ctx, p, n, i);
}

void mq_pub_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t type, const mq_wire *w) {
    mq_pub *b = n->pub;
    if (!b || w->slot >= b->n_slots)
        return;
    mq_pslot *sl = &b->slots[w->slot];
    if (!sl->used || sl->tag != w->tag || sl->msg != w->msg)
        return; /* an answer to an earlier try */
    switch (type) {
    case MQ_MSG_PUBLISH_ACK:
    case MQ_MSG_RESPONSE:
        if (sl->created >= p->warmup)
            sim_record(p->s, p->h_ack_latency, sim_now(ctx) - sl->created);
        finish_slot(ctx, p, b, w->slot, MQ_CAUSE_NONE);
        break;
    case MQ_MSG_PUBLISH_REJECT:
        if (w->flags & MQ_F_BUSY) {
            mq_waiting *q = mq_ring_push_front(&b->wait);
            *q = (mq_waiting){.msg = sl->msg,
                              .part = sl->part,
                              .hops = sl->hops,
                              .tries = sl->tries,
                              .created = sl->created};
            sl->used = 0;
            b->free[b->n_free++] = w->slot;
            b->paused_until = sim_now(ctx) + p->pub_backoff;
            if (!b->resume_armed) {
                sim_timer_set(ctx, p->pub_backoff, MQ_T_PUB_RESUME, 0);
                b->resume_armed = true;
            }
        } else {
            finish_slot(ctx, p, b, w->slot, MQ_CAUSE_REJECTED);
        }
        break;
    case MQ_MSG_NOT_LEADER:
        /* A newer leader: ask it at once.  Otherwise wait for the tick, so
         * that replicas pointing at each other cannot bounce it. */
        if (mq_leader_hint(p, n, sl->part, w->node, w->offset))
            retry(ctx, p, n, w->slot);
        else
            sl->sent_at = sim_now(ctx) - p->pub_timeout + p->pub_backoff;
        break;
    default:
        SIM_ASSERT(0);
    }
    pump(ctx, p, n);
}

void mq_pub_on_timer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t kind) {
    mq_pub *b = n->pub;
    if (kind == MQ_T_PUB_RESUME) {
        b->resume_armed = false;
        if (sim_now(ctx) < b->paused_until) {
            sim_timer_set(ctx, b->paused_until - sim_now(ctx), MQ_T_PUB_RESUME, 0);
            b->resume_armed = true;
        }
        pump(ctx, p, n);
        return;
    }
    b->tick_armed = false;
    sim_time now = sim_now(ctx), first = SIM_TIME_MAX;
    for (uint32_t i = 0; i < b->n_slots; i++) {
        mq_pslot *sl = &b->slots[i];
        if (!sl->used)
            continue;
        if (now - sl->sent_at >= p->pub_timeout) {
            /* Silence from the broker it believes leads: try the next
             * replica (once: other slots see the belief has moved). */
            if (p->mode == MQ_MODE_QUEUE && sl->dst == mq_leader_of(p, n, sl->part))
                mq_leader_next(p, n, sl->part);
            retry(ctx, p, n, i); /* resends (re-arming) or gives up */
        } else if (sl->sent_at < first) {
            first = sl->sent_at;
        }
    }
    pump(ctx, p, n);
    if (first != SIM_TIME_MAX)
        arm_tick(ctx, p, b, first + p->pub_timeout);
}

void mq_pub_crash(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_pub *b = n->pub;
    sim_time now = sim_now(ctx);
    while (b->wait.n) {
        mq_waiting *w = mq_ring_front(&b->wait);
        mq_oracle_producer_release(p, now, w->msg, MQ_CAUSE_PRODUCER_CRASH);
        mq_ring_pop(&b->wait);
        b->held--;
        set_buffered(p, -1);
    }
    for (uint32_t i = 0; i < b->n_slots; i++)
        if (b->slots[i].used)
            finish_slot(ctx, p, b, i, MQ_CAUSE_PRODUCER_CRASH);
    SIM_ASSERT(b->held == 0 && b->n_free == b->n_slots);
    b->paused_until = 0;
    b->resume_armed = b->tick_armed = false;
}

/* Schedules the producer's next message (the first one when `first`). */
void mq_producer_arrival(sim_ctx *ctx, mq_shared *p, mq_node *n, bool first) {
    const mq_producer_cfg *q = &p->producers[n->entity];
    sim_time now = sim_now(ctx);
    if (!first)
        mq_pub_create(ctx, p, n, q->topic, 0);
    if (q->rate_per_s <= 0)
        return;
    sim_time gap = sim_dist_sample_time(&q->gap, sim_node_rng(ctx));
    sim_time at = now + gap;
    if (first) {
        /* From start (or the recovery): constant arrivals begin at once,
         * the nodes of a group spread over one gap; Poisson ones after an
         * exponential gap, which is the same by memorylessness. */
        sim_time from = now > q->start ? now : q->start;
        at = from + (q->arrivals == MQ_ARRIVALS_CONSTANT
                         ? (sim_time)((double)gap * (double)n->index / (double)q->count)
                         : gap);
    }
    if (at < q->stop || (at == q->stop && q->stop == q->start))
        sim_timer_set(ctx, at - now, MQ_T_ARRIVAL, 0);
}

void mq_pub_start(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    if (n->role == MQ_ROLE_PRODUCER)
        mq_producer_arrival(ctx, p, n, true);
}

/* ---- Consumer: dedupe window. ---- */

static bool dd_has(const mq_cons *c, uint32_t id) {
    return sim_set_has(&c->dd_set, (uint64_t)id + 1);
}

static void dd_add(mq_cons *c, uint32_t id) {
    if (dd_has(c, id))
        return;
    if (c->dd_n == c->dd_cap) {
        sim_set_remove(&c->dd_set, (uint64_t)c->dd_ring[c->dd_head] + 1);
        c->dd_head = (c->dd_head + 1) % c->dd_cap;
        c->dd_n--;
    }
    c->dd_ring[(c->dd_head + c->dd_n) % c->dd_cap] = id;
    c->dd_n++;
    sim_set_add(&c->dd_set, (uint64_t)id + 1);
}

/* ---- Consumer. ---- */

void mq_cons_init(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    (void)ctx;
    const mq_group_cfg *g = &p->groups[n->entity];
    mq_cons *c = sim_calloc(1, sizeof *c);
    c->n_slots = (uint32_t)g->concurrency;
    c->slots = sim_calloc(c->n_slots, sizeof *c->slots);
    c->rot = n->index;
    if (g->delivery == MQ_EFFECTIVELY_ONCE && p->mode == MQ_MODE_QUEUE) {
        c->dd_cap = (uint32_t)g->dedupe_window;
        c->dd_ring = sim_calloc(c->dd_cap, sizeof *c->dd_ring);
    }
    n->cons = c;
}

void mq_cons_fini(mq_node *n) {
    if (!n->cons)
        return;
    sim_free(n->cons->slots);
    sim_free(n->cons->dd_ring);
    sim_set_fini(&n->cons->dd_set);
    sim_free(n->cons);
    n->cons = NULL;
}

static bool wanted(const mq_cons *c, const mq_group_cfg *g, uint32_t k) {
    return g->assignment == MQ_ASSIGN_SHARED || (c->assigned >> k & 1);
}

/* The next partition the consumer may read, in round robin (advancing the
 * rotation), the broker it believes leads it, and every partition the
 * consumer may read from that broker.  False if it may read none. */
static bool next_target(const mq_shared *p, mq_node *n, uint32_t *broker, uint32_t *mask) {
    mq_cons *c = n->cons;
    const mq_group_cfg *g = &p->groups[n->entity];
    uint32_t parts = (uint32_t)p->topics[g->topic].partitions;
    for (uint32_t j = 0; j < parts; j++) {
        uint32_t k = (c->rot + j) % parts;
        if (!wanted(c, g, k))
            continue;
        c->rot = k + 1;
        *broker = mq_leader_of(p, n, mq_pg(p, g->topic, k));
        *mask = 0;
        for (uint32_t q = 0; q < parts; q++)
            if (wanted(c, g, q) && mq_leader_of(p, n, mq_pg(p, g->topic, q)) == *broker)
                *mask |= 1u << q;
        return true;
    }
    return false;
}

static void polling(sim_ctx *ctx, mq_cons *c, mq_cslot *sl, uint32_t broker, uint32_t mask) {
    sl->state = MQ_CS_POLLING;
    sl->tag = ++c->tagseq;
    sl->since = sim_now(ctx);
    sl->from = broker;
    sl->mask = mask;
}

/* An idle slot fetches from the next broker in its rotation, if any. */
static void poll_next(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t i) {
    mq_cons *c = n->cons;
    mq_cslot *sl = &c->slots[i];
    uint32_t broker, mask;
    sl->state = MQ_CS_IDLE;
    if (!next_target(p, n, &broker, &mask))
        return;
    polling(ctx, c, sl, broker, mask);
    mq_wire w = {.node = mask, .slot = (uint16_t)i, .tag = sl->tag, .group = (uint8_t)n->entity};
    mq_send(ctx, p, broker, MQ_MSG_FETCH, &w, sizeof w, 0);
}

static void arm_cons_tick(sim_ctx *ctx, const mq_shared *p, const mq_node *n) {
    sim_timer_set(ctx, p->groups[n->entity].heartbeat, MQ_T_CONS_TICK, 0);
}

static void send_heartbeat(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    const mq_group_cfg *g = &p->groups[n->entity];
    mq_wire w = {.node = n->index, .group = (uint8_t)n->entity, .tag = n->cons->gen};
    mq_send(ctx, p, g->coordinator, MQ_MSG_HEARTBEAT, &w, sizeof w, 0);
}

void mq_cons_start(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    if (p->mode == MQ_MODE_DIRECT)
        return;
    const mq_group_cfg *g = &p->groups[n->entity];
    if (g->assignment == MQ_ASSIGN_PARTITIONS)
        send_heartbeat(ctx, p, n);
    else
        for (uint32_t i = 0; i < n->cons->n_slots; i++)
            poll_next(ctx, p, n, i);
    arm_cons_tick(ctx, p, n);
}

/* Answers a finished delivery with an ack or a nack.  When the slot's next
 * fetch goes to the same broker, the answer carries it (flag MORE): one
 * message instead of two.  At-most-once needs no answer, only the fetch. */
static void answer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t i, uint32_t type) {
    mq_cons *c = n->cons;
    mq_cslot *sl = &c->slots[i];
    const mq_group_cfg *g = &p->groups[n->entity];
    mq_wire w = {.msg = sl->msg,
                 .offset = sl->offset,
                 .part = sl->part,
                 .slot = (uint16_t)i,
                 .attempt = sl->attempt,
                 .group = (uint8_t)n->entity};
    uint32_t acked = sl->from, broker, mask;
    bool next = next_target(p, n, &broker, &mask);
    if (next && broker == acked) {
        polling(ctx, c, sl, broker, mask);
        w.tag = sl->tag;
        w.node = mask;
        w.flags = MQ_F_MORE;
        mq_send(ctx, p, acked, type, &w, sizeof w, 0);
        return;
    }
    if (g->delivery != MQ_AT_MOST_ONCE)
        mq_send(ctx, p, acked, type, &w, sizeof w, 0);
    sl->state = MQ_CS_IDLE;
    if (next) {
        c->rot = c->rot == 0 ? 0 : c->rot - 1; /* poll_next takes the same partition */
        poll_next(ctx, p, n, i);
    }
}

static void start_processing(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t i) {
    mq_cons *c = n->cons;
    mq_cslot *sl = &c->slots[i];
    const mq_group_cfg *g = &p->groups[n->entity];
    sl->state = MQ_CS_BUSY;
    sl->tag = ++c->tagseq;
    mq_oracle_hold(p, sim_now(ctx), sl->msg, g->sub, MQ_HOLD_CONSUMER);
    sim_time d = sim_dist_sample_time(&g->processing, sim_node_rng(ctx));
    /* A slowed node (fault "slow") also works slower. */
    double slow = sim_node_slow(sim_of(ctx), sim_self(ctx));
    if (slow != 1.0)
        d = (sim_time)((double)d * slow);
    sim_timer_set(ctx, d, MQ_T_DONE, (uint64_t)i << 32 | sl->tag);
}

static void on_deliver(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w) {
    mq_cons *c = n->cons;
    const mq_group_cfg *g = &p->groups[n->entity];
    mq_cslot *sl = w->slot < c->n_slots ? &c->slots[w->slot] : NULL;
    if (!sl || sl->state != MQ_CS_POLLING || sl->tag != w->tag) {
        /* Not asked for (the slot gave up on that fetch): hand it back
         * without using an attempt.  At-most-once it is already deleted. */
        if (g->delivery != MQ_AT_MOST_ONCE) {
            mq_wire r = *w;
            r.flags = MQ_F_RELEASE;
            mq_send(ctx, p, src, MQ_MSG_NACK, &r, sizeof r, 0);
        }
        return;
    }
    sl->msg = w->msg;
    sl->offset = w->offset;
    sl->attempt = w->attempt;
    sl->hops = w->hops;
    sl->part = w->part;
    sl->from = src;
    if (c->dd_ring && dd_has(c, w->msg)) {
        p->deduplicated++;
        sim_count(p->s, p->c_deduplicated, 1);
        answer(ctx, p, n, w->slot, MQ_MSG_ACK);
        return;
    }
    start_processing(ctx, p, n, w->slot);
}

static void on_call(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t src, const mq_wire *w) {
    mq_cons *c = n->cons;
    for (uint32_t i = 0; i < c->n_slots; i++) {
        mq_cslot *sl = &c->slots[i];
        if (sl->state != MQ_CS_IDLE)
            continue;
        *sl = (mq_cslot){.msg = w->msg,
                         .part = w->part,
                         .hops = w->hops,
                         .lb_slot = w->slot,
                         .lb_tag = w->tag,
                         .from = src};
        start_processing(ctx, p, n, i);
        return;
    }
    mq_wire r = *w;
    r.flags = MQ_F_BUSY;
    mq_send(ctx, p, src, MQ_MSG_DONE, &r, sizeof r, 0);
}

static void finish(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t i) {
    mq_cons *c = n->cons;
    mq_cslot *sl = &c->slots[i];
    const mq_group_cfg *g = &p->groups[n->entity];
    sim_time now = sim_now(ctx);
    bool direct = p->mode == MQ_MODE_DIRECT;
    bool failed =
        mq_poison(p, n->entity, sl->msg) ||
        (g->failure_probability > 0 && sim_rng_double(sim_node_rng(ctx)) < g->failure_probability);
    if (failed) {
        sim_count(p->s, p->c_failed, 1);
        bool lost = direct || g->delivery == MQ_AT_MOST_ONCE;
        mq_oracle_release(p, now, sl->msg, g->sub, MQ_HOLD_CONSUMER,
                          lost ? MQ_CAUSE_FAILED : MQ_CAUSE_NONE);
    } else {
        mq_oracle_processed(p, now, sl->msg, g->sub);
        mq_oracle_release(p, now, sl->msg, g->sub, MQ_HOLD_CONSUMER, MQ_CAUSE_NONE);
        if (c->dd_ring)
            dd_add(c, sl->msg);
        if (g->publish >= 0 && (p->max_chain == 0 || sl->hops < p->max_chain))
            mq_pub_create(ctx, p, n, g->publish, (uint8_t)(sl->hops + 1));
    }
    if (direct) {
        mq_wire w = {.msg = sl->msg, .slot = sl->lb_slot, .tag = sl->lb_tag};
        mq_send(ctx, p, sl->from, MQ_MSG_DONE, &w, sizeof w, 0);
        sl->state = MQ_CS_IDLE;
        return;
    }
    answer(ctx, p, n, i, failed && g->delivery != MQ_AT_MOST_ONCE ? MQ_MSG_NACK : MQ_MSG_ACK);
}

void mq_cons_on_message(sim_ctx *ctx, mq_shared *p, mq_node *n, const sim_msg *msg) {
    mq_cons *c = n->cons;
    if (msg->type == MQ_MSG_ASSIGN) {
        mq_assign a;
        memcpy(&a, msg->data, sizeof a);
        if (a.gen < c->gen)
            return;
        c->gen = a.gen;
        c->assigned = a.paused ? 0 : a.mask;
        for (uint32_t i = 0; i < c->n_slots; i++)
            if (c->slots[i].state == MQ_CS_IDLE)
                poll_next(ctx, p, n, i);
        return;
    }
    mq_wire w;
    SIM_ASSERT(msg->len == sizeof w);
    memcpy(&w, msg->data, sizeof w);
    switch (msg->type) {
    case MQ_MSG_DELIVER:
        on_deliver(ctx, p, n, msg->src, &w);
        break;
    case MQ_MSG_CALL:
        on_call(ctx, p, n, msg->src, &w);
        break;
    case MQ_MSG_EMPTY:
    case MQ_MSG_NOT_LEADER: {
        bool newer = false;
        if (msg->type == MQ_MSG_NOT_LEADER && w.part < p->n_parts)
            newer = mq_leader_hint(p, n, w.part, w.node, w.offset);
        if (w.slot >= c->n_slots || (w.flags & MQ_F_MORE))
            return; /* the rest of the fetch is still waiting */
        mq_cslot *sl = &c->slots[w.slot];
        if (sl->state != MQ_CS_POLLING || sl->tag != w.tag)
            return;
        if (msg->type == MQ_MSG_EMPTY || newer)
            poll_next(ctx, p, n, w.slot);
        else
            sl->state = MQ_CS_IDLE; /* the tick polls again */
        break;
    }
    default:
        SIM_ASSERT(0);
    }
}

void mq_cons_on_timer(sim_ctx *ctx, mq_shared *p, mq_node *n, uint32_t kind, uint64_t arg) {
    mq_cons *c = n->cons;
    if (kind == MQ_T_DONE) {
        uint32_t i = (uint32_t)(arg >> 32);
        if (i < c->n_slots && c->slots[i].state == MQ_CS_BUSY && c->slots[i].tag == (uint32_t)arg)
            finish(ctx, p, n, i);
        return;
    }
    SIM_ASSERT(kind == MQ_T_CONS_TICK);
    const mq_group_cfg *g = &p->groups[n->entity];
    if (g->assignment == MQ_ASSIGN_PARTITIONS)
        send_heartbeat(ctx, p, n);
    sim_time now = sim_now(ctx);
    for (uint32_t i = 0; i < c->n_slots; i++) {
        mq_cslot *sl = &c->slots[i];
        if (sl->state == MQ_CS_POLLING && now - sl->since > p->poll_wait + p->request_timeout) {
            /* No answer at all: the broker is down or cut off.  Try the
             * next replica of each partition asked for. */
            for (uint32_t k = 0; k < 32; k++)
                if (sl->mask >> k & 1) {
                    uint32_t pg = mq_pg(p, g->topic, k);
                    if (mq_leader_of(p, n, pg) == sl->from)
                        mq_leader_next(p, n, pg);
                }
            poll_next(ctx, p, n, i);
        } else if (sl->state == MQ_CS_IDLE) {
            poll_next(ctx, p, n, i);
        }
    }
    arm_cons_tick(ctx, p, n);
}

void mq_cons_crash(sim_ctx *ctx, mq_shared *p, mq_node *n) {
    mq_cons *c = n->cons;
    const mq_group_cfg *g = &p->groups[n->entity];
    int cause = p->mode == MQ_MODE_DIRECT        ? MQ_CAUSE_SERVER_LOST
                : g->delivery == MQ_AT_MOST_ONCE ? MQ_CAUSE_CONSUMER_CRASH
                                                 : MQ_CAUSE_NONE;
    for (uint32_t i = 0; i < c->n_slots; i++) {
        if (c->slots[i].state == MQ_CS_BUSY) {
            p->oracle.crash_held++;
            mq_oracle_release(p, sim_now(ctx), c->slots[i].msg, g->sub, MQ_HOLD_CONSUMER, cause);
        }
        c->slots[i].state = MQ_CS_IDLE;
    }
    c->assigned = 0;
    c->gen = 0;
    if (n->pub)
        mq_pub_crash(ctx, p, n);
}
