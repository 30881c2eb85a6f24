/*
 * merkle.h - Merkle trees for kv anti-entropy: one tree per replica per
 * token range, updated in O(depth) on every write, compared between two
 * replicas from the root down, level by level, so that only the branches
 * whose hashes differ are followed and only the keys under differing leaves
 * are streamed (Dynamo §4.7; Cassandra's "validation compaction" builds the
 * same tree, of 2^15 leaves per range, from scratch instead).
 *
 * Shape.  A perfect binary tree of depth d (1 <= d <= KV_MERKLE_MAX_DEPTH):
 * level 0 is the root, level d holds the 2^d leaves; node i of level j
 * (0 <= i < 2^j) has children 2i and 2i+1 of level j+1.  Nodes live in one
 * array in heap order (node (j, i) at slot 2^j + i, slot 0 unused), which
 * costs 2^(d+1) * 8 bytes, plus 2^d * 4 bytes of per-leaf key counts:
 * about 20 * 2^d bytes in all (640 KiB at d = 15, 20 KiB at d = 10).  A
 * tree allocates nothing until its first key, so empty ranges are free.
 *
 * Hashes.
 *  - A key's digest is a 64-bit hash of (key, ts, wid): kv_merkle_digest.
 *    It is 0 exactly when wid is 0 ("no version"), so the old and new
 *    versions kv_store hands back can be passed straight to update.
 *  - A leaf's hash is the sum mod 2^64 of the digests of its keys.  A sum
 *    (rather than a sorted list hashed in order) is what makes a write O(1)
 *    at the leaf: subtract the old digest, add the new one; and it makes the
 *    tree independent of the order keys arrived in.  A sum rather than an
 *    XOR so that a digest added twice by mistake shows up as a difference
 *    instead of cancelling out.  Two different key sets collide with
 *    probability about 2^-64 per comparison of a leaf.
 *  - An internal node is 0 when both children are 0, else a strong 64-bit
 *    mix of the two children, with the rare 0 result mapped to 1.  So an
 *    empty subtree hashes to 0, two empty trees compare equal at the root
 *    at once, and a node is 0 only if its subtree is empty (up to a leaf
 *    sum that is 0 by chance, probability 2^-64).
 *  - Digests and node hashes are built from the splitmix64 finalizer on
 *    whole words, not XXH3 over bytes: 2.5 to 3.5 times faster per write
 *    (docs/performance.md, "Merkle trees"), the same on every host, and
 *    strong enough for data that no adversary chooses (merkle.c says why).
 *
 * Placement.  The caller gives each key a 64-bit position (its hashed
 * position on the ring) and the range [lo, hi) the tree covers;
 * kv_merkle_leaf_of splits the range into 2^d equal slices, in ring order.
 * Dynamo-style token ranges are (prev, token]: pass lo = prev + 1,
 * hi = token + 1 (mod 2^64).
 *
 * Invariants (checked by tests/test_merkle.c):
 *  (1) leaf hash = sum of the digests of the keys in the leaf; leaf count =
 *      the number of those keys; n_keys = the sum of the counts.
 *  (2) every internal node = H(left child, right child) as above, except
 *      between kv_merkle_load and kv_merkle_rehash (the tree is then
 *      "stale" and may not be read or compared).
 *  (3) hence the tree is a function of the set of (key, version) pairs
 *      and their leaves only: order of writes, deletes and re-inserts, or a
 *      bulk rebuild, give the same array.
 *
 * Exchange.  Each replica knows only its own tree.  The protocol runs in
 * rounds, one message per level, directions alternating:
 *
 *   side X                                   side Y
 *   kv_merkle_hashes(level 0, {0})  ---->    kv_merkle_differ -> D0
 *                                            (empty: in sync, stop)
 *                                            kv_merkle_children(D0) -> I1
 *   kv_merkle_differ -> D1          <----    kv_merkle_hashes(level 1, I1)
 *   kv_merkle_children(D1) -> I2
 *   kv_merkle_hashes(level 2, I2)   ---->    ...
 *   ... until the differing set is one of leaves (level d): the side that
 *   found it streams the (key, digest) pairs of its keys in those leaves,
 *   and the other answers with the versions that repair the difference.
 *
 * Hashes sent = 1 for the root + 2 per differing internal node; messages =
 * levels reached (d + 1 when some leaf differs).  kv_merkle_diff runs the
 * whole descent between two local trees and counts exactly that.
 *
 * Message sizes, in bytes, for the kv model's accounting:
 *   every message          KV_MERKLE_HEADER_BYTES (32): type, range id,
 *                          level, count, sender, exchange id
 *   per hash               KV_MERKLE_INDEX_BYTES + KV_MERKLE_HASH_BYTES
 *                          (4 + 8): the node index and its hash
 *   per key in a key list  KV_MERKLE_KEY_BYTES + KV_MERKLE_DIGEST_BYTES
 *                          (8 + 8): the key and its version's digest
 *   per repaired key       KV_MERKLE_KEY_BYTES + KV_MERKLE_VERSION_BYTES +
 *                          value bytes (8 + 16 + size): the key, its full
 *                          version (ts 8, wid 4, size 4), the value
 * The "full" mode that anti-entropy replaces ships every key's (key, digest)
 * in one key list: kv_merkle_keys_msg_bytes(n_keys).
 */
#ifndef DSIM_KV_MERKLE_H
#define DSIM_KV_MERKLE_H

#include "sim.h"

#define KV_MERKLE_MAX_DEPTH 20u

#define KV_MERKLE_HEADER_BYTES  32u
#define KV_MERKLE_HASH_BYTES    8u
#define KV_MERKLE_INDEX_BYTES   4u
#define KV_MERKLE_KEY_BYTES     8u
#define KV_MERKLE_DIGEST_BYTES  8u
#define KV_MERKLE_VERSION_BYTES 16u

typedef struct kv_merkle {
    uint32_t depth;
    bool stale;       /* loaded but not rehashed: invariant (2) does not hold */
    uint64_t *nodes;  /* 2^(depth+1) hashes in heap order (slot 0 unused); NULL = all 0 */
    uint32_t *counts; /* 2^depth per-leaf key counts; NULL = all 0 */
    uint64_t n_keys;  /* keys in the tree */
} kv_merkle;

/* What one descent between two trees cost (kv_merkle_diff). */
typedef struct kv_merkle_stats {
    uint64_t hashes;     /* hashes sent: 1 + 2 per differing internal node */
    uint32_t levels;     /* levels at which hashes were sent = messages = round trips */
    uint64_t hash_bytes; /* bytes of those messages (kv_merkle_hashes_msg_bytes each) */
    uint64_t leaves;     /* differing leaves */
    uint64_t keys_a;     /* keys of tree a in the differing leaves */
    uint64_t keys_b;     /* keys of tree b in the differing leaves */
} kv_merkle_stats;

/* An empty tree of 2^depth leaves, 1 <= depth <= KV_MERKLE_MAX_DEPTH
 * (aborts otherwise).  Allocates nothing until the first key.  Caller owns;
 * free with kv_merkle_fini. */
void kv_merkle_init(kv_merkle *t, uint32_t depth);
void kv_merkle_fini(kv_merkle *t);
/* Empties the tree and gives its memory back (a replica that lost its data);
 * the depth is kept. */
void kv_merkle_clear(kv_merkle *t);

/* The digest of a key's version: 0 if wid is 0 (no version), else a
 * nonzero 64-bit hash of (key, ts, wid), the same on every machine. */
uint64_t kv_merkle_digest(uint32_t key, int64_t ts, uint32_t wid);

/* The leaf of position pos in the range [lo, hi) of the 64-bit ring:
 * floor((pos - lo) * 2^depth / (hi - lo)), differences taken mod 2^64.
 * lo > hi is a range that wraps past 2^64 - 1 to 0; lo == hi is the whole
 * ring.  Leaves follow ring order and hold equal slices (to one position).
 * pos must lie in the range (aborts otherwise).  O(depth). */
uint32_t kv_merkle_leaf_of(const kv_merkle *t, uint64_t lo, uint64_t hi, uint64_t pos);

/* Replaces one key's digest in a leaf and rehashes its ancestors: O(depth).
 * old_digest 0 inserts a key, new_digest 0 deletes one, both 0 or equal is
 * a no-op.  The caller must pass the digest the key really had (the tree
 * cannot tell); a delete from an empty leaf aborts. */
void kv_merkle_update(kv_merkle *t, uint32_t leaf, uint64_t old_digest, uint64_t new_digest);

/* Bulk loading: adds a key's digest (nonzero) to a leaf without touching
 * the ancestors, O(1), and marks the tree stale; kv_merkle_rehash then
 * recomputes every internal node, O(2^depth).  For rebuilding a tree from a
 * whole store (after a crash, or a bootstrap): n keys cost O(n + 2^depth)
 * instead of O(n * depth).  A stale tree may not be read or compared. */
void kv_merkle_load(kv_merkle *t, uint32_t leaf, uint64_t digest);
void kv_merkle_rehash(kv_merkle *t);

/* Node i of level j (0 = root, depth = leaves). */
uint64_t kv_merkle_node(const kv_merkle *t, uint32_t level, uint32_t index);
static inline uint64_t kv_merkle_root(const kv_merkle *t) { return kv_merkle_node(t, 0, 0); }
/* Keys in a leaf. */
uint32_t kv_merkle_leaf_count(const kv_merkle *t, uint32_t leaf);
static inline uint64_t kv_merkle_count(const kv_merkle *t) { return t->n_keys; }
/* Bytes the tree occupies (0 while nothing was allocated). */
size_t kv_merkle_bytes(const kv_merkle *t);

/* ---- The exchange, one side at a time. ---- */

/* Sender: the hashes of nodes idx[0..n) of a level, into out[0..n). */
void kv_merkle_hashes(const kv_merkle *t, uint32_t level, const uint32_t *idx, size_t n,
                      uint64_t *out);
/* Receiver: compares received hashes of nodes idx[0..n) of a level with its
 * own and writes the indexes that differ to out, in input order; returns how
 * many.  out may be idx. */
size_t kv_merkle_differ(const kv_merkle *t, uint32_t level, const uint32_t *idx,
                        const uint64_t *hashes, size_t n, uint32_t *out);
/* The 2n children (2i, 2i + 1 for each i, in order) of nodes idx[0..n);
 * out holds 2n and may be idx. */
void kv_merkle_children(const uint32_t *idx, size_t n, uint32_t *out);

/* ---- The exchange between two local trees of the same depth. ---- */

/* Of the children (level + 1) of nodes idx[0..n) of a level, writes those
 * whose hashes differ between a and b to out (room for 2n), in order;
 * returns how many.  One round of the descent, both sides at once. */
size_t kv_merkle_children_differ(const kv_merkle *a, const kv_merkle *b, uint32_t level,
                                 const uint32_t *idx, size_t n, uint32_t *out);
/* Runs the whole descent from the root and returns the number of differing
 * leaves; the first min(that, cap) of them, ascending, go to leaves_out
 * (may be NULL when cap is 0).  st (may be NULL) receives the cost. */
size_t kv_merkle_diff(const kv_merkle *a, const kv_merkle *b, uint32_t *leaves_out, size_t cap,
                      kv_merkle_stats *st);

/* ---- Message sizes (see the table above). ---- */

/* A message carrying n (index, hash) pairs. */
static inline uint64_t kv_merkle_hashes_msg_bytes(uint64_t n) {
    return KV_MERKLE_HEADER_BYTES + n * (KV_MERKLE_INDEX_BYTES + KV_MERKLE_HASH_BYTES);
}
/* A message carrying n (key, digest) pairs: the keys of differing leaves,
 * or, in full mode, every key. */
static inline uint64_t kv_merkle_keys_msg_bytes(uint64_t n) {
    return KV_MERKLE_HEADER_BYTES + n * (KV_MERKLE_KEY_BYTES + KV_MERKLE_DIGEST_BYTES);
}
/* A message carrying n repaired keys with value_bytes of values in all. */
static inline uint64_t kv_merkle_repair_msg_bytes(uint64_t n, uint64_t value_bytes) {
    return KV_MERKLE_HEADER_BYTES + n * (KV_MERKLE_KEY_BYTES + KV_MERKLE_VERSION_BYTES) +
           value_bytes;
}

#endif
