/* Shared test helpers: the OpenCL device under test, seeded random inputs, and comparisons that
 * check for NaN/Inf first and then a normalised error against a stated tolerance. */
#ifndef ISB_TESTS_TESTUTIL_H
#define ISB_TESTS_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ocl/ocl.h"

/* The device under test ($ISBENCH_DEVICE or the default), opened once per process; fails the
 * current test with the error message if it cannot be opened. */
isb_ocl *test_ocl(void);
/* cmocka group teardown: releases CLBlast's cached programs and the device before exit() starts.
 * Oclgrind's runtime destroys per-thread state before atexit handlers run, so tests that use
 * CLBlast pass this to cmocka_run_group_tests instead of relying on the atexit close. */
int test_release_device(void **state);
/* True under Oclgrind (ISBENCH_TEST_SMALL=1): tests shrink their sizes. */
bool test_small(void);
/* Pick a size: `normal`, or `small` under Oclgrind. */
static inline int test_size(int normal, int small) { return test_small() ? small : normal; }

void test_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed);
/* ||got - want||_2 / max(||want||_2, tiny) */
double test_normalised_error(const float *got, const float *want, size_t n);
/* Fails the test if any got[i] is NaN/Inf or the normalised error exceeds tol; prints the error. */
void test_assert_close(const char *what, const float *got, const float *want, size_t n, double tol);
/* Fails the test with the recorded error message when status < 0. */
#define TEST_OK(expr) test_check_status((expr), #expr, __FILE__, __LINE__)
void test_check_status(int status, const char *expr, const char *file, int line);

/* A device buffer initialised from host memory (fails the test on error). */
cl_mem test_buffer_from(const void *data, size_t bytes);
void test_read(cl_mem buf, void *dst, size_t bytes);

#endif
