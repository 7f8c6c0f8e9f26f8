/* The ResNet18 model: parameter count and initialisation, the plain-C reference model against
 * finite differences, the device model against the reference (loss, logits, every gradient, the SGD
 * update, running statistics, evaluation mode), a fixed batch learnt to zero loss, the fused score
 * update and non-finite flag, and save -> load -> identical outputs with refusals of wrong files.
 * Tiny widths and images keep it fast on PoCL. */
#include "testutil.h"
#include "nn/model.h"
#include "ref/nn.h"
#include "ref/sampling.h"
#include "nn/resnet18.h"
#include "results/checkpoint.h"
#include "util/error.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static isb_model_config tiny_config(int width, int image, int batch) {
    return (isb_model_config){.width = width, .in_channels = 3, .classes = 10, .image_size = image,
                              .max_batch = batch, .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 7};
}

/* A random batch on the host and the device. */
typedef struct {
    int batch;
    size_t x_floats;
    float *x, *weights;
    int *labels;
    cl_mem dx, dlabels, dweights, dlosses, dcorrect;
} batch_data;

static batch_data make_batch(const isb_model_config *cfg, int batch, uint64_t seed) {
    batch_data b = {.batch = batch};
    b.x_floats = (size_t)batch * cfg->in_channels * cfg->image_size * cfg->image_size;
    b.x = malloc(b.x_floats * sizeof *b.x);
    b.labels = malloc((size_t)batch * sizeof *b.labels);
    b.weights = malloc((size_t)batch * sizeof *b.weights);
    test_fill_uniform(b.x, b.x_floats, -1, 1, seed);
    test_fill_uniform(b.weights, (size_t)batch, 0.5f, 1.5f, seed + 1);
    isb_rng rng = isb_rng_make(seed, ISB_STREAM_TEST, 99);
    for (int r = 0; r < batch; r++) b.labels[r] = (int)isb_rng_below(&rng, (uint32_t)cfg->classes);
    b.dx = test_buffer_from(b.x, b.x_floats * sizeof *b.x);
    b.dlabels = test_buffer_from(b.labels, (size_t)batch * sizeof(int));
    b.dweights = test_buffer_from(b.weights, (size_t)batch * sizeof(float));
    b.dlosses = test_buffer_from(NULL, (size_t)batch * sizeof(float));
    b.dcorrect = test_buffer_from(NULL, (size_t)batch * sizeof(int));
    return b;
}

static void upload_batch(batch_data *b) {
    TEST_OK(isb_ocl_write(test_ocl(), b->dx, 0, b->x_floats * sizeof(float), b->x));
}

static isb_batch_io batch_io(const batch_data *b, int weighted) {
    return (isb_batch_io){.x = b->dx, .labels = b->dlabels, .weights = weighted ? b->dweights : NULL,
                          .batch = b->batch, .losses = b->dlosses, .correct = b->dcorrect};
}

static void free_batch(batch_data *b) {
    free(b->x); free(b->labels); free(b->weights);
    isb_ocl_release(&b->dx); isb_ocl_release(&b->dlabels); isb_ocl_release(&b->dweights);
    isb_ocl_release(&b->dlosses); isb_ocl_release(&b->dcorrect);
}

/* ---- layout and initialisation (host only) ---------------------------------------------------- */

static void param_count_is_resnet18(void **state) {
    (void)state;
    isb_model_config cfg = tiny_config(64, 32, 128);
    size_t n = 0;
    TEST_OK(isb_model_config_param_count(&cfg, &n));
    printf("ResNet18 parameters at width 64, 10 classes, 3 input channels: %zu\n", n);
    assert_int_equal(n, 11173962);
    cfg.width = 16;
    TEST_OK(isb_model_config_param_count(&cfg, &n));
    printf("at width 16: %zu\n", n);
    /* every conv and linear weight scales with width^2: the width-16 count is far below 1/10 */
    assert_true(n > 600000 && n < 800000);
    cfg.width = 0;
    assert_int_equal(isb_model_config_param_count(&cfg, &n), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "width"));

    isb_resnet18_plan *p = malloc(sizeof *p);
    cfg.width = 64;
    TEST_OK(isb_resnet18_plan_make(p, &cfg));
    /* torch_anchor.py state_dict names and shapes */
    const isb_rn_tensor *t = isb_resnet18_find(p, "blocks.2.sc.0.weight");
    assert_non_null(t);
    assert_int_equal(t->dims[0], 128);
    assert_int_equal(t->dims[1], 64);
    assert_int_equal(t->dims[2], 1);
    assert_non_null(isb_resnet18_find(p, "blocks.7.b2.running_var"));
    assert_null(isb_resnet18_find(p, "blocks.1.sc.0.weight")); /* identity shortcut */
    t = isb_resnet18_find(p, "fc.weight");
    assert_int_equal(t->dims[0], 10);
    assert_int_equal(t->dims[1], 512);
    /* the parameter table tiles the buffer with no gap or overlap */
    size_t covered = 0;
    for (int i = 0; i < p->n_tensors; i++)
        if (!p->tensors[i].is_stat) {
            assert_int_equal(p->tensors[i].off, covered);
            covered += p->tensors[i].numel;
        }
    assert_int_equal(covered, p->n_params);
    free(p);
}

static void init_is_pytorch_default_and_seeded(void **state) {
    (void)state;
    isb_model_config cfg = tiny_config(16, 32, 1);
    isb_resnet18_plan *p = malloc(sizeof *p);
    TEST_OK(isb_resnet18_plan_make(p, &cfg));
    float *a = malloc(p->n_params * sizeof *a), *b = malloc(p->n_params * sizeof *b);
    float *sa = malloc(p->n_stats * sizeof *sa), *sb = malloc(p->n_stats * sizeof *sb);
    isb_resnet18_init(p, 7, a, sa);
    isb_resnet18_init(p, 7, b, sb);
    assert_memory_equal(a, b, p->n_params * sizeof *a);
    isb_resnet18_init(p, 8, b, sb);
    assert_memory_not_equal(a, b, p->n_params * sizeof *a);
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        const float *v = (t->is_stat ? sa : a) + t->off;
        if (t->init == ISB_INIT_UNIFORM) {
            /* U(-1/sqrt(fan_in), 1/sqrt(fan_in)): inside the bound, variance bound^2/3 */
            int fan_in = (int)(t->ndim == 4 ? t->dims[1] * t->dims[2] * t->dims[3] : p->feat); /* fc: 8w */
            double bound = 1.0 / sqrt(fan_in), sum = 0, sq = 0;
            for (size_t j = 0; j < t->numel; j++) {
                if (!(fabs(v[j]) <= bound)) fail_msg("%s[%zu] = %g outside +-%g", t->name, j, v[j], bound);
                sum += v[j];
                sq += (double)v[j] * v[j];
            }
            if (t->numel >= 1000) {
                double mean = sum / t->numel, var = sq / t->numel - mean * mean;
                if (fabs(mean) > 0.05 * bound || fabs(var / (bound * bound / 3) - 1) > 0.1)
                    fail_msg("%s: mean %g, variance %g, expected 0 and %g", t->name, mean, var, bound * bound / 3);
            }
        } else {
            /* BN: gamma (".weight") and running_var start at 1, beta and running_mean at 0 */
            size_t len = strlen(t->name);
            int one = strcmp(t->name + len - 7, ".weight") == 0 || strstr(t->name, "running_var") != NULL;
            float want = one ? 1.0f : 0.0f;
            for (size_t j = 0; j < t->numel; j++) assert_true(v[j] == want);
        }
    }
    free(a); free(b); free(sa); free(sb); free(p);
}

/* ---- the reference model against finite differences ------------------------------------------- */

/* Per parameter tensor: the directional derivative of the loss along d (a mix of the gradient's
 * direction and a random one, unit length) by central differences, against grad . d. */
static void reference_gradient_matches_finite_differences(void **state) {
    (void)state;
    const int B = 8, S = 16; /* enough rows per BN channel for a smooth loss at small steps */
    isb_model_config cfg = tiny_config(4, S, B);
    isb_resnet18_plan *p = malloc(sizeof *p);
    TEST_OK(isb_resnet18_plan_make(p, &cfg));
    float *w = malloc(p->n_params * sizeof *w), *g = malloc(p->n_params * sizeof *g);
    float *st = malloc(p->n_stats * sizeof *st), *wp = malloc(p->n_params * sizeof *wp);
    isb_resnet18_init(p, 3, w, st);
    /* non-trivial BN affine parameters, so their gradients are exercised */
    for (int i = 0; i < p->n_tensors; i++)
        if (!p->tensors[i].is_stat && p->tensors[i].init != ISB_INIT_UNIFORM)
            test_fill_uniform(w + p->tensors[i].off, p->tensors[i].numel, 0.5f, 1.5f, 100 + i);
    batch_data host = {0};
    host.x_floats = (size_t)B * 3 * S * S;
    host.x = malloc(host.x_floats * sizeof(float));
    test_fill_uniform(host.x, host.x_floats, -1, 1, 11);
    int labels[8] = {1, 7, 3, 1, 0, 9, 4, 4};
    float weights[8] = {1.0f, 0.5f, 1.5f, 1.0f, 0.7f, 1.2f, 1.0f, 0.9f};
    double loss = isb_resnet18_reference(p, B, host.x, labels, weights, w, NULL, 1, NULL, g);
    assert_true(isfinite(loss));
    int checked = 0;
    for (int i = 0; i < p->n_tensors; i++) {
        const isb_rn_tensor *t = &p->tensors[i];
        if (t->is_stat) continue;
        float *d = malloc(t->numel * sizeof *d);
        test_fill_uniform(d, t->numel, -1, 1, 200 + i);
        double gn = 0, dn = 0;
        for (size_t j = 0; j < t->numel; j++) gn += (double)g[t->off + j] * g[t->off + j];
        gn = sqrt(gn) + 1e-30;
        for (size_t j = 0; j < t->numel; j++) {
            d[j] = (float)(g[t->off + j] / gn) + d[j] / sqrtf((float)t->numel);
            dn += (double)d[j] * d[j];
        }
        double gd = 0;
        for (size_t j = 0; j < t->numel; j++) {
            d[j] = (float)(d[j] / sqrt(dn));
            gd += (double)g[t->off + j] * d[j];
        }
        const double eps = getenv("FD_EPS") ? atof(getenv("FD_EPS")) : 3e-4;
        double f[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            memcpy(wp, w, p->n_params * sizeof *w);
            for (size_t j = 0; j < t->numel; j++) wp[t->off + j] += (float)((sgn ? -eps : eps) * d[j]);
            f[sgn] = isb_resnet18_reference(p, B, host.x, labels, weights, wp, NULL, 1, NULL, NULL);
        }
        double fd = (f[0] - f[1]) / (2 * eps);
        if (getenv("FD_PRINT")) printf("%-24s fd %.6g grad %.6g\n", t->name, fd, gd);
        if (!(fabs(fd - gd) <= 0.03 * fabs(gd) + 3e-4))
            fail_msg("%s: finite difference %.6g vs gradient %.6g (loss %.6g)", t->name, fd, gd, loss);
        checked++;
        free(d);
    }
    assert_int_equal(checked, 62); /* every parameter tensor of ResNet18 */
    free(host.x); free(w); free(g); free(st); free(wp); free(p);
}

/* ---- the device model against the reference --------------------------------------------------- */

static void device_step_matches_reference(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    const int B = test_size(6, 2), image = test_size(16, 8);
    isb_model_config cfg = tiny_config(4, image, 8);
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    const isb_resnet18_plan *p = isb_model_plan(m);
    size_t np = isb_model_param_count(m);
    float *w = malloc(np * sizeof *w), *g = malloc(np * sizeof *g), *v = calloc(np, sizeof *v);
    float *got = malloc(np * sizeof *got), *st = malloc(p->n_stats * sizeof *st);
    float *got_st = malloc(p->n_stats * sizeof *got_st);
    float *z = malloc((size_t)B * 10 * sizeof *z), *got_z = malloc((size_t)B * 10 * sizeof *got_z);
    TEST_OK(isb_model_read_params(m, w));
    TEST_OK(isb_model_read_stats(m, st));
    batch_data b = make_batch(&cfg, B, 21);
    const float lr = 0.05f;

    /* Tolerances (normalised L2 per tensor; each element also within TEST_ELEMENT_FACTOR times it),
     * worst seen on PoCL in parentheses: float sums in another order than the reference's doubles,
     * through batch norm over B x (image / 8)^2 rows. Gradients were held to 2e-3 before issue 25,
     * which let one element of a 9216-element tensor be off by 19%. */
    for (int step = 0; step < 2; step++) {
        /* reference: loss, logits, gradients, running statistics, SGD */
        double want_loss = isb_resnet18_reference(p, B, b.x, b.labels, b.weights, w, st, 1, z, g);
        isb_batch_io io = batch_io(&b, 1);
        TEST_OK(isb_model_train_step(m, &io, NULL, lr));
        float got_loss;
        TEST_OK(isb_model_read_batch_loss(m, &got_loss));
        float wl = (float)want_loss;
        test_assert_close("batch loss", &got_loss, &wl, 1, 1e-4); /* 6.0e-8 */
        TEST_OK(isb_model_read_logits(m, got_z, B));
        test_assert_close("logits", got_z, z, (size_t)B * 10, 1e-4); /* 5.7e-7 */
        TEST_OK(isb_model_read_grads(m, got));
        test_assert_close_per_tensor(p, "gradient", got, g, 0, 1e-4); /* 2.6e-6 */
        TEST_OK(isb_model_read_stats(m, got_st));
        test_assert_close_per_tensor(p, "running stat", got_st, st, 1, 1e-5); /* 3.2e-7 */
        isb_ref_sgd_update((int)np, w, g, v, lr, cfg.momentum, cfg.weight_decay);
        TEST_OK(isb_model_read_params(m, got));
        test_assert_close_per_tensor(p, "updated", got, w, 0, 1e-5); /* 2.6e-6 */
        memcpy(w, got, np * sizeof *w); /* continue from the device's state */
        memcpy(st, got_st, p->n_stats * sizeof *st);
    }
    /* unweighted per-sample losses and correctness flags of the last forward */
    float losses[8], ref_losses[8];
    int correct[8], ref_correct[8];
    test_read(b.dlosses, losses, (size_t)B * sizeof(float));
    test_read(b.dcorrect, correct, (size_t)B * sizeof(int));
    isb_ref_softmax_xent(B, 10, NULL, ref_losses, ref_correct, got_z, b.labels, NULL);
    test_assert_close("per-sample losses", losses, ref_losses, (size_t)B, 1e-5);
    for (int r = 0; r < B; r++) assert_int_equal(correct[r], ref_correct[r]);

    /* evaluation mode: the reference with the device's running statistics */
    isb_batch_io io = batch_io(&b, 0);
    TEST_OK(isb_model_eval_step(m, &io));
    TEST_OK(isb_model_read_logits(m, got_z, B));
    double eval_loss = isb_resnet18_reference(p, B, b.x, b.labels, NULL, w, st, 0, z, NULL);
    test_assert_close("eval logits", got_z, z, (size_t)B * 10, 1e-4); /* 1.0e-7 */
    float got_loss, wl = (float)eval_loss;
    TEST_OK(isb_model_read_batch_loss(m, &got_loss));
    test_assert_close("eval loss", &got_loss, &wl, 1, 1e-4);
    TEST_OK(isb_model_read_stats(m, got_st));
    assert_memory_equal(got_st, st, p->n_stats * sizeof *st); /* eval updates nothing */

    long bad;
    TEST_OK(isb_model_first_nonfinite_step(m, &bad));
    assert_int_equal(bad, -1);
    free_batch(&b);
    free(w); free(g); free(v); free(got); free(st); free(got_st); free(z); free(got_z);
    isb_model_free(m);
}

/* A sample's evaluation output depends on the running statistics only, not on its batch-mates. */
static void eval_output_independent_of_batch(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    isb_model_config cfg = tiny_config(4, 8, 4);
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    batch_data b = make_batch(&cfg, 4, 31);
    isb_batch_io io = batch_io(&b, 0);
    for (int i = 0; i < 3; i++) TEST_OK(isb_model_train_step(m, &io, NULL, 0.05f)); /* non-trivial stats */
    float z1[40], z2[40];
    TEST_OK(isb_model_eval_step(m, &io));
    TEST_OK(isb_model_read_logits(m, z1, 4));
    size_t one = b.x_floats / 4;
    test_fill_uniform(b.x + one, b.x_floats - one, -3, 3, 32); /* other batch-mates for sample 0 */
    upload_batch(&b);
    TEST_OK(isb_model_eval_step(m, &io));
    TEST_OK(isb_model_read_logits(m, z2, 4));
    test_assert_close("sample 0 eval logits with other batch-mates", z2, z1, 10, 1e-6);
    /* ... while in training mode (batch statistics) they do change it */
    TEST_OK(isb_model_train_step(m, &io, NULL, 0.0f));
    TEST_OK(isb_model_read_logits(m, z2, 4));
    assert_true(test_normalised_error(z2, z1, 10) > 1e-3);
    free_batch(&b);
    isb_model_free(m);
}

/* ---- learning, fused score update, non-finite flag -------------------------------------------- */

static void fixed_batch_is_learnt(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    const int B = 16, steps = 150;
    isb_model_config cfg = tiny_config(8, 8, B);
    cfg.weight_decay = 0;
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    batch_data b = make_batch(&cfg, B, 41);
    isb_batch_io io = batch_io(&b, 0);
    float first = 0, last = 0;
    for (int s = 0; s < steps; s++) {
        TEST_OK(isb_model_train_step(m, &io, NULL, 0.02f));
        if (s == 0) TEST_OK(isb_model_read_batch_loss(m, &first));
    }
    TEST_OK(isb_model_train_step(m, &io, NULL, 0.0f)); /* lr 0: measures the final state */
    TEST_OK(isb_model_read_batch_loss(m, &last));
    int correct[16];
    test_read(b.dcorrect, correct, sizeof correct);
    int right = 0;
    for (int r = 0; r < B; r++) right += correct[r];
    printf("fixed batch of %d: loss %.4f -> %.5f after %d steps, %d/%d right\n", B, first, last, steps, right, B);
    assert_true(isfinite(first) && first > 1.0f);
    assert_true(last < 0.1f * first);
    assert_int_equal(right, B);
    assert_int_equal(isb_model_steps(m), steps + 1);
    free_batch(&b);
    isb_model_free(m);
}

static void fused_scores_and_nonfinite_flag(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    isb_model_config cfg = tiny_config(2, 8, 4);
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    batch_data b = make_batch(&cfg, 4, 51);
    float scores[10];
    for (int i = 0; i < 10; i++) scores[i] = 10.0f + i;
    int indices[6] = {-1, -1, 7, 2, 9, 0}; /* the batch's rows are at offset 2 */
    cl_mem dscores = test_buffer_from(scores, sizeof scores), dindices = test_buffer_from(indices, sizeof indices);
    isb_score_rule rule = {ISB_SCORE_RULE_RUNNING_LOSS, 0.2f};
    isb_score_update up = {.rule = rule, .scores = dscores, .indices = dindices,
                           .indices_offset = 2};
    isb_batch_io io = batch_io(&b, 1);
    TEST_OK(isb_model_train_step(m, &io, &up, 0.01f));
    float losses[4], got[10];
    test_read(b.dlosses, losses, sizeof losses);
    test_read(dscores, got, sizeof got);
    isb_sref_score_update(scores, indices + 2, losses, 4, rule);
    test_assert_close("running scores", got, scores, 10, 1e-6);
    assert_true(got[1] == 11.0f); /* not in the batch: untouched */

    /* an out-of-range label makes step 1's loss NaN (the loss kernel's contract); the flag keeps the
     * first such step. (A NaN *input* is not used here: fmax-based ReLUs turn NaN into 0.) */
    b.labels[2] = 10;
    TEST_OK(isb_ocl_write(ocl, b.dlabels, 0, 4 * sizeof(int), b.labels));
    long bad;
    TEST_OK(isb_model_first_nonfinite_step(m, &bad));
    assert_int_equal(bad, -1);
    TEST_OK(isb_model_train_step(m, &io, NULL, 0.01f));
    TEST_OK(isb_model_train_step(m, &io, NULL, 0.01f));
    TEST_OK(isb_model_first_nonfinite_step(m, &bad));
    assert_int_equal(bad, 1);
    isb_ocl_release(&dscores);
    isb_ocl_release(&dindices);
    free_batch(&b);
    isb_model_free(m);
}

/* ---- state save / load ------------------------------------------------------------------------ */

static void save_load_gives_identical_outputs(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    isb_model_config cfg = tiny_config(4, 8, 4), other = cfg;
    other.seed = 99;
    isb_model *a, *b2;
    TEST_OK(isb_model_create(&a, ocl, &cfg));
    TEST_OK(isb_model_create(&b2, ocl, &other));
    batch_data b = make_batch(&cfg, 4, 61);
    isb_batch_io io = batch_io(&b, 0);
    TEST_OK(isb_model_train_step(a, &io, NULL, 0.05f));
    TEST_OK(isb_model_train_step(a, &io, NULL, 0.05f));
    char path[] = "/tmp/isbench-model-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    isb_checkpoint ck = {0}, back = {0};
    TEST_OK(isb_model_save_state(a, &ck, 1));
    TEST_OK(isb_checkpoint_write(&ck, path));
    TEST_OK(isb_checkpoint_read(&back, path));
    const isb_tensor *nbt = isb_checkpoint_find(&back, "blocks.3.b2.num_batches_tracked");
    assert_non_null(nbt);
    assert_int_equal(*(int64_t *)nbt->data, 2);
    TEST_OK(isb_model_load_state(b2, &back));
    assert_int_equal(isb_model_steps(b2), 2);
    float za[40], zb[40];
    TEST_OK(isb_model_eval_step(a, &io));
    TEST_OK(isb_model_read_logits(a, za, 4));
    TEST_OK(isb_model_eval_step(b2, &io));
    TEST_OK(isb_model_read_logits(b2, zb, 4));
    assert_memory_equal(za, zb, sizeof za);
    /* the momentum came along: the next step is identical too */
    TEST_OK(isb_model_train_step(a, &io, NULL, 0.05f));
    TEST_OK(isb_model_train_step(b2, &io, NULL, 0.05f));
    size_t np = isb_model_param_count(a);
    float *pa = malloc(np * sizeof *pa), *pb = malloc(np * sizeof *pb);
    TEST_OK(isb_model_read_params(a, pa));
    TEST_OK(isb_model_read_params(b2, pb));
    assert_memory_equal(pa, pb, np * sizeof *pa);

    /* a wider model refuses the file, naming the tensor and both shapes */
    isb_model_config wide = cfg;
    wide.width = 8;
    isb_model *w8;
    TEST_OK(isb_model_create(&w8, ocl, &wide));
    assert_int_equal(isb_model_load_state(w8, &back), ISB_ERR_FORMAT);
    if (!strstr(isb_last_error(), "c1.weight") || !strstr(isb_last_error(), "[4x3x3x3]") ||
        !strstr(isb_last_error(), "[8x3x3x3]"))
        fail_msg("unexpected message: %s", isb_last_error());
    /* a missing tensor is refused by name */
    isb_checkpoint partial = {0};
    for (int i = 0; i < back.count; i++)
        if (strcmp(back.tensors[i].name, "blocks.4.c2.weight") != 0) {
            const isb_tensor *t = &back.tensors[i];
            TEST_OK(isb_checkpoint_add(&partial, t->name, t->dtype, t->ndim, t->dims, t->data));
        }
    assert_int_equal(isb_model_load_state(b2, &partial), ISB_ERR_FORMAT);
    assert_non_null(strstr(isb_last_error(), "blocks.4.c2.weight"));
    unlink(path);
    isb_checkpoint_free(&ck);
    isb_checkpoint_free(&back);
    isb_checkpoint_free(&partial);
    free(pa); free(pb);
    free_batch(&b);
    isb_model_free(a);
    isb_model_free(b2);
    isb_model_free(w8);
}

/* Profiling mode (benchmarks) books every phase and leaves the results bit-identical, although its
 * extra im2col/col2im probes scribble on workspaces. */
static void profiling_mode_changes_nothing(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    isb_model_config cfg = tiny_config(2, 8, 4);
    isb_model *plain, *profiled;
    TEST_OK(isb_model_create(&plain, ocl, &cfg));
    TEST_OK(isb_model_create(&profiled, ocl, &cfg));
    isb_model_profile prof = {{0}};
    isb_model_set_profile(profiled, &prof);
    batch_data b = make_batch(&cfg, 4, 81);
    isb_batch_io io = batch_io(&b, 1);
    for (int i = 0; i < 2; i++) {
        TEST_OK(isb_model_train_step(plain, &io, NULL, 0.05f));
        TEST_OK(isb_model_train_step(profiled, &io, NULL, 0.05f));
    }
    size_t np = isb_model_param_count(plain);
    float *a = malloc(np * sizeof *a), *c = malloc(np * sizeof *c);
    TEST_OK(isb_model_read_params(plain, a));
    TEST_OK(isb_model_read_params(profiled, c));
    assert_memory_equal(a, c, np * sizeof *a);
    for (int ph = 0; ph < ISB_PHASE_COUNT; ph++)
        if (!(prof.seconds[ph] > 0)) fail_msg("phase %s booked no time", isb_model_phase_name(ph));
    free(a); free(c);
    free_batch(&b);
    isb_model_free(plain);
    isb_model_free(profiled);
}

static void bad_batches_refused(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    isb_model_config cfg = tiny_config(2, 8, 2);
    isb_model *m;
    TEST_OK(isb_model_create(&m, ocl, &cfg));
    batch_data b = make_batch(&cfg, 2, 71);
    isb_batch_io io = batch_io(&b, 0);
    io.batch = 3;
    assert_int_equal(isb_model_train_step(m, &io, NULL, 0.1f), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "max_batch"));
    io.batch = 2;
    io.x = NULL;
    assert_int_equal(isb_model_eval_step(m, &io), ISB_ERR_USAGE);
    isb_model_config bad = cfg;
    bad.classes = 1;
    isb_model *none = (isb_model *)&bad;
    assert_int_equal(isb_model_create(&none, ocl, &bad), ISB_ERR_USAGE);
    assert_null(none);
    assert_non_null(strstr(isb_last_error(), "classes"));
    isb_model_free(NULL);
    free_batch(&b);
    isb_model_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(param_count_is_resnet18),
        cmocka_unit_test(init_is_pytorch_default_and_seeded),
        cmocka_unit_test(reference_gradient_matches_finite_differences),
        cmocka_unit_test(device_step_matches_reference),
        cmocka_unit_test(eval_output_independent_of_batch),
        cmocka_unit_test(fixed_batch_is_learnt),
        cmocka_unit_test(fused_scores_and_nonfinite_flag),
        cmocka_unit_test(save_load_gives_identical_outputs),
        cmocka_unit_test(profiling_mode_changes_nothing),
        cmocka_unit_test(bad_batches_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
