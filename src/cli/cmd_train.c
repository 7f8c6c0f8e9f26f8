/* isbench train: one configuration of the study (Algorithm 1) with one seed, into
 * <out>/<suite>/<config>/seed-<k>/; resumable after Ctrl-C (exit 130) by running it again. */
#include "cli/cli.h"
#include "cli/train_options.h"
#include "data/dataset.h"
#include "ocl/ocl.h"
#include "results/run_files.h"
#include "train/stop.h"
#include "train/train.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
    int n;
    const char *const *names = isb_train_config_names(&n);
    printf("usage: isbench train --config NAME [--preset P] [--seed K] [--data DIR] [--out DIR] [options]\n\n"
           "Trains ResNet18 with one configuration of the study and writes metrics.csv, scores_hist.csv,\n"
           "timing.csv and manifest.json to OUT/SUITE/NAME/seed-K/ (rewritten at every evaluation).\n"
           "A checkpoint is saved at every evaluation, every --checkpoint-every seconds and on Ctrl-C (or\n"
           "SIGTERM, exit 130): the same command resumes, also after a kill. A finished run is skipped.\n\n"
           "  --config NAME   one of:");
    for (int i = 0; i < n; i++) printf(" %s", names[i]);
    printf("\n  --preset P      paper (width 64, full data, a GPU job) | gpu (width 64, full data, 15 epochs) |\n"
           "                  quick (CPU-sized, default) | smoke\n"
           "  --name SUITE    results sub-folder (default: the preset)\n"
           "  --out DIR       results root (default: results)\n"
           "  --data DIR      dataset folder (default: $ISBENCH_DATA or data/cifar-10-batches-bin)\n"
           "  --device SEL    OpenCL device (P:D | gpu | cpu | name substring; or ISBENCH_DEVICE)\n"
           "  --checkpoint-every S  seconds of training between checkpoints (default 300; 0: at evaluations only)\n"
           "  --restart       move an existing run folder aside (to DIR.old-TIME) and start the run over\n\n"
           "Configuration (defaults: Appendix A of the study, scaled by the preset):\n");
    isb_cli_print_training_keys(stdout);
}

int cmd_train(int argc, char **argv) {
    static const struct option own[] = {{"config", required_argument, NULL, 'c'}, {"preset", required_argument, NULL, 'p'},
                                        {"name", required_argument, NULL, 'n'},   {"out", required_argument, NULL, 'o'},
                                        {"data", required_argument, NULL, 'D'},   {"device", required_argument, NULL, 'd'},
                                        {"checkpoint-every", required_argument, NULL, 'e'},
                                        {"restart", no_argument, NULL, 'r'},
                                        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    struct option *opts = isb_cli_training_options(own);
    const char *config = NULL, *preset = "quick", *name = NULL, *out = "results", *data = NULL, *device = NULL;
    isb_config_override ov[ISB_CLI_MAX_OVERRIDES];
    int n_ov = 0, c, rc = 0;
    double checkpoint_every = ISB_CHECKPOINT_EVERY_DEFAULT_S;
    bool restart = false;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'p': preset = optarg; break;
        case 'n': name = optarg; break;
        case 'o': out = optarg; break;
        case 'e': rc = isb_cli_parse_double("train", "--checkpoint-every", optarg, 0, 1e9, &checkpoint_every); break;
        case 'r': restart = true; break;
        case 'D': data = optarg; break;
        case 'd': device = optarg; break;
        case 'h': help(); free(opts); return ISB_EXIT_OK;
        default:
            if (c >= ISB_CLI_CONFIG_KEY_BASE) rc = isb_cli_add_override("train", c, optarg, ov, &n_ov);
            else rc = isb_cli_usage_error("train", "unknown option");
        }
    }
    free(opts);
    if (rc) return rc;
    if (optind < argc) return isb_cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
    if (!config) return isb_cli_usage_error("train", "--config NAME is required");
    if (!*out) return isb_cli_usage_error("train", "--out needs a folder, got ''");

    isb_train_config cfg;
    int st = isb_train_config_make(&cfg, preset, config, ov, n_ov);
    if (st < 0) return isb_cli_usage_error("train", "%s", isb_last_error());

    isb_ocl ocl = {0};
    st = isb_ocl_open(&ocl, isb_ocl_selector(device), false);
    if (st < 0) return isb_cli_fail("train", st);
    isb_stop_install_handlers();
    isb_train_env env;
    st = isb_train_env_open(&env, &ocl, &cfg, isb_data_dir(data, cfg.dataset));
    env.checkpoint_every_s = checkpoint_every;
    env.restart = restart;
    if (st >= 0) {
        char dir[4096];
        isb_run_dir_path(dir, sizeof dir, out, name ? name : cfg.preset, cfg.name, cfg.seed);
        isb_run_result res;
        st = isb_train_run(&env, &cfg, dir, name ? name : cfg.preset, NULL, &res);
        if (st >= 0 && !res.skipped)
            printf("%s seed %llu: %s; %d data epochs, test accuracy last %.4f, best %.4f, %.1f s -> %s\n", cfg.name,
                   (unsigned long long)cfg.seed, res.stop_reason, res.data_epochs, res.last_test_acc, res.best_test_acc,
                   res.wall_s, dir);
    }
    isb_train_env_close(&env);
    isb_ocl_close(&ocl);
    return st < 0 ? isb_cli_fail("train", st) : ISB_EXIT_OK;
}
