/* The OpenCL C sources in cl/, embedded at build time (cmake/embed_kernels.cmake), or read from a
 * folder named by ISBENCH_KERNEL_DIR while iterating on kernels (no rebuild needed). */
#ifndef ISB_OCL_KERNEL_SOURCES_H
#define ISB_OCL_KERNEL_SOURCES_H
#include <stddef.h>

typedef struct {
    const char *name;   /* file name in cl/, e.g. "reduce.cl" */
    const char *source; /* NUL-terminated */
    size_t size;
} isb_kernel_source;

extern const isb_kernel_source isb_embedded_kernels[]; /* terminated by {NULL, NULL, 0} */

/* Returns a malloc'd copy of cl/<name>: from $ISBENCH_KERNEL_DIR if set, else the embedded copy.
 * NULL (with isb_last_error set) if it does not exist. */
char *isb_kernel_source_load(const char *name);

#endif
