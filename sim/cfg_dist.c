/*
 * cfg_dist.c - reading a distribution from the scenario (sim_cfg_dist): a
 * number or duration (a constant), or an object with a "type" among
 * constant, uniform, exponential, normal, lognormal, pareto, weibull,
 * empirical and mixture, each with its parameters checked and the resolved
 * form written back with its defaults.  Sits on the typed reader of cfg.c
 * (cfg_int.h); dist.c draws from what this file builds.
 */
#include "cfg_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const dist_types[] = {"constant",  "uniform", "exponential", "normal",
                                         "lognormal", "pareto",  "weibull",     "empirical",
                                         "mixture",   NULL};

/* Reads one value of the distribution's unit at key (required). */
static int dist_value(sim_cfg *c, const char *key, sim_dist_unit unit, bool required, double def,
                      double *out) {
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    if (!v) {
        if (required)
            return cfg__fail_required(c, key, "is required");
        *out = def;
    } else if (unit == SIM_UNIT_TIME) {
        sim_time t;
        if (sim__cfg_parse_time(c, v, seg, 0, SIM_TIME_MAX, &t) < 0)
            return -1;
        *out = (double)t;
    } else {
        if (cJSON_IsString(v) && sim__cfg_from_set(c, v)) {
            char *end;
            *out = strtod(v->valuestring, &end);
            if (*end)
                return sim__cfg_fail_at(c, seg, "must be a number");
        } else if (!cJSON_IsNumber(v)) {
            return sim__cfg_fail_at(c, seg, "must be a number");
        } else {
            *out = v->valuedouble;
        }
        if (!(*out >= 0) || isinf(*out))
            return sim__cfg_fail_at(c, seg, "%g is not allowed (a finite number >= 0)", *out);
    }
    return 0;
}

static cJSON *value_json(double v, sim_dist_unit unit) {
    if (unit == SIM_UNIT_TIME) {
        char buf[40];
        return cJSON_CreateString(sim_time_format((sim_time)llround(v), buf, sizeof buf));
    }
    return cJSON_CreateNumber(v);
}

static int dist_param(sim_cfg *c, const char *key, double min_excl, double *out) {
    double d;
    int r = cfg__get_number(c, key, "a positive number", &d);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    if (r < 0)
        return -1;
    if (r == 0)
        return cfg__fail_required(c, key, "is required");
    if (!(d > min_excl) || isinf(d))
        return sim__cfg_fail_at(c, seg, "%g is not allowed (a finite number > %g)", d, min_excl);
    *out = d;
    return 0;
}

/* Parses the current frame as a distribution; a mixture part (weight != NULL)
 * first reads its weight. */
static int parse_dist_body(sim_cfg *c, sim_dist_unit unit, sim_dist *d, cJSON *out, double *weight);

static int cmp_double(const void *pa, const void *pb) {
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static int parse_points(sim_cfg *c, sim_dist_unit unit, sim_dist *d, cJSON *out) {
    cJSON *samples = sim__cfg_take(c, "samples");
    cJSON *cdf = sim__cfg_take(c, "cdf");
    if ((samples != NULL) == (cdf != NULL))
        return sim__cfg_fail_at(c, NULL,
                                "an empirical distribution needs exactly one of "
                                "\"samples\" (a list of values) or \"cdf\" "
                                "(a list of [value, probability] pairs)");
    cJSON *list = samples ? samples : cdf;
    const char *name = samples ? "samples" : "cdf";
    char seg[300];
    snprintf(seg, sizeof seg, ".%s", name);
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return sim__cfg_fail_at(c, seg, "must be a non-empty list");
    int n = cJSON_GetArraySize(list);
    if (n > 10000000)
        return sim__cfg_fail_at(c, seg, "has too many points (at most 10000000)");
    d->n = (size_t)n;
    d->xs = sim_calloc((size_t)n, sizeof *d->xs);
    d->ps = sim_calloc((size_t)n, sizeof *d->ps);
    d->interpolate = cdf != NULL;
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToObject(out, name, arr);
    int i = 0;
    for (cJSON *it = list->child; it; it = it->next, i++) {
        char iseg[340];
        snprintf(iseg, sizeof iseg, "%s[%d]", seg, i);
        cJSON *xv = it, *pv = NULL;
        if (cdf) {
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2)
                return sim__cfg_fail_at(c, iseg, "must be a [value, probability] pair");
            xv = it->child;
            pv = it->child->next;
        }
        double x;
        if (unit == SIM_UNIT_TIME) {
            sim_time t;
            if (sim__cfg_parse_time(c, xv, iseg, 0, SIM_TIME_MAX, &t) < 0)
                return -1;
            x = (double)t;
        } else {
            if (!cJSON_IsNumber(xv) || !(xv->valuedouble >= 0) || isinf(xv->valuedouble))
                return sim__cfg_fail_at(c, iseg, "must be a finite number >= 0");
            x = xv->valuedouble;
        }
        d->xs[i] = x;
        if (cdf) {
            if (!cJSON_IsNumber(pv) || !(pv->valuedouble >= 0 && pv->valuedouble <= 1))
                return sim__cfg_fail_at(c, iseg, "the probability must be a number from 0 to 1");
            d->ps[i] = pv->valuedouble;
            if (i > 0 && (d->xs[i] < d->xs[i - 1] || d->ps[i] < d->ps[i - 1]))
                return sim__cfg_fail_at(c, iseg, "CDF points must ascend in value and probability");
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, value_json(x, unit));
            cJSON_AddItemToArray(pair, cJSON_CreateNumber(d->ps[i]));
            cJSON_AddItemToArray(arr, pair);
        } else {
            cJSON_AddItemToArray(arr, value_json(x, unit));
        }
    }
    if (cdf) {
        if (d->ps[n - 1] != 1.0)
            return sim__cfg_fail_at(c, seg, "the last CDF point must have probability 1");
    } else {
        /* Sort the samples so the CDF is a step function over ascending xs
         * (qsort: O(n log n) in any order; equal values are interchangeable). */
        qsort(d->xs, (size_t)n, sizeof *d->xs, cmp_double);
        for (int k = 0; k < n; k++)
            d->ps[k] = (double)(k + 1) / n;
    }
    return 0;
}

static int parse_dist_body(sim_cfg *c, sim_dist_unit unit, sim_dist *d, cJSON *out,
                           double *weight) {
    int kind;
    if (weight) {
        if (dist_param(c, "weight", 0, weight) < 0)
            return -1;
        cJSON_AddNumberToObject(out, "weight", *weight);
    }
    cJSON *save_out = cfg__top(c)->out;
    cfg__top(c)->out = out;
    int rc = sim_cfg_enum(c, "type", NULL, dist_types, &kind);
    cfg__top(c)->out = save_out;
    if (rc < 0)
        return -1;
    memset(d, 0, sizeof *d);
    d->kind = (sim_dist_kind)kind;
    double a = 0, b = 0;
    switch (d->kind) {
    case SIM_DIST_CONSTANT:
        rc = dist_value(c, "value", unit, true, 0, &a);
        if (!rc)
            cJSON_AddItemToObject(out, "value", value_json(a, unit));
        break;
    case SIM_DIST_UNIFORM:
        rc = dist_value(c, "min", unit, true, 0, &a);
        if (!rc)
            rc = dist_value(c, "max", unit, true, 0, &b);
        if (!rc && b < a)
            rc = sim__cfg_fail_at(c, ".max", "must not be less than min");
        if (!rc) {
            cJSON_AddItemToObject(out, "min", value_json(a, unit));
            cJSON_AddItemToObject(out, "max", value_json(b, unit));
        }
        break;
    case SIM_DIST_EXPONENTIAL:
        rc = dist_value(c, "mean", unit, true, 0, &a);
        if (!rc && a <= 0)
            rc = sim__cfg_fail_at(c, ".mean", "must be greater than 0");
        if (!rc)
            cJSON_AddItemToObject(out, "mean", value_json(a, unit));
        break;
    case SIM_DIST_NORMAL:
        rc = dist_value(c, "mean", unit, true, 0, &a);
        if (!rc)
            rc = dist_value(c, "stddev", unit, true, 0, &b);
        if (!rc) {
            cJSON_AddItemToObject(out, "mean", value_json(a, unit));
            cJSON_AddItemToObject(out, "stddev", value_json(b, unit));
        }
        break;
    case SIM_DIST_LOGNORMAL:
        rc = dist_value(c, "median", unit, true, 0, &a);
        if (!rc && a <= 0)
            rc = sim__cfg_fail_at(c, ".median", "must be greater than 0");
        if (!rc) {
            double sig;
            int r = cfg__get_number(c, "sigma", "a number >= 0", &sig);
            if (r < 0)
                rc = -1;
            else if (r == 0)
                rc = cfg__fail_required(c, "sigma", "is required");
            else if (!(sig >= 0) || isinf(sig))
                rc = sim__cfg_fail_at(c, ".sigma", "%g is not allowed (a finite number >= 0)", sig);
            b = sig;
        }
        if (!rc) {
            cJSON_AddItemToObject(out, "median", value_json(a, unit));
            cJSON_AddNumberToObject(out, "sigma", b);
            a = log(a);
        }
        break;
    case SIM_DIST_PARETO:
        rc = dist_value(c, "xm", unit, true, 0, &a);
        if (!rc && a <= 0)
            rc = sim__cfg_fail_at(c, ".xm", "must be greater than 0");
        if (!rc)
            rc = dist_param(c, "alpha", 0, &b);
        if (!rc) {
            cJSON_AddItemToObject(out, "xm", value_json(a, unit));
            cJSON_AddNumberToObject(out, "alpha", b);
        }
        break;
    case SIM_DIST_WEIBULL:
        rc = dist_value(c, "scale", unit, true, 0, &a);
        if (!rc && a <= 0)
            rc = sim__cfg_fail_at(c, ".scale", "must be greater than 0");
        if (!rc)
            rc = dist_param(c, "shape", 0, &b);
        if (!rc) {
            cJSON_AddItemToObject(out, "scale", value_json(a, unit));
            cJSON_AddNumberToObject(out, "shape", b);
        }
        break;
    case SIM_DIST_EMPIRICAL:
        rc = parse_points(c, unit, d, out);
        break;
    case SIM_DIST_MIXTURE: {
        cJSON *parts = sim__cfg_take(c, "components");
        if (!cJSON_IsArray(parts) || cJSON_GetArraySize(parts) == 0) {
            rc = sim__cfg_fail_at(c, ".components",
                                  "a mixture needs a non-empty list of components, each a "
                                  "distribution with a \"weight\"");
            break;
        }
        int n = cJSON_GetArraySize(parts);
        d->n = (size_t)n;
        d->parts = sim_calloc((size_t)n, sizeof *d->parts);
        d->ps = sim_calloc((size_t)n, sizeof *d->ps);
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToObject(out, "components", arr);
        double total = 0;
        int i = 0;
        for (cJSON *it = parts->child; it && !rc; it = it->next, i++) {
            char seg[64];
            snprintf(seg, sizeof seg, ".components[%d]", i);
            cJSON *po = cJSON_CreateObject();
            cJSON_AddItemToArray(arr, po);
            if (!cJSON_IsObject(it)) {
                rc = sim__cfg_fail_at(c, seg, "must be an object (a distribution with a weight)");
                break;
            }
            if (cfg__push(c, it, seg, po) < 0) {
                rc = -1;
                break;
            }
            rc = parse_dist_body(c, unit, &d->parts[i], po, &d->ps[i]);
            sim_cfg_leave(c);
            if (c->failed)
                rc = -1;
        }
        if (!rc) {
            /* Weights become cumulative probabilities. */
            for (size_t k = 0; k < d->n; k++)
                total += d->ps[k];
            double acc = 0;
            for (size_t k = 0; k < d->n; k++) {
                acc += d->ps[k];
                d->ps[k] = acc / total;
            }
            d->ps[d->n - 1] = 1.0;
        }
        break;
    }
    }
    if (rc)
        return -1;
    if (d->kind != SIM_DIST_EMPIRICAL && d->kind != SIM_DIST_MIXTURE) {
        d->a = a;
        d->b = b;
    }
    double off = 0;
    if (dist_value(c, "offset", unit, false, 0, &off) < 0)
        return -1;
    d->offset = off;
    if (off != 0)
        cJSON_AddItemToObject(out, "offset", value_json(off, unit));
    const char *why = sim_dist_check(d);
    if (why)
        return sim__cfg_fail_at(c, NULL, "%s", why);
    return 0;
}

int sim__cfg_parse_dist(sim_cfg *c, cJSON *v, const char *seg, sim_dist_unit unit, sim_dist *out,
                        cJSON **resolved) {
    memset(out, 0, sizeof *out);
    cJSON *o = cJSON_CreateObject();
    *resolved = o;
    if (cJSON_IsString(v) && sim__cfg_from_set(c, v) && v->valuestring[0] == '{') {
        /* A whole distribution given on the command line as JSON. */
        cJSON *j = cfg__coerce_set(v);
        if (!j)
            return sim__cfg_fail_at(c, seg, "\"%s\" is not valid JSON", v->valuestring);
        cJSON_Delete(o);
        int rc = sim__cfg_parse_dist(c, j, seg, unit, out, resolved);
        cJSON_Delete(j);
        return rc;
    }
    if (cJSON_IsString(v) || cJSON_IsNumber(v)) {
        /* Shorthand: a plain value is a constant. */
        double x;
        if (unit == SIM_UNIT_TIME) {
            sim_time t;
            if (sim__cfg_parse_time(c, v, seg, 0, SIM_TIME_MAX, &t) < 0)
                return -1;
            x = (double)t;
        } else {
            if (cJSON_IsString(v)) {
                char *end;
                x = strtod(v->valuestring, &end);
                if (*end || !sim__cfg_from_set(c, v))
                    return sim__cfg_fail_at(c, seg, "must be a number or a distribution object");
            } else {
                x = v->valuedouble;
            }
            if (!(x >= 0) || isinf(x))
                return sim__cfg_fail_at(c, seg, "%g is not allowed (a finite number >= 0)", x);
        }
        out->kind = SIM_DIST_CONSTANT;
        out->a = x;
        cJSON_AddStringToObject(o, "type", "constant");
        cJSON_AddItemToObject(o, "value", value_json(x, unit));
        return 0;
    }
    if (!cJSON_IsObject(v))
        return sim__cfg_fail_at(c, seg, "must be a distribution: a %s or an object with a \"type\"",
                                unit == SIM_UNIT_TIME ? "duration" : "number");
    if (cfg__push(c, v, seg, o) < 0)
        return -1;
    int rc = parse_dist_body(c, unit, out, o, false);
    sim_cfg_leave(c);
    return rc < 0 || c->failed ? -1 : 0;
}

int sim_cfg_dist(sim_cfg *c, const char *key, const char *def, sim_dist_unit unit, sim_dist *out) {
    if (c->failed)
        return -1;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    cJSON *tmp = NULL;
    if (!v) {
        SIM_ASSERT(def);
        tmp = cJSON_ParseWithOpts(def, NULL, true);
        if (!tmp)
            tmp = cJSON_CreateString(def);
        v = tmp;
    }
    cJSON *resolved = NULL;
    int rc = sim__cfg_parse_dist(c, v, seg, unit, out, &resolved);
    cJSON_Delete(tmp);
    cfg__out_put(c, key, resolved);
    if (rc < 0) {
        sim_dist_fini(out);
        return -1;
    }
    return 0;
}
