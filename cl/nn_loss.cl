/* Softmax cross-entropy with the fused score update and non-finite flag (src/nn/layers.c,
 * isb_softmax_xent). ONE work-group strides over the rows, so the batch loss is a tree reduction and
 * the score update a second phase in the same launch. Optional buffers are switched by bits of
 * `outputs` (a dummy buffer is bound when a bit is off and never touched).
 *
 * Score update with repeated dataset indices in one batch (sampling with replacement): the result is
 * that of applying the rows in order, r = 0, 1, ..., exactly like the C reference, and deterministic:
 * the LAST row of each index folds all rows of that index in order, the others write nothing (no
 * races, no atomics on floats). Row losses and indices wait in local memory (8 bytes per row). */

#define ISB_OUT_DLOGITS 1
#define ISB_OUT_LOSSES 2
#define ISB_OUT_CORRECT 4
#define ISB_OUT_BATCH_LOSS 8
#define ISB_IN_WEIGHTS 16
#define ISB_OUT_FLAG 32
/* score_mode: 0 none, 1 last, 2 running (as isb_score_mode in src/nn/model.h) */

__kernel void isb_softmax_xent(const int batch, const int classes, const int outputs,
                               __global const float *logits, const int logits_off,
                               __global const int *labels, const int labels_off,
                               __global const float *weights, const int weights_off,
                               __global float *dlogits, const int dlogits_off,
                               __global float *losses, const int losses_off,
                               __global int *correct, const int correct_off,
                               __global float *batch_loss, const int batch_loss_off,
                               const int score_mode, const float score_beta, __global float *scores, const int n_scores,
                               __global const int *indices, const int indices_off,
                               __global int *flag, const int step,
                               __local float *scratch, __local float *row_loss, __local int *row_index) {
    int lid = get_local_id(0), lsize = get_local_size(0);
    float acc = 0.0f;
    for (int r = lid; r < batch; r += lsize) {
        __global const float *z = logits + logits_off + r * classes;
        int label = labels[labels_off + r];
        float zmax = z[0];
        int arg = 0;
        for (int j = 1; j < classes; j++)
            if (z[j] > zmax) { zmax = z[j]; arg = j; }
        float sum = 0.0f;
        for (int j = 0; j < classes; j++) sum += exp(z[j] - zmax);
        int label_ok = label >= 0 && label < classes;
        /* an out-of-range label gives NaN, which the non-finite flag then reports */
        float loss = label_ok ? log(sum) + zmax - z[label] : NAN;
        float w = (outputs & ISB_IN_WEIGHTS) ? weights[weights_off + r] : 1.0f;
        if (outputs & ISB_OUT_DLOGITS) {
            __global float *d = dlogits + dlogits_off + r * classes;
            float scale = w / batch;
            for (int j = 0; j < classes; j++) d[j] = scale * (exp(z[j] - zmax) / sum - (j == label ? 1.0f : 0.0f));
        }
        if (outputs & ISB_OUT_LOSSES) losses[losses_off + r] = loss;
        if (outputs & ISB_OUT_CORRECT) correct[correct_off + r] = label_ok && arg == label;
        if (score_mode != 0) {
            row_loss[r] = loss;
            row_index[r] = indices[indices_off + r];
        }
        if ((outputs & ISB_OUT_FLAG) && !isfinite(loss)) atomic_min(flag, step);
        acc += w * loss;
    }
    /* row_loss/row_index complete. Unconditional: with a barrier under the (uniform) score_mode
     * branch, PoCL 3.1 with 1024 work-items let phase 2 read rows phase 1 had not written. */
    barrier(CLK_LOCAL_MEM_FENCE);
    if (score_mode != 0) {
        for (int r = lid; r < batch; r += lsize) {
            int i = row_index[r], last = 1;
            for (int q = r + 1; q < batch && last; q++) last = row_index[q] != i;
            if (!last || i < 0 || i >= n_scores) continue; /* out-of-range: its NaN loss raises the flag */
            float s = scores[i];
            for (int q = 0; q <= r; q++)
                if (row_index[q] == i) s = score_mode == 1 ? row_loss[q] : score_beta * s + (1.0f - score_beta) * row_loss[q];
            scores[i] = s;
        }
    }
    /* the batch loss: a tree reduction, run whether or not it is wanted (barriers stay unconditional) */
    scratch[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int s = lsize / 2; s > 0; s >>= 1) {
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0 && (outputs & ISB_OUT_BATCH_LOSS)) batch_loss[batch_loss_off] = scratch[0] / batch;
}
