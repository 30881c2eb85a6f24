/*
 * plot_sweep.c - the charts of a sweep's folder: t-visibility per point,
 * the stale-read heat map over R and W, and the latency/staleness
 * trade-off with its Pareto frontier.
 *
 * Reads sweep.json (the varied parameters), points.csv and
 * t_visibility.csv, checked here (columns, numbers) before use; writes the
 * derived data to chart-data/ (docs/charts.md).  Point labels ("r=1 w=2")
 * are made from the folder's values and cleaned: they reach gnuplot only
 * as fields of data files.  A model may declare charts of its own for a
 * sweep's folder (sim_chart.sweep): bars of a metric per point.
 */
#include "plot_int.h"

#include "registry.h"
#include "sim.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* "kv.r" -> "r": names in labels and keys. */
#define POINT_LABEL_MAX 96

static const char *short_name(const char *path) {
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

typedef struct sweep_info {
    size_t n_params;
    char **params;      /* varied paths */
    char subtitle[256]; /* "N=3, 20 seeds per point" */
} sweep_info;

/* "r=1 w=2": the point's values of the varied parameters, cleaned (it
 * goes into data files as one field). */
static void point_label(const csv *c, const sweep_info *si, size_t row, char *buf, size_t n) {
    char raw[512];
    size_t k = 0;
    raw[0] = '\0';
    for (size_t i = 0; i < si->n_params && k + 1 < sizeof raw; i++) {
        int col = csv_col(c, si->params[i]);
        const char *v = csv_at(c, row, col);
        if (v[0] == '{') {
            /* A whole object varied (--vary 'web.limiter=[{...},...]'): the
             * first member's value, then the others as a=b, without the
             * JSON punctuation ("fixed_window limit=10"). */
            k += (size_t)snprintf(raw + k, sizeof raw - k, "%s", i ? " " : "");
            bool first = true, in_key = true;
            for (const char *q = v; *q && k + 1 < sizeof raw; q++) {
                if (*q == '"' || *q == '{' || *q == '}' || *q == ' ')
                    continue;
                if (*q == ':') {
                    in_key = false;
                    if (!first)
                        raw[k++] = '=';
                } else if (*q == ',') {
                    first = false;
                    in_key = true;
                    raw[k++] = ' ';
                } else if (!(first && in_key)) {
                    raw[k++] = *q;
                }
            }
            raw[k] = '\0';
            continue;
        }
        k += (size_t)snprintf(raw + k, sizeof raw - k, "%s%s=%s", i ? " " : "",
                              short_name(si->params[i]), v);
    }
    plot_label(buf, n, raw);
}

static void chart_t_visibility_sweep(plotter *pl, const sweep_info *si) {
    csv c;
    if (plot_csv(pl, "t_visibility.csv", &c) != 0)
        return;
    int cp = csv_col(&c, "point"), ct = csv_col(&c, "t_to_s"), cr = csv_col(&c, "reads"),
        cc = csv_col(&c, "consistent");
    char err[512];
    if (cp < 0 || ct < 0 || cr < 0 || cc < 0) {
        plot_bad(pl, "t_visibility.csv: the columns point, t_to_s, reads and consistent are "
                     "required");
        csv_free(&c);
        return;
    }
    int from = csv_col(&c, "t_from_s") >= 0 ? csv_col(&c, "t_from_s") : ct;
    if (csv_check_numbers(&c, "t_visibility.csv", from, err, sizeof err) < 0) {
        plot_bad(pl, "%s", err);
        csv_free(&c);
        return;
    }
    cli_out *o = plot_data_open(pl, "t_visibility.dat");
    if (!o) {
        csv_free(&c);
        return;
    }
    FILE *f = o->f;
    const char *last = NULL;
    int blocks = 0;
    for (size_t r = 0; r < c.rows; r++) {
        if (!last || strcmp(last, csv_at(&c, r, cp)) != 0) {
            char label[512], point[32];
            point_label(&c, si, r, label, sizeof label);
            plot_label(point, sizeof point, csv_at(&c, r, cp));
            fprintf(f, "%s\"%s\" (point %s: t upper bound (ms), P(consistent), reads)\n",
                    blocks ? "\n\n" : "", label, point);
            last = csv_at(&c, r, cp);
            blocks++;
        }
        double reads = csv_num(&c, r, cr);
        if (reads > 0)
            fprintf(f, "%.6f %.6f %.0f\n", csv_num(&c, r, ct) * 1e3, csv_num(&c, r, cc) / reads,
                    reads);
    }
    csv_free(&c);
    if (plot_data_close(pl, o) < 0 || blocks == 0)
        return;
    cli_buf v = {0};
    plot_gp_var(&v, "data", "../t_visibility.dat");
    plot_gp_num(&v, "n", blocks);
    plot_draw(pl, "t_visibility", "t_visibility.gp", &v);
}

/* The index of the varied parameter whose last segment is name, or -1. */
static int param_named(const sweep_info *si, const char *name) {
    for (size_t i = 0; i < si->n_params; i++)
        if (strcmp(short_name(si->params[i]), name) == 0)
            return (int)i;
    return -1;
}

static void chart_heatmap(plotter *pl, const sweep_info *si, const csv *pts) {
    int pr = param_named(si, "r"), pw = param_named(si, "w");
    int m = csv_col(pts, "model.stale_read_fraction.mean");
    if (pr < 0 || pw < 0 || m < 0 || si->n_params != 2)
        return;
    int cr = csv_col(pts, si->params[pr]), cw = csv_col(pts, si->params[pw]);
    if (cr < 0 || cw < 0)
        return;
    for (size_t r = 0; r < pts->rows; r++)
        if (isnan(csv_num(pts, r, cr)) || isnan(csv_num(pts, r, cw))) {
            if (!pl->quiet)
                fprintf(stderr, "dsim: no stale_heatmap: points.csv:%zu: R or W is not a number\n",
                        r + 2);
            return;
        }
    cli_out *o = plot_data_open(pl, "stale_heatmap.csv");
    if (!o)
        return;
    fputs("r,w,stale_read_fraction\n", o->f);
    for (size_t r = 0; r < pts->rows; r++)
        fprintf(o->f, "%.9g,%.9g,%.9g\n", csv_num(pts, r, cr), csv_num(pts, r, cw),
                csv_num(pts, r, m));
    if (plot_data_close(pl, o) < 0)
        return;
    cli_buf v = {0};
    plot_gp_var(&v, "data", "../stale_heatmap.csv");
    if (si->subtitle[0])
        plot_gp_var(&v, "subtitle", si->subtitle);
    plot_draw(pl, "stale_heatmap", "stale_heatmap.gp", &v);
}

/* tradeoff: p99 read latency against the stale-read rate, per point, with
 * 95 % confidence intervals; the Pareto frontier joins the points that no
 * other point beats on both. */
static void chart_tradeoff(plotter *pl, const sweep_info *si, const csv *pts) {
    int sx = csv_col(pts, "model.stale_read_fraction.mean"),
        sxe = csv_col(pts, "model.stale_read_fraction.ci95"),
        ry = csv_col(pts, "histograms.kv.read_latency.p99.mean"),
        rye = csv_col(pts, "histograms.kv.read_latency.p99.ci95"),
        wy = csv_col(pts, "histograms.kv.write_latency.p99.mean"),
        wye = csv_col(pts, "histograms.kv.write_latency.p99.ci95");
    if (sx < 0 || ry < 0 || wy < 0 || pts->rows < 2)
        return;
    /* The latency of a configuration is the slower of its reads and writes
     * at p99: with reads alone, W would look free. */
    size_t n = pts->rows;
    double *lat = sim_calloc(2 * n, sizeof *lat);
    for (size_t i = 0; i < n; i++) {
        bool reads = !(csv_num(pts, i, wy) > csv_num(pts, i, ry));
        lat[i] = csv_num(pts, i, reads ? ry : wy);
        lat[n + i] = csv_num(pts, i, reads ? rye : wye);
    }
    cli_out *fo = plot_data_open(pl, "tradeoff.csv");
    cli_out *go = fo ? plot_data_open(pl, "pareto.csv") : NULL;
    if (!go) {
        cli_out_discard(fo);
        sim_free(lat);
        return;
    }
    FILE *f = fo->f, *g = go->f;
    fputs("stale_read_fraction,ci95,p99_ms,ci95_ms,label,pareto,label_y\n", f);
    fputs("stale_read_fraction,p99_ms\n", g);
    bool *front = sim_calloc(n, sizeof *front);
    for (size_t i = 0; i < n; i++) {
        double xi = csv_num(pts, i, sx), yi = lat[i];
        front[i] = !isnan(xi) && !isnan(yi);
        for (size_t j = 0; j < n && front[i]; j++) {
            double xj = csv_num(pts, j, sx), yj = lat[j];
            if (j != i && xj <= xi && yj <= yi && (xj < xi || yj < yi))
                front[i] = false;
        }
    }
    /* Labels of points that nearly coincide are stacked upwards instead of
     * printed over each other: label_y is the label's height. */
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        xmin = fmin(xmin, csv_num(pts, i, sx));
        xmax = fmax(xmax, csv_num(pts, i, sx));
        ymin = fmin(ymin, lat[i]);
        ymax = fmax(ymax, lat[i]);
    }
    double xr = xmax > xmin ? xmax - xmin : 1, yr = ymax > ymin ? ymax - ymin : 1;
    for (size_t i = 0; i < n; i++) {
        char label[512];
        point_label(pts, si, i, label, sizeof label);
        double x = csv_num(pts, i, sx), y = lat[i];
        int stack = 0;
        for (size_t j = 0; j < i; j++)
            if (fabs(csv_num(pts, j, sx) - x) < 0.06 * xr && fabs(lat[j] - y) < 0.05 * yr)
                stack++;
        double xe = csv_num(pts, i, sxe), ye = lat[n + i];
        fprintf(f, "%.9g,%.9g,%.9g,%.9g,%s,%d,%.9g\n", x, isnan(xe) ? 0 : xe, y / 1e6,
                isnan(ye) ? 0 : ye / 1e6, label, front[i], (y + stack * 0.07 * yr) / 1e6);
    }
    /* The frontier in order of stale-read rate (ties by latency). */
    for (size_t k = 0; k < n; k++) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (!front[i])
                continue;
            if (best == n || csv_num(pts, i, sx) < csv_num(pts, best, sx) ||
                (csv_num(pts, i, sx) == csv_num(pts, best, sx) && lat[i] < lat[best]))
                best = i;
        }
        if (best == n)
            break;
        fprintf(g, "%.9g,%.9g\n", csv_num(pts, best, sx), lat[best] / 1e6);
        front[best] = false;
    }
    sim_free(front);
    sim_free(lat);
    if (plot_data_close(pl, fo) < 0) {
        cli_out_discard(go);
        return;
    }
    if (plot_data_close(pl, go) < 0)
        return;
    cli_buf v = {0};
    plot_gp_var(&v, "data", "../tradeoff.csv");
    plot_gp_var(&v, "frontier", "../pareto.csv");
    plot_draw(pl, "tradeoff", "tradeoff.gp", &v);
}

/* A model's sweep chart (sim_chart.sweep): per series a panel of bars,
 * one per point, with the 95 % confidence interval.  Labels and texts
 * reach gnuplot as fields of data files. */
static void chart_points(plotter *pl, const sweep_info *si, const csv *pts, const sim_chart *ch) {
    enum { MAX_PANELS = 8 };
    int mean[MAX_PANELS], ci[MAX_PANELS];
    const sim_chart_series *ser[MAX_PANELS];
    size_t np = 0;
    for (const sim_chart_series *s = ch->series; s && s->label && np < MAX_PANELS; s++) {
        char name[300];
        snprintf(name, sizeof name, "%s.mean", s->col);
        mean[np] = csv_col(pts, name);
        snprintf(name, sizeof name, "%s.ci95", s->col);
        ci[np] = csv_col(pts, name);
        if (mean[np] >= 0)
            ser[np++] = s;
    }
    if (np == 0 || pts->rows == 0)
        return;
    char file[128], pfile[160];
    snprintf(file, sizeof file, "%s.csv", ch->name);
    snprintf(pfile, sizeof pfile, "%s-panels.tsv", ch->name);
    cli_out *d = plot_data_open(pl, file);
    cli_out *q = d ? plot_data_open(pl, pfile) : NULL;
    if (!q) {
        cli_out_discard(d);
        return;
    }
    fputs("point", d->f);
    for (size_t k = 0; k < np; k++) {
        char label[POINT_LABEL_MAX];
        plot_label(label, sizeof label, ser[k]->label);
        fprintf(d->f, ",%s,%s_ci95", label, label);
    }
    fputc('\n', d->f);
    for (size_t r = 0; r < pts->rows; r++) {
        char label[512];
        point_label(pts, si, r, label, sizeof label);
        fputs(label, d->f);
        for (size_t k = 0; k < np; k++) {
            double scale = ser[k]->scale != 0 ? ser[k]->scale : 1;
            double m = csv_num(pts, r, mean[k]) * scale;
            double c = ci[k] >= 0 ? csv_num(pts, r, ci[k]) * scale : 0;
            fprintf(d->f, ",%.9g,%.9g", isnan(m) ? 0 : m, isnan(c) ? 0 : c);
        }
        fputc('\n', d->f);
    }
    fputs("label\tylabel\twhat\n", q->f);
    for (size_t k = 0; k < np; k++) {
        char label[POINT_LABEL_MAX], ylabel[POINT_LABEL_MAX], what[POINT_LABEL_MAX];
        plot_label(label, sizeof label, ser[k]->label);
        plot_text(ylabel, sizeof ylabel, ser[k]->ylabel ? ser[k]->ylabel : ser[k]->label);
        plot_text(what, sizeof what, ser[k]->what ? ser[k]->what : ser[k]->label);
        fprintf(q->f, "%s\t%s\t%s\n", label, ylabel, what);
    }
    if (plot_data_close(pl, d) < 0) {
        cli_out_discard(q);
        return;
    }
    if (plot_data_close(pl, q) < 0)
        return;
    cli_buf v = {0};
    char rel[200];
    snprintf(rel, sizeof rel, "../%s", file);
    plot_gp_var(&v, "data", rel);
    snprintf(rel, sizeof rel, "../%s", pfile);
    plot_gp_var(&v, "panels", rel);
    plot_gp_num(&v, "n", (double)np);
    plot_gp_var(&v, "subtitle", si->subtitle);
    if (ch->title)
        plot_gp_var(&v, "title", ch->title);
    plot_draw(pl, ch->name, ch->script ? ch->script : "points.gp", &v);
}

void plot_sweep(plotter *pl, const cJSON *sw) {
    sweep_info si = {0};
    const cJSON *p;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sw, "vary")) {
        const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "path"));
        si.params = sim_realloc(si.params, (si.n_params + 1) * sizeof *si.params);
        si.params[si.n_params++] = sim_strdup(path);
    }
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(sw, "base_scenario");
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(base, "kv");
    double seeds = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(sw, "seeds"), "per_point"));
    if (kv && isfinite(seeds))
        snprintf(si.subtitle, sizeof si.subtitle, "N=%.0f, %.0f seeds per cell",
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "n")), seeds);
    chart_t_visibility_sweep(pl, &si);
    csv pts;
    char err[512];
    if (plot_csv(pl, "points.csv", &pts) == 0) {
        /* Every column but the varied parameters' is a number. */
        int first = 0;
        for (size_t i = 0; i < si.n_params; i++)
            first = fmax(first, csv_col(&pts, si.params[i]) + 1);
        if (csv_check_numbers(&pts, "points.csv", first, err, sizeof err) < 0) {
            plot_bad(pl, "%s", err);
        } else {
            chart_heatmap(pl, &si, &pts);
            chart_tradeoff(pl, &si, &pts);
            const char *name =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(base, "model"));
            const sim_model *model = name ? sim_model_find(name) : NULL;
            for (const sim_chart *ch = model ? model->charts : NULL; ch && ch->name; ch++)
                if (ch->sweep)
                    chart_points(pl, &si, &pts, ch);
        }
        csv_free(&pts);
    }
    for (size_t i = 0; i < si.n_params; i++)
        sim_free(si.params[i]);
    sim_free(si.params);
}
