/* The device self-check (see check.h). Each case fills up to three (device, reference) pairs of
 * float arrays; the one loop in isb_check_run judges them. Tolerances (normalised error) are those
 * of the op tests (tests/test_nn_layers.c, test_nn_model_step.c): 1e-6 for elementwise and layout
 * ops, 1e-5 for reductions and GEMMs (float sums in another order than the double reference),
 * 2e-3 for the gradients of a whole step. */
#include "cli/check.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/resnet18.h"
#include "ref/nn.h"
#include "ref/sampling.h"
#include "sampling/sampler.h"
#include "util/env.h"
#include "util/error.h"
#include "util/timer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_BUFS = 32, MAX_PAIRS = 3, MAX_CASES = 64 };

/* One device result and its reference. */
typedef struct {
    const char *what;
    float *got, *want;
    size_t n;
} check_pair;

typedef struct {
    isb_ocl *ocl;
    const isb_check_options *o;
    uint64_t rng;
    cl_mem bufs[MAX_BUFS];
    void *host[MAX_BUFS];
    int n_bufs, n_host;
    check_pair pair[MAX_PAIRS];
    int n_pairs;
    double own_error; /* >= 0: a case that measures its own error (the draw) */
    const char *break_case; /* the test hook (check.h) */
} check_ctx;

typedef struct {
    char name[64];
    int (*run)(check_ctx *c, const isb_conv_shape *conv);
    isb_conv_shape conv; /* the convolution cases' shape */
    double tol;
} check_case;

/* ---- buffers owned by the current case ------------------------------------------------------ */

static void *host_alloc(check_ctx *c, size_t bytes) {
    void *p = c->n_host < MAX_BUFS ? calloc(1, bytes ? bytes : 1) : NULL;
    if (p) c->host[c->n_host++] = p;
    return p;
}

static float *random_floats(check_ctx *c, size_t n, float lo, float hi) {
    float *x = host_alloc(c, n * sizeof *x);
    for (size_t i = 0; x && i < n; i++) {
        c->rng = c->rng * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = lo + (hi - lo) * (float)((c->rng >> 40) * (1.0 / 16777216.0));
    }
    return x;
}

/* A device buffer holding `bytes` of host (NULL: zeros). */
static cl_mem device(check_ctx *c, const void *host, size_t bytes) {
    if (c->n_bufs == MAX_BUFS || isb_ocl_alloc(c->ocl, &c->bufs[c->n_bufs], bytes, "a check buffer") < 0) return NULL;
    cl_mem m = c->bufs[c->n_bufs++];
    int rc = host ? isb_ocl_write(c->ocl, m, 0, bytes, host) : isb_ocl_fill_zero(c->ocl, m, 0, bytes);
    return rc < 0 ? NULL : m;
}

static void release_case(check_ctx *c) {
    while (c->n_bufs > 0) isb_ocl_release(&c->bufs[--c->n_bufs]);
    while (c->n_host > 0) free(c->host[--c->n_host]);
    c->n_pairs = 0;
    c->own_error = -1;
}

/* Reads n floats of m as the device side of a pair whose reference is want. */
static int compare(check_ctx *c, const char *what, cl_mem m, const float *want, size_t n) {
    float *got = host_alloc(c, n * sizeof *got);
    if (!got || !want) return isb_fail(ISB_ERR_MEMORY, "out of host memory for the check");
    ISB_TRY(isb_ocl_read(c->ocl, m, 0, n * sizeof *got, got));
    c->pair[c->n_pairs++] = (check_pair){what, got, (float *)want, n};
    return ISB_OK;
}

#define NEED(p) do { if (!(p)) return isb_fail(ISB_ERR_MEMORY, "out of memory for a check buffer"); } while (0)
#define DS(m) isb_ds((m), 0)

/* ---- the cases -------------------------------------------------------------------------------- */

static int n_elem(const check_ctx *c) { return c->o->small ? 257 : 100003; }

static int case_relu_add(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    int n = n_elem(c);
    float *a = random_floats(c, n, -1, 1), *b = random_floats(c, n, -1, 1), *want = host_alloc(c, n * sizeof(float));
    cl_mem da = device(c, a, n * sizeof(float)), db = device(c, b, n * sizeof(float)), dy = device(c, NULL, n * sizeof(float));
    NEED(a && b && want && da && db && dy);
    ISB_TRY(isb_add(c->ocl, n, DS(dy), DS(da), DS(db), 1));
    ISB_TRY(isb_relu_forward(c->ocl, n, DS(dy), DS(dy)));
    isb_ref_add(n, want, a, b, 1);
    return compare(c, "relu(a + b)", dy, want, n);
}

static int case_layout_pool(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    int batch = 4, ch = 16, hw = c->o->small ? 4 : 64, n = batch * ch * hw;
    float *x = random_floats(c, n, -1, 1), *want = host_alloc(c, n * sizeof(float));
    float *pool = host_alloc(c, (size_t)batch * ch * sizeof(float));
    cl_mem dx = device(c, x, n * sizeof(float)), dt = device(c, NULL, n * sizeof(float));
    cl_mem dp = device(c, NULL, (size_t)batch * ch * sizeof(float));
    NEED(x && want && pool && dx && dt && dp);
    ISB_TRY(isb_nchw_to_cnhw(c->ocl, batch, ch, hw, DS(dt), DS(dx)));
    ISB_TRY(isb_avgpool_forward(c->ocl, batch, ch, hw, DS(dp), DS(dt)));
    isb_ref_nchw_to_cnhw(batch, ch, hw, want, x);
    isb_ref_avgpool_forward(batch, ch, hw, pool, want);
    ISB_TRY(compare(c, "nchw->cnhw", dt, want, n));
    return compare(c, "average pool", dp, pool, (size_t)batch * ch);
}

static int case_batch_norm(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    isb_bn_shape s = {.channels = 8, .n = c->o->small ? 32 : 4096, .momentum = 0.1f, .eps = 1e-5f, .relu = 1};
    size_t n = (size_t)s.channels * s.n, ch = (size_t)s.channels * sizeof(float);
    float *x = random_floats(c, n, -2, 2), *dy = random_floats(c, n, -1, 1), *g = random_floats(c, s.channels, 0.5f, 1.5f);
    float *b = random_floats(c, s.channels, -0.5f, 0.5f), *rv = random_floats(c, s.channels, 1, 1);
    float *y = host_alloc(c, n * 4), *dx = host_alloc(c, n * 4), *sm = host_alloc(c, ch), *si = host_alloc(c, ch);
    float *rm = host_alloc(c, ch), *dg = host_alloc(c, ch), *dbeta = host_alloc(c, ch);
    cl_mem d_x = device(c, x, n * 4), d_y = device(c, NULL, n * 4), d_dy = device(c, dy, n * 4), d_dx = device(c, NULL, n * 4);
    cl_mem d_g = device(c, g, ch), d_b = device(c, b, ch), d_rm = device(c, NULL, ch), d_rv = device(c, rv, ch);
    cl_mem d_sm = device(c, NULL, ch), d_si = device(c, NULL, ch), d_dg = device(c, NULL, ch), d_db = device(c, NULL, ch);
    NEED(x && dy && g && b && rv && y && dx && sm && si && rm && dg && dbeta && d_x && d_y && d_dy && d_dx && d_g &&
         d_b && d_rm && d_rv && d_sm && d_si && d_dg && d_db);
    ISB_TRY(isb_bn_forward_train(c->ocl, &s, DS(d_y), DS(d_sm), DS(d_si), DS(d_rm), DS(d_rv), DS(d_x), DS(d_g), DS(d_b)));
    ISB_TRY(isb_bn_backward(c->ocl, &s, DS(d_dx), DS(d_dg), DS(d_db), DS(d_dy), DS(d_x), DS(d_y), DS(d_g), DS(d_sm),
                            DS(d_si)));
    isb_ref_bn_forward_train(&s, y, sm, si, rm, rv, x, g, b);
    isb_ref_bn_backward(&s, dx, dg, dbeta, dy, x, y, g, sm, si);
    ISB_TRY(compare(c, "forward", d_y, y, n));
    ISB_TRY(compare(c, "dx", d_dx, dx, n));
    return compare(c, "dgamma", d_dg, dg, s.channels);
}

static int case_linear(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    int batch = c->o->small ? 4 : c->o->batch, in = 8 * c->o->width, out = 10;
    size_t nx = (size_t)batch * in, nw = (size_t)out * in, ny = (size_t)batch * out;
    float *x = random_floats(c, nx, -1, 1), *w = random_floats(c, nw, -1, 1), *b = random_floats(c, out, -1, 1);
    float *dy = random_floats(c, ny, -1, 1), *y = host_alloc(c, ny * 4), *dx = host_alloc(c, nx * 4);
    float *dw = host_alloc(c, nw * 4), *db = host_alloc(c, out * 4);
    cl_mem d_x = device(c, x, nx * 4), d_w = device(c, w, nw * 4), d_b = device(c, b, out * 4), d_y = device(c, NULL, ny * 4);
    cl_mem d_dy = device(c, dy, ny * 4), d_dx = device(c, NULL, nx * 4), d_dw = device(c, NULL, nw * 4);
    cl_mem d_db = device(c, NULL, out * 4);
    NEED(x && w && b && dy && y && dx && dw && db && d_x && d_w && d_b && d_y && d_dy && d_dx && d_dw && d_db);
    ISB_TRY(isb_linear_forward(c->ocl, batch, in, out, DS(d_y), DS(d_x), DS(d_w), DS(d_b)));
    ISB_TRY(isb_linear_backward(c->ocl, batch, in, out, DS(d_dx), DS(d_dw), DS(d_db), DS(d_dy), DS(d_x), DS(d_w)));
    isb_ref_linear_forward(batch, in, out, y, x, w, b);
    isb_ref_linear_backward(batch, in, out, dx, dw, db, dy, x, w);
    ISB_TRY(compare(c, "forward", d_y, y, ny));
    ISB_TRY(compare(c, "dx", d_dx, dx, nx));
    return compare(c, "dw", d_dw, dw, nw);
}

/* One convolution of the step: forward (GEMM W x col), and backward (W^T dy, dy col^T). */
static int case_conv(check_ctx *c, const isb_conv_shape *s) {
    int ho = isb_conv_out_size(s->h, s->k, s->stride), wo = isb_conv_out_size(s->w, s->k, s->stride);
    size_t nx = (size_t)s->cin * s->batch * s->h * s->w, nw = (size_t)s->cout * s->cin * s->k * s->k;
    size_t ny = (size_t)s->cout * s->batch * ho * wo, ncol = isb_conv_col_floats(s);
    size_t npart = isb_conv_partials_floats(s, 0);
    float *x = random_floats(c, nx, -1, 1), *w = random_floats(c, nw, -1, 1), *dy = random_floats(c, ny, -1, 1);
    float *y = host_alloc(c, ny * 4), *dx = host_alloc(c, nx * 4), *dw = host_alloc(c, nw * 4);
    cl_mem d_x = device(c, x, nx * 4), d_w = device(c, w, nw * 4), d_y = device(c, NULL, ny * 4);
    cl_mem d_dy = device(c, dy, ny * 4), d_dx = device(c, NULL, nx * 4), d_dw = device(c, NULL, nw * 4);
    cl_mem d_col = device(c, NULL, (ncol ? ncol : 1) * 4), d_part = device(c, NULL, (npart ? npart : 1) * 4);
    NEED(x && w && dy && y && dx && dw && d_x && d_w && d_y && d_dy && d_dx && d_dw && d_col && d_part);
    ISB_TRY(isb_conv2d_forward(c->ocl, s, DS(d_y), DS(d_x), DS(d_w), DS(d_col)));
    /* col still holds the forward's im2col(x), as in the model's step when it keeps the columns */
    ISB_TRY(isb_conv2d_backward(c->ocl, s, DS(d_dx), DS(d_dw), DS(d_dy), DS(d_x), DS(d_w), DS(d_col), 1, DS(d_part), 0));
    isb_ref_conv2d_forward(s, y, x, w);
    isb_ref_conv2d_backward(s, dx, dw, dy, x, w);
    ISB_TRY(compare(c, "forward", d_y, y, ny));
    ISB_TRY(compare(c, "dx", d_dx, dx, nx));
    return compare(c, "dw", d_dw, dw, nw);
}

/* The sampler's softmax and the fused-rule score update on the device. */
static int case_scores(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    int n = n_elem(c), b = 128 < n ? 128 : n;
    float *scores = random_floats(c, n, 0, 4), *values = random_floats(c, b, 0, 3), *p = host_alloc(c, n * 4);
    int *idx = host_alloc(c, (size_t)b * sizeof(int));
    NEED(scores && values && p && idx);
    for (int i = 0; i < b; i++) idx[i] = (int)((uint64_t)i * 7919 % (uint64_t)n);
    cl_mem d_s = device(c, scores, n * 4), d_p = device(c, NULL, n * 4), d_v = device(c, values, b * 4);
    cl_mem d_i = device(c, idx, (size_t)b * sizeof(int));
    NEED(d_s && d_p && d_v && d_i);
    isb_sampler *smp;
    ISB_TRY(isb_sampler_create(&smp, c->ocl, n, b));
    int rc = isb_sampler_softmax(smp, d_s, n, 0.8f, d_p);
    if (rc >= 0) rc = isb_ocl_finish(c->ocl);
    isb_sampler_free(smp);
    ISB_TRY(rc);
    isb_score_rule rule = {ISB_SCORE_RULE_RUNNING_LOSS, 0.2f};
    ISB_TRY(isb_scores_update(c->ocl, d_s, d_i, d_v, b, rule));
    isb_sref_softmax(p, scores, n, 0.8f);
    isb_sref_score_update(scores, idx, values, b, rule);
    ISB_TRY(compare(c, "softmax", d_p, p, n));
    return compare(c, "score update", d_s, scores, n);
}

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

/* A draw without replacement (Gumbel top-k): its error is the share of the |Z| drawn samples that
 * the host's double-precision draw did not select (only ties at the boundary may differ); an index
 * out of range or drawn twice counts as a wrong result (error 1). */
static int case_draw(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    int n = n_elem(c), z = n / 6;
    float *scores = random_floats(c, n, 0, 4);
    int *got = host_alloc(c, (size_t)z * sizeof(int)), *want = host_alloc(c, (size_t)z * sizeof(int));
    int *order = host_alloc(c, (size_t)n * sizeof(int));
    double *keys = host_alloc(c, (size_t)n * sizeof(double));
    cl_mem d_s = device(c, scores, n * 4), d_i = device(c, NULL, (size_t)z * sizeof(int)), d_w = device(c, NULL, z * 4);
    NEED(scores && got && want && order && keys && d_s && d_i && d_w);
    isb_sampler *smp;
    ISB_TRY(isb_sampler_create(&smp, c->ocl, n, z));
    int rc = isb_sampler_draw(smp, d_s, n, z, 0.8f, ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_NONE, 99, 5, d_i, d_w);
    if (rc >= 0) rc = isb_ocl_read(c->ocl, d_i, 0, (size_t)z * sizeof(int), got);
    isb_sampler_free(smp);
    ISB_TRY(rc);
    if (c->break_case && strstr("sampling draw (Gumbel top-k)", c->break_case)) got[0] = got[1];
    isb_sref_gumbel_topk(want, z, scores, n, 0.8f, 99, 5, keys, order);
    qsort(got, z, sizeof *got, cmp_int);
    qsort(want, z, sizeof *want, cmp_int);
    int common = 0, valid = got[0] >= 0 && got[z - 1] < n;
    for (int j = 1; j < z; j++) valid &= got[j] > got[j - 1];
    for (int i = 0, j = 0; i < z && j < z;) {
        if (got[i] == want[j]) common++, i++, j++;
        else if (got[i] < want[j]) i++;
        else j++;
    }
    c->own_error = valid ? (double)(z - common) / z : 1;
    return ISB_OK;
}

/* One training step of the whole device model at width 2, batch 2, 8x8 images, against the
 * whole-model reference (as test_nn_model_step): every kernel of a step, in the step's order. */
static int case_step(check_ctx *c, const isb_conv_shape *unused) {
    (void)unused;
    enum { B = 2, S = 8, CLASSES = 10 };
    isb_model_config cfg = {.width = 2, .in_channels = 3, .classes = CLASSES, .image_size = S, .max_batch = B,
                            .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 3};
    isb_model *m;
    ISB_TRY(isb_model_create(&m, c->ocl, &cfg));
    const isb_resnet18_plan *p = isb_model_plan(m);
    float *x = random_floats(c, (size_t)B * 3 * S * S, -1, 1), weights[B] = {0.5f, 1.5f};
    int labels[B] = {3, 8};
    float *w = host_alloc(c, p->n_params * 4), *g = host_alloc(c, p->n_params * 4), *st = host_alloc(c, p->n_stats * 4);
    float *logits = host_alloc(c, B * CLASSES * 4);
    cl_mem dx = device(c, x, (size_t)B * 3 * S * S * 4), dl = device(c, labels, sizeof labels);
    cl_mem dw = device(c, weights, sizeof weights), dloss = device(c, NULL, B * 4), dhit = device(c, NULL, B * 4);
    int rc = x && w && g && st && logits && dx && dl && dw && dloss && dhit ? ISB_OK
             : isb_fail(ISB_ERR_MEMORY, "out of memory for the step check");
    ISB_CHECK(rc);
    ISB_CHECK(isb_model_read_params(m, w));
    ISB_CHECK(isb_model_read_stats(m, st));
    isb_batch_io io = {.x = dx, .labels = dl, .weights = dw, .batch = B, .losses = dloss, .correct = dhit};
    isb_resnet18_reference(p, B, x, labels, weights, w, st, 1, logits, g);
    ISB_CHECK(isb_model_train_step(m, &io, NULL, 0.1f));
    float *got = host_alloc(c, p->n_params * 4), *got_logits = host_alloc(c, B * CLASSES * 4);
    rc = got && got_logits ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of memory for the step check");
    ISB_CHECK(rc);
    ISB_CHECK(isb_model_read_grads(m, got));
    ISB_CHECK(isb_model_read_logits(m, got_logits, B));
    c->pair[c->n_pairs++] = (check_pair){"logits", got_logits, logits, B * CLASSES};
    c->pair[c->n_pairs++] = (check_pair){"all gradients", got, g, p->n_params};
done:
    isb_model_free(m);
    return rc;
}

/* ---- the table and the loop ------------------------------------------------------------------ */

/* Every distinct convolution of ResNet18 at the run's width and batch (the first block of each
 * stage and its shortcut; the second block repeats the first's inner shape). */
static int conv_cases(const isb_check_options *o, check_case *cases, int n) {
    isb_model_config mc = {.width = o->small ? 2 : o->width, .in_channels = 3, .classes = 10,
                           .image_size = o->small ? 8 : 32, .max_batch = o->small ? 2 : o->batch};
    isb_resnet18_plan p;
    if (isb_resnet18_plan_make(&p, &mc) < 0) return n;
    const isb_rn_conv *convs[1 + 3 * ISB_RN_BLOCKS];
    int k = 0;
    convs[k++] = &p.stem;
    for (int i = 0; i < ISB_RN_BLOCKS; i += 2) {
        convs[k++] = &p.blocks[i].c1;
        convs[k++] = &p.blocks[i].c2;
        if (p.blocks[i].has_sc) convs[k++] = &p.blocks[i].sc;
    }
    for (int i = 0; i < k && n < MAX_CASES; i++) {
        isb_conv_shape s = convs[i]->shape;
        s.batch = mc.max_batch;
        bool seen = false;
        for (int j = 0; j < n; j++) seen |= cases[j].run == case_conv && memcmp(&cases[j].conv, &s, sizeof s) == 0;
        if (seen) continue;
        check_case *e = &cases[n++];
        *e = (check_case){.run = case_conv, .conv = s, .tol = 1e-5};
        snprintf(e->name, sizeof e->name, "conv %dx%d %d->%d s%d %dx%d b%d (GEMMs)", s.k, s.k, s.cin, s.cout, s.stride,
                 s.h, s.w, s.batch);
    }
    return n;
}

static int make_cases(const isb_check_options *o, check_case *cases) {
    static const check_case fixed[] = {
        {"elementwise: add + relu", case_relu_add, {0}, 1e-6},
        {"layout + average pool", case_layout_pool, {0}, 1e-6},
        {"batch norm forward/backward", case_batch_norm, {0}, 1e-5},
        {"linear forward/backward (GEMMs)", case_linear, {0}, 1e-5},
        {"softmax + score update", case_scores, {0}, 1e-5},
        {"sampling draw (Gumbel top-k)", case_draw, {0}, 2e-3},
        {"training step, width 2", case_step, {0}, 2e-3},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!(o->small && fixed[i].run == case_step)) cases[n++] = fixed[i]; /* see check.h: small */
    return conv_cases(o, cases, n);
}

/* The worst error over the case's pairs: NaN/Inf first (err = inf), then the normalised error; the
 * largest element error is judged against 10 x tol by scaling it into the same units. */
static double case_error(const check_ctx *c, double tol, char *what, size_t size) {
    double worst = c->own_error >= 0 ? c->own_error : 0;
    for (int k = 0; k < c->n_pairs; k++) {
        const float *g = c->pair[k].got, *w = c->pair[k].want;
        double d2 = 0, w2 = 0, dmax = 0, wmax = 0;
        bool finite = true;
        for (size_t i = 0; i < c->pair[k].n; i++) {
            finite &= isfinite(g[i]) != 0;
            double d = fabs((double)g[i] - w[i]);
            d2 += d * d, w2 += (double)w[i] * w[i];
            dmax = d > dmax ? d : dmax, wmax = fabs(w[i]) > wmax ? fabs(w[i]) : wmax;
        }
        double err = !finite ? INFINITY : sqrt(d2) / fmax(sqrt(w2), 1e-30);
        double elem = dmax / fmax(wmax, 1e-30) / 10; /* passes when <= tol, i.e. max error <= 10 tol */
        double e = fmax(err, elem);
        if (e > worst || !finite) {
            worst = e;
            snprintf(what, size, "%s%s", c->pair[k].what, !finite ? " has NaN/Inf" : elem > err ? " (largest element)" : "");
        }
    }
    (void)tol;
    return worst;
}

/* Runs one case; *err gets its error (inf when it could not run: the message says why). */
static double run_case(check_ctx *c, const check_case *k, char *what, size_t size) {
    release_case(c);
    what[0] = '\0';
    c->rng = 0x9e3779b97f4a7c15ULL ^ (uint64_t)strlen(k->name);
    if (k->run(c, &k->conv) < 0) {
        snprintf(what, size, "%s", isb_last_error());
        release_case(c);
        return INFINITY;
    }
    if (c->break_case && strstr(k->name, c->break_case) && c->n_pairs > 0) c->pair[0].got[0] += 1.0f;
    double err = case_error(c, k->tol, what, size);
    release_case(c);
    return err;
}

int isb_check_run(isb_ocl *ocl, const isb_check_options *o, FILE *out, char *verdict, size_t verdict_size) {
    check_case *cases = calloc(MAX_CASES, sizeof *cases);
    if (!cases) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    int n = make_cases(o, cases), failed = 0;
    check_ctx c = {.ocl = ocl, .o = o, .own_error = -1, .break_case = isb_env(ISB_ENV_CHECK_BREAK)};
    char first[512] = "";
    fprintf(out, "isbench check on %s (%s): %d cases\n", ocl->info.name, ocl->info.platform_name, n);
    fprintf(out, "%-44s %10s %10s %8s  %s\n", "case", "error", "tolerance", "time_s", "result");
    for (int i = 0; i < n; i++) {
        char what[256];
        double t0 = isb_now(), err = run_case(&c, &cases[i], what, sizeof what);
        bool ok = err <= cases[i].tol;
        fprintf(out, "%-44s %10.3g %10.3g %8.2f  %s%s%s\n", cases[i].name, err, cases[i].tol, isb_now() - t0,
                ok ? "ok" : "FAILED", what[0] && !ok ? ": " : "", ok ? "" : what);
        if (!ok && !failed++)
            snprintf(first, sizeof first, "%s: error %.3g > tolerance %.3g%s%s", cases[i].name, err, cases[i].tol,
                     what[0] ? " in " : "", what);
    }
    fflush(out);
    free(cases);
    if (failed) {
        snprintf(verdict, verdict_size, "FAILED: %s", first);
        return isb_fail(ISB_ERR_NUMERIC, "the device failed %d of %d self-check cases; first: %s (it is not "
                        "measured: a benchmark of wrong arithmetic is worse than none)", failed, n, first);
    }
    snprintf(verdict, verdict_size, "passed (%d cases)", n);
    return ISB_OK;
}

const isb_option_def isb_check_skip_option = {"skip-check", NULL, ISB_ARG_SWITCH, 0, 0, NULL,
                                               "do not run the device self-check (isbench check) first"};

int isb_check_before_measuring(isb_ocl *ocl, int width, int batch, bool skip, char *verdict, size_t verdict_size) {
    if (skip) {
        snprintf(verdict, verdict_size, "skipped (--skip-check)");
        return ISB_OK;
    }
    fprintf(stderr, "[check] checking the device's results before measuring (--skip-check skips this)\n");
    isb_check_options o = {.width = width, .batch = batch};
    return isb_check_run(ocl, &o, stderr, verdict, verdict_size);
}
