/* The training loop (Algorithm 1) with evaluation per data epoch, phase timing, result files and
 * checkpoint/resume. See train.h for the contract.
 *
 * Loop position. Training is a sequence of sampler epochs k = 0, 1, ...: epoch k is uniform
 * (warm-up, or the uniform configuration) or importance-sampled from the scores at its start. Its
 * index list Z (and weights) lives on the device and is consumed in mini-batches of `batch`; the
 * last mini-batch of an epoch keeps the |Z| mod batch remaining samples (nothing is dropped).
 * After every step that brings samples_seen to a multiple of N (rounded up to the step), the test
 * set is evaluated: that is one data epoch (PROTOCOL item 1).
 *
 * Resume. The checkpoint is written at a step boundary and holds the model, optimizer, scores, the
 * current Z and weights (scores move during an epoch, so Z cannot be re-derived from them), the
 * per-sample losses since the last evaluation and every counter; all randomness is counter-based
 * (seed, sampler epoch, sample), so the resumed run reproduces the uninterrupted one exactly.
 *
 * Synchronisation. A step only enqueues. clFinish happens at phase boundaries: before and after
 * each draw (sampling), around each evaluation, and around batch assembly only with --profile. */
#include "train/train.h"
#include "nn/model.h"
#include "ocl/clblast_tuning.h"
#include "results/checkpoint.h"
#include "results/run_files.h"
#include "results/score_hist.h"
#include "train/schedule.h"
#include "train/stop.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/timer.h"
#include "util/version.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUBSET_SEED 0 /* the same subset for every configuration and seed */
#define CHECKPOINT_VERSION 1

/* ---- environment --------------------------------------------------------------------------- */

int isb_train_env_open(isb_train_env *env, isb_ocl *ocl, const isb_train_config *cfg, const char *data_dir) {
    memset(env, 0, sizeof *env);
    env->ocl = ocl;
    snprintf(env->data_dir, sizeof env->data_dir, "%s", data_dir);
    snprintf(env->dataset, sizeof env->dataset, "%s", cfg->dataset);
    env->train_subset = cfg->train_subset;
    env->test_subset = cfg->test_subset;
    int rc = isb_dataset_load(&env->train, cfg->dataset, data_dir, true, cfg->train_subset, SUBSET_SEED);
    if (rc >= 0) rc = isb_dataset_load(&env->test, cfg->dataset, data_dir, false, cfg->test_subset, SUBSET_SEED);
    if (rc >= 0) rc = isb_batcher_create(&env->train_batcher, ocl, &env->train);
    if (rc >= 0) rc = isb_batcher_create(&env->test_batcher, ocl, &env->test);
    if (rc < 0) isb_train_env_close(env);
    return rc;
}

void isb_train_env_close(isb_train_env *env) {
    isb_sampler_free(env->sampler);
    isb_batcher_free(env->train_batcher);
    isb_batcher_free(env->test_batcher);
    if (env->train.pixels || env->train.labels) isb_dataset_free(&env->train);
    if (env->test.pixels || env->test.labels) isb_dataset_free(&env->test);
    isb_ocl *ocl = env->ocl;
    memset(env, 0, sizeof *env);
    env->ocl = ocl;
}

/* The sampler's work buffers are sized by the largest run so far; grown only when needed. */
static int env_sampler(isb_train_env *env, int n, int z) {
    if (env->sampler && env->sampler_n >= n && env->sampler_z >= z) return ISB_OK;
    isb_sampler_free(env->sampler);
    env->sampler = NULL;
    ISB_TRY(isb_sampler_create(&env->sampler, env->ocl, n, z));
    env->sampler_n = n;
    env->sampler_z = z;
    return ISB_OK;
}

/* ---- one run ------------------------------------------------------------------------------- */

typedef struct {
    /* position */
    uint32_t sampler_epoch;   /* current (or next, when zlen == 0) sampler epoch */
    int pos, zlen;            /* next row of Z, and |Z| of the current epoch (0: draw a new one) */
    int z_weighted;           /* the current Z carries importance weights */
    int64_t samples_seen, step;
    int since_eval;           /* samples since the last evaluation = rows used in the since_* buffers */
    isb_early_stop es;
    float lr;
    /* time */
    double wall_before;       /* wall time of earlier sessions of this run */
    isb_phase_times t;
    /* results so far */
    isb_metrics_row *rows;
    int64_t *hist;            /* [rows][ISB_HIST_BINS] */
    int *hist_epochs;
    int n_rows, cap_rows;
} loop_state;

typedef struct {
    const isb_train_config *cfg;
    isb_train_env *env;
    isb_ocl *ocl;
    isb_model *model;
    const char *dir, *suite, *label;
    int n, n_test, z;
    /* device buffers, allocated once per run */
    cl_mem scores, z_idx, z_w, batch_w, x, labels, since_loss, since_correct, test_idx, test_loss, test_correct;
    float *h_scores, *h_since_loss, *h_test_loss;
    int *h_since_correct, *h_test_correct;
    loop_state s;
    double session_start, mark; /* mark: host time of the last synchronisation */
    double last_progress;       /* host time of the last progress line */
    int64_t session_samples0;
    json_t *manifest;
} run_ctx;

static double wall_now(const run_ctx *r) { return r->s.wall_before + (isb_now() - r->session_start); }

static void iso_time(char *buf, size_t size) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int alloc_buffers(run_ctx *r) {
    const isb_train_config *c = r->cfg;
    isb_ocl *ocl = r->ocl;
    int zcap = r->z > r->n ? r->z : r->n; /* warm-up epochs draw N */
    size_t img = (size_t)r->env->train.channels * 32 * 32;
    int since_cap = r->n + c->batch; /* a data epoch ends within the step that crosses N */
    ISB_TRY(isb_ocl_alloc(ocl, &r->scores, (size_t)r->n * sizeof(float), "scores"));
    ISB_TRY(isb_ocl_fill_zero(ocl, r->scores, 0, (size_t)r->n * sizeof(float)));
    ISB_TRY(isb_ocl_alloc(ocl, &r->z_idx, (size_t)zcap * sizeof(int), "sampled indices Z"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->z_w, (size_t)zcap * sizeof(float), "importance weights"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->batch_w, (size_t)c->batch * sizeof(float), "batch weights"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->x, (size_t)c->batch * img * sizeof(float), "input batch"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->labels, (size_t)c->batch * sizeof(int), "batch labels"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->since_loss, (size_t)since_cap * sizeof(float), "training losses"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->since_correct, (size_t)since_cap * sizeof(int), "training hits"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->test_idx, (size_t)r->n_test * sizeof(int), "test indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->test_loss, (size_t)r->n_test * sizeof(float), "test losses"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->test_correct, (size_t)r->n_test * sizeof(int), "test hits"));
    r->h_scores = malloc((size_t)r->n * sizeof(float));
    r->h_since_loss = malloc((size_t)since_cap * sizeof(float));
    r->h_since_correct = malloc((size_t)since_cap * sizeof(int));
    r->h_test_loss = malloc((size_t)r->n_test * sizeof(float));
    r->h_test_correct = malloc((size_t)r->n_test * sizeof(int));
    int *ident = malloc((size_t)r->n_test * sizeof(int));
    if (!r->h_scores || !r->h_since_loss || !r->h_since_correct || !r->h_test_loss || !r->h_test_correct || !ident) {
        free(ident);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory for the result buffers of %d samples", r->n);
    }
    for (int i = 0; i < r->n_test; i++) ident[i] = i;
    int rc = isb_ocl_write(ocl, r->test_idx, 0, (size_t)r->n_test * sizeof(int), ident);
    free(ident);
    return rc;
}

static void free_run(run_ctx *r) {
    cl_mem *bufs[] = {&r->scores, &r->z_idx, &r->z_w, &r->batch_w, &r->x, &r->labels, &r->since_loss,
                      &r->since_correct, &r->test_idx, &r->test_loss, &r->test_correct};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
    free(r->h_scores); free(r->h_since_loss); free(r->h_since_correct); free(r->h_test_loss); free(r->h_test_correct);
    free(r->s.rows); free(r->s.hist); free(r->s.hist_epochs);
    isb_model_free(r->model);
    json_decref(r->manifest);
}

/* Ends the phase that ran since the last synchronisation: waits for the device, adds the elapsed
 * host time to *phase and moves the mark. */
static int sync_into(run_ctx *r, double *phase) {
    ISB_TRY(isb_ocl_finish(r->ocl));
    double now = isb_now();
    if (phase) *phase += now - r->mark;
    r->mark = now;
    return ISB_OK;
}

static int check_finite(run_ctx *r) {
    long bad;
    ISB_TRY(isb_model_first_nonfinite_step(r->model, &bad));
    if (bad >= 0)
        return isb_fail(ISB_ERR_NUMERIC,
                        "the training loss became NaN/Inf at step %ld (counted from 0; %" PRId64 " steps so far): lower --lr or "
                        "check the inputs; the metrics up to the last evaluation are kept",
                        bad, r->s.step);
    return ISB_OK;
}

/* ---- result files ---------------------------------------------------------------------------- */

static json_t *device_json(const isb_ocl *ocl) {
    const isb_device_info *d = &ocl->info;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "name", d->name, "vendor", d->vendor,
                     "driver", d->driver_version, "version", d->device_version, "opencl_c", d->c_version,
                     "platform", d->platform_name, "platform_version", d->platform_version,
                     "compute_units", (json_int_t)d->compute_units, "global_mem_bytes", (json_int_t)d->global_mem);
}

static int write_results(run_ctx *r, const char *status, const char *stop_reason, const char *message) {
    loop_state *s = &r->s;
    isb_phase_times t = s->t;
    t.total = wall_now(r);
    ISB_TRY(isb_write_metrics_csv(r->dir, s->rows, s->n_rows));
    ISB_TRY(isb_write_scores_hist_csv(r->dir, s->hist_epochs, s->hist, s->n_rows));
    ISB_TRY(isb_write_timing_csv(r->dir, &t));

    json_t *m = r->manifest;
    char now[32];
    iso_time(now, sizeof now);
    json_object_set_new(m, "status", json_string(status));
    json_object_set_new(m, "updated", json_string(now));
    if (strcmp(status, "running") != 0) json_object_set_new(m, "ended", json_string(now));
    else json_object_del(m, "ended");
    json_object_set_new(m, "stop_reason", stop_reason ? json_string(stop_reason) : json_null());
    json_object_set_new(m, "message", message ? json_string(message) : json_null());
    double last = s->n_rows ? s->rows[s->n_rows - 1].test_acc : NAN, best = -1;
    for (int i = 0; i < s->n_rows; i++)
        if (s->rows[i].test_acc > best) best = s->rows[i].test_acc;
    bool cumulative = r->cfg->early_stop == ISB_EARLY_STOP_CUMULATIVE;
    json_object_set_new(m, "progress",
                        json_pack("{s:i, s:I, s:I, s:I, s:f, s:f}", "data_epochs", s->n_rows, "samples_seen",
                                  (json_int_t)s->samples_seen, "steps", (json_int_t)s->step, "sampler_epochs",
                                  (json_int_t)s->sampler_epoch, "lr", (double)s->lr, "wall_s", t.total));
    if (s->n_rows)
        json_object_set_new(m, "final",
                            json_pack("{s:f, s:f, s:f, s:s}", "test_acc", cumulative ? last : best, "best_test_acc",
                                      best, "last_test_acc", last, "reported", cumulative ? "last" : "best"));
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", r->dir);
    return isb_write_json_atomic(path, m);
}

static json_t *new_manifest(run_ctx *r, const json_t *config) {
    char now[32];
    iso_time(now, sizeof now);
    const isb_train_config *c = r->cfg;
    json_t *m = json_object();
    json_object_set_new(m, "isbench", json_pack("{s:s, s:s}", "version", isb_version_string, "commit", isb_git_commit));
    json_object_set_new(m, "device", device_json(r->ocl));
    json_object_set_new(m, "clblast", json_string(isb_clblast_version()));
    json_object_set_new(m, "clblast_tuning", json_string(isb_clblast_tuning_applied()));
    json_object_set_new(m, "suite", json_string(r->suite));
    json_object_set_new(m, "preset", json_string(c->preset));
    json_object_set_new(m, "config", json_string(c->name));
    json_object_set_new(m, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(m, "configuration", json_deep_copy(config));
    json_object_set_new(m, "data", json_pack("{s:s, s:s, s:i, s:i, s:i, s:I}", "dir", r->env->data_dir, "dataset",
                                             c->dataset, "train_n", r->n, "test_n", r->n_test, "z", r->z,
                                             "model_parameters", (json_int_t)isb_model_param_count(r->model)));
    json_object_set_new(
        m, "notes",
        json_pack("{s:s, s:s, s:s, s:s}", "partial_batch",
                  "kept: the last mini-batch of a sampler epoch holds the |Z| mod batch remaining samples",
                  "data_epoch",
                  "an evaluation after every N training samples (rounded up to the step that reaches them); "
                  "lr milestones and early stopping count these evaluations",
                  "weights", "importance weights default to none, as in the study's public code (PROTOCOL item 3)",
                  "timing",
                  "host clock around clFinish at phase boundaries only. training = forward, backward, SGD, the "
                  "fused score update and (without --profile) batch assembly; score_update is fused into the loss "
                  "kernel and cannot be timed apart (nan); data = batch assembly, measured only with --profile "
                  "(nan otherwise); sampling = softmax + draw + shuffle + weights per sampler epoch; evaluation = "
                  "test forward passes + reading per-sample results; total = run wall time"));
    json_object_set_new(m, "started", json_string(now));
    return m;
}

/* ---- checkpoint ---------------------------------------------------------------------------- */

enum { C_VERSION, C_N, C_EPOCH, C_POS, C_ZLEN, C_ZW, C_SEEN, C_STEP, C_SINCE, C_BAD, C_EVALS, C_ROWS, C_COUNT };
enum { D_BEST, D_WALL, D_TRAIN, D_EVAL, D_SAMPLING, D_DATA, D_LR, D_COUNT };

static int64_t dbits(double v) { int64_t b; memcpy(&b, &v, sizeof b); return b; }
static double bitsd(int64_t b) { double v; memcpy(&v, &b, sizeof v); return v; }

/* Device buffer of int or float → checkpoint tensor (ints as I64: the format has no int32). */
static int add_device(run_ctx *r, isb_checkpoint *ck, const char *name, cl_mem buf, int n, bool is_int) {
    int64_t dims[1] = {n > 0 ? n : 1}; /* never an empty tensor; the counters say how much is valid */
    size_t count = (size_t)dims[0];
    void *h = calloc(count, is_int ? sizeof(int64_t) : sizeof(float));
    if (!h) return isb_fail(ISB_ERR_MEMORY, "out of host memory for checkpoint tensor %s", name);
    int rc = ISB_OK;
    if (n > 0) rc = isb_ocl_read(r->ocl, buf, 0, (size_t)n * 4, h);
    if (rc >= 0 && is_int) {
        int32_t *src = h;
        int64_t *dst = h;
        for (int i = n - 1; i >= 0; i--) dst[i] = src[i]; /* widen in place, from the end */
    }
    if (rc >= 0) rc = isb_checkpoint_add(ck, name, is_int ? ISB_DTYPE_I64 : ISB_DTYPE_F32, 1, dims, h);
    free(h);
    return rc;
}

static int load_device(run_ctx *r, const isb_checkpoint *ck, const char *name, cl_mem buf, int n, bool is_int) {
    const isb_tensor *t = isb_checkpoint_find(ck, name);
    if (!t || t->dtype != (is_int ? ISB_DTYPE_I64 : ISB_DTYPE_F32) || isb_tensor_numel(t) < n)
        return isb_fail(ISB_ERR_FORMAT, "checkpoint tensor %s is missing or has the wrong type or size", name);
    if (n == 0) return ISB_OK;
    if (!is_int) return isb_ocl_write(r->ocl, buf, 0, (size_t)n * 4, t->data);
    int32_t *tmp = malloc((size_t)n * 4);
    if (!tmp) return isb_fail(ISB_ERR_MEMORY, "out of host memory loading %s", name);
    for (int i = 0; i < n; i++) tmp[i] = (int32_t)((const int64_t *)t->data)[i];
    int rc = isb_ocl_write(r->ocl, buf, 0, (size_t)n * 4, tmp);
    free(tmp);
    return rc;
}

static int save_checkpoint(run_ctx *r) {
    loop_state *s = &r->s;
    isb_checkpoint ck = {0};
    int64_t c[C_COUNT] = {CHECKPOINT_VERSION, r->n, s->sampler_epoch, s->pos, s->zlen, s->z_weighted,
                          s->samples_seen, s->step, s->since_eval, s->es.bad_evals, s->es.evals, s->n_rows};
    int64_t d[D_COUNT] = {dbits(s->es.best_acc), dbits(wall_now(r)), dbits(s->t.training), dbits(s->t.evaluation),
                          dbits(s->t.sampling), dbits(s->t.data), dbits(s->lr)};
    int64_t dc[1] = {C_COUNT}, dd[1] = {D_COUNT};
    int64_t drows[2] = {s->n_rows > 0 ? s->n_rows : 1, 8}, dhist[2] = {s->n_rows > 0 ? s->n_rows : 1, ISB_HIST_BINS};
    int64_t *rows = calloc((size_t)drows[0] * 8, sizeof *rows);
    int64_t *hist = calloc((size_t)dhist[0] * ISB_HIST_BINS, sizeof *hist);
    int rc = rows && hist ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory for the checkpoint");
    for (int i = 0; rc >= 0 && i < s->n_rows; i++) {
        const isb_metrics_row *m = &s->rows[i];
        double v[8] = {m->data_epoch, (double)m->samples_seen, m->wall_s, m->lr,
                       m->train_loss, m->train_acc, m->test_loss, m->test_acc};
        for (int k = 0; k < 8; k++) rows[i * 8 + k] = dbits(v[k]); /* doubles bit-exact through I64 */
    }
    if (rc >= 0 && s->n_rows) memcpy(hist, s->hist, (size_t)s->n_rows * ISB_HIST_BINS * sizeof *hist);
    if (rc >= 0) rc = isb_checkpoint_add(&ck, "train/counters", ISB_DTYPE_I64, 1, dc, c);
    if (rc >= 0) rc = isb_checkpoint_add(&ck, "train/doubles", ISB_DTYPE_I64, 1, dd, d);
    if (rc >= 0) rc = isb_checkpoint_add(&ck, "train/metrics", ISB_DTYPE_I64, 2, drows, rows);
    if (rc >= 0) rc = isb_checkpoint_add(&ck, "train/hist", ISB_DTYPE_I64, 2, dhist, hist);
    if (rc >= 0) rc = add_device(r, &ck, "train/scores", r->scores, r->n, false);
    if (rc >= 0) rc = add_device(r, &ck, "train/z_indices", r->z_idx, s->zlen, true);
    if (rc >= 0) rc = add_device(r, &ck, "train/z_weights", r->z_w, s->zlen, false);
    if (rc >= 0) rc = add_device(r, &ck, "train/since_loss", r->since_loss, s->since_eval, false);
    if (rc >= 0) rc = add_device(r, &ck, "train/since_correct", r->since_correct, s->since_eval, true);
    if (rc >= 0) rc = isb_model_save_state(r->model, &ck, 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.isbc", r->dir);
    if (rc >= 0) rc = isb_checkpoint_write(&ck, path);
    free(rows);
    free(hist);
    isb_checkpoint_free(&ck);
    return rc;
}

static int grow_rows(loop_state *s, int need) {
    if (need <= s->cap_rows) return ISB_OK;
    int cap = need > 2 * s->cap_rows ? need : 2 * s->cap_rows;
    isb_metrics_row *rows = realloc(s->rows, (size_t)cap * sizeof *rows);
    if (rows) s->rows = rows;
    int64_t *hist = realloc(s->hist, (size_t)cap * ISB_HIST_BINS * sizeof *hist);
    if (hist) s->hist = hist;
    int *he = realloc(s->hist_epochs, (size_t)cap * sizeof *he);
    if (he) s->hist_epochs = he;
    if (!rows || !hist || !he) return isb_fail(ISB_ERR_MEMORY, "out of host memory for %d metric rows", cap);
    s->cap_rows = cap;
    return ISB_OK;
}

static int load_checkpoint(run_ctx *r, const char *path) {
    isb_checkpoint ck = {0};
    ISB_TRY(isb_checkpoint_read(&ck, path));
    loop_state *s = &r->s;
    const isb_tensor *tc = isb_checkpoint_find(&ck, "train/counters"), *td = isb_checkpoint_find(&ck, "train/doubles");
    const isb_tensor *tr = isb_checkpoint_find(&ck, "train/metrics"), *th = isb_checkpoint_find(&ck, "train/hist");
    int rc = ISB_OK;
    if (!tc || !td || !tr || !th || tc->dtype != ISB_DTYPE_I64 || isb_tensor_numel(tc) != C_COUNT ||
        td->dtype != ISB_DTYPE_I64 || isb_tensor_numel(td) != D_COUNT)
        rc = isb_fail(ISB_ERR_FORMAT, "%s lacks the training state of this isbench version: delete it to restart the run",
                      path);
    const int64_t *c = tc ? tc->data : NULL, *d = td ? td->data : NULL;
    if (rc >= 0 && (c[C_VERSION] != CHECKPOINT_VERSION || c[C_N] != r->n))
        rc = isb_fail(ISB_ERR_FORMAT, "%s was written for %" PRId64 " training samples (state version %" PRId64
                      "), this run has %d: delete it to restart the run", path, c[C_N], c[C_VERSION], r->n);
    if (rc >= 0) {
        s->sampler_epoch = (uint32_t)c[C_EPOCH];
        s->pos = (int)c[C_POS];
        s->zlen = (int)c[C_ZLEN];
        s->z_weighted = (int)c[C_ZW];
        s->samples_seen = c[C_SEEN];
        s->step = c[C_STEP];
        s->since_eval = (int)c[C_SINCE];
        s->es.bad_evals = (int)c[C_BAD];
        s->es.evals = (int)c[C_EVALS];
        s->es.best_acc = bitsd(d[D_BEST]);
        s->wall_before = bitsd(d[D_WALL]);
        s->t.training = bitsd(d[D_TRAIN]);
        s->t.evaluation = bitsd(d[D_EVAL]);
        s->t.sampling = bitsd(d[D_SAMPLING]);
        s->t.data = bitsd(d[D_DATA]);
        s->lr = (float)bitsd(d[D_LR]);
        int n_rows = (int)c[C_ROWS];
        if (isb_tensor_numel(tr) < (int64_t)n_rows * 8 || isb_tensor_numel(th) < (int64_t)n_rows * ISB_HIST_BINS)
            rc = isb_fail(ISB_ERR_FORMAT, "%s: metrics tables shorter than its counters say", path);
        if (rc >= 0) rc = grow_rows(s, n_rows);
        for (int i = 0; rc >= 0 && i < n_rows; i++) {
            const int64_t *v = (const int64_t *)tr->data + i * 8;
            s->rows[i] = (isb_metrics_row){(int)bitsd(v[0]), (int64_t)bitsd(v[1]), bitsd(v[2]), bitsd(v[3]),
                                           bitsd(v[4]), bitsd(v[5]), bitsd(v[6]), bitsd(v[7])};
            s->hist_epochs[i] = s->rows[i].data_epoch;
            memcpy(s->hist + (size_t)i * ISB_HIST_BINS, (const int64_t *)th->data + (size_t)i * ISB_HIST_BINS,
                   ISB_HIST_BINS * sizeof(int64_t));
        }
        s->n_rows = n_rows;
    }
    if (rc >= 0) rc = load_device(r, &ck, "train/scores", r->scores, r->n, false);
    if (rc >= 0) rc = load_device(r, &ck, "train/z_indices", r->z_idx, s->zlen, true);
    if (rc >= 0) rc = load_device(r, &ck, "train/z_weights", r->z_w, s->zlen, false);
    if (rc >= 0) rc = load_device(r, &ck, "train/since_loss", r->since_loss, s->since_eval, false);
    if (rc >= 0) rc = load_device(r, &ck, "train/since_correct", r->since_correct, s->since_eval, true);
    if (rc >= 0) rc = isb_model_load_state(r->model, &ck);
    isb_checkpoint_free(&ck);
    if (rc < 0) return isb_fail_context(rc, "resuming from %s", path);
    return ISB_OK;
}

/* ---- the loop ------------------------------------------------------------------------------ */

static bool is_warmup_or_uniform(const run_ctx *r, uint32_t epoch) {
    return r->cfg->sampler == ISB_SAMPLER_UNIFORM || epoch < (uint32_t)r->cfg->warmup_epochs;
}

/* Draws the next sampler epoch's Z (and weights) from the scores as they are now. */
static int begin_sampler_epoch(run_ctx *r) {
    const isb_train_config *c = r->cfg;
    loop_state *s = &r->s;
    ISB_TRY(sync_into(r, &s->t.training));
    ISB_TRY(check_finite(r));
    if (is_warmup_or_uniform(r, s->sampler_epoch)) {
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

static int train_one_step(run_ctx *r) {
    const isb_train_config *c = r->cfg;
    loop_state *s = &r->s;
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
    /* uniform runs track the last loss too, so their score histograms are comparable */
    isb_score_update su = {.mode = c->sampler == ISB_SAMPLER_RUNNING_LOSS ? ISB_SCORE_RUNNING : ISB_SCORE_LAST,
                           .beta = c->beta, .scores = r->scores, .indices = r->z_idx, .indices_offset = s->pos};
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

static void format_duration(char *buf, size_t size, double s) {
    if (!(s >= 0) || s > 1e8) { snprintf(buf, size, "?"); return; }
    long t = lround(s);
    if (t >= 3600) snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
}

static double eta_seconds(const run_ctx *r) {
    double elapsed = isb_now() - r->session_start;
    int64_t done = r->s.samples_seen - r->session_samples0;
    return done > 0 ? elapsed / done * ((double)r->cfg->max_epochs * r->n - r->s.samples_seen) : -1;
}

/* Between evaluations (long data epochs), a line every 30 s from host counters only: no device read. */
static void progress_between_evaluations(run_ctx *r) {
    double now = isb_now();
    if (now - r->last_progress < 30) return;
    r->last_progress = now;
    char el[32], et[32];
    format_duration(el, sizeof el, wall_now(r));
    format_duration(et, sizeof et, eta_seconds(r));
    int64_t into = r->s.samples_seen - (int64_t)r->s.n_rows * r->n;
    fprintf(stderr, "[%s] data epoch %d/%d  %3.0f%%  samples %" PRId64 "  step %" PRId64 "  elapsed %s  ETA <= %s\n",
            r->label, r->s.n_rows + 1, r->cfg->max_epochs, 100.0 * (double)into / r->n, r->s.samples_seen, r->s.step,
            el, et);
}

/* Evaluates the test set, closes the data epoch (metrics row, histogram, lr, early stopping) and
 * rewrites the result files. *stop is set when the run is over. */
static int evaluate(run_ctx *r, bool *stop, char *reason, size_t reason_size) {
    const isb_train_config *c = r->cfg;
    loop_state *s = &r->s;
    ISB_TRY(sync_into(r, &s->t.training));
    ISB_TRY(check_finite(r));
    isb_augment plain = {false, false, c->normalize};
    for (int off = 0; off < r->n_test; off += c->batch) {
        int b = r->n_test - off < c->batch ? r->n_test - off : c->batch;
        ISB_TRY(isb_batcher_assemble(r->env->test_batcher, r->test_idx, off, b, c->seed, 0, plain, r->x, r->labels));
        isb_batch_io io = {.x = r->x, .labels = r->labels, .batch = b, .losses = r->test_loss, .losses_offset = off,
                           .correct = r->test_correct, .correct_offset = off};
        ISB_TRY(isb_model_eval_step(r->model, &io));
    }
    ISB_TRY(isb_ocl_read(r->ocl, r->test_loss, 0, (size_t)r->n_test * sizeof(float), r->h_test_loss));
    ISB_TRY(isb_ocl_read(r->ocl, r->test_correct, 0, (size_t)r->n_test * sizeof(int), r->h_test_correct));
    ISB_TRY(isb_ocl_read(r->ocl, r->since_loss, 0, (size_t)s->since_eval * sizeof(float), r->h_since_loss));
    ISB_TRY(isb_ocl_read(r->ocl, r->since_correct, 0, (size_t)s->since_eval * sizeof(int), r->h_since_correct));
    ISB_TRY(isb_ocl_read(r->ocl, r->scores, 0, (size_t)r->n * sizeof(float), r->h_scores));
    ISB_TRY(sync_into(r, &s->t.evaluation));

    double test_loss = 0, train_loss = 0;
    long test_hits = 0, train_hits = 0;
    for (int i = 0; i < r->n_test; i++) test_loss += r->h_test_loss[i], test_hits += r->h_test_correct[i];
    for (int i = 0; i < s->since_eval; i++) train_loss += r->h_since_loss[i], train_hits += r->h_since_correct[i];
    ISB_TRY(grow_rows(s, s->n_rows + 1));
    int epoch = s->n_rows + 1;
    isb_metrics_row *row = &s->rows[s->n_rows];
    *row = (isb_metrics_row){epoch, s->samples_seen, wall_now(r), s->lr, train_loss / s->since_eval,
                             (double)train_hits / s->since_eval, test_loss / r->n_test, (double)test_hits / r->n_test};
    s->hist_epochs[s->n_rows] = epoch;
    isb_score_hist_compute(s->hist + (size_t)s->n_rows * ISB_HIST_BINS, r->h_scores, r->n);
    s->n_rows++;
    s->since_eval = 0;

    bool early = isb_early_stop_update(&s->es, c, row->test_acc);
    s->lr = isb_lr_at(c, epoch);
    *stop = true;
    if (!isfinite(row->train_loss) || !isfinite(row->test_loss))
        return isb_fail(ISB_ERR_NUMERIC, "non-finite mean loss at data epoch %d (train %g, test %g): lower --lr",
                        epoch, row->train_loss, row->test_loss);
    if (early) snprintf(reason, reason_size, "early stop: %d evaluations without improvement (%s rule)",
                        s->es.bad_evals, c->early_stop == ISB_EARLY_STOP_BEST ? "consecutive" : "cumulative");
    else if (epoch >= c->max_epochs) snprintf(reason, reason_size, "reached --max-epochs %d", c->max_epochs);
    else *stop = false;

    char el[32], et[32];
    format_duration(el, sizeof el, wall_now(r));
    format_duration(et, sizeof et, *stop ? 0 : eta_seconds(r));
    r->last_progress = isb_now();
    fprintf(stderr, "[%s] data epoch %d/%d  samples %" PRId64 "  train loss %.4f acc %.4f  test loss %.4f acc %.4f  "
                    "lr %.3g  elapsed %s  ETA <= %s\n",
            r->label, epoch, c->max_epochs, s->samples_seen, row->train_loss, row->train_acc, row->test_loss,
            row->test_acc, (double)row->lr, el, et);
    return write_results(r, "running", NULL, NULL);
}

static void fill_result(const run_ctx *r, isb_run_result *res, const char *reason) {
    const loop_state *s = &r->s;
    res->data_epochs = s->n_rows;
    res->samples_seen = s->samples_seen;
    res->last_test_acc = s->n_rows ? s->rows[s->n_rows - 1].test_acc : NAN;
    res->best_test_acc = -1;
    for (int i = 0; i < s->n_rows; i++)
        if (s->rows[i].test_acc > res->best_test_acc) res->best_test_acc = s->rows[i].test_acc;
    res->final_test_acc = r->cfg->early_stop == ISB_EARLY_STOP_CUMULATIVE ? res->last_test_acc : res->best_test_acc;
    res->wall_s = s->wall_before + (isb_now() - r->session_start);
    snprintf(res->stop_reason, sizeof res->stop_reason, "%s", reason ? reason : "");
}

static int run_loop(run_ctx *r, char *reason, size_t reason_size) {
    const isb_train_config *c = r->cfg;
    loop_state *s = &r->s;
    for (;;) {
        if (s->zlen == 0) ISB_TRY(begin_sampler_epoch(r));
        ISB_TRY(train_one_step(r));
        if (s->samples_seen >= (int64_t)(s->n_rows + 1) * r->n) {
            bool stop;
            ISB_TRY(evaluate(r, &stop, reason, reason_size));
            if (stop) return ISB_OK;
        } else {
            progress_between_evaluations(r);
        }
        if (c->stop_after_step >= 0 && s->step == c->stop_after_step) isb_stop_request();
        if (isb_stop_requested()) {
            ISB_TRY(sync_into(r, &s->t.training));
            return ISB_ERR_INTERRUPTED;
        }
    }
}

int isb_train_run(isb_train_env *env, const isb_train_config *cfg, const char *run_dir, const char *suite,
                  const char *label, isb_run_result *result) {
    memset(result, 0, sizeof *result);
    int n = env->train.n, n_test = env->test.n;
    ISB_TRY(isb_train_config_validate(cfg, n));
    if (strcmp(cfg->dataset, env->dataset) != 0 || cfg->train_subset != env->train_subset ||
        cfg->test_subset != env->test_subset)
        return isb_fail(ISB_ERR_INTERNAL, "the loaded data (%s, %d/%d) is not the configuration's (%s, %d/%d)",
                        env->dataset, env->train_subset, env->test_subset, cfg->dataset, cfg->train_subset,
                        cfg->test_subset);
    if (cfg->batch > n)
        return isb_fail(ISB_ERR_USAGE, "--batch %d exceeds the %d training samples: lower --batch", cfg->batch, n);

    json_t *config = isb_train_config_to_json(cfg);
    isb_run_state state;
    int rc = isb_mkdir_p(run_dir);
    if (rc >= 0) rc = isb_run_dir_check(run_dir, config, &state);
    if (rc < 0) { json_decref(config); return rc; }
    if (state == ISB_RUN_FINISHED) {
        fprintf(stderr, "[%s] %s already holds this finished run: skipped (delete it to run again)\n",
                label ? label : cfg->name, run_dir);
        json_decref(config);
        result->skipped = true;
        return ISB_OK;
    }

    run_ctx r = {.cfg = cfg, .env = env, .ocl = env->ocl, .dir = run_dir, .suite = suite,
                 .label = label ? label : cfg->name, .n = n, .n_test = n_test, .z = isb_train_config_z(cfg, n)};
    int zmax = r.z > n ? r.z : n;
    isb_model_config mc = {.width = cfg->width, .in_channels = env->train.channels, .classes = env->train.classes,
                           .image_size = env->train.size, .max_batch = cfg->batch, .momentum = cfg->momentum,
                           .weight_decay = cfg->weight_decay, .seed = cfg->seed};
    rc = env_sampler(env, n, zmax);
    if (rc >= 0) rc = isb_model_create(&r.model, env->ocl, &mc);
    if (rc >= 0) rc = alloc_buffers(&r);
    isb_early_stop_init(&r.s.es);
    r.s.lr = cfg->lr;
    r.s.t.score_update = -1; /* fused into the loss kernel: not measurable apart */
    if (!cfg->profile) r.s.t.data = -1;

    char ck_path[4096], man_path[4096];
    snprintf(ck_path, sizeof ck_path, "%s/checkpoint.isbc", run_dir);
    snprintf(man_path, sizeof man_path, "%s/manifest.json", run_dir);
    if (rc >= 0) r.manifest = new_manifest(&r, config);
    if (rc >= 0 && state == ISB_RUN_UNFINISHED && isb_file_exists(ck_path)) {
        rc = load_checkpoint(&r, ck_path);
        if (rc >= 0) {
            /* keep the original start time; note the resume */
            json_t *old = json_load_file(man_path, 0, NULL);
            json_t *started = old ? json_object_get(old, "started") : NULL;
            if (started) json_object_set(r.manifest, "started", started);
            json_t *resumes = old ? json_object_get(old, "resumed") : NULL;
            resumes = resumes ? json_deep_copy(resumes) : json_array();
            char now[32];
            iso_time(now, sizeof now);
            json_array_append_new(resumes, json_string(now));
            json_object_set_new(r.manifest, "resumed", resumes);
            json_decref(old);
            result->resumed = true;
            if (!cfg->profile) r.s.t.data = -1;
            else if (r.s.t.data < 0) r.s.t.data = 0; /* earlier sessions did not time it */
            fprintf(stderr, "[%s] resuming from %s at data epoch %d, step %" PRId64 "\n", r.label, ck_path, r.s.n_rows,
                    r.s.step);
        }
    }
    json_decref(config);
    r.session_start = r.mark = r.last_progress = isb_now();
    r.session_samples0 = r.s.samples_seen;
    if (rc >= 0) rc = write_results(&r, "running", NULL, NULL);

    char reason[160] = "";
    if (rc >= 0) rc = run_loop(&r, reason, sizeof reason);
    int final_rc = rc;
    if (rc == ISB_ERR_INTERRUPTED) {
        int sig = isb_stop_signal();
        snprintf(reason, sizeof reason, "interrupted (%s) at step %" PRId64 "",
                 sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "stop request", r.s.step);
        int wrc = save_checkpoint(&r);
        if (wrc >= 0) wrc = write_results(&r, "interrupted", reason, NULL);
        if (wrc < 0) final_rc = wrc;
        else {
            isb_fail(ISB_ERR_INTERRUPTED, "%s: state saved in %s; run the same command again to resume", reason,
                     ck_path);
            fprintf(stderr, "[%s] %s; checkpoint %s\n", r.label, reason, ck_path);
        }
    } else if (rc >= 0) {
        rc = sync_into(&r, &r.s.t.training);
        if (rc >= 0) rc = write_results(&r, "finished", reason, NULL);
        if (rc >= 0 && isb_file_exists(ck_path)) unlink(ck_path); /* resume state only while unfinished */
        final_rc = rc;
        if (rc >= 0) fprintf(stderr, "[%s] finished: %s\n", r.label, reason);
    } else if (r.manifest) {
        /* keep what was measured; the manifest says why it stopped */
        char *msg = strdup(isb_last_error());
        if (rc == ISB_ERR_NUMERIC) snprintf(reason, sizeof reason, "non-finite loss");
        else snprintf(reason, sizeof reason, "error: %s", isb_status_name(rc));
        write_results(&r, "failed", reason, msg);
        isb_fail(rc, "%s", msg ? msg : "run failed"); /* the original message, not the writer's */
        free(msg);
    }
    fill_result(&r, result, reason);
    free_run(&r);
    return final_rc;
}
