/*
 * plot_timeline.c - a model's timeline: its declared series over simulated
 * time, one panel each, with the run's fault windows shaded.
 *
 * A model declares its timeline as a table (sim_chart_series, sim/sim.h):
 * each series names timeseries.csv columns, by name or by pattern ("{}"
 * makes one series per distinct part, "*" adds up what it matches), and how
 * to turn them into the plotted figure (the value, its rate per second, a
 * ratio of increments, one minus that ratio).  This file evaluates the
 * table into chart-data/<chart>.csv (time_s and one column per panel) and
 * chart-data/<chart>-panels.tsv (each panel's label, axis label, title,
 * line style, range), which plots/timeline.gp draws; neither holds gnuplot
 * code.  The fault windows come from the resolved scenario's fault list:
 * chart-data/faults.csv (from, to, colour, label, label height) and
 * chart-data/marks.csv (instant events: at, label).
 *
 * Invariants: a panel is drawn only for a series whose columns exist and
 * that has at least one defined value (an empty panel would stop gnuplot
 * and say nothing); at most TIMELINE_PANELS panels; every text field was
 * cleaned by plot_label.
 */
#include "plot_int.h"

#include "sim.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TIMELINE_PANELS 8
#define LABEL_MAX       96

/* ---- Fault windows. ---- */

static double at_s(const cJSON *f) {
    sim_time t = 0;
    const char *why;
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "at"));
    if (s && sim_time_parse(s, &t, &why) == 0)
        return sim_time_to_s(t);
    return 0;
}

/* "n0 n1 n2 ..." from a node or a list of nodes, cleaned. */
static void node_list(const cJSON *v, char *buf, size_t n) {
    char raw[256] = "";
    size_t k = 0, count = 0;
    const cJSON *e;
    if (cJSON_IsString(v)) {
        plot_label(buf, n, v->valuestring);
        return;
    }
    cJSON_ArrayForEach(e, (cJSON_IsArray(v) ? v : NULL)) {
        if (count++ == 3) {
            snprintf(raw + k, sizeof raw - k, " ...");
            break;
        }
        if (cJSON_IsString(e) && k + 1 < sizeof raw)
            k += (size_t)snprintf(raw + k, sizeof raw - k, "%s%s", k ? " " : "", e->valuestring);
        if (k >= sizeof raw)
            k = sizeof raw - 1;
    }
    plot_label(buf, n, raw);
}

/* True if the node list v names node. */
static bool names_node(const cJSON *v, const char *node) {
    const cJSON *e;
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, node) == 0;
    cJSON_ArrayForEach(e, (cJSON_IsArray(v) ? v : NULL)) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, node) == 0)
            return true;
    }
    return false;
}

/* The end of the window opened by flt: the first later fault that closes
 * it, or end. */
static double window_end(const cJSON *flt, const char *kind, const cJSON *v, double end) {
    const cJSON *later;
    if (strcmp(kind, "partition") == 0) {
        for (later = flt->next; later; later = later->next)
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(later, "heal")))
                return at_s(later);
        return end;
    }
    if (strcmp(kind, "slow") == 0) {
        for (later = flt->next; later; later = later->next)
            if (cJSON_GetObjectItemCaseSensitive(later, "slow") &&
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(later, "factor")) == 1)
                return at_s(later);
        return end;
    }
    /* crash or fail: closed when the last of its nodes is back. */
    bool crash = strcmp(kind, "crash") == 0;
    double last = at_s(flt);
    const cJSON *e;
    bool all = cJSON_IsArray(v) || cJSON_IsString(v);
    const cJSON *one = cJSON_IsString(v) ? v : NULL;
    for (e = one ? one : cJSON_IsArray(v) ? v->child : NULL; e; e = one ? NULL : e->next) {
        bool back = false;
        for (later = flt->next; later && !back && cJSON_IsString(e); later = later->next) {
            const cJSON *r = cJSON_GetObjectItemCaseSensitive(later, crash ? "recover" : "replace");
            if (r && names_node(r, e->valuestring)) {
                back = true;
                last = fmax(last, at_s(later));
            }
        }
        all &= back;
    }
    return all ? last : end;
}

void plot_faults(plotter *pl, const cJSON *scenario, cli_buf *vars) {
    const cJSON *faults = cJSON_GetObjectItemCaseSensitive(scenario, "faults");
    sim_time dur = 0;
    const char *why;
    const char *ds = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(scenario, "duration"));
    int nf = 0, nm = 0;
    cli_out *f = NULL, *m = NULL;
    if (ds && sim_time_parse(ds, &dur, &why) == 0 && cJSON_GetArraySize(faults) > 0) {
        f = plot_data_open(pl, "faults.csv");
        m = f ? plot_data_open(pl, "marks.csv") : NULL;
    }
    if (!m) {
        cli_out_discard(f);
        plot_gp_num(vars, "nf", 0);
        plot_gp_num(vars, "nm", 0);
        return;
    }
    fputs("from_s,to_s,colour,label,label_y\n", f->f);
    fputs("at_s,label\n", m->f);
    double end = sim_time_to_s(dur);
    const cJSON *flt;
    cJSON_ArrayForEach(flt, faults) {
        double from = at_s(flt);
        char nodes[LABEL_MAX], label[LABEL_MAX + 32];
        const cJSON *v;
        const char *kind = NULL;
        unsigned colour = 0;
        if ((v = cJSON_GetObjectItemCaseSensitive(flt, "partition")) != NULL) {
            kind = "partition";
            snprintf(label, sizeof label, "partition");
            colour = 0xe8c547;
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "partition_one_way")) != NULL) {
            kind = "partition";
            snprintf(label, sizeof label, "one-way partition");
            colour = 0xe8c547;
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "crash")) != NULL ||
                   (v = cJSON_GetObjectItemCaseSensitive(flt, "fail")) != NULL) {
            kind = cJSON_GetObjectItemCaseSensitive(flt, "crash") ? "crash" : "fail";
            node_list(v, nodes, sizeof nodes);
            snprintf(label, sizeof label, "%s %s", kind, nodes);
            colour = kind[0] == 'c' ? 0xe4572e : 0x8e44ad;
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "slow")) != NULL) {
            if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flt, "factor")) == 1)
                continue;
            kind = "slow";
            node_list(v, nodes, sizeof nodes);
            snprintf(label, sizeof label, "slow %s", nodes);
            colour = 0x4a90d9;
        } else if ((v = cJSON_GetObjectItemCaseSensitive(flt, "replace")) != NULL ||
                   (v = cJSON_GetObjectItemCaseSensitive(flt, "clock")) != NULL ||
                   (v = cJSON_GetObjectItemCaseSensitive(flt, "slow_link")) != NULL) {
            const char *what = cJSON_GetObjectItemCaseSensitive(flt, "replace") ? "replace"
                               : cJSON_GetObjectItemCaseSensitive(flt, "clock") ? "clock"
                                                                                : "slow link";
            node_list(cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "from") : v, nodes,
                      sizeof nodes);
            fprintf(m->f, "%.9g,%s %s\n", from, what, nodes);
            nm++;
            continue;
        } else {
            continue;
        }
        double to = window_end(flt, kind, v, end);
        if (to <= from)
            continue;
        /* Labels alternate in height so that windows close together stay
         * readable. */
        fprintf(f->f, "%.9g,%.9g,%u,%s,%s\n", from, to, colour, label, nf % 2 ? "0.86" : "0.95");
        nf++;
    }
    plot_data_close(pl, f);
    plot_data_close(pl, m);
    plot_gp_num(vars, "nf", nf);
    plot_gp_num(vars, "nm", nm);
}

/* ---- Series. ---- */

/* Matches s against pat, where "{}" and "*" each stand for one or more
 * characters; what "{}" matched goes to cap (n bytes).  Patterns are the
 * model's (at most one "{}", a few "*"): the recursion is shallow. */
static bool match(const char *pat, const char *s, char *cap, size_t n) {
    if (!*pat)
        return !*s;
    if (pat[0] == '{' && pat[1] == '}') {
        for (size_t len = 1; s[len - 1]; len++)
            if (match(pat + 2, s + len, cap, n)) {
                snprintf(cap, n, "%.*s", (int)len, s);
                return true;
            }
        return false;
    }
    if (*pat == '*') {
        for (size_t len = 1; s[len - 1]; len++)
            if (match(pat + 1, s + len, cap, n))
                return true;
        return false;
    }
    return *pat == *s && match(pat + 1, s + 1, cap, n);
}

/* Replaces "{}" in text by part. */
static void fill(char *out, size_t n, const char *text, const char *part) {
    const char *b = text ? strstr(text, "{}") : NULL;
    if (!text)
        snprintf(out, n, "%s", "");
    else if (!b)
        snprintf(out, n, "%s", text);
    else
        snprintf(out, n, "%.*s%s%s", (int)(b - text), text, part, b + 2);
}

/* The sum over the columns of ts matching pat (with part for "{}") at
 * every row, into v; false if no column matches. */
static bool column_sum(const csv *ts, const char *pat, const char *part, double *v) {
    char cap[LABEL_MAX];
    bool any = false;
    for (size_t r = 0; r < ts->rows; r++)
        v[r] = 0;
    for (size_t i = 0; i < ts->cols; i++) {
        cap[0] = '\0';
        if (!match(pat, ts->cell[i], cap, sizeof cap) || (part && strcmp(cap, part) != 0))
            continue;
        any = true;
        for (size_t r = 0; r < ts->rows; r++)
            v[r] += csv_num(ts, r, (int)i);
    }
    return any;
}

/* den: patterns joined by '+'. */
static bool den_sum(const csv *ts, const char *den, const char *part, double *v, double *tmp) {
    for (size_t r = 0; r < ts->rows; r++)
        v[r] = 0;
    char one[256];
    for (const char *p = den; p && *p;) {
        size_t len = strcspn(p, "+");
        snprintf(one, sizeof one, "%.*s", (int)len, p);
        if (!column_sum(ts, one, part, tmp))
            return false;
        for (size_t r = 0; r < ts->rows; r++)
            v[r] += tmp[r];
        p += len;
        if (*p == '+')
            p++;
    }
    return den && *den;
}

typedef struct panel {
    char label[LABEL_MAX], what[LABEL_MAX * 2];
    const sim_chart_series *s;
    double *v; /* one per row; NAN where undefined */
} panel;

/* Evaluates series s (with part for "{}") into p->v; false if it has no
 * columns or no value at all. */
static bool evaluate(const csv *ts, int tcol, const sim_chart_series *s, const char *part, panel *p,
                     double *num, double *den, double *tmp) {
    size_t rows = ts->rows;
    if (!column_sum(ts, s->col, part, num))
        return false;
    bool ratio = s->op == SIM_SERIES_RATIO || s->op == SIM_SERIES_COMPLEMENT;
    if (ratio && !den_sum(ts, s->den, part, den, tmp))
        return false;
    double scale = s->scale != 0 ? s->scale : 1;
    bool any = false;
    for (size_t r = 0; r < rows; r++) {
        double x = NAN;
        if (s->op == SIM_SERIES_VALUE) {
            x = num[r];
        } else if (r > 0) {
            double d = num[r] - num[r - 1];
            if (s->op == SIM_SERIES_RATE) {
                double dt = csv_num(ts, r, tcol) - csv_num(ts, r - 1, tcol);
                x = dt > 0 ? d / dt : NAN;
            } else {
                double dd = den[r] - den[r - 1];
                x = dd > 0 ? d / dd : NAN;
                if (s->op == SIM_SERIES_COMPLEMENT && !isnan(x))
                    x = fmax(0, 1 - x);
            }
        }
        p->v[r] = isfinite(x) ? x * scale : NAN;
        any |= isfinite(x);
    }
    return any;
}

void plot_timeline(plotter *pl, const sim_chart *ch, const csv *ts, const cJSON *summary) {
    int tcol = csv_col(ts, "time_s");
    if (tcol < 0 || ts->rows == 0)
        return;
    size_t rows = ts->rows;
    panel panels[TIMELINE_PANELS];
    size_t np = 0;
    double *num = sim_calloc(3 * rows, sizeof *num), *den = num + rows, *tmp = den + rows;
    for (const sim_chart_series *s = ch->series; s->label && np < TIMELINE_PANELS; s++) {
        /* The distinct parts "{}" matches, in the order of the columns. */
        char parts[TIMELINE_PANELS][LABEL_MAX];
        size_t nparts = 0;
        bool pattern = strstr(s->col, "{}") != NULL;
        for (size_t i = 0; pattern && i < ts->cols && nparts < TIMELINE_PANELS - np; i++) {
            char cap[LABEL_MAX];
            if (!match(s->col, ts->cell[i], cap, sizeof cap))
                continue;
            bool seen = false;
            for (size_t k = 0; k < nparts && !seen; k++)
                seen = strcmp(parts[k], cap) == 0;
            if (!seen)
                snprintf(parts[nparts++], LABEL_MAX, "%s", cap);
        }
        if (!pattern)
            nparts = 1;
        for (size_t k = 0; k < nparts && np < TIMELINE_PANELS; k++) {
            panel *p = &panels[np];
            p->s = s;
            p->v = sim_calloc(rows, sizeof *p->v);
            const char *part = pattern ? parts[k] : NULL;
            char raw[LABEL_MAX * 2];
            fill(raw, sizeof raw, s->label, part ? part : "");
            plot_label(p->label, sizeof p->label, raw);
            fill(raw, sizeof raw, s->what ? s->what : s->label, part ? part : "");
            plot_text(p->what, sizeof p->what, raw);
            if (evaluate(ts, tcol, s, part, p, num, den, tmp))
                np++;
            else
                sim_free(p->v);
        }
    }
    sim_free(num);
    if (np == 0)
        return;
    char file[128], pfile[160];
    snprintf(file, sizeof file, "%s.csv", ch->name);
    snprintf(pfile, sizeof pfile, "%s-panels.tsv", ch->name);
    cli_out *d = plot_data_open(pl, file);
    cli_out *q = d ? plot_data_open(pl, pfile) : NULL;
    if (q) {
        fputs("time_s", d->f);
        for (size_t k = 0; k < np; k++)
            fprintf(d->f, ",%s", panels[k].label);
        fputc('\n', d->f);
        for (size_t r = 0; r < rows; r++) {
            fputs(csv_at(ts, r, tcol), d->f);
            for (size_t k = 0; k < np; k++)
                if (isnan(panels[k].v[r]))
                    fputc(',', d->f);
                else
                    fprintf(d->f, ",%.9g", panels[k].v[r]);
            fputc('\n', d->f);
        }
        /* label, axis label, title, steps (0: a gauge held until the next
         * sample; 1: a rate over the interval ending at its sample), zoom
         * (1: a share near 100 % drawn on a range that shows a dip). */
        fputs("label\tylabel\twhat\trate\tzoom\n", q->f);
        for (size_t k = 0; k < np; k++) {
            char ylabel[LABEL_MAX];
            plot_text(ylabel, sizeof ylabel,
                      panels[k].s->ylabel ? panels[k].s->ylabel : panels[k].label);
            fprintf(q->f, "%s\t%s\t%s\t%d\t%d\n", panels[k].label, ylabel, panels[k].what,
                    panels[k].s->op != SIM_SERIES_VALUE, panels[k].s->op == SIM_SERIES_COMPLEMENT);
        }
    }
    for (size_t k = 0; k < np; k++)
        sim_free(panels[k].v);
    if (!q) {
        cli_out_discard(d);
        return;
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
    if (ch->title)
        plot_gp_var(&v, "title", ch->title);
    plot_faults(pl, cJSON_GetObjectItemCaseSensitive(summary, "scenario"), &v);
    plot_gp_var(&v, "faults", "../faults.csv");
    plot_gp_var(&v, "marks", "../marks.csv");
    plot_draw(pl, ch->name, ch->script ? ch->script : "timeline.gp", &v);
}
