/*
 * predict.h - predict, then run: a scenario's questions ("predict"), asked
 * on the terminal before a run, measured and graded after it, and graded
 * for a folder of answer files (`dsim grade`).  docs/report.md describes
 * the questions and how each metric is measured.
 */
#ifndef DSIM_PREDICT_H
#define DSIM_PREDICT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Removes every "--predict" from argv (updating *argc); true if one was
 * there.  Lets `dsim run` take the option without touching its parser. */
bool predict_take_flag(int *argc, char **argv);

/* Asks each question of the resolved scenario's "predict" list on out and
 * reads one number per question from in (an empty or unreadable line, or
 * the end of input, leaves it unanswered: null).  Returns the answers as a
 * JSON array (caller owns), or NULL when the scenario has no question. */
cJSON *predict_ask(const cJSON *scenario, FILE *in, FILE *out);

/* Measures question q (an entry of "predict") on the run folder dir whose
 * summary is sum: *value, or -1 with a reason in err. */
int predict_measure(const char *dir, const cJSON *sum, const cJSON *q, double *value, char *err,
                    size_t errlen);

/* True when answer is within q's tolerance of measured. */
bool predict_correct(const cJSON *q, double answer, double measured);

/* After `dsim run --predict`: measures every question on dir, writes
 * dir/predictions.json (questions, answers, measured values, verdicts) and
 * prints the grades unless quiet.  0, or -1 if the file cannot be written. */
int predict_grade_run(const char *dir, const cJSON *answers, bool quiet);

/* The `dsim grade RUN_DIR ANSWERS_DIR` command (argv after "grade"). */
int predict_grade_cmd(int argc, char **argv);

extern const char grade_help[];

#endif
