/*
 * kv_config.c - reads and checks the kv scenario: replication (N, R, W,
 * placement, versioning), storage, the fault-handling mechanisms (failure
 * detector, sloppy quorum and hinted handoff, read repair, anti-entropy,
 * tombstones), the workload, and membership changes; then builds the ring.
 *
 * Invariants
 *  (1) Bad input fails with a message naming its JSON path (sim_cfg_fail);
 *      nothing is half-configured: the run does not start.
 *  (2) Combinations that cannot work are refused here, not discovered in a
 *      run: a sloppy quorum needs hinted handoff and propagation "all";
 *      hinted handoff and a sloppy quorum need the failure detector; the
 *      suspicion timeout exceeds the heartbeat interval.
 *  (3) The ring is built once, in kv_validate, from the ring's own stream
 *      (k->ring_rng), so placement does not depend on the workload's draws.
 *
 * Sends no messages; schedules the world timers of membership changes
 * (W_MEMBERSHIP, handled by kv.c's kv_on_world_timer).
 */
#include "kv_int.h"

#include <math.h>

/* The latest time a workload or membership key may name: 1000000 hours. */
#define KV_TIME_LIMIT ((sim_time)1000000 * 3600 * SIM_S)

/* ------------------------------------------------------------------------ */
/* Configuration.                                                           */

static const char *const partitioners[] = {"hash", "range", "modulo", NULL};
static const char *const coordinators[] = {"first", "random", "client", NULL};
static const char *const read_targets_s[] = {"all", "quorum", NULL};
static const char *const propagations[] = {"all", "none", NULL};
static const char *const versionings[] = {"lww", "vclock", NULL};
static const char *const quorums[] = {"strict", "sloppy", NULL};
static const char *const rr_modes[] = {"off", "async", "blocking", NULL};
static const char *const ae_modes[] = {"off", "merkle", "full", NULL};
static const char *const bootstraps[] = {"anti_entropy", "streaming", NULL};

/* Failure detector, hinted handoff and read repair (docs/models/kv.md). */
static int read_fault_handling(sim_cfg *c, kv_shared *k) {
    if (sim_cfg_enum(c, "quorum", "strict", quorums, &k->quorum) < 0)
        return -1;
    if (k->quorum == KV_QUORUM_SLOPPY && k->propagation == KV_PROP_NONE)
        return sim_cfg_fail(c, "quorum",
                            "\"sloppy\" needs propagation \"all\" (with propagation \"none\" a "
                            "request goes to random replicas, not along the ring)");
    if (sim_cfg_enter(c, "hinted_handoff") < 0 ||
        sim_cfg_bool(c, "enabled", k->quorum == KV_QUORUM_SLOPPY, &k->hints_on) < 0 ||
        sim_cfg_int(c, "max_hints", 100000, 0, 100000000, &k->max_hints) < 0 ||
        sim_cfg_time(c, "max_hint_window", "3h", SIM_MS, KV_TIME_LIMIT, &k->hint_window) < 0 ||
        sim_cfg_time(c, "replay_interval", "1s", SIM_MS, 3600 * SIM_S, &k->replay_interval) < 0 ||
        sim_cfg_num(c, "replay_rate_per_s", 10000, 1e-3, 1e9, &k->replay_rate) < 0)
        return -1;
    sim_cfg_leave(c);
    if (k->quorum == KV_QUORUM_SLOPPY && !k->hints_on)
        return sim_cfg_fail(c, "hinted_handoff.enabled",
                            "a sloppy quorum needs hinted handoff (a stand-in that keeps no "
                            "hint never hands the write back)");
    bool fd_default = k->quorum == KV_QUORUM_SLOPPY || k->hints_on;
    if (sim_cfg_enter(c, "failure_detector") < 0 ||
        sim_cfg_bool(c, "enabled", fd_default, &k->fd_on) < 0 ||
        sim_cfg_time(c, "interval", "500ms", SIM_MS, 3600 * SIM_S, &k->hb_interval) < 0 ||
        sim_cfg_time(c, "suspicion_timeout", "2s", SIM_MS, 3600 * SIM_S, &k->suspicion) < 0)
        return -1;
    if (k->suspicion <= k->hb_interval)
        return sim_cfg_fail(c, "suspicion_timeout",
                            "must be longer than interval (a peer would be suspected between "
                            "two heartbeats)");
    sim_cfg_leave(c);
    if (sim_cfg_enter(c, "read_repair") < 0 ||
        sim_cfg_enum(c, "mode", "off", rr_modes, &k->rr_mode) < 0 ||
        sim_cfg_prob(c, "chance", 1.0, &k->rr_chance) < 0 ||
        sim_cfg_time(c, "grace", "100ms", 0, 3600 * SIM_S, &k->rr_grace) < 0 ||
        sim_cfg_bool(c, "digest_reads", false, &k->digest_reads) < 0)
        return -1;
    sim_cfg_leave(c);
    if ((k->quorum == KV_QUORUM_SLOPPY || k->hints_on) && !k->fd_on)
        return sim_cfg_fail(c, "failure_detector.enabled",
                            "a sloppy quorum and hinted handoff need the failure detector (they "
                            "act on which nodes are believed down)");
    return 0;
}

static const char *const wl_modes[] = {"open", "closed", "probe", NULL};
static const char *const popularities[] = {"uniform", "zipf",       "hotspot",
                                           "latest",  "sequential", NULL};

static int read_workload(sim_cfg *c, kv_shared *k, sim_time duration) {
    if (sim_cfg_enter(c, "workload") < 0)
        return -1;
    int64_t keys;
    if (sim_cfg_int(c, "clients", 1, 1, 100000, &k->n_clients) < 0 ||
        sim_cfg_int(c, "keys", 1000, 1, 100000000, &keys) < 0 ||
        sim_cfg_enum(c, "mode", "open", wl_modes, &k->wl_mode) < 0 ||
        sim_cfg_num(c, "rate_per_s", 100, -INFINITY, INFINITY, &k->rate_per_s) < 0 ||
        sim_cfg_dist(c, "think_time", "10ms", SIM_UNIT_TIME, &k->think_time) < 0 ||
        sim_cfg_prob(c, "read_fraction", 0.9, &k->read_fraction) < 0 ||
        sim_cfg_prob(c, "delete_fraction", 0, &k->delete_fraction) < 0 ||
        sim_cfg_enum(c, "popularity", "uniform", popularities, &k->popularity) < 0 ||
        sim_cfg_num(c, "zipf_theta", 0.99, 1e-6, 100, &k->zipf_theta) < 0 ||
        sim_cfg_num(c, "hot_ops", 0.9, 0, 1, &k->hot_ops) < 0 ||
        sim_cfg_num(c, "hot_keys", 0.1, 0, 1, &k->hot_keys) < 0 ||
        sim_cfg_bool(c, "scramble", true, &k->scramble) < 0 ||
        sim_cfg_time(c, "start", "0s", 0, KV_TIME_LIMIT, &k->wl_start) < 0)
        return -1;
    k->n_keys = keys;
    if (!(k->rate_per_s > 0 && k->rate_per_s <= 1e9))
        return sim_cfg_fail(c, "rate_per_s",
                            "%g is not allowed (operations per second, all clients together: "
                            "more than 0, at most 1e9)",
                            k->rate_per_s);
    char def_stop[40];
    sim_time_format(duration, def_stop, sizeof def_stop);
    if (sim_cfg_time(c, "stop", def_stop, 0, KV_TIME_LIMIT, &k->wl_stop) < 0)
        return -1;
    if (sim_cfg_enter(c, "probe") < 0 ||
        sim_cfg_time_list(c, "t", "[\"0ms\",\"1ms\",\"2ms\",\"5ms\",\"10ms\",\"20ms\",\"50ms\"]", 0,
                          3600 * SIM_S, 64, &k->probe_t, &k->n_probe_t) < 0 ||
        sim_cfg_time(c, "gap", "100ms", 0, 3600 * SIM_S, &k->probe_gap) < 0)
        return -1;
    sim_cfg_leave(c);
    if (k->wl_mode == KV_WL_PROBE && k->n_probe_t == 0)
        return sim_cfg_fail(c, "probe", "a probe workload needs at least one t in \"t\"");
    if (k->wl_mode == KV_WL_PROBE && k->n_keys < k->n_clients)
        return sim_cfg_fail(c, "keys",
                            "%lld keys for %lld probing clients (each probes keys of "
                            "its own: need keys >= clients)",
                            (long long)k->n_keys, (long long)k->n_clients);
    if (!(k->hot_keys > 0 && k->hot_keys < 1))
        return sim_cfg_fail(c, "hot_keys",
                            "%g is not allowed (a fraction of the keys: more "
                            "than 0, less than 1)",
                            k->hot_keys);
    if (k->popularity == KV_POP_HOTSPOT && k->hot_keys * (double)k->n_keys < 1)
        return sim_cfg_fail(c, "hot_keys", "%g of %lld keys is less than one key", k->hot_keys,
                            (long long)k->n_keys);
    if (k->wl_stop < k->wl_start)
        return sim_cfg_fail(c, "stop", "is before start");
    sim_cfg_leave(c);
    /* Open loop: each client issues Poisson arrivals at its share. */
    k->interarrival =
        (sim_dist){.kind = SIM_DIST_EXPONENTIAL, .a = 1e9 * (double)k->n_clients / k->rate_per_s};
    return 0;
}

int kv_configure(sim_cfg *c, void *shared) {
    kv_shared *k = shared;
    sim *s = sim_cfg_sim(c);
    int versioning;
    if (sim_cfg_int(c, "n", 3, 1, KV_MAX_N, &k->n) < 0 ||
        sim_cfg_int(c, "r", 2, 1, KV_MAX_N, &k->r) < 0 ||
        sim_cfg_int(c, "w", 2, 1, KV_MAX_N, &k->w) < 0)
        return -1;
    if (k->r > k->n)
        return sim_cfg_fail(c, "r",
                            "r = %lld is more than n = %lld (a read asks at most the n "
                            "replicas of a key)",
                            (long long)k->r, (long long)k->n);
    if (k->w > k->n)
        return sim_cfg_fail(c, "w",
                            "w = %lld is more than n = %lld (a write reaches at most the "
                            "n replicas of a key)",
                            (long long)k->w, (long long)k->n);
    if (sim_cfg_enum(c, "partitioner", "hash", partitioners, &k->partitioner) < 0 ||
        sim_cfg_int(c, "vnodes", 16, 1, 4096, &k->vnodes) < 0 ||
        sim_cfg_enum(c, "coordinator", "first", coordinators, &k->coordinator) < 0 ||
        sim_cfg_enum(c, "read_targets", "all", read_targets_s, &k->read_targets) < 0 ||
        sim_cfg_enum(c, "propagation", "all", propagations, &k->propagation) < 0 ||
        sim_cfg_enum(c, "versioning", "lww", versionings, &versioning) < 0 ||
        sim_cfg_time(c, "request_timeout", "1s", SIM_NS, 3600 * SIM_S, &k->request_timeout) < 0 ||
        sim_cfg_int(c, "key_bytes", 16, 0, 1 << 20, &k->key_bytes) < 0 ||
        sim_cfg_dist(c, "value_bytes", "100", SIM_UNIT_NUMBER, &k->value_bytes) < 0)
        return -1;
    k->vclock = versioning == 1;
    if (read_fault_handling(c, k) < 0)
        return -1;
    if (k->vclock && k->digest_reads)
        return sim_cfg_fail(c, "read_repair.digest_reads",
                            "digest reads work with versioning \"lww\" only (with vector clocks "
                            "the answer may merge siblings from several replicas, so one value "
                            "read is not enough)");
    if (sim_cfg_enter(c, "anti_entropy") < 0 ||
        sim_cfg_enum(c, "mode", "off", ae_modes, &k->ae_mode) < 0 ||
        sim_cfg_time(c, "interval", "1s", SIM_MS, KV_TIME_LIMIT, &k->ae_interval) < 0 ||
        sim_cfg_time(c, "jitter", "100ms", 0, KV_TIME_LIMIT, &k->ae_jitter) < 0 ||
        sim_cfg_int(c, "depth", 10, 1, KV_MERKLE_MAX_DEPTH, &k->ae_depth) < 0)
        return -1;
    sim_cfg_leave(c);
    if (sim_cfg_enum(c, "bootstrap", "anti_entropy", bootstraps, &k->bootstrap) < 0)
        return -1;
    if (sim_cfg_enter(c, "tombstones") < 0 ||
        sim_cfg_time(c, "gc_grace", "240h", 0, KV_TIME_LIMIT, &k->gc_grace) < 0 ||
        sim_cfg_time(c, "compaction_interval", "1s", SIM_MS, 3600 * SIM_S,
                     &k->compaction_interval) < 0)
        return -1;
    sim_cfg_leave(c);
    if (sim_cfg_int_list(c, "split_points", "[]", 1, 100000000, 65536, &k->splits, &k->n_splits) <
        0)
        return -1;
    if (k->n_splits && k->partitioner != KV_PART_RANGE)
        return sim_cfg_fail(c, "split_points", "only the range partitioner takes split points");
    for (uint32_t i = 1; i < k->n_splits; i++)
        if (k->splits[i] <= k->splits[i - 1])
            return sim_cfg_fail(c, "split_points", "must ascend strictly (%lld after %lld)",
                                (long long)k->splits[i], (long long)k->splits[i - 1]);
    if (sim_cfg_enter(c, "storage") < 0 || sim_cfg_bool(c, "durable", true, &k->durable) < 0 ||
        sim_cfg_time(c, "sync_interval", "0s", 0, 3600 * SIM_S, &k->sync_interval) < 0)
        return -1;
    sim_cfg_leave(c);
    /* The run's duration is the default stop of the workload. */
    sim_time duration = sim_duration(s);
    if (read_workload(c, k, duration) < 0)
        return -1;
    if (k->n_splits && k->splits[k->n_splits - 1] >= k->n_keys)
        return sim_cfg_fail(c, "split_points",
                            "%lld is not inside the key space (keys 0 to %lld: a split point is "
                            "the first key of a range, from 1 to %lld)",
                            (long long)k->splits[k->n_splits - 1], (long long)k->n_keys - 1,
                            (long long)k->n_keys - 1);
    if (sim_cfg_time_list(c, "t_visibility",
                          "[\"0ms\",\"1ms\",\"2ms\",\"5ms\",\"10ms\",\"20ms\",\"50ms\",\"100ms\","
                          "\"200ms\",\"500ms\",\"1s\"]",
                          0, 3600 * SIM_S, 256, &k->oracle.t_edges, &k->oracle.n_t) < 0)
        return -1;
    for (uint32_t i = 1; i < k->oracle.n_t; i++)
        if (k->oracle.t_edges[i] <= k->oracle.t_edges[i - 1])
            return sim_cfg_fail(c, "t_visibility", "bucket edges must ascend");
    uint32_t n_changes;
    if (sim_cfg_list(c, "membership", 10000, &n_changes) < 0)
        return -1;
    k->n_changes = n_changes;
    k->changes = n_changes ? sim_calloc(n_changes, sizeof *k->changes) : NULL;
    return sim_cfg_add_nodes(c, "client", (uint32_t)k->n_clients);
}

/* Reads membership entries (they name nodes) and builds the ring. */
int kv_validate(sim_cfg *c, void *shared) {
    kv_shared *k = shared;
    sim *s = sim_cfg_sim(c);
    k->sim = s;
    int client_group = sim_group_find(s, "client");
    k->first_client = sim_group_first(s, client_group);
    k->n_servers = k->first_client;
    if (sim_group_count(s, client_group) != (uint32_t)k->n_clients || k->n_servers == 0)
        return sim_cfg_fail(c, NULL, "kv needs server nodes: declare them in $.nodes");
    if ((uint64_t)k->n > k->n_servers)
        return sim_cfg_fail(c, "n", "n = %lld replicas, but there are only %u servers ($.nodes)",
                            (long long)k->n, k->n_servers);
    /* The ring's size, checked before it is built (sorting 10^7 tokens
     * alone takes seconds): a documented limit (docs/scenario-format.md). */
    if ((uint64_t)k->n_servers * (uint64_t)k->vnodes > KV_MAX_TOKENS)
        return sim_cfg_fail(c, "vnodes",
                            "%u servers x %lld virtual nodes = %llu ring tokens, more than the "
                            "limit of %u: use fewer servers ($.nodes) or fewer vnodes",
                            k->n_servers, (long long)k->vnodes,
                            (unsigned long long)k->n_servers * (unsigned long long)k->vnodes,
                            (unsigned)KV_MAX_TOKENS);
    bool *joins_later = sim_calloc(k->n_servers, sizeof *joins_later);
    bool *seen = sim_calloc(k->n_servers, sizeof *seen);
    for (uint32_t i = 0; i < k->n_changes; i++) {
        if (sim_cfg_enter_item(c, "membership", i) < 0)
            break;
        const char *join = NULL, *leave = NULL;
        sim_time at;
        if (sim_cfg_time(c, "at", "0s", 0, KV_TIME_LIMIT, &at) < 0 ||
            sim_cfg_str(c, "join", "", &join) < 0 || sim_cfg_str(c, "leave", "", &leave) < 0)
            break;
        if ((*join != '\0') == (*leave != '\0')) {
            sim_cfg_fail(c, NULL, "needs exactly one of \"join\" or \"leave\" (a server's name)");
            break;
        }
        uint32_t node;
        if (sim_cfg_node(c, *join ? "join" : "leave", NULL, &node) < 0)
            break;
        if (node >= k->n_servers) {
            sim_cfg_fail(c, *join ? "join" : "leave", "\"%s\" is a client, not a server",
                         sim_node_name(s, node));
            break;
        }
        if (i > 0 && at < k->changes[i - 1].at) {
            sim_cfg_fail(c, "at", "membership changes must be in time order");
            break;
        }
        k->changes[i] = (struct kv_member_change){at, node, *join != '\0'};
        if (!seen[node] && *join)
            joins_later[node] = true;
        seen[node] = true;
        sim_cfg_leave(c);
    }
    uint32_t active = 0;
    for (uint32_t i = 0; i < k->n_servers; i++)
        active += !joins_later[i];
    int rc = 0;
    if (active < (uint32_t)k->n)
        rc = sim_cfg_fail(c, "n", "n = %lld, but only %u servers are members at the start",
                          (long long)k->n, active);
    if (rc == 0) {
        sim_model_stream(s, &k->ring_rng, 1, 0, 0);
        /* Members that join later are placed last, then activated: build the
         * ring with every member active, then deactivate them. */
        kv_ring_init(&k->ring, (kv_partitioner)k->partitioner, (uint32_t)k->n, k->n_servers,
                     k->n_servers, (uint32_t)k->vnodes, (uint64_t)k->n_keys, &k->ring_rng,
                     (const uint64_t *)k->splits, k->n_splits);
        for (uint32_t i = 0; i < k->n_servers; i++)
            if (joins_later[i])
                kv_ring_set_active(&k->ring, i, false, &k->ring_rng);
        kv_keys_init(&k->keys, (kv_pop_kind)k->popularity, (uint64_t)k->n_keys, k->zipf_theta,
                     k->hot_ops, k->hot_keys, k->scramble);
        for (uint32_t i = 0; i < k->n_changes; i++)
            sim_world_timer_set(s, k->changes[i].at, W_MEMBERSHIP, i);
        k->h_read = sim_histogram(s, "kv.read_latency", "ns");
        k->h_write = sim_histogram(s, "kv.write_latency", "ns");
        k->h_k = sim_histogram(s, "kv.stale_k", "versions");
        k->c_reads = sim_counter(s, "kv.reads");
        k->c_writes = sim_counter(s, "kv.writes");
        k->c_stale = sim_counter(s, "kv.stale_reads");
        k->c_failed = sim_counter(s, "kv.failed_ops");
        k->c_timeouts = sim_counter(s, "kv.client_timeouts");
        k->g_in_flight = sim_gauge(s, "kv.ops_in_flight");
        k->g_divergent = sim_gauge(s, "kv.divergent_keys");
        k->g_boot_missing = sim_gauge(s, "kv.keys_missing_on_replacement");
        if (k->hints_on) {
            k->g_hints = sim_gauge(s, "kv.hints_pending");
            k->h_hint_lag = sim_histogram(s, "kv.hint_delivery_lag", "ns");
        }
        k->up_since = sim_calloc(k->n_servers, sizeof *k->up_since);
        if (k->vclock)
            kv_vc_init(&k->vc, k->n_servers + (uint32_t)k->n_clients);
    }
    sim_free(joins_later);
    sim_free(seen);
    return sim_cfg_failed(c) ? -1 : rc;
}

/* After the budget (sim_model.prepare): the oracle's record of every key,
 * the one table sized by kv.workload.keys alone. */
void kv_prepare(sim *s, void *shared) {
    (void)s;
    kv_shared *k = shared;
    sim_time *edges = k->oracle.t_edges;
    uint32_t n_t = k->oracle.n_t;
    kv_oracle_init(&k->oracle, (uint64_t)k->n_keys, edges, n_t, k->n_probe_t);
    sim_free(edges);
}
