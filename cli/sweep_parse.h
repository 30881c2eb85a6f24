/*
 * sweep_parse.h - the two small languages of `dsim sweep`: value lists for
 * --vary and the --where constraint.
 *
 * A --vary argument is PATH=SPEC.  SPEC is a comma-separated list of items;
 * an item is a value as --set takes it (3, 0.5, 10ms, random) or a range
 * A..B with an optional step, A..B:STEP.  Integer ranges step by 1 unless
 * told; real and duration ranges need a step.  A SPEC starting with '[' is
 * a JSON list whose elements are taken whole (objects included), for values
 * that contain commas.
 *
 * A --where expression is arithmetic (+ - * / %, unary -), comparisons
 * (< <= > >= == !=), and/or/not (also && || !) and parentheses over numbers,
 * durations (10ms, in seconds) and names.  A name is a varied or --set path
 * (kv.r) or, when unambiguous, its last segment (r); any other path of the
 * resolved base scenario may be named in full (kv.n, faults[0].at), and a
 * key of the model's object by itself (n for kv.n).  Durations are
 * compared in seconds, booleans as 1 and 0; true is any non-zero value.
 *
 * Errors: every parser returns 0, or -1 with one message in err naming what
 * is wrong; nothing aborts on bad input.
 */
#ifndef DSIM_SWEEP_PARSE_H
#define DSIM_SWEEP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* One value of a varied parameter: the text given to --set, and its number
 * for --where (durations in seconds; NaN when it is not a number). */
typedef struct sweep_value {
    char *text;
    double num;
} sweep_value;

typedef struct sweep_param {
    char *path; /* the scenario key, "kv.r" */
    size_t n;
    sweep_value *values;
} sweep_param;

/* Parses "PATH=SPEC" into p (caller storage; free with sweep_param_fini).
 * At most max_values values. */
int sweep_param_parse(const char *arg, size_t max_values, sweep_param *p, char *err, size_t errlen);
void sweep_param_fini(sweep_param *p);

/* The number a value text stands for in --where: a JSON number, a
 * duration in seconds, true/false as 1/0; NaN otherwise. */
double sweep_value_number(const char *text);

/* A named value an expression may refer to. */
typedef struct sweep_name {
    const char *path;  /* full path, "kv.r" */
    const char *value; /* its text for this point (may change between evaluations) */
} sweep_name;

/* Looks a full dotted path up in the base scenario; returns the value's
 * text in buf or NULL when the path does not exist there. */
typedef const char *(*sweep_lookup_fn)(void *arg, const char *path, char *buf, size_t n);

typedef struct sweep_expr sweep_expr;

/* Parses text.  Names are resolved against names[0..n_names) (by full path,
 * or by last segment when that is unique), then through lookup (full paths
 * only; a value fixed for the whole sweep).  The expression keeps pointers
 * into names: evaluate after updating names[i].value.  Caller owns the
 * result (sweep_expr_free). */
sweep_expr *sweep_expr_parse(const char *text, const sweep_name *names, size_t n_names,
                             sweep_lookup_fn lookup, void *lookup_arg, char *err, size_t errlen);
/* Evaluates to *out (0 or 1 for comparisons).  Returns -1 with a message
 * when a name's value is not a number. */
int sweep_expr_eval(const sweep_expr *e, double *out, char *err, size_t errlen);
void sweep_expr_free(sweep_expr *e);

#endif
