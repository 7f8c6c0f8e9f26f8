/* Plain C references of the sampling kernels (cl/sampling.cl), used by the tests and the host
 * benchmarks: softmax, the alias table (Vose), CDF + binary search, Gumbel-top-k with the exact
 * Horvitz–Thompson weights, naive successive sampling O(z N), the score rule's update and the
 * gradient-norm score. Randomness is Philox with the device's counters. */
#ifndef ISB_REF_SAMPLING_H
#define ISB_REF_SAMPLING_H

#include <stdint.h>
#include "sampling/score_rule.h"

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

/* z of n without replacement by Gumbel-top-k on keys phi_i + G_i (same Philox uniforms as the
 * device, bit for bit); out in decreasing key order. keys: n doubles of scratch, order: n ints of
 * scratch. Returns kappa, the (z+1)-th largest key (+inf when z = n): with it, sample i's
 * inclusion probability is isb_sref_ht_inclusion(keys-side phi_i - kappa). */
double isb_sref_gumbel_topk(int *out, int z, const float *scores, int n, float temperature, uint64_t seed,
                            uint32_t epoch, double *keys, int *order);
/* The mini-batch order of a draw without replacement (cl/batch_order.cl): the z selected samples
 * in increasing index order go to out[pi(rank)]. */
void isb_sref_batch_order(int *out, const int *selected_ascending, int z, uint64_t seed, uint32_t epoch);
/* The Gumbel key of a sample with phi = x - max x for the Philox word `word` (double arithmetic). */
double isb_sref_gumbel_key(double phi, uint32_t word);
/* q = P(phi + G > kappa) = 1 - exp(-exp(phi - kappa)) for d = phi - kappa (1 when d = +inf). */
double isb_sref_ht_inclusion(double d);
/* The study's naive successive sampling: z times, draw one of the remaining samples with
 * probability p_i / (mass remaining), O(z n). taken: n bytes of scratch. */
void isb_sref_successive(int *out, int z, const float *p, int n, uint64_t seed, uint32_t epoch,
                         unsigned char *taken);

/* The score rule applied to rows r < b in order: scores[indices[r]] folded with values[r]. */
void isb_sref_score_update(float *scores, const int *indices, const float *values, int b, isb_score_rule rule);
/* The gradient-norm score of one row: ||softmax(logits) - onehot(label)||_2 (double inside). */
float isb_sref_gradient_norm(const float *logits, int classes, int label);

#endif
