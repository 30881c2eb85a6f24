/*
 * plot.h - charts of a run's or a sweep's folder, drawn by gnuplot (an
 * external program found on the PATH) from the scripts in plots/.
 * docs/charts.md describes every chart.
 */
#ifndef DSIM_PLOT_H
#define DSIM_PLOT_H

#include <stdbool.h>

/* The `dsim plot` command: argv after "plot".  Returns the exit status. */
int plot_cmd(int argc, char **argv);

extern const char plot_help[];

/* Draws what the folder's CSVs allow, after `dsim run` or `dsim sweep`.
 * Does nothing when DSIM_NO_PLOT is set; says once on stderr when gnuplot
 * is missing.  Returns the number of charts drawn (negative on failure);
 * never affects the command's exit status. */
int plot_auto(const char *dir, bool quiet);

#endif
