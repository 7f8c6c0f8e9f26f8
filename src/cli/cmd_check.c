/* isbench check: the device self-check (cli/check.h) on its own, as train and suite run it first. */
#include "cli/check.h"
#include "cli/cli.h"
#include "ocl/ocl.h"
#include "util/error.h"

#include <stdio.h>

static const char about[] =
    "Checks that the device computes correctly before anything is measured on it: one table row\n"
    "per case, each an op of the training step on random inputs against the plain-C reference\n"
    "(src/ref/): the elementwise, layout, pooling, batch-norm and linear kernels, every convolution\n"
    "of ResNet18 at width W and batch B (its three CLBlast GEMMs), a whole training step at width 2\n"
    "against the whole-model reference, the sampler's softmax, score update and a Gumbel top-k draw.\n"
    "Each result is checked for NaN/Inf, then its normalised error against the case's tolerance,\n"
    "then its largest element error against ten times that. Exit status: 0 every case passed, 1 a\n"
    "case failed (named, with its error). train, suite and bench/run.sh run it first (--skip-check).";

static const isb_option_def width_opt = {"width", "W", ISB_ARG_INT, 1, 64, NULL,
                                         "network width of the convolution cases (default 8, the quick preset's)"};
static const isb_option_def batch_opt = {"batch", "B", ISB_ARG_INT, 1, 1024, NULL,
                                         "batch of the convolution cases (default 128)"};
static const isb_option_def small_opt = {"small", NULL, ISB_ARG_SWITCH, 0, 0, NULL,
                                         "tiny sizes and no whole training step, for simulators such as Oclgrind"};

int cmd_check(int argc, char **argv) {
    isb_common_options common = isb_common_defaults();
    long width = 8, batch = 128;
    bool small = false;
    isb_cmdline p;
    isb_cmdline_init(&p, "check", "isbench check [--device SEL] [--width W] [--batch B] [--small]", about);
    isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, &common);
    isb_cmdline_add(&p, &width_opt, &width);
    isb_cmdline_add(&p, &batch_opt, &batch);
    isb_cmdline_add(&p, &small_opt, &small);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);

    isb_check_options o = {.width = (int)width, .batch = (int)batch, .small = small};
    isb_ocl ocl;
    int rc = isb_ocl_open(&ocl, isb_ocl_selector(common.device), false);
    if (rc < 0) return isb_cli_fail("check", rc);
    char verdict[600];
    rc = isb_check_run(&ocl, &o, stdout, verdict, sizeof verdict);
    isb_ocl_close(&ocl);
    if (rc < 0) return isb_cli_fail("check", rc);
    printf("check %s\n", verdict);
    return ISB_EXIT_OK;
}
