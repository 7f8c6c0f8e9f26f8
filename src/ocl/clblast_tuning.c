/* Owns the run-time application of CLBlast tuning files (tuning/<name>.json, format in
 * docs/clblast-tuning.md): the device's database key, finding and ranking the entries that match
 * it, refusing parameter sets known to be wrong, and handing each kernel's parameters to
 * CLBlastOverrideParameters. */
#include "ocl/clblast_tuning.h"

#include <clblast_c.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/env.h"
#include "util/error.h"
#include "util/fileio.h"

#define TUNING_FORMAT "isbench-clblast-tuning/2"
#define MAX_PARAMS 32  /* CLBlast's largest kernel (Xgemm) has 16 */
#define MAX_KERNELS 64 /* (kernel, precision) pairs applied in one call */

static const char *const key_levels[] = {"type", "vendor", "architecture", "device"};
enum { N_LEVELS = 4 };

static char g_applied[4096] = "untuned (CLBlast defaults): no device opened";

const char *isb_clblast_tuning_applied(void) { return g_applied; }

/* ---- the device's key ---------------------------------------------------------------------- */

static const char *key_field(const isb_clblast_key *key, int level) {
    const char *fields[N_LEVELS] = {key->type, key->vendor, key->architecture, key->device};
    return fields[level];
}

/* CL_DEVICE_VENDOR as CLBlast's database names vendors (first matching fragment wins). */
static const char *normalised_vendor(const char *vendor) {
    static const struct { const char *fragment, *name; } map[] = {
        {"Advanced Micro Devices", "AMD"}, {"AMD", "AMD"},   {"NVIDIA", "NVIDIA"},     {"Intel", "Intel"},
        {"ARM", "ARM"},                    {"Apple", "Apple"}, {"QUALCOMM", "QUALCOMM"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strstr(vendor, map[i].fragment)) return map[i].name;
    return vendor;
}

/* PoCL's device version carries "HSTR: pthread-x86_64-pc-linux-gnu-<llvm cpu>": the CPU name. */
static void pocl_cpu_name(const char *device_version, char *out, size_t len) {
    const char *hstr = strstr(device_version, "HSTR: ");
    const char *gnu = hstr ? strstr(hstr, "-gnu-") : NULL;
    if (!gnu) return;
    gnu += strlen("-gnu-");
    size_t n = strcspn(gnu, " ;");
    if (n > 0) snprintf(out, len, "%.*s", (int)n, gnu);
}

void isb_clblast_device_key(const isb_device_info *info, isb_clblast_key *key) {
    memset(key, 0, sizeof *key);
    snprintf(key->type, sizeof key->type, "%s",
             info->type & CL_DEVICE_TYPE_GPU ? "GPU" : info->type & CL_DEVICE_TYPE_CPU ? "CPU"
             : info->type & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "default");
    snprintf(key->vendor, sizeof key->vendor, "%s", normalised_vendor(info->vendor));
    snprintf(key->device, sizeof key->device, "%s", info->name);
    snprintf(key->architecture, sizeof key->architecture, "default");
    cl_uint major = 0, minor = 0;
    if (strcmp(key->vendor, "NVIDIA") == 0 && info->device &&
        clGetDeviceInfo(info->device, 0x4000 /* CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV */, sizeof major, &major,
                        NULL) == CL_SUCCESS &&
        clGetDeviceInfo(info->device, 0x4001 /* ..._MINOR_NV */, sizeof minor, &minor, NULL) == CL_SUCCESS)
        snprintf(key->architecture, sizeof key->architecture, "SM%u.%u", major, minor);
    else if (strcmp(key->vendor, "AMD") == 0 && (info->type & CL_DEVICE_TYPE_GPU))
        snprintf(key->architecture, sizeof key->architecture, "%.*s", (int)strcspn(info->name, ":"), info->name);
    else
        pocl_cpu_name(info->device_version, key->architecture, sizeof key->architecture);
}

/* ---- reading and checking files ------------------------------------------------------------ */

static int bad_file(const char *path, const char *problem) {
    return isb_fail(ISB_ERR_FORMAT, "CLBlast tuning file %s is unusable: %s. Fix it, regenerate it with "
                    "`isbench tune`, or delete it (or set ISBENCH_TUNING_DIR=none to run untuned)", path, problem);
}

static bool valid_precision(json_int_t p) { return p == 16 || p == 32 || p == 64 || p == 3232 || p == 6464; }

static json_int_t param(const json_t *kernel, const char *name) {
    return json_integer_value(json_object_get(json_object_get(kernel, "parameters"), name));
}

/* Parameter sets that the linked CLBlast accepts but computes wrongly. */
static const char *known_bad(const json_t *kernel, char *problem, size_t len) {
    bool before_1_6_3 = CLBLAST_VERSION_MAJOR * 10000 + CLBLAST_VERSION_MINOR * 100 + CLBLAST_VERSION_PATCH < 10603;
    if (before_1_6_3 && strcmp(json_string_value(json_object_get(kernel, "kernel")), "Xgemm") == 0 &&
        param(kernel, "GEMMK") == 1 && param(kernel, "MWG") != param(kernel, "NWG")) {
        snprintf(problem, len, "its Xgemm entry has GEMMK=1 with MWG=%lld != NWG=%lld, which %s pads wrongly "
                 "(wrong GEMM results; fixed in CLBlast 1.6.3): use GEMMK=0 or MWG=NWG",
                 (long long)param(kernel, "MWG"), (long long)param(kernel, "NWG"), isb_clblast_version());
        return problem;
    }
    return NULL;
}

static const char *kernel_problem(const json_t *k, char *problem, size_t len) {
    json_t *params = json_object_get(k, "parameters");
    if (!json_is_string(json_object_get(k, "kernel"))) return "a kernel entry has no \"kernel\" name string";
    if (!json_is_integer(json_object_get(k, "precision")) ||
        !valid_precision(json_integer_value(json_object_get(k, "precision"))))
        return "a kernel entry's \"precision\" is not one of 16, 32, 64, 3232, 6464";
    if (!json_is_object(params) || json_object_size(params) == 0 || json_object_size(params) > MAX_PARAMS)
        return "a kernel entry's \"parameters\" is not a non-empty object of at most 32 names";
    const char *name;
    json_t *v;
    json_object_foreach(params, name, v)
        if (!json_is_integer(v) || json_integer_value(v) < 0) return "a parameter value is not a non-negative integer";
    return known_bad(k, problem, len);
}

static const char *structure_problem(const json_t *root, char *problem, size_t len) {
    json_t *match = json_object_get(root, "match"), *kernels = json_object_get(root, "kernels");
    if (!json_is_object(root)) return "the top level is not an object";
    if (!json_is_string(json_object_get(root, "format")) ||
        strcmp(json_string_value(json_object_get(root, "format")), TUNING_FORMAT) != 0)
        return "\"format\" is not \"" TUNING_FORMAT "\" (format 1 keyed files by exact device name: "
               "move its \"device\" into \"match\")";
    if (!json_is_object(match)) return "\"match\" must be an object of type, vendor, architecture, device";
    for (int l = 0; l < N_LEVELS; l++)
        if (!json_is_string(json_object_get(match, key_levels[l])))
            return "\"match\" needs the strings type, vendor, architecture and device (\"default\" matches any)";
    json_t *exact = json_object_get(root, "exact");
    if (exact && (!json_is_object(exact) ||
                  (json_object_get(exact, "driver_version") && !json_is_string(json_object_get(exact, "driver_version"))) ||
                  (json_object_get(exact, "clblast_version") && !json_is_string(json_object_get(exact, "clblast_version")))))
        return "\"exact\" must be an object of the strings driver_version and clblast_version";
    if (!json_is_array(kernels) || json_array_size(kernels) == 0) return "\"kernels\" must be a non-empty array";
    size_t i;
    json_t *k;
    json_array_foreach(kernels, i, k) {
        const char *p = kernel_problem(k, problem, len);
        if (p) return p;
    }
    return NULL;
}

/* Loads and checks the whole file, so that a broken one fails at start-up, not half-applied. */
static int load(const char *path, json_t **out) {
    *out = NULL;
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    char problem[512];
    if (!root) {
        snprintf(problem, sizeof problem, "not valid JSON (line %d: %s)", jerr.line, jerr.text);
        return bad_file(path, problem);
    }
    const char *p = structure_problem(root, problem, sizeof problem);
    if (p) {
        int rc = bad_file(path, p);
        json_decref(root);
        return rc;
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

/* ---- matching and applying ----------------------------------------------------------------- */

/* Where an entry was read from. At one match level the user's own entry (written by `isbench
 * tune` for this exact device) beats the repository's shared one. */
enum { SOURCE_REPO = 0, SOURCE_USER = 1 };

/* An entry's optional "exact" object ties it to one driver and CLBlast version (what `isbench
 * tune` measured): another version of either makes it not match, so a stale entry never applies. */
static bool exact_versions_match(const json_t *root, const isb_device_info *info) {
    json_t *exact = json_object_get(root, "exact");
    const char *driver = json_string_value(json_object_get(exact, "driver_version"));
    const char *clblast = json_string_value(json_object_get(exact, "clblast_version"));
    return (!driver || strcmp(driver, info->driver_version) == 0) &&
           (!clblast || strcmp(clblast, isb_clblast_version()) == 0);
}

/* -1 if the entry does not match the device, else its specificity: one bit per level that is not
 * "default" (device 8, architecture 4, vendor 2, type 1), so a device entry beats a vendor one. */
static int match_level(const json_t *root, const isb_clblast_key *key, const isb_device_info *info) {
    int level = 0;
    for (int l = 0; l < N_LEVELS; l++) {
        const char *want = json_string_value(json_object_get(json_object_get(root, "match"), key_levels[l]));
        if (strcmp(want, "default") == 0) continue;
        if (strcmp(want, key_field(key, l)) != 0) return -1;
        level |= 1 << l;
    }
    return exact_versions_match(root, info) ? level : -1;
}

/* The most specific level an entry names: what `isbench devices` and the provenance report. */
static const char *level_name(int level) {
    return level & 8 ? "device" : level & 4 ? "architecture" : level & 2 ? "vendor" : level & 1 ? "type" : "any-device";
}

typedef struct {
    char *path;
    json_t *root;
    int level, source;
} tuning_entry;

typedef struct {
    tuning_entry *items;
    size_t count, cap;
} entry_list;

static void entry_list_free(entry_list *list) {
    for (size_t i = 0; i < list->count; i++) {
        json_decref(list->items[i].root);
        free(list->items[i].path);
    }
    free(list->items);
    *list = (entry_list){0};
}

/* Most specific first; at one level the user's entry first; then by name (a stable order). */
static int by_rank(const void *a, const void *b) {
    const tuning_entry *x = a, *y = b;
    if (x->level != y->level) return y->level - x->level;
    return x->source != y->source ? y->source - x->source : strcmp(x->path, y->path);
}

typedef struct {
    const char *kernel;
    int precision;
    const tuning_entry *entry;
} applied_kernel;

static const applied_kernel *find_applied(const applied_kernel *done, int n, const char *kernel, int precision) {
    for (int i = 0; i < n; i++)
        if (done[i].precision == precision && strcmp(done[i].kernel, kernel) == 0) return &done[i];
    return NULL;
}

static void describe_match(isb_strbuf *b, const tuning_entry *e) {
    isb_strbuf_printf(b, "%s%s at %s level [", b->data && b->data[0] ? "; " : "", e->path, level_name(e->level));
    for (int l = 0; l < N_LEVELS; l++)
        isb_strbuf_printf(b, "%s%s", l ? " > " : "",
                          json_string_value(json_object_get(json_object_get(e->root, "match"), key_levels[l])));
    isb_strbuf_printf(b, "] (");
}

int isb_clblast_override(isb_ocl *ocl, const char *kernel, int precision, size_t n, const char *const *names,
                         const size_t *values) {
    CLBlastStatusCode s = CLBlastOverrideParameters(ocl->info.device, kernel, (CLBlastPrecision)precision, n,
                                                    (const char **)names, values);
    ocl->clblast_params_version++; /* what depends on the parameters (GEMM temporary sizes) is stale */
    if (s != CLBlastSuccess)
        return isb_fail(ISB_ERR_CLBLAST, "%s rejected the \"%s\" parameters: %s (%d)", isb_clblast_version(), kernel,
                        isb_clblast_status_name(s), s);
    return ISB_OK;
}

static int override_kernel(isb_ocl *ocl, const char *path, const json_t *k) {
    const char *names[MAX_PARAMS];
    size_t values[MAX_PARAMS], n = 0;
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(k, "parameters"), name, v) {
        names[n] = name;
        values[n++] = (size_t)json_integer_value(v);
    }
    if (isb_clblast_override(ocl, json_string_value(json_object_get(k, "kernel")),
                             (int)json_integer_value(json_object_get(k, "precision")), n, names, values) == ISB_OK)
        return ISB_OK;
    return isb_fail(ISB_ERR_FORMAT, "CLBlast tuning file %s: %s. The file may be for another CLBlast version: "
                    "retune with `isbench tune`, or delete it (or set ISBENCH_TUNING_DIR=none)", path, isb_last_error());
}

/* Per (kernel, precision), the first entry in rank order that defines it wins; two entries of
 * one folder at one level defining it are an error. Applies them when ocl is not NULL. */
static int apply_entries(isb_ocl *ocl, const char *device, const entry_list *list, isb_strbuf *desc) {
    applied_kernel done[MAX_KERNELS];
    int n_done = 0;
    for (size_t e = 0; e < list->count; e++) {
        const tuning_entry *entry = &list->items[e];
        size_t i, used = 0;
        json_t *k;
        json_array_foreach(json_object_get(entry->root, "kernels"), i, k) {
            const char *kernel = json_string_value(json_object_get(k, "kernel"));
            int precision = (int)json_integer_value(json_object_get(k, "precision"));
            const applied_kernel *prev = find_applied(done, n_done, kernel, precision);
            if (prev && prev->entry->level == entry->level && prev->entry->source == entry->source)
                return isb_fail(ISB_ERR_FORMAT, "CLBlast tuning files %s and %s both define %s (precision %d) for "
                                "%s at the same level: remove one or make one more specific", prev->entry->path,
                                entry->path, kernel, precision, device);
            if (prev) continue; /* a more specific entry, or the user's own, already set it */
            if (n_done == MAX_KERNELS) return isb_fail(ISB_ERR_FORMAT, "more than %d tuned kernels", MAX_KERNELS);
            if (ocl) ISB_TRY(override_kernel(ocl, entry->path, k));
            done[n_done++] = (applied_kernel){kernel, precision, entry};
            if (used++ == 0) describe_match(desc, entry);
            isb_strbuf_printf(desc, "%s%s", used > 1 ? ", " : "", kernel);
        }
        if (used) isb_strbuf_printf(desc, ")");
    }
    return ISB_OK;
}

static bool is_json_name(const char *name) {
    size_t len = strlen(name);
    return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".json") == 0;
}

static int add_entry(entry_list *list, const char *path, json_t *root, int level, int source) {
    tuning_entry *grown = list->count == list->cap
                              ? realloc(list->items, (list->cap = list->cap ? 2 * list->cap : 8) * sizeof *grown)
                              : list->items;
    char *copy = strdup(path);
    if (!grown || !copy) {
        free(copy);
        json_decref(root);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory listing CLBlast tuning files");
    }
    list->items = grown;
    list->items[list->count++] = (tuning_entry){copy, root, level, source};
    return ISB_OK;
}

/* Every tuning file of `dir` is loaded and checked (a broken one is reported, not skipped); those
 * matching the device are added to `list`. A missing folder adds nothing. */
static int matching_entries(const char *dir, int source, const isb_device_info *info, entry_list *list) {
    DIR *d = opendir(dir);
    if (!d) return ISB_OK; /* no folder (e.g. an installed binary without the source tree): untuned */
    isb_clblast_key key;
    isb_clblast_device_key(info, &key);
    int rc = ISB_OK;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        if (!is_json_name(de->d_name)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        json_t *root;
        rc = load(path, &root);
        if (rc < 0) break;
        int level = match_level(root, &key, info);
        if (level < 0) json_decref(root);
        else rc = add_entry(list, path, root, level, source);
    }
    closedir(d);
    return rc;
}

int isb_clblast_tuning_user_dir(char *out, size_t len) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0]) snprintf(out, len, "%s/isbench/tuning", xdg);
    else if (home && home[0]) snprintf(out, len, "%s/.cache/isbench/tuning", home);
    else return isb_fail(ISB_ERR_USAGE, "neither XDG_CACHE_HOME nor HOME is set: no user tuning folder "
                         "(set one of them, or pass the file with --out)");
    return ISB_OK;
}

/* The folders of a lookup, in the order they are read: `dir` alone when given, else the
 * repository's (or $ISBENCH_TUNING_DIR) and then the user's. n = 0: tuning is off. */
typedef struct {
    char path[2][4096];
    int source[2], n;
} tuning_dirs;

static void lookup_dirs(const char *dir, tuning_dirs *dirs) {
    *dirs = (tuning_dirs){.n = 1};
    if (dir) {
        snprintf(dirs->path[0], sizeof dirs->path[0], "%s", dir);
        dirs->source[0] = SOURCE_REPO;
    } else {
        const char *repo = isb_env(ISB_ENV_TUNING_DIR);
        snprintf(dirs->path[0], sizeof dirs->path[0], "%s", repo ? repo : ISBENCH_SOURCE_DIR "/tuning");
        dirs->source[1] = SOURCE_USER;
        if (isb_clblast_tuning_user_dir(dirs->path[1], sizeof dirs->path[1]) == ISB_OK) dirs->n = 2;
    }
    if (dirs->path[0][0] == '\0' || strcmp(dirs->path[0], "none") == 0) dirs->n = 0;
}

/* Finds the entries for `info` and describes them into out; applies them when ocl is not NULL. */
static int resolve(isb_ocl *ocl, const isb_device_info *info, const char *dir, char *out, size_t len) {
    tuning_dirs dirs;
    lookup_dirs(dir, &dirs);
    if (dirs.n == 0) {
        snprintf(out, len, "untuned (CLBlast defaults): ISBENCH_TUNING_DIR=%s", dirs.path[0][0] ? dirs.path[0] : "\"\"");
        return ISB_OK;
    }
    entry_list list = {0};
    isb_strbuf desc = {0};
    int rc = ISB_OK;
    for (int i = 0; i < dirs.n && rc == ISB_OK; i++) rc = matching_entries(dirs.path[i], dirs.source[i], info, &list);
    if (rc == ISB_OK) {
        qsort(list.items, list.count, sizeof *list.items, by_rank);
        rc = apply_entries(ocl, info->name, &list, &desc);
    }
    if (rc == ISB_OK && desc.data && desc.data[0]) {
        snprintf(out, len, "%s", desc.data);
    } else if (rc == ISB_OK) {
        isb_clblast_key key;
        isb_clblast_device_key(info, &key);
        snprintf(out, len, "untuned (CLBlast defaults): no entry for %s > %s > %s > %s in %s%s%s", key.type, key.vendor,
                 key.architecture, key.device, dirs.path[0], dirs.n > 1 ? " or " : "", dirs.n > 1 ? dirs.path[1] : "");
    }
    isb_strbuf_free(&desc);
    entry_list_free(&list);
    return rc;
}

int isb_clblast_apply_tuning_from(isb_ocl *ocl, const char *dir) {
    snprintf(g_applied, sizeof g_applied, "untuned (CLBlast defaults): the tuning could not be applied");
    return resolve(ocl, &ocl->info, dir, g_applied, sizeof g_applied);
}

int isb_clblast_apply_tuning(isb_ocl *ocl) { return isb_clblast_apply_tuning_from(ocl, NULL); }

int isb_clblast_tuning_describe(const isb_device_info *info, char *out, size_t len) {
    return resolve(NULL, info, NULL, out, len);
}

