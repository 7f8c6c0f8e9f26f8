/* The layers of the OpenCL engine: forward and backward of every op ResNet18 needs, on the device
 * (kernels in cl/nn_*.cl, products through CLBlast). src/ref/nn.h holds the plain-C version of
 * each op with the same argument order; the tests hold the two against each other.
 *
 * Conventions (for the model engineer):
 *  - Every tensor is an isb_dslice: a cl_mem plus an ELEMENT offset (float or int elements), because
 *    parameters, gradients and activations each live in one big buffer. Offsets and sizes must stay
 *    below 2^31 elements (kernels index with int).
 *  - Activations inside the model are CNHW: [C][B][H][W], so a convolution is one GEMM over the
 *    whole batch and batch-norm statistics of a channel are one contiguous row of B*H*W floats.
 *    The network input/output of the data pipeline is NCHW: use isb_nchw_to_cnhw.
 *  - Outputs come first, then inputs, then workspaces: fn(ocl, shape, out..., in..., work...).
 *  - Gradients are OVERWRITTEN (never accumulated) unless a function says otherwise; a residual
 *    branch point sums its two incoming gradients with isb_add.
 *  - Every function only enqueues on ocl->queue (no allocation after the first call builds the
 *    kernels, no host round-trip, no clFinish). Returns 0 or a negative isb_status with a message.
 *    (CLBlast's indirect GEMM kernels need a temporary buffer to pad or transpose operands: the
 *    layers pass one that lives in isb_ocl and grows on first use, so a steady-state step
 *    allocates nothing. The strided-batched routine has no such parameter in CLBlast 1.5.3.)
 *  - In-place (out == in) is allowed where a function says so. */
#ifndef ISB_NN_LAYERS_H
#define ISB_NN_LAYERS_H

#include <stdbool.h>
#include <stddef.h>
#include "ocl/ocl.h"
#include "sampling/score_rule.h"

typedef struct {
    cl_mem mem;  /* NULL = "not wanted" where a function allows it */
    size_t off;  /* in elements */
} isb_dslice;

static inline isb_dslice isb_ds(cl_mem mem, size_t off) {
    isb_dslice s = {mem, off};
    return s;
}
static inline isb_dslice isb_ds_at(isb_dslice s, size_t more) { return isb_ds(s.mem, s.off + more); }

/* ---- the products a step issues (for `isbench tune`, src/tune/) ------------------------------------
 * Every product the layers enqueue is one row-major CLBlast call: C = op(A) op(B) (+ beta C). With a
 * log attached, each call is also recorded: every distinct shape once, with how often it came. */
typedef struct {
    bool a_trans, b_trans;
    size_t m, n, k, lda, ldb, ldc;
    size_t batch, stride_a, stride_b, stride_c; /* batch 1: CLBlastSgemm; else CLBlastSgemmStridedBatched */
    long calls;
} isb_gemm_call;

#define ISB_GEMM_LOG_MAX 64
typedef struct {
    int n;
    long dropped; /* calls of shapes past ISB_GEMM_LOG_MAX (a network this large is not isbench's) */
    isb_gemm_call calls[ISB_GEMM_LOG_MAX];
} isb_gemm_log;

/* Process-wide: while attached, every product of every layer is recorded in `log`; NULL detaches. */
void isb_gemm_log_attach(isb_gemm_log *log);
/* One recorded product with alpha 1, beta 0 on a, b, c (offset 0), the way the layers issue it
 * (same temporary-buffer handling and CLBlast routine). */
int isb_gemm_run(isb_ocl *ocl, const isb_gemm_call *call, cl_mem a, cl_mem b, cl_mem c);

/* ---- convolution (im2col + CLBlast GEMM), no bias ------------------------------------------------
 * k = 3 (padding 1) or k = 1 (padding 0); stride 1 or 2; zero padding.
 * x: [cin][batch][h][w] (CNHW), w: [cout][cin][k][k] (PyTorch's layout), y: [cout][batch][ho][wo]. */
/* Kernel forms of the convolution's data-movement kernels, same results bit for bit; every
 * product is CLBlast's in both forms. GPU: one work-item per pixel for im2col/col2im (neighbouring
 * work-items touch neighbouring floats). CPU: one work-item per image row for im2col/col2im (a
 * strided copy / add with the padding split off): CPU runtimes (PoCL, Intel) vectorise the loop
 * inside a work-item, not work-items that each run a loop. AUTO (0, the default) picks by
 * CL_DEVICE_TYPE_CPU; the tests run both forms on every device. */
typedef enum { ISB_FORM_AUTO = 0, ISB_FORM_GPU, ISB_FORM_CPU } isb_kernel_form;

typedef struct {
    int batch, cin, h, w;   /* input */
    int cout, k, stride;
    isb_kernel_form form;   /* 0 = AUTO */
} isb_conv_shape;

int isb_conv_out_size(int in, int k, int stride);            /* (in + 2*(k/2) - k) / stride + 1 */
/* Checks k, stride and positive sizes; a clear error otherwise. Every conv function calls it. */
int isb_conv_check(const isb_conv_shape *s);
/* Floats of the `col` workspace: cin*k*k * batch*ho*wo (0 for a 1x1 stride-1 conv, which reads x
 * directly). One workspace of the largest layer's size can be shared by all layers. */
size_t isb_conv_col_floats(const isb_conv_shape *s);
/* Weight-gradient split: the reduction over batch*ho*wo columns runs as `chunks` GEMMs of about
 * batch*ho*wo/chunks columns each (one CLBlastSgemmStridedBatched into `partials`), then a kernel
 * sums the partials into dW. 1 chunk = a single GEMM straight into dW (no partials needed).
 * Default: about 1024 columns per chunk, 1..256 chunks, no split below 4096 columns (the fastest
 * measured on an H200; see isb_conv_default_chunks in layers.c). */
int isb_conv_default_chunks(const isb_conv_shape *s);
/* Floats of the `partials` workspace for `chunks` (0 = default): chunks*cout*cin*k*k (0 if 1
 * chunk), and at least cout*cin*k*k where the data gradient may run as a forward conv (below),
 * which keeps the flipped weights there. */
size_t isb_conv_partials_floats(const isb_conv_shape *s, int chunks);
/* Whether isb_conv2d_backward computes dx as the forward conv of dy with the flipped weights
 * (im2col(dy) + a forward-shaped GEMM) rather than w^T x dy + col2im: the CPU form, k = 3,
 * stride 1 and cout <= cin. The same dx up to rounding (another summation order). */
int isb_conv_dx_as_forward_conv(const isb_ocl *ocl, const isb_conv_shape *s);
/* The conv whose im2col of dy that path runs: s with cin and cout swapped (same k, stride, size). */
isb_conv_shape isb_conv_shape_of_dy(const isb_conv_shape *s);

/* y = conv(x, w). col: workspace of isb_conv_col_floats (ignored when that is 0). */
int isb_conv2d_forward(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice y, isb_dslice x, isb_dslice w,
                       isb_dslice col);
/* dx (dx.mem may be NULL: not computed, e.g. the stem's input) and dw, from dy, x and w.
 * col_holds_x: 1 when `col` still holds the forward's im2col(x) (a caller that keeps each conv's
 * columns), 0 to recompute it into `col`. Then reuses `col` for the column gradient (or im2col(dy),
 * isb_conv_dx_as_forward_conv), so col no longer holds im2col(x) afterwards. chunks: 0 = default,
 * 1 = single GEMM (for the benchmark), n = n chunks; partials: workspace of
 * isb_conv_partials_floats(s, chunks). */
int isb_conv2d_backward(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dx, isb_dslice dw, isb_dslice dy,
                        isb_dslice x, isb_dslice w, isb_dslice col, int col_holds_x, isb_dslice partials,
                        int chunks);
/* Only the weight gradient dw = dy x col^T, given col = im2col(x) (or x itself for 1x1 stride 1):
 * the part isb_conv2d_backward uses, exposed for the chunked-vs-single-GEMM benchmark. */
int isb_conv2d_weight_grad(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dw, isb_dslice dy, isb_dslice col,
                           isb_dslice partials, int chunks);
/* The two data-movement kernels on their own (col: [cin*k*k][batch*ho*wo]). col2im ADDS nothing:
 * it overwrites dx with the gathered sum of every column entry that reads each input pixel. */
int isb_im2col(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice col, isb_dslice x);
int isb_col2im(isb_ocl *ocl, const isb_conv_shape *s, isb_dslice dx, isb_dslice col);
/* Whether `form` means the CPU form on this device (AUTO: by device type). */
int isb_cpu_form(const isb_ocl *ocl, isb_kernel_form form);
/* Bytes of the CLBlast temporary buffer the layers' GEMMs hold on this context (0: none needed yet).
 * The layers keep it, per context, until isb_ocl_close. */
size_t isb_gemm_workspace_bytes(const isb_ocl *ocl);

/* ---- batch normalisation over CNHW: channel c is the row x[c][0 .. n) with n = batch*h*w ---------
 * Training: batch mean and biased variance normalise; running_mean/var (float [channels]) are updated
 * in place with PyTorch's rule r = (1-momentum)*r + momentum*stat, using the UNBIASED variance
 * (n/(n-1)) for running_var. The forward saves mean and 1/sqrt(var+eps) (float [channels] each) in
 * save_mean/save_invstd because the backward needs exactly those.
 * relu != 0 fuses y = max(bn(x), 0); the backward then takes the same y to mask dy.
 * y may equal x (in place) in the forward of eval mode only (training backward needs x). */
typedef struct {
    int channels;
    int n;            /* batch*h*w elements per channel */
    float momentum;   /* 0.1 */
    float eps;        /* 1e-5 */
    int relu;         /* fused ReLU after the affine transform */
    isb_kernel_form form; /* 0 = AUTO; the CPU form sums contiguous segments per work-item */
} isb_bn_shape;

int isb_bn_forward_train(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice save_mean,
                         isb_dslice save_invstd, isb_dslice running_mean, isb_dslice running_var, isb_dslice x,
                         isb_dslice gamma, isb_dslice beta);
/* The same with a residual added before the (optional) ReLU, in one pass: y = act(bn(x) + res),
 * the end of a residual block (forward of bn + isb_add fused). y may equal res. The backward is
 * isb_bn_backward with relu = 0 on dy already masked by y > 0 (isb_relu_backward). */
int isb_bn_forward_train_add(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice save_mean,
                             isb_dslice save_invstd, isb_dslice running_mean, isb_dslice running_var, isb_dslice x,
                             isb_dslice gamma, isb_dslice beta, isb_dslice res);
/* Evaluation mode: normalises with running_mean/running_var, updates nothing. */
int isb_bn_forward_eval(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice y, isb_dslice x, isb_dslice gamma,
                        isb_dslice beta, isb_dslice running_mean, isb_dslice running_var);
/* dx, dgamma, dbeta (overwritten) from dy and the forward's x, y (used only if s->relu), gamma,
 * save_mean, save_invstd. dx may equal dy (in place). */
int isb_bn_backward(isb_ocl *ocl, const isb_bn_shape *s, isb_dslice dx, isb_dslice dgamma, isb_dslice dbeta,
                    isb_dslice dy, isb_dslice x, isb_dslice y, isb_dslice gamma, isb_dslice save_mean,
                    isb_dslice save_invstd);

/* ---- elementwise ----------------------------------------------------------------------------- */
/* y = max(x, 0); in place allowed. */
int isb_relu_forward(isb_ocl *ocl, int n, isb_dslice y, isb_dslice x);
/* dx = y > 0 ? dy : 0, the mask taken from the forward's OUTPUT y; in place (dx == dy) allowed. */
int isb_relu_backward(isb_ocl *ocl, int n, isb_dslice dx, isb_dslice dy, isb_dslice y);
/* y = a + b, or max(a + b, 0) if relu (residual add, fused add+ReLU). y may equal a or b.
 * Backward of the add is the identity: both inputs receive dy (after isb_relu_backward if fused);
 * the same call sums two gradients at a branch point. */
int isb_add(isb_ocl *ocl, int n, isb_dslice y, isb_dslice a, isb_dslice b, int relu);

/* ---- layout ------------------------------------------------------------------------------------ */
/* src [batch][c][hw] -> dst [c][batch][hw], and back. Not in place. */
int isb_nchw_to_cnhw(isb_ocl *ocl, int batch, int c, int hw, isb_dslice dst, isb_dslice src);
int isb_cnhw_to_nchw(isb_ocl *ocl, int batch, int c, int hw, isb_dslice dst, isb_dslice src);

/* ---- global average pool: x [c][batch][hw] (CNHW) -> y [batch][c] (the linear layer's input) ----- */
int isb_avgpool_forward(isb_ocl *ocl, int batch, int c, int hw, isb_dslice y, isb_dslice x);
/* dx[c][b][p] = dy[b][c] / hw */
int isb_avgpool_backward(isb_ocl *ocl, int batch, int c, int hw, isb_dslice dx, isb_dslice dy);

/* ---- linear: y[batch][out] = x[batch][in] w^T + b, w [out][in], b [out] (CLBlast) ----------------- */
int isb_linear_forward(isb_ocl *ocl, int batch, int in, int out, isb_dslice y, isb_dslice x, isb_dslice w,
                       isb_dslice b);
/* dx (dx.mem may be NULL: skipped) [batch][in], dw [out][in], db [out], all overwritten. */
int isb_linear_backward(isb_ocl *ocl, int batch, int in, int out, isb_dslice dx, isb_dslice dw, isb_dslice db,
                        isb_dslice dy, isb_dslice x, isb_dslice w);

/* ---- softmax cross-entropy (+ fused score update and non-finite flag) ---------------------------
 * Per row r: L_r = logsumexp(z_r) - z_r[label_r] (max-subtracted, stable), unweighted;
 * correct_r = (first argmax of z_r) == label_r; batch loss = sum_r w_r L_r / batch (w = 1 if no
 * weights); dlogits_r = w_r (softmax(z_r) - onehot(label_r)) / batch.
 * Any output whose .mem is NULL is skipped. One work-group, grid-stride over rows (batch <= a few
 * thousand, classes small): the batch-loss reduction then needs no second pass. */
typedef struct {
    int batch, classes;
    isb_dslice logits;     /* float [batch][classes] */
    isb_dslice labels;     /* int [batch], each in [0, classes) (checked on the device: out-of-range
                              labels give L = NaN, so they trip the non-finite flag) */
    isb_dslice weights;    /* float [batch], mem NULL = all 1 */
    isb_dslice dlogits;    /* out float [batch][classes] (may alias logits) */
    isb_dslice losses;     /* out float [batch]: L_r */
    isb_dslice correct;    /* out int [batch] */
    isb_dslice batch_loss; /* out float [1] */
    /* Fused score update by the score rule (sampling/score_rule.h, cl/score_rule.cl) with
     * i = indices[r] (indices.off = the batch's offset into the epoch's index list). An index
     * repeated within the batch gets the rows' updates in row order (deterministic, as
     * isb_sref_score_update). Uses 8 bytes of local memory per row: a batch beyond the device's
     * local memory is refused with a clear error. */
    isb_score_rule score_rule;
    cl_mem scores;         /* float [N] */
    isb_dslice indices;    /* int [batch] */
    /* If any L_r is NaN/Inf: atomic_min(nonfinite_flag[0], step). The caller initialises the flag
     * to INT_MAX (isb_loss_flag_reset) and reads it at phase boundaries. mem NULL = no check. */
    cl_mem nonfinite_flag; /* int [1] */
    int step;
} isb_loss_args;

int isb_softmax_xent(isb_ocl *ocl, const isb_loss_args *a);
/* Writes INT_MAX into flag[0] (enqueued). */
int isb_loss_flag_reset(isb_ocl *ocl, cl_mem flag);

/* ---- SGD, PyTorch semantics: d = g + wd*w; v = mu*v + d; w -= lr*v over n contiguous floats ------ */
int isb_sgd_update(isb_ocl *ocl, int n, isb_dslice w, isb_dslice g, isb_dslice v, float lr, float mu, float wd);

#endif
