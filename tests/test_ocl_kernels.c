/* The device layer end to end: first kernels against plain C on random inputs, the program and
 * kernel cache, and a kernel that fails to compile. ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "ocl/programs.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void axpy_matches_c(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int n = test_size(100003, 1031); /* not a multiple of any work-group size */
    float a = 0.75f;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *want = malloc(n * sizeof *want);
    test_fill_uniform(x, n, -1, 1, 1);
    test_fill_uniform(y, n, -1, 1, 2);
    for (int i = 0; i < n; i++) want[i] = y[i] + a * x[i];
    cl_mem dx = test_buffer_from(x, n * sizeof *x), dy = test_buffer_from(y, n * sizeof *y);
    cl_kernel k;
    TEST_OK(isb_ocl_kernel(ocl, ISB_PROGRAM_REDUCE, "", "isb_axpy", &k));
    TEST_OK(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(a), ISB_KA(dx), ISB_KA(dy)));
    TEST_OK(isb_ocl_run1d(ocl, k, (size_t)n, 0));
    test_read(dy, y, n * sizeof *y);
    test_assert_close("axpy", y, want, n, 1e-6);
    isb_ocl_release(&dx);
    isb_ocl_release(&dy);
    free(x); free(y); free(want);
}

static void sum_matches_c(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int n = test_size(1 << 20, 5000);
    float *x = malloc(n * sizeof *x);
    test_fill_uniform(x, n, 0, 1, 3);
    double want = 0;
    for (int i = 0; i < n; i++) want += x[i];
    cl_kernel k;
    TEST_OK(isb_ocl_kernel(ocl, ISB_PROGRAM_REDUCE, "", "isb_sum_partial", &k));
    size_t local = isb_ocl_kernel_wg(ocl, k, 256);
    while (local & (local - 1)) local &= local - 1; /* power of two for the tree */
    size_t groups = 16;
    cl_mem dx = test_buffer_from(x, n * sizeof *x), dp = test_buffer_from(NULL, groups * sizeof(float));
    TEST_OK(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(dx), ISB_KA(dp), ISB_KLOCAL(local * sizeof(float))));
    TEST_OK(isb_ocl_run_groups(ocl, k, groups, local));
    float partial[16];
    test_read(dp, partial, sizeof partial);
    double got = 0;
    for (size_t g = 0; g < groups; g++) got += partial[g];
    float gotf = (float)got, wantf = (float)want;
    test_assert_close("work-group sum", &gotf, &wantf, 1, 1e-5);
    isb_ocl_release(&dx);
    isb_ocl_release(&dp);
    free(x);
}

static void kernels_are_cached(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    cl_kernel a, b, c;
    TEST_OK(isb_ocl_kernel(ocl, ISB_PROGRAM_REDUCE, "", "isb_axpy", &a));
    TEST_OK(isb_ocl_kernel(ocl, ISB_PROGRAM_REDUCE, "", "isb_axpy", &b));
    TEST_OK(isb_ocl_kernel(ocl, ISB_PROGRAM_REDUCE, "-DUNUSED=1", "isb_axpy", &c));
    assert_ptr_equal(a, b); /* same program and kernel object */
    assert_ptr_not_equal(a, c); /* other options: another program */
    assert_int_equal(isb_ocl_kernel(ocl, ISB_PROGRAM_REDUCE, "", "no_such_kernel", &a), ISB_ERR_BUILD);
    assert_non_null(strstr(isb_last_error(), "no_such_kernel"));
}

static void build_failure_carries_log(void **state) {
    (void)state;
    char dir[] = "/tmp/isbench-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/broken.cl", dir);
    const char *src = "__kernel void broken(__global float *x) { x[0] = undeclared_identifier_xyz; }\n";
    TEST_OK(isb_write_file_atomic(path, src, strlen(src)));
    setenv("ISBENCH_KERNEL_DIR", dir, 1);
    /* A fresh context, so nothing is cached. */
    isb_ocl ocl;
    TEST_OK(isb_ocl_open(&ocl, isb_ocl_selector(NULL), false));
    cl_kernel k;
    int rc = isb_ocl_kernel(&ocl, "broken.cl", "-DMARKER_OPTION=1", "broken", &k);
    unsetenv("ISBENCH_KERNEL_DIR");
    isb_ocl_close(&ocl);
    unlink(path);
    rmdir(dir);
    assert_int_equal(rc, ISB_ERR_BUILD);
    const char *msg = isb_last_error();
    printf("  build error message:\n%s\n", msg);
    assert_non_null(strstr(msg, "build log"));
    assert_non_null(strstr(msg, "undeclared_identifier_xyz")); /* the compiler's own words */
    assert_non_null(strstr(msg, "MARKER_OPTION"));               /* the options used */
}

static void kernel_dir_missing_file_is_an_error(void **state) {
    (void)state;
    setenv("ISBENCH_KERNEL_DIR", "/nonexistent-isbench-dir", 1);
    isb_ocl ocl;
    TEST_OK(isb_ocl_open(&ocl, isb_ocl_selector(NULL), false));
    cl_kernel k;
    int rc = isb_ocl_kernel(&ocl, ISB_PROGRAM_REDUCE, "", "isb_axpy", &k);
    unsetenv("ISBENCH_KERNEL_DIR");
    isb_ocl_close(&ocl);
    assert_true(rc < 0);
    assert_non_null(strstr(isb_last_error(), "ISBENCH_KERNEL_DIR"));
}

/* isb_ocl_copy: device-to-device with offsets, in order on the queue; an out-of-range copy is an
 * error naming what was copied. */
static void copy_between_buffers(void **state) {
    (void)state;
    float host[64], got[64];
    for (int i = 0; i < 64; i++) host[i] = (float)i;
    cl_mem a = test_buffer_from(host, sizeof host), b = test_buffer_from(NULL, sizeof host);
    TEST_OK(isb_ocl_fill_zero(test_ocl(), b, 0, sizeof host));
    TEST_OK(isb_ocl_copy(test_ocl(), a, 8 * sizeof(float), b, 40 * sizeof(float), 16 * sizeof(float), "a slice"));
    test_read(b, got, sizeof got);
    for (int i = 0; i < 64; i++) assert_true(got[i] == (i >= 40 && i < 56 ? (float)(i - 32) : 0.0f));
    TEST_OK(isb_ocl_copy(test_ocl(), a, 0, b, 0, 0, "nothing")); /* empty: no-op */
    assert_int_equal(isb_ocl_copy(test_ocl(), a, 60 * sizeof(float), b, 0, 8 * sizeof(float), "past the end"),
                     ISB_ERR_OPENCL);
    assert_non_null(strstr(isb_last_error(), "copying past the end"));
    isb_ocl_release(&a);
    isb_ocl_release(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(axpy_matches_c),
        cmocka_unit_test(sum_matches_c),
        cmocka_unit_test(kernels_are_cached),
        cmocka_unit_test(copy_between_buffers),
        cmocka_unit_test(build_failure_carries_log),
        cmocka_unit_test(kernel_dir_missing_file_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
