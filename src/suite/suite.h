/* The suite runner: the study's six configurations (or a chosen subset) × K seeds of one preset,
 * sharing one device, one loaded dataset and one sampler, each run in
 * <out>/<suite>/<config>/seed-<k>/. Finished runs are skipped, unfinished ones resumed; a stop
 * request ends the suite after saving the current run. */
#ifndef ISB_SUITE_SUITE_H
#define ISB_SUITE_SUITE_H

#include <stdint.h>
#include "ocl/ocl.h"
#include "train/train_config.h"

typedef struct {
    const char *preset;        /* paper | quick | smoke */
    const char *name;          /* results/<name>/...; NULL = preset */
    const char *out;           /* results root */
    const char *data_dir;      /* NULL: isb_data_dir default */
    const char *const *configs;/* NULL = all six */
    int n_configs;
    int seeds;                 /* seeds 1..seeds */
    const isb_config_override *overrides;
    int n_overrides;
} isb_suite_options;

/* Checks every configuration before anything runs (bad options fail fast, exit 2), then runs them
 * seed by seed. Returns 0 if all finished, ISB_ERR_INTERRUPTED on a stop request, else the first
 * failure's status after running the rest. A summary table goes to stdout. */
int isb_suite_run(isb_ocl *ocl, const isb_suite_options *o);

#endif
