/* isbench suite: the six configurations of the study × K seeds of one preset (src/suite), all of
 * them, one shard or one task of the matrix, in this process or in one process per run on several
 * devices. */
#include "cli/check.h"
#include "cli/cli.h"
#include "ocl/ocl.h"
#include "suite/suite.h"
#include "train/stop.h"
#include "train/train.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LIST = 16 };

static const char about[] =
    "Runs each configuration with seeds 1..K into OUT/SUITE/CONFIG/seed-K/ (SUITE = --name or the\n"
    "preset). Finished runs are skipped and interrupted ones resumed, so an interrupted suite\n"
    "(Ctrl-C: exit 130) continues where it stopped when run again. A summary table is printed.\n"
    "--restart applies to each selected run (with --task K: only run K).\n\n"
    "The runs form a matrix numbered 0..M-1 seed by seed (run j: configuration j mod C, seed j/C+1);\n"
    "--list, --shard, --task and --devices choose among them.";

static const isb_option_def seeds_opt = {"seeds", "K", ISB_ARG_INT, 1, 1000, NULL, "seeds 1..K (default 1)"};
static const isb_option_def list_opt = {"list", NULL, ISB_ARG_SWITCH, 0, 0, NULL,
                                        "print the runs (index, config, seed, folder, status; tab-separated) and exit"};
static const isb_option_def shard_opt = {
    "shard", "I/N", ISB_ARG_TEXT, 1, 0, NULL,
    "run only runs j with j mod N = I (0 <= I < N): N processes, one per shard,\n"
    "cover the matrix exactly once and fill the same folder as one suite"};
static const isb_option_def task_opt = {"task", "K", ISB_ARG_INT, 0, 1000000, NULL,
                                        "run only run K (a Slurm array task: --task $SLURM_ARRAY_TASK_ID)"};
static const isb_option_def devices_opt = {
    "devices", "LIST", ISB_ARG_TEXT, 1, 0, NULL,
    "one process per run, each on a device of LIST (comma-separated selectors;\n"
    "name a device twice to run two processes on it), progress merged"};
static const isb_option_def jobs_opt = {"jobs", "J", ISB_ARG_INT, 1, 64, NULL,
                                        "with --devices: at most J runs at once (default: one per device)"};

typedef struct {
    isb_common_options common;
    isb_suite_options so;
    const char *configs, *devices, *shard;
    bool list, skip_check;
    long seeds, task, jobs;
    int width, batch;              /* of the first configuration: the device self-check's shapes */
    const char *config_list[MAX_LIST];
    char *config_buf, *device_buf; /* strtok'd copies */
    const char *device_list[MAX_LIST];
    int n_devices;
} suite_args;

static void declare_options(isb_cmdline *p, suite_args *a) {
    static isb_option_def configs_opt = {"configs", "LIST", ISB_ARG_TEXT, 1, 0, NULL, NULL};
    static char configs_help[1200];
    snprintf(configs_help, sizeof configs_help, "comma-separated configurations (default: the study's six) of:\n%s",
             isb_cli_config_names_help());
    configs_opt.help = configs_help;
    isb_cmdline_init(p, "suite",
                     "isbench suite --preset P --seeds K [--configs a,b,...] [--out DIR] [--data DIR] [options]\n"
                     "       isbench suite ... --list | --shard I/N | --task K | --devices SEL,SEL,... [--jobs J]",
                     about);
    isb_cmdline_add_group(p, ISB_GROUP_OUTPUT, &a->common);
    isb_cmdline_add(p, &seeds_opt, &a->seeds);
    isb_cmdline_add(p, &configs_opt, &a->configs);
    isb_cmdline_add_group(p, ISB_GROUP_DATA, &a->common);
    isb_cmdline_add_group(p, ISB_GROUP_DEVICE, &a->common);
    isb_cmdline_add_group(p, ISB_GROUP_RUN_POLICY, &a->common);
    isb_cmdline_add(p, &isb_check_skip_option, &a->skip_check);
    isb_cmdline_add_heading(p, "Which runs of the matrix:");
    isb_cmdline_add(p, &list_opt, &a->list);
    isb_cmdline_add(p, &shard_opt, &a->shard);
    isb_cmdline_add(p, &task_opt, &a->task);
    isb_cmdline_add(p, &devices_opt, &a->devices);
    isb_cmdline_add(p, &jobs_opt, &a->jobs);
    isb_cmdline_add_heading(p, "Configuration options, applied to every configuration (defaults: Appendix A, scaled "
                               "by the preset):");
    isb_cmdline_add_group(p, ISB_GROUP_TRAINING_KEYS, &a->common);
}

/* The parsed options into the suite's options (which point into a). */
static void take_options(suite_args *a) {
    isb_suite_options *so = &a->so;
    so->preset = a->common.preset;
    so->name = a->common.name;
    so->out = a->common.out;
    so->data_dir = a->common.data;
    so->policy = a->common.policy;
    so->seeds = (int)a->seeds;
    so->has_task = a->task >= 0;
    so->task = (int)a->task;
    so->overrides = a->common.overrides;
    so->n_overrides = a->common.n_overrides;
}

/* Splits a comma-separated list (into a malloc'd copy *buf) into at most MAX_LIST items. */
static int split_list(const char *opt, const char *text, char **buf, const char **items, int *n) {
    *buf = strdup(text);
    if (!*buf) return isb_cli_usage_error("suite", "out of memory");
    for (char *save = NULL, *tok = strtok_r(*buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST) return isb_cli_usage_error("suite", "too many items in %s (at most %d)", opt, MAX_LIST);
        items[(*n)++] = tok;
    }
    return *n ? 0 : isb_cli_usage_error("suite", "%s is empty", opt);
}

/* Which options go together. */
static int check_combinations(const suite_args *a) {
    const isb_suite_options *so = &a->so;
    if (!so->preset) {
        char list[160] = ""; /* from the preset table, so a new preset is named here too */
        for (const char *const *p = isb_train_preset_names(); *p; p++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", *p);
        return isb_cli_usage_error("suite", "--preset P is required (one of %s)", list);
    }
    for (int i = 0; i < so->n_overrides; i++)
        if (strcmp(so->overrides[i].key, "seed") == 0)
            return isb_cli_usage_error("suite", "--seed is not a suite option: the suite runs seeds 1..--seeds");
    if (so->has_task && so->shard_count > 1)
        return isb_cli_usage_error("suite", "--task and --shard exclude each other: give one");
    if (a->devices && (so->has_task || a->common.device))
        return isb_cli_usage_error("suite", "--devices runs several runs on several devices: drop %s",
                                   so->has_task ? "--task" : "--device");
    if (a->jobs && !a->devices) return isb_cli_usage_error("suite", "--jobs needs --devices SEL,SEL,...");
    return ISB_EXIT_OK;
}

/* Option combinations and every configuration, checked before any device is opened. */
static int check_options(suite_args *a) {
    isb_suite_options *so = &a->so;
    int rc;
    if (a->shard && isb_suite_parse_shard(a->shard, &so->shard_index, &so->shard_count) < 0)
        return isb_cli_usage_error("suite", "%s", isb_last_error());
    if ((rc = check_combinations(a))) return rc;
    if (a->configs) {
        if ((rc = split_list("--configs", a->configs, &a->config_buf, a->config_list, &so->n_configs))) return rc;
        so->configs = a->config_list;
    }
    if (a->devices && (rc = split_list("--devices", a->devices, &a->device_buf, a->device_list, &a->n_devices)))
        return rc;
    int n_all;
    const char *const *all = isb_train_config_names(&n_all);
    for (int i = 0; i < (so->configs ? so->n_configs : n_all); i++) {
        isb_train_config cfg;
        if (isb_train_config_make(&cfg, so->preset, so->configs ? so->configs[i] : all[i], so->overrides,
                                  so->n_overrides) < 0)
            return isb_cli_usage_error("suite", "%s", isb_last_error());
        if (i == 0) a->width = cfg.width, a->batch = cfg.batch;
    }
    if (isb_suite_check_selection(so) < 0) return isb_cli_usage_error("suite", "%s", isb_last_error());
    return ISB_EXIT_OK;
}

/* Every selector of --devices must name a device here (the error lists them). */
static int check_devices(const suite_args *a) {
    isb_device_info *devices = NULL;
    int count = 0, index, rc = ISB_OK;
    ISB_CHECK(isb_ocl_list_devices(&devices, &count));
    for (int i = 0; i < a->n_devices; i++)
        ISB_CHECK(isb_ocl_select(devices, count, a->device_list[i], &index));
done:
    free(devices);
    return rc < 0 ? isb_fail_context(rc, "--devices %s", a->devices) : rc;
}

/* The children of --devices run `suite <these> --task K --device SEL`: this command's own arguments
 * without --devices, --jobs and --shard (the parent chose the runs). argv is filtered in place. */
static int child_args(int argc, char **argv) {
    long ignored_long;
    const char *ignored;
    isb_cmdline p;
    isb_cmdline_init(&p, "suite", "", "");
    isb_cmdline_add(&p, &devices_opt, &ignored);
    isb_cmdline_add(&p, &jobs_opt, &ignored_long);
    isb_cmdline_add(&p, &shard_opt, &ignored);
    p.keep_unknown = true;
    isb_cmdline_parse(&p, &argc, argv); /* parsed before: cannot fail */
    return argc;
}

static int run_on_devices(suite_args *a, int argc, char **argv) {
    ISB_TRY(check_devices(a));
    int n = child_args(argc, argv);
    isb_suite_parallel p = {.devices = a->device_list, .n_devices = a->n_devices,
                            .jobs = a->jobs ? (int)a->jobs : a->n_devices, .child_args = (const char *const *)argv + 1,
                            .n_child_args = n - 1, .status_every_s = 60};
    return isb_suite_run_parallel(&a->so, &p);
}

static int run_here(suite_args *a) {
    isb_ocl ocl = {0};
    int rc = ISB_OK;
    char verdict[200];
    ISB_CHECK(isb_ocl_open(&ocl, isb_ocl_selector(a->common.device), false));
    ISB_CHECK(isb_check_before_measuring(&ocl, a->width, a->batch, a->skip_check, verdict, sizeof verdict));
    a->so.check_verdict = verdict;
    isb_stop_install_handlers();
    ISB_CHECK(isb_suite_run(&ocl, &a->so));
done:
    isb_ocl_close(&ocl);
    return rc;
}

static int suite(suite_args *a, int argc, char **argv) {
    int rc = check_options(a);
    if (rc != ISB_EXIT_OK) return rc;
    if (a->list) {
        isb_suite_list(&a->so, stdout);
        return ISB_EXIT_OK;
    }
    int st = a->devices ? run_on_devices(a, argc, argv) : run_here(a);
    return st < 0 ? isb_cli_fail("suite", st) : ISB_EXIT_OK;
}

int cmd_suite(int argc, char **argv) {
    suite_args a = {.common = isb_common_defaults(), .seeds = 1, .task = -1, .so = {.shard_count = 1}};
    isb_cmdline p;
    declare_options(&p, &a);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    take_options(&a);
    int rc = suite(&a, argc, argv);
    free(a.device_buf);
    free(a.config_buf);
    return rc;
}
