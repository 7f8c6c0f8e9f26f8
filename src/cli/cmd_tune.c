/* isbench tune: tunes CLBlast's GEMM parameters for this device on the training step's own
 * products and writes a tuning entry that isbench then applies automatically (src/tune/tune.h,
 * docs/clblast-tuning.md). */
#include "cli/cli.h"
#include "nn/model_limits.h"
#include "ocl/clblast_tuning.h"
#include "tune/tune.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void help(void) {
    printf("usage: isbench tune [--device SEL] [--width W] [--batch B] [--budget SECONDS] [--out FILE]\n\n"
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
           "It is written only when it is at least as fast as what applied before.\n\n"
           "options:\n"
           "  --device SEL        OpenCL device (P:D, gpu, cpu, name substring; default $ISBENCH_DEVICE/first GPU)\n"
           "  --width W           ResNet18 base channels of the step tuned for (default 16)\n"
           "  --batch B           batch size (default 128)\n"
           "  --budget SECONDS    wall-clock budget of the search (default 300; the setup before it, the step's\n"
           "                      capture, the host reference and timing what applies now, comes on top)\n"
           "  --out FILE          write the entry here instead of the user's tuning folder\n"
           "  --test-bad-candidate  (tests) corrupt one candidate's output: it must be rejected\n");
}

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
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'}, {"width", required_argument, NULL, 'w'},
        {"batch", required_argument, NULL, 'b'},  {"budget", required_argument, NULL, 't'},
        {"out", required_argument, NULL, 'o'},    {"test-bad-candidate", no_argument, NULL, 'X'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    static char command[1024];
    tune_cli o = {.tune = {.width = 16, .batch = 128, .budget_s = 300, .command = command, .progress = stdout}};
    size_t used = 0;
    for (int i = 0; i < argc && used < sizeof command; i++)
        used += (size_t)snprintf(command + used, sizeof command - used, "%s%s", i ? " " : "isbench ", argv[i]);
    int c;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'd': o.device = optarg; break;
        case 'o': o.tune.out_path = optarg; break;
        case 'X': o.tune.test_bad_candidate = true; break;
        case 'w': bad = isb_cli_parse_int("tune", "--width", optarg, 1, ISB_MODEL_MAX_WIDTH, &v); o.tune.width = (int)v; break;
        case 'b': bad = isb_cli_parse_int("tune", "--batch", optarg, 1, ISB_MODEL_MAX_BATCH, &v); o.tune.batch = (int)v; break;
        case 't': bad = isb_cli_parse_double("tune", "--budget", optarg, 0, 7 * 86400, &o.tune.budget_s); break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("tune", "unknown option");
        }
        if (bad) return bad;
    }
    if (optind < argc) return isb_cli_usage_error("tune", "unexpected argument '%s'", argv[optind]);
    int rc = run_tune(&o);
    return rc < 0 ? isb_cli_fail("tune", rc) : ISB_EXIT_OK;
}
