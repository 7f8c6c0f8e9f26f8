/* The files of one training run directory, results/<suite>/<config>/seed-<k>/ (format:
 * docs/results-format.md): metrics.csv, scores_hist.csv, timing.csv and manifest.json, each
 * rewritten whole and atomically, so a run stopped at any moment leaves consistent files. Also the
 * ownership check that keeps one directory from receiving two different configurations. */
#ifndef ISB_RESULTS_RUN_FILES_H
#define ISB_RESULTS_RUN_FILES_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "results/score_hist.h"

typedef struct {
    int data_epoch;
    int64_t samples_seen;
    double wall_s, lr, train_loss, train_acc, test_loss, test_acc;
} isb_metrics_row;

/* Seconds per phase (Appendix C); a negative value means "not measured" and is written as nan.
 * init (kernel builds and the warm-up step before each session's clock) is outside total. */
typedef struct {
    double init, training, evaluation, sampling, score_update, data, total;
} isb_phase_times;

int isb_write_metrics_csv(const char *dir, const isb_metrics_row *rows, int n);
/* One histogram (ISB_HIST_BINS counts) per data epoch: hist[i * ISB_HIST_BINS + b] for epoch epochs[i]. */
int isb_write_scores_hist_csv(const char *dir, const int *epochs, const int64_t *hist, int n);
int isb_write_timing_csv(const char *dir, const isb_phase_times *t);
int isb_write_json_atomic(const char *path, const json_t *json);

/* What a run directory already holds. */
typedef enum { ISB_RUN_NEW = 0, ISB_RUN_UNFINISHED = 1, ISB_RUN_FINISHED = 2 } isb_run_state;

/* Reads dir/manifest.json if present. A manifest whose "configuration" differs from `config`
 * (json_equal) is refused with ISB_ERR_USAGE naming both and the fix; nothing is touched.
 * Only status "finished" counts as finished: a failed or interrupted run is run (or resumed) again. */
int isb_run_dir_check(const char *dir, const json_t *config, isb_run_state *state);

/* "results/<suite>/<config>/seed-<k>" into buf. */
void isb_run_dir_path(char *buf, size_t size, const char *out, const char *suite, const char *config, uint64_t seed);

#endif
