/*
 * web_cache.c - the client cache's entry pool, hash index and eviction
 * lists (web_cache.h describes the behaviour and its invariants).
 *
 * Entries live in one pool addressed by 32-bit ids, so that links are 4
 * bytes and the pool can grow by realloc without fixing pointers; freed
 * ids go on a free list threaded through link_next and are reused last in,
 * first out.  The pool is the cache's own, or a web_cache_slab several
 * caches share (one reservation that grows in place, so pool stays put and
 * every access is the same c->pool[id]); with a shared one, ids depend on
 * the other caches' calls too.  No decision depends on them: the victim is
 * always the head of a list (the LRU or FIFO list, or the lowest LFU
 * bucket's list), and a lookup compares keys.
 *
 * The index is separate chaining over the pool: chains[h] heads a list
 * threaded through link_chain, h being the low bits of the splitmix64
 * finalizer of the key.  Chains are allowed an average length of 1 before
 * the head array doubles: a lookup that misses (most of a browser's, in a
 * large catalogue) then visits at most one entry on average besides the
 * head, and every entry visited is a cache miss among 100,000 users'
 * caches.  Load 2 would halve the index (2 to 4 bytes per entry instead of
 * 4 to 8) and cost the benchmark about 6 % (docs/performance.md: measured,
 * load 1/2 gained nothing more for 8 bytes more).  A chain's order depends
 * on the table's
 * history, which is why nothing but find() ever walks one.
 */
#include "web_cache.h"

#include "arena.h"

#include <stddef.h>
#include <string.h>

#define NONE UINT32_MAX

/* The per-entry figure web_cache.h promises. */
_Static_assert(sizeof(web_cache_entry) == 32, "web_cache_entry grew");
_Static_assert(offsetof(web_cache, pool_cap) == 64, "a lookup's fields fill the first line");
_Static_assert(offsetof(web_cache, shared) < 64, "an insert tells its pool from the first line");

/* Chains per head allowed on average before the index doubles. */
#define MAX_CHAIN_LOAD 1u

struct web_cache_bucket {
    uint32_t count;
    uint32_t prev, next; /* neighbouring buckets, in increasing count */
    uint32_t head, tail; /* the bucket's entries, least recently used first */
};

/* ---- Lists of entries, threaded through link_prev and link_next. ---- */

static void list_push_tail(web_cache_entry *pool, uint32_t *head, uint32_t *tail, uint32_t id) {
    pool[id].link_prev = *tail;
    pool[id].link_next = NONE;
    if (*tail != NONE)
        pool[*tail].link_next = id;
    else
        *head = id;
    *tail = id;
}

static void list_unlink(web_cache_entry *pool, uint32_t *head, uint32_t *tail, uint32_t id) {
    uint32_t prev = pool[id].link_prev, next = pool[id].link_next;
    if (prev != NONE)
        pool[prev].link_next = next;
    else
        *head = next;
    if (next != NONE)
        pool[next].link_prev = prev;
    else
        *tail = prev;
}

/* ---- Tables: from the cache's arena if it has one, else sim_malloc. ---- */

static void *tab_resize(web_cache *c, void *p, size_t old_bytes, size_t new_bytes) {
    if (c->arena)
        return sim_arena_realloc(c->arena, p, old_bytes, new_bytes);
    return sim_realloc(p, new_bytes);
}

static void tab_free(web_cache *c, void *p, size_t bytes) {
    if (c->arena)
        sim_arena_free(c->arena, p, bytes);
    else
        sim_free(p);
}

/* What a table of `bytes` occupies. */
static size_t tab_bytes(const web_cache *c, size_t bytes) {
    return c->arena && bytes ? sim_arena_block_size(bytes) : bytes;
}

/* ---- The pool. ---- */

/* The pool size after cap in the sequence 4, 6, 8, 12, 16, 24, ...  (2^k
 * and 1.5 x 2^k): each is a size class of the arena, so that a pool of
 * 32-byte entries fills its block exactly, and growing by 3/2 and 4/3 in
 * turn leaves less slack than doubling, still at O(1) per insert. */
static uint32_t next_cap(uint32_t cap) {
    if (cap < 4)
        return 4;
    uint32_t p = 1u << (31 - __builtin_clz(cap)); /* the power of two <= cap */
    if (cap < p + p / 2)
        return p + p / 2;
    return p > UINT32_MAX / 2 ? UINT32_MAX - 1 : 2 * p;
}

/* Grows the pool to hold at least `want` entries, to the next sizes of
 * next_cap's sequence, but never past max_entries, so that a full bounded
 * cache carries no slack. */
static void pool_grow(web_cache *c, uint32_t want) {
    uint32_t cap = c->pool_cap;
    while (cap < want)
        cap = next_cap(cap);
    if (c->max_entries && cap > c->max_entries)
        cap = c->max_entries > want ? c->max_entries : want;
    if (cap <= c->pool_cap)
        return;
    c->pool = tab_resize(c, c->pool, (size_t)c->pool_cap * sizeof *c->pool,
                         (size_t)cap * sizeof *c->pool);
    if (c->policy == WEB_CACHE_LFU)
        c->lfu_bucket = tab_resize(c, c->lfu_bucket, (size_t)c->pool_cap * sizeof *c->lfu_bucket,
                                   (size_t)cap * sizeof *c->lfu_bucket);
    c->pool_cap = cap;
}

/* Entries made usable at a time in a shared pool: 2 MiB. */
#define SLAB_STEP (((uint32_t)2 << 20) / (uint32_t)sizeof(web_cache_entry))

static uint32_t slab_alloc(web_cache_slab *s) {
    uint32_t id = s->free;
    if (id != NONE) {
        s->free = s->base[id].link_next;
        return id;
    }
    SIM_ASSERT(s->used < s->cap); /* each cache stays within its max_entries */
    if (s->used == s->usable) {
        uint32_t to = s->cap - s->usable < SLAB_STEP ? s->cap : s->usable + SLAB_STEP;
        sim_reserve_grow(s->base, (size_t)s->cap * sizeof *s->base,
                         (size_t)s->usable * sizeof *s->base, (size_t)to * sizeof *s->base);
        s->usable = to;
    }
    return s->used++;
}

static uint32_t pool_alloc(web_cache *c) {
    if (c->shared)
        return slab_alloc(c->slab);
    uint32_t id = c->pool_free;
    if (id != NONE) {
        c->pool_free = c->pool[id].link_next;
        return id;
    }
    if (c->pool_used == c->pool_cap)
        pool_grow(c, c->pool_used + 1);
    return c->pool_used++;
}

static void pool_release(web_cache *c, uint32_t id) {
    uint32_t *free = c->shared ? &c->slab->free : &c->pool_free;
    c->pool[id].link_next = *free;
    *free = id;
}

/* ---- The hash index. ---- */

/* Tagged chain heads.  When every id the cache can use is below
 * ID_MASK (24 bits: a bounded cache, or a shared pool, of fewer than 16.7
 * million entries), a head keeps its chain's first id in its low 24 bits
 * and in its top 8 a tiny Bloom filter of the chain's keys: each key sets
 * one bit, chosen by the top bits of its hash (the chain takes the low
 * ones).  A lookup of a key whose bit is clear misses without reading an
 * entry: most lookups in a browser's cache miss, and with one key per
 * chain on average that saves an entry read (a cache miss among 100,000
 * caches) in 7 of 8 misses on a chain that is not empty.  NONE, all ones,
 * stays the empty head: no id reaches 2^24 - 1. */
#define TAG_SHIFT 24
#define ID_MASK   ((1u << TAG_SHIFT) - 1)

static uint32_t tag_of(uint64_t hash) { return 1u << (TAG_SHIFT + (uint32_t)(hash >> 61)); }

/* The first id of the chain a head starts (NONE for an empty one). */
static uint32_t head_id(const web_cache *c, uint32_t head) {
    return head == NONE || !c->tagged ? head : head & ID_MASK;
}

static uint32_t chain_of(const web_cache *c, uint64_t hash) {
    return (uint32_t)hash & (c->n_chains - 1);
}

static uint32_t find(const web_cache *c, uint32_t key) {
    if (c->n_chains == 0)
        return NONE;
    uint64_t hash = sim_mix64(key);
    uint32_t id = c->chains[chain_of(c, hash)];
    if (id == NONE)
        return NONE;
    if (c->tagged) {
        if (!(id & tag_of(hash)))
            return NONE; /* no key of the chain has this key's bit */
        id &= ID_MASK;
    }
    while (id != NONE && c->pool[id].key != key)
        id = c->pool[id].link_chain;
    return id;
}

void web_cache_prefetch_key(const web_cache *c, uint32_t key) {
    if (c->n_chains == 0)
        return;
    __builtin_prefetch(&c->chains[chain_of(c, sim_mix64(key))]);
    if (c->tail != NONE)
        __builtin_prefetch(&c->pool[c->tail]);
    /* Not checked against pool_cap, which is on the struct's second line:
     * a prefetch past the pool is harmless (it never faults).  A shared
     * pool's next entry is not on this line (and its frontier is written
     * in order anyway). */
    if (!c->shared)
        __builtin_prefetch(&c->pool[c->pool_free != NONE ? c->pool_free : c->pool_used]);
}

/* Links id at the front of its chain. */
static void chain_push(web_cache *c, uint32_t id) {
    uint64_t hash = sim_mix64(c->pool[id].key);
    uint32_t *head = &c->chains[chain_of(c, hash)];
    c->pool[id].link_chain = head_id(c, *head);
    if (!c->tagged) {
        *head = id;
        return;
    }
    SIM_ASSERT(id < ID_MASK);
    uint32_t tags = *head == NONE ? 0 : *head & ~ID_MASK;
    *head = id | tags | tag_of(hash);
}

/* Rebuilds the index with n heads (a power of two), walking the old chains:
 * the order this gives the new chains is arbitrary, and harmless, since
 * only find() reads them. */
static void index_resize(web_cache *c, uint32_t n) {
    uint32_t *old = c->chains, n_old = c->n_chains;
    c->chains = tab_resize(c, NULL, 0, (size_t)n * sizeof *c->chains);
    memset(c->chains, 0xff, (size_t)n * sizeof *c->chains);
    c->n_chains = n;
    for (uint32_t h = 0; h < n_old; h++) {
        uint32_t id = head_id(c, old[h]);
        while (id != NONE) {
            uint32_t next = c->pool[id].link_chain;
            chain_push(c, id);
            id = next;
        }
    }
    tab_free(c, old, (size_t)n_old * sizeof *old);
}

/* Adds id to the index; called before entries counts it. */
static void index_add(web_cache *c, uint32_t id) {
    if (c->n_chains == 0)
        index_resize(c, 4);
    else if (c->entries + 1 > (uint64_t)MAX_CHAIN_LOAD * c->n_chains &&
             c->n_chains <= UINT32_MAX / 2)
        index_resize(c, c->n_chains * 2);
    chain_push(c, id);
}

static void index_del(web_cache *c, uint32_t id) {
    uint32_t *head = &c->chains[chain_of(c, sim_mix64(c->pool[id].key))];
    uint32_t first = head_id(c, *head);
    if (first == id) {
        first = c->pool[id].link_chain;
    } else {
        uint32_t *link = &c->pool[first].link_chain;
        while (*link != id) {
            SIM_ASSERT(*link != NONE);
            link = &c->pool[*link].link_chain;
        }
        *link = c->pool[id].link_chain;
    }
    if (!c->tagged || first == NONE) {
        *head = first;
        return;
    }
    /* The filter again, from the keys left (usually none or one). */
    uint32_t tags = 0;
    for (uint32_t e = first; e != NONE; e = c->pool[e].link_chain)
        tags |= tag_of(sim_mix64(c->pool[e].key));
    *head = first | tags;
}

/* ---- LFU frequency buckets. ---- */

/* Makes a bucket for `count` and links it after `after` (NONE: at the low
 * end).  May move c->lfu, so callers hold bucket ids, not pointers. */
static uint32_t bucket_new(web_cache *c, uint32_t count, uint32_t after) {
    uint32_t b = c->lfu_free;
    if (b != NONE) {
        c->lfu_free = c->lfu[b].next;
    } else {
        if (c->lfu_used == c->lfu_cap) {
            uint32_t cap = c->lfu_cap ? c->lfu_cap * 2 : 4;
            c->lfu = tab_resize(c, c->lfu, (size_t)c->lfu_cap * sizeof *c->lfu,
                                (size_t)cap * sizeof *c->lfu);
            c->lfu_cap = cap;
        }
        b = c->lfu_used++;
    }
    web_cache_bucket *k = &c->lfu[b];
    k->count = count;
    k->head = k->tail = NONE;
    k->prev = after;
    k->next = after == NONE ? c->lfu_low : c->lfu[after].next;
    if (k->next != NONE)
        c->lfu[k->next].prev = b;
    if (after == NONE)
        c->lfu_low = b;
    else
        c->lfu[after].next = b;
    return b;
}

static void bucket_free(web_cache *c, uint32_t b) {
    web_cache_bucket *k = &c->lfu[b];
    if (k->prev != NONE)
        c->lfu[k->prev].next = k->next;
    else
        c->lfu_low = k->next;
    if (k->next != NONE)
        c->lfu[k->next].prev = k->prev;
    k->next = c->lfu_free;
    c->lfu_free = b;
}

static void lfu_add(web_cache *c, uint32_t id) {
    uint32_t b = c->lfu_low;
    if (b == NONE || c->lfu[b].count != 1)
        b = bucket_new(c, 1, NONE);
    list_push_tail(c->pool, &c->lfu[b].head, &c->lfu[b].tail, id);
    c->lfu_bucket[id] = b;
}

static void lfu_unlink(web_cache *c, uint32_t id) {
    uint32_t b = c->lfu_bucket[id];
    list_unlink(c->pool, &c->lfu[b].head, &c->lfu[b].tail, id);
    if (c->lfu[b].head == NONE)
        bucket_free(c, b);
}

/* One more use: the entry moves to the tail of the next count's bucket,
 * which is made right after its own if it does not exist yet. */
static void lfu_touch(web_cache *c, uint32_t id) {
    uint32_t b = c->lfu_bucket[id], count = c->lfu[b].count;
    uint32_t nb = b;
    if (count != UINT32_MAX) {
        nb = c->lfu[b].next;
        if (nb == NONE || c->lfu[nb].count != count + 1)
            nb = bucket_new(c, count + 1, b);
    }
    list_unlink(c->pool, &c->lfu[b].head, &c->lfu[b].tail, id);
    list_push_tail(c->pool, &c->lfu[nb].head, &c->lfu[nb].tail, id);
    c->lfu_bucket[id] = nb;
    if (c->lfu[b].head == NONE)
        bucket_free(c, b);
}

/* ---- Policy lists. ---- */

static void policy_add(web_cache *c, uint32_t id) {
    if (c->policy == WEB_CACHE_LFU)
        lfu_add(c, id);
    else
        list_push_tail(c->pool, &c->head, &c->tail, id);
}

static void policy_unlink(web_cache *c, uint32_t id) {
    if (c->policy == WEB_CACHE_LFU)
        lfu_unlink(c, id);
    else
        list_unlink(c->pool, &c->head, &c->tail, id);
}

static void policy_use(web_cache *c, uint32_t id) {
    if (c->policy == WEB_CACHE_LRU) {
        list_unlink(c->pool, &c->head, &c->tail, id);
        list_push_tail(c->pool, &c->head, &c->tail, id);
    } else if (c->policy == WEB_CACHE_LFU) {
        lfu_touch(c, id);
    }
}

/* The next victim other than `keep` (NONE: any).  There is one whenever the
 * cache is over capacity, since `keep` alone always fits. */
static uint32_t victim(const web_cache *c, uint32_t keep) {
    uint32_t v;
    if (c->policy == WEB_CACHE_LFU) {
        SIM_ASSERT(c->lfu_low != NONE);
        v = c->lfu[c->lfu_low].head;
        if (v == keep) {
            v = c->pool[v].link_next;
            if (v == NONE && c->lfu[c->lfu_low].next != NONE)
                v = c->lfu[c->lfu[c->lfu_low].next].head;
        }
    } else {
        v = c->head;
        if (v == keep && v != NONE)
            v = c->pool[v].link_next;
    }
    SIM_ASSERT(v != NONE);
    return v;
}

/* Takes id out of the index, its list and the counters, and frees it. */
static void detach(web_cache *c, uint32_t id) {
    index_del(c, id);
    policy_unlink(c, id);
    c->entries--;
    c->bytes -= c->pool[id].size_bytes;
    pool_release(c, id);
}

static const web_cache_entry *store(web_cache *c, uint32_t key, const web_cache_fields *f);

static void evict(web_cache *c, uint32_t keep) {
    uint32_t v = victim(c, keep);
    const web_cache_entry *e = &c->pool[v];
    if (c->on_evict)
        c->on_evict(c->evict_arg, e);
    if (c->ghost) {
        web_cache_fields g = {e->version, e->size_bytes, e->expires};
        store(c->ghost, e->key, &g);
    }
    detach(c, v);
    c->evictions++;
}

/* ---- Public calls. ---- */

void web_cache_init(web_cache *c, web_cache_policy policy, uint32_t max_entries,
                    uint64_t max_bytes) {
    SIM_ASSERT(max_entries != UINT32_MAX);
    memset(c, 0, sizeof *c);
    c->policy = policy;
    c->max_entries = max_entries;
    c->tagged = max_entries > 0 && max_entries < ID_MASK;
    c->max_bytes = max_bytes;
    c->pool_free = c->head = c->tail = NONE;
    c->lfu_free = c->lfu_low = NONE;
}

static void release(web_cache *c) {
    if (c->shared) {
        /* Every entry is on exactly one chain: back to the shared pool,
         * unless the pool is gone already (web_cache_slab_fini). */
        for (uint32_t h = 0; c->slab->base && h < c->n_chains; h++)
            for (uint32_t id = head_id(c, c->chains[h]); id != NONE;) {
                uint32_t next = c->pool[id].link_chain;
                pool_release(c, id);
                id = next;
            }
    } else {
        tab_free(c, c->pool, (size_t)c->pool_cap * sizeof *c->pool);
    }
    tab_free(c, c->chains, (size_t)c->n_chains * sizeof *c->chains);
    tab_free(c, c->lfu_bucket, (size_t)c->pool_cap * sizeof *c->lfu_bucket);
    tab_free(c, c->lfu, (size_t)c->lfu_cap * sizeof *c->lfu);
    if (c->ghost) {
        web_cache_fini(c->ghost);
        sim_free(c->ghost);
    }
}

void web_cache_fini(web_cache *c) {
    release(c);
    memset(c, 0, sizeof *c);
}

void web_cache_clear(web_cache *c) {
    web_cache kept = *c;
    uint32_t ghosts = c->ghost ? c->ghost->max_entries : 0;
    release(c);
    web_cache_init(c, (web_cache_policy)kept.policy, kept.max_entries, kept.max_bytes);
    c->arena = kept.arena;
    c->initial = kept.initial;
    c->on_evict = kept.on_evict;
    c->evict_arg = kept.evict_arg;
    c->evictions = kept.evictions;
    c->rejected = kept.rejected;
    if (kept.shared)
        web_cache_use_slab(c, kept.slab);
    web_cache_remember_evicted(c, ghosts);
}

bool web_cache_slab_init(web_cache_slab *s, uint64_t cap) {
    memset(s, 0, sizeof *s);
    if (cap == 0 || cap >= UINT32_MAX)
        return false;
    /* Ordinary pages: the pool fills from its start (sim.h; in the web
     * benchmark huge pages cost 13 MiB more at the peak, and 4 % of the
     * time). */
    s->base = sim_reserve((size_t)cap * sizeof *s->base, false);
    if (!s->base)
        return false;
    s->cap = (uint32_t)cap;
    s->free = NONE;
    return true;
}

void web_cache_slab_fini(web_cache_slab *s) {
    sim_reserve_free(s->base, (size_t)s->cap * sizeof *s->base);
    memset(s, 0, sizeof *s);
}

size_t web_cache_slab_bytes(const web_cache_slab *s) {
    const size_t page = 4096; /* the reservation's pages (sim_reserve) */
    return ((size_t)s->used * sizeof *s->base + page - 1) / page * page;
}
uint32_t web_cache_slab_entries(const web_cache_slab *s) { return s->used; }

void web_cache_use_slab(web_cache *c, web_cache_slab *s) {
    SIM_ASSERT(c->pool_cap == 0 && c->n_chains == 0 && c->policy != WEB_CACHE_LFU && !c->ghost);
    SIM_ASSERT(s->base && c->max_entries > 0);
    c->shared = 1;
    c->slab = s;
    c->pool = s->base;
    c->tagged = s->cap < ID_MASK;
}

void web_cache_use_arena(web_cache *c, sim_arena *a) {
    SIM_ASSERT(c->pool_cap == 0 && c->n_chains == 0 && c->lfu_cap == 0);
    c->arena = a;
    if (c->ghost)
        web_cache_use_arena(c->ghost, a);
}

void web_cache_on_evict(web_cache *c, web_cache_evict_fn *fn, void *arg) {
    c->on_evict = fn;
    c->evict_arg = arg;
}

void web_cache_remember_evicted(web_cache *c, uint32_t n) {
    SIM_ASSERT(n == 0 || !c->shared);
    if (n == 0) {
        if (c->ghost) {
            web_cache_fini(c->ghost);
            sim_free(c->ghost);
            c->ghost = NULL;
        }
        return;
    }
    if (!c->ghost) {
        c->ghost = sim_aligned_calloc(_Alignof(web_cache), 1, sizeof *c->ghost);
        web_cache_init(c->ghost, WEB_CACHE_FIFO, n, 0);
        c->ghost->arena = c->arena;
        return;
    }
    c->ghost->max_entries = n;
    while (c->ghost->entries > n)
        evict(c->ghost, NONE);
}

void web_cache_reserve(web_cache *c, uint32_t n) {
    if (n > c->pool_cap && !c->shared)
        pool_grow(c, n);
    uint32_t heads = 4;
    while ((uint64_t)MAX_CHAIN_LOAD * heads < n && heads <= UINT32_MAX / 2)
        heads *= 2;
    if (heads > c->n_chains)
        index_resize(c, heads);
}

void web_cache_reserve_at_first_insert(web_cache *c, uint32_t n) {
    if (c->max_entries && n > c->max_entries)
        n = c->max_entries;
    c->initial = n;
}

const web_cache_entry *web_cache_lookup(web_cache *c, uint32_t key) {
    uint32_t id = find(c, key);
    if (id == NONE)
        return NULL;
    policy_use(c, id);
    return &c->pool[id];
}

const web_cache_entry *web_cache_peek(const web_cache *c, uint32_t key) {
    uint32_t id = find(c, key);
    return id == NONE ? NULL : &c->pool[id];
}

/* The insert proper, without the ghost list's bookkeeping (the ghost list
 * itself stores through it); id is key's entry, or NONE. */
static const web_cache_entry *store_at(web_cache *c, uint32_t key, const web_cache_fields *f,
                                       uint32_t id) {
    if (c->max_bytes && f->size_bytes > c->max_bytes) {
        if (id != NONE)
            detach(c, id);
        c->rejected++;
        return NULL;
    }
    if (id != NONE) {
        web_cache_entry *e = &c->pool[id];
        c->bytes = c->bytes - e->size_bytes + f->size_bytes;
        e->version = f->version;
        e->size_bytes = f->size_bytes;
        e->expires = f->expires;
        if (c->policy == WEB_CACHE_LRU)
            policy_use(c, id);
        while (c->max_bytes && c->bytes > c->max_bytes)
            evict(c, id);
        return &c->pool[id];
    }
    while ((c->max_entries && c->entries >= c->max_entries) ||
           (c->max_bytes && c->bytes + f->size_bytes > c->max_bytes))
        evict(c, NONE);
    if (c->n_chains == 0 && c->initial > 0)
        web_cache_reserve(c, c->initial);
    id = pool_alloc(c);
    web_cache_entry *e = &c->pool[id];
    e->key = key;
    e->version = f->version;
    e->size_bytes = f->size_bytes;
    e->expires = f->expires;
    index_add(c, id);
    policy_add(c, id);
    c->entries++;
    c->bytes += f->size_bytes;
    return &c->pool[id];
}

static const web_cache_entry *store(web_cache *c, uint32_t key, const web_cache_fields *f) {
    return store_at(c, key, f, find(c, key));
}

const web_cache_entry *web_cache_insert(web_cache *c, uint32_t key, const web_cache_fields *f) {
    /* Whatever happens to key now, a copy evicted earlier is superseded. */
    if (c->ghost)
        web_cache_remove(c->ghost, key);
    return store(c, key, f);
}

bool web_cache_remove(web_cache *c, uint32_t key) {
    uint32_t id = find(c, key);
    if (id == NONE)
        return false;
    detach(c, id);
    return true;
}

const web_cache_entry *web_cache_evicted(const web_cache *c, uint32_t key) {
    return c->ghost ? web_cache_peek(c->ghost, key) : NULL;
}

uint32_t web_cache_entries(const web_cache *c) { return c->entries; }
uint64_t web_cache_bytes(const web_cache *c) { return c->bytes; }
uint64_t web_cache_evictions(const web_cache *c) { return c->evictions; }
uint64_t web_cache_rejected(const web_cache *c) { return c->rejected; }

size_t web_cache_memory_bytes(const web_cache *c) {
    size_t n = tab_bytes(c, (size_t)c->pool_cap * sizeof *c->pool) +
               tab_bytes(c, (size_t)c->n_chains * sizeof *c->chains);
    if (c->lfu_bucket)
        n += tab_bytes(c, (size_t)c->pool_cap * sizeof *c->lfu_bucket);
    n += tab_bytes(c, (size_t)c->lfu_cap * sizeof *c->lfu);
    if (c->ghost)
        n += sizeof *c->ghost + web_cache_memory_bytes(c->ghost);
    return n;
}
