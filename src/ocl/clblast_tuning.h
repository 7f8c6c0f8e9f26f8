/* CLBlast tuning applied at run time: CLBlast ships no tuned parameters for many devices (PoCL
 * CPUs among them) and then falls back to defaults that can be several times slower. Parameters
 * found with CLBlast's own tuners (tuning/tune.sh) are stored per device in tuning/<device>.json and
 * injected here with CLBlastOverrideParameters. File format: docs/clblast-tuning.md.
 *
 * Where the files are looked for: $ISBENCH_TUNING_DIR if set ("none" or "" disables tuning),
 * else the source tree's tuning/ folder (ISBENCH_SOURCE_DIR, fixed at build time). */
#ifndef ISB_OCL_CLBLAST_TUNING_H
#define ISB_OCL_CLBLAST_TUNING_H

#include "ocl/ocl.h"

/* Applies the tuning file of this device (same device name and driver version), if any: no
 * matching file (or no folder) is a silent no-op. A malformed file in the folder, or parameters
 * CLBlast rejects, is an error naming the file and the fix. Safe to call more than once: CLBlast
 * keys its compiled programs by the parameter values, so later GEMMs use the new kernels. */
int isb_clblast_apply_tuning(isb_ocl *ocl);

/* Same with an explicit folder (NULL = the default lookup above). */
int isb_clblast_apply_tuning_from(isb_ocl *ocl, const char *dir);

/* Path of the tuning file applied by the last successful call, or "none". For run contexts. */
const char *isb_clblast_tuning_applied(void);

/* Parses one tuning file without applying it (device match not required): for tests and tools. */
int isb_clblast_tuning_check_file(const char *path);

#endif
