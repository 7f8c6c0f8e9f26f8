#include "ocl/kernel_sources.h"
#include "util/env.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *isb_kernel_source_load(const char *name) {
    const char *dir = isb_env(ISB_ENV_KERNEL_DIR);
    if (dir && *dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        char *text = NULL;
        if (isb_read_file(path, &text, NULL) < 0) {
            isb_fail_context(ISB_ERR_IO, "ISBENCH_KERNEL_DIR is set, but kernel file %s cannot be read", name);
            return NULL;
        }
        return text;
    }
    for (const isb_kernel_source *k = isb_embedded_kernels; k->name; k++)
        if (strcmp(k->name, name) == 0) return strdup(k->source);
    isb_fail(ISB_ERR_INTERNAL, "no kernel file named %s is embedded (is it in cl/ and was CMake re-run?)", name);
    return NULL;
}
