/* The trace of enqueued work (isb_ocl_trace in ocl.h): counts of launches, CLBlast calls and
 * allocations, and in timed mode the time of each by name. Used by the step benchmark's profile
 * mode only; training never attaches a trace. */
#include "ocl/ocl.h"
#include "ocl/ocl_internal.h"
#include "util/error.h"
#include "util/timer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISB_TRACE_ENTRIES 256
struct isb_ocl_trace {
    bool timed;
    isb_trace_counts counts;
    int n_entries;
    isb_trace_entry entries[ISB_TRACE_ENTRIES]; /* first-use order; overflow goes to the last */
};

isb_ocl_trace *isb_ocl_trace_new(bool timed) {
    isb_ocl_trace *t = calloc(1, sizeof *t);
    if (t) t->timed = timed;
    return t;
}
void isb_ocl_trace_free(isb_ocl_trace *t) { free(t); }
void isb_ocl_trace_attach(isb_ocl *ocl, isb_ocl_trace *t) { ocl->trace = t; }
isb_trace_counts isb_ocl_trace_counts(const isb_ocl_trace *t) { return t->counts; }
int isb_ocl_trace_entries(const isb_ocl_trace *t) { return t->n_entries; }
isb_trace_entry isb_ocl_trace_entry(const isb_ocl_trace *t, int i) { return t->entries[i]; }

void isb_ocl_trace_alloc(isb_ocl *ocl, size_t bytes) {
    if (!ocl->trace) return;
    ocl->trace->counts.allocations++;
    ocl->trace->counts.alloc_bytes += bytes;
}

/* Adds `seconds` to the entry `name`. */
static void book(isb_ocl_trace *t, const char *name, double seconds, bool host_clock) {
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

/* clFinish as an error (this file calls nothing of ocl.c, which calls it). */
static int finish(isb_ocl *ocl) { return isb_ocl_check(clFinish(ocl->queue), "clFinish"); }

bool isb_ocl_trace_timed(const isb_ocl *ocl) { return ocl->trace && ocl->trace->timed; }

double isb_ocl_trace_start(isb_ocl *ocl) {
    if (!ocl->trace || !ocl->trace->timed) return 0.0;
    clFinish(ocl->queue); /* an error here shows again at the call's own finish */
    return isb_now();
}

int isb_ocl_trace_clblast(isb_ocl *ocl, const char *name, double t0) {
    if (!ocl->trace) return ISB_OK;
    ocl->trace->counts.clblast_calls++;
    if (!ocl->trace->timed) return ISB_OK;
    ISB_TRY(finish(ocl));
    book(ocl->trace, name, isb_now() - t0, true);
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

int isb_ocl_trace_kernel(isb_ocl *ocl, cl_kernel k, cl_event e, double t0) {
    isb_ocl_trace *t = ocl->trace;
    if (!t) return ISB_OK;
    t->counts.launches++;
    if (!t->timed) return ISB_OK;
    int rc = finish(ocl);
    double host = isb_now() - t0, device = rc == 0 && e ? event_seconds(e) : -1.0;
    if (e) clReleaseEvent(e);
    ISB_TRY(rc);
    char name[96] = "?";
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
    book(t, name, device >= 0 ? device : host, device < 0);
    return ISB_OK;
}
