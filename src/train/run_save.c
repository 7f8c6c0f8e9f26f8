/* Saving and restoring a run: the checkpoint (host state from train_state.c's table, the device
 * buffers below, model and optimizer) and the result files derived from the state.
 *
 * Write order, so that a kill at any instant leaves files a rerun recovers from: at an evaluation
 * the checkpoint is written first, then metrics.csv, scores_hist.csv, timing.csv and last
 * manifest.json (each file atomically), so the checkpoint is never older than the files; when the
 * run finishes the files and the "finished" manifest are written and only then the checkpoint is
 * removed. A rerun resumes from the checkpoint and rewrites the files from it. */
#include "train/run.h"
#include "nn/resnet18.h"
#include "util/error.h"
#include "util/fileio.h"

#include <float.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The device buffers in a checkpoint and the state counter that says how many elements are valid
 * (NULL: N); ints travel as i64 (the format has no int32). */
typedef struct {
    const char *name;
    size_t buffer;       /* offsetof(isb_run, <cl_mem>) */
    bool is_int;
    const char *length;  /* which count is valid: "n", "zlen" or "since_eval" */
} device_tensor;

static const device_tensor device_tensors[] = {
    {"train/scores", offsetof(isb_run, scores), false, "n"},
    {"train/z_indices", offsetof(isb_run, z_idx), true, "zlen"},
    {"train/z_weights", offsetof(isb_run, z_w), false, "zlen"},
    {"train/since_loss", offsetof(isb_run, since_loss), false, "since_eval"},
    {"train/since_correct", offsetof(isb_run, since_correct), true, "since_eval"},
};
#define N_DEVICE_TENSORS (int)(sizeof device_tensors / sizeof device_tensors[0])

static cl_mem buffer_of(const isb_run *r, const device_tensor *d) {
    return *(const cl_mem *)((const char *)r + d->buffer);
}

static int length_of(int n, const isb_train_state *s, const device_tensor *d) {
    if (strcmp(d->length, "zlen") == 0) return s->zlen;
    if (strcmp(d->length, "since_eval") == 0) return s->since_eval;
    return n;
}

static int add_device(isb_run *r, isb_checkpoint *ck, const device_tensor *d) {
    int n = length_of(r->n, &r->s, d);
    int64_t dims[1] = {n};
    ISB_TRY(isb_checkpoint_add(ck, d->name, d->is_int ? ISB_DTYPE_I64 : ISB_DTYPE_F32, 1, dims, NULL));
    void *h = ck->tensors[ck->count - 1].data;
    if (n == 0) return ISB_OK;
    ISB_TRY(isb_ocl_read(r->ocl, buffer_of(r, d), 0, (size_t)n * 4, h));
    if (d->is_int) {
        int32_t *src = h;
        int64_t *dst = h;
        for (int i = n - 1; i >= 0; i--) dst[i] = src[i]; /* widen in place, from the end */
    }
    return ISB_OK;
}

int isb_run_save_checkpoint(isb_run *r) {
    isb_checkpoint ck = {0};
    int rc = ISB_OK;
    ISB_CHECK(isb_train_state_save(&r->s, isb_run_wall(r), &r->id, &ck));
    for (int i = 0; i < N_DEVICE_TENSORS; i++) ISB_CHECK(add_device(r, &ck, &device_tensors[i]));
    ISB_CHECK(isb_model_save_state(r->model, &ck, 1));
    ISB_CHECK(isb_checkpoint_write(&ck, r->checkpoint_path));
done:
    isb_checkpoint_free(&ck);
    return rc;
}

/* Shape and values of a device tensor, before anything is uploaded: Z's indices in 0..N-1, hits 0
 * or 1, and losses, scores and weights finite and non-negative (a NaN score would poison the draw). */
static int check_device(const isb_run_identity *id, const isb_train_state *s, const isb_checkpoint *ck,
                        const device_tensor *d, const char *path) {
    const isb_tensor *t = isb_checkpoint_find(ck, d->name);
    int n = length_of(id->n, s, d);
    if (!t || t->dtype != (d->is_int ? ISB_DTYPE_I64 : ISB_DTYPE_F32) || t->ndim != 1 || t->dims[0] != n)
        return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: %s is missing or not %d %s values: nothing was changed; move "
                        "the checkpoint away (or rerun with --restart)", path, d->name, n, d->is_int ? "i64" : "f32");
    int64_t limit = strcmp(d->length, "zlen") == 0 ? id->n : 2;
    for (int i = 0; i < n; i++) {
        double v = d->is_int ? (double)((const int64_t *)t->data)[i] : (double)((const float *)t->data)[i];
        if (!(v >= 0 && v <= FLT_MAX) || (d->is_int && v >= (double)limit))
            return isb_fail(ISB_ERR_FORMAT, "%s is corrupt: %s[%d] = %g is out of range: nothing was changed; move "
                            "the checkpoint away (or rerun with --restart)", path, d->name, i, v);
    }
    return ISB_OK;
}

/* The model and optimizer state: finite, variances >= 0, with momentum, and trained for as many
 * steps as the loop state says (num_batches_tracked = step). */
static int model_state_matches(const isb_resnet18_plan *plan, const isb_train_state *s, const isb_checkpoint *ck) {
    bool with_momentum;
    int64_t tracked;
    ISB_TRY(isb_resnet18_check_state(plan, ck, &with_momentum, &tracked));
    if (!with_momentum) return isb_fail(ISB_ERR_FORMAT, "it holds no momentum buffers");
    if (tracked != s->step)
        return isb_fail(ISB_ERR_FORMAT, "num_batches_tracked = %lld does not match train/state/step = %lld",
                        (long long)tracked, (long long)s->step);
    return ISB_OK;
}

static int check_model(const isb_resnet18_plan *plan, const isb_train_state *s, const isb_checkpoint *ck,
                       const char *path) {
    int rc = model_state_matches(plan, s, ck);
    return rc < 0 ? isb_fail_context(rc, "%s is corrupt", path) : ISB_OK;
}

int isb_run_checkpoint_check(const isb_checkpoint *ck, const isb_run_identity *id, const isb_resnet18_plan *plan,
                             isb_train_state *s, const char *path) {
    isb_train_state got;
    isb_train_state_init(&got, &id->cfg);
    int rc = ISB_OK;
    ISB_CHECK(isb_train_state_load(&got, id, ck, path));
    for (int i = 0; i < N_DEVICE_TENSORS; i++) ISB_CHECK(check_device(id, &got, ck, &device_tensors[i], path));
    ISB_CHECK(check_model(plan, &got, ck, path));
    isb_train_state_free(s);
    *s = got;
    got = (isb_train_state){0};
done:
    isb_train_state_free(&got);
    return rc;
}

static int upload_device(isb_run *r, const isb_checkpoint *ck, const device_tensor *d, int n) {
    const isb_tensor *t = isb_checkpoint_find(ck, d->name);
    if (n == 0) return ISB_OK;
    if (!d->is_int) return isb_ocl_write(r->ocl, buffer_of(r, d), 0, (size_t)n * 4, t->data);
    int32_t *narrow = malloc((size_t)n * 4);
    if (!narrow) return isb_fail(ISB_ERR_MEMORY, "out of host memory loading %s", d->name);
    for (int i = 0; i < n; i++) narrow[i] = (int32_t)((const int64_t *)t->data)[i];
    int rc = isb_ocl_write(r->ocl, buffer_of(r, d), 0, (size_t)n * 4, narrow);
    free(narrow);
    return rc;
}

int isb_run_load_checkpoint(isb_run *r) {
    isb_checkpoint ck = {0};
    isb_train_state s = {0};
    int rc = ISB_OK;
    ISB_CHECK(isb_checkpoint_read(&ck, r->checkpoint_path));
    ISB_CHECK(isb_run_checkpoint_check(&ck, &r->id, isb_model_plan(r->model), &s, r->checkpoint_path));
    for (int i = 0; i < N_DEVICE_TENSORS; i++) /* all checked before anything is uploaded */
        ISB_CHECK(upload_device(r, &ck, &device_tensors[i], length_of(r->n, &s, &device_tensors[i])));
    ISB_CHECK(isb_model_load_state(r->model, &ck));
    isb_train_state_free(&r->s);
    r->s = s; /* from here on the run is the checkpoint's */
    s = (isb_train_state){0};
done:
    isb_train_state_free(&s);
    isb_checkpoint_free(&ck);
    return rc;
}

int isb_run_write_results(isb_run *r, const char *status, const char *stop_reason, const char *message) {
    const isb_train_state *s = &r->s;
    isb_phase_times t = s->t;
    t.total = isb_run_wall(r);
    ISB_TRY(isb_write_metrics_csv(r->dir, s->rows, s->n_rows));
    ISB_TRY(isb_write_scores_hist_csv(r->dir, s->hist_epochs, s->hist, s->n_rows));
    ISB_TRY(isb_write_timing_csv(r->dir, &t));
    bool cumulative = r->cfg->early_stop == ISB_EARLY_STOP_CUMULATIVE;
    isb_manifest_progress p = {.status = status, .stop_reason = stop_reason, .message = message,
                               .data_epochs = s->n_rows, .samples_seen = s->samples_seen, .steps = s->step,
                               .sampler_epochs = s->sampler_epoch, .lr = s->lr, .wall_s = t.total,
                               .accuracy = isb_train_state_accuracy(s, cumulative), .cumulative = cumulative};
    ISB_TRY(isb_manifest_update(r->manifest, &p));
    return isb_write_json_atomic(r->manifest_path, r->manifest);
}
