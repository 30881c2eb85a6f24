/*
 * web_common.c - what every role of the web model uses: the slot pool that
 * holds outstanding requests and jobs, sending a wire message, the window
 * histogram, and the users' hash.
 *
 * The pool: elements of one size in one array that doubles when full, up to
 * cap_max, with a free list.  A handle is the index and 8 bits of the
 * slot's generation, so an answer to a released request (a late response
 * after a timeout) finds nothing instead of another request.
 */
#include "web_int.h"

void web_pool_init(web_pool *p, size_t size, uint32_t cap_max) {
    SIM_ASSERT(size >= sizeof(web_slot) && cap_max <= WEB_MAX_SLOTS);
    *p = (web_pool){.size = size, .cap_max = cap_max, .free = UINT32_MAX};
}

void web_pool_fini(web_pool *p) {
    sim_free(p->items);
    p->items = NULL;
    p->n = p->live = 0;
    p->free = UINT32_MAX;
}

void *web_pool_at(const web_pool *p, uint32_t i) { return (char *)p->items + (size_t)i * p->size; }

void *web_pool_new(web_pool *p, uint32_t *h) {
    if (p->free == UINT32_MAX) {
        uint32_t old = p->n, cap = old ? old * 2 : 16;
        if (cap > p->cap_max)
            cap = p->cap_max;
        if (cap <= old)
            return NULL;
        p->items = sim_realloc(p->items, (size_t)cap * p->size);
        memset((char *)p->items + (size_t)old * p->size, 0, (size_t)(cap - old) * p->size);
        for (uint32_t i = cap; i-- > old;) {
            web_slot *sl = web_pool_at(p, i);
            sl->next = p->free;
            p->free = i;
        }
        p->n = cap;
    }
    uint32_t i = p->free;
    web_slot *sl = web_pool_at(p, i);
    p->free = sl->next;
    uint32_t gen = sl->gen;
    memset(sl, 0, p->size);
    sl->gen = gen;
    sl->used = 1;
    p->live++;
    *h = i | (gen & 0xffu) << WEB_SLOT_BITS;
    return sl;
}

void *web_pool_find(const web_pool *p, uint32_t h) {
    uint32_t i = h & WEB_SLOT_MASK;
    if (i >= p->n)
        return NULL;
    web_slot *sl = web_pool_at(p, i);
    return sl->used && (sl->gen & 0xffu) == h >> WEB_SLOT_BITS ? sl : NULL;
}

void web_pool_release(web_pool *p, void *item) {
    web_slot *sl = item;
    SIM_ASSERT(sl->used);
    uint32_t i = (uint32_t)(((char *)item - (char *)p->items) / (ptrdiff_t)p->size);
    sl->used = 0;
    sl->gen++;
    sl->next = p->free;
    p->free = i;
    p->live--;
}

void web_pool_clear(web_pool *p) {
    for (uint32_t i = 0; i < p->n; i++) {
        web_slot *sl = web_pool_at(p, i);
        if (sl->used)
            web_pool_release(p, sl);
    }
}

void web_send(sim_ctx *ctx, uint32_t dst, uint32_t type, const web_wire *w, int64_t bytes) {
    sim_send(ctx, dst, type, w, sizeof *w, bytes > 0 ? (uint32_t)bytes : (uint32_t)sizeof *w);
}

static int bucket_of(int64_t v) {
    if (v < 16)
        return v < 0 ? 0 : (int)v;
    int lg = 63 - __builtin_clzll((unsigned long long)v); /* >= 4 */
    int sub = (int)((v >> (lg - 4)) & 15);
    return (lg - 3) * 16 + sub;
}

/* The smallest value of bucket b and its width. */
static int64_t bucket_low(int b, int64_t *width) {
    if (b < 16) {
        *width = 1;
        return b;
    }
    int lg = b / 16 + 3, sub = b % 16;
    *width = (int64_t)1 << (lg - 4);
    return ((int64_t)(16 + sub)) << (lg - 4);
}

void web_hist_add(web_hist *h, int64_t v) {
    int b = bucket_of(v);
    if (b >= WEB_HBUCKETS)
        b = WEB_HBUCKETS - 1;
    h->b[b]++;
    h->n++;
    h->sum += (double)v;
}

int64_t web_hist_percentile(const web_hist *h, double p) {
    if (h->n == 0)
        return 0;
    int64_t want = (int64_t)((p / 100.0) * (double)h->n);
    if (want >= h->n)
        want = h->n - 1;
    int64_t seen = 0;
    for (int b = 0; b < WEB_HBUCKETS; b++) {
        seen += h->b[b];
        if (seen > want) {
            int64_t w, lo = bucket_low(b, &w);
            return lo + w / 2;
        }
    }
    return 0;
}

uint64_t web_user_hash(uint32_t user) { return sim_mix64((uint64_t)user + 0x9e3779b97f4a7c15ULL); }
