/*
 * sweep.h - `dsim sweep`: one scenario over a grid of parameter values and
 * many seeds, in worker processes or MPI ranks, summarised in tidy CSV.
 * docs/sweeps.md is the user's page.
 */
#ifndef DSIM_SWEEP_H
#define DSIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

/*
 * How runs are spread over the processes of a distributed launch (MPI).
 * Rank 0 decides which runs remain, every rank runs its share, rank 0
 * receives the others' results and writes every file.  NULL for a plain
 * process.  Implemented by cli/sweep_mpi.c.
 */
typedef struct sweep_dist {
    int rank, size;
    /* Rank 0 passes the run indices still to do in *todo and *n (n == SIZE_MAX
     * means stop: every rank returns status *code); other ranks receive
     * them (allocated with sim_malloc; caller frees). */
    void (*bcast_todo)(size_t **todo, size_t *n, int *code);
    /* A rank other than 0 hands one result to rank 0. */
    void (*send_result)(size_t run, const char *text);
    /* Rank 0: the next result from another rank; when block is false,
     * returns 0 at once if none is waiting.  Returns 1 with *text allocated
     * with sim_malloc (caller frees). */
    int (*recv_result)(bool block, size_t *run, char **text);
} sweep_dist;

/* The `dsim sweep` command: argv after "sweep".  Returns the exit status
 * (0, 2 bad input, 1 internal failure). */
int sweep_cmd(int argc, char **argv, const sweep_dist *dist);

extern const char sweep_help[];

/* The 97.5 % quantile of Student's t with df degrees of freedom (df >= 1):
 * the factor of a two-sided 95 % confidence interval. */
double sweep_t975(unsigned df);

/* Formats a double so that it reads back exactly: %.15g when that
 * round-trips, else %.17g; "" for NaN. */
void sweep_fmt_num(double v, char *buf, size_t n);

#endif
