/*
 * report_sweep.c - report.html of a sweep's folder: what was varied, the
 * heat map of stale reads over two parameters, the trade-off frontier, the
 * table of points with the command that reproduces a representative run
 * of each, and the sweep's charts.
 *
 * The rules of cli/report.c hold here too: every text of the folder is
 * escaped (report_html_text), charts are base64 data: images, nothing is
 * fetched.  This page has no script at all.
 */
#include "report_int.h"

#include "plot_int.h"
#include "sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_MAX_ROWS 500

/* The figures the table shows, when points.csv has them. */
static const struct {
    const char *col, *title;
    double scale; /* value shown = mean * scale */
    const char *unit;
} figures[] = {
    {"model.stale_read_fraction.mean", "stale-read fraction", 1, ""},
    {"model.availability.mean", "availability", 1, ""},
    {"histograms.kv.read_latency.p99.mean", "read p99", 1e-6, " ms"},
    {"histograms.kv.write_latency.p99.mean", "write p99", 1e-6, " ms"},
    {"model.lost.mean", "lost", 1, ""},
    {"model.duplicates.mean", "duplicates", 1, ""},
    {"model.latency_p99_s.mean", "latency p99", 1, " s"},
    {"model.time_to_all_s.mean", "time to all", 1, " s"},
    {"model.residue.mean", "residue", 1, ""},
};
#define N_FIGURES (sizeof figures / sizeof *figures)

static const cJSON *jget(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* The colour of a fraction in [0, 1] for the heat map: white to red. */
static void heat(cli_buf *h, double v) {
    if (isnan(v)) {
        cli_buf_printf(h, "#eeeeee");
        return;
    }
    double x = v < 0 ? 0 : v > 1 ? 1 : sqrt(v);
    cli_buf_printf(h, "rgb(255,%d,%d)", (int)(255 - 200 * x), (int)(255 - 220 * x));
}

int report_sweep_page(const char *dir, cli_buf *h, char *err, size_t errlen) {
    char *path = sim_malloc(strlen(dir) + 16);
    sprintf(path, "%s/sweep.json", dir);
    char why[512];
    size_t len;
    char *text = cli_read_file(path, 64u << 20, &len, why, sizeof why);
    sim_free(path);
    if (!text)
        return cli_fail(err, errlen, "%s/sweep.json: %s", dir, why);
    cJSON *sw = cJSON_ParseWithLength(text, len);
    sim_free(text);
    const cJSON *base = jget(sw, "base_scenario");
    if (!cJSON_IsObject(base)) {
        cJSON_Delete(sw);
        return cli_fail(err, errlen, "%s/sweep.json: not a sweep's (no base_scenario)", dir);
    }
    const char *name = cJSON_GetStringValue(jget(base, "name"));
    report_page_head(h, "Sweep of ", name ? name : "a scenario");
    cli_buf_printf(h, "<p class=\"sub\">model <b>");
    report_html_text(h, cJSON_GetStringValue(jget(base, "model")), 64);
    double pts = 0, runs = 0;
    if (cJSON_IsNumber(jget(sw, "points")))
        pts = jget(sw, "points")->valuedouble;
    if (cJSON_IsNumber(jget(sw, "runs")))
        runs = jget(sw, "runs")->valuedouble;
    cli_buf_printf(h,
                   "</b> \xc2\xb7 %.0f points \xc2\xb7 %.0f runs</p><nav><a href=\"#what\">What "
                   "was varied</a> <a href=\"#heatmap\">Heat map</a> <a "
                   "href=\"#points\">Points</a> <a href=\"#charts\">Charts</a></nav></header>"
                   "\n<main>\n",
                   pts, runs);

    cli_buf_printf(h, "<section id=\"what\"><h2>What was varied</h2><p class=\"desc\">");
    report_html_text(h, cJSON_GetStringValue(jget(base, "description")), 8000);
    cli_buf_printf(h, "</p><table class=\"kv\">\n");
    const cJSON *v;
    int n_vary = 0;
    const cJSON *vary = jget(sw, "vary");
    cJSON_ArrayForEach(v, (cJSON_IsArray(vary) ? vary : NULL)) {
        char *vals = cJSON_PrintUnformatted(jget(v, "values"));
        cli_buf_printf(h, "<tr><td><code>");
        report_html_text(h, cJSON_GetStringValue(jget(v, "path")), 200);
        cli_buf_printf(h, "</code></td><td>");
        report_html_text(h, vals, 400);
        cli_buf_printf(h, "</td></tr>\n");
        cJSON_free(vals);
        n_vary++;
    }
    const cJSON *seeds = jget(sw, "seeds");
    double per_point = 0, first = 0;
    if (cJSON_IsNumber(jget(seeds, "per_point")))
        per_point = jget(seeds, "per_point")->valuedouble;
    if (cJSON_IsNumber(jget(seeds, "first")))
        first = jget(seeds, "first")->valuedouble;
    cli_buf_printf(h,
                   "<tr><td>seeds per point</td><td>%.0f (from %.0f; every point sees the "
                   "same random workload)</td></tr>\n",
                   per_point, first);
    char *set = cJSON_PrintUnformatted(jget(sw, "set"));
    cli_buf_printf(h, "<tr><td>also set</td><td><code>");
    report_html_text(h, set, 400);
    cli_buf_printf(h, "</code></td></tr></table></section>\n");
    cJSON_free(set);

    csv c;
    char cerr[512];
    int crc = csv_load(dir, "points.csv", &c, cerr, sizeof cerr);
    int fcol[N_FIGURES];
    int stale = -1, rp99 = -1, wp99 = -1;
    if (crc == 0) {
        for (size_t i = 0; i < N_FIGURES; i++)
            fcol[i] = csv_col(&c, figures[i].col);
        stale = fcol[0], rp99 = fcol[2], wp99 = fcol[3];
    }

    /* The heat map: two parameters, the stale-read fraction in each cell. */
    cli_buf_printf(h, "<section id=\"heatmap\"><h2>Stale reads over the two parameters</h2>\n");
    if (crc == 0 && n_vary == 2 && stale >= 0 && (int)c.cols > 2) {
        const cJSON *va = cJSON_GetArrayItem(vary, 0), *vb = cJSON_GetArrayItem(vary, 1);
        const cJSON *xs = jget(va, "values"), *ys = jget(vb, "values");
        cli_buf_printf(h, "<table class=\"heat\"><tr><th>");
        report_html_text(h, cJSON_GetStringValue(jget(va, "path")), 80);
        cli_buf_printf(h, " \xe2\x86\x93 / ");
        report_html_text(h, cJSON_GetStringValue(jget(vb, "path")), 80);
        cli_buf_printf(h, " \xe2\x86\x92</th>");
        const cJSON *y, *x;
        cJSON_ArrayForEach(y, (cJSON_IsArray(ys) ? ys : NULL)) {
            cli_buf_printf(h, "<th>");
            report_html_text(h, cJSON_GetStringValue(y), 40);
            cli_buf_printf(h, "</th>");
        }
        cli_buf_printf(h, "</tr>\n");
        cJSON_ArrayForEach(x, (cJSON_IsArray(xs) ? xs : NULL)) {
            cli_buf_printf(h, "<tr><th>");
            report_html_text(h, cJSON_GetStringValue(x), 40);
            cli_buf_printf(h, "</th>");
            cJSON_ArrayForEach(y, (cJSON_IsArray(ys) ? ys : NULL)) {
                double val = NAN;
                for (size_t r = 0; r < c.rows; r++)
                    if (cJSON_IsString(x) && cJSON_IsString(y) &&
                        strcmp(csv_at(&c, r, 1), x->valuestring) == 0 &&
                        strcmp(csv_at(&c, r, 2), y->valuestring) == 0)
                        val = csv_num(&c, r, stale);
                cli_buf_printf(h, "<td style=\"background:");
                heat(h, val);
                if (isnan(val))
                    cli_buf_printf(h, "\">\xe2\x80\x94</td>");
                else
                    cli_buf_printf(h, "\">%.3f</td>", val);
            }
            cli_buf_printf(h, "</tr>\n");
        }
        cli_buf_printf(h, "</table><p class=\"note\">Each cell is the mean fraction of stale "
                          "reads over the seeds; the redder, the staler. With N replicas, the "
                          "cells where R + W &gt; N are 0: every read quorum overlaps every "
                          "write quorum.</p>\n");
    } else {
        cli_buf_printf(h, "<p>A heat map needs a sweep of exactly two parameters with a "
                          "stale-read fraction; the table below has every point.</p>\n");
    }
    cli_buf_printf(h, "</section>\n");

    /* The table of points, the frontier marked. */
    cli_buf_printf(h, "<section id=\"points\"><h2>Every point</h2>\n");
    if (crc != 0) {
        cli_buf_printf(h, "<p>No table: ");
        report_html_text(h, crc > 0 ? "points.csv is missing" : cerr, 600);
        cli_buf_printf(h, "</p>");
    } else {
        size_t rows = c.rows < SWEEP_MAX_ROWS ? c.rows : SWEEP_MAX_ROWS;
        bool frontier_known = stale >= 0 && (rp99 >= 0 || wp99 >= 0);
        double *sx = sim_calloc(rows ? rows : 1, sizeof *sx),
               *ly = sim_calloc(rows ? rows : 1, sizeof *ly);
        for (size_t r = 0; frontier_known && r < rows; r++) {
            sx[r] = csv_num(&c, r, stale);
            double a = rp99 >= 0 ? csv_num(&c, r, rp99) : NAN;
            double b = wp99 >= 0 ? csv_num(&c, r, wp99) : NAN;
            ly[r] = isnan(a) ? b : isnan(b) ? a : fmax(a, b);
        }
        const char *file = cJSON_GetStringValue(cJSON_GetArrayItem(jget(sw, "command"), 2));
        cli_buf_printf(h, "<table class=\"kv points\"><tr><th>point</th>");
        for (int i = 1; i <= n_vary && i < (int)c.cols; i++) {
            cli_buf_printf(h, "<th>");
            report_html_text(h, c.cell[i], 80);
            cli_buf_printf(h, "</th>");
        }
        for (size_t i = 0; i < N_FIGURES; i++)
            if (fcol[i] >= 0)
                cli_buf_printf(h, "<th>%s</th>", figures[i].title);
        cli_buf_printf(h, "%s<th>a representative run</th></tr>\n",
                       frontier_known ? "<th>frontier</th>" : "");
        for (size_t r = 0; r < rows; r++) {
            cli_buf_printf(h, "<tr><td>");
            report_html_text(h, csv_at(&c, r, 0), 20);
            cli_buf_printf(h, "</td>");
            for (int i = 1; i <= n_vary && i < (int)c.cols; i++) {
                cli_buf_printf(h, "<td>");
                report_html_text(h, csv_at(&c, r, i), 80);
                cli_buf_printf(h, "</td>");
            }
            for (size_t i = 0; i < N_FIGURES; i++) {
                if (fcol[i] < 0)
                    continue;
                double val = csv_num(&c, r, fcol[i]);
                if (isnan(val))
                    cli_buf_printf(h, "<td></td>");
                else
                    cli_buf_printf(h, "<td class=\"num\">%.4g%s</td>", val * figures[i].scale,
                                   figures[i].unit);
            }
            if (frontier_known) {
                bool dominated = isnan(sx[r]) || isnan(ly[r]);
                for (size_t o = 0; o < rows && !dominated; o++)
                    if (o != r && sx[o] <= sx[r] && ly[o] <= ly[r] &&
                        (sx[o] < sx[r] || ly[o] < ly[r]))
                        dominated = true;
                cli_buf_printf(h, "<td>%s</td>", dominated ? "" : "\xe2\x98\x85 on it");
            }
            /* The command that reproduces the point's first run. */
            cli_buf_printf(h, "<td><code>dsim run ");
            report_html_text(h, file ? file : "FILE", 200);
            for (int i = 1; i <= n_vary && i < (int)c.cols; i++) {
                cli_buf_printf(h, " --set ");
                report_html_text(h, c.cell[i], 80);
                cli_buf_printf(h, "=");
                report_html_text(h, csv_at(&c, r, i), 80);
            }
            const cJSON *s;
            const cJSON *sets = jget(sw, "set");
            cJSON_ArrayForEach(s, (cJSON_IsArray(sets) ? sets : NULL)) {
                cli_buf_printf(h, " --set ");
                report_html_text(h, cJSON_GetStringValue(s), 200);
            }
            cli_buf_printf(h, " --seed %.0f -o out/point-", first);
            report_html_text(h, csv_at(&c, r, 0), 20);
            cli_buf_printf(h, "</code></td></tr>\n");
        }
        cli_buf_printf(h, "</table>\n");
        if (rows < c.rows)
            cli_buf_printf(h,
                           "<p class=\"note\">The first %d of %zu points are shown; all are "
                           "in points.csv.</p>\n",
                           SWEEP_MAX_ROWS, c.rows);
        if (frontier_known)
            cli_buf_printf(h, "<p class=\"note\">A point is on the trade-off frontier when no "
                              "other point is both fresher (fewer stale reads) and faster (a "
                              "lower p99, the slower of reads and writes). Each run command "
                              "reproduces the point's first seed; its folder then has its own "
                              "report.html.</p>\n");
        sim_free(sx);
        sim_free(ly);
        csv_free(&c);
    }
    cli_buf_printf(h, "</section>\n");
    report_charts(h, dir);
    cli_buf_printf(h, "</main>\n<footer>Written by <code>dsim report</code> from this sweep "
                      "folder's files alone; it needs no network. docs/report.md describes this "
                      "page.</footer>\n</body></html>\n");
    cJSON_Delete(sw);
    return 0;
}
