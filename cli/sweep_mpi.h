/*
 * sweep_mpi.h - `dsim-mpi sweep`, the sweep over MPI ranks (cli/sweep_mpi.c).
 */
#ifndef DSIM_SWEEP_MPI_H
#define DSIM_SWEEP_MPI_H

#include "sweep.h"

/* Initialises MPI with main's argc/argv, runs sweep_cmd(argc, argv) with
 * the ranks as its executor, finalises MPI and returns the exit status
 * (the same on every rank). */
int sweep_mpi_cmd(int argc, char **argv, int *mpi_argc, char ***mpi_argv);

#endif
