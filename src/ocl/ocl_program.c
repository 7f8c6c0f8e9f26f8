/* Programs built once per context, keyed by (files, options); kernels cached per program. */
#include "ocl/kernel_sources.h"
#include "ocl/ocl.h"
#include "ocl/ocl_internal.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *name;
    cl_kernel kernel;
} cached_kernel;

struct isb_ocl_program {
    char *files, *options;
    cl_program program;
    cached_kernel *kernels;
    int n_kernels;
    isb_ocl_program *next;
};

void isb_ocl_release_programs(isb_ocl *ocl) {
    isb_ocl_program *p = ocl->programs;
    while (p) {
        isb_ocl_program *next = p->next;
        for (int i = 0; i < p->n_kernels; i++) {
            clReleaseKernel(p->kernels[i].kernel);
            free(p->kernels[i].name);
        }
        free(p->kernels);
        if (p->program) clReleaseProgram(p->program);
        free(p->files);
        free(p->options);
        free(p);
        p = next;
    }
    ocl->programs = NULL;
}

/* Concatenates the named cl/ files, each preceded by a #line directive so that compiler messages
 * name the right line (the file is named in a comment: #line with a string is not portable). */
static char *concat_sources(const char *files) {
    isb_strbuf b = {0};
    char *list = strdup(files);
    if (!list) return NULL;
    char *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        char *text = isb_kernel_source_load(name);
        if (!text) {
            free(list);
            isb_strbuf_free(&b);
            return NULL;
        }
        isb_strbuf_printf(&b, "/* ---- %s ---- */\n#line 1\n%s\n", name, text);
        free(text);
    }
    free(list);
    return b.data;
}

static int build_program(isb_ocl *ocl, const char *files, const char *options, isb_ocl_program **out) {
    char *source = concat_sources(files);
    if (!source) return isb_fail_context(ISB_ERR_BUILD, "building %s", files);
    cl_int st;
    const char *src = source;
    cl_program prog = clCreateProgramWithSource(ocl->context, 1, &src, NULL, &st);
    free(source);
    if (st != CL_SUCCESS) return isb_ocl_check(st, "clCreateProgramWithSource");

    char full_options[2048];
    snprintf(full_options, sizeof full_options, "-cl-std=CL1.2 %s", options ? options : "");
    st = clBuildProgram(prog, 1, &ocl->info.device, full_options, NULL, NULL);
    if (st != CL_SUCCESS) {
        size_t log_size = 0;
        clGetProgramBuildInfo(prog, ocl->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
        char *log = calloc(log_size + 1, 1);
        if (log) clGetProgramBuildInfo(prog, ocl->info.device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
        int rc = isb_fail(ISB_ERR_BUILD,
                          "building OpenCL program from %s failed on %s: %s (%d)\n"
                          "build options: %s\nbuild log:\n%s",
                          files, ocl->info.name, isb_cl_status_name(st), st, full_options,
                          log && *log ? log : "(the driver returned no build log)");
        free(log);
        clReleaseProgram(prog);
        return rc;
    }
    isb_ocl_program *p = calloc(1, sizeof *p);
    if (!p) { clReleaseProgram(prog); return isb_fail(ISB_ERR_MEMORY, "out of host memory"); }
    p->files = strdup(files);
    p->options = strdup(options ? options : "");
    p->program = prog;
    p->next = ocl->programs;
    ocl->programs = p;
    *out = p;
    return ISB_OK;
}

int isb_ocl_kernel(isb_ocl *ocl, const char *files, const char *options, const char *kernel_name,
                   cl_kernel *kernel) {
    *kernel = NULL;
    const char *opts = options ? options : "";
    isb_ocl_program *p = ocl->programs;
    while (p && !(strcmp(p->files, files) == 0 && strcmp(p->options, opts) == 0)) p = p->next;
    if (!p) ISB_TRY(build_program(ocl, files, opts, &p));
    for (int i = 0; i < p->n_kernels; i++)
        if (strcmp(p->kernels[i].name, kernel_name) == 0) {
            *kernel = p->kernels[i].kernel;
            return ISB_OK;
        }
    cl_int st;
    cl_kernel k = clCreateKernel(p->program, kernel_name, &st);
    if (st != CL_SUCCESS)
        return isb_fail(ISB_ERR_BUILD, "no kernel '%s' in program %s: %s (%d)", kernel_name, files,
                        isb_cl_status_name(st), st);
    cached_kernel *grown = realloc(p->kernels, (size_t)(p->n_kernels + 1) * sizeof *grown);
    if (!grown) { clReleaseKernel(k); return isb_fail(ISB_ERR_MEMORY, "out of host memory"); }
    p->kernels = grown;
    p->kernels[p->n_kernels].name = strdup(kernel_name);
    p->kernels[p->n_kernels].kernel = k;
    p->n_kernels++;
    *kernel = k;
    return ISB_OK;
}
