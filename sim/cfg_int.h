/*
 * cfg_int.h - what the two files of the configuration reader share:
 * cfg.c (the reader: JSON with positions, objects, typed values, --set)
 * and cfg_dist.c (distributions), which sits on top of it.  Prefix cfg__.
 */
#ifndef DSIM_CFG_INT_H
#define DSIM_CFG_INT_H

#include "cfg.h"
#include "sim_int.h"

#include <cjson/cJSON.h>

typedef struct frame {
    cJSON *obj; /* input object, NULL when absent (reads see defaults) */
    cJSON *out; /* resolved copy, owned by the tree rooted at c->resolved */
    size_t path_len;
    const char **seen;
    size_t n_seen, cap_seen;
    bool reentered; /* read before: its unknown keys were checked then */
} frame;

struct sim_cfg {
    sim *s;
    const char *file;
    cJSON *root;
    cJSON *resolved;
    frame stack[SIM_CFG_MAX_DEPTH];
    int depth;
    char path[1024];
    char err[3072];
    bool failed;
    const cJSON **set_nodes;
    size_t n_set, cap_set;
};

/* The object being read now. */
frame *cfg__top(sim_cfg *c);
/* Enters obj (its path segment seg; out its resolved copy). 0 or -1. */
int cfg__push(sim_cfg *c, cJSON *obj, const char *seg, cJSON *out);
/* ".key", or "" for NULL. */
void cfg__seg_of(char *seg, size_t n, const char *key);
/* Fails for a required key that is absent, with the reader's wording. */
int cfg__fail_required(sim_cfg *c, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A number at key (a --set string converted): 1 read, 0 absent, -1 failed. */
int cfg__get_number(sim_cfg *c, const char *key, const char *what, double *out);
/* A --set string as the JSON it spells, or NULL. */
cJSON *cfg__coerce_set(const cJSON *v);
/* Puts item into the resolved copy of the current object at key. */
void cfg__out_put(sim_cfg *c, const char *key, cJSON *item);

#endif
