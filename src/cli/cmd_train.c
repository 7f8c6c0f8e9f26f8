/* isbench train: one configuration of the study (Algorithm 1) with one seed, into
 * <out>/<suite>/<config>/seed-<k>/; resumable after Ctrl-C (exit 130) by running it again. */
#include "cli/check.h"
#include "cli/cli.h"
#include "data/dataset.h"
#include "ocl/ocl.h"
#include "results/run_files.h"
#include "train/stop.h"
#include "train/train.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char about[] =
    "Trains ResNet18 with one configuration of the study and writes metrics.csv, scores_hist.csv,\n"
    "timing.csv and manifest.json to OUT/SUITE/NAME/seed-K/ (rewritten at every evaluation).\n"
    "A checkpoint is saved at every evaluation, every --checkpoint-every seconds and on Ctrl-C (or\n"
    "SIGTERM, exit 130): the same command resumes, also after a kill. A finished run is skipped.\n"
    "The preset defaults to quick.";

/* The options: --config, the shared groups and every configuration key. */
static void declare_options(isb_cmdline *p, isb_common_options *common, const char **config, bool *skip_check) {
    static isb_option_def config_opt = {"config", "NAME", ISB_ARG_TEXT, 1, 0, NULL, NULL};
    static char config_help[1200];
    snprintf(config_help, sizeof config_help, "the configuration (required), one of:\n%s", isb_cli_config_names_help());
    config_opt.help = config_help;
    isb_cmdline_init(p, "train", "isbench train --config NAME [--preset P] [--seed K] [--data DIR] [--out DIR] [options]",
                     about);
    isb_cmdline_add(p, &config_opt, config);
    isb_cmdline_add_group(p, ISB_GROUP_OUTPUT, common);
    isb_cmdline_add_group(p, ISB_GROUP_DATA, common);
    isb_cmdline_add_group(p, ISB_GROUP_DEVICE, common);
    isb_cmdline_add_group(p, ISB_GROUP_RUN_POLICY, common);
    isb_cmdline_add(p, &isb_check_skip_option, skip_check);
    isb_cmdline_add_heading(p, "Configuration (defaults: Appendix A of the study, scaled by the preset):");
    isb_cmdline_add_group(p, ISB_GROUP_TRAINING_KEYS, common);
}

static void report(const isb_train_config *cfg, const isb_run_result *res, const char *dir) {
    printf("%s seed %llu: %s; %d data epochs, test accuracy last %.4f, best %.4f, %.1f s -> %s\n", cfg->name,
           (unsigned long long)cfg->seed, res->stop_reason, res->data_epochs, res->last_test_acc, res->best_test_acc,
           res->wall_s, dir);
}

/* Opens the device and the data, runs (or resumes or skips) the run, and releases both. */
static int train(const isb_common_options *o, const isb_train_config *cfg, bool skip_check) {
    isb_ocl ocl = {0};
    isb_train_env env = {0};
    isb_run_result res;
    const char *suite = o->name ? o->name : cfg->preset;
    char dir[4096];
    int rc = ISB_OK;
    isb_run_dir_path(dir, sizeof dir, o->out, suite, cfg->name, cfg->seed);
    ISB_CHECK(isb_ocl_open(&ocl, isb_ocl_selector(o->device), false));
    isb_stop_install_handlers();
    ISB_CHECK(isb_train_env_open(&env, &ocl, cfg, isb_data_dir(o->data, cfg->dataset)));
    env.policy = o->policy;
    ISB_CHECK(isb_check_before_measuring(&ocl, cfg->width, cfg->batch, skip_check, env.check, sizeof env.check));
    ISB_CHECK(isb_train_run(&env, cfg, dir, suite, NULL, &res));
    if (!res.skipped) report(cfg, &res, dir);
done:
    isb_train_env_close(&env);
    isb_ocl_close(&ocl);
    return rc;
}

int cmd_train(int argc, char **argv) {
    isb_common_options common = isb_common_defaults();
    const char *config = NULL;
    bool skip_check = false;
    isb_cmdline p;
    declare_options(&p, &common, &config, &skip_check);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    if (!config) return isb_cli_usage_error("train", "--config NAME is required");

    isb_train_config cfg;
    st = isb_train_config_make(&cfg, common.preset ? common.preset : "quick", config, common.overrides,
                               common.n_overrides);
    if (st < 0) return isb_cli_usage_error("train", "%s", isb_last_error());
    st = train(&common, &cfg, skip_check);
    return st < 0 ? isb_cli_fail("train", st) : ISB_EXIT_OK;
}
