/* CLBlast tuning applied at run time: CLBlast ships no tuned parameters for many devices (PoCL
 * CPUs among them) and then falls back to defaults that can be several times slower. Parameters
 * found with CLBlast's own tuners (tuning/tune.sh) are stored in tuning/<name>.json and injected with
 * CLBlastOverrideParameters. isb_ocl_open applies them once per device session, so every user of
 * the device (model, benchmarks, tools) runs the same GEMMs.
 *
 * Entries are keyed the way CLBlast's own database is: device type -> vendor -> architecture ->
 * device name, each level "default" to match anything. For every kernel the most specific entry
 * that matches the device wins; two entries at the same level defining one kernel are an error.
 * Format and lookup: docs/clblast-tuning.md.
 *
 * Where the files are looked for: $ISBENCH_TUNING_DIR if set ("none" or "" disables tuning),
 * else the source tree's tuning/ folder (ISBENCH_SOURCE_DIR, fixed at build time). */
#ifndef ISB_OCL_CLBLAST_TUNING_H
#define ISB_OCL_CLBLAST_TUNING_H

#include "ocl/ocl.h"

/* A device as CLBlast's database sees it. vendor: "AMD", "Intel", "NVIDIA", ... (CL_DEVICE_VENDOR
 * normalised: PoCL on an EPYC reports "AuthenticAMD"); architecture: "SM9.0" (NVIDIA), "gfx90a"
 * (AMD GPUs), the LLVM CPU name for PoCL ("haswell", "skylake-avx512"), else "default". */
typedef struct {
    char type[16], vendor[256], architecture[256], device[256];
} isb_clblast_key;

/* The key of a device. Uses info->device for NVIDIA's compute capability when it is not NULL. */
void isb_clblast_device_key(const isb_device_info *info, isb_clblast_key *key);

/* Applies the matching entries of the default folder. No folder or no matching entry is a silent
 * no-op (described as "none ..."). A malformed file in the folder, a known-bad parameter set or
 * parameters CLBlast rejects is an error naming the file and the fix. Safe to call more than once:
 * CLBlast keys its compiled programs by the parameter values, so later GEMMs use the new kernels. */
int isb_clblast_apply_tuning(isb_ocl *ocl);

/* Same with an explicit folder (NULL = the default lookup above). */
int isb_clblast_apply_tuning_from(isb_ocl *ocl, const char *dir);

/* Which tuning the last call applied, for manifests and run contexts: "none (no entry for
 * CPU > AMD > haswell > pthread-haswell-AMD EPYC in DIR)" or "FILE [matched at LEVEL: KEY]
 * (KERNEL, ...)" per file applied, joined by "; ". */
const char *isb_clblast_tuning_applied(void);

/* Parses and checks one tuning file without applying it (device match not required). */
int isb_clblast_tuning_check_file(const char *path);

#endif
