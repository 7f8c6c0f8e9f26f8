/* isbench suite: the six configurations of the study × K seeds of one preset (src/suite). */
#include "cli/cli.h"
#include "cli/train_options.h"
#include "ocl/ocl.h"
#include "suite/suite.h"
#include "train/stop.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
    printf("usage: isbench suite --preset P --seeds K [--configs a,b,...] [--out DIR] [--data DIR] [options]\n\n"
           "Runs each configuration with seeds 1..K into OUT/SUITE/CONFIG/seed-K/ (SUITE = --name or the\n"
           "preset). Finished runs are skipped and interrupted ones resumed, so an interrupted suite\n"
           "(Ctrl-C: exit 130) continues where it stopped when run again. A summary table is printed.\n\n"
           "  --preset P       paper (width 64, full CIFAR-10, a GPU job) | quick (2 CPU cores, ~15 min) | smoke\n"
           "  --seeds K        seeds 1..K (default 1)\n"
           "  --configs LIST   comma-separated subset of these (default: all):\n");
    isb_cli_print_config_names(stdout, 19);
    printf("  --name SUITE     results sub-folder (default: the preset)\n"
           "  --out DIR        results root (default: results)\n"
           "  --data DIR       dataset folder (default: $ISBENCH_DATA or data/cifar-10-batches-bin)\n"
           "  --device SEL     OpenCL device (P:D | gpu | cpu | name substring; or ISBENCH_DEVICE)\n\n"
           "Configuration options, applied to every configuration (defaults: Appendix A, scaled by the preset):\n");
    isb_cli_print_training_keys(stdout);
}

int cmd_suite(int argc, char **argv) {
    static const struct option own[] = {{"preset", required_argument, NULL, 'p'}, {"seeds", required_argument, NULL, 'k'},
                                        {"configs", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'n'},
                                        {"out", required_argument, NULL, 'o'},    {"data", required_argument, NULL, 'D'},
                                        {"device", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
                                        {NULL, 0, NULL, 0}};
    struct option *opts = isb_cli_training_options(own);
    isb_suite_options so = {.preset = NULL, .out = "results", .seeds = 1};
    const char *device = NULL;
    char *configs = NULL;
    const char *config_list[16];
    isb_config_override ov[ISB_CLI_MAX_OVERRIDES];
    int n_ov = 0, c, rc = 0;
    long v;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': so.preset = optarg; break;
        case 'k': rc = isb_cli_parse_int("suite", "--seeds", optarg, 1, 1000, &v); so.seeds = (int)v; break;
        case 'c': configs = optarg; break;
        case 'n': so.name = optarg; break;
        case 'o': so.out = optarg; if (!*optarg) rc = isb_cli_usage_error("suite", "--out needs a folder, got ''"); break;
        case 'D': so.data_dir = optarg; break;
        case 'd': device = optarg; break;
        case 'h': help(); free(opts); return ISB_EXIT_OK;
        default:
            if (c >= ISB_CLI_CONFIG_KEY_BASE) rc = isb_cli_add_override("suite", c, optarg, ov, &n_ov);
            else rc = isb_cli_usage_error("suite", "unknown option");
        }
    }
    free(opts);
    if (rc) return rc;
    if (optind < argc) return isb_cli_usage_error("suite", "unexpected argument '%s'", argv[optind]);
    if (!so.preset) return isb_cli_usage_error("suite", "--preset P is required (paper, quick or smoke)");
    for (int i = 0; i < n_ov; i++)
        if (strcmp(ov[i].key, "seed") == 0)
            return isb_cli_usage_error("suite", "--seed is not a suite option: the suite runs seeds 1..--seeds");
    char *list = configs ? strdup(configs) : NULL;
    if (list) {
        for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (so.n_configs == 16) { free(list); return isb_cli_usage_error("suite", "too many --configs"); }
            config_list[so.n_configs++] = tok;
        }
        if (so.n_configs == 0) { free(list); return isb_cli_usage_error("suite", "--configs is empty"); }
        so.configs = config_list;
    }
    so.overrides = ov;
    so.n_overrides = n_ov;
    /* check every configuration before opening the device: bad options are usage errors */
    int n_all;
    const char *const *all = isb_train_config_names(&n_all);
    for (int i = 0; i < (so.configs ? so.n_configs : n_all); i++) {
        isb_train_config cfg;
        if (isb_train_config_make(&cfg, so.preset, so.configs ? so.configs[i] : all[i], ov, n_ov) < 0) {
            free(list);
            return isb_cli_usage_error("suite", "%s", isb_last_error());
        }
    }

    isb_ocl ocl = {0};
    int st = isb_ocl_open(&ocl, isb_ocl_selector(device), false);
    if (st >= 0) {
        isb_stop_install_handlers();
        st = isb_suite_run(&ocl, &so);
    }
    isb_ocl_close(&ocl);
    free(list);
    return st < 0 ? isb_cli_fail("suite", st) : ISB_EXIT_OK;
}
