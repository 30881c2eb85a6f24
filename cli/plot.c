/*
 * plot.c - `dsim plot DIR`: the charts of a run's or a sweep's folder.
 *
 * gnuplot draws every chart; dsim only prepares its data.  Each chart is a
 * script in plots/ that reads CSV files and writes DIR/<chart>.png
 * (pngcairo) and DIR/<chart>.svg.  Where a chart needs figures no CSV holds
 * as such (per-interval availability, a CDF, the fault windows, the Pareto
 * frontier), this file derives them into DIR/chart-data/ first, so that
 * the scripts stay simple and anyone can re-run them by hand with the
 * command line written to DIR/chart-data/commands.txt.
 *
 * gnuplot is an external program found on the PATH.  When it is missing,
 * dsim says so once and keeps the CSVs; charts never change a command's
 * exit status except `dsim plot` itself.
 *
 * Which charts a folder gets depends on what it holds:
 *   run    latency (histograms of ns), timeline (kv time series with fault
 *          windows), per_node (per_node.csv), messages (by type),
 *          t_visibility (t_visibility.csv), spacetime (trace.jsonl of a
 *          small run)
 *   sweep  t_visibility (one line per point), stale_heatmap (R x W),
 *          tradeoff (p99 read latency against stale-read rate)
 */
#include "plot.h"
#include "cli_util.h"

#include "sim.h"
#include "spacetime.h"
#include "sweep.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DSIM_PLOTS_DIR
#define DSIM_PLOTS_DIR "plots"
#endif

enum { EXIT_BAD_INPUT = 2, EXIT_INTERNAL = 1 };

const char plot_help[] =
    "usage: dsim plot DIR [--quiet]\n"
    "\n"
    "Draws the charts of DIR, a folder written by dsim run or dsim sweep, with\n"
    "gnuplot (found on the PATH) from the scripts in plots/.  Each chart is\n"
    "DIR/<name>.png and DIR/<name>.svg; derived data goes to DIR/chart-data/.\n"
    "  run:   latency, timeline, per_node, messages, t_visibility, spacetime\n"
    "  sweep: t_visibility, stale_heatmap, tradeoff\n"
    "A chart is drawn only when the folder has its data.  dsim run and dsim sweep\n"
    "draw them by themselves unless given --no-plot or DSIM_NO_PLOT=1.\n"
    "DSIM_PLOTS_DIR overrides where the scripts are (default: the source tree's).\n"
    "docs/charts.md explains every chart.\n";

/* ---- Small text helpers. ---- */

typedef struct strbuf {
    char *s;
    size_t len, cap;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        b->cap = (b->len + (size_t)n + 1) * 2;
        b->s = sim_realloc(b->s, b->cap);
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void sb_putc(strbuf *b, char c) {
    if (b->len + 2 > b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->s = sim_realloc(b->s, b->cap);
    }
    b->s[b->len++] = c;
    b->s[b->len] = '\0';
}

/* Appends name='value'; with value quoted for gnuplot (a ' doubled). */
static void gp_var(strbuf *b, const char *name, const char *value) {
    sb_printf(b, "%s='", name);
    for (const char *p = value; *p; p++)
        sb_printf(b, *p == '\'' ? "''" : "%c", *p);
    sb_printf(b, "'; ");
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    strbuf b = {0};
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + got + 1 > b.cap) {
            b.cap = 2 * (b.len + got + 1);
            b.s = sim_realloc(b.s, b.cap);
        }
        memcpy(b.s + b.len, chunk, got);
        b.len += got;
        b.s[b.len] = '\0';
    }
    fclose(f);
    if (!b.s)
        b.s = sim_strdup("");
    return b.s;
}

static bool exists(const char *dir, const char *name) {
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0;
}

static cJSON *read_json(const char *dir, const char *name) {
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *t = read_text(path);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    sim_free(t);
    return j;
}

/* ---- A minimal CSV reader for dsim's own files. ---- */

typedef struct csv {
    size_t rows, cols; /* rows excludes the header */
    char **cell;       /* (rows + 1) * cols; header first */
} csv;

static void csv_free(csv *c) {
    if (!c->cell)
        return;
    for (size_t i = 0; i < (c->rows + 1) * c->cols; i++)
        sim_free(c->cell[i]);
    sim_free(c->cell);
    memset(c, 0, sizeof *c);
}

/* Splits one line into fields (quotes as RFC 4180); returns the count. */
static size_t csv_split(const char **pp, char ***out) {
    const char *p = *pp;
    size_t n = 0;
    *out = NULL;
    while (1) {
        strbuf f = {0};
        sb_putc(&f, 'x');
        f.len = 0;
        f.s[0] = '\0';
        if (*p == '"') {
            p++;
            while (*p && !(*p == '"' && p[1] != '"')) {
                if (*p == '"')
                    p++;
                sb_putc(&f, *p++);
            }
            if (*p == '"')
                p++;
        }
        while (*p && *p != ',' && *p != '\n' && *p != '\r')
            sb_putc(&f, *p++);
        *out = sim_realloc(*out, (n + 1) * sizeof **out);
        (*out)[n++] = f.s;
        if (*p == ',') {
            p++;
            continue;
        }
        while (*p == '\r' || *p == '\n')
            p++;
        break;
    }
    *pp = p;
    return n;
}

static int csv_read(const char *dir, const char *name, csv *c) {
    memset(c, 0, sizeof *c);
    char path[4300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = read_text(path);
    if (!text)
        return -1;
    const char *p = text;
    char **f;
    c->cols = csv_split(&p, &f);
    c->cell = f;
    while (*p) {
        size_t n = csv_split(&p, &f);
        c->cell = sim_realloc(c->cell, (c->rows + 2) * c->cols * sizeof *c->cell);
        for (size_t i = 0; i < c->cols; i++)
            c->cell[(c->rows + 1) * c->cols + i] = i < n ? f[i] : sim_strdup("");
        for (size_t i = c->cols; i < n; i++)
            sim_free(f[i]);
        sim_free(f);
        c->rows++;
    }
    sim_free(text);
    return 0;
}

static int csv_col(const csv *c, const char *name) {
    for (size_t i = 0; i < c->cols; i++)
        if (strcmp(c->cell[i], name) == 0)
            return (int)i;
    return -1;
}

static const char *csv_at(const csv *c, size_t row, int col) {
    return col < 0 ? "" : c->cell[(row + 1) * c->cols + (size_t)col];
}

static double csv_num(const csv *c, size_t row, int col) {
    const char *s = csv_at(c, row, col);
    if (!*s)
        return NAN;
    char *end;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

/* ---- Running gnuplot. ---- */

typedef struct plotter {
    const char *dir;
    char data[4300]; /* DIR/chart-data */
    char gnuplot[4096];
    char scripts[4096];
    bool quiet;
    int drawn, failed;
    strbuf done; /* names of the charts drawn, for the summary line */
} plotter;

/* Finds an executable named name on the PATH. */
static bool find_on_path(const char *name, char *out, size_t n) {
    const char *path = getenv("PATH");
    if (!path)
        return false;
    while (*path) {
        size_t len = strcspn(path, ":");
        snprintf(out, n, "%.*s/%s", (int)len, len ? path : ".", name);
        if (access(out, X_OK) == 0)
            return true;
        path += len;
        if (*path == ':')
            path++;
    }
    return false;
}

static void data_path(const plotter *pl, const char *name, char *buf, size_t n) {
    snprintf(buf, n, "%s/%s", pl->data, name);
}

/* Runs `gnuplot -e VARS plots/SCRIPT.gp` with out='DIR/SCRIPT' (the script
 * adds .png and .svg).  gnuplot's messages go to chart-data/gnuplot.log. */
static void draw(plotter *pl, const char *chart, const char *script, strbuf *vars) {
    char out[4300], gp[4300], logp[4400], cmds[4400];
    snprintf(out, sizeof out, "%s/%s", pl->dir, chart);
    snprintf(gp, sizeof gp, "%s/%s.gp", pl->scripts, script);
    gp_var(vars, "plotdir", pl->scripts);
    gp_var(vars, "out", out);
    data_path(pl, "gnuplot.log", logp, sizeof logp);
    data_path(pl, "commands.txt", cmds, sizeof cmds);
    FILE *c = fopen(cmds, "a");
    if (c) {
        /* A line for sh: the variables in double quotes, theirs escaped. */
        fputs("gnuplot -e \"", c);
        for (const char *q = vars->s; *q; q++) {
            if (*q == '"' || *q == '\\' || *q == '$' || *q == '`')
                fputc('\\', c);
            fputc(*q, c);
        }
        fprintf(c, "\" %s\n", gp);
        fclose(c);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        int log = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0666);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
        }
        if (log >= 0)
            dup2(log, 2);
        execl(pl->gnuplot, "gnuplot", "-e", vars->s, gp, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "dsim: gnuplot failed on %s (see %s)\n", gp, logp);
        pl->failed++;
    } else {
        pl->drawn++;
        sb_printf(&pl->done, "%s%s", pl->done.len ? ", " : "", chart);
    }
    sim_free(vars->s);
    memset(vars, 0, sizeof *vars);
}

/* ---- Fault windows, from the resolved scenario. ---- */

static double at_s(const cJSON *f) {
    sim_time t = 0;
    const char *why;
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "at"));
    if (s && sim_time_parse(s, &t, &why) == 0)
        return sim_time_to_s(t);
    return 0;
}

static void node_list(const cJSON *v, char *buf, size_t n) {
    buf[0] = '\0';
    size_t k = 0, count = 0;
    const cJSON *e;
    if (cJSON_IsString(v)) {
        snprintf(buf, n, "%s", v->valuestring);
        return;
    }
    cJSON_ArrayForEach(e, v) {
        if (count++ == 3) {
            snprintf(buf + k, n - k, " ...");
            return;
        }
        if (cJSON_IsString(e) && k + 1 < n)
            k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? " " : "", e->valuestring);
    }
}

/* True if the node list v names node. */
static bool names_node(const cJSON *v, const char *node) {
    const cJSON *e;
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, node) == 0;
    cJSON_ArrayForEach(e,
                       v) if (cJSON_IsString(e) && strcmp(e->valuestring, node) == 0) return true;
    return false;
}

/* Writes chart-data/faults.gp: a shaded, labelled rectangle per fault
 * window (partition to heal, crash to recover, fail to replace, slow to
 * normal speed) and a dashed line per instant (replace, clock).  Returns
 * the number of windows and marks. */
static int write_faults(plotter *pl, const cJSON *scenario) {
    const cJSON *faults = cJSON_GetObjectItemCaseSensitive(scenario, "faults");
    sim_time dur = 0;
    const char *why;
    const char *ds = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(scenario, "duration"));
    if (!ds || sim_time_parse(ds, &dur, &why) != 0)
        return 0;
    double end = sim_time_to_s(dur);
    FILE *f = cli_open_out(pl->data, "faults.gp");
    if (!f)
        return 0;
    fputs("# Fault windows of the run, for plots/*.gp (written by dsim plot).\n", f);
    int n = 0, i = 0;
    const cJSON *flt;
    cJSON_ArrayForEach(flt, faults) {
        i++;
        double from = at_s(flt), to = end;
        char label[200] = "", nodes[160];
        const char *color = NULL;
        const cJSON *v;
        const cJSON *later;
        if ((v = cJSON_GetObjectItemCaseSensitive(flt, "partition")) != NULL ||
            (v = cJSON_GetObjectItemCaseSensitive(flt, "partition_one_way")) != NULL) {
            snprintf(label, sizeof label, "%s",
                     cJSON_GetObjectItemCaseSensitive(flt, "partition") ? "partition"
                                                                        : "one-way partition");
            color = "#e8c547";
            for (later = flt->next; later; later = later->next)
                if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(later, "heal"))) {
                    to = at_s(later);
                    break;
                }
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "crash")) != NULL ||
                   (v = cJSON_GetObjectItemCaseSensitive(flt, "fail")) != NULL) {
            bool crash = cJSON_GetObjectItemCaseSensitive(flt, "crash") != NULL;
            node_list(v, nodes, sizeof nodes);
            snprintf(label, sizeof label, "%s %s", crash ? "crash" : "fail", nodes);
            color = crash ? "#e4572e" : "#8e44ad";
            /* The window closes when the last of its nodes is back. */
            double last = from;
            const cJSON *e;
            bool all = true;
            const cJSON *list = cJSON_IsArray(v) ? v : NULL;
            cJSON_ArrayForEach(e, list) {
                bool back = false;
                for (later = flt->next; later && !back; later = later->next) {
                    const cJSON *r =
                        cJSON_GetObjectItemCaseSensitive(later, crash ? "recover" : "replace");
                    if (r && names_node(r, e->valuestring)) {
                        back = true;
                        last = fmax(last, at_s(later));
                    }
                }
                all &= back;
            }
            if (all)
                to = last;
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "slow")) != NULL) {
            node_list(v, nodes, sizeof nodes);
            double factor = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flt, "factor"));
            if (factor == 1)
                continue;
            snprintf(label, sizeof label, "slow %s", nodes);
            color = "#4a90d9";
            for (later = flt->next; later; later = later->next) {
                const cJSON *r = cJSON_GetObjectItemCaseSensitive(later, "slow");
                if (r &&
                    cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(later, "factor")) == 1) {
                    to = at_s(later);
                    break;
                }
            }
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "replace")) != NULL ||
                   (v = cJSON_GetObjectItemCaseSensitive(flt, "clock")) != NULL ||
                   (v = cJSON_GetObjectItemCaseSensitive(flt, "slow_link")) != NULL) {
            const char *what = cJSON_GetObjectItemCaseSensitive(flt, "replace") ? "replace"
                               : cJSON_GetObjectItemCaseSensitive(flt, "clock") ? "clock"
                                                                                : "slow link";
            node_list(cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "from") : v, nodes,
                      sizeof nodes);
            fprintf(f,
                    "set arrow %d from %.9g, graph 0 to %.9g, graph 1 nohead back "
                    "lc rgb '#555555' dt 2 lw 1.5\n",
                    100 + i, from, from);
            fprintf(f,
                    "if (fault_labels) { set label %d \"%s %s\" at %.9g, graph 0.86 left offset "
                    "0.5,0 front noenhanced font ',9' tc rgb '#333333' }\n",
                    100 + i, what, nodes, from);
            n++;
            continue;
        } else {
            continue;
        }
        if (to <= from)
            continue;
        fprintf(f,
                "set object %d rect from %.9g, graph 0 to %.9g, graph 1 back "
                "fc rgb '%s' fs transparent solid 0.22 noborder\n",
                100 + i, from, to, color);
        /* Labels alternate in height so that windows close together stay
         * readable. */
        fprintf(f,
                "if (fault_labels) { set label %d \"%s\" at %.9g, graph %s center front "
                "noenhanced font ',9' tc rgb '#333333' }\n",
                100 + i, label, (from + to) / 2, n % 2 ? "0.86" : "0.95");
        n++;
    }
    fclose(f);
    return n;
}

/* ---- Run charts. ---- */

/* latency: the CDF of every histogram measured in ns. */
static void chart_latency(plotter *pl, const cJSON *summary) {
    const cJSON *hists = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "metrics"), "histograms");
    csv c;
    if (!hists || csv_read(pl->dir, "histograms.csv", &c) < 0)
        return;
    int cn = csv_col(&c, "name"), cu = csv_col(&c, "upper"), cc = csv_col(&c, "count");
    strbuf names = {0};
    FILE *f = NULL;
    int blocks = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, hists) {
        const char *unit = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "unit"));
        double count = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(h, "count"));
        if (!unit || strcmp(unit, "ns") != 0 || !(count > 0) || cn < 0 || cu < 0 || cc < 0)
            continue;
        if (!f && !(f = cli_open_out(pl->data, "latency_cdf.dat")))
            break;
        fprintf(f, "%s# %s: upper bound of each bucket (ms), fraction of samples at or below\n",
                blocks ? "\n\n" : "", h->string);
        double cum = 0;
        for (size_t r = 0; r < c.rows; r++) {
            if (strcmp(csv_at(&c, r, cn), h->string) != 0)
                continue;
            cum += csv_num(&c, r, cc);
            fprintf(f, "%.6f %.6f\n", csv_num(&c, r, cu) / 1e6, cum / count);
        }
        sb_printf(&names, "%s%s", blocks ? " " : "", h->string);
        blocks++;
    }
    if (f)
        fclose(f);
    if (blocks) {
        strbuf v = {0};
        char p[4400];
        data_path(pl, "latency_cdf.dat", p, sizeof p);
        gp_var(&v, "data", p);
        gp_var(&v, "names", names.s);
        draw(pl, "latency", "latency", &v);
    }
    sim_free(names.s);
    csv_free(&c);
}

/* Draws plots/timeline.gp over chart-data/<file>, one panel per word of
 * cols (a space-separated list with a trailing space, freed here), with the
 * scenario's fault windows shaded; title NULL keeps the script's. */
static void draw_timeline(plotter *pl, const cJSON *summary, const char *file, strbuf *cols,
                          const char *title) {
    strbuf v = {0};
    char p[4400];
    data_path(pl, file, p, sizeof p);
    gp_var(&v, "data", p);
    cols->s[cols->len - 1] = '\0';
    gp_var(&v, "cols", cols->s);
    if (title)
        gp_var(&v, "title", title);
    if (write_faults(pl, cJSON_GetObjectItemCaseSensitive(summary, "scenario")) > 0) {
        data_path(pl, "faults.gp", p, sizeof p);
        gp_var(&v, "faults", p);
    }
    draw(pl, "timeline", "timeline", &v);
    sim_free(cols->s);
}

/* timeline: per-interval availability and stale reads, divergent keys and
 * the hint backlog, over simulated time, with the fault windows. */
static void chart_timeline(plotter *pl, const cJSON *summary) {
    csv c;
    if (csv_read(pl->dir, "timeseries.csv", &c) < 0)
        return;
    int t = csv_col(&c, "time_s"), reads = csv_col(&c, "kv.reads"),
        writes = csv_col(&c, "kv.writes"), failed = csv_col(&c, "kv.failed_ops"),
        stale = csv_col(&c, "kv.stale_reads"), div = csv_col(&c, "kv.divergent_keys"),
        hints = csv_col(&c, "kv.hints_pending");
    if (t < 0 || (reads < 0 && div < 0 && hints < 0)) {
        csv_free(&c);
        return;
    }
    /* A panel only for what the run has: no reads, no stale-read panel (an
     * empty panel would stop gnuplot, and say nothing). */
    bool any_reads = false, any_ops = false;
    for (size_t r = 1; r < c.rows; r++) {
        double dr = reads >= 0 ? csv_num(&c, r, reads) - csv_num(&c, r - 1, reads) : 0;
        double dw = writes >= 0 ? csv_num(&c, r, writes) - csv_num(&c, r - 1, writes) : 0;
        any_reads |= dr > 0;
        any_ops |= dr + dw > 0;
    }
    if (!any_ops)
        reads = -1; /* no operations: neither rate panel */
    if (reads < 0 && div < 0 && hints < 0) {
        csv_free(&c);
        return;
    }
    FILE *f = cli_open_out(pl->data, "timeline.csv");
    if (!f) {
        csv_free(&c);
        return;
    }
    strbuf cols = {0};
    fputs("time_s", f);
    if (!any_reads)
        stale = -1;
    if (reads >= 0 && writes >= 0 && failed >= 0) {
        fputs(",availability", f);
        sb_printf(&cols, "availability ");
    }
    if (reads >= 0 && stale >= 0) {
        fputs(",stale_read_fraction", f);
        sb_printf(&cols, "stale_read_fraction ");
    }
    if (div >= 0) {
        fputs(",divergent_keys", f);
        sb_printf(&cols, "divergent_keys ");
    }
    if (hints >= 0) {
        fputs(",hints_pending", f);
        sb_printf(&cols, "hints_pending ");
    }
    fputc('\n', f);
    for (size_t r = 1; r < c.rows; r++) {
        fprintf(f, "%s", csv_at(&c, r, t));
        double dops = 0, dreads = 0;
        if (reads >= 0)
            dreads = csv_num(&c, r, reads) - csv_num(&c, r - 1, reads);
        if (reads >= 0 && writes >= 0 && failed >= 0) {
            dops = dreads + csv_num(&c, r, writes) - csv_num(&c, r - 1, writes);
            double dfail = csv_num(&c, r, failed) - csv_num(&c, r - 1, failed);
            if (dops > 0)
                fprintf(f, ",%.6f", fmax(0, 1 - dfail / dops));
            else
                fputc(',', f);
        }
        if (reads >= 0 && stale >= 0) {
            double dstale = csv_num(&c, r, stale) - csv_num(&c, r - 1, stale);
            if (dreads > 0)
                fprintf(f, ",%.6f", dstale / dreads);
            else
                fputc(',', f);
        }
        if (div >= 0)
            fprintf(f, ",%s", csv_at(&c, r, div));
        if (hints >= 0)
            fprintf(f, ",%s", csv_at(&c, r, hints));
        fputc('\n', f);
    }
    fclose(f);
    draw_timeline(pl, summary, "timeline.csv", &cols, NULL);
    csv_free(&c);
}

/* mq timeline: each topic's backlog (its partitions summed) and each
 * group's lag over simulated time, with the fault windows: a backlog
 * growing while a consumer is down and draining after. */
#define MQ_PANELS 6
static void chart_mq_timeline(plotter *pl, const cJSON *summary) {
    csv c;
    if (csv_read(pl->dir, "timeseries.csv", &c) < 0)
        return;
    int t = csv_col(&c, "time_s");
    /* Panels: "backlog:<topic>" (columns mq.backlog.<topic>.p<i>) then
     * "lag:<group>" (mq.lag.<group>), in the order of the columns. */
    char names[MQ_PANELS][96];
    int first[MQ_PANELS];
    size_t n = 0;
    for (size_t i = 0; i < c.cols && n < MQ_PANELS && t >= 0; i++) {
        const char *h = c.cell[i];
        char name[96] = "";
        if (strncmp(h, "mq.backlog.", 11) == 0) {
            const char *dot = strrchr(h + 11, '.');
            if (!dot || dot == h + 11)
                continue;
            snprintf(name, sizeof name, "backlog:%.*s", (int)(dot - (h + 11)), h + 11);
        } else if (strncmp(h, "mq.lag.", 7) == 0 && h[7]) {
            snprintf(name, sizeof name, "lag:%s", h + 7);
        } else {
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(names[k], name) == 0;
        if (!seen) {
            snprintf(names[n], sizeof names[n], "%s", name);
            first[n++] = (int)i;
        }
    }
    FILE *f = n ? cli_open_out(pl->data, "mq_timeline.csv") : NULL;
    if (!f) {
        csv_free(&c);
        return;
    }
    strbuf cols = {0};
    fputs("time_s", f);
    for (size_t k = 0; k < n; k++) {
        fprintf(f, ",%s", names[k]);
        sb_printf(&cols, "%s ", names[k]);
    }
    fputc('\n', f);
    for (size_t r = 0; r < c.rows; r++) {
        fprintf(f, "%s", csv_at(&c, r, t));
        for (size_t k = 0; k < n; k++) {
            double sum = 0;
            if (strncmp(names[k], "lag:", 4) == 0) {
                sum = csv_num(&c, r, first[k]);
            } else {
                /* Every partition of the topic: mq.backlog.<topic>.p<i>. */
                size_t len = strlen(names[k] + 8);
                for (size_t i = 0; i < c.cols; i++)
                    if (strncmp(c.cell[i], "mq.backlog.", 11) == 0 &&
                        strncmp(c.cell[i] + 11, names[k] + 8, len) == 0 &&
                        strncmp(c.cell[i] + 11 + len, ".p", 2) == 0)
                        sum += csv_num(&c, r, (int)i);
            }
            fprintf(f, ",%.0f", sum);
        }
        fputc('\n', f);
    }
    fclose(f);
    draw_timeline(pl, summary, "mq_timeline.csv", &cols,
                  "Queues over time (shaded: fault windows)");
    csv_free(&c);
}

/* messages: messages and bytes sent, per message type. */
static void chart_messages(plotter *pl, const cJSON *summary) {
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "metrics"), "messages");
    if (!cJSON_GetArraySize(msgs))
        return;
    FILE *f = cli_open_out(pl->data, "messages.csv");
    if (!f)
        return;
    fputs("type,sent,delivered,dropped,bytes\n", f);
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        fprintf(f, "%s,%.0f,%.0f,%.0f,%.0f\n", m->string,
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "sent")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "delivered")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "dropped")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "bytes")));
    }
    fclose(f);
    strbuf v = {0};
    char p[4400];
    data_path(pl, "messages.csv", p, sizeof p);
    gp_var(&v, "data", p);
    draw(pl, "messages", "messages", &v);
}

static void chart_per_node(plotter *pl) {
    if (!exists(pl->dir, "per_node.csv"))
        return;
    strbuf v = {0};
    char p[4400];
    snprintf(p, sizeof p, "%s/per_node.csv", pl->dir);
    gp_var(&v, "data", p);
    draw(pl, "per_node", "per_node", &v);
}

static void chart_t_visibility_run(plotter *pl, const cJSON *summary) {
    csv c;
    if (csv_read(pl->dir, "t_visibility.csv", &c) < 0)
        return;
    int ct = csv_col(&c, "t_to_s"), cr = csv_col(&c, "reads"), cc = csv_col(&c, "consistent");
    FILE *f = ct >= 0 && cr >= 0 && cc >= 0 ? cli_open_out(pl->data, "t_visibility.dat") : NULL;
    if (!f) {
        csv_free(&c);
        return;
    }
    fprintf(f, "# t upper bound (ms), P(consistent), reads\n");
    size_t points = 0;
    for (size_t r = 0; r < c.rows; r++) {
        double reads = csv_num(&c, r, cr);
        if (reads > 0) {
            fprintf(f, "%.6f %.6f %.0f\n", csv_num(&c, r, ct) * 1e3, csv_num(&c, r, cc) / reads,
                    reads);
            points++;
        }
    }
    fclose(f);
    csv_free(&c);
    if (points == 0) {
        fprintf(stderr, "dsim: no t-visibility chart: no read followed an acknowledged write\n");
        return;
    }
    const cJSON *kv = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "scenario"), "kv");
    char name[128] = "run";
    if (kv)
        snprintf(name, sizeof name, "N=%.0f,R=%.0f,W=%.0f",
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "n")),
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "r")),
                 cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "w")));
    strbuf v = {0};
    char p[4400];
    data_path(pl, "t_visibility.dat", p, sizeof p);
    gp_var(&v, "data", p);
    gp_var(&v, "names", name);
    draw(pl, "t_visibility", "t_visibility", &v);
}

static void chart_spacetime(plotter *pl, const cJSON *summary) {
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(summary, "scenario"), "model"));
    if (!model || strcmp(model, "kv") != 0)
        return;
    char err[512];
    int rc = spacetime_derive(pl->dir, pl->data, err, sizeof err);
    if (rc < 0) {
        if (!pl->quiet)
            fprintf(stderr, "dsim: no space-time diagram: %s\n", err);
        return;
    }
    strbuf v = {0};
    char p[4400];
    data_path(pl, "spacetime.gp", p, sizeof p);
    gp_var(&v, "data", p);
    draw(pl, "spacetime", "spacetime", &v);
}

/* ---- Sweep charts. ---- */

/* "kv.r" -> "r": names in labels and keys. */
static const char *short_name(const char *path) {
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

typedef struct sweep_info {
    size_t n_params;
    char **params;      /* varied paths */
    char subtitle[256]; /* "N=3, 20 seeds per point" */
} sweep_info;

static void point_label(const csv *c, const sweep_info *si, size_t row, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < si->n_params && k + 1 < n; i++) {
        int col = csv_col(c, si->params[i]);
        k += (size_t)snprintf(buf + k, n - k, "%s%s=%s", i ? " " : "", short_name(si->params[i]),
                              csv_at(c, row, col));
    }
    /* Labels go into CSV cells and gnuplot word lists. */
    for (char *q = buf; *q; q++)
        if (*q == ',' || *q == '\'' || *q == '"')
            *q = '_';
}

static void chart_t_visibility_sweep(plotter *pl, const sweep_info *si) {
    csv c;
    if (csv_read(pl->dir, "t_visibility.csv", &c) < 0)
        return;
    int cp = csv_col(&c, "point"), ct = csv_col(&c, "t_to_s"), cr = csv_col(&c, "reads"),
        cc = csv_col(&c, "consistent");
    FILE *f = cp >= 0 && ct >= 0 && cr >= 0 && cc >= 0 ? cli_open_out(pl->data, "t_visibility.dat")
                                                       : NULL;
    if (!f) {
        csv_free(&c);
        return;
    }
    strbuf names = {0};
    const char *last = NULL;
    int blocks = 0;
    for (size_t r = 0; r < c.rows; r++) {
        if (!last || strcmp(last, csv_at(&c, r, cp)) != 0) {
            char label[512];
            point_label(&c, si, r, label, sizeof label);
            fprintf(f, "%s# point %s (%s): t upper bound (ms), P(consistent)\n",
                    blocks ? "\n\n" : "", csv_at(&c, r, cp), label);
            sb_printf(&names, "%s\"%s\"", blocks ? " " : "", label);
            last = csv_at(&c, r, cp);
            blocks++;
        }
        double reads = csv_num(&c, r, cr);
        if (reads > 0)
            fprintf(f, "%.6f %.6f %.0f\n", csv_num(&c, r, ct) * 1e3, csv_num(&c, r, cc) / reads,
                    reads);
    }
    fclose(f);
    strbuf v = {0};
    char p[4400];
    data_path(pl, "t_visibility.dat", p, sizeof p);
    gp_var(&v, "data", p);
    gp_var(&v, "names", names.s ? names.s : "");
    draw(pl, "t_visibility", "t_visibility", &v);
    sim_free(names.s);
    csv_free(&c);
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
    FILE *f = cli_open_out(pl->data, "stale_heatmap.csv");
    if (!f)
        return;
    fputs("r,w,stale_read_fraction\n", f);
    for (size_t r = 0; r < pts->rows; r++)
        fprintf(f, "%s,%s,%s\n", csv_at(pts, r, cr), csv_at(pts, r, cw), csv_at(pts, r, m));
    fclose(f);
    strbuf v = {0};
    char p[4400];
    data_path(pl, "stale_heatmap.csv", p, sizeof p);
    gp_var(&v, "data", p);
    if (si->subtitle[0])
        gp_var(&v, "subtitle", si->subtitle);
    draw(pl, "stale_heatmap", "stale_heatmap", &v);
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
    FILE *f = cli_open_out(pl->data, "tradeoff.csv");
    FILE *g = f ? cli_open_out(pl->data, "pareto.csv") : NULL;
    if (!f || !g) {
        if (f)
            fclose(f);
        sim_free(lat);
        return;
    }
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
    fclose(f);
    fclose(g);
    strbuf v = {0};
    char p[4400];
    data_path(pl, "tradeoff.csv", p, sizeof p);
    gp_var(&v, "data", p);
    data_path(pl, "pareto.csv", p, sizeof p);
    gp_var(&v, "frontier", p);
    draw(pl, "tradeoff", "tradeoff", &v);
}

/* ---- Entry points. ---- */

static int prepare(plotter *pl, const char *dir, bool quiet, bool *missing) {
    memset(pl, 0, sizeof *pl);
    pl->dir = dir;
    pl->quiet = quiet;
    *missing = false;
    if (!find_on_path("gnuplot", pl->gnuplot, sizeof pl->gnuplot)) {
        *missing = true;
        return -1;
    }
    const char *scripts = getenv("DSIM_PLOTS_DIR");
    snprintf(pl->scripts, sizeof pl->scripts, "%s", scripts && *scripts ? scripts : DSIM_PLOTS_DIR);
    snprintf(pl->data, sizeof pl->data, "%s/chart-data", dir);
    if (mkdir(pl->data, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "dsim: cannot create %s: %s\n", pl->data, strerror(errno));
        return -1;
    }
    char p[4400];
    data_path(pl, "commands.txt", p, sizeof p);
    remove(p);
    data_path(pl, "gnuplot.log", p, sizeof p);
    remove(p);
    return 0;
}

static int plot_dir(plotter *pl) {
    cJSON *sw = read_json(pl->dir, "sweep.json");
    if (sw) {
        sweep_info si = {0};
        const cJSON *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(sw, "vary")) {
            const char *path = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "path"));
            if (!path)
                continue;
            si.params = sim_realloc(si.params, (si.n_params + 1) * sizeof *si.params);
            si.params[si.n_params++] = sim_strdup(path);
        }
        const cJSON *base = cJSON_GetObjectItemCaseSensitive(sw, "base_scenario");
        const cJSON *kv = cJSON_GetObjectItemCaseSensitive(base, "kv");
        double seeds = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(sw, "seeds"), "per_point"));
        if (kv)
            snprintf(si.subtitle, sizeof si.subtitle, "N=%.0f, %.0f seeds per cell",
                     cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(kv, "n")), seeds);
        csv pts;
        chart_t_visibility_sweep(pl, &si);
        if (csv_read(pl->dir, "points.csv", &pts) == 0) {
            chart_heatmap(pl, &si, &pts);
            chart_tradeoff(pl, &si, &pts);
            csv_free(&pts);
        }
        for (size_t i = 0; i < si.n_params; i++)
            sim_free(si.params[i]);
        sim_free(si.params);
        cJSON_Delete(sw);
        return 0;
    }
    cJSON *sum = read_json(pl->dir, "summary.json");
    if (!sum)
        return -1;
    chart_latency(pl, sum);
    chart_timeline(pl, sum);
    chart_mq_timeline(pl, sum);
    chart_per_node(pl);
    chart_messages(pl, sum);
    chart_t_visibility_run(pl, sum);
    chart_spacetime(pl, sum);
    cJSON_Delete(sum);
    return 0;
}

int plot_auto(const char *dir, bool quiet) {
    const char *off = getenv("DSIM_NO_PLOT");
    if (off && *off && strcmp(off, "0") != 0)
        return 0;
    plotter pl;
    bool missing;
    if (prepare(&pl, dir, quiet, &missing) < 0) {
        if (missing && !quiet)
            fprintf(stderr, "dsim: gnuplot is not on the PATH: no charts (the CSVs are in %s/)\n",
                    dir);
        return -1;
    }
    plot_dir(&pl);
    if (!quiet && pl.drawn)
        printf("charts: %s/ (%s; .png and .svg)\n", dir, pl.done.s);
    sim_free(pl.done.s);
    return pl.failed ? -1 : pl.drawn;
}

int plot_cmd(int argc, char **argv) {
    const char *dir = NULL;
    bool quiet = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "dsim: unknown option %s\n(see dsim help plot)\n", argv[i]);
            return EXIT_BAD_INPUT;
        } else if (!dir) {
            dir = argv[i];
        } else {
            fprintf(stderr, "dsim: unexpected argument %s (one folder at a time)\n", argv[i]);
            return EXIT_BAD_INPUT;
        }
    }
    if (!dir) {
        fprintf(stderr, "dsim: a folder is required (see dsim help plot)\n");
        return EXIT_BAD_INPUT;
    }
    if (!exists(dir, "summary.json") && !exists(dir, "sweep.json")) {
        fprintf(stderr,
                "dsim: %s holds neither summary.json (dsim run) nor sweep.json (dsim "
                "sweep)\n",
                dir);
        return EXIT_BAD_INPUT;
    }
    plotter pl;
    bool missing;
    if (prepare(&pl, dir, quiet, &missing) < 0) {
        if (missing)
            fprintf(stderr,
                    "dsim: gnuplot is not on the PATH: no charts (install gnuplot-nox; "
                    "the CSVs are in %s/)\n",
                    dir);
        return EXIT_INTERNAL;
    }
    int rc = plot_dir(&pl);
    if (rc == 0 && !quiet)
        printf("charts: %s/ (%s; .png and .svg)\n", dir,
               pl.drawn ? pl.done.s : "none: no chart applies to this folder");
    sim_free(pl.done.s);
    return rc < 0 ? EXIT_BAD_INPUT : pl.failed ? EXIT_INTERNAL : 0;
}
