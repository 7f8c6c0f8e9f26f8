/* `isbench tune`: a time-boxed search over CLBlast's GEMM parameters on the products of one real
 * training step (tune_workload.h), objective = the step's GEMM time (each shape's time x its call
 * count). Three things are chosen:
 *  1. XgemmDirect's parameters, with every product forced onto the direct kernel;
 *  2. Xgemm's parameters (the indirect path), with every product forced onto it;
 *  3. the crossover XGEMM_MIN_INDIRECT_SIZE (GemmRoutine), from the two per-shape time tables.
 * Each candidate is checked against the host reference before it is timed; a wrong one is
 * discarded and counted. The winner is verified and timed once more as a whole and written as a
 * tuning entry for the exact device, driver and CLBlast version (docs/clblast-tuning.md). SIGINT
 * (Ctrl-C) ends the search early and keeps the best found. */
#ifndef ISB_TUNE_TUNE_H
#define ISB_TUNE_TUNE_H

#include <stdbool.h>
#include <stdio.h>
#include "ocl/ocl.h"

typedef struct {
    int width, batch;        /* the step whose products are tuned */
    double budget_s;         /* wall-clock budget of the search (the setup before it is not counted) */
    const char *out_path;    /* the entry's file; NULL = the user's tuning folder */
    const char *command;     /* recorded in the entry */
    bool test_bad_candidate; /* test hook: one candidate's output is corrupted; it must be rejected */
    bool show_shapes;        /* print each product's calls, time and GFLOP/s with what applies (a profile) */
    FILE *progress;          /* one line per candidate */
} isb_tune_options;

typedef struct {
    double as_found_s, tuned_s, elapsed_s; /* the step's GEMM time before and after, wall time */
    int shapes;
    long calls;
    int candidates, rejected, failed; /* measured or not: wrong results; did not build or run */
    bool interrupted;
    char path[4096];                  /* the entry written, "" when none was */
    char chosen[1024];                /* the parameters, in words */
} isb_tune_result;

int isb_tune_run(isb_ocl *ocl, const isb_tune_options *o, isb_tune_result *r);

#endif
