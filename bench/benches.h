/* The benchmark files of isbench-bench and what they share: the environment handed to each
 * registration function, and the device-timing loop every device benchmark uses.
 *
 * Adding a benchmark file bench/bench_<area>.c:
 *   1. define `void isb_bench_register_<area>(const isb_bench_env *env)` in it, registering its
 *      benchmarks with isb_bench_register (bench/gbench.h); names follow docs/results-format.md;
 *   2. declare it below and add one line to the `registrations` table in bench/main.c.
 * Declarations are weak, so the program links while a file is still missing (it is skipped). */
#ifndef ISB_BENCH_BENCHES_H
#define ISB_BENCH_BENCHES_H

#include <stdint.h>
#include "gbench.h"
#include "ocl/ocl.h"

typedef struct {
    isb_ocl *ocl;   /* the device under test, open for the whole run */
    int64_t max_n;  /* largest problem size to register (--max-n; device memory also caps it) */
} isb_bench_env;

#define ISB_BENCH_WEAK __attribute__((weak))
void isb_bench_register_sampling(const isb_bench_env *env) ISB_BENCH_WEAK; /* bench_sampling.c */
void isb_bench_register_engine(const isb_bench_env *env) ISB_BENCH_WEAK;   /* bench_engine.c */
void isb_bench_register_data(const isb_bench_env *env) ISB_BENCH_WEAK;     /* bench_data.c */

/* Enqueues one iteration's device work (no clFinish); returns 0 or a negative isb_status. */
typedef int (*isb_bench_enqueue_fn)(void *ctx);

/* The device-timed loop (use with .manual_time = true): one warm-up call (compiles kernels, faults
 * pages in), then per iteration a host clock around enqueue + clFinish, reported as the iteration
 * time. On any error the run is marked failed with the library's message. Returns 0 or the status. */
int isb_bench_device_loop(isb_bench_state *st, isb_ocl *ocl, isb_bench_enqueue_fn enqueue, void *ctx);

/* Marks the run failed with isb_last_error() prefixed by `what`; returns status. */
int isb_bench_fail(isb_bench_state *st, int status, const char *what);

/* True if `bytes` of device buffers fit the device (global memory with headroom, and each single
 * buffer of `largest_buffer` bytes within the max allocation size). */
int isb_bench_fits_device(const isb_bench_env *env, uint64_t bytes, uint64_t largest_buffer);

#endif
