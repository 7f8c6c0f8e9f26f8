/* The score rule: how one training row updates the score S_i of its sample. ONE definition,
 * valid C11 and OpenCL C like philox.cl: the host includes it through src/sampling/score_rule.h
 * (the kinds and the fold), the device prepends it to the loss kernel (nn_loss.cl, the fused update
 * training runs) and to the sampling program's standalone kernel (sampling.cl, what the
 * score_update benchmarks time). The plain C reference is isb_sref_score_update;
 * tests/test_shared_defs.c checks on the device that both sides see the same kinds and folds.
 *
 * Repeated dataset indices in one batch (sampling with replacement): the result is that of applying
 * the rows in order r = 0, 1, ..., and deterministic: the LAST row of each index folds all rows of
 * that index in order, the others write nothing (no races, no atomics on floats). An index outside
 * [0, n_scores) writes nothing (the loss kernel's NaN loss for it raises the non-finite flag). */
#ifndef ISB_SCORE_RULE_CL
#define ISB_SCORE_RULE_CL

typedef enum {
    ISB_SCORE_RULE_NONE = 0,          /* scores untouched */
    ISB_SCORE_RULE_LAST_LOSS = 1,     /* S_i = L_r */
    ISB_SCORE_RULE_RUNNING_LOSS = 2,  /* S_i = beta S_i + (1 - beta) L_r */
    ISB_SCORE_RULE_GRADIENT_NORM = 3, /* S_i = ||softmax(z_r) - onehot(y_r)||_2, the gradient-norm upper
                                         bound of Katharopoulos & Fleuret (2018) */
} isb_score_rule_kind;
#define ISB_SCORE_RULE_KINDS 4

/* The per-row value the rule scores. */
static inline float isb_score_value(int rule, float loss, float grad_norm) {
    return rule == ISB_SCORE_RULE_GRADIENT_NORM ? grad_norm : loss;
}

/* One row's value folded into a score. */
static inline float isb_score_fold(int rule, float beta, float s, float value) {
    return rule == ISB_SCORE_RULE_RUNNING_LOSS ? beta * s + (1.0f - beta) * value : value;
}

#ifdef __OPENCL_VERSION__
/* Rows r < b of (row_value, row_index), complete in local memory, into scores[]. Work-items stride
 * over the rows; no barrier inside. */
inline void isb_score_apply_rows(int rule, float beta, __global float *scores, int n_scores, int b,
                                 __local const float *row_value, __local const int *row_index) {
    for (int r = get_local_id(0); r < b; r += get_local_size(0)) {
        int i = row_index[r], last = 1;
        for (int q = r + 1; q < b && last; q++) last = row_index[q] != i;
        if (!last || i < 0 || i >= n_scores) continue;
        float s = scores[i];
        for (int q = 0; q <= r; q++)
            if (row_index[q] == i) s = isb_score_fold(rule, beta, s, row_value[q]);
        scores[i] = s;
    }
}

#endif /* __OPENCL_VERSION__ */

#endif
