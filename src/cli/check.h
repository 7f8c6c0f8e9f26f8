/* The device self-check (`isbench check`, run first by `train`, `suite` and bench/run.sh): one
 * table of cases, one loop. Each case runs an op of the training step on the device with random
 * inputs and the same op of the plain-C references (src/ref/) on the host: every kernel family of
 * the step, every convolution of ResNet18 at the run's width and batch (its three CLBlast GEMMs:
 * forward, data and weight gradients), a whole training step at a small width against the
 * whole-model reference, and a sampling draw. The loop checks the device result for NaN/Inf first,
 * then its normalised error ||got - want|| / ||want|| against the case's tolerance, then the
 * largest element error max|got - want| / max|want| against ten times that. A device that fails is
 * not measured: a wrong GEMM is worse than a slow one (CLBlast <= 1.6.2 on Intel Arc). */
#ifndef ISB_CLI_CHECK_H
#define ISB_CLI_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/options.h"
#include "ocl/ocl.h"

typedef struct {
    int width, batch;        /* the ResNet18 convolutions are checked at these (a run's own) */
    bool small;              /* tiny sizes, and no whole training step (minutes under Oclgrind, which
                              * test_nn_model_step_oclgrind runs): for simulators */
} isb_check_options;

/* Test hook: ISBENCH_CHECK_BREAK=TEXT corrupts one element of the device result of the cases whose
 * name contains TEXT, to show that a wrong kernel is caught and named (tests/cli_check.d). */

/* Runs every case and prints one table row per case to `out`. Returns ISB_OK when all pass, else
 * ISB_ERR_NUMERIC with a message naming the first failing case and its error. `verdict` receives
 * "passed (N cases)" or "FAILED: <case>: <error>" for the manifest / bench context. */
int isb_check_run(isb_ocl *ocl, const isb_check_options *o, FILE *out, char *verdict, size_t verdict_size);

/* --skip-check, the one definition of the option train and suite add. */
extern const isb_option_def isb_check_skip_option;

/* What train and suite do before measuring: the check at the run's width and batch, its table on
 * stderr; a failing device is refused (the error names the case). skip (--skip-check): not run,
 * verdict "skipped (--skip-check)". The verdict goes into each manifest ("check"). */
int isb_check_before_measuring(isb_ocl *ocl, int width, int batch, bool skip, char *verdict, size_t verdict_size);

#endif
