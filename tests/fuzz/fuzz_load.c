/*
 * fuzz_load.c - a fuzz target for the scenario loader (issue: hostile
 * scenarios never crash dsim).  Each input is a scenario file: it is
 * loaded with every model dsim has, as `dsim validate` would; success or
 * a clean error are both fine, a crash, a sanitizer report or a leak is a
 * finding.  The run itself is not fuzzed here (a run of a valid hostile
 * scenario is the hardening issue's resource budget).
 *
 * Built with clang -fsanitize=fuzzer (tests/fuzz/CMakeLists.txt), or with
 * any compiler and fuzz_main.c, which replays a corpus (ctest does).
 */
#include "registry.h"
#include "scenario.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char path[64];
    if (!path[0])
        snprintf(path, sizeof path, "/tmp/dsim_fuzz_load_%ld.json", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    sim_load_opts lo = {.file = path, .models = sim_models};
    cJSON *res = NULL;
    char err[2048];
    sim *s = sim_load(&lo, &res, err, sizeof err);
    if (s) {
        /* What was accepted must resolve to JSON that loads again. */
        char *text = cJSON_PrintUnformatted(res);
        if (!text)
            abort();
        cJSON_free(text);
        sim_destroy(s);
    } else if (!err[0] || strchr(err, '\n')) {
        /* A refusal is one line with a message. */
        abort();
    }
    cJSON_Delete(res);
    unlink(path);
    return 0;
}
