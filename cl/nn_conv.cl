/* Convolution data movement for im2col + GEMM (src/nn/layers.c): im2col, its gather-form adjoint
 * col2im (each input pixel sums the column entries that read it: no atomics). The sum of the
 * chunked weight-gradient partials is nn_elem.cl's isb_column_sum. Tensors are CNHW; pad = k/2.
 * Offsets are in elements. */

/* col[(ci*k + ky)*k + kx][(b*ho + oy)*wo + ox] = x[ci][b][oy*stride - pad + ky][ox*stride - pad + kx]
 * (0 outside the image). One work-item per (ci, output pixel) writes its k*k rows: neighbouring
 * work-items write neighbouring columns (coalesced), and the index arithmetic is paid once per k*k
 * entries rather than once per entry. */
__kernel void isb_im2col(const int cin, const int batch, const int h, const int w, const int k,
                         const int stride, const int ho, const int wo,
                         __global float *col, const int col_off, __global const float *x, const int x_off) {
    int ncols = batch * ho * wo;
    int gid = get_global_id(0);
    if (gid >= cin * ncols) return;
    /* q = a / n; r = a - q * n rather than %: Oclgrind 21.10 cannot simulate the `freeze` LLVM
     * emits for a paired div/rem, and the explicit form is as fast */
    int ci = gid / ncols, j = gid - ci * ncols;
    int b = j / (ho * wo), p = j - b * ho * wo;
    int oy = p / wo, ox = p - oy * wo;
    int pad = k / 2;
    __global const float *plane = x + x_off + (size_t)(ci * batch + b) * h * w;
    __global float *out = col + col_off + (size_t)ci * k * k * ncols + j;
    for (int ky = 0; ky < k; ky++) {
        int iy = oy * stride - pad + ky;
        for (int kx = 0; kx < k; kx++) {
            int ix = ox * stride - pad + kx;
            float v = 0.0f;
            if (iy >= 0 && iy < h && ix >= 0 && ix < w) v = plane[iy * w + ix];
            out[(size_t)(ky * k + kx) * ncols] = v;
        }
    }
}

/* dx[ci][b][iy][ix] = sum over (ky, kx) with oy = (iy + pad - ky) / stride integral and inside the
 * output of col[(ci*k + ky)*k + kx][(b*ho + oy)*wo + ox]. One work-item per input pixel. */
__kernel void isb_col2im(const int cin, const int batch, const int h, const int w, const int k,
                         const int stride, const int ho, const int wo,
                         __global float *dx, const int dx_off, __global const float *col, const int col_off) {
    int gid = get_global_id(0);
    if (gid >= cin * batch * h * w) return;
    int t = gid / w, ix = gid - t * w;
    int t2 = t / h, iy = t - t2 * h;
    int ci = t2 / batch, b = t2 - ci * batch;
    int pad = k / 2, ncols = batch * ho * wo;
    float acc = 0.0f;
    for (int ky = 0; ky < k; ky++) {
        int ty = iy + pad - ky, oy = ty / stride;
        if (ty < 0 || oy * stride != ty || oy >= ho) continue;
        for (int kx = 0; kx < k; kx++) {
            int tx = ix + pad - kx, ox = tx / stride;
            if (tx < 0 || ox * stride != tx || ox >= wo) continue;
            acc += col[col_off + ((ci * k + ky) * k + kx) * ncols + (b * ho + oy) * wo + ox];
        }
    }
    dx[dx_off + gid] = acc;
}

/* wt[ci][co][kk-1-t] = w[co][ci][t] (kk = k*k): the weights with the channels swapped and the kernel
 * rotated by 180 degrees, so that the data gradient of a stride-1 conv is the forward conv of dy
 * with them (layers.c, dx_as_forward_conv). One work-item per weight. */
__kernel void isb_conv_weight_flip(const int cout, const int cin, const int kk,
                                   __global float *wt, const int wt_off, __global const float *w, const int w_off) {
    int gid = get_global_id(0);
    if (gid >= cout * cin * kk) return;
    int co = gid / (cin * kk), r = gid - co * cin * kk;
    int ci = r / kk, t = r - ci * kk;
    wt[wt_off + (ci * cout + co) * kk + (kk - 1 - t)] = w[w_off + gid];
}

/* The same two maps in row form, for CPU runtimes: PoCL and Intel's CPU runtime vectorise the loop
 * INSIDE a work-item, not work-items that each run a loop, so here one work-item walks a whole
 * image row, and the padding is split off so that the inner loop is a plain strided copy / add.
 * Same results bit for bit (im2col copies; col2im adds the same terms in the same (ky, kx) order,
 * starting from 0). */

/* The output columns ox in [*lo, *hi) whose input column ix = ox*stride - pad + kx is inside
 * [0, w); outside it the entries are the zero padding. */
static void isb_valid_columns(int wo, int w, int stride, int pad, int kx, int *lo, int *hi) {
    int l = 0, h = wo;
    while (l < wo && l * stride - pad + kx < 0) l++;
    while (h > l && (h - 1) * stride - pad + kx >= w) h--;
    *lo = l;
    *hi = h;
}

/* One work-item per (column-matrix row r = (ci*k + ky)*k + kx, image b, output row oy): the wo
 * entries col[r][(b*ho + oy)*wo + 0 .. wo). */
__kernel void isb_im2col_rows(const int cin, const int batch, const int h, const int w, const int k,
                              const int stride, const int ho, const int wo,
                              __global float *col, const int col_off, __global const float *x, const int x_off) {
    int lines = batch * ho;
    int gid = get_global_id(0);
    if (gid >= cin * k * k * lines) return;
    int r = gid / lines, t = gid - r * lines;
    int ci = r / (k * k), kk = r - ci * k * k;
    int ky = kk / k, kx = kk - ky * k;
    int b = t / ho, oy = t - b * ho;
    int pad = k / 2, iy = oy * stride - pad + ky;
    __global float *out = col + col_off + (size_t)r * lines * wo + (size_t)t * wo;
    int lo = wo, hi = wo; /* an input row outside the image: all padding */
    if (iy >= 0 && iy < h) isb_valid_columns(wo, w, stride, pad, kx, &lo, &hi);
    for (int ox = 0; ox < lo; ox++) out[ox] = 0.0f;
    __global const float *in = x + x_off + ((size_t)(ci * batch + b) * h + iy) * w + kx - pad;
    if (stride == 1) /* its own loop: a contiguous copy the compiler vectorises */
        for (int ox = lo; ox < hi; ox++) out[ox] = in[ox];
    else
        for (int ox = lo; ox < hi; ox++) out[ox] = in[ox * stride];
    for (int ox = hi; ox < wo; ox++) out[ox] = 0.0f;
}

/* One work-item per input row (ci, b, iy): dx[ci][b][iy][0 .. w). */
__kernel void isb_col2im_rows(const int cin, const int batch, const int h, const int w, const int k,
                              const int stride, const int ho, const int wo,
                              __global float *dx, const int dx_off, __global const float *col, const int col_off) {
    int gid = get_global_id(0);
    if (gid >= cin * batch * h) return;
    int t = gid / h, iy = gid - t * h;
    int ci = t / batch, b = t - ci * batch;
    int pad = k / 2, ncols = batch * ho * wo;
    __global float *out = dx + dx_off + (size_t)gid * w;
    for (int ix = 0; ix < w; ix++) out[ix] = 0.0f;
    for (int ky = 0; ky < k; ky++) {
        int ty = iy + pad - ky, oy = ty / stride;
        if (ty < 0 || oy * stride != ty || oy >= ho) continue;
        for (int kx = 0; kx < k; kx++) {
            __global const float *src = col + col_off + (size_t)((ci * k + ky) * k + kx) * ncols + (size_t)(b * ho + oy) * wo;
            int lo, hi;
            isb_valid_columns(wo, w, stride, pad, kx, &lo, &hi);
            __global float *dst = out + kx - pad;
            if (stride == 1) /* contiguous: vectorised */
                for (int ox = lo; ox < hi; ox++) dst[ox] += src[ox];
            else
                for (int ox = lo; ox < hi; ox++) dst[ox * stride] += src[ox];
        }
    }
}
