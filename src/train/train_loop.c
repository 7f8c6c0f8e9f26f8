/* The training loop (Algorithm 1 of the study), read top to bottom: draw a sampler epoch, train
 * one mini-batch, evaluate after every N samples, save. isb_run_loop at the end is the whole loop.
 *
 * Loop position. Training is a sequence of sampler epochs k = 0, 1, ...: epoch k is uniform
 * (warm-up, or the uniform configuration) or importance-sampled from the scores at its start. Its
 * index list Z (and weights) lives on the device and is consumed in mini-batches of `batch`; the
 * last mini-batch of an epoch keeps the |Z| mod batch remaining samples (nothing is dropped).
 * After every step that brings samples_seen to a multiple of N (rounded up to the step), the test
 * set is evaluated: that is one data epoch (docs/protocol-notes.md, note 1).
 *
 * Synchronisation. A step only enqueues. clFinish happens at phase boundaries: before and after
 * each draw (sampling), around each evaluation and checkpoint, and around batch assembly only with
 * --profile. */
#include "train/run.h"
#include "train/stop.h"
#include "util/error.h"
#include "util/timer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

/* Ends the phase that ran since the last synchronisation: waits for the device, adds the elapsed
 * host time to *phase (NULL: to none) and moves the mark. */
static int sync_into(isb_run *r, double *phase) {
    ISB_TRY(isb_ocl_finish(r->ocl));
    double now = isb_now();
    if (phase) *phase += now - r->mark;
    r->mark = now;
    return ISB_OK;
}

static int check_finite(isb_run *r) {
    long bad;
    ISB_TRY(isb_model_first_nonfinite_step(r->model, &bad));
    if (bad >= 0)
        return isb_fail(ISB_ERR_NUMERIC,
                        "the training loss became NaN/Inf at step %ld (counted from 0; %" PRId64 " steps so far): lower --lr or "
                        "check the inputs; the metrics up to the last evaluation are kept",
                        bad, r->s.step);
    return ISB_OK;
}

/* Draws the next sampler epoch's Z (and weights) from the scores as they are now. */
static int begin_sampler_epoch(isb_run *r) {
    const isb_train_config *c = r->cfg;
    isb_train_state *s = &r->s;
    ISB_TRY(sync_into(r, &s->t.training));
    ISB_TRY(check_finite(r));
    if (c->sampler == ISB_SAMPLER_UNIFORM || s->sampler_epoch < (uint32_t)c->warmup_epochs) {
        /* warm-up draws all N (Algorithm 1 line 5); the uniform configuration draws its |Z| (N by default) */
        s->zlen = c->sampler == ISB_SAMPLER_UNIFORM ? r->z : r->n;
        s->z_weighted = 0;
        ISB_TRY(isb_sampler_uniform(r->env->sampler, r->n, s->zlen, c->seed, s->sampler_epoch, r->z_idx, r->z_w));
    } else {
        s->zlen = r->z;
        s->z_weighted = c->weights != ISB_WEIGHTS_NONE;
        ISB_TRY(isb_sampler_draw(r->env->sampler, r->scores, r->n, r->z, c->temperature, c->draw, c->weights, c->seed,
                                 s->sampler_epoch, r->z_idx, r->z_w));
    }
    s->pos = 0;
    return sync_into(r, &s->t.sampling);
}

/* One mini-batch of Z: assemble it (augmented), forward, backward, SGD and the fused score update. */
static int train_one_step(isb_run *r) {
    const isb_train_config *c = r->cfg;
    isb_train_state *s = &r->s;
    int b = s->zlen - s->pos < c->batch ? s->zlen - s->pos : c->batch;
    isb_augment aug = {c->augment, c->augment, c->normalize};
    if (c->profile) ISB_TRY(sync_into(r, &s->t.training));
    ISB_TRY(isb_batcher_assemble(r->env->train_batcher, r->z_idx, s->pos, b, c->seed, s->sampler_epoch, aug, r->x,
                                 r->labels));
    if (c->profile) ISB_TRY(sync_into(r, &s->t.data));
    cl_mem weights = NULL;
    if (s->z_weighted) {
        /* the batch io has no weights offset: copy this batch's slice, device to device */
        ISB_TRY(isb_ocl_copy(r->ocl, r->z_w, (size_t)s->pos * sizeof(float), r->batch_w, 0, (size_t)b * sizeof(float),
                             "the batch's importance weights"));
        weights = r->batch_w;
    }
    isb_batch_io io = {.x = r->x, .labels = r->labels, .weights = weights, .batch = b, .losses = r->since_loss,
                       .losses_offset = s->since_eval, .correct = r->since_correct, .correct_offset = s->since_eval};
    isb_score_update su = {.rule = isb_train_config_score_rule(c), .scores = r->scores, .indices = r->z_idx,
                           .indices_offset = s->pos};
    ISB_TRY(isb_model_train_step(r->model, &io, &su, s->lr));
    s->pos += b;
    s->samples_seen += b;
    s->since_eval += b;
    s->step++;
    if (s->pos == s->zlen) {
        s->sampler_epoch++;
        s->zlen = 0;
    }
    return ISB_OK;
}

/* Test-set forward passes; reads the per-sample test and training results and the scores. A stop
 * request is acted on after the batch in progress (ISB_ERR_INTERRUPTED, the evaluation left pending
 * for the resumed run): each batch is waited for, so that a stop never waits for the whole set. */
static int run_test_set(isb_run *r) {
    const isb_train_config *c = r->cfg;
    isb_augment plain = {false, false, c->normalize};
    for (int off = 0; off < r->n_test; off += c->batch) {
        int b = r->n_test - off < c->batch ? r->n_test - off : c->batch;
        ISB_TRY(isb_batcher_assemble(r->env->test_batcher, r->test_idx, off, b, c->seed, 0, plain, r->x, r->labels));
        isb_batch_io io = {.x = r->x, .labels = r->labels, .batch = b, .losses = r->test_loss, .losses_offset = off,
                           .correct = r->test_correct, .correct_offset = off};
        ISB_TRY(isb_model_eval_step(r->model, &io));
        ISB_TRY(isb_ocl_mark_and_wait_previous(r->ocl, &r->step_mark));
        if (c->stop_in_evaluation >= 0 && off / c->batch + 1 == c->stop_in_evaluation) isb_stop_request();
        if (isb_stop_requested()) return ISB_ERR_INTERRUPTED;
    }
    ISB_TRY(isb_ocl_read(r->ocl, r->test_loss, 0, (size_t)r->n_test * sizeof(float), r->h_test_loss));
    ISB_TRY(isb_ocl_read(r->ocl, r->test_correct, 0, (size_t)r->n_test * sizeof(int), r->h_test_correct));
    ISB_TRY(isb_ocl_read(r->ocl, r->since_loss, 0, (size_t)r->s.since_eval * sizeof(float), r->h_since_loss));
    ISB_TRY(isb_ocl_read(r->ocl, r->since_correct, 0, (size_t)r->s.since_eval * sizeof(int), r->h_since_correct));
    return isb_ocl_read(r->ocl, r->scores, 0, (size_t)r->n * sizeof(float), r->h_scores);
}

/* Evaluates the test set and closes the data epoch: metrics row, score histogram, lr schedule,
 * early stopping. *stop is set (with the reason) when the run is over. */
static int evaluate(isb_run *r, bool *stop, char *reason, size_t reason_size) {
    const isb_train_config *c = r->cfg;
    isb_train_state *s = &r->s;
    *stop = true;
    ISB_TRY(sync_into(r, &s->t.training));
    ISB_TRY(check_finite(r));
    isb_progress_evaluating(&r->progress, s, r->n_test);
    int rc = run_test_set(r);
    ISB_TRY(sync_into(r, &s->t.evaluation));
    if (rc < 0) return rc;

    double test_loss = 0, train_loss = 0;
    long test_hits = 0, train_hits = 0;
    for (int i = 0; i < r->n_test; i++) test_loss += r->h_test_loss[i], test_hits += r->h_test_correct[i];
    for (int i = 0; i < s->since_eval; i++) train_loss += r->h_since_loss[i], train_hits += r->h_since_correct[i];
    int epoch = s->n_rows + 1;
    train_loss /= s->since_eval, test_loss /= r->n_test;
    if (!isfinite(train_loss) || !isfinite(test_loss)) /* before the row is committed: no nan reaches a file */
        return isb_fail(ISB_ERR_NUMERIC, "non-finite mean loss at data epoch %d (train %g, test %g): lower --lr",
                        epoch, train_loss, test_loss);
    ISB_TRY(isb_train_state_grow_rows(s, s->n_rows + 1));
    isb_metrics_row *row = &s->rows[s->n_rows];
    *row = (isb_metrics_row){epoch, s->samples_seen, isb_run_wall(r), s->lr, train_loss,
                             (double)train_hits / s->since_eval, test_loss, (double)test_hits / r->n_test};
    s->hist_epochs[s->n_rows] = epoch;
    isb_score_hist_compute(s->hist + (size_t)s->n_rows * ISB_HIST_BINS, r->h_scores, r->n);
    s->n_rows++;
    s->since_eval = 0;

    bool early = isb_early_stop_update(&s->es, c, row->test_acc);
    s->lr = isb_lr_at(c, epoch);
    if (early) snprintf(reason, reason_size, ISB_STOP_REASON_EARLY ": %d evaluations without improvement (%s rule)",
                        s->es.bad_evals, c->early_stop == ISB_EARLY_STOP_BEST ? "consecutive" : "cumulative");
    else if (epoch >= c->max_epochs) snprintf(reason, reason_size, "reached --max-epochs %d", c->max_epochs);
    else *stop = false;
    isb_progress_evaluation(&r->progress, s, isb_run_wall(r), *stop);
    return ISB_OK;
}

/* A checkpoint, at a step boundary, after the device work so far (its time counts in no phase). */
static int checkpoint(isb_run *r, double *phase) {
    ISB_TRY(sync_into(r, phase));
    ISB_TRY(isb_run_save_checkpoint(r));
    r->mark = r->last_checkpoint = isb_now();
    return ISB_OK;
}

static bool checkpoint_due(const isb_run *r) {
    double every = r->env->policy.checkpoint_every_s;
    return every > 0 && isb_now() - r->last_checkpoint >= every;
}

/* The data epoch is complete (samples_seen reached the next multiple of N) and not yet evaluated:
 * right after the step that completed it, or after a resume from a checkpoint written by a stop
 * that came before or during that evaluation. */
bool isb_run_evaluation_due(const isb_run *r) { return r->s.samples_seen >= (int64_t)(r->s.n_rows + 1) * r->n; }

/* One turn of the loop: the pending evaluation, else one training step. *stop: the run is over. */
static int loop_turn(isb_run *r, bool *stop, char *reason, size_t reason_size) {
    isb_train_state *s = &r->s;
    *stop = false;
    if (isb_run_evaluation_due(r)) {
        ISB_TRY(evaluate(r, stop, reason, reason_size));
        if (*stop) return ISB_OK; /* the lifecycle writes the final files */
        /* checkpoint first, then the files derived from it: a kill in between loses nothing */
        ISB_TRY(checkpoint(r, NULL));
        return isb_run_write_results(r, "running", NULL, NULL);
    }
    if (s->zlen == 0) ISB_TRY(begin_sampler_epoch(r));
    ISB_TRY(train_one_step(r));
    ISB_TRY(isb_ocl_mark_and_wait_previous(r->ocl, &r->step_mark)); /* at most one step ahead */
    if (isb_run_evaluation_due(r)) return ISB_OK;
    isb_progress_between_evaluations(&r->progress, s, isb_run_wall(r));
    return checkpoint_due(r) ? checkpoint(r, &s->t.training) : ISB_OK;
}

int isb_run_loop(isb_run *r, char *reason, size_t reason_size) {
    const isb_train_config *c = r->cfg;
    isb_train_state *s = &r->s;
    int rc = ISB_OK;
    for (;;) {
        bool stop;
        int64_t step = s->step;
        ISB_CHECK(loop_turn(r, &stop, reason, reason_size));
        if (stop) break;
        if (c->stop_after_step >= 0 && s->step == c->stop_after_step && s->step != step) isb_stop_request();
        if (isb_stop_requested()) {
            ISB_CHECK(sync_into(r, &s->t.training));
            rc = ISB_ERR_INTERRUPTED;
            break;
        }
    }
done:
    if (rc == ISB_ERR_INTERRUPTED) sync_into(r, NULL); /* a stop inside an evaluation: the device is idle */
    isb_ocl_mark_release(&r->step_mark);
    return rc;
}
