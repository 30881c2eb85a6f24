/*
 * keys.c - which key a workload operation touches: uniform, Zipf (optionally
 * scrambled over the key space), hotspot, latest (reads favour recent writes)
 * and sequential ids.  Key spaces go up to 10^9 keys and beyond, so nothing
 * here is sized by n_keys: Zipf is the kernel's table-free
 * rejection-inversion sampler, and the scramble is a permutation computed
 * arithmetically rather than stored.
 *
 * Latest and sequential reads pick the r-th most recent write with
 * probability proportional to r^-theta over a window of the last
 * min(writes, KV_RECENT) writes.  Latest keeps those writes in a ring
 * buffer; sequential writes are consecutive ids, so the r-th most recent is
 * next_id - r (mod n_keys) and needs no buffer.
 */
#include "kv_parts.h"

#include <math.h>

/* Bits needed to write n - 1 (0 for n = 1), by halving (this runs on every
 * scrambled draw). */
static unsigned bit_width(uint64_t n) {
    uint64_t v = n - 1;
    unsigned b = 0;
    for (unsigned half = 32; half > 0; half /= 2)
        if (v >> half != 0) {
            v >>= half;
            b += half;
        }
    return b + (unsigned)v;
}

/*
 * A fixed pseudo-random permutation of [0, n): a bijection g of the b-bit
 * integers (b = bit width of n - 1), applied repeatedly until the value falls
 * below n ("cycle walking").  Walking along g's cycle from x < n stops at the
 * next element of the cycle below n, which maps [0, n) onto itself one to
 * one.  Every value in [n, 2^b) is stepped over once in all, so the steps
 * average 2^b / n < 2 over the keys.
 *
 * g is an add, then xorshift-multiply rounds in the style of a hash
 * finalizer, all modulo 2^b: adding a constant, multiplying by an odd
 * constant and x ^= x >> s (s >= 1) are each invertible on b bits.
 */
static uint64_t scramble_step(uint64_t x, uint64_t mask, unsigned shift) {
    x = (x + 0x9e3779b97f4a7c15u) & mask;
    x ^= x >> shift;
    x = (x * 0xbf58476d1ce4e5b9u) & mask;
    x ^= x >> shift;
    x = (x * 0x94d049bb133111ebu) & mask;
    x ^= x >> shift;
    return x;
}

static uint64_t scramble(uint64_t x, uint64_t n) {
    unsigned b = bit_width(n);
    if (b == 0)
        return 0;
    uint64_t mask = b == 64 ? UINT64_MAX : (UINT64_C(1) << b) - 1;
    unsigned shift = (b + 1) / 2;
    do
        x = scramble_step(x, mask, shift);
    while (x >= n);
    return x;
}

void kv_keys_init(kv_keychooser *kc, kv_pop_kind kind, uint64_t n_keys, double theta,
                  double hot_ops, double hot_keys, bool scramble_ranks) {
    SIM_ASSERT(n_keys >= 1);
    *kc = (kv_keychooser){.kind = kind,
                          .n_keys = n_keys,
                          .theta = theta,
                          .hot_ops = hot_ops,
                          .hot_keys = hot_keys,
                          .scramble = scramble_ranks};
    switch (kind) {
    case KV_POP_UNIFORM:
        break;
    case KV_POP_ZIPF:
        sim_zipf_init(&kc->zipf, n_keys, theta);
        break;
    case KV_POP_HOTSPOT:
        SIM_ASSERT(hot_ops >= 0.0 && hot_ops <= 1.0);
        SIM_ASSERT(hot_keys > 0.0 && hot_keys < 1.0);
        break;
    case KV_POP_LATEST:
        kc->recent = sim_malloc(KV_RECENT * sizeof *kc->recent);
        /* fall through */
    case KV_POP_SEQUENTIAL:
        SIM_ASSERT(theta > 0.0 && isfinite(theta));
        /* Sized to the window on the first read after a write. */
        kc->zipf.n = 0;
        break;
    }
}

void kv_keys_fini(kv_keychooser *kc) {
    sim_free(kc->recent);
    kc->recent = NULL;
}

/* The hot set is the first n_hot keys: at least one, and at least one key
 * left cold when there are two keys or more. */
static uint64_t hot_count(const kv_keychooser *kc) {
    uint64_t h = (uint64_t)(kc->hot_keys * (double)kc->n_keys);
    if (h < 1)
        h = 1;
    if (kc->n_keys >= 2 && h > kc->n_keys - 1)
        h = kc->n_keys - 1;
    return h;
}

static uint64_t hotspot_key(const kv_keychooser *kc, sim_rng *rng) {
    if (kc->n_keys == 1)
        return 0;
    uint64_t h = hot_count(kc);
    if (sim_rng_double(rng) < kc->hot_ops)
        return sim_rng_below64(rng, h);
    return h + sim_rng_below64(rng, kc->n_keys - h);
}

/* Recency rank (1 = the last write) for a read, Zipf over the current
 * window.  The sampler is set up again only when the window has grown,
 * which stops after the first KV_RECENT writes. */
static uint64_t recency_rank(kv_keychooser *kc, sim_rng *rng) {
    uint64_t window = kc->n_recent < KV_RECENT ? kc->n_recent : KV_RECENT;
    if (kc->zipf.n != window)
        sim_zipf_init(&kc->zipf, window, kc->theta);
    return sim_zipf_sample(&kc->zipf, rng);
}

/* The r-th most recent id, next_id - r modulo n_keys, computed without going
 * negative or overflowing. */
static uint64_t sequential_read(kv_keychooser *kc, sim_rng *rng) {
    uint64_t back = recency_rank(kc, rng) % kc->n_keys;
    return kc->next_id >= back ? kc->next_id - back : kc->next_id + (kc->n_keys - back);
}

uint64_t kv_keys_next(kv_keychooser *kc, sim_rng *rng, bool is_write) {
    switch (kc->kind) {
    case KV_POP_UNIFORM:
        return sim_rng_below64(rng, kc->n_keys);
    case KV_POP_ZIPF: {
        uint64_t k = sim_zipf_sample(&kc->zipf, rng) - 1;
        return kc->scramble ? scramble(k, kc->n_keys) : k;
    }
    case KV_POP_HOTSPOT:
        return hotspot_key(kc, rng);
    case KV_POP_LATEST:
        if (is_write) {
            uint64_t k = sim_rng_below64(rng, kc->n_keys);
            kc->recent[kc->n_recent++ % KV_RECENT] = k;
            return k;
        }
        if (kc->n_recent == 0)
            return sim_rng_below64(rng, kc->n_keys);
        return kc->recent[(kc->n_recent - recency_rank(kc, rng)) % KV_RECENT];
    case KV_POP_SEQUENTIAL:
        if (is_write) {
            uint64_t k = kc->next_id;
            kc->next_id = k + 1 == kc->n_keys ? 0 : k + 1;
            kc->n_recent++;
            return k;
        }
        if (kc->n_recent == 0)
            return sim_rng_below64(rng, kc->n_keys);
        return sequential_read(kc, rng);
    }
    SIM_ASSERT(!"unknown key popularity");
    return 0;
}
