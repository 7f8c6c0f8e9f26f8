/* The OpenCL device layer: enumerate and choose devices, one context and one in-order queue per
 * device, programs built once per context from cl/ files (build log in the error on failure),
 * kernels cached by name, named buffer allocation, and readable status names.
 *
 * Device selectors (--device or $ISBENCH_DEVICE), case-insensitive: "P:D" platform and device
 * indices; "gpu", "cpu" (the first of that type); "PLATFORM:DEVICE" where PLATFORM is part of the
 * platform's name or vendor and DEVICE part of the device name, or gpu/cpu (either may be empty:
 * "rusticl:", "Intel(R) OpenCL:cpu"); or a plain substring of the device name, platform name or
 * vendor. A name selector must match exactly one device: several matches are refused with their
 * list (a substring such as "Intel" would otherwise pick PoCL's "pthread-...-Intel(R) Xeon" before
 * Intel's own runtime). Default: first GPU, else the first device. */
#ifndef ISB_OCL_OCL_H
#define ISB_OCL_OCL_H

#include <stdbool.h>
#include <stddef.h>
#include <CL/cl.h>

typedef struct {
    int platform_index, device_index;
    cl_platform_id platform;
    cl_device_id device;
    char platform_name[256], platform_version[256], platform_vendor[256];
    char name[256], vendor[256], driver_version[256], device_version[256], c_version[256], profile[64];
    bool fp64;
    cl_device_type type;
    cl_uint compute_units, clock_mhz;
    cl_ulong global_mem, local_mem, max_alloc;
    size_t max_wg;
} isb_device_info;

typedef struct isb_ocl_program isb_ocl_program; /* cached program + its kernels */

/* Accounting of enqueued work (the step benchmark's profile mode, src/ocl/ocl_trace.c): with a
 * trace attached (isb_ocl_trace_attach), every kernel launch, CLBlast call (isb_ocl_trace_clblast)
 * and buffer allocation (isb_ocl_alloc) is counted; with `timed`, each launch and CLBlast call also
 * finishes the queue and books its time under its name: event start..end for kernels when the queue
 * profiles, else (and always for CLBlast calls) a host clock around clFinish. Opaque: read it through
 * the functions below. */
typedef struct isb_ocl_trace isb_ocl_trace;
typedef struct {
    long launches, clblast_calls, allocations;
    size_t alloc_bytes;
} isb_trace_counts;
typedef struct {
    char name[96];
    long calls;
    double seconds;
    bool host_clock; /* the time is a host clock around clFinish, not device events */
} isb_trace_entry;

/* State that a layer above keeps per context (e.g. nn/'s GEMM workspace), found by the address
 * `key` and released with `release` by isb_ocl_close: this layer does not know what it holds. */
#define ISB_OCL_ATTACHMENTS 4
typedef struct {
    const void *key;
    void *state;
    void (*release)(void *state);
} isb_ocl_attachment;

typedef struct {
    isb_device_info info;
    cl_context context;
    cl_command_queue queue;   /* the one in-order queue of this context */
    bool profiling;
    size_t wg_size;           /* default 1-D work-group size: min(256, device max) */
    bool zero_by_write;       /* Oclgrind treats clEnqueueFillBuffer data as uninitialised: write zeros */
    isb_ocl_program *programs;
    isb_ocl_trace *trace;     /* NULL (default): no accounting; set with isb_ocl_trace_attach */
    isb_ocl_attachment attached[ISB_OCL_ATTACHMENTS];
    /* Counts CLBlast parameter overrides on this device (isb_clblast_override): whatever depends on
     * the parameters (the GEMM temporary-buffer sizes nn/ caches) is stale when it changed. */
    unsigned clblast_params_version;
} isb_ocl;

/* All devices of all platforms (malloc'd array). ISB_ERR_NO_DEVICE with install advice if none. */
int isb_ocl_list_devices(isb_device_info **devices, int *count);
/* Index of the default device in the list: the first GPU, else 0. */
int isb_ocl_default_device(const isb_device_info *devices, int count);
/* Resolves a selector (NULL or "" = default) to an index; the error lists every device. */
int isb_ocl_select(const isb_device_info *devices, int count, const char *selector, int *index);
/* The selector to use: the command-line value if given, else $ISBENCH_DEVICE, else NULL. */
const char *isb_ocl_selector(const char *from_cli);
/* What the device lacks that isbench needs (OpenCL C 1.2, the full profile's 64-bit integers), as
 * a sentence with the fix, or NULL if nothing: isb_ocl_open refuses such a device with it, and
 * `isbench devices` prints it. */
const char *isb_ocl_limitation(const isb_device_info *d, char *buf, size_t len);
/* One line per device (for errors and `isbench devices`), appended to a malloc'd string. */
char *isb_ocl_describe_devices(const isb_device_info *devices, int count, int mark_index);

/* Opens the selected device: context, queue, and this device's CLBlast tuning (tuning/, see
 * ocl/clblast_tuning.h), applied once per session for everything that runs on it. */
int isb_ocl_open(isb_ocl *ocl, const char *selector, bool profiling);
void isb_ocl_close(isb_ocl *ocl); /* accepts a zeroed or half-opened struct */

/* Returns the kernel `kernel_name` from the program made of the cl/ files in `files` (comma
 * separated, concatenated in order, e.g. "philox.cl,augment.cl") built with `options`.
 * Built once per (files, options) and context; the kernel object is cached: never released by the
 * caller. On a failed build the error carries the options and the full build log. */
int isb_ocl_kernel(isb_ocl *ocl, const char *files, const char *options, const char *kernel_name,
                   cl_kernel *kernel);

/* The state attached under `key`, or NULL. */
void *isb_ocl_attached(const isb_ocl *ocl, const void *key);
/* Attaches `state` under `key` (not attached yet); isb_ocl_close calls release(state). */
int isb_ocl_attach(isb_ocl *ocl, const void *key, void *state, void (*release)(void *state));

/* Device buffer; on failure the error names `what`, the size and the device's memory. */
int isb_ocl_alloc(isb_ocl *ocl, cl_mem *buf, size_t bytes, const char *what);
void isb_ocl_release(cl_mem *buf); /* NULL-safe, sets *buf to NULL */
int isb_ocl_write(isb_ocl *ocl, cl_mem buf, size_t offset, size_t bytes, const void *src);  /* blocking */
int isb_ocl_read(isb_ocl *ocl, cl_mem buf, size_t offset, size_t bytes, void *dst);         /* blocking */
int isb_ocl_fill_zero(isb_ocl *ocl, cl_mem buf, size_t offset, size_t bytes);
/* Enqueues a device-to-device copy (not blocking; in order on the queue); the error names `what`. */
int isb_ocl_copy(isb_ocl *ocl, cl_mem src, size_t src_offset, cl_mem dst, size_t dst_offset, size_t bytes,
                 const char *what);
int isb_ocl_finish(isb_ocl *ocl);
/* Bounded run-ahead: waits until the work enqueued before the previous call has finished, then
 * marks the work enqueued so far (*mark: NULL at first; isb_ocl_mark_release drops it). The host
 * stays at most one such interval ahead of the device, so it notices a stop request in time. */
int isb_ocl_mark_and_wait_previous(isb_ocl *ocl, cl_event *mark);
void isb_ocl_mark_release(cl_event *mark); /* NULL-safe */

/* Kernel arguments: ISB_SET_ARGS(k, ISB_KA(buf), ISB_KA(n), ISB_KLOCAL(bytes)). */
typedef struct { size_t size; const void *ptr; } isb_karg;
#define ISB_KA(v) ((isb_karg){sizeof(v), &(v)})
#define ISB_KLOCAL(bytes) ((isb_karg){(bytes), NULL})
int isb_ocl_set_args(cl_kernel k, int n, const isb_karg *args);
#define ISB_SET_ARGS(k, ...) \
    isb_ocl_set_args((k), (int)(sizeof((isb_karg[]){__VA_ARGS__}) / sizeof(isb_karg)), (isb_karg[]){__VA_ARGS__})

/* Enqueue a 1-D range of at least n work-items (rounded up to the work-group size; kernels guard
 * with `if (gid >= n) return;`). local = 0 uses ocl->wg_size. */
int isb_ocl_run1d(isb_ocl *ocl, cl_kernel k, size_t n, size_t local);
/* Enqueue exactly `groups` work-groups of `local` work-items (for reductions). */
int isb_ocl_run_groups(isb_ocl *ocl, cl_kernel k, size_t groups, size_t local);
/* Largest work-group size usable for this kernel on this device, capped at `cap` (0 = no cap). */
size_t isb_ocl_kernel_wg(isb_ocl *ocl, cl_kernel k, size_t cap);

/* The trace (see isb_ocl_trace): a new one (NULL when out of memory), counting only or timed;
 * attached to a context for the work to account (NULL detaches); its counts and named entries
 * (0 <= i < isb_ocl_trace_entries, in first-use order; overflow goes to the last). */
isb_ocl_trace *isb_ocl_trace_new(bool timed);
void isb_ocl_trace_free(isb_ocl_trace *t); /* NULL-safe */
void isb_ocl_trace_attach(isb_ocl *ocl, isb_ocl_trace *t);
isb_trace_counts isb_ocl_trace_counts(const isb_ocl_trace *t);
int isb_ocl_trace_entries(const isb_ocl_trace *t);
isb_trace_entry isb_ocl_trace_entry(const isb_ocl_trace *t, int i);
/* Hooks around a CLBlast call: start before it (finishes the queue when timed; returns the host
 * time or 0) and isb_ocl_trace_clblast after it. Both are no-ops without a trace. */
double isb_ocl_trace_start(isb_ocl *ocl);
int isb_ocl_trace_clblast(isb_ocl *ocl, const char *name, double t0);

/* Turns an OpenCL status into ISB_ERR_OPENCL with "<what>: <CL_NAME> (<code>)"; returns 0 if ok. */
int isb_ocl_check(cl_int status, const char *what);
const char *isb_cl_status_name(cl_int status); /* also names CLBlast's own codes (they do not overlap) */
const char *isb_clblast_status_name(int status); /* CLBlast's own codes and OpenCL's */
/* CLBlast status → ISB_ERR_CLBLAST (or ISB_ERR_MEMORY) with the routine's name. */
int isb_clblast_check(int status, const char *routine);
/* "CLBlast 1.5.3" as linked (from the library's compile-time version). */
const char *isb_clblast_version(void);

#endif
