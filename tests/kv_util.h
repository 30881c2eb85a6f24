/*
 * kv_util.h - helpers shared by the kv model's tests: load a kv scenario
 * from text, check a proportion against its exact value.  Reading the
 * report is report_util.h's.
 */
#ifndef DSIM_KV_UTIL_H
#define DSIM_KV_UTIL_H

#include "kv/kv.h"
#include "report_util.h"

#include <math.h>

static const sim_model *const kv_models[] = {&kv_model, NULL};

static inline sim *kv_load(const char *text) { return load_text_ok(text, kv_models, NULL, 0); }

static inline const char *kv_error(const char *text) {
    static char err[2048];
    err[0] = '\0';
    load_text_refused(text, kv_models, err, sizeof err);
    char *p = strstr(err, ": $");
    return p ? p + 2 : err;
}

static inline kv_shared *kv_of(sim *s) { return s->shared; }

static inline void assert_prop(double got, double want, double n, double z, const char *what) {
    double se = sqrt(want * (1 - want) / n);
    ck_assert_msg(fabs(got - want) <= z * se + 1e-12, "%s: %.5f, expected %.5f +- %.5f (n = %.0f)",
                  what, got, want, z * se, n);
}

#endif
