/* isbench check: the device self-check (cli/check.h) on its own, as train and suite run it first. */
#include "cli/check.h"
#include "cli/cli.h"
#include "ocl/ocl.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void help(void) {
    printf("usage: isbench check [--device SEL] [--width W] [--batch B] [--small]\n\n"
           "Checks that the device computes correctly before anything is measured on it: one table row\n"
           "per case, each an op of the training step on random inputs against the plain-C reference\n"
           "(src/ref/): the elementwise, layout, pooling, batch-norm and linear kernels, every\n"
           "convolution of ResNet18 at width W and batch B (its three CLBlast GEMMs), a whole training\n"
           "step at width 2 against the whole-model reference, the sampler's softmax, score update and a\n"
           "Gumbel top-k draw. Each result is checked for NaN/Inf, then its normalised error against\n"
           "the case's tolerance, then its largest element error against ten times that.\n"
           "  --width W   network width of the convolution cases (default 8, the quick preset's)\n"
           "  --batch B   batch of the convolution cases (default 128)\n"
           "  --small     tiny sizes and no whole training step, for simulators such as Oclgrind\n"
           "Exit status: 0 every case passed, 1 a case failed (named, with its error), 2 usage error.\n"
           "train, suite and bench/run.sh run it first (--skip-check skips it).\n");
}

int cmd_check(int argc, char **argv) {
    static const struct option opts[] = {{"device", required_argument, NULL, 'd'},
                                         {"width", required_argument, NULL, 'w'},
                                         {"batch", required_argument, NULL, 'b'},
                                         {"small", no_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *device = NULL;
    long width = 8, batch = 128;
    isb_check_options o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:w:b:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'w': if (isb_cli_parse_int("check", "--width", optarg, 1, 64, &width)) return ISB_EXIT_USAGE; break;
        case 'b': if (isb_cli_parse_int("check", "--batch", optarg, 1, 1024, &batch)) return ISB_EXIT_USAGE; break;
        case 's': o.small = true; break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("check", "unknown option");
        }
    }
    if (optind < argc) return isb_cli_usage_error("check", "unexpected argument '%s'", argv[optind]);
    o.width = (int)width;
    o.batch = (int)batch;
    isb_ocl ocl;
    int rc = isb_ocl_open(&ocl, isb_ocl_selector(device), false);
    if (rc < 0) return isb_cli_fail("check", rc);
    char verdict[600];
    rc = isb_check_run(&ocl, &o, stdout, verdict, sizeof verdict);
    isb_ocl_close(&ocl);
    if (rc < 0) return isb_cli_fail("check", rc);
    printf("check %s\n", verdict);
    return ISB_EXIT_OK;
}
