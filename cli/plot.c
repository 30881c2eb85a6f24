#include "plot.h"

const char plot_help[] = "usage: dsim plot DIR\n";
int plot_cmd(int argc, char **argv) {
    (void)argc;
    (void)argv;
    return 0;
}
int plot_auto(const char *dir, bool quiet) {
    (void)dir;
    (void)quiet;
    return 0;
}
