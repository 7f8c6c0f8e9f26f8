/* Device side of the layers declared in layers.h: argument checks, kernel launches (cl/nn_conv.cl,
 * nn_bn.cl, nn_elem.cl, nn_loss.cl) and CLBlast products. Everything here only enqueues. */
#include "nn/layers.h"

#include <clblast_c.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_loss.cl" /* ISB_OUT_* bits of the loss kernel */
#include "ocl/programs.h"
#include "util/error.h"

/* ---- small helpers ------------------------------------------------------------------------------ */

/* Kernels take int element offsets; need() has refused any that would not fit. */
static int ioff(isb_dslice s) { return (int)s.off; }

static int need(isb_dslice s, const char *what, const char *fn) {
    if (!s.mem) return isb_fail(ISB_ERR_USAGE, "%s: the %s buffer is NULL; pass a device buffer", fn, what);
    if (s.off > (size_t)INT_MAX)
        return isb_fail(ISB_ERR_USAGE, "%s: offset %zu of %s exceeds 2^31-1 elements; split the buffer", fn, s.off, what);
    return 0;
}

/* need() for each slice, named as written: ISB_TRY(NEED_ALL(fn, NS(y), NS(x))). */
typedef struct {
    isb_dslice s;
    const char *what;
} named_slice;
#define NS(slice) ((named_slice){(slice), #slice})
#define NEED_ALL(fn, ...) \
    need_all((fn), (int)(sizeof((named_slice[]){__VA_ARGS__}) / sizeof(named_slice)), (named_slice[]){__VA_ARGS__})
static int need_all(const char *fn, int n, const named_slice *v) {
    for (int i = 0; i < n; i++) ISB_TRY(need(v[i].s, v[i].what, fn));
    return 0;
}

static int positive(long v, const char *what, const char *fn) {
    if (v <= 0 || v > INT_MAX)
        return isb_fail(ISB_ERR_USAGE, "%s: %s = %ld must be in 1..2^31-1", fn, what, v);
    return 0;
}

/* Largest power of two <= the kernel's usable work-group size from the device query, at most 1024
 * (tree reductions halve it; one work-group per channel wants as many work-items as allowed). */
static size_t pow2_wg(isb_ocl *ocl, cl_kernel k) {
    size_t local = isb_ocl_kernel_wg(ocl, k, 1024);
    while (local & (local - 1)) local &= local - 1;
    return local ? local : 1;
}

/* ---- products ------------------------------------------------------------------------------------ */

/* One row-major product C = alpha op(A) op(B) + beta C through CLBlast, the only way layers call
 * SGEMM: it passes CLBlast a temporary buffer from the context's GEMM workspace, grown to the
 * largest shape's need on first use (CLBlast would otherwise create and release one inside every
 * indirect call: an allocation per GEMM per step), and it books the call in the trace under `role`
 * and the shape. */
typedef struct {
    CLBlastTranspose ta, tb;
    size_t m, n, k;
    float alpha, beta;
    isb_dslice a, b, c;
    size_t lda, ldb, ldc;
} gemm_args;

/* The GEMM workspace of one context, attached to its isb_ocl (isb_ocl_attach) and released with it:
 * CLBlast's temporary buffer, and the temporary-buffer size of each GEMM shape seen (asking CLBlast
 * costs about as much host time as the GEMM call itself), valid for one set of CLBlast parameters. */
typedef struct {
    cl_mem temp; /* NULL while no shape needed one: CLBlast then allocates nothing */
    size_t temp_bytes;
    struct { size_t key[11], bytes; } sizes[96];
    int n_sizes;
    unsigned params_version; /* isb_ocl's clblast_params_version the sizes were asked under */
} gemm_workspace;

static const char gemm_workspace_key; /* its address names the attachment */

static void gemm_workspace_release(void *state) {
    gemm_workspace *w = state;
    isb_ocl_release(&w->temp);
    free(w);
}

static int gemm_workspace_of(isb_ocl *ocl, gemm_workspace **out) {
    gemm_workspace *w = isb_ocl_attached(ocl, &gemm_workspace_key);
    if (!w) {
        if (!(w = calloc(1, sizeof *w))) return isb_fail(ISB_ERR_MEMORY, "out of host memory (GEMM workspace)");
        int rc = isb_ocl_attach(ocl, &gemm_workspace_key, w, gemm_workspace_release);
        if (rc < 0) { free(w); return rc; }
    }
    if (w->params_version != ocl->clblast_params_version) { /* sizes asked under other parameters */
        w->n_sizes = 0;
        w->params_version = ocl->clblast_params_version;
    }
    *out = w;
    return ISB_OK;
}

size_t isb_gemm_workspace_bytes(const isb_ocl *ocl) {
    const gemm_workspace *w = isb_ocl_attached(ocl, &gemm_workspace_key);
    return w && w->temp ? w->temp_bytes : 0;
}

/* CLBlast's temporary-buffer size for g, from the shapes seen before when possible (a full table
 * only means asking CLBlast every time). */
static int gemm_temp_size(isb_ocl *ocl, gemm_workspace *w, const gemm_args *g, size_t *bytes) {
    size_t key[11] = {(size_t)g->ta, (size_t)g->tb, g->m, g->n, g->k, g->a.off, g->lda, g->b.off, g->ldb, g->c.off, g->ldc};
    for (int i = 0; i < w->n_sizes; i++)
        if (memcmp(w->sizes[i].key, key, sizeof key) == 0) {
            *bytes = w->sizes[i].bytes;
            return ISB_OK;
        }
    ISB_TRY(isb_clblast_check(CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k,
                                                         g->a.off, g->lda, g->b.off, g->ldb, g->c.off, g->ldc,
                                                         &ocl->queue, bytes),
                              "CLBlastSGemmTempBufferSize"));
    const int capacity = (int)(sizeof w->sizes / sizeof w->sizes[0]);
    if (w->n_sizes < capacity) {
        memcpy(w->sizes[w->n_sizes].key, key, sizeof key);
        w->sizes[w->n_sizes++].bytes = *bytes;
    }
    return ISB_OK;
}

static int gemm_temp(isb_ocl *ocl, const gemm_args *g, cl_mem *temp) {
    gemm_workspace *w = NULL;
    ISB_TRY(gemm_workspace_of(ocl, &w));
    size_t bytes = 0;
    ISB_TRY(gemm_temp_size(ocl, w, g, &bytes));
    if (bytes > w->temp_bytes) {
        isb_ocl_release(&w->temp);
        w->temp_bytes = 0;
        ISB_TRY(isb_ocl_alloc(ocl, &w->temp, bytes, "CLBlast GEMM temporary buffer"));
        w->temp_bytes = bytes;
    }
    *temp = w->temp;
    return ISB_OK;
}

/* The attached log of products (isbench tune): one process-wide recorder, off by default. */
static isb_gemm_log *g_gemm_log;

void isb_gemm_log_attach(isb_gemm_log *log) { g_gemm_log = log; }

static void log_gemm(const gemm_args *g, size_t batch, size_t stride_a, size_t stride_b, size_t stride_c) {
    if (!g_gemm_log) return;
    isb_gemm_call c = {g->ta == CLBlastTransposeYes, g->tb == CLBlastTransposeYes, g->m, g->n, g->k, g->lda, g->ldb,
                       g->ldc, batch, stride_a, stride_b, stride_c, 1};
    for (int i = 0; i < g_gemm_log->n; i++) {
        isb_gemm_call *s = &g_gemm_log->calls[i];
        if (s->a_trans == c.a_trans && s->b_trans == c.b_trans && s->m == c.m && s->n == c.n && s->k == c.k &&
            s->lda == c.lda && s->ldb == c.ldb && s->ldc == c.ldc && s->batch == c.batch && s->stride_a == c.stride_a &&
            s->stride_b == c.stride_b && s->stride_c == c.stride_c) {
            s->calls++;
            return;
        }
    }
    if (g_gemm_log->n < ISB_GEMM_LOG_MAX) g_gemm_log->calls[g_gemm_log->n++] = c;
    else g_gemm_log->dropped++;
}

static int sgemm(isb_ocl *ocl, const char *role, const gemm_args *g) {
    log_gemm(g, 1, 0, 0, 0);
    cl_mem temp;
    ISB_TRY(gemm_temp(ocl, g, &temp));
    double t0 = isb_ocl_trace_start(ocl);
    CLBlastStatusCode st = temp
        ? CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a.mem, g->a.off,
                                     g->lda, g->b.mem, g->b.off, g->ldb, g->beta, g->c.mem, g->c.off, g->ldc,
                                     &ocl->queue, NULL, temp)
        : CLBlastSgemm(CLBlastLayoutRowMajor, g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a.mem, g->a.off, g->lda,
                       g->b.mem, g->b.off, g->ldb, g->beta, g->c.mem, g->c.off, g->ldc, &ocl->queue, NULL);
    char what[96];
    snprintf(what, sizeof what, "CLBlastSgemm %s %zux%zux%zu", role, g->m, g->n, g->k);
    ISB_TRY(isb_clblast_check(st, what));
    return isb_ocl_trace_clblast(ocl, what, t0);
}

#define NT CLBlastTransposeNo
#define TR CLBlastTransposeYes

int isb_gemm_run(isb_ocl *ocl, const isb_gemm_call *call, cl_mem a, cl_mem b, cl_mem c) {
    gemm_args g = {call->a_trans ? TR : NT, call->b_trans ? TR : NT, call->m, call->n, call->k, 1.0f, 0.0f,
                   isb_ds(a, 0), isb_ds(b, 0), isb_ds(c, 0), call->lda, call->ldb, call->ldc};
    if (call->batch <= 1) return sgemm(ocl, "replayed", &g);
    return isb_clblast_check(CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, g.ta, g.tb, g.m, g.n, g.k, 1.0f, a, 0,
                                                        g.lda, call->stride_a, b, 0, g.ldb, call->stride_b, 0.0f, c, 0,
                                                        g.ldc, call->stride_c, call->batch, &ocl->queue, NULL),
                             "CLBlastSgemmStridedBatched (replayed)");
}

/* ---- convolution ------------------------------------------------------------------------------- */

int isb_conv_out_size(int in, int k, int stride) { return (in + 2 * (k / 2) - k) / stride + 1; }

int isb_conv_check(const isb_conv_shape *s) {
    const char *fn = "conv2d";
    ISB_TRY(positive(s->batch, "batch", fn));
    ISB_TRY(positive(s->cin, "input channels", fn));
    ISB_TRY(positive(s->cout, "output channels", fn));
    ISB_TRY(positive(s->h, "height", fn));
    ISB_TRY(positive(s->w, "width", fn));
    if (s->k != 1 && s->k != 3)
        return isb_fail(ISB_ERR_USAGE, "conv2d: kernel size %d is not supported; use 3 (padding 1) or 1 (padding 0)", s->k);
    if (s->stride != 1 && s->stride != 2)
        return isb_fail(ISB_ERR_USAGE, "conv2d: stride %d is not supported; use 1 or 2", s->stride);
    long long col = (long long)s->cin * s->k * s->k * s->batch * isb_conv_out_size(s->h, s->k, s->stride) *
                    isb_conv_out_size(s->w, s->k, s->stride);
    long long in = (long long)s->cin * s->batch * s->h * s->w;
    if (col > INT_MAX || in > INT_MAX)
        return isb_fail(ISB_ERR_USAGE, "conv2d: %lld elements (input or im2col columns) exceed 2^31-1; use a smaller batch",
                        col > in ? col : in);
    return 0;
}

static size_t conv_columns(const isb_conv_shape *s) {
    return (size_t)s->batch * isb_conv_out_size(s->h, s->k, s->stride) * isb_conv_out_size(s->w, s->k, s->stride);
}
static size_t conv_rows(const isb_conv_shape *s) { return (size_t)s->cin * s->k * s->k; }
/* A 1x1 stride-1 convolution's im2col is the identity: x [cin][batch*h*w] is already col. */
static int conv_is_identity_col(const isb_conv_shape *s) { return s->k == 1 && s->stride == 1; }

size_t isb_conv_col_floats(const isb_conv_shape *s) {
    return conv_is_identity_col(s) ? 0 : conv_rows(s) * conv_columns(s);
}

int isb_conv_default_chunks(const isb_conv_shape *s) {
    /* ~1024 columns per chunk, at most 256 chunks (bounds the partials at 256 weight tensors), and
     * no split below 4096 columns. Measured on an H200 (NVIDIA OpenCL, CLBlast 1.5.3, batch 128):
     * 64->64 3x3 at 32x32 (131072 columns) takes 6.9 ms as one GEMM (1.4 TFLOP/s); chunks of 8192
     * columns 0.75 ms, 4096: 0.65, 2048: 0.62, 1024: 0.60 ms (16 TFLOP/s, like the forward GEMMs).
     * 512->512 at 4x4 (2048 columns) is already fast as one GEMM: 0.50 ms, 0.60 ms in 2 chunks. */
    size_t columns = conv_columns(s), chunks = columns < 4096 ? 1 : columns / 1024;
    return chunks > 256 ? 256 : (int)chunks;
}

/* out [cols] = the sum of the rows of in [rows][cols] (cl/nn_elem.cl). */
static int column_sum(isb_ocl *ocl, int rows, int cols, isb_dslice out, isb_dslice in) {
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_column_sum", &k));
    int oo = ioff(out), io = ioff(in);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(rows), ISB_KA(cols), ISB_KA(out.mem), ISB_KA(oo), ISB_KA(in.mem), ISB_KA(io)));
    return isb_ocl_run1d(ocl, k, (size_t)cols, 0);
}

static int resolve_chunks(const isb_conv_shape *s, int chunks) {
    if (chunks <= 0) chunks = isb_conv_default_chunks(s);
    if ((size_t)chunks > conv_columns(s)) chunks = (int)conv_columns(s);
    return chunks;
}

/* Whether the data gradient may run as a forward conv of dy (isb_conv_dx_as_forward_conv): stride
 * 1 and k = 3 (so dx and dy have one size), and im2col(dy), cout*k*k rows, fits in `col`. */
static bool dx_may_be_forward_conv(const isb_conv_shape *s) { return s->k == 3 && s->stride == 1 && s->cout <= s->cin; }

size_t isb_conv_partials_floats(const isb_conv_shape *s, int chunks) {
    chunks = resolve_chunks(s, chunks);
    size_t partials = chunks == 1 ? 0 : (size_t)chunks * s->cout * conv_rows(s);
    size_t flipped = dx_may_be_forward_conv(s) ? (size_t)s->cout * conv_rows(s) : 0;
    return partials > flipped ? partials : flipped;
}

int isb_conv_dx_as_forward_conv(const isb_ocl *ocl, const isb_conv_shape *s) {
    return dx_may_be_forward_conv(s) && isb_cpu_form(ocl, s->form);
}

isb_conv_shape isb_conv_shape_of_dy(const isb_conv_shape *s) {
    isb_conv_shape of_dy = *s;
    of_dy.cin = s->cout;
    of_dy.cout = s->cin;
    return of_dy;
}

static int conv_data_kernel(isb_ocl *ocl, const char *name, const isb_conv_shape *s, isb_dslice out, isb_dslice in,
                            size_t items) {
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_CONV, "", name, &k));
    int ho = isb_conv_out_size(s->h, s->k, s->stride), wo = isb_conv_out_size(s->w, s->k, s->stride);
    int oo = ioff(out), io = ioff(in);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->cin), ISB_KA(s->batch), ISB_KA(s->h), ISB_KA(s->w), ISB_KA(s->k),
                         ISB_KA(s->stride), ISB_KA(ho), ISB_KA(wo), ISB_KA(out.mem), ISB_KA(oo), ISB_KA(in.mem),
                         ISB_KA(io)));
    return isb_ocl_run1d(ocl, k, items, 0);
}

int isb_cpu_form(const isb_ocl *ocl, isb_kernel_form form) {
    return form == ISB_FORM_CPU || (form == ISB_FORM_AUTO && (ocl->info.type & CL_DEVICE_TYPE_CPU));
}

int isb_im2col(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice col, isb_dslice x) {
    ISB_TRY(isb_conv_check(s));
    ISB_TRY(NEED_ALL("im2col", NS(col), NS(x)));
    if (isb_cpu_form(ocl, s->form))
        return conv_data_kernel(ocl, "isb_im2col_rows", s, col, x,
                                conv_rows(s) * s->batch * isb_conv_out_size(s->h, s->k, s->stride));
    return conv_data_kernel(ocl, "isb_im2col", s, col, x, (size_t)s->cin * conv_columns(s));
}

int isb_col2im(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dx, isb_dslice col) {
    ISB_TRY(isb_conv_check(s));
    ISB_TRY(NEED_ALL("col2im", NS(dx), NS(col)));
    if (isb_cpu_form(ocl, s->form))
        return conv_data_kernel(ocl, "isb_col2im_rows", s, dx, col, (size_t)s->cin * s->batch * s->h);
    return conv_data_kernel(ocl, "isb_col2im", s, dx, col, (size_t)s->cin * s->batch * s->h * s->w);
}

/* col for the GEMMs: x itself for 1x1 stride 1, else im2col(x) written into the workspace. */
static int conv_columns_of(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice x, isb_dslice work, isb_dslice *col) {
    if (conv_is_identity_col(s)) {
        *col = x;
        return 0;
    }
    ISB_TRY(isb_im2col(ocl, s, work, x));
    *col = work;
    return 0;
}

int isb_conv2d_forward(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice y, isb_dslice x, isb_dslice w,
                       isb_dslice col) {
    ISB_TRY(isb_conv_check(s));
    ISB_TRY(NEED_ALL("conv2d_forward", NS(y), NS(x), NS(w)));
    isb_dslice c;
    ISB_TRY(conv_columns_of(ocl, s, x, col, &c));
    size_t m = (size_t)s->cout, n = conv_columns(s), kdim = conv_rows(s);
    /* y [cout][N] = w [cout][K] x col [K][N] */
    return sgemm(ocl, "conv forward", &(gemm_args){NT, NT, m, n, kdim, 1.0f, 0.0f, w, c, y, kdim, n, n});
}

/* partials[j] [m][kdim] = dy[:, chunk j] x col[:, chunk j]^T through CLBlast: chunk j covers
 * columns [j*c, (j+1)*c) of dy and col (same ld n, offsets strided by c); the remainder columns
 * are added into the last partial. */
static int clblast_chunked_wgrad(isb_ocl *ocl, size_t m, size_t kdim, size_t n, int chunks, isb_dslice partials,
                                 isb_dslice dy, isb_dslice col) {
    size_t c = n / (size_t)chunks, wsize = m * kdim;
    log_gemm(&(gemm_args){NT, TR, m, kdim, c, 1.0f, 0.0f, dy, col, partials, n, n, kdim}, (size_t)chunks, c, c, wsize);
    double t0 = isb_ocl_trace_start(ocl);
    ISB_TRY(isb_clblast_check(
        CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, m, kdim, c, 1.0f,
                                   dy.mem, dy.off, n, c, col.mem, col.off, n, c, 0.0f, partials.mem, partials.off, kdim,
                                   wsize, (size_t)chunks, &ocl->queue, NULL),
        "CLBlastSgemmStridedBatched (chunked conv weight gradient)"));
    char what[96];
    snprintf(what, sizeof what, "CLBlastSgemmStridedBatched conv weight gradient %zux%zux%zu x%d", m, kdim, c, chunks);
    ISB_TRY(isb_ocl_trace_clblast(ocl, what, t0));
    size_t done = c * (size_t)chunks;
    if (done == n) return ISB_OK;
    return sgemm(ocl, "conv weight gradient remainder",
                 &(gemm_args){NT, TR, m, kdim, n - done, 1.0f, 1.0f, isb_ds_at(dy, done), isb_ds_at(col, done),
                              isb_ds_at(partials, (chunks - 1) * wsize), n, n, kdim});
}

int isb_conv2d_weight_grad(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dw, isb_dslice dy, isb_dslice col,
                           isb_dslice partials, int chunks) {
    ISB_TRY(isb_conv_check(s));
    ISB_TRY(NEED_ALL("conv2d_weight_grad", NS(dw), NS(dy), NS(col)));
    size_t m = (size_t)s->cout, kdim = conv_rows(s), n = conv_columns(s);
    chunks = resolve_chunks(s, chunks);
    if (chunks == 1) /* dw [cout][K] = dy [cout][N] x col[K][N]^T as one product */
        return sgemm(ocl, "conv weight gradient", &(gemm_args){NT, TR, m, kdim, n, 1.0f, 0.0f, dy, col, dw, n, n, kdim});
    ISB_TRY(need(partials, "partials workspace", "conv2d_weight_grad"));
    ISB_TRY(clblast_chunked_wgrad(ocl, m, kdim, n, chunks, partials, dy, col));
    return column_sum(ocl, chunks, (int)(m * kdim), dw, partials);
}

/* dx = conv(dy, wt) with wt = w flipped (isb_conv_weight_flip) into `partials`: im2col(dy) into
 * `col`, then dx [cin][N] = wt [cin][cout*k*k] x col [cout*k*k][N]. The weight gradient has
 * finished with col and partials (in-order queue), so both are reused. On PoCL the step got 2-5 %
 * faster at width 16 and 6 % at width 8 than with w^T x dy (a [cin*9] x [N] x [cout] product, an
 * inner dimension of 16 at width 16) plus col2im; unmeasured on GPUs, so only the CPU form takes it. */
static int dx_by_forward_conv(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dx, isb_dslice dy, isb_dslice w,
                              isb_dslice col, isb_dslice partials) {
    ISB_TRY(need(partials, "partials workspace (the flipped weights)", "conv2d_backward"));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_CONV, "", "isb_conv_weight_flip", &k));
    int kk = s->k * s->k, po = ioff(partials), wo = ioff(w);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->cout), ISB_KA(s->cin), ISB_KA(kk), ISB_KA(partials.mem), ISB_KA(po),
                         ISB_KA(w.mem), ISB_KA(wo)));
    ISB_TRY(isb_ocl_run1d(ocl, k, (size_t)s->cout * s->cin * (size_t)kk, 0));
    isb_conv_shape of_dy = isb_conv_shape_of_dy(s);
    ISB_TRY(isb_im2col(ocl, &of_dy, col, dy));
    size_t n = conv_columns(s), kdim = conv_rows(&of_dy);
    return sgemm(ocl, "conv data gradient",
                 &(gemm_args){NT, NT, (size_t)s->cin, n, kdim, 1.0f, 0.0f, partials, col, dx, kdim, n, n});
}

int isb_conv2d_backward(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dx, isb_dslice dw, isb_dslice dy,
                        isb_dslice x, isb_dslice w, isb_dslice col, int col_holds_x, isb_dslice partials,
                        int chunks) {
    ISB_TRY(isb_conv_check(s));
    ISB_TRY(NEED_ALL("conv2d_backward", NS(x), NS(w)));
    isb_dslice c = col;
    if (!col_holds_x || conv_is_identity_col(s)) ISB_TRY(conv_columns_of(ocl, s, x, col, &c));
    ISB_TRY(isb_conv2d_weight_grad(ocl, s, dw, dy, c, partials, chunks));
    if (!dx.mem) return 0;
    ISB_TRY(need(dx, "dx", "conv2d_backward"));
    if (isb_conv_dx_as_forward_conv(ocl, s)) return dx_by_forward_conv(ocl, s, dx, dy, w, col, partials);
    /* dcol [K][N] = w^T x dy, straight into dx when im2col is the identity; the weight gradient
     * above has finished reading col (in-order queue), so the workspace is reused. */
    isb_dslice dcol = conv_is_identity_col(s) ? dx : col;
    size_t m = (size_t)s->cout, n = conv_columns(s), kdim = conv_rows(s);
    ISB_TRY(sgemm(ocl, "conv data gradient", &(gemm_args){TR, NT, kdim, n, m, 1.0f, 0.0f, w, dy, dcol, kdim, n, n}));
    return conv_is_identity_col(s) ? 0 : isb_col2im(ocl, s, dx, col);
}

/* ---- batch normalisation ------------------------------------------------------------------------ */

static int bn_check(const isb_bn_shape *s) {
    ISB_TRY(positive(s->channels, "channels", "batch norm"));
    ISB_TRY(positive(s->n, "elements per channel", "batch norm"));
    if ((long long)s->channels * s->n > INT_MAX)
        return isb_fail(ISB_ERR_USAGE, "batch norm: %d x %d elements exceed 2^31-1; use a smaller batch", s->channels, s->n);
    if (!(s->eps > 0)) return isb_fail(ISB_ERR_USAGE, "batch norm: eps must be > 0 (PyTorch uses 1e-5)");
    return 0;
}

/* Build options of nn_bn.cl: the row walk of the form, and eval's variance statistic. */
static const char *bn_options(const isb_ocl *ocl, const isb_bn_shape *s, int stat_is_var) {
    if (isb_cpu_form(ocl, s->form)) return stat_is_var ? "-DISB_CPU_FORM -DISB_BN_SPREAD_IS_VAR" : "-DISB_CPU_FORM";
    return stat_is_var ? "-DISB_BN_SPREAD_IS_VAR" : "";
}

/* Launches an elementwise BN kernel as whole work-groups per channel (isb_channel_item). */
static int bn_elementwise(isb_ocl *ocl, cl_kernel k, const isb_bn_shape *s) {
    size_t local = isb_ocl_kernel_wg(ocl, k, ocl->wg_size);
    return isb_ocl_run_groups(ocl, k, (size_t)s->channels * (((size_t)s->n + local - 1) / local), local);
}

/* The elementwise normalisation shared by training (mean, invstd) and eval (running mean, var),
 * with the residual res added when res.mem is set. */
static int bn_apply(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice x, isb_dslice gamma, isb_dslice beta,
                    isb_dslice mean, isb_dslice spread, int stat_is_var, isb_dslice res) {
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_BN, bn_options(ocl, s, stat_is_var), "isb_bn_apply", &k));
    int add = res.mem != NULL;
    if (!add) res = x; /* bound but never read */
    int yo = ioff(y), xo = ioff(x), ro = ioff(res), go = ioff(gamma), bo = ioff(beta), mo = ioff(mean), so = ioff(spread);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->channels), ISB_KA(s->n), ISB_KA(s->relu), ISB_KA(add), ISB_KA(s->eps),
                         ISB_KA(y.mem), ISB_KA(yo), ISB_KA(x.mem), ISB_KA(xo), ISB_KA(res.mem), ISB_KA(ro),
                         ISB_KA(gamma.mem), ISB_KA(go), ISB_KA(beta.mem), ISB_KA(bo), ISB_KA(mean.mem), ISB_KA(mo),
                         ISB_KA(spread.mem), ISB_KA(so)));
    return bn_elementwise(ocl, k, s);
}

int isb_bn_forward_train_add(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice save_mean,
                             isb_dslice save_invstd, isb_dslice running_mean, isb_dslice running_var, isb_dslice x,
                             isb_dslice gamma, isb_dslice beta, isb_dslice res) {
    const char *fn = "bn_forward_train";
    ISB_TRY(bn_check(s));
    ISB_TRY(NEED_ALL(fn, NS(y), NS(save_mean), NS(save_invstd), NS(running_mean), NS(running_var), NS(x), NS(gamma),
                     NS(beta)));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_BN, bn_options(ocl, s, 0), "isb_bn_stats", &k));
    size_t local = pow2_wg(ocl, k);
    int xo = ioff(x), mo = ioff(save_mean), io = ioff(save_invstd), rmo = ioff(running_mean), rvo = ioff(running_var);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->n), ISB_KA(s->momentum), ISB_KA(s->eps), ISB_KA(x.mem), ISB_KA(xo),
                         ISB_KA(save_mean.mem), ISB_KA(mo), ISB_KA(save_invstd.mem), ISB_KA(io),
                         ISB_KA(running_mean.mem), ISB_KA(rmo), ISB_KA(running_var.mem), ISB_KA(rvo),
                         ISB_KLOCAL(local * sizeof(float))));
    ISB_TRY(isb_ocl_run_groups(ocl, k, (size_t)s->channels, local));
    if (res.mem) ISB_TRY(need(res, "res", fn));
    return bn_apply(ocl, s, y, x, gamma, beta, save_mean, save_invstd, 0, res);
}

int isb_bn_forward_train(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice save_mean,
                         isb_dslice save_invstd, isb_dslice running_mean, isb_dslice running_var, isb_dslice x,
                         isb_dslice gamma, isb_dslice beta) {
    return isb_bn_forward_train_add(ocl, s, y, save_mean, save_invstd, running_mean, running_var, x, gamma, beta,
                                    isb_ds(NULL, 0));
}

int isb_bn_forward_eval(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice x, isb_dslice gamma,
                        isb_dslice beta, isb_dslice running_mean, isb_dslice running_var) {
    const char *fn = "bn_forward_eval";
    ISB_TRY(bn_check(s));
    ISB_TRY(NEED_ALL(fn, NS(y), NS(x), NS(gamma), NS(beta), NS(running_mean), NS(running_var)));
    return bn_apply(ocl, s, y, x, gamma, beta, running_mean, running_var, 1, isb_ds(NULL, 0));
}

int isb_bn_backward(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice dx, isb_dslice dgamma, isb_dslice dbeta,
                    isb_dslice dy, isb_dslice x, isb_dslice y, isb_dslice gamma, isb_dslice save_mean,
                    isb_dslice save_invstd) {
    const char *fn = "bn_backward";
    ISB_TRY(bn_check(s));
    ISB_TRY(NEED_ALL(fn, NS(dx), NS(dgamma), NS(dbeta), NS(dy), NS(x), NS(gamma), NS(save_mean), NS(save_invstd)));
    if (s->relu) ISB_TRY(need(y, "y (the fused ReLU's output, for its mask)", fn));
    else y = x; /* bound but never read */
    int dyo = ioff(dy), xo = ioff(x), yo = ioff(y), mo = ioff(save_mean), io = ioff(save_invstd);
    int dgo = ioff(dgamma), dbo = ioff(dbeta), dxo = ioff(dx), go = ioff(gamma);
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_BN, bn_options(ocl, s, 0), "isb_bn_backward_sums", &k));
    size_t local = pow2_wg(ocl, k);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->n), ISB_KA(s->relu), ISB_KA(dy.mem), ISB_KA(dyo), ISB_KA(x.mem), ISB_KA(xo),
                         ISB_KA(y.mem), ISB_KA(yo), ISB_KA(save_mean.mem), ISB_KA(mo), ISB_KA(save_invstd.mem),
                         ISB_KA(io), ISB_KA(dgamma.mem), ISB_KA(dgo), ISB_KA(dbeta.mem), ISB_KA(dbo),
                         ISB_KLOCAL(local * sizeof(float))));
    ISB_TRY(isb_ocl_run_groups(ocl, k, (size_t)s->channels, local));
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_BN, bn_options(ocl, s, 0), "isb_bn_backward_dx", &k));
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(s->channels), ISB_KA(s->n), ISB_KA(s->relu), ISB_KA(dx.mem), ISB_KA(dxo),
                         ISB_KA(dy.mem), ISB_KA(dyo), ISB_KA(x.mem), ISB_KA(xo), ISB_KA(y.mem), ISB_KA(yo),
                         ISB_KA(gamma.mem), ISB_KA(go), ISB_KA(save_mean.mem), ISB_KA(mo), ISB_KA(save_invstd.mem),
                         ISB_KA(io), ISB_KA(dgamma.mem), ISB_KA(dgo), ISB_KA(dbeta.mem), ISB_KA(dbo)));
    return bn_elementwise(ocl, k, s);
}

/* ---- elementwise, layout, pooling ------------------------------------------------------------- */

int isb_relu_forward(isb_ocl *ocl, int n, isb_dslice y, isb_dslice x) {
    ISB_TRY(positive(n, "n", "relu_forward"));
    ISB_TRY(NEED_ALL("relu_forward", NS(y), NS(x)));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_relu_fwd", &k));
    int yo = ioff(y), xo = ioff(x);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(y.mem), ISB_KA(yo), ISB_KA(x.mem), ISB_KA(xo)));
    return isb_ocl_run1d(ocl, k, (size_t)n, 0);
}

int isb_relu_backward(isb_ocl *ocl, int n, isb_dslice dx, isb_dslice dy, isb_dslice y) {
    ISB_TRY(positive(n, "n", "relu_backward"));
    ISB_TRY(NEED_ALL("relu_backward", NS(dx), NS(dy), NS(y)));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_relu_bwd", &k));
    int dxo = ioff(dx), dyo = ioff(dy), yo = ioff(y);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(dx.mem), ISB_KA(dxo), ISB_KA(dy.mem), ISB_KA(dyo), ISB_KA(y.mem), ISB_KA(yo)));
    return isb_ocl_run1d(ocl, k, (size_t)n, 0);
}

int isb_add(isb_ocl *ocl, int n, isb_dslice y, isb_dslice a, isb_dslice b, int relu) {
    ISB_TRY(positive(n, "n", "add"));
    ISB_TRY(NEED_ALL("add", NS(y), NS(a), NS(b)));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_add", &k));
    int yo = ioff(y), ao = ioff(a), bo = ioff(b);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(relu), ISB_KA(y.mem), ISB_KA(yo), ISB_KA(a.mem), ISB_KA(ao),
                         ISB_KA(b.mem), ISB_KA(bo)));
    return isb_ocl_run1d(ocl, k, (size_t)n, 0);
}

/* dst [n1][n0][hw] from src [n0][n1][hw] */
static int swap_outer(isb_ocl *ocl, int n0, int n1, int hw, isb_dslice dst, isb_dslice src, const char *fn) {
    ISB_TRY(positive(n0, "batch/channels", fn));
    ISB_TRY(positive(n1, "channels/batch", fn));
    ISB_TRY(positive(hw, "hw", fn));
    ISB_TRY(positive((long)n0 * n1 * hw, "element count", fn));
    ISB_TRY(NEED_ALL(fn, NS(dst), NS(src)));
    if (dst.mem == src.mem) return isb_fail(ISB_ERR_USAGE, "%s: cannot transpose in place; use another buffer", fn);
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_swap_outer", &k));
    int dso = ioff(dst), sro = ioff(src);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n0), ISB_KA(n1), ISB_KA(hw), ISB_KA(dst.mem), ISB_KA(dso), ISB_KA(src.mem), ISB_KA(sro)));
    return isb_ocl_run1d(ocl, k, (size_t)n0 * n1 * hw, 0);
}

int isb_nchw_to_cnhw(isb_ocl *ocl, int batch, int c, int hw, isb_dslice dst, isb_dslice src) {
    return swap_outer(ocl, batch, c, hw, dst, src, "nchw_to_cnhw");
}

int isb_cnhw_to_nchw(isb_ocl *ocl, int batch, int c, int hw, isb_dslice dst, isb_dslice src) {
    return swap_outer(ocl, c, batch, hw, dst, src, "cnhw_to_nchw");
}

static int pool_kernel(isb_ocl *ocl, const char *name, int batch, int c, int hw, isb_dslice out, isb_dslice in,
                       size_t items) {
    ISB_TRY(positive(batch, "batch", name));
    ISB_TRY(positive(c, "channels", name));
    ISB_TRY(positive(hw, "hw", name));
    ISB_TRY(need(out, "output", name));
    ISB_TRY(need(in, "input", name));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", name, &k));
    int oo = ioff(out), io = ioff(in);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(batch), ISB_KA(c), ISB_KA(hw), ISB_KA(out.mem), ISB_KA(oo), ISB_KA(in.mem), ISB_KA(io)));
    return isb_ocl_run1d(ocl, k, items, 0);
}

int isb_avgpool_forward(isb_ocl *ocl, int batch, int c, int hw, isb_dslice y, isb_dslice x) {
    return pool_kernel(ocl, "isb_avgpool_fwd", batch, c, hw, y, x, (size_t)batch * c);
}

int isb_avgpool_backward(isb_ocl *ocl, int batch, int c, int hw, isb_dslice dx, isb_dslice dy) {
    return pool_kernel(ocl, "isb_avgpool_bwd", batch, c, hw, dx, dy, (size_t)batch * c * hw);
}

/* ---- linear ------------------------------------------------------------------------------------ */

static int linear_check(int batch, int in, int out, const char *fn) {
    ISB_TRY(positive(batch, "batch", fn));
    ISB_TRY(positive(in, "in features", fn));
    ISB_TRY(positive(out, "out features", fn));
    return 0;
}

int isb_linear_forward(isb_ocl *ocl, int batch, int in, int out, isb_dslice y, isb_dslice x, isb_dslice w,
                       isb_dslice b) {
    const char *fn = "linear_forward";
    ISB_TRY(linear_check(batch, in, out, fn));
    ISB_TRY(NEED_ALL(fn, NS(y), NS(x), NS(w), NS(b)));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_bias_broadcast", &k));
    int yo = ioff(y), bo = ioff(b);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(batch), ISB_KA(out), ISB_KA(y.mem), ISB_KA(yo), ISB_KA(b.mem), ISB_KA(bo)));
    ISB_TRY(isb_ocl_run1d(ocl, k, (size_t)batch * out, 0));
    /* y [batch][out] += x [batch][in] x w[out][in]^T */
    size_t B = (size_t)batch, I = (size_t)in, O = (size_t)out;
    return sgemm(ocl, "linear forward", &(gemm_args){NT, TR, B, O, I, 1.0f, 1.0f, x, w, y, I, I, O});
}

int isb_linear_backward(isb_ocl *ocl, int batch, int in, int out, isb_dslice dx, isb_dslice dw, isb_dslice db,
                        isb_dslice dy, isb_dslice x, isb_dslice w) {
    const char *fn = "linear_backward";
    ISB_TRY(linear_check(batch, in, out, fn));
    ISB_TRY(NEED_ALL(fn, NS(dw), NS(db), NS(dy), NS(x), NS(w)));
    size_t B = (size_t)batch, I = (size_t)in, O = (size_t)out;
    if (dx.mem) { /* dx [batch][in] = dy [batch][out] x w [out][in] */
        ISB_TRY(need(dx, "dx", fn));
        ISB_TRY(sgemm(ocl, "linear data gradient", &(gemm_args){NT, NT, B, I, O, 1.0f, 0.0f, dy, w, dx, O, I, I}));
    }
    /* dw [out][in] = dy^T x */
    ISB_TRY(sgemm(ocl, "linear weight gradient", &(gemm_args){TR, NT, O, I, B, 1.0f, 0.0f, dy, x, dw, O, I, I}));
    return column_sum(ocl, batch, out, db, dy); /* db [out] = sum over the batch of dy */
}

/* ---- loss ------------------------------------------------------------------------------------ */

/* An optional slice: its buffer and offset, or a harmless dummy (never touched) and 0. */
static int optional(isb_dslice s, cl_mem dummy, int bit, int *outputs, cl_mem *mem, int *off, const char *what) {
    if (!s.mem) {
        *mem = dummy;
        *off = 0;
        return 0;
    }
    ISB_TRY(need(s, what, "softmax_xent"));
    *outputs |= bit;
    *mem = s.mem;
    *off = ioff(s);
    return 0;
}

int isb_softmax_xent(isb_ocl *ocl, const isb_loss_args *a) {
    const char *fn = "softmax_xent";
    ISB_TRY(positive(a->batch, "batch", fn));
    ISB_TRY(positive(a->classes, "classes", fn));
    ISB_TRY(positive((long)a->batch * a->classes, "logit count", fn));
    ISB_TRY(need(a->logits, "logits", fn));
    ISB_TRY(need(a->labels, "labels", fn));
    ISB_TRY(isb_score_rule_check(a->score_rule, fn));
    bool update_scores = a->score_rule.kind != ISB_SCORE_RULE_NONE;
    int rule = (int)a->score_rule.kind;
    cl_mem dummy = a->logits.mem;
    int outputs = 0;
    cl_mem wm, dlm, lm, cm, blm, scores = dummy, im = dummy, flag = dummy;
    int n_scores = 0; /* the kernel skips indices outside [0, n_scores): a bad index must not write out of bounds */
    int wo, dlo, lo, co, blo, io = 0;
    ISB_TRY(optional(a->weights, dummy, ISB_IN_WEIGHTS, &outputs, &wm, &wo, "weights"));
    ISB_TRY(optional(a->dlogits, dummy, ISB_OUT_DLOGITS, &outputs, &dlm, &dlo, "dlogits"));
    ISB_TRY(optional(a->losses, dummy, ISB_OUT_LOSSES, &outputs, &lm, &lo, "losses"));
    ISB_TRY(optional(a->correct, dummy, ISB_OUT_CORRECT, &outputs, &cm, &co, "correct"));
    ISB_TRY(optional(a->batch_loss, dummy, ISB_OUT_BATCH_LOSS, &outputs, &blm, &blo, "batch_loss"));
    if (update_scores) {
        if (!a->scores) return isb_fail(ISB_ERR_USAGE, "%s: a score update needs the scores buffer", fn);
        ISB_TRY(need(a->indices, "indices (for the score update)", fn));
        scores = a->scores;
        size_t scores_bytes = 0;
        ISB_TRY(isb_ocl_check(clGetMemObjectInfo(scores, CL_MEM_SIZE, sizeof scores_bytes, &scores_bytes, NULL),
                              "clGetMemObjectInfo(scores)"));
        n_scores = (int)(scores_bytes / sizeof(float) > INT_MAX ? INT_MAX : scores_bytes / sizeof(float));
        im = a->indices.mem;
        io = ioff(a->indices);
    }
    if (a->nonfinite_flag) {
        outputs |= ISB_OUT_FLAG;
        flag = a->nonfinite_flag;
    }
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_LOSS, "", "isb_softmax_xent", &k));
    size_t local = pow2_wg(ocl, k);
    /* the score update keeps each row's loss and index in local memory (see nn_loss.cl) */
    size_t rows_local = update_scores ? (size_t)a->batch : 1;
    size_t local_bytes = local * sizeof(float) + rows_local * (sizeof(float) + sizeof(cl_int));
    if (local_bytes > ocl->info.local_mem)
        return isb_fail(ISB_ERR_USAGE,
                        "%s: the score update of a batch of %d needs %zu bytes of local memory but %s has %lu; "
                        "use a smaller batch", fn, a->batch, local_bytes, ocl->info.name,
                        (unsigned long)ocl->info.local_mem);
    int logo = ioff(a->logits), labo = ioff(a->labels);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(a->batch), ISB_KA(a->classes), ISB_KA(outputs), ISB_KA(a->logits.mem), ISB_KA(logo),
                         ISB_KA(a->labels.mem), ISB_KA(labo), ISB_KA(wm), ISB_KA(wo), ISB_KA(dlm), ISB_KA(dlo),
                         ISB_KA(lm), ISB_KA(lo), ISB_KA(cm), ISB_KA(co), ISB_KA(blm), ISB_KA(blo),
                         ISB_KA(rule), ISB_KA(a->score_rule.beta), ISB_KA(scores), ISB_KA(n_scores), ISB_KA(im), ISB_KA(io),
                         ISB_KA(flag), ISB_KA(a->step), ISB_KLOCAL(local * sizeof(float)),
                         ISB_KLOCAL(rows_local * sizeof(float)), ISB_KLOCAL(rows_local * sizeof(cl_int))));
    return isb_ocl_run_groups(ocl, k, 1, local);
}

int isb_loss_flag_reset(isb_ocl *ocl, cl_mem flag) {
    if (!flag) return isb_fail(ISB_ERR_USAGE, "loss_flag_reset: the flag buffer is NULL");
    const cl_int none = INT_MAX;
    return isb_ocl_check(clEnqueueFillBuffer(ocl->queue, flag, &none, sizeof none, 0, sizeof none, 0, NULL, NULL),
                         "clEnqueueFillBuffer (non-finite flag)");
}

/* ---- SGD ----------------------------------------------------------------------------------------- */

int isb_sgd_update(isb_ocl *ocl, int n, isb_dslice w, isb_dslice g, isb_dslice v, float lr, float mu, float wd) {
    ISB_TRY(positive(n, "n", "sgd_update"));
    ISB_TRY(NEED_ALL("sgd_update", NS(w), NS(g), NS(v)));
    cl_kernel k;
    ISB_TRY(isb_ocl_kernel(ocl, ISB_PROGRAM_NN_ELEM, "", "isb_sgd", &k));
    int wo = ioff(w), go = ioff(g), vo = ioff(v);
    ISB_TRY(ISB_SET_ARGS(k, ISB_KA(n), ISB_KA(lr), ISB_KA(mu), ISB_KA(wd), ISB_KA(w.mem), ISB_KA(wo), ISB_KA(g.mem),
                         ISB_KA(go), ISB_KA(v.mem), ISB_KA(vo)));
    return isb_ocl_run1d(ocl, k, (size_t)n, 0);
}
