/* Device selection by every selector form, on a synthetic device list (no hardware needed), and
 * on the real list. */
#include "testutil.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static isb_device_info fake[3];

static int setup(void **state) {
    (void)state;
    memset(fake, 0, sizeof fake);
    fake[0] = (isb_device_info){.platform_index = 0, .device_index = 0, .type = CL_DEVICE_TYPE_CPU};
    strcpy(fake[0].name, "pthread-skylake-avx512");
    strcpy(fake[0].platform_name, "Portable Computing Language");
    fake[1] = (isb_device_info){.platform_index = 1, .device_index = 0, .type = CL_DEVICE_TYPE_GPU};
    strcpy(fake[1].name, "NVIDIA H200");
    strcpy(fake[1].platform_name, "NVIDIA CUDA");
    fake[2] = (isb_device_info){.platform_index = 1, .device_index = 1, .type = CL_DEVICE_TYPE_GPU};
    strcpy(fake[2].name, "NVIDIA A100");
    strcpy(fake[2].platform_name, "NVIDIA CUDA");
    return 0;
}

static int pick(const char *sel) {
    int idx = -1;
    int rc = isb_ocl_select(fake, 3, sel, &idx);
    return rc < 0 ? rc : idx;
}

static void default_is_first_gpu(void **state) {
    (void)state;
    assert_int_equal(pick(NULL), 1);
    assert_int_equal(pick(""), 1);
    isb_device_info cpu_only[1] = {fake[0]};
    int idx = -1;
    assert_int_equal(isb_ocl_select(cpu_only, 1, NULL, &idx), 0);
    assert_int_equal(idx, 0);
}

static void by_indices(void **state) {
    (void)state;
    assert_int_equal(pick("0:0"), 0);
    assert_int_equal(pick("1:1"), 2);
    assert_int_equal(pick("1:0"), 1);
}

static void by_type(void **state) {
    (void)state;
    assert_int_equal(pick("cpu"), 0);
    assert_int_equal(pick("gpu"), 1);
}

static void by_name_substring_case_insensitive(void **state) {
    (void)state;
    assert_int_equal(pick("a100"), 2);
    assert_int_equal(pick("h200"), 1);
    assert_int_equal(pick("SKYLAKE"), 0);
    assert_int_equal(pick("portable"), 0); /* platform name as a fallback */
}

static void missing_device_lists_devices(void **state) {
    (void)state;
    assert_int_equal(pick("3:0"), ISB_ERR_NO_DEVICE);
    const char *msg = isb_last_error();
    assert_non_null(strstr(msg, "3:0"));
    assert_non_null(strstr(msg, "NVIDIA H200"));
    assert_non_null(strstr(msg, "pthread-skylake-avx512"));
    assert_int_equal(pick("radeon"), ISB_ERR_NO_DEVICE);
    assert_non_null(strstr(isb_last_error(), "NVIDIA A100"));
    assert_int_equal(pick("1:0x"), ISB_ERR_NO_DEVICE);
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
        cmocka_unit_test_setup(by_name_substring_case_insensitive, setup),
        cmocka_unit_test_setup(missing_device_lists_devices, setup),
        cmocka_unit_test(env_selector),
        cmocka_unit_test(real_list_has_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
