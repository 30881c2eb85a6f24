/*
 * plot_check.c - what `dsim plot` requires of a folder before it draws.
 *
 * A folder may come from anyone (docs/security.md), so every part a chart
 * reads is checked for its type here, once, and the charts may then trust
 * the shapes: summary.json is an object whose scenario names a model dsim
 * has, whose times parse, whose metrics are objects of numbers; CSVs are
 * rectangles of bounded size.  A failed check is one line naming the file
 * and the JSON path or line, and dsim plot exits 2.
 */
#include "plot_int.h"

#include "registry.h"
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static cJSON *read_json(plotter *pl, const char *name, bool *found) {
    size_t n = strlen(pl->dir) + strlen(name) + 2;
    char *path = sim_malloc(n);
    snprintf(path, n, "%s/%s", pl->dir, name);
    char why[256];
    size_t len;
    char *text = cli_read_file(path, PLOT_MAX_FILE, &len, why, sizeof why);
    sim_free(path);
    *found = text || errno != ENOENT;
    if (!text) {
        if (*found)
            plot_bad(pl, "%s: %s", name, why);
        return NULL;
    }
    if (strlen(text) != len) {
        sim_free(text);
        plot_bad(pl, "%s: holds a NUL byte: not JSON", name);
        return NULL;
    }
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, true);
    if (!j) {
        size_t line = 1;
        for (const char *p = text; end && p < end; p++)
            line += *p == '\n';
        plot_bad(pl, "%s:%zu: not valid JSON", name, line);
    } else if (!cJSON_IsObject(j)) {
        plot_bad(pl, "%s: $: must be an object", name);
        cJSON_Delete(j);
        j = NULL;
    }
    sim_free(text);
    return j;
}

/* Type checks: each says "file: $.path: must be ..." and returns false. */
typedef struct checker {
    plotter *pl;
    const char *file;
    bool ok;
} checker;

static const cJSON *want(checker *k, const cJSON *parent, const char *key, const char *path,
                         bool required, cJSON_bool (*is)(const cJSON *), const char *what) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);
    if (!v) {
        if (required && k->ok) {
            plot_bad(k->pl, "%s: %s.%s: missing (%s)", k->file, path, key, what);
            k->ok = false;
        }
        return NULL;
    }
    if (!is(v)) {
        if (k->ok)
            plot_bad(k->pl, "%s: %s.%s: must be %s", k->file, path, key, what);
        k->ok = false;
        return NULL;
    }
    return v;
}

static bool want_time(checker *k, const cJSON *parent, const char *key, const char *path,
                      bool required) {
    const cJSON *v = want(k, parent, key, path, required, cJSON_IsString, "a time such as \"10s\"");
    sim_time t;
    const char *why;
    if (v && sim_time_parse(v->valuestring, &t, &why) != 0) {
        if (k->ok)
            plot_bad(k->pl, "%s: %s.%s: not a time (%s)", k->file, path, key, why);
        k->ok = false;
    }
    return k->ok;
}

/* Every member of obj is an object whose listed keys, where present, are
 * numbers. */
static void want_numbers(checker *k, const cJSON *obj, const char *path, const char *const *keys) {
    const cJSON *e;
    cJSON_ArrayForEach(e, obj) {
        char name[64], p[160];
        plot_label(name, sizeof name, e->string ? e->string : "");
        snprintf(p, sizeof p, "%s.%s", path, name);
        if (!cJSON_IsObject(e)) {
            if (k->ok)
                plot_bad(k->pl, "%s: %s: must be an object", k->file, p);
            k->ok = false;
            return;
        }
        for (const char *const *key = keys; *key; key++)
            want(k, e, *key, p, false, cJSON_IsNumber, "a number");
    }
}

static cJSON_bool is_list(const cJSON *v) {
    return cJSON_IsString(v) || cJSON_IsArray(v) || cJSON_IsObject(v) || cJSON_IsBool(v);
}

static void check_faults(checker *k, const cJSON *faults) {
    const cJSON *f;
    int i = 0;
    cJSON_ArrayForEach(f, faults) {
        char p[64];
        snprintf(p, sizeof p, "$.scenario.faults[%d]", i++);
        if (!cJSON_IsObject(f)) {
            if (k->ok)
                plot_bad(k->pl, "%s: %s: must be an object", k->file, p);
            k->ok = false;
            return;
        }
        want_time(k, f, "at", p, true);
        static const char *const lists[] = {
            "crash",     "recover",           "fail",  "replace",  "slow",
            "partition", "partition_one_way", "clock", "slow_link"};
        for (size_t j = 0; j < sizeof lists / sizeof *lists; j++)
            want(k, f, lists[j], p, false, is_list, "a node, a list of nodes or an object");
        want(k, f, "factor", p, false, cJSON_IsNumber, "a number");
        const cJSON *e;
        const cJSON *crash = cJSON_GetObjectItemCaseSensitive(f, "crash");
        const cJSON *fail = cJSON_GetObjectItemCaseSensitive(f, "fail");
        cJSON_ArrayForEach(e, (cJSON_IsArray(crash) ? crash : cJSON_IsArray(fail) ? fail : NULL)) {
            if (!cJSON_IsString(e)) {
                if (k->ok)
                    plot_bad(k->pl, "%s: %s: the nodes must be names (strings)", k->file, p);
                k->ok = false;
            }
        }
        if (!k->ok)
            return;
    }
}

cJSON *plot_read_summary(plotter *pl) {
    bool found;
    cJSON *sum = read_json(pl, "summary.json", &found);
    if (!sum) {
        if (!found)
            plot_bad(pl, "summary.json: missing");
        return NULL;
    }
    checker k = {pl, "summary.json", true};
    const cJSON *sc =
        want(&k, sum, "scenario", "$", true, cJSON_IsObject, "the resolved scenario, an object");
    const cJSON *model = want(&k, sc, "model", "$.scenario", true, cJSON_IsString, "a model name");
    if (model && !sim_model_find(model->valuestring)) {
        char name[64];
        plot_label(name, sizeof name, model->valuestring);
        plot_bad(pl, "summary.json: $.scenario.model: \"%s\" is not a model this dsim has", name);
        k.ok = false;
    }
    const cJSON *faults = want(&k, sc, "faults", "$.scenario", false, cJSON_IsArray, "a list");
    want_time(&k, sc, "duration", "$.scenario", cJSON_GetArraySize(faults) > 0);
    if (k.ok)
        check_faults(&k, faults);
    want(&k, sc, "kv", "$.scenario", false, cJSON_IsObject, "an object");
    want(&k, sum, "trace_hash", "$", false, cJSON_IsString, "a string");
    const cJSON *engine = want(&k, sum, "engine", "$", false, cJSON_IsObject, "an object");
    want(&k, engine, "events", "$.engine", false, cJSON_IsNumber, "a number");
    const cJSON *metrics = want(&k, sum, "metrics", "$", false, cJSON_IsObject, "an object");
    const cJSON *h =
        want(&k, metrics, "histograms", "$.metrics", false, cJSON_IsObject, "an object");
    static const char *const hkeys[] = {"count", NULL};
    static const char *const mkeys[] = {"sent", "delivered", "dropped", "bytes", NULL};
    if (k.ok)
        want_numbers(&k, h, "$.metrics.histograms", hkeys);
    const cJSON *m = want(&k, metrics, "messages", "$.metrics", false, cJSON_IsObject, "an object");
    if (k.ok)
        want_numbers(&k, m, "$.metrics.messages", mkeys);
    const cJSON *e;
    cJSON_ArrayForEach(e, (k.ok ? h : NULL)) {
        want(&k, e, "unit", "$.metrics.histograms.<name>", false, cJSON_IsString, "a string");
    }
    if (!k.ok) {
        cJSON_Delete(sum);
        return NULL;
    }
    return sum;
}

cJSON *plot_read_sweep(plotter *pl, bool *found) {
    cJSON *sw = read_json(pl, "sweep.json", found);
    if (!sw)
        return NULL;
    checker k = {pl, "sweep.json", true};
    const cJSON *vary = want(&k, sw, "vary", "$", true, cJSON_IsArray, "the list of parameters");
    const cJSON *v;
    int i = 0;
    cJSON_ArrayForEach(v, (k.ok ? vary : NULL)) {
        char p[48];
        snprintf(p, sizeof p, "$.vary[%d]", i++);
        if (!cJSON_IsObject(v)) {
            plot_bad(pl, "sweep.json: %s: must be an object", p);
            k.ok = false;
            break;
        }
        want(&k, v, "path", p, true, cJSON_IsString, "the parameter's JSON path");
    }
    const cJSON *seeds = want(&k, sw, "seeds", "$", false, cJSON_IsObject, "an object");
    want(&k, seeds, "per_point", "$.seeds", false, cJSON_IsNumber, "a number");
    const cJSON *base = want(&k, sw, "base_scenario", "$", false, cJSON_IsObject, "an object");
    const cJSON *kv = want(&k, base, "kv", "$.base_scenario", false, cJSON_IsObject, "an object");
    want(&k, kv, "n", "$.base_scenario.kv", false, cJSON_IsNumber, "a number");
    if (!k.ok) {
        cJSON_Delete(sw);
        return NULL;
    }
    return sw;
}

int plot_csv(plotter *pl, const char *name, csv *c) {
    char err[512];
    int rc = csv_load(pl->dir, name, c, err, sizeof err);
    if (rc < 0)
        plot_bad(pl, "%s", err);
    return rc;
}
