/* The training state of one run, host side: the loop position, the schedule, the timers and the
 * results so far. It is described by ONE table of {name, offset, type, range} (train_state.c)
 * that saving, loading and validating a checkpoint all walk, so a field added to the struct and
 * the table is saved, restored and range-checked with nothing else to edit.
 *
 * A run's identity (configuration, dataset and N, width, seed, |Z|, state version) is stored with
 * the state; loading refuses another run's checkpoint naming the first difference, and checks every
 * counter against the identity (and against each other) before anything is used, so a corrupt or
 * foreign checkpoint can neither crash the run, nor train forever, nor mix into its results.
 * Pure host code: tested and fuzzed without a device.
 *
 * Used by src/train (loop, checkpoint, lifecycle) and the tests. */
#ifndef ISB_TRAIN_TRAIN_STATE_H
#define ISB_TRAIN_TRAIN_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "results/checkpoint.h"
#include "results/manifest.h"
#include "results/run_files.h"
#include "train/schedule.h"
#include "config/train_config.h"

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
    /* results so far: one metrics row and one score histogram per data epoch */
    isb_metrics_row *rows;
    int64_t *hist;            /* [rows][ISB_HIST_BINS] */
    int *hist_epochs;
    int n_rows, cap_rows;
} isb_train_state;

/* What a checkpoint must match to be resumed by a run. */
typedef struct {
    json_t *json;             /* {"state_version", "train_n", "test_n", "z", "configuration": {...}} */
    isb_train_config cfg;     /* the run's configuration: the schedule and limits the state must follow */
    int n, n_test, z;
} isb_run_identity;

int isb_run_identity_make(isb_run_identity *id, const isb_train_config *cfg, int n, int n_test, int z);
void isb_run_identity_free(isb_run_identity *id);

/* A fresh run's state: early stopping reset, the configured lr, unmeasurable timers marked. */
void isb_train_state_init(isb_train_state *s, const isb_train_config *cfg);
void isb_train_state_free(isb_train_state *s);
int isb_train_state_grow_rows(isb_train_state *s, int need);

/* Best, last and reported test accuracy so far (see isb_accuracy_summary); computed here only. */
isb_accuracy_summary isb_train_state_accuracy(const isb_train_state *s, bool cumulative);

/* Adds the state (with wall_s as its wall time) and the identity to ck as train/... tensors. */
int isb_train_state_save(const isb_train_state *s, double wall_s, const isb_run_identity *id, isb_checkpoint *ck);
/* Checks ck's identity against id and every field's range and relations, then replaces *s. On any
 * failure *s is unchanged and the message names the file (path), the field and what to do. */
int isb_train_state_load(isb_train_state *s, const isb_run_identity *id, const isb_checkpoint *ck, const char *path);

#endif
