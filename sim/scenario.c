/*
 * scenario.c - the kernel's part of a scenario: top-level keys, nodes,
 * network, fault schedule and random faults; then the model's part.
 *
 * Reading order matters and is fixed: top-level settings, then the model's
 * object (its configure hook may add node groups, such as clients), then
 * the nodes are created, then everything that names nodes (links, faults)
 * is resolved, then the model's validate hook, and last the check for
 * unknown keys at the top level.  The first error stops the load.
 */
#include "scenario.h"
#include "cfg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void sim__cfg_finish(sim_cfg *c);

#define MAX_SCENARIO_BYTES (64u << 20)

/* ---- Reading the file. ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "error: %s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "error: %s: is a directory (give a scenario .json file)", path);
        return NULL;
    }
    if ((uint64_t)st.st_size > MAX_SCENARIO_BYTES) {
        snprintf(err, errlen, "error: %s: the file is too large (at most %u MiB)", path,
                 MAX_SCENARIO_BYTES >> 20);
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "error: %s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = sim_malloc((size_t)st.st_size + 1);
    size_t n = fread(buf, 1, (size_t)st.st_size, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "error: %s: cannot read", path);
        sim_free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        snprintf(err, errlen, "error: %s: $: not a text file (a scenario is one JSON object)",
                 path);
        sim_free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

/* ---- Names and node selections. ---- */

static bool valid_name(const char *s, bool group) {
    size_t n = strlen(s);
    if (n == 0 || n > 48)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (i > 0 && (ch == '_' || ch == '-' || (ch >= '0' && ch <= '9')));
        if (!ok)
            return false;
    }
    /* Group names must not end in a digit: "n" has nodes n0, n1, ... and a
     * group "n1" would be ambiguous with its node. */
    return !group || !(s[n - 1] >= '0' && s[n - 1] <= '9');
}

/* Resolves one name to a selection: "*", a group or a node. */
static int resolve_sel(sim_cfg *c, sim *s, cJSON *v, const char *seg, sim__sel *out) {
    if (!cJSON_IsString(v))
        return sim__cfg_fail_at(c, seg, "must be a node or group name (a string)");
    const char *name = v->valuestring;
    if (strcmp(name, "*") == 0) {
        *out = (sim__sel){SIM_SEL_ANY, 0};
        return 0;
    }
    int g = sim_group_find(s, name);
    if (g >= 0) {
        *out = (sim__sel){SIM_SEL_GROUP, (uint32_t)g};
        return 0;
    }
    /* A node name is a group name followed by an index. */
    for (uint32_t gi = 0; gi < s->n_groups; gi++) {
        size_t gl = strlen(s->groups[gi].name);
        if (strncmp(name, s->groups[gi].name, gl) != 0 || name[gl] == '\0')
            continue;
        const char *p = name + gl;
        if (*p == '0' && p[1] != '\0')
            continue;
        char *end;
        errno = 0;
        unsigned long idx = strtoul(p, &end, 10);
        if (*end == '\0' && *p >= '0' && *p <= '9' && errno == 0) {
            if (idx >= s->groups[gi].count)
                return sim__cfg_fail_at(c, seg,
                                        "\"%s\" is not a node (group \"%s\" has %s%u .. %s%u)",
                                        name, s->groups[gi].name, s->groups[gi].name, 0u,
                                        s->groups[gi].name, s->groups[gi].count - 1);
            *out = (sim__sel){SIM_SEL_NODE, s->groups[gi].first + (uint32_t)idx};
            return 0;
        }
    }
    char groups[300] = "";
    for (uint32_t gi = 0; gi < s->n_groups; gi++) {
        size_t len = strlen(groups);
        snprintf(groups + len, sizeof groups - len, "%s\"%s\" (%s0..%s%u)", gi ? ", " : "",
                 s->groups[gi].name, s->groups[gi].name, s->groups[gi].name,
                 s->groups[gi].count - 1);
    }
    return sim__cfg_fail_at(c, seg, "\"%s\" is not a node or group (groups: %s; \"*\" is all)",
                            name, groups);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Adds the nodes of sel to a growing list. */
static void sel_append(const sim *s, sim__sel sel, uint32_t **list, uint32_t *n, uint32_t *cap) {
    uint32_t first = 0, count = 0;
    if (sel.kind == SIM_SEL_ANY) {
        count = s->n_nodes;
    } else if (sel.kind == SIM_SEL_GROUP) {
        first = s->groups[sel.id].first;
        count = s->groups[sel.id].count;
    } else {
        first = sel.id;
        count = 1;
    }
    if (*n + count > *cap) {
        *cap = (*n + count) * 2;
        *list = sim_realloc(*list, *cap * sizeof **list);
    }
    for (uint32_t i = 0; i < count; i++)
        (*list)[(*n)++] = first + i;
}

/* Reads a node list: one name or a list of names; sorted and unique. */
static int read_nodes(sim_cfg *c, sim *s, cJSON *v, const char *seg, sim__nodeset *out,
                      bool allow_dupes) {
    uint32_t *list = NULL, n = 0, cap = 0;
    if (cJSON_IsString(v)) {
        sim__sel sel;
        if (resolve_sel(c, s, v, seg, &sel) < 0)
            return -1;
        sel_append(s, sel, &list, &n, &cap);
    } else if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) {
        int i = 0;
        for (cJSON *it = v->child; it; it = it->next, i++) {
            char iseg[340];
            snprintf(iseg, sizeof iseg, "%s[%d]", seg, i);
            sim__sel sel;
            if (resolve_sel(c, s, it, iseg, &sel) < 0) {
                sim_free(list);
                return -1;
            }
            sel_append(s, sel, &list, &n, &cap);
        }
    } else {
        return sim__cfg_fail_at(c, seg,
                                "must be a node or group name, or a non-empty list of them");
    }
    qsort(list, n, sizeof *list, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (u > 0 && list[u - 1] == list[i]) {
            if (!allow_dupes) {
                const char *name = s->nodes[list[i]].name;
                sim_free(list);
                return sim__cfg_fail_at(c, seg, "names node \"%s\" twice", name);
            }
            continue;
        }
        list[u++] = list[i];
    }
    out->n = u;
    out->nodes = list;
    return 0;
}

static cJSON *nodeset_json(const sim *s, const sim__nodeset *set) {
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; i < set->n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(s->nodes[set->nodes[i]].name));
    return a;
}

/* ---- nodes ---- */

static int read_node_groups(sim_cfg *c, sim *s) {
    cJSON *v = sim__cfg_take(c, "nodes");
    if (!v)
        return 0; /* the model may create its own nodes; checked after configure */
    cJSON *out = cJSON_CreateArray();
    cJSON_AddItemToObject(sim__cfg_out(c), "nodes", out);
    double d = 0;
    bool is_count = cJSON_IsNumber(v);
    if (is_count) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v) && sim__cfg_from_set(c, v)) {
        char *end;
        d = strtod(v->valuestring, &end);
        is_count = *v->valuestring && *end == '\0';
    }
    if (is_count) {
        int64_t count;
        if (!sim_double_to_int64(d, &count) || count < 1 || count > SIM_MAX_NODES)
            return sim__cfg_fail_at(c, ".nodes",
                                    "%.17g is not allowed (a whole number from 1 to %u)", d,
                                    SIM_MAX_NODES);
        if (sim_cfg_add_nodes(c, "n", (uint32_t)count) < 0)
            return -1;
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "group", "n");
        cJSON_AddNumberToObject(g, "count", d);
        cJSON_AddItemToArray(out, g);
        return 0;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return sim__cfg_fail_at(c, ".nodes",
                                "must be a node count (1 to %u) or a non-empty list "
                                "of groups {\"group\": name, \"count\": n}",
                                SIM_MAX_NODES);
    int i = 0;
    for (cJSON *it = v->child; it; it = it->next, i++) {
        char seg[64];
        snprintf(seg, sizeof seg, ".nodes[%d]", i);
        cJSON *go = cJSON_CreateObject();
        cJSON_AddItemToArray(out, go);
        if (sim__cfg_enter_value(c, it, seg, go) < 0)
            return -1;
        const char *name;
        int64_t count;
        if (sim_cfg_str(c, "group", NULL, &name) < 0 ||
            sim_cfg_int(c, "count", 1, 1, SIM_MAX_NODES, &count) < 0)
            return -1;
        if (sim_group_find(s, name) >= 0)
            return sim_cfg_fail(c, "group", "the node group \"%s\" already exists", name);
        if (!valid_name(name, true))
            return sim_cfg_fail(c, "group",
                                "\"%s\" is not a valid group name (letters, digits, '_' and "
                                "'-', starting with a letter, not ending in a digit)",
                                name);
        if (sim_cfg_add_nodes(c, name, (uint32_t)count) < 0)
            return -1;
        sim_cfg_leave(c);
        if (sim__cfg_failed(c))
            return -1;
    }
    return 0;
}

/* ---- network ---- */

static int read_msg_type(sim_cfg *c, sim *s, cJSON *v, int *out) {
    if (!v) {
        *out = -1;
        return 0;
    }
    if (!cJSON_IsString(v))
        return sim__cfg_fail_at(c, ".message", "must be a message type name");
    for (uint32_t t = 0; t < s->n_types; t++)
        if (strcmp(s->type_names[t], v->valuestring) == 0) {
            *out = (int)t;
            return 0;
        }
    char list[400] = "";
    for (uint32_t t = 0; t < s->n_types; t++) {
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s\"%s\"", t ? ", " : "", s->type_names[t]);
    }
    const char *hint = sim__suggest(v->valuestring, s->type_names, s->n_types);
    if (hint)
        return sim__cfg_fail_at(c, ".message",
                                "\"%s\" is not a message type of model %s; did you mean \"%s\"?",
                                v->valuestring, s->model->name, hint);
    return sim__cfg_fail_at(c, ".message", "\"%s\" is not a message type of model %s (one of %s)",
                            v->valuestring, s->model->name, list);
}

static int read_link(sim_cfg *c, sim *s, sim__link_rule *r) {
    cJSON *from = sim__cfg_take(c, "from"), *to = sim__cfg_take(c, "to");
    cJSON *out = sim__cfg_out(c);
    r->from.kind = r->to.kind = SIM_SEL_ANY;
    if (from && resolve_sel(c, s, from, ".from", &r->from) < 0)
        return -1;
    if (to && resolve_sel(c, s, to, ".to", &r->to) < 0)
        return -1;
    cJSON_AddStringToObject(out, "from", from ? from->valuestring : "*");
    cJSON_AddStringToObject(out, "to", to ? to->valuestring : "*");
    if (sim_cfg_bool(c, "one_way", false, &r->one_way) < 0)
        return -1;
    cJSON *msg = sim__cfg_take(c, "message");
    if (read_msg_type(c, s, msg, &r->msg_type) < 0)
        return -1;
    if (msg)
        cJSON_AddStringToObject(out, "message", msg->valuestring);
    cJSON *lat = sim__cfg_take(c, "latency");
    if (lat) {
        cJSON *res;
        r->has_latency = true;
        int rc = sim__cfg_parse_dist(c, lat, ".latency", SIM_UNIT_TIME, &r->latency, &res);
        cJSON_AddItemToObject(out, "latency", res);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int read_network(sim_cfg *c, sim *s) {
    if (sim_cfg_enter(c, "network") < 0)
        return -1;
    if (sim_cfg_dist(c, "latency", "1ms", SIM_UNIT_TIME, &s->default_latency) < 0 ||
        sim_cfg_prob(c, "loss", 0, &s->default_loss) < 0 ||
        sim_cfg_prob(c, "duplicate", 0, &s->default_duplicate) < 0)
        return -1;
    cJSON *links = sim__cfg_take(c, "links");
    cJSON *out = cJSON_CreateArray();
    cJSON_AddItemToObject(sim__cfg_out(c), "links", out);
    if (links) {
        if (!cJSON_IsArray(links))
            return sim__cfg_fail_at(c, ".links", "must be a list of link rules");
        int n = cJSON_GetArraySize(links);
        if (n > 100000)
            return sim__cfg_fail_at(c, ".links", "has too many rules (at most 100000)");
        s->rules = sim_calloc((size_t)n, sizeof *s->rules);
        int i = 0;
        for (cJSON *it = links->child; it; it = it->next, i++) {
            char seg[64];
            snprintf(seg, sizeof seg, ".links[%d]", i);
            cJSON *ro = cJSON_CreateObject();
            cJSON_AddItemToArray(out, ro);
            if (sim__cfg_enter_value(c, it, seg, ro) < 0)
                return -1;
            sim__link_rule *r = &s->rules[s->n_rules++];
            r->msg_type = -1;
            if (read_link(c, s, r) < 0)
                return -1;
            cJSON *lo = sim__cfg_take(c, "loss"), *du = sim__cfg_take(c, "duplicate");
            r->has_loss = lo != NULL;
            r->has_duplicate = du != NULL;
            /* Re-read through the typed reader for range checks and output. */
            if (lo && sim_cfg_prob(c, "loss", 0, &r->loss) < 0)
                return -1;
            if (du && sim_cfg_prob(c, "duplicate", 0, &r->duplicate) < 0)
                return -1;
            if (!r->has_latency && !r->has_loss && !r->has_duplicate)
                return sim__cfg_fail_at(c, NULL,
                                        "a link rule must set at least one of \"latency\", "
                                        "\"loss\" or \"duplicate\"");
            sim_cfg_leave(c);
            if (sim__cfg_failed(c))
                return -1;
        }
    }
    sim_cfg_leave(c);
    return sim__cfg_failed(c) ? -1 : 0;
}

/* ---- faults ---- */

/* Reads a signed duration ("-50ms" allowed) for clock offsets. */
static int read_signed_time(sim_cfg *c, const char *key, sim_time *out) {
    cJSON *v = sim__cfg_take(c, key);
    char seg[64];
    snprintf(seg, sizeof seg, ".%s", key);
    *out = 0;
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || v->valuestring[0] != '-')
        return sim__cfg_parse_time(c, v, seg, 0, 1000 * 3600 * SIM_S, out);
    const char *why;
    sim_time t;
    if (sim_time_parse(v->valuestring + 1, &t, &why) < 0 || v->valuestring[1] == '-')
        return sim__cfg_fail_at(c, seg,
                                "\"%s\" is not a duration (a number and a unit, optionally with "
                                "one leading '-': \"-50ms\")",
                                v->valuestring);
    if (t > 1000 * 3600 * SIM_S)
        return sim__cfg_fail_at(c, seg, "\"%s\" is out of range (allowed: -1000h to 1000h)",
                                v->valuestring);
    *out = -t;
    return 0;
}

static const char *const action_keys[] = {
    "partition", "partition_one_way", "heal", "crash",     "recover",
    "fail",      "replace",           "slow", "slow_link", "clock"};

static int read_fault(sim_cfg *c, sim *s, sim__fault *f) {
    cJSON *out = sim__cfg_out(c);
    if (sim_cfg_time(c, "at", "0s", 0, s->duration, &f->at) < 0)
        return -1;
    cJSON *act = NULL;
    int kind = -1;
    for (int k = 0; k < SIM_FAULT_KIND_COUNT; k++) {
        cJSON *v = sim__cfg_take(c, action_keys[k]);
        if (!v)
            continue;
        if (act)
            return sim__cfg_fail_at(c, NULL,
                                    "has both \"%s\" and \"%s\" (one action per entry; add another "
                                    "entry with the same \"at\")",
                                    action_keys[kind], action_keys[k]);
        act = v;
        kind = k;
    }
    if (!act)
        return sim__cfg_fail_at(c, NULL,
                                "needs one action: partition, partition_one_way, heal, crash, "
                                "recover, fail, replace, slow, slow_link or clock");
    f->kind = (sim__fault_kind)kind;
    char seg[64];
    snprintf(seg, sizeof seg, ".%s", action_keys[kind]);
    switch (f->kind) {
    case SIM_FAULT_PARTITION: {
        if (!cJSON_IsArray(act) || cJSON_GetArraySize(act) < 2)
            return sim__cfg_fail_at(c, seg,
                                    "must be a list of at least two groups of nodes, "
                                    "such as [[\"n0\",\"n1\"],[\"n2\"]]");
        int n = cJSON_GetArraySize(act);
        f->groups = sim_calloc((size_t)n, sizeof *f->groups);
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToObject(out, "partition", arr);
        int i = 0;
        for (cJSON *it = act->child; it; it = it->next, i++) {
            char gseg[80];
            snprintf(gseg, sizeof gseg, "%s[%d]", seg, i);
            if (read_nodes(c, s, it, gseg, &f->groups[f->n_groups++], false) < 0)
                return -1;
            cJSON_AddItemToArray(arr, nodeset_json(s, &f->groups[i]));
        }
        /* Groups must not overlap. */
        for (int a = 0; a < n; a++)
            for (int b = a + 1; b < n; b++)
                for (uint32_t k = 0; k < f->groups[a].n; k++)
                    if (sim__nodeset_has(&f->groups[b], f->groups[a].nodes[k]))
                        return sim__cfg_fail_at(c, seg,
                                                "groups %d and %d overlap: node \"%s\" is in both",
                                                a, b, s->nodes[f->groups[a].nodes[k]].name);
        break;
    }
    case SIM_FAULT_CUT: {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "partition_one_way", o);
        if (sim__cfg_enter_value(c, act, seg, o) < 0)
            return -1;
        cJSON *from = sim__cfg_take(c, "from"), *to = sim__cfg_take(c, "to");
        if (!from || !to)
            return sim__cfg_fail_at(c, from ? ".to" : ".from",
                                    "is required (messages from \"from\" to \"to\" are cut)");
        if (read_nodes(c, s, from, ".from", &f->cut.from, true) < 0 ||
            read_nodes(c, s, to, ".to", &f->cut.to, true) < 0)
            return -1;
        cJSON_AddItemToObject(o, "from", nodeset_json(s, &f->cut.from));
        cJSON_AddItemToObject(o, "to", nodeset_json(s, &f->cut.to));
        sim_cfg_leave(c);
        break;
    }
    case SIM_FAULT_HEAL:
        if (!cJSON_IsTrue(act))
            return sim__cfg_fail_at(c, seg, "must be true");
        cJSON_AddTrueToObject(out, "heal");
        break;
    case SIM_FAULT_CRASH:
    case SIM_FAULT_RECOVER:
    case SIM_FAULT_FAIL:
    case SIM_FAULT_REPLACE:
    case SIM_FAULT_SLOW_NODE:
    case SIM_FAULT_CLOCK: {
        sim__nodeset set;
        if (read_nodes(c, s, act, seg, &set, false) < 0)
            return -1;
        f->n_nodes = set.n;
        f->nodes = set.nodes;
        cJSON_AddItemToObject(out, action_keys[kind], nodeset_json(s, &set));
        if (f->kind == SIM_FAULT_SLOW_NODE &&
            sim_cfg_num(c, "factor", 10, 0.001, 1e6, &f->factor) < 0)
            return -1;
        if (f->kind == SIM_FAULT_CLOCK) {
            if (read_signed_time(c, "offset", &f->clock_offset) < 0 ||
                sim_cfg_num(c, "drift_ppm", 0, -1e5, 1e5, &f->clock_drift_ppm) < 0)
                return -1;
            char buf[40];
            sim_time a = f->clock_offset < 0 ? -f->clock_offset : f->clock_offset;
            char sbuf[48];
            snprintf(sbuf, sizeof sbuf, "%s%s", f->clock_offset < 0 ? "-" : "",
                     sim_time_format(a, buf, sizeof buf));
            cJSON_AddStringToObject(out, "offset", sbuf);
        }
        break;
    }
    case SIM_FAULT_SLOW_LINK: {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(out, "slow_link", o);
        if (sim__cfg_enter_value(c, act, seg, o) < 0)
            return -1;
        cJSON *from = sim__cfg_take(c, "from"), *to = sim__cfg_take(c, "to");
        if (!from || !to)
            return sim__cfg_fail_at(c, from ? ".to" : ".from", "is required");
        if (resolve_sel(c, s, from, ".from", &f->slow.from) < 0 ||
            resolve_sel(c, s, to, ".to", &f->slow.to) < 0)
            return -1;
        cJSON_AddStringToObject(o, "from", from->valuestring);
        cJSON_AddStringToObject(o, "to", to->valuestring);
        if (sim_cfg_bool(c, "one_way", false, &f->slow.one_way) < 0)
            return -1;
        sim_cfg_leave(c);
        if (sim_cfg_num(c, "factor", 10, 0.001, 1e6, &f->slow.factor) < 0)
            return -1;
        break;
    }
    case SIM_FAULT_KIND_COUNT:
        break;
    }
    return sim__cfg_failed(c) ? -1 : 0;
}

/* Stable merge sort of faults by time (bottom-up, one scratch array). */
static void sort_faults(sim__fault *a, uint32_t n) {
    if (n < 2)
        return;
    sim__fault *tmp = sim_malloc((size_t)n * sizeof *tmp);
    sim__fault *src = a, *dst = tmp;
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = src[j].at < src[i].at ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        sim__fault *t = src;
        src = dst;
        dst = t;
    }
    if (src != a)
        memcpy(a, src, (size_t)n * sizeof *a);
    sim_free(tmp);
}

static int read_faults(sim_cfg *c, sim *s) {
    cJSON *v = sim__cfg_take(c, "faults");
    cJSON *out = cJSON_CreateArray();
    cJSON_AddItemToObject(sim__cfg_out(c), "faults", out);
    if (!v)
        return 0;
    if (!cJSON_IsArray(v))
        return sim__cfg_fail_at(c, ".faults", "must be a list of {\"at\": time, action...}");
    int n = cJSON_GetArraySize(v);
    if (n > 1000000)
        return sim__cfg_fail_at(c, ".faults", "has too many entries (at most 1000000)");
    s->faults = sim_calloc((size_t)n, sizeof *s->faults);
    int i = 0;
    for (cJSON *it = v->child; it; it = it->next, i++) {
        char seg[64];
        snprintf(seg, sizeof seg, ".faults[%d]", i);
        cJSON *fo = cJSON_CreateObject();
        cJSON_AddItemToArray(out, fo);
        if (sim__cfg_enter_value(c, it, seg, fo) < 0)
            return -1;
        int rc = read_fault(c, s, &s->faults[s->n_faults++]);
        sim_cfg_leave(c);
        if (rc < 0 || sim__cfg_failed(c))
            return -1;
    }
    /* The list may be in any order; a stable sort by time keeps list order
     * among equal times.  A merge sort: O(n log n) for any order (10^5
     * faults in reverse order load in milliseconds, bench/loader.sh). */
    sort_faults(s->faults, s->n_faults);
    return 0;
}

static int read_random_faults(sim_cfg *c, sim *s) {
    cJSON *rf = sim__cfg_take(c, "random_faults");
    if (!rf)
        return 0;
    if (sim_cfg_enter(c, "random_faults") < 0)
        return -1;
    if (sim__cfg_take(c, "crash")) {
        if (sim_cfg_enter(c, "crash") < 0)
            return -1;
        cJSON *nodes = sim__cfg_take(c, "nodes");
        cJSON *all = cJSON_CreateString("*");
        int rc = read_nodes(c, s, nodes ? nodes : all, ".nodes", &s->random_crash.nodes, true);
        cJSON_Delete(all);
        if (rc < 0)
            return -1;
        cJSON_AddItemToObject(sim__cfg_out(c), "nodes", nodeset_json(s, &s->random_crash.nodes));
        if (sim_cfg_dist(c, "mtbf", "{\"type\":\"exponential\",\"mean\":\"60s\"}", SIM_UNIT_TIME,
                         &s->random_crash.mtbf) < 0 ||
            sim_cfg_dist(c, "mttr", "{\"type\":\"exponential\",\"mean\":\"10s\"}", SIM_UNIT_TIME,
                         &s->random_crash.mttr) < 0)
            return -1;
        if (sim_dist_mean(&s->random_crash.mtbf) <= 0)
            return sim__cfg_fail_at(c, ".mtbf", "must have a mean greater than 0");
        s->random_crash.enabled = true;
        sim_cfg_leave(c);
    }
    if (sim__cfg_take(c, "partition")) {
        if (sim_cfg_enter(c, "partition") < 0)
            return -1;
        cJSON *nodes = sim__cfg_take(c, "nodes");
        cJSON *all = cJSON_CreateString("*");
        int rc = read_nodes(c, s, nodes ? nodes : all, ".nodes", &s->random_partition.nodes, true);
        cJSON_Delete(all);
        if (rc < 0)
            return -1;
        if (s->random_partition.nodes.n < 2)
            return sim__cfg_fail_at(c, ".nodes", "needs at least two nodes to split");
        cJSON_AddItemToObject(sim__cfg_out(c), "nodes",
                              nodeset_json(s, &s->random_partition.nodes));
        if (sim_cfg_dist(c, "every", "{\"type\":\"exponential\",\"mean\":\"60s\"}", SIM_UNIT_TIME,
                         &s->random_partition.every) < 0 ||
            sim_cfg_dist(c, "duration", "{\"type\":\"exponential\",\"mean\":\"10s\"}",
                         SIM_UNIT_TIME, &s->random_partition.duration) < 0)
            return -1;
        if (sim_dist_mean(&s->random_partition.every) <= 0)
            return sim__cfg_fail_at(c, ".every", "must have a mean greater than 0");
        s->random_partition.enabled = true;
        sim_cfg_leave(c);
    }
    sim_cfg_leave(c);
    return sim__cfg_failed(c) ? -1 : 0;
}

/* "predict": questions to answer before the run (`dsim run --predict`,
 * docs/report.md).  The kernel checks only their shape; which metrics can
 * be measured is the command's business (cli/predict.c). */
static int read_predict(sim_cfg *c) {
    if (!sim__cfg_take(c, "predict"))
        return 0;
    uint32_t n;
    if (sim_cfg_list(c, "predict", 100, &n) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        const char *ask = "", *metric = "", *explain = "";
        double tol;
        sim_time *win = NULL;
        uint32_t nw = 0;
        if (sim_cfg_enter_item(c, "predict", i) < 0)
            return -1;
        int rc = sim_cfg_str(c, "ask", NULL, &ask) < 0 ||
                         sim_cfg_str(c, "metric", NULL, &metric) < 0 ||
                         sim_cfg_time_list(c, "window", "[]", 0, (sim_time)1000000 * 3600 * SIM_S,
                                           2, &win, &nw) < 0 ||
                         sim_cfg_num(c, "tolerance", 0.05, 0, 1e15, &tol) < 0 ||
                         sim_cfg_str(c, "explain", "", &explain) < 0
                     ? -1
                     : 0;
        if (rc == 0 && !*ask)
            rc = sim_cfg_fail(c, "ask", "must not be empty");
        bool name_ok = rc == 0 && strchr(metric, '.') && strlen(metric) <= 128;
        for (const char *p = metric; rc == 0 && name_ok && *p; p++)
            name_ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-';
        if (rc == 0 && !name_ok)
            rc = sim_cfg_fail(c, "metric",
                              "\"%s\" is not a metric name (model.figure, e.g. "
                              "\"kv.stale_read_fraction\"; letters, digits, '_', '.', '-')",
                              metric);
        if (rc == 0 && (nw == 1 || (nw == 2 && win[1] <= win[0])))
            rc = sim_cfg_fail(c, "window", "must be [from, to] with from before to");
        sim_free(win);
        if (rc < 0)
            return -1;
        sim_cfg_leave(c);
    }
    return sim__cfg_failed(c) ? -1 : 0;
}

/* ---- the whole scenario ---- */

/* The default name: the file's base name without its extension, with any
 * character a name may not hold replaced by '-' ("my run.json" -> "my-run"). */
static const char *base_name(const char *path, char *buf, size_t n) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    while (*b == '.')
        b++;
    snprintf(buf, n < 65 ? n : 65, "%s", b);
    char *dot = strrchr(buf, '.');
    if (dot && dot != buf)
        *dot = '\0';
    for (char *p = buf; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            *p = '-';
    if (!*buf)
        snprintf(buf, n, "scenario");
    return buf;
}

static int load(sim_cfg *c, sim *s, const sim_load_opts *o) {
    char def_name[128];
    const char *name, *desc, *model_name;
    base_name(o->file, def_name, sizeof def_name);
    if (sim_cfg_str(c, "name", def_name, &name) < 0)
        return -1;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.') ||
            strlen(name) > 64 || name[0] == '.')
            return sim_cfg_fail(c, "name",
                                "\"%s\" is not allowed (up to 64 letters, digits, '_', '-' or "
                                "'.'; it names the output folder)",
                                name);
    if (!*name)
        return sim_cfg_fail(c, "name", "must not be empty");
    s->name = sim_strdup(name);
    if (sim_cfg_str(c, "description", "", &desc) < 0)
        return -1;

    const sim_model *const *table = o->models;
    SIM_ASSERT(table && table[0]);
    const char *models[64];
    size_t nm = 0;
    for (; table[nm] && nm < 63; nm++)
        models[nm] = table[nm]->name;
    models[nm] = NULL;
    int mi;
    if (sim_cfg_enum(c, "model", NULL, models, &mi) < 0)
        return -1;
    model_name = models[mi];
    s->model = table[mi];

    int64_t seed;
    /* Below 10^15 so that every seed prints exactly in JSON output. */
    if (sim_cfg_int(c, "seed", 1, 0, SIM_MAX_SEED, &seed) < 0)
        return -1;
    s->seed = (uint64_t)seed;
    if (o->has_seed) {
        s->seed = o->seed;
        cJSON_ReplaceItemInObjectCaseSensitive(sim__cfg_out(c), "seed",
                                               cJSON_CreateNumber((double)o->seed));
    }
    if (sim_cfg_time(c, "duration", "60s", SIM_NS, (sim_time)1000000 * 3600 * SIM_S, &s->duration) <
        0)
        return -1;
    int64_t max_events;
    if (sim_cfg_int(c, "max_events", 0, 0, (int64_t)1e15, &max_events) < 0)
        return -1;
    s->max_events = (uint64_t)max_events;
    if (sim_cfg_enter(c, "metrics") < 0 ||
        sim_cfg_time(c, "interval", "1s", 0, (sim_time)1000000 * 3600 * SIM_S,
                     &s->sample_interval) < 0)
        return -1;
    sim_cfg_leave(c);
    if (sim__cfg_failed(c))
        return -1;
    /* How many samples is the budget's question (budget.c), once the
     * columns are known. */

    if (read_node_groups(c, s) < 0)
        return -1;

    /* The model's own object. */
    const char *const *types = s->model->msg_types;
    s->type_names = types;
    s->n_types = 0;
    while (types && types[s->n_types])
        s->n_types++;
    s->msg_stats = sim_calloc(s->n_types ? s->n_types : 1, sizeof *s->msg_stats);
    s->shared = sim_calloc(1, s->model->shared_size ? s->model->shared_size : 1);
    if (sim_cfg_enter(c, model_name) < 0)
        return -1;
    if (s->model->configure && s->model->configure(c, s->shared) < 0) {
        if (!sim__cfg_failed(c))
            sim_cfg_fail(c, NULL, "the model refused this configuration");
        return -1;
    }
    sim_cfg_leave(c);
    if (sim__cfg_failed(c))
        return -1;

    if (s->n_nodes == 0)
        return sim__cfg_fail_at(c, ".nodes",
                                "is required (a count such as 5, or a list of groups "
                                "[{\"group\": \"server\", \"count\": 5}])");
    if (sim__create_nodes(s) < 0)
        return -1;
    if (read_network(c, s) < 0 || read_faults(c, s) < 0 || read_random_faults(c, s) < 0 ||
        read_predict(c) < 0)
        return -1;
    if (s->model->validate) {
        if (sim__cfg_reenter(c, model_name) < 0)
            return -1;
        if (s->model->validate(c, s->shared) < 0) {
            if (!sim__cfg_failed(c))
                sim_cfg_fail(c, NULL, "the model refused this configuration");
            return -1;
        }
        sim_cfg_leave(c);
    }
    sim__cfg_finish(c);
    return sim__cfg_failed(c) ? -1 : 0;
}

static sim *load_file(const sim_load_opts *o, cJSON **resolved, char *err, size_t errlen);

/* Every message the loader returns quotes the file: one escaped line. */
sim *sim_load(const sim_load_opts *o, cJSON **resolved, char *err, size_t errlen) {
    if (errlen)
        err[0] = '\0';
    sim *s = load_file(o, resolved, err, errlen);
    if (!s && errlen) {
        char *raw = sim_strdup(err);
        sim_escape(err, errlen, raw);
        sim_free(raw);
    }
    return s;
}

static sim *load_file(const sim_load_opts *o, cJSON **resolved, char *err, size_t errlen) {
    size_t len;
    char *text = read_file(o->file, &len, err, errlen);
    if (!text)
        return NULL;
    cJSON *root = sim__json_parse(o->file, text, len, err, errlen);
    sim_free(text);
    if (!root)
        return NULL;
    sim *s = sim__create();
    s->file = sim_strdup(o->file);
    sim_cfg *c = sim__cfg_create(s, s->file, root);
    int rc = 0;
    for (int i = 0; i < o->n_sets && rc == 0; i++)
        rc = sim__cfg_set(c, o->sets[i]);
    if (rc == 0)
        rc = load(c, s, o);
    if (rc < 0 || sim__cfg_failed(c)) {
        snprintf(err, errlen, "%s", sim__cfg_error(c));
        sim__cfg_destroy(c);
        cJSON_Delete(root);
        sim_destroy(s);
        return NULL;
    }
    cJSON *resolved_copy = sim__cfg_take_resolved(c);
    sim__cfg_destroy(c);
    /* The resource budget (budget.c): refused before any time passes. */
    sim_estimate est;
    sim_estimate_run(s, &est);
    char why[1024];
    if (sim_budget_check(s, &est, o->budget, why, sizeof why) < 0) {
        snprintf(err, errlen, "error: %s: %s", s->file, why);
        cJSON_Delete(resolved_copy);
        cJSON_Delete(root);
        sim_destroy(s);
        return NULL;
    }
    if (s->model->prepare)
        s->model->prepare(s, s->shared);
    *resolved = resolved_copy;
    s->root = root; /* strings read by models point into it */
    return s;
}
