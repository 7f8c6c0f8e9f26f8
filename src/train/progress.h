/* Progress lines of a training run on stderr: one per evaluation, and one every 30 s between
 * evaluations (long data epochs) from host counters only, with elapsed time and an ETA upper
 * bound (max_epochs at this session's rate). */
#ifndef ISB_TRAIN_PROGRESS_H
#define ISB_TRAIN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "train/train_state.h"

typedef struct {
    const char *label;
    int max_epochs, n;
    double session_start, last_line; /* host clock */
    int64_t session_samples0;        /* samples_seen when this session started */
} isb_progress;

void isb_progress_start(isb_progress *p, const char *label, int max_epochs, int n, int64_t samples_seen);
/* A line if 30 s passed since the last one. */
void isb_progress_between_evaluations(isb_progress *p, const isb_train_state *s, double wall_s);
/* The line of the evaluation that just added s's last metrics row; stop: the run ends with it. */
/* "evaluating data epoch k on N test images": the line before an evaluation starts, so that a
 * long one is not silence (Ctrl-C acts after the test batch in progress). */
void isb_progress_evaluating(isb_progress *p, const isb_train_state *s, int n_test);
void isb_progress_evaluation(isb_progress *p, const isb_train_state *s, double wall_s, bool stop);

#endif
