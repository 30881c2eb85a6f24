/*
 * web_cache.h - a browser-like HTTP client cache as a pure data structure:
 * one per user, keyed by resource, bounded in entries and bytes, with LRU,
 * LFU or FIFO eviction.  It knows nothing of messages, nodes or time
 * passing: the web model decides what is fresh, what to fetch and what to
 * store, and this file only keeps what was stored and chooses what to drop.
 *
 * Keys.  A key is a resource id (uint32_t) in the model's one catalogue:
 * a model with several classes of resource numbers them in one id space
 * (class offsets), which keeps an entry at 32 bytes where a packed 64-bit
 * (class, item) key would cost 8 more with padding.
 *
 * Entries.  What the model needs to serve, validate and refresh a copy:
 *  - version: the origin's version of the content.  It is also the ETag: a
 *    strong validator is anything unique per (resource, version), and the
 *    version is, so no separate 64-bit hash is stored (a model that wants
 *    an opaque header value derives one with sim_mix64).
 *  - expires: when the response was received plus max-age; the copy is
 *    fresh while now < expires.  no-cache (and max-age=0) is expires = the
 *    time it was stored: stored, but stale at once, so every use
 *    revalidates (RFC 9111 5.2.2.4).  SIM_TIME_MAX is "never expires".
 *  - size_bytes: what the copy counts against the byte capacity.
 * The copy's Last-Modified is not stored: it is a function of the version
 * (the origin knows which versions share a date at its resolution, and a
 * server answers If-Modified-Since from the version the request names), so
 * a second 8-byte field would say nothing the version does not.  Nor is
 * the time it was stored, which nothing reads (no Age header or heuristic
 * freshness is modelled): the entry stays at 32 bytes, two to a line.
 *
 * Policies (web_cache_policy).  The cache keeps its entries on lists, and
 * the victim is always the head of a list, never a position in the hash
 * table, so the same sequence of calls evicts the same entries in the same
 * order whatever the table's size or history (tests pin this):
 *  - LRU: one list in order of last use; web_cache_lookup and a replacing
 *    web_cache_insert move the entry to the most recent end.
 *  - LFU: in-cache use counts (a new entry has 1; web_cache_lookup adds 1;
 *    a count starts again at 1 when an evicted resource comes back), the
 *    victim being the least recently used entry of the lowest count.  O(1)
 *    with frequency buckets (Shah, Mitra and Matani 2010): a list of
 *    buckets in increasing count, each holding its entries in LRU order.
 *    Replacing an entry keeps its count: the lookup that found it stale
 *    already counted the request.  Counts stop at UINT32_MAX.
 *  - FIFO: insertion order; neither lookups nor replacements move an
 *    entry, so a copy refreshed a thousand times is still dropped first if
 *    it was stored first.
 *
 * Capacity.  max_entries and max_bytes bound the cache (0: that dimension
 * is unbounded).  An insert evicts from the victim end until the new copy
 * fits in both; a copy larger than max_bytes is never stored (and an older
 * copy of the same resource is removed, since it is known to be outdated).
 *
 * Evictions.  Counted; a hook (web_cache_on_evict) sees each victim before
 * it goes; and with web_cache_remember_evicted the cache keeps the last n
 * victims (a FIFO "ghost" list, as ARC's), so that on a miss the model can
 * tell a resource it never fetched from one it had and lost to an eviction
 * race, and even which version it lost.
 *
 * Memory.  An entry is 32 bytes (the fields above, two list links and a
 * hash-chain link); the index is an array of 4-byte chain heads with at
 * most 1 entry per head on average (4 to 8 bytes per entry); the entry
 * pool grows by doubling, capped at max_entries.  A full cache of a
 * million entries is about 36 bytes per entry (tests/test_web_cache.c
 * prints the figure); LFU
 * adds 4 bytes per entry and 20 per distinct count.  An empty cache
 * allocates nothing, so 100,000 mostly idle users cost only their structs.
 * Caches may instead share one pool of entries (web_cache_slab below):
 * then a cache's own tables are only its chain heads, and the pool holds
 * the copies stored and the slots freed, with no per-cache slack.
 *
 * Invariants (checked by tests/test_web_cache.c):
 *  (1) entries and bytes are the sums over the stored entries, after every
 *      call; entries <= max_entries and bytes <= max_bytes when bounded.
 *  (2) every stored entry is in exactly one hash chain and on exactly one
 *      policy list; a key is stored at most once.
 *  (3) eviction order is a function of the sequence of calls only.
 */
#ifndef DSIM_WEB_CACHE_H
#define DSIM_WEB_CACHE_H

#include "sim.h"

typedef enum web_cache_policy {
    WEB_CACHE_LRU,
    WEB_CACHE_LFU,
    WEB_CACHE_FIFO,
} web_cache_policy;

/* A stored copy.  The first four fields are the model's to read; the links
 * belong to web_cache.c. */
typedef struct web_cache_entry {
    sim_time expires;
    uint32_t key;
    uint32_t version; /* also the ETag */
    uint32_t size_bytes;
    uint32_t link_prev, link_next, link_chain;
} web_cache_entry;

/* What an insert stores: an entry's fields without its key and links. */
typedef struct web_cache_fields {
    uint32_t version;
    uint32_t size_bytes;
    sim_time expires;
} web_cache_fields;

/* Called with each victim just before it is evicted.  The entry is valid
 * only during the call, and the hook must not call into the cache. */
typedef void web_cache_evict_fn(void *arg, const web_cache_entry *victim);

/* A pool of entries several LRU or FIFO caches share (a client node's
 * users'), addressed by one 32-bit id space in one reservation of address
 * space (sim_reserve) that grows in place.  With private pools each cache
 * grows its own by reallocation, and the blocks it outgrows wait for a
 * cache of their size; a shared pool holds only the copies stored and the
 * ids they freed, with no copying.  Which pool an entry comes from changes
 * no result: ids are never a decision's input.  Fields are private. */
typedef struct web_cache_slab {
    web_cache_entry *base;
    uint32_t cap;    /* entries the reservation holds */
    uint32_t usable; /* entries made usable so far */
    uint32_t used;   /* entries ever handed out */
    uint32_t free;   /* freed ids, through link_next */
} web_cache_slab;

/* Reserves a shared pool for at most cap entries (the sum of its caches'
 * max_entries, below UINT32_MAX); false when the address space cannot be
 * had (s is then zeroed and the caches keep private pools). */
bool web_cache_slab_init(web_cache_slab *s, uint64_t cap);
/* Frees the pool; after every cache using it has been fini'd.  Safe on a
 * zeroed struct. */
void web_cache_slab_fini(web_cache_slab *s);
/* Bytes the pool occupies: the entries handed out, to a whole page. */
size_t web_cache_slab_bytes(const web_cache_slab *s);
/* Entries handed out (stored or freed for reuse), 32 bytes each. */
uint32_t web_cache_slab_entries(const web_cache_slab *s);

/* One LFU frequency bucket; private to web_cache.c. */
typedef struct web_cache_bucket web_cache_bucket;

/* Caller storage: web_cache_init fills it, web_cache_fini releases what it
 * allocated.  Fields are private; read them through the calls below. */
typedef struct web_cache {
    /* What a lookup reads, in the first 64 bytes: one cache line, the
     * struct being aligned to 64 (allocate arrays of caches with
     * sim_aligned_calloc). */
    _Alignas(64) web_cache_entry *pool;
    uint32_t *chains; /* hash index: chain heads, a power of two */
    uint64_t max_bytes, bytes;
    uint32_t max_entries, entries;
    uint32_t n_chains;
    uint32_t head; /* LRU and FIFO: the victim end */
    union {
        struct {
            uint32_t pool_used, pool_free; /* a pool of its own */
        };
        struct web_cache_slab *slab; /* shared: the pool that pool points into */
    };
    uint32_t tail;  /* LRU and FIFO: the newest end */
    uint8_t policy; /* a web_cache_policy */
    uint8_t shared; /* entries from slab (web_cache_use_slab) */
    uint8_t tagged; /* chain heads carry a filter of their keys (web_cache.c) */
    /* The rest. */
    uint32_t pool_cap;
    uint32_t initial;        /* the first insert sizes the tables for this many (0: 4) */
    struct sim_arena *arena; /* where the tables live (NULL: sim_malloc) */
    uint32_t *lfu_bucket;    /* LFU: each entry's bucket, parallel to pool */
    web_cache_bucket *lfu;   /* LFU: the bucket pool */
    struct web_cache *ghost;
    web_cache_evict_fn *on_evict;
    void *evict_arg;
    uint64_t evictions, rejected;
    uint32_t lfu_cap, lfu_used, lfu_free, lfu_low;
} web_cache;

/* Makes an empty cache in caller storage.  max_entries, max_bytes: the
 * capacity, 0 for unbounded; max_entries below UINT32_MAX.  Allocates
 * nothing until the first insert. */
void web_cache_init(web_cache *c, web_cache_policy policy, uint32_t max_entries,
                    uint64_t max_bytes);
/* Makes the cache allocate its tables from arena a (sim/arena.h) instead
 * of sim_malloc; before the first insert (or after a clear).  The arena
 * must outlive the cache.  Changes no result. */
void web_cache_use_arena(web_cache *c, struct sim_arena *a);
/* Makes the cache take its entries from shared pool s instead of a pool
 * of its own; before the first insert, for an LRU or FIFO cache with no
 * ghost list.  Its clear and fini give the entries back to s, which must
 * outlive it.  Changes no result. */
void web_cache_use_slab(web_cache *c, web_cache_slab *s);
/* Frees what the cache allocated (entries, index, ghost list); the struct
 * is the caller's.  Safe on a zeroed struct. */
void web_cache_fini(web_cache *c);
/* Drops every entry (a user clearing the browser's cache): not counted as
 * evictions; the ghost list is emptied too.  Policy, capacity, hook and
 * counters stay. */
void web_cache_clear(web_cache *c);

/* Sets the eviction hook (NULL: none); arg stays the caller's. */
void web_cache_on_evict(web_cache *c, web_cache_evict_fn *fn, void *arg);
/* Keeps the last n victims (0: none, the default) for web_cache_evicted.
 * An entry stored again leaves the ghost list.  Costs about 50 bytes per
 * remembered victim, allocated as they come. */
void web_cache_remember_evicted(web_cache *c, uint32_t n);
/* Sizes the pool and index for n entries now, so that n inserts allocate
 * nothing.  Changes no result: only the table's layout. */
void web_cache_reserve(web_cache *c, uint32_t n);
/* The same, deferred to the first insert (and again after a clear): a
 * cache that is never used allocates nothing, one that is starts at the
 * size it will likely need instead of doubling up to it.  A hint that
 * changes no result. */
void web_cache_reserve_at_first_insert(web_cache *c, uint32_t n);

/*
 * Returns the entry stored for key, or NULL.  A lookup is a use: LRU moves
 * the entry to the most recent end, LFU adds one to its count.  The
 * pointer is valid until the next insert, remove or clear.
 */
const web_cache_entry *web_cache_lookup(web_cache *c, uint32_t key);
/* As web_cache_lookup, but not a use: nothing moves. */
const web_cache_entry *web_cache_peek(const web_cache *c, uint32_t key);
/* Hints for speed, which change nothing: start fetching what a lookup of
 * (or an insert at) key will read first.  Without the key, the chain
 * heads, as many lines as a small table has (a lookup's second miss); with
 * it, that key's chain head, the newest end of the list (a store links the
 * copy there) and the entry a new copy would take. */
static inline void web_cache_prefetch(const web_cache *c) {
    if (!c->chains)
        return;
    __builtin_prefetch(c->chains);
    if (c->n_chains > 16)
        __builtin_prefetch(c->chains + 16);
}
void web_cache_prefetch_key(const web_cache *c, uint32_t key);

/* True while the copy may be served without revalidation. */
static inline bool web_cache_fresh(const web_cache_entry *e, sim_time now) {
    return now < e->expires;
}

/*
 * Stores the fields under key, replacing any entry it has (a 200 with a new
 * version, or a 304 refreshing stored_at and expires), and evicts from the
 * victim end until the cache is within capacity; the entry being replaced
 * is never its own victim.  Returns the stored entry (valid as for
 * lookup), or NULL when size_bytes exceeds max_bytes: then nothing is
 * stored, any older copy of key is removed, and the rejection is counted.
 */
const web_cache_entry *web_cache_insert(web_cache *c, uint32_t key, const web_cache_fields *f);
/* Removes key's entry; returns false if there was none.  Not an eviction. */
bool web_cache_remove(web_cache *c, uint32_t key);

/* The copy of key most recently evicted, if it is still among the last n
 * victims web_cache_remember_evicted keeps and key was not inserted since
 * (even an insert refused as oversized supersedes it); else NULL.  Valid
 * until the next call that changes the cache. */
const web_cache_entry *web_cache_evicted(const web_cache *c, uint32_t key);

/* Counters. */
uint32_t web_cache_entries(const web_cache *c);
uint64_t web_cache_bytes(const web_cache *c);
/* Entries evicted to make room (removals and clears are not evictions). */
uint64_t web_cache_evictions(const web_cache *c);
/* Inserts refused because the copy exceeded max_bytes. */
uint64_t web_cache_rejected(const web_cache *c);
/* Bytes the cache has allocated (pool, index, LFU buckets, ghost list),
 * for the model's memory estimate and the tests' per-entry figure. */
size_t web_cache_memory_bytes(const web_cache *c);

#endif
