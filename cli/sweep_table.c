/*
 * sweep_table.c - the tables of a sweep: runs.csv, points.csv,
 * t_visibility.csv and sweep.json, assembled by one process from the run
 * files in (point, seed) order once every run is done (cli/sweep.c runs
 * them), and the statistics of points.csv.
 *
 * Columns: the metric columns are the union of the flattened metric names
 * of every run, in order of first appearance, which is registration order
 * (the same in every run of a model); a metric absent from a run leaves an
 * empty cell, and empty cells do not count in a point's n.
 */
#include "cli_util.h"
#include "sweep_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double sweep_t975(unsigned df) {
    static const double table[30] = {12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912,
                                     2.364624,  2.306004, 2.262157, 2.228139, 2.200985, 2.178813,
                                     2.160369,  2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
                                     2.093024,  2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
                                     2.059539,  2.055529, 2.051831, 2.048407, 2.045230, 2.042272};
    if (df == 0)
        return NAN;
    if (df <= 30)
        return table[df - 1];
    /* Cornish-Fisher expansion around the normal quantile: within 1e-6 of
     * the exact value from 31 degrees of freedom up. */
    double z = 1.959963984540054, n = df, z2 = z * z;
    return z + (z2 + 1) * z / (4 * n) + ((5 * z2 + 16) * z2 + 3) * z / (96 * n * n) +
           (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / (384 * n * n * n) +
           ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / (92160 * n * n * n * n);
}

void sweep_fmt_num(double v, char *buf, size_t n) {
    if (isnan(v)) {
        snprintf(buf, n, "%s", "");
        return;
    }
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, n, "%.17g", v);
}

static void csv_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ---- Assembly. ---- */

typedef struct columns {
    size_t n, cap;
    char **names;
} columns;

static size_t column_index(columns *c, const char *name, size_t hint) {
    if (hint < c->n && strcmp(c->names[hint], name) == 0)
        return hint;
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->names[i], name) == 0)
            return i;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->names = sim_realloc(c->names, c->cap * sizeof *c->names);
    }
    c->names[c->n] = sim_strdup(name);
    return c->n++;
}

/* One point's t-visibility rows, summed over its seeds. */
typedef struct tvis_row {
    char *from, *to;
    double reads, consistent;
} tvis_row;

static void tvis_add(tvis_row **rows, size_t *n, const char *csv) {
    const char *line = strchr(csv, '\n'); /* skip the header */
    while (line && line[1]) {
        line++;
        char from[64], to[64];
        double reads = 0, cons = 0;
        if (sscanf(line, "%63[^,],%63[^,],%lf,%lf", from, to, &reads, &cons) == 4) {
            size_t i;
            for (i = 0; i < *n; i++)
                if (!strcmp((*rows)[i].from, from) && !strcmp((*rows)[i].to, to))
                    break;
            if (i == *n) {
                *rows = sim_realloc(*rows, (*n + 1) * sizeof **rows);
                (*rows)[i] = (tvis_row){sim_strdup(from), sim_strdup(to), 0, 0};
                (*n)++;
            }
            (*rows)[i].reads += reads;
            (*rows)[i].consistent += cons;
        }
        line = strchr(line, '\n');
    }
}

static void write_params(FILE *f, const sweep *sw, size_t point) {
    fprintf(f, "%zu", point);
    for (size_t k = 0; k < sw->n_params; k++) {
        fputc(',', f);
        csv_field(f, sweep__point_value(sw, point, k));
    }
}

static void write_param_header(FILE *f, const sweep *sw) {
    fputs("point", f);
    for (size_t k = 0; k < sw->n_params; k++) {
        fputc(',', f);
        csv_field(f, sw->params[k].path);
    }
}

int sweep__assemble(const sweep *sw) {
    columns cols = {0};
    cJSON **recs = sim_calloc(sw->n_runs, sizeof *recs);
    int status = 0;
    for (size_t r = 0; r < sw->n_runs; r++) {
        recs[r] = sweep__read_record(sw, r);
        if (!recs[r]) {
            fprintf(stderr, "dsim: the result of run %zu is missing\n", r);
            status = SWEEP_EXIT_INTERNAL;
            break;
        }
        size_t hint = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(recs[r], "metrics")) {
            hint = column_index(&cols, m->string, hint) + 1;
        }
    }
    cli_out *fo = status ? NULL : cli_out_open(sw->dir, "runs.csv");
    cli_out *go = fo ? cli_out_open(sw->dir, "points.csv") : NULL;
    FILE *f = fo ? fo->f : NULL, *g = go ? go->f : NULL;
    if (!status && (!f || !g))
        status = SWEEP_EXIT_INTERNAL;
    double *vals = sim_calloc(cols.n * sw->n_seeds + sw->n_seeds, sizeof *vals);
    bool any_tvis = false;
    cli_out *tvo = NULL;
    FILE *tv = NULL;
    if (!status) {
        for (size_t r = 0; r < sw->n_runs; r++)
            any_tvis |= cJSON_GetObjectItemCaseSensitive(recs[r], "t_visibility") != NULL;
        if (any_tvis && !(tvo = cli_out_open(sw->dir, "t_visibility.csv")))
            status = SWEEP_EXIT_INTERNAL;
        tv = tvo ? tvo->f : NULL;
    }
    if (!status) {
        write_param_header(f, sw);
        fputs(",seed,trace_hash,events", f);
        for (size_t c = 0; c < cols.n; c++) {
            fputc(',', f);
            csv_field(f, cols.names[c]);
        }
        fputc('\n', f);
        write_param_header(g, sw);
        fputs(",runs,events.mean", g);
        for (size_t c = 0; c < cols.n; c++)
            fprintf(g, ",%s.mean,%s.sd,%s.ci95", cols.names[c], cols.names[c], cols.names[c]);
        fputc('\n', g);
        if (tv) {
            write_param_header(tv, sw);
            fputs(",t_from_s,t_to_s,reads,consistent,p_consistent\n", tv);
        }
    }
    char num[64];
    for (size_t p = 0; p < sw->n_points && !status; p++) {
        tvis_row *rows = NULL;
        size_t n_rows = 0;
        double events_sum = 0;
        for (size_t c = 0; c < cols.n * sw->n_seeds; c++)
            vals[c] = NAN;
        for (size_t i = 0; i < sw->n_seeds; i++) {
            const cJSON *rec = recs[p * sw->n_seeds + i];
            write_params(f, sw, p);
            double ev = cJSON_GetObjectItemCaseSensitive(rec, "events")->valuedouble;
            events_sum += ev;
            sweep_fmt_num(ev, num, sizeof num);
            fprintf(f, ",%.0f,%s,%s", cJSON_GetObjectItemCaseSensitive(rec, "seed")->valuedouble,
                    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "trace_hash")), num);
            size_t hint = 0;
            const cJSON *m;
            cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(rec, "metrics")) {
                size_t c = column_index(&cols, m->string, hint);
                hint = c + 1;
                vals[c * sw->n_seeds + i] = cJSON_IsNumber(m) ? m->valuedouble : NAN;
            }
            for (size_t c = 0; c < cols.n; c++) {
                sweep_fmt_num(vals[c * sw->n_seeds + i], num, sizeof num);
                fprintf(f, ",%s", num);
            }
            fputc('\n', f);
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t_visibility");
            if (cJSON_IsString(t))
                tvis_add(&rows, &n_rows, t->valuestring);
        }
        write_params(g, sw, p);
        sweep_fmt_num(events_sum / (double)sw->n_seeds, num, sizeof num);
        fprintf(g, ",%zu,%s", sw->n_seeds, num);
        for (size_t c = 0; c < cols.n; c++) {
            const double *x = vals + c * sw->n_seeds;
            double sum = 0, n = 0;
            for (size_t i = 0; i < sw->n_seeds; i++)
                if (!isnan(x[i])) {
                    sum += x[i];
                    n++;
                }
            double mean = n > 0 ? sum / n : NAN, ss = 0;
            for (size_t i = 0; i < sw->n_seeds; i++)
                if (!isnan(x[i]))
                    ss += (x[i] - mean) * (x[i] - mean);
            double sd = n > 1 ? sqrt(ss / (n - 1)) : NAN;
            double ci = n > 1 ? sweep_t975((unsigned)(n - 1)) * sd / sqrt(n) : NAN;
            char a[64], b[64];
            sweep_fmt_num(mean, num, sizeof num);
            sweep_fmt_num(sd, a, sizeof a);
            sweep_fmt_num(ci, b, sizeof b);
            fprintf(g, ",%s,%s,%s", num, a, b);
        }
        fputc('\n', g);
        for (size_t i = 0; i < n_rows; i++) {
            if (tv) {
                write_params(tv, sw, p);
                char a[64], b[64], pc[64];
                sweep_fmt_num(rows[i].reads, a, sizeof a);
                sweep_fmt_num(rows[i].consistent, b, sizeof b);
                if (rows[i].reads > 0)
                    snprintf(pc, sizeof pc, "%.6f", rows[i].consistent / rows[i].reads);
                else
                    pc[0] = '\0';
                fprintf(tv, ",%s,%s,%s,%s,%s\n", rows[i].from, rows[i].to, a, b, pc);
            }
            sim_free(rows[i].from);
            sim_free(rows[i].to);
        }
        sim_free(rows);
    }
    /* Each table is renamed into place whole, or not at all. */
    cli_out *outs[] = {fo, go, tvo};
    for (int i = 0; i < 3; i++) {
        if (!outs[i])
            continue;
        if (status)
            cli_out_discard(outs[i]);
        else if (cli_out_close(outs[i]) != 0)
            status = SWEEP_EXIT_INTERNAL;
    }
    if (!status) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "dsim_version", DSIM_VERSION);
        cJSON *cmd = cJSON_AddArrayToObject(o, "command");
        cJSON_AddItemToArray(cmd, cJSON_CreateString("dsim"));
        cJSON_AddItemToArray(cmd, cJSON_CreateString("sweep"));
        for (int i = 0; i < sw->argc; i++)
            cJSON_AddItemToArray(cmd, cJSON_CreateString(sw->argv[i]));
        cJSON *spec = sweep__spec_json(sw);
        cJSON *it;
        while ((it = spec->child) != NULL) {
            cJSON_DetachItemViaPointer(spec, it);
            cJSON_AddItemToObject(o, it->string, it);
        }
        cJSON_Delete(spec);
        char *text = cJSON_Print(o);
        cJSON_Delete(o);
        cli_out *h = cli_out_open(sw->dir, "sweep.json");
        if (!h || fprintf(h->f, "%s\n", text) < 0 || cli_out_close(h) != 0)
            status = SWEEP_EXIT_INTERNAL;
        cJSON_free(text);
    }
    sim_free(vals);
    for (size_t r = 0; r < sw->n_runs; r++)
        cJSON_Delete(recs[r]);
    sim_free(recs);
    for (size_t c = 0; c < cols.n; c++)
        sim_free(cols.names[c]);
    sim_free(cols.names);
    return status;
}
