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
 *      the first R replies from distinct targets.
 *  (3) A request that has neither by `request_timeout` fails; a client's
 *      operation that has no reply by then fails at the client.
 *  (4) A replica keeps, per key, the newest version it was sent (LWW by the
 *      coordinator's local clock, ties broken by write id); so a write
 *      stamped by a clock that runs behind can lose to an older one.
 *  (5) A crash of a server loses its coordinator state; its storage survives
 *      if `storage.durable`, except writes since the last commit-log sync
 *      when `storage.sync_interval` > 0.
 *  (6) No protocol decision reads the oracle (oracle.c); only metrics do.
 *
 * Request states at the coordinator (kv_coord_req):
 *
 *   free --start_put/start_get--> waiting --W acks / R replies--> done
 *                                    |                            (freed)
 *                                    +--request timeout--> failed (freed)
 *
 * Transitions: coord_start (free -> waiting; or failed at once when the
 * ring has fewer members than the quorum), on_replica_answer (waiting ->
 * done at W acks or R replies, through reply_client), on_coord_timeout
 * (waiting -> failed), kv_on_crash (waiting -> gone with the node).
 * Late replies find the slot freed or reused (generation check) and are
 * ignored: the seam where read repair will listen.
 *
 * Operation states at the client (kv_client_op): issued -> replied (ok or
 * failed) or timed out; client_issue, client_finish, on_client_timeout.
 */
#include "kv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kv_msg_types[] = {
    "client_put", "client_put_reply", "client_get", "client_get_reply", "put", "put_ack",
    "get",        "get_reply",        NULL,
};

enum {
    T_ARRIVAL,        /* open loop: next operation */
    T_THINK,          /* closed loop: next operation */
    T_CLIENT_TIMEOUT, /* arg: op handle */
    T_COORD_TIMEOUT,  /* arg: request handle */
    T_SYNC,           /* commit-log sync */
    T_PROBE_READ,     /* arg: op handle of the probe write */
    T_PROBE_NEXT,
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
static const char *const versionings[] = {"lww", NULL};
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
    if (sim_cfg_enter(c, "storage") < 0 || sim_cfg_bool(c, "durable", true, &k->durable) < 0 ||
        sim_cfg_time(c, "sync_interval", "0s", 0, 3600 * SIM_S, &k->sync_interval) < 0)
        return -1;
    sim_cfg_leave(c);
    /* The run's duration is the default stop of the workload. */
    sim_time duration = sim_duration(s);
    if (read_workload(c, k, duration) < 0)
        return -1;
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
                     k->n_servers, (uint32_t)k->vnodes, (uint64_t)k->n_keys, &k->ring_rng, NULL, 0);
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
    }
    sim_free(joins_later);
    sim_free(seen);
    return sim_cfg_failed(c) ? -1 : rc;
}

/* ------------------------------------------------------------------------ */
/* Sending.                                                                 */

static uint32_t wire(const kv_shared *k, bool with_value, uint32_t value_size) {
    uint64_t b = KV_HEADER_BYTES + (uint64_t)k->key_bytes + (with_value ? value_size : 0);
    return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

static void send_msg(sim_ctx *ctx, uint32_t dst, uint32_t type, const kv_msg *m, bool with_value) {
    kv_shared *k = shared_of(ctx);
    sim_send(ctx, dst, type, m, sizeof *m, wire(k, with_value, m->v.size));
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
                        uint32_t client, uint32_t creq) {
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
    q->n_targets = (uint8_t)choose_targets(ctx, k, key, want, q->targets);
    q->n_need = (uint8_t)(kind == KV_OP_PUT ? k->w : k->r);
    if (kind == KV_OP_PUT) {
        /* Last-write-wins stamps the coordinator's own clock. */
        q->v = v;
        q->v.ts = sim_local_time(ctx);
    }
    if (q->n_targets < q->n_need) {
        /* Fewer members than the quorum (after leaves): fail at once. */
        reply_client(ctx, nd, q, false);
        req_release(nd, q);
        return;
    }
    kv_msg m = {.key = key, .req = h, .v = q->v};
    for (uint32_t i = 0; i < q->n_targets; i++)
        send_msg(ctx, q->targets[i], kind == KV_OP_PUT ? KV_MSG_PUT : KV_MSG_GET, &m,
                 kind == KV_OP_PUT);
    q->timer = sim_timer_set(ctx, k->request_timeout, T_COORD_TIMEOUT, h);
}

static int target_index(const kv_coord_req *q, uint32_t node) {
    for (uint32_t i = 0; i < q->n_targets; i++)
        if (q->targets[i] == node)
            return (int)i;
    return -1;
}

/* A put ack or a get reply from a replica: waiting -> done at W or R. */
static void on_replica_answer(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = shared_of(ctx);
    kv_coord_req *q = req_find(nd, m->req);
    if (!q || q->done)
        return; /* finished: a late answer */
    int i = target_index(q, msg->src);
    if (i < 0 || (q->replied & (1u << i)))
        return; /* not a target, or a duplicate */
    q->replied |= (uint16_t)(1u << i);
    q->n_acks++;
    if (q->kind == KV_OP_GET && kv_version_newer(m->v, q->v))
        q->v = m->v;
    if (q->n_acks < q->n_need)
        return;
    if (q->kind == KV_OP_PUT)
        kv_oracle_write_commit(&k->oracle, q->v, sim_now(ctx));
    sim_timer_cancel(ctx, q->timer);
    reply_client(ctx, nd, q, true);
    req_release(nd, q);
}

static void on_coord_timeout(sim_ctx *ctx, kv_node *nd, uint32_t h) {
    kv_coord_req *q = req_find(nd, h);
    if (!q)
        return;
    reply_client(ctx, nd, q, false);
    req_release(nd, q);
}

/* ------------------------------------------------------------------------ */
/* Replica.                                                                 */

static void on_put(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    kv_shared *k = shared_of(ctx);
    kv_version old;
    bool stored = kv_store_put_lww(&nd->store, m->key, m->v, &old);
    if (stored && k->durable && k->sync_interval > 0) {
        if (nd->n_undo == nd->cap_undo) {
            nd->cap_undo = nd->cap_undo ? nd->cap_undo * 2 : 64;
            nd->undo = sim_realloc(nd->undo, nd->cap_undo * sizeof *nd->undo);
        }
        nd->undo[nd->n_undo].key = m->key;
        nd->undo[nd->n_undo].old = old;
        nd->n_undo++;
    }
    nd->ops_served++;
    kv_msg a = {.key = m->key, .req = m->req, .ok = 1};
    send_msg(ctx, msg->src, KV_MSG_PUT_ACK, &a, false);
}

static void on_get(sim_ctx *ctx, kv_node *nd, const sim_msg *msg, const kv_msg *m) {
    nd->ops_served++;
    kv_msg r = {.key = m->key, .req = m->req, .ok = 1, .v = kv_store_get(&nd->store, m->key)};
    send_msg(ctx, msg->src, KV_MSG_GET_REPLY, &r, r.v.wid != 0);
}

/* ------------------------------------------------------------------------ */
/* Client.                                                                  */

static uint32_t coordinator_for(sim_ctx *ctx, kv_shared *k, uint32_t key) {
    if (k->coordinator == KV_COORD_CLIENT)
        return sim_self(ctx);
    uint32_t pref[KV_MAX_N];
    uint32_t n = kv_ring_preflist(&k->ring, key, pref);
    SIM_ASSERT(n > 0);
    if (k->coordinator == KV_COORD_RANDOM)
        return pref[sim_rng_below(sim_node_rng(ctx), n)];
    return pref[0];
}

/* Issues one operation; returns its handle. */
static uint32_t client_issue(sim_ctx *ctx, kv_node *nd, kv_op_kind kind, uint32_t key,
                             uint16_t probe_t, bool probe) {
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
    kv_version v = {0};
    if (kind == KV_OP_PUT) {
        op->wid = kv_oracle_write_start(&k->oracle, key, op->start);
        double size = sim_dist_sample(&k->value_bytes, sim_node_rng(ctx));
        v.wid = op->wid;
        v.size = size >= 4e9 ? UINT32_MAX : (uint32_t)llround(size);
        sim_count(s, k->c_writes, 1);
    } else {
        kv_oracle_read_start(&k->oracle, key, op);
        k->oracle.reads_started++;
        op->seen_floor = kv_store_get(&nd->seen, key);
        op->own_floor = kv_store_get(&nd->mine, key);
        sim_count(s, k->c_reads, 1);
    }
    op->timer = sim_timer_set(ctx, k->request_timeout, T_CLIENT_TIMEOUT, h);
    uint32_t coord = coordinator_for(ctx, k, key);
    if (coord == sim_self(ctx)) {
        coord_start(ctx, nd, kind, key, v, sim_self(ctx), h);
    } else {
        kv_msg m = {.key = key, .req = h, .v = v};
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
    if (op->seen_floor.wid != 0 && kv_version_newer(op->seen_floor, v))
        k->oracle.mr_violations++;
    if (op->own_floor.wid != 0 && kv_version_newer(op->own_floor, v))
        k->oracle.ryw_violations++;
    if (v.wid != 0) {
        kv_version old;
        kv_store_put_lww(&nd->seen, op->key, v, &old);
    }
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
            kv_version old;
            kv_store_put_lww(&nd->mine, op->key, v, &old);
            probe_write = k->wl_mode == KV_WL_PROBE;
        } else {
            o->writes_failed++;
            sim_count(s, k->c_failed, 1);
        }
    } else if (ok) {
        o->reads_ok++;
        sim_record(s, k->h_read, now - op->start);
        sim_time t;
        uint32_t stale_k = kv_oracle_read_judge(o, op, v, &t);
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
    if (!op_find(nd, h))
        return;
    sim_count(sim_of(ctx), k->c_timeouts, 1);
    client_finish(ctx, nd, h, false, (kv_version){0});
}

static void issue_random_op(sim_ctx *ctx, kv_node *nd) {
    kv_shared *k = shared_of(ctx);
    sim_rng *rng = sim_node_rng(ctx);
    bool write = sim_rng_double(rng) >= k->read_fraction;
    uint32_t key = (uint32_t)kv_keys_next(&k->keys, rng, write);
    client_issue(ctx, nd, write ? KV_OP_PUT : KV_OP_GET, key, 0, false);
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
    client_issue(ctx, nd, KV_OP_PUT, key, t, false);
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

static void kv_node_init(sim_ctx *ctx, void *node) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    uint32_t self = sim_self(ctx);
    nd->reqs.free = nd->ops.free = UINT32_MAX;
    kv_store_init(&nd->store);
    kv_store_init(&nd->seen);
    kv_store_init(&nd->mine);
    if (self >= k->first_client) {
        nd->is_client = true;
        nd->index = self - k->first_client;
        start_workload(ctx, nd);
    } else {
        nd->index = self;
        if (k->durable && k->sync_interval > 0)
            sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
    }
}

static void kv_on_message(sim_ctx *ctx, void *node, const sim_msg *msg) {
    kv_node *nd = node;
    kv_msg m;
    SIM_ASSERT(msg->len == sizeof m);
    memcpy(&m, msg->data, sizeof m);
    switch (msg->type) {
    case KV_MSG_CLIENT_PUT:
        coord_start(ctx, nd, KV_OP_PUT, m.key, m.v, msg->src, m.req);
        break;
    case KV_MSG_CLIENT_GET:
        coord_start(ctx, nd, KV_OP_GET, m.key, m.v, msg->src, m.req);
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
        client_issue(ctx, nd, KV_OP_GET, (uint32_t)arg, (uint16_t)(arg >> 32), true);
        break;
    case T_PROBE_NEXT:
        probe_next(ctx, nd);
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
    if (!k->durable) {
        kv_store_clear(&nd->store);
    } else {
        /* Writes since the last sync were only in memory: undo them. */
        for (uint32_t i = nd->n_undo; i-- > 0;)
            kv_store_set(&nd->store, nd->undo[i].key, nd->undo[i].old);
    }
    nd->n_undo = 0;
}

static void kv_on_recover(sim_ctx *ctx, void *node) {
    kv_shared *k = shared_of(ctx);
    kv_node *nd = node;
    if (nd->is_client)
        start_workload(ctx, nd);
    else if (k->durable && k->sync_interval > 0)
        sim_timer_set(ctx, k->sync_interval, T_SYNC, 0);
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
}

static void kv_node_fini(sim_ctx *ctx, void *node) {
    (void)ctx;
    kv_node *nd = node;
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
 * list holds, nor anything committed after it. */
static int64_t count_lost(kv_shared *k) {
    int64_t lost = 0;
    const kv_oracle *o = &k->oracle;
    for (uint64_t key = 0; key < o->n_keys; key++) {
        const kv_key_rec *kr = &o->keys[key];
        if (kr->newest.wid == 0)
            continue;
        uint32_t pref[KV_MAX_N];
        uint32_t n = kv_ring_preflist(&k->ring, key, pref);
        bool held = false;
        for (uint32_t i = 0; i < n && !held; i++) {
            const kv_node *nd = sim_node_state(k->sim, pref[i]);
            kv_version v = kv_store_get(&nd->store, (uint32_t)key);
            held = v.wid != 0 && !kv_version_newer(kr->newest, v);
        }
        lost += !held;
    }
    return lost;
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
    sim_report_int(r, "lost_at_end_no_replica", o->lost - o->lost_lww);
    sim_report_int(r, "superseded_at_commit", o->superseded_at_commit);
    for (int i = 1; i <= 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "stale_k_%d", i);
        sim_report_int(r, name, o->k_hist[i]);
    }
    sim_report_int(r, "stale_k_over_10", o->k_hist[0]);

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
    .report = kv_report,
    .node_fini = kv_node_fini,
    .shared_fini = kv_shared_fini,
};
