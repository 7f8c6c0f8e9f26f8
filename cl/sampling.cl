/* Importance-sampling kernels (src/sampling/sampler.c drives them; src/ref/sampling.c has the plain C
 * version of each): softmax statistics, fixed-point CDF scan + binary search, alias-table draws,
 * 64-bit radix select of the top-z keys, a stable compaction that writes the selected samples
 * straight into mini-batch order (batch_order.cl) with their weights (inverse-p, exact
 * Horvitz–Thompson from the (z+1)-th key), bitonic sort (full-sort reference and uniform epochs),
 * and the standalone score update (the same score_rule.cl code the loss kernel runs). Prepend
 * philox.cl, batch_order.cl, wg_reduce.cl and score_rule.cl. OpenCL C 1.2, no extension:
 * local atomics on int are core, the work-group size is whatever the host passes (a power of two
 * from the device query).
 *
 * Log space throughout (docs/sampling.md): x_i = scores_i / T, phi_i = x_i - max x <= 0;
 * stats[0] = max x, stats[1] = sum exp(phi), stats[2] = log stats[1]. p_i = exp(phi_i - stats[2])
 * is never formed where it could underflow: keys and weights use phi directly.
 * bad[0] = smallest index whose x is NaN/Inf, bad[1] = smallest index whose weight is not a
 * finite positive float (both INT_MAX when none; reset by the host after each check).
 * A sample is drawn by a 64-bit key: (32-bit order-preserving key << 32) | (0xFFFFFFFF - i), so
 * keys are unique, ties go to the lower index, and the index comes back from the low word. */

#define ISB_IDX_OF(key) ((int)(0xFFFFFFFFu - (uint)(key)))
#define ISB_KEY_LOW(i) ((ulong)(0xFFFFFFFFu - (uint)(i)))

/* Float -> uint with the same order (negative floats flipped entirely, positive ones get the sign bit). */
inline uint isb_float_order(float f) {
    uint u = as_uint(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* ---- softmax statistics: one pass of online (max, sum) pairs ------------------------------------ */
/* (m1, s1) + (m2, s2) = (m, s1 e^(m1-m) + s2 e^(m2-m)): max and sum of exp in one read of the
 * scores instead of two; as stable as max-then-sum because every exp argument is <= 0. */
static float2 isb_ms_combine(float2 a, float2 b) {
    if (a.y == 0.0f) return b;
    if (b.y == 0.0f) return a;
    float m = fmax(a.x, b.x);
    return (float2)(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}
static ulong isb_max_ulong(ulong a, ulong b) { return max(a, b); }
ISB_DEFINE_WG_REDUCE(isb_wg_combine_ms, float2, isb_ms_combine)
ISB_DEFINE_WG_REDUCE(isb_wg_max_ulong, ulong, isb_max_ulong)

/* phi_i = x_i - max x (<= 0, or -inf where the range exceeds float: p_i = 0 then, exactly enough). */
inline float isb_phi(float s, float inv_t, __global const float *stats) { return s * inv_t - stats[0]; }

/* partial[g] = (max, sum) over the group's grid-stride range; bad[0] = min index whose x = S/T is
 * not finite (a NaN/Inf score, or a finite score that overflows at this T). Launch with
 * power-of-two local size. */
__kernel void isb_smp_stats_partial(const int n, __global const float *scores, const float inv_t,
                                    __global float2 *partial, __global int *bad, __local float2 *scratch) {
    /* two sweeps over this work-item's scores (the second from cache): the max, then the sum of
     * exp(x - max); branch-free, so the compiler can vectorise across work-items */
    float m = -INFINITY, sum = 0.0f;
    int first_bad = INT_MAX;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        float x = scores[i] * inv_t;
        first_bad = isfinite(x) ? first_bad : min(first_bad, i);
        m = isfinite(x) ? fmax(m, x) : m;
    }
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        float x = scores[i] * inv_t;
        sum += isfinite(x) ? exp(x - m) : 0.0f;
    }
    if (first_bad != INT_MAX) atomic_min(bad, first_bad);
    float2 acc = isb_wg_combine_ms((float2)(m, sum), scratch);
    if (get_local_id(0) == 0) partial[get_group_id(0)] = acc;
}

/* One group: combines the partials into stats[0..2]. */
__kernel void isb_smp_stats_final(const int groups, __global const float2 *partial, __global float *stats,
                                  __local float2 *scratch) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    float2 acc = (float2)(-INFINITY, 0.0f);
    for (int g = lid; g < groups; g += lsize) acc = isb_ms_combine(acc, partial[g]);
    acc = isb_wg_combine_ms(acc, scratch);
    if (lid == 0) {
        stats[0] = acc.x;
        stats[1] = acc.y;
        stats[2] = log(acc.y); /* sum >= 1: the maximum contributes exp(0) */
    }
}

inline float isb_prob(float s, float inv_t, __global const float *stats) {
    return exp(isb_phi(s, inv_t, stats) - stats[2]);
}

__kernel void isb_smp_softmax(const int n, __global const float *scores, const float inv_t,
                              __global const float *stats, __global float *p) {
    int i = get_global_id(0);
    if (i < n) p[i] = isb_prob(scores[i], inv_t, stats);
}

/* ---- with replacement: CDF in 64-bit fixed point + binary search -------------------------------- */
/* a_i = exp(x_i - max) * 2^shift with shift = 62 - ceil(log2 n): the total fits in 62 bits and the
 * running sum is exact at any N (a float prefix sum loses the small terms beyond a few million). */
inline ulong isb_fixed_weight(float s, float inv_t, __global const float *stats, int shift) {
    float e = exp(isb_phi(s, inv_t, stats));
    return convert_ulong_sat_rte(ldexp(e, shift));
}

/* Local inclusive scan of v over the group (Hillis–Steele; buf has local-size entries); *total gets
 * the group's sum. */
inline ulong isb_scan_local(ulong v, __local ulong *buf, ulong *total) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int off = 1; off < lsize; off <<= 1) {
        ulong add = lid >= off ? buf[lid - off] : 0;
        barrier(CLK_LOCAL_MEM_FENCE);
        buf[lid] += add;
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    ulong r = buf[lid];
    *total = buf[lsize - 1];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

inline ulong isb_alias_weight(float s, float inv_t, __global const float *stats, int n);

/* tile_sums[g] = sum of the weights over tile g = [g*tile, (g+1)*tile): the CDF's a_i (shift >= 0)
 * or, with shift < 0, the alias method's n p_i 2^32. */
__kernel void isb_smp_cdf_tile_sums(const int n, __global const float *scores, const float inv_t,
                                    __global const float *stats, const int shift, const int tile,
                                    __global ulong *tile_sums, __local ulong *scratch) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    int start = get_group_id(0) * tile, end = min(n, start + tile);
    ulong acc = 0;
    for (int i = start + lid; i < end; i += lsize)
        acc += shift >= 0 ? isb_fixed_weight(scores[i], inv_t, stats, shift) : isb_alias_weight(scores[i], inv_t, stats, n);
    acc = isb_wg_sum_ulong(acc, scratch);
    if (lid == 0) tile_sums[get_group_id(0)] = acc;
}

/* One group: exclusive scan of sums[base .. base + count) in place, total into sums[base + count]. */
__kernel void isb_smp_scan_exclusive(const int count, __global ulong *all_sums, const int base, __local ulong *buf) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    __global ulong *sums = all_sums + base;
    ulong carry = 0;
    for (int base = 0; base < count; base += lsize) {
        int i = base + lid;
        ulong v = i < count ? sums[i] : 0;
        ulong total;
        ulong inc = isb_scan_local(v, buf, &total);
        if (i < count) sums[i] = carry + inc - v;
        carry += total;
    }
    if (lid == 0) sums[count] = carry;
}

/* cdf[i] = inclusive prefix sum of a_i: tile g starts from tile_offsets[g] (exclusive scan of the
 * tile sums) and walks its tile in chunks of the local size. */
__kernel void isb_smp_cdf_tile_scan(const int n, __global const float *scores, const float inv_t,
                                    __global const float *stats, const int shift, const int tile,
                                    __global const ulong *tile_offsets, __global ulong *cdf,
                                    __local ulong *buf) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    int start = get_group_id(0) * tile, end = min(n, start + tile);
    ulong carry = tile_offsets[get_group_id(0)];
    for (int base = start; base < end; base += lsize) {
        int i = base + lid;
        ulong v = i < end ? isb_fixed_weight(scores[i], inv_t, stats, shift) : 0;
        ulong total;
        ulong inc = isb_scan_local(v, buf, &total);
        if (i < end) cdf[i] = carry + inc;
        carry += total;
    }
}

/* Draw j: target uniform in [0, total) from 64 random bits; the first i with cdf[i] > target. */
__kernel void isb_smp_cdf_draw(const int n, const int z, __global const ulong *cdf, const ulong seed,
                               const uint epoch, __global int *out) {
    int j = get_global_id(0);
    if (j >= z) return;
    isb_philox4 r = isb_philox4x32_10((uint)j, epoch, ISB_STREAM_SAMPLER, 0u, (uint)seed, (uint)(seed >> 32));
    ulong target = mul_hi(((ulong)r.v[0] << 32) | r.v[1], cdf[n - 1]);
    int lo = 0, hi = n - 1; /* invariant: answer in [lo, hi] */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (cdf[mid] > target) hi = mid; else lo = mid + 1;
    }
    out[j] = lo;
}

/* ---- with replacement: alias table built on the device (sweep construction) ------------------ */
/* Bucket capacity W = 2^32: a_i = n p_i 2^32 in 64-bit fixed point. Light samples (a < W) have
 * deficit W - a, heavy ones excess a - W. The sequential sweep (Hübschle-Schneider & Sanders,
 * "Parallel weighted random sampling") fills light buckets in index order from heavy samples in
 * index order; with D_j = deficits of lights before j and E_k = excesses of heavies up to and
 * including k, light j is aliased to the first heavy k with E_k > D_j, and heavy k (not the last)
 * keeps W + E_k - D(first light with D >= E_k) and is aliased to heavy k + 1. So two compactions
 * with prefix sums and one binary search per sample build the table in O(N) work, in parallel. */
inline ulong isb_alias_weight(float s, float inv_t, __global const float *stats, int n) {
    float q = exp(isb_phi(s, inv_t, stats) - stats[2]) * (float)n;
    return convert_ulong_sat_rte(ldexp(q, 32));
}
#define ISB_W 4294967296UL

/* The float softmax makes sum a_i = n W (1 + eps); left alone, the whole n W eps would land on the
 * last heavy bucket (a large error for it at large n). total = exact sum a_i (a scan); sample i
 * gives back its share delta_i of the excess, sum delta_i = total - n W exactly. */
inline ulong isb_alias_weight_exact(float s, float inv_t, __global const float *stats, int n, int i,
                                    ulong total) {
    ulong a = isb_alias_weight(s, inv_t, stats, n), nw = (ulong)n * ISB_W;
    ulong excess = total >= nw ? total - nw : nw - total;
    ulong per_sample = excess / (ulong)n, rest = excess - per_sample * (ulong)n; /* no '%': see below */
    ulong delta = per_sample + ((ulong)i < rest ? 1 : 0);
    if (total < nw) return a + delta;
    /* written so that the compiler emits no saturating-subtract or freeze instruction, which
     * Oclgrind 21.10 cannot simulate */
    long r = (long)a - (long)delta;
    return r < 0 ? 0 : (ulong)r;
}

/* Per tile g: sums[q * (tiles + 1) + g] for q = 0 light count, 1 deficit sum, 2 heavy count,
 * 3 excess sum. */
__kernel void isb_smp_alias_tile_sums(const int n, __global const float *scores, const float inv_t,
                                      __global const float *stats, const int tile, const int tiles,
                                      __global const ulong *totals, __global ulong *sums, __local ulong *scratch) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    int start = get_group_id(0) * tile, end = min(n, start + tile);
    ulong total = totals[tiles];
    ulong acc[4] = {0, 0, 0, 0};
    for (int i = start + lid; i < end; i += lsize) {
        ulong a = isb_alias_weight_exact(scores[i], inv_t, stats, n, i, total);
        if (a < ISB_W) { acc[0] += 1; acc[1] += ISB_W - a; }
        else { acc[2] += 1; acc[3] += a - ISB_W; }
    }
    for (int q = 0; q < 4; q++) {
        ulong total_q = isb_wg_sum_ulong(acc[q], scratch);
        if (lid == 0) sums[q * (tiles + 1) + get_group_id(0)] = total_q;
    }
}

/* Compaction with prefix sums (sums[] scanned, exclusive): lights into light_idx/light_d
 * (exclusive deficit prefix), heavies into heavy_idx/heavy_e (inclusive excess prefix); thr of a
 * light bucket is its own a. */
__kernel void isb_smp_alias_tile_scan(const int n, __global const float *scores, const float inv_t,
                                      __global const float *stats, const int tile, const int tiles,
                                      __global const ulong *totals, __global const ulong *sums,
                                      __global int *light_idx, __global ulong *light_d, __global int *heavy_idx,
                                      __global ulong *heavy_e, __global uint *thr, __local ulong *buf) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    int g = get_group_id(0), start = g * tile, end = min(n, start + tile);
    ulong total = totals[tiles];
    ulong carry[4];
    for (int q = 0; q < 4; q++) carry[q] = sums[q * (tiles + 1) + g];
    for (int base = start; base < end; base += lsize) {
        int i = base + lid;
        ulong a = i < end ? isb_alias_weight_exact(scores[i], inv_t, stats, n, i, total) : ISB_W;
        bool light = i < end && a < ISB_W, heavy = i < end && a >= ISB_W;
        ulong v[4] = {light ? 1 : 0, light ? ISB_W - a : 0, heavy ? 1 : 0, heavy ? a - ISB_W : 0};
        ulong inc[4], total[4];
        for (int q = 0; q < 4; q++) inc[q] = isb_scan_local(v[q], buf, &total[q]);
        if (light) {
            ulong rank = carry[0] + inc[0] - 1;
            light_idx[rank] = i;
            light_d[rank] = carry[1] + inc[1] - v[1];
            thr[i] = (uint)a;
        }
        if (heavy) {
            ulong rank = carry[2] + inc[2] - 1;
            heavy_idx[rank] = i;
            heavy_e[rank] = carry[3] + inc[3];
        }
        for (int q = 0; q < 4; q++) carry[q] += total[q];
    }
}

/* Work-item j pairs light j and heavy j (see above). Launched over n; counts come from sums[]. */
__kernel void isb_smp_alias_pair(const int n, const int tiles, __global const ulong *sums,
                                 __global const int *light_idx, __global const ulong *light_d,
                                 __global const int *heavy_idx, __global const ulong *heavy_e,
                                 __global uint *thr, __global int *alias) {
    int j = get_global_id(0);
    if (j >= n) return;
    int n_light = (int)sums[0 * (tiles + 1) + tiles], n_heavy = (int)sums[2 * (tiles + 1) + tiles];
    ulong d_total = sums[1 * (tiles + 1) + tiles];
    if (j < n_light) {
        int i = light_idx[j];
        if (n_heavy == 0) { /* rounding made every a_i just below W: each bucket is (almost) full */
            alias[i] = i;
            thr[i] = 0xFFFFFFFFu;
        } else {
            ulong d = light_d[j];
            int lo = 0, hi = n_heavy; /* first k with heavy_e[k] > d */
            while (lo < hi) {
                int mid = lo + (hi - lo) / 2;
                if (heavy_e[mid] > d) hi = mid; else lo = mid + 1;
            }
            alias[i] = heavy_idx[min(lo, n_heavy - 1)];
        }
    }
    if (j < n_heavy) {
        int i = heavy_idx[j];
        if (j == n_heavy - 1) {
            thr[i] = 0xFFFFFFFFu;
            alias[i] = i;
            return;
        }
        ulong e = heavy_e[j];
        int lo = 0, hi = n_light; /* first light with light_d >= e */
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (light_d[mid] >= e) hi = mid; else lo = mid + 1;
        }
        ulong d = lo < n_light ? light_d[lo] : d_total;
        long residual = (long)ISB_W + (long)e - (long)d;
        if (residual >= (long)ISB_W) {
            thr[i] = 0xFFFFFFFFu;
            alias[i] = i;
        } else {
            thr[i] = (uint)max(residual, 0L);
            alias[i] = heavy_idx[j + 1];
        }
    }
}

/* ---- with replacement: alias draws ------------------------------------------------------------ */
/* Bucket k = floor(u n); keep k with probability thr[k] / 2^32, else take alias[k] (full buckets
 * have alias[k] = k). */
__kernel void isb_smp_alias_draw(const int n, const int z, __global const uint *thr, __global const int *alias,
                                 const ulong seed, const uint epoch, __global int *out) {
    int j = get_global_id(0);
    if (j >= z) return;
    isb_philox4 r = isb_philox4x32_10((uint)j, epoch, ISB_STREAM_SAMPLER, 0u, (uint)seed, (uint)(seed >> 32));
    int k = (int)mul_hi(r.v[0], (uint)n);
    out[j] = r.v[1] < thr[k] ? k : alias[k];
}

/* ---- without replacement: keys, radix select of the top z, compaction ---------------------------- */
/* Gumbel-top-k (Efraimidis–Spirakis): key_i = phi_i + G_i, G_i = -log(-log u_i), u_i strictly in
 * (0, 1) (philox.cl), so every key is finite or -inf (phi_i = -inf: p_i = 0, never before a finite
 * key). The top z keys are a draw of z without replacement from softmax(x) (successive sampling). */
inline float isb_gumbel_key(float phi, uint word) {
    float u = isb_u32_to_unit_open(word);
    return phi - log(-log(u));
}
inline ulong isb_key64(float key, int i) { return ((ulong)isb_float_order(key) << 32) | ISB_KEY_LOW(i); }
/* Inverse of isb_float_order on the high word of a 64-bit key. */
inline float isb_key_value(ulong key) {
    uint u = (uint)(key >> 32);
    return as_float((u & 0x80000000u) ? (u & 0x7FFFFFFFu) : ~u);
}

/* For tests: the uniform and the key of phi[j] for a forced Philox word words[j]. */
__kernel void isb_smp_key_of_word(const int count, __global const uint *words, __global const float *phi,
                                  __global float *u, __global float *key) {
    int j = get_global_id(0);
    if (j >= count) return;
    u[j] = isb_u32_to_unit_open(words[j]);
    key[j] = isb_gumbel_key(phi[j], words[j]);
}

/* Work-item t makes the keys of samples 4t .. 4t+3 from the four words of one Philox call, counter
 * (t, epoch, ISB_STREAM_SAMPLER, 0): sample i uses word i % 4 (a quarter of the Philox work; the
 * mapping does not depend on n). Entries [n, padded) get key 0 so a full sort of the padded array
 * leaves them last. Launch over ceil(padded / 4). */
__kernel void isb_smp_gumbel_keys(const int n, const int padded, __global const float *scores, const float inv_t,
                                  __global const float *stats, const ulong seed, const uint epoch,
                                  __global ulong *keys) {
    /* no early return and only predicated stores: PoCL vectorises the whole kernel across work-items */
    int t = get_global_id(0);
    isb_philox4 r = isb_philox4x32_10((uint)t, epoch, ISB_STREAM_SAMPLER, 0u, (uint)seed, (uint)(seed >> 32));
    for (int w = 0; w < 4; w++) {
        int i = 4 * t + w;
        float key = isb_gumbel_key(isb_phi(scores[min(i, n - 1)], inv_t, stats), r.v[w]);
        ulong key64 = i < n ? isb_key64(key, i) : 0;
        if (i < padded) keys[i] = key64;
    }
}

/* Uniform permutation keys: random 32 bits per sample (stream SHUFFLE), index in the low word. */
__kernel void isb_smp_uniform_keys(const int n, const ulong seed, const uint epoch, __global ulong *keys) {
    int i = get_global_id(0);
    if (i >= n) return;
    isb_philox4 r = isb_philox4x32_10((uint)i, epoch, ISB_STREAM_SHUFFLE, 0u, (uint)seed, (uint)(seed >> 32));
    keys[i] = ((ulong)r.v[0] << 32) | ISB_KEY_LOW(i);
}

/* Selection state (select[]): [0] prefix of the z-th largest key found so far, [1] remaining rank k
 * within the keys that share the prefix, [2] shift below which bits are still open, [3] done (the
 * whole current bin is taken). Initialised by the host: {0, z, 64, 0}. */

/* Pass with digit `shift` (56, 48, ..., 0): 256-bin histogram of that byte over the keys whose
 * higher bytes equal the prefix. hist[] is zero on entry (select_init, then each select_find). */
__kernel void isb_smp_select_hist(const int n, __global const ulong *keys, __global const ulong *select,
                                  const int shift, __global uint *hist, __local uint *lhist) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    if (select[3]) return; /* uniform across the group: every item returns */
    for (int b = lid; b < 256; b += lsize) lhist[b] = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    ulong prefix = select[0];
    int high = shift + 8;
    for (int i = get_global_id(0); i < n; i += get_global_size(0)) {
        ulong key = keys[i];
        if (high == 64 || (key >> high) == (prefix >> high)) atomic_inc(&lhist[(key >> shift) & 255]);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int b = lid; b < 256; b += lsize)
        if (lhist[b]) atomic_add(&hist[b], lhist[b]);
}

/* One work-item: the bin holding the k-th largest, from the top; then clears hist[] for the next
 * pass (saves a launch per pass). */
__kernel void isb_smp_select_find(__global ulong *select, const int shift, __global uint *hist) {
    if (get_global_id(0) != 0 || select[3]) return;
    ulong k = select[1];
    ulong above = 0;
    int b = 255;
    for (; b > 0; b--) {
        if (above + hist[b] >= k) break;
        above += hist[b];
    }
    select[0] |= (ulong)b << shift;
    select[1] = k - above;
    select[2] = (ulong)shift;
    if (hist[b] == k - above) select[3] = 1; /* all of this bin is in: no need to look further */
    for (int i = 0; i < 256; i++) hist[i] = 0;
}

/* Compaction: keys at or above the threshold (on the bits decided so far) go to out[atomic slot].
 * Exactly z keys qualify because keys are unique; the order is arbitrary (sorted next). */
__kernel void isb_smp_select_compact(const int n, __global const ulong *keys, __global const ulong *select,
                                     __global int *counter, __global ulong *out) {
    int i = get_global_id(0);
    if (i >= n) return;
    int sh = (int)select[2];
    ulong key = keys[i];
    if ((key >> sh) >= (select[0] >> sh)) out[atomic_inc(counter)] = key;
}

/* Entries [z, padded) of the selected keys get 0, so a descending sort leaves them last. */
__kernel void isb_smp_pad_keys(const int z, const int padded, __global ulong *keys) {
    int j = get_global_id(0);
    if (j >= z && j < padded) keys[j] = 0;
}

/* One compare-exchange step (k, j) of a bitonic sort into descending order over a power-of-two array. */
__kernel void isb_smp_bitonic_step(__global ulong *keys, const int k, const int j) {
    int i = get_global_id(0);
    int l = i ^ j;
    if (l <= i) return;
    ulong a = keys[i], b = keys[l];
    bool descending = (i & k) == 0;
    if (descending ? a < b : a > b) {
        keys[i] = b;
        keys[l] = a;
    }
}

__kernel void isb_smp_keys_to_indices(const int z, __global const ulong *keys, __global int *out) {
    int j = get_global_id(0);
    if (j < z) out[j] = ISB_IDX_OF(keys[j]);
}

/* ---- weights --------------------------------------------------------------------------------- */
/* log q_i, q_i = P(phi_i + G_i > kappa) = 1 - exp(-exp(phi_i - kappa)): sample i's inclusion
 * probability given the (z+1)-th key (priority sampling; Duffield, Lund & Thorup 2007; Kool, van
 * Hoof & Welling 2019), so w = z / (N q_i) is exactly unbiased. expm1 keeps q accurate when small;
 * below d = -20, log q = d to float precision (and exp(d) would only lose bits). */
inline float isb_log_inclusion(float d) { return d < -20.0f ? d : log(-expm1(-exp(d))); }

/* The weight of sample i. mode 0: 1; 1: 1 / (N p_i) = exp(log S - phi_i - log N); 2: z / (N q_i) =
 * exp(log(z/N) - log q_i) with kappa in select[4]. A weight that is not a finite positive float
 * records its sample in bad[1]. */
inline float isb_weight_of(int i, int n, int z, __global const float *scores, float inv_t, __global const float *stats,
                           __global const ulong *select, int mode, __global int *bad) {
    if (mode == 0) return 1.0f;
    float phi = isb_phi(scores[i], inv_t, stats), log_n = log((float)n);
    float log_w = mode == 1 ? stats[2] - phi - log_n
                            : log((float)z) - log_n - isb_log_inclusion(phi - isb_key_value(select[4]));
    float w = exp(log_w);
    if (!(w > 0.0f && w <= FLT_MAX)) atomic_min(&bad[1], i);
    return w;
}

/* Weights of draws with replacement (indices already in batch order). */
__kernel void isb_smp_weights(const int n, const int z, __global const int *idx, __global const float *scores,
                              const float inv_t, __global const float *stats, __global const ulong *select,
                              const int mode, __global float *w, __global int *bad) {
    int j = get_global_id(0);
    if (j < z) w[j] = isb_weight_of(idx[j], n, z, scores, inv_t, stats, select, mode, bad);
}

/* ---- without replacement: stable compaction straight into mini-batch order ------------------------ */
inline bool isb_selected(ulong key, __global const ulong *select) {
    int sh = (int)select[2];
    return (key >> sh) >= (select[0] >> sh);
}

/* Per tile g: counts[g] = selected keys, below_max[g] = the largest key NOT selected (its maximum
 * over all tiles is kappa, the (z+1)-th largest key; 0 if every key is selected). */
__kernel void isb_smp_compact_count(const int n, const int tile, __global const ulong *keys,
                                    __global const ulong *select, __global ulong *counts,
                                    __global ulong *below_max, __local ulong *scratch) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    int start = get_group_id(0) * tile, end = min(n, start + tile);
    ulong count = 0, below = 0;
    for (int i = start + lid; i < end; i += lsize) {
        ulong key = keys[i];
        if (isb_selected(key, select)) count++;
        else below = max(below, key);
    }
    count = isb_wg_sum_ulong(count, scratch);
    below = isb_wg_max_ulong(below, scratch);
    if (lid == 0) {
        counts[get_group_id(0)] = count;
        below_max[get_group_id(0)] = below;
    }
}

/* One group: select[4] = kappa = max of below_max[0..tiles). */
__kernel void isb_smp_kappa(const int tiles, __global const ulong *below_max, __global ulong *select,
                            __local ulong *scratch) {
    ulong acc = 0;
    for (int g = get_local_id(0); g < tiles; g += get_local_size(0)) acc = max(acc, below_max[g]);
    acc = isb_wg_max_ulong(acc, scratch);
    if (get_local_id(0) == 0) select[4] = acc;
}

/* Per tile: the selected samples' ranks in index order, each written to position pi(rank) of the
 * batch with its weight. Work-item l owns the run [start + l r, start + (l+1) r) of the tile
 * (r = tile / local size): it counts its selected keys, one local scan of those counts (plus
 * offsets[g], the exclusive scan of the tile counts) gives its first rank, and a second sweep
 * over its run (from cache) writes them. One scan per tile, not one per local-size chunk. */
__kernel void isb_smp_compact_scatter(const int n, const int tile, __global const ulong *keys,
                                      __global const ulong *select, __global const ulong *offsets, const int z,
                                      const ulong seed, const uint epoch, __global const float *scores,
                                      const float inv_t, __global const float *stats, const int mode,
                                      __global int *out_idx, __global float *out_w, __global int *bad,
                                      __local ulong *buf) {
    int lid = get_local_id(0), run = tile / get_local_size(0);
    int first = get_group_id(0) * tile + lid * run, last = min(n, first + run);
    isb_philox4 round_keys = isb_batch_round_keys((uint)seed, (uint)(seed >> 32), epoch);
    uint half_bits = isb_batch_half_bits((uint)z);
    ulong count = 0, total;
    for (int i = first; i < last; i++) count += isb_selected(keys[i], select) ? 1 : 0;
    ulong rank = offsets[get_group_id(0)] + isb_scan_local(count, buf, &total) - count;
    for (int i = first; i < last; i++) {
        if (!isb_selected(keys[i], select)) continue;
        uint pos = isb_batch_position((uint)rank++, (uint)z, half_bits, round_keys);
        out_idx[pos] = i;
        out_w[pos] = isb_weight_of(i, n, z, scores, inv_t, stats, select, mode, bad);
    }
}

/* After a full descending sort: the selection threshold is the z-th key itself (all bits decided). */
__kernel void isb_smp_select_sorted(__global const ulong *sorted, const int z, __global ulong *select) {
    if (get_global_id(0) != 0) return;
    select[0] = sorted[z - 1];
    select[1] = 0;
    select[2] = 0;
    select[3] = 1;
}

/* ---- score update: the rule of score_rule.cl, exactly as the loss kernel applies it ------------ */
/* One group: rows r < b wait in local memory (value, index), then isb_score_apply_rows. */
__kernel void isb_smp_score_update(const int b, __global float *scores, const int n_scores,
                                   __global const int *idx, __global const float *values, const int rule,
                                   const float beta, __local float *row_value, __local int *row_index) {
    for (int r = get_local_id(0); r < b; r += get_local_size(0)) {
        row_value[r] = values[r];
        row_index[r] = idx[r];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    isb_score_apply_rows(rule, beta, scores, n_scores, b, row_value, row_index);
}

/* Selection state for z: prefix 0, rank z, shift 0, not done, kappa 0; histogram and compaction
 * counter zeroed. Launch with 256 work-items. */
__kernel void isb_smp_select_init(__global ulong *select, const int z, __global uint *hist, __global int *counter) {
    int i = get_global_id(0);
    if (i < 256) hist[i] = 0;
    if (i != 0) return;
    select[0] = 0;
    select[1] = (ulong)z;
    select[2] = 0;
    select[3] = 0;
    select[4] = 0;
    counter[0] = 0;
}

/* buf[0..count) = value (small state buffers; avoids clEnqueueFillBuffer, which not every
 * simulator implements). */
__kernel void isb_smp_fill_uint(const int count, __global uint *buf, const uint value) {
    int i = get_global_id(0);
    if (i < count) buf[i] = value;
}

/* The bitonic steps that stay inside blocks of 2 * local-size elements, in local memory: stages
 * k = k_lo..k_hi (doubling), each with j = min(k/2, local size) down to 1. One launch replaces up
 * to log2(block) (log2(block) + 1) / 2 global steps. Same direction rule as isb_smp_bitonic_step. */
__kernel void isb_smp_bitonic_local(__global ulong *keys, const int k_lo, const int k_hi, __local ulong *buf) {
    int t = get_local_id(0), lsize = get_local_size(0);
    int base = get_group_id(0) * 2 * lsize;
    buf[t] = keys[base + t];
    buf[t + lsize] = keys[base + t + lsize];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int k = k_lo; k <= k_hi; k <<= 1) {
        for (int j = min(k >> 1, lsize); j > 0; j >>= 1) {
            int i = 2 * t - (t & (j - 1)); /* t with a zero bit inserted at log2(j): pair (i, i + j) */
            ulong a = buf[i], b = buf[i + j];
            bool descending = ((base + i) & k) == 0;
            if (descending ? a < b : a > b) {
                buf[i] = b;
                buf[i + j] = a;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    keys[base + t] = buf[t];
    keys[base + t + lsize] = buf[t + lsize];
}
