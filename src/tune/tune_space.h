/* The parameter spaces `isbench tune` searches: CLBlast's two GEMM kernels, XgemmDirect (one
 * kernel, no copies; CLBlast runs it below the XGEMM_MIN_INDIRECT_SIZE crossover) and Xgemm (the
 * indirect path: pad/transpose copies around a tiled kernel). Each parameter takes values from a
 * short list; a set is valid when it satisfies the constraints of CLBlast's own tuners
 * (src/tuning/kernels/xgemm*.hpp in its sources) and fits the device's work-group size and local
 * memory. Sets are complete, as CLBlastOverrideParameters requires. */
#ifndef ISB_TUNE_TUNE_SPACE_H
#define ISB_TUNE_TUNE_SPACE_H

#include <stdbool.h>
#include <stddef.h>
#include "ocl/ocl.h"
#include "util/rng.h"

typedef enum { ISB_TUNE_DIRECT, ISB_TUNE_XGEMM } isb_tune_kernel;

#define ISB_TUNE_MAX_PARAMS 16
typedef struct {
    isb_tune_kernel kernel;
    size_t v[ISB_TUNE_MAX_PARAMS]; /* in the order of isb_tune_param_names */
} isb_tune_params;

const char *isb_tune_kernel_name(isb_tune_kernel kernel); /* "XgemmDirect", "Xgemm" */
int isb_tune_param_count(isb_tune_kernel kernel);
const char *const *isb_tune_param_names(isb_tune_kernel kernel);

/* Whether CLBlast's constraints hold and the device can run it (work-group size, local memory). */
bool isb_tune_params_valid(const isb_tune_params *p, const isb_device_info *device);

/* Known starting points for `kernel`, valid ones only: small-tile sets measured on PoCL CPUs and
 * CLBlast's generic defaults. Returns how many were written (at most max). */
int isb_tune_seeds(isb_tune_kernel kernel, const isb_device_info *device, isb_tune_params *out, int max);

/* A valid set one or two parameter steps away from `from` (or, now and then, anywhere): false
 * when none was found in a few hundred draws. */
bool isb_tune_neighbour(const isb_tune_params *from, const isb_device_info *device, isb_rng *rng,
                        isb_tune_params *out);

bool isb_tune_params_equal(const isb_tune_params *a, const isb_tune_params *b);
/* "WGD=16 MDIMCD=2 ..." */
void isb_tune_params_text(const isb_tune_params *p, char *out, size_t len);

#endif
