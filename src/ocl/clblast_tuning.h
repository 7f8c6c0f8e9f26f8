/* CLBlast tuning applied at run time: CLBlast ships no tuned parameters for many devices (PoCL
 * CPUs, recent GPUs) and then falls back to generic defaults that can be several times slower.
 * Parameters found by `isbench tune` (src/tune/) or CLBlast's own tuners (tuning/tune.sh) are stored
 * as JSON entries and injected with CLBlastOverrideParameters. isb_ocl_open applies them once per
 * device session, so every user of the device (model, benchmarks, tools) runs the same GEMMs.
 *
 * Entries are keyed the way CLBlast's own database is: device type -> vendor -> architecture ->
 * device name, each level "default" to match anything; an optional "exact" object ties an entry to
 * one driver and CLBlast version. For every kernel the most specific entry that matches the device
 * wins; at one level the user's entry beats the repository's; two entries of one folder at one
 * level defining one kernel are an error. Format and lookup: docs/clblast-tuning.md.
 *
 * Where the entries are looked for, in order: $ISBENCH_TUNING_DIR if set ("none" or "" turns all
 * tuning off), else the source tree's tuning/ folder (ISBENCH_SOURCE_DIR, fixed at build time);
 * then the user's folder ${XDG_CACHE_HOME:-$HOME/.cache}/isbench/tuning, where `isbench tune`
 * writes. */
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

/* Applies the matching entries of the default folders. No folder or no matching entry is a silent
 * no-op (described as "untuned ..."). A malformed file in a folder, a known-bad parameter set or
 * parameters CLBlast rejects is an error naming the file and the fix. Safe to call more than once:
 * CLBlast keys its compiled programs by the parameter values, so later GEMMs use the new kernels. */
int isb_clblast_apply_tuning(isb_ocl *ocl);

/* Same with one explicit folder only (NULL = the default lookup above). */
int isb_clblast_apply_tuning_from(isb_ocl *ocl, const char *dir);

/* Which tuning the last call applied, for manifests, run contexts and figures: "untuned (CLBlast
 * defaults): no entry for CPU > AMD > haswell > pthread-haswell-AMD EPYC in DIR or USERDIR" or
 * "FILE at LEVEL level [type > vendor > architecture > device] (KERNEL, ...)" per file applied,
 * most specific first, joined by "; ". LEVEL is the most specific non-default level of the entry
 * (device, architecture, vendor, type, any-device). */
const char *isb_clblast_tuning_applied(void);

/* What the default lookup would apply to `info`, in the same words, without applying anything
 * (`isbench devices`). Fails like isb_clblast_apply_tuning on a broken file. */
int isb_clblast_tuning_describe(const isb_device_info *info, char *out, size_t len);

/* The user's tuning folder: ${XDG_CACHE_HOME:-$HOME/.cache}/isbench/tuning (error if neither is set). */
int isb_clblast_tuning_user_dir(char *out, size_t len);

/* One kernel's full parameter set through CLBlastOverrideParameters (resets the GEMM temp-size
 * cache, which depends on them). The error names CLBlast's status. */
int isb_clblast_override(isb_ocl *ocl, const char *kernel, int precision, size_t n, const char *const *names,
                         const size_t *values);

/* Parses and checks one tuning file without applying it (device match not required). */
int isb_clblast_tuning_check_file(const char *path);

#endif
