/* Batch normalisation over CNHW rows (channel c = row x[c][0..n)): per-channel statistics and
 * gradient sums as one work-group per channel (power-of-two local size chosen by the host from the
 * device query; the reduction is wg_reduce.cl's), and elementwise normalise / input-gradient kernels over all channels.
 *
 * How a work-group walks its row: built with -DISB_CPU_FORM (layers.h: the CPU form), each
 * work-item sums one contiguous segment (a CPU runtime runs work-items one after another, so
 * interleaved work-items would each stride through the whole row); otherwise work-items
 * interleave (neighbours read neighbouring floats: coalesced on GPUs). */
#ifdef ISB_CPU_FORM
#define ISB_ROW_FOR(i, n, lid, lsize) \
    for (int i = (int)((long)(n) * (lid) / (lsize)), end_ = (int)((long)(n) * ((lid) + 1) / (lsize)); i < end_; i++)
#else
#define ISB_ROW_FOR(i, n, lid, lsize) for (int i = (lid); i < (n); i += (lsize))
#endif

/* Training statistics of channel get_group_id(0): mean, then the biased variance as a second pass
 * over the row (sum of squared deviations: no cancellation for large n). Saves mean and
 * 1/sqrt(var + eps) for the backward and updates the running statistics (unbiased variance). */
__kernel void isb_bn_stats(const int n, const float momentum, const float eps,
                           __global const float *x, const int x_off,
                           __global float *save_mean, const int mean_off, __global float *save_invstd, const int invstd_off,
                           __global float *running_mean, const int rmean_off, __global float *running_var, const int rvar_off,
                           __local float *scratch) {
    int c = get_group_id(0), lid = get_local_id(0), lsize = get_local_size(0);
    __global const float *row = x + x_off + (size_t)c * n;
    float acc = 0.0f;
    ISB_ROW_FOR(i, n, lid, lsize) acc += row[i];
    float mean = isb_wg_sum_float(acc, scratch) / n;
    acc = 0.0f;
    ISB_ROW_FOR(i, n, lid, lsize) {
        float d = row[i] - mean;
        acc += d * d;
    }
    float sq = isb_wg_sum_float(acc, scratch);
    if (lid == 0) {
        float var = sq / n;
        float unbiased = n > 1 ? sq / (n - 1) : var;
        save_mean[mean_off + c] = mean;
        save_invstd[invstd_off + c] = 1.0f / sqrt(var + eps);
        running_mean[rmean_off + c] = (1.0f - momentum) * running_mean[rmean_off + c] + momentum * mean;
        running_var[rvar_off + c] = (1.0f - momentum) * running_var[rvar_off + c] + momentum * unbiased;
    }
}

/* The elementwise kernels run whole work-groups per channel (host: bn_elementwise in layers.c):
 * channel c and element i of this work-item, the division paid per work-group rather than per
 * element (CPU runtimes vectorise across work-items, and a vector integer division is slow).
 * Returns 0 for the padding work-items past n. */
static int isb_channel_item(int n, int *c, int *i) {
    int lsize = get_local_size(0), per = (n + lsize - 1) / lsize, g = get_group_id(0);
    *c = g / per;
    *i = (g - *c * per) * lsize + get_local_id(0);
    return *i < n;
}

/* y = gamma*(x - mean)*invstd + beta, plus res[i] if add (a residual block's shortcut), then
 * max(., 0) if relu. `spread` holds invstd (training) or,
 * built with -DISB_BN_SPREAD_IS_VAR (eval), the running variance: invstd = 1/sqrt(var + eps).
 * A build option rather than a runtime flag: the compiler would otherwise evaluate the sqrt of the
 * unused branch, which Oclgrind reports as a use of an uninitialised value. */
__kernel void isb_bn_apply(const int channels, const int n, const int relu, const int add, const float eps,
                           __global float *y, const int y_off, __global const float *x, const int x_off,
                           __global const float *res, const int res_off,
                           __global const float *gamma, const int gamma_off, __global const float *beta, const int beta_off,
                           __global const float *mean, const int mean_off, __global const float *spread, const int spread_off) {
    int c, i;
    if (!isb_channel_item(n, &c, &i)) return;
    int gid = c * n + i;
#ifdef ISB_BN_SPREAD_IS_VAR
    float invstd = 1.0f / sqrt(spread[spread_off + c] + eps);
#else
    float invstd = spread[spread_off + c];
#endif
    float v = gamma[gamma_off + c] * (x[x_off + gid] - mean[mean_off + c]) * invstd + beta[beta_off + c];
    if (add) v += res[res_off + gid];
    y[y_off + gid] = relu ? (v < 0.0f ? 0.0f : v) : v;
}

/* Per channel: dbeta = sum dy', dgamma = sum dy' * xhat, with dy' = dy masked by y > 0 if relu. */
__kernel void isb_bn_backward_sums(const int n, const int relu,
                                   __global const float *dy, const int dy_off, __global const float *x, const int x_off,
                                   __global const float *y, const int y_off,
                                   __global const float *mean, const int mean_off, __global const float *invstd, const int invstd_off,
                                   __global float *dgamma, const int dgamma_off, __global float *dbeta, const int dbeta_off,
                                   __local float *scratch) {
    int c = get_group_id(0), lid = get_local_id(0), lsize = get_local_size(0);
    size_t base = (size_t)c * n;
    float m = mean[mean_off + c], is = invstd[invstd_off + c];
    float sdy = 0.0f, sdyx = 0.0f;
    ISB_ROW_FOR(i, n, lid, lsize) {
        float g = dy[dy_off + base + i];
        if (relu && !(y[y_off + base + i] > 0.0f)) g = 0.0f;
        sdy += g;
        sdyx += g * (x[x_off + base + i] - m) * is;
    }
    float db = isb_wg_sum_float(sdy, scratch);
    float dg = isb_wg_sum_float(sdyx, scratch);
    if (lid == 0) {
        dbeta[dbeta_off + c] = db;
        dgamma[dgamma_off + c] = dg;
    }
}

/* dx = gamma*invstd * (dy' - dbeta/n - xhat*dgamma/n). dx may alias dy. */
__kernel void isb_bn_backward_dx(const int channels, const int n, const int relu,
                                 __global float *dx, const int dx_off, __global const float *dy, const int dy_off,
                                 __global const float *x, const int x_off, __global const float *y, const int y_off,
                                 __global const float *gamma, const int gamma_off,
                                 __global const float *mean, const int mean_off, __global const float *invstd, const int invstd_off,
                                 __global const float *dgamma, const int dgamma_off, __global const float *dbeta, const int dbeta_off) {
    int c, i;
    if (!isb_channel_item(n, &c, &i)) return;
    int gid = c * n + i;
    float g = dy[dy_off + gid];
    if (relu && !(y[y_off + gid] > 0.0f)) g = 0.0f;
    float is = invstd[invstd_off + c];
    float xhat = (x[x_off + gid] - mean[mean_off + c]) * is;
    /* means rather than n*dy - sums: no large intermediate when n is 10^5 */
    dx[dx_off + gid] = gamma[gamma_off + c] * is * (g - dbeta[dbeta_off + c] / n - xhat * (dgamma[dgamma_off + c] / n));
}
