/* Owns the run-time application of CLBlast tuning files (tuning/<device>.json, format in
 * docs/clblast-tuning.md): finding the file of the open device, validating it, and handing each
 * kernel's parameters to CLBlastOverrideParameters. */
#include "ocl/clblast_tuning.h"

#include <clblast_c.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define TUNING_FORMAT "isbench-clblast-tuning/1"
#define MAX_PARAMS 32 /* CLBlast's largest kernel (Xgemm) has 16 */

static char g_applied[4096] = "none";

const char *isb_clblast_tuning_applied(void) { return g_applied; }

static int bad_file(const char *path, const char *problem) {
    return isb_fail(ISB_ERR_FORMAT, "CLBlast tuning file %s is malformed: %s. Fix it, regenerate it with "
                    "tuning/tune.sh, or delete it (or set ISBENCH_TUNING_DIR=none to run untuned)", path, problem);
}

static bool valid_precision(json_int_t p) { return p == 16 || p == 32 || p == 64 || p == 3232 || p == 6464; }

/* Loads and checks the whole structure, so that a broken file fails at start-up, not half-applied. */
static int load(const char *path, json_t **out) {
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        char problem[400];
        snprintf(problem, sizeof problem, "not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return bad_file(path, problem);
    }
    const char *problem = NULL;
    json_t *kernels = json_object_get(root, "kernels");
    if (!json_is_object(root)) problem = "the top level is not an object";
    else if (!json_is_string(json_object_get(root, "format")) ||
             strcmp(json_string_value(json_object_get(root, "format")), TUNING_FORMAT) != 0)
        problem = "\"format\" is not \"" TUNING_FORMAT "\"";
    else if (!json_is_string(json_object_get(root, "device")) || !json_is_string(json_object_get(root, "driver_version")))
        problem = "\"device\" and \"driver_version\" must be strings (as `isbench devices` prints them)";
    else if (!json_is_array(kernels) || json_array_size(kernels) == 0)
        problem = "\"kernels\" must be a non-empty array";
    size_t i;
    json_t *k;
    json_array_foreach(kernels, i, k) {
        if (problem) break;
        json_t *params = json_object_get(k, "parameters");
        if (!json_is_string(json_object_get(k, "kernel"))) problem = "a kernel entry has no \"kernel\" name string";
        else if (!json_is_integer(json_object_get(k, "precision")) ||
                 !valid_precision(json_integer_value(json_object_get(k, "precision"))))
            problem = "a kernel entry's \"precision\" is not one of 16, 32, 64, 3232, 6464";
        else if (!json_is_object(params) || json_object_size(params) == 0 || json_object_size(params) > MAX_PARAMS)
            problem = "a kernel entry's \"parameters\" is not a non-empty object of at most 32 names";
        const char *name;
        json_t *v;
        json_object_foreach(params, name, v) {
            if (problem) break;
            if (!json_is_integer(v) || json_integer_value(v) < 0)
                problem = "a parameter value is not a non-negative integer";
        }
    }
    if (problem) {
        json_decref(root);
        return bad_file(path, problem);
    }
    *out = root;
    return ISB_OK;
}

int isb_clblast_tuning_check_file(const char *path) {
    json_t *root;
    ISB_TRY(load(path, &root));
    json_decref(root);
    return ISB_OK;
}

static bool matches(const json_t *root, const isb_device_info *info) {
    return strcmp(json_string_value(json_object_get(root, "device")), info->name) == 0 &&
           strcmp(json_string_value(json_object_get(root, "driver_version")), info->driver_version) == 0;
}

static int apply(isb_ocl *ocl, const char *path, const json_t *root) {
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(root, "kernels"), i, k) {
        const char *kernel = json_string_value(json_object_get(k, "kernel"));
        const char *names[MAX_PARAMS];
        size_t values[MAX_PARAMS], n = 0;
        const char *name;
        json_t *v;
        json_object_foreach(json_object_get(k, "parameters"), name, v) {
            names[n] = name;
            values[n++] = (size_t)json_integer_value(v);
        }
        CLBlastPrecision precision = (CLBlastPrecision)json_integer_value(json_object_get(k, "precision"));
        CLBlastStatusCode s = CLBlastOverrideParameters(ocl->info.device, kernel, precision, n, names, values);
        ocl->n_gemm_sizes = 0; /* GEMM temporary-buffer sizes depend on the parameters (layers.c) */
        if (s != CLBlastSuccess)
            return isb_fail(ISB_ERR_FORMAT, "CLBlast tuning file %s: %s rejected the \"%s\" parameters: %s (%d). "
                            "The file may be for another CLBlast version: regenerate it with tuning/tune.sh, or "
                            "delete it (or set ISBENCH_TUNING_DIR=none)", path, isb_clblast_version(), kernel,
                            isb_clblast_status_name(s), s);
    }
    snprintf(g_applied, sizeof g_applied, "%s", path);
    return ISB_OK;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool is_json_name(const char *name) {
    size_t len = strlen(name);
    return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0;
}

int isb_clblast_apply_tuning_from(isb_ocl *ocl, const char *dir) {
    if (!dir) {
        dir = getenv("ISBENCH_TUNING_DIR");
        if (!dir) dir = ISBENCH_SOURCE_DIR "/tuning";
    }
    snprintf(g_applied, sizeof g_applied, "none");
    if (dir[0] == '\0' || strcmp(dir, "none") == 0) return ISB_OK;
    DIR *d = opendir(dir);
    if (!d) return ISB_OK; /* no folder (e.g. an installed binary without the source tree): untuned */
    /* sorted, so that the choice among several matching files does not depend on the file system */
    char **files = NULL;
    size_t count = 0, cap = 0;
    int rc = ISB_OK;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!is_json_name(e->d_name)) continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 16;
            char **grown = realloc(files, cap * sizeof *files);
            if (!grown) rc = isb_fail(ISB_ERR_MEMORY, "out of host memory listing %s", dir);
            else files = grown;
        }
        if (rc == 0) {
            size_t len = strlen(dir) + strlen(e->d_name) + 2;
            files[count] = malloc(len);
            if (!files[count]) rc = isb_fail(ISB_ERR_MEMORY, "out of host memory listing %s", dir);
            else snprintf(files[count++], len, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    if (rc == 0) qsort(files, count, sizeof *files, by_name);
    json_t *chosen = NULL;
    const char *chosen_path = NULL;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        json_t *root;
        rc = load(files[i], &root); /* every file is checked: a broken one is reported, not skipped */
        if (rc == 0 && !chosen && matches(root, &ocl->info)) {
            chosen = root;
            chosen_path = files[i];
        } else if (rc == 0) {
            json_decref(root);
        }
    }
    if (rc == 0 && chosen) rc = apply(ocl, chosen_path, chosen);
    json_decref(chosen);
    for (size_t i = 0; i < count; i++) free(files[i]);
    free(files);
    return rc;
}

int isb_clblast_apply_tuning(isb_ocl *ocl) { return isb_clblast_apply_tuning_from(ocl, NULL); }
