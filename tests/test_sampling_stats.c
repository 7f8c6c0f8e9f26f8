/* Statistics of the device sampler with fixed seeds: draw frequencies with replacement match p
 * (chi-square, significance 0.001) for alias and CDF on the device and on the host; inclusion
 * frequencies without replacement match the exact successive-sampling probabilities (N=4, z=2)
 * and the host's naive successive sampler (N=20, z=5) within 4.5 standard errors. Not run under
 * Oclgrind: it needs thousands of draws (the kernels themselves are checked in test_sampling.c). */
#include "testutil.h"
#include "ref/sampling.h"
#include "sampling/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CHI2_CRIT_49_DF_P001 85.35 /* chi-square quantile 0.999 at 49 degrees of freedom */

static double chi_square(const int *draws, int z, const float *p, int n) {
    double *count = calloc(n, sizeof *count), stat = 0;
    for (int j = 0; j < z; j++) {
        assert_true(draws[j] >= 0 && draws[j] < n);
        count[draws[j]]++;
    }
    for (int i = 0; i < n; i++) {
        double e = (double)z * p[i];
        stat += (count[i] - e) * (count[i] - e) / e;
    }
    free(count);
    return stat;
}

static void with_replacement_frequencies_match_p(void **state) {
    (void)state;
    const int n = 50, z = 200000;
    float x[50], p[50];
    test_fill_uniform(x, n, -1.5f, 1.5f, 21);
    isb_sref_softmax(p, x, n, 1.0f);
    int *d = malloc(z * sizeof *d), alias[50];
    uint32_t thr[50];
    double cdf[50];
    isb_sampler *s = NULL;
    TEST_OK(isb_sampler_create(&s, test_ocl(), n, z));
    cl_mem dx = test_buffer_from(x, sizeof x), di = test_buffer_from(NULL, z * sizeof(int)),
           dw = test_buffer_from(NULL, z * sizeof(float));
    const struct { const char *name; isb_draw_method m; } methods[] = {{"alias", ISB_DRAW_ALIAS}, {"cdf", ISB_DRAW_CDF}};
    for (int k = 0; k < 2; k++) {
        TEST_OK(isb_sampler_draw(s, dx, n, z, 1.0f, methods[k].m, ISB_WEIGHTS_NONE, 2024, 1, di, dw));
        test_read(di, d, z * sizeof *d);
        double chi = chi_square(d, z, p, n);
        print_message("%s device: chi-square %.3f (49 df, critical %.2f)\n", methods[k].name, chi, CHI2_CRIT_49_DF_P001);
        assert_true(chi < CHI2_CRIT_49_DF_P001);
    }
    TEST_OK(isb_sref_alias_build(thr, alias, p, n));
    isb_sref_alias_draw(d, z, thr, alias, n, 2024, 2);
    double chi = chi_square(d, z, p, n);
    print_message("alias host: chi-square %.1f\n", chi);
    assert_true(chi < CHI2_CRIT_49_DF_P001);
    isb_sref_cdf_draw(d, z, p, n, cdf, 2024, 2);
    chi = chi_square(d, z, p, n);
    print_message("cdf host: chi-square %.1f\n", chi);
    assert_true(chi < CHI2_CRIT_49_DF_P001);
    /* and the test can fail: frequencies from a different p are rejected */
    float q[50];
    for (int i = 0; i < n; i++) q[i] = 1.0f / n;
    assert_true(chi_square(d, z, q, n) > CHI2_CRIT_49_DF_P001);
    isb_ocl_release(&dx); isb_ocl_release(&di); isb_ocl_release(&dw);
    isb_sampler_free(s);
    free(d);
}

/* counts[i] = how often i was drawn over `rounds` device draws of z (epochs 0..rounds-1). */
static void inclusion_counts(isb_draw_method m, const float *x, int n, int z, int rounds, double *counts) {
    isb_sampler *s = NULL;
    TEST_OK(isb_sampler_create(&s, test_ocl(), n, z));
    cl_mem dx = test_buffer_from(x, n * sizeof *x), di = test_buffer_from(NULL, z * sizeof(int)),
           dw = test_buffer_from(NULL, z * sizeof(float));
    int *idx = malloc(z * sizeof *idx);
    memset(counts, 0, n * sizeof *counts);
    for (int r = 0; r < rounds; r++) {
        TEST_OK(isb_sampler_draw(s, dx, n, z, 1.0f, m, ISB_WEIGHTS_NONE, 77, (uint32_t)r, di, dw));
        test_read(di, idx, z * sizeof *idx);
        for (int j = 0; j < z; j++) {
            for (int k = 0; k < j; k++) assert_int_not_equal(idx[j], idx[k]);
            counts[idx[j]]++;
        }
    }
    isb_ocl_release(&dx); isb_ocl_release(&di); isb_ocl_release(&dw);
    isb_sampler_free(s);
    free(idx);
}

static void inclusion_matches_exact_enumeration(void **state) {
    (void)state;
    const int n = 4, z = 2, rounds = 3000;
    float x[4] = {0.0f, 0.7f, 1.5f, -1.0f}, p[4];
    isb_sref_softmax(p, x, n, 1.0f);
    double exact[4], counts[4];
    /* pi_i = P(i first) + sum_j P(j first) P(i second | j first) */
    for (int i = 0; i < n; i++) {
        exact[i] = p[i];
        for (int j = 0; j < n; j++)
            if (j != i) exact[i] += p[j] * p[i] / (1.0 - p[j]);
    }
    const isb_draw_method methods[] = {ISB_DRAW_GUMBEL_TOPK, ISB_DRAW_GUMBEL_SORT};
    for (int k = 0; k < 2; k++) {
        inclusion_counts(methods[k], x, n, z, rounds, counts);
        for (int i = 0; i < n; i++) {
            double f = counts[i] / rounds, se = sqrt(exact[i] * (1 - exact[i]) / rounds);
            print_message("%s: pi_%d exact %.4f observed %.4f (%.1f se)\n", k ? "sort" : "topk", i, exact[i], f,
                          fabs(f - exact[i]) / se);
            assert_true(fabs(f - exact[i]) < 4.5 * se);
        }
    }
}

static void inclusion_matches_successive_sampling(void **state) {
    (void)state;
    const int n = 20, z = 5, rounds = 2000;
    float x[20], p[20];
    test_fill_uniform(x, n, -1, 2, 22);
    isb_sref_softmax(p, x, n, 1.0f);
    double dev[20], host[20] = {0};
    inclusion_counts(ISB_DRAW_GUMBEL_TOPK, x, n, z, rounds, dev);
    int out[5];
    unsigned char taken[20];
    for (int r = 0; r < rounds; r++) {
        isb_sref_successive(out, z, p, n, 77, (uint32_t)r, taken);
        for (int j = 0; j < z; j++) host[out[j]]++;
    }
    for (int i = 0; i < n; i++) {
        double a = dev[i] / rounds, b = host[i] / rounds, m = 0.5 * (a + b);
        double se = sqrt(fmax(m * (1 - m), 1e-4) * 2.0 / rounds);
        assert_true(fabs(a - b) < 4.5 * se);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(with_replacement_frequencies_match_p),
        cmocka_unit_test(inclusion_matches_exact_enumeration),
        cmocka_unit_test(inclusion_matches_successive_sampling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
