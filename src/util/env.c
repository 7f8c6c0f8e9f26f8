/* The ISBENCH_* environment variables (env.h). */
#include "util/env.h"

#include <stdlib.h>

static const char *const names[ISB_ENV_COUNT] = {
    [ISB_ENV_DEVICE] = "ISBENCH_DEVICE",
    [ISB_ENV_DATA] = "ISBENCH_DATA",
    [ISB_ENV_DATA_ANY_SIZE] = "ISBENCH_DATA_ANY_SIZE",
    [ISB_ENV_KERNEL_DIR] = "ISBENCH_KERNEL_DIR",
    [ISB_ENV_TUNING_DIR] = "ISBENCH_TUNING_DIR",
    [ISB_ENV_STEP_PROFILE] = "ISBENCH_STEP_PROFILE",
    [ISB_ENV_FAULT_WRITE_FAIL] = "ISBENCH_FAULT_WRITE_FAIL",
    [ISB_ENV_FAULT_KILL_IN_WRITE] = "ISBENCH_FAULT_KILL_IN_WRITE",
    [ISB_ENV_FAULT_KILL_AFTER_WRITE] = "ISBENCH_FAULT_KILL_AFTER_WRITE",
    [ISB_ENV_CHECK_BREAK] = "ISBENCH_CHECK_BREAK",
    [ISB_ENV_SOURCE_DIR] = "ISBENCH_SOURCE_DIR",
    [ISB_ENV_EXE] = "ISBENCH_EXE",
};

const char *isb_env_name(isb_env_var v) { return (unsigned)v < ISB_ENV_COUNT ? names[v] : "?"; }

const char *isb_env(isb_env_var v) { return (unsigned)v < ISB_ENV_COUNT ? getenv(names[v]) : NULL; }
