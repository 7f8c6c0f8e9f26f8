/* Owns the workload of `isbench tune` (tune_workload.h): capturing a step's products, their
 * device buffers and host reference rows, the correctness check and the timing. */
#include "tune/tune_workload.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/timer.h"

#define CHECK_ROWS 8 /* output rows compared per batch item: spread over m, first and last included */

/* The reference of one product: rows[r] of C for batch items 0 and batch-1. */
typedef struct {
    int n_rows, n_items;
    size_t rows[CHECK_ROWS], items[2];
    float *want; /* [n_items][n_rows][n] */
} shape_ref;

struct isb_tune_workload {
    isb_ocl *ocl;
    isb_gemm_log log;
    cl_mem a, b, c;
    float *host_a, *host_b, *row; /* inputs as on the device; one row read back */
    shape_ref refs[ISB_GEMM_LOG_MAX];
};

static int random_batch(isb_ocl *ocl, int batch, cl_mem *x, cl_mem *labels) {
    size_t floats = (size_t)batch * 3 * 32 * 32;
    float *hx = malloc(floats * sizeof *hx);
    int *hl = malloc((size_t)batch * sizeof *hl), rc = ISB_OK;
    ISB_CHECK(hx && hl ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory for the tuning batch"));
    isb_rng r = isb_rng_make(1, 6 /* ISB_STREAM_TEST */, 0);
    for (size_t i = 0; i < floats; i++) hx[i] = 2.0f * isb_rng_uniform(&r) - 1.0f;
    for (int i = 0; i < batch; i++) hl[i] = i % 10;
    ISB_CHECK(isb_ocl_alloc(ocl, x, floats * sizeof *hx, "tuning batch"));
    ISB_CHECK(isb_ocl_write(ocl, *x, 0, floats * sizeof *hx, hx));
    ISB_CHECK(isb_ocl_alloc(ocl, labels, (size_t)batch * sizeof *hl, "tuning labels"));
    ISB_CHECK(isb_ocl_write(ocl, *labels, 0, (size_t)batch * sizeof *hl, hl));
done:
    free(hx);
    free(hl);
    return rc;
}

int isb_tune_capture_step(isb_ocl *ocl, int width, int batch, isb_gemm_log *log) {
    isb_model_config cfg = {.width = width, .in_channels = 3, .classes = 10, .image_size = 32, .max_batch = batch,
                            .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 1};
    isb_model *model = NULL;
    cl_mem x = NULL, labels = NULL;
    int rc = ISB_OK;
    memset(log, 0, sizeof *log);
    ISB_CHECK(isb_model_create(&model, ocl, &cfg));
    ISB_CHECK(random_batch(ocl, batch, &x, &labels));
    isb_gemm_log_attach(log);
    rc = isb_model_train_step(model, &(isb_batch_io){.x = x, .labels = labels, .batch = batch}, NULL, 0.01f);
    isb_gemm_log_attach(NULL);
    ISB_CHECK(rc);
    ISB_CHECK(isb_ocl_finish(ocl));
    if (log->dropped)
        rc = isb_fail(ISB_ERR_USAGE, "the step issues more than %d GEMM shapes: too many to tune", ISB_GEMM_LOG_MAX);
done:
    isb_ocl_release(&x);
    isb_ocl_release(&labels);
    isb_model_free(model);
    return rc;
}

/* Floats an operand spans: `rows` rows of `cols` at leading dimension ld, `batch` items apart by stride. */
static size_t span(size_t rows, size_t cols, size_t ld, size_t batch, size_t stride) {
    return (rows - 1) * ld + cols + (batch - 1) * stride;
}
static size_t span_a(const isb_gemm_call *g) {
    return span(g->a_trans ? g->k : g->m, g->a_trans ? g->m : g->k, g->lda, g->batch, g->stride_a);
}
static size_t span_b(const isb_gemm_call *g) {
    return span(g->b_trans ? g->n : g->k, g->b_trans ? g->k : g->n, g->ldb, g->batch, g->stride_b);
}
static size_t span_c(const isb_gemm_call *g) { return span(g->m, g->n, g->ldc, g->batch, g->stride_c); }

/* Row i of item t of op(A) op(B), accumulated in double (acc: n doubles of scratch), into out[n].
 * The loop order keeps B's reads contiguous in both layouts. */
static void reference_row(const isb_tune_workload *w, const isb_gemm_call *g, size_t t, size_t i, double *acc,
                          float *out) {
    const float *a = w->host_a + t * g->stride_a, *b = w->host_b + t * g->stride_b;
    for (size_t j = 0; j < g->n; j++) acc[j] = 0;
    for (size_t p = 0; p < g->k && !g->b_trans; p++) {
        double aip = g->a_trans ? a[p * g->lda + i] : a[i * g->lda + p];
        for (size_t j = 0; j < g->n; j++) acc[j] += aip * b[p * g->ldb + j];
    }
    for (size_t j = 0; j < g->n && g->b_trans; j++)
        for (size_t p = 0; p < g->k; p++) acc[j] += (double)(g->a_trans ? a[p * g->lda + i] : a[i * g->lda + p]) * b[j * g->ldb + p];
    for (size_t j = 0; j < g->n; j++) out[j] = (float)acc[j];
}

static int make_reference(isb_tune_workload *w, int s) {
    const isb_gemm_call *g = &w->log.calls[s];
    shape_ref *ref = &w->refs[s];
    ref->n_rows = g->m < CHECK_ROWS ? (int)g->m : CHECK_ROWS;
    for (int r = 0; r < ref->n_rows; r++) ref->rows[r] = ref->n_rows == 1 ? 0 : r * (g->m - 1) / (size_t)(ref->n_rows - 1);
    ref->n_items = g->batch > 1 ? 2 : 1;
    ref->items[0] = 0;
    ref->items[1] = g->batch - 1;
    ref->want = malloc((size_t)ref->n_items * (size_t)ref->n_rows * g->n * sizeof *ref->want);
    double *acc = malloc(g->n * sizeof *acc);
    if (!ref->want || !acc) {
        free(acc);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory for the tuning reference");
    }
    for (int t = 0; t < ref->n_items; t++)
        for (int r = 0; r < ref->n_rows; r++)
            reference_row(w, g, ref->items[t], ref->rows[r], acc, ref->want + ((size_t)t * ref->n_rows + r) * g->n);
    free(acc);
    return ISB_OK;
}

static int random_operand(isb_ocl *ocl, size_t floats, uint32_t stream_hi, float **host, cl_mem *dev) {
    *host = malloc(floats * sizeof **host);
    if (!*host) return isb_fail(ISB_ERR_MEMORY, "out of host memory for the tuning inputs");
    isb_rng r = isb_rng_make(2, 6 /* ISB_STREAM_TEST */, stream_hi);
    for (size_t i = 0; i < floats; i++) (*host)[i] = 2.0f * isb_rng_uniform(&r) - 1.0f;
    ISB_TRY(isb_ocl_alloc(ocl, dev, floats * sizeof **host, "tuning GEMM input"));
    return isb_ocl_write(ocl, *dev, 0, floats * sizeof **host, *host);
}

int isb_tune_workload_create(isb_ocl *ocl, const isb_gemm_log *log, isb_tune_workload **out) {
    isb_tune_workload *w = calloc(1, sizeof *w);
    int rc = ISB_OK;
    ISB_CHECK(w ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    w->ocl = ocl;
    w->log = *log;
    size_t na = 1, nb = 1, nc = 1, n_max = 1;
    for (int s = 0; s < log->n; s++) {
        const isb_gemm_call *g = &log->calls[s];
        if (span_a(g) > na) na = span_a(g);
        if (span_b(g) > nb) nb = span_b(g);
        if (span_c(g) > nc) nc = span_c(g);
        if (g->n > n_max) n_max = g->n;
    }
    ISB_CHECK(random_operand(ocl, na, 1, &w->host_a, &w->a));
    ISB_CHECK(random_operand(ocl, nb, 2, &w->host_b, &w->b));
    ISB_CHECK(isb_ocl_alloc(ocl, &w->c, nc * sizeof(float), "tuning GEMM output"));
    w->row = malloc(n_max * sizeof *w->row);
    ISB_CHECK(w->row ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    for (int s = 0; s < log->n; s++) ISB_CHECK(make_reference(w, s));
done:
    if (rc < 0) isb_tune_workload_free(w);
    *out = rc < 0 ? NULL : w;
    return rc;
}

void isb_tune_workload_free(isb_tune_workload *w) {
    if (!w) return;
    isb_ocl_release(&w->a);
    isb_ocl_release(&w->b);
    isb_ocl_release(&w->c);
    for (int s = 0; s < w->log.n; s++) free(w->refs[s].want);
    free(w->host_a);
    free(w->host_b);
    free(w->row);
    free(w);
}

const isb_gemm_log *isb_tune_workload_log(const isb_tune_workload *w) { return &w->log; }

/* Rounding of a k-term float sum of products of [-1, 1] values, with room; a wrong tile is off by O(1). */
static bool close_enough(float got, float want, size_t k) {
    return fabsf(got - want) <= 1e-5f * (float)k + 1e-4f * fabsf(want);
}

/* Compares the reference rows of product s with the device's output. */
static int compare_shape(isb_tune_workload *w, int s, bool *correct, char *why, size_t len) {
    const isb_gemm_call *g = &w->log.calls[s];
    const shape_ref *ref = &w->refs[s];
    for (int t = 0; t < ref->n_items; t++)
        for (int r = 0; r < ref->n_rows; r++) {
            size_t at = ref->items[t] * g->stride_c + ref->rows[r] * g->ldc;
            ISB_TRY(isb_ocl_read(w->ocl, w->c, at * sizeof(float), g->n * sizeof(float), w->row));
            const float *want = ref->want + ((size_t)t * ref->n_rows + r) * g->n;
            for (size_t j = 0; j < g->n; j++)
                if (!close_enough(w->row[j], want[j], g->k)) {
                    snprintf(why, len, "%s%s %zux%zux%zu%s: C[%zu][%zu] = %g, reference %g", g->a_trans ? "T" : "N",
                             g->b_trans ? "T" : "N", g->m, g->n, g->k, g->batch > 1 ? " (batched)" : "",
                             ref->rows[r], j, w->row[j], want[j]);
                    *correct = false;
                    return ISB_OK;
                }
        }
    return ISB_OK;
}

int isb_tune_workload_check(isb_tune_workload *w, bool sabotage, bool *correct, char *why, size_t len) {
    *correct = true;
    const float nan_pattern = NAN;
    for (int s = 0; s < w->log.n && *correct; s++) {
        const isb_gemm_call *g = &w->log.calls[s];
        ISB_TRY(isb_ocl_check(clEnqueueFillBuffer(w->ocl->queue, w->c, &nan_pattern, sizeof nan_pattern, 0,
                                                  span_c(g) * sizeof(float), 0, NULL, NULL), "clEnqueueFillBuffer"));
        ISB_TRY(isb_gemm_run(w->ocl, g, w->a, w->b, w->c));
        if (sabotage && s == 0) {
            float off = w->refs[0].want[0] + 1.0f;
            ISB_TRY(isb_ocl_write(w->ocl, w->c, 0, sizeof off, &off)); /* row 0, column 0 of item 0 */
        }
        ISB_TRY(isb_ocl_finish(w->ocl));
        ISB_TRY(compare_shape(w, s, correct, why, len));
    }
    return ISB_OK;
}

int isb_tune_workload_time(isb_tune_workload *w, int passes, double give_up, double *seconds, double *per_shape) {
    double best[ISB_GEMM_LOG_MAX];
    *seconds = 0;
    for (int pass = 0; pass < passes; pass++) {
        double sum = 0;
        for (int s = 0; s < w->log.n; s++) {
            ISB_TRY(isb_ocl_finish(w->ocl));
            double t0 = isb_now();
            ISB_TRY(isb_gemm_run(w->ocl, &w->log.calls[s], w->a, w->b, w->c));
            ISB_TRY(isb_ocl_finish(w->ocl));
            double t = isb_now() - t0;
            if (pass == 0 || t < best[s]) best[s] = t;
            sum += (double)w->log.calls[s].calls * best[s];
        }
        *seconds = sum;
        if (sum > give_up) break;
    }
    if (per_shape) memcpy(per_shape, best, (size_t)w->log.n * sizeof *best);
    return ISB_OK;
}
