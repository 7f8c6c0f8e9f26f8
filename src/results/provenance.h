/* Where a number came from: the device facts and the run's provenance, formatted by ONE function
 * for the manifest of every training run and the context.json of every benchmark run, so both
 * carry the same JSON keys (docs/results-format.md, "Provenance"):
 *   isbench {version, commit}, command, device {name, vendor, driver, version, opencl_c, platform,
 *   platform_version, compute_units, global_mem_bytes}, clblast, clblast_tuning,
 *   host {name, cpu, cores, os, kernel}, load_average {start: [1, 5, 15 min], end: [...]}. */
#ifndef ISB_RESULTS_PROVENANCE_H
#define ISB_RESULTS_PROVENANCE_H

#include <jansson.h>
#include <stdbool.h>

#include "ocl/ocl.h"

/* Records the process's command line (main calls it first; argv must outlive the process). */
void isb_provenance_set_command(int argc, char *const *argv);
/* Sets the provenance keys above in `into` (overwriting them), with the load average now as
 * "start". Prints a warning naming `who` when that load exceeds the online core count: the
 * timings will be noisy. */
bool isb_provenance_add(json_t *into, const isb_ocl *ocl, const char *who); /* false: a key could not be set */
/* Sets load_average.end to the load average now (false: it could not be set). */
bool isb_provenance_end(json_t *into);

#endif
