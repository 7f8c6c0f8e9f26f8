/* The sampling kernels against their plain C references (src/ref/sampling.c) on random
 * inputs: softmax, alias and CDF draws, Gumbel-top-k (selection = full sort = host), uniform
 * permutations, weights (none, 1/(N p), exact HT), Gumbel keys at extreme Philox words, score
 * rules (last, running, gradient norm) and the input errors.
 * Statistical checks live in test_sampling_stats.c. ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "nn/layers.h"
#include "ref/sampling.h"
#include "sampling/sampler.h"
#include "ocl/programs.h"
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
    /* batch order: the selected samples by increasing index, permuted as the host's reference does */
    memcpy(h, a, z * sizeof *a);
    qsort(h, z, sizeof *h, cmp_int);
    isb_sref_batch_order(b, h, z, 99, 5);
    for (int j = 0; j < z; j++) assert_int_equal(a[j], b[j]);
    int in_order = 0;
    for (int j = 1; j < z; j++) in_order += a[j] > a[j - 1];
    assert_true(in_order < z * 3 / 4); /* shuffled, not index order (about half ascend) */
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

/* Exact HT: the device's weights are z / (N q_i), q_i = 1 - exp(-exp(phi_i - kappa)) with kappa
 * the (z+1)-th key, as the host computes them in double from the same Philox uniforms. */
static void ht_weights_match_host(void **state) {
    (void)state;
    int n = test_size(20000, 400), z = test_size(3200, 64);
    float *x = malloc(n * sizeof *x), *w = malloc(z * sizeof *w);
    int *idx = malloc(z * sizeof *idx), *h = malloc(z * sizeof *h), *order = malloc(n * sizeof *order);
    double *keys = malloc(n * sizeof *keys);
    test_fill_uniform(x, n, 0, 6, 14); /* skewed: some q saturate near 1 */
    isb_sampler *s = make_sampler(n, n);
    cl_mem dx = test_buffer_from(x, n * sizeof *x);
    const isb_draw_method methods[] = {ISB_DRAW_GUMBEL_TOPK, ISB_DRAW_GUMBEL_SORT};
    double kappa = isb_sref_gumbel_topk(h, z, x, n, 1.0f, 3, 0, keys, order);
    double m = -INFINITY;
    for (int i = 0; i < n; i++) m = fmax(m, x[i]);
    for (int k = 0; k < 2; k++) {
        draw(s, dx, n, z, 1.0f, methods[k], ISB_WEIGHTS_HT, 3, 0, idx, w);
        TEST_OK(isb_sampler_check(s));
        double worst = 0;
        for (int j = 0; j < z; j++) {
            double expect = z / (n * isb_sref_ht_inclusion(x[idx[j]] - m - kappa));
            worst = fmax(worst, fabs(w[j] - expect) / expect);
        }
        print_message("HT %s: kappa %.6f, worst relative weight error %.2g\n", k ? "sort" : "topk", kappa, worst);
        assert_true(worst < 1e-3);
    }
    qsort(idx, z, sizeof *idx, cmp_int);
    qsort(h, z, sizeof *h, cmp_int);
    for (int j = 0; j < z; j++) assert_int_equal(idx[j], h[j]); /* the same z (and so the same kappa) */
    /* flat scores: every selected sample has the same q, so the same weight */
    for (int i = 0; i < n; i++) x[i] = 2.5f;
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, n * sizeof *x, x));
    draw(s, dx, n, z, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_HT, 3, 0, idx, w);
    for (int j = 1; j < z; j++) assert_true(w[j] == w[0]);
    /* z = N: every sample is in with probability 1, w = 1 exactly */
    float *wn = malloc(n * sizeof *wn);
    draw(s, dx, n, n, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_HT, 3, 0, NULL, wn);
    for (int j = 0; j < n; j++) assert_true(wn[j] == 1.0f);
    isb_ocl_release(&dx);
    isb_sampler_free(s);
    free(x); free(w); free(idx); free(h); free(order); free(keys); free(wn);
}

/* The uniform behind the Gumbel noise is strictly inside (0, 1) and bit-identical on the device and
 * the host, even for the extreme Philox words 0 and 0xFFFFFFFF (before, u = 1.0f gave key +inf). */
static void gumbel_keys_finite_at_extreme_words(void **state) {
    (void)state;
    enum { COUNT = 8 };
    const uint32_t words[COUNT] = {0u, 1u, 0x1FFu, 0x200u, 0x7FFFFFFFu, 0xFFFFFE00u, 0xFFFFFEFFu, 0xFFFFFFFFu};
    const float phi[COUNT] = {0.0f, -3.0f, 0.0f, -80.0f, 0.0f, -1.0f, 0.0f, 0.0f};
    float u[COUNT], key[COUNT];
    cl_mem dwords = test_buffer_from(words, sizeof words), dphi = test_buffer_from(phi, sizeof phi),
           du = test_buffer_from(NULL, sizeof u), dkey = test_buffer_from(NULL, sizeof key);
    cl_kernel k;
    TEST_OK(isb_ocl_kernel(test_ocl(), ISB_PROGRAM_SAMPLING, "", "isb_smp_key_of_word", &k));
    int count = COUNT;
    TEST_OK(ISB_SET_ARGS(k, ISB_KA(count), ISB_KA(dwords), ISB_KA(dphi), ISB_KA(du), ISB_KA(dkey)));
    TEST_OK(isb_ocl_run1d(test_ocl(), k, COUNT, 0));
    test_read(du, u, sizeof u);
    test_read(dkey, key, sizeof key);
    for (int j = 0; j < COUNT; j++) {
        float host_u = isb_u32_to_unit_open(words[j]);
        double host_key = isb_sref_gumbel_key(phi[j], words[j]);
        print_message("word %08x: u %.9g key %.9g (host %.9g)\n", words[j], u[j], key[j], host_key);
        assert_memory_equal(&u[j], &host_u, sizeof u[j]);
        assert_true(u[j] > 0.0f && u[j] < 1.0f);
        assert_true(isfinite(key[j]) && isfinite(host_key));
        assert_true(fabs(key[j] - host_key) <= 1e-5 * (1 + fabs(host_key)));
    }
    assert_true(key[7] < 17.0f && key[0] > -3.0f); /* |G| < 17 */
    isb_ocl_release(&dwords); isb_ocl_release(&dphi); isb_ocl_release(&du); isb_ocl_release(&dkey);
}

/* The standalone update (what the score_update benchmarks time) runs the loss kernel's rule code:
 * rows in order for repeated indices, out-of-range indices skipped. */
static void score_update_matches_c(void **state) {
    (void)state;
    int n = test_size(50000, 600), b = 128;
    float *sc = malloc(n * sizeof *sc), *want = malloc(n * sizeof *want), *loss = malloc(b * sizeof *loss);
    int *idx = malloc(b * sizeof *idx);
    test_fill_uniform(sc, n, 0, 3, 15);
    test_fill_uniform(loss, b, 0, 5, 16);
    for (int r = 0; r < b; r++) idx[r] = (int)((r * 7919L) % (r < b / 2 ? n : 40)); /* distinct, then repeats */
    cl_mem ds = test_buffer_from(sc, n * sizeof *sc), di = test_buffer_from(idx, b * sizeof *idx),
           dl = test_buffer_from(loss, b * sizeof *loss);
    const isb_score_rule rules[] = {{ISB_SCORE_RULE_LAST_LOSS, 0.2f}, {ISB_SCORE_RULE_RUNNING_LOSS, 0.2f},
                                    {ISB_SCORE_RULE_GRADIENT_NORM, 0.2f}};
    for (int k = 0; k < 3; k++) {
        memcpy(want, sc, n * sizeof *sc);
        isb_sref_score_update(want, idx, loss, b, rules[k]);
        TEST_OK(isb_ocl_write(test_ocl(), ds, 0, n * sizeof *sc, sc));
        TEST_OK(isb_scores_update(test_ocl(), ds, di, dl, b, rules[k]));
        float *got = malloc(n * sizeof *got);
        test_read(ds, got, n * sizeof *got);
        test_assert_close(isb_score_rule_name(rules[k].kind), got, want, n, 1e-6);
        free(got);
    }
    /* an index outside [0, n) writes nothing */
    int far[2] = {n, -1};
    cl_mem dfar = test_buffer_from(far, sizeof far);
    TEST_OK(isb_ocl_write(test_ocl(), ds, 0, n * sizeof *sc, sc));
    TEST_OK(isb_scores_update(test_ocl(), ds, dfar, dl, 2, rules[0]));
    float *got = malloc(n * sizeof *got);
    test_read(ds, got, n * sizeof *got);
    assert_memory_equal(got, sc, n * sizeof *sc);
    free(got);
    assert_int_equal(isb_scores_update(test_ocl(), ds, di, dl, b, (isb_score_rule){ISB_SCORE_RULE_RUNNING_LOSS, 1.5f}),
                     ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "beta"));
    assert_int_equal(isb_scores_update(test_ocl(), ds, di, dl, b, (isb_score_rule){(isb_score_rule_kind)7, 0.2f}),
                     ISB_ERR_USAGE);
    isb_ocl_release(&ds); isb_ocl_release(&di); isb_ocl_release(&dl); isb_ocl_release(&dfar);
    free(sc); free(want); free(loss); free(idx);
}

/* The fourth score: the loss kernel writes ||softmax(z) - onehot(y)||_2 per row, as the C reference. */
static void gradient_norm_score_matches_c(void **state) {
    (void)state;
    int batch = test_size(200, 12), classes = 10, n = 3 * batch;
    float *z = malloc((size_t)batch * classes * sizeof *z), *sc = malloc(n * sizeof *sc), *want = malloc(n * sizeof *want);
    int *labels = malloc(batch * sizeof *labels), *idx = malloc(batch * sizeof *idx);
    test_fill_uniform(z, (size_t)batch * classes, -4, 4, 18);
    test_fill_uniform(sc, n, 0, 1, 19);
    for (int r = 0; r < batch; r++) {
        labels[r] = (r * 7) % classes;
        idx[r] = (r * 5 + 1) % n;
    }
    memcpy(want, sc, n * sizeof *sc);
    for (int r = 0; r < batch; r++) want[idx[r]] = isb_sref_gradient_norm(z + r * classes, classes, labels[r]);
    cl_mem dz = test_buffer_from(z, (size_t)batch * classes * sizeof *z), dl = test_buffer_from(labels, batch * sizeof *labels),
           ds = test_buffer_from(sc, n * sizeof *sc), di = test_buffer_from(idx, batch * sizeof *idx);
    isb_loss_args a = {.batch = batch, .classes = classes, .logits = isb_ds(dz, 0), .labels = isb_ds(dl, 0),
                       .score_rule = {ISB_SCORE_RULE_GRADIENT_NORM, 0.0f}, .scores = ds, .indices = isb_ds(di, 0)};
    TEST_OK(isb_softmax_xent(test_ocl(), &a));
    float *got = malloc(n * sizeof *got);
    test_read(ds, got, n * sizeof *got);
    test_assert_close("gradient-norm scores", got, want, n, 1e-5);
    for (int r = 0; r < batch; r++) assert_true(got[idx[r]] > 0.0f && got[idx[r]] <= sqrtf(2.0f) + 1e-6f);
    isb_ocl_release(&dz); isb_ocl_release(&dl); isb_ocl_release(&ds); isb_ocl_release(&di);
    free(z); free(sc); free(want); free(labels); free(idx); free(got);
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
    /* a finite score whose S/T overflows names the sample and the fix */
    test_fill_uniform(x, n, 0, 1, 17);
    x[5] = 1e9f;
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, sizeof x, x));
    TEST_OK(isb_sampler_draw(s, dx, n, 8, 1e-30f, ISB_DRAW_CDF, ISB_WEIGHTS_INVERSE_P, 1, 0, di, dw));
    assert_int_equal(isb_sampler_check(s), ISB_ERR_NUMERIC);
    assert_non_null(strstr(isb_last_error(), "sample 5"));
    assert_non_null(strstr(isb_last_error(), "raise the temperature"));
    /* an unrepresentable weight (p_0 = e^-200 / ..., w = 1/(N p_0) > FLT_MAX) is an error naming the
     * sample, never a printed inf */
    x[5] = 0.5f;
    x[0] = -200.0f;
    TEST_OK(isb_ocl_write(test_ocl(), dx, 0, sizeof x, x));
    TEST_OK(isb_sampler_draw(s, dx, n, n, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_INVERSE_P, 1, 0, di, dw));
    assert_int_equal(isb_sampler_check(s), ISB_ERR_NUMERIC);
    assert_non_null(strstr(isb_last_error(), "weight of sample 0"));
    TEST_OK(isb_sampler_check(s)); /* reported once */
    /* HT with z = N: exact (w = 1), no error */
    TEST_OK(isb_sampler_draw(s, dx, n, n, 1.0f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_HT, 1, 0, di, dw));
    TEST_OK(isb_sampler_check(s));
    assert_int_equal(isb_sampler_draw(s, dx, n, 8, 1e-39f, ISB_DRAW_CDF, ISB_WEIGHTS_NONE, 1, 0, di, dw), ISB_ERR_USAGE);
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
        cmocka_unit_test(gumbel_keys_finite_at_extreme_words),
        cmocka_unit_test(score_update_matches_c),
        cmocka_unit_test(gradient_norm_score_matches_c),
        cmocka_unit_test(bad_input_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
