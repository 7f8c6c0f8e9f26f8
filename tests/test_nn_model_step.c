/* One training step and one evaluation step of the whole device model at the smallest size
 * (width 2, batch 2, 8x8 images), against the plain-C reference model: small enough to run every
 * kernel of a step under Oclgrind, which fails it on out-of-bounds accesses, races or
 * uninitialised reads. ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "nn/model.h"
#include "ref/nn.h"
#include "nn/resnet18.h"
#include "util/error.h"

#include <clblast_c.h>
#include <stdlib.h>

static void one_step_matches_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    enum { B = 2, S_MAX = 8, CLASSES = 10 };
    const int S = test_size(S_MAX, 4); /* 4x4 images under Oclgrind: stages of 4, 2, 1, 1 pixels */
    isb_model_config cfg = {.width = 2, .in_channels = 3, .classes = CLASSES, .image_size = S, .max_batch = B,
                            .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 3};
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    const isb_resnet18_plan *p = isb_model_plan(m);
    float x[B * 3 * S_MAX * S_MAX], weights[B] = {0.5f, 1.5f}, z[B * CLASSES], got_z[B * CLASSES];
    int labels[B] = {3, 8};
    test_fill_uniform(x, (size_t)B * 3 * S * S, -1, 1, 5);
    float *w = malloc(p->n_params * sizeof *w), *g = malloc(p->n_params * sizeof *g);
    float *got = malloc(p->n_params * sizeof *got), *st = malloc(p->n_stats * sizeof *st);
    TEST_OK(isb_model_read_params(m, w));
    TEST_OK(isb_model_read_stats(m, st));
    cl_mem dx = test_buffer_from(x, (size_t)B * 3 * S * S * sizeof(float)), dl = test_buffer_from(labels, sizeof labels);
    cl_mem dw = test_buffer_from(weights, sizeof weights), dloss = test_buffer_from(NULL, sizeof(float) * B);
    cl_mem dcorrect = test_buffer_from(NULL, sizeof(int) * B);
    isb_batch_io io = {.x = dx, .labels = dl, .weights = dw, .batch = B, .losses = dloss, .correct = dcorrect};

    double want = isb_resnet18_reference(p, B, x, labels, weights, w, st, 1, z, g);
    TEST_OK(isb_model_train_step(m, &io, NULL, 0.1f));
    float loss, wantf = (float)want;
    TEST_OK(isb_model_read_batch_loss(m, &loss));
    test_assert_close("loss", &loss, &wantf, 1, 1e-4);
    TEST_OK(isb_model_read_logits(m, got_z, B));
    test_assert_close("logits", got_z, z, B * CLASSES, 1e-4);
    TEST_OK(isb_model_read_grads(m, got));
    test_assert_close("all gradients", got, g, p->n_params, 2e-3);

    /* evaluation with the updated running statistics */
    TEST_OK(isb_model_read_params(m, w));
    TEST_OK(isb_model_read_stats(m, st));
    io.weights = NULL;
    TEST_OK(isb_model_eval_step(m, &io));
    isb_resnet18_reference(p, B, x, labels, NULL, w, st, 0, z, NULL);
    TEST_OK(isb_model_read_logits(m, got_z, B));
    test_assert_close("eval logits", got_z, z, B * CLASSES, 1e-4);
    long bad;
    TEST_OK(isb_model_first_nonfinite_step(m, &bad));
    assert_int_equal(bad, -1);

    isb_ocl_release(&dx); isb_ocl_release(&dl); isb_ocl_release(&dw);
    isb_ocl_release(&dloss); isb_ocl_release(&dcorrect);
    free(w); free(g); free(got); free(st);
    isb_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(one_step_matches_reference)};
    return cmocka_run_group_tests(tests, NULL, test_release_device);
}
