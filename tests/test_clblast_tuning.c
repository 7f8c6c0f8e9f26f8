/* CLBlast tuning files (src/ocl/clblast_tuning.c): GEMMs stay correct (vs plain C, for the three
 * transpose cases the conv layers use) untuned, with injected parameters and with this device's
 * tuning file from tuning/; the shipped files parse; broken files give an error naming the file.
 * Not an Oclgrind test: CLBlast's GEMM kernels are far too slow under the simulator. */
#include "testutil.h"
#include "ocl/clblast_tuning.h"
#include "util/error.h"
#include "util/fileio.h"

#include <clblast_c.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* C = alpha op(A) op(B) + beta C, row-major, reference in double */
static void gemm_ref(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, const float *b, float beta,
                     float *c) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
            c[i * n + j] = (float)(alpha * s + beta * c[i * n + j]);
        }
}

static void check_gemm(const char *what, bool ta, bool tb, int m, int n, int k, uint64_t seed) {
    isb_ocl *ocl = test_ocl();
    size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c),
          *want = malloc(nc * sizeof *want);
    test_fill_uniform(a, na, -1, 1, seed);
    test_fill_uniform(b, nb, -1, 1, seed + 1);
    test_fill_uniform(c, nc, -1, 1, seed + 2);
    memcpy(want, c, nc * sizeof *c);
    const float alpha = 1.5f, beta = 0.5f; /* beta != 0: the accumulate path of the weight gradient */
    gemm_ref(ta, tb, m, n, k, alpha, a, b, beta, want);
    cl_mem da = test_buffer_from(a, na * sizeof *a), db = test_buffer_from(b, nb * sizeof *b),
           dc = test_buffer_from(c, nc * sizeof *c);
    TEST_OK(isb_clblast_check(CLBlastSgemm(CLBlastLayoutRowMajor, ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                           tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m, (size_t)n,
                                           (size_t)k, alpha, da, 0, (size_t)(ta ? m : k), db, 0, (size_t)(tb ? k : n),
                                           beta, dc, 0, (size_t)n, &ocl->queue, NULL),
                              "CLBlastSgemm"));
    test_read(dc, c, nc * sizeof *c);
    char label[160];
    snprintf(label, sizeof label, "%s (%s) %dx%dx%d", what, isb_clblast_tuning_applied(), m, n, k);
    test_assert_close(label, c, want, nc, 1e-5);
    isb_ocl_release(&da);
    isb_ocl_release(&db);
    isb_ocl_release(&dc);
    free(a); free(b); free(c); free(want);
}

/* The conv GEMMs (forward NN, weight gradient NT, data gradient TN), one shape small enough for
 * CLBlast's direct kernel and one large enough for the indirect (Xgemm + pad/transpose) path;
 * sizes are not multiples of any tile size. */
static void check_conv_gemms(const char *what) {
    check_gemm(what, false, false, 24, 1000, 75, 10);
    check_gemm(what, false, true, 24, 75, 1000, 20);
    check_gemm(what, true, false, 75, 1000, 24, 30);
    check_gemm(what, false, false, 8, 40, 27, 40);
    check_gemm(what, false, false, 72, 4100, 585, 50);
    check_gemm(what, true, false, 585, 4100, 72, 60);
}

static char *make_temp_dir(void) {
    char *dir = strdup("/tmp/isbench-tuning-test-XXXXXX");
    assert_non_null(dir);
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir) {
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    rmdir(dir);
    free(dir);
}

static void write_text(const char *dir, const char *name, const char *text, char *path, size_t len) {
    snprintf(path, len, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A tuning entry matching the device under test at `level` ("device": type, vendor, architecture
 * and name; "vendor": type and vendor, the rest "default"; "default": everything default) with
 * `kernels`, which it takes over (reference stolen). */
static void write_entry(const char *dir, const char *name, const char *level, json_t *kernels, char *path,
                        size_t len) {
    isb_clblast_key key;
    isb_clblast_device_key(&test_ocl()->info, &key);
    bool device = strcmp(level, "device") == 0, vendor = device || strcmp(level, "vendor") == 0;
    json_t *root = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:o}", "format", "isbench-clblast-tuning/2", "match",
                             "type", vendor ? key.type : "default", "vendor", vendor ? key.vendor : "default",
                             "architecture", device ? key.architecture : "default", "device",
                             device ? key.device : "default", "kernels", kernels);
    assert_non_null(root);
    snprintf(path, len, "%s/%s", dir, name);
    assert_int_equal(json_dump_file(root, path, JSON_INDENT(2)), 0);
    json_decref(root);
}

static void write_tuning(const char *dir, const char *name, json_t *kernels, char *path, size_t len) {
    write_entry(dir, name, "device", kernels, path, len);
}

static bool applied_is_none(void) { return strncmp(isb_clblast_tuning_applied(), "untuned (CLBlast defaults)", 26) == 0; }

/* Xgemm parameters valid on any device (64-work-item groups, 4 KiB of local memory). */
static json_t *xgemm_entry(int gemmk, int mwg, int nwg) {
    return json_pack("{s:s, s:i, s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}}", "kernel",
                     "Xgemm", "precision", 32, "parameters", "GEMMK", gemmk, "KREG", 1, "KWG", 16, "KWI", 2, "MDIMA",
                     8, "MDIMC", 8, "MWG", mwg, "NDIMB", 8, "NDIMC", 8, "NWG", nwg, "SA", 1, "SB", 1, "STRM", 0,
                     "STRN", 0, "VWM", 2, "VWN", 2);
}

static json_t *xgemm_direct_entry(void) {
    return json_pack("{s:s, s:i, s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}}", "kernel", "XgemmDirect",
                     "precision", 32, "parameters", "WGD", 16, "MDIMCD", 8, "NDIMCD", 8, "MDIMAD", 8, "NDIMBD", 8,
                     "KWID", 2, "VWMD", 2, "VWND", 2, "PADA", 1, "PADB", 1);
}

/* direct kernel below 64^3 multiply-adds: the test shapes cover both kernels */
static json_t *routine_entry(void) {
    return json_pack("{s:s, s:i, s:{s:i}}", "kernel", "GemmRoutine", "precision", 32, "parameters",
                     "XGEMM_MIN_INDIRECT_SIZE", 64);
}

static json_t *kernel_list(json_t *a, json_t *b, json_t *c) {
    json_t *list = json_array();
    json_array_append_new(list, a);
    if (b) json_array_append_new(list, b);
    if (c) json_array_append_new(list, c);
    return list;
}

static void write_injected(const char *dir, char *path, size_t len) {
    write_tuning(dir, "injected.json", kernel_list(xgemm_entry(0, 32, 32), xgemm_direct_entry(), routine_entry()),
                 path, len);
}

static void gemm_correct_untuned_and_injected(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    TEST_OK(isb_clblast_apply_tuning_from(ocl, "none"));
    assert_true(applied_is_none());
    check_conv_gemms("untuned");

    char *dir = make_temp_dir(), path[4200];
    write_injected(dir, path, sizeof path);
    TEST_OK(isb_clblast_apply_tuning_from(ocl, dir));
    /* it was applied, not silently skipped, and the description names the file and the kernels */
    printf("applied: %s\n", isb_clblast_tuning_applied());
    assert_non_null(strstr(isb_clblast_tuning_applied(), path));
    assert_non_null(strstr(isb_clblast_tuning_applied(), "(Xgemm, XgemmDirect, GemmRoutine)"));
    check_conv_gemms("injected");
    remove_dir(dir);
}

/* This device's shipped tuning (tuning/), after the injected file: the shipped entries set no
 * GemmRoutine, so the injected 64^3 crossover stays in force and the large shapes run the shipped
 * Xgemm/pad parameters (overrides last for the process). A ctest test of its own, skipped where
 * no shipped entry matches the device (CI's machine always has one: .ci/run fails on the skip). */
static void needs_shipped_tuning_gemms_correct(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    char *dir = make_temp_dir(), path[4200];
    write_injected(dir, path, sizeof path);
    TEST_OK(isb_clblast_apply_tuning_from(ocl, dir));
    remove_dir(dir);
    TEST_OK(isb_clblast_apply_tuning_from(ocl, ISBENCH_SOURCE_DIR "/tuning"));
    printf("applied: %s\n", isb_clblast_tuning_applied());
    if (applied_is_none()) test_skip("no shipped tuning entry matches this device: %s", isb_clblast_tuning_applied());
    assert_non_null(strstr(isb_clblast_tuning_applied(), ISBENCH_SOURCE_DIR "/tuning/"));
    check_conv_gemms("shipped");
}

/* Proves the parameters reach CLBlast: every GEMM forced onto the Xgemm (indirect) path, whose
 * 128x128-item work-groups exceed every device's limit, so the GEMM must fail while in force. */
static void impossible_parameters_take_effect(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    char *dir = make_temp_dir(), path[4200];
    write_tuning(dir, "impossible.json",
                 json_pack("[{s:s, s:i, s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}},"
                           " {s:s, s:i, s:{s:i}}]",
                           "kernel", "Xgemm", "precision", 32, "parameters", "GEMMK", 0, "KREG", 1, "KWG", 128,
                           "KWI", 2, "MDIMA", 128, "MDIMC", 128, "MWG", 128, "NDIMB", 128, "NDIMC", 128, "NWG", 128,
                           "SA", 0, "SB", 0, "STRM", 0, "STRN", 0, "VWM", 1, "VWN", 1,
                           "kernel", "GemmRoutine", "precision", 32, "parameters", "XGEMM_MIN_INDIRECT_SIZE", 1),
                 path, sizeof path);
    TEST_OK(isb_clblast_apply_tuning_from(ocl, dir));
    const size_t m = 72, n = 4100, k = 585;
    cl_mem da = test_buffer_from(NULL, m * k * sizeof(float)), db = test_buffer_from(NULL, k * n * sizeof(float)),
           dc = test_buffer_from(NULL, m * n * sizeof(float));
    CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, m, n, k, 1.0f,
                                       da, 0, k, db, 0, n, 0.0f, dc, 0, n, &ocl->queue, NULL);
    if (s == CLBlastSuccess) s = isb_ocl_finish(ocl);
    printf("GEMM with 16384-item work-groups -> %s (%d)\n", isb_clblast_status_name(s), s);
    assert_int_not_equal(s, CLBlastSuccess);
    isb_ocl_release(&da);
    isb_ocl_release(&db);
    isb_ocl_release(&dc);
    remove_dir(dir);
    /* an override cannot be undone within a process, only replaced: valid parameters work again */
    dir = make_temp_dir();
    write_injected(dir, path, sizeof path);
    TEST_OK(isb_clblast_apply_tuning_from(ocl, dir));
    check_gemm("replaced", false, false, (int)m, (int)n, (int)k, 70);
    remove_dir(dir);
}

static void shipped_files_parse(void **state) {
    (void)state;
    DIR *d = opendir(ISBENCH_SOURCE_DIR "/tuning");
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/tuning/%s", ISBENCH_SOURCE_DIR, e->d_name);
        TEST_OK(isb_clblast_tuning_check_file(path));
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

/* Applying from a folder holding only `text` (as bad.json) fails with an error naming the file. */
static void expect_bad(const char *text, const char *problem) {
    char *dir = make_temp_dir(), path[4200];
    write_text(dir, "bad.json", text, path, sizeof path);
    isb_clear_error();
    int rc = isb_clblast_apply_tuning_from(test_ocl(), dir);
    printf("%s -> %s\n", problem, isb_last_error());
    assert_int_equal(rc, ISB_ERR_FORMAT);
    assert_non_null(strstr(isb_last_error(), path));
    assert_non_null(strstr(isb_last_error(), problem));
    assert_true(applied_is_none());
    remove_dir(dir);
}

static void malformed_files_give_clear_errors(void **state) {
    (void)state;
    expect_bad("{\"format\": \"isbench-clblast-tuning/1\", ", "not valid JSON");
    expect_bad("{\"format\": \"something-else\"}", "\"format\"");
    expect_bad("{\"format\": \"isbench-clblast-tuning/2\", \"match\": {\"type\": \"default\", \"vendor\": "
               "\"default\", \"architecture\": \"default\", \"device\": \"default\"}, "
               "\"kernels\": [{\"kernel\": \"Xgemm\", \"precision\": 32, \"parameters\": {\"MWG\": \"64\"}}]}",
               "non-negative integer");
    /* well-formed, for this device, but incomplete: CLBlast refuses it and the error says so */
    char *dir = make_temp_dir(), path[4200];
    write_tuning(dir, "incomplete.json", json_pack("[{s:s, s:i, s:{s:i}}]", "kernel", "Xgemm", "precision", 32,
                                                   "parameters", "MWG", 64), path, sizeof path);
    int rc = isb_clblast_apply_tuning_from(test_ocl(), dir);
    printf("incomplete -> %s\n", isb_last_error());
    assert_int_equal(rc, ISB_ERR_FORMAT);
    assert_non_null(strstr(isb_last_error(), path));
    assert_non_null(strstr(isb_last_error(), "Xgemm"));
    remove_dir(dir);
    /* a missing folder is not an error: untuned */
    TEST_OK(isb_clblast_apply_tuning_from(test_ocl(), "/nonexistent/isbench-tuning"));
    assert_true(applied_is_none());
    /* the old format is refused with the way to convert it */
    expect_bad("{\"format\": \"isbench-clblast-tuning/1\", \"device\": \"x\", \"driver_version\": \"1\", "
               "\"kernels\": [{\"kernel\": \"Xgemm\", \"precision\": 32, \"parameters\": {\"MWG\": 64}}]}",
               "move its \"device\" into \"match\"");
    expect_bad("{\"format\": \"isbench-clblast-tuning/2\", \"match\": {\"type\": \"CPU\"}, "
               "\"kernels\": [{\"kernel\": \"Xgemm\", \"precision\": 32, \"parameters\": {\"MWG\": 64}}]}",
               "\"match\" needs");
}

/* Keys as CLBlast's database forms them, from what the drivers report (synthetic devices). */
static void device_keys_follow_clblast_database(void **state) {
    (void)state;
    static const struct {
        cl_device_type type;
        const char *vendor, *name, *version, *want[4];
    } cases[] = {
        {CL_DEVICE_TYPE_CPU, "AuthenticAMD", "pthread-haswell-AMD EPYC",
         "OpenCL 3.0 PoCL HSTR: pthread-x86_64-pc-linux-gnu-haswell", {"CPU", "AMD", "haswell", NULL}},
        {CL_DEVICE_TYPE_CPU, "GenuineIntel", "pthread-skylake-avx512-Intel(R) Xeon(R) Gold 6338",
         "OpenCL 3.0 PoCL HSTR: pthread-x86_64-pc-linux-gnu-skylake-avx512", {"CPU", "Intel", "skylake-avx512", NULL}},
        {CL_DEVICE_TYPE_CPU, "Intel(R) Corporation", "Intel(R) Xeon(R) Gold 6338", "OpenCL 3.0 (Build 0)",
         {"CPU", "Intel", "default", NULL}},
        {CL_DEVICE_TYPE_GPU, "Advanced Micro Devices, Inc.", "gfx90a:sramecc+:xnack-", "OpenCL 2.0 AMD-APP",
         {"GPU", "AMD", "gfx90a", NULL}},
        {CL_DEVICE_TYPE_GPU, "NVIDIA Corporation", "NVIDIA H200", "OpenCL 3.0 CUDA", {"GPU", "NVIDIA", "default", NULL}},
        {CL_DEVICE_TYPE_CPU, "Mesa/X.org", "llvmpipe (LLVM 15.0.6, 256 bits)", "OpenCL 3.0 ",
         {"CPU", "Mesa/X.org", "default", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        isb_device_info info = {.type = cases[i].type}; /* no device handle: no NVIDIA query */
        snprintf(info.vendor, sizeof info.vendor, "%s", cases[i].vendor);
        snprintf(info.name, sizeof info.name, "%s", cases[i].name);
        snprintf(info.device_version, sizeof info.device_version, "%s", cases[i].version);
        isb_clblast_key key;
        isb_clblast_device_key(&info, &key);
        printf("%s -> %s > %s > %s > %s\n", cases[i].name, key.type, key.vendor, key.architecture, key.device);
        assert_string_equal(key.type, cases[i].want[0]);
        assert_string_equal(key.vendor, cases[i].want[1]);
        assert_string_equal(key.architecture, cases[i].want[2]);
        assert_string_equal(key.device, cases[i].name);
    }
}

/* Per kernel, the most specific matching entry wins; entries for other devices are not applied;
 * the description says which file set which kernel and at what key. */
static void most_specific_entry_wins_per_kernel(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    char *dir = make_temp_dir(), all[4200], vendor[4200], device[4200], other[4200];
    write_entry(dir, "a-all.json", "default", kernel_list(xgemm_entry(0, 32, 32), xgemm_direct_entry(), routine_entry()),
                all, sizeof all);
    write_entry(dir, "b-vendor.json", "vendor", kernel_list(xgemm_direct_entry(), NULL, NULL), vendor, sizeof vendor);
    write_entry(dir, "c-device.json", "device", kernel_list(xgemm_entry(0, 64, 64), NULL, NULL), device, sizeof device);
    json_t *elsewhere = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:o}", "format", "isbench-clblast-tuning/2", "match",
                                  "type", "default", "vendor", "no-such-vendor", "architecture", "default", "device",
                                  "default", "kernels", kernel_list(routine_entry(), NULL, NULL));
    snprintf(other, sizeof other, "%s/d-other.json", dir);
    assert_int_equal(json_dump_file(elsewhere, other, 0), 0);
    json_decref(elsewhere);
    TEST_OK(isb_clblast_apply_tuning_from(ocl, dir));
    const char *desc = isb_clblast_tuning_applied();
    printf("applied: %s\n", desc);
    char want[4400];
    snprintf(want, sizeof want, "%s at device level [", device);
    assert_non_null(strstr(desc, want));
    assert_non_null(strstr(desc, "] (Xgemm); "));
    snprintf(want, sizeof want, "%s at vendor level [", vendor);
    assert_non_null(strstr(desc, want));
    assert_non_null(strstr(desc, "> default > default] (XgemmDirect); "));
    snprintf(want, sizeof want, "%s at any-device level [default > default > default > default] (GemmRoutine)", all);
    assert_non_null(strstr(desc, want));
    assert_null(strstr(desc, "d-other.json"));
    assert_true(strstr(desc, "c-device.json") < strstr(desc, "b-vendor.json")); /* most specific first */
    check_gemm("layered", false, false, 72, 410, 58, 80);
    remove_dir(dir);
}

/* The default lookup reads $ISBENCH_TUNING_DIR (the repository's folder) and then the user's
 * folder under $XDG_CACHE_HOME: at one level the user's entry wins, a more specific repository
 * entry still beats a wider user one, an entry tied to another driver version does not match,
 * and ISBENCH_TUNING_DIR=none turns both off. Described without applying (`isbench devices`). */
static void user_folder_wins_at_the_same_level(void **state) {
    (void)state;
    const isb_device_info *info = &test_ocl()->info;
    char *repo = make_temp_dir(), *cache = make_temp_dir(), user[4200], path[4300], desc[8192];
    snprintf(user, sizeof user, "%s/isbench/tuning", cache);
    TEST_OK(isb_mkdir_p(user));
    write_entry(repo, "repo-device.json", "device", kernel_list(xgemm_entry(0, 32, 32), xgemm_direct_entry(), NULL),
                path, sizeof path);
    write_entry(user, "user-device.json", "device", kernel_list(xgemm_direct_entry(), NULL, NULL), path, sizeof path);
    write_entry(user, "user-vendor.json", "vendor", kernel_list(xgemm_entry(0, 64, 64), routine_entry(), NULL), path,
                sizeof path);
    json_t *stale = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s}, s:o}", "format", "isbench-clblast-tuning/2",
                              "match", "type", "default", "vendor", "default", "architecture", "default", "device",
                              "default", "exact", "driver_version", "no-such-driver", "kernels",
                              kernel_list(xgemm_entry(0, 16, 16), NULL, NULL));
    snprintf(path, sizeof path, "%s/stale.json", user);
    assert_int_equal(json_dump_file(stale, path, 0), 0);
    json_decref(stale);
    char *old_dir = getenv("ISBENCH_TUNING_DIR") ? strdup(getenv("ISBENCH_TUNING_DIR")) : NULL;
    char *old_xdg = getenv("XDG_CACHE_HOME") ? strdup(getenv("XDG_CACHE_HOME")) : NULL;
    setenv("ISBENCH_TUNING_DIR", repo, 1);
    setenv("XDG_CACHE_HOME", cache, 1);
    TEST_OK(isb_clblast_tuning_describe(info, desc, sizeof desc));
    printf("described: %s\n", desc);
    assert_non_null(strstr(desc, "user-device.json at device level ["));
    assert_non_null(strstr(desc, "repo-device.json at device level ["));
    assert_non_null(strstr(desc, "] (XgemmDirect); "));      /* the user's, listed first */
    assert_non_null(strstr(strstr(desc, "repo-device.json"), "] (Xgemm); ")); /* only what the user's lacks */
    assert_non_null(strstr(desc, "user-vendor.json at vendor level ["));
    assert_non_null(strstr(desc, "] (GemmRoutine)"));
    assert_null(strstr(desc, "stale.json"));
    setenv("ISBENCH_TUNING_DIR", "none", 1);
    TEST_OK(isb_clblast_tuning_describe(info, desc, sizeof desc));
    assert_string_equal(desc, "untuned (CLBlast defaults): ISBENCH_TUNING_DIR=none");
    if (old_dir) setenv("ISBENCH_TUNING_DIR", old_dir, 1); else unsetenv("ISBENCH_TUNING_DIR");
    if (old_xdg) setenv("XDG_CACHE_HOME", old_xdg, 1); else unsetenv("XDG_CACHE_HOME");
    free(old_dir);
    free(old_xdg);
    remove_dir(strdup(user));
    snprintf(path, sizeof path, "%s/isbench", cache);
    rmdir(path);
    remove_dir(cache);
    remove_dir(repo);
}

static void same_level_conflict_is_an_error(void **state) {
    (void)state;
    char *dir = make_temp_dir(), a[4200], b[4200];
    write_entry(dir, "a.json", "vendor", kernel_list(xgemm_entry(0, 32, 32), NULL, NULL), a, sizeof a);
    write_entry(dir, "b.json", "vendor", kernel_list(xgemm_entry(0, 64, 64), NULL, NULL), b, sizeof b);
    int rc = isb_clblast_apply_tuning_from(test_ocl(), dir);
    printf("conflict -> %s\n", isb_last_error());
    assert_int_equal(rc, ISB_ERR_FORMAT);
    assert_non_null(strstr(isb_last_error(), a));
    assert_non_null(strstr(isb_last_error(), b));
    assert_non_null(strstr(isb_last_error(), "same level"));
    remove_dir(dir);
}

/* CLBlast before 1.6.3 pads wrongly for GEMMK=1 with MWG != NWG: such a file is refused. */
static void known_bad_parameters_are_refused(void **state) {
    (void)state;
    char *dir = make_temp_dir(), path[4200];
    write_tuning(dir, "gemmk.json", kernel_list(xgemm_entry(1, 64, 32), NULL, NULL), path, sizeof path);
    isb_clear_error();
    int rc = isb_clblast_tuning_check_file(path);
    printf("GEMMK=1, MWG 64, NWG 32 with %s -> %s\n", isb_clblast_version(), rc < 0 ? isb_last_error() : "accepted");
    if (CLBLAST_VERSION_MAJOR * 10000 + CLBLAST_VERSION_MINOR * 100 + CLBLAST_VERSION_PATCH < 10603) {
        assert_int_equal(rc, ISB_ERR_FORMAT);
        assert_non_null(strstr(isb_last_error(), path));
        assert_non_null(strstr(isb_last_error(), "GEMMK=1 with MWG=64 != NWG=32"));
        assert_non_null(strstr(isb_last_error(), "1.6.3"));
        assert_int_equal(isb_clblast_apply_tuning_from(test_ocl(), dir), ISB_ERR_FORMAT);
        assert_true(applied_is_none());
    } else {
        TEST_OK(rc);
    }
    write_tuning(dir, "gemmk.json", kernel_list(xgemm_entry(1, 32, 32), NULL, NULL), path, sizeof path);
    TEST_OK(isb_clblast_tuning_check_file(path)); /* GEMMK=1 with square tiles is fine */
    remove_dir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_keys_follow_clblast_database),
        cmocka_unit_test(shipped_files_parse),
        cmocka_unit_test(known_bad_parameters_are_refused),
        cmocka_unit_test(same_level_conflict_is_an_error),
        cmocka_unit_test(user_folder_wins_at_the_same_level),
        cmocka_unit_test(most_specific_entry_wins_per_kernel),
        cmocka_unit_test(malformed_files_give_clear_errors),
        cmocka_unit_test(gemm_correct_untuned_and_injected),
        cmocka_unit_test(needs_shipped_tuning_gemms_correct),
        cmocka_unit_test(impossible_parameters_take_effect),
    };
    return TEST_RUN_GROUP(tests, NULL, NULL);
}
