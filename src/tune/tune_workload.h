/* What `isbench tune` measures: the CLBlast products of one real training step (captured from the
 * model itself, src/nn/layers.c's product log), replayed on random inputs. Each candidate is first
 * checked against a host reference GEMM (computed once), then timed with a host clock around
 * clFinish, each product on its own after the check run has compiled its kernels. */
#ifndef ISB_TUNE_TUNE_WORKLOAD_H
#define ISB_TUNE_TUNE_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include "nn/layers.h"
#include "ocl/ocl.h"

typedef struct isb_tune_workload isb_tune_workload;

/* The products of one training step of ResNet18 (width, batch, CIFAR-sized input), each distinct
 * shape once with its call count. Builds the model, runs one step with the log attached, frees it. */
int isb_tune_capture_step(isb_ocl *ocl, int width, int batch, isb_gemm_log *log);

/* Device inputs and outputs sized for every product of `log`, and the host reference of a few
 * output rows of each (all rows' columns, first and last batch item). */
int isb_tune_workload_create(isb_ocl *ocl, const isb_gemm_log *log, isb_tune_workload **out);
void isb_tune_workload_free(isb_tune_workload *w); /* NULL-safe */
const isb_gemm_log *isb_tune_workload_log(const isb_tune_workload *w);

/* Runs every product once on outputs filled with NaN and compares the reference rows. *correct is
 * false with the first difference in `why` when a result is wrong; a CLBlast or OpenCL failure
 * (the candidate does not build or run) is returned as an error. sabotage (test hook): one output
 * value is overwritten before the comparison, as a candidate that computes wrongly would. */
int isb_tune_workload_check(isb_tune_workload *w, bool sabotage, bool *correct, char *why, size_t len);

/* The step's GEMM time: sum over products of calls x the best of `passes` single runs. Gives up
 * after a pass whose sum exceeds give_up (seconds; the sum so far is returned). per_shape (may be
 * NULL) receives each product's best time. */
int isb_tune_workload_time(isb_tune_workload *w, int passes, double give_up, double *seconds, double *per_shape);

#endif
