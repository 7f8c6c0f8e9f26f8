/* Every ISBENCH_* environment variable isbench reads, in one place: its name, what it does, and
 * the one getenv. (It lives in util/, the bottom layer, because ocl/, data/ and util/ read some of
 * them; the command-line options that they default are in config/options.h.)
 * Tests keep their own test-only variables (ISBENCH_TEST_*, ISB_FUZZ_SEED, ISB_FAULT_SEED). */
#ifndef ISB_UTIL_ENV_H
#define ISB_UTIL_ENV_H

typedef enum {
    ISB_ENV_DEVICE,            /* default of --device */
    ISB_ENV_DATA,              /* default of --data: the dataset folder or a parent of the default folders */
    ISB_ENV_DATA_ANY_SIZE,     /* "1": accept dataset files of any whole number of records (test sets only) */
    ISB_ENV_KERNEL_DIR,        /* load the kernels from this folder instead of the embedded copies */
    ISB_ENV_TUNING_DIR,        /* CLBlast tuning folder ("" or "none": no tuning) */
    ISB_ENV_STEP_PROFILE,      /* the engine benchmark writes its per-layer profile to this file */
    ISB_ENV_FAULT_WRITE_FAIL,  /* fault tests (util/fileio.c): the K-th atomic write fails */
    ISB_ENV_FAULT_KILL_IN_WRITE,
    ISB_ENV_FAULT_KILL_AFTER_WRITE,
    ISB_ENV_CHECK_BREAK,       /* test hook of isbench check: corrupt the results of the cases named so */
    ISB_ENV_SOURCE_DIR,        /* the source tree, for tests that read files of it */
    ISB_ENV_EXE,               /* the isbench program, for tests that run it */
    ISB_ENV_COUNT
} isb_env_var;

/* The variable's value as set (possibly ""), NULL if unset. The same pointer while the
 * environment is unchanged. */
const char *isb_env(isb_env_var v);
/* "ISBENCH_DEVICE", ... */
const char *isb_env_name(isb_env_var v);

#endif
