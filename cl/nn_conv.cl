/* Convolution data movement for im2col + GEMM (src/nn/layers.c): im2col, its gather-form adjoint
 * col2im (each input pixel sums the column entries that read it: no atomics), and the sum of the
 * chunked weight-gradient partials. Tensors are CNHW; pad = k/2. Offsets are in elements. */

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
            for (int ox = lo; ox < hi; ox++) dst[ox * stride] += src[ox];
        }
    }
}

/* The products of the CPU form (layers.h: isb_kernel_form), in float8 row vectors: a work-item
 * keeps its accumulators in vector registers and its inner loop runs over contiguous floats, which
 * is what CPU runtimes compile to SIMD code. Each output is one sum in a fixed order (results are
 * reproducible run to run). Offsets in elements; beta = 0 (outputs are overwritten). */

/* C[i][j] = sum_p A(i, p) B[p][j] for C [m][n] (row stride n), B [kdim][n] (row stride n) and
 * A(i, p) = a[i*a_row + p*a_col]: the conv forward (A = w, a_row = kdim, a_col = 1) and the
 * column gradient (A = w^T: a_row = 1, a_col = m_w). One work-item per 8 rows x 8 columns, eight
 * named float8 accumulators (PoCL keeps named ones in registers but an array of them in memory:
 * 1.4x slower); the row groups of one column strip are neighbouring work-items, so the strip of B
 * is read from memory once. Rows past m repeat the last row and are not stored. */
#define ISB_NN_ROW(r) __global const float *a##r = a + a_off + (size_t)min(i0 + r, m - 1) * a_row
#define ISB_NN_STORE(r, v) if (i0 + r < m) vstore8(v, 0, out + (size_t)r * n)
__kernel void isb_gemm_nn(const int m, const int n, const int kdim,
                          __global float *c, const int c_off,
                          __global const float *a, const int a_off, const int a_row, const int a_col,
                          __global const float *b, const int b_off) {
    int groups = (m + 7) / 8;
    int gid = get_global_id(0);
    if (gid >= groups * ((n + 7) / 8)) return;
    int strip = gid / groups, i0 = (gid - strip * groups) * 8, j0 = strip * 8;
    ISB_NN_ROW(0); ISB_NN_ROW(1); ISB_NN_ROW(2); ISB_NN_ROW(3);
    ISB_NN_ROW(4); ISB_NN_ROW(5); ISB_NN_ROW(6); ISB_NN_ROW(7);
    __global const float *bcol = b + b_off + j0;
    __global float *out = c + c_off + (size_t)i0 * n + j0;
    if (j0 + 8 <= n) {
        float8 c0 = 0.0f, c1 = 0.0f, c2 = 0.0f, c3 = 0.0f, c4 = 0.0f, c5 = 0.0f, c6 = 0.0f, c7 = 0.0f;
        for (int p = 0; p < kdim; p++) {
            float8 bv = vload8(0, bcol + (size_t)p * n);
            size_t pa = (size_t)p * a_col;
            c0 = mad((float8)(a0[pa]), bv, c0); c1 = mad((float8)(a1[pa]), bv, c1);
            c2 = mad((float8)(a2[pa]), bv, c2); c3 = mad((float8)(a3[pa]), bv, c3);
            c4 = mad((float8)(a4[pa]), bv, c4); c5 = mad((float8)(a5[pa]), bv, c5);
            c6 = mad((float8)(a6[pa]), bv, c6); c7 = mad((float8)(a7[pa]), bv, c7);
        }
        ISB_NN_STORE(0, c0); ISB_NN_STORE(1, c1); ISB_NN_STORE(2, c2); ISB_NN_STORE(3, c3);
        ISB_NN_STORE(4, c4); ISB_NN_STORE(5, c5); ISB_NN_STORE(6, c6); ISB_NN_STORE(7, c7);
        return;
    }
    for (int i = i0; i < m && i < i0 + 8; i++) /* the last, partial strip: entry by entry */
        for (int j = j0; j < n; j++) {
            float acc = 0.0f;
            for (int p = 0; p < kdim; p++) acc = mad(a[a_off + (size_t)i * a_row + (size_t)p * a_col], b[b_off + (size_t)p * n + j], acc);
            c[c_off + (size_t)i * n + j] = acc;
        }
}

/* Lane sum of a float8 in a fixed order (pairs, then halves). Through a private array: Oclgrind
 * 21.10's uninitialised-value checker crashes on extracting components of a float8. */
static float isb_lane_sum(float8 v) {
    float l[8];
    vstore8(v, 0, l);
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* C[j][i][q] = sum over the columns t of chunk j of A[i][t] B[q][t], for A [m][n], B [q_rows][n]
 * (row strides n) and C [chunks][m][q_rows]: the conv weight gradient dW = dy col^T, a reduction
 * over the long, contiguous batch*pixels axis, in chunks of n/chunks columns (the last also takes
 * the remainder) whose partial sums isb_sum_chunks adds (chunks = 1: C is dW itself). One
 * work-item per chunk x 2 rows of A x 4 rows of B (eight float8 accumulators: six loads per eight
 * vector multiply-adds, within AVX2's 16 registers); the work-items of one chunk are neighbours, so the chunk's rows are read from memory once and then from cache.
 * Each output is the lane sum of its accumulator, then the chunk's tail columns. */
__kernel void isb_gemm_nt(const int m, const int q_rows, const int n, const int chunks,
                          __global float *c, const int c_off,
                          __global const float *a, const int a_off, __global const float *b, const int b_off) {
    int igroups = (m + 1) / 2, qgroups = (q_rows + 3) / 4, per_chunk = igroups * qgroups;
    int gid = get_global_id(0);
    if (gid >= chunks * per_chunk) return;
    int chunk = gid / per_chunk, rest = gid - chunk * per_chunk;
    int ig = rest / qgroups, i0 = ig * 2, q0 = (rest - ig * qgroups) * 4;
    int len = n / chunks, t0 = chunk * len, t1 = chunk == chunks - 1 ? n : t0 + len;
    int tv = t0 + (t1 - t0) / 8 * 8;
    /* row starts; rows past the end repeat the last one and are not stored */
    __global const float *a0 = a + a_off + (size_t)i0 * n, *a1 = a + a_off + (size_t)min(i0 + 1, m - 1) * n;
    __global const float *b0 = b + b_off + (size_t)q0 * n, *b1 = b + b_off + (size_t)min(q0 + 1, q_rows - 1) * n;
    __global const float *b2 = b + b_off + (size_t)min(q0 + 2, q_rows - 1) * n;
    __global const float *b3 = b + b_off + (size_t)min(q0 + 3, q_rows - 1) * n;
    float8 c00 = 0.0f, c01 = 0.0f, c02 = 0.0f, c03 = 0.0f, c10 = 0.0f, c11 = 0.0f, c12 = 0.0f, c13 = 0.0f;
    for (int t = t0; t < tv; t += 8) {
        float8 x0 = vload8(0, a0 + t), x1 = vload8(0, a1 + t);
        float8 y0 = vload8(0, b0 + t), y1 = vload8(0, b1 + t), y2 = vload8(0, b2 + t), y3 = vload8(0, b3 + t);
        c00 = mad(x0, y0, c00); c01 = mad(x0, y1, c01); c02 = mad(x0, y2, c02); c03 = mad(x0, y3, c03);
        c10 = mad(x1, y0, c10); c11 = mad(x1, y1, c11); c12 = mad(x1, y2, c12); c13 = mad(x1, y3, c13);
    }
    float s[8] = {isb_lane_sum(c00), isb_lane_sum(c01), isb_lane_sum(c02), isb_lane_sum(c03),
                  isb_lane_sum(c10), isb_lane_sum(c11), isb_lane_sum(c12), isb_lane_sum(c13)};
    __global float *out = c + c_off + (size_t)chunk * m * q_rows;
    for (int i = 0; i < 2 && i0 + i < m; i++)
        for (int q = 0; q < 4 && q0 + q < q_rows; q++) {
            __global const float *ar = i ? a1 : a0, *br = q == 0 ? b0 : q == 1 ? b1 : q == 2 ? b2 : b3;
            float sum = s[i * 4 + q];
            for (int t = tv; t < t1; t++) sum = mad(ar[t], br[t], sum);
            out[(size_t)(i0 + i) * q_rows + q0 + q] = sum;
        }
}

/* out[i] = sum_j partials[j*n + i] for i < n: the chunked weight gradient's final reduction. */
__kernel void isb_sum_chunks(const int n, const int chunks, __global float *out, const int out_off,
                             __global const float *partials, const int partials_off) {
    int i = get_global_id(0);
    if (i >= n) return;
    float acc = 0.0f;
    for (int j = 0; j < chunks; j++) acc += partials[partials_off + j * n + i];
    out[out_off + i] = acc;
}
