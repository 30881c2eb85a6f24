/*
 * kv.h - the Dynamo-style replicated key-value store: shared and per-node
 * state, messages, and the oracle's interface.  Declared here so that the
 * model's files (through kv_int.h), its tests and the CLI share them; the
 * kernel treats the state as opaque bytes.
 */
#ifndef DSIM_KV_H
#define DSIM_KV_H

#include "kv_parts.h"
#include "merkle.h"
#include "sim.h"
#include "vclock.h"

extern const sim_model kv_model;

/* ---- Configuration enums (scenario strings in kv_config.c). ---- */

typedef enum { KV_COORD_FIRST, KV_COORD_RANDOM, KV_COORD_CLIENT } kv_coord_mode;
typedef enum { KV_READ_ALL, KV_READ_QUORUM } kv_read_targets;
typedef enum { KV_PROP_ALL, KV_PROP_NONE } kv_propagation;
typedef enum { KV_WL_OPEN, KV_WL_CLOSED, KV_WL_PROBE } kv_wl_mode;
typedef enum { KV_QUORUM_STRICT, KV_QUORUM_SLOPPY } kv_quorum;
typedef enum { KV_RR_OFF, KV_RR_ASYNC, KV_RR_BLOCKING } kv_rr_mode;
typedef enum { KV_AE_OFF, KV_AE_MERKLE, KV_AE_FULL } kv_ae_mode;
typedef enum { KV_BOOT_ANTI_ENTROPY, KV_BOOT_STREAMING } kv_bootstrap;

/* ---- Messages. ---- */

enum {
    KV_MSG_CLIENT_PUT,       /* client -> coordinator */
    KV_MSG_CLIENT_PUT_REPLY, /* coordinator -> client */
    KV_MSG_CLIENT_GET,
    KV_MSG_CLIENT_GET_REPLY,
    KV_MSG_PUT, /* coordinator -> replica: the W of WARS */
    KV_MSG_PUT_ACK,
    KV_MSG_GET,
    KV_MSG_GET_REPLY,
    KV_MSG_HEARTBEAT,  /* server -> servers: failure detector */
    KV_MSG_HINT,       /* hint holder -> the hint's target: a put */
    KV_MSG_HINT_ACK,   /* req: the hint's handle at its holder */
    KV_MSG_REPAIR,     /* coordinator -> stale replica: read repair */
    KV_MSG_REPAIR_ACK, /* req: the read's handle at its coordinator */
    KV_MSG_AE_HASHES,  /* anti-entropy: (node index, hash) pairs of a level */
    KV_MSG_AE_KEYLIST, /* anti-entropy: (key, digest) of the keys in some leaves */
    KV_MSG_AE_KEYS,    /* anti-entropy: versions (and values) that repair */
    KV_MSG_AE_IN_SYNC, /* anti-entropy: the trees agree */
    KV_MSG_STREAM_REQ, /* a replacement asks a replica for a whole range */
    KV_MSG_COUNT
};

/* Flags of a get request. */
enum {
    KV_GET_DIGEST = 1, /* answer with the version's digest, not the value */
    KV_GET_FETCH = 2,  /* the value, after digests disagreed with the data read */
};

/* The head of every anti-entropy message; the arrays follow it. */
typedef struct kv_ae_head {
    uint32_t range; /* range id (kv_ring_range_of) */
    uint32_t level; /* AE_HASHES: the level; AE_KEYS: 0 first answer, 1 final */
    uint32_t n;     /* entries in the first array */
    uint32_t n2;    /* AE_KEYS: keys wanted back (the second array) */
    uint32_t epoch; /* the ring's epoch: a message across a change is ignored */
    uint32_t _pad;
} kv_ae_head;

/* A key and its version, as AE_KEYS carries them. */
typedef struct kv_ae_key {
    uint32_t key;
    uint32_t _pad;
    kv_version v;
} kv_ae_key;

/* Every kv message has this one shape (24 + 16 bytes); fields unused by a
 * type are zero.  Wire sizes are computed from the scenario's key and value
 * sizes, not from this struct. */
typedef struct kv_msg {
    uint32_t key;
    uint32_t req;  /* request id at the sender of the request */
    uint32_t ok;   /* replies: 1 success, 0 failure; get: KV_GET_* flags */
    uint32_t hint; /* put to a stand-in (sloppy quorum): the intended node + 1;
                    * get reply: the request's flags, echoed; client_put with
                    * vector clocks: the sibling set read before (the context) */
    kv_version v;  /* put: the version to store; get reply: the version held */
} kv_msg;

/* ---- Requests in progress. ---- */

/* The head of a pooled slot (kv.c's kv_pool_*): a handle is the slot index
 * plus the low bits of its generation, so a late reply to a finished
 * request never matches the slot's next use. */
typedef struct kv_slot {
    uint32_t gen;  /* bumped at every use */
    uint32_t next; /* free list link while unused */
    uint8_t used;
} kv_slot;

/* A growable array of slots of `size` bytes, each starting with a kv_slot. */
typedef struct kv_pool {
    void *items;
    uint32_t n, free;
} kv_pool;

typedef enum { KV_OP_GET, KV_OP_PUT } kv_op_kind;

/* A request at its coordinator: collects acks or replies from replicas. */
typedef struct kv_coord_req {
    kv_slot slot;
    uint8_t kind; /* kv_op_kind */
    uint8_t done; /* replied to the client */
    uint8_t n_targets, n_need;
    uint8_t n_acks;   /* put acks or get replies received */
    uint16_t replied; /* bit i: targets[i] answered */
    uint8_t rr;       /* get: read repair after answering (async) */
    uint8_t waiting;  /* get: 1 = fetching the full value after digests,
                       * 2 = blocking read repair, waiting for acks */
    uint16_t pending; /* bit i: a repair ack awaited from targets[i] */
    uint32_t key;
    uint32_t client; /* node to answer; == self when the client coordinates */
    uint32_t creq;   /* the client's request id */
    uint32_t targets[KV_MAX_N];
    uint32_t hint_for[KV_MAX_N]; /* put: the node targets[i] stands in for, + 1 */
    kv_version got[KV_MAX_N];    /* get: the version each target answered */
    uint16_t full;               /* get: bit i: targets[i] sent the value, not a digest */
    kv_version v;                /* put: the version written; get: the newest seen */
    sim_timer timer;             /* request timeout, then read repair's grace */
} kv_coord_req;

/* A hint: a write for `target` held by a stand-in until it is back. */
typedef struct kv_hint {
    kv_slot slot;
    uint32_t target;
    uint32_t key;
    kv_version v;
    sim_time stored_at;
    sim_time sent_at; /* last replay, or -1 */
} kv_hint;

/* An operation at its client. */
typedef struct kv_client_op {
    kv_slot slot;
    uint8_t kind;
    uint8_t probe;    /* a probe read (its t index in probe_t) */
    uint16_t probe_t; /* probe: index into the t list */
    uint32_t key;
    uint32_t wid;    /* put: the write's id */
    uint32_t coord;  /* the node asked to coordinate */
    sim_time start;  /* when the client issued it */
    sim_timer timer; /* client-side timeout */
    /* Read: the oracle's snapshot at the start (see oracle.c). */
    uint32_t snap_acked; /* the key's winners so far */
    uint32_t snap_last;  /* vclock: the key's last acknowledged write */
    kv_version snap;     /* the newest acknowledged version */
    sim_time snap_commit;
    /* Session floors at the start: the newest version this client had read,
     * and its own last acknowledged write, of this key. */
    kv_version seen_floor, own_floor;
} kv_client_op;

/* ---- Per-node state. ---- */

typedef struct kv_node {
    bool is_client;
    uint32_t index; /* server: member index; client: client index */

    /* Server. */
    kv_store store;
    kv_pool reqs;       /* kv_coord_req: requests this node coordinates */
    int64_t ops_served; /* puts and gets handled as a replica */
    int64_t coordinated;
    /* Failure detector: when each server was last heard from (any message),
     * by server index; a peer silent for longer than the suspicion timeout
     * is believed down. */
    sim_time *last_heard;
    /* Hinted handoff: hints held for others, and the newest hinted version
     * per key (so a stand-in can answer reads). */
    kv_pool hints;
    uint32_t n_hints;
    kv_store hinted;
    /* Anti-entropy: one Merkle tree per range (whatever ranges the store
     * holds keys of), and the next range to compare. */
    kv_merkle *trees;
    uint32_t n_trees;
    uint32_t ae_next;
    /* A replacement bootstrapping by streaming: ranges still awaited. */
    uint32_t streams_pending;
    /* Tombstones to purge, oldest first: (key, write id, purge time). */
    struct kv_tomb {
        uint32_t key, wid;
        sim_time purge_at;
    } * tombs;
    uint32_t tomb_head, n_tombs, cap_tombs; /* a ring buffer */
    /* Unsynced writes since the last commit-log sync: (key, previous
     * version) pairs to roll back if the node crashes. */
    struct kv_undo {
        uint32_t key;
        kv_version old;
    } * undo;
    uint32_t n_undo, cap_undo;

    /* Client (and client-coordinator: a client may coordinate its own). */
    kv_pool ops;         /* kv_client_op: this client's operations */
    uint32_t in_flight;  /* operations started and not finished */
    kv_store seen;       /* session: newest version read per key (ts = commit rank) */
    kv_store mine;       /* session: own last acknowledged write per key */
    uint32_t probe_next; /* probe: next key offset in the client's range */
    uint32_t probe_t;    /* probe: next t index */
} kv_node;

/* ---- The oracle (oracle.c): what only the simulator knows. ---- */

typedef struct kv_write_rec {
    uint32_t key;
    uint32_t rank;             /* 1-based among its key's winners; 0 = never a winner */
    uint32_t winners_at_start; /* the key's winners when this write started */
    uint32_t floor_wid;        /* the newest acknowledged version when it started */
    uint32_t prev_ack;         /* vclock: the key's acknowledged write before this one */
    sim_time floor_ts;
    sim_time start, commit; /* commit: -1 until acknowledged */
} kv_write_rec;

typedef struct kv_key_rec {
    uint32_t winners;  /* acknowledged writes that became the newest when they committed
                        * (vclock: every acknowledged write) */
    uint32_t last_ack; /* vclock: the last acknowledged write */
    kv_version newest; /* the newest acknowledged version (LWW order; vclock: the set
                        * of acknowledged writes no other one descends from) */
    sim_time newest_commit;
    sim_time div_mark; /* 1 + when its replicas began to disagree; 0 = they agree */
} kv_key_rec;

typedef struct kv_oracle {
    kv_write_rec *writes; /* by wid; writes[0] unused */
    uint32_t n_writes, cap_writes;
    kv_key_rec *keys;
    uint64_t n_keys;
    /* t-visibility: reads with something acknowledged, by t bucket. */
    sim_time *t_edges; /* ascending bucket lower edges */
    uint32_t n_t;
    int64_t *t_reads, *t_fresh;
    /* Probe: per t, probes done and consistent. */
    int64_t *probe_reads, *probe_fresh;
    /* Counters. */
    int64_t reads_started, reads_ok, reads_failed, stale, writes_started, writes_ok, writes_failed;
    int64_t mr_violations, ryw_violations, lost;
    int64_t lost_lww;  /* acknowledged, but older (LWW) than a write acknowledged before it began */
    int64_t divergent; /* keys whose replicas disagree now */
    int64_t superseded_at_commit; /* acknowledged after a newer concurrent write */
    int64_t k_hist[11];           /* stale reads by k: 1..10, and > 10 in [0] */
} kv_oracle;

void kv_oracle_init(kv_oracle *o, uint64_t n_keys, const sim_time *t_edges, uint32_t n_t,
                    uint32_t n_probe_t);
void kv_oracle_fini(kv_oracle *o);
/* A write starts: returns its id. */
uint32_t kv_oracle_write_start(kv_oracle *o, uint32_t key, sim_time now);
/* The write's coordinator has its W acks for version v. */
void kv_oracle_write_commit(kv_oracle *o, kv_version v, sim_time now);
/* Snapshot for a read starting now. */
void kv_oracle_read_start(const kv_oracle *o, uint32_t key, kv_client_op *op);
/* Judges a read that returned v: returns k (0 = fresh); *t_out gets the
 * time since the newest acknowledged version's commit at the read's start,
 * or -1 when nothing was acknowledged. */
uint32_t kv_oracle_read_judge(const kv_oracle *o, const kv_client_op *op, kv_version v,
                              sim_time *t_out);
/* The same with vector clocks: a write commits into the key's set of
 * acknowledged writes; a read is fresh if the set it returned covers every
 * write acknowledged before it started, and k counts those it misses
 * (looking back at most 64 acknowledged writes). */
void kv_oracle_write_commit_vc(kv_oracle *o, kv_vc *vc, kv_version v, sim_time now);
uint32_t kv_oracle_read_judge_vc(const kv_oracle *o, const kv_vc *vc, const kv_client_op *op,
                                 kv_version v, sim_time *t_out);

/* ---- Shared state: configuration, ring, metrics, oracle. ---- */

typedef struct kv_shared {
    /* Configuration. */
    int64_t n, r, w;
    int partitioner, coordinator, read_targets, propagation;
    int64_t vnodes;
    bool vclock; /* versioning: vector clocks and siblings (else last-write-wins) */
    kv_vc vc;
    int64_t sibling_max, writes_merging_siblings;
    int64_t sibling_hist[9]; /* reads returning 1..7 siblings, [8]: more */
    int64_t *splits;         /* range: split points (first keys of ranges 1, 2, ...) */
    uint32_t n_splits;
    sim_time request_timeout;
    bool durable;
    sim_time sync_interval;
    int64_t key_bytes;
    sim_dist value_bytes;

    /* Failure detection, hinted handoff, read repair. */
    int quorum; /* kv_quorum */
    bool fd_on; /* heartbeats are sent (something needs them) */
    sim_time hb_interval, suspicion;
    bool hints_on;
    int64_t max_hints;
    sim_time hint_window, replay_interval;
    double replay_rate;
    sim_time gc_grace, compaction_interval; /* tombstones */
    int ae_mode;                            /* kv_ae_mode */
    sim_time ae_interval, ae_jitter;
    int64_t ae_depth;
    int bootstrap;       /* kv_bootstrap */
    uint32_t ring_epoch; /* +1 at every membership change */
    int rr_mode;         /* kv_rr_mode */
    double rr_chance;
    sim_time rr_grace;
    bool digest_reads;

    /* Workload. */
    int wl_mode, popularity;
    int64_t n_clients, n_keys;
    double rate_per_s, read_fraction, delete_fraction, zipf_theta, hot_ops, hot_keys;
    bool scramble;
    sim_dist think_time, interarrival;
    sim_time wl_start, wl_stop, probe_gap;
    sim_time *probe_t;
    uint32_t n_probe_t;
    kv_keychooser keys;

    /* Membership changes: at, member, join (1) or leave (0). */
    struct kv_member_change {
        sim_time at;
        uint32_t member;
        bool join;
    } * changes;
    uint32_t n_changes;

    /* Placement. */
    uint32_t n_servers;
    uint32_t first_client;
    kv_ring ring;
    sim_rng ring_rng;
    double moved_fraction_last; /* keys whose first replica changed, last change */
    int64_t membership_changes;

    /* Fault ends (recover, replace, heal) and how long the replicas took to
     * agree again on every key that was divergent then. */
#define KV_MAX_FAULT_ENDS 64
    struct kv_fault_end {
        sim_time at;
        uint32_t node; /* UINT32_MAX for heal */
        const char *what;
        int64_t divergent_then, pending;
        sim_time converged_at; /* -1 = not yet */
        int64_t ae_at;         /* anti-entropy exchanges begun by then */
        int64_t ae_rounds;     /* ... and until converged */
    } fault_ends[KV_MAX_FAULT_ENDS];
    uint8_t *hint_lost; /* per key: a hint for it died with its holder (lazily) */
    int64_t lost_after_hint_loss;
    uint32_t n_fault_ends, fault_ends_dropped;
    sim_time *up_since; /* per server: last recovery or replacement */

    /* Hinted handoff and read repair counts. */
    int64_t hints_stored, hints_delivered, hints_expired, hints_dropped_full, hints_dropped_window,
        hints_lost_with_holder, hints_pending;
    int64_t rr_reads, rr_repairs, rr_applied, rr_digest_mismatch;
    int64_t deletes, tombstones_purged, resurrections, resurrected_at_end;
    /* Requests refused because a node already tracks KV_MAX_TRACKED of
     * them (as a client, or as a coordinator): overload, modelled. */
    int64_t overload_rejects;
    int64_t ae_exchanges, ae_in_sync, ae_hashes, ae_levels, ae_messages, ae_bytes;
    int64_t ae_keys_listed, ae_keys_streamed, ae_keys_repaired, stream_keys, stream_applied,
        stream_bytes;
    /* Replacements: keys the new node must get (per key: still missing),
     * counted down as it gets them. */
    uint8_t *boot_missing;
    uint32_t boot_node;
    int64_t boot_missing_now, boot_missing_start;
    sim_time boot_at, boot_done_at;
    int g_boot_missing;
    sim_time hint_lag_max; /* delivery time - max(stored, target back up) */

    /* Metrics. */
    int h_read, h_write, h_k, h_hint_lag;
    int g_divergent, g_hints;
    int c_reads, c_writes, c_stale, c_failed, c_timeouts;
    int g_in_flight;
    int64_t ops_in_flight; /* client operations issued and not finished, all clients */

    kv_oracle oracle;
    sim *sim; /* for the report's look at every node */
} kv_shared;

#endif
