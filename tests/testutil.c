#include "testutil.h"
#include "util/error.h"
#include "util/rng.h"

#include <clblast_c.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static isb_ocl the_ocl;
static bool opened;

/* At exit, Oclgrind's runtime has already destroyed its thread-local state (C++ thread_local
 * destructors run before atexit handlers), so releasing objects then corrupts its heap: leave them
 * to the process exit there. */
static void close_ocl(void) {
    if (strstr(the_ocl.info.platform_name, "Oclgrind")) return;
    isb_ocl_close(&the_ocl);
}

int test_release_device(void **state) {
    (void)state;
    CLBlastClearCache();
    if (opened) isb_ocl_close(&the_ocl); /* closing twice is a no-op */
    return 0;
}

isb_ocl *test_ocl(void) {
    if (!opened) {
        int rc = isb_ocl_open(&the_ocl, isb_ocl_selector(NULL), false);
        if (rc < 0) fail_msg("cannot open the OpenCL device under test: %s", isb_last_error());
        opened = true;
        atexit(close_ocl);
        static bool printed;
        if (!printed) {
            printed = true;
            fprintf(stderr, "[device] %s | %s | driver %s\n", the_ocl.info.name, the_ocl.info.platform_name,
                    the_ocl.info.driver_version);
        }
    }
    return &the_ocl;
}

bool test_small(void) {
    const char *s = getenv("ISBENCH_TEST_SMALL");
    return s && *s && strcmp(s, "0") != 0;
}

void test_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed) {
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * isb_rng_uniform(&r);
}

double test_normalised_error(const float *got, const float *want, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * (double)want[i];
    }
    return sqrt(num) / (den > 1e-30 ? sqrt(den) : 1.0);
}

void test_assert_close(const char *what, const float *got, const float *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(got[i])) fail_msg("%s: element %zu is %f (not finite)", what, i, (double)got[i]);
    double e = test_normalised_error(got, want, n);
    printf("  %-40s n=%-9zu normalised error %.3e (tolerance %.1e)\n", what, n, e, tol);
    if (!(e <= tol)) fail_msg("%s: normalised error %.3e exceeds %.1e", what, e, tol);
}

void test_check_status(int status, const char *expr, const char *file, int line) {
    if (status < 0) fail_msg("%s:%d: %s failed (%s): %s", file, line, expr, isb_status_name(status), isb_last_error());
}

cl_mem test_buffer_from(const void *data, size_t bytes) {
    isb_ocl *ocl = test_ocl();
    cl_mem b;
    TEST_OK(isb_ocl_alloc(ocl, &b, bytes, "test buffer"));
    if (data) TEST_OK(isb_ocl_write(ocl, b, 0, bytes, data));
    return b;
}

void test_read(cl_mem buf, void *dst, size_t bytes) { TEST_OK(isb_ocl_read(test_ocl(), buf, 0, bytes, dst)); }
