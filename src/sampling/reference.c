/* Plain C references of the sampling kernels (see reference.h). Written for clarity, in double
 * precision where sums are long; the host benchmarks time these as the "host" variants. */
#include "sampling/reference.h"

#include <math.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/rng.h"

void isb_sref_softmax(float *p, const float *scores, int n, float temperature) {
    double m = -INFINITY, sum = 0;
    for (int i = 0; i < n; i++) m = fmax(m, (double)scores[i] / temperature);
    for (int i = 0; i < n; i++) sum += exp((double)scores[i] / temperature - m);
    for (int i = 0; i < n; i++) p[i] = (float)(exp((double)scores[i] / temperature - m) / sum);
}

int isb_sref_alias_build(uint32_t *thr, int *alias, const float *p, int n) {
    double *q = malloc((size_t)n * sizeof *q);
    int *small = malloc((size_t)n * sizeof *small), *large = malloc((size_t)n * sizeof *large);
    if (!q || !small || !large) {
        free(q); free(small); free(large);
        return isb_fail(ISB_ERR_MEMORY, "alias table for %d samples: out of host memory", n);
    }
    double total = 0;
    for (int i = 0; i < n; i++) total += p[i];
    int ns = 0, nl = 0;
    for (int i = 0; i < n; i++) {
        q[i] = (double)p[i] / total * n; /* bucket capacity is 1 */
        if (q[i] < 1.0) small[ns++] = i; else large[nl++] = i;
    }
    while (ns > 0 && nl > 0) {
        int s = small[--ns], l = large[nl - 1];
        thr[s] = (uint32_t)fmin(q[s] * 4294967296.0, 4294967295.0);
        alias[s] = l;
        q[l] -= 1.0 - q[s];
        if (q[l] < 1.0) { nl--; small[ns++] = l; }
    }
    /* What is left holds probability 1 up to rounding. */
    while (nl > 0) { int l = large[--nl]; thr[l] = UINT32_MAX; alias[l] = l; }
    while (ns > 0) { int s = small[--ns]; thr[s] = UINT32_MAX; alias[s] = s; }
    free(q); free(small); free(large);
    return ISB_OK;
}

void isb_sref_alias_draw(int *out, int z, const uint32_t *thr, const int *alias, int n, uint64_t seed,
                         uint32_t epoch) {
    for (int j = 0; j < z; j++) {
        isb_philox4 r = isb_philox(seed, (uint32_t)j, epoch, ISB_STREAM_SAMPLER, 0);
        int k = (int)(((uint64_t)r.v[0] * (uint32_t)n) >> 32);
        out[j] = r.v[1] < thr[k] ? k : alias[k];
    }
}

void isb_sref_cdf_draw(int *out, int z, const float *p, int n, double *cdf, uint64_t seed, uint32_t epoch) {
    double acc = 0;
    for (int i = 0; i < n; i++) cdf[i] = acc += p[i];
    for (int j = 0; j < z; j++) {
        isb_philox4 r = isb_philox(seed, (uint32_t)j, epoch, ISB_STREAM_SAMPLER, 0);
        double target = ((double)r.v[0] + (double)r.v[1] / 4294967296.0) / 4294967296.0 * acc;
        int lo = 0, hi = n - 1;
        while (lo < hi) {
            int mid = lo + (hi - lo) / 2;
            if (cdf[mid] > target) hi = mid; else lo = mid + 1;
        }
        out[j] = lo;
    }
}

/* Gumbel key of sample i, as the device computes it (same uniform, double arithmetic). */
static double gumbel_key(const float *scores, int i, float temperature, uint64_t seed, uint32_t epoch) {
    isb_philox4 r = isb_philox(seed, (uint32_t)i, epoch, ISB_STREAM_SAMPLER, 0);
    double u = ((double)(r.v[0] >> 8) + 0.5) / 16777216.0;
    return (double)scores[i] / temperature - log(-log(u));
}

/* Larger key first; lower index first on equal keys (as the device's 64-bit keys). */
static int by_key_desc(const double *keys, int a, int b) {
    if (keys[a] != keys[b]) return keys[a] > keys[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Quickselect: order[0..z) hold the z largest keys (unsorted), then insertion-free qsort of those. */
static const double *sort_keys;
static int cmp_order(const void *a, const void *b) { return by_key_desc(sort_keys, *(const int *)a, *(const int *)b); }

void isb_sref_gumbel_topk(int *out, int z, const float *scores, int n, float temperature, uint64_t seed,
                          uint32_t epoch, double *keys, int *order) {
    for (int i = 0; i < n; i++) {
        keys[i] = gumbel_key(scores, i, temperature, seed, epoch);
        order[i] = i;
    }
    int lo = 0, hi = n - 1;
    while (lo < hi) { /* Hoare-style selection of position z-1 */
        int pivot = order[lo + (hi - lo) / 2], i = lo, j = hi;
        while (i <= j) {
            while (by_key_desc(keys, order[i], pivot) < 0) i++;
            while (by_key_desc(keys, order[j], pivot) > 0) j--;
            if (i <= j) { int t = order[i]; order[i] = order[j]; order[j] = t; i++; j--; }
        }
        if (z - 1 <= j) hi = j;
        else if (z - 1 >= i) lo = i;
        else break;
    }
    sort_keys = keys;
    qsort(order, (size_t)z, sizeof *order, cmp_order);
    for (int j = 0; j < z; j++) out[j] = order[j];
}

void isb_sref_successive(int *out, int z, const float *p, int n, uint64_t seed, uint32_t epoch,
                         unsigned char *taken) {
    double remaining = 0;
    for (int i = 0; i < n; i++) { taken[i] = 0; remaining += p[i]; }
    for (int j = 0; j < z; j++) {
        isb_philox4 r = isb_philox(seed, (uint32_t)j, epoch, ISB_STREAM_SAMPLER, 1);
        double target = ((double)r.v[0] + (double)r.v[1] / 4294967296.0) / 4294967296.0 * remaining;
        double acc = 0;
        int pick = -1;
        for (int i = 0; i < n; i++) {
            if (taken[i]) continue;
            pick = i; /* the last untaken one absorbs rounding */
            acc += p[i];
            if (acc > target) break;
        }
        taken[pick] = 1;
        remaining -= p[pick];
        out[j] = pick;
    }
}

double isb_sref_ht_lambda(const float *p, int n, int z) {
    if (z >= n) return INFINITY;
    double lo = 0, hi = z;
    for (;;) { /* grow hi until f(hi) >= z */
        double f = 0;
        for (int i = 0; i < n; i++) f += -expm1(-hi * p[i]);
        if (f >= z || hi > 1e300) break;
        hi *= 2;
    }
    for (int it = 0; it < 200 && hi - lo > 1e-12 * hi; it++) {
        double mid = 0.5 * (lo + hi), f = 0;
        for (int i = 0; i < n; i++) f += -expm1(-mid * p[i]);
        if (f < z) lo = mid; else hi = mid;
    }
    return 0.5 * (lo + hi);
}

void isb_sref_score_update(float *scores, const int *indices, const float *losses, int b, int mode, float beta) {
    for (int r = 0; r < b; r++) {
        int i = indices[r];
        scores[i] = mode == 1 ? losses[r] : beta * scores[i] + (1.0f - beta) * losses[r];
    }
}
