/*
 * sweep_mpi.c - `dsim-mpi sweep`: the runs of a sweep spread over MPI ranks.
 *
 * Rank 0 decides which runs remain (it alone reads and writes the output
 * folder, so the ranks need no shared file system), broadcasts their
 * indices, runs its share and receives every other rank's results, one
 * message per run: the run index (8 bytes, little- or big-endian as the
 * machine's, all ranks being one kind of machine) followed by the record's
 * JSON text and its terminating NUL.  Rank r runs the runs at positions
 * k with k % size == r (cli/sweep.c), so the files rank 0 writes are the
 * bytes a serial sweep writes.
 *
 * MPI lives in its own binary (dsim-mpi) rather than in dsim: linking
 * OpenMPI into every `dsim run` would load its libraries at each start and
 * make the sanitizer build report OpenMPI's own allocations as leaks.
 */
#include "sweep_mpi.h"

#include "sim.h"

#include <mpi.h>
#include <stdint.h>
#include <string.h>

enum { TAG_RESULT = 17 };

static void bcast_todo(size_t **todo, size_t *n, int *code) {
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    unsigned long long hdr[2] = {(unsigned long long)*n, (unsigned long long)*code};
    MPI_Bcast(hdr, 2, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    *n = (size_t)hdr[0];
    *code = (int)hdr[1];
    if (*n == SIZE_MAX || *n == 0)
        return;
    unsigned long long *buf = sim_calloc(*n, sizeof *buf);
    if (rank == 0)
        for (size_t i = 0; i < *n; i++)
            buf[i] = (*todo)[i];
    MPI_Bcast(buf, (int)*n, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (rank != 0) {
        *todo = sim_calloc(*n, sizeof **todo);
        for (size_t i = 0; i < *n; i++)
            (*todo)[i] = (size_t)buf[i];
    }
    sim_free(buf);
}

static void send_result(size_t run, const char *text) {
    size_t len = strlen(text) + 1;
    char *buf = sim_malloc(8 + len);
    uint64_t r = run;
    memcpy(buf, &r, 8);
    memcpy(buf + 8, text, len);
    MPI_Send(buf, (int)(8 + len), MPI_CHAR, 0, TAG_RESULT, MPI_COMM_WORLD);
    sim_free(buf);
}

static int recv_result(bool block, size_t *run, char **text) {
    MPI_Status st;
    if (block) {
        MPI_Probe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &st);
    } else {
        int flag = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            return 0;
    }
    int count = 0;
    MPI_Get_count(&st, MPI_CHAR, &count);
    if (count < 9)
        return -1;
    char *buf = sim_malloc((size_t)count);
    MPI_Recv(buf, count, MPI_CHAR, st.MPI_SOURCE, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    uint64_t r;
    memcpy(&r, buf, 8);
    *run = (size_t)r;
    buf[count - 1] = '\0';
    *text = sim_strdup(buf + 8);
    sim_free(buf);
    return 1;
}

int sweep_mpi_cmd(int argc, char **argv, int *mpi_argc, char ***mpi_argv) {
    MPI_Init(mpi_argc, mpi_argv);
    sweep_dist d = {
        .bcast_todo = bcast_todo, .send_result = send_result, .recv_result = recv_result};
    MPI_Comm_rank(MPI_COMM_WORLD, &d.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d.size);
    int rc = sweep_cmd(argc, argv, &d);
    MPI_Finalize();
    return rc;
}
