/* Plain C references of the sampling kernels (cl/sampling.cl), used by the tests and the host
 * benchmarks: softmax, the alias table (Vose; also the table the device sampler uploads), CDF +
 * binary search, Gumbel-top-k, naive successive sampling O(z N), the Horvitz–Thompson lambda,
 * and the last/running score update. Randomness is Philox with the device's counters. */
#ifndef ISB_SAMPLING_REFERENCE_H
#define ISB_SAMPLING_REFERENCE_H

#include <stdint.h>

/* p = softmax(scores / temperature) in double precision, stored as float. */
void isb_sref_softmax(float *p, const float *scores, int n, float temperature);

/* Vose's alias table for p (sum 1): bucket k keeps k with probability thr[k] / 2^32, else alias[k];
 * full buckets get alias[k] = k. Returns 0 or ISB_ERR_MEMORY. */
int isb_sref_alias_build(uint32_t *thr, int *alias, const float *p, int n);
/* z draws from the table with counters (j, epoch, ISB_STREAM_SAMPLER, 0), as the device does. */
void isb_sref_alias_draw(int *out, int z, const uint32_t *thr, const int *alias, int n, uint64_t seed,
                         uint32_t epoch);

/* z draws with replacement by inverse CDF (double prefix sums, binary search). cdf: n doubles of
 * scratch. */
void isb_sref_cdf_draw(int *out, int z, const float *p, int n, double *cdf, uint64_t seed, uint32_t epoch);

/* z of n without replacement by Gumbel-top-k on keys x_i + G_i (same Philox draws as the device);
 * out in decreasing key order. keys: n doubles of scratch, order: n ints of scratch. */
void isb_sref_gumbel_topk(int *out, int z, const float *scores, int n, float temperature, uint64_t seed,
                          uint32_t epoch, double *keys, int *order);

/* The study's naive successive sampling: z times, draw one of the remaining samples with
 * probability p_i / (mass remaining), O(z n). taken: n bytes of scratch. */
void isb_sref_successive(int *out, int z, const float *p, int n, uint64_t seed, uint32_t epoch,
                         unsigned char *taken);

/* lambda with sum_i (1 - exp(-lambda p_i)) = z (bisection in double; docs/sampling.md). */
double isb_sref_ht_lambda(const float *p, int n, int z);

/* mode 1 last: S = L; mode 2 running: S = beta S + (1 - beta) L; for the b rows. */
void isb_sref_score_update(float *scores, const int *indices, const float *losses, int b, int mode, float beta);

#endif
