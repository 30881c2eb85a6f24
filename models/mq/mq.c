/*
 * mq.c - message queues between producers and consumers: buffering,
 * delivery guarantees, crashes and backlogs; and, for comparison, the same
 * services behind a load balancer with no queue.
 *
 * Purpose.  Producers publish messages to topics held by brokers; each
 * topic has partitions (ordered logs), possibly replicated; consumer groups
 * subscribe to a topic, every group getting every message (fan-out) while
 * the consumers of one group share the work.  A consumer may publish a new
 * message when it finishes one, so chains such as payment -> "payment
 * succeeded" -> inventory + email can be built.  When the consumers are
 * saturated or down, messages wait in the queue; with "mq.mode": "direct"
 * the same producers call the same services through a balancer and are
 * refused instead.  The simulator's oracle follows every copy of every
 * message to one end state, so a run can say exactly how many were
 * processed once, processed twice, dead-lettered, lost (and why) or still
 * waiting.
 *
 * Nodes (the model adds every group; docs/models/mq.md has the keys):
 *     broker0..   partitions, delivery, replication, group coordination
 *     lb0         the balancer (direct mode only; idle in queue mode)
 *     <producer>  one node group per mq.producers entry
 *     <group>     one node group per mq.groups entry: the consumers, or in
 *                 direct mode the servers of that service
 * The files: mq_config.c (keys), mq_oracle.c (the truth), mq_client.c
 * (publishers, consumers, servers), mq_broker.c (partitions, delivery,
 * coordinator), mq_repl.c (replication, election), mq_direct.c (balancer).
 *
 * Invariants:
 *  (1) A broker lets a message go for a group (entry DONE, in
 *      mq_bpart_finish only) after that group's acknowledgement
 *      (at-least-once), on delivery (at-most-once), when it is
 *      dead-lettered after max_attempts deliveries, or when a full queue
 *      drops it.  A crash of an in-memory broker, or a truncation after a
 *      leader change, empties a replica (mq_bpart_wipe).
 *  (2) A publisher lets a message go only when a broker acknowledged it
 *      (or the balancer answered), when it was refused as full, or when the
 *      buffer was full, the retries ran out or the publisher crashed.
 *  (3) A consumer slot holds at most one message and processes only a
 *      delivery answering its own outstanding fetch (same tag); anything
 *      else is handed back without using an attempt.
 *  (4) Only the leader of a partition publishes, delivers and takes acks.
 *      Each change it makes is also an operation in its operation log, in
 *      order, so a follower that has applied k operations has the leader's
 *      partition as of operation k, without the deliveries in flight.
 *  (5) acks = "all": a publish is acknowledged only once every in-sync
 *      follower has fetched past its operation.
 *  (6) A replica's epoch never decreases; it follows the leader of the
 *      newest epoch it has heard of (two of one epoch: the lower rank).
 *  (7) The oracle equals the sum over the nodes: held_b counts the
 *      replicas whose log has the copy unfinished (the balancer's pending
 *      call in direct mode), held_c the consumer slots processing it,
 *      prod_held whether a publisher still has the message.  Every copy is
 *      in exactly one end state (mq_oracle_end).
 *  (8) No protocol decision reads the oracle or another node's state.
 *  (9) A group's visibility deadlines at a partition are kept in delivery
 *      order, which is deadline order since the timeout is constant; one
 *      timer at the earliest serves them all (no timer per message).  Long
 *      polls likewise.
 * (10) Every wait is bounded: a long poll by poll_wait, a publish by
 *      publisher.timeout x (retries + 1), a fetch by poll_wait +
 *      request_timeout, a replica fetch by replica_wait + request_timeout,
 *      a balancer call by direct.timeout.
 *
 * One copy of a message (one group) at the partition's leader:
 *
 *   publisher              deliver_one()                  on_ack()
 *   buffer --on_publish()--> READY ------------------> FLIGHT ---------> DONE
 *      |                   ^  |  \ at-most-once:        |  |   (deleted)
 *      |                   |  |   `-------------------------------------> DONE
 *      |                   |  | drop_oldest                |  |
 *      |                   |  `---------------------------------------> DONE
 *      |                   |      requeue(): nack, visibility timeout,  |
 *      |                   +------ crash or step-down (unflight) -------+
 *      |                                 requeue() at max_attempts -----> DONE
 *      v                                                         (dead-lettered)
 *   lost: refused (reject), buffer full, gave up, producer crash, drop_newest
 *
 * Transitions:
 *   (created) -> buffer     mq_pub_create(): mq_producer_arrival(), or
 *                           finish() publishing on completion
 *   buffer -> READY         pump()/send_slot(), then on_publish() ->
 *                           mq_bpart_append() at the leader and apply()
 *                           at each follower
 *   buffer -> lost          finish_slot() (rejected, gave up, crash),
 *                           mq_pub_create() (buffer full), on_publish()
 *                           (drop_newest notes the cause, then acks)
 *   READY -> FLIGHT         deliver_one() (at-least-once, effectively-once)
 *   READY -> DONE           deliver_one() (at-most-once),
 *                           mq_bpart_drop_oldest()
 *   FLIGHT -> DONE          on_ack(); requeue() -> dead_letter()
 *   FLIGHT -> READY         requeue() from on_ack() (nack) and
 *                           on_visibility(); mq_bpart_unflight() on crash
 *                           and step-down
 *   any -> (gone)           mq_bpart_wipe(): in-memory crash, truncate_to()
 *
 * A consumer slot:  IDLE --send_fetch()--> POLLING --on_deliver()--> BUSY
 *                   BUSY --finish()/answer()--> POLLING (ack is the next
 *                   fetch) or IDLE; POLLING --empty, timeout--> next
 *                   partition (poll_next()).
 */
#include "mq_int.h"

#include <stdio.h>

static const char *const mq_msg_types[] = {
    "publish", "publish_ack", "publish_reject", "not_leader", "fetch",    "deliver", "empty",
    "ack",     "nack",        "replica_fetch",  "replicate",  "truncate", "leader",  "heartbeat",
    "assign",  "request",     "response",       "call",       "done",     NULL};

_Static_assert(sizeof mq_msg_types / sizeof *mq_msg_types == MQ_MSG_COUNT + 1,
               "a name for every message type");

/* ---- Hooks. ---- */

static void mq_node_init(sim_ctx *ctx, void *node) {
    mq_shared *p = sim_shared(ctx);
    mq_node *n = node;
    sim *s = sim_of(ctx);
    uint32_t self = sim_self(ctx);
    int g = sim_node_group(s, self);
    n->role = p->group_role[g];
    n->entity = p->group_entity[g];
    n->index = self - sim_group_first(s, g);
    if (n->role == MQ_ROLE_PRODUCER || n->role == MQ_ROLE_CONSUMER) {
        n->leader = sim_calloc(p->n_parts, sizeof *n->leader);
        n->leader_epoch = sim_calloc(p->n_parts, sizeof *n->leader_epoch);
    }
    switch (n->role) {
    case MQ_ROLE_BROKER:
        mq_broker_init(ctx, p, n);
        break;
    case MQ_ROLE_LB:
        if (p->mode == MQ_MODE_DIRECT)
            mq_lb_init(ctx, p, n);
        break;
    case MQ_ROLE_PRODUCER:
        mq_pub_init(ctx, p, n);
        mq_pub_start(ctx, p, n);
        break;
    case MQ_ROLE_CONSUMER:
        mq_cons_init(ctx, p, n);
        if (p->groups[n->entity].publish >= 0)
            mq_pub_init(ctx, p, n);
        mq_cons_start(ctx, p, n);
        break;
    default:
        break;
    }
}

static bool for_publisher(uint32_t type, const sim_msg *msg) {
    if (type == MQ_MSG_PUBLISH_ACK || type == MQ_MSG_PUBLISH_REJECT || type == MQ_MSG_RESPONSE)
        return true;
    if (type != MQ_MSG_NOT_LEADER)
        return false;
    mq_wire w;
    memcpy(&w, msg->data, sizeof w);
    return w.flags & MQ_F_PUB;
}

static void mq_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    mq_shared *p = sim_shared(ctx);
    mq_node *n = node;
    switch (n->role) {
    case MQ_ROLE_BROKER:
        mq_broker_on_message(ctx, p, n, msg);
        return;
    case MQ_ROLE_LB:
        if (n->lb)
            mq_lb_on_message(ctx, p, n, msg);
        return;
    case MQ_ROLE_PRODUCER:
    case MQ_ROLE_CONSUMER:
        if (for_publisher(msg->type, msg)) {
            mq_wire w;
            SIM_ASSERT(msg->len == sizeof w);
            memcpy(&w, msg->data, sizeof w);
            mq_pub_on_message(ctx, p, n, msg->type, &w);
        } else if (n->cons) {
            mq_cons_on_message(ctx, p, n, msg);
        }
        return;
    default:
        return;
    }
}

static void mq_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    mq_shared *p = sim_shared(ctx);
    mq_node *n = node;
    switch (kind) {
    case MQ_T_ARRIVAL:
        mq_producer_arrival(ctx, p, n, false);
        break;
    case MQ_T_PUB_TICK:
    case MQ_T_PUB_RESUME:
        mq_pub_on_timer(ctx, p, n, kind);
        break;
    case MQ_T_CONS_TICK:
    case MQ_T_DONE:
        mq_cons_on_timer(ctx, p, n, kind, arg);
        break;
    case MQ_T_LB_TICK:
        mq_lb_tick(ctx, p, n);
        break;
    default:
        mq_broker_on_timer(ctx, p, n, kind, arg);
        break;
    }
}

static void mq_on_crash(sim_ctx *ctx, void *node) {
    mq_shared *p = sim_shared(ctx);
    mq_node *n = node;
    if (n->cons)
        mq_cons_crash(ctx, p, n); /* and its publisher */
    else if (n->pub)
        mq_pub_crash(ctx, p, n);
    if (n->broker)
        mq_broker_crash(ctx, p, n);
    if (n->lb)
        mq_lb_crash(ctx, p, n);
}

static void mq_on_recover(sim_ctx *ctx, void *node) {
    mq_shared *p = sim_shared(ctx);
    mq_node *n = node;
    switch (n->role) {
    case MQ_ROLE_BROKER:
        if (p->mode == MQ_MODE_QUEUE)
            mq_broker_recover(ctx, p, n);
        break;
    case MQ_ROLE_LB:
        if (n->lb)
            mq_lb_tick(ctx, p, n);
        break;
    case MQ_ROLE_PRODUCER:
        mq_pub_start(ctx, p, n);
        break;
    case MQ_ROLE_CONSUMER:
        mq_cons_start(ctx, p, n);
        break;
    default:
        break;
    }
}

static void mq_node_fini(sim_ctx *ctx, void *node) {
    mq_shared *p = sim_shared(ctx);
    mq_node *n = node;
    if (n->broker)
        mq_broker_fini(ctx, p, n);
    mq_pub_fini(n);
    mq_cons_fini(n);
    mq_lb_fini(p, n);
    sim_free(n->leader);
    sim_free(n->leader_epoch);
    memset(n, 0, sizeof *n);
}

/* ---- Report. ---- */

static const char *const cause_keys[MQ_CAUSE_COUNT] = {
    "lost_unknown",     "lost_rejected",       "lost_dropped_newest", "lost_dropped_oldest",
    "lost_buffer_full", "lost_gave_up",        "lost_producer_crash", "lost_broker_crash",
    "lost_truncated",   "lost_consumer_crash", "lost_in_transit",     "lost_failed",
    "lost_busy",        "lost_server_lost"};

static const char *const cause_text[MQ_CAUSE_COUNT] = {
    "cause unknown",
    "refused by a full queue (reject)",
    "dropped by a full queue (drop_newest)",
    "dropped by a full queue (drop_oldest)",
    "the producer's buffer was full",
    "the producer gave up after its retries",
    "the producer crashed",
    "an in-memory broker crashed",
    "truncated after a leader change (acknowledged, then lost)",
    "the consumer crashed (at-most-once)",
    "deleted on delivery and never arrived (at-most-once)",
    "processing failed (at-most-once or direct)",
    "no server was free: all busy, or ejected after a timeout (direct)",
    "the server crashed or timed out (direct)"};

typedef struct tally {
    int64_t end[MQ_END_COUNT];
    int64_t cause[MQ_CAUSE_COUNT];
    int64_t copies, extra;
} tally;

static void ms_line(char *buf, size_t n, double ns) {
    if (ns >= 1e9)
        snprintf(buf, n, "%.3f s", ns / 1e9);
    else
        snprintf(buf, n, "%.3f ms", ns / 1e6);
}

static void report_group(sim_report *r, mq_shared *p, int g, const tally *t, double span_s) {
    const mq_group_cfg *gc = &p->groups[g];
    char key[80], mean[32], p99[32];
    int64_t done = t->end[MQ_END_ONCE] + t->end[MQ_END_DUPLICATED];
    int64_t lost = t->end[MQ_END_LOST];
    int64_t still =
        t->end[MQ_END_AT_PRODUCER] + t->end[MQ_END_AT_BROKER] + t->end[MQ_END_IN_PROCESSING];
#define GROUP_INT(field, v)                                                                        \
    do {                                                                                           \
        snprintf(key, sizeof key, "group.%s." field, gc->name);                                    \
        sim_report_int(r, key, v);                                                                 \
    } while (0)
    GROUP_INT("copies", t->copies);
    GROUP_INT("processed", done);
    GROUP_INT("duplicated", t->end[MQ_END_DUPLICATED]);
    GROUP_INT("dead_lettered", t->end[MQ_END_DEAD_LETTERED]);
    GROUP_INT("lost", lost);
    GROUP_INT("still_queued", still);
    GROUP_INT("lag_at_end", p->oracle.open_group[g]);
#undef GROUP_INT
    int64_t n_lat = sim_histogram_count(p->s, gc->h_latency);
    snprintf(key, sizeof key, "group.%s.throughput_per_s", gc->name);
    sim_report_num(r, key, span_s > 0 ? (double)n_lat / span_s : 0);
    if (n_lat) {
        double p99_ns = (double)sim_histogram_percentile(p->s, gc->h_latency, 99);
        snprintf(key, sizeof key, "group.%s.latency_p99_s", gc->name);
        sim_report_num(r, key, p99_ns / 1e9);
        ms_line(p99, sizeof p99, p99_ns);
        ms_line(mean, sizeof mean, (double)sim_histogram_percentile(p->s, gc->h_latency, 50));
        sim_report_line(r,
                        "  %s: %lld of %lld processed (%.1f/s), latency p50 %s p99 %s; lost %lld, "
                        "dead-lettered %lld, still queued %lld",
                        gc->name, (long long)done, (long long)t->copies,
                        span_s > 0 ? (double)n_lat / span_s : 0.0, mean, p99, (long long)lost,
                        (long long)t->end[MQ_END_DEAD_LETTERED], (long long)still);
    } else {
        sim_report_line(r, "  %s: 0 of %lld processed; lost %lld, still queued %lld", gc->name,
                        (long long)t->copies, (long long)lost, (long long)still);
    }
}

static void mq_report(sim_report *r, void *shared) {
    mq_shared *p = shared;
    mq_oracle *o = &p->oracle;
    sim_time end = o->full ? o->last_change : sim_duration(p->s);
    mq_oracle_flush(p, end);
    bool direct = p->mode == MQ_MODE_DIRECT;

    tally all = {0}, per[MQ_MAX_GROUPS];
    memset(per, 0, sizeof per);
    for (uint32_t id = 0; id < o->n_msgs; id++) {
        const mq_msg_rec *m = &o->msgs[id];
        const mq_topic_cfg *t = &p->topics[m->topic];
        for (int k = 0; k < t->n_subs; k++) {
            const mq_copy_rec *c = &o->copies[m->copy0 + (uint32_t)k];
            mq_end e = mq_oracle_end(p, id, k);
            tally *pt = &per[t->subs[k]];
            all.end[e]++;
            pt->end[e]++;
            all.copies++;
            pt->copies++;
            if (c->n_proc > 1)
                all.extra += c->n_proc - 1;
            if (e == MQ_END_LOST) {
                all.cause[c->cause]++;
                pt->cause[c->cause]++;
            }
        }
    }
    int64_t still =
        all.end[MQ_END_AT_PRODUCER] + all.end[MQ_END_AT_BROKER] + all.end[MQ_END_IN_PROCESSING];
    int64_t sum = 0;
    for (int e = 0; e < MQ_END_COUNT; e++)
        sum += all.end[e];
    SIM_ASSERT(sum == all.copies && all.copies == (int64_t)o->n_copies);

    sim_report_str(r, "mode", direct ? "direct" : "queue");
    sim_report_int(r, "published", o->n_msgs);
    sim_report_int(r, "copies", all.copies);
    sim_report_int(r, "processed_once", all.end[MQ_END_ONCE]);
    sim_report_int(r, "processed_more_than_once", all.end[MQ_END_DUPLICATED]);
    sim_report_int(r, "duplicates", all.extra);
    sim_report_int(r, "dead_lettered", all.end[MQ_END_DEAD_LETTERED]);
    sim_report_int(r, "lost", all.end[MQ_END_LOST]);
    for (int c = 0; c < MQ_CAUSE_COUNT; c++)
        sim_report_int(r, cause_keys[c], all.cause[c]);
    sim_report_int(r, "still_queued", still);
    sim_report_int(r, "still_at_producer", all.end[MQ_END_AT_PRODUCER]);
    sim_report_int(r, "still_at_broker", all.end[MQ_END_AT_BROKER]);
    sim_report_int(r, "still_in_processing", all.end[MQ_END_IN_PROCESSING]);
    sim_report_int(r, "crash_held", o->crash_held);

    /* Little's law on measured figures (mq_oracle.c): L from the integral
     * of copies in the system, lambda from the departures, W from the
     * creation stamps of the departed copies, lost ones included. */
    double span_s = sim_time_to_s(end - p->warmup);
    double L = span_s > 0 ? o->area / 1e9 / span_s : 0;
    double W = o->lat_count ? o->lat_sum_ns / 1e9 / (double)o->lat_count : 0;
    double x = span_s > 0 ? (double)o->first_done / span_s : 0;
    double lam = span_s > 0 ? (double)o->left / span_s : 0;
    double Ws = o->soj_count ? o->soj_sum_ns / 1e9 / (double)o->soj_count : 0;
    sim_report_num(r, "mean_in_system", L);
    sim_report_num(r, "latency_mean_s", W);
    sim_report_num(r, "throughput_per_s", x);
    sim_report_num(r, "departures_per_s", lam);
    sim_report_num(r, "time_in_system_mean_s", Ws);
    if (lam > 0 && Ws > 0)
        sim_report_num(r, "little_ratio", L / (lam * Ws));
    int64_t n_lat = sim_histogram_count(p->s, p->h_latency);
    if (n_lat) {
        sim_report_num(r, "latency_p50_s",
                       (double)sim_histogram_percentile(p->s, p->h_latency, 50) / 1e9);
        sim_report_num(r, "latency_p99_s",
                       (double)sim_histogram_percentile(p->s, p->h_latency, 99) / 1e9);
        sim_report_num(r, "latency_max_s",
                       (double)sim_histogram_percentile(p->s, p->h_latency, 100) / 1e9);
    }
    if (sim_histogram_count(p->s, p->h_ack_latency)) {
        sim_report_num(r, "ack_latency_p50_s",
                       (double)sim_histogram_percentile(p->s, p->h_ack_latency, 50) / 1e9);
        sim_report_num(r, "ack_latency_p99_s",
                       (double)sim_histogram_percentile(p->s, p->h_ack_latency, 99) / 1e9);
    }
    sim_report_int(r, "redeliveries", p->redeliveries);
    sim_report_int(r, "deduplicated", p->deduplicated);
    sim_report_int(r, "rebalances", p->rebalances);
    sim_report_int(r, "failovers", p->failovers);
    if (direct) {
        sim_report_int(r, "rejected_busy", p->busy_rejects);
        sim_report_num(r, "rejected_fraction",
                       all.copies ? (double)p->busy_rejects / (double)all.copies : 0);
    }

    /* The human summary. */
    char topics[400] = "";
    for (int t = 0; t < p->n_topics; t++) {
        size_t len = strlen(topics);
        snprintf(topics + len, sizeof topics - len, "%s%s (%lldp%s)", t ? ", " : "",
                 p->topics[t].name, (long long)p->topics[t].partitions,
                 p->topics[t].replication > 1 ? ", replicated" : "");
    }
    if (direct)
        sim_report_line(r,
                        "mq: direct mode (no queue): producers call the services through a "
                        "load balancer; topics %s",
                        topics);
    else
        sim_report_line(r, "mq: queue mode, %lld broker%s; topics %s", (long long)p->n_brokers,
                        p->n_brokers > 1 ? "s" : "", topics);
    sim_report_line(r, "published %u messages: %lld copies (one per subscribed group)", o->n_msgs,
                    (long long)all.copies);
    sim_report_line(r,
                    "end states: processed once %lld, more than once %lld (%lld extra), "
                    "dead-lettered %lld, lost %lld, still queued %lld",
                    (long long)all.end[MQ_END_ONCE], (long long)all.end[MQ_END_DUPLICATED],
                    (long long)all.extra, (long long)all.end[MQ_END_DEAD_LETTERED],
                    (long long)all.end[MQ_END_LOST], (long long)still);
    if (still)
        sim_report_line(r, "  still queued: %lld at producers, %lld at brokers, %lld in processing",
                        (long long)all.end[MQ_END_AT_PRODUCER],
                        (long long)all.end[MQ_END_AT_BROKER],
                        (long long)all.end[MQ_END_IN_PROCESSING]);
    for (int c = 0; c < MQ_CAUSE_COUNT; c++)
        if (all.cause[c])
            sim_report_line(r, "  lost %lld: %s", (long long)all.cause[c], cause_text[c]);
    if (direct && p->busy_rejects)
        sim_report_line(r, "rejected: %lld of %lld calls found no free server (%.1f %%)",
                        (long long)p->busy_rejects, (long long)all.copies,
                        100.0 * (double)p->busy_rejects / (double)all.copies);
    if (n_lat) {
        char a[32], b[32], c[32];
        ms_line(a, sizeof a, W * 1e9);
        ms_line(b, sizeof b, (double)sim_histogram_percentile(p->s, p->h_latency, 50));
        ms_line(c, sizeof c, (double)sim_histogram_percentile(p->s, p->h_latency, 99));
        sim_report_line(r, "latency (publish -> processed): mean %s, p50 %s, p99 %s", a, b, c);
        if (sim_histogram_count(p->s, p->h_ack_latency)) {
            ms_line(a, sizeof a, (double)sim_histogram_percentile(p->s, p->h_ack_latency, 50));
            ms_line(b, sizeof b, (double)sim_histogram_percentile(p->s, p->h_ack_latency, 99));
            sim_report_line(r, "publish -> acknowledged to the producer: p50 %s, p99 %s", a, b);
        }
        if (lam > 0 && Ws > 0)
            sim_report_line(r,
                            "in system: L = %.3f copies on average; %.2f/s leave (processed, "
                            "dead-lettered or lost) after W = %.4f s; Little's law L / "
                            "(lambda x W) = %.3f",
                            L, lam, Ws, L / (lam * Ws));
    }
    for (int g = 0; g < p->n_groups; g++)
        report_group(r, p, g, &per[g], span_s);
    if (p->redeliveries || p->rebalances || p->failovers || p->deduplicated)
        sim_report_line(r,
                        "redeliveries %lld, duplicates skipped %lld, rebalances %lld, "
                        "leader failovers %lld",
                        (long long)p->redeliveries, (long long)p->deduplicated,
                        (long long)p->rebalances, (long long)p->failovers);
    if (o->full)
        sim_report_line(r, "stopped early: the oracle is full (mq.max_messages = %lld)",
                        (long long)p->max_messages);
}

/* The charts dsim plot draws of a run (mq_charts.c). */
extern const sim_chart mq_charts[];

/*
 * What a run will cost (sim_model.estimate, for the kernel's budget):
 * every message is published and acknowledged, copied to its followers and
 * acknowledged by them, then fetched, delivered and acknowledged once per
 * subscribed group; brokers tick.  Memory: the oracle's record of every
 * message and copy, and each message's bytes on every replica while it is
 * retained (the worst case: nothing consumed).
 */
static void mq_estimate(const sim *s, const void *shared, sim_model_estimate *e) {
    const mq_shared *p = shared;
    double repl = 1;
    for (int t = 0; t < p->n_topics; t++) {
        if ((double)p->topics[t].replication > repl)
            repl = (double)p->topics[t].replication;
    }
    double groups = p->n_groups > 0 ? (double)p->n_groups : 1;
    double msgs = p->expected_msgs;
    e->events = msgs * (2 + 2 * (repl - 1) + 3 * groups);
    if (p->broker_tick > 0)
        e->events += (double)p->n_brokers * ((double)sim_duration(s) / (double)p->broker_tick);
    e->events_key = "mq.producers";
    char m[48];
    sim_human_count(msgs, m, sizeof m);
    snprintf(e->events_why, sizeof e->events_why,
             "about %s messages over the run, some %.0f events each", m,
             2 + 2 * (repl - 1) + 3 * groups);
    /* A log entry is an id and a few stamps (bodies are sizes, not bytes):
     * 8.3 bytes per queued message measured, 16 allowed. */
    e->bytes =
        msgs * ((double)sizeof(mq_msg_rec) + groups * (double)sizeof(mq_copy_rec) + repl * 16);
    e->bytes_key = "mq.producers";
    snprintf(e->bytes_why, sizeof e->bytes_why,
             "about %s messages (%.0f cop%s of each in the brokers' logs, the oracle's "
             "record of each)",
             m, repl, repl == 1 ? "y" : "ies");
}

const sim_model mq_model = {
    .name = "mq",
    .summary = "message queues: producers, partitioned topics on brokers, consumer groups, "
               "delivery guarantees; or no queue",
    .msg_types = mq_msg_types,
    .shared_size = sizeof(mq_shared),
    .node_size = sizeof(mq_node),
    .configure = mq_configure,
    .validate = mq_validate,
    .node_init = mq_node_init,
    .on_message = mq_on_message,
    .on_timer = mq_on_timer,
    .on_crash = mq_on_crash,
    .on_recover = mq_on_recover,
    .report = mq_report,
    .node_fini = mq_node_fini,
    .shared_fini = mq_shared_fini,
    .charts = mq_charts,
    .estimate = mq_estimate,
};
