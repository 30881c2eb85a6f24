/*
 * predict.c - predict, then run.  A scenario may carry questions:
 *
 *   "predict": [{"ask": "With R = 1 and W = 1, what fraction of reads
 *                during the partition are stale?",
 *                "metric": "kv.stale_read_fraction", "window": ["10s", "20s"],
 *                "tolerance": 0.05, "explain": "..."}]
 *
 * The loader checks their shape (sim/scenario.c); this file asks them
 * (`dsim run --predict`), measures them on the run's folder and grades the
 * answers, for one run or for a folder of answer files (`dsim grade`).
 *
 * How a metric is measured (docs/report.md):
 *   without a window  metrics.model.<key> of summary.json for "<model>.<key>",
 *                     else the counter or gauge of that name at the end;
 *   with [from, to]   from timeseries.csv: <model>.stale_read_fraction is
 *                     the stale reads over the reads issued in the window,
 *                     kv.availability one minus the failed operations over
 *                     those issued; a counter's column gives its increase
 *                     over the window, a gauge's its mean over the samples
 *                     in it.
 * A folder is untrusted data: every file is read bounded, every value
 * checked for its type, every name printed escaped.
 */
#include "predict.h"

#include "cli_util.h"
#include "plot_int.h"
#include "sim.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { EXIT_BAD_INPUT = 2, EXIT_INTERNAL = 1 };

#define PREDICT_MAX_FILE    (1u << 20)
#define PREDICT_MAX_SUMMARY (64u << 20)

const char grade_help[] =
    "usage: dsim grade RUN_DIR ANSWERS_DIR\n"
    "\n"
    "Grades a folder of answer files against a run: RUN_DIR is the folder of\n"
    "`dsim run` of a scenario with questions (\"predict\"), ANSWERS_DIR holds one\n"
    "JSON file per student, either the predictions.json `dsim run --predict`\n"
    "writes or {\"answers\": [number or null, ...]} in the order of the questions.\n"
    "Prints one line per file (answers right within each question's tolerance)\n"
    "and a CSV of every answer to ANSWERS_DIR/grades.csv.  docs/report.md.\n";

static const cJSON *get(const cJSON *o, const char *k) {
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool num_of(const cJSON *o, const char *k, double *v) {
    const cJSON *j = get(o, k);
    if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
        return false;
    *v = j->valuedouble;
    return true;
}

static double time_s(const cJSON *v) {
    sim_time t;
    const char *why;
    if (cJSON_IsString(v) && sim_time_parse(v->valuestring, &t, &why) == 0)
        return sim_time_to_s(t);
    return NAN;
}

bool predict_take_flag(int *argc, char **argv) {
    bool found = false;
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--predict") == 0)
            found = true;
        else
            argv[k++] = argv[i];
    }
    *argc = k;
    return found;
}

cJSON *predict_ask(const cJSON *scenario, FILE *in, FILE *out) {
    const cJSON *qs = get(scenario, "predict");
    int n = cJSON_IsArray(qs) ? cJSON_GetArraySize(qs) : 0;
    if (n == 0)
        return NULL;
    cJSON *answers = cJSON_CreateArray();
    fprintf(out, "Predict, then run: %d question%s before the run.\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const cJSON *q = cJSON_GetArrayItem(qs, i);
        const char *ask = cJSON_GetStringValue(get(q, "ask"));
        const char *metric = cJSON_GetStringValue(get(q, "metric"));
        const cJSON *w = get(q, "window");
        double tol = 0;
        num_of(q, "tolerance", &tol);
        char shown[1200];
        sim_escape(shown, sizeof shown, ask ? ask : "");
        fprintf(out, "\n%d. %s\n", i + 1, shown);
        sim_escape(shown, sizeof shown, metric ? metric : "");
        fprintf(out, "   (measured as %s", shown);
        if (cJSON_GetArraySize(w) == 2)
            fprintf(out, " from %g s to %g s", time_s(cJSON_GetArrayItem(w, 0)),
                    time_s(cJSON_GetArrayItem(w, 1)));
        fprintf(out, "; right within %g)\n   your prediction: ", tol);
        fflush(out);
        char line[256];
        double v = NAN;
        if (fgets(line, sizeof line, in)) {
            char *end;
            v = strtod(line, &end);
            while (*end == ' ' || *end == '\t')
                end++;
            if (*end == '%') {
                v /= 100;
                end++;
            }
            while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
                end++;
            if (end == line || *end || !isfinite(v))
                v = NAN;
        }
        if (isnan(v)) {
            fprintf(out, "   (no number: left unanswered)\n");
            cJSON_AddItemToArray(answers, cJSON_CreateNull());
        } else {
            cJSON_AddItemToArray(answers, cJSON_CreateNumber(v));
        }
    }
    fprintf(out, "\nNow the run.\n");
    return answers;
}

/* The value of column col at time t: the last sample at or before t. */
static bool at_time(const csv *ts, int tc, int col, double t, double *v) {
    bool found = false;
    for (size_t r = 0; r < ts->rows; r++) {
        double rt = csv_num(ts, r, tc);
        if (isnan(rt) || rt > t + 1e-9)
            break;
        double x = csv_num(ts, r, col);
        if (!isnan(x)) {
            *v = x;
            found = true;
        }
    }
    return found;
}

static bool delta(const csv *ts, int tc, const char *name, double a, double b, double *d) {
    int col = csv_col(ts, name);
    double va = 0, vb;
    if (col < 0 || !at_time(ts, tc, col, b, &vb))
        return false;
    if (!at_time(ts, tc, col, a, &va))
        va = 0;
    *d = vb - va;
    return true;
}

int predict_measure(const char *dir, const cJSON *sum, const cJSON *q, double *value, char *err,
                    size_t errlen) {
    const char *metric = cJSON_GetStringValue(get(q, "metric"));
    const cJSON *mets = get(sum, "metrics");
    const char *model = cJSON_GetStringValue(get(get(sum, "scenario"), "model"));
    const cJSON *w = get(q, "window");
    if (!metric)
        return cli_fail(err, errlen, "the question has no metric");
    size_t ml = model ? strlen(model) : 0;
    bool own = model && strncmp(metric, model, ml) == 0 && metric[ml] == '.';
    if (cJSON_GetArraySize(w) != 2) {
        if (own && num_of(get(mets, "model"), metric + ml + 1, value))
            return 0;
        if (num_of(get(mets, "counters"), metric, value) ||
            num_of(get(mets, "gauges"), metric, value))
            return 0;
        return cli_fail(err, errlen, "the run has no figure %s", metric);
    }
    double a = time_s(cJSON_GetArrayItem(w, 0)), b = time_s(cJSON_GetArrayItem(w, 1));
    if (isnan(a) || isnan(b) || b <= a)
        return cli_fail(err, errlen, "the window is not [from, to] with from < to");
    csv ts;
    char cerr[512];
    int rc = csv_load(dir, "timeseries.csv", &ts, cerr, sizeof cerr);
    if (rc != 0)
        return cli_fail(err, errlen, "%s", rc > 0 ? "the folder has no timeseries.csv" : cerr);
    int tc = csv_col(&ts, "time_s");
    rc = 0;
    double x, y, z;
    char name[160];
    if (tc < 0) {
        rc = cli_fail(err, errlen, "timeseries.csv has no time_s column");
    } else if (own && strcmp(metric + ml, ".stale_read_fraction") == 0) {
        snprintf(name, sizeof name, "%s.stale_reads", model);
        char reads[160];
        snprintf(reads, sizeof reads, "%s.reads", model);
        if (!delta(&ts, tc, name, a, b, &x) || !delta(&ts, tc, reads, a, b, &y))
            rc = cli_fail(err, errlen, "timeseries.csv lacks %s or %s", name, reads);
        else if (y <= 0)
            rc = cli_fail(err, errlen, "no read was issued in the window");
        else
            *value = x / y;
    } else if (own && strcmp(metric + ml, ".availability") == 0) {
        snprintf(name, sizeof name, "%s.failed_ops", model);
        char r[160], wr[160];
        snprintf(r, sizeof r, "%s.reads", model);
        snprintf(wr, sizeof wr, "%s.writes", model);
        if (!delta(&ts, tc, name, a, b, &x) || !delta(&ts, tc, r, a, b, &y) ||
            !delta(&ts, tc, wr, a, b, &z))
            rc = cli_fail(err, errlen, "timeseries.csv lacks %s, %s or %s", name, r, wr);
        else if (y + z <= 0)
            rc = cli_fail(err, errlen, "no operation was issued in the window");
        else
            *value = 1 - x / (y + z);
    } else if (csv_col(&ts, metric) >= 0 && num_of(get(mets, "counters"), metric, &x)) {
        delta(&ts, tc, metric, a, b, value);
    } else if (csv_col(&ts, metric) >= 0) {
        int col = csv_col(&ts, metric);
        double s = 0;
        size_t k = 0;
        for (size_t r = 0; r < ts.rows; r++) {
            double t = csv_num(&ts, r, tc), v = csv_num(&ts, r, col);
            if (t >= a - 1e-9 && t <= b + 1e-9 && !isnan(v)) {
                s += v;
                k++;
            }
        }
        if (k == 0)
            rc = cli_fail(err, errlen, "no sample of %s in the window", metric);
        else
            *value = s / (double)k;
    } else {
        rc = cli_fail(err, errlen,
                      "timeseries.csv has no column %s (and it is not a ratio "
                      "dsim knows how to measure over a window)",
                      metric);
    }
    csv_free(&ts);
    return rc;
}

bool predict_correct(const cJSON *q, double answer, double measured) {
    double tol = 0;
    num_of(q, "tolerance", &tol);
    return fabs(answer - measured) <= tol + 1e-12;
}

/* summary.json of dir, parsed; NULL with a reason in err. */
static cJSON *read_summary(const char *dir, char *err, size_t errlen) {
    char *path = sim_malloc(strlen(dir) + 16);
    sprintf(path, "%s/summary.json", dir);
    size_t len;
    char why[512];
    char *text = cli_read_file(path, PREDICT_MAX_SUMMARY, &len, why, sizeof why);
    sim_free(path);
    if (!text) {
        cli_fail(err, errlen, "%s/summary.json: %s", dir, why);
        return NULL;
    }
    cJSON *sum = cJSON_ParseWithLength(text, len);
    sim_free(text);
    if (!cJSON_IsObject(get(sum, "scenario"))) {
        cJSON_Delete(sum);
        cli_fail(err, errlen, "%s/summary.json: not a run's summary", dir);
        return NULL;
    }
    return sum;
}

int predict_grade_run(const char *dir, const cJSON *answers, bool quiet) {
    char err[1024];
    cJSON *sum = read_summary(dir, err, sizeof err);
    if (!sum) {
        cli_print_error(err);
        return -1;
    }
    const cJSON *qs = get(get(sum, "scenario"), "predict");
    cJSON *out = cJSON_CreateObject();
    cJSON *list = cJSON_AddArrayToObject(out, "questions");
    int n = cJSON_GetArraySize(qs), right = 0, answered = 0;
    if (!quiet)
        printf("\nYour predictions, graded:\n");
    for (int i = 0; i < n; i++) {
        const cJSON *q = cJSON_GetArrayItem(qs, i);
        cJSON *e = cJSON_Duplicate(q, true);
        cJSON_AddItemToArray(list, e);
        const cJSON *a = cJSON_GetArrayItem(answers, i);
        double m;
        char why[600];
        bool measured = predict_measure(dir, sum, q, &m, why, sizeof why) == 0;
        cJSON_AddItemToObject(e, "answer",
                              cJSON_IsNumber(a) ? cJSON_CreateNumber(a->valuedouble)
                                                : cJSON_CreateNull());
        cJSON_AddItemToObject(e, "measured", measured ? cJSON_CreateNumber(m) : cJSON_CreateNull());
        if (!measured)
            cJSON_AddStringToObject(e, "not_measured", why);
        bool ok = measured && cJSON_IsNumber(a) && predict_correct(q, a->valuedouble, m);
        if (measured && cJSON_IsNumber(a))
            cJSON_AddBoolToObject(e, "correct", ok);
        answered += cJSON_IsNumber(a);
        right += ok;
        if (quiet)
            continue;
        char shown[1200];
        printf("%d. ", i + 1);
        if (cJSON_IsNumber(a))
            printf("you said %g, ", a->valuedouble);
        else
            printf("no answer, ");
        if (measured)
            printf("measured %.4g: %s\n", m,
                   !cJSON_IsNumber(a) ? "-"
                   : ok               ? "right (within the tolerance)"
                                      : "not right");
        else {
            sim_escape(shown, sizeof shown, why);
            printf("not measured: %s\n", shown);
        }
        const char *explain = cJSON_GetStringValue(get(q, "explain"));
        if (explain && *explain) {
            sim_escape(shown, sizeof shown, explain);
            printf("   why: %s\n", shown);
        }
    }
    if (!quiet)
        printf("%d of %d right (%d answered); the report shows them too.\n", right, n, answered);
    cJSON_AddNumberToObject(out, "right", right);
    cJSON_AddNumberToObject(out, "questions_count", n);
    char *text = cJSON_Print(out);
    int rc = cli_write_file(dir, "predictions.json", text);
    cJSON_free(text);
    cJSON_Delete(out);
    cJSON_Delete(sum);
    return rc;
}

/* ---- dsim grade ---- */

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The answer to question i in an answer file: {"answers": [...]} or the
 * predictions.json of dsim run --predict. */
static const cJSON *answer_of(const cJSON *f, int i) {
    const cJSON *a = get(f, "answers");
    if (cJSON_IsArray(a))
        return cJSON_GetArrayItem(a, i);
    return get(cJSON_GetArrayItem(get(f, "questions"), i), "answer");
}

int predict_grade_cmd(int argc, char **argv) {
    if (argc != 2) {
        cli_print_error("grade needs RUN_DIR and ANSWERS_DIR (see dsim help grade)");
        return EXIT_BAD_INPUT;
    }
    const char *run = argv[0], *adir = argv[1];
    char err[1024];
    cJSON *sum = read_summary(run, err, sizeof err);
    if (!sum) {
        cli_print_error(err);
        return EXIT_BAD_INPUT;
    }
    const cJSON *qs = get(get(sum, "scenario"), "predict");
    int n = cJSON_GetArraySize(qs);
    if (n == 0) {
        cJSON_Delete(sum);
        cli_print_error("the run's scenario has no questions (\"predict\")");
        return EXIT_BAD_INPUT;
    }
    double *measured = sim_calloc((size_t)n, sizeof *measured);
    bool *have = sim_calloc((size_t)n, sizeof *have);
    for (int i = 0; i < n; i++) {
        char why[600];
        have[i] = predict_measure(run, sum, cJSON_GetArrayItem(qs, i), &measured[i], why,
                                  sizeof why) == 0;
        if (!have[i]) {
            char msg[800], shown[1700];
            snprintf(msg, sizeof msg, "question %d is not measured: %s", i + 1, why);
            sim_escape(shown, sizeof shown, msg);
            fprintf(stderr, "dsim: %s\n", shown);
        }
    }
    DIR *dp = opendir(adir);
    if (!dp) {
        char msg[600];
        snprintf(msg, sizeof msg, "%.500s is not a folder", adir);
        cli_print_error(msg);
        sim_free(measured);
        sim_free(have);
        cJSON_Delete(sum);
        return EXIT_BAD_INPUT;
    }
    char **names = NULL;
    size_t nn = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dp)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || de->d_name[0] == '.' || strcmp(de->d_name + len - 5, ".json") != 0 ||
            nn >= 100000)
            continue;
        if (nn == cap) {
            cap = cap ? 2 * cap : 64;
            names = sim_realloc(names, cap * sizeof *names);
        }
        names[nn] = sim_malloc(len + 1);
        memcpy(names[nn++], de->d_name, len + 1);
    }
    closedir(dp);
    qsort(names, nn, sizeof *names, name_cmp);
    cli_buf csvb = {0};
    cli_buf_printf(&csvb, "file,question,answer,measured,correct\n");
    size_t graded = 0;
    for (size_t k = 0; k < nn; k++) {
        char *path = sim_malloc(strlen(adir) + strlen(names[k]) + 2);
        sprintf(path, "%s/%s", adir, names[k]);
        struct stat st;
        size_t len;
        char why[512];
        char *text = lstat(path, &st) == 0 && S_ISREG(st.st_mode)
                         ? cli_read_file(path, PREDICT_MAX_FILE, &len, why, sizeof why)
                         : NULL;
        sim_free(path);
        cJSON *f = text ? cJSON_ParseWithLength(text, len) : NULL;
        sim_free(text);
        char shown[600], label[300];
        sim_escape(shown, sizeof shown, names[k]);
        plot_label(label, sizeof label, names[k]);
        if (!cJSON_IsObject(f)) {
            printf("%s: not an answer file (skipped)\n", shown);
            cJSON_Delete(f);
            continue;
        }
        int right = 0;
        printf("%s:", shown);
        for (int i = 0; i < n; i++) {
            const cJSON *a = answer_of(f, i);
            bool num = cJSON_IsNumber(a) && isfinite(a->valuedouble);
            bool ok = num && have[i] &&
                      predict_correct(cJSON_GetArrayItem(qs, i), a->valuedouble, measured[i]);
            right += ok;
            printf(" q%d %s", i + 1, !num ? "-" : !have[i] ? "?" : ok ? "right" : "wrong");
            cli_buf_printf(&csvb, "%s,%d,", label, i + 1);
            if (num)
                cli_buf_printf(&csvb, "%.9g", a->valuedouble);
            cli_buf_printf(&csvb, ",");
            if (have[i])
                cli_buf_printf(&csvb, "%.9g", measured[i]);
            cli_buf_printf(&csvb, ",%s\n", !num || !have[i] ? "" : ok ? "1" : "0");
        }
        printf(" (%d of %d right)\n", right, n);
        cJSON_Delete(f);
        graded++;
    }
    int rc = cli_write_file(adir, "grades.csv", csvb.s) == 0 ? 0 : EXIT_INTERNAL;
    if (rc == 0) {
        char msg[600], shown[1300];
        snprintf(msg, sizeof msg, "%.500s/grades.csv", adir);
        sim_escape(shown, sizeof shown, msg);
        printf("%zu answer file%s graded; every answer: %s\n", graded, graded == 1 ? "" : "s",
               shown);
    }
    sim_free(csvb.s);
    for (size_t k = 0; k < nn; k++)
        sim_free(names[k]);
    sim_free(names);
    sim_free(measured);
    sim_free(have);
    cJSON_Delete(sum);
    return rc;
}
