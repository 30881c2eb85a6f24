/*
 * queue.h - the future event list and the event pool.
 *
 * Events live in a pool of fixed-size slots that is recycled through a free
 * list, so the steady state allocates nothing per event.  Pending events are
 * ordered by a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan 1990) over
 * their int64 times, whose front is kept as a small sorted array: a
 * simulation never schedules before the time it last dispatched, which is
 * exactly the monotone case radix heaps serve, with O(1) inserts and
 * removals made of sequential copies and small sorts rather than
 * unpredictable comparisons.  Events at equal times come out in insertion
 * (FIFO) order; queue.c proves why and tests pin it.
 * Cancellation is lazy: a cancelled slot stays queued and is skipped when
 * it surfaces.  Handles are (slot, generation)
 * values; the generation changes when a slot is freed, so a stale handle is
 * harmless.
 *
 * Payloads up to SIM_EV_INLINE bytes are stored in the slot; larger ones in
 * blocks from per-size-class free lists that are reused, never returned
 * until the queue is destroyed.
 */
#ifndef DSIM_QUEUE_H
#define DSIM_QUEUE_H

#include "sim.h"

#include <string.h>

#define SIM_EV_INLINE       24
#define SIM_QUEUE_SLOT_BITS 24
#define SIM_QUEUE_MAX_SLOTS (1u << SIM_QUEUE_SLOT_BITS)

/* One pending event: exactly one 64-byte cache line (slots are allocated
 * 64-byte aligned), so dispatching an event costs one line fill. */
typedef struct sim_event {
    uint32_t gen;
    uint8_t kind; /* 0 = free */
    uint8_t cancelled;
    uint16_t _pad;
    uint32_t node;
    uint32_t src;
    uint32_t type; /* message type or timer kind */
    uint32_t len;
    uint32_t wire_bytes;
    uint32_t epoch; /* destination's epoch when scheduled */
    sim_time sent_at;
    union {
        unsigned char bytes[SIM_EV_INLINE];
        void *ext;
        uint64_t arg; /* timers and kernel events, which carry no payload */
    } data;
} sim_event;

_Static_assert(sizeof(sim_event) == 64, "an event is one cache line");

typedef struct sim_qentry {
    sim_time time;
    uint32_t slot;
    uint32_t node; /* the event's node, for sim_queue_peek_node */
} sim_qentry;

/* Bucket 0 is the sorted front (from head0 on); the others are indexed by
 * the highest SIM_QUEUE_DIGIT_BITS-bit digit where a time differs from
 * `last` and that digit's value (see queue.c). */
typedef struct sim_qbucket {
    sim_qentry *e;
    uint32_t n, cap;
} sim_qbucket;

#define SIM_QUEUE_CLASSES    26
#define SIM_QUEUE_DIGIT_BITS 6
#define SIM_QUEUE_DIGITS     (1u << SIM_QUEUE_DIGIT_BITS)
#define SIM_QUEUE_LEVELS     ((63 + SIM_QUEUE_DIGIT_BITS - 1) / SIM_QUEUE_DIGIT_BITS)
#define SIM_QUEUE_BUCKETS    (1 + SIM_QUEUE_LEVELS * SIM_QUEUE_DIGITS)
#define SIM_QUEUE_WORDS      ((SIM_QUEUE_BUCKETS - 1 + 63) / 64)
/* A bucket of at most SIM_QUEUE_SORT_MAX entries is sorted into bucket 0
 * when it becomes current (a counting sort on SIM_QUEUE_SORT_BITS bits and
 * an insertion pass) instead of being redistributed; bucket 0 takes sorted
 * insertions up to SIM_QUEUE_SPILL entries. */
#define SIM_QUEUE_SORT_MAX  32
#define SIM_QUEUE_SORT_BITS 5
#define SIM_QUEUE_SPILL     128

_Static_assert(SIM_QUEUE_WORDS <= 64, "the summary word covers the bucket set");

typedef struct sim_queue {
    sim_qbucket b[SIM_QUEUE_BUCKETS];
    uint32_t head0;                     /* next entry of bucket 0 to pop */
    uint64_t summary;                   /* bit w: nonempty[w] != 0 */
    uint64_t nonempty[SIM_QUEUE_WORDS]; /* bit k - 1: bucket k >= 1 has entries */
    sim_time last;                      /* the radix heap's base: every radix entry is later */
    sim_time now;                       /* time of the last pop: no push may be earlier */
    sim_time fence;                     /* >= last and every time in bucket 0: later pushes take the
                                           inline path of sim_queue_push */
    sim_qentry *spare;                  /* bucket 0's old array while it is spilled */
    uint32_t spare_cap;
    /* Slots live in one reserved region that never moves, so an event's
     * address stays valid while handlers schedule more events (queue.c). */
    sim_event *slots;
    uint32_t n_slots, n_usable, reserved; /* reserved: slots the region (sim_reserve) holds */
    uint32_t free_head;                   /* free list through sim_event.node; UINT32_MAX = empty */
    uint64_t live;                        /* pending, not cancelled */
    uint64_t cancelled; /* cancelled, still queued (freed when popped or purged) */
    void *buf_free[SIM_QUEUE_CLASSES];
} sim_queue;

void sim_queue_init(sim_queue *q);
/* Frees slots, buckets and payload blocks. */
void sim_queue_fini(sim_queue *q);

/* The smallest reservation the pool settles for (64 KB of slots). */
#define SIM_QUEUE_CHUNK 1024u
/* The pool's region is made usable this many slots (2 MiB, one huge page)
 * at a time. */
#define SIM_QUEUE_GROW 32768u
static inline sim_event *sim_queue_slot(const sim_queue *q, uint32_t slot) {
    return &q->slots[slot];
}
uint32_t sim__queue_alloc_new(sim_queue *q);
/* Takes a free slot (zeroed except gen) and returns its index.  The caller
 * fills it and then pushes it with sim_queue_push.  Inline: every event
 * takes one. */
static inline uint32_t sim_queue_alloc(sim_queue *q) {
    uint32_t slot;
    if (q->free_head != UINT32_MAX) {
        slot = q->free_head;
        q->free_head = sim_queue_slot(q, slot)->node;
    } else {
        slot = sim__queue_alloc_new(q);
    }
    sim_event *ev = sim_queue_slot(q, slot);
    uint32_t gen = ev->gen;
    memset(ev, 0, sizeof *ev);
    ev->gen = gen;
    return slot;
}
/* Schedules slot at time t, which must not be before the last popped time
 * (scheduling into the past is an assertion failure).  The common case (t
 * after everything in bucket 0, room in its bucket) is inline; see queue.c
 * for the buckets. */
void sim__queue_push_slow(sim_queue *q, sim_time t, uint32_t slot);
/* The bucket of time t relative to base `last` (t >= last). */
static inline uint32_t sim__queue_bucket(sim_time t, sim_time last) {
    uint64_t x = (uint64_t)t ^ (uint64_t)last;
    if (!x)
        return 0;
    uint32_t level = (63u - (uint32_t)__builtin_clzll(x)) / SIM_QUEUE_DIGIT_BITS;
    return 1u + level * SIM_QUEUE_DIGITS +
           (uint32_t)(((uint64_t)t >> (level * SIM_QUEUE_DIGIT_BITS)) & (SIM_QUEUE_DIGITS - 1));
}
static inline void sim__queue_mark(sim_queue *q, uint32_t k) {
    q->nonempty[(k - 1) >> 6] |= (uint64_t)1 << ((k - 1) & 63);
    q->summary |= (uint64_t)1 << ((k - 1) >> 6);
}
static inline void sim_queue_push(sim_queue *q, sim_time t, uint32_t slot) {
    if (t > q->fence) {
        uint32_t k = sim__queue_bucket(t, q->last);
        sim_qbucket *b = &q->b[k];
        if (b->n < b->cap) {
            b->e[b->n++] = (sim_qentry){t, slot, sim_queue_slot(q, slot)->node};
            sim__queue_mark(q, k);
            q->live++;
            return;
        }
    }
    sim__queue_push_slow(q, t, slot);
}
/* Copies len bytes of payload into the event (inline or a pooled block). */
void sim_queue_set_data(sim_queue *q, sim_event *ev, const void *data, uint32_t len);
static inline const void *sim_queue_data(const sim_event *ev) {
    return ev->len <= SIM_EV_INLINE ? (const void *)ev->data.bytes : ev->data.ext;
}
/* Removes the earliest live event; returns its slot and stores its time, or
 * returns UINT32_MAX when empty.  Cancelled entries are freed on the way. */
uint32_t sim_queue_pop(sim_queue *q, sim_time *t);
/* The node of the event that the next pop returns, unless an earlier one
 * is pushed or it is cancelled, when it is already known (UINT32_MAX
 * otherwise): the dispatcher fetches that node's lines ahead. */
static inline uint32_t sim_queue_peek_node(const sim_queue *q) {
    return q->head0 < q->b[0].n ? q->b[0].e[q->head0].node : UINT32_MAX;
}
/* How many events ahead of the one being dispatched sim_queue_pop starts
 * fetching slot lines: far enough that a line has arrived, two or more
 * dispatches later, when the kernel's lookahead reads it (sim.c). */
#define SIM_QUEUE_AHEAD 4u

/* The pending event k places after the front of the sorted front (k = 0:
 * the next to pop, if the next dispatch schedules nothing earlier), or
 * NULL if the front holds fewer.  It may be a cancelled one. */
static inline const sim_event *sim_queue_peek_event(const sim_queue *q, uint32_t k) {
    uint32_t i = q->head0 + k;
    return i < q->b[0].n ? &q->slots[q->b[0].e[i].slot] : NULL;
}
void sim__queue_free_block(sim_queue *q, sim_event *ev);
/* Returns a slot (and its payload block) to the pool; bumps the generation. */
static inline void sim_queue_free(sim_queue *q, uint32_t slot) {
    sim_event *ev = sim_queue_slot(q, slot);
    SIM_ASSERT(ev->kind != 0);
    if (ev->len > SIM_EV_INLINE)
        sim__queue_free_block(q, ev);
    ev->kind = 0;
    ev->len = 0;
    ev->gen++;
    if (ev->gen == 0)
        ev->gen = 1; /* generation 0 is reserved for SIM_TIMER_NONE */
    ev->node = q->free_head;
    q->free_head = slot;
}
/* Cancels the pending event of handle (slot, gen); true if it was pending.
 * A cancelled event stays queued until its time, unless cancelled events
 * outnumber live ones (and SIM_QUEUE_PURGE_MIN): then all are dropped at
 * once, so memory follows the live events, not the cancellations. */
#define SIM_QUEUE_PURGE_MIN 65536u
bool sim_queue_cancel(sim_queue *q, uint32_t slot, uint32_t gen);
static inline uint64_t sim_queue_live(const sim_queue *q) { return q->live; }

#endif
