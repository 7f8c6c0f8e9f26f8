/* The trace of enqueued work (isb_ocl_trace in ocl.h): counts of launches, CLBlast calls and
 * allocations, and in timed mode the time of each by name. Used by the step benchmark's profile
 * mode only; training never attaches a trace. */
#include "ocl/ocl.h"
#include "util/error.h"
#include "util/timer.h"

#include <stdio.h>
#include <string.h>

int isb_ocl_trace_launch(isb_ocl *ocl, cl_kernel k, size_t global, size_t local);
int isb_ocl_launch_status(cl_int st, cl_kernel k, size_t global, size_t local);

void isb_ocl_trace_book(isb_ocl_trace *t, const char *name, double seconds, bool host_clock) {
    int i = 0;
    while (i < t->n_entries && strcmp(t->entries[i].name, name) != 0) i++;
    if (i == t->n_entries) {
        if (t->n_entries == ISB_TRACE_ENTRIES) i = ISB_TRACE_ENTRIES - 1; /* full: the last collects the rest */
        else snprintf(t->entries[t->n_entries++].name, sizeof t->entries[0].name, "%s", name);
    }
    t->entries[i].calls++;
    t->entries[i].seconds += seconds;
    t->entries[i].host_clock |= host_clock;
}

double isb_ocl_trace_start(isb_ocl *ocl) {
    if (!ocl->trace || !ocl->trace->timed) return 0.0;
    clFinish(ocl->queue); /* an error here shows again at the call's own finish */
    return isb_now();
}

int isb_ocl_trace_clblast(isb_ocl *ocl, const char *name, double t0) {
    if (!ocl->trace) return ISB_OK;
    ocl->trace->clblast_calls++;
    if (!ocl->trace->timed) return ISB_OK;
    ISB_TRY(isb_ocl_finish(ocl));
    isb_ocl_trace_book(ocl->trace, name, isb_now() - t0, true);
    return ISB_OK;
}

/* Device time of a finished event, or -1 when the queue does not profile. */
static double event_seconds(cl_event e) {
    cl_ulong start = 0, end = 0;
    if (clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_START, sizeof start, &start, NULL) != CL_SUCCESS ||
        clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof end, &end, NULL) != CL_SUCCESS)
        return -1.0;
    return (double)(end - start) * 1e-9;
}

int isb_ocl_trace_launch(isb_ocl *ocl, cl_kernel k, size_t global, size_t local) {
    isb_ocl_trace *t = ocl->trace;
    t->launches++;
    double t0 = isb_ocl_trace_start(ocl);
    cl_event e = NULL;
    cl_int st = clEnqueueNDRangeKernel(ocl->queue, k, 1, NULL, &global, &local, 0, NULL, t->timed ? &e : NULL);
    ISB_TRY(isb_ocl_launch_status(st, k, global, local));
    if (!t->timed) return ISB_OK;
    int rc = isb_ocl_finish(ocl);
    double host = isb_now() - t0, device = rc == 0 ? event_seconds(e) : -1.0;
    clReleaseEvent(e);
    ISB_TRY(rc);
    char name[96] = "?";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    isb_ocl_trace_book(t, name, device >= 0 ? device : host, device < 0);
    return ISB_OK;
}
