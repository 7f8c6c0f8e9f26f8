/* A deliberately broken kernel (reads one element past the end of a buffer), used to show that
 * tests/oclgrind_check.sh really fails a test on an invalid access: see oclgrind_selftest.sh. */
#include "ocl/ocl.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char dir[] = "/tmp/isbench-probe-XXXXXX";
    if (!mkdtemp(dir)) return 3;
    char path[256];
    snprintf(path, sizeof path, "%s/probe.cl", dir);
    const char *src = "__kernel void probe(const int n, __global const float *x, __global float *y) {\n"
                      "  int i = get_global_id(0);\n"
                      "  if (i < n) y[i] = x[i + 1]; /* reads x[n]: one past the end */\n}\n";
    if (isb_write_file_atomic(path, src, strlen(src)) < 0) return 3;
    setenv("ISBENCH_KERNEL_DIR", dir, 1);
    isb_ocl ocl;
    cl_mem x = NULL, y = NULL;
    cl_kernel k;
    int n = 16;
    int rc = isb_ocl_open(&ocl, NULL, false);
    if (rc == 0) rc = isb_ocl_alloc(&ocl, &x, n * sizeof(float), "x");
    if (rc == 0) rc = isb_ocl_alloc(&ocl, &y, n * sizeof(float), "y");
    if (rc == 0) rc = isb_ocl_kernel(&ocl, "probe.cl", "", "probe", &k);
    if (rc == 0) rc = ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(x), ISB_KA(y));
    if (rc == 0) rc = isb_ocl_run1d(&ocl, k, (size_t)n, 0);
    if (rc == 0) rc = isb_ocl_finish(&ocl);
    if (rc < 0) fprintf(stderr, "probe setup failed: %s\n", isb_last_error());
    isb_ocl_release(&x);
    isb_ocl_release(&y);
    isb_ocl_close(&ocl);
    unlink(path);
    rmdir(dir);
    return rc < 0 ? 3 : 0;
}
