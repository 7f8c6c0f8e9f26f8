/* Importance sampling on the device (Algorithm 1): p = softmax(S / T) over all N scores, |Z| draws
 * with or without replacement from the counter-based generator, Z shuffled into mini-batch order,
 * and per-sample importance weights. Knows scores, indices and weights; not the model.
 *
 * CONTRACT used by src/train, bench/ and `isbench sample`. */
#ifndef ISB_SAMPLING_SAMPLER_H
#define ISB_SAMPLING_SAMPLER_H

#include <stdint.h>
#include "ocl/ocl.h"
#include "sampling/score_rule.h"

typedef enum {
    ISB_DRAW_ALIAS = 0,         /* with replacement, alias table (O(N) set-up, O(1) per draw) */
    ISB_DRAW_CDF = 1,           /* with replacement, prefix sums + binary search */
    ISB_DRAW_GUMBEL_TOPK = 2,   /* without replacement, Gumbel-top-k keys + selection */
    ISB_DRAW_GUMBEL_SORT = 3,   /* without replacement, Gumbel keys + full sort (reference/benchmark) */
} isb_draw_method;

typedef enum {
    ISB_WEIGHTS_NONE = 0,       /* w = 1 */
    ISB_WEIGHTS_INVERSE_P = 1,  /* w = 1 / (N p_i), the study's weights */
    ISB_WEIGHTS_HT = 2,         /* Horvitz–Thompson for draws without replacement, exactly unbiased:
                                   w = |Z| / (N q_i), q_i = 1 - exp(-exp(phi_i - kappa)) the inclusion
                                   probability given kappa, the (|Z|+1)-th largest Gumbel key; w = 1
                                   when |Z| = N (docs/sampling.md) */
} isb_weight_mode;

/* The names of the enums above, in their order: the option values (--draw, --weights), JSON and
 * folder names. The lists are NULL-terminated; the list macro lets a command add choices of its own
 * (`isbench sample --method uniform`). The name functions return "?" outside the enum. */
#define ISB_DRAW_METHOD_NAMES "alias", "cdf", "gumbel-topk", "gumbel-sort"
extern const char *const isb_draw_method_names[];
extern const char *const isb_weight_mode_names[];
const char *isb_draw_method_name(isb_draw_method m);
const char *isb_weight_mode_name(isb_weight_mode m);

typedef struct isb_sampler isb_sampler;

/* Work buffers for up to n_max scores and z_max draws, allocated once. */
int isb_sampler_create(isb_sampler **s, isb_ocl *ocl, int n_max, int z_max);
void isb_sampler_free(isb_sampler *s); /* NULL-safe */

/* Draws z indices of [0, n) with probability softmax(scores / temperature), shuffled, into
 * out_indices[0..z) (int) and their weights into out_weights[0..z) (float). Enqueues only.
 * Errors: z > n without replacement, temperature <= 0 or with 1/T not a normal float. A score
 * whose S/T is not finite, or a weight that is not a finite positive float, is recorded on the
 * device and reported by isb_sampler_check. */
int isb_sampler_draw(isb_sampler *s, cl_mem scores, int n, int z, float temperature, isb_draw_method method,
                     isb_weight_mode weights, uint64_t seed, uint32_t epoch, cl_mem out_indices, cl_mem out_weights);
/* Uniform epoch: the first z entries of a random permutation of [0, n), weights 1. Enqueues only. */
int isb_sampler_uniform(isb_sampler *s, int n, int z, uint64_t seed, uint32_t epoch, cl_mem out_indices,
                        cl_mem out_weights);


/* --- additions (not used by the contract above) ------------------------------------------------ */
/* p[0..n) = softmax(scores / temperature) (for benchmarks, tests and tools). Enqueues only. */
int isb_sampler_softmax(isb_sampler *s, cl_mem scores, int n, float temperature, cl_mem out_p);
/* Blocking: ISB_ERR_NUMERIC naming the first sample whose S/T was NaN/Inf, or else whose weight
 * was not representable, in any draw or softmax since the last check (the draw itself never fails
 * on them: device flags record it), with the fix (lower the learning rate; raise T / rescale). */
int isb_sampler_check(isb_sampler *s);
/* Blocking, for tests: the alias table of the last alias draw over n samples (bucket k keeps k
 * with probability thr[k] / 2^32, else alias[k]). */
int isb_sampler_read_alias(isb_sampler *s, int n, uint32_t *thr, int *alias);
/* scores[indices[r]] updated from values[r] (the rule's per-row value: loss or gradient norm) for
 * r < b by the score rule, with exactly the code of the trainer's fused loss kernel
 * (cl/score_rule.cl: bounds-checked, repeated indices applied in row order). Enqueues only.
 * Errors: unknown rule, beta outside [0, 1], a batch beyond the device's local memory. */
int isb_scores_update(isb_ocl *ocl, cl_mem scores, cl_mem indices, cl_mem values, int b, isb_score_rule rule);

#endif
