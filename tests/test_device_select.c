/* Device selection by every selector form, on a synthetic device list (no hardware needed), and
 * on the real list. */
#include "testutil.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Five devices of four implementations, with names as those drivers report them. */
enum { POCL, H200, A100, INTEL, RUSTICL, N_FAKE };
static isb_device_info fake[N_FAKE];

static void fake_device(int i, int p, int d, cl_device_type type, const char *name, const char *platform,
                        const char *vendor) {
    fake[i] = (isb_device_info){.platform_index = p, .device_index = d, .type = type};
    snprintf(fake[i].name, sizeof fake[i].name, "%s", name);
    snprintf(fake[i].platform_name, sizeof fake[i].platform_name, "%s", platform);
    snprintf(fake[i].platform_vendor, sizeof fake[i].platform_vendor, "%s", vendor);
}

static int setup(void **state) {
    (void)state;
    memset(fake, 0, sizeof fake);
    fake_device(POCL, 0, 0, CL_DEVICE_TYPE_CPU, "pthread-skylake-avx512-Intel(R) Xeon(R) Gold 6338",
                "Portable Computing Language", "The pocl project");
    fake_device(H200, 1, 0, CL_DEVICE_TYPE_GPU, "NVIDIA H200", "NVIDIA CUDA", "NVIDIA Corporation");
    fake_device(A100, 1, 1, CL_DEVICE_TYPE_GPU, "NVIDIA A100", "NVIDIA CUDA", "NVIDIA Corporation");
    fake_device(INTEL, 2, 0, CL_DEVICE_TYPE_CPU, "Intel(R) Xeon(R) Gold 6338", "Intel(R) OpenCL",
                "Intel(R) Corporation");
    fake_device(RUSTICL, 3, 0, CL_DEVICE_TYPE_CPU, "llvmpipe (LLVM 15.0.6, 256 bits)", "rusticl", "Mesa/X.org");
    return 0;
}

static int pick(const char *sel) {
    int idx = -1;
    int rc = isb_ocl_select(fake, N_FAKE, sel, &idx);
    return rc < 0 ? rc : idx;
}

static void default_is_first_gpu(void **state) {
    (void)state;
    assert_int_equal(pick(NULL), H200);
    assert_int_equal(pick(""), H200);
    isb_device_info cpu_only[1] = {fake[POCL]};
    int idx = -1;
    assert_int_equal(isb_ocl_select(cpu_only, 1, NULL, &idx), 0);
    assert_int_equal(idx, 0);
}

static void by_indices(void **state) {
    (void)state;
    assert_int_equal(pick("0:0"), POCL);
    assert_int_equal(pick("1:1"), A100);
    assert_int_equal(pick("1:0"), H200);
    assert_int_equal(pick("2:0"), INTEL);
    assert_int_equal(pick("3:0"), RUSTICL);
}

static void by_type(void **state) {
    (void)state;
    assert_int_equal(pick("cpu"), POCL);
    assert_int_equal(pick("gpu"), H200);
    assert_int_equal(pick("GPU"), H200);
}

static void by_unique_substring_case_insensitive(void **state) {
    (void)state;
    assert_int_equal(pick("a100"), A100);
    assert_int_equal(pick("h200"), H200);
    assert_int_equal(pick("SKYLAKE"), POCL);
    assert_int_equal(pick("portable"), POCL);   /* platform name */
    assert_int_equal(pick("pocl"), POCL);       /* platform vendor */
    assert_int_equal(pick("llvmpipe"), RUSTICL);
    assert_int_equal(pick("Mesa"), RUSTICL);
}

static void by_platform_and_device_parts(void **state) {
    (void)state;
    assert_int_equal(pick("Intel(R) OpenCL:"), INTEL);
    assert_int_equal(pick("intel(r) opencl:xeon"), INTEL);
    assert_int_equal(pick("Portable Computing Language:Xeon"), POCL);
    assert_int_equal(pick("pocl:"), POCL);          /* platform vendor */
    assert_int_equal(pick("Intel(R) Corporation:cpu"), INTEL);
    assert_int_equal(pick("nvidia:a100"), A100);
    assert_int_equal(pick("NVIDIA:h200"), H200);
    assert_int_equal(pick("rusticl:"), RUSTICL);
    assert_int_equal(pick(":llvmpipe"), RUSTICL);   /* empty platform part: any platform */
    assert_int_equal(pick("rusticl:cpu"), RUSTICL);
    assert_int_equal(pick("rusticl:gpu"), ISB_ERR_NO_DEVICE);
    assert_int_equal(pick("nvidia:llvmpipe"), ISB_ERR_NO_DEVICE); /* both parts must match one device */
}

/* The error names the selector, every matching device with its P:D and platform, and the fix. */
static void ambiguous_selector_is_refused_with_matches(void **state) {
    (void)state;
    assert_int_equal(pick("intel"), ISB_ERR_NO_DEVICE); /* PoCL's name and Intel's runtime both match */
    const char *msg = isb_last_error();
    printf("%s\n", msg);
    assert_non_null(strstr(msg, "'intel' is ambiguous"));
    assert_non_null(strstr(msg, "0:0  pthread-skylake-avx512-Intel(R) Xeon(R) Gold 6338 (platform: Portable"));
    assert_non_null(strstr(msg, "2:0  Intel(R) Xeon(R) Gold 6338 (platform: Intel(R) OpenCL)"));
    assert_null(strstr(msg, "NVIDIA"));
    assert_null(strstr(msg, "llvmpipe ("));
    assert_non_null(strstr(msg, "PLATFORM:DEVICE"));
    assert_int_equal(pick("xeon"), ISB_ERR_NO_DEVICE);
    assert_int_equal(pick("nvidia"), ISB_ERR_NO_DEVICE);   /* two GPUs of one platform: still ambiguous */
    assert_non_null(strstr(isb_last_error(), "1:1  NVIDIA A100"));
    assert_int_equal(pick("nvidia:"), ISB_ERR_NO_DEVICE);
    assert_int_equal(pick(":xeon"), ISB_ERR_NO_DEVICE);
}

static void missing_device_lists_devices(void **state) {
    (void)state;
    assert_int_equal(pick("4:0"), ISB_ERR_NO_DEVICE);
    const char *msg = isb_last_error();
    assert_non_null(strstr(msg, "4:0"));
    assert_non_null(strstr(msg, "NVIDIA H200"));
    assert_non_null(strstr(msg, "pthread-skylake-avx512"));
    assert_non_null(strstr(msg, "llvmpipe"));
    assert_int_equal(pick("radeon"), ISB_ERR_NO_DEVICE);
    assert_non_null(strstr(isb_last_error(), "NVIDIA A100"));
    assert_int_equal(pick("1:0x"), ISB_ERR_NO_DEVICE);
    assert_int_equal(pick("amd:"), ISB_ERR_NO_DEVICE);
    isb_device_info gpu_only[1] = {fake[H200]};
    int idx;
    assert_int_equal(isb_ocl_select(gpu_only, 1, "cpu", &idx), ISB_ERR_NO_DEVICE);
}

static void env_selector(void **state) {
    (void)state;
    setenv("ISBENCH_DEVICE", "gpu", 1);
    assert_string_equal(isb_ocl_selector(NULL), "gpu");
    assert_string_equal(isb_ocl_selector("1:0"), "1:0"); /* the command line wins */
    unsetenv("ISBENCH_DEVICE");
    assert_null(isb_ocl_selector(NULL));
}

static void real_list_has_devices(void **state) {
    (void)state;
    isb_device_info *devs;
    int n;
    TEST_OK(isb_ocl_list_devices(&devs, &n));
    assert_true(n >= 1);
    for (int i = 0; i < n; i++) {
        assert_true(strlen(devs[i].name) > 0);
        assert_true(devs[i].max_wg >= 1);
        assert_true(devs[i].global_mem > 0);
    }
    char sel[32];
    snprintf(sel, sizeof sel, "%d:%d", devs[n - 1].platform_index, devs[n - 1].device_index);
    int idx;
    TEST_OK(isb_ocl_select(devs, n, sel, &idx));
    assert_int_equal(idx, n - 1);
    free(devs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(default_is_first_gpu, setup),
        cmocka_unit_test_setup(by_indices, setup),
        cmocka_unit_test_setup(by_type, setup),
        cmocka_unit_test_setup(by_unique_substring_case_insensitive, setup),
        cmocka_unit_test_setup(by_platform_and_device_parts, setup),
        cmocka_unit_test_setup(ambiguous_selector_is_refused_with_matches, setup),
        cmocka_unit_test_setup(missing_device_lists_devices, setup),
        cmocka_unit_test(env_selector),
        cmocka_unit_test(real_list_has_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
