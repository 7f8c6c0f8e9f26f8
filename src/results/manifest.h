/* manifest.json of a run directory (format: docs/results-format.md): who ran what on which device,
 * and how far the run got. Built once when a run opens, updated in place at every evaluation and
 * when the run ends, written atomically by the run lifecycle (src/train/train.c) after the data
 * files it describes. */
#ifndef ISB_RESULTS_MANIFEST_H
#define ISB_RESULTS_MANIFEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ocl/ocl.h"

/* Best and last test accuracy of a run so far (-1 / NAN with no evaluation yet), and the one the
 * protocol reports: the last under the cumulative early-stopping rule, else the best. */
typedef struct {
    double best, last, reported;
} isb_accuracy_summary;

/* What the manifest says about a run when it opens. */
typedef struct {
    const isb_ocl *ocl;
    const char *suite, *preset, *config_name, *data_dir, *dataset;
    uint64_t seed;
    const json_t *configuration;
    int train_n, test_n, z;
    int64_t model_parameters;
    const char *check;         /* the device self-check's verdict (isbench check) */
} isb_manifest_info;

/* How far the run got, for the "progress" and "final" objects. */
typedef struct {
    const char *status;               /* running | interrupted | finished | failed */
    const char *stop_reason, *message; /* NULL: null */
    int data_epochs;
    int64_t samples_seen, steps, sampler_epochs;
    double lr, wall_s;
    isb_accuracy_summary accuracy;
    bool cumulative;                   /* "reported": last (cumulative early stopping) or best */
} isb_manifest_progress;

/* NULL when any part cannot be made (out of memory, a NULL string). */
json_t *isb_manifest_new(const isb_manifest_info *info);
/* Carries "started" and the "resumed" list over from the manifest at old_path (if it can be read),
 * adding now. */
int isb_manifest_note_resume(json_t *manifest, const char *old_path);
/* Status, times and the "progress" / "final" objects. A non-finite number is refused
 * (ISB_ERR_NUMERIC naming it) before anything changes; every JSON write is checked. */
int isb_manifest_update(json_t *manifest, const isb_manifest_progress *p);
/* progress.data_epochs of the manifest at path: 0 when it has none, -1 when there is no file. */
int isb_manifest_data_epochs(const char *path);

#endif
