/* The suite runner: the study's six configurations (or a chosen subset) × K seeds of one preset,
 * sharing one device, one loaded dataset and one sampler, each run in
 * <out>/<suite>/<config>/seed-<k>/. Finished runs are skipped, unfinished ones resumed; a stop
 * request ends the suite after saving the current run.
 *
 * The suite is a matrix of independent runs, numbered 0..M-1 seed by seed (run j is configuration
 * j % n_configs with seed j / n_configs + 1). A process runs all of it, one shard of it (runs with
 * j % N == I: N processes cover the matrix exactly once, each run folder written by one of them) or
 * one task (run K: a Slurm array task). suite_parallel.c runs several such processes at once. */
#ifndef ISB_SUITE_SUITE_H
#define ISB_SUITE_SUITE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "ocl/ocl.h"
#include "config/run_policy.h"
#include "config/train_config.h"

typedef struct {
    const char *preset;        /* paper | gpu | quick | smoke */
    const char *name;          /* results/<name>/...; NULL = preset */
    const char *out;           /* results root */
    const char *data_dir;      /* NULL: isb_data_dir default */
    const char *const *configs;/* NULL = all six */
    int n_configs;
    int seeds;                 /* seeds 1..seeds */
    const isb_config_override *overrides;
    int n_overrides;
    /* Which runs of the matrix this process runs: shard_index of shard_count (0 of 1 = all of
     * them), or only run `task` when has_task. */
    int shard_index, shard_count; /* 0 of 0 or 0 of 1: all of them (a zeroed struct runs everything) */
    bool has_task;
    int task;
    isb_run_policy policy;     /* as isbench train's; --restart moves each selected run's folder aside */
    const char *check_verdict; /* the device self-check's verdict, for the manifests (NULL: not run) */
} isb_suite_options;

/* One run of the matrix. */
typedef struct {
    int index;                 /* 0..M-1 */
    const char *config;
    int seed;
    char dir[4096];            /* <out>/<suite>/<config>/seed-<seed> */
} isb_suite_entry;

/* M, the number of runs in the matrix (configurations × seeds). */
int isb_suite_size(const isb_suite_options *o);
/* Run `index` (0 <= index < M) of the matrix. */
void isb_suite_entry_at(const isb_suite_options *o, int index, isb_suite_entry *e);
/* Whether this process (its shard or task) runs run `index`. */
bool isb_suite_selected(const isb_suite_options *o, int index);
/* Parses "I/N" (0 <= I < N) into *index and *count; ISB_ERR_USAGE naming the problem otherwise. */
int isb_suite_parse_shard(const char *text, int *index, int *count);
/* Checks the shard or task against the matrix (ISB_ERR_USAGE if --task is out of range). */
int isb_suite_check_selection(const isb_suite_options *o);
/* The selected runs as a tab-separated table, header first: index, configuration, seed, results
 * folder, and the run's status from its manifest.json (new, running, interrupted, failed, finished). */
void isb_suite_list(const isb_suite_options *o, FILE *out);
/* The status of the run in DIR from its manifest.json (new without one), with "running" read as
 * "interrupted" when no live process holds DIR/run.lock (a killed run, which resumes). */
void isb_suite_run_status(const char *dir, char *status, size_t size);

/* Checks every configuration before anything runs (bad options fail fast, exit 2), then runs the
 * selected runs seed by seed. Returns 0 if all finished, ISB_ERR_INTERRUPTED on a stop request,
 * else the first failure's status after running the rest. A summary table goes to stdout. */
int isb_suite_run(isb_ocl *ocl, const isb_suite_options *o);

/* Several devices on one node: the selected runs, each in its own process
 * (`<this program> suite <child_args> --task K --device SEL`), at most `jobs` at once, each started
 * on the device with the fewest runs in progress. The children's progress lines are passed through
 * whole, with a line per finished run and a periodic status line. Same return values as
 * isb_suite_run; on a stop request (SIGINT/SIGTERM) the children are asked to stop and waited for. */
typedef struct {
    const char *const *devices; /* selectors, already checked */
    int n_devices;
    int jobs;                   /* >= 1 */
    const char *const *child_args; /* suite options shared by every child (no --task/--device) */
    int n_child_args;
    double status_every_s;      /* period of the status line */
} isb_suite_parallel;

int isb_suite_run_parallel(const isb_suite_options *o, const isb_suite_parallel *p);

#endif
