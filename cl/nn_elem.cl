/* Elementwise and layout kernels of the layers (src/nn/layers.c): ReLU and its output-masked
 * backward, residual add (+ReLU), NCHW <-> CNHW transposes, global average pool, the linear layer's
 * bias broadcast, the column sum (bias gradient, conv weight-gradient chunks) and the SGD update.
 * One work-item per output element; offsets in elements. */

__kernel void isb_relu_fwd(const int n, __global float *y, const int y_off, __global const float *x, const int x_off) {
    int i = get_global_id(0);
    if (i < n) y[y_off + i] = (x[x_off + i] < 0.0f ? 0.0f : x[x_off + i]);
}

/* dx = y > 0 ? dy : 0 (the mask from the forward's output; dx may alias dy). */
__kernel void isb_relu_bwd(const int n, __global float *dx, const int dx_off, __global const float *dy, const int dy_off,
                           __global const float *y, const int y_off) {
    int i = get_global_id(0);
    if (i < n) dx[dx_off + i] = y[y_off + i] > 0.0f ? dy[dy_off + i] : 0.0f;
}

__kernel void isb_add(const int n, const int relu, __global float *y, const int y_off,
                      __global const float *a, const int a_off, __global const float *b, const int b_off) {
    int i = get_global_id(0);
    if (i >= n) return;
    float v = a[a_off + i] + b[b_off + i];
    y[y_off + i] = relu ? (v < 0.0f ? 0.0f : v) : v;
}

/* dst[i1][i0][p] = src[i0][i1][p] for src [n0][n1][hw]: NCHW -> CNHW with (n0, n1) = (B, C) and
 * CNHW -> NCHW with (n0, n1) = (C, B). */
__kernel void isb_swap_outer(const int n0, const int n1, const int hw, __global float *dst, const int dst_off,
                             __global const float *src, const int src_off) {
    int gid = get_global_id(0);
    if (gid >= n0 * n1 * hw) return;
    /* gid indexes dst [n1][n0][hw]; explicit remainders, see the note in nn_conv.cl */
    int t = gid / hw, p = gid - t * hw;
    int i1 = t / n0, i0 = t - i1 * n0;
    dst[dst_off + gid] = src[src_off + (i0 * n1 + i1) * hw + p];
}

/* y[b][c] = mean_p x[c][b][p] */
__kernel void isb_avgpool_fwd(const int batch, const int c, const int hw, __global float *y, const int y_off,
                              __global const float *x, const int x_off) {
    int gid = get_global_id(0);
    if (gid >= batch * c) return;
    int b = gid / c, ch = gid - b * c;
    __global const float *row = x + x_off + ((size_t)ch * batch + b) * hw;
    float acc = 0.0f;
    for (int p = 0; p < hw; p++) acc += row[p];
    y[y_off + gid] = acc / hw;
}

/* dx[c][b][p] = dy[b][c] / hw */
__kernel void isb_avgpool_bwd(const int batch, const int c, const int hw, __global float *dx, const int dx_off,
                              __global const float *dy, const int dy_off) {
    int gid = get_global_id(0);
    if (gid >= batch * c * hw) return;
    int t = gid / hw, ch = t / batch, b = t - ch * batch;
    dx[dx_off + gid] = dy[dy_off + b * c + ch] / hw;
}

/* y[r][o] = bias[o] (the GEMM then adds x w^T with beta = 1). */
__kernel void isb_bias_broadcast(const int rows, const int out, __global float *y, const int y_off,
                                 __global const float *bias, const int bias_off) {
    int gid = get_global_id(0);
    if (gid < rows * out) y[y_off + gid] = bias[bias_off + gid % out];
}

/* out[i] = sum_r in[r*cols + i] for i < cols, rows summed in order: the bias gradient (rows = batch)
 * and the chunked conv weight gradient's final reduction (rows = chunks). */
__kernel void isb_column_sum(const int rows, const int cols, __global float *out, const int out_off,
                             __global const float *in, const int in_off) {
    int i = get_global_id(0);
    if (i >= cols) return;
    float acc = 0.0f;
    for (int r = 0; r < rows; r++) acc += in[in_off + r * cols + i];
    out[out_off + i] = acc;
}

/* PyTorch SGD with momentum and weight decay: d = g + wd*w; v = mu*v + d; w -= lr*v. */
__kernel void isb_sgd(const int n, const float lr, const float mu, const float wd,
                      __global float *w, const int w_off, __global const float *g, const int g_off,
                      __global float *v, const int v_off) {
    int i = get_global_id(0);
    if (i >= n) return;
    float wi = w[w_off + i];
    float vi = mu * v[v_off + i] + g[g_off + i] + wd * wi;
    v[v_off + i] = vi;
    w[w_off + i] = wi - lr * vi;
}
