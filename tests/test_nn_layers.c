/* The layers (src/nn/layers.h) on the device against the plain-C reference (src/ref/nn.h) on
 * random inputs placed at non-zero buffer offsets, and every reference backward against central
 * finite differences of the reference forward. ISB_OCLGRIND_TEST (tiny sizes under Oclgrind).
 *
 * Tolerances (normalised L2 error): device vs reference 1e-6..1e-7 for elementwise/layout ops, 1e-5
 * for reductions and GEMMs (float accumulation in another order than the double reference; at most
 * 5e-7 seen on PoCL and on an H200); finite differences 1e-4 for linear ops (only float rounding of
 * the forward; at most 6e-6 seen), 1e-3 where the forward is non-linear (batch norm, softmax: the
 * O(h^2) term; at most 8e-5 seen). */
#include "testutil.h"
#include "nn/layers.h"
#include "ocl/clblast_tuning.h"
#include "ref/nn.h"
#include "ref/sampling.h"
#include "util/error.h"

#include <clblast_c.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- device buffers at offsets, released at the end of each test -------------------------------- */

#define PAD 7 /* every tensor starts PAD elements into its buffer, so offsets are exercised */
static cl_mem owned[64];
static int n_owned;

static isb_dslice put_at(const void *host, size_t n, size_t elem, size_t pad) {
    unsigned char *tmp = calloc(n + pad, elem);
    assert_non_null(tmp);
    if (host) memcpy(tmp + pad * elem, host, n * elem);
    else /* outputs start as garbage-but-initialised data, so a missed write shows */
        for (size_t i = 0; i < (n + pad) * elem; i++) tmp[i] = (unsigned char)(0x3f + i % 7);
    assert_true(n_owned < 64);
    cl_mem m = test_buffer_from(tmp, (n + pad) * elem);
    owned[n_owned++] = m;
    free(tmp);
    return isb_ds(m, pad);
}
static isb_dslice put(const float *host, size_t n) { return put_at(host, n, sizeof(float), PAD); }
static isb_dslice put_int(const int *host, size_t n) { return put_at(host, n, sizeof(int), PAD); }
static void get(isb_dslice s, void *dst, size_t n, size_t elem) {
    TEST_OK(isb_ocl_read(test_ocl(), s.mem, s.off * elem, n * elem, dst));
}
static float *get_new(isb_dslice s, size_t n) {
    float *h = malloc(n * sizeof *h);
    assert_non_null(h);
    get(s, h, n, sizeof *h);
    return h;
}
static void release_all(void) {
    while (n_owned > 0) isb_ocl_release(&owned[--n_owned]);
}

static float *rnd(size_t n, float lo, float hi, uint64_t seed) {
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    test_fill_uniform(x, n, lo, hi, seed);
    return x;
}
static float *zeros(size_t n) {
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    return x;
}
/* Uniform in +-[0.05, 1]: keeps ReLU kinks farther than the finite-difference step from any input. */
static float *rnd_away_from_zero(size_t n, uint64_t seed) {
    float *x = rnd(n, 0.05f, 1.0f, seed), *sign = rnd(n, -1, 1, seed + 1000);
    for (size_t i = 0; i < n; i++) x[i] = sign[i] < 0 ? -x[i] : x[i];
    free(sign);
    return x;
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* ---- finite differences ------------------------------------------------------------------------ */

/* Central differences of loss() w.r.t. every entry of param, compared with the analytic gradient. */
typedef double (*loss_fn)(void *ctx);
static void fd_check(const char *what, float *param, size_t n, const float *analytic, loss_fn loss, void *ctx,
                     float h, double tol) {
    float *numeric = malloc(n * sizeof *numeric);
    assert_non_null(numeric);
    for (size_t i = 0; i < n; i++) {
        float keep = param[i];
        param[i] = keep + h;
        double up = loss(ctx);
        param[i] = keep - h;
        double down = loss(ctx);
        param[i] = keep;
        numeric[i] = (float)((up - down) / (2.0 * h));
    }
    test_assert_close(what, analytic, numeric, n, tol);
    free(numeric);
}

/* ---- convolution -------------------------------------------------------------------------------- */

typedef struct {
    isb_conv_shape s;
    float *x, *w, *r; /* r: the weights of the scalar loss sum(y * r) */
    size_t ny;
} conv_case;

static size_t conv_ny(const isb_conv_shape *s) {
    return (size_t)s->cout * s->batch * isb_conv_out_size(s->h, s->k, s->stride) * isb_conv_out_size(s->w, s->k, s->stride);
}
static size_t conv_nx(const isb_conv_shape *s) { return (size_t)s->cin * s->batch * s->h * s->w; }
static size_t conv_nw(const isb_conv_shape *s) { return (size_t)s->cout * s->cin * s->k * s->k; }

static double conv_loss(void *ctx) {
    conv_case *c = ctx;
    float *y = malloc(c->ny * sizeof *y);
    isb_ref_conv2d_forward(&c->s, y, c->x, c->w);
    double l = dot(y, c->r, c->ny);
    free(y);
    return l;
}

/* 3x3 and 1x1, stride 1 and 2, odd and even sizes. */
static isb_conv_shape conv_shapes[] = {
    {.batch = 2, .cin = 3, .h = 7, .w = 6, .cout = 4, .k = 3, .stride = 1},
    {.batch = 2, .cin = 3, .h = 8, .w = 8, .cout = 5, .k = 3, .stride = 2},
    {.batch = 2, .cin = 4, .h = 7, .w = 7, .cout = 3, .k = 3, .stride = 2},
    {.batch = 2, .cin = 4, .h = 6, .w = 5, .cout = 6, .k = 1, .stride = 1},
    {.batch = 2, .cin = 4, .h = 7, .w = 7, .cout = 6, .k = 1, .stride = 2},
    {.batch = 2, .cin = 5, .h = 6, .w = 7, .cout = 5, .k = 3, .stride = 1}, /* a block's conv: cin = cout */
};

/* Both kernel forms (pixel / row im2col and col2im; CLBlast products in both) on every shape. */
static void conv_device_matches_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int forward_conv_dx = 0; /* shapes whose dx ran as the forward conv of dy (CPU form) */
    for (size_t t = 0; t < 2 * sizeof conv_shapes / sizeof *conv_shapes; t++) {
        isb_conv_shape s = conv_shapes[t / 2];
        s.form = t % 2 ? ISB_FORM_CPU : ISB_FORM_GPU;
        s.batch = test_size(3, 2); /* 3: the chunked weight gradient gets a remainder */
        s.cin *= test_size(2, 1);
        s.h += test_size(4, 0);
        size_t nx = conv_nx(&s), nw = conv_nw(&s), ny = conv_ny(&s);
        printf(" conv %dx%d stride %d: batch %d, %d -> %d channels, %dx%d, %s form, dx %s\n", s.k, s.k, s.stride,
               s.batch, s.cin, s.cout, s.h, s.w, s.form == ISB_FORM_CPU ? "CPU" : "GPU",
               isb_conv_dx_as_forward_conv(ocl, &s) ? "as the forward conv of dy" : "w^T dy + col2im");
        forward_conv_dx += isb_conv_dx_as_forward_conv(ocl, &s);
        float *x = rnd(nx, -1, 1, 10 + t), *w = rnd(nw, -1, 1, 20 + t), *dy = rnd(ny, -1, 1, 30 + t);
        float *y_ref = zeros(ny), *dx_ref = zeros(nx), *dw_ref = zeros(nw);
        isb_ref_conv2d_forward(&s, y_ref, x, w);
        isb_ref_conv2d_backward(&s, dx_ref, dw_ref, dy, x, w);

        /* 1 = single GEMM, 3 = chunked with a remainder (3 does not divide batch 3 * odd sizes
         * for every shape), 0 = the default count */
        int chunk_counts[] = {1, 3, 0};
        size_t col_n = isb_conv_col_floats(&s), part_n = isb_conv_partials_floats(&s, 3);
        if (isb_conv_partials_floats(&s, 0) > part_n) part_n = isb_conv_partials_floats(&s, 0);
        isb_dslice dxs = put(x, nx), dws = put(w, nw), ddy = put(dy, ny), dyo = put(NULL, ny);
        isb_dslice col = put(NULL, col_n ? col_n : 1), parts = put(NULL, part_n ? part_n : 1);
        isb_dslice ddx = put(NULL, nx), ddw = put(NULL, nw);
        if (col_n == 0) col.mem = NULL; /* 1x1 stride 1 must not need it */
        TEST_OK(isb_conv2d_forward(ocl, &s, dyo, dxs, dws, col));
        float *got = get_new(dyo, ny);
        test_assert_close("conv forward y", got, y_ref, ny, 1e-5);
        free(got);
        float *dw_single = NULL;
        for (int c = 0; c < 3; c++) {
            /* a single GEMM needs none, unless dx runs as a forward conv (its flipped weights) */
            isb_dslice p = isb_conv_partials_floats(&s, chunk_counts[c]) ? parts : isb_ds(NULL, 0);
            /* the first backward reads the forward's columns (kept, as the model does); it then
             * reuses col, so the later ones recompute im2col(x) */
            TEST_OK(isb_conv2d_backward(ocl, &s, ddx, ddw, ddy, dxs, dws, col, c == 0, p, chunk_counts[c]));
            char what[64];
            snprintf(what, sizeof what, "conv backward dw (chunks %d)", chunk_counts[c]);
            float *gdw = get_new(ddw, nw), *gdx = get_new(ddx, nx);
            test_assert_close(what, gdw, dw_ref, nw, 1e-5);
            test_assert_close("conv backward dx", gdx, dx_ref, nx, 1e-5);
            if (c == 0) dw_single = gdw;
            else {
                test_assert_close("chunked dw == single-GEMM dw", gdw, dw_single, nw, 1e-5);
                free(gdw);
            }
            free(gdx);
        }
        /* dx not wanted (the stem): only dw is written */
        TEST_OK(isb_conv2d_backward(ocl, &s, isb_ds(NULL, 0), ddw, ddy, dxs, dws, col, 0, parts, 3));
        got = get_new(ddw, nw);
        test_assert_close("conv backward dw without dx", got, dw_ref, nw, 1e-5);
        free(got);
        free(dw_single);
        free(x); free(w); free(dy); free(y_ref); free(dx_ref); free(dw_ref);
        release_all();
    }
    assert_true(forward_conv_dx >= 1); /* the forward-conv dx path was compared with the reference too */
}

/* The data-movement kernels on their own, and col2im as the exact adjoint of im2col:
 * <im2col(x), c> == <x, col2im(c)> for random x and c. */
static void im2col_col2im_match_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    for (size_t t = 0; t < sizeof conv_shapes / sizeof *conv_shapes; t++) {
        isb_conv_shape s = conv_shapes[t];
        size_t nx = conv_nx(&s), ncol = (size_t)s.cin * s.k * s.k * s.batch * isb_conv_out_size(s.h, s.k, s.stride) *
                                        isb_conv_out_size(s.w, s.k, s.stride);
        float *x = rnd(nx, -1, 1, 160 + t), *c = rnd(ncol, -1, 1, 170 + t), *col = zeros(ncol), *dx = zeros(nx);
        isb_ref_im2col(&s, col, x);
        isb_ref_col2im(&s, dx, c);
        double lhs = dot(col, c, ncol), rhs = dot(x, dx, nx);
        printf(" %dx%d stride %d: <im2col(x), c> = %.6f, <x, col2im(c)> = %.6f\n", s.k, s.k, s.stride, lhs, rhs);
        assert_true(fabs(lhs - rhs) <= 1e-5 * (fabs(lhs) + 1)); /* col2im sums in float */
        isb_dslice dxs = put(x, nx), dcs = put(c, ncol), dcol = put(NULL, ncol), ddx = put(NULL, nx);
        float *first[2] = {NULL, NULL}; /* the pixel form's im2col and col2im: the row form must match bit for bit */
        for (s.form = ISB_FORM_GPU; s.form <= ISB_FORM_CPU; s.form++) {
            TEST_OK(isb_im2col(ocl, &s, dcol, dxs));
            TEST_OK(isb_col2im(ocl, &s, ddx, dcs));
            float *g = get_new(dcol, ncol), *gx = get_new(ddx, nx);
            test_assert_close(s.form == ISB_FORM_CPU ? "im2col (CPU form)" : "im2col (GPU form)", g, col, ncol, 1e-7);
            test_assert_close(s.form == ISB_FORM_CPU ? "col2im (CPU form)" : "col2im (GPU form)", gx, dx, nx, 1e-6);
            if (first[0]) {
                assert_memory_equal(g, first[0], ncol * sizeof *g);
                assert_memory_equal(gx, first[1], nx * sizeof *gx);
                free(g);
                free(gx);
            } else {
                first[0] = g;
                first[1] = gx;
            }
        }
        free(first[0]);
        free(first[1]);
        free(x); free(c); free(col); free(dx);
        release_all();
    }
}

static void conv_default_chunks_split_large_reductions(void **state) {
    (void)state;
    isb_conv_shape big = {.batch = 128, .cin = 64, .h = 32, .w = 32, .cout = 64, .k = 3, .stride = 1};
    assert_int_equal(isb_conv_default_chunks(&big), 128 * 32 * 32 / 1024);
    assert_int_equal(isb_conv_partials_floats(&big, 0), (size_t)128 * 64 * 64 * 9);
    assert_int_equal(isb_conv_col_floats(&big), (size_t)64 * 9 * 128 * 32 * 32);
    big.batch = 1024; /* capped: the partials stay bounded */
    assert_int_equal(isb_conv_default_chunks(&big), 256);
    isb_conv_shape last = {.batch = 128, .cin = 512, .h = 4, .w = 4, .cout = 512, .k = 3, .stride = 1};
    assert_int_equal(isb_conv_default_chunks(&last), 1); /* 2048 columns: one GEMM is as fast */
    isb_conv_shape small = {.batch = 2, .cin = 4, .h = 4, .w = 4, .cout = 4, .k = 1, .stride = 1};
    assert_int_equal(isb_conv_default_chunks(&small), 1);
    assert_int_equal(isb_conv_partials_floats(&small, 0), 0);
    assert_int_equal(isb_conv_col_floats(&small), 0);
}

static void conv_reference_backward_matches_finite_differences(void **state) {
    (void)state;
    for (size_t t = 0; t < sizeof conv_shapes / sizeof *conv_shapes; t++) {
        conv_case c = {.s = conv_shapes[t]};
        c.s.h = 5;
        c.s.w = 4;
        c.ny = conv_ny(&c.s);
        size_t nx = conv_nx(&c.s), nw = conv_nw(&c.s);
        c.x = rnd(nx, -1, 1, 40 + t);
        c.w = rnd(nw, -1, 1, 50 + t);
        c.r = rnd(c.ny, -1, 1, 60 + t);
        float *dx = zeros(nx), *dw = zeros(nw);
        isb_ref_conv2d_backward(&c.s, dx, dw, c.r, c.x, c.w);
        printf(" conv %dx%d stride %d\n", c.s.k, c.s.k, c.s.stride);
        fd_check("conv reference dx vs finite differences", c.x, nx, dx, conv_loss, &c, 1e-2f, 1e-4);
        fd_check("conv reference dw vs finite differences", c.w, nw, dw, conv_loss, &c, 1e-2f, 1e-4);
        free(c.x); free(c.w); free(c.r); free(dx); free(dw);
    }
}

static void conv_rejects_bad_shapes(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    isb_dslice any = put(NULL, 16);
    isb_conv_shape s = {.batch = 1, .cin = 1, .h = 2, .w = 2, .cout = 1, .k = 5, .stride = 1};
    assert_int_equal(isb_conv2d_forward(ocl, &s, any, any, any, any), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "kernel size 5"));
    s.k = 3;
    s.stride = 3;
    assert_int_equal(isb_conv2d_forward(ocl, &s, any, any, any, any), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "stride 3"));
    s.stride = 1;
    assert_int_equal(isb_conv2d_forward(ocl, &s, any, isb_ds(NULL, 0), any, any), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "x buffer is NULL"));
    release_all();
}

/* ---- batch normalisation ------------------------------------------------------------------------- */

static void bn_device_matches_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    /* n above and below any work-group size, odd */
    int ns[] = {test_size(2 * 33 * 33, 2 * 5 * 5), 3};
    for (int relu = 0; relu <= 1; relu++)
        for (int t = 0; t < 4; t++) { /* two sizes x both kernel forms */
            isb_bn_shape s = {.channels = test_size(5, 3), .n = ns[t % 2], .momentum = 0.1f, .eps = 1e-5f, .relu = relu,
                              .form = t < 2 ? ISB_FORM_GPU : ISB_FORM_CPU};
            size_t n = (size_t)s.channels * s.n, c = s.channels;
            printf(" batch norm: %d channels x %d, relu %d, %s form\n", s.channels, s.n, relu, t < 2 ? "GPU" : "CPU");
            float *x = rnd(n, -2, 3, 70 + t % 2), *dy = rnd(n, -1, 1, 71 + t % 2), *gamma = rnd(c, 0.5f, 1.5f, 72),
                  *beta = rnd(c, -0.5f, 0.5f, 73), *rm = rnd(c, -0.2f, 0.2f, 74), *rv = rnd(c, 0.5f, 2, 75);
            float *y = zeros(n), *mean = zeros(c), *invstd = zeros(c), *rm_ref = malloc(c * 4), *rv_ref = malloc(c * 4);
            float *dx = zeros(n), *dg = zeros(c), *db = zeros(c);
            memcpy(rm_ref, rm, c * 4);
            memcpy(rv_ref, rv, c * 4);
            isb_ref_bn_forward_train(&s, y, mean, invstd, rm_ref, rv_ref, x, gamma, beta);
            isb_ref_bn_backward(&s, dx, dg, db, dy, x, y, gamma, mean, invstd);

            isb_dslice dxs = put(x, n), dys = put(dy, n), dg_s = put(gamma, c), db_s = put(beta, c);
            isb_dslice drm = put(rm, c), drv = put(rv, c), dout = put(NULL, n), dmean = put(NULL, c), dinv = put(NULL, c);
            isb_dslice ddx = put(NULL, n), ddg = put(NULL, c), ddb = put(NULL, c);
            TEST_OK(isb_bn_forward_train(ocl, &s, dout, dmean, dinv, drm, drv, dxs, dg_s, db_s));
            TEST_OK(isb_bn_backward(ocl, &s, ddx, ddg, ddb, dys, dxs, dout, dg_s, dmean, dinv));
            float *g;
            g = get_new(dout, n); test_assert_close("bn train y", g, y, n, 1e-5); free(g);
            g = get_new(dmean, c); test_assert_close("bn saved mean", g, mean, c, 1e-5); free(g);
            g = get_new(dinv, c); test_assert_close("bn saved inverse std", g, invstd, c, 1e-5); free(g);
            g = get_new(drm, c); test_assert_close("bn running mean", g, rm_ref, c, 1e-5); free(g);
            g = get_new(drv, c); test_assert_close("bn running var", g, rv_ref, c, 1e-5); free(g);
            g = get_new(ddx, n); test_assert_close("bn backward dx", g, dx, n, 1e-5); free(g);
            g = get_new(ddg, c); test_assert_close("bn backward dgamma", g, dg, c, 1e-5); free(g);
            g = get_new(ddb, c); test_assert_close("bn backward dbeta", g, db, c, 1e-5); free(g);
            /* the residual-block end: y = act(bn(x) + res), fused */
            {
                isb_bn_shape plain = s;
                plain.relu = 0;
                float *res = rnd(n, -1, 1, 76), *want = zeros(n), *rm2 = malloc(c * 4), *rv2 = malloc(c * 4);
                memcpy(rm2, rm, c * 4);
                memcpy(rv2, rv, c * 4);
                isb_ref_bn_forward_train(&plain, want, mean, invstd, rm2, rv2, x, gamma, beta);
                isb_ref_add((int)n, want, want, res, s.relu);
                isb_dslice dres = put(res, n), dy2 = put(NULL, n), drm2 = put(rm, c), drv2 = put(rv, c);
                TEST_OK(isb_bn_forward_train_add(ocl, &s, dy2, dmean, dinv, drm2, drv2, dxs, dg_s, db_s, dres));
                g = get_new(dy2, n); test_assert_close("bn train y + residual (fused)", g, want, n, 1e-5); free(g);
                free(res); free(want); free(rm2); free(rv2);
            }
            /* in place dx == dy */
            TEST_OK(isb_bn_backward(ocl, &s, dys, ddg, ddb, dys, dxs, dout, dg_s, dmean, dinv));
            g = get_new(dys, n); test_assert_close("bn backward dx in place", g, dx, n, 1e-5); free(g);

            /* eval mode: the running statistics, not the batch's */
            float *ye = zeros(n), *ybatch = zeros(n);
            isb_ref_bn_forward_eval(&s, ye, x, gamma, beta, rm, rv);
            /* fresh buffers rather than rewriting drm/drv: Oclgrind 21.10 marks memory that the host
             * rewrites in an existing buffer as uninitialised */
            drm = put(rm, c);
            drv = put(rv, c);
            TEST_OK(isb_bn_forward_eval(ocl, &s, dout, dxs, dg_s, db_s, drm, drv));
            g = get_new(dout, n);
            test_assert_close("bn eval y (running stats)", g, ye, n, 1e-5);
            isb_ref_bn_forward_eval(&s, ybatch, x, gamma, beta, mean, rv_ref); /* anything but rm/rv */
            assert_true(test_normalised_error(g, ybatch, n) > 1e-2);
            free(g);
            /* eval in place (y == x) */
            TEST_OK(isb_bn_forward_eval(ocl, &s, dxs, dxs, dg_s, db_s, drm, drv));
            g = get_new(dxs, n); test_assert_close("bn eval in place", g, ye, n, 1e-5); free(g);
            free(x); free(dy); free(gamma); free(beta); free(rm); free(rv); free(y); free(mean); free(invstd);
            free(rm_ref); free(rv_ref); free(dx); free(dg); free(db); free(ye); free(ybatch);
            release_all();
        }
}

/* The reference's statistics against a direct computation: PyTorch's momentum rule with the
 * unbiased variance for running_var, the biased one for normalising. */
static void bn_reference_statistics_follow_pytorch(void **state) {
    (void)state;
    isb_bn_shape s = {.channels = 1, .n = 4, .momentum = 0.1f, .eps = 1e-5f, .relu = 0};
    float x[4] = {1, 2, 3, 6}, gamma = 1, beta = 0, rm = 0.5f, rv = 2.0f, y[4], mean, invstd;
    isb_ref_bn_forward_train(&s, y, &mean, &invstd, &rm, &rv, x, &gamma, &beta);
    /* mean 3, squared deviations 4+1+0+9 = 14: biased 3.5, unbiased 14/3 */
    assert_float_equal(mean, 3.0f, 1e-6);
    assert_float_equal(invstd, 1.0 / sqrt(3.5 + 1e-5), 1e-6);
    assert_float_equal(rm, 0.9f * 0.5f + 0.1f * 3.0f, 1e-6);
    assert_float_equal(rv, 0.9f * 2.0f + 0.1f * 14.0f / 3.0f, 1e-6);
    assert_float_equal(y[3], 3.0 / sqrt(3.5 + 1e-5), 1e-5);
}

typedef struct {
    isb_bn_shape s;
    float *x, *gamma, *beta, *r;
} bn_case;

static double bn_loss(void *ctx) {
    bn_case *c = ctx;
    size_t n = (size_t)c->s.channels * c->s.n;
    float *y = malloc(n * 4), mean[8], invstd[8], rm[8] = {0}, rv[8] = {0};
    isb_ref_bn_forward_train(&c->s, y, mean, invstd, rm, rv, c->x, c->gamma, c->beta);
    double l = dot(y, c->r, n);
    free(y);
    return l;
}

static void bn_reference_backward_matches_finite_differences(void **state) {
    (void)state;
    for (int relu = 0; relu <= 1; relu++) {
        bn_case c = {.s = {.channels = 3, .n = 10, .momentum = 0.1f, .eps = 1e-5f, .relu = relu}};
        size_t n = 30;
        c.x = rnd(n, -2, 2, 80);
        c.gamma = rnd(3, 0.5f, 1.5f, 81);
        c.beta = rnd(3, -0.2f, 0.2f, 82);
        c.r = rnd(n, -1, 1, 83);
        float *y = zeros(n), mean[3], invstd[3], rm[3] = {0}, rv[3] = {0}, *dx = zeros(n), dg[3], db[3];
        isb_ref_bn_forward_train(&c.s, y, mean, invstd, rm, rv, c.x, c.gamma, c.beta);
        isb_ref_bn_backward(&c.s, dx, dg, db, c.r, c.x, y, c.gamma, mean, invstd);
        printf(" relu %d\n", relu);
        fd_check("bn reference dx vs finite differences", c.x, n, dx, bn_loss, &c, 1e-3f, 1e-3);
        fd_check("bn reference dgamma vs finite differences", c.gamma, 3, dg, bn_loss, &c, 1e-3f, 1e-3);
        fd_check("bn reference dbeta vs finite differences", c.beta, 3, db, bn_loss, &c, 1e-3f, 1e-3);
        free(c.x); free(c.gamma); free(c.beta); free(c.r); free(y); free(dx);
    }
}

/* ---- elementwise, layout, pooling, SGD --------------------------------------------------------- */

static void elementwise_ops_match_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int n = test_size(10007, 301);
    float *a = rnd_away_from_zero(n, 90), *b = rnd(n, -1, 1, 91), *dy = rnd(n, -1, 1, 92), *want = zeros(n), *y = zeros(n);
    isb_dslice da = put(a, n), dbb = put(b, n), ddy = put(dy, n), dout = put(NULL, n), dout2 = put(NULL, n);
    float *g;
    isb_ref_relu_forward(n, y, a);
    TEST_OK(isb_relu_forward(ocl, n, dout, da));
    g = get_new(dout, n); test_assert_close("relu forward", g, y, n, 1e-6); free(g);
    isb_ref_relu_backward(n, want, dy, y);
    TEST_OK(isb_relu_backward(ocl, n, dout2, ddy, dout));
    g = get_new(dout2, n); test_assert_close("relu backward (output mask)", g, want, n, 1e-6); free(g);
    for (int relu = 0; relu <= 1; relu++) {
        isb_ref_add(n, want, a, b, relu);
        TEST_OK(isb_add(ocl, n, dout, da, dbb, relu));
        g = get_new(dout, n); test_assert_close(relu ? "add + relu" : "residual add", g, want, n, 1e-6); free(g);
    }
    /* in place: y == a */
    isb_ref_add(n, want, a, b, 0);
    TEST_OK(isb_add(ocl, n, da, da, dbb, 0));
    g = get_new(da, n); test_assert_close("residual add in place", g, want, n, 1e-6); free(g);
    TEST_OK(isb_relu_forward(ocl, n, da, da));
    isb_ref_relu_forward(n, want, want);
    g = get_new(da, n); test_assert_close("relu in place", g, want, n, 1e-6); free(g);
    free(a); free(b); free(dy); free(want); free(y);
    release_all();
}

static void relu_reference_backward_matches_finite_differences(void **state) {
    (void)state;
    /* sum(relu(x) * r): derivative r where x > 0 */
    int n = 50;
    float *x = rnd_away_from_zero(n, 93), *r = rnd(n, -1, 1, 94), *y = zeros(n), *dx = zeros(n), *num = zeros(n);
    isb_ref_relu_forward(n, y, x);
    isb_ref_relu_backward(n, dx, r, y);
    for (int i = 0; i < n; i++) {
        float h = 1e-2f, up, down;
        float xp = x[i] + h, xm = x[i] - h;
        isb_ref_relu_forward(1, &up, &xp);
        isb_ref_relu_forward(1, &down, &xm);
        num[i] = (up - down) / (2 * h) * r[i];
    }
    test_assert_close("relu reference backward vs finite differences", dx, num, n, 1e-5);
    free(x); free(r); free(y); free(dx); free(num);
}

static void layout_and_pool_match_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int batch = test_size(5, 2), c = test_size(7, 3), hw = test_size(25, 9);
    size_t n = (size_t)batch * c * hw;
    float *x = rnd(n, -1, 1, 100), *want = zeros(n), *back = zeros(n);
    isb_dslice dx = put(x, n), dt = put(NULL, n), dback = put(NULL, n);
    isb_ref_nchw_to_cnhw(batch, c, hw, want, x);
    TEST_OK(isb_nchw_to_cnhw(ocl, batch, c, hw, dt, dx));
    float *g = get_new(dt, n);
    test_assert_close("nchw -> cnhw", g, want, n, 1e-7);
    assert_float_equal(g[((size_t)2 * batch + 1) * hw + 3], x[((size_t)1 * c + 2) * hw + 3], 0); /* [c=2][b=1][3] */
    free(g);
    TEST_OK(isb_cnhw_to_nchw(ocl, batch, c, hw, dback, dt));
    isb_ref_cnhw_to_nchw(batch, c, hw, back, want);
    g = get_new(dback, n);
    test_assert_close("cnhw -> nchw (reference)", g, back, n, 1e-7);
    test_assert_close("cnhw -> nchw round trip", g, x, n, 1e-7);
    free(g);
    assert_int_equal(isb_nchw_to_cnhw(ocl, batch, c, hw, dt, dt), ISB_ERR_USAGE);

    /* average pool over CNHW x -> [batch][c], and back */
    size_t ny = (size_t)batch * c;
    float *ywant = zeros(ny), *dy = rnd(ny, -1, 1, 101), *dxwant = zeros(n);
    isb_dslice dy_s = put(dy, ny), dpool = put(NULL, ny);
    isb_ref_avgpool_forward(batch, c, hw, ywant, want);
    TEST_OK(isb_avgpool_forward(ocl, batch, c, hw, dpool, dt));
    g = get_new(dpool, ny); test_assert_close("avgpool forward", g, ywant, ny, 1e-6); free(g);
    isb_ref_avgpool_backward(batch, c, hw, dxwant, dy);
    TEST_OK(isb_avgpool_backward(ocl, batch, c, hw, dback, dy_s));
    g = get_new(dback, n); test_assert_close("avgpool backward", g, dxwant, n, 1e-6); free(g);
    /* the reference backward against finite differences of sum(pool(x) * dy) (linear: exact) */
    float *num = zeros(n);
    for (size_t i = 0; i < n; i++) {
        float keep = want[i];
        want[i] = keep + 0.01f;
        isb_ref_avgpool_forward(batch, c, hw, ywant, want);
        double up = dot(ywant, dy, ny);
        want[i] = keep - 0.01f;
        isb_ref_avgpool_forward(batch, c, hw, ywant, want);
        double down = dot(ywant, dy, ny);
        want[i] = keep;
        num[i] = (float)((up - down) / 0.02);
    }
    test_assert_close("avgpool reference backward vs finite differences", dxwant, num, n, 1e-4);
    free(num); free(x); free(want); free(back); free(ywant); free(dy); free(dxwant);
    release_all();
}

static void sgd_matches_pytorch_rule(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int n = test_size(5003, 257);
    float *w = rnd(n, -1, 1, 110), *v = rnd(n, -0.1f, 0.1f, 111), *g1 = rnd(n, -1, 1, 112), *g2 = rnd(n, -1, 1, 113);
    isb_dslice dw = put(w, n), dv = put(v, n), dg1 = put(g1, n), dg2 = put(g2, n);
    TEST_OK(isb_sgd_update(ocl, n, dw, dg1, dv, 0.1f, 0.9f, 5e-4f));
    TEST_OK(isb_sgd_update(ocl, n, dw, dg2, dv, 0.05f, 0.9f, 5e-4f));
    isb_ref_sgd_update(n, w, g1, v, 0.1f, 0.9f, 5e-4f);
    isb_ref_sgd_update(n, w, g2, v, 0.05f, 0.9f, 5e-4f);
    float *g = get_new(dw, n); test_assert_close("sgd weights after 2 steps", g, w, n, 1e-6); free(g);
    g = get_new(dv, n); test_assert_close("sgd momentum after 2 steps", g, v, n, 1e-6); free(g);
    /* the reference itself, one element by hand: v = 0.9*0.5 + (1 + 0.01*2); w = 2 - 0.1*v */
    float w1 = 2, v1 = 0.5f, g0 = 1;
    isb_ref_sgd_update(1, &w1, &g0, &v1, 0.1f, 0.9f, 0.01f);
    assert_float_equal(v1, 0.45f + 1.02f, 1e-6);
    assert_float_equal(w1, 2 - 0.1f * 1.47f, 1e-6);
    free(w); free(v); free(g1); free(g2);
    release_all();
}

/* ---- linear ------------------------------------------------------------------------------------ */

typedef struct {
    int batch, in, out;
    float *x, *w, *b, *r;
} linear_case;

static double linear_loss(void *ctx) {
    linear_case *c = ctx;
    size_t ny = (size_t)c->batch * c->out;
    float *y = malloc(ny * 4);
    isb_ref_linear_forward(c->batch, c->in, c->out, y, c->x, c->w, c->b);
    double l = dot(y, c->r, ny);
    free(y);
    return l;
}

static void linear_matches_reference_and_finite_differences(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    linear_case c = {.batch = test_size(9, 3), .in = test_size(33, 8), .out = test_size(10, 5)};
    size_t nx = (size_t)c.batch * c.in, nw = (size_t)c.out * c.in, ny = (size_t)c.batch * c.out;
    c.x = rnd(nx, -1, 1, 120);
    c.w = rnd(nw, -1, 1, 121);
    c.b = rnd(c.out, -1, 1, 122);
    c.r = rnd(ny, -1, 1, 123);
    float *y = zeros(ny), *dx = zeros(nx), *dw = zeros(nw), *db = zeros(c.out);
    isb_ref_linear_forward(c.batch, c.in, c.out, y, c.x, c.w, c.b);
    isb_ref_linear_backward(c.batch, c.in, c.out, dx, dw, db, c.r, c.x, c.w);
    isb_dslice dxs = put(c.x, nx), dws = put(c.w, nw), dbs = put(c.b, c.out), drs = put(c.r, ny);
    isb_dslice dout = put(NULL, ny), ddx = put(NULL, nx), ddw = put(NULL, nw), ddb = put(NULL, c.out);
    TEST_OK(isb_linear_forward(ocl, c.batch, c.in, c.out, dout, dxs, dws, dbs));
    TEST_OK(isb_linear_backward(ocl, c.batch, c.in, c.out, ddx, ddw, ddb, drs, dxs, dws));
    float *g;
    g = get_new(dout, ny); test_assert_close("linear forward", g, y, ny, 1e-5); free(g);
    g = get_new(ddx, nx); test_assert_close("linear backward dx", g, dx, nx, 1e-5); free(g);
    g = get_new(ddw, nw); test_assert_close("linear backward dw", g, dw, nw, 1e-5); free(g);
    g = get_new(ddb, c.out); test_assert_close("linear backward db", g, db, c.out, 1e-5); free(g);
    fd_check("linear reference dx vs finite differences", c.x, nx, dx, linear_loss, &c, 1e-2f, 1e-4);
    fd_check("linear reference dw vs finite differences", c.w, nw, dw, linear_loss, &c, 1e-2f, 1e-4);
    fd_check("linear reference db vs finite differences", c.b, c.out, db, linear_loss, &c, 1e-2f, 1e-4);
    free(c.x); free(c.w); free(c.b); free(c.r); free(y); free(dx); free(dw); free(db);
    release_all();
}

/* ---- softmax cross-entropy --------------------------------------------------------------------- */

typedef struct {
    int batch, classes;
    float *logits, *weights;
    int *labels;
} xent_case;

static double xent_loss(void *ctx) {
    xent_case *c = ctx;
    return isb_ref_softmax_xent(c->batch, c->classes, NULL, NULL, NULL, c->logits, c->labels, c->weights);
}

static int *random_labels(int batch, int classes, uint64_t seed) {
    float *u = rnd(batch, 0, 1, seed);
    int *l = malloc(batch * sizeof *l);
    for (int r = 0; r < batch; r++) l[r] = (int)(u[r] * classes) % classes;
    free(u);
    return l;
}

static void xent_matches_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int batch = test_size(300, 5), classes = test_size(10, 4); /* 300: more rows than work-items */
    size_t nz = (size_t)batch * classes;
    float *z = rnd(nz, -3, 3, 130), *w = rnd(batch, 0.2f, 3, 131);
    for (int r = 0; r < batch; r += 4) /* large logits: only a max-subtracted softmax stays finite */
        for (int j = 0; j < classes; j++) z[r * classes + j] *= 1000;
    int *labels = random_labels(batch, classes, 132);
    for (int with_weights = 0; with_weights <= 1; with_weights++) {
        float *dz = zeros(nz), *loss = zeros(batch);
        int *correct = calloc(batch, sizeof *correct), *gc = calloc(batch, sizeof *gc);
        float bl = (float)isb_ref_softmax_xent(batch, classes, dz, loss, correct, z, labels, with_weights ? w : NULL);
        isb_loss_args a = {.batch = batch, .classes = classes, .logits = put(z, nz), .labels = put_int(labels, batch),
                           .weights = with_weights ? put(w, batch) : isb_ds(NULL, 0), .dlogits = put(NULL, nz),
                           .losses = put(NULL, batch), .correct = put_int(NULL, batch), .batch_loss = put(NULL, 1)};
        TEST_OK(isb_softmax_xent(ocl, &a));
        printf(" %s weights\n", with_weights ? "with" : "without");
        float *g, gbl;
        g = get_new(a.dlogits, nz); test_assert_close("xent dlogits", g, dz, nz, 1e-5); free(g);
        g = get_new(a.losses, batch); test_assert_close("xent per-sample losses", g, loss, batch, 1e-5); free(g);
        get(a.batch_loss, &gbl, 1, 4);
        test_assert_close("xent batch loss", &gbl, &bl, 1, 1e-5);
        get(a.correct, gc, batch, sizeof(int));
        int n_correct = 0;
        for (int r = 0; r < batch; r++) {
            assert_int_equal(gc[r], correct[r]);
            n_correct += correct[r];
        }
        assert_true(n_correct > 0 && n_correct < batch); /* the comparison saw both outcomes */
        /* dlogits in place over the logits */
        a.dlogits = a.logits;
        a.losses = a.correct = a.batch_loss = isb_ds(NULL, 0);
        TEST_OK(isb_softmax_xent(ocl, &a));
        g = get_new(a.logits, nz); test_assert_close("xent dlogits in place", g, dz, nz, 1e-5); free(g);
        free(dz); free(loss); free(correct); free(gc);
        release_all();
    }
    free(z); free(w); free(labels);
}

static void xent_reference_matches_finite_differences(void **state) {
    (void)state;
    xent_case c = {.batch = 6, .classes = 5};
    c.logits = rnd(30, -2, 2, 140);
    c.weights = rnd(6, 0.5f, 2, 141);
    c.labels = random_labels(6, 5, 142);
    float *dz = zeros(30), loss[6];
    isb_ref_softmax_xent(6, 5, dz, loss, NULL, c.logits, c.labels, c.weights);
    /* the loss definition itself: row 0 by hand */
    double s = 0;
    for (int j = 0; j < 5; j++) s += exp(c.logits[j]);
    assert_float_equal(loss[0], log(s) - c.logits[c.labels[0]], 1e-5);
    fd_check("xent reference dlogits vs finite differences", c.logits, 30, dz, xent_loss, &c, 1e-3f, 1e-3);
    free(c.logits); free(c.weights); free(c.labels); free(dz);
}

static void xent_score_update_and_nonfinite_flag(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    int batch = test_size(300, 6), classes = 10, n_scores = 3 * batch; /* 300: more rows than work-items */
    size_t nz = (size_t)batch * classes;
    float *z = rnd(nz, -2, 2, 150), *scores = rnd(n_scores, 0, 3, 151), *loss = zeros(batch);
    int *labels = random_labels(batch, classes, 152);
    /* indices: a batch-sized window (at offset 5) of a longer list of dataset indices, either
     * distinct or with each index repeated (sampling with replacement) */
    int n_idx = batch + 10, *idx = malloc(n_idx * sizeof *idx);
    isb_ref_softmax_xent(batch, classes, NULL, loss, NULL, z, labels, NULL);
    isb_dslice dz = put(z, nz), dl = put_int(labels, batch);
    isb_dslice dflag = put_at(NULL, 1, sizeof(int), 0); /* the flag API takes a buffer, no offset */
    TEST_OK(isb_loss_flag_reset(ocl, dflag.mem));
    for (int repeated = 0; repeated <= 1; repeated++) {
        for (int i = 0; i < n_idx; i++) idx[i] = (i * 7 + 3) % (repeated ? batch / 2 : n_scores);
        isb_dslice didx = put_int(idx, n_idx);
        for (int mode = 1; mode <= 2; mode++) {
            isb_dslice ds = put_at(scores, n_scores, sizeof(float), 0); /* the API's scores start at 0 */
            isb_score_rule rule = {(isb_score_rule_kind)mode, 0.7f};
            isb_loss_args a = {.batch = batch, .classes = classes, .logits = dz, .labels = dl, .score_rule = rule,
                               .scores = ds.mem, .indices = isb_ds(didx.mem, didx.off + 5),
                               .nonfinite_flag = dflag.mem, .step = 11};
            TEST_OK(isb_softmax_xent(ocl, &a));
            float *want = malloc(n_scores * 4);
            memcpy(want, scores, n_scores * 4);
            isb_sref_score_update(want, idx + 5, loss, batch, rule); /* rows in order */
            float *g = get_new(ds, n_scores);
            char what[80];
            snprintf(what, sizeof what, "score update: %s, %s indices", mode == 1 ? "last" : "running",
                     repeated ? "repeated" : "distinct");
            test_assert_close(what, g, want, n_scores, 1e-6);
            assert_true(test_normalised_error(want, scores, n_scores) > 1e-3); /* the update changed something */
            free(g); free(want);
        }
    }
    int flag;
    get(dflag, &flag, 1, sizeof flag);
    assert_int_equal(flag, INT_MAX); /* all finite so far */
    /* a NaN logit at step 20, then another at step 15: the flag keeps the first (smallest) step */
    z[classes + 2] = NAN;
    dz = put(z, nz); /* a new buffer: see the Oclgrind note in bn_device_matches_reference */
    isb_loss_args a = {.batch = batch, .classes = classes, .logits = dz, .labels = dl, .losses = put(NULL, batch),
                       .nonfinite_flag = dflag.mem, .step = 20};
    TEST_OK(isb_softmax_xent(ocl, &a));
    get(dflag, &flag, 1, sizeof flag);
    assert_int_equal(flag, 20);
    a.step = 15;
    TEST_OK(isb_softmax_xent(ocl, &a));
    a.step = 30;
    TEST_OK(isb_softmax_xent(ocl, &a));
    get(dflag, &flag, 1, sizeof flag);
    assert_int_equal(flag, 15);
    float *g = get_new(a.losses, batch);
    assert_true(isnan(g[1]));
    assert_true(isfinite(g[0]));
    free(g);
    TEST_OK(isb_loss_flag_reset(ocl, dflag.mem));
    get(dflag, &flag, 1, sizeof flag);
    assert_int_equal(flag, INT_MAX);
    free(z); free(scores); free(loss); free(labels); free(idx);
    release_all();
}

/* CLBlast's indirect GEMM path, which needs the temporary buffer the layers pass it: forced on this
 * device for the rest of the process (XGEMM_MIN_INDIRECT_SIZE = 1: every product indirect), so this
 * test runs last; the conv test then runs both forms' products through it. */
static void conv_gemms_with_clblast_temp_buffer(void **state) {
    isb_ocl *ocl = test_ocl();
    if (strstr(ocl->info.platform_name, "Oclgrind")) {
        /* tests/CMakeLists.txt leaves it out of the Oclgrind variant; run by hand, it says so */
        test_skip("under Oclgrind: CLBlast's indirect kernels read the uninitialised padding of their own "
                  "internal buffers");
    }
    const char *names[] = {"XGEMM_MIN_INDIRECT_SIZE"};
    const size_t values[] = {1};
    /* through the OpenCL layer, so the sizes the layers cached for the direct kernels go stale */
    TEST_OK(isb_clblast_override(ocl, "GemmRoutine", CLBlastPrecisionSingle, 1, names, values));
    conv_device_matches_reference(state);
    size_t bytes = isb_gemm_workspace_bytes(ocl);
    assert_true(bytes > 0); /* padding made CLBlast ask for one, and the layers gave it */
    printf(" CLBlast temporary buffer: %zu bytes\n", bytes);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_device_matches_reference),
        cmocka_unit_test(im2col_col2im_match_reference),
        cmocka_unit_test(conv_default_chunks_split_large_reductions),
        cmocka_unit_test(conv_reference_backward_matches_finite_differences),
        cmocka_unit_test(conv_rejects_bad_shapes),
        cmocka_unit_test(bn_device_matches_reference),
        cmocka_unit_test(bn_reference_statistics_follow_pytorch),
        cmocka_unit_test(bn_reference_backward_matches_finite_differences),
        cmocka_unit_test(elementwise_ops_match_reference),
        cmocka_unit_test(relu_reference_backward_matches_finite_differences),
        cmocka_unit_test(layout_and_pool_match_reference),
        cmocka_unit_test(sgd_matches_pytorch_rule),
        cmocka_unit_test(linear_matches_reference_and_finite_differences),
        cmocka_unit_test(xent_matches_reference),
        cmocka_unit_test(xent_reference_matches_finite_differences),
        cmocka_unit_test(xent_score_update_and_nonfinite_flag),
        cmocka_unit_test(conv_gemms_with_clblast_temp_buffer), /* last: it changes CLBlast's kernel choice */
    };
    /* ISBENCH_TEST_FILTER="bn_*" runs only some (while debugging one op) */
    return TEST_RUN_GROUP(tests, NULL, test_release_device);
}
