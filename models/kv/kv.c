/*
 * kv.c - a Dynamo-style replicated key-value store with N/R/W quorums, and
 * the workload clients that drive it.
 *
 * Design notes
 * ============
 * Nodes: the scenario's nodes are the servers (ring members, by index);
 * the model adds `workload.clients` client nodes after them.  Every request
 * travels the simulated network:
 *
 *   client --client_put/get--> coordinator --put/get--> replicas
 *   client <--..._reply------- coordinator <--put_ack/get_reply--
 *
 * With `coordinator: client` the client coordinates its own requests
 * (Dynamo §6's client-driven coordination), so the write and the read start
 * at the same node, exactly the WARS model of PBS.
 *
 * Invariants
 *  (1) A write commits exactly once, when its coordinator holds W acks from
 *      distinct targets; only then is it acknowledged to the client.
 *  (2) A read answers with the newest version (last-write-wins order) among
 *      the first R replies from distinct targets; with vector clocks, with
 *      the merge of their sibling sets (vmerge).
 *  (3) A request that has neither by `request_timeout` fails; a client's
 *      operation that has no reply by then fails at the client.
 *  (4) A replica keeps, per key, the newest version it was sent (LWW by the
 *      coordinator's local clock, ties broken by write id); so a write
 *      stamped by a clock that runs behind can lose to an older one.  With
 *      vector clocks it keeps the merge: every write no other write it holds
 *      descends from (vclock.h).
 *  (5) A crash of a server loses its coordinator state; its storage survives
 *      if `storage.durable`, except writes since the last commit-log sync
 *      when `storage.sync_interval` > 0.
 *  (6) No protocol decision reads the oracle (oracle.c); only metrics do.
 *      Liveness is learnt from the protocol alone: heartbeats and request
 *      timeouts (the failure detector), never from the kernel.
 *  (7) A put to a stand-in (sloppy quorum) is stored as a hint for its home
 *      replica, never in the stand-in's own store; a hint is deleted only
 *      when its home acknowledges it, it expires (max_hint_window), or its
 *      volatile holder crashes.
 *  (8) Every change to a server's store goes through replica_store (vmerge),
 *      the crash rollback, the volatile wipe or compaction, and each keeps
 *      the server's Merkle trees and the oracle's divergence count in step.
 *  (9) Repairs (read repair, hints, anti-entropy, streams) store versions
 *      under the same rule as puts (vmerge): a repair never replaces a newer
 *      version, nor drops a concurrent sibling.
 *
 * Request states at the coordinator (kv_coord_req):
 *
 *   free --start_put/start_get--> waiting --W acks / R replies--> done
 *                                  |   |                          (freed)
 *                                  |   +--request timeout--> failed (freed)
 *                                  |
 *   get, digests disagree: waiting --fetch the value--> done
 *   get, blocking read repair: waiting --repair acks--> done
 *   done, async read repair: lingering --all replies / grace--> repairs sent
 *   done, put with hints on: lingering --all acks / timeout--> hints kept
 *
 * Transitions: coord_start (free -> waiting; or failed at once when fewer
 * targets than the quorum are believed up), on_replica_answer (waiting ->
 * done at W acks or R replies, through get_quorum for reads and
 * reply_client), on_repair_ack, on_rr_grace, on_coord_timeout (waiting ->
 * failed; lingering -> freed, hinting silent put targets), kv_on_crash
 * (any -> gone with the node).  Late replies find the slot freed or reused
 * (generation check) and are ignored.
 *
 * Operation states at the client (kv_client_op): issued -> replied (ok or
 * failed) or timed out; client_issue, client_finish, on_client_timeout.
 *
 * Faults (issue 4; docs/models/kv.md has the full notes): the failure
 * detector (believed_up, heartbeats), sloppy quorums and hinted handoff
 * (sloppy_targets, hint_store, hint_replay), read repair (get_quorum,
 * send_repairs, rr_finish), Merkle anti-entropy (tree_update, ae_start,
 * on_ae_*), replacements (bootstrap_stream), tombstones (tomb_push,
 * compact), and the oracle's divergence and convergence (div_check,
 * kv_on_fault).
 */
#include "kv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kv_msg_types[] = {
    "client_put", "client_put_reply",
    "client_get", "client_get_reply",
    "put",        "put_ack",
    "get",        "get_reply",
    "heartbeat",  "hint",
    "hint_ack",   "repair",
    "repair_ack", "ae_hashes",
    "ae_keylist", "ae_keys",
    "ae_in_sync", "stream_req",
    NULL,
};

enum {
    T_ARRIVAL,        /* open loop: next operation */
    T_THINK,          /* closed loop: next operation */
    T_CLIENT_TIMEOUT, /* arg: op handle */
    T_COORD_TIMEOUT,  /* arg: request handle */
    T_SYNC,           /* commit-log sync */
    T_PROBE_READ,     /* arg: op handle of the probe write */
    T_PROBE_NEXT,
    T_HEARTBEAT,   /* failure detector: send heartbeats */
    T_HINT_REPLAY, /* hinted handoff: replay hints to targets back up */
    T_RR_GRACE,    /* arg: request handle; read repair's wait is over */
    T_COMPACT,     /* purge tombstones past their grace period */
    T_AE,          /* anti-entropy: start an exchange */
};

enum { W_MEMBERSHIP = 1 };

/* The latest time a workload or membership key may name: 1000000 hours. */
#define KV_TIME_LIMIT ((sim_time)1000000 * 3600 * SIM_S)

/* Wire bytes: a fixed header plus the key and, when carried, the value. */
#define KV_HEADER_BYTES 32u

/* Handles: slot in the low 20 bits, generation above. */
#define SLOT_BITS 20u
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

static kv_shared *shared_of(sim_ctx *ctx) { return sim_shared(ctx); }

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

/* Failure detector, hinted handoff and read repair (kv.c's "Faults"). */
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

static int kv_configure(sim_cfg *c, void *shared) {
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
static int kv_validate(sim_cfg *c, void *shared) {
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
        sim_time *edges = k->oracle.t_edges;
        uint32_t n_t = k->oracle.n_t;
        kv_oracle_init(&k->oracle, (uint64_t)k->n_keys, edges, n_t, k->n_probe_t);
        sim_free(edges);
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

/* ------------------------------------------------------------------------ */
/* Sending.                                                                 */

static uint32_t wire(const kv_shared *k, bool with_value, uint32_t value_size) {
    if (value_size == KV_TOMBSTONE)
        with_value = false; /* a delete carries no value */
    uint64_t b = KV_HEADER_BYTES + (uint64_t)k->key_bytes + (with_value ? value_size : 0);
    return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static void send_msg(sim_ctx *ctx, uint32_t dst, uint32_t type, const kv_msg *m, bool with_value) {
    kv_shared *k = shared_of(ctx);
    uint32_t bytes = wire(k, with_value, m->v.size);
    if (k->vclock) /* the clocks of the version carried, and of a put's context */
        bytes += kv_vc_wire_bytes(&k->vc, m->v) +
                 (type == KV_MSG_CLIENT_PUT ? kv_vc_wire_bytes(&k->vc, (kv_version){.wid = m->hint})
                                            : 0);
    sim_send(ctx, dst, type, m, sizeof *m, bytes);
}

/* ------------------------------------------------------------------------ */
/* Slot pools for requests and operations (kv_pool in kv.h).                */

#define GEN_BITS (32u - SLOT_BITS)
#define GEN_MASK ((1u << GEN_BITS) - 1)

static kv_slot *pool_at(const kv_pool *p, size_t size, uint32_t i) {
    return (kv_slot *)((char *)p->items + (size_t)i * size);
}

/* The slot a handle names, or NULL if it was released since. */
static void *pool_find(const kv_pool *p, size_t size, uint32_t h) {
    uint32_t i = h & SLOT_MASK;
    if (i >= p->n)
        return NULL;
    kv_slot *sl = pool_at(p, size, i);
    return sl->used && (sl->gen & GEN_MASK) == h >> SLOT_BITS ? sl : NULL;
}

/* A zeroed slot (but for its head) and its handle; the pool doubles when
 * full. */
static void *pool_new(kv_pool *p, size_t size, uint32_t *h) {
    if (p->n == 0 || p->free == UINT32_MAX) {
        uint32_t old = p->n, cap = old ? old * 2 : 16;
        SIM_ASSERT(cap <= SLOT_MASK);
        p->items = sim_realloc(p->items, (size_t)cap * size);
        memset((char *)p->items + (size_t)old * size, 0, (size_t)(cap - old) * size);
        uint32_t head = old ? p->free : UINT32_MAX;
        for (uint32_t i = cap; i-- > old;) {
            pool_at(p, size, i)->next = head;
            head = i;
        }
        p->free = head;
        p->n = cap;
    }
    uint32_t i = p->free;
    kv_slot *sl = pool_at(p, size, i);
    p->free = sl->next;
    uint32_t gen = sl->gen + 1;
    memset(sl, 0, size);
    sl->gen = gen;
    sl->used = 1;
    *h = i | ((gen & GEN_MASK) << SLOT_BITS);
    return sl;
}

static void pool_release(kv_pool *p, size_t size, void *item) {
    kv_slot *sl = item;
    sl->used = 0;
    sl->next = p->free;
    p->free = (uint32_t)(((char *)item - (char *)p->items) / size);
}

static kv_coord_req *req_find(kv_node *nd, uint32_t h) {
    return pool_find(&nd->reqs, sizeof(kv_coord_req), h);
}
static kv_coord_req *req_new(kv_node *nd, uint32_t *h) {
    return pool_new(&nd->reqs, sizeof(kv_coord_req), h);
}
static void req_release(kv_node *nd, kv_coord_req *q) { pool_release(&nd->reqs, sizeof *q, q); }
static kv_client_op *op_find(kv_node *nd, uint32_t h) {
    return pool_find(&nd->ops, sizeof(kv_client_op), h);
}
static kv_client_op *op_new(kv_node *nd, uint32_t *h) {
    return pool_new(&nd->ops, sizeof(kv_client_op), h);
}
static void op_release(kv_node *nd, kv_client_op *op) { pool_release(&nd->ops, sizeof *op, op); }

/* ------------------------------------------------------------------------ */
/* Versions: last-write-wins or vector clocks, behind two operations.       */

/* What a replica holding a and receiving b keeps: the newer (LWW) or the
 * merged sibling set (vclock). */
static kv_version vmerge(kv_shared *k, kv_version a, kv_version b) {
    if (k->vclock)
        return kv_vc_merge(&k->vc, a, b);
    return kv_version_newer(b, a) ? b : a;
}

/* True if v is a delete, or only deletes (siblings): reading nothing is then
 * the right answer, once the tombstones are purged. */
static bool only_deletes(const kv_shared *k, kv_version v) {
    if (v.wid == 0)
        return false;
    if (!k->vclock)
        return kv_is_tombstone(v);
    for (uint32_t i = 0; i < kv_vc_count(&k->vc, v); i++)
        if (!kv_vc_is_delete(&k->vc, kv_vc_member(&k->vc, v, i)))
            return false;
    return true;
}

/* True if a holder of a has everything of b: a is at least as new (LWW), or
 * covers b's writes (vclock).  Everything covers nothing. */
static bool vcovers(const kv_shared *k, kv_version a, kv_version b) {
    if (b.wid == 0)
        return true;
    if (k->vclock)
        return kv_vc_covers(&k->vc, a, b);
    return a.wid != 0 && !kv_version_newer(b, a);
}

/* Appends to a fixed line, keeping *at within it (a long name truncates). */
static void addf(char *buf, size_t len, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void addf(char *buf, size_t len, size_t *at, const char *fmt, ...) {
    if (*at + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < len - 1 ? *at + (size_t)n : len - 1;
}

/* A version as the trace narrates it: w<id>, a sibling set {w<id>,...},
 * "nothing", and a delete marked. */
static const char *vlabel(const kv_shared *k, kv_version v, char *buf, size_t len) {
    if (v.wid == 0) {
        snprintf(buf, len, "nothing");
        return buf;
    }
    if (!k->vclock || kv_vc_count(&k->vc, v) == 1) {
        uint32_t w = k->vclock ? kv_vc_member(&k->vc, v, 0) : v.wid;
        snprintf(buf, len, "w%u%s", w, kv_is_tombstone(v) ? " (a delete)" : "");
        return buf;
    }
    size_t at = 0;
    addf(buf, len, &at, "{");
    for (uint32_t i = 0; i < kv_vc_count(&k->vc, v); i++)
        addf(buf, len, &at, "%sw%u", i ? "," : "", kv_vc_member(&k->vc, v, i));
    addf(buf, len, &at, "}");
    return buf;
}

/* A session store (a client's seen and mine): keeps the merge. */
static void session_put(kv_shared *k, kv_store *st, uint32_t key, kv_version v) {
    kv_version old;
    if (!k->vclock) {
        kv_store_put_lww(st, key, v, &old);
        return;
    }
    kv_store_set(st, key, vmerge(k, kv_store_get(st, key), v));
}

/* ------------------------------------------------------------------------ */
/* Replica storage changes, and the oracle's watch on divergence.           */

static kv_node *node_at(kv_shared *k, uint32_t node) { return sim_node_state(k->sim, node); }

/* Called when a key that was divergent since `since` has converged at now:
 * settles the fault ends it was pending for. */
static void div_settle(kv_shared *k, sim_time since, sim_time now) {
    for (uint32_t i = 0; i < k->n_fault_ends; i++) {
        struct kv_fault_end *f = &k->fault_ends[i];
        if (f->converged_at < 0 && f->at >= since && --f->pending == 0) {
            f->converged_at = now;
            f->ae_rounds = k->ae_exchanges - f->ae_at;
        }
    }
}

/* Re-judges whether key's replicas (its preference list) agree, after one
 * of them changed.  Metric only: no protocol decision reads it. */
static void div_check(kv_shared *k, uint32_t key, sim_time now) {
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    bool differ = false;
    kv_version first = n ? kv_store_get(&node_at(k, pref[0])->store, key) : (kv_version){0};
    for (uint32_t i = 1; i < n && !differ; i++) {
        kv_version v = kv_store_get(&node_at(k, pref[i])->store, key);
        differ = v.wid != first.wid || v.ts != first.ts;
    }
    kv_key_rec *kr = &k->oracle.keys[key];
    if (differ == (kr->div_mark != 0))
        return;
    if (differ) {
        kr->div_mark = now + 1;
        k->oracle.divergent++;
    } else {
        div_settle(k, kr->div_mark - 1, now);
        kr->div_mark = 0;
        k->oracle.divergent--;
    }
    sim_gauge_set(k->sim, k->g_divergent, (double)k->oracle.divergent);
}

/* Re-judges every key (after a placement change or a replacement). */
static void div_check_all(kv_shared *k, sim_time now) {
    for (uint64_t key = 0; key < (uint64_t)k->n_keys; key++)
        div_check(k, (uint32_t)key, now);
}

/* ------------------------------------------------------------------------ */
/* Merkle trees: kept in step with every change to a replica's store.      */

/* A key's leaf in its range's tree. */
static uint32_t key_leaf(kv_shared *k, const kv_merkle *t, uint32_t range, uint32_t key) {
    uint64_t lo, hi;
    kv_ring_range_bounds(&k->ring, range, &lo, &hi);
    return kv_merkle_leaf_of(t, lo, hi, kv_ring_key_pos(&k->ring, key));
}

/* The store's version of key went from old to v (wid 0: none). */
static void tree_update(kv_shared *k, kv_node *nd, uint32_t key, kv_version old, kv_version v) {
    if (!nd->trees)
        return;
    uint32_t range = kv_ring_range_of(&k->ring, key);
    kv_merkle *t = &nd->trees[range];
    kv_merkle_update(t, key_leaf(k, t, range, key), kv_merkle_digest(key, old.ts, old.wid),
                     kv_merkle_digest(key, v.ts, v.wid));
}

/* (Re)builds every tree of a server from its store: at the start, after a
 * placement change (ranges move), after a crash wiped it. */
static void trees_rebuild(kv_shared *k, kv_node *nd) {
    for (uint32_t i = 0; i < nd->n_trees; i++)
        kv_merkle_fini(&nd->trees[i]);
    nd->n_trees = kv_ring_range_count(&k->ring);
    nd->trees = sim_realloc(nd->trees, (nd->n_trees ? nd->n_trees : 1) * sizeof *nd->trees);
    for (uint32_t i = 0; i < nd->n_trees; i++)
        kv_merkle_init(&nd->trees[i], (uint32_t)k->ae_depth);
    for (uint32_t i = 0; i < nd->store.cap; i++) {
        const kv_store_entry *e = &nd->store.slots[i];
        if (e->key == UINT32_MAX)
            continue;
        uint32_t range = kv_ring_range_of(&k->ring, e->key);
        kv_merkle *t = &nd->trees[range];
        kv_merkle_load(t, key_leaf(k, t, range, e->key), kv_merkle_digest(e->key, e->ts, e->wid));
    }
    for (uint32_t i = 0; i < nd->n_trees; i++)
        if (nd->trees[i].stale)
            kv_merkle_rehash(&nd->trees[i]);
}

/* The oracle's watch on a replacement: a key it must hold is settled once
 * it holds the newest acknowledged version. */
static void boot_check(kv_shared *k, uint32_t node, uint32_t key, kv_version v) {
    if (!k->boot_missing || node != k->boot_node || !k->boot_missing[key])
        return;
    if (!vcovers(k, v, k->oracle.keys[key].newest))
        return;
    k->boot_missing[key] = 0;
    sim_gauge_set(k->sim, k->g_boot_missing, (double)--k->boot_missing_now);
    if (k->boot_missing_now == 0)
        k->boot_done_at = sim_time_now(k->sim);
}

/* Queues a tombstone for purging at `at` (the queue is in time order: the
 * grace period is the same for all). */
static void tomb_push(kv_node *nd, uint32_t key, uint32_t wid, sim_time at) {
    if (nd->n_tombs == nd->cap_tombs) {
        uint32_t cap = nd->cap_tombs ? nd->cap_tombs * 2 : 64;
        struct kv_tomb *t = sim_malloc(cap * sizeof *t);
        for (uint32_t i = 0; i < nd->n_tombs; i++)
            t[i] = nd->tombs[(nd->tomb_head + i) % nd->cap_tombs];
        sim_free(nd->tombs);
        nd->tombs = t;
        nd->tomb_head = 0;
        nd->cap_tombs = cap;
    }
    nd->tombs[(nd->tomb_head + nd->n_tombs) % nd->cap_tombs] = (struct kv_tomb){key, wid, at};
    nd->n_tombs++;
}

/* Compaction: purges tombstones older than the grace period (still the
 * key's version here: a newer write has replaced it otherwise). */
static void compact(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    sim_time now = sim_now(ctx);
    while (nd->n_tombs && nd->tombs[nd->tomb_head].purge_at <= now) {
        struct kv_tomb t = nd->tombs[nd->tomb_head];
        nd->tomb_head = (nd->tomb_head + 1) % nd->cap_tombs;
        nd->n_tombs--;
        kv_version v = kv_store_get(&nd->store, t.key);
        if (v.wid == t.wid && kv_is_tombstone(v)) {
            kv_store_set(&nd->store, t.key, (kv_version){0});
            tree_update(k, nd, t.key, v, (kv_version){0});
            k->tombstones_purged++;
            div_check(k, t.key, now);
        }
    }
    sim_timer_set(ctx, k->compaction_interval, T_COMPACT, 0);
}

/* Stores v at a replica if it is newer (last-write-wins); logs the change
 * for a crash before the next sync.  Returns true if stored. */
static bool replica_store(sim_ctx *ctx, kv_node *nd, uint32_t key, kv_version v) {
    kv_shared *k = shared_of(ctx);
    kv_version old;
    if (!k->vclock) {
        if (!kv_store_put_lww(&nd->store, key, v, &old))
            return false;
    } else {
        old = kv_store_get(&nd->store, key);
        kv_version merged = vmerge(k, old, v);
        if (merged.wid == old.wid)
            return false;
        kv_store_set(&nd->store, key, merged);
        v = merged;
    }
    tree_update(k, nd, key, old, v);
    boot_check(k, sim_self(ctx), key, v);
    if (kv_is_tombstone(v)) {
        tomb_push(nd, key, v.wid, sim_now(ctx) + k->gc_grace);
    } else {
        /* Data older than an acknowledged delete: the replica had purged
         * the tombstone (or never had it), and the deleted value is back. */
        kv_version newest = k->oracle.keys[key].newest;
        if (kv_is_tombstone(newest) && !vcovers(k, v, newest))
            k->resurrections++;
    }
    if (k->durable && k->sync_interval > 0) {
        if (nd->n_undo == nd->cap_undo) {
            nd->cap_undo = nd->cap_undo ? nd->cap_undo * 2 : 64;
            nd->undo = sim_realloc(nd->undo, nd->cap_undo * sizeof *nd->undo);
        }
        nd->undo[nd->n_undo].key = key;
        nd->undo[nd->n_undo].old = old;
        nd->n_undo++;
    }
    div_check(k, key, sim_now(ctx));
    return true;
}

/* ------------------------------------------------------------------------ */
/* Failure detector: heartbeats, and suspicion after silence.               */

/* What this node believes: is server `peer` up?  Only the protocol's own
 * evidence counts (messages heard, requests timed out), never the kernel's
 * knowledge.  Without a failure detector every peer is presumed up. */
static bool believed_up(sim_ctx *ctx, const kv_node *nd, uint32_t peer) {
    kv_shared *k = shared_of(ctx);
    if (!k->fd_on || peer == sim_self(ctx) || !nd->last_heard)
        return true;
    return sim_now(ctx) - nd->last_heard[peer] <= k->suspicion;
}

static void heard_from(sim_ctx *ctx, kv_node *nd, uint32_t src) {
    kv_shared *k = shared_of(ctx);
    if (nd->last_heard && src < k->n_servers)
        nd->last_heard[src] = sim_now(ctx);
}

/* A request to peer timed out: suspect it until it is heard from again. */
static void suspect(sim_ctx *ctx, kv_node *nd, uint32_t peer) {
    kv_shared *k = shared_of(ctx);
    if (nd->last_heard && peer < k->n_servers)
        nd->last_heard[peer] = sim_now(ctx) - k->suspicion - 1;
}

/* Sends a heartbeat to every other server and to the clients (which choose
 * coordinators, or coordinate, by the same beliefs: as a partition-aware
 * client library learns membership). */
static void send_heartbeats(sim_ctx *ctx) {
    kv_shared *k = shared_of(ctx);
    uint32_t self = sim_self(ctx);
    uint32_t last = k->first_client + (uint32_t)k->n_clients;
    kv_msg m = {0};
    for (uint32_t i = 0; i < last; i++)
        if (i != self && (i >= k->n_servers || k->ring.active[i]))
            sim_send(ctx, i, KV_MSG_HEARTBEAT, &m, sizeof m, KV_HEADER_BYTES);
}

/* ------------------------------------------------------------------------ */
/* Hinted handoff.                                                          */

static kv_hint *hint_find(kv_node *nd, uint32_t h) {
    return pool_find(&nd->hints, sizeof(kv_hint), h);
}

static void hint_release(kv_shared *k, kv_node *nd, kv_hint *hn) {
    /* The stand-in's copy for reads goes with its last hint. */
    if (kv_store_get(&nd->hinted, hn->key).wid == hn->v.wid)
        kv_store_set(&nd->hinted, hn->key, (kv_version){0});
    pool_release(&nd->hints, sizeof *hn, hn);
    nd->n_hints--;
    k->hints_pending--;
    sim_gauge_set(k->sim, k->g_hints, (double)k->hints_pending);
}

/* Keeps a write for `target`, which this node believes down. */
static void hint_store(sim_ctx *ctx, kv_node *nd, uint32_t target, uint32_t key, kv_version v) {
    kv_shared *k = shared_of(ctx);
    sim_time now = sim_now(ctx);
    if (nd->last_heard && now - nd->last_heard[target] > k->hint_window) {
        k->hints_dropped_window++; /* down too long: anti-entropy's job now */
        return;
    }
    if (nd->n_hints >= (uint64_t)k->max_hints) {
        k->hints_dropped_full++;
        return;
    }
    session_put(k, &nd->hinted, key, v); /* the stand-in answers reads with it */
    uint32_t h;
    kv_hint *hn = pool_new(&nd->hints, sizeof *hn, &h);
    hn->target = target;
    hn->key = key;
    hn->v = v;
    hn->stored_at = now;
    hn->sent_at = -1;
    nd->n_hints++;
    k->hints_stored++;
    if (sim_tracing(ctx)) {
        char vb[64];
        sim_log(ctx, "keeps a hint: %s of key %u for %s, believed down",
                vlabel(k, v, vb, sizeof vb), key, sim_node_name(k->sim, target));
    }
    k->hints_pending++;
    sim_gauge_set(k->sim, k->g_hints, (double)k->hints_pending);
}

/* Every replay interval: hints whose target is believed up again are sent
 * (at most replay_rate_per_s x interval, oldest slots first); a hint sent
 * and not acknowledged within the request timeout is sent again; hints
 * older than the window expire. */
static void hint_replay(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    sim_time now = sim_now(ctx);
    double budget_d = k->replay_rate * sim_time_to_s(k->replay_interval);
    int64_t budget = budget_d < 1 ? 1 : budget_d > 1e9 ? 1000000000 : (int64_t)budget_d;
    for (uint32_t i = 0; i < nd->hints.n && nd->n_hints; i++) {
        kv_hint *hn = (kv_hint *)pool_at(&nd->hints, sizeof *hn, i);
        if (!hn->slot.used)
            continue;
        if (now - hn->stored_at > k->hint_window) {
            k->hints_expired++;
            hint_release(k, nd, hn);
            continue;
        }
        if (budget == 0 || !believed_up(ctx, nd, hn->target) ||
            (hn->sent_at >= 0 && now - hn->sent_at < k->request_timeout))
            continue;
        kv_msg m = {
            .key = hn->key, .req = i | ((hn->slot.gen & GEN_MASK) << SLOT_BITS), .v = hn->v};
        send_msg(ctx, hn->target, KV_MSG_HINT, &m, true);
        hn->sent_at = now;
        budget--;
    }
    sim_timer_set(ctx, k->replay_interval, T_HINT_REPLAY, 0);
}

static void on_hint_ack(sim_ctx *ctx, kv_node *nd, const kv_msg *m) {
    kv_shared *k = shared_of(ctx);
    kv_hint *hn = hint_find(nd, m->req);
    if (!hn)
        return; /* delivered already (a resent hint), or expired */
    sim_time now = sim_now(ctx), from = hn->stored_at;
    if (k->up_since[hn->target] > from)
        from = k->up_since[hn->target];
    sim_record(k->sim, k->h_hint_lag, now - from);
    if (now - from > k->hint_lag_max)
        k->hint_lag_max = now - from;
    k->hints_delivered++;
    hint_release(k, nd, hn);
}

/* Drops every hint (a volatile holder crashed). */
static void hints_clear(kv_shared *k, kv_node *nd) {
    for (uint32_t i = 0; i < nd->hints.n && nd->n_hints; i++) {
        kv_hint *hn = (kv_hint *)pool_at(&nd->hints, sizeof *hn, i);
        if (hn->slot.used) {
            k->hints_lost_with_holder++;
            if (!k->hint_lost)
                k->hint_lost = sim_calloc((size_t)k->n_keys, 1);
            k->hint_lost[hn->key] = 1;
            hint_release(k, nd, hn);
        }
    }
    kv_store_clear(&nd->hinted);
}

/* ------------------------------------------------------------------------ */
/* Anti-entropy: replica pairs compare Merkle trees, repair what differs.   */

/* Sends an anti-entropy message: the head, then `len` bytes of arrays;
 * `wire` is what it costs on the network (merkle.h's table). */
static void ae_send(sim_ctx *ctx, uint32_t dst, uint32_t type, kv_ae_head h, const void *body,
                    size_t len, uint64_t wire) {
    kv_shared *k = shared_of(ctx);
    h.epoch = k->ring_epoch;
    size_t total = sizeof h + len;
    char stackbuf[1024];
    char *buf = total <= sizeof stackbuf ? stackbuf : sim_malloc(total);
    memcpy(buf, &h, sizeof h);
    if (len)
        memcpy(buf + sizeof h, body, len);
    uint32_t w = wire > UINT32_MAX ? UINT32_MAX : (uint32_t)wire;
    sim_send(ctx, dst, type, buf, (uint32_t)total, w);
    if (buf != stackbuf)
        sim_free(buf);
    bool stream = type == KV_MSG_STREAM_REQ || (type == KV_MSG_AE_KEYS && h.level == 2);
    if (stream) {
        k->stream_bytes += (int64_t)w;
    } else {
        k->ae_messages++;
        k->ae_bytes += (int64_t)w;
    }
}

/* Value bytes of a version (none for a tombstone). */
static uint64_t value_bytes_of(kv_version v) {
    return kv_is_tombstone(v) || v.wid == 0 ? 0 : v.size;
}

static int cmp_ae_key(const void *a, const void *b) {
    uint32_t x = ((const kv_ae_key *)a)->key, y = ((const kv_ae_key *)b)->key;
    return (x > y) - (x < y);
}

/* The keys of this node's store in `range` and, if leaves is not NULL, in
 * one of the leaves marked there.  Caller frees. */
static kv_ae_key *range_keys(kv_shared *k, kv_node *nd, uint32_t range, const uint8_t *leaves,
                             uint32_t *n_out) {
    uint32_t n = 0, cap = 16;
    kv_ae_key *out = sim_malloc(cap * sizeof *out);
    const kv_merkle *t = range < nd->n_trees ? &nd->trees[range] : NULL;
    for (uint32_t i = 0; i < nd->store.cap; i++) {
        const kv_store_entry *e = &nd->store.slots[i];
        if (e->key == UINT32_MAX || kv_ring_range_of(&k->ring, e->key) != range)
            continue;
        if (leaves && t) {
            uint32_t leaf = key_leaf(k, t, range, e->key);
            if (!(leaves[leaf >> 3] & (1u << (leaf & 7))))
                continue;
        }
        if (n == cap)
            out = sim_realloc(out, (cap *= 2) * sizeof *out);
        out[n++] = (kv_ae_key){.key = e->key, .v = {.ts = e->ts, .wid = e->wid, .size = e->size}};
    }
    /* In key order, not the table's: a table fed keys in the order of their
     * hash fills one end first and probes for ever (store.c places a key by
     * its hash's high bits). */
    qsort(out, n, sizeof *out, cmp_ae_key);
    *n_out = n;
    return out;
}

/* A bit set of leaves. */
static uint8_t *leaf_marks(const kv_shared *k, const uint32_t *leaves, uint32_t n) {
    uint8_t *mark = sim_calloc(((size_t)1 << k->ae_depth) / 8 + 1, 1);
    for (uint32_t i = 0; i < n; i++)
        mark[leaves[i] >> 3] |= (uint8_t)(1u << (leaves[i] & 7));
    return mark;
}

/* Sends (key, digest) of this node's keys in the given leaves (all of the
 * range when leaves is NULL: full mode).  The leaf list travels too. */
static void send_keylist(sim_ctx *ctx, kv_node *nd, uint32_t dst, uint32_t range,
                         const uint32_t *leaves, uint32_t n_leaves) {
    kv_shared *k = shared_of(ctx);
    uint8_t *mark = leaves ? leaf_marks(k, leaves, n_leaves) : NULL;
    uint32_t n;
    kv_ae_key *keys = range_keys(k, nd, range, mark, &n);
    sim_free(mark);
    /* Body: the leaves, then (key, digest) pairs. */
    size_t len = n_leaves * sizeof(uint32_t) + (size_t)n * 2 * sizeof(uint64_t);
    char *body = sim_malloc(len + 1);
    if (n_leaves)
        memcpy(body, leaves, n_leaves * sizeof(uint32_t));
    char *p = body + n_leaves * sizeof(uint32_t);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t pair[2] = {keys[i].key,
                            kv_merkle_digest(keys[i].key, keys[i].v.ts, keys[i].v.wid)};
        memcpy(p, pair, sizeof pair);
        p += sizeof pair;
    }
    kv_ae_head h = {.range = range, .n = n_leaves, .n2 = n};
    ae_send(ctx, dst, KV_MSG_AE_KEYLIST, h, body, len,
            kv_merkle_keys_msg_bytes(n) + (uint64_t)n_leaves * KV_MERKLE_INDEX_BYTES);
    k->ae_keys_listed += n;
    sim_free(body);
    sim_free(keys);
}

/* Sends versions (with their values) and, in a first answer, the keys
 * wanted back.  level: 0 first answer, 1 final, 2 a stream. */
static void send_keys(sim_ctx *ctx, uint32_t dst, uint32_t range, uint32_t level,
                      const kv_ae_key *keys, uint32_t n, const uint32_t *want, uint32_t n_want) {
    kv_shared *k = shared_of(ctx);
    size_t len = (size_t)n * sizeof *keys + (size_t)n_want * sizeof *want;
    char *body = sim_malloc(len + 1);
    memcpy(body, keys, (size_t)n * sizeof *keys);
    if (n_want)
        memcpy(body + (size_t)n * sizeof *keys, want, (size_t)n_want * sizeof *want);
    uint64_t values = 0;
    for (uint32_t i = 0; i < n; i++)
        values += value_bytes_of(keys[i].v) +
                  (k->vclock ? kv_vc_wire_bytes(&k->vc, keys[i].v) : 0); /* clocks too */
    kv_ae_head h = {.range = range, .level = level, .n = n, .n2 = n_want};
    ae_send(ctx, dst, KV_MSG_AE_KEYS, h, body, len,
            kv_merkle_repair_msg_bytes(n, values) + (uint64_t)n_want * KV_MERKLE_KEY_BYTES);
    if (level == 2)
        k->stream_keys += n;
    else
        k->ae_keys_streamed += n;
    sim_free(body);
}

/* Sends the hashes of nodes idx[0..n) of a level of this node's tree. */
static void send_hashes(sim_ctx *ctx, kv_node *nd, uint32_t dst, uint32_t range, uint32_t level,
                        const uint32_t *idx, uint32_t n) {
    kv_shared *k = shared_of(ctx);
    size_t len = (size_t)n * (sizeof *idx + sizeof(uint64_t));
    char *body = sim_malloc(len + 1);
    uint64_t *hashes = sim_malloc(((size_t)n + 1) * sizeof *hashes);
    kv_merkle_hashes(&nd->trees[range], level, idx, n, hashes);
    memcpy(body, idx, (size_t)n * sizeof *idx);
    memcpy(body + (size_t)n * sizeof *idx, hashes, (size_t)n * sizeof *hashes);
    kv_ae_head h = {.range = range, .level = level, .n = n};
    ae_send(ctx, dst, KV_MSG_AE_HASHES, h, body, len, kv_merkle_hashes_msg_bytes(n));
    k->ae_hashes += n;
    sim_free(hashes);
    sim_free(body);
}

/* The replica of `range` this node compares with on its `turn`: the
 * others in turn, skipping those believed down.  UINT32_MAX if this node is
 * not a replica of the range or no other is up. */
static uint32_t ae_peer(sim_ctx *ctx, kv_node *nd, uint32_t range, uint32_t turn) {
    kv_shared *k = shared_of(ctx);
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_range_preflist(&k->ring, range, pref), self = sim_self(ctx), me = n;
    for (uint32_t i = 0; i < n; i++)
        if (pref[i] == self)
            me = i;
    if (me == n || n < 2)
        return UINT32_MAX;
    for (uint32_t j = 0; j < n - 1; j++) {
        uint32_t peer = pref[(me + 1 + (turn + j) % (n - 1)) % n];
        if (believed_up(ctx, nd, peer))
            return peer;
    }
    return UINT32_MAX;
}

/* Every interval (plus jitter): compare the next range this node
 * replicates with one of its other replicas. */
static void ae_start(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    uint32_t ranges = kv_ring_range_count(&k->ring);
    for (uint32_t tries = 0; tries < ranges; tries++) {
        uint32_t range = nd->ae_next % ranges, turn = nd->ae_next / ranges;
        nd->ae_next++;
        uint32_t peer = ae_peer(ctx, nd, range, turn);
        if (peer == UINT32_MAX)
            continue;
        k->ae_exchanges++;
        if (k->ae_mode == KV_AE_FULL) {
            send_keylist(ctx, nd, peer, range, NULL, 0);
        } else {
            uint32_t root = 0;
            send_hashes(ctx, nd, peer, range, 0, &root, 1);
        }
        break;
    }
    sim_time jitter =
        k->ae_jitter > 0 ? (sim_time)(sim_rng_double(sim_node_rng(ctx)) * (double)k->ae_jitter) : 0;
    sim_timer_set(ctx, k->ae_interval + jitter, T_AE, 0);
}

/* Reads the head of an anti-entropy message; false if it is stale (sent
 * before a placement change: its range numbers mean other ranges now). */
static bool ae_head_fresh(sim_ctx *ctx, const sim_msg *msg, kv_ae_head *h) {
    SIM_ASSERT(msg->len >= sizeof *h);
    memcpy(h, msg->data, sizeof *h);
    return h->epoch == shared_of(ctx)->ring_epoch;
}

/* The same, and false too if this node keeps no tree for the range. */
static bool ae_head(sim_ctx *ctx, const kv_node *nd, const sim_msg *msg, kv_ae_head *h) {
    return ae_head_fresh(ctx, msg, h) && nd->trees && h->range < nd->n_trees;
}

/* A level's hashes from the peer: descend where they differ. */
static void on_ae_hashes(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = shared_of(ctx);
    kv_ae_head h;
    if (!ae_head(ctx, nd, msg, &h))
        return;
    uint32_t *idx = sim_malloc((2 * (size_t)h.n + 1) * sizeof *idx);
    uint64_t *hashes = sim_malloc(((size_t)h.n + 1) * sizeof *hashes);
    const char *p = (const char *)msg->data + sizeof h;
    memcpy(idx, p, (size_t)h.n * sizeof *idx);
    memcpy(hashes, p + (size_t)h.n * sizeof *idx, (size_t)h.n * sizeof *hashes);
    size_t d = kv_merkle_differ(&nd->trees[h.range], h.level, idx, hashes, h.n, idx);
    k->ae_levels++;
    if (d == 0) {
        if (h.level == 0)
            k->ae_in_sync++;
        ae_send(ctx, msg->src, KV_MSG_AE_IN_SYNC, (kv_ae_head){.range = h.range}, NULL, 0,
                KV_MERKLE_HEADER_BYTES);
    } else if (h.level == (uint32_t)k->ae_depth) {
        send_keylist(ctx, nd, msg->src, h.range, idx, (uint32_t)d);
    } else {
        kv_merkle_children(idx, d, idx);
        send_hashes(ctx, nd, msg->src, h.range, h.level + 1, idx, (uint32_t)(2 * d));
    }
    sim_free(idx);
    sim_free(hashes);
}

/* The peer's (key, digest) list for some leaves (or a whole range): answer
 * with our versions where they differ, and the keys we lack. */
static void on_ae_keylist(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = shared_of(ctx);
    kv_ae_head h;
    if (!ae_head(ctx, nd, msg, &h))
        return;
    const char *p = (const char *)msg->data + sizeof h;
    uint8_t *mark = NULL;
    if (h.n) {
        uint32_t *leaves = sim_malloc((size_t)h.n * sizeof *leaves);
        memcpy(leaves, p, (size_t)h.n * sizeof *leaves);
        mark = leaf_marks(k, leaves, h.n);
        sim_free(leaves);
    }
    p += (size_t)h.n * sizeof(uint32_t);
    /* Theirs, by key (the digest kept in ts). */
    kv_store theirs;
    kv_store_init(&theirs);
    for (uint32_t i = 0; i < h.n2; i++) {
        uint64_t pair[2];
        memcpy(pair, p + (size_t)i * sizeof pair, sizeof pair);
        kv_store_set(&theirs, (uint32_t)pair[0], (kv_version){.ts = (sim_time)pair[1], .wid = 1});
    }
    uint32_t n_mine;
    kv_ae_key *mine = range_keys(k, nd, h.range, mark, &n_mine);
    sim_free(mark);
    uint32_t n_send = 0;
    for (uint32_t i = 0; i < n_mine; i++) {
        kv_version t = kv_store_get(&theirs, mine[i].key);
        uint64_t dig = kv_merkle_digest(mine[i].key, mine[i].v.ts, mine[i].v.wid);
        if (t.wid == 0 || (uint64_t)t.ts != dig)
            mine[n_send++] = mine[i];
        if (t.wid != 0)
            kv_store_set(&theirs, mine[i].key, (kv_version){0}); /* seen */
    }
    /* What is left of theirs, we lack. */
    uint32_t n_want = 0, *want = sim_malloc((kv_store_count(&theirs) + 1) * sizeof *want);
    for (uint32_t i = 0; i < theirs.cap; i++)
        if (theirs.slots[i].key != UINT32_MAX)
            want[n_want++] = theirs.slots[i].key;
    kv_store_fini(&theirs);
    if (n_send || n_want)
        send_keys(ctx, msg->src, h.range, 0, mine, n_send, want, n_want);
    sim_free(mine);
    sim_free(want);
}

/* Versions from the peer: store the newer; in a first answer, send back
 * ours where ours is newer, and the keys asked for. */
static void on_ae_keys(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = shared_of(ctx);
    kv_ae_head h;
    if (!ae_head_fresh(ctx, msg, &h))
        return;
    const char *p = (const char *)msg->data + sizeof h;
    kv_ae_key *keys = sim_malloc(((size_t)h.n + h.n2 + 1) * sizeof *keys);
    memcpy(keys, p, (size_t)h.n * sizeof *keys);
    uint32_t n_back = 0;
    for (uint32_t i = 0; i < h.n; i++) {
        kv_ae_key in = keys[i];
        if (replica_store(ctx, nd, in.key, in.v)) {
            if (h.level == 2)
                k->stream_applied++;
            else
                k->ae_keys_repaired++;
        }
        kv_version mine = kv_store_get(&nd->store, in.key);
        if (h.level == 0 && !vcovers(k, in.v, mine))
            keys[n_back++] = (kv_ae_key){.key = in.key, .v = mine};
    }
    if (h.level == 2 && nd->streams_pending)
        nd->streams_pending--;
    if (h.level == 0) {
        for (uint32_t i = 0; i < h.n2; i++) {
            uint32_t key;
            memcpy(&key, p + (size_t)h.n * sizeof *keys + (size_t)i * sizeof key, sizeof key);
            kv_version mine = kv_store_get(&nd->store, key);
            if (mine.wid)
                keys[n_back++] = (kv_ae_key){.key = key, .v = mine};
        }
        if (n_back)
            send_keys(ctx, msg->src, h.range, 1, keys, n_back, NULL, 0);
    }
    sim_free(keys);
}

/* A replacement asks for everything this node holds of a range. */
static void on_stream_req(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    kv_shared *k = shared_of(ctx);
    kv_ae_head h;
    if (!ae_head_fresh(ctx, msg, &h))
        return;
    uint32_t n;
    kv_ae_key *keys = range_keys(k, nd, h.range, NULL, &n);
    send_keys(ctx, msg->src, h.range, 2, keys, n, NULL, 0);
    sim_free(keys);
}

/* A replacement that bootstraps by streaming asks one other replica of
 * every range it replicates for the whole range. */
static void bootstrap_stream(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    uint32_t ranges = kv_ring_range_count(&k->ring);
    for (uint32_t r = 0; r < ranges; r++) {
        uint32_t peer = ae_peer(ctx, nd, r, 0);
        if (peer == UINT32_MAX)
            continue;
        ae_send(ctx, peer, KV_MSG_STREAM_REQ, (kv_ae_head){.range = r}, NULL, 0,
                KV_MERKLE_HEADER_BYTES);
        nd->streams_pending++;
    }
}

/* ------------------------------------------------------------------------ */
/* Coordinator.                                                             */

/* Targets for a request: the first `count` of the key's preference list,
 * or for the PBS teaching mode (propagation none) `count` of its n
 * replicas chosen at random. */
static uint32_t choose_targets(sim_ctx *ctx, kv_shared *k, uint32_t key, uint32_t count,
                               uint32_t *out) {
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    if (k->propagation == KV_PROP_NONE) {
        sim_rng *rng = sim_node_rng(ctx);
        for (uint32_t i = 0; i < n && i < count; i++) {
            uint32_t j = i + sim_rng_below(rng, n - i);
            uint32_t t = pref[i];
            pref[i] = pref[j];
            pref[j] = t;
        }
    }
    if (count < n)
        n = count;
    memcpy(out, pref, n * sizeof *out);
    return n;
}

static void client_finish(sim_ctx *ctx, kv_node *nd, uint32_t creq, bool ok, kv_version v);

/* Sloppy quorum (Dynamo §4.6): the first `want` of the key's n home
 * replicas, each one believed down replaced by the next node along the ring
 * believed up, which will keep a hint for it.  Homes left without a
 * stand-in go to orphans (room for KV_MAX_N); returns the targets. */
static uint32_t sloppy_targets(sim_ctx *ctx, kv_node *nd, uint32_t key, uint32_t want,
                               kv_coord_req *q, uint32_t *orphans, uint32_t *n_orphans) {
    kv_shared *k = shared_of(ctx);
    uint32_t walk[KV_MAX_WALK];
    uint32_t total = kv_ring_walk(&k->ring, key, KV_MAX_WALK, walk);
    uint32_t home = total < (uint32_t)k->n ? total : (uint32_t)k->n;
    uint32_t next = home, got = 0;
    for (uint32_t i = 0; i < home && got < want; i++) {
        if (believed_up(ctx, nd, walk[i])) {
            q->hint_for[got] = 0;
            q->targets[got++] = walk[i];
            continue;
        }
        while (next < total && !believed_up(ctx, nd, walk[next]))
            next++;
        if (next < total) {
            q->hint_for[got] = walk[i] + 1;
            q->targets[got++] = walk[next++];
        } else {
            orphans[(*n_orphans)++] = walk[i];
        }
    }
    return got;
}

/* Answers the client: by message, or directly when the client coordinates
 * its own request. */
static void reply_client(sim_ctx *ctx, kv_node *nd, kv_coord_req *q, bool ok) {
    q->done = 1;
    if (q->client == sim_self(ctx)) {
        client_finish(ctx, nd, q->creq, ok, q->v);
        return;
    }
    kv_msg m = {.key = q->key, .req = q->creq, .ok = ok, .v = q->v};
    bool get = q->kind == KV_OP_GET;
    send_msg(ctx, q->client, get ? KV_MSG_CLIENT_GET_REPLY : KV_MSG_CLIENT_PUT_REPLY, &m,
             get && ok);
}

/* free -> waiting: sends the request to its targets. */
static void coord_start(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key, kv_version v,
                        uint32_t vctx, uint32_t client, uint32_t creq) {
    kv_shared *k = shared_of(ctx);
    uint32_t h;
    kv_coord_req *q = req_new(nd, &h);
    q->kind = (uint8_t)kind;
    q->key = key;
    q->client = client;
    q->creq = creq;
    nd->coordinated++;
    uint32_t want =
        kind == KV_OP_PUT
            ? (k->propagation == KV_PROP_NONE ? (uint32_t)k->w : (uint32_t)k->n)
            : (k->read_targets == KV_READ_ALL && k->propagation == KV_PROP_ALL ? (uint32_t)k->n
                                                                               : (uint32_t)k->r);
    q->n_need = (uint8_t)(kind == KV_OP_PUT ? k->w : k->r);
    if (kind == KV_OP_PUT) {
        /* Last-write-wins stamps the coordinator's own clock. */
        q->v = v;
        q->v.ts = sim_local_time(ctx);
        if (k->vclock) /* a clock instead of a timestamp; the client is the actor */
            q->v = kv_vc_stamp(&k->vc, v.wid, v.size, client, (kv_version){.wid = vctx});
    }
    if (k->quorum == KV_QUORUM_SLOPPY) {
        uint32_t orphans[KV_MAX_N], n_orphans = 0;
        q->n_targets = (uint8_t)sloppy_targets(ctx, nd, key, want, q, orphans, &n_orphans);
        /* No stand-in is up for these: the coordinator keeps their hints. */
        if (kind == KV_OP_PUT && !nd->is_client)
            for (uint32_t i = 0; i < n_orphans; i++)
                hint_store(ctx, nd, orphans[i], key, q->v);
    } else {
        uint32_t n = choose_targets(ctx, k, key, want, q->targets);
        if (kind == KV_OP_PUT && k->hints_on && !nd->is_client) {
            /* Strict quorum with hints (as Cassandra): a target believed
             * down gets a hint kept here instead; it cannot count for W. */
            uint32_t kept = 0;
            for (uint32_t i = 0; i < n; i++) {
                if (believed_up(ctx, nd, q->targets[i]))
                    q->targets[kept++] = q->targets[i];
                else
                    hint_store(ctx, nd, q->targets[i], key, q->v);
            }
            n = kept;
        }
        q->n_targets = (uint8_t)n;
    }
    if (q->n_targets < q->n_need) {
        /* Fewer members (or members believed up) than the quorum: fail at
         * once. */
        reply_client(ctx, nd, q, false);
        req_release(nd, q);
        return;
    }
    if (kind == KV_OP_GET && k->rr_mode != KV_RR_OFF)
        q->rr = k->rr_chance >= 1 || sim_rng_double(sim_node_rng(ctx)) < k->rr_chance;
    kv_msg m = {.key = key, .req = h, .v = q->v};
    for (uint32_t i = 0; i < q->n_targets; i++) {
        if (kind == KV_OP_PUT) {
            m.hint = q->hint_for[i];
        } else {
            /* Digest reads: the first target sends the value, the others
             * the version's digest. */
            m.ok = k->digest_reads && i > 0 ? KV_GET_DIGEST : 0;
        }
        send_msg(ctx, q->targets[i], kind == KV_OP_PUT ? KV_MSG_PUT : KV_MSG_GET, &m,
                 kind == KV_OP_PUT);
    }
    q->timer = sim_timer_set(ctx, k->request_timeout, T_COORD_TIMEOUT, h);
}

static int target_index(const kv_coord_req *q, uint32_t node) {
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->targets[i] == node)
            return (int)i;
    return -1;
}

static bool same_version(kv_version a, kv_version b) { return a.wid == b.wid && a.ts == b.ts; }

/* Read repair: sends the newest version to every target that answered with
 * an older one (or none).  Returns the bit set of targets repaired. */
static uint16_t send_repairs(sim_ctx *ctx, kv_node *nd, kv_coord_req *q, uint32_t h) {
    kv_shared *k = shared_of(ctx);
    (void)nd;
    uint16_t sent = 0;
    if (q->v.wid == 0)
        return 0;
    kv_msg m = {.key = q->key, .req = h, .v = q->v};
    for (uint32_t i = 0; i < q->n_targets; i++)
        if ((q->replied & (1u << i)) && !same_version(q->got[i], q->v)) {
            send_msg(ctx, q->targets[i], KV_MSG_REPAIR, &m, true);
            sent |= (uint16_t)(1u << i);
            if (sim_tracing(ctx)) {
                char a[64], b[64];
                sim_log(ctx, "read repair: sends %s of key %u to %s, which had %s",
                        vlabel(k, q->v, a, sizeof a), q->key, sim_node_name(k->sim, q->targets[i]),
                        vlabel(k, q->got[i], b, sizeof b));
            }
            k->rr_repairs++;
        }
    if (sent)
        k->rr_reads++;
    return sent;
}

/* The handle of a request (for messages about it sent after its start). */
static uint32_t req_handle(const kv_node *nd, const kv_coord_req *q) {
    uint32_t i = (uint32_t)(q - (const kv_coord_req *)nd->reqs.items);
    return i | ((q->slot.gen & GEN_MASK) << SLOT_BITS);
}

/* The trace's narration of a write's commit: who acknowledged it. */
static void narrate_commit(sim_ctx *ctx, const kv_coord_req *q) {
    kv_shared *k = shared_of(ctx);
    if (!sim_tracing(ctx))
        return;
    char line[400], vb[64];
    size_t at = 0;
    addf(line, sizeof line, &at, "write %s of key %u committed: acks from",
         vlabel(k, q->v, vb, sizeof vb), q->key);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->replied & (1u << i))
            addf(line, sizeof line, &at, " %s", sim_node_name(k->sim, q->targets[i]));
    addf(line, sizeof line, &at, " (W=%lld); not yet", (long long)k->w);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (!(q->replied & (1u << i)))
            addf(line, sizeof line, &at, " %s", sim_node_name(k->sim, q->targets[i]));
    sim_log(ctx, "%s", line);
}

/* The trace's narration of a read's answer: who replied with what (the
 * heart of explaining a stale read). */
static void narrate_read(sim_ctx *ctx, const kv_coord_req *q) {
    kv_shared *k = shared_of(ctx);
    if (!sim_tracing(ctx))
        return;
    char line[400], vb[64];
    size_t at = 0;
    addf(line, sizeof line, &at, "read of key %u: replies", q->key);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->replied & (1u << i))
            addf(line, sizeof line, &at, " %s=%s", sim_node_name(k->sim, q->targets[i]),
                 vlabel(k, q->got[i], vb, sizeof vb));
    addf(line, sizeof line, &at, "; answers %s", vlabel(k, q->v, vb, sizeof vb));
    sim_log(ctx, "%s", line);
}

/* Async read repair's end: every target answered, or the grace is over. */
static void rr_finish(sim_ctx *ctx, kv_node *nd, kv_coord_req *q) {
    send_repairs(ctx, nd, q, req_handle(nd, q));
    req_release(nd, q);
}

/* A get has its R replies: answer, after fetching the value (digest reads)
 * or repairing the replicas that answered (blocking read repair). */
static void get_quorum(sim_ctx *ctx, kv_node *nd, kv_coord_req *q) {
    kv_shared *k = shared_of(ctx);
    uint32_t h = req_handle(nd, q);
    if (k->digest_reads && q->v.wid != 0 && q->waiting == 0) {
        /* Is the newest version among the values received? */
        int holder = -1;
        bool have_value = false;
        for (uint32_t i = 0; i < q->n_targets; i++)
            if ((q->replied & (1u << i)) && same_version(q->got[i], q->v)) {
                have_value |= (q->full >> i) & 1u;
                if (holder < 0)
                    holder = (int)i;
            }
        if (!have_value) {
            k->rr_digest_mismatch++;
            kv_msg m = {.key = q->key, .req = h, .ok = KV_GET_FETCH};
            send_msg(ctx, q->targets[holder], KV_MSG_GET, &m, false);
            q->waiting = 1;
            return;
        }
    }
    if (q->rr && k->rr_mode == KV_RR_BLOCKING && q->waiting != 2) {
        uint16_t sent = send_repairs(ctx, nd, q, h);
        if (sent) {
            q->pending = sent;
            q->waiting = 2;
            return;
        }
    }
    sim_timer_cancel(ctx, q->timer);
    narrate_read(ctx, q);
    reply_client(ctx, nd, q, true);
    if (q->rr && k->rr_mode == KV_RR_ASYNC) {
        /* Dynamo's read repair: wait a grace period for the other replies. */
        if (q->replied == (1u << q->n_targets) - 1)
            rr_finish(ctx, nd, q);
        else
            q->timer = sim_timer_set(ctx, k->rr_grace, T_RR_GRACE, h);
        return;
    }
    req_release(nd, q);
}

/* A put ack or a get reply from a replica: waiting -> done at W or R. */
static void on_replica_answer(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = shared_of(ctx);
    kv_coord_req *q = req_find(nd, m->req);
    if (!q)
        return; /* finished: a late answer */
    int i = target_index(q, msg->src);
    if (i < 0)
        return; /* not a target */
    if (msg->type == KV_MSG_GET_REPLY && (m->hint & KV_GET_FETCH)) {
        /* The value, fetched after the digests disagreed. */
        if (q->waiting != 1)
            return;
        q->v = vmerge(k, q->v, m->v);
        q->full |= (uint16_t)(1u << i);
        q->waiting = 0;
        get_quorum(ctx, nd, q);
        return;
    }
    if (q->replied & (1u << i))
        return; /* a duplicate */
    q->replied |= (uint16_t)(1u << i);
    if (q->kind == KV_OP_GET) {
        q->got[i] = m->v;
        if (!(m->hint & KV_GET_DIGEST))
            q->full |= (uint16_t)(1u << i);
    }
    if (q->done) {
        /* Async read repair collecting the remaining replies, or a put
         * waiting for its last acks before hinting the silent targets. */
        if (q->replied == (1u << q->n_targets) - 1) {
            sim_timer_cancel(ctx, q->timer);
            if (q->kind == KV_OP_GET)
                rr_finish(ctx, nd, q);
            else
                req_release(nd, q);
        }
        return;
    }
    if (q->waiting)
        return; /* answered later, by the fetch or the repair acks */
    q->n_acks++;
    if (q->kind == KV_OP_GET)
        q->v = vmerge(k, q->v, m->v);
    if (q->n_acks < q->n_need)
        return;
    if (q->kind == KV_OP_GET) {
        get_quorum(ctx, nd, q);
        return;
    }
    if (k->vclock)
        kv_oracle_write_commit_vc(&k->oracle, &k->vc, q->v, sim_now(ctx));
    else
        kv_oracle_write_commit(&k->oracle, q->v, sim_now(ctx));
    narrate_commit(ctx, q);
    reply_client(ctx, nd, q, true);
    if (k->hints_on && !nd->is_client && q->replied != (1u << q->n_targets) - 1)
        return; /* the timeout hints the targets that stay silent */
    sim_timer_cancel(ctx, q->timer);
    req_release(nd, q);
}

/* Blocking read repair: a stale replica stored the newest version. */
static void on_repair_ack(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_coord_req *q = req_find(nd, m->req);
    if (!q || q->waiting != 2)
        return;
    int i = target_index(q, msg->src);
    if (i < 0 || !(q->pending & (1u << i)))
        return;
    q->pending &= (uint16_t) ~(1u << i);
    if (q->pending)
        return;
    sim_timer_cancel(ctx, q->timer);
    reply_client(ctx, nd, q, true);
    req_release(nd, q);
}

static void on_coord_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_coord_req *q = req_find(nd, h);
    if (!q)
        return;
    /* Targets that never answered are suspected (failure detector); a put's
     * silent targets get a hint kept here (as Cassandra does), whether the
     * write committed or not, so the write still reaches every replica. */
    kv_shared *k = shared_of(ctx);
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (!(q->replied & (1u << i))) {
            suspect(ctx, nd, q->targets[i]);
            if (q->kind == KV_OP_PUT && k->hints_on && !nd->is_client) {
                uint32_t home = q->hint_for[i] ? q->hint_for[i] - 1 : q->targets[i];
                if (home != sim_self(ctx))
                    hint_store(ctx, nd, home, q->key, q->v);
                else
                    replica_store(ctx, nd, q->key, q->v);
            }
        }
    if (!q->done)
        reply_client(ctx, nd, q, false);
    req_release(nd, q);
}

static void on_rr_grace(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_coord_req *q = req_find(nd, h);
    if (q && q->done)
        rr_finish(ctx, nd, q);
}

/* ------------------------------------------------------------------------ */
/* Replica.                                                                 */

static void on_put(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    if (m->hint)
        hint_store(ctx, nd, m->hint - 1, m->key, m->v); /* a stand-in */
    else
        replica_store(ctx, nd, m->key, m->v);
    nd->ops_served++;
    kv_msg a = {.key = m->key, .req = m->req, .ok = 1};
    send_msg(ctx, msg->src, KV_MSG_PUT_ACK, &a, false);
}

/* A hint handed over, or a read repair: stored like a put. */
static void on_handover(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = shared_of(ctx);
    bool stored = replica_store(ctx, nd, m->key, m->v);
    if (msg->type == KV_MSG_REPAIR)
        k->rr_applied += stored;
    kv_msg a = {.key = m->key, .req = m->req, .ok = 1};
    send_msg(ctx, msg->src, msg->type == KV_MSG_HINT ? KV_MSG_HINT_ACK : KV_MSG_REPAIR_ACK, &a,
             false);
}

static void on_get(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = shared_of(ctx);
    nd->ops_served++;
    kv_msg r = {.key = m->key,
                .req = m->req,
                .ok = 1,
                .hint = m->ok,
                .v = kv_store_get(&nd->store, m->key)};
    if (kv_store_count(&nd->hinted)) {
        /* A stand-in answers with what it holds for others too. */
        r.v = vmerge(k, r.v, kv_store_get(&nd->hinted, m->key));
    }
    if (m->ok & KV_GET_DIGEST) {
        /* A digest: 8 bytes instead of the value. */
        sim_send(ctx, msg->src, KV_MSG_GET_REPLY, &r, sizeof r, wire(k, false, 0) + 8);
        return;
    }
    send_msg(ctx, msg->src, KV_MSG_GET_REPLY, &r, r.v.wid != 0);
}

/* ------------------------------------------------------------------------ */
/* Client.                                                                  */

/* The coordinator for key: the client itself, or a replica of the key (the
 * first, or one at random); with a failure detector, among the replicas
 * the client believes up, if any. */
static uint32_t coordinator_for(sim_ctx *ctx, kv_node *nd, kv_shared *k, uint32_t key) {
    if (k->coordinator == KV_COORD_CLIENT)
        return sim_self(ctx);
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    SIM_ASSERT(n > 0);
    if (nd->last_heard) {
        uint32_t up = 0;
        for (uint32_t i = 0; i < n; i++)
            if (believed_up(ctx, nd, pref[i]))
                pref[up++] = pref[i];
        if (up > 0) {
            n = up;
        } else if (k->quorum == KV_QUORUM_SLOPPY) {
            /* Every replica is believed down: any node along the ring can
             * coordinate a sloppy quorum (its stand-ins keep the hints). */
            uint32_t walk[KV_MAX_WALK];
            uint32_t total = kv_ring_walk(&k->ring, key, KV_MAX_WALK, walk);
            for (uint32_t i = n; i < total; i++)
                if (believed_up(ctx, nd, walk[i]))
                    return walk[i];
            n = kv_ring_preflist(&k->ring, key, pref);
        } else {
            n = kv_ring_preflist(&k->ring, key, pref); /* try them all the same */
        }
    }
    if (k->coordinator == KV_COORD_RANDOM)
        return pref[sim_rng_below(sim_node_rng(ctx), n)];
    return pref[0];
}

/* Issues one operation; returns its handle. */
static uint32_t client_issue(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key,
                             uint16_t probe_t, bool probe, bool del) {
    kv_shared *k = shared_of(ctx);
    sim *s = sim_of(ctx);
    uint32_t h;
    kv_client_op *op = op_new(nd, &h);
    op->kind = (uint8_t)kind;
    op->key = key;
    op->start = sim_now(ctx);
    op->probe = probe;
    op->probe_t = probe_t;
    nd->in_flight++;
    sim_gauge_set(s, k->g_in_flight, (double)++k->ops_in_flight);
    kv_version v = {0}, vctx = {0};
    if (kind == KV_OP_PUT) {
        if (k->vclock) {
            /* The context: what this client read of the key, and its own
             * last write; the write replaces every sibling in it. */
            vctx = vmerge(k, kv_store_get(&nd->seen, key), kv_store_get(&nd->mine, key));
            k->writes_merging_siblings += kv_vc_count(&k->vc, vctx) > 1;
        }
        op->wid = kv_oracle_write_start(&k->oracle, key, op->start);
        v.wid = op->wid;
        if (del) {
            v.size = KV_TOMBSTONE;
            k->deletes++;
        } else {
            double size = sim_dist_sample(&k->value_bytes, sim_node_rng(ctx));
            v.size = size >= 4e9 ? KV_TOMBSTONE - 1 : (uint32_t)llround(size);
        }
        sim_count(s, k->c_writes, 1);
    } else {
        kv_oracle_read_start(&k->oracle, key, op);
        k->oracle.reads_started++;
        op->seen_floor = kv_store_get(&nd->seen, key);
        op->own_floor = kv_store_get(&nd->mine, key);
        sim_count(s, k->c_reads, 1);
    }
    op->timer = sim_timer_set(ctx, k->request_timeout, T_CLIENT_TIMEOUT, h);
    uint32_t coord = coordinator_for(ctx, nd, k, key);
    op->coord = coord;
    if (coord == sim_self(ctx)) {
        coord_start(ctx, nd, kind, key, v, vctx.wid, sim_self(ctx), h);
    } else {
        kv_msg m = {.key = key, .req = h, .hint = vctx.wid, .v = v};
        send_msg(ctx, coord, kind == KV_OP_PUT ? KV_MSG_CLIENT_PUT : KV_MSG_CLIENT_GET, &m,
                 kind == KV_OP_PUT);
    }
    return h;
}

static void schedule_next(sim_ctx *ctx, kv_node *nd);

/* Session guarantees, in the store's own version order: a read must not
 * return a version older than one this client read before (monotonic
 * reads) or older than its own last acknowledged write (read your writes). */
static void check_session(sim_ctx *ctx, kv_node *nd, const kv_client_op *op, kv_version v) {
    kv_shared *k = shared_of(ctx);
    /* Only what the client knew when the read started counts: an open-loop
     * client may have a write and a read of the same key in flight at once. */
    if (!vcovers(k, v, op->seen_floor))
        k->oracle.mr_violations++;
    if (!vcovers(k, v, op->own_floor))
        k->oracle.ryw_violations++;
    if (v.wid != 0)
        session_put(k, &nd->seen, op->key, v);
}

/* issued -> replied: records the outcome of an operation. */
static void client_finish(sim_ctx *ctx, kv_node *nd, uint32_t h, bool ok, kv_version v) {
    kv_shared *k = shared_of(ctx);
    sim *s = sim_of(ctx);
    kv_client_op *op = op_find(nd, h);
    if (!op)
        return; /* timed out already */
    sim_timer_cancel(ctx, op->timer);
    sim_time now = sim_now(ctx);
    kv_oracle *o = &k->oracle;
    bool probe_write = false;
    if (op->kind == KV_OP_PUT) {
        if (ok) {
            o->writes_ok++;
            sim_record(s, k->h_write, now - op->start);
            /* The reply carries the version as stamped by the coordinator. */
            session_put(k, &nd->mine, op->key, v);
            probe_write = k->wl_mode == KV_WL_PROBE;
        } else {
            o->writes_failed++;
            sim_count(s, k->c_failed, 1);
        }
    } else if (ok) {
        o->reads_ok++;
        sim_record(s, k->h_read, now - op->start);
        sim_time t;
        /* "Not found" when the newest acknowledged write was a delete is
         * that delete, its tombstone purged: judge it as the delete. */
        if (v.wid == 0 && only_deletes(k, op->snap))
            v = op->snap;
        uint32_t stale_k = k->vclock ? kv_oracle_read_judge_vc(o, &k->vc, op, v, &t)
                                     : kv_oracle_read_judge(o, op, v, &t);
        if (k->vclock && v.wid) {
            int64_t sib = kv_vc_count(&k->vc, v);
            k->sibling_max = sib > k->sibling_max ? sib : k->sibling_max;
            k->sibling_hist[sib <= 7 ? sib : 8]++;
        }
        if (sim_tracing(ctx)) {
            char a[64], b[64];
            if (stale_k)
                sim_log(ctx,
                        "STALE read of key %u: got %s, but %s was the newest acknowledged write "
                        "when the read started (committed %.3f ms before it; k = %u newer "
                        "acknowledged writes missed)",
                        op->key, vlabel(k, v, a, sizeof a), vlabel(k, op->snap, b, sizeof b),
                        (double)(op->start - op->snap_commit) / 1e6, stale_k);
            else
                sim_log(ctx, "read of key %u: got %s, the newest acknowledged (fresh)", op->key,
                        vlabel(k, v, a, sizeof a));
        }
        if (stale_k) {
            o->stale++;
            o->k_hist[stale_k <= 10 ? stale_k : 0]++;
            sim_count(s, k->c_stale, 1);
            sim_record(s, k->h_k, stale_k);
        }
        if (t >= 0 && o->n_t) {
            uint32_t b = 0;
            while (b + 1 < o->n_t && t >= o->t_edges[b + 1])
                b++;
            o->t_reads[b]++;
            o->t_fresh[b] += stale_k == 0;
        }
        if (op->probe) {
            o->probe_reads[op->probe_t]++;
            o->probe_fresh[op->probe_t] += stale_k == 0;
        }
        check_session(ctx, nd, op, v);
    } else {
        o->reads_failed++;
        sim_count(s, k->c_failed, 1);
    }
    nd->in_flight--;
    sim_gauge_set(s, k->g_in_flight, (double)--k->ops_in_flight);
    bool was_probe = op->probe;
    uint32_t key = op->key;
    uint16_t pt = op->probe_t;
    op_release(nd, op);
    if (k->wl_mode == KV_WL_PROBE) {
        if (probe_write) {
            /* Wait exactly t after the acknowledgement, then read. */
            uint64_t arg = (uint64_t)key | ((uint64_t)pt << 32);
            sim_timer_set(ctx, k->probe_t[pt], T_PROBE_READ, arg);
        } else if (was_probe || !ok) {
            sim_timer_set(ctx, k->probe_gap, T_PROBE_NEXT, 0);
        }
    } else if (k->wl_mode == KV_WL_CLOSED) {
        schedule_next(ctx, nd);
    }
}

static void on_client_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_shared *k = shared_of(ctx);
    kv_client_op *op = op_find(nd, h);
    if (!op)
        return;
    if (op->coord != sim_self(ctx))
        suspect(ctx, nd, op->coord); /* cleared when it is heard from */
    sim_count(sim_of(ctx), k->c_timeouts, 1);
    client_finish(ctx, nd, h, false, (kv_version){0});
}

static void issue_random_op(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    sim_rng *rng = sim_node_rng(ctx);
    bool write = sim_rng_double(rng) >= k->read_fraction;
    uint32_t key = (uint32_t)kv_keys_next(&k->keys, rng, write);
    bool del = write && k->delete_fraction > 0 && sim_rng_double(rng) < k->delete_fraction;
    client_issue(ctx, nd, write ? KV_OP_PUT : KV_OP_GET, key, 0, false, del);
}

static void probe_next(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    if (sim_now(ctx) > k->wl_stop)
        return;
    /* Each client probes the keys of its own range, one fresh key each. */
    uint64_t per = (uint64_t)k->n_keys / (uint64_t)k->n_clients;
    uint32_t key = (uint32_t)((uint64_t)nd->index * per + nd->probe_next % per);
    nd->probe_next++;
    uint16_t t = (uint16_t)(nd->probe_t % k->n_probe_t);
    nd->probe_t++;
    client_issue(ctx, nd, KV_OP_PUT, key, t, false, false);
}

/* The next operation of an open- or closed-loop client. */
static void schedule_next(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    (void)nd;
    sim_time now = sim_now(ctx);
    const sim_dist *d = k->wl_mode == KV_WL_OPEN ? &k->interarrival : &k->think_time;
    sim_time delay = sim_dist_sample_time(d, sim_node_rng(ctx));
    if (delay > k->wl_stop - now)
        return;
    sim_timer_set(ctx, delay, k->wl_mode == KV_WL_OPEN ? T_ARRIVAL : T_THINK, 0);
}

static void start_workload(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    sim_time now = sim_now(ctx);
    if (now > k->wl_stop)
        return;
    sim_time start = k->wl_start > now ? k->wl_start - now : 0;
    if (k->wl_mode == KV_WL_PROBE) {
        sim_timer_set(ctx, start, T_PROBE_NEXT, 0);
    } else if (k->wl_mode == KV_WL_OPEN) {
        sim_time delay = sim_dist_sample_time(&k->interarrival, sim_node_rng(ctx));
        if (start + delay <= k->wl_stop - now)
            sim_timer_set(ctx, start + delay, T_ARRIVAL, 0);
    } else {
        sim_timer_set(ctx, start, T_THINK, 0);
    }
    (void)nd;
}

/* ------------------------------------------------------------------------ */
/* Hooks.                                                                   */

/* Heartbeats (first at a random phase, so servers do not beat in step) and
 * hint replay.  A recovering or new node announces itself at once. */
static void start_server_timers(sim_ctx *ctx, kv_node *nd, bool announce) {
    kv_shared *k = shared_of(ctx);
    (void)nd;
    if (k->fd_on) {
        if (announce)
            send_heartbeats(ctx);
        sim_time phase =
            (sim_time)sim_rng_below(sim_node_rng(ctx), (uint32_t)(k->hb_interval / SIM_US)) *
            SIM_US;
        sim_timer_set(ctx, phase + 1, T_HEARTBEAT, 0);
    }
    if (k->hints_on)
        sim_timer_set(ctx, k->replay_interval, T_HINT_REPLAY, 0);
    if (k->delete_fraction > 0)
        sim_timer_set(ctx, k->compaction_interval, T_COMPACT, 0);
    if (k->ae_mode != KV_AE_OFF) {
        sim_time phase = (sim_time)(sim_rng_double(sim_node_rng(ctx)) * (double)k->ae_interval);
        sim_timer_set(ctx, phase + 1, T_AE, 0);
    }
}

static void kv_node_init(sim_ctx *ctx, void *node) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    uint32_t self = sim_self(ctx);
    nd->reqs.free = nd->ops.free = nd->hints.free = UINT32_MAX;
    kv_store_init(&nd->store);
    kv_store_init(&nd->seen);
    kv_store_init(&nd->mine);
    kv_store_init(&nd->hinted);
    bool server = self < k->first_client;
    if (k->fd_on) {
        /* Everyone presumed up until silent for the suspicion timeout (a
         * replacement starts after time 0). */
        nd->last_heard = sim_calloc(k->n_servers, sizeof *nd->last_heard);
        for (uint32_t i = 0; i < k->n_servers; i++)
            nd->last_heard[i] = sim_now(ctx);
    }
    if (!server) {
        nd->is_client = true;
        nd->index = self - k->first_client;
        start_workload(ctx, nd);
        return;
    }
    nd->index = self;
    if (k->durable && k->sync_interval > 0)
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
    if (k->ae_mode != KV_AE_OFF)
        trees_rebuild(k, nd);
    bool replacement = sim_node_incarnation(k->sim, self) > 0;
    start_server_timers(ctx, nd, replacement);
    if (replacement && k->bootstrap == KV_BOOT_STREAMING)
        bootstrap_stream(ctx, nd);
}

/* Anti-entropy messages: a head and arrays of their own. */
static void on_ae_message(sim_ctx *ctx, kv_node *nd, const sim_msg *msg) {
    switch (msg->type) {
    case KV_MSG_AE_HASHES:
        on_ae_hashes(ctx, nd, msg);
        break;
    case KV_MSG_AE_KEYLIST:
        on_ae_keylist(ctx, nd, msg);
        break;
    case KV_MSG_AE_KEYS:
        on_ae_keys(ctx, nd, msg);
        break;
    case KV_MSG_AE_IN_SYNC:
        break;
    case KV_MSG_STREAM_REQ:
        on_stream_req(ctx, nd, msg);
        break;
    default:
        SIM_ASSERT(0);
    }
}

static void kv_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    kv_node *nd = node;
    if (nd->last_heard)
        heard_from(ctx, nd, msg->src);
    if (msg->type >= KV_MSG_AE_HASHES) {
        on_ae_message(ctx, nd, msg);
        return;
    }
    kv_msg m;
    SIM_ASSERT(msg->len == sizeof m);
    memcpy(&m, msg->data, sizeof m);
    switch (msg->type) {
    case KV_MSG_CLIENT_PUT:
        coord_start(ctx, nd, KV_OP_PUT, m.key, m.v, m.hint, msg->src, m.req);
        break;
    case KV_MSG_CLIENT_GET:
        coord_start(ctx, nd, KV_OP_GET, m.key, m.v, 0, msg->src, m.req);
        break;
    case KV_MSG_CLIENT_PUT_REPLY:
    case KV_MSG_CLIENT_GET_REPLY:
        client_finish(ctx, nd, m.req, m.ok != 0, m.v);
        break;
    case KV_MSG_PUT:
        on_put(ctx, nd, msg, &m);
        break;
    case KV_MSG_GET:
        on_get(ctx, nd, msg, &m);
        break;
    case KV_MSG_PUT_ACK:
    case KV_MSG_GET_REPLY:
        on_replica_answer(ctx, nd, msg, &m);
        break;
    case KV_MSG_HEARTBEAT:
        break; /* heard_from did it */
    case KV_MSG_HINT:
    case KV_MSG_REPAIR:
        on_handover(ctx, nd, msg, &m);
        break;
    case KV_MSG_HINT_ACK:
        on_hint_ack(ctx, nd, &m);
        break;
    case KV_MSG_REPAIR_ACK:
        on_repair_ack(ctx, nd, msg, &m);
        break;
    default:
        SIM_ASSERT(0);
    }
}

static void kv_on_timer(sim_ctx *ctx, void *node, uint32_t kind, uint64_t arg) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    switch (kind) {
    case T_ARRIVAL:
        issue_random_op(ctx, nd);
        schedule_next(ctx, nd);
        break;
    case T_THINK:
        issue_random_op(ctx, nd);
        break;
    case T_CLIENT_TIMEOUT:
        on_client_timeout(ctx, nd, (uint32_t)arg);
        break;
    case T_COORD_TIMEOUT:
        on_coord_timeout(ctx, nd, (uint32_t)arg);
        break;
    case T_SYNC:
        nd->n_undo = 0; /* everything written so far is on disk */
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
        break;
    case T_PROBE_READ:
        client_issue(ctx, nd, KV_OP_GET, (uint32_t)arg, (uint16_t)(arg >> 32), true, false);
        break;
    case T_PROBE_NEXT:
        probe_next(ctx, nd);
        break;
    case T_HEARTBEAT:
        send_heartbeats(ctx);
        sim_timer_set(ctx, k->hb_interval, T_HEARTBEAT, 0);
        break;
    case T_HINT_REPLAY:
        hint_replay(ctx, nd);
        break;
    case T_RR_GRACE:
        on_rr_grace(ctx, nd, (uint32_t)arg);
        break;
    case T_COMPACT:
        compact(ctx, nd);
        break;
    case T_AE:
        ae_start(ctx, nd);
        break;
    default:
        SIM_ASSERT(0);
    }
}

static void kv_on_crash(sim_ctx *ctx, void *node) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    /* Requests this node coordinated are gone; their clients time out. */
    kv_coord_req *reqs = nd->reqs.items;
    for (uint32_t i = 0; i < nd->reqs.n; i++)
        if (reqs[i].slot.used)
            req_release(nd, &reqs[i]);
    if (nd->is_client) {
        /* The client's operations in flight fail with it. */
        kv_client_op *ops = nd->ops.items;
        for (uint32_t i = 0; i < nd->ops.n; i++)
            if (ops[i].slot.used) {
                kv_client_op *op = &ops[i];
                if (op->kind == KV_OP_PUT)
                    k->oracle.writes_failed++;
                else
                    k->oracle.reads_failed++;
                sim_count(sim_of(ctx), k->c_failed, 1);
                nd->in_flight--;
                sim_gauge_set(sim_of(ctx), k->g_in_flight, (double)--k->ops_in_flight);
                op_release(nd, op);
            }
        return;
    }
    sim_time now = sim_now(ctx);
    if (!k->durable) {
        /* Memory is gone: the store, and the hints held for others. */
        hints_clear(k, nd);
        uint32_t n = 0, *keys = sim_malloc((kv_store_count(&nd->store) + 1) * sizeof *keys);
        for (uint32_t i = 0; i < nd->store.cap; i++)
            if (nd->store.slots[i].key != UINT32_MAX)
                keys[n++] = nd->store.slots[i].key;
        kv_store_clear(&nd->store);
        nd->n_tombs = 0;
        if (nd->trees)
            trees_rebuild(k, nd);
        for (uint32_t i = 0; i < n; i++)
            div_check(k, keys[i], now);
        sim_free(keys);
    } else {
        /* Writes since the last sync were only in memory: undo them. */
        for (uint32_t i = nd->n_undo; i-- > 0;) {
            kv_version cur = kv_store_get(&nd->store, nd->undo[i].key);
            kv_store_set(&nd->store, nd->undo[i].key, nd->undo[i].old);
            tree_update(k, nd, nd->undo[i].key, cur, nd->undo[i].old);
            div_check(k, nd->undo[i].key, now);
        }
    }
    nd->n_undo = 0;
}

static void kv_on_recover(sim_ctx *ctx, void *node) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    if (nd->last_heard) {
        /* Beliefs from before the crash are stale: start afresh, everyone
         * presumed up until silent for the suspicion timeout. */
        sim_time now = sim_now(ctx);
        for (uint32_t i = 0; i < k->n_servers; i++)
            nd->last_heard[i] = now;
    }
    if (nd->is_client) {
        start_workload(ctx, nd);
        return;
    }
    if (k->durable && k->sync_interval > 0)
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
    start_server_timers(ctx, nd, true);
}

/* The oracle starts watching a replacement (the last one, if several): the
 * keys it replicates that have an acknowledged version it lacks. */
static void boot_start(kv_shared *k, uint32_t node, sim_time now) {
    if (!k->boot_missing) {
        k->boot_missing = sim_calloc((size_t)k->n_keys, 1);
    } else {
        memset(k->boot_missing, 0, (size_t)k->n_keys);
    }
    const kv_node *nd = node_at(k, node);
    int64_t missing = 0;
    for (uint64_t key = 0; key < (uint64_t)k->n_keys; key++) {
        kv_version newest = k->oracle.keys[key].newest;
        if (newest.wid == 0)
            continue;
        uint32_t pref[KV_MAX_N];
        uint32_t n = kv_ring_preflist(&k->ring, key, pref);
        bool mine = false;
        for (uint32_t i = 0; i < n; i++)
            mine |= pref[i] == node;
        if (mine && !vcovers(k, kv_store_get(&nd->store, (uint32_t)key), newest)) {
            k->boot_missing[key] = 1;
            missing++;
        }
    }
    k->boot_node = node;
    k->boot_at = now;
    k->boot_missing_start = k->boot_missing_now = missing;
    k->boot_done_at = missing ? -1 : now;
    sim_gauge_set(k->sim, k->g_boot_missing, (double)missing);
}

/* Metrics' view of faults: when servers came back, and how long after each
 * fault ended (recover, replace, heal) the replicas took to agree again on
 * every key that was divergent then. */
static void kv_on_fault(sim *s, void *shared, const char *what, uint32_t node) {
    kv_shared *k = shared;
    sim_time now = sim_time_now(s);
    bool server = node < k->n_servers;
    bool recover = strcmp(what, "recover") == 0, replace = strcmp(what, "replace") == 0;
    if (!((server && (recover || replace)) || strcmp(what, "heal") == 0))
        return;
    if (server)
        k->up_since[node] = now;
    if (replace) {
        div_check_all(k, now); /* the new node is empty */
        boot_start(k, node, now);
    }
    if (k->n_fault_ends == KV_MAX_FAULT_ENDS) {
        k->fault_ends_dropped++;
        return;
    }
    struct kv_fault_end *f = &k->fault_ends[k->n_fault_ends++];
    f->at = now;
    f->node = server ? node : UINT32_MAX;
    f->what = recover ? "recover" : replace ? "replace" : "heal";
    f->divergent_then = f->pending = k->oracle.divergent;
    f->converged_at = f->pending == 0 ? now : -1;
    f->ae_at = k->ae_exchanges;
    f->ae_rounds = 0;
}

/* Membership change: placement moves at once (every node learns the new
 * ring immediately, as from a configuration service); data does not move
 * by itself (without repair, a joining node starts empty). */
static void kv_on_world_timer(sim *s, void *shared, uint32_t kind, uint64_t arg) {
    kv_shared *k = shared;
    (void)s;
    SIM_ASSERT(kind == W_MEMBERSHIP && arg < k->n_changes);
    const struct kv_member_change *ch = &k->changes[arg];
    if (ch->join == k->ring.active[ch->member])
        return; /* already so */
    if (!ch->join && k->ring.n_active <= 1)
        return;
    /* The moved fraction: keys whose first replica changes, counted over
     * up to 100000 keys spread over the key space. */
    uint64_t n = (uint64_t)k->n_keys, step = n > 100000 ? n / 100000 : 1, tried = 0, moved = 0;
    uint32_t *before = sim_malloc((size_t)((n + step - 1) / step) * sizeof *before);
    for (uint64_t key = 0; key < n; key += step) {
        uint32_t pref[KV_MAX_N];
        kv_ring_preflist(&k->ring, key, pref);
        before[tried++] = pref[0];
    }
    kv_ring_set_active(&k->ring, ch->member, ch->join, &k->ring_rng);
    uint64_t i = 0;
    for (uint64_t key = 0; key < n; key += step, i++) {
        uint32_t pref[KV_MAX_N];
        kv_ring_preflist(&k->ring, key, pref);
        moved += pref[0] != before[i];
    }
    sim_free(before);
    k->moved_fraction_last = tried ? (double)moved / (double)tried : 0;
    k->membership_changes++;
    k->ring_epoch++; /* ranges renumbered: exchanges in flight are void */
    if (k->ae_mode != KV_AE_OFF)
        for (uint32_t m = 0; m < k->n_servers; m++)
            trees_rebuild(k, node_at(k, m));
    div_check_all(k, sim_time_now(s)); /* replicas are judged on the new lists */
}

static void kv_node_fini(sim_ctx *ctx, void *node) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    hints_clear(k, nd); /* a replaced node's hints are gone with it */
    kv_store_fini(&nd->hinted);
    sim_free(nd->hints.items);
    sim_free(nd->last_heard);
    sim_free(nd->tombs);
    for (uint32_t i = 0; i < nd->n_trees; i++)
        kv_merkle_fini(&nd->trees[i]);
    sim_free(nd->trees);
    kv_store_fini(&nd->store);
    kv_store_fini(&nd->seen);
    kv_store_fini(&nd->mine);
    sim_free(nd->reqs.items);
    sim_free(nd->ops.items);
    sim_free(nd->undo);
    memset(nd, 0, sizeof *nd);
}

static void kv_shared_fini(void *shared) {
    kv_shared *k = shared;
    kv_ring_fini(&k->ring);
    kv_keys_fini(&k->keys);
    kv_oracle_fini(&k->oracle);
    sim_dist_fini(&k->value_bytes);
    sim_dist_fini(&k->think_time);
    sim_free(k->probe_t);
    sim_free(k->changes);
    sim_free(k->up_since);
    sim_free(k->boot_missing);
    sim_free(k->splits);
    sim_free(k->hint_lost);
    if (k->vclock)
        kv_vc_fini(&k->vc);
}

/* ------------------------------------------------------------------------ */
/* Report.                                                                  */

/* Appends printf-style text to a growing buffer. */
typedef struct kv_text {
    char *buf;
    size_t len, cap;
} kv_text;

static void text_add(kv_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(kv_text *t, const char *fmt, ...) {
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        n = sizeof line - 1;
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = (t->cap + (size_t)n + 1) * 2;
        t->buf = sim_realloc(t->buf, t->cap);
    }
    memcpy(t->buf + t->len, line, (size_t)n + 1);
    t->len += (size_t)n;
}

/* Keys whose newest acknowledged write no replica in the key's preference
 * list holds, nor anything committed after it, nor a hint that could still
 * hand it over. */
static int64_t count_lost(kv_shared *k) {
    int64_t lost = 0;
    const kv_oracle *o = &k->oracle;
    kv_store hinted; /* the newest version any live hint carries, per key */
    kv_store_init(&hinted);
    for (uint32_t s = 0; s < k->n_servers; s++) {
        const kv_node *nd = node_at(k, s);
        for (uint32_t i = 0; i < nd->hints.n && nd->n_hints; i++) {
            const kv_hint *hn = (const kv_hint *)pool_at(&nd->hints, sizeof *hn, i);
            if (hn->slot.used)
                session_put(k, &hinted, hn->key, hn->v);
        }
    }
    for (uint64_t key = 0; key < o->n_keys; key++) {
        const kv_key_rec *kr = &o->keys[key];
        if (kr->newest.wid == 0)
            continue;
        uint32_t pref[KV_MAX_N];
        uint32_t n = kv_ring_preflist(&k->ring, key, pref);
        if (kv_is_tombstone(kr->newest)) {
            /* A delete is kept while no replica holds older data without
             * the tombstone: that data would be read back. */
            bool back = false;
            for (uint32_t i = 0; i < n; i++) {
                kv_version v = kv_store_get(&node_at(k, pref[i])->store, (uint32_t)key);
                back |= v.wid != 0 && !kv_is_tombstone(v) && !vcovers(k, v, kr->newest);
            }
            k->resurrected_at_end += back;
            lost += back;
            continue;
        }
        /* What the replicas and the hints hold together (LWW: the newest of
         * them; vclock: the merge, which covers a write if any one does). */
        kv_version all = kv_store_get(&hinted, (uint32_t)key);
        for (uint32_t i = 0; i < n; i++)
            all = vmerge(k, all, kv_store_get(&node_at(k, pref[i])->store, (uint32_t)key));
        int64_t here = 0;
        if (!k->vclock) {
            here = !vcovers(k, all, kr->newest);
        } else {
            /* Each acknowledged write no other one descends from counts. */
            for (uint32_t i = 0; i < kv_vc_count(&k->vc, kr->newest); i++)
                here += !kv_vc_covers_write(&k->vc, all, kv_vc_member(&k->vc, kr->newest, i));
        }
        lost += here;
        /* The cause: a hint that would have delivered it died with a
         * volatile holder, or else no replica kept it (a crash of a
         * volatile or unsynced replica, or writes that never reached it). */
        if (here && k->hint_lost && k->hint_lost[key])
            k->lost_after_hint_loss += here;
    }
    kv_store_fini(&hinted);
    return lost;
}

/* Failure detection, hinted handoff, read repair, divergence. */
static void report_repair(sim_report *r, kv_shared *k) {
    sim *s = k->sim;
    sim_report_int(r, "divergent_keys", k->oracle.divergent);
    if (k->hints_on) {
        int64_t dropped = k->hints_dropped_full + k->hints_dropped_window;
        sim_report_int(r, "hints_stored", k->hints_stored);
        sim_report_int(r, "hints_delivered", k->hints_delivered);
        sim_report_int(r, "hints_expired", k->hints_expired);
        sim_report_int(r, "hints_dropped", dropped);
        sim_report_int(r, "hints_dropped_full", k->hints_dropped_full);
        sim_report_int(r, "hints_dropped_window", k->hints_dropped_window);
        sim_report_int(r, "hints_lost_with_holder", k->hints_lost_with_holder);
        sim_report_int(r, "hints_pending_at_end", k->hints_pending);
        if (sim_histogram_count(s, k->h_hint_lag)) {
            sim_report_num(r, "hint_delivery_lag_p50_s",
                           sim_time_to_s(sim_histogram_percentile(s, k->h_hint_lag, 50)));
            sim_report_num(r, "hint_delivery_lag_max_s", sim_time_to_s(k->hint_lag_max));
        }
        sim_report_line(r,
                        "hinted handoff: %lld hints stored, %lld delivered, %lld expired, %lld "
                        "dropped, %lld lost with their holder, %lld pending at the end",
                        (long long)k->hints_stored, (long long)k->hints_delivered,
                        (long long)k->hints_expired, (long long)dropped,
                        (long long)k->hints_lost_with_holder, (long long)k->hints_pending);
    }
    if (k->rr_mode != KV_RR_OFF || k->digest_reads) {
        sim_report_int(r, "read_repair_reads", k->rr_reads);
        sim_report_int(r, "read_repair_messages", k->rr_repairs);
        sim_report_int(r, "read_repair_applied", k->rr_applied);
        if (k->digest_reads)
            sim_report_int(r, "digest_mismatches", k->rr_digest_mismatch);
        sim_report_line(r,
                        "read repair: %lld reads found stale replicas, %lld repairs sent, %lld "
                        "applied",
                        (long long)k->rr_reads, (long long)k->rr_repairs, (long long)k->rr_applied);
    }
    if (k->ae_mode != KV_AE_OFF) {
        sim_report_int(r, "ae_exchanges", k->ae_exchanges);
        sim_report_int(r, "ae_in_sync", k->ae_in_sync);
        sim_report_int(r, "ae_hashes", k->ae_hashes);
        sim_report_int(r, "ae_messages", k->ae_messages);
        sim_report_int(r, "ae_bytes", k->ae_bytes);
        sim_report_int(r, "ae_keys_listed", k->ae_keys_listed);
        sim_report_int(r, "ae_keys_streamed", k->ae_keys_streamed);
        sim_report_int(r, "ae_keys_repaired", k->ae_keys_repaired);
        sim_report_line(r,
                        "anti-entropy (%s): %lld exchanges (%lld in sync at the root), %lld "
                        "hashes, %lld keys listed, %lld streamed, %lld repaired; %lld bytes",
                        k->ae_mode == KV_AE_MERKLE ? "merkle" : "full", (long long)k->ae_exchanges,
                        (long long)k->ae_in_sync, (long long)k->ae_hashes,
                        (long long)k->ae_keys_listed, (long long)k->ae_keys_streamed,
                        (long long)k->ae_keys_repaired, (long long)k->ae_bytes);
    }
    if (k->boot_missing) {
        sim_report_int(r, "replacement_keys_missing_at_start", k->boot_missing_start);
        sim_report_int(r, "replacement_keys_missing_at_end", k->boot_missing_now);
        if (k->bootstrap == KV_BOOT_STREAMING) {
            sim_report_int(r, "stream_keys", k->stream_keys);
            sim_report_int(r, "stream_keys_applied", k->stream_applied);
            sim_report_int(r, "stream_bytes", k->stream_bytes);
        }
        if (k->boot_done_at >= 0)
            sim_report_num(r, "replacement_complete_after_s",
                           sim_time_to_s(k->boot_done_at - k->boot_at));
        if (k->boot_done_at >= 0)
            sim_report_line(
                r, "replacement %s at %.3f s: %lld keys to fetch, all held %.3f s later",
                sim_node_name(s, k->boot_node), sim_time_to_s(k->boot_at),
                (long long)k->boot_missing_start, sim_time_to_s(k->boot_done_at - k->boot_at));
        else
            sim_report_line(r,
                            "replacement %s at %.3f s: %lld keys to fetch, %lld still missing at "
                            "the end",
                            sim_node_name(s, k->boot_node), sim_time_to_s(k->boot_at),
                            (long long)k->boot_missing_start, (long long)k->boot_missing_now);
    }
    /* Convergence after each fault ended. */
    sim_report_int(r, "fault_ends", k->n_fault_ends + k->fault_ends_dropped);
    if (k->n_fault_ends == 0) {
        sim_report_line(r, "divergent keys at the end: %lld", (long long)k->oracle.divergent);
        return;
    }
    kv_text cv = {0};
    text_add(&cv,
             "at_s,action,node,divergent_keys_then,converged_after_s,ae_exchanges_to_converge\n");
    int64_t never = 0;
    sim_time worst = 0;
    for (uint32_t i = 0; i < k->n_fault_ends; i++) {
        const struct kv_fault_end *f = &k->fault_ends[i];
        char after[32] = "", rounds[32] = "";
        if (f->converged_at >= 0) {
            snprintf(after, sizeof after, "%.9f", sim_time_to_s(f->converged_at - f->at));
            if (k->ae_mode != KV_AE_OFF)
                snprintf(rounds, sizeof rounds, "%lld", (long long)f->ae_rounds);
            worst = f->converged_at - f->at > worst ? f->converged_at - f->at : worst;
        } else {
            never++;
        }
        text_add(&cv, "%.9f,%s,%s,%lld,%s,%s\n", sim_time_to_s(f->at), f->what,
                 f->node == UINT32_MAX ? "" : sim_node_name(s, f->node),
                 (long long)f->divergent_then, after, rounds);
    }
    sim_report_file(r, "convergence.csv", cv.buf);
    sim_free(cv.buf);
    const struct kv_fault_end *last = &k->fault_ends[k->n_fault_ends - 1];
    sim_report_int(r, "fault_ends_not_converged", never);
    if (never < (int64_t)k->n_fault_ends)
        sim_report_num(r, "converge_time_max_s", sim_time_to_s(worst));
    if (last->converged_at >= 0)
        sim_report_num(r, "converge_time_last_fault_s",
                       sim_time_to_s(last->converged_at - last->at));
    if (last->converged_at >= 0 && k->ae_mode != KV_AE_OFF)
        sim_report_int(r, "ae_exchanges_to_converge_last_fault", last->ae_rounds);
    if (last->converged_at >= 0)
        sim_report_line(r,
                        "divergent keys at the end: %lld; after the last fault ended (%s at "
                        "%.3f s, %lld divergent) the replicas agreed again in %.3f s",
                        (long long)k->oracle.divergent, last->what, sim_time_to_s(last->at),
                        (long long)last->divergent_then,
                        sim_time_to_s(last->converged_at - last->at));
    else
        sim_report_line(r,
                        "divergent keys at the end: %lld; after the last fault ended (%s at "
                        "%.3f s, %lld divergent) the replicas never agreed again",
                        (long long)k->oracle.divergent, last->what, sim_time_to_s(last->at),
                        (long long)last->divergent_then);
}

static void kv_report(sim_report *r, void *shared) {
    kv_shared *k = shared;
    kv_oracle *o = &k->oracle;
    sim *s = k->sim;
    int64_t writes = o->writes_started, reads = o->reads_started;
    int64_t in_flight = 0;
    for (uint32_t c = 0; c < (uint32_t)k->n_clients; c++) {
        const kv_node *nd = sim_node_state(s, k->first_client + c);
        in_flight += nd->in_flight;
    }
    int64_t finished = o->writes_ok + o->writes_failed + o->reads_ok + o->reads_failed;
    int64_t ok = o->writes_ok + o->reads_ok;
    double availability = finished ? (double)ok / (double)finished : 1.0;
    double stale_frac = o->reads_ok ? (double)o->stale / (double)o->reads_ok : 0.0;
    k->resurrected_at_end = 0;
    k->lost_after_hint_loss = 0;
    o->lost = count_lost(k) + o->lost_lww;

    sim_report_int(r, "reads", reads);
    sim_report_int(r, "writes", writes);
    sim_report_int(r, "reads_ok", o->reads_ok);
    sim_report_int(r, "writes_ok", o->writes_ok);
    sim_report_int(r, "failed_ops", o->reads_failed + o->writes_failed);
    sim_report_int(r, "ops_in_flight_at_end", in_flight);
    sim_report_num(r, "availability", availability);
    sim_report_int(r, "stale_reads", o->stale);
    sim_report_num(r, "stale_read_fraction", stale_frac);
    sim_report_int(r, "monotonic_read_violations", o->mr_violations);
    sim_report_int(r, "read_your_writes_violations", o->ryw_violations);
    sim_report_int(r, "lost_acknowledged_writes", o->lost);
    sim_report_int(r, "lost_to_timestamp_order", o->lost_lww);
    sim_report_int(r, "lost_at_end_no_replica", o->lost - o->lost_lww - k->resurrected_at_end);
    if (k->hints_on)
        sim_report_int(r, "lost_after_hint_loss", k->lost_after_hint_loss);
    if (k->delete_fraction > 0) {
        sim_report_int(r, "deletes", k->deletes);
        sim_report_int(r, "tombstones_purged", k->tombstones_purged);
        sim_report_int(r, "resurrections", k->resurrections);
        sim_report_int(r, "deletes_undone_at_end", k->resurrected_at_end);
    }
    sim_report_int(r, "superseded_at_commit", o->superseded_at_commit);
    for (int i = 1; i <= 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "stale_k_%d", i);
        sim_report_int(r, name, o->k_hist[i]);
    }
    sim_report_int(r, "stale_k_over_10", o->k_hist[0]);
    report_repair(r, k);
    if (k->vclock) {
        /* Reads by siblings returned: 1..7, and 8 or more; two or more is a
         * read that returned siblings. */
        int64_t with_siblings = 0;
        for (int i = 1; i <= 8; i++) {
            char name[40];
            if (i < 8)
                snprintf(name, sizeof name, "reads_with_%d_siblings", i);
            else
                snprintf(name, sizeof name, "reads_with_8_or_more_siblings");
            sim_report_int(r, name, k->sibling_hist[i]);
            with_siblings += i > 1 ? k->sibling_hist[i] : 0;
        }
        sim_report_int(r, "reads_with_siblings", with_siblings);
        sim_report_int(r, "siblings_max", k->sibling_max);
        sim_report_int(r, "writes_merging_siblings", k->writes_merging_siblings);
        sim_report_int(r, "vclock_truncations", k->vc.truncations);
        sim_report_line(r,
                        "vector clocks: %lld reads returned siblings (at most %lld), %lld writes "
                        "merged them",
                        (long long)with_siblings, (long long)k->sibling_max,
                        (long long)k->writes_merging_siblings);
    }

    /* Load per server. */
    double sum_keys = 0, sum2_keys = 0, max_keys = 0, sum_ops = 0, sum2_ops = 0, max_ops = 0;
    uint32_t members = 0;
    kv_text per_node = {0};
    text_add(&per_node, "node,member,keys,ops_served,coordinated,store_bytes\n");
    for (uint32_t i = 0; i < k->n_servers; i++) {
        const kv_node *nd = sim_node_state(s, i);
        double keys = kv_store_count(&nd->store), ops = (double)nd->ops_served;
        text_add(&per_node, "%s,%d,%u,%lld,%lld,%zu\n", sim_node_name(s, i), k->ring.active[i],
                 kv_store_count(&nd->store), (long long)nd->ops_served, (long long)nd->coordinated,
                 kv_store_bytes(&nd->store));
        if (!k->ring.active[i])
            continue;
        members++;
        sum_keys += keys;
        sum2_keys += keys * keys;
        max_keys = keys > max_keys ? keys : max_keys;
        sum_ops += ops;
        sum2_ops += ops * ops;
        max_ops = ops > max_ops ? ops : max_ops;
    }
    double mean_keys = members ? sum_keys / members : 0, mean_ops = members ? sum_ops / members : 0;
    double cv_keys =
        mean_keys > 0 ? sqrt(fmax(0, sum2_keys / members - mean_keys * mean_keys)) / mean_keys : 0;
    double cv_ops =
        mean_ops > 0 ? sqrt(fmax(0, sum2_ops / members - mean_ops * mean_ops)) / mean_ops : 0;
    sim_report_num(r, "keys_per_node_max_over_mean", mean_keys > 0 ? max_keys / mean_keys : 0);
    sim_report_num(r, "keys_per_node_cv", cv_keys);
    sim_report_num(r, "ops_per_node_max_over_mean", mean_ops > 0 ? max_ops / mean_ops : 0);
    sim_report_num(r, "ops_per_node_cv", cv_ops);
    sim_report_int(r, "membership_changes", k->membership_changes);
    if (k->membership_changes)
        sim_report_num(r, "moved_fraction_last_change", k->moved_fraction_last);
    sim_report_file(r, "per_node.csv", per_node.buf);
    sim_free(per_node.buf);

    /* t-visibility. */
    kv_text tv = {0};
    text_add(&tv, "t_from_s,t_to_s,reads,consistent,p_consistent\n");
    for (uint32_t b = 0; b < o->n_t; b++) {
        char from[32], to[32];
        snprintf(from, sizeof from, "%.9f", sim_time_to_s(o->t_edges[b]));
        if (b + 1 < o->n_t)
            snprintf(to, sizeof to, "%.9f", sim_time_to_s(o->t_edges[b + 1]));
        else
            snprintf(to, sizeof to, "inf");
        if (o->t_reads[b])
            text_add(&tv, "%s,%s,%lld,%lld,%.6f\n", from, to, (long long)o->t_reads[b],
                     (long long)o->t_fresh[b], (double)o->t_fresh[b] / (double)o->t_reads[b]);
        else
            text_add(&tv, "%s,%s,0,0,\n", from, to);
    }
    sim_report_file(r, "t_visibility.csv", tv.buf);
    sim_free(tv.buf);

    /* Probes. */
    if (k->wl_mode == KV_WL_PROBE) {
        kv_text pr = {0};
        text_add(&pr, "t_s,probes,consistent,p_consistent\n");
        for (uint32_t i = 0; i < k->n_probe_t; i++) {
            int64_t n = o->probe_reads[i], f = o->probe_fresh[i];
            char p[32] = "";
            if (n)
                snprintf(p, sizeof p, "%.6f", (double)f / (double)n);
            text_add(&pr, "%.9f,%lld,%lld,%s\n", sim_time_to_s(k->probe_t[i]), (long long)n,
                     (long long)f, p);
            char name[48];
            snprintf(name, sizeof name, "probe_p_consistent_%u", i);
            if (n)
                sim_report_num(r, name, (double)f / (double)n);
        }
        sim_report_file(r, "probes.csv", pr.buf);
        sim_free(pr.buf);
    }

    /* Human lines. */
    static const char *const coord_names[] = {"first", "random", "client"};
    sim_report_line(r,
                    "kv: N=%lld R=%lld W=%lld, %u servers, %lld clients, %lld keys, "
                    "coordinator %s%s",
                    (long long)k->n, (long long)k->r, (long long)k->w, k->n_servers,
                    (long long)k->n_clients, (long long)k->n_keys, coord_names[k->coordinator],
                    k->propagation == KV_PROP_NONE ? ", propagation none (PBS teaching mode)" : "");
    sim_report_line(r, "operations: %lld reads, %lld writes; availability %.4f (%lld failed)",
                    (long long)reads, (long long)writes, availability,
                    (long long)(o->reads_failed + o->writes_failed));
    sim_report_line(r,
                    "stale reads: %lld of %lld (%.4f); monotonic-read violations %lld, "
                    "read-your-writes violations %lld",
                    (long long)o->stale, (long long)o->reads_ok, stale_frac,
                    (long long)o->mr_violations, (long long)o->ryw_violations);
    if (sim_histogram_count(s, k->h_read))
        sim_report_line(r,
                        "read latency p50 %.3f ms, p99 %.3f ms; write latency p50 %.3f ms, "
                        "p99 %.3f ms",
                        (double)sim_histogram_percentile(s, k->h_read, 50) / 1e6,
                        (double)sim_histogram_percentile(s, k->h_read, 99) / 1e6,
                        (double)sim_histogram_percentile(s, k->h_write, 50) / 1e6,
                        (double)sim_histogram_percentile(s, k->h_write, 99) / 1e6);
    sim_report_line(r, "acknowledged writes lost: %lld; keys per node max/mean %.2f",
                    (long long)o->lost, mean_keys > 0 ? max_keys / mean_keys : 0);
    if (k->wl_mode == KV_WL_PROBE)
        for (uint32_t i = 0; i < k->n_probe_t; i++) {
            int64_t n = o->probe_reads[i];
            if (n)
                sim_report_line(r, "probe t=%.3f ms: P(consistent) = %.4f over %lld probes",
                                (double)k->probe_t[i] / 1e6, (double)o->probe_fresh[i] / (double)n,
                                (long long)n);
        }
}

/* The charts dsim plot draws of a run (kv_charts.c). */
extern const sim_chart kv_charts[];

const sim_model kv_model = {
    .name = "kv",
    .summary = "Dynamo-style replicated key-value store: N/R/W quorums, staleness oracle",
    .msg_types = kv_msg_types,
    .shared_size = sizeof(kv_shared),
    .node_size = sizeof(kv_node),
    .configure = kv_configure,
    .validate = kv_validate,
    .node_init = kv_node_init,
    .on_message = kv_on_message,
    .on_timer = kv_on_timer,
    .on_crash = kv_on_crash,
    .on_recover = kv_on_recover,
    .on_world_timer = kv_on_world_timer,
    .on_fault = kv_on_fault,
    .report = kv_report,
    .node_fini = kv_node_fini,
    .shared_fini = kv_shared_fini,
    .charts = kv_charts,
};
