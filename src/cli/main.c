/* isbench entry point: dispatches to subcommands. */
#include "cli/cli.h"
#include "results/provenance.h"
#include "util/error.h"
#include "util/version.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const isb_command commands[] = {
    {"devices", "list OpenCL platforms and devices, and the default one", cmd_devices},
    {"check", "check the device's results against the plain-C references before measuring", cmd_check},
    {"data", "load and check a dataset (cifar10, cifar100, mnist, fashion-mnist); counts and statistics", cmd_data},
    {"sample", "draw sample indices and importance weights from scores on the device", cmd_sample},
    {"train", "train one configuration of the study (Algorithm 1) with one seed; resumable", cmd_train},
    {"suite", "run every configuration (isbench configs) x K seeds of a preset", cmd_suite},
    {"step", "one training step of ResNet18 on a batch; writes loss, logits, gradients for external checks", cmd_step},
    {"configs", "the training configurations (or --presets), one per line, for scripts", cmd_configs},
    {"compare", "compare two benchmark folders or two training suites, with significance tests", cmd_compare},
    {"tune", "tune CLBlast's GEMM parameters for this device on the training step's GEMMs", cmd_tune},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *out) {
    fprintf(out,
            "isbench %s — loss-based importance sampling benchmark (ResNet18 / CIFAR-10) in OpenCL\n\n"
            "usage: isbench [--device SEL] <command> [options]     isbench <command> --help\n"
            "       isbench --version | --help\n\ncommands:\n",
            isb_version_string);
    for (int i = 0; i < n_commands; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nDevice choice: --device " ISB_DEVICE_SELECTOR_FORMS ", or ISBENCH_DEVICE.\n");
    fprintf(out, "\nglobal options (before the command, as if given first after it):\n");
    isb_option_print_help(isb_shared_option("device"), out);
}

int isb_cli_fail(const char *cmd, int status) {
    fprintf(stderr, "isbench %s: error: %s\n", cmd, isb_last_error());
    if (status == ISB_ERR_USAGE) return ISB_EXIT_USAGE;
    if (status == ISB_ERR_INTERRUPTED) return ISB_EXIT_INTERRUPTED;
    return ISB_EXIT_FAILURE;
}

int isb_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "isbench %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'isbench %s --help'.\n", cmd);
    va_end(ap);
    return ISB_EXIT_USAGE;
}

int isb_cli_parse_exit(const isb_cmdline *p, int status) {
    if (status == ISB_PARSE_HELP) {
        isb_cmdline_print_help(p, stdout);
        return ISB_EXIT_OK;
    }
    return isb_cli_usage_error(p->command, "%s", isb_last_error());
}

const char *isb_cli_config_names_help(void) {
    static char text[1024];
    int n, column = 0;
    const char *const *names = isb_train_config_all_names(&n);
    text[0] = '\0';
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(names[i]) + 2;
        bool wrap = i > 0 && column + len > 74;
        strncat(text, i == 0 ? "" : wrap ? ",\n" : ", ", sizeof text - strlen(text) - 1);
        strncat(text, names[i], sizeof text - strlen(text) - 1);
        column = wrap ? len : column + len;
    }
    return text;
}

/* Options before the command apply to it as if given first after it (`isbench --device cpu
 * devices`): the global options are the device group's. Returns the command's index in argv, or
 * -1 after printing help/version (*exit_code 0) or a usage error (*exit_code 2). */
static int parse_global_options(int argc, char **argv, isb_common_options *global, int *exit_code) {
    isb_cmdline p;
    isb_cmdline_init(&p, "", "isbench [--device SEL] <command> [options]", "");
    isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, global);
    p.stop_at_operand = true;
    for (int i = 1; i < argc && argv[i][0] == '-'; i++)
        if (strcmp(argv[i], "--version") == 0) {
            printf("isbench %s (commit %s)\n", isb_version_string, isb_git_commit);
            *exit_code = ISB_EXIT_OK;
            return -1;
        }
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st == ISB_PARSE_HELP) usage(stdout);
    else if (st < 0) fprintf(stderr, "isbench: %s\n\n", isb_last_error());
    else if (p.next >= argc) fprintf(stderr, "isbench: no command given\n\n");
    if (st == ISB_PARSED && p.next < argc) return p.next;
    if (st != ISB_PARSE_HELP) usage(stderr);
    *exit_code = st == ISB_PARSE_HELP ? ISB_EXIT_OK : ISB_EXIT_USAGE;
    return -1;
}

/* Runs the command at argv[at], with the global --device (if any) before its own options. */
static int run_command(const isb_command *cmd, int argc, char **argv, int at, const isb_common_options *global) {
    char *args[argc + 3];
    int n = 0;
    args[n++] = argv[at];
    if (global->device) {
        args[n++] = "--device";
        args[n++] = (char *)global->device;
    }
    for (int i = at + 1; i < argc; i++) args[n++] = argv[i];
    args[n] = NULL;
    return cmd->run(n, args);
}

int main(int argc, char **argv) {
    isb_provenance_set_command(argc, argv);
    isb_common_options global = isb_common_defaults();
    int exit_code = ISB_EXIT_USAGE;
    if (argc >= 2 && (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "version") == 0))
        argv[1] = strcmp(argv[1], "help") == 0 ? "--help" : "--version";
    int at = parse_global_options(argc, argv, &global, &exit_code);
    if (at < 0) return exit_code;
    for (int i = 0; i < n_commands; i++)
        if (strcmp(argv[at], commands[i].name) == 0) return run_command(&commands[i], argc, argv, at, &global);
    fprintf(stderr, "isbench: unknown command '%s'\n\n", argv[at]);
    usage(stderr);
    return ISB_EXIT_USAGE;
}
