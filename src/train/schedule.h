/* The per-evaluation decisions of the training loop, as pure functions so they can be tested
 * without a device: the learning rate at a data epoch (step-wise decay at milestones) and early
 * stopping (docs/protocol-notes.md, note 2: the study code's cumulative rule, or the usual
 * reset-on-improvement). */
#ifndef ISB_TRAIN_SCHEDULE_H
#define ISB_TRAIN_SCHEDULE_H

#include <stdbool.h>
#include "config/train_config.h"

/* lr for training after `epochs_done` data epochs: lr * decay^(number of milestones <= epochs_done),
 * i.e. a milestone of 15 means data epochs 16, 17, ... train with the decayed rate (PyTorch
 * MultiStepLR stepped once per data epoch). */
float isb_lr_at(const isb_train_config *cfg, int epochs_done);

typedef struct {
    double best_acc;     /* best test accuracy so far (rounded to 3 decimals in cumulative mode) */
    int bad_evals;       /* evaluations without improvement (consecutive, or cumulative) */
    int evals;
} isb_early_stop;

void isb_early_stop_init(isb_early_stop *es);
/* Records one evaluation; returns true when training should stop. */
bool isb_early_stop_update(isb_early_stop *es, const isb_train_config *cfg, double test_acc);

#endif
