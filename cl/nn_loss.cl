/* Softmax cross-entropy with the fused score update and non-finite flag (src/nn/layers.c,
 * isb_softmax_xent). ONE work-group strides over the rows, so the batch loss is a tree reduction
 * (wg_reduce.cl) and the score update (score_rule.cl: last loss, running loss or gradient norm,
 * repeated indices applied in row order) a second phase in the same launch. Optional buffers are
 * switched by bits of `outputs` (a dummy buffer is bound when a bit is off and never touched).
 * Row values and indices wait in local memory (8 bytes per row). Prepend wg_reduce.cl and
 * score_rule.cl. Valid C11 too, like philox.cl: src/nn/layers.c includes it for the bits below, so
 * they are defined once (tests/test_shared_defs.c checks them on the device). */
#ifndef ISB_NN_LOSS_CL
#define ISB_NN_LOSS_CL

/* Bits of the kernel's `outputs` argument: which optional buffers it reads or writes. */
#define ISB_OUT_DLOGITS 1
#define ISB_OUT_LOSSES 2
#define ISB_OUT_CORRECT 4
#define ISB_OUT_BATCH_LOSS 8
#define ISB_IN_WEIGHTS 16
#define ISB_OUT_FLAG 32

#ifdef __OPENCL_VERSION__

__kernel void isb_softmax_xent(const int batch, const int classes, const int outputs,
                               __global const float *logits, const int logits_off,
                               __global const int *labels, const int labels_off,
                               __global const float *weights, const int weights_off,
                               __global float *dlogits, const int dlogits_off,
                               __global float *losses, const int losses_off,
                               __global int *correct, const int correct_off,
                               __global float *batch_loss, const int batch_loss_off,
                               const int score_rule, const float score_beta, __global float *scores, const int n_scores,
                               __global const int *indices, const int indices_off,
                               __global int *flag, const int step,
                               __local float *scratch, __local float *row_value, __local int *row_index) {
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
        if (score_rule != ISB_SCORE_RULE_NONE) {
            float grad_norm2 = 0.0f; /* ||softmax(z) - onehot(y)||^2, the gradient of the loss wrt z */
            if (score_rule == ISB_SCORE_RULE_GRADIENT_NORM)
                for (int j = 0; j < classes; j++) {
                    float g = exp(z[j] - zmax) / sum - (j == label ? 1.0f : 0.0f);
                    grad_norm2 += g * g;
                }
            row_value[r] = isb_score_value(score_rule, loss, label_ok ? sqrt(grad_norm2) : NAN);
            row_index[r] = indices[indices_off + r];
        }
        if ((outputs & ISB_OUT_FLAG) && !isfinite(loss)) atomic_min(flag, step);
        acc += w * loss;
    }
    /* row_value/row_index complete. Unconditional: with a barrier under the (uniform) score_rule
     * branch, PoCL 3.1 with 1024 work-items let phase 2 read rows phase 1 had not written. */
    barrier(CLK_LOCAL_MEM_FENCE);
    if (score_rule != ISB_SCORE_RULE_NONE)
        isb_score_apply_rows(score_rule, score_beta, scores, n_scores, batch, row_value, row_index);
    /* the batch loss: a tree reduction, run whether or not it is wanted (barriers stay unconditional) */
    float total = isb_wg_sum_float(acc, scratch);
    if (lid == 0 && (outputs & ISB_OUT_BATCH_LOSS)) batch_loss[batch_loss_off] = total / batch;
}

#endif /* __OPENCL_VERSION__ */

#endif
