/* Plain C references of the sampling kernels (see ref/sampling.h). Written for clarity, in double
 * precision where sums are long; the host benchmarks time these as the "host" variants. */
#include "ref/sampling.h"

#include <math.h>
#include <stdlib.h>

#include "util/error.h"
#include "util/rng.h"
#include "batch_order.cl"

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

double isb_sref_gumbel_key(double phi, uint32_t word) {
    double u = isb_u32_to_unit_open(word); /* the device's float, exactly */
    return phi - log(-log(u));
}

void isb_sref_batch_order(int *out, const int *selected_ascending, int z, uint64_t seed, uint32_t epoch) {
    isb_philox4 keys = isb_batch_round_keys((uint32_t)seed, (uint32_t)(seed >> 32), epoch);
    uint32_t half_bits = isb_batch_half_bits((uint32_t)z);
    for (int r = 0; r < z; r++) out[isb_batch_position((uint32_t)r, (uint32_t)z, half_bits, keys)] = selected_ascending[r];
}

double isb_sref_ht_inclusion(double d) { return -expm1(-exp(d)); }

/* Larger key first; lower index first on equal keys (as the device's 64-bit keys). */
static int by_key_desc(const double *keys, int a, int b) {
    if (keys[a] != keys[b]) return keys[a] > keys[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Quickselect: order[0..z) hold the z largest keys (unsorted), then insertion-free qsort of those. */
static const double *sort_keys;
static int cmp_order(const void *a, const void *b) { return by_key_desc(sort_keys, *(const int *)a, *(const int *)b); }

double isb_sref_gumbel_topk(int *out, int z, const float *scores, int n, float temperature, uint64_t seed,
                            uint32_t epoch, double *keys, int *order) {
    double m = -INFINITY;
    for (int i = 0; i < n; i++) m = fmax(m, (double)scores[i] / temperature);
    for (int i = 0; i < n; i++) {
        isb_philox4 r = isb_philox(seed, (uint32_t)i / 4, epoch, ISB_STREAM_SAMPLER, 0); /* word i % 4 */
        keys[i] = isb_sref_gumbel_key((double)scores[i] / temperature - m, r.v[i % 4]);
        order[i] = i;
    }
    int sel = z < n ? z + 1 : z; /* one more for kappa */
    int lo = 0, hi = n - 1;
    while (lo < hi) { /* Hoare-style selection of position z-1 */
        int pivot = order[lo + (hi - lo) / 2], i = lo, j = hi;
        while (i <= j) {
            while (by_key_desc(keys, order[i], pivot) < 0) i++;
            while (by_key_desc(keys, order[j], pivot) > 0) j--;
            if (i <= j) { int t = order[i]; order[i] = order[j]; order[j] = t; i++; j--; }
        }
        if (sel - 1 <= j) hi = j;
        else if (sel - 1 >= i) lo = i;
        else break;
    }
    sort_keys = keys;
    qsort(order, (size_t)sel, sizeof *order, cmp_order);
    for (int j = 0; j < z; j++) out[j] = order[j];
    return z < n ? keys[order[z]] : INFINITY;
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

void isb_sref_score_update(float *scores, const int *indices, const float *values, int b, isb_score_rule rule) {
    if (rule.kind == ISB_SCORE_RULE_NONE) return;
    for (int r = 0; r < b; r++) scores[indices[r]] = isb_score_rule_fold(rule, scores[indices[r]], values[r]);
}

float isb_sref_gradient_norm(const float *logits, int classes, int label) {
    double m = -INFINITY, sum = 0, norm2 = 0;
    for (int j = 0; j < classes; j++) m = fmax(m, logits[j]);
    for (int j = 0; j < classes; j++) sum += exp(logits[j] - m);
    for (int j = 0; j < classes; j++) {
        double g = exp(logits[j] - m) / sum - (j == label ? 1.0 : 0.0);
        norm2 += g * g;
    }
    return (float)sqrt(norm2);
}
