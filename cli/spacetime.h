/*
 * spacetime.h - the data of a space-time (Lamport) diagram of a kv run.
 */
#ifndef DSIM_SPACETIME_H
#define DSIM_SPACETIME_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* What the diagram's script needs besides its data files: numbers only. */
typedef struct spacetime_info {
    int lanes;          /* lanes drawn, 0 .. lanes - 1 from the top */
    unsigned key;       /* the key of the story */
    bool stale;         /* the read drawn was stale (else a fresh one) */
    double n, r, w;     /* the scenario's N, R and W */
    double t0_s;        /* simulated time of x = 0 (s) */
    double span_ms;     /* the window's width (ms) */
    bool faint;         /* other keys' messages are drawn (few enough) */
    size_t faint_count; /* how many */
} spacetime_info;

/*
 * Replays the run of summary.json (sum, checked by dsim plot) (its resolved scenario and seed, so
 * the same run event for event: the trace hash is checked) with a recorder
 * around the model's message handler, picks the stale read with the
 * shortest story (from the start of the write it missed to its reply; a
 * fresh read when no read was stale), and
 * writes into data_dir the files plots/spacetime.gp draws, spacetime-*.dat
 * (the lanes' names in spacetime-lanes.dat), and fills info.
 *
 * Returns 0, or -1 with a reason in err when the folder is not a kv run,
 * the run is too large to replay (over 500,000 events), it has no read of
 * a written key, or a file cannot be written.
 */
int spacetime_derive(const cJSON *sum, const char *data_dir, spacetime_info *info, char *err,
                     size_t errlen);

#endif
