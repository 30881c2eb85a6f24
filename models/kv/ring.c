/*
 * ring.c - placement of keys on replicas: the consistent-hashing ring with
 * virtual nodes (Dynamo §4.2-4.3), and the range and modulo partitioners it
 * is compared against.  kv_ring_preflist runs for every request, so it
 * allocates nothing and costs one hash and a bucket lookup (hash), a little
 * integer arithmetic (range), or a hash and a modulo (modulo).  Membership
 * changes are rare and take time linear in the number of tokens.
 *
 * The hash ring's one allocation, r->tokens, holds three arrays (kv.c sees
 * only the first, which is what kv_parts.h describes):
 *  (1) the ring proper: tokens[0 .. n_tokens) are the active members'
 *      tokens sorted by (pos, owner).  Inactive members' tokens are removed
 *      rather than skipped, so a lookup never walks past them.
 *  (2) at tokens + T (T = n_members * vnodes), every member's own tokens,
 *      sorted, at member * vnodes; owner UINT32_MAX for a member that has
 *      never joined.  A member that leaves keeps its tokens here and
 *      rejoining merges the same tokens back, so it takes its old place.
 *  (3) after those, a bucket index that replaces the binary search: with
 *      B = 2^bits >= T buckets splitting the ring by the top bits of a
 *      position, index[1 + b] is the first ring token at or after bucket b's
 *      start (n_tokens if none), and index[0] holds 64 - bits, the shift
 *      from a position to its bucket.  A lookup reads its bucket's bounds
 *      and scans the fewer than one token a bucket holds on average: two or
 *      three cache lines instead of log2(n_tokens) dependent loads, which
 *      matters once the ring outgrows the L1 cache (1000 members of 16
 *      tokens are 256 KiB).
 */
#include "kv_parts.h"

#include <stdlib.h>
#include <string.h>

#define NO_OWNER UINT32_MAX

/* 2^-64, to turn arcs of the 64-bit ring into fractions. */
#define RING_FRACTION (1.0 / 18446744073709551616.0)

static int token_cmp(const void *a, const void *b) {
    const kv_token *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return (x->owner > y->owner) - (x->owner < y->owner);
}

static bool token_less(kv_token a, kv_token b) {
    return a.pos < b.pos || (a.pos == b.pos && a.owner < b.owner);
}

/* T, the most tokens the ring can hold. */
static size_t max_tokens(const kv_ring *r) { return (size_t)r->n_members * r->vnodes; }

/* Each member's own tokens, by member index. */
static kv_token *own_tokens(const kv_ring *r, uint32_t member) {
    return r->tokens + max_tokens(r) + (size_t)member * r->vnodes;
}

static uint32_t *bucket_index(const kv_ring *r) {
    return (uint32_t *)(void *)(r->tokens + 2 * max_tokens(r));
}

/* Bits of the bucket number: the smallest with 2^bits >= T. */
static uint32_t bucket_bits(size_t t) {
    uint32_t bits = 0;
    while (((size_t)1 << bits) < t)
        bits++;
    return bits;
}

/* Recomputes the bucket index from the sorted ring, in one pass over both. */
static void rebuild_index(kv_ring *r) {
    uint32_t *index = bucket_index(r);
    uint32_t bits = bucket_bits(max_tokens(r)), shift = 64 - bits;
    size_t buckets = (size_t)1 << bits;
    index[0] = shift;
    uint32_t i = 0;
    for (size_t b = 0; b < buckets; b++) {
        /* Bucket b starts at b << shift; a shift of 64 (one bucket) would be
         * undefined, and that bucket starts at 0 anyway. */
        uint64_t start = b == 0 ? 0 : (uint64_t)b << shift;
        while (i < r->n_tokens && r->tokens[i].pos < start)
            i++;
        index[1 + b] = i;
    }
    index[1 + buckets] = r->n_tokens;
}

static void rebuild_active_list(kv_ring *r) {
    r->n_active = 0;
    for (uint32_t m = 0; m < r->n_members; m++)
        if (r->active[m])
            r->active_list[r->n_active++] = m;
}

/* A member's first join: vnodes positions from the stream, kept sorted. */
static void draw_tokens(kv_ring *r, uint32_t member, sim_rng *rng) {
    kv_token *own = own_tokens(r, member);
    for (uint32_t i = 0; i < r->vnodes; i++)
        own[i] = (kv_token){sim_rng_u64(rng), member};
    qsort(own, r->vnodes, sizeof *own, token_cmp);
}

/* Merges member's tokens into the sorted ring, drawing them first if the
 * member has never joined.  The member's tokens are sorted, so this is one
 * backward merge in place, linear in the ring's size. */
static void ring_add_member(kv_ring *r, uint32_t member, sim_rng *rng) {
    kv_token *own = own_tokens(r, member);
    uint32_t v = r->vnodes;
    if (own[0].owner == NO_OWNER)
        draw_tokens(r, member, rng);
    uint32_t i = r->n_tokens, j = v, k = r->n_tokens + v;
    while (j > 0) {
        if (i > 0 && token_less(own[j - 1], r->tokens[i - 1]))
            r->tokens[--k] = r->tokens[--i];
        else
            r->tokens[--k] = own[--j];
    }
    r->n_tokens += v;
}

static void ring_remove_member(kv_ring *r, uint32_t member) {
    uint32_t kept = 0;
    for (uint32_t i = 0; i < r->n_tokens; i++)
        if (r->tokens[i].owner != member)
            r->tokens[kept++] = r->tokens[i];
    r->n_tokens = kept;
}

void kv_ring_init(kv_ring *r, kv_partitioner kind, uint32_t n, uint32_t n_members,
                  uint32_t n_active_initially, uint32_t vnodes, uint64_t n_keys, sim_rng *rng,
                  const uint64_t *splits, uint32_t n_splits) {
    SIM_ASSERT(n >= 1 && n <= KV_MAX_N);
    SIM_ASSERT(n_members >= 1 && n_active_initially <= n_members);
    SIM_ASSERT(n_keys >= 1);
    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->n = n;
    r->n_members = n_members;
    r->vnodes = kind == KV_PART_HASH ? vnodes : 0;
    r->n_keys = n_keys;
    /* Drawn first, so key positions depend on the stream alone and not on
     * how many tokens are drawn after. */
    r->seed = sim_rng_u64(rng);
    r->active = sim_calloc(n_members, sizeof *r->active);
    r->active_list = sim_calloc(n_members, sizeof *r->active_list);
    for (uint32_t m = 0; m < n_active_initially; m++)
        r->active[m] = true;
    rebuild_active_list(r);

    if (kind == KV_PART_HASH) {
        SIM_ASSERT(vnodes >= 1);
        SIM_ASSERT((uint64_t)n_members * vnodes <= UINT32_MAX / 2);
        size_t t = max_tokens(r), buckets = (size_t)1 << bucket_bits(t);
        size_t index_tokens =
            ((2 + buckets) * sizeof(uint32_t) + sizeof(kv_token) - 1) / sizeof(kv_token);
        r->tokens = sim_malloc((2 * t + index_tokens) * sizeof *r->tokens);
        for (size_t i = 0; i < 2 * t; i++)
            r->tokens[i] = (kv_token){0, NO_OWNER};
        /* The same draws as n_active_initially joins in index order, and
         * the same ring (the order is total), in one sort instead of a
         * linear merge per member. */
        for (uint32_t m = 0; m < n_active_initially; m++) {
            draw_tokens(r, m, rng);
            memcpy(r->tokens + (size_t)m * vnodes, own_tokens(r, m), vnodes * sizeof *r->tokens);
        }
        r->n_tokens = n_active_initially * vnodes;
        qsort(r->tokens, r->n_tokens, sizeof *r->tokens, token_cmp);
        rebuild_index(r);
    } else if (kind == KV_PART_RANGE && splits != NULL && n_splits > 0) {
        for (uint32_t i = 0; i < n_splits; i++)
            SIM_ASSERT(splits[i] <= n_keys && (i == 0 || splits[i - 1] <= splits[i]));
        r->splits = sim_malloc(n_splits * sizeof *r->splits);
        memcpy(r->splits, splits, n_splits * sizeof *r->splits);
        r->n_splits = n_splits;
    }
}

void kv_ring_fini(kv_ring *r) {
    sim_free(r->active);
    sim_free(r->active_list);
    sim_free(r->tokens);
    sim_free(r->splits);
    memset(r, 0, sizeof *r);
}

void kv_ring_set_active(kv_ring *r, uint32_t member, bool active, sim_rng *rng) {
    SIM_ASSERT(member < r->n_members);
    if (r->active[member] == active)
        return;
    r->active[member] = active;
    rebuild_active_list(r);
    if (r->kind == KV_PART_HASH) {
        if (active)
            ring_add_member(r, member, rng);
        else
            ring_remove_member(r, member);
        rebuild_index(r);
    }
}

uint64_t kv_ring_key_pos(const kv_ring *r, uint64_t key) {
    /* Little-endian bytes whatever the host, so positions are the same on
     * every machine.  Written out rather than looped: compilers merge the
     * eight byte stores into one (a loop costs more than the hash). */
    unsigned char b[8] = {(unsigned char)key,         (unsigned char)(key >> 8),
                          (unsigned char)(key >> 16), (unsigned char)(key >> 24),
                          (unsigned char)(key >> 32), (unsigned char)(key >> 40),
                          (unsigned char)(key >> 48), (unsigned char)(key >> 56)};
    return sim_hash64(b, sizeof b, r->seed);
}

/* Start of equal range i of n over [0, n_keys): floor(i * n_keys / n),
 * computed without overflowing 64 bits (i < n < 2^32). */
static uint64_t equal_bound(uint64_t n_keys, uint32_t n, uint32_t i) {
    uint64_t q = n_keys / n, rem = n_keys % n;
    return (uint64_t)i * q + (uint64_t)i * rem / n;
}

/* Number of ranges: one per active member by default, else fixed by the
 * split points. */
static uint32_t range_count(const kv_ring *r) {
    return r->splits != NULL ? r->n_splits + 1 : r->n_active;
}

static uint64_t range_start(const kv_ring *r, uint32_t i) {
    if (r->splits == NULL)
        return equal_bound(r->n_keys, r->n_active, i);
    return i == 0 ? 0 : r->splits[i - 1];
}

/* The range holding key.  Keys at or past n_keys belong to the last range. */
static uint32_t range_of(const kv_ring *r, uint64_t key) {
    uint32_t n = range_count(r);
    if (r->splits != NULL) {
        /* The last split <= key, by binary search. */
        uint32_t lo = 0, hi = r->n_splits;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (r->splits[mid] <= key)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }
    /* Equal ranges: a floating-point estimate, then exact integer steps.
     * The estimate is off by one at most, unless there are more ranges than
     * keys (then by about n / n_keys); the steps make the result exact. */
    double est = (double)key / (double)r->n_keys * (double)n;
    uint32_t i = est >= (double)(n - 1) ? n - 1 : (uint32_t)est;
    while (i > 0 && equal_bound(r->n_keys, n, i) > key)
        i--;
    while (i + 1 < n && equal_bound(r->n_keys, n, i + 1) <= key)
        i++;
    return i;
}

/* Fills out with min(n, active) consecutive active members, starting at
 * position `first` of active_list and wrapping. */
static uint32_t walk_active(const kv_ring *r, uint32_t first, uint32_t want, uint32_t *out) {
    uint32_t count = want < r->n_active ? want : r->n_active;
    for (uint32_t k = 0, j = first; k < count; k++) {
        out[k] = r->active_list[j];
        if (++j == r->n_active)
            j = 0;
    }
    return count;
}

/* The first token at or after pos, clockwise (wrapping to token 0). */
static uint32_t hash_token_at(const kv_ring *r, uint64_t pos) {
    const kv_token *t = r->tokens;
    /* The first token with pos >= the key's lies in the key's bucket or is
     * the first token of a later bucket. */
    const uint32_t *index = bucket_index(r);
    uint64_t b = index[0] == 64 ? 0 : pos >> index[0];
    uint32_t i = index[1 + b], end = index[2 + b];
    while (i < end && t[i].pos < pos)
        i++;
    return i == r->n_tokens ? 0 : i;
}

/* The first `want` distinct owners walking clockwise from token i. */
static uint32_t hash_walk(const kv_ring *r, uint32_t i, uint32_t want, uint32_t *out) {
    if (want > r->n_active)
        want = r->n_active;
    if (want == 0)
        return 0;
    const kv_token *t = r->tokens;
    uint32_t got = 0;
    /* Every active member has tokens on the ring, so the walk finds `want`
     * distinct owners within one turn. */
    for (uint32_t steps = 0; got < want && steps < r->n_tokens; steps++, i++) {
        if (i == r->n_tokens)
            i = 0;
        uint32_t owner = t[i].owner;
        bool seen = false;
        for (uint32_t k = 0; k < got; k++)
            seen |= out[k] == owner;
        if (!seen)
            out[got++] = owner;
    }
    SIM_ASSERT(got == want);
    return got;
}

uint32_t kv_ring_walk(const kv_ring *r, uint64_t key, uint32_t want, uint32_t *out) {
    if (r->n_active == 0)
        return 0;
    switch (r->kind) {
    case KV_PART_HASH:
        return hash_walk(r, hash_token_at(r, kv_ring_key_pos(r, key)), want, out);
    case KV_PART_RANGE:
        /* With split points there may be more ranges than active members;
         * range i then goes to the (i mod active)-th active member. */
        return walk_active(r, range_of(r, key) % r->n_active, want, out);
    case KV_PART_MODULO:
        return walk_active(r, (uint32_t)(kv_ring_key_pos(r, key) % r->n_active), want, out);
    }
    SIM_ASSERT(!"unknown partitioner");
    return 0;
}

uint32_t kv_ring_range_count(const kv_ring *r) {
    if (r->n_active == 0)
        return 0;
    switch (r->kind) {
    case KV_PART_HASH:
        return r->n_tokens;
    case KV_PART_RANGE:
        return range_count(r);
    case KV_PART_MODULO:
        return r->n_active;
    }
    return 0;
}

uint32_t kv_ring_range_of(const kv_ring *r, uint64_t key) {
    SIM_ASSERT(r->n_active > 0);
    switch (r->kind) {
    case KV_PART_HASH:
        return hash_token_at(r, kv_ring_key_pos(r, key));
    case KV_PART_RANGE:
        return range_of(r, key);
    case KV_PART_MODULO:
        return (uint32_t)(kv_ring_key_pos(r, key) % r->n_active);
    }
    return 0;
}

void kv_ring_range_bounds(const kv_ring *r, uint32_t range, uint64_t *lo, uint64_t *hi) {
    *lo = *hi = 0; /* the whole ring */
    if (r->kind != KV_PART_HASH || r->n_tokens < 2)
        return;
    uint64_t prev = r->tokens[range == 0 ? r->n_tokens - 1 : range - 1].pos;
    *lo = prev + 1;
    *hi = r->tokens[range].pos + 1;
}

uint32_t kv_ring_range_preflist(const kv_ring *r, uint32_t range, uint32_t *out) {
    if (r->n_active == 0)
        return 0;
    switch (r->kind) {
    case KV_PART_HASH:
        return hash_walk(r, range, r->n, out);
    case KV_PART_RANGE:
        return walk_active(r, range % r->n_active, r->n, out);
    case KV_PART_MODULO:
        return walk_active(r, range, r->n, out);
    }
    return 0;
}

uint32_t kv_ring_preflist(const kv_ring *r, uint64_t key, uint32_t *out) {
    return kv_ring_walk(r, key, r->n, out);
}

void kv_ring_shares(const kv_ring *r, double *out) {
    for (uint32_t m = 0; m < r->n_members; m++)
        out[m] = 0.0;
    if (r->n_active == 0)
        return;
    switch (r->kind) {
    case KV_PART_HASH:
        if (r->n_tokens == 1) {
            out[r->tokens[0].owner] = 1.0;
            return;
        }
        /* Token i serves positions (pos[i-1], pos[i]]; token 0 also the wrap
         * from the last token, which unsigned subtraction measures. */
        for (uint32_t i = 0; i < r->n_tokens; i++) {
            uint64_t prev = r->tokens[i == 0 ? r->n_tokens - 1 : i - 1].pos;
            out[r->tokens[i].owner] += (double)(r->tokens[i].pos - prev) * RING_FRACTION;
        }
        return;
    case KV_PART_RANGE: {
        uint32_t n = range_count(r);
        for (uint32_t i = 0; i < n; i++) {
            uint64_t end = i + 1 < n ? range_start(r, i + 1) : r->n_keys;
            out[r->active_list[i % r->n_active]] +=
                (double)(end - range_start(r, i)) / (double)r->n_keys;
        }
        return;
    }
    case KV_PART_MODULO:
        for (uint32_t k = 0; k < r->n_active; k++)
            out[r->active_list[k]] = 1.0 / r->n_active;
        return;
    }
}
