/* Plain-C reference of the layers (see ref/nn.h): written for clarity, not speed; sums in
 * double so finite-difference checks of the backward passes are meaningful. */
#include "ref/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void isb_ref_conv2d_forward(const isb_conv_shape *s, float *y, const float *x, const float *w) {
    int ho = isb_conv_out_size(s->h, s->k, s->stride), wo = isb_conv_out_size(s->w, s->k, s->stride);
    int k = s->k, pad = k / 2;
    for (int co = 0; co < s->cout; co++)
        for (int b = 0; b < s->batch; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double acc = 0;
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s->stride - pad + ky, ix = ox * s->stride - pad + kx;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                acc += (double)w[((co * s->cin + ci) * k + ky) * k + kx] *
                                       x[((ci * s->batch + b) * s->h + iy) * s->w + ix];
                            }
                    y[((co * s->batch + b) * ho + oy) * wo + ox] = (float)acc;
                }
}

void isb_ref_conv2d_backward(const isb_conv_shape *s, float *dx, float *dw, const float *dy, const float *x,
                             const float *w) {
    int ho = isb_conv_out_size(s->h, s->k, s->stride), wo = isb_conv_out_size(s->w, s->k, s->stride);
    int k = s->k, pad = k / 2;
    size_t nx = (size_t)s->cin * s->batch * s->h * s->w, nw = (size_t)s->cout * s->cin * k * k;
    double *gx = calloc(nx, sizeof *gx), *gw = calloc(nw, sizeof *gw);
    if (!gx || !gw) abort(); /* reference code for tests: tiny sizes */
    for (int co = 0; co < s->cout; co++)
        for (int b = 0; b < s->batch; b++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    double g = dy[((co * s->batch + b) * ho + oy) * wo + ox];
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s->stride - pad + ky, ix = ox * s->stride - pad + kx;
                                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w) continue;
                                size_t xi = ((size_t)(ci * s->batch + b) * s->h + iy) * s->w + ix;
                                size_t wi = ((size_t)(co * s->cin + ci) * k + ky) * k + kx;
                                gw[wi] += g * x[xi];
                                gx[xi] += g * w[wi];
                            }
                }
    for (size_t i = 0; i < nw; i++) dw[i] = (float)gw[i];
    if (dx)
        for (size_t i = 0; i < nx; i++) dx[i] = (float)gx[i];
    free(gx);
    free(gw);
}

/* Visits every (column entry, input pixel) pair of im2col: `gather` copies x into col, otherwise
 * the entry is added into dx (the adjoint). Entries reading padding are 0 / contribute nothing. */
static void im2col_visit(const isb_conv_shape *s, float *col, float *x, int gather) {
    int ho = isb_conv_out_size(s->h, s->k, s->stride), wo = isb_conv_out_size(s->w, s->k, s->stride);
    int k = s->k, pad = k / 2;
    size_t ncols = (size_t)s->batch * ho * wo;
    if (!gather) memset(x, 0, (size_t)s->cin * s->batch * s->h * s->w * sizeof *x);
    for (int ci = 0; ci < s->cin; ci++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int b = 0; b < s->batch; b++)
                    for (int oy = 0; oy < ho; oy++)
                        for (int ox = 0; ox < wo; ox++) {
                            size_t c = ((size_t)(ci * k + ky) * k + kx) * ncols + ((size_t)b * ho + oy) * wo + ox;
                            int iy = oy * s->stride - pad + ky, ix = ox * s->stride - pad + kx;
                            int inside = iy >= 0 && iy < s->h && ix >= 0 && ix < s->w;
                            size_t xi = inside ? ((size_t)(ci * s->batch + b) * s->h + iy) * s->w + ix : 0;
                            if (gather) col[c] = inside ? x[xi] : 0.0f;
                            else if (inside) x[xi] += col[c];
                        }
}

void isb_ref_im2col(const isb_conv_shape *s, float *col, const float *x) { im2col_visit(s, col, (float *)x, 1); }
void isb_ref_col2im(const isb_conv_shape *s, float *dx, const float *col) { im2col_visit(s, (float *)col, dx, 0); }

/* mean and biased variance of one channel row */
static void row_stats(const float *row, int n, double *mean, double *var) {
    double m = 0, v = 0;
    for (int i = 0; i < n; i++) m += row[i];
    m /= n;
    for (int i = 0; i < n; i++) v += (row[i] - m) * (row[i] - m);
    *mean = m;
    *var = v / n;
}

static float bn_affine(const isb_bn_shape *s, float x, double mean, double invstd, float gamma, float beta) {
    double v = gamma * (x - mean) * invstd + beta;
    return (float)(s->relu && v < 0 ? 0 : v);
}

void isb_ref_bn_forward_train(const isb_bn_shape *s, float *y, float *save_mean, float *save_invstd,
                              float *running_mean, float *running_var, const float *x, const float *gamma,
                              const float *beta) {
    for (int c = 0; c < s->channels; c++) {
        const float *row = x + (size_t)c * s->n;
        double mean, var;
        row_stats(row, s->n, &mean, &var);
        double invstd = 1.0 / sqrt(var + s->eps);
        double unbiased = s->n > 1 ? var * s->n / (s->n - 1) : var;
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        running_mean[c] = (float)((1 - s->momentum) * running_mean[c] + s->momentum * mean);
        running_var[c] = (float)((1 - s->momentum) * running_var[c] + s->momentum * unbiased);
        for (int i = 0; i < s->n; i++) y[(size_t)c * s->n + i] = bn_affine(s, row[i], mean, invstd, gamma[c], beta[c]);
    }
}

void isb_ref_bn_forward_eval(const isb_bn_shape *s, float *y, const float *x, const float *gamma, const float *beta,
                             const float *running_mean, const float *running_var) {
    for (int c = 0; c < s->channels; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + s->eps);
        for (int i = 0; i < s->n; i++) {
            size_t j = (size_t)c * s->n + i;
            y[j] = bn_affine(s, x[j], running_mean[c], invstd, gamma[c], beta[c]);
        }
    }
}

void isb_ref_bn_backward(const isb_bn_shape *s, float *dx, float *dgamma, float *dbeta, const float *dy,
                         const float *x, const float *y, const float *gamma, const float *save_mean,
                         const float *save_invstd) {
    int n = s->n;
    for (int c = 0; c < s->channels; c++) {
        size_t base = (size_t)c * n;
        double m = save_mean[c], is = save_invstd[c], db = 0, dg = 0;
        for (int i = 0; i < n; i++) {
            double g = (s->relu && !(y[base + i] > 0)) ? 0 : dy[base + i];
            db += g;
            dg += g * (x[base + i] - m) * is;
        }
        for (int i = 0; i < n; i++) {
            double g = (s->relu && !(y[base + i] > 0)) ? 0 : dy[base + i];
            double xhat = (x[base + i] - m) * is;
            dx[base + i] = (float)(gamma[c] * is * (g - db / n - xhat * dg / n));
        }
        dbeta[c] = (float)db;
        dgamma[c] = (float)dg;
    }
}

void isb_ref_relu_forward(int n, float *y, const float *x) {
    for (int i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}

void isb_ref_relu_backward(int n, float *dx, const float *dy, const float *y) {
    for (int i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
}

void isb_ref_add(int n, float *y, const float *a, const float *b, int relu) {
    for (int i = 0; i < n; i++) {
        float v = a[i] + b[i];
        y[i] = relu && v < 0 ? 0 : v;
    }
}

void isb_ref_nchw_to_cnhw(int batch, int c, int hw, float *dst, const float *src) {
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++)
            memcpy(dst + ((size_t)ch * batch + b) * hw, src + ((size_t)b * c + ch) * hw, (size_t)hw * sizeof *dst);
}

void isb_ref_cnhw_to_nchw(int batch, int c, int hw, float *dst, const float *src) {
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++)
            memcpy(dst + ((size_t)b * c + ch) * hw, src + ((size_t)ch * batch + b) * hw, (size_t)hw * sizeof *dst);
}

void isb_ref_avgpool_forward(int batch, int c, int hw, float *y, const float *x) {
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++) {
            double acc = 0;
            for (int p = 0; p < hw; p++) acc += x[((size_t)ch * batch + b) * hw + p];
            y[b * c + ch] = (float)(acc / hw);
        }
}

void isb_ref_avgpool_backward(int batch, int c, int hw, float *dx, const float *dy) {
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++) dx[((size_t)ch * batch + b) * hw + p] = dy[b * c + ch] / hw;
}

void isb_ref_linear_forward(int batch, int in, int out, float *y, const float *x, const float *w, const float *b) {
    for (int r = 0; r < batch; r++)
        for (int o = 0; o < out; o++) {
            double acc = b[o];
            for (int i = 0; i < in; i++) acc += (double)x[r * in + i] * w[o * in + i];
            y[r * out + o] = (float)acc;
        }
}

void isb_ref_linear_backward(int batch, int in, int out, float *dx, float *dw, float *db, const float *dy,
                             const float *x, const float *w) {
    if (dx)
        for (int r = 0; r < batch; r++)
            for (int i = 0; i < in; i++) {
                double acc = 0;
                for (int o = 0; o < out; o++) acc += (double)dy[r * out + o] * w[o * in + i];
                dx[r * in + i] = (float)acc;
            }
    for (int o = 0; o < out; o++) {
        double gb = 0;
        for (int r = 0; r < batch; r++) gb += dy[r * out + o];
        db[o] = (float)gb;
        for (int i = 0; i < in; i++) {
            double acc = 0;
            for (int r = 0; r < batch; r++) acc += (double)dy[r * out + o] * x[r * in + i];
            dw[o * in + i] = (float)acc;
        }
    }
}

double isb_ref_softmax_xent(int batch, int classes, float *dlogits, float *losses, int *correct, const float *logits,
                            const int *labels, const float *weights) {
    double total = 0;
    for (int r = 0; r < batch; r++) {
        const float *z = logits + (size_t)r * classes;
        int label = labels[r], arg = 0;
        for (int j = 1; j < classes; j++)
            if (z[j] > z[arg]) arg = j;
        double zmax = z[arg], sum = 0;
        for (int j = 0; j < classes; j++) sum += exp(z[j] - zmax);
        int label_ok = label >= 0 && label < classes;
        double loss = label_ok ? log(sum) + zmax - z[label] : NAN;
        double w = weights ? weights[r] : 1.0;
        if (losses) losses[r] = (float)loss;
        if (correct) correct[r] = label_ok && arg == label;
        if (dlogits)
            for (int j = 0; j < classes; j++)
                dlogits[(size_t)r * classes + j] = (float)(w / batch * (exp(z[j] - zmax) / sum - (j == label)));
        total += w * loss;
    }
    return total / batch;
}

void isb_ref_sgd_update(int n, float *w, const float *g, float *v, float lr, float mu, float wd) {
    for (int i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        v[i] = mu * v[i] + d;
        w[i] -= lr * v[i];
    }
}
