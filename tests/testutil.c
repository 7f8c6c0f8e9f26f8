#include "testutil.h"
#include "data/dataset.h"
#include "util/env.h"
#include "util/error.h"
#include "util/fileio.h"
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

double test_max_element_error(const float *got, const float *want, size_t n, size_t *at) {
    double sq = 0, worst = 0;
    for (size_t i = 0; i < n; i++) sq += (double)want[i] * (double)want[i];
    double rms = n ? sqrt(sq / (double)n) : 0;
    if (at) *at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)want[i]), scale = fabs((double)want[i]) + rms;
        double e = scale > 1e-30 ? d / scale : d;
        if (e > worst || isnan(e)) {
            worst = e;
            if (at) *at = i;
        }
    }
    return worst;
}

void test_assert_close(const char *what, const float *got, const float *want, size_t n, double tol) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(got[i])) fail_msg("%s: element %zu is %f (not finite)", what, i, (double)got[i]);
    double e = test_normalised_error(got, want, n);
    size_t at;
    double m = test_max_element_error(got, want, n, &at), mtol = TEST_ELEMENT_FACTOR * tol;
    printf("  %-40s n=%-9zu normalised error %.3e (tolerance %.1e), max element %.3e (%.1e; ratio %.1f)\n", what,
           n, e, tol, m, mtol, e > 0 ? m / e : 0);
    if (!(e <= tol)) fail_msg("%s: normalised error %.3e exceeds %.1e", what, e, tol);
    if (!(m <= mtol))
        fail_msg("%s: element %zu is %g, expected %g: relative error %.3e exceeds %.1e", what, at, (double)got[at],
                 (double)want[at], m, mtol);
}

static int skipped;

void test_skip(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("  NOT RUN: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    skipped++;
    skip();
}

void test_apply_filters(void) {
    const char *only = getenv("ISBENCH_TEST_FILTER"), *leave_out = getenv("ISBENCH_TEST_SKIP");
    if (only && *only) cmocka_set_test_filter(only);
    if (leave_out && *leave_out) cmocka_set_skip_filter(leave_out);
}

int test_exit_status(int failed) {
    if (failed) return failed;
    if (skipped) printf("%d check(s) NOT RUN: exit %d (ctest: skipped)\n", skipped, TEST_SKIP_RC);
    return skipped ? TEST_SKIP_RC : 0;
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

static void write_separable_file(const char *dir, const char *name, int records, isb_rng *r) {
    size_t rec = 1 + 3 * 32 * 32;
    uint8_t *buf = malloc(rec * (size_t)records);
    if (!buf) fail_msg("out of memory for %d records", records);
    int start = (int)isb_rng_below(r, 10);
    for (int i = 0; i < records; i++) {
        uint8_t *p = buf + rec * (size_t)i;
        int c = (start + i) % 10; /* balanced */
        p[0] = (uint8_t)c;
        for (int ch = 0; ch < 3; ch++) {
            /* hue c/10 of a colour circle: every class colour is a corner of their convex hull */
            double level = 128 + 90 * cos(2 * M_PI * (c / 10.0 + ch / 3.0));
            for (int k = 0; k < 1024; k++) p[1 + ch * 1024 + k] = (uint8_t)(level - 20 + isb_rng_below(r, 40));
        }
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    TEST_OK(isb_write_file_atomic(path, buf, rec * (size_t)records));
    free(buf);
}

void test_write_separable_cifar(const char *dir, int per_batch, int test_records, uint64_t seed) {
    TEST_OK(isb_mkdir_p(dir));
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 7);
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_separable_file(dir, name, per_batch, &r);
    }
    write_separable_file(dir, "test_batch.bin", test_records, &r);
}

const char *test_real_cifar10_dir(void) {
    static char dir[4096];
    char probe[4200];
    const char *env = isb_env(ISB_ENV_DATA);
    if (env && *env) {
        snprintf(dir, sizeof dir, "%s", isb_data_dir(NULL, "cifar10"));
        snprintf(probe, sizeof probe, "%s/test_batch.bin", dir);
        if (isb_file_exists(probe)) return dir;
    }
    const char *src = isb_env(ISB_ENV_SOURCE_DIR);
    snprintf(dir, sizeof dir, "%s/../shared/datasets/cifar-10-batches-bin", src && *src ? src : ISBENCH_SOURCE_DIR);
    snprintf(probe, sizeof probe, "%s/test_batch.bin", dir);
    return isb_file_exists(probe) ? dir : NULL;
}

void test_assert_close_per_tensor(const isb_resnet18_plan *p, const char *what, const float *got, const float *want,
                                  int stats, double tol) {
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        if (t->is_stat != stats) continue;
        char name[128];
        snprintf(name, sizeof name, "%s %s", what, t->name);
        test_assert_close(name, got + t->off, want + t->off, t->numel, tol);
    }
}

void test_open_synthetic_env(isb_train_env *env, const char *data_dir) {
    test_write_separable_cifar(data_dir, 80, 100, 1);
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "smoke", "uniform-aug"));
    TEST_OK(isb_train_env_open(env, test_ocl(), &c, data_dir));
}
