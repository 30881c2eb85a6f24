/*
 * phold_heap.c - PHOLD written the straightforward way, as the yardstick
 * for dsim's engine (bench/run-phold.sh runs both).
 *
 * A binary min-heap of pointers to events allocated with malloc and freed
 * after handling, ordered by (time, sequence).  Same model as
 * models/phold: `lps` LPs, `m` initial events each at lookahead + Exp(mean)
 * on themselves; each handled event sends one to a uniformly random LP at
 * now + lookahead + Exp(mean).  No network, no trace hash, no metrics: the
 * least work a PHOLD can do.
 *
 * usage: phold_heap LPS M LOOKAHEAD_NS MEAN_NS END_NS SEED
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct event {
    int64_t time;
    uint64_t seq;
    uint32_t lp;
} event;

static event **heap;
static size_t heap_n, heap_cap;
static uint64_t rng_state, rng_inc;

static uint32_t pcg32(void) {
    uint64_t old = rng_state;
    rng_state = old * 6364136223846793005ULL + rng_inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

static double uniform01(void) {
    uint64_t x = ((uint64_t)pcg32() << 32) | pcg32();
    return (double)(x >> 11) * 0x1.0p-53;
}

static int earlier(const event *a, const event *b) {
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void push(event *e) {
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = realloc(heap, heap_cap * sizeof *heap);
        if (!heap)
            abort();
    }
    size_t i = heap_n++;
    while (i > 0 && earlier(e, heap[(i - 1) / 2])) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = e;
}

static event *pop(void) {
    event *top = heap[0], *last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= heap_n)
            break;
        if (c + 1 < heap_n && earlier(heap[c + 1], heap[c]))
            c++;
        if (!earlier(heap[c], last))
            break;
        heap[i] = heap[c];
        i = c;
    }
    if (heap_n)
        heap[i] = last;
    return top;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: phold_heap LPS M LOOKAHEAD_NS MEAN_NS END_NS SEED\n");
        return 2;
    }
    uint32_t lps = (uint32_t)strtoul(argv[1], NULL, 10);
    uint32_t m = (uint32_t)strtoul(argv[2], NULL, 10);
    int64_t lookahead = strtoll(argv[3], NULL, 10), mean = strtoll(argv[4], NULL, 10);
    int64_t end = strtoll(argv[5], NULL, 10);
    rng_state = 0;
    rng_inc = 54u << 1 | 1u;
    pcg32();
    rng_state += strtoull(argv[6], NULL, 10);
    pcg32();
    uint64_t seq = 0, handled = 0;
    for (uint32_t lp = 0; lp < lps; lp++)
        for (uint32_t k = 0; k < m; k++) {
            event *e = malloc(sizeof *e);
            if (!e)
                abort();
            e->time = lookahead + (int64_t)llround(-(double)mean * log(1.0 - uniform01()));
            e->seq = seq++;
            e->lp = lp;
            push(e);
        }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (heap_n) {
        event *e = pop();
        if (e->time > end) {
            free(e);
            break;
        }
        handled++;
        event *n = malloc(sizeof *n);
        if (!n)
            abort();
        n->time = e->time + lookahead + (int64_t)llround(-(double)mean * log(1.0 - uniform01()));
        n->seq = seq++;
        n->lp = (uint32_t)(((uint64_t)pcg32() * lps) >> 32);
        free(e);
        push(n);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("{\"events\": %llu, \"wall_s\": %.6f, \"events_per_s\": %.0f}\n",
           (unsigned long long)handled, wall, (double)handled / wall);
    while (heap_n)
        free(pop());
    free(heap);
    return 0;
}
