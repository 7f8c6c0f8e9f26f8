/* Importance sampling on the device (Algorithm 1): p = softmax(S / T) over all N scores, |Z| draws
 * with or without replacement from the counter-based generator, Z shuffled into mini-batch order,
 * and per-sample importance weights. Knows scores, indices and weights; not the model.
 *
 * CONTRACT used by src/train, bench/ and `isbench sample`. */
#ifndef ISB_SAMPLING_SAMPLER_H
#define ISB_SAMPLING_SAMPLER_H

#include <stdint.h>
#include "ocl/ocl.h"

typedef enum {
    ISB_DRAW_ALIAS = 0,         /* with replacement, alias table (O(N) set-up, O(1) per draw) */
    ISB_DRAW_CDF = 1,           /* with replacement, prefix sums + binary search */
    ISB_DRAW_GUMBEL_TOPK = 2,   /* without replacement, Gumbel-top-k keys + selection */
    ISB_DRAW_GUMBEL_SORT = 3,   /* without replacement, Gumbel keys + full sort (reference/benchmark) */
} isb_draw_method;

typedef enum {
    ISB_WEIGHTS_NONE = 0,       /* w = 1 */
    ISB_WEIGHTS_INVERSE_P = 1,  /* w = 1 / (N p_i), the study's weights */
    ISB_WEIGHTS_HT = 2,         /* Horvitz–Thompson for draws without replacement: w = |Z| / (N pi_i) */
} isb_weight_mode;

typedef struct isb_sampler isb_sampler;

/* Work buffers for up to n_max scores and z_max draws, allocated once. */
int isb_sampler_create(isb_sampler **s, isb_ocl *ocl, int n_max, int z_max);
void isb_sampler_free(isb_sampler *s); /* NULL-safe */

/* Draws z indices of [0, n) with probability softmax(scores / temperature), shuffled, into
 * out_indices[0..z) (int) and their weights into out_weights[0..z) (float). Enqueues only.
 * Errors: z > n without replacement, temperature <= 0. */
int isb_sampler_draw(isb_sampler *s, cl_mem scores, int n, int z, float temperature, isb_draw_method method,
                     isb_weight_mode weights, uint64_t seed, uint32_t epoch, cl_mem out_indices, cl_mem out_weights);
/* Uniform epoch: the first z entries of a random permutation of [0, n), weights 1. Enqueues only. */
int isb_sampler_uniform(isb_sampler *s, int n, int z, uint64_t seed, uint32_t epoch, cl_mem out_indices,
                        cl_mem out_weights);

#endif
