/*
 * report_util.h - helpers shared by the tests that load scenarios: load one
 * from JSON text (through a temporary file and the kernel's loader, the
 * path a user's scenario takes) or from a file, and read the model's
 * report after a run.
 */
#ifndef DSIM_REPORT_UTIL_H
#define DSIM_REPORT_UTIL_H

#include "check_util.h"
#include "scenario.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a temporary file and returns its path (static buffer). */
static inline const char *temp_scenario(const char *text) {
    static char path[64];
    snprintf(path, sizeof path, "/tmp/dsim-test-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(text);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* Loads the scenario file at path with --set overrides; on error stores the
 * message in err and returns NULL. */
static inline sim *load_path_opts(const char *path, const sim_model *const *models,
                                  const char **sets, int n_sets, char *err, size_t errlen) {
    sim_load_opts o = {.file = path, .sets = sets, .n_sets = n_sets, .models = models};
    cJSON *resolved = NULL;
    sim *s = sim_load(&o, &resolved, err, errlen);
    cJSON_Delete(resolved);
    return s;
}

/* Loads a scenario given as text; on error stores the message in err
 * (if not NULL) and returns NULL. */
static inline sim *load_text_opts(const char *text, const sim_model *const *models,
                                  const char **sets, int n_sets, char *err, size_t errlen) {
    const char *path = temp_scenario(text);
    char buf[2048];
    sim *s = load_path_opts(path, models, sets, n_sets, err ? err : buf, err ? errlen : sizeof buf);
    unlink(path);
    return s;
}

/* Loads a scenario given as text with --set overrides; fails the test with
 * the loader's message on an error. */
static inline sim *load_text_ok(const char *text, const sim_model *const *models, const char **sets,
                                int n_sets) {
    char err[2048] = "";
    sim *s = load_text_opts(text, models, sets, n_sets, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

/* The same for a scenario file. */
static inline sim *load_path_ok(const char *path, const sim_model *const *models, const char **sets,
                                int n_sets) {
    char err[2048] = "";
    sim *s = load_path_opts(path, models, sets, n_sets, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

/* Loads a scenario that must be refused; stores the message in err. */
static inline void load_text_refused(const char *text, const sim_model *const *models, char *err,
                                     size_t errlen) {
    sim *s = load_text_opts(text, models, NULL, 0, err, errlen);
    ck_assert_ptr_null(s);
}

/* The report of a finished run: returns its "model" object, *root the whole
 * report (caller deletes *root). */
static inline cJSON *report_model(sim *s, cJSON **root) {
    char *human = NULL;
    sim__report_file *files = NULL;
    size_t n_files = 0;
    *root = sim__report_json(s, &human, &files, &n_files);
    sim_free(human);
    sim__report_files_free(files, n_files);
    cJSON *m = cJSON_GetObjectItemCaseSensitive(*root, "model");
    ck_assert_ptr_nonnull(m);
    return m;
}

/* A finished run and its report: run_sim runs s (takes ownership) and
 * reads the report; run_free destroys both. */
typedef struct run {
    sim *s;
    cJSON *root, *m;
} run;

static inline run run_sim(sim *s) {
    run r = {.s = s};
    sim_run(r.s);
    r.m = report_model(r.s, &r.root);
    return r;
}

static inline void run_free(run *r) {
    cJSON_Delete(r->root);
    sim_destroy(r->s);
}

/* A number of the report's model object; fails the test if there is none. */
static inline double num(cJSON *model, const char *key) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(model, key);
    ck_assert_msg(cJSON_IsNumber(v), "report has no number %s", key);
    return v->valuedouble;
}

#endif
