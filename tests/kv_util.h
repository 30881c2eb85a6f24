/*
 * kv_util.h - helpers shared by the kv model's tests: load a scenario from
 * text, run it and read the model's report, check a proportion against its
 * exact value.
 */
#ifndef DSIM_KV_UTIL_H
#define DSIM_KV_UTIL_H

#include "engine_probe.h"
#include "kv/kv.h"

#include <math.h>

static const sim_model *const kv_models[] = {&kv_model, NULL};

static inline sim *kv_load(const char *text) {
    char err[2048] = "";
    sim *s = load_text_opts(text, kv_models, NULL, 0, err, sizeof err);
    ck_assert_msg(s != NULL, "%s", err);
    return s;
}

static inline const char *kv_error(const char *text) {
    static char err[2048];
    err[0] = '\0';
    sim *s = load_text_opts(text, kv_models, NULL, 0, err, sizeof err);
    ck_assert_ptr_null(s);
    char *p = strstr(err, ": $");
    return p ? p + 2 : err;
}

static inline kv_shared *kv_of(sim *s) { return s->shared; }

/* Runs and returns the model's report object (caller deletes *root). */
static inline cJSON *kv_report_of(sim *s, cJSON **root) {
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

static inline double num(cJSON *o, const char *key) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

static inline void assert_prop(double got, double want, double n, double z, const char *what) {
    double se = sqrt(want * (1 - want) / n);
    ck_assert_msg(fabs(got - want) <= z * se + 1e-12, "%s: %.5f, expected %.5f +- %.5f (n = %.0f)",
                  what, got, want, z * se, n);
}

#endif
