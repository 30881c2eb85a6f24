/*
 * plot_int.h - the parts of `dsim plot` (cli/plot*.c), shared among them.
 *
 * The trust model (docs/security.md): every byte of a results folder is
 * data someone else may have written.  The parts keep three rules:
 *
 *   1. No gnuplot code is ever made from the folder.  gnuplot runs the
 *      scripts of plots/ as they are; what they draw reaches them only as
 *      data files in chart-data/ that dsim wrote this time, read with
 *      `using`, `columnheader`, `xtic()` and `with labels`.  The variables
 *      given with -e are numbers, names dsim chose (files of chart-data/,
 *      chart names) and text compiled into dsim or a model, quoted by
 *      plot_gp_quote.  No path of the folder is given to gnuplot: it runs
 *      inside a fresh folder of chart-data/ and reads "../<file>".
 *   2. Text from the folder that ends up in a data file (a node's name, a
 *      histogram's, a sweep point's label) is cleaned by plot_label first,
 *      so that it stays one field of one line.
 *   3. The folder is checked before anything is drawn (plot_check.c): a
 *      wrong type, a missing part, a ragged CSV, an oversized file is an
 *      error naming the file, the line or the JSON path (exit 2).
 *
 * The order of the files, bottom up: plot_data.c (CSV reader, labels,
 * quoting), plot_check.c (the folder's checks), plot_draw.c (running
 * gnuplot), plot_timeline.c (model timelines, fault windows), plot_sweep.c
 * (sweep charts), plot.c (run charts, the commands).
 */
#ifndef DSIM_PLOT_INT_H
#define DSIM_PLOT_INT_H

#include "cli_util.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The largest file dsim plot reads from a folder. */
#define PLOT_MAX_FILE (256u << 20)

/* ---- plot_data.c ---- */

typedef struct csv {
    size_t rows, cols; /* rows excludes the header */
    char **cell;       /* (rows + 1) * cols; header first */
} csv;

/* Reads dir/name as CSV (RFC 4180 quotes): every line must have as many
 * fields as the header, whose names are non-empty and distinct.  0; 1 if
 * the file does not exist; -1 with "name:line: why" in err. */
int csv_load(const char *dir, const char *name, csv *c, char *err, size_t n);
void csv_free(csv *c);
int csv_col(const csv *c, const char *name);
const char *csv_at(const csv *c, size_t row, int col);
/* The cell as a number: NAN when empty or not a number. */
double csv_num(const csv *c, size_t row, int col);
/* Every cell of the columns from `from` on is a number ("inf" allowed) or
 * empty;
 * else -1 with "name:line: column X: ..." in err. */
int csv_check_numbers(const csv *c, const char *name, int from, char *err, size_t n);

/* Copies src into dst (n bytes) as one harmless field of a data file:
 * control characters become ' ', '"', '\\' and ',' become '_', invalid
 * UTF-8 becomes '?', and the text is cut (at a character boundary) to fit.
 * plot_text keeps the commas, for tab-separated files. */
void plot_label(char *dst, size_t n, const char *src);
void plot_text(char *dst, size_t n, const char *src);

/* Appends name=<value>; to b, the value as a gnuplot string expression of
 * single-quoted runs (inside which gnuplot expands nothing) joined by '.'
 * to "'" for each quote: it's becomes 'it'."'".'s'.  -1 (nothing appended)
 * if the value holds a control character, which no -e value needs. */
int plot_gp_var(cli_buf *b, const char *name, const char *value);
/* Appends name=number; (%.9g: a number is never code). */
void plot_gp_num(cli_buf *b, const char *name, double value);

/* ---- plot_draw.c ---- */

typedef struct plotter {
    const char *dir;    /* the folder plotted (the user's path) */
    char *data;         /* DIR/chart-data */
    char *work;         /* the fresh folder gnuplot runs in, inside data */
    char *work_name;    /* its name inside chart-data */
    char gnuplot[4096]; /* the program */
    char *scripts;      /* plots/, absolute */
    FILE *log;          /* chart-data/gnuplot.log */
    bool quiet;
    int drawn, failed, bad; /* charts drawn, gnuplot failures, folder errors */
    cli_buf done;           /* names of the charts drawn, for the summary line */
    cli_buf cmds;           /* chart-data/commands.txt */
} plotter;

/* Finds gnuplot and the scripts, makes chart-data/ and the work folder.
 * 0, or -1 (with *missing set when gnuplot is not on the PATH). */
int plot_open(plotter *pl, const char *dir, bool quiet, bool *missing);
/* Writes commands.txt, removes the work folder, frees what pl holds. */
void plot_close(plotter *pl);

/* Draws chart `chart` with plots/<script> and the -e variables vars (freed
 * and reset here); plotdir and out are added.  The images are made in the
 * work folder and renamed to DIR/<chart>.png and .svg. */
void plot_draw(plotter *pl, const char *chart, const char *script, cli_buf *vars);

/* A data file of chart-data/, written whole (cli_out). */
cli_out *plot_data_open(plotter *pl, const char *name);
/* Closes it; 0, or -1 (counted as a failure). */
int plot_data_close(plotter *pl, cli_out *o);

/* Says what is wrong with the folder ("dsim: DIR/<what>") and counts it:
 * dsim plot then exits 2.  Returns -1. */
int plot_bad(plotter *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- plot_check.c ---- */

/* The folder's summary.json, read and checked (types of every part a chart
 * reads); NULL after plot_bad. */
cJSON *plot_read_summary(plotter *pl);
/* The folder's sweep.json, read and checked; NULL if there is none (*found
 * false) or after plot_bad. */
cJSON *plot_read_sweep(plotter *pl, bool *found);
/* Reads a CSV of the folder: 0, 1 if it is missing, -1 after plot_bad. */
int plot_csv(plotter *pl, const char *name, csv *c);

/* ---- plot_timeline.c ---- */

/* Writes chart-data/faults.csv and marks.csv from the resolved scenario's
 * fault list and adds nf= (windows) and nm= (instants) to vars. */
void plot_faults(plotter *pl, const cJSON *scenario, cli_buf *vars);
/* Draws a model's timeline chart from timeseries.csv (ts). */
struct sim_chart;
void plot_timeline(plotter *pl, const struct sim_chart *ch, const csv *ts, const cJSON *summary);

/* ---- plot_sweep.c ---- */

void plot_sweep(plotter *pl, const cJSON *sweep);

#endif
