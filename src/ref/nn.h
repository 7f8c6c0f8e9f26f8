/* Plain-C references, all in this room: every layer in src/nn/layers.h (ref/nn.c: same shapes,
 * layouts (CNHW activations) and argument order, host pointers instead of device slices, double
 * accumulation) and the whole ResNet18 built from them (ref/resnet18.c). The device ops and
 * model are tested against these, and these against central finite differences of their own
 * forwards. */
#ifndef ISB_REF_NN_H
#define ISB_REF_NN_H

#include "nn/layers.h"
#include "nn/resnet18.h"

/* y [cout][batch][ho][wo] = conv(x [cin][batch][h][w], w [cout][cin][k][k]) */
void isb_ref_conv2d_forward(const isb_conv_shape *s, float *y, const float *x, const float *w);
/* dx (may be NULL) and dw, overwritten */
void isb_ref_conv2d_backward(const isb_conv_shape *s, float *dx, float *dw, const float *dy, const float *x,
                             const float *w);

/* col [cin*k*k][batch*ho*wo] = im2col(x), and the adjoint col2im (sums into each input pixel). */
void isb_ref_im2col(const isb_conv_shape *s, float *col, const float *x);
void isb_ref_col2im(const isb_conv_shape *s, float *dx, const float *col);

void isb_ref_bn_forward_train(const isb_bn_shape *s, float *y, float *save_mean, float *save_invstd,
                              float *running_mean, float *running_var, const float *x, const float *gamma,
                              const float *beta);
void isb_ref_bn_forward_eval(const isb_bn_shape *s, float *y, const float *x, const float *gamma, const float *beta,
                             const float *running_mean, const float *running_var);
void isb_ref_bn_backward(const isb_bn_shape *s, float *dx, float *dgamma, float *dbeta, const float *dy,
                         const float *x, const float *y, const float *gamma, const float *save_mean,
                         const float *save_invstd);

void isb_ref_relu_forward(int n, float *y, const float *x);
void isb_ref_relu_backward(int n, float *dx, const float *dy, const float *y);
void isb_ref_add(int n, float *y, const float *a, const float *b, int relu);

void isb_ref_nchw_to_cnhw(int batch, int c, int hw, float *dst, const float *src);
void isb_ref_cnhw_to_nchw(int batch, int c, int hw, float *dst, const float *src);

void isb_ref_avgpool_forward(int batch, int c, int hw, float *y, const float *x);
void isb_ref_avgpool_backward(int batch, int c, int hw, float *dx, const float *dy);

void isb_ref_linear_forward(int batch, int in, int out, float *y, const float *x, const float *w, const float *b);
void isb_ref_linear_backward(int batch, int in, int out, float *dx, float *dw, float *db, const float *dy,
                             const float *x, const float *w);

/* Softmax cross-entropy as isb_softmax_xent; any output pointer may be NULL; weights NULL = all 1.
 * Returns the batch loss sum_r w_r L_r / batch. */
double isb_ref_softmax_xent(int batch, int classes, float *dlogits, float *losses, int *correct, const float *logits,
                            const int *labels, const float *weights);
/* The fused score update's reference is isb_sref_score_update (ref/sampling.h). */

void isb_ref_sgd_update(int n, float *w, const float *g, float *v, float lr, float mu, float wd);

/* ---- the whole model (NCHW input, CNHW inside like the device) ---------------------------------
 * Forward in training mode (batch statistics; running stats updated in `stats` if non-NULL) or eval
 * mode (running stats), the loss of isb_softmax_xent (weights NULL = 1), and if grads != NULL the
 * backward into grads [n_params]. logits out [batch][classes] (may be NULL). Returns the batch loss
 * (NaN on allocation failure). Slow: for tests at small widths. */
double isb_resnet18_reference(const isb_resnet18_plan *p, int batch, const float *x_nchw, const int *labels,
                              const float *weights, const float *params, float *stats, int train, float *logits,
                              float *grads);

#endif
