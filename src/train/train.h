/* Algorithm 1 of the study: importance-sampling mini-batch training of ResNet18, with the protocol
 * of docs/protocol-notes.md — evaluation, lr milestones and early stopping counted in data
 * epochs (every N training samples), scores kept on the device and updated inside the loss step,
 * phase timers synchronised only at phase boundaries, results rewritten at every evaluation, and
 * checkpoints at every evaluation, every few minutes and on SIGINT/SIGTERM, resumed by a rerun.
 *
 * Uses: src/nn (model), src/data (datasets, batch assembly), src/sampling (draws), src/results
 * (files, checkpoint). Used by: src/suite and `isbench train`. */
#ifndef ISB_TRAIN_TRAIN_H
#define ISB_TRAIN_TRAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "data/batcher.h"
#include "data/dataset.h"
#include "ocl/ocl.h"
#include "sampling/sampler.h"
#include "config/run_policy.h"
#include "config/train_config.h"

/* What runs of one suite share: the device, the datasets (uploaded once), their batchers and the
 * sampler's work buffers. */
typedef struct {
    isb_ocl *ocl;
    char data_dir[1024];
    char dataset[32];
    int train_subset, test_subset;
    isb_dataset train, test;
    isb_batcher *train_batcher, *test_batcher;
    isb_sampler *sampler;
    int sampler_n, sampler_z; /* sizes the sampler was created for */
    /* steps already warmed up in this process (src/train/warm_up.c: width, kind, batch size), so
     * that the runs of a suite each build only what the earlier runs did not */
    int n_warmed;
    long warmed[16];
    isb_run_policy policy;    /* checkpoints and --restart (set after opening; default ISB_RUN_POLICY_DEFAULT) */
    char check[200];          /* the device self-check's verdict for the manifests (cli/check.h) */
} isb_train_env;

/* Loads the dataset named in cfg (its subsets, chosen with a fixed subset seed so that every
 * configuration and seed sees the same data) from data_dir and uploads it. */
int isb_train_env_open(isb_train_env *env, isb_ocl *ocl, const isb_train_config *cfg, const char *data_dir);
void isb_train_env_close(isb_train_env *env); /* accepts a zeroed or half-opened env */

typedef struct {
    bool skipped;           /* the directory already held the finished run */
    bool resumed;
    int data_epochs;
    int64_t samples_seen;
    double last_test_acc;      /* of the last evaluation */
    double best_test_acc;      /* the highest of any evaluation */
    double reported_test_acc;  /* the one the early-stopping rule reports: best, or last (cumulative) */
    double wall_s;
    char stop_reason[160];
} isb_run_result;

/* Runs (or resumes, or skips if finished) one configuration in run_dir, holding run_dir/run.lock
 * (results/run_lock.h) throughout. Returns 0 when finished, ISB_ERR_INTERRUPTED after a stop
 * request (checkpoint written), ISB_ERR_NUMERIC on a NaN/Inf loss (metrics so far kept, status
 * failed), ISB_ERR_USAGE for a bad configuration, a directory holding another one or locked by a
 * live process, ISB_ERR_FORMAT for a checkpoint that cannot be resumed and ISB_ERR_IO for a write
 * that failed (a full disk). In the last three cases nothing in run_dir was changed or the
 * previous complete state is kept. `label` prefixes the progress lines on stderr (NULL: the
 * config name). The lifecycle, the write order and what a rerun does: docs/checkpoint-format.md. */
int isb_train_run(isb_train_env *env, const isb_train_config *cfg, const char *run_dir, const char *suite,
                  const char *label, isb_run_result *result);

#endif
