/* Shared helpers of the benchmark files (bench/benches.h): the device-timed loop and failure
 * reporting. */
#include "benches.h"

#include <stdio.h>

#include "util/error.h"
#include "util/timer.h"

int isb_bench_fail(isb_bench_state *st, int status, const char *what) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s", what, isb_last_error());
    isb_bench_skip_with_error(st, msg);
    return status;
}

/* One iteration: enqueue, then wait for all of it. */
static int run_once(isb_ocl *ocl, isb_bench_enqueue_fn enqueue, void *ctx) {
    ISB_TRY(enqueue(ctx));
    return isb_ocl_finish(ocl);
}

int isb_bench_device_loop(isb_bench_state *st, isb_ocl *ocl, isb_bench_enqueue_fn enqueue, void *ctx) {
    int rc = run_once(ocl, enqueue, ctx);
    if (rc < 0) return isb_bench_fail(st, rc, "warm-up");
    while (isb_bench_keep_running(st)) {
        /* Host clock around clFinish: covers every kernel of the iteration (an event would cover
         * only the last one, e.g. of a CLBlast call). */
        double t0 = isb_now();
        rc = run_once(ocl, enqueue, ctx);
        double t1 = isb_now();
        if (rc < 0) return isb_bench_fail(st, rc, "timed iteration");
        isb_bench_set_iteration_time(st, t1 - t0);
    }
    return 0;
}

int isb_bench_fits_device(const isb_bench_env *env, uint64_t bytes, uint64_t largest_buffer) {
    const isb_device_info *d = &env->ocl->info;
    /* Keep a quarter of global memory free for the driver, kernels and other buffers. */
    return bytes <= d->global_mem / 4 * 3 && largest_buffer <= d->max_alloc;
}
