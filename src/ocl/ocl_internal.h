/* Shared between the files of the OpenCL layer only (not part of its interface, ocl.h). */
#ifndef ISB_OCL_OCL_INTERNAL_H
#define ISB_OCL_OCL_INTERNAL_H

#include "ocl/ocl.h"

/* Releases every cached program and kernel of the context (ocl_program.c; isb_ocl_close calls it). */
void isb_ocl_release_programs(isb_ocl *ocl);

/* ocl_trace.c, called by ocl.c only (the trace calls nothing of ocl.c): whether a timed trace is
 * attached; after a kernel launch enqueued with event `e` (NULL unless timed) at host time t0 (from
 * isb_ocl_trace_start), counts it and in timed mode finishes the queue and books its time; counts an
 * allocation. All are no-ops without a trace. */
bool isb_ocl_trace_timed(const isb_ocl *ocl);
int isb_ocl_trace_kernel(isb_ocl *ocl, cl_kernel k, cl_event e, double t0);
void isb_ocl_trace_alloc(isb_ocl *ocl, size_t bytes);

#endif
