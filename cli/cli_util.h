/*
 * cli_util.h - small helpers shared by the dsim command's parts.
 */
#ifndef DSIM_CLI_UTIL_H
#define DSIM_CLI_UTIL_H

/* mkdir -p: creates path and its missing parents; 0, or -1 if path is not a
 * directory afterwards. */
int cli_make_dirs(const char *path);

#include <stddef.h>
#include <stdio.h>

/* Opens dir/name for writing; on failure says which file and why on stderr
 * and returns NULL. */
FILE *cli_open_out(const char *dir, const char *name);

/* Formats an error message into err (n bytes) and returns -1: the parsers'
 * way to fail with a message for the caller to print. */
int cli_fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
