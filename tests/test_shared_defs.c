/* The definitions the host and the device share by including the same cl/ file (the score-rule
 * kinds and fold of cl/score_rule.cl, the loss kernel's ISB_OUT_* bits of cl/nn_loss.cl): a probe
 * kernel, built on the device from the loss program's own source list, writes the constants and
 * folds as the device compiler sees them, and the host compares them with its own. A definition
 * that drifted (a hand copy, a guard that hides it from one side) fails here. ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "nn_loss.cl"
#include "ocl/kernel_sources.h"
#include "ocl/programs.h"
#include "sampling/score_rule.h"
#include "util/error.h"
#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_INTS 11
#define N_FOLDS 8

static const char probe_source[] =
    "__kernel void isb_shared_defs_probe(__global int *ints, __global float *folds, __global const float *in) {\n"
    "    if (get_global_id(0) != 0) return;\n"
    "    int v[] = {ISB_SCORE_RULE_NONE, ISB_SCORE_RULE_LAST_LOSS, ISB_SCORE_RULE_RUNNING_LOSS,\n"
    "               ISB_SCORE_RULE_GRADIENT_NORM, ISB_SCORE_RULE_KINDS, ISB_OUT_DLOGITS, ISB_OUT_LOSSES,\n"
    "               ISB_OUT_CORRECT, ISB_OUT_BATCH_LOSS, ISB_IN_WEIGHTS, ISB_OUT_FLAG};\n"
    "    for (int i = 0; i < 11; i++) ints[i] = v[i];\n"
    "    for (int rule = 0; rule < ISB_SCORE_RULE_KINDS; rule++) {\n"
    "        folds[2 * rule] = isb_score_fold(rule, in[0], in[1], in[2]);\n"
    "        folds[2 * rule + 1] = isb_score_value(rule, in[3], in[4]);\n"
    "    }\n"
    "}\n";

/* The loss program's cl/ files (ocl/programs.h) followed by the probe, built for the test device. */
static cl_kernel build_probe(isb_ocl *ocl, cl_program *prog) {
    isb_strbuf b = {0};
    char *list = strdup(ISB_PROGRAM_NN_LOSS), *save = NULL;
    assert_non_null(list);
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        char *text = isb_kernel_source_load(name);
        if (!text) fail_msg("%s", isb_last_error());
        else isb_strbuf_printf(&b, "%s\n", text);
        free(text);
    }
    free(list);
    isb_strbuf_printf(&b, "%s", probe_source);
    cl_int st;
    const char *src = b.data;
    *prog = clCreateProgramWithSource(ocl->context, 1, &src, NULL, &st);
    TEST_OK(isb_ocl_check(st, "clCreateProgramWithSource (probe)"));
    st = clBuildProgram(*prog, 1, &ocl->info.device, "-cl-std=CL1.2", NULL, NULL);
    if (st != CL_SUCCESS) {
        char log[8192] = "";
        clGetProgramBuildInfo(*prog, ocl->info.device, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        fail_msg("building the probe failed (%d):\n%s", st, log);
    }
    isb_strbuf_free(&b);
    cl_kernel k = clCreateKernel(*prog, "isb_shared_defs_probe", &st);
    TEST_OK(isb_ocl_check(st, "clCreateKernel (probe)"));
    return k;
}

static void device_sees_the_host_definitions(void **state) {
    (void)state;
    isb_ocl *ocl = test_ocl();
    cl_program prog;
    cl_kernel k = build_probe(ocl, &prog);
    float in[5] = {0.3f, 1.75f, -0.625f, 2.5f, 0.125f}; /* beta, s, value, loss, gradient norm */
    cl_mem d_ints = test_buffer_from(NULL, N_INTS * sizeof(cl_int));
    cl_mem d_folds = test_buffer_from(NULL, N_FOLDS * sizeof(float)), d_in = test_buffer_from(in, sizeof in);
    TEST_OK(ISB_SET_ARGS(k, ISB_KA(d_ints), ISB_KA(d_folds), ISB_KA(d_in)));
    TEST_OK(isb_ocl_run1d(ocl, k, 1, 1));
    cl_int got[N_INTS];
    float folds[N_FOLDS];
    test_read(d_ints, got, sizeof got);
    test_read(d_folds, folds, sizeof folds);

    const int want[N_INTS] = {ISB_SCORE_RULE_NONE, ISB_SCORE_RULE_LAST_LOSS, ISB_SCORE_RULE_RUNNING_LOSS,
                              ISB_SCORE_RULE_GRADIENT_NORM, ISB_SCORE_RULE_KINDS, ISB_OUT_DLOGITS, ISB_OUT_LOSSES,
                              ISB_OUT_CORRECT, ISB_OUT_BATCH_LOSS, ISB_IN_WEIGHTS, ISB_OUT_FLAG};
    for (int i = 0; i < N_INTS; i++) assert_int_equal(got[i], want[i]);
    /* the bits are distinct single bits, so they can be or-ed */
    for (int i = 5; i < N_INTS; i++) {
        assert_true(want[i] > 0 && (want[i] & (want[i] - 1)) == 0);
        for (int j = 5; j < i; j++) assert_int_not_equal(want[i], want[j]);
    }
    /* The device's fold and value against the host's (the device may contract to one fma: 1e-6). */
    for (int rule = 0; rule < ISB_SCORE_RULE_KINDS; rule++) {
        isb_score_rule r = {(isb_score_rule_kind)rule, in[0]};
        float fold = isb_score_rule_fold(r, in[1], in[2]), value = isb_score_value(rule, in[3], in[4]);
        printf("  rule %-13s fold %.9g (device %.9g), value %.9g (device %.9g)\n", isb_score_rule_name(r.kind),
               fold, folds[2 * rule], value, folds[2 * rule + 1]);
        assert_true(fabsf(folds[2 * rule] - fold) <= 1e-6f);
        assert_true(folds[2 * rule + 1] == value);
    }
    /* and both against the rule as documented, so a shared mistake fails too */
    assert_true(fabsf(folds[2 * ISB_SCORE_RULE_RUNNING_LOSS] - (0.3f * 1.75f + 0.7f * -0.625f)) <= 1e-6f);
    assert_true(folds[2 * ISB_SCORE_RULE_LAST_LOSS] == -0.625f);
    assert_true(folds[2 * ISB_SCORE_RULE_GRADIENT_NORM + 1] == 0.125f);
    assert_true(folds[2 * ISB_SCORE_RULE_RUNNING_LOSS + 1] == 2.5f);
    isb_ocl_release(&d_ints);
    isb_ocl_release(&d_folds);
    isb_ocl_release(&d_in);
    clReleaseKernel(k);
    clReleaseProgram(prog);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(device_sees_the_host_definitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
