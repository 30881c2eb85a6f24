/*
 * fsutil.h - file-system helpers shared by the dsim command's parts.
 */
#ifndef DSIM_FSUTIL_H
#define DSIM_FSUTIL_H

/* mkdir -p: creates path and its missing parents; 0, or -1 if path is not a
 * directory afterwards. */
int cli_make_dirs(const char *path);

#endif
