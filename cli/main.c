/*
 * main.c - the `dsim` command: the one place that knows both the kernel and
 * the models, and the only place that prints errors and chooses exit codes
 * (0 success, 2 bad input or usage, 1 internal failure).
 *
 * It also measures wall time and peak memory for the engine footer: the
 * kernel itself never reads a clock.
 */
#include "cfg.h"
#include "cli_util.h"
#include "metrics.h"
#include "plot.h"
#include "predict.h"
#include "registry.h"
#include "report.h"
#include "scenario.h"
#include "sweep.h"
#ifdef DSIM_MPI
#include "sweep_mpi.h" /* dsim-mpi: the same command, whose sweeps use MPI ranks */
#endif

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_BAD_INPUT = 2, EXIT_INTERNAL = 1 };

static const char usage_text[] =
    "usage: dsim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run FILE       run a scenario and write its results\n"
    "  validate FILE  check a scenario and print it with every default filled in\n"
    "  sweep FILE     run a scenario over a grid of values and seeds\n"
    "  plot DIR       draw the charts of a run's or a sweep's folder (gnuplot)\n"
    "  report DIR     write DIR/report.html, the run's page for a browser\n"
    "  grade RUN DIR  grade a folder of answers to a scenario's questions\n"
    "  models         list the models\n"
    "  help [COMMAND] show help\n"
    "\n"
    "dsim --version prints the version.  See README.md and docs/.\n";

static const char run_help[] =
    "usage: dsim run FILE [-o DIR] [--seed N] [--set PATH=VALUE]... [--trace] [--quiet]\n"
    "                [--no-plot] [--predict] [--max-output CELLS] [--max-memory BYTES]\n"
    "                [--max-work EVENTS]\n"
    "\n"
    "Runs the scenario FILE and writes DIR (default out/<scenario name>/):\n"
    "  summary.json     resolved scenario, seed, trace_hash, engine stats, every metric\n"
    "  timeseries.csv   counters and gauges sampled every metrics.interval\n"
    "  histograms.csv   the non-empty buckets of every histogram\n"
    "  trace.jsonl      every dispatched event (with --trace)\n"
    "\n"
    "options:\n"
    "  -o, --out DIR       output folder\n"
    "  --seed N            use seed N instead of the scenario's (0 to 10^15-1)\n"
    "  --set PATH=VALUE    override a scenario key, e.g. --set network.loss=0.01\n"
    "                      or --set faults[0].at=5s; VALUE is typed by the key\n"
    "  --trace             also write trace.jsonl\n"
    "  --quiet             print nothing on success\n"
    "  --no-plot           do not draw charts (also: DSIM_NO_PLOT=1); charts are\n"
    "                      drawn when gnuplot is on the PATH (see dsim help plot)\n"
    "  --predict           ask the scenario's questions (\"predict\") on the terminal\n"
    "                      first, grade the answers after (DIR/predictions.json)\n"
    "resource limits (checked before the run; exit 2 with the key to change):\n"
    "  --max-output CELLS  time-series cells (rows x columns), default 5e7\n"
    "  --max-memory BYTES  estimated memory, default 1GiB (e.g. 8GiB)\n"
    "  --max-work EVENTS   estimated events of the run, default 3e8\n"
    "                      each takes a number, or off\n"
    "A run that takes more than 2 s shows its progress on a terminal.  Ctrl-C stops\n"
    "it after the current event: the results so far are written, summary.json says\n"
    "\"incomplete\", and the exit status is 130 (a second Ctrl-C ends dsim at once).\n";

static const char validate_help[] =
    "usage: dsim validate FILE [--seed N] [--set PATH=VALUE]... [--max-output CELLS]\n"
    "                [--max-memory BYTES] [--max-work EVENTS]\n"
    "\n"
    "Checks FILE and prints the fully resolved scenario (every default filled in)\n"
    "as JSON, and on stderr what the run will cost: time-series cells, memory and\n"
    "events, each against its limit (see dsim help run).  Exit status 0 if valid,\n"
    "2 with one error naming the JSON path if not (or if an estimate is over its limit).\n";

static const char models_help[] = "usage: dsim models\n\nLists the models with a one-line "
                                  "summary each.  A scenario chooses one with \"model\".\n";

static int usage_error(const char *fmt, const char *arg) {
    char shown[600];
    sim_escape(shown, sizeof shown, arg);
    fprintf(stderr, "dsim: ");
    fprintf(stderr, fmt, shown);
    fprintf(stderr, "\n(see dsim help)\n");
    return EXIT_BAD_INPUT;
}

typedef struct run_opts {
    const char *file;
    const char *out_dir;
    const char **sets;
    int n_sets;
    bool has_seed;
    uint64_t seed;
    bool trace;
    bool quiet;
    bool no_plot;
    sim_budget budget;
} run_opts;

static int parse_args(int argc, char **argv, run_opts *o, bool is_run) {
    memset(o, 0, sizeof *o);
    o->sets = calloc((size_t)argc, sizeof *o->sets);
    if (!o->sets)
        return EXIT_INTERNAL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (strcmp(a, "--set") == 0) {
            if (!has_next)
                return usage_error("%s needs PATH=VALUE", a);
            o->sets[o->n_sets++] = argv[++i];
        } else if (strncmp(a, "--set=", 6) == 0) {
            o->sets[o->n_sets++] = a + 6;
        } else if (strcmp(a, "--seed") == 0) {
            if (!has_next)
                return usage_error("%s needs a number", a);
            const char *v = argv[++i];
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (*v == '-' || *v == '\0' || *end || errno || n > (unsigned long long)SIM_MAX_SEED)
                return usage_error("--seed %s: expected a whole number from 0 to 999999999999999",
                                   v);
            o->has_seed = true;
            o->seed = n;
        } else if (cli_is_budget_flag(a)) {
            if (!has_next)
                return usage_error("%s needs a limit (a number, or off)", a);
            if (cli_budget_flag(a, argv[++i], &o->budget) < 0)
                return EXIT_BAD_INPUT;
        } else if (is_run && (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0)) {
            if (!has_next)
                return usage_error("%s needs a folder", a);
            o->out_dir = argv[++i];
        } else if (is_run && strcmp(a, "--trace") == 0) {
            o->trace = true;
        } else if (is_run && strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else if (is_run && strcmp(a, "--no-plot") == 0) {
            o->no_plot = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option %s", a);
        } else if (!o->file) {
            o->file = a;
        } else {
            return usage_error("unexpected argument %s (one scenario file at a time)", a);
        }
    }
    if (!o->file)
        return usage_error("%s", "a scenario file is required");
    return 0;
}

static sim *load(const run_opts *o, cJSON **resolved) {
    sim_load_opts lo = {.file = o->file,
                        .sets = o->sets,
                        .n_sets = o->n_sets,
                        .has_seed = o->has_seed,
                        .seed = o->seed,
                        .models = sim_models,
                        .budget = &o->budget};
    char err[2048];
    sim *s = sim_load(&lo, resolved, err, sizeof err);
    if (!s)
        fprintf(stderr, "%s\n", err);
    return s;
}

/* Parses the arguments of `run` (for_run) or `validate` and loads the
 * scenario; returns 0 with *s and *resolved set, or the exit status. */
static int parse_and_load(int argc, char **argv, bool for_run, run_opts *o, sim **s,
                          cJSON **resolved) {
    int rc = parse_args(argc, argv, o, for_run);
    if (rc) {
        free(o->sets);
        return rc;
    }
    *resolved = NULL;
    *s = load(o, resolved);
    free(o->sets);
    o->sets = NULL;
    return *s ? 0 : EXIT_BAD_INPUT;
}

static int cmd_validate(int argc, char **argv) {
    run_opts o;
    sim *s;
    cJSON *resolved;
    int rc = parse_and_load(argc, argv, false, &o, &s, &resolved);
    if (rc)
        return rc;
    char *text = cJSON_Print(resolved);
    printf("%s\n", text);
    cJSON_free(text);
    /* What the run will cost, against the limits (stderr: stdout stays the
     * resolved scenario, for tools). */
    sim_estimate est;
    sim_estimate_run(s, &est);
    sim_estimate_print(stderr, &est, &o.budget);
    cJSON_Delete(resolved);
    sim_destroy(s);
    return 0;
}

/* Simulated time for people: "17.002 s", "250 ms", "80 us". */
static const char *human_time(sim_time t, char *buf, size_t n) {
    if (t >= SIM_S)
        snprintf(buf, n, "%.3f s", sim_time_to_s(t));
    else if (t >= SIM_MS)
        snprintf(buf, n, "%.3f ms", (double)t / 1e6);
    else
        snprintf(buf, n, "%.3f us", (double)t / 1e3);
    return buf;
}

static double wall_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- Progress and Ctrl-C during a run. ---- */

static volatile sig_atomic_t got_sigint;

/* The first Ctrl-C asks the run to stop after the current event, with its
 * results written and marked incomplete; a second one ends dsim at once. */
static void on_sigint(int sig) {
    got_sigint = 1;
    signal(sig, SIG_DFL);
}

typedef struct run_progress {
    double t0, last;
    bool tty, shown;
} run_progress;

/* The kernel's check (sim__set_check): a progress line on a terminal once
 * the run has taken 2 s, and the stop on Ctrl-C.  Reads only. */
static bool run_check(sim *s, void *arg) {
    run_progress *p = arg;
    if (got_sigint)
        return true;
    if (!p->tty)
        return false;
    double now = wall_seconds();
    if (now - p->t0 < 2 || now - p->last < 0.25)
        return false;
    p->last = now;
    p->shown = true;
    double frac = s->duration > 0 ? (double)s->now / (double)s->duration : 0;
    double eps = (double)s->events / (now - p->t0);
    char left[32] = "";
    if (frac > 0.001)
        snprintf(left, sizeof left, ", about %.0f s left", (now - p->t0) * (1 - frac) / frac);
    fprintf(stderr, "\rdsim: %.3f s of %.3f s simulated (%.0f %%), %.2f M events/s%s   ",
            sim_time_to_s(s->now), sim_time_to_s(s->duration), 100 * frac, eps / 1e6, left);
    return false;
}

static int cmd_run(int argc, char **argv) {
    run_opts o;
    sim *s;
    cJSON *resolved;
    bool predict = predict_take_flag(&argc, argv);
    int rc = parse_and_load(argc, argv, true, &o, &s, &resolved);
    if (rc)
        return rc;

    char dir[4096];
    if (o.out_dir)
        snprintf(dir, sizeof dir, "%s", o.out_dir);
    else
        snprintf(dir, sizeof dir, "out/%s", s->name);
    if (cli_make_dirs(dir) != 0) {
        int e = errno;
        fprintf(stderr, "dsim: cannot create the output folder %s: %s\n", dir,
                e == EEXIST || e == ENOTDIR ? "a file of that name is in the way" : strerror(e));
        cJSON_Delete(resolved);
        sim_destroy(s);
        return EXIT_INTERNAL;
    }
    if (o.trace) {
        s->trace = cli_open_stream(dir, "trace.jsonl", false);
        if (!s->trace) {
            cJSON_Delete(resolved);
            sim_destroy(s);
            return EXIT_INTERNAL;
        }
    }

    cJSON *answers = predict ? predict_ask(resolved, stdin, stdout) : NULL;
    if (predict && !answers)
        fprintf(stderr, "dsim: the scenario has no questions (\"predict\"): nothing to ask\n");
    double t0 = wall_seconds();
    run_progress prog = {.t0 = t0, .tty = !o.quiet && isatty(2)};
    sim__set_check(s, 1u << 16, run_check, &prog);
    struct sigaction sa = {.sa_handler = on_sigint}, old_sa;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
    sim_run(s);
    sigaction(SIGINT, &old_sa, NULL);
    if (prog.shown)
        fprintf(stderr, "\r%*s\r", 100, "");
    double wall = wall_seconds() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long long rss = (long long)ru.ru_maxrss * 1024;

    char *human = NULL;
    sim__report_file *files = NULL;
    size_t n_files = 0;
    cJSON *metrics = sim__report_json(s, &human, &files, &n_files);
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)sim_trace_hash(s));

    cJSON *sum = cJSON_CreateObject();
    cJSON_AddStringToObject(sum, "dsim_version", DSIM_VERSION);
    cJSON_AddNumberToObject(sum, "seed", (double)s->seed);
    cJSON_AddStringToObject(sum, "trace_hash", hash);
    char tbuf[40];
    cJSON_AddStringToObject(sum, "end_time", sim_time_format(s->now, tbuf, sizeof tbuf));
    /* A run stopped by Ctrl-C: its figures cover 0 .. end_time only. */
    if (s->interrupted)
        cJSON_AddStringToObject(sum, "incomplete", "interrupted (Ctrl-C) at end_time");
    cJSON_AddItemToObject(sum, "scenario", resolved);
    cJSON *eng = cJSON_CreateObject();
    cJSON_AddNumberToObject(eng, "events", (double)s->events);
    cJSON_AddNumberToObject(eng, "wall_s", wall);
    double eps = wall > 0 ? (double)s->events / wall : 0;
    cJSON_AddNumberToObject(eng, "events_per_s", eps);
    cJSON_AddNumberToObject(eng, "peak_rss_bytes", (double)rss);
    cJSON_AddItemToObject(sum, "engine", eng);
    cJSON_AddItemToObject(sum, "metrics", metrics);

    int status = 0;
    char *text = cJSON_Print(sum);
    cli_out *f;
    if ((f = cli_out_open(dir, "summary.json")) != NULL) {
        fprintf(f->f, "%s\n", text);
        if (cli_out_close(f) != 0)
            status = EXIT_INTERNAL;
    } else {
        status = EXIT_INTERNAL;
    }
    cJSON_free(text);
    if ((f = cli_out_open(dir, "timeseries.csv")) != NULL) {
        sim_metrics_write_timeseries_csv(s->metrics, f->f);
        if (cli_out_close(f) != 0)
            status = EXIT_INTERNAL;
    } else {
        status = EXIT_INTERNAL;
    }
    if ((f = cli_out_open(dir, "histograms.csv")) != NULL) {
        sim_metrics_write_histograms_csv(s->metrics, f->f);
        if (cli_out_close(f) != 0)
            status = EXIT_INTERNAL;
    } else {
        status = EXIT_INTERNAL;
    }
    for (size_t i = 0; i < n_files; i++)
        if (cli_write_file(dir, files[i].name, files[i].text) != 0)
            status = EXIT_INTERNAL;

    if (!o.quiet && status == 0) {
        char dbuf[40];
        printf("dsim %s: %s (model %s), seed %llu, %s simulated\n", DSIM_VERSION, s->name,
               s->model->name, (unsigned long long)s->seed, human_time(s->now, dbuf, sizeof dbuf));
        if (human)
            fputs(human, stdout);
        printf("results: %s/ (summary.json, timeseries.csv, histograms.csv", dir);
        for (size_t i = 0; i < n_files; i++)
            printf(", %s", files[i].name);
        printf("%s)\n", o.trace ? ", trace.jsonl" : "");
        printf("engine: %llu events in %.3f s (%.0f events/s), peak RSS %.1f MiB, "
               "trace_hash %s\n",
               (unsigned long long)s->events, wall, eps, (double)rss / (1024.0 * 1024.0), hash);
    }
    sim_free(human);
    sim__report_files_free(files, n_files);
    cJSON_Delete(sum);
    bool interrupted = s->interrupted;
    sim_destroy(s);
    if (interrupted) {
        fprintf(stderr,
                "dsim: interrupted at %s simulated: the results in %s cover the run until "
                "then (summary.json says \"incomplete\")\n",
                tbuf, dir);
        cJSON_Delete(answers);
        return status ? status : 130;
    }
    if (status == 0 && !o.no_plot)
        plot_auto(dir, o.quiet);
    if (status == 0 && answers)
        predict_grade_run(dir, answers, o.quiet);
    cJSON_Delete(answers);
    if (status == 0)
        report_auto(dir, o.quiet);
    return status;
}

static int cmd_models(void) {
    for (size_t i = 0; sim_models[i]; i++)
        printf("%-10s %s\n", sim_models[i]->name, sim_models[i]->summary);
    return 0;
}

static int cmd_help(int argc, char **argv) {
    if (argc == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[0], "run") == 0)
        fputs(run_help, stdout);
    else if (strcmp(argv[0], "validate") == 0)
        fputs(validate_help, stdout);
    else if (strcmp(argv[0], "models") == 0)
        fputs(models_help, stdout);
    else if (strcmp(argv[0], "sweep") == 0)
        fputs(sweep_help, stdout);
    else if (strcmp(argv[0], "plot") == 0)
        fputs(plot_help, stdout);
    else if (strcmp(argv[0], "report") == 0)
        fputs(report_help, stdout);
    else if (strcmp(argv[0], "grade") == 0)
        fputs(grade_help, stdout);
    else if (strcmp(argv[0], "help") == 0)
        fputs(usage_text, stdout);
    else
        return usage_error("no help for unknown command '%s'", argv[0]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("dsim %s\n", DSIM_VERSION);
        return 0;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0)
        return cmd_help(0, NULL);
    if (strcmp(cmd, "help") == 0)
        return cmd_help(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 2, argv + 2);
    if (strcmp(cmd, "models") == 0)
        return cmd_models();
#ifdef DSIM_MPI
    if (strcmp(cmd, "sweep") == 0)
        return sweep_mpi_cmd(argc - 2, argv + 2, &argc, &argv);
#endif
    if (strcmp(cmd, "sweep") == 0)
        return sweep_cmd(argc - 2, argv + 2, NULL);
    if (strcmp(cmd, "plot") == 0)
        return plot_cmd(argc - 2, argv + 2);
    if (strcmp(cmd, "report") == 0)
        return report_cmd(argc - 2, argv + 2);
    if (strcmp(cmd, "grade") == 0)
        return predict_grade_cmd(argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
