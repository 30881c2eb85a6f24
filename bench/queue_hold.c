/*
 * queue_hold.c - the hold model on dsim's event queue alone: pop the
 * earliest event, push it again at t + 100 ms + Exp(1 s).  Prints the cost
 * of one hold operation (pop, free, alloc, draw, push) for a population of
 * N pending events.
 *
 * usage: queue_hold [N] [OPERATIONS]
 */
#include "queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long ops = argc > 2 ? atol(argv[2]) : 10000000;
    if (n < 1 || n > 1000000 || ops < 1) {
        fprintf(stderr, "usage: queue_hold [N (1..1000000)] [OPERATIONS]\n");
        return 2;
    }
    sim_queue q;
    sim_queue_init(&q);
    sim_rng rng;
    sim_rng_seed(&rng, 1, 2);
    sim_dist d = {.kind = SIM_DIST_EXPONENTIAL, .a = 1e9, .offset = 1e8};
    for (long i = 0; i < n; i++) {
        uint32_t slot = sim_queue_alloc(&q);
        sim_queue_slot(&q, slot)->kind = 1;
        sim_queue_push(&q, sim_dist_sample_time(&d, &rng), slot);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sim_time t;
    for (long i = 0; i < ops; i++) {
        sim_queue_free(&q, sim_queue_pop(&q, &t));
        uint32_t slot = sim_queue_alloc(&q);
        sim_queue_slot(&q, slot)->kind = 1;
        sim_queue_push(&q, t + sim_dist_sample_time(&d, &rng), slot);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("{\"pending\": %ld, \"operations\": %ld, \"ns_per_op\": %.1f}\n", n, ops,
           wall / (double)ops * 1e9);
    sim_queue_fini(&q);
    return 0;
}
