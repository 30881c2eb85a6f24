/*
 * spacetime.h - the data of a space-time (Lamport) diagram of a kv run.
 */
#ifndef DSIM_SPACETIME_H
#define DSIM_SPACETIME_H

#include <stddef.h>

/*
 * Replays the run of DIR/summary.json (its resolved scenario and seed, so
 * the same run event for event: the trace hash is checked) with a recorder
 * around the model's message handler, picks the stale read with the
 * shortest story (from the start of the write it missed to its reply; a
 * fresh read when no read was stale), and
 * writes into data_dir the files plots/spacetime.gp draws: spacetime.gp
 * (axes, lanes, plot command) and spacetime-*.dat.
 *
 * Returns 0, or -1 with a reason in err when the folder is not a kv run,
 * the run is too large to replay (over 500,000 events), it has no read of
 * a written key, or a file cannot be written.
 */
int spacetime_derive(const char *dir, const char *data_dir, char *err, size_t errlen);

#endif
