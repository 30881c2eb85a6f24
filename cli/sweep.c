/*
 * sweep.c - `dsim sweep`: a scenario over the cartesian product of varied
 * parameters, filtered by a constraint, each point run with K seeds.
 *
 * Invariants that make the results independent of how runs are spread:
 *   (1) A run is identified by (point, seed index); its seed depends on
 *       nothing else (seed0 + i, or seed0 + point * K + i with
 *       --independent-seeds), and it loads the scenario through sim_load
 *       exactly as `dsim run --seed S --set ...` would.
 *   (2) Each finished run is one file DIR/runs/run-P-I.json, written to a
 *       temporary name and renamed, so a file either holds a whole result
 *       or does not exist.  Resuming skips runs whose file is valid.
 *   (3) The tables are assembled only at the end, by one process, reading
 *       the run files in (point, seed) order; nothing a worker does decides
 *       an order.  Wall-clock figures never enter a run file.
 * So -j 1, -j N and MPI ranks write the same bytes (tests/test_sweep.py).
 *
 *   parse args -> load base (exit 2 on error) -> expand + --where
 *     -> load every point once (exit 2 on error, before any run)
 *     -> todo = runs without a valid file -> run (in process, forked
 *        workers, or MPI ranks) -> assemble runs.csv, points.csv,
 *        t_visibility.csv, sweep.json -> charts
 */
#include "cli_util.h"
#include "sweep_int.h"

#include "cfg.h"
#include "plot.h"
#include "registry.h"
#include "report.h"
#include "scenario.h"
#include "sweep_parse.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_BAD_INPUT = SWEEP_EXIT_BAD_INPUT, EXIT_INTERNAL = SWEEP_EXIT_INTERNAL };

#define MAX_VALUES 100000
#define MAX_RUNS   1000000

const char sweep_help[] =
    "usage: dsim sweep FILE --vary PATH=VALUES... [--set PATH=VALUE]... [--where EXPR]\n"
    "                  [--seeds K] [--seed S] [--independent-seeds] [-j N] [-o DIR]\n"
    "                  [--no-plot] [--quiet]\n"
    "\n"
    "Runs FILE at every combination of the varied values that satisfies EXPR,\n"
    "K times each with seeds S, S+1, ..., S+K-1 (the same seeds at every point:\n"
    "common random numbers), and writes DIR (default out/<name>-sweep/):\n"
    "  runs.csv         one row per (point, seed): varied values, every scalar metric\n"
    "  points.csv       one row per point: mean, sd and 95 % CI (Student t) per metric\n"
    "  t_visibility.csv per point, summed over seeds (when the model writes one)\n"
    "  sweep.json       the command, the resolved base scenario, the dsim version\n"
    "  runs/            one file per finished run: an interrupted sweep resumes\n"
    "\n"
    "VALUES: a list 1,2,3 or r1,r2; ranges 1..5, 1..9:2, 0.1..0.5:0.1,\n"
    "10ms..50ms:10ms; or a JSON list '[{\"type\":...}, ...]'.\n"
    "EXPR: arithmetic, comparisons, and/or/not, parentheses over varied and set\n"
    "names (kv.r, or just r) and full scenario paths: --where 'r + w > n'.\n"
    "\n"
    "options:\n"
    "  --vary PATH=VALUES   a parameter and its values (repeat for a grid)\n"
    "  --set PATH=VALUE     a fixed override, as in dsim run\n"
    "  --where EXPR         keep only the points where EXPR is true\n"
    "  --seeds K            runs per point (default 1)\n"
    "  --seed S             first seed (default: the scenario's)\n"
    "  --independent-seeds  every point gets its own seeds instead\n"
    "  -j, --jobs N         worker processes (default 1); results do not depend on N\n"
    "  -o, --out DIR        output folder\n"
    "  --no-plot            do not draw charts (also: DSIM_NO_PLOT=1)\n"
    "  --max-output CELLS, --max-memory BYTES, --max-work EVENTS\n"
    "                       each run's resource limits (see dsim help run)\n"
    "  --quiet              print nothing on success\n";

/* ---- Small helpers. ---- */

static int usage_error(const char *fmt, const char *arg) {
    char shown[600];
    sim_escape(shown, sizeof shown, arg);
    fprintf(stderr, "dsim: ");
    fprintf(stderr, fmt, shown);
    fprintf(stderr, "\n(see dsim help sweep)\n");
    return EXIT_BAD_INPUT;
}

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Loading. ---- */

/* The base --set assignments followed by the point's. Caller frees the
 * array and its last n_params strings. */
static const char **point_sets(const sweep *sw, size_t point) {
    const char **sets = sim_calloc((size_t)sw->n_sets + sw->n_params + 1, sizeof *sets);
    for (int i = 0; i < sw->n_sets; i++)
        sets[i] = sw->sets[i];
    for (size_t k = 0; k < sw->n_params; k++) {
        const char *v = sweep__point_value(sw, point, k);
        size_t len = strlen(sw->params[k].path) + strlen(v) + 2;
        char *a = sim_malloc(len);
        snprintf(a, len, "%s=%s", sw->params[k].path, v);
        sets[sw->n_sets + k] = a;
    }
    return sets;
}

static void point_sets_free(const sweep *sw, const char **sets) {
    for (size_t k = 0; k < sw->n_params; k++)
        sim_free((void *)sets[sw->n_sets + k]);
    sim_free(sets);
}

static sim *load_point(const sweep *sw, size_t point, uint64_t seed, cJSON **resolved, char *err,
                       size_t errlen) {
    const char **sets = point == SIZE_MAX ? NULL : point_sets(sw, point);
    sim_load_opts lo = {.file = sw->file,
                        .sets = sets ? sets : sw->sets,
                        .n_sets = sw->n_sets + (sets ? (int)sw->n_params : 0),
                        .has_seed = true,
                        .seed = seed,
                        .models = sim_models,
                        .budget = &sw->budget};
    sim *s = sim_load(&lo, resolved, err, errlen);
    if (sets)
        point_sets_free(sw, sets);
    return s;
}

/* Follows a dotted path ("kv.n", "faults[0].at") in the resolved base; a
 * bare name not at the top level is looked for in the model's object
 * ("n" is "kv.n" in a kv scenario). */
static const char *follow(const cJSON *j, const char *path, char *buf, size_t n);
static const char *base_lookup(void *arg, const char *path, char *buf, size_t n) {
    const cJSON *base = arg;
    const char *v = follow(base, path, buf, n);
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(base, "model"));
    if (!v && model && !strpbrk(path, ".["))
        v = follow(cJSON_GetObjectItemCaseSensitive(base, model), path, buf, n);
    return v;
}

static const char *follow(const cJSON *j, const char *path, char *buf, size_t n) {
    char seg[256];
    const char *p = path;
    while (*p && j) {
        size_t len = strcspn(p, ".[");
        if (len >= sizeof seg)
            return NULL;
        memcpy(seg, p, len);
        seg[len] = '\0';
        p += len;
        if (len)
            j = cJSON_GetObjectItemCaseSensitive(j, seg);
        while (j && *p == '[') {
            char *end;
            long i = strtol(p + 1, &end, 10);
            if (*end != ']' || i < 0)
                return NULL;
            j = cJSON_GetArrayItem(j, (int)i);
            p = end + 1;
        }
        if (*p == '.')
            p++;
    }
    if (!j)
        return NULL;
    if (cJSON_IsString(j))
        snprintf(buf, n, "%s", j->valuestring);
    else if (cJSON_IsNumber(j))
        sweep_fmt_num(j->valuedouble, buf, n);
    else if (cJSON_IsBool(j))
        snprintf(buf, n, "%s", cJSON_IsTrue(j) ? "true" : "false");
    else
        return NULL;
    return buf;
}

/* ---- Arguments. ---- */

static int parse_args(sweep *sw, int argc, char **argv) {
    sw->sets = sim_calloc((size_t)argc + 1, sizeof *sw->sets);
    sw->params = sim_calloc((size_t)argc + 1, sizeof *sw->params);
    sw->n_seeds = 1;
    sw->jobs = 1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(a, "--vary") == 0) {
            if (!has_next)
                return usage_error("%s needs PATH=VALUES", a);
            char err[1024];
            sweep_param *p = &sw->params[sw->n_params++];
            if (sweep_param_parse(argv[++i], MAX_VALUES, p, err, sizeof err) < 0) {
                cli_print_error(err);
                return EXIT_BAD_INPUT;
            }
            for (size_t k = 0; k + 1 < sw->n_params; k++)
                if (strcmp(sw->params[k].path, p->path) == 0)
                    return usage_error("--vary %s is given twice", p->path);
            /* The seed is the sweep's own axis (--seeds), and --seed wins
             * over --set seed=: varying it would run one seed everywhere. */
            if (strcmp(p->path, "seed") == 0)
                return usage_error("%s", "--vary seed: use --seeds K (and --seed S) for seeds");
        } else if (strcmp(a, "--set") == 0) {
            if (!has_next)
                return usage_error("%s needs PATH=VALUE", a);
            sw->sets[sw->n_sets++] = argv[++i];
        } else if (strcmp(a, "--where") == 0) {
            if (!has_next)
                return usage_error("%s needs an expression", a);
            sw->where = argv[++i];
        } else if (strcmp(a, "--seeds") == 0 || strcmp(a, "--seed") == 0 ||
                   strncmp(a, "-j", 2) == 0 || strcmp(a, "--jobs") == 0) {
            bool glued = strncmp(a, "-j", 2) == 0 && a[2]; /* -j2, as make takes it */
            if (!glued && !has_next)
                return usage_error("%s needs a number", a);
            const char *v = glued ? a + 2 : argv[++i];
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            bool bad = *v == '-' || *v == '\0' || *end || errno;
            if (strcmp(a, "--seed") == 0) {
                if (bad || n > (unsigned long long)SIM_MAX_SEED)
                    return usage_error("--seed %s: expected a whole number from 0 to "
                                       "999999999999999",
                                       v);
                sw->seed0 = n;
                sw->has_seed = true;
            } else if (strcmp(a, "--seeds") == 0) {
                if (bad || n < 1 || n > MAX_RUNS)
                    return usage_error("--seeds %s: expected a whole number from 1 to 1000000", v);
                sw->n_seeds = (size_t)n;
            } else {
                if (bad || n < 1 || n > 1024)
                    return usage_error("-j %s: expected a number of workers from 1 to 1024", v);
                sw->jobs = (int)n;
            }
        } else if (cli_is_budget_flag(a)) {
            if (!has_next)
                return usage_error("%s needs a limit (a number, or off)", a);
            if (cli_budget_flag(a, argv[++i], &sw->budget) < 0)
                return EXIT_BAD_INPUT;
        } else if (strcmp(a, "--independent-seeds") == 0) {
            sw->independent = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            if (!has_next)
                return usage_error("%s needs a folder", a);
            sw->out_opt = argv[++i];
        } else if (strcmp(a, "--no-plot") == 0) {
            sw->no_plot = true;
        } else if (strcmp(a, "--quiet") == 0) {
            sw->quiet = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option %s", a);
        } else if (!sw->file) {
            sw->file = a;
        } else {
            return usage_error("unexpected argument %s (one scenario file at a time)", a);
        }
    }
    if (!sw->file)
        return usage_error("%s", "a scenario file is required");
    if (sw->n_params == 0)
        return usage_error("%s", "nothing to sweep: give at least one --vary PATH=VALUES");
    return 0;
}

/* ---- Expansion. ---- */

static int expand(sweep *sw) {
    /* Names for --where: varied paths, then --set paths (the last
     * assignment to a path wins, as in the scenario). */
    sw->names = sim_calloc(sw->n_params + (size_t)sw->n_sets + 1, sizeof *sw->names);
    for (size_t k = 0; k < sw->n_params; k++)
        sw->names[sw->n_names++].path = sw->params[k].path;
    char **set_paths = sim_calloc((size_t)sw->n_sets + 1, sizeof *set_paths);
    int rc = 0;
    for (int i = 0; i < sw->n_sets && rc == 0; i++) {
        const char *eq = strchr(sw->sets[i], '=');
        if (!eq)
            continue;
        set_paths[i] = sim_malloc((size_t)(eq - sw->sets[i]) + 1);
        memcpy(set_paths[i], sw->sets[i], (size_t)(eq - sw->sets[i]));
        set_paths[i][eq - sw->sets[i]] = '\0';
        size_t k;
        for (k = 0; k < sw->n_names; k++)
            if (strcmp(sw->names[k].path, set_paths[i]) == 0)
                break;
        if (k < sw->n_params) {
            rc = usage_error("%s is both varied and set: drop one", sw->params[k].path);
            break;
        }
        if (k == sw->n_names)
            sw->names[sw->n_names++].path = set_paths[i];
        sw->names[k].value = eq + 1;
    }
    char err[1024];
    if (rc == 0 && sw->where) {
        sw->expr = sweep_expr_parse(sw->where, sw->names, sw->n_names, base_lookup, sw->base, err,
                                    sizeof err);
        if (!sw->expr) {
            cli_print_error(err);
            rc = EXIT_BAD_INPUT;
        }
    }
    size_t total = 1;
    for (size_t k = 0; k < sw->n_params && rc == 0; k++) {
        if (total > MAX_RUNS / sw->params[k].n) {
            fprintf(stderr, "dsim: the grid has more than %d points\n", MAX_RUNS);
            rc = EXIT_BAD_INPUT;
        }
        total *= sw->params[k].n;
    }
    size_t *idx = sim_calloc(sw->n_params, sizeof *idx);
    sw->combo = NULL;
    for (size_t c = 0; c < total && rc == 0; c++) {
        /* The last --vary changes fastest. */
        size_t r = c;
        for (size_t k = sw->n_params; k-- > 0;) {
            idx[k] = r % sw->params[k].n;
            r /= sw->params[k].n;
            sw->names[k].value = sw->params[k].values[idx[k]].text;
        }
        if (sw->expr) {
            double v;
            if (sweep_expr_eval(sw->expr, &v, err, sizeof err) < 0) {
                cli_print_error(err);
                rc = EXIT_BAD_INPUT;
                break;
            }
            if (v == 0)
                continue;
        }
        sw->combo = sim_realloc(sw->combo, (sw->n_points + 1) * sw->n_params * sizeof *sw->combo);
        memcpy(sw->combo + sw->n_points * sw->n_params, idx, sw->n_params * sizeof *idx);
        sw->n_points++;
    }
    sim_free(idx);
    /* The names keep pointing at set_paths for the whole sweep. */
    for (int i = 0; i < sw->n_sets; i++) {
        bool used = false;
        for (size_t k = sw->n_params; k < sw->n_names; k++)
            used |= sw->names[k].path == set_paths[i];
        if (!used)
            sim_free(set_paths[i]);
    }
    sim_free(set_paths);
    if (rc == 0 && sw->n_points == 0) {
        fprintf(stderr, "dsim: no point of the grid satisfies --where '%s'\n", sw->where);
        rc = EXIT_BAD_INPUT;
    }
    if (rc == 0 && sw->n_points > MAX_RUNS / sw->n_seeds) {
        fprintf(stderr, "dsim: %zu points x %zu seeds is more than %d runs\n", sw->n_points,
                sw->n_seeds, MAX_RUNS);
        rc = EXIT_BAD_INPUT;
    }
    sw->n_runs = sw->n_points * sw->n_seeds;
    if (rc == 0 && sw->seed0 + (uint64_t)sw->n_runs > (uint64_t)SIM_MAX_SEED + 1) {
        fprintf(stderr, "dsim: seeds from %llu overflow the largest seed 999999999999999\n",
                (unsigned long long)sw->seed0);
        rc = EXIT_BAD_INPUT;
    }
    return rc;
}

static void point_label(const sweep *sw, size_t point, char *buf, size_t n) {
    size_t k = 0;
    buf[0] = '\0';
    for (size_t p = 0; p < sw->n_params && k + 1 < n; p++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s=%s", p ? " " : "", sw->params[p].path,
                              sweep__point_value(sw, point, p));
}

/* Loads every point once, so that a bad value stops the sweep before any
 * run (each point, not just one: a value may be bad only with another). */
static int check_points(const sweep *sw) {
    for (size_t p = 0; p < sw->n_points; p++) {
        char err[2048];
        cJSON *res = NULL;
        sim *s = load_point(sw, p, sw->seed0, &res, err, sizeof err);
        if (!s) {
            char label[1024];
            point_label(sw, p, label, sizeof label);
            fprintf(stderr, "%s (sweep point %s)\n", err, label);
            return EXIT_BAD_INPUT;
        }
        cJSON_Delete(res);
        sim_destroy(s);
    }
    return 0;
}

/* ---- One run. ---- */

/* Adds every number under j to flat, named by its path below metrics. */
static void flatten(const cJSON *j, const char *prefix, cJSON *flat) {
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
        char name[512];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "", c->string);
        if (cJSON_IsObject(c))
            flatten(c, name, flat);
        else if (cJSON_IsNumber(c))
            cJSON_AddNumberToObject(flat, name, c->valuedouble);
        else if (cJSON_IsBool(c))
            cJSON_AddNumberToObject(flat, name, cJSON_IsTrue(c) ? 1 : 0);
        else if (cJSON_IsNull(c))
            cJSON_AddNullToObject(flat, name);
    }
}

/* Runs one (point, seed) and returns its record as JSON text (caller frees
 * with cJSON_free), or NULL when the scenario no longer loads. */
static char *run_one(const sweep *sw, size_t run) {
    char err[2048];
    cJSON *res = NULL;
    size_t point = sweep__run_point(sw, run);
    uint64_t seed = sweep__run_seed(sw, run);
    sim *s = load_point(sw, point, seed, &res, err, sizeof err);
    if (!s) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    cJSON_Delete(res);
    sim_run(s);
    char *human = NULL;
    sim__report_file *files = NULL;
    size_t n_files = 0;
    cJSON *metrics = sim__report_json(s, &human, &files, &n_files);
    cJSON *rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "point", (double)point);
    cJSON_AddNumberToObject(rec, "seed", (double)seed);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)sim_trace_hash(s));
    cJSON_AddStringToObject(rec, "trace_hash", hash);
    cJSON_AddNumberToObject(rec, "events", (double)s->events);
    cJSON *flat = cJSON_AddObjectToObject(rec, "metrics");
    flatten(metrics, "", flat);
    for (size_t i = 0; i < n_files; i++)
        if (strcmp(files[i].name, "t_visibility.csv") == 0)
            cJSON_AddStringToObject(rec, "t_visibility", files[i].text);
    char *text = cJSON_PrintUnformatted(rec);
    cJSON_Delete(rec);
    cJSON_Delete(metrics);
    sim_free(human);
    sim__report_files_free(files, n_files);
    sim_destroy(s);
    return text;
}

/* ---- Progress (stderr, only on a terminal). ---- */

typedef struct progress {
    bool on;
    size_t done, total, at_start;
    double t0, last;
} progress;

static void progress_show(progress *pg, bool final) {
    if (!pg->on)
        return;
    double now = wall_seconds();
    if (!final && now - pg->last < 0.1)
        return;
    pg->last = now;
    double el = now - pg->t0;
    size_t fresh = pg->done - pg->at_start;
    double rate = el > 0 ? (double)fresh / el : 0;
    double eta = rate > 0 ? (double)(pg->total - pg->done) / rate : 0;
    int width = 30,
        fill = pg->total ? (int)((double)width * (double)pg->done / (double)pg->total) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char left[32];
    if (eta >= 60)
        snprintf(left, sizeof left, "%.0fm%02.0fs", floor(eta / 60), fmod(floor(eta), 60));
    else
        snprintf(left, sizeof left, "%.0fs", eta);
    fprintf(stderr, "\r[%s] %zu/%zu runs, %.1f runs/s, ETA %s   ", bar, pg->done, pg->total, rate,
            left);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---- Executors. ---- */

static int run_in_process(const sweep *sw, const size_t *todo, size_t n, progress *pg) {
    for (size_t k = 0; k < n; k++) {
        char *text = run_one(sw, todo[k]);
        if (!text)
            return EXIT_INTERNAL;
        int rc = sweep__store_record(sw, todo[k], text);
        cJSON_free(text);
        if (rc < 0)
            return EXIT_INTERNAL;
        pg->done++;
        progress_show(pg, false);
    }
    return 0;
}

/* Worker w of jobs takes todo[k] for k % jobs == w: neighbouring runs (the
 * seeds of one point, similar in cost) go to different workers.  Each
 * finished run is reported to the parent by one byte on a pipe. */
static int run_forked(const sweep *sw, const size_t *todo, size_t n, int jobs, progress *pg) {
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "dsim: pipe: %s\n", strerror(errno));
        return EXIT_INTERNAL;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t *pids = sim_calloc((size_t)jobs, sizeof *pids);
    int started = 0, status = 0;
    for (int w = 0; w < jobs; w++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "dsim: fork: %s\n", strerror(errno));
            status = EXIT_INTERNAL;
            break;
        }
        if (pid == 0) {
            close(fds[0]);
            int rc = 0;
            for (size_t k = (size_t)w; k < n; k += (size_t)jobs) {
                char *text = run_one(sw, todo[k]);
                if (!text || sweep__store_record(sw, todo[k], text) < 0) {
                    rc = EXIT_INTERNAL;
                    cJSON_free(text);
                    break;
                }
                cJSON_free(text);
                char one = 1;
                if (write(fds[1], &one, 1) != 1) {
                    rc = EXIT_INTERNAL;
                    break;
                }
            }
            /* _exit: the parent's buffers and atexit handlers are not ours. */
            _exit(rc);
        }
        pids[started++] = pid;
    }
    close(fds[1]);
    char buf[256];
    ssize_t got;
    while ((got = read(fds[0], buf, sizeof buf)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        pg->done += (size_t)got;
        progress_show(pg, false);
    }
    close(fds[0]);
    for (int w = 0; w < started; w++) {
        int st;
        while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (WIFSIGNALED(st))
                fprintf(stderr, "dsim: sweep worker %d died of signal %d\n", w, WTERMSIG(st));
            status = EXIT_INTERNAL;
        }
    }
    sim_free(pids);
    return status;
}

/* Rank 0: stores a result received from another rank and counts it. */
static void take_result(const sweep *sw, size_t run, char *text, int *status, size_t *received,
                        progress *pg) {
    if (sweep__store_record(sw, run, text) < 0)
        *status = EXIT_INTERNAL;
    sim_free(text);
    (*received)++;
    pg->done++;
}

/* MPI: rank r runs todo[k] for k % size == r; rank 0 stores everything. */
static int run_distributed(const sweep *sw, const size_t *todo, size_t n, const sweep_dist *d,
                           progress *pg) {
    size_t expected = 0;
    for (size_t k = 0; k < n; k++)
        expected += (int)(k % (size_t)d->size) != 0;
    int status = 0;
    size_t received = 0;
    for (size_t k = (size_t)d->rank; k < n; k += (size_t)d->size) {
        char *text = run_one(sw, todo[k]);
        if (!text)
            return EXIT_INTERNAL; /* the scenario loaded at the start: cannot happen */
        if (d->rank != 0) {
            d->send_result(todo[k], text);
        } else {
            if (sweep__store_record(sw, todo[k], text) < 0)
                status = EXIT_INTERNAL;
            pg->done++;
        }
        cJSON_free(text);
        if (d->rank == 0) {
            size_t run;
            char *t;
            while (d->recv_result(false, &run, &t) == 1)
                take_result(sw, run, t, &status, &received, pg);
            progress_show(pg, false);
        }
    }
    if (d->rank == 0) {
        while (received < expected) {
            size_t run;
            char *t;
            if (d->recv_result(true, &run, &t) != 1)
                return EXIT_INTERNAL;
            take_result(sw, run, t, &status, &received, pg);
            progress_show(pg, false);
        }
    }
    return status;
}

/* ---- The command. ---- */

static void sweep_fini(sweep *sw) {
    for (size_t k = 0; k < sw->n_params; k++)
        sweep_param_fini(&sw->params[k]);
    for (size_t k = sw->n_params; k < sw->n_names; k++)
        sim_free((void *)sw->names[k].path);
    sim_free(sw->names);
    sim_free(sw->params);
    sim_free(sw->sets);
    sim_free(sw->combo);
    sweep_expr_free(sw->expr);
    cJSON_Delete(sw->base);
    sim_free(sw->name);
}

/* Rank 0 (or the only process): prepares DIR and lists the runs to do.
 * Returns 0 or an exit status. */
static int prepare(sweep *sw, size_t **todo, size_t *n_todo) {
    char runs[4200];
    snprintf(runs, sizeof runs, "%s/runs", sw->dir);
    if (cli_make_dirs(sw->dir) != 0) {
        fprintf(stderr, "dsim: cannot create the output folder %s: %s\n", sw->dir, strerror(errno));
        return EXIT_INTERNAL;
    }
    if (cli_own_dir(sw->dir, "runs") != 0)
        return EXIT_INTERNAL;
    /* runs/spec.json says which sweep the run files belong to. */
    cJSON *spec = sweep__spec_json(sw);
    char *text = cJSON_Print(spec);
    cJSON_Delete(spec);
    char path[4300];
    snprintf(path, sizeof path, "%s/spec.json", runs);
    char why[256];
    char *old = cli_read_file(path, 1u << 24, NULL, why, sizeof why);
    int rc = 0;
    if (old && strcmp(old, text) != 0) {
        fprintf(stderr,
                "dsim: %s holds runs of a different sweep (%s differs); choose another -o, "
                "or delete %s to start again\n",
                sw->dir, path, runs);
        rc = EXIT_BAD_INPUT;
    } else if (!old && cli_write_file(runs, "spec.json", text) != 0) {
        rc = EXIT_INTERNAL;
    }
    sim_free(old);
    cJSON_free(text);
    if (rc)
        return rc;
    /* Temporary files of runs interrupted while being written. */
    DIR *d = opendir(runs);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, ".run-", 5) == 0 && len > 4 &&
            strcmp(e->d_name + len - 4, ".tmp") == 0) {
            char tmp[4500];
            snprintf(tmp, sizeof tmp, "%s/%s", runs, e->d_name);
            remove(tmp);
        }
    }
    if (d)
        closedir(d);
    *todo = sim_calloc(sw->n_runs + 1, sizeof **todo);
    *n_todo = 0;
    for (size_t r = 0; r < sw->n_runs; r++) {
        cJSON *rec = sweep__read_record(sw, r);
        if (rec)
            cJSON_Delete(rec);
        else
            (*todo)[(*n_todo)++] = r;
    }
    return 0;
}

int sweep_cmd(int argc, char **argv, const sweep_dist *dist) {
    sweep sw = {.argc = argc, .argv = argv};
    bool root = !dist || dist->rank == 0;
    int rc = parse_args(&sw, argc, argv);
    if (rc == 0) {
        char err[2048];
        sim_load_opts lo = {.file = sw.file,
                            .sets = sw.sets,
                            .n_sets = sw.n_sets,
                            .has_seed = sw.has_seed,
                            .seed = sw.seed0,
                            .models = sim_models,
                            .budget = &sw.budget};
        sim *s = sim_load(&lo, &sw.base, err, sizeof err);
        if (!s) {
            fprintf(stderr, "%s\n", err);
            rc = EXIT_BAD_INPUT;
        } else {
            sw.seed0 = s->seed;
            sw.name = sim_strdup(s->name);
            sim_destroy(s);
        }
    }
    /* Under MPI every rank checks the same inputs and reaches the same
     * verdict; only rank 0 says what is wrong. */
    int saved_stderr = -1;
    if (!root) {
        fflush(stderr);
        saved_stderr = dup(2);
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            dup2(fileno(null), 2);
            fclose(null);
        }
    }
    if (rc == 0)
        rc = expand(&sw);
    if (rc == 0)
        rc = check_points(&sw);
    if (saved_stderr >= 0) {
        fflush(stderr);
        dup2(saved_stderr, 2);
        close(saved_stderr);
    }
    if (rc == 0) {
        if (sw.out_opt)
            snprintf(sw.dir, sizeof sw.dir, "%s", sw.out_opt);
        else
            snprintf(sw.dir, sizeof sw.dir, "out/%s-sweep", sw.name);
    }
    /* Every rank reaches this point with the same rc: the inputs and the
     * checks are the same everywhere. */
    size_t *todo = NULL, n_todo = 0;
    int checked = rc;
    if (rc == 0 && root)
        rc = prepare(&sw, &todo, &n_todo);
    if (dist && checked == 0) {
        if (root && rc)
            n_todo = SIZE_MAX;
        dist->bcast_todo(&todo, &n_todo, &rc);
        if (n_todo == SIZE_MAX) {
            sim_free(todo);
            todo = NULL;
            n_todo = 0;
        }
    }
    double t0 = wall_seconds();
    progress pg = {.on = root && !sw.quiet && isatty(2),
                   .total = sw.n_runs,
                   .done = sw.n_runs - n_todo,
                   .at_start = sw.n_runs - n_todo,
                   .t0 = t0};
    if (rc == 0) {
        if (dist)
            rc = run_distributed(&sw, todo, n_todo, dist, &pg);
        else if (sw.jobs > 1 && n_todo > 1)
            rc = run_forked(&sw, todo, n_todo, sw.jobs, &pg);
        else
            rc = run_in_process(&sw, todo, n_todo, &pg);
        progress_show(&pg, true);
    }
    sim_free(todo);
    if (rc == 0 && root)
        rc = sweep__assemble(&sw);
    double wall = wall_seconds() - t0;
    if (rc == 0 && root && !sw.quiet) {
        printf("dsim %s: sweep of %s: %zu points x %zu seeds = %zu runs (%zu run now, %zu "
               "resumed) in %.2f s, %d %s\n",
               DSIM_VERSION, sw.name, sw.n_points, sw.n_seeds, sw.n_runs, n_todo,
               sw.n_runs - n_todo, wall, dist ? dist->size : sw.jobs,
               dist ? "MPI ranks" : (sw.jobs > 1 ? "workers" : "process"));
        char tv[4300];
        snprintf(tv, sizeof tv, "%s/t_visibility.csv", sw.dir);
        struct stat st;
        printf("results: %s/ (runs.csv, points.csv%s, sweep.json)\n", sw.dir,
               stat(tv, &st) == 0 ? ", t_visibility.csv" : "");
    }
    if (rc == 0 && root && !sw.no_plot)
        plot_auto(sw.dir, sw.quiet);
    if (rc == 0 && root)
        report_auto(sw.dir, sw.quiet);
    sweep_fini(&sw);
    return rc;
}
