/* Device enumeration, selection, contexts and buffers. Programs and kernels: ocl_program.c;
 * status names: ocl_status.c. */
#include "ocl/ocl.h"
#include "util/env.h"
#include "ocl/clblast_tuning.h"
#include "ocl/ocl_internal.h"
#include "util/error.h"
#include "util/fileio.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_PLATFORM_ADVICE \
    "no OpenCL platform found. Install an OpenCL driver (ICD): on Debian/Ubuntu " \
    "`apt-get install pocl-opencl-icd` for the CPU, or your GPU vendor's OpenCL driver; " \
    "the ICD loader looks in /etc/OpenCL/vendors (or $OCL_ICD_VENDORS)"

static void query_string_platform(cl_platform_id p, cl_platform_info what, char *out, size_t n) {
    out[0] = '\0';
    if (clGetPlatformInfo(p, what, n, out, NULL) != CL_SUCCESS) snprintf(out, n, "?");
    out[n - 1] = '\0';
}

static void query_string_device(cl_device_id d, cl_device_info what, char *out, size_t n) {
    out[0] = '\0';
    if (clGetDeviceInfo(d, what, n, out, NULL) != CL_SUCCESS) snprintf(out, n, "?");
    out[n - 1] = '\0';
}

static void fill_info(isb_device_info *di) {
    query_string_platform(di->platform, CL_PLATFORM_NAME, di->platform_name, sizeof di->platform_name);
    query_string_platform(di->platform, CL_PLATFORM_VERSION, di->platform_version, sizeof di->platform_version);
    query_string_platform(di->platform, CL_PLATFORM_VENDOR, di->platform_vendor, sizeof di->platform_vendor);
    cl_device_id d = di->device;
    query_string_device(d, CL_DEVICE_NAME, di->name, sizeof di->name);
    query_string_device(d, CL_DEVICE_VENDOR, di->vendor, sizeof di->vendor);
    query_string_device(d, CL_DRIVER_VERSION, di->driver_version, sizeof di->driver_version);
    query_string_device(d, CL_DEVICE_VERSION, di->device_version, sizeof di->device_version);
    query_string_device(d, CL_DEVICE_OPENCL_C_VERSION, di->c_version, sizeof di->c_version);
    query_string_device(d, CL_DEVICE_PROFILE, di->profile, sizeof di->profile);
    cl_device_fp_config fp64 = 0;
    di->fp64 = clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL) == CL_SUCCESS && fp64 != 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof di->type, &di->type, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof di->compute_units, &di->compute_units, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof di->clock_mhz, &di->clock_mhz, NULL);
    clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof di->global_mem, &di->global_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof di->local_mem, &di->local_mem, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof di->max_alloc, &di->max_alloc, NULL);
    clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof di->max_wg, &di->max_wg, NULL);
}

/* Whether platform p has devices (*nd of them); if not, appends "'NAME': what the driver said" to why. */
static bool platform_has_devices(cl_platform_id p, cl_uint *nd, isb_strbuf *why) {
    cl_int st = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, NULL, nd);
    if (st == CL_SUCCESS && *nd > 0) return true;
    char name[256];
    query_string_platform(p, CL_PLATFORM_NAME, name, sizeof name);
    if (st == CL_SUCCESS) isb_strbuf_printf(why, "%s'%s': no device", why->len ? "; " : "", name);
    else isb_strbuf_printf(why, "%s'%s': clGetDeviceIDs returned %s (%d)", why->len ? "; " : "", name, isb_cl_status_name(st), st);
    return false;
}

int isb_ocl_list_devices(isb_device_info **devices, int *count) {
    *devices = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int st = clGetPlatformIDs(0, NULL, &np);
    if (st == -1001 /* CL_PLATFORM_NOT_FOUND_KHR */ || (st == CL_SUCCESS && np == 0))
        return isb_fail(ISB_ERR_NO_DEVICE, NO_PLATFORM_ADVICE);
    if (st != CL_SUCCESS)
        return isb_fail(ISB_ERR_NO_DEVICE, "clGetPlatformIDs failed with %s (%d): %s",
                        isb_cl_status_name(st), st, NO_PLATFORM_ADVICE);
    cl_platform_id *plats = calloc(np, sizeof *plats);
    if (!plats) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    clGetPlatformIDs(np, plats, NULL);
    isb_device_info *list = NULL;
    int n = 0;
    isb_strbuf why = {0}; /* each platform without a device, and what its driver said */
    for (cl_uint p = 0; p < np; p++) {
        cl_uint nd = 0;
        if (!platform_has_devices(plats[p], &nd, &why)) continue;
        cl_device_id *ids = calloc(nd, sizeof *ids);
        isb_device_info *grown = realloc(list, (size_t)(n + (int)nd) * sizeof *list);
        if (!ids || !grown) {
            free(ids); free(grown ? grown : list); free(plats); isb_strbuf_free(&why);
            return isb_fail(ISB_ERR_MEMORY, "out of host memory");
        }
        list = grown;
        clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, ids, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            isb_device_info *di = &list[n++];
            memset(di, 0, sizeof *di);
            di->platform_index = (int)p;
            di->device_index = (int)d;
            di->platform = plats[p];
            di->device = ids[d];
            fill_info(di);
        }
        free(ids);
    }
    free(plats);
    if (n == 0) {
        free(list);
        int rc = isb_fail(ISB_ERR_NO_DEVICE,
                          "%u OpenCL platform(s) found, but none offers a usable device: %s. The driver is installed "
                          "but cannot open a device: check that it supports this machine (`clinfo` shows the same "
                          "view; PoCL: the CPU and its POCL_DEVICES setting; a GPU driver: its kernel module and "
                          "/dev permissions)", np, why.data ? why.data : "?");
        isb_strbuf_free(&why);
        return rc;
    }
    isb_strbuf_free(&why);
    *devices = list;
    *count = n;
    return ISB_OK;
}

int isb_ocl_default_device(const isb_device_info *devices, int count) {
    for (int i = 0; i < count; i++)
        if (devices[i].type & CL_DEVICE_TYPE_GPU) return i;
    return 0;
}

static const char *type_name(cl_device_type t) {
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "accelerator";
    return "other";
}

char *isb_ocl_describe_devices(const isb_device_info *devices, int count, int mark_index) {
    isb_strbuf b = {0};
    for (int i = 0; i < count; i++) {
        const isb_device_info *d = &devices[i];
        isb_strbuf_printf(&b, "  %s %d:%d  %s [%s] (platform: %s)\n", i == mark_index ? "*" : " ",
                          d->platform_index, d->device_index, d->name, type_name(d->type), d->platform_name);
    }
    return b.data;
}

static bool contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return true;
    }
    return n == 0;
}

static bool equals_nocase(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return false;
    return *a == *b;
}

/* "gpu"/"cpu" (any case) as a device type, else 0. */
static cl_device_type type_word(const char *s) {
    if (equals_nocase(s, "gpu")) return CL_DEVICE_TYPE_GPU;
    if (equals_nocase(s, "cpu")) return CL_DEVICE_TYPE_CPU;
    return 0;
}

/* Does device `d` match the selector's platform part (platform name or vendor) and device part
 * (a type word, or part of the device name; an empty part matches anything)? */
static bool matches_parts(const isb_device_info *d, const char *platform_part, const char *device_part) {
    if (platform_part && !contains_nocase(d->platform_name, platform_part) &&
        !contains_nocase(d->platform_vendor, platform_part))
        return false;
    cl_device_type want = type_word(device_part);
    return want ? (d->type & want) != 0 : contains_nocase(d->name, device_part);
}

/* A plain substring matches the device name, the platform name or the platform vendor. */
static bool matches_anywhere(const isb_device_info *d, const char *text) {
    return contains_nocase(d->name, text) || contains_nocase(d->platform_name, text) ||
           contains_nocase(d->platform_vendor, text);
}

static int no_match(const isb_device_info *devices, int count, const char *sel) {
    char *list = isb_ocl_describe_devices(devices, count, -1);
    int rc = isb_fail(ISB_ERR_NO_DEVICE,
                      "no OpenCL device matches '%s'. Give --device (or ISBENCH_DEVICE) as P:D indices, "
                      "'gpu', 'cpu', PLATFORM:DEVICE name parts or part of one device's name. "
                      "Available devices:\n%s", sel, list ? list : "");
    free(list);
    return rc;
}

static int ambiguous(const isb_device_info *devices, int count, const char *sel, const bool *hit) {
    isb_strbuf b = {0};
    int first = -1;
    for (int i = 0; i < count; i++)
        if (hit[i]) {
            if (first < 0) first = i;
            isb_strbuf_printf(&b, "    %d:%d  %s (platform: %s)\n", devices[i].platform_index,
                              devices[i].device_index, devices[i].name, devices[i].platform_name);
        }
    int rc = isb_fail(ISB_ERR_NO_DEVICE,
                      "device selector '%s' is ambiguous: it matches several devices, possibly of different "
                      "OpenCL implementations:\n%sName one as P:D (e.g. '%d:%d') or as PLATFORM:DEVICE name "
                      "parts (e.g. 'Portable Computing Language:', 'Intel(R) OpenCL:', 'rusticl:llvmpipe')",
                      sel, b.data ? b.data : "", devices[first].platform_index, devices[first].device_index);
    free(b.data);
    return rc;
}

/* The one device matching a name selector: "PLATFORM:DEVICE" (split at the first ':') or a plain
 * substring. Several matches are refused: "Intel" matches both PoCL's "pthread-...-Intel(R) Xeon"
 * and Intel's own runtime, and picking the first would silently benchmark the wrong one. */
static int select_by_name(const isb_device_info *devices, int count, const char *sel, int *index) {
    char platform_part[256];
    const char *colon = strchr(sel, ':');
    const char *device_part = colon ? colon + 1 : sel;
    if (colon) snprintf(platform_part, sizeof platform_part, "%.*s", (int)(colon - sel), sel);
    bool *hit = calloc((size_t)count, sizeof *hit);
    if (!hit) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    int hits = 0;
    for (int i = 0; i < count; i++) {
        hit[i] = colon ? matches_parts(&devices[i], platform_part, device_part) : matches_anywhere(&devices[i], sel);
        if (hit[i] && hits++ == 0) *index = i;
    }
    int rc = hits == 1 ? ISB_OK : hits == 0 ? no_match(devices, count, sel) : ambiguous(devices, count, sel, hit);
    free(hit);
    return rc;
}

/* The selector's parse; isb_ocl_select adds where it came from. */
static int select_device(const isb_device_info *devices, int count, const char *sel, int *index) {
    if (!sel || !*sel) {
        *index = isb_ocl_default_device(devices, count);
        return ISB_OK;
    }
    int p, d;
    char tail;
    if (sscanf(sel, "%d:%d%c", &p, &d, &tail) == 2) {
        for (int i = 0; i < count; i++)
            if (devices[i].platform_index == p && devices[i].device_index == d) { *index = i; return ISB_OK; }
        return no_match(devices, count, sel);
    }
    cl_device_type want = type_word(sel);
    if (want) {
        for (int i = 0; i < count; i++)
            if (devices[i].type & want) { *index = i; return ISB_OK; }
        return no_match(devices, count, sel);
    }
    return select_by_name(devices, count, sel, index);
}

int isb_ocl_select(const isb_device_info *devices, int count, const char *sel, int *index) {
    int rc = select_device(devices, count, sel, index);
    if (rc < 0 && sel && sel == isb_env(ISB_ENV_DEVICE)) /* isb_ocl_selector passes the variable's own string */
        return isb_fail_context(rc, "%s=%s (from the environment)", isb_env_name(ISB_ENV_DEVICE), sel);
    return rc;
}

const char *isb_ocl_selector(const char *from_cli) {
    if (from_cli && *from_cli) return from_cli;
    const char *env = isb_env(ISB_ENV_DEVICE);
    return (env && *env) ? env : NULL;
}

const char *isb_ocl_limitation(const isb_device_info *d, char *buf, size_t len) {
    int major = 0, minor = 0;
    if (sscanf(d->c_version, "OpenCL C %d.%d", &major, &minor) == 2 && major * 10 + minor < 12) {
        snprintf(buf, len, "%s supports only %s; isbench's kernels need OpenCL C 1.2: choose another device "
                 "with --device", d->name, d->c_version);
        return buf;
    }
    if (strstr(d->profile, "EMBEDDED")) {
        snprintf(buf, len, "%s implements the OpenCL embedded profile, without the 64-bit integers isbench's "
                 "sampling kernels use: choose another device with --device", d->name);
        return buf;
    }
    return NULL;
}

int isb_ocl_open(isb_ocl *ocl, const char *selector, bool profiling) {
    memset(ocl, 0, sizeof *ocl);
    isb_device_info *devs;
    int n, idx;
    ISB_TRY(isb_ocl_list_devices(&devs, &n));
    int rc = isb_ocl_select(devs, n, selector, &idx);
    if (rc < 0) { free(devs); return rc; }
    ocl->info = devs[idx];
    free(devs);
    char why[1024];
    if (isb_ocl_limitation(&ocl->info, why, sizeof why)) return isb_fail(ISB_ERR_NO_DEVICE, "%s", why);
    cl_int st;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ocl->info.platform, 0};
    ocl->context = clCreateContext(props, 1, &ocl->info.device, NULL, NULL, &st);
    if (st != CL_SUCCESS) return isb_ocl_check(st, "clCreateContext");
    ocl->profiling = profiling;
    ocl->queue = clCreateCommandQueue(ocl->context, ocl->info.device,
                                      profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &st);
    if (st != CL_SUCCESS) {
        isb_ocl_close(ocl);
        return isb_ocl_check(st, "clCreateCommandQueue");
    }
    ocl->zero_by_write = strstr(ocl->info.platform_name, "Oclgrind") != NULL;
    ocl->wg_size = ocl->info.max_wg < 256 ? ocl->info.max_wg : 256;
    if (ocl->wg_size == 0) ocl->wg_size = 1;
    /* CLBlast's parameter overrides are process-wide, per device: set once here, for every user of
     * the session (model, benchmarks, tools), rather than by whichever of them runs first. */
    rc = isb_clblast_apply_tuning(ocl);
    if (rc < 0) isb_ocl_close(ocl);
    return rc;
}

void isb_ocl_close(isb_ocl *ocl) {
    if (!ocl) return;
    for (int i = 0; i < ISB_OCL_ATTACHMENTS; i++)
        if (ocl->attached[i].key) ocl->attached[i].release(ocl->attached[i].state);
    memset(ocl->attached, 0, sizeof ocl->attached);
    isb_ocl_release_programs(ocl);
    if (ocl->queue) clReleaseCommandQueue(ocl->queue);
    if (ocl->context) clReleaseContext(ocl->context);
    ocl->queue = NULL;
    ocl->context = NULL;
}

void *isb_ocl_attached(const isb_ocl *ocl, const void *key) {
    for (int i = 0; i < ISB_OCL_ATTACHMENTS; i++)
        if (ocl->attached[i].key == key) return ocl->attached[i].state;
    return NULL;
}

int isb_ocl_attach(isb_ocl *ocl, const void *key, void *state, void (*release)(void *state)) {
    for (int i = 0; i < ISB_OCL_ATTACHMENTS; i++)
        if (!ocl->attached[i].key) {
            ocl->attached[i] = (isb_ocl_attachment){key, state, release};
            return ISB_OK;
        }
    return isb_fail(ISB_ERR_USAGE, "isb_ocl_attach: all %d attachment slots of the context are taken; raise "
                    "ISB_OCL_ATTACHMENTS", ISB_OCL_ATTACHMENTS);
}

int isb_ocl_alloc(isb_ocl *ocl, cl_mem *buf, size_t bytes, const char *what) {
    *buf = NULL;
    if (bytes == 0) bytes = 4; /* a valid handle for empty tensors */
    if (bytes > ocl->info.max_alloc)
        return isb_fail(ISB_ERR_MEMORY,
                        "buffer '%s' needs %.1f MiB but %s allows at most %.1f MiB per buffer "
                        "(use a smaller width, batch or dataset)",
                        what, bytes / 1048576.0, ocl->info.name, ocl->info.max_alloc / 1048576.0);
    isb_ocl_trace_alloc(ocl, bytes);
    cl_int st;
    *buf = clCreateBuffer(ocl->context, CL_MEM_READ_WRITE, bytes, NULL, &st);
    if (st != CL_SUCCESS)
        return isb_fail(st == CL_MEM_OBJECT_ALLOCATION_FAILURE || st == CL_OUT_OF_RESOURCES ||
                                st == CL_OUT_OF_HOST_MEMORY || st == CL_INVALID_BUFFER_SIZE
                            ? ISB_ERR_MEMORY : ISB_ERR_OPENCL,
                        "cannot allocate buffer '%s' of %.1f MiB on %s (%.1f MiB global memory): %s (%d)",
                        what, bytes / 1048576.0, ocl->info.name, ocl->info.global_mem / 1048576.0,
                        isb_cl_status_name(st), st);
    /* Drivers allocate lazily: touch the buffer now so out-of-memory shows up here, named. */
    st = isb_ocl_fill_zero(ocl, *buf, 0, bytes) < 0 ? CL_OUT_OF_RESOURCES : clFinish(ocl->queue);
    if (st != CL_SUCCESS) {
        isb_ocl_release(buf);
        return isb_fail(ISB_ERR_MEMORY, "cannot initialise buffer '%s' of %.1f MiB on %s: %s (%d)", what,
                        bytes / 1048576.0, ocl->info.name, isb_cl_status_name(st), st);
    }
    return ISB_OK;
}

void isb_ocl_release(cl_mem *buf) {
    if (buf && *buf) {
        clReleaseMemObject(*buf);
        *buf = NULL;
    }
}

int isb_ocl_write(isb_ocl *ocl, cl_mem buf, size_t offset, size_t bytes, const void *src) {
    if (bytes == 0) return ISB_OK;
    return isb_ocl_check(clEnqueueWriteBuffer(ocl->queue, buf, CL_TRUE, offset, bytes, src, 0, NULL, NULL),
                         "clEnqueueWriteBuffer");
}

int isb_ocl_read(isb_ocl *ocl, cl_mem buf, size_t offset, size_t bytes, void *dst) {
    if (bytes == 0) return ISB_OK;
    return isb_ocl_check(clEnqueueReadBuffer(ocl->queue, buf, CL_TRUE, offset, bytes, dst, 0, NULL, NULL),
                         "clEnqueueReadBuffer");
}

int isb_ocl_fill_zero(isb_ocl *ocl, cl_mem buf, size_t offset, size_t bytes) {
    if (bytes == 0) return ISB_OK;
    if (ocl->zero_by_write) { /* test-only path: the simulator's buffers are small */
        void *zeros = calloc(1, bytes);
        if (!zeros) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
        int rc = isb_ocl_write(ocl, buf, offset, bytes, zeros);
        free(zeros);
        return rc;
    }
    cl_float zero = 0.0f;
    if (offset % sizeof zero == 0 && bytes % sizeof zero == 0)
        return isb_ocl_check(clEnqueueFillBuffer(ocl->queue, buf, &zero, sizeof zero, offset, bytes, 0, NULL, NULL),
                             "clEnqueueFillBuffer");
    cl_uchar z = 0;
    return isb_ocl_check(clEnqueueFillBuffer(ocl->queue, buf, &z, 1, offset, bytes, 0, NULL, NULL),
                         "clEnqueueFillBuffer");
}

int isb_ocl_copy(isb_ocl *ocl, cl_mem src, size_t src_offset, cl_mem dst, size_t dst_offset, size_t bytes,
                 const char *what) {
    if (bytes == 0) return ISB_OK;
    cl_int st = clEnqueueCopyBuffer(ocl->queue, src, dst, src_offset, dst_offset, bytes, 0, NULL, NULL);
    if (st != CL_SUCCESS)
        return isb_fail(ISB_ERR_OPENCL, "copying %s (%zu bytes, device to device): %s (%d)", what, bytes,
                        isb_cl_status_name(st), st);
    return ISB_OK;
}

int isb_ocl_finish(isb_ocl *ocl) { return isb_ocl_check(clFinish(ocl->queue), "clFinish"); }

int isb_ocl_mark_and_wait_previous(isb_ocl *ocl, cl_event *mark) {
    if (*mark) {
        cl_int st = clWaitForEvents(1, mark);
        isb_ocl_mark_release(mark);
        ISB_TRY(isb_ocl_check(st, "clWaitForEvents (the previous step)"));
    }
    ISB_TRY(isb_ocl_check(clFlush(ocl->queue), "clFlush"));
    return isb_ocl_check(clEnqueueMarkerWithWaitList(ocl->queue, 0, NULL, mark), "clEnqueueMarkerWithWaitList");
}

void isb_ocl_mark_release(cl_event *mark) {
    if (*mark) clReleaseEvent(*mark);
    *mark = NULL;
}

int isb_ocl_set_args(cl_kernel k, int n, const isb_karg *args) {
    for (int i = 0; i < n; i++) {
        cl_int st = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].ptr);
        if (st != CL_SUCCESS) {
            char name[128] = "?";
            clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
            return isb_fail(ISB_ERR_OPENCL, "clSetKernelArg(%s, arg %d, %zu bytes): %s (%d)", name, i,
                            args[i].size, isb_cl_status_name(st), st);
        }
    }
    return ISB_OK;
}

size_t isb_ocl_kernel_wg(isb_ocl *ocl, cl_kernel k, size_t cap) {
    size_t wg = 0;
    clGetKernelWorkGroupInfo(k, ocl->info.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    if (wg == 0 || wg > ocl->info.max_wg) wg = ocl->info.max_wg;
    if (cap && wg > cap) wg = cap;
    return wg ? wg : 1;
}

static int launch_status(cl_int st, cl_kernel k, size_t global, size_t local) {
    if (st != CL_SUCCESS) {
        char name[128] = "?";
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL);
        return isb_fail(st == CL_MEM_OBJECT_ALLOCATION_FAILURE || st == CL_OUT_OF_RESOURCES ? ISB_ERR_MEMORY
                                                                                           : ISB_ERR_OPENCL,
                        "launching kernel %s (global %zu, local %zu): %s (%d)", name, global, local,
                        isb_cl_status_name(st), st);
    }
    return ISB_OK;
}

/* Every launch goes through here; with a trace attached it is counted (and timed: ocl_trace.c). */
static int enqueue(isb_ocl *ocl, cl_kernel k, size_t global, size_t local) {
    double t0 = isb_ocl_trace_start(ocl);
    cl_event e = NULL;
    cl_int st = clEnqueueNDRangeKernel(ocl->queue, k, 1, NULL, &global, &local, 0, NULL,
                                       isb_ocl_trace_timed(ocl) ? &e : NULL);
    ISB_TRY(launch_status(st, k, global, local));
    return isb_ocl_trace_kernel(ocl, k, e, t0);
}

int isb_ocl_run1d(isb_ocl *ocl, cl_kernel k, size_t n, size_t local) {
    if (n == 0) return ISB_OK;
    if (local == 0) local = isb_ocl_kernel_wg(ocl, k, ocl->wg_size);
    size_t global = (n + local - 1) / local * local;
    return enqueue(ocl, k, global, local);
}

int isb_ocl_run_groups(isb_ocl *ocl, cl_kernel k, size_t groups, size_t local) {
    if (groups == 0) return ISB_OK;
    return enqueue(ocl, k, groups * local, local);
}
