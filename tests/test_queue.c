/*
 * test_queue.c - the future event list: order, FIFO ties, lazy cancellation,
 * handles, payloads, and the pool's reuse of slots.
 */
#include "check_util.h"
#include "queue.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static uint32_t push_at(sim_queue *q, sim_time t, uint64_t tag) {
    uint32_t slot = sim_queue_alloc(q);
    sim_event *ev = sim_queue_slot(q, slot);
    ev->kind = 1;
    ev->data.arg = tag;
    sim_queue_push(q, t, slot);
    return slot;
}

/* Pops one event, returns its tag and frees it. */
static uint64_t pop_tag(sim_queue *q, sim_time *t) {
    uint32_t slot = sim_queue_pop(q, t);
    ck_assert_uint_ne(slot, UINT32_MAX);
    uint64_t tag = sim_queue_slot(q, slot)->data.arg;
    sim_queue_free(q, slot);
    return tag;
}

START_TEST(test_queue_equal_time_is_fifo) {
    sim_queue q;
    sim_queue_init(&q);
    /* Interleave two times so equal-time events are not adjacent in the
     * insertion order, then add more at the earliest time after a pop. */
    for (uint64_t i = 0; i < 100; i++)
        push_at(&q, i % 2 ? 7 : 5, i);
    sim_time t;
    uint64_t expect = 0;
    for (int k = 0; k < 10; k++) {
        ck_assert_uint_eq(pop_tag(&q, &t), expect);
        ck_assert_int_eq(t, 5);
        expect += 2;
    }
    for (uint64_t i = 100; i < 110; i++)
        push_at(&q, 5, i); /* same time as now: after those already queued */
    for (; expect < 100; expect += 2)
        ck_assert_uint_eq(pop_tag(&q, &t), expect);
    for (uint64_t i = 100; i < 110; i++)
        ck_assert_uint_eq(pop_tag(&q, &t), i);
    for (uint64_t i = 1; i < 100; i += 2) {
        ck_assert_uint_eq(pop_tag(&q, &t), i);
        ck_assert_int_eq(t, 7);
    }
    ck_assert_uint_eq(sim_queue_pop(&q, &t), UINT32_MAX);
    sim_queue_fini(&q);
}
END_TEST

typedef struct ref_ev {
    sim_time t;
    uint64_t tag;
} ref_ev;

static int ref_cmp(const void *a, const void *b) {
    const ref_ev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->tag < y->tag ? -1 : (x->tag > y->tag);
}

static void ref_insert(ref_ev *ref, int *n, ref_ev e) {
    int lo = 0, hi = *n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (ref_cmp(&ref[mid], &e) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(ref + lo + 1, ref + lo, (size_t)(*n - lo) * sizeof *ref);
    ref[lo] = e;
    (*n)++;
}

/* Pops one event and checks it is the reference's first, which it removes;
 * returns the tag and stores the time. */
static uint64_t pop_matches_reference(sim_queue *q, ref_ev *ref, int *n, sim_time *t) {
    uint64_t got = pop_tag(q, t);
    ck_assert_int_eq(*t, ref[0].t);
    ck_assert_uint_eq(got, ref[0].tag);
    memmove(ref, ref + 1, (size_t)(*n - 1) * sizeof *ref);
    (*n)--;
    return got;
}

/* A hold model (pop one, push one later) against a sorted reference: every
 * pop must be the (time, insertion) minimum, and the lookahead
 * (sim_queue_peek_event) the reference's next entries, over times with
 * many ties and over times spread across the whole int64 range. */
static void hold_against_reference(int spread_bits) {
    enum { N = 2000, OPS = 200000 };
    sim_queue q;
    sim_queue_init(&q);
    sim_rng r;
    sim_rng_seed(&r, 99, (uint64_t)spread_bits);
    ref_ev *ref = malloc((N + 1) * sizeof *ref);
    uint64_t tag = 0;
    for (int i = 0; i < N; i++) {
        sim_time t = (sim_time)(sim_rng_u64(&r) >> (64 - spread_bits));
        ref[i] = (ref_ev){t, tag};
        push_at(&q, t, tag++);
    }
    int n = N;
    qsort(ref, (size_t)n, sizeof *ref, ref_cmp);
    long shown = 0;
    for (int op = 0; op < OPS; op++) {
        sim_time t;
        pop_matches_reference(&q, ref, &n, &t);
        /* The lookahead shows what comes next, in order, or nothing. */
        for (uint32_t k = 0; k <= SIM_QUEUE_AHEAD; k++) {
            const sim_event *ev = sim_queue_peek_event(&q, k);
            if (!ev)
                break;
            ck_assert_uint_eq(ev->data.arg, ref[k].tag);
            shown += k == SIM_QUEUE_AHEAD - 1;
        }
        sim_time d = (sim_time)(sim_rng_u64(&r) >> (64 - spread_bits + 1));
        if (t > INT64_MAX - d)
            d = 0;
        ref_ev e = {t + d, tag};
        push_at(&q, e.t, tag++);
        ref_insert(ref, &n, e);
    }
    /* And nearly always shows SIM_QUEUE_AHEAD of them (the front is topped
     * up from the next bucket when that one is small: 95 % of pops with
     * ties, 99 % with wide times, for these seeds). */
    ck_assert_int_ge(shown, OPS * 9 / 10);
    free(ref);
    sim_queue_fini(&q);
}

START_TEST(test_queue_matches_sorted_reference_with_ties) { hold_against_reference(8); }
END_TEST

START_TEST(test_queue_matches_sorted_reference_wide_times) { hold_against_reference(62); }
END_TEST

/* An event pushed at the latest time of the sorted bucket 0 pops after the
 * one already there, also when a burst of earlier pushes has overflowed
 * bucket 0 back into the radix buckets in between. */
START_TEST(test_queue_fifo_at_the_end_of_bucket_0_across_a_spill) {
    sim_queue q;
    sim_queue_init(&q);
    const sim_time base = (sim_time)1 << 20, end = base + 31 * 1000;
    for (uint64_t i = 0; i < 32; i++)
        push_at(&q, base + (sim_time)i * 1000, i); /* one bucket: sorted at the first pop */
    sim_time t;
    ck_assert_uint_eq(pop_tag(&q, &t), 0);
    push_at(&q, end, 1000); /* same time as tag 31, pushed later */
    for (uint64_t i = 0; i < 300; i++)
        push_at(&q, base + 1 + (sim_time)(i * 97 % 30000), 2000 + i);
    ck_assert_ptr_nonnull(q.spare); /* the burst overflowed bucket 0 */
    uint64_t last_tags[2];
    int at_end = 0;
    sim_time prev = 0;
    for (int i = 0; i < 31 + 1 + 300; i++) {
        uint64_t tag = pop_tag(&q, &t);
        ck_assert_int_ge(t, prev);
        prev = t;
        if (t == end) {
            ck_assert_int_lt(at_end, 2);
            last_tags[at_end++] = tag;
        }
    }
    ck_assert_int_eq(at_end, 2);
    ck_assert_uint_eq(last_tags[0], 31);
    ck_assert_uint_eq(last_tags[1], 1000);
    ck_assert_uint_eq(sim_queue_pop(&q, &t), UINT32_MAX);
    sim_queue_fini(&q);
}
END_TEST

/* Bursts against a sorted reference: phases of many pushes per pop at
 * small, equal and large distances, with cancellations.  Pushes inside the
 * span of the sorted bucket 0 take the sorted insertion, and bursts of them
 * overflow it into the radix buckets (the spill): the test checks it went
 * there.  Every pop must be the (time, insertion) minimum among the live
 * events. */
typedef struct burst_handle {
    uint32_t slot, gen;
    bool live;
} burst_handle;

static void ref_remove(ref_ev *ref, int *n, uint64_t tag) {
    for (int i = 0; i < *n; i++)
        if (ref[i].tag == tag) {
            memmove(ref + i, ref + i + 1, (size_t)(*n - i - 1) * sizeof *ref);
            (*n)--;
            return;
        }
    ck_abort_msg("tag %llu not in the reference", (unsigned long long)tag);
}

START_TEST(test_queue_matches_sorted_reference_in_bursts) {
    enum { MAX = 200000 };
    sim_queue q;
    sim_queue_init(&q);
    sim_rng r;
    sim_rng_seed(&r, 7, 11);
    ref_ev *ref = malloc(MAX * sizeof *ref);
    burst_handle *h = calloc(MAX, sizeof *h);
    int n = 0;
    uint64_t tag = 0;
    sim_time now = 0;
    /* Prologue: 32 events in one bucket become the sorted bucket 0 at the
     * first pop; then 400 pushes land inside its span. */
    for (int i = 0; i < 32; i++) {
        ref_ev e = {((sim_time)1 << 20) + i * 1000, tag};
        uint32_t slot = push_at(&q, e.t, tag);
        h[tag] = (burst_handle){slot, sim_queue_slot(&q, slot)->gen, true};
        ref_insert(ref, &n, e);
        tag++;
    }
    {
        h[pop_matches_reference(&q, ref, &n, &now)].live = false;
        ck_assert_ptr_null(q.spare);
        for (int i = 0; i < 400; i++) {
            ref_ev e = {now + (sim_time)sim_rng_below(&r, 31000), tag};
            uint32_t slot = push_at(&q, e.t, tag);
            h[tag] = (burst_handle){slot, sim_queue_slot(&q, slot)->gen, true};
            ref_insert(ref, &n, e);
            tag++;
        }
        ck_assert_msg(q.spare != NULL, "400 pushes inside bucket 0 did not overflow it");
    }
    /* Each phase: pushes per pop and the range of distances from now. */
    static const struct {
        int pushes, pops;
        int dist_bits; /* distance uniform below 2^bits; 0 = same time */
    } phase[] = {{1, 1, 12},  {100, 1, 12}, {5, 3, 0},  {40, 1, 6}, {1, 2, 30},
                 {100, 1, 8}, {2, 1, 40},   {1, 3, 12}, {80, 1, 4}, {1, 1, 20}};
    for (int round = 0; round < 40; round++) {
        int p = round % (int)(sizeof phase / sizeof phase[0]);
        for (int step = 0; step < 60 && tag < MAX - 400; step++) {
            for (int k = 0; k < phase[p].pushes; k++) {
                sim_time d = phase[p].dist_bits
                                 ? (sim_time)(sim_rng_u64(&r) >> (64 - phase[p].dist_bits))
                                 : 0;
                ref_ev e = {now + d, tag};
                uint32_t slot = push_at(&q, e.t, tag);
                h[tag] = (burst_handle){slot, sim_queue_slot(&q, slot)->gen, true};
                ref_insert(ref, &n, e);
                tag++;
            }
            /* Now and then cancel one of the recent events. */
            if (sim_rng_below(&r, 4) == 0) {
                uint64_t victim = tag - 1 - sim_rng_below(&r, (uint32_t)(tag < 50 ? tag : 50));
                if (h[victim].live) {
                    ck_assert(sim_queue_cancel(&q, h[victim].slot, h[victim].gen));
                    h[victim].live = false;
                    ref_remove(ref, &n, victim);
                }
            }
            for (int k = 0; k < phase[p].pops && n > 0; k++)
                h[pop_matches_reference(&q, ref, &n, &now)].live = false;
        }
    }
    sim_time t;
    while (n > 0) /* drain */
        pop_matches_reference(&q, ref, &n, &t);
    ck_assert_uint_eq(sim_queue_pop(&q, &t), UINT32_MAX);
    free(h);
    free(ref);
    sim_queue_fini(&q);
}
END_TEST

START_TEST(test_queue_cancel_is_lazy_and_handles_go_stale) {
    sim_queue q;
    sim_queue_init(&q);
    uint32_t a = push_at(&q, 10, 1);
    uint32_t gen_a = sim_queue_slot(&q, a)->gen;
    uint32_t b = push_at(&q, 20, 2);
    uint32_t gen_b = sim_queue_slot(&q, b)->gen;
    push_at(&q, 30, 3);
    ck_assert_uint_eq(sim_queue_live(&q), 3);
    ck_assert(sim_queue_cancel(&q, b, gen_b));
    ck_assert(!sim_queue_cancel(&q, b, gen_b)); /* twice: no */
    ck_assert(!sim_queue_cancel(&q, a, gen_a + 1));
    ck_assert(!sim_queue_cancel(&q, 999999, 1));
    ck_assert_uint_eq(sim_queue_live(&q), 2);
    sim_time t;
    uint32_t s = sim_queue_pop(&q, &t);
    ck_assert_uint_eq(s, a);
    /* Being dispatched: not cancellable any more. */
    ck_assert(!sim_queue_cancel(&q, a, gen_a));
    sim_queue_free(&q, s);
    /* Freed: the old handle is stale even when the slot is reused. */
    uint32_t c = push_at(&q, 40, 4);
    ck_assert_uint_eq(c, a);
    ck_assert(!sim_queue_cancel(&q, a, gen_a));
    ck_assert_uint_eq(pop_tag(&q, &t), 3); /* 2 was cancelled */
    ck_assert_uint_eq(pop_tag(&q, &t), 4);
    ck_assert_uint_eq(sim_queue_pop(&q, &t), UINT32_MAX);
    ck_assert_uint_eq(sim_queue_live(&q), 0);
    sim_queue_fini(&q);
}
END_TEST

START_TEST(test_queue_payloads_inline_and_pooled) {
    sim_queue q;
    sim_queue_init(&q);
    unsigned char big[5000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (unsigned char)(i * 7);
    uint32_t lens[] = {0, 1, SIM_EV_INLINE, SIM_EV_INLINE + 1, 64, 65, 5000};
    for (int round = 0; round < 3; round++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            uint32_t slot = sim_queue_alloc(&q);
            sim_event *ev = sim_queue_slot(&q, slot);
            ev->kind = 1;
            ev->type = (uint32_t)k;
            sim_queue_set_data(&q, ev, big, lens[k]);
            sim_queue_push(&q, (sim_time)(round * 100 + (int)k), slot);
        }
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
            sim_time t;
            uint32_t slot = sim_queue_pop(&q, &t);
            sim_event *ev = sim_queue_slot(&q, slot);
            ck_assert_uint_eq(ev->len, lens[k]);
            ck_assert_int_eq(memcmp(sim_queue_data(ev), big, lens[k]), 0);
            sim_queue_free(&q, slot);
        }
    }
    sim_queue_fini(&q);
}
END_TEST

/* The timeout pattern: every request sets a far timeout that its reply
 * cancels.  Dead entries would pile up to (rate x timeout); the purge keeps
 * the pool near the live events, and what stays pops in exactly the
 * (time, insertion) order of a sorted reference without the cancelled. */
START_TEST(test_queue_purges_cancelled_timeouts) {
    enum { LIVE = 500, OPS = 400000 };
    sim_queue q;
    sim_queue_init(&q);
    sim_rng r;
    sim_rng_seed(&r, 7, 3);
    /* ref holds the live events only; a timeout's tag is odd, a reply's even.
     * timeouts[i] is the pending timeout of the request whose reply is tag
     * 2i (slot, gen). */
    ref_ev *ref = malloc((3 * LIVE + 8) * sizeof *ref);
    uint32_t *to_slot = calloc(2 * OPS + 2 * LIVE, sizeof *to_slot);
    uint32_t *to_gen = calloc(2 * OPS + 2 * LIVE, sizeof *to_gen);
    int n = 0;
    uint64_t next = 0; /* request number */
    sim_time now = 0;
    for (int i = 0; i < LIVE; i++) {
        sim_time t = (sim_time)sim_rng_below(&r, 1000);
        uint64_t tag = 2 * next;
        ref_insert(ref, &n, (ref_ev){t, tag});
        push_at(&q, t, tag);
        uint32_t slot = push_at(&q, t + 1000000000, tag + 1);
        to_slot[next] = slot;
        to_gen[next] = sim_queue_slot(&q, slot)->gen;
        ref_insert(ref, &n, (ref_ev){t + 1000000000, tag + 1});
        next++;
    }
    uint32_t max_slots = 0;
    for (int op = 0; op < OPS; op++) {
        uint64_t got = pop_matches_reference(&q, ref, &n, &now);
        ck_assert_uint_eq(got % 2, 0); /* no timeout ever fires */
        uint64_t req = got / 2;
        /* The reply cancels its timeout: out of the reference too. */
        ck_assert(sim_queue_cancel(&q, to_slot[req], to_gen[req]));
        for (int i = 0; i < n; i++)
            if (ref[i].tag == got + 1) {
                memmove(ref + i, ref + i + 1, (size_t)(n - i - 1) * sizeof *ref);
                n--;
                break;
            }
        /* The next request: a reply soon (some at the same time), a timeout
         * far off. */
        sim_time t = now + (sim_time)sim_rng_below(&r, 1000);
        uint64_t tag = 2 * next;
        push_at(&q, t, tag);
        ref_insert(ref, &n, (ref_ev){t, tag});
        uint32_t slot = push_at(&q, t + 1000000000, tag + 1);
        to_slot[next] = slot;
        to_gen[next] = sim_queue_slot(&q, slot)->gen;
        ref_insert(ref, &n, (ref_ev){t + 1000000000, tag + 1});
        next++;
        if (q.n_slots > max_slots)
            max_slots = q.n_slots;
    }
    ck_assert_uint_eq(sim_queue_live(&q), (uint64_t)n);
    /* Without the purge the pool would hold every timeout: OPS + 2 LIVE. */
    ck_assert_uint_le(max_slots, SIM_QUEUE_PURGE_MIN + 2 * LIVE + SIM_QUEUE_CHUNK);
    while (n > 0)
        pop_matches_reference(&q, ref, &n, &now);
    ck_assert_uint_eq(sim_queue_pop(&q, &now), UINT32_MAX);
    free(ref);
    free(to_slot);
    free(to_gen);
    sim_queue_fini(&q);
}
END_TEST

/* In a steady state (pop one, push one) the pool does not grow. */
START_TEST(test_queue_reuses_slots) {
    sim_queue q;
    sim_queue_init(&q);
    for (int i = 0; i < 100; i++)
        push_at(&q, i, (uint64_t)i);
    uint32_t slots = q.n_slots;
    sim_time t;
    for (int i = 0; i < 100000; i++) {
        pop_tag(&q, &t);
        push_at(&q, t + 50, 0);
    }
    ck_assert_uint_eq(q.n_slots, slots);
    long live = sim_live_blocks();
    sim_queue_fini(&q);
    ck_assert_int_lt(sim_live_blocks(), live);
}
END_TEST

START_TEST(test_queue_rejects_scheduling_into_the_past) {
    sim_queue q;
    sim_queue_init(&q);
    push_at(&q, 100, 1);
    sim_time t;
    sim_queue_free(&q, sim_queue_pop(&q, &t));
    push_at(&q, 99, 2); /* aborts */
}
END_TEST

static Suite *queue_suite(void) {
    Suite *s = suite_create("queue");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_queue_equal_time_is_fifo);
    tcase_add_test(tc, test_queue_matches_sorted_reference_with_ties);
    tcase_add_test(tc, test_queue_matches_sorted_reference_wide_times);
    tcase_add_test(tc, test_queue_matches_sorted_reference_in_bursts);
    tcase_add_test(tc, test_queue_fifo_at_the_end_of_bucket_0_across_a_spill);
    tcase_add_test(tc, test_queue_cancel_is_lazy_and_handles_go_stale);
    tcase_add_test(tc, test_queue_payloads_inline_and_pooled);
    tcase_add_test(tc, test_queue_reuses_slots);
    tcase_add_test(tc, test_queue_purges_cancelled_timeouts);
    tcase_add_test_raise_signal(tc, test_queue_rejects_scheduling_into_the_past, SIGABRT);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return check_run(queue_suite()); }
