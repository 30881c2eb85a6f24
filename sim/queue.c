/*
 * queue.c - the future event list: a radix heap over pooled event slots.
 *
 * Radix heap with 4-bit digits.  Let `last` be the time of the last pop.
 * An entry of time t lives in bucket 0 if t == last; otherwise let L be the
 * highest 4-bit digit position (0..15) where t differs from last and d the
 * value of t's digit there: the entry lives in bucket 1 + 16 L + d.  Bucket
 * order is time order: every entry of a lower bucket is earlier than every
 * entry of a higher one.  Push appends to its bucket and notes the bucket's
 * minimum.  Pop takes from bucket 0; when bucket 0 is empty, the lowest
 * non-empty bucket k (a 256-bit set, found with count-trailing-zeros) gives
 * its minimum m, `last` becomes m, and every entry of bucket k moves to a
 * lower bucket, since it now agrees with m on digit L and above.  Entries
 * only move down, one digit level or more at a time: with times spread over
 * 2^b ns and gaps of 2^g, an entry moves about (b - g) / 4 times.  Binary
 * digits (the textbook radix heap) move entries four times as often.
 *
 * FIFO among equal times.  Claim: every bucket holds its entries in
 * insertion order.  A push appends the newest entry.  A redistribution
 * empties bucket k into buckets below k, which are all empty at that moment
 * (k is the lowest non-empty one), copying in order.  So order is kept, and
 * bucket 0, which holds exactly the entries with the smallest time, pops
 * them oldest first.
 *
 * Times are below 2^63, so the highest bucket is 1 + 16 * 15 + 7 = 248.
 *
 * Limits: 2^24 pending events (checked).
 */
#include "queue.h"

#include <string.h>

void sim_queue_init(sim_queue *q) {
    memset(q, 0, sizeof *q);
    q->free_head = UINT32_MAX;
    for (int k = 0; k < SIM_QUEUE_BUCKETS; k++)
        q->b[k].min = SIM_TIME_MAX;
}

static uint32_t size_class(uint32_t len) {
    uint32_t c = 0;
    while ((64u << c) < len)
        c++;
    SIM_ASSERT(c < SIM_QUEUE_CLASSES);
    return c;
}

void sim_queue_fini(sim_queue *q) {
    for (uint32_t i = 0; i < q->n_slots; i++) {
        sim_event *ev = sim_queue_slot(q, i);
        if (ev->kind && ev->len > SIM_EV_INLINE)
            sim_free(ev->data.ext);
    }
    for (int c = 0; c < SIM_QUEUE_CLASSES; c++) {
        void *b = q->buf_free[c];
        while (b) {
            void *next = *(void **)b;
            sim_free(b);
            b = next;
        }
    }
    for (int k = 0; k < SIM_QUEUE_BUCKETS; k++)
        sim_free(q->b[k].e);
    for (uint32_t c = 0; c < q->n_chunks; c++)
        sim_free(q->chunks[c]);
    sim_free(q->chunks);
    memset(q, 0, sizeof *q);
    q->free_head = UINT32_MAX;
}

uint32_t sim_queue_alloc(sim_queue *q) {
    uint32_t slot;
    if (q->free_head != UINT32_MAX) {
        slot = q->free_head;
        q->free_head = sim_queue_slot(q, slot)->node;
    } else {
        if (q->n_slots == SIM_QUEUE_MAX_SLOTS)
            sim_panic(__FILE__, __LINE__, "more than %u pending events", SIM_QUEUE_MAX_SLOTS);
        if (q->n_slots == q->n_chunks * SIM_QUEUE_CHUNK) {
            q->chunks = sim_realloc(q->chunks, (q->n_chunks + 1) * sizeof *q->chunks);
            q->chunks[q->n_chunks++] = sim_aligned_calloc(64, SIM_QUEUE_CHUNK, sizeof(sim_event));
        }
        slot = q->n_slots++;
        sim_queue_slot(q, slot)->gen = 1;
    }
    sim_event *ev = sim_queue_slot(q, slot);
    uint32_t gen = ev->gen;
    memset(ev, 0, sizeof *ev);
    ev->gen = gen;
    return slot;
}

void sim_queue_set_data(sim_queue *q, sim_event *ev, const void *data, uint32_t len) {
    ev->len = len;
    if (len <= SIM_EV_INLINE) {
        if (len)
            memcpy(ev->data.bytes, data, len);
        return;
    }
    uint32_t c = size_class(len);
    void *b = q->buf_free[c];
    if (b)
        q->buf_free[c] = *(void **)b;
    else
        b = sim_malloc((size_t)64 << c);
    memcpy(b, data, len);
    ev->data.ext = b;
}

void sim_queue_free(sim_queue *q, uint32_t slot) {
    sim_event *ev = sim_queue_slot(q, slot);
    SIM_ASSERT(ev->kind != 0);
    if (ev->len > SIM_EV_INLINE) {
        uint32_t c = size_class(ev->len);
        *(void **)ev->data.ext = q->buf_free[c];
        q->buf_free[c] = ev->data.ext;
    }
    ev->kind = 0;
    ev->len = 0;
    ev->gen++;
    if (ev->gen == 0)
        ev->gen = 1; /* generation 0 is reserved for SIM_TIMER_NONE */
    ev->node = q->free_head;
    q->free_head = slot;
}

static inline uint32_t bucket_of(sim_time t, sim_time last) {
    uint64_t x = (uint64_t)t ^ (uint64_t)last;
    if (!x)
        return 0;
    uint32_t level = (63u - (uint32_t)__builtin_clzll(x)) >> 2;
    return 1u + (level << 4) + (uint32_t)(((uint64_t)t >> (level << 2)) & 15u);
}

static inline void append(sim_queue *q, uint32_t k, sim_qentry e) {
    sim_qbucket *b = &q->b[k];
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->e = sim_realloc(b->e, (size_t)b->cap * sizeof *b->e);
    }
    /* min is SIM_TIME_MAX while the bucket is empty: no branch here. */
    bool lower = e.time < b->min;
    b->min = lower ? e.time : b->min;
    b->min_slot = lower ? e.slot : b->min_slot;
    b->e[b->n++] = e;
    /* Bucket 0 is not in the set: pop drains it before any refill. */
    q->nonempty[k >> 6] |= (uint64_t)(k != 0) << (k & 63);
}

void sim_queue_push(sim_queue *q, sim_time t, uint32_t slot) {
    SIM_ASSERT(t >= q->last);
    append(q, bucket_of(t, q->last), (sim_qentry){t, slot});
    q->size++;
    q->live++;
}

/* Bucket 0 is empty: moves the lowest non-empty bucket down.  Returns false
 * when nothing is queued. */
static bool refill(sim_queue *q) {
    uint32_t k = 0;
    for (uint32_t w = 0; w < 4; w++) {
        if (q->nonempty[w]) {
            k = (w << 6) + (uint32_t)__builtin_ctzll(q->nonempty[w]);
            break;
        }
        if (w == 3)
            return false;
    }
    sim_qbucket *b = &q->b[k];
    sim_time m = b->min;
    q->last = m;
    uint32_t n = b->n;
    b->n = 0;
    b->min = SIM_TIME_MAX;
    q->nonempty[k >> 6] &= ~((uint64_t)1 << (k & 63));
    for (uint32_t i = 0; i < n; i++)
        append(q, bucket_of(b->e[i].time, m), b->e[i]);
    return true;
}

uint32_t sim_queue_pop(sim_queue *q, sim_time *t) {
    for (;;) {
        sim_qbucket *b0 = &q->b[0];
        if (q->head0 == b0->n) {
            b0->n = q->head0 = 0;
            b0->min = SIM_TIME_MAX;
            if (!refill(q))
                return UINT32_MAX;
        }
        sim_qentry e = b0->e[q->head0++];
        q->size--;
        uint32_t slot = (uint32_t)e.slot;
        sim_event *ev = sim_queue_slot(q, slot);
        /* The next event's slot is read when it is popped, an event's
         * dispatch from now: fetch its line while this one runs.  (Slots are
         * recycled in free-list order, so pending events are scattered over
         * the pool; without this the pop waits on the load.)  The next is
         * the rest of bucket 0, or else the minimum of the lowest non-empty
         * bucket, unless the dispatch schedules an earlier one. */
        if (q->head0 < b0->n) {
            __builtin_prefetch(sim_queue_slot(q, (uint32_t)b0->e[q->head0].slot));
        } else {
            for (uint32_t w = 0; w < 4; w++)
                if (q->nonempty[w]) {
                    uint32_t k = (w << 6) + (uint32_t)__builtin_ctzll(q->nonempty[w]);
                    __builtin_prefetch(sim_queue_slot(q, (uint32_t)q->b[k].min_slot));
                    break;
                }
        }
        if (ev->cancelled) {
            sim_queue_free(q, slot);
            continue;
        }
        q->live--;
        ev->cancelled = 2; /* being dispatched: no longer cancellable */
        *t = e.time;
        return slot;
    }
}

bool sim_queue_cancel(sim_queue *q, uint32_t slot, uint32_t gen) {
    if (slot >= q->n_slots)
        return false;
    sim_event *ev = sim_queue_slot(q, slot);
    if (ev->gen != gen || ev->kind == 0 || ev->cancelled)
        return false;
    ev->cancelled = 1;
    q->live--;
    return true;
}
