/*
 * vclock.h - vector clocks and sibling sets for kv's `versioning: vclock`
 * (Dynamo §4.4, Riak's allow_mult).
 *
 * Every write gets a vector clock when its coordinator stamps it: the
 * pointwise maximum of the clocks of the siblings the client read before
 * (its context), with the entry of the write's *actor* raised above both
 * that and every counter the actor has issued before.  So a write that
 * read every earlier version descends from them all and replaces them; two
 * writes that did not see each other are concurrent and both stay, as
 * siblings, until a client reads both and writes again.
 *
 * The actor is the client (as Riak's client-side vector clocks), not the
 * coordinator as in the Dynamo paper: with coordinator ids, two clients
 * writing blind through the same coordinator get clocks in which the
 * second descends from the first, and the first is silently overwritten
 * (the lost update that led Riak to dotted version vectors).  With client
 * ids a clock's order is exactly what the clients saw, so the oracle can
 * judge reads by the clocks.
 *
 * A replica's value of a key is a *sibling set*: the writes it holds that
 * no other write it holds descends from.  Sets are interned, so equal sets
 * have equal ids and a set fits kv_version's 32-bit wid:
 *   - wid < KV_VC_SET_BIT: the set holding just that write;
 *   - wid >= KV_VC_SET_BIT: interned set number wid - KV_VC_SET_BIT, of two
 *     or more writes, kept sorted by write id.
 * A set's version has ts 0 and size = the value bytes of its members
 * (KV_TOMBSTONE only for a single delete).  Because clocks never change,
 * a version carries its clock by its write id: the table here stands for
 * the clock bytes a real message would carry (kv_vc_wire_bytes counts them).
 *
 * Clocks keep at most KV_VC_MAX_ENTRIES (64) entries, so up to 64 clients
 * may write a key without loss of ancestry; beyond, the entries with the
 * smallest counters are dropped (Dynamo truncates the oldest), which can make
 * a later write look concurrent with an earlier one (siblings multiply):
 * counted in truncations.
 */
#ifndef DSIM_KV_VCLOCK_H
#define DSIM_KV_VCLOCK_H

#include "kv_parts.h"

#define KV_VC_SET_BIT     0x80000000u
#define KV_VC_MAX_ENTRIES 64u
#define KV_VC_ENTRY_BYTES 8u /* node 4 + counter 4, on the wire */

typedef struct kv_vc_entry {
    uint32_t node, counter;
} kv_vc_entry;

typedef struct kv_vc {
    /* Per write id: its clock, entries sorted by node, in `pool`. */
    uint32_t *clock_off;
    uint8_t *clock_len;
    uint32_t *wsize; /* value bytes (KV_TOMBSTONE for a delete) */
    uint32_t n_writes, cap_writes;
    kv_vc_entry *pool;
    size_t n_pool, cap_pool;
    /* Per actor (client node): the last counter it issued. */
    uint32_t *issued;
    uint32_t n_nodes;
    /* Interned sets of two or more writes: members in `members`. */
    struct kv_vc_set {
        uint32_t off, len, size;
    } * sets;
    uint32_t n_sets, cap_sets;
    uint32_t *members;
    size_t n_members, cap_members;
    uint32_t *table; /* open addressing: set number + 1, 0 = empty */
    uint32_t table_cap;
    int64_t truncations;
} kv_vc;

void kv_vc_init(kv_vc *vc, uint32_t n_nodes);
void kv_vc_fini(kv_vc *vc);

/* Stamps write `wid` at coordinator `node`, whose client had read the
 * sibling set `context` (wid 0: nothing).  Idempotent: a write stamped
 * already (a duplicated request) keeps its first clock.  Returns the
 * write's own version (a set of one). */
kv_version kv_vc_stamp(kv_vc *vc, uint32_t wid, uint32_t size, uint32_t node, kv_version context);
/* The merge of two sets: their union, without the writes another member
 * descends from. */
kv_version kv_vc_merge(kv_vc *vc, kv_version a, kv_version b);
/* True if set a covers set b: every write of b is in a or an ancestor of a
 * write of a.  Everything covers the empty set. */
bool kv_vc_covers(const kv_vc *vc, kv_version a, kv_version b);
/* True if set a covers write wid. */
bool kv_vc_covers_write(const kv_vc *vc, kv_version a, uint32_t wid);
/* The writes of a set (its siblings): how many, and the i-th. */
uint32_t kv_vc_count(const kv_vc *vc, kv_version a);
uint32_t kv_vc_member(const kv_vc *vc, kv_version a, uint32_t i);
/* True if write wid is a delete. */
bool kv_vc_is_delete(const kv_vc *vc, uint32_t wid);
/* Bytes the set's clocks take on the wire. */
uint32_t kv_vc_wire_bytes(const kv_vc *vc, kv_version a);

#endif
