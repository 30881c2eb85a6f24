/*
 * web_util.h - what the web model's test files share: the model list and
 * running a scenario given as JSON text or as a printf format.
 */
#ifndef DSIM_TEST_WEB_UTIL_H
#define DSIM_TEST_WEB_UTIL_H

#include "check_util.h"
#include "report_util.h"
#include "web/web_int.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>

static const sim_model *const web_models[] = {&web_model, NULL};

static inline run run_text(const char *text) {
    return run_sim(load_text_ok(text, web_models, NULL, 0));
}

/* Formats a scenario (printf) and runs it. */
static inline run run_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline run run_fmt(const char *fmt, ...) {
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ck_assert_int_lt(n, (int)sizeof text);
    return run_text(text);
}

#endif
