/*
 * mq_config.c - reading the "mq" object of a scenario: topics, consumer
 * groups, producers, the publisher, broker and balancer settings; the
 * checks across keys (unknown topics, replication above the broker count,
 * publish-on-completion cycles); the node groups the model adds; the
 * placement of partitions on brokers; and the sizing of the oracle.
 *
 * Every key is read once in configure, which also adds the node groups;
 * validate, which runs once the nodes exist, only resolves node indices.
 * docs/models/mq.md lists every key with its type, unit and default.
 */
#include "mq_int.h"

#include <math.h>
#include <stdio.h>

static const char *const mode_names[] = {"queue", "direct", NULL};
static const char *const acks_names[] = {"leader", "all", NULL};
static const char *const full_names[] = {"reject", "drop_newest", "drop_oldest", "block", NULL};
static const char *const assignment_names[] = {"shared", "partitions", NULL};
static const char *const delivery_names[] = {"at_most_once", "at_least_once", "effectively_once",
                                             NULL};
static const char *const arrivals_names[] = {"poisson", "constant", NULL};
static const char *const partitioner_names[] = {"round_robin", "random", NULL};

#define HOUR         (3600 * SIM_S)
#define MAX_CONSUMER 10000

/* A name for a topic, group or producer: it becomes a node group and part
 * of metric names, so lower-case letters, digits and '_', starting with a
 * letter and not ending in a digit (the kernel names nodes group + index). */
static int read_name(sim_cfg *c, char *out) {
    const char *s;
    if (sim_cfg_str(c, "name", NULL, &s) < 0)
        return -1;
    size_t n = strlen(s);
    bool ok = n >= 1 && n < MQ_NAME_MAX && s[0] >= 'a' && s[0] <= 'z' &&
              !(s[n - 1] >= '0' && s[n - 1] <= '9');
    for (size_t i = 0; ok && i < n; i++)
        ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_';
    if (!ok)
        return sim_cfg_fail(c, "name",
                            "\"%s\" is not a valid name (1 to %d lower-case letters, digits and "
                            "'_', starting with a letter, not ending in a digit)",
                            s, MQ_NAME_MAX - 1);
    memcpy(out, s, n + 1);
    return 0;
}

/* Producers and groups become node groups beside these two. */
static int check_reserved(sim_cfg *c, const char *name) {
    if (strcmp(name, "broker") == 0 || strcmp(name, "lb") == 0)
        return sim_cfg_fail(c, "name", "\"%s\" is reserved (the model's own node group)", name);
    return 0;
}

static int find_topic(const mq_shared *p, const char *name) {
    for (int t = 0; t < p->n_topics; t++)
        if (strcmp(p->topics[t].name, name) == 0)
            return t;
    return -1;
}

/* Reads key as a topic name; "" is allowed (stores -1) when optional. */
static int read_topic_ref(sim_cfg *c, const mq_shared *p, const char *key, bool optional,
                          int *out) {
    const char *s;
    if (sim_cfg_str(c, key, optional ? "" : NULL, &s) < 0)
        return -1;
    *out = -1;
    if (optional && !*s)
        return 0;
    *out = find_topic(p, s);
    if (*out >= 0)
        return 0;
    char list[MQ_MAX_TOPICS * (MQ_NAME_MAX + 4)] = "";
    for (int t = 0; t < p->n_topics; t++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\"%s\"", t ? ", " : "", p->topics[t].name);
    }
    if (p->n_topics == 0)
        return sim_cfg_fail(c, key, "\"%s\" is not a topic (mq.topics is empty)", s);
    return sim_cfg_fail(c, key, "\"%s\" is not a topic (topics: %s)", s, list);
}

static int read_topic(sim_cfg *c, mq_shared *p, mq_topic_cfg *t) {
    if (read_name(c, t->name) < 0 ||
        sim_cfg_int(c, "partitions", 1, 1, MQ_MAX_PARTITIONS, &t->partitions) < 0 ||
        sim_cfg_int(c, "replication", 1, 1, MQ_MAX_REPLICAS, &t->replication) < 0 ||
        sim_cfg_enum(c, "acks", "all", acks_names, &t->acks) < 0 ||
        sim_cfg_int(c, "min_insync", 1, 1, MQ_MAX_REPLICAS, &t->min_insync) < 0 ||
        sim_cfg_bool(c, "durable", true, &t->durable) < 0 ||
        sim_cfg_int(c, "max_messages", 0, 0, 100000000, &t->max_messages) < 0 ||
        sim_cfg_enum(c, "when_full", "reject", full_names, &t->when_full) < 0 ||
        sim_cfg_int(c, "message_bytes", 256, 0, 1 << 20, &t->message_bytes) < 0)
        return -1;
    if (t->replication > p->n_brokers)
        return sim_cfg_fail(
            c, "replication", "%lld replicas need at least %lld brokers (mq.brokers is %lld)",
            (long long)t->replication, (long long)t->replication, (long long)p->n_brokers);
    if (t->min_insync > t->replication)
        return sim_cfg_fail(
            c, "min_insync", "%lld is more than the replication factor %lld (allowed: 1 to %lld)",
            (long long)t->min_insync, (long long)t->replication, (long long)t->replication);
    for (int u = 0; u < p->n_topics; u++)
        if (&p->topics[u] != t && strcmp(p->topics[u].name, t->name) == 0)
            return sim_cfg_fail(c, "name", "topic \"%s\" is defined twice", t->name);
    return 0;
}

static int read_group(sim_cfg *c, mq_shared *p, mq_group_cfg *g) {
    if (read_name(c, g->name) < 0 || check_reserved(c, g->name) < 0 ||
        read_topic_ref(c, p, "topic", false, &g->topic) < 0 ||
        sim_cfg_int(c, "count", 1, 1, MAX_CONSUMER, &g->count) < 0 ||
        sim_cfg_int(c, "concurrency", 1, 1, 1024, &g->concurrency) < 0 ||
        sim_cfg_dist(c, "processing", "{\"type\": \"exponential\", \"mean\": \"10ms\"}",
                     SIM_UNIT_TIME, &g->processing) < 0 ||
        sim_cfg_prob(c, "failure_probability", 0, &g->failure_probability) < 0 ||
        sim_cfg_prob(c, "poison_probability", 0, &g->poison_probability) < 0 ||
        sim_cfg_enum(c, "delivery", "at_least_once", delivery_names, &g->delivery) < 0 ||
        sim_cfg_time(c, "visibility_timeout", "30s", 0, SIM_TIME_MAX, &g->visibility_timeout) < 0 ||
        sim_cfg_int(c, "max_attempts", 5, 1, MQ_MAX_ATTEMPTS, &g->max_attempts) < 0 ||
        sim_cfg_int(c, "dedupe_window", 10000, 1, 10000000, &g->dedupe_window) < 0 ||
        sim_cfg_enum(c, "assignment", "shared", assignment_names, &g->assignment) < 0 ||
        sim_cfg_time(c, "heartbeat", "1s", SIM_MS, HOUR, &g->heartbeat) < 0 ||
        sim_cfg_time(c, "session_timeout", "3s", SIM_MS, HOUR, &g->session_timeout) < 0 ||
        sim_cfg_time(c, "rebalance_pause", "1s", 0, HOUR, &g->rebalance_pause) < 0 ||
        read_topic_ref(c, p, "publish", true, &g->publish) < 0)
        return -1;
    if (g->visibility_timeout < SIM_MS || g->visibility_timeout > HOUR) {
        char v[40];
        sim_time_format(g->visibility_timeout, v, sizeof v);
        return sim_cfg_fail(c, "visibility_timeout",
                            "\"%s\" is not allowed (allowed: 1ms to 1h; %s)", v,
                            g->visibility_timeout < SIM_MS
                                ? "shorter, a message would be delivered again before its "
                                  "consumer could finish it"
                                : "longer, a crashed consumer's messages would wait for hours");
    }
    if (g->session_timeout <= g->heartbeat) {
        char a[40], b[40];
        sim_time_format(g->session_timeout, a, sizeof a);
        sim_time_format(g->heartbeat, b, sizeof b);
        return sim_cfg_fail(c, "session_timeout",
                            "\"%s\" must be longer than heartbeat (\"%s\"): a live consumer would "
                            "be evicted",
                            a, b);
    }
    if ((double)g->count * (double)g->concurrency > 1e6)
        return sim_cfg_fail(c, "concurrency", "count x concurrency is above 1000000");
    if (sim_dist_mean(&g->processing) > 1e18 || isnan(sim_dist_mean(&g->processing)))
        return sim_cfg_fail(c, "processing", "must have a finite mean");
    for (int h = 0; h < p->n_groups; h++)
        if (&p->groups[h] != g && strcmp(p->groups[h].name, g->name) == 0)
            return sim_cfg_fail(c, "name", "group \"%s\" is defined twice", g->name);
    mq_topic_cfg *t = &p->topics[g->topic];
    if (t->n_subs == MQ_MAX_SUBS)
        return sim_cfg_fail(c, "topic", "topic \"%s\" has more than %d groups", t->name,
                            MQ_MAX_SUBS);
    g->sub = t->n_subs;
    t->subs[t->n_subs++] = (int)(g - p->groups);
    return 0;
}

static int read_producer(sim_cfg *c, mq_shared *p, mq_producer_cfg *q) {
    sim *s = sim_cfg_sim(c);
    char stop_def[40];
    sim_time_format(sim_duration(s), stop_def, sizeof stop_def);
    if (read_name(c, q->name) < 0 || check_reserved(c, q->name) < 0 ||
        read_topic_ref(c, p, "topic", false, &q->topic) < 0 ||
        sim_cfg_int(c, "count", 1, 1, MAX_CONSUMER, &q->count) < 0 ||
        sim_cfg_num(c, "rate_per_s", 100, 0, 1e7, &q->rate_per_s) < 0 ||
        sim_cfg_enum(c, "arrivals", "poisson", arrivals_names, &q->arrivals) < 0 ||
        sim_cfg_enum(c, "partitioner", "round_robin", partitioner_names, &q->partitioner) < 0 ||
        sim_cfg_time(c, "start", "0s", 0, sim_duration(s), &q->start) < 0 ||
        sim_cfg_time(c, "stop", stop_def, 0, sim_duration(s), &q->stop) < 0)
        return -1;
    if (q->stop < q->start) {
        char a[40], b[40];
        sim_time_format(q->stop, a, sizeof a);
        sim_time_format(q->start, b, sizeof b);
        return sim_cfg_fail(c, "stop",
                            "\"%s\" is before start (\"%s\"); allowed: from start to "
                            "the duration",
                            a, b);
    }
    for (int h = 0; h < p->n_producers; h++)
        if (&p->producers[h] != q && strcmp(p->producers[h].name, q->name) == 0)
            return sim_cfg_fail(c, "name", "producer \"%s\" is defined twice", q->name);
    for (int h = 0; h < p->n_groups; h++)
        if (strcmp(p->groups[h].name, q->name) == 0)
            return sim_cfg_fail(c, "name", "\"%s\" is already the name of a consumer group",
                                q->name);
    if (q->rate_per_s > 0) {
        double gap_ns = 1e9 / q->rate_per_s;
        q->gap.kind = q->arrivals == MQ_ARRIVALS_POISSON ? SIM_DIST_EXPONENTIAL : SIM_DIST_CONSTANT;
        q->gap.a = gap_ns;
        double n = q->rate_per_s * sim_time_to_s(q->stop - q->start) * (double)q->count;
        p->topics[q->topic].external_msgs += (int64_t)(n + 6 * sqrt(n) + 16);
    }
    return 0;
}

/* Follows publish-on-completion from topic t; returns the group whose
 * "publish" closes a cycle back to `start`, or -1.  path[] collects the
 * topics visited (depth-first, at most n_topics deep). */
static int find_cycle(const mq_shared *p, int start, int t, bool *seen, int *path, int *depth) {
    path[(*depth)++] = t;
    for (int k = 0; k < p->topics[t].n_subs; k++) {
        const mq_group_cfg *g = &p->groups[p->topics[t].subs[k]];
        if (g->publish < 0)
            continue;
        if (g->publish == start)
            return p->topics[t].subs[k];
        if (seen[g->publish])
            continue;
        seen[g->publish] = true;
        int r = find_cycle(p, start, g->publish, seen, path, depth);
        if (r >= 0)
            return r;
    }
    (*depth)--;
    return -1;
}

static int check_cycles(sim_cfg *c, const mq_shared *p) {
    if (p->max_chain > 0)
        return 0;
    for (int t = 0; t < p->n_topics; t++) {
        bool seen[MQ_MAX_TOPICS] = {false};
        int path[MQ_MAX_TOPICS + 1], depth = 0;
        seen[t] = true;
        int g = find_cycle(p, t, t, seen, path, &depth);
        if (g < 0)
            continue;
        char cyc[MQ_MAX_TOPICS * (MQ_NAME_MAX + 4) + MQ_NAME_MAX] = "";
        for (int i = 0; i < depth; i++) {
            size_t len = strlen(cyc);
            snprintf(cyc + len, sizeof cyc - len, "%s -> ", p->topics[path[i]].name);
        }
        size_t len = strlen(cyc);
        snprintf(cyc + len, sizeof cyc - len, "%s", p->topics[t].name);
        char key[64];
        snprintf(key, sizeof key, "groups[%d].publish", g);
        return sim_cfg_fail(c, key,
                            "\"%s\" closes the cycle %s: every message would be republished "
                            "forever (set mq.max_chain, 1 to 255, to bound the chain)",
                            p->topics[t].name, cyc);
    }
    return 0;
}

/* Expected messages over the run, producers plus publish-on-completion
 * (each processed message publishes one more), for sizing the oracle. */
static double expected_messages(const mq_shared *p) {
    double m[MQ_MAX_TOPICS], next[MQ_MAX_TOPICS];
    for (int t = 0; t < p->n_topics; t++)
        m[t] = (double)p->topics[t].external_msgs;
    int rounds = p->n_topics + (int)p->max_chain;
    for (int r = 0; r < rounds; r++) {
        for (int t = 0; t < p->n_topics; t++)
            next[t] = (double)p->topics[t].external_msgs;
        for (int g = 0; g < p->n_groups; g++)
            if (p->groups[g].publish >= 0)
                next[p->groups[g].publish] += m[p->groups[g].topic];
        memcpy(m, next, sizeof m);
    }
    double total = 0;
    for (int t = 0; t < p->n_topics; t++)
        total += m[t];
    return total;
}

static int read_lists(sim_cfg *c, mq_shared *p) {
    uint32_t n;
    if (sim_cfg_list(c, "topics", MQ_MAX_TOPICS, &n) < 0)
        return -1;
    if (n == 0)
        return sim_cfg_fail(c, "topics", "needs at least one topic ([{\"name\": \"orders\"}])");
    for (uint32_t i = 0; i < n; i++) {
        p->n_topics = (int)i + 1;
        if (sim_cfg_enter_item(c, "topics", i) < 0 || read_topic(c, p, &p->topics[i]) < 0)
            return -1;
        sim_cfg_leave(c);
    }
    if (sim_cfg_list(c, "groups", MQ_MAX_GROUPS, &n) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        p->n_groups = (int)i + 1;
        if (sim_cfg_enter_item(c, "groups", i) < 0 || read_group(c, p, &p->groups[i]) < 0)
            return -1;
        sim_cfg_leave(c);
    }
    if (sim_cfg_list(c, "producers", MQ_MAX_PRODUCERS, &n) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        p->n_producers = (int)i + 1;
        if (sim_cfg_enter_item(c, "producers", i) < 0 || read_producer(c, p, &p->producers[i]) < 0)
            return -1;
        sim_cfg_leave(c);
    }
    if (sim_cfg_failed(c))
        return -1;
    for (int t = 0; t < p->n_topics; t++)
        if (p->topics[t].n_subs == 0) {
            char key[32];
            snprintf(key, sizeof key, "topics[%d]", t);
            return sim_cfg_fail(c, key,
                                "no group subscribes to topic \"%s\": its messages would only "
                                "pile up (add a group with \"topic\": \"%s\")",
                                p->topics[t].name, p->topics[t].name);
        }
    return check_cycles(c, p);
}

static int read_settings(sim_cfg *c, mq_shared *p) {
    sim *s = sim_cfg_sim(c);
    if (sim_cfg_enum(c, "mode", "queue", mode_names, &p->mode) < 0 ||
        sim_cfg_int(c, "brokers", 1, 1, MQ_MAX_BROKERS, &p->n_brokers) < 0 ||
        sim_cfg_int(c, "header_bytes", 40, 0, 1 << 20, &p->header_bytes) < 0 ||
        sim_cfg_int(c, "max_messages", 10000000, 1000, 100000000, &p->max_messages) < 0 ||
        sim_cfg_int(c, "max_chain", 0, 0, 255, &p->max_chain) < 0 ||
        sim_cfg_time(c, "warmup", "0s", 0, sim_duration(s), &p->warmup) < 0 ||
        sim_cfg_time(c, "request_timeout", "1s", SIM_US, HOUR, &p->request_timeout) < 0 ||
        sim_cfg_time(c, "poll_wait", "1s", SIM_US, HOUR, &p->poll_wait) < 0)
        return -1;
    if (p->warmup >= sim_duration(s))
        return sim_cfg_fail(c, "warmup", "must be shorter than the duration");
    if (sim_cfg_enter(c, "publisher") < 0 ||
        sim_cfg_time(c, "timeout", "1s", SIM_US, HOUR, &p->pub_timeout) < 0 ||
        sim_cfg_int(c, "retries", 10, 0, 100, &p->pub_retries) < 0 ||
        sim_cfg_int(c, "max_in_flight", 100, 1, 65535, &p->pub_max_in_flight) < 0 ||
        sim_cfg_int(c, "buffer", 10000, 1, 10000000, &p->pub_buffer) < 0 ||
        sim_cfg_time(c, "backoff", "100ms", SIM_US, HOUR, &p->pub_backoff) < 0)
        return -1;
    sim_cfg_leave(c);
    if (sim_cfg_enter(c, "broker") < 0 ||
        sim_cfg_time(c, "election_timeout", "1s", SIM_MS, HOUR, &p->election_timeout) < 0 ||
        sim_cfg_time(c, "isr_timeout", "500ms", SIM_MS, HOUR, &p->isr_timeout) < 0 ||
        sim_cfg_time(c, "replica_wait", "100ms", SIM_US, HOUR, &p->replica_wait) < 0)
        return -1;
    if (p->replica_wait >= p->isr_timeout)
        return sim_cfg_fail(c, "replica_wait",
                            "must be shorter than isr_timeout (a waiting follower would look "
                            "out of sync)");
    sim_cfg_leave(c);
    if (sim_cfg_enter(c, "direct") < 0 ||
        sim_cfg_time(c, "timeout", "5s", SIM_MS, HOUR, &p->direct_timeout) < 0 ||
        sim_cfg_time(c, "eject", "1s", 0, HOUR, &p->direct_eject) < 0)
        return -1;
    sim_cfg_leave(c);
    return sim_cfg_failed(c) ? -1 : 0;
}

static void register_metrics(sim *s, mq_shared *p) {
    p->c_published = sim_counter(s, "mq.published");
    p->c_publish_sent = sim_counter(s, "mq.publish_sent");
    p->c_retries = sim_counter(s, "mq.publish_retries");
    p->c_rejected = sim_counter(s, "mq.rejected");
    p->c_dropped = sim_counter(s, "mq.dropped");
    p->c_gave_up = sim_counter(s, "mq.gave_up");
    p->c_buffer_full = sim_counter(s, "mq.buffer_full");
    p->c_delivered = sim_counter(s, "mq.delivered");
    p->c_redeliveries = sim_counter(s, "mq.redeliveries");
    p->c_processed = sim_counter(s, "mq.processed");
    p->c_duplicates = sim_counter(s, "mq.duplicates");
    p->c_deduplicated = sim_counter(s, "mq.deduplicated");
    p->c_failed = sim_counter(s, "mq.failed");
    p->c_dead_lettered = sim_counter(s, "mq.dead_lettered");
    p->c_rebalances = sim_counter(s, "mq.rebalances");
    p->c_failovers = sim_counter(s, "mq.failovers");
    p->c_busy = sim_counter(s, "mq.busy_rejects");
    p->g_in_system = sim_gauge(s, "mq.in_system");
    p->g_buffered = sim_gauge(s, "mq.producer_buffered");
    p->h_latency = sim_histogram(s, "mq.latency", "ns");
    p->h_ack_latency = sim_histogram(s, "mq.ack_latency", "ns");
    char name[80];
    for (int g = 0; g < p->n_groups; g++) {
        mq_group_cfg *gc = &p->groups[g];
        snprintf(name, sizeof name, "mq.processed.%s", gc->name);
        gc->c_processed = sim_counter(s, name);
        snprintf(name, sizeof name, "mq.lag.%s", gc->name);
        gc->g_lag = sim_gauge(s, name);
        snprintf(name, sizeof name, "mq.latency.%s", gc->name);
        gc->h_latency = sim_histogram(s, name, "ns");
    }
    for (uint32_t pg = 0; pg < p->n_parts; pg++) {
        mq_part_info *pi = &p->parts[pg];
        snprintf(name, sizeof name, "mq.backlog.%s.p%u", p->topics[pi->topic].name, pi->index);
        pi->g_backlog = sim_gauge(s, name);
    }
}

int mq_configure(sim_cfg *c, void *shared) {
    mq_shared *p = shared;
    sim *s = sim_cfg_sim(c);
    p->s = s;
    if (read_settings(c, p) < 0 || read_lists(c, p) < 0)
        return -1;

    /* Partitions and their replicas: partition pg is led by broker
     * pg mod B and followed by the next replication - 1 brokers, which
     * spreads leaders evenly over the brokers. */
    for (int t = 0; t < p->n_topics; t++) {
        mq_topic_cfg *tc = &p->topics[t];
        tc->first_part = p->n_parts;
        for (int64_t k = 0; k < tc->partitions; k++) {
            mq_part_info *pi = &p->parts[p->n_parts];
            pi->topic = (uint16_t)t;
            pi->index = (uint16_t)k;
            pi->n_replicas = (uint8_t)tc->replication;
            p->n_parts++;
        }
    }

    double expect = expected_messages(p);
    p->expected_msgs = expect;
    if (expect > (double)p->max_messages)
        return sim_cfg_fail(c, "max_messages",
                            "the producers would publish about %.0f messages over the "
                            "duration, more than max_messages (%lld): raise it (at most "
                            "100000000) or shorten the run",
                            expect, (long long)p->max_messages);

    /* Node groups, in a fixed order: brokers, the balancer, producers,
     * consumer groups.  Both modes create all of them, so that switching
     * mq.mode is one line even when faults name a broker or a server. */
    if (sim_cfg_add_nodes(c, "broker", (uint32_t)p->n_brokers) < 0 ||
        sim_cfg_add_nodes(c, "lb", 1) < 0)
        return -1;
    for (int i = 0; i < p->n_producers; i++)
        if (sim_cfg_add_nodes(c, p->producers[i].name, (uint32_t)p->producers[i].count) < 0)
            return -1;
    for (int i = 0; i < p->n_groups; i++)
        if (sim_cfg_add_nodes(c, p->groups[i].name, (uint32_t)p->groups[i].count) < 0)
            return -1;

    register_metrics(s, p);
    return mq_oracle_init(p, (uint64_t)expect);
}

int mq_validate(sim_cfg *c, void *shared) {
    (void)c;
    mq_shared *p = shared;
    sim *s = p->s;
    memset(p->group_role, MQ_ROLE_NONE, sizeof p->group_role);
    int g = sim_group_find(s, "broker");
    SIM_ASSERT(g >= 0);
    p->broker_first = sim_group_first(s, g);
    p->group_role[g] = MQ_ROLE_BROKER;
    g = sim_group_find(s, "lb");
    p->lb_node = sim_group_first(s, g);
    p->group_role[g] = MQ_ROLE_LB;
    for (int i = 0; i < p->n_producers; i++) {
        g = sim_group_find(s, p->producers[i].name);
        p->producers[i].first_node = sim_group_first(s, g);
        p->group_role[g] = MQ_ROLE_PRODUCER;
        p->group_entity[g] = (int8_t)i;
    }
    for (int i = 0; i < p->n_groups; i++) {
        g = sim_group_find(s, p->groups[i].name);
        p->groups[i].first_node = sim_group_first(s, g);
        p->groups[i].coordinator = p->broker_first + (uint32_t)(i % p->n_brokers);
        sim_rng r;
        sim_model_stream(s, &r, 1, (uint32_t)i, 0);
        p->groups[i].poison_key = sim_rng_u64(&r);
        p->group_role[g] = MQ_ROLE_CONSUMER;
        p->group_entity[g] = (int8_t)i;
    }
    /* The broker tick finds elections, shrinking in-sync sets and expired
     * group members: a quarter of the shortest of those timeouts. */
    sim_time tick = p->election_timeout < p->isr_timeout ? p->election_timeout : p->isr_timeout;
    for (int i = 0; i < p->n_groups; i++)
        if (p->groups[i].assignment == MQ_ASSIGN_PARTITIONS && p->groups[i].session_timeout < tick)
            tick = p->groups[i].session_timeout;
    p->broker_tick = tick / 4 > 0 ? tick / 4 : 1;
    uint32_t b = (uint32_t)p->n_brokers;
    for (uint32_t pg = 0; pg < p->n_parts; pg++)
        for (uint32_t r = 0; r < p->parts[pg].n_replicas; r++)
            p->parts[pg].replicas[r] = p->broker_first + (pg + r) % b;
    return 0;
}

void mq_shared_fini(void *shared) {
    mq_shared *p = shared;
    for (int g = 0; g < p->n_groups; g++)
        sim_dist_fini(&p->groups[g].processing);
    mq_oracle_fini(&p->oracle);
}
