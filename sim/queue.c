/*
 * queue.c - the future event list: a radix heap with a sorted front, over
 * pooled event slots.
 *
 * Radix heap with 6-bit digits (SIM_QUEUE_DIGIT_BITS).  `last` is the
 * heap's base time, never later than the last pop.  An entry of time t > last
 * lives in bucket 1 + 64 L + d, where L is the highest 6-bit digit position
 * (0..10) at which t differs from last and d is t's digit there.  Bucket
 * order is time order: every entry of a lower bucket is earlier than every
 * entry of a higher one, and the entries of one bucket share every digit
 * from L up.  Pushes append, so a bucket holds its entries in insertion
 * order.  A 704-bit set of non-empty buckets with a summary word finds the
 * lowest one with two count-trailing-zeros.
 *
 * Bucket 0, the front, is different: a sorted array of the earliest
 * entries, popped from its head.  When it is empty, the lowest non-empty
 * bucket k becomes the front:
 *  - if it holds at most SIM_QUEUE_SORT_MAX entries, they are sorted into
 *    bucket 0 (a counting sort on the five bits below their shared digits,
 *    then an insertion pass, both stable) and `last` becomes the earliest;
 *  - otherwise `last` becomes their minimum m and each moves to its bucket
 *    relative to m, all below k, the ones at m into bucket 0 (the textbook
 *    radix-heap step; those differing from m in the next digit go straight
 *    to that digit's bucket after one counting pass).
 * Small buckets are the common case once entries have moved down one level
 * (with events every g ns a level-L bucket holds about 2^(6L) / g of
 * them), so an entry is typically appended once, moved at most once or twice
 * and sorted once, and a pop is an array read; the textbook heap (binary
 * digits, one entry per bucket at the bottom) moves entries many times and
 * searches the bucket set at every pop.
 *
 * The front is topped up: after a refill, and at a pop that leaves it
 * with SIM_QUEUE_AHEAD entries or fewer, the next radix bucket, if it holds
 * at most SIM_QUEUE_SORT_MAX, is sorted in behind what is left (its
 * entries are later than bucket 0's and earlier than the rest's, and
 * `last` stays, so nothing else moves).  So the front nearly always shows
 * the next few events, which the kernel's lookahead reads
 * (sim_queue_peek_event, the model's prefetch hook).
 *
 * A push later than everything in bucket 0 goes to its radix bucket (inline
 * in queue.h: t > fence, a bound on bucket 0 and last).  A push at or before
 * bucket 0's latest time is a sorted insertion into bucket 0 after its
 * equal times; once bucket 0 holds SIM_QUEUE_SPILL entries, an insertion
 * that would shift entries first spills bucket 0 back into the radix
 * buckets (those at `last` stay), so no push costs more than
 * SIM_QUEUE_SPILL moves and a spill is paid for by the insertions that
 * filled bucket 0.
 *
 * Order.  Invariants: (1) bucket 0 is sorted by (time, insertion);
 * (2) every entry of bucket 0 is strictly earlier than every radix entry;
 * (3) every radix entry is later than last, in its bucket relative to last,
 * and each bucket is in insertion order.  Pushes keep them: a push goes to
 * bucket 0 exactly when it is not later than bucket 0's latest entry.  A
 * refill moves the lowest bucket, whose entries are strictly earlier than
 * the others', keeping (2); sorting stably or copying in order keeps (1)
 * and (3).  A spill moves bucket 0's entries, in order, behind radix entries
 * that are strictly later by (2), so no two equal times change order.  So
 * the head of bucket 0 is the earliest entry, and equal times, which by (2)
 * are all in bucket 0 or all in one radix bucket, leave in insertion order
 * (FIFO); tests/test_queue.c checks both against a sorted reference.
 *
 * Times are below 2^63, so the highest bucket is 1 + 64 * 10 + 7 = 648.
 *
 * Limits: 2^24 pending events (checked).
 */
#include "queue.h"

#include <string.h>

void sim_queue_init(sim_queue *q) {
    memset(q, 0, sizeof *q);
    q->free_head = UINT32_MAX;
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
    for (uint32_t k = 0; k < SIM_QUEUE_BUCKETS; k++)
        sim_free(q->b[k].e);
    sim_free(q->spare);
    sim_reserve_free(q->slots, (size_t)q->reserved * sizeof(sim_event));
    memset(q, 0, sizeof *q);
    q->free_head = UINT32_MAX;
}

/* The pool is one reservation of address space for SIM_QUEUE_MAX_SLOTS
 * events (1 GiB of addresses, no memory; less under an address-space
 * limit), made usable a chunk at a time as it grows:
 * slots never move, so an event's address stays valid while handlers
 * schedule more, and a slot's address is one shift and add. */
uint32_t sim__queue_alloc_new(sim_queue *q) {
    const size_t slot_bytes = sizeof(sim_event);
    if (!q->slots) {
        /* Under an address-space limit (ulimit -v), settle for less.  The
         * region is advised onto transparent huge pages (pending events
         * are scattered over the pool, and with 4 KB pages nearly every
         * dispatch of a large run would miss the TLB). */
        for (uint32_t want = SIM_QUEUE_MAX_SLOTS; want >= SIM_QUEUE_CHUNK; want /= 2) {
            q->slots = sim_reserve((size_t)want * slot_bytes, true);
            if (q->slots) {
                q->reserved = want;
                break;
            }
        }
        if (!q->slots)
            sim_panic(__FILE__, __LINE__, "cannot reserve address space for the event pool");
    }
    if (q->n_slots == q->reserved)
        sim_panic(__FILE__, __LINE__, "more than %u pending events", q->reserved);
    if (q->n_slots == q->n_usable) {
        uint32_t grow =
            q->reserved - q->n_usable < SIM_QUEUE_GROW ? q->reserved - q->n_usable : SIM_QUEUE_GROW;
        sim_reserve_grow(q->slots, (size_t)q->reserved * slot_bytes,
                         (size_t)q->n_usable * slot_bytes,
                         (size_t)(q->n_usable + grow) * slot_bytes);
        q->n_usable += grow;
    }
    uint32_t slot = q->n_slots++;
    q->slots[slot].gen = 1; /* fresh pages are zero */
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

void sim__queue_free_block(sim_queue *q, sim_event *ev) {
    uint32_t c = size_class(ev->len);
    *(void **)ev->data.ext = q->buf_free[c];
    q->buf_free[c] = ev->data.ext;
}

static inline void append(sim_queue *q, uint32_t k, sim_qentry e) {
    sim_qbucket *b = &q->b[k];
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->e = sim_realloc(b->e, (size_t)b->cap * sizeof *b->e);
    }
    b->e[b->n++] = e;
    /* Bucket 0 is not in the set: pop drains it before any refill. */
    if (k)
        sim__queue_mark(q, k);
}

/* Bucket 0 is full of entries that a sorted insertion would have to shift:
 * hands them all back to the radix buckets (those at `last` land in bucket
 * 0 again, in order), which keeps a push O(1) amortised. */
static void spill(sim_queue *q) {
    sim_qbucket *b0 = &q->b[0];
    sim_qentry *e = b0->e;
    uint32_t from = q->head0, n = b0->n, cap = b0->cap;
    b0->e = q->spare;
    b0->cap = q->spare_cap;
    b0->n = q->head0 = 0;
    for (uint32_t i = from; i < n; i++)
        append(q, sim__queue_bucket(e[i].time, q->last), e[i]);
    q->spare = e;
    q->spare_cap = cap;
}

void sim__queue_push_slow(sim_queue *q, sim_time t, uint32_t slot) {
    SIM_ASSERT(t >= q->now);
    sim_qentry x = {t, slot, sim_queue_slot(q, slot)->node};
    sim_qbucket *b0 = &q->b[0];
    q->live++;
    if (q->head0 == b0->n || t > b0->e[b0->n - 1].time) {
        /* After everything in bucket 0 (or bucket 0 is empty): into the
         * bucket of t; t == last only when bucket 0 is empty. */
        append(q, sim__queue_bucket(t, q->last), x);
        return;
    }
    /* Inside bucket 0's span: a sorted insertion after equal times.  At
     * its end (t equal to its latest time) that costs nothing; earlier, a
     * full bucket 0 spills first.  (Equal to the latest time must stay in
     * bucket 0: in a radix bucket it could precede an older entry of the
     * same time that a later spill moves there.) */
    if (t < b0->e[b0->n - 1].time && b0->n - q->head0 >= SIM_QUEUE_SPILL) {
        spill(q);
        append(q, sim__queue_bucket(t, q->last), x);
        return;
    }
    if (b0->n == b0->cap) {
        b0->cap *= 2;
        b0->e = sim_realloc(b0->e, (size_t)b0->cap * sizeof *b0->e);
    }
    uint32_t j = b0->n++;
    for (; j > q->head0 && b0->e[j - 1].time > t; j--)
        b0->e[j] = b0->e[j - 1];
    b0->e[j] = x;
}

/* Sorts n entries that share every digit from level `level` up into dst,
 * stably by time: a counting sort on the next SIM_QUEUE_SORT_BITS bits
 * below leaves out of order only entries that share those bits too, and an
 * insertion pass (stable as well) mends them.  Level 0 entries all have the
 * same time and are copied as they are. */
static void sort_bucket(const sim_qentry *src, sim_qentry *dst, uint32_t n, uint32_t level) {
    if (level == 0) {
        memcpy(dst, src, (size_t)n * sizeof *dst);
        return;
    }
    enum { BINS = 1u << SIM_QUEUE_SORT_BITS };
    uint32_t top = level * SIM_QUEUE_DIGIT_BITS;
    uint32_t shift = top > SIM_QUEUE_SORT_BITS ? top - SIM_QUEUE_SORT_BITS : 0;
    _Static_assert(SIM_QUEUE_SORT_MAX < 256, "bin positions fit a byte");
    uint8_t at[BINS + 1] = {0};
    for (uint32_t i = 0; i < n; i++)
        at[(((uint64_t)src[i].time >> shift) & (BINS - 1)) + 1]++;
    for (uint32_t d = 1; d < BINS; d++)
        at[d] = (uint8_t)(at[d] + at[d - 1]);
    for (uint32_t i = 0; i < n; i++)
        dst[at[((uint64_t)src[i].time >> shift) & (BINS - 1)]++] = src[i];
    for (uint32_t i = 1; i < n; i++) {
        sim_qentry x = dst[i];
        uint32_t j = i;
        for (; j > 0 && dst[j - 1].time > x.time; j--)
            dst[j] = dst[j - 1];
        dst[j] = x;
    }
}

/* Moves the n entries of a level-`level` bucket to their buckets relative
 * to their minimum m, the new `last`.  They share every digit from `level`
 * up with m, so those whose digit level - 1 differs from m's go to bucket
 * (level - 1, that digit): counted first, then copied in order into those
 * buckets, which are empty (every bucket below the lowest non-empty one
 * is).  The rest, about one in SIM_QUEUE_DIGITS, take the general path. */
static void redistribute(sim_queue *q, const sim_qentry *src, uint32_t n, uint32_t level,
                         sim_time m) {
    if (level == 0) {
        for (uint32_t i = 0; i < n; i++)
            append(q, sim__queue_bucket(src[i].time, m), src[i]);
        return;
    }
    uint32_t shift = (level - 1) * SIM_QUEUE_DIGIT_BITS;
    uint32_t own = (uint32_t)((uint64_t)m >> shift) & (SIM_QUEUE_DIGITS - 1);
    uint32_t count[SIM_QUEUE_DIGITS] = {0};
    for (uint32_t i = 0; i < n; i++)
        count[((uint64_t)src[i].time >> shift) & (SIM_QUEUE_DIGITS - 1)]++;
    sim_qentry *to[SIM_QUEUE_DIGITS];
    uint32_t first = 1 + (level - 1) * SIM_QUEUE_DIGITS;
    for (uint32_t d = 0; d < SIM_QUEUE_DIGITS; d++) {
        to[d] = NULL;
        if (d == own || count[d] == 0)
            continue;
        sim_qbucket *t = &q->b[first + d];
        if (t->cap < count[d]) {
            t->cap = count[d] < 16 ? 16 : count[d];
            sim_free(t->e);
            t->e = sim_malloc((size_t)t->cap * sizeof *t->e);
        }
        t->n = count[d];
        to[d] = t->e;
        sim__queue_mark(q, first + d);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t d = (uint32_t)((uint64_t)src[i].time >> shift) & (SIM_QUEUE_DIGITS - 1);
        if (d == own)
            append(q, sim__queue_bucket(src[i].time, m), src[i]);
        else
            *to[d]++ = src[i];
    }
}

/* The lowest non-empty radix bucket; the non-empty set must not be
 * empty. */
static uint32_t lowest(const sim_queue *q) {
    uint32_t w = (uint32_t)__builtin_ctzll(q->summary);
    return 1 + (w << 6) + (uint32_t)__builtin_ctzll(q->nonempty[w]);
}

/* Takes the lowest bucket off the non-empty set (the caller empties it). */
static void drop_lowest(sim_queue *q) {
    uint32_t w = (uint32_t)__builtin_ctzll(q->summary);
    q->nonempty[w] &= q->nonempty[w] - 1;
    if (!q->nonempty[w])
        q->summary &= ~((uint64_t)1 << w);
}

/* After a refill, or a pop that leaves bucket 0 with its entries moved to
 * its start: while it holds fewer than SIM_QUEUE_AHEAD + 1 entries, the
 * next non-empty bucket, if small, is sorted in behind them,
 * so that the front shows the next few events (for the lookahead of
 * sim_queue_peek_event).  Order is kept: that bucket's entries are all
 * later than bucket 0's (bucket order is time order) and earlier than the
 * rest; `last` does not change, so the other buckets stay valid; fence
 * becomes the new latest entry, so invariant (2) holds. */
static void top_up(sim_queue *q) {
    sim_qbucket *b0 = &q->b[0];
    while (b0->n < SIM_QUEUE_AHEAD + 1 && q->summary) {
        uint32_t k = lowest(q);
        sim_qbucket *b = &q->b[k];
        if (b->n > SIM_QUEUE_SORT_MAX)
            return;
        if (b0->n + b->n > b0->cap) {
            b0->cap = 2 * SIM_QUEUE_SORT_MAX + SIM_QUEUE_AHEAD;
            b0->e = sim_realloc(b0->e, (size_t)b0->cap * sizeof *b0->e);
        }
        drop_lowest(q);
        sort_bucket(b->e, b0->e + b0->n, b->n, (k - 1) / SIM_QUEUE_DIGITS);
        b0->n += b->n;
        b->n = 0;
        q->fence = b0->e[b0->n - 1].time;
    }
}

/* Bucket 0 is empty: makes the lowest non-empty bucket current.  Returns
 * false when nothing is queued. */
__attribute__((noinline)) static bool refill(sim_queue *q) {
    if (!q->summary)
        return false;
    uint32_t k = lowest(q);
    drop_lowest(q);
    sim_qbucket *b = &q->b[k], *b0 = &q->b[0];
    uint32_t n = b->n;
    b->n = 0;
    if (n <= SIM_QUEUE_SORT_MAX) {
        /* Few entries: they become bucket 0, sorted. */
        if (b0->cap < SIM_QUEUE_SORT_MAX) {
            b0->cap = SIM_QUEUE_SORT_MAX;
            b0->e = sim_realloc(b0->e, (size_t)b0->cap * sizeof *b0->e);
        }
        sort_bucket(b->e, b0->e, n, (k - 1) / SIM_QUEUE_DIGITS);
        b0->n = n;
        q->last = b0->e[0].time;
        q->fence = b0->e[n - 1].time;
        top_up(q);
        return true;
    }
    /* Many: `last` becomes their minimum and each moves to its bucket
     * relative to it, all below k; those at the minimum to bucket 0. */
    sim_time m = SIM_TIME_MAX;
    for (uint32_t i = 0; i < n; i++)
        m = b->e[i].time < m ? b->e[i].time : m;
    q->last = q->fence = m;
    redistribute(q, b->e, n, (k - 1) / SIM_QUEUE_DIGITS, m);
    top_up(q);
    return true;
}

uint32_t sim_queue_pop(sim_queue *q, sim_time *t) {
    for (;;) {
        sim_qbucket *b0 = &q->b[0];
        if (q->head0 == b0->n) {
            b0->n = q->head0 = 0;
            if (!refill(q))
                return UINT32_MAX;
            for (uint32_t k = 1; k < b0->n && k < SIM_QUEUE_AHEAD; k++)
                __builtin_prefetch(sim_queue_slot(q, b0->e[k].slot));
        } else if (b0->n - q->head0 <= SIM_QUEUE_AHEAD && q->summary) {
            /* Few left in front: to the start, the next bucket behind. */
            uint32_t left = b0->n - q->head0;
            memmove(b0->e, b0->e + q->head0, (size_t)left * sizeof *b0->e);
            b0->n = left;
            q->head0 = 0;
            top_up(q);
            for (uint32_t k = left; k < b0->n && k <= SIM_QUEUE_AHEAD; k++)
                __builtin_prefetch(sim_queue_slot(q, b0->e[k].slot));
        }
        sim_qentry e = b0->e[q->head0++];
        uint32_t slot = e.slot;
        sim_event *ev = sim_queue_slot(q, slot);
        /* Slots are recycled in free-list order, so pending events are
         * scattered over the pool: fetch the line of the event
         * SIM_QUEUE_AHEAD places on (the ones before it were asked for
         * by the pops before), and of the next in case the dispatch
         * before scheduled it. */
        if (q->head0 < b0->n)
            __builtin_prefetch(sim_queue_slot(q, b0->e[q->head0].slot));
        if (q->head0 + SIM_QUEUE_AHEAD < b0->n)
            __builtin_prefetch(sim_queue_slot(q, b0->e[q->head0 + SIM_QUEUE_AHEAD].slot));
        if (ev->cancelled) {
            q->cancelled--;
            sim_queue_free(q, slot);
            continue;
        }
        q->live--;
        q->now = e.time;
        ev->cancelled = 2; /* being dispatched: no longer cancellable */
        *t = e.time;
        return slot;
    }
}

/* Drops every cancelled entry and frees its slot.  Filtering each bucket
 * in place keeps the order of what stays, so invariants (1)-(3) hold and
 * no event's dispatch moves; slot numbers are not part of the order.  Runs
 * when cancelled entries outnumber live ones, so its O(queued) cost is paid
 * for by the cancellations since the last purge.  (A timeout that is set
 * for every request and cancelled by the reply is the common case: without
 * it a 1 s timeout at 10^7 requests/s would hold 10^7 dead entries.) */
static void purge(sim_queue *q) {
    q->summary = 0;
    memset(q->nonempty, 0, sizeof q->nonempty);
    for (uint32_t k = 0; k < SIM_QUEUE_BUCKETS; k++) {
        sim_qbucket *b = &q->b[k];
        uint32_t from = k == 0 ? q->head0 : 0, to = from;
        for (uint32_t i = from; i < b->n; i++) {
            uint32_t slot = b->e[i].slot;
            if (sim_queue_slot(q, slot)->cancelled == 1) {
                sim_queue_free(q, slot);
                q->cancelled--;
            } else {
                b->e[to++] = b->e[i];
            }
        }
        b->n = to;
        if (k && to)
            sim__queue_mark(q, k);
    }
    SIM_ASSERT(q->cancelled == 0);
}

bool sim_queue_cancel(sim_queue *q, uint32_t slot, uint32_t gen) {
    if (slot >= q->n_slots)
        return false;
    sim_event *ev = sim_queue_slot(q, slot);
    if (ev->gen != gen || ev->kind == 0 || ev->cancelled)
        return false;
    ev->cancelled = 1;
    q->live--;
    if (++q->cancelled >= SIM_QUEUE_PURGE_MIN && q->cancelled > q->live)
        purge(q);
    return true;
}
