/*
 * cfg.h - internal side of the configuration reader (see sim_cfg_* in
 * sim.h for the side models use).
 *
 * The reader walks the scenario's JSON with a stack of frames, one per
 * object being read.  Each frame remembers which keys the schema asked for,
 * so that when the frame is left every other key is an error ("unknown key")
 * with a did-you-mean suggestion, and builds the resolved copy of the object
 * with every default filled in, which `dsim validate` prints and
 * summary.json embeds.
 */
#ifndef DSIM_CFG_H
#define DSIM_CFG_H

#include "sim.h"

#include <cjson/cJSON.h>

#define SIM_CFG_MAX_DEPTH 32

/* Parses text as a scenario.  On failure returns NULL and writes the
 * message ("error: FILE: $: ...") into err. Caller owns the result. */
cJSON *sim__json_parse(const char *file, const char *text, size_t len, char *err, size_t errlen);

/* Creates a reader over root (borrowed; must outlive the reader).  Caller
 * owns the reader; sim__cfg_destroy frees it and its resolved tree unless
 * taken with sim__cfg_take_resolved. */
sim_cfg *sim__cfg_create(sim *s, const char *file, cJSON *root);
void sim__cfg_destroy(sim_cfg *c);

/* Applies `--set path=value` to the tree (before reading).  The value is
 * stored as a string and converted to the type the schema asks for when
 * read.  Returns 0, or -1 with the error set. */
int sim__cfg_set(sim_cfg *c, const char *assignment);

/* Marks key as read in the current frame and returns its value (NULL when
 * absent). */
cJSON *sim__cfg_take(sim_cfg *c, const char *key);
/* Enters an arbitrary JSON object (an array element, say) whose path
 * segment is seg ("[3]" or ".key") and whose resolved copy is out (borrowed;
 * the caller attached it).  The object must be an object, else an error. */
int sim__cfg_enter_value(sim_cfg *c, cJSON *obj, const char *seg, cJSON *out);
/* Enters an object a second time (the model's, for its validate hook):
 * keys read the first time are not reported as unknown. */
int sim__cfg_reenter(sim_cfg *c, const char *key);
/* The resolved object of the current frame. */
cJSON *sim__cfg_out(sim_cfg *c);
/* Current frame's JSON path ("$.network"). */
const char *sim__cfg_path(sim_cfg *c);
/* Formats an error at path "<current path><seg>".  Returns -1. */
int sim__cfg_fail_at(sim_cfg *c, const char *seg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool sim__cfg_failed(const sim_cfg *c);
const char *sim__cfg_error(const sim_cfg *c);
/* Returns true if the string node came from --set (so may be coerced). */
bool sim__cfg_from_set(const sim_cfg *c, const cJSON *node);
/* Parses a distribution from a JSON value at path seg. */
int sim__cfg_parse_dist(sim_cfg *c, cJSON *v, const char *seg, sim_dist_unit unit, sim_dist *out,
                        cJSON **resolved);
/* Parses a duration value (string with unit). */
int sim__cfg_parse_time(sim_cfg *c, cJSON *v, const char *seg, sim_time min, sim_time max,
                        sim_time *out);
/* Detaches and returns the whole resolved tree.  Caller owns. */
cJSON *sim__cfg_take_resolved(sim_cfg *c);
/* Edit distance suggestion: the closest of candidates to word, or NULL. */
const char *sim__suggest(const char *word, const char *const *candidates, size_t n);

#endif
