/*
 * cfg.c - the typed configuration reader: JSON in, checked values and a
 * resolved scenario out, with every error naming its JSON path.
 *
 * This file and scenario.c are the only users of cJSON on the input side.
 * The reader is schema-by-code: a key is known because some code asked for
 * it, so the list of keys can never drift from what the program reads.
 * Only the first error is kept; every later call fails at once, so a caller
 * may read a whole object and check once.
 */
#include "cfg_int.h"
#include "metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON parsing with positions. ---- */

static bool blank(char ch) { return ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r'; }

/* True if text is valid UTF-8 (so messages never echo binary junk). */
static bool valid_utf8(const unsigned char *p, size_t len) {
    size_t i = 0;
    while (i < len) {
        unsigned char ch = p[i];
        size_t extra = ch < 0x80         ? 0
                       : (ch >> 5) == 6  ? 1
                       : (ch >> 4) == 14 ? 2
                       : (ch >> 3) == 30 ? 3
                                         : 9;
        if (extra == 9 || (extra && (ch == 0xc0 || ch == 0xc1)) ||
            i + extra >= len + (extra ? 0 : 1))
            return false;
        for (size_t k = 1; k <= extra; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        i += extra + 1;
    }
    return true;
}

/* Deepest bracket nesting outside strings. */
static int max_depth(const char *text, size_t len) {
    int depth = 0, best = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > best)
                best = depth;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return best;
}

/* Finds "\u0000" outside... inside strings: an escaped NUL would silently
 * cut a string short, so it is refused.  Returns its offset or -1. */
static long nul_escape(const char *text, size_t len) {
    for (size_t i = 0; i + 5 < len; i++) {
        if (text[i] != '\\')
            continue;
        if (text[i + 1] == 'u' && text[i + 2] == '0' && text[i + 3] == '0' && text[i + 4] == '0' &&
            text[i + 5] == '0')
            return (long)i;
        i++; /* skip the escaped character, so "\\u0000" is not a match */
    }
    return -1;
}

static void position(const char *text, const char *at, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/*
 * A small JSON syntax checker, run only when cJSON refuses a file, to say
 * where and why: cJSON reports a rough position and no reason.  It stops at
 * the first error and records the position and what was expected.
 */
typedef struct jcheck {
    const char *p, *end;
    const char *at;  /* position of the first error */
    const char *why; /* what was expected there */
} jcheck;

static bool jc_fail(jcheck *j, const char *why) {
    if (!j->at) {
        j->at = j->p;
        j->why = why;
    }
    return false;
}

static void jc_ws(jcheck *j) {
    while (j->p < j->end && blank(*j->p))
        j->p++;
}

static bool jc_string(jcheck *j) {
    j->p++; /* opening quote */
    while (j->p < j->end && *j->p != '"') {
        if ((unsigned char)*j->p < 0x20)
            return jc_fail(j, "a line break or control character inside a string (is a closing "
                              "quote missing?)");
        if (*j->p == '\\') {
            j->p++;
            if (j->p >= j->end)
                break;
            if (!strchr("\"\\/bfnrtu", *j->p))
                return jc_fail(j, "an unknown escape in a string");
        }
        j->p++;
    }
    if (j->p >= j->end)
        return jc_fail(j, "a closing quote");
    j->p++;
    return true;
}

static bool jc_value(jcheck *j);

static bool jc_container(jcheck *j, char close) {
    j->p++;
    jc_ws(j);
    if (j->p < j->end && *j->p == close) {
        j->p++;
        return true;
    }
    for (;;) {
        jc_ws(j);
        if (close == '}') {
            if (j->p >= j->end || *j->p != '"')
                return jc_fail(j, j->p < j->end && *j->p == '}'
                                      ? "a key in double quotes (is there a comma too many?)"
                                      : "a key in double quotes");
            if (!jc_string(j))
                return false;
            jc_ws(j);
            if (j->p >= j->end || *j->p != ':')
                return jc_fail(j, "':' after the key");
            j->p++;
        }
        if (!jc_value(j))
            return false;
        jc_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            jc_ws(j);
            if (close == ']' && j->p < j->end && *j->p == ']')
                return jc_fail(j, "a value (is there a comma too many?)");
            continue;
        }
        if (j->p < j->end && *j->p == close) {
            j->p++;
            return true;
        }
        return jc_fail(j, close == '}' ? "',' or '}'" : "',' or ']'");
    }
}

static bool jc_value(jcheck *j) {
    jc_ws(j);
    if (j->p >= j->end)
        return jc_fail(j, "a value");
    char ch = *j->p;
    if (ch == '{' || ch == '[')
        return jc_container(j, ch == '{' ? '}' : ']');
    if (ch == '"')
        return jc_string(j);
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(j->end - j->p) >= n && strncmp(j->p, words[i], n) == 0) {
            j->p += n;
            return true;
        }
    }
    if (ch == '-' || (ch >= '0' && ch <= '9')) {
        const char *q = j->p + (ch == '-');
        if (q >= j->end || *q < '0' || *q > '9')
            return jc_fail(j, "a number");
        while (q < j->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                              *q == '+' || *q == '-'))
            q++;
        j->p = q;
        return true;
    }
    if (ch == '\'')
        return jc_fail(j, "a value (strings take double quotes, not single)");
    if (ch == '/')
        return jc_fail(j, "a value (JSON has no comments)");
    return jc_fail(j, "a value (a string in double quotes, a number, true, false, null, "
                      "an object or a list)");
}

cJSON *sim__json_parse(const char *file, const char *text, size_t len, char *err, size_t errlen) {
    size_t skip = 0;
    while (skip < len && blank(text[skip]))
        skip++;
    if (skip == len) {
        snprintf(err, errlen, "error: %s: $: the file is empty (a scenario is one JSON object)",
                 file);
        return NULL;
    }
    if (!valid_utf8((const unsigned char *)text, len)) {
        snprintf(err, errlen,
                 "error: %s: $: not a text file (a scenario is one JSON object in UTF-8)", file);
        return NULL;
    }
    int line, col;
    long nul = nul_escape(text, len);
    if (nul >= 0) {
        position(text, text + nul, &line, &col);
        snprintf(err, errlen, "error: %s: $: line %d column %d: strings must not contain \\u0000",
                 file, line, col);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (root) {
        /* Only white space may follow the object. */
        const char *p = end;
        while (p < text + len && blank(*p))
            p++;
        if (p < text + len && *p != '\0') {
            position(text, p, &line, &col);
            size_t n = 0;
            while (n < 12 && p + n < text + len && p[n] != '\n' && p[n] != '\r')
                n++;
            snprintf(err, errlen,
                     "error: %s: $: invalid JSON at line %d column %d near '%.*s': text after the "
                     "end of the scenario object",
                     file, line, col, (int)n, p);
            cJSON_Delete(root);
            return NULL;
        }
    } else {
        if (max_depth(text, len) > CJSON_NESTING_LIMIT) {
            snprintf(err, errlen, "error: %s: $: JSON nested too deeply (at most %d levels)", file,
                     CJSON_NESTING_LIMIT);
            return NULL;
        }
        jcheck j = {.p = text, .end = text + len};
        if (jc_value(&j)) {
            /* The syntax is fine, yet cJSON refused it. */
            snprintf(err, errlen, "error: %s: $: invalid JSON (the parser refused it)", file);
            return NULL;
        }
        if (j.at >= text + len) {
            const char *last = text + len;
            while (last > text && blank(last[-1]))
                last--;
            position(text, last, &line, &col);
            snprintf(err, errlen,
                     "error: %s: $: invalid JSON: the text ends early at line %d column %d "
                     "(expected %s; is a bracket or quote missing?)",
                     file, line, col, j.why);
        } else {
            position(text, j.at, &line, &col);
            size_t n = 0;
            while (n < 12 && j.at + n < text + len && j.at[n] != '\n' && j.at[n] != '\r')
                n++;
            snprintf(err, errlen,
                     "error: %s: $: invalid JSON at line %d column %d near '%.*s': expected %s",
                     file, line, col, (int)n, j.at, j.why);
        }
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "error: %s: $: must be a JSON object (a scenario is {...})", file);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ---- Frames. ---- */

frame *cfg__top(sim_cfg *c) { return &c->stack[c->depth - 1]; }

typedef struct key_ref {
    const char *name;
    size_t pos; /* place in the object, for the first duplicate in file order */
} key_ref;

static int key_ref_cmp(const void *pa, const void *pb) {
    const key_ref *a = pa, *b = pb;
    int d = strcmp(a->name, b->name);
    if (d)
        return d;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Refuses an object that names a key twice, naming the first such key in
 * file order.  Sorting makes it O(n log n): an object of 10^5 keys is
 * checked in milliseconds (bench/loader.sh). */
static int check_duplicates(sim_cfg *c, cJSON *obj) {
    if (!obj || !cJSON_IsObject(obj))
        return 0;
    size_t n = 0;
    for (cJSON *a = obj->child; a; a = a->next)
        n += a->string != NULL;
    if (n < 2)
        return 0;
    key_ref *keys = sim_malloc(n * sizeof *keys);
    size_t i = 0;
    for (cJSON *a = obj->child; a; a = a->next)
        if (a->string)
            keys[i] = (key_ref){a->string, i}, i++;
    qsort(keys, n, sizeof *keys, key_ref_cmp);
    const char *dup = NULL;
    size_t dup_pos = SIZE_MAX;
    for (i = 0; i < n;) {
        /* A run of equal names, sorted by position: its first is keys[i]. */
        size_t j = i + 1;
        while (j < n && strcmp(keys[j].name, keys[i].name) == 0)
            j++;
        if (j - i > 1 && keys[i].pos < dup_pos) {
            dup = keys[i].name;
            dup_pos = keys[i].pos;
        }
        i = j;
    }
    int rc = 0;
    if (dup) {
        char seg[300];
        snprintf(seg, sizeof seg, ".%s", dup);
        rc = sim__cfg_fail_at(c, seg, "duplicate key (each key may appear once)");
    }
    sim_free(keys);
    return rc;
}

int cfg__push(sim_cfg *c, cJSON *obj, const char *seg, cJSON *out) {
    if (c->failed)
        return -1;
    if (c->depth == SIM_CFG_MAX_DEPTH)
        return sim__cfg_fail_at(c, seg, "nested too deeply (at most %d levels)", SIM_CFG_MAX_DEPTH);
    size_t len = strlen(c->path);
    snprintf(c->path + len, sizeof c->path - len, "%s", seg);
    frame *f = &c->stack[c->depth++];
    memset(f, 0, sizeof *f);
    f->obj = obj;
    f->out = out;
    f->path_len = len;
    if (check_duplicates(c, obj) < 0) {
        /* Not entered: the caller does not leave, and the resolved copy
         * goes to the parent as usual (it leaked into itself before). */
        sim_free(f->seen);
        c->depth--;
        c->path[len] = '\0';
        return -1;
    }
    return 0;
}

sim_cfg *sim__cfg_create(sim *s, const char *file, cJSON *root) {
    sim_cfg *c = sim_calloc(1, sizeof *c);
    c->s = s;
    c->file = file;
    c->root = root;
    c->resolved = cJSON_CreateObject();
    strcpy(c->path, "$");
    c->depth = 1;
    memset(&c->stack[0], 0, sizeof c->stack[0]);
    c->stack[0].obj = root;
    c->stack[0].out = c->resolved;
    c->stack[0].path_len = 0;
    check_duplicates(c, root);
    return c;
}

void sim__cfg_destroy(sim_cfg *c) {
    if (!c)
        return;
    for (int i = 0; i < c->depth; i++)
        sim_free(c->stack[i].seen);
    cJSON_Delete(c->resolved);
    sim_free(c->set_nodes);
    sim_free(c);
}

cJSON *sim__cfg_take_resolved(sim_cfg *c) {
    cJSON *r = c->resolved;
    c->resolved = NULL;
    return r;
}

sim *sim_cfg_sim(sim_cfg *c) { return c->s; }
bool sim__cfg_failed(const sim_cfg *c) { return c->failed; }
bool sim_cfg_failed(const sim_cfg *c) { return c->failed; }
const char *sim__cfg_error(const sim_cfg *c) { return c->err; }
const char *sim__cfg_path(sim_cfg *c) { return c->path; }
cJSON *sim__cfg_out(sim_cfg *c) { return cfg__top(c)->out; }

static void vfail(sim_cfg *c, const char *seg, const char *fmt, va_list ap) {
    if (c->failed)
        return;
    c->failed = true;
    char msg[700];
    vsnprintf(msg, sizeof msg, fmt, ap);
    snprintf(c->err, sizeof c->err, "error: %s: %s%s: %s", c->file, c->path, seg ? seg : "", msg);
}

int sim__cfg_fail_at(sim_cfg *c, const char *seg, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(c, seg, fmt, ap);
    va_end(ap);
    return -1;
}

static void key_seg(char *seg, size_t n, const char *key) {
    if (key)
        snprintf(seg, n, ".%s", key);
    else
        seg[0] = '\0';
}

int sim_cfg_fail(sim_cfg *c, const char *key, const char *fmt, ...) {
    char seg[300];
    key_seg(seg, sizeof seg, key);
    va_list ap;
    va_start(ap, fmt);
    vfail(c, seg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Suggestions. ---- */

/* Levenshtein distance, ignoring case (so "PHOLD" suggests "phold"). */
static size_t edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1 / 2;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            char x = a[i - 1], y = b[j - 1];
            x = (char)(x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x);
            y = (char)(y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
            size_t best = prev + (x != y);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

const char *sim__suggest(const char *word, const char *const *candidates, size_t n) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    size_t limit = strlen(word) / 3 + 1;
    if (limit < 2)
        limit = 2;
    if (limit > 4)
        limit = 4;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

/* A required key is missing.  If the object has an unknown key that looks
 * like it (a typo: "stdev" for "stddev"), the typo is the real error. */
int cfg__fail_required(sim_cfg *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cfg__fail_required(sim_cfg *c, const char *key, const char *fmt, ...) {
    frame *f = &c->stack[c->depth - 1];
    char seg[300];
    if (f->obj)
        for (cJSON *k = f->obj->child; k; k = k->next) {
            bool seen = false;
            for (size_t i = 0; i < f->n_seen && !seen; i++)
                seen = strcmp(f->seen[i], k->string) == 0;
            /* Only near misses: one edit per four letters at most, so that a
             * real key read later ("nodes") is not taken for a typo of the
             * missing one ("model"). */
            size_t d = edit_distance(k->string, key), len = strlen(key);
            if (!seen && d > 0 && d <= (len >= 8 ? len / 4 : 1)) {
                snprintf(seg, sizeof seg, ".%s", k->string);
                return sim__cfg_fail_at(c, seg, "unknown key; did you mean \"%s\"?", key);
            }
        }
    snprintf(seg, sizeof seg, ".%s", key);
    va_list ap;
    va_start(ap, fmt);
    vfail(c, seg, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- Leaving a frame: unknown keys. ---- */

static void mark_seen(frame *f, const char *key) {
    for (size_t i = 0; i < f->n_seen; i++)
        if (strcmp(f->seen[i], key) == 0)
            return;
    if (f->n_seen == f->cap_seen) {
        f->cap_seen = f->cap_seen ? f->cap_seen * 2 : 16;
        f->seen = sim_realloc(f->seen, f->cap_seen * sizeof *f->seen);
    }
    f->seen[f->n_seen++] = key;
}

static void check_unknown(sim_cfg *c, frame *f) {
    if (!f->obj || c->failed || f->reentered)
        return;
    for (cJSON *k = f->obj->child; k; k = k->next) {
        bool known = false;
        for (size_t i = 0; i < f->n_seen && !known; i++)
            known = strcmp(f->seen[i], k->string) == 0;
        if (known)
            continue;
        char seg[300];
        snprintf(seg, sizeof seg, ".%s", k->string);
        const char *hint = sim__suggest(k->string, f->seen, f->n_seen);
        if (hint)
            sim__cfg_fail_at(c, seg, "unknown key; did you mean \"%s\"?", hint);
        else if (f->n_seen) {
            char list[600] = "";
            for (size_t i = 0; i < f->n_seen; i++) {
                size_t len = strlen(list);
                snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", f->seen[i]);
            }
            sim__cfg_fail_at(c, seg, "unknown key (allowed here: %s)", list);
        } else {
            sim__cfg_fail_at(c, seg, "unknown key (nothing is allowed here)");
        }
        return;
    }
}

void sim_cfg_leave(sim_cfg *c) {
    SIM_ASSERT(c->depth > 1);
    frame *f = cfg__top(c);
    check_unknown(c, f);
    sim_free(f->seen);
    f->seen = NULL;
    c->path[f->path_len] = '\0';
    c->depth--;
}

/* Leaves the root frame (checks its unknown keys). */
void sim__cfg_finish(sim_cfg *c);
void sim__cfg_finish(sim_cfg *c) {
    SIM_ASSERT(c->depth == 1);
    check_unknown(c, cfg__top(c));
}

cJSON *sim__cfg_take(sim_cfg *c, const char *key) {
    frame *f = cfg__top(c);
    mark_seen(f, key);
    return f->obj ? cJSON_GetObjectItemCaseSensitive(f->obj, key) : NULL;
}

bool sim_cfg_given(const sim_cfg *c, const char *key) {
    const frame *f = &c->stack[c->depth - 1];
    return f->obj && cJSON_GetObjectItemCaseSensitive(f->obj, key) != NULL;
}

int sim__cfg_enter_value(sim_cfg *c, cJSON *obj, const char *seg, cJSON *out) {
    if (c->failed)
        return -1;
    if (obj && !cJSON_IsObject(obj))
        return sim__cfg_fail_at(c, seg, "must be an object");
    return cfg__push(c, obj, seg, out);
}

int sim_cfg_enter(sim_cfg *c, const char *key) {
    if (c->failed)
        return -1;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    key_seg(seg, sizeof seg, key);
    if (v && cJSON_IsString(v) && sim__cfg_from_set(c, v)) {
        /* --set key={...}: the whole object as JSON. */
        cJSON *j = cfg__coerce_set(v);
        if (!j || !cJSON_IsObject(j)) {
            cJSON_Delete(j);
            return sim__cfg_fail_at(c, seg, "\"%s\" is not a JSON object {...}", v->valuestring);
        }
        cJSON_ReplaceItemInObjectCaseSensitive(cfg__top(c)->obj, key, j);
        v = j;
    }
    if (v && !cJSON_IsObject(v))
        return sim__cfg_fail_at(c, seg, "must be an object {...}");
    cJSON *out = cJSON_GetObjectItemCaseSensitive(cfg__top(c)->out, key);
    if (!out) {
        out = cJSON_CreateObject();
        cJSON_AddItemToObject(cfg__top(c)->out, key, out);
    }
    return cfg__push(c, v, seg, out);
}

int sim__cfg_reenter(sim_cfg *c, const char *key) {
    if (sim_cfg_enter(c, key) < 0)
        return -1;
    cfg__top(c)->reentered = true;
    return 0;
}

/* ---- Lists. ---- */

/* The start of a list reader: takes the key's list (or parses def), checks
 * it is a list of at most max_n.  Returns its length, or -1 after an error;
 * *tmp is what to delete afterwards (the parsed default, or NULL). */
static int list_take(sim_cfg *c, const char *key, const char *def, const char *what, uint32_t max_n,
                     char *seg, size_t seg_len, cJSON **v, cJSON **tmp) {
    *tmp = NULL;
    *v = sim__cfg_take(c, key);
    key_seg(seg, seg_len, key);
    if (!*v) {
        SIM_ASSERT(def);
        *v = *tmp = cJSON_ParseWithOpts(def, NULL, true);
        SIM_ASSERT(cJSON_IsArray(*v));
    }
    if (!cJSON_IsArray(*v)) {
        cJSON_Delete(*tmp);
        return sim__cfg_fail_at(c, seg, "must be a list of %s", what);
    }
    int len = cJSON_GetArraySize(*v);
    if ((uint32_t)len > max_n) {
        cJSON_Delete(*tmp);
        return sim__cfg_fail_at(c, seg, "has %d entries (at most %u)", len, max_n);
    }
    return len;
}

int sim_cfg_time_list(sim_cfg *c, const char *key, const char *def, sim_time min, sim_time max,
                      uint32_t max_n, sim_time **out, uint32_t *n) {
    *out = NULL;
    *n = 0;
    if (c->failed)
        return -1;
    char seg[300];
    cJSON *v, *tmp;
    int len = list_take(c, key, def, "durations such as [\"0ms\", \"5ms\"]", max_n, seg, sizeof seg,
                        &v, &tmp);
    if (len < 0)
        return -1;
    sim_time *ts = len ? sim_calloc((size_t)len, sizeof *ts) : NULL;
    cJSON *res = cJSON_CreateArray();
    int i = 0;
    for (cJSON *it = v->child; it; it = it->next, i++) {
        char iseg[340];
        snprintf(iseg, sizeof iseg, "%s[%d]", seg, i);
        if (sim__cfg_parse_time(c, it, iseg, min, max, &ts[i]) < 0) {
            sim_free(ts);
            cJSON_Delete(res);
            cJSON_Delete(tmp);
            return -1;
        }
        char buf[40];
        cJSON_AddItemToArray(res, cJSON_CreateString(sim_time_format(ts[i], buf, sizeof buf)));
    }
    cJSON_Delete(tmp);
    cfg__out_put(c, key, res);
    *out = ts;
    *n = (uint32_t)len;
    return 0;
}

int sim_cfg_int_list(sim_cfg *c, const char *key, const char *def, int64_t min, int64_t max,
                     uint32_t max_n, int64_t **out, uint32_t *n) {
    *out = NULL;
    *n = 0;
    if (c->failed)
        return -1;
    char seg[300];
    cJSON *v, *tmp;
    int len = list_take(c, key, def, "whole numbers such as [100, 200]", max_n, seg, sizeof seg, &v,
                        &tmp);
    if (len < 0)
        return -1;
    int64_t *vals = len ? sim_calloc((size_t)len, sizeof *vals) : NULL;
    cJSON *res = cJSON_CreateArray();
    int i = 0;
    for (cJSON *it = v->child; it; it = it->next, i++) {
        char iseg[340];
        snprintf(iseg, sizeof iseg, "%s[%d]", seg, i);
        double d = it->valuedouble;
        const char *bad = NULL;
        char num[SIM_FORMAT_DOUBLE_SIZE] = "";
        if (!cJSON_IsNumber(it))
            bad = "must be a whole number";
        else if (sim_format_double(num, sizeof num, d), isnan(d) || (isfinite(d) && d != floor(d)))
            bad = "is not a whole number";
        else if (!sim_double_to_int64(d, &vals[i]) || vals[i] < min || vals[i] > max)
            bad = "is out of range";
        if (bad) {
            sim_free(vals);
            cJSON_Delete(res);
            cJSON_Delete(tmp);
            return sim__cfg_fail_at(c, iseg, "%s%s%s (allowed: an integer from %lld to %lld)", num,
                                    *num ? " " : "", bad, (long long)min, (long long)max);
        }
        cJSON_AddItemToArray(res, cJSON_CreateNumber(d));
    }
    cJSON_Delete(tmp);
    cfg__out_put(c, key, res);
    *out = vals;
    *n = (uint32_t)len;
    return 0;
}

int sim_cfg_list(sim_cfg *c, const char *key, uint32_t max_n, uint32_t *n) {
    *n = 0;
    if (c->failed)
        return -1;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    key_seg(seg, sizeof seg, key);
    cfg__out_put(c, key, cJSON_CreateArray());
    if (!v)
        return 0;
    if (!cJSON_IsArray(v))
        return sim__cfg_fail_at(c, seg, "must be a list [...]");
    int len = cJSON_GetArraySize(v);
    if ((uint32_t)len > max_n)
        return sim__cfg_fail_at(c, seg, "has %d entries (at most %u)", len, max_n);
    *n = (uint32_t)len;
    return 0;
}

int sim_cfg_enter_item(sim_cfg *c, const char *key, uint32_t i) {
    if (c->failed)
        return -1;
    frame *f = cfg__top(c);
    cJSON *list = f->obj ? cJSON_GetObjectItemCaseSensitive(f->obj, key) : NULL;
    SIM_ASSERT(cJSON_IsArray(list) && (int)i < cJSON_GetArraySize(list));
    cJSON *item = cJSON_GetArrayItem(list, (int)i);
    cJSON *out_list = cJSON_GetObjectItemCaseSensitive(f->out, key);
    SIM_ASSERT(cJSON_IsArray(out_list));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToArray(out_list, o);
    char seg[340];
    snprintf(seg, sizeof seg, ".%s[%u]", key, i);
    return sim__cfg_enter_value(c, item, seg, o);
}

/* ---- --set overrides. ---- */

bool sim__cfg_from_set(const sim_cfg *c, const cJSON *node) {
    for (size_t i = 0; i < c->n_set; i++)
        if (c->set_nodes[i] == node)
            return true;
    return false;
}

static const char *json_kind(const cJSON *v) {
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "a list";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    return "null";
}

static int set_fail(sim_cfg *c, const char *assignment, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int set_fail(sim_cfg *c, const char *assignment, const char *fmt, ...) {
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(c->err, sizeof c->err, "error: --set %.400s: %s", assignment, msg);
    c->failed = true;
    return -1;
}

/* The node a --set value becomes: an object or list written as JSON is
 * stored parsed (it is unambiguous); anything else stays a string, which
 * the reader of that key converts to the type it expects. */
static cJSON *set_value(const char *value) {
    if (value[0] == '{' || value[0] == '[') {
        cJSON *j = cJSON_ParseWithOpts(value, NULL, true);
        if (j && (cJSON_IsObject(j) || cJSON_IsArray(j)))
            return j;
        cJSON_Delete(j);
    }
    return cJSON_CreateString(value);
}

static void remember_set(sim_cfg *c, const cJSON *v) {
    if (c->n_set == c->cap_set) {
        c->cap_set = c->cap_set ? c->cap_set * 2 : 8;
        c->set_nodes = sim_realloc(c->set_nodes, c->cap_set * sizeof *c->set_nodes);
    }
    c->set_nodes[c->n_set++] = v;
}

typedef struct set_step {
    char name[128]; /* key, or "" for an index step */
    long index;
} set_step;

/* Splits "a.b[2][0].c" into steps; returns the count or -1. */
static int set_parse_path(const char *p, const char *end, set_step *steps, int max) {
    int n = 0;
    bool need_name = true;
    while (p < end) {
        if (n == max)
            return -1;
        set_step *st = &steps[n];
        if (*p == '[') {
            if (need_name && n == 0)
                return -1;
            char *e;
            if (p[1] < '0' || p[1] > '9')
                return -1;
            st->index = strtol(p + 1, &e, 10);
            if (*e != ']')
                return -1;
            st->name[0] = '\0';
            p = e + 1;
            n++;
            need_name = false;
        } else if (*p == '.') {
            if (need_name)
                return -1;
            p++;
            need_name = true;
        } else {
            if (!need_name)
                return -1;
            size_t len = 0;
            while (p + len < end && p[len] != '.' && p[len] != '[')
                len++;
            if (len == 0 || len >= sizeof st->name)
                return -1;
            memcpy(st->name, p, len);
            st->name[len] = '\0';
            st->index = -1;
            p += len;
            n++;
            need_name = false;
        }
    }
    return need_name ? -1 : n;
}

int sim__cfg_set(sim_cfg *c, const char *assignment) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return set_fail(c, assignment, "expected PATH=VALUE (for example --set network.loss=0.01)");
    set_step steps[32];
    int n = set_parse_path(assignment, eq, steps, 32);
    if (n < 0)
        return set_fail(c, assignment,
                        "cannot read the path (write key.key, key[index] or key[index].key)");
    const char *value = eq + 1;
    cJSON *cur = c->root;
    char where[512] = "$";
    for (int i = 0; i < n; i++) {
        set_step *st = &steps[i];
        bool last = i == n - 1;
        cJSON *next;
        if (st->index < 0) {
            if (!cJSON_IsObject(cur))
                return set_fail(c, assignment, "%s is %s, which has no key \"%s\"", where,
                                json_kind(cur), st->name);
            next = cJSON_GetObjectItemCaseSensitive(cur, st->name);
            if (last) {
                cJSON *v = set_value(value);
                if (next)
                    cJSON_ReplaceItemInObjectCaseSensitive(cur, st->name, v);
                else
                    cJSON_AddItemToObject(cur, st->name, v);
                remember_set(c, v);
                return 0;
            }
            if (!next) {
                if (steps[i + 1].index >= 0)
                    return set_fail(c, assignment,
                                    "%s.%s is not in the scenario, so it has no "
                                    "elements to set",
                                    where, st->name);
                next = cJSON_CreateObject();
                cJSON_AddItemToObject(cur, st->name, next);
            }
            size_t len = strlen(where);
            snprintf(where + len, sizeof where - len, ".%.127s", st->name);
        } else {
            if (!cJSON_IsArray(cur))
                return set_fail(c, assignment, "%s is %s, not a list", where, json_kind(cur));
            int size = cJSON_GetArraySize(cur);
            if (st->index >= size)
                return set_fail(c, assignment, "%s has %d element%s (indexes 0 to %d)", where, size,
                                size == 1 ? "" : "s", size - 1);
            next = cJSON_GetArrayItem(cur, (int)st->index);
            if (last) {
                cJSON *v = set_value(value);
                cJSON_ReplaceItemViaPointer(cur, next, v);
                remember_set(c, v);
                return 0;
            }
            size_t len = strlen(where);
            snprintf(where + len, sizeof where - len, "[%ld]", st->index);
        }
        cur = next;
    }
    return 0;
}

/* A --set string may stand for a number or a boolean: parse it when the
 * schema wants one.  Returns a node the caller owns (or NULL if it does not
 * parse). */
cJSON *cfg__coerce_set(const cJSON *v) {
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(v->valuestring, &end, true);
    return j;
}

/* ---- Scalar readers. ---- */

void cfg__seg_of(char *seg, size_t n, const char *key) { key_seg(seg, n, key); }

/* Reads a number at key (with --set coercion).  Returns 1 if present, 0 if
 * absent, -1 on a type error. */
int cfg__get_number(sim_cfg *c, const char *key, const char *what, double *out) {
    cJSON *v = sim__cfg_take(c, key);
    if (!v)
        return 0;
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    if (cJSON_IsString(v) && sim__cfg_from_set(c, v)) {
        cJSON *j = cfg__coerce_set(v);
        bool ok = j && cJSON_IsNumber(j);
        double d = ok ? j->valuedouble : 0;
        cJSON_Delete(j);
        if (!ok)
            return sim__cfg_fail_at(c, seg, "\"%s\" is not a number (expected %s)", v->valuestring,
                                    what);
        *out = d;
        return 1;
    }
    if (!cJSON_IsNumber(v))
        return sim__cfg_fail_at(c, seg, "must be a number (expected %s)", what);
    *out = v->valuedouble;
    return 1;
}

void cfg__out_put(sim_cfg *c, const char *key, cJSON *item) {
    cJSON *o = cfg__top(c)->out;
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, item);
    else
        cJSON_AddItemToObject(o, key, item);
}

int sim_cfg_int(sim_cfg *c, const char *key, int64_t def, int64_t min, int64_t max, int64_t *out) {
    if (c->failed)
        return -1;
    char what[128], seg[300];
    snprintf(what, sizeof what, "an integer from %lld to %lld", (long long)min, (long long)max);
    cfg__seg_of(seg, sizeof seg, key);
    double d;
    int r = cfg__get_number(c, key, what, &d);
    if (r < 0)
        return -1;
    int64_t v = def;
    if (r == 1) {
        char num[SIM_FORMAT_DOUBLE_SIZE];
        sim_format_double(num, sizeof num, d);
        if (isnan(d) || (isfinite(d) && d != floor(d)))
            return sim__cfg_fail_at(c, seg, "%s is not a whole number (allowed: %s)", num, what);
        if (!sim_double_to_int64(d, &v) || v < min || v > max)
            return sim__cfg_fail_at(c, seg, "%s is out of range (allowed: %s)", num, what);
    }
    *out = v;
    cfg__out_put(c, key, cJSON_CreateNumber((double)v));
    return 0;
}

int sim_cfg_num(sim_cfg *c, const char *key, double def, double min, double max, double *out) {
    if (c->failed)
        return -1;
    char what[128], seg[300];
    snprintf(what, sizeof what, "a number from %g to %g", min, max);
    cfg__seg_of(seg, sizeof seg, key);
    double d = def;
    int r = cfg__get_number(c, key, what, &d);
    if (r < 0)
        return -1;
    if (isnan(d) || d < min || d > max) {
        char num[SIM_FORMAT_DOUBLE_SIZE];
        sim_format_double(num, sizeof num, d);
        return sim__cfg_fail_at(c, seg, "%s is out of range (allowed: %s)", num, what);
    }
    *out = d;
    cfg__out_put(c, key, cJSON_CreateNumber(d));
    return 0;
}

int sim_cfg_prob(sim_cfg *c, const char *key, double def, double *out) {
    if (c->failed)
        return -1;
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    double d = def;
    int r = cfg__get_number(c, key, "a probability from 0 to 1", &d);
    if (r < 0)
        return -1;
    if (!(d >= 0 && d <= 1)) {
        char num[SIM_FORMAT_DOUBLE_SIZE];
        sim_format_double(num, sizeof num, d);
        return sim__cfg_fail_at(c, seg, "%s is not a probability (allowed: 0 to 1)", num);
    }
    *out = d;
    cfg__out_put(c, key, cJSON_CreateNumber(d));
    return 0;
}

int sim_cfg_bool(sim_cfg *c, const char *key, bool def, bool *out) {
    if (c->failed)
        return -1;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    bool b = def;
    if (v) {
        if (cJSON_IsString(v) && sim__cfg_from_set(c, v) &&
            (strcmp(v->valuestring, "true") == 0 || strcmp(v->valuestring, "false") == 0))
            b = strcmp(v->valuestring, "true") == 0;
        else if (cJSON_IsBool(v))
            b = cJSON_IsTrue(v);
        else
            return sim__cfg_fail_at(c, seg, "must be true or false");
    }
    *out = b;
    cfg__out_put(c, key, cJSON_CreateBool(b));
    return 0;
}

int sim__cfg_parse_time(sim_cfg *c, cJSON *v, const char *seg, sim_time min, sim_time max,
                        sim_time *out) {
    char lo[32], hi[32];
    sim_time_format(min, lo, sizeof lo);
    sim_time_format(max, hi, sizeof hi);
    if (cJSON_IsNumber(v))
        return sim__cfg_fail_at(c, seg,
                                "%g has no unit (write a duration such as \"%gms\" or \"%gs\")",
                                v->valuedouble, v->valuedouble, v->valuedouble);
    if (!cJSON_IsString(v))
        return sim__cfg_fail_at(c, seg, "must be a duration string such as \"10ms\"");
    const char *why;
    sim_time t;
    if (sim_time_parse(v->valuestring, &t, &why) < 0)
        return sim__cfg_fail_at(
            c, seg, "\"%s\" %s (a duration is a number and a unit: ns, us, ms, s, m, h)",
            v->valuestring, why);
    if (t < min || t > max)
        return sim__cfg_fail_at(c, seg, "\"%s\" is out of range (allowed: %s to %s)",
                                v->valuestring, lo, hi);
    *out = t;
    return 0;
}

int sim_cfg_time(sim_cfg *c, const char *key, const char *def, sim_time min, sim_time max,
                 sim_time *out) {
    if (c->failed)
        return -1;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    sim_time t;
    if (v) {
        if (sim__cfg_parse_time(c, v, seg, min, max, &t) < 0)
            return -1;
    } else if (!def) {
        return cfg__fail_required(c, key, "is required (a duration such as \"30s\")");
    } else {
        const char *why;
        SIM_ASSERT(sim_time_parse(def, &t, &why) == 0);
    }
    *out = t;
    char buf[40];
    cfg__out_put(c, key, cJSON_CreateString(sim_time_format(t, buf, sizeof buf)));
    return 0;
}

int sim_cfg_str(sim_cfg *c, const char *key, const char *def, const char **out) {
    if (c->failed)
        return -1;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    if (!v) {
        if (!def)
            return cfg__fail_required(c, key, "is required");
        *out = def;
    } else if (!cJSON_IsString(v)) {
        return sim__cfg_fail_at(c, seg, "must be a string");
    } else {
        *out = v->valuestring;
    }
    cfg__out_put(c, key, cJSON_CreateString(*out));
    return 0;
}

int sim_cfg_enum(sim_cfg *c, const char *key, const char *def, const char *const *choices,
                 int *out) {
    if (c->failed)
        return -1;
    const char *s;
    cJSON *v = sim__cfg_take(c, key);
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    char list[400] = "";
    size_t n = 0;
    for (; choices[n]; n++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\"%s\"", n ? ", " : "", choices[n]);
    }
    if (!v) {
        if (!def)
            return cfg__fail_required(c, key, "is required (one of %s)", list);
        s = def;
    } else if (!cJSON_IsString(v)) {
        return sim__cfg_fail_at(c, seg, "must be a string (one of %s)", list);
    } else {
        s = v->valuestring;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, choices[i]) == 0) {
            *out = (int)i;
            cfg__out_put(c, key, cJSON_CreateString(s));
            return 0;
        }
    const char *hint = sim__suggest(s, choices, n);
    if (hint)
        return sim__cfg_fail_at(c, seg, "\"%s\" is not allowed; did you mean \"%s\"? (one of %s)",
                                s, hint, list);
    return sim__cfg_fail_at(c, seg, "\"%s\" is not allowed (one of %s)", s, list);
}

int sim_cfg_node(sim_cfg *c, const char *key, const char *def, uint32_t *out) {
    if (c->failed)
        return -1;
    const char *name;
    if (sim_cfg_str(c, key, def, &name) < 0)
        return -1;
    sim *s = c->s;
    SIM_ASSERT(s->nodes);
    for (uint32_t i = 0; i < s->n_nodes; i++)
        if (strcmp(s->nodes[i].name, name) == 0) {
            *out = i;
            return 0;
        }
    char groups[400] = "";
    for (uint32_t g = 0; g < s->n_groups; g++) {
        size_t len = strlen(groups);
        snprintf(groups + len, sizeof groups - len, "%s%s0..%s%u", g ? ", " : "", s->groups[g].name,
                 s->groups[g].name, s->groups[g].count - 1);
    }
    char seg[300];
    cfg__seg_of(seg, sizeof seg, key);
    return sim__cfg_fail_at(c, seg, "\"%s\" is not a node (nodes: %s)", name, groups);
}

int sim_cfg_add_nodes(sim_cfg *c, const char *group, uint32_t count) {
    if (c->failed)
        return -1;
    sim *s = c->s;
    SIM_ASSERT(!s->nodes);
    for (uint32_t g = 0; g < s->n_groups; g++)
        if (strcmp(s->groups[g].name, group) == 0)
            return sim_cfg_fail(c, NULL,
                                "the model adds a node group \"%s\", but $.nodes already has a "
                                "group of that name (rename yours)",
                                group);
    if (s->n_groups == SIM_MAX_GROUPS)
        return sim_cfg_fail(c, NULL, "too many node groups (at most %u)", SIM_MAX_GROUPS);
    uint64_t total = (uint64_t)s->n_nodes + count;
    if (total > SIM_MAX_NODES)
        return sim_cfg_fail(c, NULL, "%llu nodes in all is too many (at most %u)",
                            (unsigned long long)total, SIM_MAX_NODES);
    sim__group *g = &s->groups[s->n_groups++];
    g->name = sim_strdup(group);
    g->first = s->n_nodes;
    g->count = count;
    s->n_nodes = (uint32_t)total;
    return 0;
}
