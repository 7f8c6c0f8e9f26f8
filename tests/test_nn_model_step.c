/* One training step (loss, logits, gradients and the update: running statistics, momentum,
 * parameters) and one evaluation step of the whole device model at the smallest size
 * (width 2, batch 2, 8x8 images), against the plain-C reference model: small enough to run every
 * kernel of a step under Oclgrind, which fails it on out-of-bounds accesses, races or
 * uninitialised reads. ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "nn/model.h"
#include "results/checkpoint.h"
#include "ref/nn.h"
#include "nn/resnet18.h"
#include "util/error.h"

#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The momentum buffer, through the checkpoint form (the model has no other reader for it). */
static void read_momentum(isb_model *m, const isb_resnet18_plan *p, float *v) {
    isb_checkpoint ck = {0};
    TEST_OK(isb_model_save_state(m, &ck, 1));
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        char name[96];
        snprintf(name, sizeof name, "momentum/%s", t->name);
        const isb_tensor *c = isb_checkpoint_find(&ck, name);
        if (t->is_stat) continue;
        if (!c) fail_msg("the saved state has no %s", name);
        memcpy(v + t->off, c->data, t->numel * sizeof(float));
    }
    isb_checkpoint_free(&ck);
}

/* Tolerances (normalised L2; each element also within TEST_ELEMENT_FACTOR times it), with the worst
 * seen on PoCL (S = 8) / Oclgrind (S = 4): float sums in another order than the reference's
 * doubles, through batch norm over as few as 2 rows (B = 2, 1 pixel), which amplifies them. */
#define TOL_LOSS 1e-5     /* 8.3e-8 / 2.5e-7 */
#define TOL_LOGITS 1e-5   /* 4.7e-7 / 5.3e-7 */
#define TOL_GRADS 1e-4    /* 2.0e-5 / 3.0e-6 (was 2e-3, unexplained, before issue 25) */
#define TOL_STATS 1e-6    /* 8.9e-8 / 1.9e-8 */
#define TOL_MOMENTUM 1e-4 /* = the gradient (+ weight decay) after one step from zero: 2.0e-5 / 3.0e-6 */
#define TOL_PARAMS 1e-5   /* lr 0.1 x the gradient's error: 2.8e-6 / 2.8e-6 */

/* recompute_columns: 0 = the model keeps each conv's forward columns for its backward (the
 * default where they fit, asserted), 1 = the backward recomputes them. */
static void one_step_matches_reference(int recompute_columns) {
    isb_ocl *ocl = test_ocl();
    enum { B = 2, S_MAX = 8, CLASSES = 10 };
    const int S = test_size(S_MAX, 4); /* 4x4 images under Oclgrind: stages of 4, 2, 1, 1 pixels */
    const float lr = 0.1f;
    isb_model_config cfg = {.width = 2, .in_channels = 3, .classes = CLASSES, .image_size = S, .max_batch = B,
                            .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 3, .recompute_columns = recompute_columns};
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    assert_int_equal(isb_model_keeps_columns(m), !recompute_columns);
    const isb_resnet18_plan *p = isb_model_plan(m);
    float x[B * 3 * S_MAX * S_MAX], weights[B] = {0.5f, 1.5f}, z[B * CLASSES], got_z[B * CLASSES];
    int labels[B] = {3, 8};
    test_fill_uniform(x, (size_t)B * 3 * S * S, -1, 1, 5);
    float *w = malloc(p->n_params * sizeof *w), *g = malloc(p->n_params * sizeof *g);
    float *v = calloc(p->n_params, sizeof *v), *got = malloc(p->n_params * sizeof *got);
    float *st = malloc(p->n_stats * sizeof *st), *got_st = malloc(p->n_stats * sizeof *got_st);
    TEST_OK(isb_model_read_params(m, w));
    TEST_OK(isb_model_read_stats(m, st));
    cl_mem dx = test_buffer_from(x, (size_t)B * 3 * S * S * sizeof(float)), dl = test_buffer_from(labels, sizeof labels);
    cl_mem dw = test_buffer_from(weights, sizeof weights), dloss = test_buffer_from(NULL, sizeof(float) * B);
    cl_mem dcorrect = test_buffer_from(NULL, sizeof(int) * B);
    isb_batch_io io = {.x = dx, .labels = dl, .weights = dw, .batch = B, .losses = dloss, .correct = dcorrect};

    /* one step from zero momentum (v = g + wd w: a missing momentum store shows); the mu v term of
     * later steps is test_nn_model's device_step_matches_reference (two steps) */
    double want = isb_resnet18_reference(p, B, x, labels, weights, w, st, 1, z, g);
    TEST_OK(isb_model_train_step(m, &io, NULL, lr));
    float loss, wantf = (float)want;
    TEST_OK(isb_model_read_batch_loss(m, &loss));
    test_assert_close("loss", &loss, &wantf, 1, TOL_LOSS);
    TEST_OK(isb_model_read_logits(m, got_z, B));
    test_assert_close("logits", got_z, z, B * CLASSES, TOL_LOGITS);
    TEST_OK(isb_model_read_grads(m, got));
    test_assert_close("all gradients", got, g, p->n_params, TOL_GRADS);
    /* the update: running statistics, momentum and parameters after the step */
    isb_ref_sgd_update((int)p->n_params, w, g, v, lr, cfg.momentum, cfg.weight_decay);
    TEST_OK(isb_model_read_stats(m, got_st));
    test_assert_close("running statistics", got_st, st, p->n_stats, TOL_STATS);
    read_momentum(m, p, got);
    test_assert_close("momentum", got, v, p->n_params, TOL_MOMENTUM);
    TEST_OK(isb_model_read_params(m, got));
    test_assert_close("parameters", got, w, p->n_params, TOL_PARAMS);
    memcpy(w, got, p->n_params * sizeof *w); /* evaluate from the device's state */
    memcpy(st, got_st, p->n_stats * sizeof *st);

    /* evaluation with the updated running statistics */
    io.weights = NULL;
    TEST_OK(isb_model_eval_step(m, &io));
    isb_resnet18_reference(p, B, x, labels, NULL, w, st, 0, z, NULL);
    TEST_OK(isb_model_read_logits(m, got_z, B));
    test_assert_close("eval logits", got_z, z, B * CLASSES, TOL_LOGITS);
    long bad;
    TEST_OK(isb_model_first_nonfinite_step(m, &bad));
    assert_int_equal(bad, -1);

    isb_ocl_release(&dx); isb_ocl_release(&dl); isb_ocl_release(&dw);
    isb_ocl_release(&dloss); isb_ocl_release(&dcorrect);
    free(w); free(g); free(v); free(got); free(st); free(got_st);
    isb_model_free(m);
}

static void one_step_matches_reference_kept_columns(void **state) {
    (void)state;
    one_step_matches_reference(0);
}

static void one_step_matches_reference_recomputed_columns(void **state) {
    (void)state;
    one_step_matches_reference(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(one_step_matches_reference_kept_columns),
                                       cmocka_unit_test(one_step_matches_reference_recomputed_columns)};
    return cmocka_run_group_tests(tests, NULL, test_release_device);
}
