/*
 * plot.c - `dsim plot DIR`: the charts of a run's or a sweep's folder.
 *
 * gnuplot draws every chart; dsim only prepares its data.  Each chart is a
 * script in plots/ that reads data files and writes DIR/<chart>.png
 * (pngcairo) and DIR/<chart>.svg.  Where a chart needs figures no file of
 * the folder holds as such (per-interval availability, a CDF, the fault
 * windows, the Pareto frontier), dsim derives them into DIR/chart-data/
 * first, so that the scripts stay simple and anyone can re-run them by
 * hand with the command lines written to DIR/chart-data/commands.txt.
 *
 * A folder is untrusted data (plot_int.h states the rules; docs/security.md
 * the trust model): it is checked before anything is drawn, and nothing of
 * it ever reaches gnuplot as code.
 *
 * Which charts a folder gets depends on what it holds:
 *   run    latency (histograms in ns), the model's own charts (its table
 *          of sim_chart: a timeline of timeseries.csv columns with the
 *          fault windows, or a file of the folder drawn by the model's
 *          script), messages (by type), t_visibility (t_visibility.csv),
 *          spacetime (a replay of a small kv run)
 *   sweep  t_visibility (one line per point), stale_heatmap (R x W),
 *          tradeoff (p99 latency against stale-read rate)
 *
 * gnuplot is an external program found on the PATH.  When it is missing,
 * dsim says so once and keeps the CSVs; charts never change the exit
 * status of a run or a sweep, only that of `dsim plot` itself.
 */
#include "plot.h"
#include "plot_int.h"

#include "registry.h"
#include "sim.h"
#include "spacetime.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_BAD_INPUT = 2, EXIT_INTERNAL = 1 };

const char plot_help[] =
    "usage: dsim plot DIR [--quiet]\n"
    "\n"
    "Draws the charts of DIR, a folder written by dsim run or dsim sweep, with\n"
    "gnuplot (found on the PATH) from the scripts in plots/.  Each chart is\n"
    "DIR/<name>.png and DIR/<name>.svg; derived data goes to DIR/chart-data/.\n"
    "  run:   latency, the model's charts (timeline, per_node, ...), messages,\n"
    "         t_visibility, spacetime\n"
    "  sweep: t_visibility, stale_heatmap, tradeoff\n"
    "A chart is drawn only when the folder has its data.  The folder is read as\n"
    "data only: a folder someone else wrote is safe to plot; one that is not as\n"
    "dsim writes it is refused with a message (exit 2).  dsim run and dsim sweep\n"
    "draw the charts by themselves unless given --no-plot or DSIM_NO_PLOT=1.\n"
    "DSIM_PLOTS_DIR overrides where the scripts are (default: the source tree's).\n"
    "docs/charts.md explains every chart, docs/security.md the trust model.\n";

/* latency: the CDF of every histogram measured in ns. */
static void chart_latency(plotter *pl, const cJSON *summary) {
    const cJSON *hists = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "metrics"), "histograms");
    if (!cJSON_GetArraySize(hists))
        return;
    csv c;
    if (plot_csv(pl, "histograms.csv", &c) != 0)
        return;
    int cn = csv_col(&c, "name"), cu = csv_col(&c, "upper"), cc = csv_col(&c, "count");
    char err[512];
    if (cn < 0 || cu < 0 || cc < 0) {
        plot_bad(pl, "histograms.csv: the columns name, upper and count are required");
        csv_free(&c);
        return;
    }
    if (csv_check_numbers(&c, "histograms.csv", cu, err, sizeof err) < 0 ||
        csv_check_numbers(&c, "histograms.csv", cc, err, sizeof err) < 0) {
        plot_bad(pl, "%s", err);
        csv_free(&c);
        return;
    }
    cli_out *o = NULL;
    int blocks = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hists) {
        const char *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "unit"));
        double count = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "count"));
        if (!unit || strcmp(unit, "ns") != 0 || !(count > 0) || !isfinite(count))
            continue;
        if (!o && !(o = plot_data_open(pl, "latency_cdf.dat")))
            break;
        /* The block's header: the curve's title, as data. */
        char name[96];
        plot_label(name, sizeof name, h->string);
        fprintf(o->f, "%s\"%s\" upper_ms fraction_at_or_below\n", blocks ? "\n\n" : "", name);
        double cum = 0;
        for (size_t r = 0; r < c.rows; r++) {
            if (strcmp(csv_at(&c, r, cn), h->string) != 0)
                continue;
            double u = csv_num(&c, r, cu), k = csv_num(&c, r, cc);
            if (isnan(u) || isnan(k))
                continue;
            cum += k;
            fprintf(o->f, "%.6f %.6f\n", u / 1e6, cum / count);
        }
        blocks++;
    }
    csv_free(&c);
    if (!o || plot_data_close(pl, o) < 0 || blocks == 0)
        return;
    cli_buf v = {0};
    plot_gp_var(&v, "data", "../latency_cdf.dat");
    plot_gp_num(&v, "n", blocks);
    plot_draw(pl, "latency", "latency.gp", &v);
}

/* messages: messages and bytes sent, per message type. */
static void chart_messages(plotter *pl, const cJSON *summary) {
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "metrics"), "messages");
    if (!cJSON_GetArraySize(msgs))
        return;
    cli_out *o = plot_data_open(pl, "messages.csv");
    if (!o)
        return;
    fputs("type,sent,delivered,dropped,bytes\n", o->f);
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        char type[64];
        plot_label(type, sizeof type, m->string);
        fprintf(o->f, "%s,%.0f,%.0f,%.0f,%.0f\n", type,
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "sent")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "delivered")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "dropped")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "bytes")));
    }
    if (plot_data_close(pl, o) < 0)
        return;
    cli_buf v = {0};
    plot_gp_var(&v, "data", "../messages.csv");
    plot_draw(pl, "messages", "messages.gp", &v);
}

/* A model's chart of a file of the folder: the file, checked and cleaned
 * cell by cell, is copied to chart-data/ and drawn by the model's script. */
static void chart_file(plotter *pl, const sim_chart *ch) {
    if (!ch->file[0] || strchr(ch->file, '/') || ch->file[0] == '.')
        return; /* a model's mistake, not the folder's: no such chart */
    csv c;
    if (plot_csv(pl, ch->file, &c) != 0)
        return;
    cli_out *o = c.rows ? plot_data_open(pl, ch->file) : NULL;
    if (!o) {
        csv_free(&c);
        return;
    }
    for (size_t r = 0; r <= c.rows; r++)
        for (size_t i = 0; i < c.cols; i++) {
            char cell[128];
            plot_label(cell, sizeof cell, c.cell[r * c.cols + i]);
            fprintf(o->f, "%s%s", cell, i + 1 < c.cols ? "," : "\n");
        }
    csv_free(&c);
    if (plot_data_close(pl, o) < 0)
        return;
    cli_buf v = {0};
    char rel[160];
    snprintf(rel, sizeof rel, "../%s", ch->file);
    plot_gp_var(&v, "data", rel);
    if (ch->title)
        plot_gp_var(&v, "title", ch->title);
    plot_draw(pl, ch->name, ch->script, &v);
}

/* t_visibility of one run: P(consistent) against the time since the
 * write's acknowledgement. */
static void chart_t_visibility_run(plotter *pl, const cJSON *summary) {
    csv c;
    if (plot_csv(pl, "t_visibility.csv", &c) != 0)
        return;
    int ct = csv_col(&c, "t_to_s"), cr = csv_col(&c, "reads"), cc = csv_col(&c, "consistent");
    char err[512];
    if (ct < 0 || cr < 0 || cc < 0) {
        plot_bad(pl, "t_visibility.csv: the columns t_to_s, reads and consistent are required");
        csv_free(&c);
        return;
    }
    if (csv_check_numbers(&c, "t_visibility.csv", 0, err, sizeof err) < 0) {
        plot_bad(pl, "%s", err);
        csv_free(&c);
        return;
    }
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "scenario"), "kv");
    char name[128] = "this run";
    if (kv)
        snprintf(name, sizeof name, "N=%.0f R=%.0f W=%.0f",
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "n")),
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "r")),
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "w")));
    size_t points = 0;
    for (size_t r = 0; r < c.rows; r++)
        points += csv_num(&c, r, cr) > 0;
    if (points == 0) {
        if (!pl->quiet)
            fprintf(stderr,
                    "dsim: no t-visibility chart: no read followed an acknowledged write\n");
        csv_free(&c);
        return;
    }
    cli_out *o = plot_data_open(pl, "t_visibility.dat");
    if (!o) {
        csv_free(&c);
        return;
    }
    fprintf(o->f, "\"%s\" t_upper_ms p_consistent reads\n", name);
    for (size_t r = 0; r < c.rows; r++) {
        double reads = csv_num(&c, r, cr);
        if (reads > 0)
            fprintf(o->f, "%.6f %.6f %.0f\n", csv_num(&c, r, ct) * 1e3, csv_num(&c, r, cc) / reads,
                    reads);
    }
    csv_free(&c);
    if (plot_data_close(pl, o) < 0)
        return;
    cli_buf v = {0};
    plot_gp_var(&v, "data", "../t_visibility.dat");
    plot_gp_num(&v, "n", 1);
    plot_draw(pl, "t_visibility", "t_visibility.gp", &v);
}

/* spacetime: a replay of a small kv run around one stale read. */
static void chart_spacetime(plotter *pl, const cJSON *summary) {
    char err[512];
    spacetime_info in;
    if (spacetime_derive(summary, pl->data, &in, err, sizeof err) < 0) {
        if (!pl->quiet)
            fprintf(stderr, "dsim: no space-time diagram: %s\n", err);
        return;
    }
    cli_buf v = {0};
    plot_gp_var(&v, "d", "../");
    plot_gp_num(&v, "lanes", in.lanes);
    plot_gp_num(&v, "key", in.key);
    plot_gp_num(&v, "stale", in.stale);
    plot_gp_num(&v, "qn", in.n);
    plot_gp_num(&v, "qr", in.r);
    plot_gp_num(&v, "qw", in.w);
    plot_gp_num(&v, "t0", in.t0_s);
    plot_gp_num(&v, "span", in.span_ms);
    plot_gp_num(&v, "faint", in.faint);
    plot_gp_num(&v, "faint_count", (double)in.faint_count);
    plot_draw(pl, "spacetime", "spacetime.gp", &v);
}

/* timeseries.csv, checked: a time_s column of numbers on every line and
 * numbers (or nothing) in every other.  0, 1 if absent, -1 if bad. */
static int read_timeseries(plotter *pl, csv *ts) {
    int rc = plot_csv(pl, "timeseries.csv", ts);
    if (rc != 0)
        return rc;
    char err[512];
    int t = csv_col(ts, "time_s");
    if (t < 0)
        rc = plot_bad(pl, "timeseries.csv:1: no time_s column");
    else if (csv_check_numbers(ts, "timeseries.csv", 0, err, sizeof err) < 0)
        rc = plot_bad(pl, "%s", err);
    for (size_t r = 0; rc == 0 && r < ts->rows; r++)
        if (isnan(csv_num(ts, r, t)))
            rc = plot_bad(pl, "timeseries.csv:%zu: time_s is empty", r + 2);
    if (rc)
        csv_free(ts);
    return rc;
}

static int plot_run(plotter *pl) {
    cJSON *sum = plot_read_summary(pl);
    if (!sum)
        return -1;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(sum, "scenario");
    const sim_model *model =
        sim_model_find(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(sc, "model")));
    csv ts;
    int have_ts = read_timeseries(pl, &ts);
    if (pl->bad) {
        cJSON_Delete(sum);
        return -1;
    }
    chart_latency(pl, sum);
    for (const sim_chart *ch = model->charts; ch && ch->name; ch++) {
        if (ch->sweep)
            continue; /* a sweep's chart (plot_sweep.c) */
        if (ch->series && have_ts == 0)
            plot_timeline(pl, ch, &ts, sum);
        else if (ch->file && ch->script)
            chart_file(pl, ch);
    }
    chart_messages(pl, sum);
    chart_t_visibility_run(pl, sum);
    if (strcmp(model->name, "kv") == 0 && !pl->bad)
        chart_spacetime(pl, sum);
    if (have_ts == 0)
        csv_free(&ts);
    cJSON_Delete(sum);
    return pl->bad ? -1 : 0;
}

static int plot_dir(plotter *pl) {
    bool found;
    cJSON *sw = plot_read_sweep(pl, &found);
    if (found) {
        if (sw)
            plot_sweep(pl, sw);
        cJSON_Delete(sw);
        return pl->bad ? -1 : 0;
    }
    return plot_run(pl);
}

int plot_auto(const char *dir, bool quiet) {
    const char *off = getenv("DSIM_NO_PLOT");
    if (off && *off && strcmp(off, "0") != 0)
        return 0;
    plotter pl;
    bool missing;
    if (plot_open(&pl, dir, quiet, &missing) < 0) {
        if (missing && !quiet)
            fprintf(stderr, "dsim: gnuplot is not on the PATH: no charts (the CSVs are in %s/)\n",
                    dir);
        plot_close(&pl);
        return -1;
    }
    plot_dir(&pl);
    if (!quiet && pl.drawn)
        printf("charts: %s/ (%s; .png and .svg)\n", dir, pl.done.s);
    int rc = pl.failed || pl.bad ? -1 : pl.drawn;
    plot_close(&pl);
    return rc;
}

int plot_cmd(int argc, char **argv) {
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            char shown[64];
            plot_label(shown, sizeof shown, argv[i]);
            fprintf(stderr, "dsim: unknown option %s\n(see dsim help plot)\n", shown);
            return EXIT_BAD_INPUT;
        } else if (!dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "dsim: unexpected argument (one folder at a time)\n");
            return EXIT_BAD_INPUT;
        }
    }
    if (!dir) {
        fprintf(stderr, "dsim: a folder is required (see dsim help plot)\n");
        return EXIT_BAD_INPUT;
    }
    struct stat st;
    char shown[512];
    plot_label(shown, sizeof shown, dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "dsim: %s is not a folder\n", shown);
        return EXIT_BAD_INPUT;
    }
    char *s = sim_malloc(strlen(dir) + 16), *w = sim_malloc(strlen(dir) + 16);
    sprintf(s, "%s/summary.json", dir);
    sprintf(w, "%s/sweep.json", dir);
    bool any = lstat(s, &st) == 0 || lstat(w, &st) == 0;
    sim_free(s);
    sim_free(w);
    if (!any) {
        fprintf(stderr,
                "dsim: %s holds neither summary.json (dsim run) nor sweep.json (dsim sweep)\n",
                shown);
        return EXIT_BAD_INPUT;
    }
    plotter pl;
    bool missing;
    if (plot_open(&pl, dir, quiet, &missing) < 0) {
        if (missing)
            fprintf(stderr,
                    "dsim: gnuplot is not on the PATH: no charts (install gnuplot-nox; "
                    "the CSVs are in %s/)\n",
                    shown);
        plot_close(&pl);
        return EXIT_INTERNAL;
    }
    int rc = plot_dir(&pl);
    if (rc == 0 && !quiet)
        printf("charts: %s/ (%s; .png and .svg)\n", shown,
               pl.drawn ? pl.done.s : "none: no chart applies to this folder");
    int status = rc < 0 || pl.bad ? EXIT_BAD_INPUT : pl.failed ? EXIT_INTERNAL : 0;
    plot_close(&pl);
    return status;
}
