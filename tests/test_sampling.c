/* The sampling kernels against their plain C references (src/sampling/reference.c) on random
 * inputs: softmax, alias and CDF draws, Gumbel-top-k (selection = full sort = host), uniform
 * permutations, weights (none, 1/(N p), HT lambda), score updates, and the input errors.
 * Statistical checks live in test_sampling_stats.c. ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "sampling/reference.h"
#include "sampling/sampler.h"
#include "util/error.h"
#include "util/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static isb_sampler *make_sampler(int n, int z) {
    isb_sampler *s = NULL;
    TEST_OK(isb_sampler_create(&s, test_ocl(), n, z));
    return s;
}

/* Device draw into host arrays (idx, w may be NULL). */
static void draw(isb_sampler *s, cl_mem scores, int n, int z, float t, isb_draw_method m, isb_weight_mode wm,
                 uint64_t seed, uint32_t epoch, int *idx, float *w) {
    cl_mem di = test_buffer_from(NULL, (size_t)z * sizeof(int)), dw = test_buffer_from(NULL, (size_t)z * sizeof(float));
    TEST_OK(isb_sampler_draw(s, scores, n, z, t, m, wm, seed, epoch, di, dw));
    if (idx) test_read(di, idx, (size_t)z * sizeof(int));
    if (w) test_read(dw, w, (size_t)z * sizeof(float));
    isb_ocl_release(&di);
    isb_ocl_release(&dw);
}

static void softmax_matches_c(void **state) {
    (void)state;
    int n = test_size(100003, 1031);
    float *x = malloc(n * sizeof *x), *p = malloc(n * sizeof *p), *want = malloc(n * sizeof *want);
    test_fill_uniform(x, n, -20, 30, 11); /* large scores: the max shift must keep exp finite at T = 0.5 */
    isb_sref_softmax(want, x, n, 0.5f);
    isb_sampler *s = make_sampler(n, 16);
    cl_mem dx = test_buffer_from(x, n * sizeof *x), dp = test_buffer_from(NULL, n * sizeof *p);
    TEST_OK(isb_sampler_softmax(s, dx, n, 0.5f, dp));
    test_read(dp, p, n * sizeof *p);
    test_assert_close("softmax", p, want, n, 1e-5);
    TEST_OK(isb_sampler_check(s));
    isb_ocl_release(&dx);
    isb_ocl_release(&dp);
    isb_sampler_free(s);
    free(x); free(p); free(want);
}

/* The alias table built on the device implies exactly p (each sample's own share of its bucket
 * plus the shares it receives as an alias), and its draws equal the host's draws from the same
 * table; Vose's host table implies p too. The CDF draws (64-bit fixed point on the device, double
 * on the host) agree except within rounding of a bucket boundary. */
static void alias_implied_p(const uint32_t *thr, const int *alias, int n, double *q) {
    for (int i = 0; i < n; i++) q[i] = 0;
    for (int k = 0; k < n; k++) {
        double keep = alias[k] == k ? 1.0 : thr[k] / 4294967296.0;
        q[k] += keep / n;
        if (alias[k] != k) q[alias[k]] += (1.0 - keep) / n;
    }
}

static void assert_table_gives_p(const char *what, const uint32_t *thr, const int *alias, const float *p, int n) {
    double *q = malloc(n * sizeof *q), worst = 0;
    alias_implied_p(thr, alias, n, q);
    for (int i = 0; i < n; i++) {
        assert_true(alias[i] >= 0 && alias[i] < n);
        /* relative to p, plus a floor relative to the mean probability 1/n for the tiniest p */
        worst = fmax(worst, fabs(q[i] - p[i]) / (p[i] + 0.01 / n));
    }
    print_message("%s alias table: worst error of implied p %.2e (relative to p + 0.01/n)\n", what, worst);
    assert_true(worst < 1e-4);
    free(q);
}

static void with_replacement_matches_host(void **state) {
    (void)state;
    int n = test_size(5003, 301), z = test_size(20000, 500);
    float *x = malloc(n * sizeof *x), *p = malloc(n * sizeof *p);
    int *got = malloc(z * sizeof *got), *want = malloc(z * sizeof *want), *alias = malloc(n * sizeof *alias);
    uint32_t *thr = malloc(n * sizeof *thr);
    double *cdf = malloc(n * sizeof *cdf);
    float *w = malloc(z * sizeof *w);
    test_fill_uniform(x, n, -3, 3, 12);
    isb_sref_softmax(p, x, n, 1.0f);
    isb_sampler *s = make_sampler(n, z);
    cl_mem dx = test_buffer_from(x, n * sizeof *x);

    draw(s, dx, n, z, 1.0f, ISB_DRAW_ALIAS, ISB_WEIGHTS_INVERSE_P, 7, 3, got, w);
    TEST_OK(isb_sampler_read_alias(s, n, thr, alias));
    assert_table_gives_p("device", thr, alias, p, n);
    isb_sref_alias_draw(want, z, thr, alias, n, 7, 3);
    for (int j = 0; j < z; j++) assert_int_equal(got[j], want[j]);
    for (int j = 0; j < z; j++) { /* inverse-p weights */
        float expect = 1.0f / ((float)n * p[got[j]]);
        assert_true(fabsf(w[j] - expect) <= 1e-4f * expect);
    }
    TEST_OK(isb_sref_alias_build(thr, alias, p, n));
    assert_table_gives_p("host", thr, alias, p, n);
    /* one dominant sample and many tiny ones: heavy buckets chain into each other */
    for (int i = 0; i < n; i++) x[i] = i % 97 == 0 ? 8.0f : (float)(i % 5) - 4.0f;
    isb_sref_softmax(p, x, n, 1.0f);
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, n * sizeof *x, x));
    draw(s, dx, n, z, 1.0f, ISB_DRAW_ALIAS, ISB_WEIGHTS_NONE, 7, 4, got, NULL);
    TEST_OK(isb_sampler_read_alias(s, n, thr, alias));
    assert_table_gives_p("skewed device", thr, alias, p, n);
    test_fill_uniform(x, n, -3, 3, 12);
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, n * sizeof *x, x));

    isb_sref_softmax(p, x, n, 1.0f);
    draw(s, dx, n, z, 1.0f, ISB_DRAW_CDF, ISB_WEIGHTS_NONE, 7, 3, got, w);
    isb_sref_cdf_draw(want, z, p, n, cdf, 7, 3);
    int differ = 0;
    for (int j = 0; j < z; j++) {
        assert_true(got[j] >= 0 && got[j] < n);
        assert_true(w[j] == 1.0f);
        if (got[j] != want[j]) {
            differ++;
            assert_true(abs(got[j] - want[j]) == 1); /* a boundary case picks the neighbour */
        }
    }
    assert_true(differ <= z / 1000 + 1);
    isb_ocl_release(&dx);
    isb_sampler_free(s);
    free(x); free(p); free(got); free(want); free(alias); free(thr); free(cdf); free(w);
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* Without replacement: no duplicates; radix selection gives exactly the full sort's set (and, as
 * both shuffle the same set with the same keys, the same batch order); the set equals the host's
 * Gumbel-top-k up to float-vs-double rounding at the boundary. */
static void gumbel_topk_equals_sort_and_host(void **state) {
    (void)state;
    int n = test_size(30011, 517), z = test_size(8192, 100);
    float *x = malloc(n * sizeof *x);
    int *a = malloc(z * sizeof *a), *b = malloc(z * sizeof *b), *h = malloc(z * sizeof *h), *order = malloc(n * sizeof *order);
    double *keys = malloc(n * sizeof *keys);
    test_fill_uniform(x, n, 0, 4, 13);
    isb_sampler *s = make_sampler(n, z);
    cl_mem dx = test_buffer_from(x, n * sizeof *x);
    draw(s, dx, n, z, 0.8f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_NONE, 99, 5, a, NULL);
    draw(s, dx, n, z, 0.8f, ISB_DRAW_GUMBEL_SORT, ISB_WEIGHTS_NONE, 99, 5, b, NULL);
    for (int j = 0; j < z; j++) assert_int_equal(a[j], b[j]);
    /* batch order: descending shuffle keys (Philox stream SHUFFLE, word 1; ties by lower index) */
    for (int j = 1; j < z; j++) {
        uint64_t prev = ((uint64_t)isb_philox(99, (uint32_t)a[j - 1], 5, ISB_STREAM_SHUFFLE, 0).v[1] << 32) |
                        (0xFFFFFFFFu - (uint32_t)a[j - 1]);
        uint64_t cur = ((uint64_t)isb_philox(99, (uint32_t)a[j], 5, ISB_STREAM_SHUFFLE, 0).v[1] << 32) |
                       (0xFFFFFFFFu - (uint32_t)a[j]);
        assert_true(prev > cur);
    }
    isb_sref_gumbel_topk(h, z, x, n, 0.8f, 99, 5, keys, order);
    qsort(a, z, sizeof *a, cmp_int);
    qsort(h, z, sizeof *h, cmp_int);
    for (int j = 0; j < z; j++) {
        assert_true(a[j] >= 0 && a[j] < n);
        if (j) assert_true(a[j] > a[j - 1]); /* no duplicates */
    }
    int common = 0;
    for (int i = 0, j = 0; i < z && j < z;) {
        if (a[i] == h[j]) { common++; i++; j++; }
        else if (a[i] < h[j]) i++;
        else j++;
    }
    assert_true(common >= z - 2);
    /* different epochs give different draws */
    draw(s, dx, n, z, 0.8f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_NONE, 99, 6, b, NULL);
    qsort(b, z, sizeof *b, cmp_int);
    assert_true(memcmp(a, b, z * sizeof *a) != 0);
    isb_ocl_release(&dx);
    isb_sampler_free(s);
    free(x); free(a); free(b); free(h); free(order); free(keys);
}

/* The uniform epoch is a permutation for z = n, and its first z entries for any smaller z. */
static void uniform_is_permutation_prefix(void **state) {
    (void)state;
    int n = test_size(20000, 700), z = test_size(3000, 100);
    int *full = malloc(n * sizeof *full), *part = malloc(z * sizeof *part), *seen = calloc(n, sizeof *seen);
    float *w = malloc(n * sizeof *w);
    isb_sampler *s = make_sampler(n, n);
    cl_mem di = test_buffer_from(NULL, n * sizeof(int)), dw = test_buffer_from(NULL, n * sizeof(float));
    TEST_OK(isb_sampler_uniform(s, n, n, 42, 1, di, dw));
    test_read(di, full, n * sizeof *full);
    test_read(dw, w, n * sizeof *w);
    for (int j = 0; j < n; j++) {
        assert_true(full[j] >= 0 && full[j] < n);
        assert_int_equal(seen[full[j]]++, 0);
        assert_true(w[j] == 1.0f);
    }
    int in_order = 0;
    for (int j = 1; j < n; j++) in_order += full[j] > full[j - 1];
    assert_true(in_order < n * 3 / 4); /* shuffled, not index order (about half ascend) */
    TEST_OK(isb_sampler_uniform(s, n, z, 42, 1, di, dw));
    test_read(di, part, z * sizeof *part);
    for (int j = 0; j < z; j++) assert_int_equal(part[j], full[j]);
    isb_ocl_release(&di);
    isb_ocl_release(&dw);
    isb_sampler_free(s);
    free(full); free(part); free(seen); free(w);
}

/* HT: lambda solves sum (1 - exp(-lambda p)) = z (vs host bisection) and w = z / (N pi). */
static void ht_weights_match_host(void **state) {
    (void)state;
    int n = test_size(20000, 400), z = test_size(3200, 64);
    float *x = malloc(n * sizeof *x), *p = malloc(n * sizeof *p), *w = malloc(z * sizeof *w);
    int *idx = malloc(z * sizeof *idx);
    test_fill_uniform(x, n, 0, 6, 14); /* skewed: some pi saturate near 1 */
    isb_sref_softmax(p, x, n, 1.0f);
    double lambda = isb_sref_ht_lambda(p, n, z);
    isb_sampler *s = make_sampler(n, z);
    cl_mem dx = test_buffer_from(x, n * sizeof *x);
    draw(s, dx, n, z, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_HT, 3, 0, idx, w);
    float got_lambda;
    TEST_OK(isb_sampler_ht_lambda(s, &got_lambda));
    print_message("HT lambda: device %.6g host %.6g\n", got_lambda, lambda);
    assert_true(fabs(got_lambda - lambda) <= 2e-3 * lambda);
    for (int j = 0; j < z; j++) {
        double pi = -expm1(-lambda * p[idx[j]]);
        double expect = z / (n * pi);
        assert_true(fabs(w[j] - expect) <= 5e-3 * expect);
    }
    /* uniform scores: pi = z/n for everyone, so w = 1 */
    for (int i = 0; i < n; i++) x[i] = 2.5f;
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, n * sizeof *x, x));
    draw(s, dx, n, z, 1.0f, ISB_DRAW_GUMBEL_SORT, ISB_WEIGHTS_HT, 3, 0, idx, w);
    for (int j = 0; j < z; j++) assert_true(fabsf(w[j] - 1.0f) < 1e-3f);
    isb_ocl_release(&dx);
    isb_sampler_free(s);
    free(x); free(p); free(w); free(idx);
}

static void score_update_matches_c(void **state) {
    (void)state;
    int n = test_size(50000, 600), b = 128;
    float *sc = malloc(n * sizeof *sc), *want = malloc(n * sizeof *want), *loss = malloc(b * sizeof *loss);
    int *idx = malloc(b * sizeof *idx);
    test_fill_uniform(sc, n, 0, 3, 15);
    test_fill_uniform(loss, b, 0, 5, 16);
    for (int r = 0; r < b; r++) idx[r] = (int)((r * 7919L) % n); /* distinct rows */
    cl_mem ds = test_buffer_from(sc, n * sizeof *sc), di = test_buffer_from(idx, b * sizeof *idx),
           dl = test_buffer_from(loss, b * sizeof *loss);
    for (int mode = 1; mode <= 2; mode++) {
        memcpy(want, sc, n * sizeof *sc);
        isb_sref_score_update(want, idx, loss, b, mode, 0.2f);
        TEST_OK(isb_ocl_write(test_ocl(), ds, 0, n * sizeof *sc, sc));
        TEST_OK(isb_scores_update(test_ocl(), ds, di, dl, b, mode, 0.2f));
        float *got = malloc(n * sizeof *got);
        test_read(ds, got, n * sizeof *got);
        test_assert_close(mode == 1 ? "last-loss update" : "running-loss update", got, want, n, 1e-6);
        free(got);
    }
    assert_int_equal(isb_scores_update(test_ocl(), ds, di, dl, b, 2, 1.5f), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "beta"));
    assert_int_equal(isb_scores_update(test_ocl(), ds, di, dl, b, 2, -0.1f), ISB_ERR_USAGE);
    assert_int_equal(isb_scores_update(test_ocl(), ds, di, dl, b, 3, 0.2f), ISB_ERR_USAGE);
    isb_ocl_release(&ds); isb_ocl_release(&di); isb_ocl_release(&dl);
    free(sc); free(want); free(loss); free(idx);
}

static void bad_input_is_an_error(void **state) {
    (void)state;
    int n = 64;
    float x[64];
    test_fill_uniform(x, n, 0, 1, 17);
    isb_sampler *s = make_sampler(n, 128);
    cl_mem dx = test_buffer_from(x, sizeof x), di = test_buffer_from(NULL, 128 * sizeof(int)),
           dw = test_buffer_from(NULL, 128 * sizeof(float));
    assert_int_equal(isb_sampler_draw(s, dx, n, 65, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_NONE, 1, 0, di, dw),
                     ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "without replacement"));
    TEST_OK(isb_sampler_draw(s, dx, n, 100, 1.0f, ISB_DRAW_CDF, ISB_WEIGHTS_NONE, 1, 0, di, dw)); /* z > n is fine */
    assert_int_equal(isb_sampler_draw(s, dx, n, 8, 0.0f, ISB_DRAW_CDF, ISB_WEIGHTS_NONE, 1, 0, di, dw), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "temperature"));
    assert_int_equal(isb_sampler_draw(s, dx, n, 8, -1.0f, ISB_DRAW_ALIAS, ISB_WEIGHTS_NONE, 1, 0, di, dw), ISB_ERR_USAGE);
    assert_int_equal(isb_sampler_draw(s, dx, n, 8, 1.0f, ISB_DRAW_ALIAS, ISB_WEIGHTS_HT, 1, 0, di, dw), ISB_ERR_USAGE);
    assert_int_equal(isb_sampler_draw(s, dx, n + 1, 8, 1.0f, ISB_DRAW_CDF, ISB_WEIGHTS_NONE, 1, 0, di, dw), ISB_ERR_USAGE);
    assert_int_equal(isb_sampler_uniform(s, n, n + 1, 1, 0, di, dw), ISB_ERR_USAGE);
    /* a NaN score: the draw still completes in range, the check names the sample */
    x[37] = NAN;
    x[50] = INFINITY;
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, sizeof x, x));
    TEST_OK(isb_sampler_draw(s, dx, n, 8, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_INVERSE_P, 1, 0, di, dw));
    assert_int_equal(isb_sampler_check(s), ISB_ERR_NUMERIC);
    assert_non_null(strstr(isb_last_error(), "sample 37"));
    int idx[8];
    test_read(di, idx, sizeof idx);
    for (int j = 0; j < 8; j++) assert_true(idx[j] >= 0 && idx[j] < n);
    isb_ocl_release(&dx); isb_ocl_release(&di); isb_ocl_release(&dw);
    isb_sampler_free(s);
    isb_sampler *none = NULL;
    assert_int_equal(isb_sampler_create(&none, test_ocl(), 0, 5), ISB_ERR_USAGE);
    assert_null(none);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(softmax_matches_c),
        cmocka_unit_test(with_replacement_matches_host),
        cmocka_unit_test(gumbel_topk_equals_sort_and_host),
        cmocka_unit_test(uniform_is_permutation_prefix),
        cmocka_unit_test(ht_weights_match_host),
        cmocka_unit_test(score_update_matches_c),
        cmocka_unit_test(bad_input_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
