/*
 * kv_parts.h - the self-contained parts of the kv model: placement (the
 * ring and the other partitioners), per-replica storage, and key choice
 * for workloads.  Each is plain data plus functions, testable without a
 * simulation; kv.c puts them together.
 */
#ifndef DSIM_KV_PARTS_H
#define DSIM_KV_PARTS_H

#include "sim.h"

/* ------------------------------------------------------------------------ */
/* Placement.                                                               */

typedef enum kv_partitioner { KV_PART_HASH, KV_PART_RANGE, KV_PART_MODULO } kv_partitioner;

#define KV_MAX_N      16       /* replicas per key */
#define KV_MAX_TOKENS 4194304u /* ring tokens: servers x vnodes */
#define KV_MAX_WALK   32       /* preference list and fallbacks (sloppy quorum) */

typedef struct kv_token {
    uint64_t pos;   /* position on the ring */
    uint32_t owner; /* member index (0 .. n_members-1) */
} kv_token;

/*
 * Maps keys (0 .. n_keys-1) to preference lists of `n` distinct members.
 * Members are indexes 0 .. n_members-1 (kv.c maps them to nodes); a member
 * may be inactive (not yet joined, or left), in which case it owns nothing.
 *
 *  hash:   every active member owns `vnodes` tokens at positions drawn from
 *          the ring's stream; a key's position is sim_hash64(key); its list
 *          is the owners of the first tokens clockwise, skipping members
 *          already in the list (Dynamo §4.2–4.3).
 *  range:  the key space [0, n_keys) is split into one contiguous range per
 *          active member, equal by default or at given split points; a key's
 *          list is its range's member and the next active members in order.
 *  modulo: the first replica is hash(key) mod (active members), the others
 *          the next active members in order.
 */
typedef struct kv_ring {
    kv_partitioner kind;
    uint32_t n;         /* replicas per key */
    uint32_t n_members; /* members, active or not */
    uint32_t vnodes;    /* tokens per member (hash) */
    uint64_t n_keys;
    uint64_t seed; /* hash seed for key positions */
    bool *active;
    uint32_t n_active;
    uint32_t *active_list; /* active members in index order */
    kv_token *tokens;      /* hash: sorted by pos (ties by owner) */
    uint32_t n_tokens;
    uint64_t *splits; /* range: n_splits ascending split keys, or NULL for equal ranges */
    uint32_t n_splits;
} kv_ring;

/* Builds a ring over n_members members, the first n_active_initially of
 * them active.  Token positions come from rng.  splits (range only, may be
 * NULL) holds n_splits ascending keys: range i starts at splits[i - 1] and
 * goes to the (i mod active)-th active member.  Caller owns; free with
 * kv_ring_fini. */
void kv_ring_init(kv_ring *r, kv_partitioner kind, uint32_t n, uint32_t n_members,
                  uint32_t n_active_initially, uint32_t vnodes, uint64_t n_keys, sim_rng *rng,
                  const uint64_t *splits, uint32_t n_splits);
void kv_ring_fini(kv_ring *r);
/* Activates (joins) or deactivates (leaves) a member; tokens are drawn from
 * rng when a member joins the hash ring for the first time and kept when it
 * leaves, so a member that rejoins takes its old place.  With range
 * partitioning and no split points, ranges are re-split equally. */
void kv_ring_set_active(kv_ring *r, uint32_t member, bool active, sim_rng *rng);
/* Writes min(n, active members) distinct members for key into out, in
 * preference order; returns how many. */
uint32_t kv_ring_preflist(const kv_ring *r, uint64_t key, uint32_t *out);
/* The first min(want, active members) distinct members met walking the ring
 * clockwise from key (want <= KV_MAX_WALK): the preference list and then
 * the nodes a sloppy quorum falls back on, in order. */
uint32_t kv_ring_walk(const kv_ring *r, uint64_t key, uint32_t want, uint32_t *out);
/* Ranges: the units anti-entropy compares, each with one preference list.
 * hash: the arc (previous token, token], by token index; range: the key
 * ranges; modulo: the residues.  A key's range, a range's bounds on the
 * ring (the whole ring, lo == hi, unless hash) and its preference list. */
uint32_t kv_ring_range_count(const kv_ring *r);
uint32_t kv_ring_range_of(const kv_ring *r, uint64_t key);
void kv_ring_range_bounds(const kv_ring *r, uint32_t range, uint64_t *lo, uint64_t *hi);
uint32_t kv_ring_range_preflist(const kv_ring *r, uint32_t range, uint32_t *out);
/* The key's position on the hash ring (also used by modulo). */
uint64_t kv_ring_key_pos(const kv_ring *r, uint64_t key);
/* Fraction of each member's share of the key space (hash: ring arc owned
 * as first replica; range: range length; modulo: 1/active).  out has
 * n_members entries. */
void kv_ring_shares(const kv_ring *r, double *out);

/* ------------------------------------------------------------------------ */
/* Storage: one replica's key -> version map.                               */

/* A version of a key.  LWW orders versions by (ts, wid); wid (the write's
 * id) is unique and 0 means "no version". */
typedef struct kv_version {
    sim_time ts;   /* coordinator's local clock at the write */
    uint32_t wid;  /* write id, unique per run; 0 = none */
    uint32_t size; /* value bytes */
} kv_version;

/* A delete is a version like any other (a tombstone), marked by its size. */
#define KV_TOMBSTONE UINT32_MAX
static inline bool kv_is_tombstone(kv_version v) { return v.wid != 0 && v.size == KV_TOMBSTONE; }

static inline bool kv_version_newer(kv_version a, kv_version b) {
    return a.ts > b.ts || (a.ts == b.ts && a.wid > b.wid);
}

/*
 * Open-addressing hash map from a 32-bit key id to its version, with linear
 * probing and tombstone-free deletion (backward shift).  An entry is 24
 * bytes; the table grows by half at 3/4 load, so a stored key costs 32 to 48
 * bytes, 39 on average over a growth cycle.
 */
typedef struct kv_store_entry {
    uint32_t key; /* UINT32_MAX = empty slot */
    uint32_t size;
    uint32_t wid;
    uint32_t _pad;
    sim_time ts;
} kv_store_entry;

typedef struct kv_store {
    kv_store_entry *slots;
    uint32_t cap; /* power of two, or 0 */
    uint32_t count;
} kv_store;

void kv_store_init(kv_store *st);
void kv_store_fini(kv_store *st);
void kv_store_clear(kv_store *st);
/* The stored version of key, or a version with wid 0. */
kv_version kv_store_get(const kv_store *st, uint32_t key);
/* Stores v if it is newer (LWW) than what is there; returns true if stored.
 * *old receives the previous version (wid 0 if none). */
bool kv_store_put_lww(kv_store *st, uint32_t key, kv_version v, kv_version *old);
/* Sets key to v unconditionally (v.wid == 0 removes the key). */
void kv_store_set(kv_store *st, uint32_t key, kv_version v);
static inline uint32_t kv_store_count(const kv_store *st) { return st->count; }
/* Bytes the table occupies. */
static inline size_t kv_store_bytes(const kv_store *st) {
    return (size_t)st->cap * sizeof(kv_store_entry);
}

/* ------------------------------------------------------------------------ */
/* Key choice.                                                              */

/*
 *  uniform:    every key equally likely.
 *  zipf:       rank r (1 = most popular) has probability proportional to
 *              r^-theta; with scramble, rank r is mapped to a key by a fixed
 *              pseudo-random permutation (so popular keys are spread over the
 *              key space, as with hashed ids), else rank r is key r - 1.
 *  hotspot:    a fraction hot_ops of operations go to the first hot_keys
 *              fraction of the keys, uniformly; the rest to the others.
 *  latest:     writes choose uniformly; reads choose among the most recently
 *              written keys, the r-th most recent with probability
 *              proportional to r^-theta (YCSB's "latest"), over a window of
 *              the last KV_RECENT writes; before any write, uniformly.
 *  sequential: writes take fresh ids 0, 1, 2, ... (wrapping at n_keys), like
 *              order ids; reads choose among the ids written so far like
 *              latest.
 */
typedef enum kv_pop_kind {
    KV_POP_UNIFORM,
    KV_POP_ZIPF,
    KV_POP_HOTSPOT,
    KV_POP_LATEST,
    KV_POP_SEQUENTIAL,
} kv_pop_kind;

#define KV_RECENT 65536u

typedef struct kv_keychooser {
    kv_pop_kind kind;
    uint64_t n_keys;
    double theta;    /* zipf, latest, sequential reads */
    double hot_ops;  /* hotspot: fraction of operations on hot keys */
    double hot_keys; /* hotspot: fraction of keys that are hot */
    bool scramble;   /* zipf: spread popular ranks over the key space */
    sim_zipf zipf;
    uint64_t next_id;  /* sequential: next fresh id */
    uint64_t *recent;  /* latest: ring buffer of the last KV_RECENT written keys */
    uint64_t n_recent; /* writes recorded (the buffer holds min(n, KV_RECENT)) */
} kv_keychooser;

/* Sets up a chooser (theta > 0 for zipf/latest/sequential; hot fractions in
 * (0,1)).  Caller owns; free with kv_keys_fini. */
void kv_keys_init(kv_keychooser *kc, kv_pop_kind kind, uint64_t n_keys, double theta,
                  double hot_ops, double hot_keys, bool scramble);
void kv_keys_fini(kv_keychooser *kc);
/* A key for a read or a write.  For sequential and latest the chooser's
 * state advances on writes (shared by all clients of a run, which is what
 * "the latest written" means). */
uint64_t kv_keys_next(kv_keychooser *kc, sim_rng *rng, bool is_write);

#endif
