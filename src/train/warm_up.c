/* Compile before the clock. The first use of an OpenCL program, and of a CLBlast GEMM shape,
 * builds it: seconds to minutes on a cold kernel cache, which the clock would book as training or
 * sampling. Before a run's clock starts, isb_run_warm_up runs once everything the loop runs -- the
 * draws, a training step at every batch size the run meets (full and the tails of Z and N), an
 * evaluation step at every test batch size, batch assembly -- on SCRATCH state: its own model,
 * scores, indices and outputs. The run's own buffers are not touched (x and labels aside, which
 * every step assembles before reading), so results are bit-identical to a run without it. Its
 * time is the `init` phase of timing.csv. */
#include "train/run.h"
#include "util/error.h"
#include "util/timer.h"

#include <stdio.h>

typedef struct {
    isb_model *model;
    cl_mem scores, z_idx, z_w, losses, correct;
} scratch;

typedef enum { STEP_EVAL, STEP_TRAIN, STEP_TRAIN_WEIGHTED } step_kind;

static void scratch_free(scratch *w) {
    isb_model_free(w->model);
    cl_mem *bufs[] = {&w->scores, &w->z_idx, &w->z_w, &w->losses, &w->correct};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
}

static int scratch_alloc(const isb_run *r, scratch *w) {
    isb_ocl *ocl = r->ocl;
    size_t zcap = (size_t)(r->z > r->n ? r->z : r->n), batch = (size_t)r->cfg->batch;
    ISB_TRY(isb_ocl_alloc(ocl, &w->scores, (size_t)r->n * sizeof(float), "warm-up scores"));
    ISB_TRY(isb_ocl_fill_zero(ocl, w->scores, 0, (size_t)r->n * sizeof(float)));
    ISB_TRY(isb_ocl_alloc(ocl, &w->z_idx, zcap * sizeof(int), "warm-up indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &w->z_w, zcap * sizeof(float), "warm-up weights"));
    ISB_TRY(isb_ocl_alloc(ocl, &w->losses, batch * sizeof(float), "warm-up losses"));
    return isb_ocl_alloc(ocl, &w->correct, batch * sizeof(int), "warm-up hits");
}

/* The uniform draw (every run's warm-up epochs or its only draw), then the configuration's own.
 * The uniform draw of N comes last so that w->z_idx holds valid training indices for the steps. */
static int warm_draws(const isb_run *r, scratch *w) {
    const isb_train_config *c = r->cfg;
    isb_sampler *s = r->env->sampler;
    if (c->sampler != ISB_SAMPLER_UNIFORM)
        ISB_TRY(isb_sampler_draw(s, w->scores, r->n, r->z, c->temperature, c->draw, c->weights, c->seed, 0, w->z_idx,
                                 w->z_w));
    if (r->z != r->n) ISB_TRY(isb_sampler_uniform(s, r->n, r->z, c->seed, 0, w->z_idx, w->z_w));
    return isb_sampler_uniform(s, r->n, r->n, c->seed, 0, w->z_idx, w->z_w);
}

/* One step of b samples on the scratch model (created on first need). */
static int warm_step(isb_run *r, scratch *w, int b, step_kind kind) {
    const isb_train_config *c = r->cfg;
    bool train = kind != STEP_EVAL;
    if (!w->model) ISB_TRY(isb_model_create(&w->model, r->ocl, isb_model_get_config(r->model)));
    isb_augment aug = {train && c->augment, train && c->augment, c->normalize};
    isb_batcher *batcher = train ? r->env->train_batcher : r->env->test_batcher;
    ISB_TRY(isb_batcher_assemble(batcher, train ? w->z_idx : r->test_idx, 0, b, c->seed, 0, aug, r->x, r->labels));
    isb_batch_io io = {.x = r->x, .labels = r->labels, .batch = b, .losses = w->losses, .correct = w->correct};
    if (!train) return isb_model_eval_step(w->model, &io);
    io.weights = kind == STEP_TRAIN_WEIGHTED ? w->z_w : NULL;
    isb_score_update su = {.rule = isb_train_config_score_rule(c), .scores = w->scores, .indices = w->z_idx};
    ISB_TRY(isb_model_train_step(w->model, &io, &su, c->lr));
    long bad;
    return isb_model_first_nonfinite_step(w->model, &bad);
}

/* Runs the step unless this process already ran one of that width, kind and size. */
static int warm_step_once(isb_run *r, scratch *w, int b, step_kind kind) {
    isb_train_env *env = r->env;
    long key = ((long)r->cfg->width * 4 + kind) << 24 | b;
    for (int i = 0; i < env->n_warmed; i++)
        if (env->warmed[i] == key) return ISB_OK;
    ISB_TRY(warm_step(r, w, b, kind));
    if (env->n_warmed < (int)(sizeof env->warmed / sizeof env->warmed[0])) env->warmed[env->n_warmed++] = key;
    return ISB_OK;
}

/* The batch sizes a run meets: full batches and the last batch of |Z|, N (warm-up epochs) or the
 * test set; unweighted (uniform epochs) and, if the configuration weighs, weighted. */
static int warm_steps(isb_run *r, scratch *w) {
    const isb_train_config *c = r->cfg;
    int batch = c->batch;
    int train_sizes[] = {batch < r->n ? batch : r->n, r->z % batch, r->n % batch};
    int test_sizes[] = {batch < r->n_test ? batch : r->n_test, r->n_test % batch};
    for (int i = 0; i < 3; i++)
        if (train_sizes[i] > 0) ISB_TRY(warm_step_once(r, w, train_sizes[i], STEP_TRAIN));
    if (c->weights != ISB_WEIGHTS_NONE && c->sampler != ISB_SAMPLER_UNIFORM)
        ISB_TRY(warm_step_once(r, w, train_sizes[0], STEP_TRAIN_WEIGHTED));
    for (int i = 0; i < 2; i++)
        if (test_sizes[i] > 0) ISB_TRY(warm_step_once(r, w, test_sizes[i], STEP_EVAL));
    return ISB_OK;
}

int isb_run_warm_up(isb_run *r) {
    double t0 = isb_now();
    fprintf(stderr, "[%s] compiling kernels… (init: every program and GEMM shape of the run, one warm-up step "
                    "on scratch state; not timed as training)\n", r->label);
    scratch w = {0};
    int rc = ISB_OK;
    ISB_CHECK(scratch_alloc(r, &w));
    ISB_CHECK(warm_draws(r, &w));
    ISB_CHECK(warm_steps(r, &w));
    ISB_CHECK(isb_ocl_finish(r->ocl));
    r->s.t.init += isb_now() - t0;
done:
    scratch_free(&w);
    return rc < 0 ? isb_fail_context(rc, "while compiling the kernels before the run") : rc;
}
