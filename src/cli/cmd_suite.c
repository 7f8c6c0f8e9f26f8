/* isbench suite: the six configurations of the study × K seeds of one preset (src/suite), all of
 * them, one shard or one task of the matrix, in this process or in one process per run on several
 * devices. */
#include "cli/cli.h"
#include "cli/train_options.h"
#include "ocl/ocl.h"
#include "suite/suite.h"
#include "train/stop.h"
#include "train/train.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_LIST = 16, MAX_CHILD_ARGS = 16 + 2 * ISB_CLI_MAX_OVERRIDES };

static void help(void) {
    printf("usage: isbench suite --preset P --seeds K [--configs a,b,...] [--out DIR] [--data DIR] [options]\n"
           "       isbench suite ... --list | --shard I/N | --task K | --devices SEL,SEL,... [--jobs J]\n\n"
           "Runs each configuration with seeds 1..K into OUT/SUITE/CONFIG/seed-K/ (SUITE = --name or the\n"
           "preset). Finished runs are skipped and interrupted ones resumed, so an interrupted suite\n"
           "(Ctrl-C: exit 130) continues where it stopped when run again. A summary table is printed.\n\n"
           "  --preset P       paper (width 64, full CIFAR-10, a GPU job) | gpu (width 64, full CIFAR-10, 15 epochs:\n"
           "                   <30 min on one GPU) | quick (2 CPU cores, 6-10 min) | smoke\n"
           "  --seeds K        seeds 1..K (default 1)\n"
           "  --configs LIST   comma-separated subset of these (default: all):\n");
    isb_cli_print_config_names(stdout, 19);
    printf("  --name SUITE     results sub-folder (default: the preset)\n"
           "  --out DIR        results root (default: results)\n"
           "  --data DIR       dataset folder (default: $ISBENCH_DATA or data/cifar-10-batches-bin)\n"
           "  --device SEL     OpenCL device (P:D | gpu | cpu | name substring; or ISBENCH_DEVICE)\n"
           "  --checkpoint-every S  seconds of training between checkpoints (default 300; 0: at evaluations only)\n"
           "  --restart        move each selected run's folder aside (DIR.old-TIME) and start it over\n"
           "                   (with --task K: only run K)\n\n"
           "The runs form a matrix numbered 0..M-1 seed by seed (run j: configuration j mod C, seed j/C+1):\n"
           "  --list           print the runs (index, config, seed, folder, status; tab-separated) and exit\n"
           "  --shard I/N      run only runs j with j mod N = I (0 <= I < N): N processes, one per shard,\n"
           "                   cover the matrix exactly once and fill the same folder as one suite\n"
           "  --task K         run only run K (a Slurm array task: --task $SLURM_ARRAY_TASK_ID)\n"
           "  --devices LIST   one process per run, each on a device of LIST (comma-separated selectors;\n"
           "                   name a device twice to run two processes on it), progress merged\n"
           "  --jobs J         with --devices: at most J runs at once (default: one per device)\n\n"
           "Configuration options, applied to every configuration (defaults: Appendix A, scaled by the preset):\n");
    isb_cli_print_training_keys(stdout);
}

typedef struct {
    isb_suite_options so;
    const char *device, *devices, *configs;
    bool list;
    long jobs;
    const char *config_list[MAX_LIST];
    isb_config_override ov[ISB_CLI_MAX_OVERRIDES];
    char *config_buf, *device_buf; /* strtok'd copies */
    const char *device_list[MAX_LIST];
    int n_devices;
    char override_opts[ISB_CLI_MAX_OVERRIDES][64]; /* "--key" of each override, for the children */
} suite_args;

static int parse_options(int argc, char **argv, suite_args *a) {
    static const struct option own[] = {
        {"preset", required_argument, NULL, 'p'},  {"seeds", required_argument, NULL, 'k'},
        {"configs", required_argument, NULL, 'c'}, {"name", required_argument, NULL, 'n'},
        {"out", required_argument, NULL, 'o'},     {"data", required_argument, NULL, 'D'},
        {"device", required_argument, NULL, 'd'},  {"list", no_argument, NULL, 'l'},
        {"shard", required_argument, NULL, 's'},   {"task", required_argument, NULL, 't'},
        {"devices", required_argument, NULL, 'v'}, {"jobs", required_argument, NULL, 'j'},
        {"checkpoint-every", required_argument, NULL, 'e'}, {"restart", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    struct option *opts = isb_cli_training_options(own);
    int c, rc = 0;
    long v;
    optind = 1;
    while (rc == 0 && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': a->so.preset = optarg; break;
        case 'k': rc = isb_cli_parse_int("suite", "--seeds", optarg, 1, 1000, &v); a->so.seeds = (int)v; break;
        case 'c': a->configs = optarg; break;
        case 'n': a->so.name = optarg; break;
        case 'o': a->so.out = optarg; if (!*optarg) rc = isb_cli_usage_error("suite", "--out needs a folder, got ''"); break;
        case 'D': a->so.data_dir = optarg; break;
        case 'd': a->device = optarg; break;
        case 'l': a->list = true; break;
        case 's':
            if (isb_suite_parse_shard(optarg, &a->so.shard_index, &a->so.shard_count) < 0)
                rc = isb_cli_usage_error("suite", "%s", isb_last_error());
            break;
        case 't': rc = isb_cli_parse_int("suite", "--task", optarg, 0, 1000000, &v); a->so.task = (int)v; a->so.has_task = true; break;
        case 'v': a->devices = optarg; break;
        case 'j': rc = isb_cli_parse_int("suite", "--jobs", optarg, 1, 64, &a->jobs); break;
        case 'e':
            rc = isb_cli_parse_double("suite", "--checkpoint-every", optarg, 0, 1e9, &a->so.checkpoint_every_s);
            a->so.checkpoint_every_text = optarg;
            break;
        case 'r': a->so.restart = true; break;
        case 'h': help(); rc = -1; break;
        default:
            if (c >= ISB_CLI_CONFIG_KEY_BASE) rc = isb_cli_add_override("suite", c, optarg, a->ov, &a->so.n_overrides);
            else rc = isb_cli_usage_error("suite", "unknown option");
        }
    }
    free(opts);
    if (rc) return rc;
    if (optind < argc) return isb_cli_usage_error("suite", "unexpected argument '%s'", argv[optind]);
    return 0;
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

/* Option combinations and every configuration, checked before any device is opened. */
static int check_options(suite_args *a) {
    isb_suite_options *so = &a->so;
    if (!so->preset) {
        char list[160] = ""; /* from the preset table, so a new preset is named here too */
        for (const char *const *p = isb_train_preset_names(); *p; p++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", list[0] ? ", " : "", *p);
        return isb_cli_usage_error("suite", "--preset P is required (one of %s)", list);
    }
    for (int i = 0; i < so->n_overrides; i++)
        if (strcmp(a->ov[i].key, "seed") == 0)
            return isb_cli_usage_error("suite", "--seed is not a suite option: the suite runs seeds 1..--seeds");
    if (so->has_task && so->shard_count > 1)
        return isb_cli_usage_error("suite", "--task and --shard exclude each other: give one");
    if (a->devices && (so->has_task || a->device))
        return isb_cli_usage_error("suite", "--devices runs several runs on several devices: drop %s",
                                   so->has_task ? "--task" : "--device");
    if (a->jobs && !a->devices) return isb_cli_usage_error("suite", "--jobs needs --devices SEL,SEL,...");
    if (a->configs) {
        int rc = split_list("--configs", a->configs, &a->config_buf, a->config_list, &so->n_configs);
        if (rc) return rc;
        so->configs = a->config_list;
    }
    if (a->devices) {
        int rc = split_list("--devices", a->devices, &a->device_buf, a->device_list, &a->n_devices);
        if (rc) return rc;
    }
    so->overrides = a->ov;
    int n_all;
    const char *const *all = isb_train_config_names(&n_all);
    for (int i = 0; i < (so->configs ? so->n_configs : n_all); i++) {
        isb_train_config cfg;
        if (isb_train_config_make(&cfg, so->preset, so->configs ? so->configs[i] : all[i], a->ov, so->n_overrides) < 0)
            return isb_cli_usage_error("suite", "%s", isb_last_error());
    }
    if (isb_suite_check_selection(so) < 0) return isb_cli_usage_error("suite", "%s", isb_last_error());
    return 0;
}

/* Every selector of --devices must name a device here (the error lists them). */
static int check_devices(const suite_args *a) {
    isb_device_info *devices = NULL;
    int count = 0, index, rc = isb_ocl_list_devices(&devices, &count);
    for (int i = 0; rc >= 0 && i < a->n_devices; i++)
        if ((rc = isb_ocl_select(devices, count, a->device_list[i], &index)) < 0)
            isb_fail_context(rc, "--devices %s", a->devices);
    free(devices);
    return rc;
}

/* The options every child process of --devices gets (it adds --task K --device SEL). */
static int child_args(suite_args *a, char seeds[16], const char **args) {
    int n = 0;
    const isb_suite_options *so = &a->so;
    snprintf(seeds, 16, "%d", so->seeds);
    args[n++] = "--preset"; args[n++] = so->preset;
    args[n++] = "--seeds";  args[n++] = seeds;
    args[n++] = "--out";    args[n++] = so->out;
    if (a->configs) { args[n++] = "--configs"; args[n++] = a->configs; }
    if (so->name) { args[n++] = "--name"; args[n++] = so->name; }
    if (so->data_dir) { args[n++] = "--data"; args[n++] = so->data_dir; }
    if (so->checkpoint_every_text) { args[n++] = "--checkpoint-every"; args[n++] = so->checkpoint_every_text; }
    if (so->restart) args[n++] = "--restart";
    for (int i = 0; i < so->n_overrides; i++) {
        snprintf(a->override_opts[i], sizeof a->override_opts[i], "--%s", a->ov[i].key);
        args[n++] = a->override_opts[i];
        if (!isb_train_config_key_is_flag(a->ov[i].key)) args[n++] = a->ov[i].value;
    }
    return n;
}

static int run_on_devices(suite_args *a) {
    ISB_TRY(check_devices(a));
    const char *args[MAX_CHILD_ARGS];
    char seeds[16];
    isb_suite_parallel p = {.devices = a->device_list, .n_devices = a->n_devices,
                            .jobs = a->jobs ? (int)a->jobs : a->n_devices, .child_args = args, .status_every_s = 60};
    p.n_child_args = child_args(a, seeds, args);
    return isb_suite_run_parallel(&a->so, &p);
}

int cmd_suite(int argc, char **argv) {
    suite_args a = {.so = {.preset = NULL, .out = "results", .seeds = 1, .shard_count = 1,
                                  .checkpoint_every_s = ISB_CHECKPOINT_EVERY_DEFAULT_S}};
    int rc = parse_options(argc, argv, &a);
    if (rc == 0) rc = check_options(&a);
    if (rc != 0) goto done; /* -1: --help printed */
    if (a.list) {
        isb_suite_list(&a.so, stdout);
        goto done;
    }
    int st;
    if (a.devices) {
        st = run_on_devices(&a);
    } else {
        isb_ocl ocl = {0};
        st = isb_ocl_open(&ocl, isb_ocl_selector(a.device), false);
        if (st >= 0) {
            isb_stop_install_handlers();
            st = isb_suite_run(&ocl, &a.so);
        }
        isb_ocl_close(&ocl);
    }
    rc = st < 0 ? isb_cli_fail("suite", st) : ISB_EXIT_OK;
done:
    free(a.device_buf);
    free(a.config_buf);
    return rc < 0 ? ISB_EXIT_OK : rc;
}
