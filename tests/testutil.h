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

#include "nn/resnet18.h"
#include "ocl/ocl.h"
#include "train/train.h"

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
/* max_i |got[i] - want[i]| / (|want[i]| + rms(want)): each element relative to its own size, but
 * never to less than the array's typical size (so near-zero elements do not blow it up). Unlike
 * the L2 error, it is not diluted by sqrt(n): one element off by 19% of 9216 shows as ~0.1. *at
 * (may be NULL) gets the worst element's index. */
double test_max_element_error(const float *got, const float *want, size_t n, size_t *at);
/* The per-element bound, as a multiple of an array's L2 tolerance: rounding errors spread over n
 * elements put the worst one a few times above their RMS. Worst max-element error / L2 tolerance
 * seen (PoCL and Oclgrind): 3.5, the parameters after a step in test_nn_model_step; 0.21 in the
 * op tests. Each comparison prints both errors. */
#define TEST_ELEMENT_FACTOR 20.0
/* Fails the test if any got[i] is NaN/Inf, the normalised error exceeds tol or the maximum element
 * error exceeds TEST_ELEMENT_FACTOR * tol; prints both. */
void test_assert_close(const char *what, const float *got, const float *want, size_t n, double tol);
/* A skip is a skip. test_skip prints "NOT RUN: <why>" and marks the cmocka test skipped;
 * TEST_RUN_GROUP then exits TEST_SKIP_RC, which ctest (SKIP_RETURN_CODE) reports as skipped, never
 * as passed. TEST_RUN_GROUP also applies $ISBENCH_TEST_FILTER / $ISBENCH_TEST_SKIP (cmocka name
 * patterns): tests/CMakeLists.txt runs each `needs_*` part (real data, root, this device's shipped
 * tuning) as a ctest test of its own, so one missing thing skips only its own check. */
#define TEST_SKIP_RC 77
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void test_apply_filters(void);
int test_exit_status(int failed);
#define TEST_RUN_GROUP(tests, setup, teardown) \
    (test_apply_filters(), test_exit_status(cmocka_run_group_tests(tests, setup, teardown)))

/* Fails the test with the recorded error message when status < 0. */
#define TEST_OK(expr) test_check_status((expr), #expr, __FILE__, __LINE__)
void test_check_status(int status, const char *expr, const char *file, int line);

/* A small CIFAR-10-format folder in dir (created): data_batch_1..5.bin of `per_batch` records and
 * test_batch.bin of `test_records`, separable by design so that a tiny network learns it in a few
 * dozen steps: class c is a colour of its own, hue c/10 on a colour circle (so each class is
 * linearly separable from the rest), plus uniform pixel noise. Labels balanced, noise drawn from
 * `seed`. Readers need ISBENCH_DATA_ANY_SIZE=1 (ctest sets it). */
void test_write_separable_cifar(const char *dir, int per_batch, int test_records, uint64_t seed);

/* test_assert_close per tensor of a ResNet18 plan: the parameter tensors (stats 0) or the running
 * statistics (stats 1) of got and want, each named "<what> <tensor>". */
void test_assert_close_per_tensor(const isb_resnet18_plan *p, const char *what, const float *got, const float *want,
                                  int stats, double tol);

/* The separable set (test_write_separable_cifar, 5 x 80 training and 100 test images) written to
 * data_dir and opened as the smoke preset's training environment. */
void test_open_synthetic_env(isb_train_env *env, const char *data_dir);

/* The real CIFAR-10: $ISBENCH_DATA (the folder or its parent), else
 * ../shared/datasets/cifar-10-batches-bin beside the source tree. NULL when neither holds it. */
const char *test_real_cifar10_dir(void);

/* A device buffer initialised from host memory (fails the test on error). */
cl_mem test_buffer_from(const void *data, size_t bytes);
void test_read(cl_mem buf, void *dst, size_t bytes);

#endif
