/* One training run in progress: private to src/train (train.c opens and closes it, train_loop.c
 * trains it, run_save.c saves and restores it). */
#ifndef ISB_TRAIN_RUN_H
#define ISB_TRAIN_RUN_H

#include <jansson.h>

#include "nn/model.h"
#include "train/progress.h"
#include "train/train.h"
#include "train/train_state.h"
#include "util/timer.h"

typedef struct {
    const isb_train_config *cfg;
    isb_train_env *env;
    isb_ocl *ocl;
    isb_model *model;
    const char *dir, *suite, *label;
    char checkpoint_path[4096], manifest_path[4096];
    int n, n_test, z;
    /* device buffers, allocated once per run */
    cl_mem scores, z_idx, z_w, batch_w, x, labels, since_loss, since_correct, test_idx, test_loss, test_correct;
    float *h_scores, *h_since_loss, *h_test_loss;
    int *h_since_correct, *h_test_correct;
    isb_train_state s;
    isb_run_identity id;
    isb_progress progress;
    double session_start, mark; /* host clock: this session's start, the last synchronisation */
    double last_checkpoint;     /* host clock of the last checkpoint (or the session start) */
    cl_event step_mark;         /* the end of the previous step (isb_ocl_mark_and_wait_previous) */
    json_t *manifest;
} isb_run;

/* Wall time of the run, all sessions (the loop, the saves and the final result all read it). */
static inline double isb_run_wall(const isb_run *r) { return r->s.wall_before + (isb_now() - r->session_start); }

/* train_loop.c */
/* The data epoch is complete and its evaluation not yet done (pending after a stop). */
bool isb_run_evaluation_due(const isb_run *r);
/* Trains until the run stops (0, reason set), a stop request (ISB_ERR_INTERRUPTED) or an error. */
int isb_run_loop(isb_run *r, char *reason, size_t reason_size);

/* warm_up.c: builds every program and GEMM shape of the run and runs one warm-up step on scratch
 * state, before the clock; adds its time to the init phase. Results are unchanged by it. */
int isb_run_warm_up(isb_run *r);

/* run_save.c: the checkpoint holds the whole state (train_state.h's table, the device buffers the
 * loop needs, model and optimizer); the result files are derived from it. */
int isb_run_save_checkpoint(isb_run *r);
int isb_run_load_checkpoint(isb_run *r); /* on failure the run's host state is unchanged */
/* Everything a resume checks, host side, before anything is uploaded or written: the identity and
 * the state (train_state.c), the device tensors' shapes and values, and the model and momentum
 * (finite, variances >= 0, num_batches_tracked = step). On success *s (initialised or zeroed) is
 * replaced by the checkpoint's state; on failure it is unchanged and the message names path. */
int isb_run_checkpoint_check(const isb_checkpoint *ck, const isb_run_identity *id, const isb_resnet18_plan *plan,
                             isb_train_state *s, const char *path);
/* metrics.csv, scores_hist.csv, timing.csv, then manifest.json with this status. */
int isb_run_write_results(isb_run *r, const char *status, const char *stop_reason, const char *message);

#endif
