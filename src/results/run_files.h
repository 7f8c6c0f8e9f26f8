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

/* What a run directory already holds: no manifest.json, a manifest of an unfinished run, of a
 * finished one, or an entry manifest.json that cannot be read (a symbolic link loop, not JSON):
 * the run lifecycle resumes the last two from a checkpoint of this run, or refuses. */
typedef enum { ISB_RUN_NEW = 0, ISB_RUN_UNFINISHED = 1, ISB_RUN_FINISHED = 2, ISB_RUN_NO_MANIFEST = 3 } isb_run_state;

/* How a finished run's stop_reason begins when early stopping ended it (else it reached --max-epochs). */
#define ISB_STOP_REASON_EARLY "early stop"

/* Reads dir/manifest.json if present. Refused (nothing touched, the message names the problem and
 * the fix): a manifest whose "configuration" differs from `config` (ISB_ERR_USAGE naming the
 * differing fields), a directory named manifest.json, and a "finished" manifest short of its stop
 * rule. ISB_RUN_NO_MANIFEST puts the reason it cannot be read into why. Only status "finished"
 * counts as finished: a failed or interrupted run is run (or resumed) again. */
int isb_run_dir_check(const char *dir, const json_t *config, isb_run_state *state, char *why, size_t why_size);

/* "key is A there, B here; ..." for the keys of ours (one level into nested objects, dotted) whose
 * values in theirs differ: the first three and how many more. */
void isb_json_differences(const json_t *theirs, const json_t *ours, char *buf, size_t size);

/* A suite or configuration name is one folder name, so that OUT/SUITE/CONFIG stays inside OUT:
 * not empty, not . or .., no /. ISB_ERR_USAGE naming the option (e.g. "--name") otherwise. */
int isb_run_name_check(const char *option, const char *name);

/* "results/<suite>/<config>/seed-<k>" into buf. */
void isb_run_dir_path(char *buf, size_t size, const char *out, const char *suite, const char *config, uint64_t seed);

#endif
