/* isbench tune: tunes CLBlast's GEMM parameters for this device on the training step's own
 * products and writes a tuning entry that isbench then applies automatically (src/tune/tune.h,
 * docs/clblast-tuning.md). */
#include "cli/cli.h"
#include "ocl/clblast_tuning.h"
#include "tune/tune.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

static const char about[] =
    "Searches CLBlast's GEMM parameters for the device, within a wall-clock budget, on the GEMMs of one\n"
    "training step of ResNet18 at that width and batch (forward, data gradient, weight-gradient\n"
    "chunks, linear layer). The objective is the step's GEMM time: each shape's time, host clock\n"
    "around clFinish after a warm-up run that compiles its kernels, times its calls per step.\n"
    "Searched: XgemmDirect, Xgemm (the indirect path) and the direct/indirect crossover\n"
    "(XGEMM_MIN_INDIRECT_SIZE). Every candidate is checked against a host reference GEMM first;\n"
    "wrong ones are discarded and counted. One progress line per candidate (ETA, best so far);\n"
    "Ctrl-C stops the search and keeps the best found.\n\n"
    "The entry is for this exact device, driver and CLBlast version; by default it goes to\n"
    "${XDG_CACHE_HOME:-$HOME/.cache}/isbench/tuning/, which isbench reads after the repository's\n"
    "tuning/ (at the same match level the user's entry wins; `isbench devices` shows what applies).\n"
    "It is written only when it is at least as fast as what applied before.\n"
    "Defaults: width 16, batch 128, budget 300 s.";

static const isb_option_def tune_opts[] = {
    {"budget", "SECONDS", ISB_ARG_DOUBLE, 0, 7 * 86400, NULL,
     "wall-clock budget of the search (default 300; the setup before it, the step's\n"
     "capture, the host reference and timing what applies now, comes on top)"},
    {"out", "FILE", ISB_ARG_TEXT, 1, 0, NULL, "write the entry here instead of the user's tuning folder"},
    {"shapes", NULL, ISB_ARG_SWITCH, 0, 0, NULL,
     "print each GEMM shape of the step with its calls, time and GFLOP/s under what applies now"},
    {"test-bad-candidate", NULL, ISB_ARG_SWITCH, 0, 0, NULL, "(tests) corrupt one candidate's output: it must be rejected"},
};

typedef struct {
    const char *device;
    isb_tune_options tune;
} tune_cli;

static int run_tune(const tune_cli *o) {
    isb_ocl ocl = {0};
    isb_tune_result r;
    int rc = ISB_OK;
    ISB_CHECK(isb_ocl_open(&ocl, isb_ocl_selector(o->device), false));
    printf("isbench tune: %s (%s), %s; budget %.0f s; tuning before: %s\n", ocl.info.name, ocl.info.driver_version,
           isb_clblast_version(), o->tune.budget_s, isb_clblast_tuning_applied());
    fflush(stdout);
    rc = isb_tune_run(&ocl, &o->tune, &r);
    printf("isbench tune: step GEMMs (width %d, batch %d: %d shapes, %ld calls) %.1f ms as found", o->tune.width,
           o->tune.batch, r.shapes, r.calls, r.as_found_s * 1e3);
    if (r.tuned_s > 0) printf(" -> %.1f ms tuned (%.2fx)", r.tuned_s * 1e3, r.as_found_s / r.tuned_s);
    printf("; %d candidates, %d rejected for wrong results, %d failed to build or run; %.0f s%s\n", r.candidates,
           r.rejected, r.failed, r.elapsed_s, r.interrupted ? " (interrupted: the best found so far is kept)" : "");
    ISB_CHECK(rc);
    if (r.path[0]) printf("isbench tune: chosen %s\nisbench tune: wrote %s\n", r.chosen, r.path);
    else if (r.tuned_s > 0) printf("isbench tune: nothing faster than what applies was found: no entry written\n");
    else printf("isbench tune: no candidate was timed within the budget (raise --budget): no entry written\n");
done:
    isb_ocl_close(&ocl);
    return rc;
}

int cmd_tune(int argc, char **argv) {
    static char command[1024];
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof command; i++)
        used += (size_t)snprintf(command + used, sizeof command - used, "%s%s", i ? " " : "isbench ", argv[i]);
    isb_common_options common = isb_common_defaults();
    long width = 16, batch = 128;
    tune_cli o = {.tune = {.budget_s = 300, .command = command, .progress = stdout}};
    isb_cmdline p;
    isb_cmdline_init(&p, "tune", "isbench tune [--device SEL] [--width W] [--batch B] [--budget SECONDS] [--out FILE] [--shapes]",
                     about);
    isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, &common);
    isb_cmdline_add(&p, isb_train_config_find_key("width"), &width); /* the training configuration's rows */
    isb_cmdline_add(&p, isb_train_config_find_key("batch"), &batch);
    void *own[] = {&o.tune.budget_s, &o.tune.out_path, &o.tune.show_shapes, &o.tune.test_bad_candidate};
    for (size_t i = 0; i < sizeof tune_opts / sizeof tune_opts[0]; i++) isb_cmdline_add(&p, &tune_opts[i], own[i]);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    o.device = common.device;
    o.tune.width = (int)width;
    o.tune.batch = (int)batch;
    int rc = run_tune(&o);
    return rc < 0 ? isb_cli_fail("tune", rc) : ISB_EXIT_OK;
}
