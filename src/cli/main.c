/* isbench entry point: dispatches to subcommands. */
#include "cli/cli.h"
#include "results/provenance.h"
#include "util/error.h"
#include "util/version.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const isb_command commands[] = {
    {"devices", "list OpenCL platforms and devices, and the default one", cmd_devices},
    {"data", "load and check a dataset (cifar10, cifar100, mnist, fashion-mnist); counts and statistics", cmd_data},
    {"sample", "draw sample indices and importance weights from scores on the device", cmd_sample},
    {"train", "train one configuration of the study (Algorithm 1) with one seed; resumable", cmd_train},
    {"suite", "run every configuration (isbench configs) x K seeds of a preset", cmd_suite},
    {"step", "one training step of ResNet18 on a batch; writes loss, logits, gradients for external checks", cmd_step},
    {"configs", "the training configurations (or --presets), one per line, for scripts", cmd_configs},
    {"compare", "compare two benchmark folders or two training suites, with significance tests", cmd_compare},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *out) {
    fprintf(out,
            "isbench %s — loss-based importance sampling benchmark (ResNet18 / CIFAR-10) in OpenCL\n\n"
            "usage: isbench <command> [options]     isbench <command> --help\n"
            "       isbench --version | --help\n\ncommands:\n",
            isb_version_string);
    for (int i = 0; i < n_commands; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nDevice choice: --device P:D | gpu | cpu | PLATFORM:DEVICE | NAME-SUBSTRING, or ISBENCH_DEVICE.\n");
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

int isb_cli_parse_int(const char *cmd, const char *opt, const char *text, long min, long max, long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0')
        return isb_cli_usage_error(cmd, "option %s needs an integer, got '%s'", opt, text);
    if (v < min || v > max)
        return isb_cli_usage_error(cmd, "option %s must be in [%ld, %ld], got %ld", opt, min, max, v);
    *out = v;
    return 0;
}

int isb_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v))
        return isb_cli_usage_error(cmd, "option %s needs a number, got '%s'", opt, text);
    if (v < min || v > max)
        return isb_cli_usage_error(cmd, "option %s must be in [%g, %g], got %g", opt, min, max, v);
    *out = v;
    return 0;
}

int main(int argc, char **argv) {
    isb_provenance_set_command(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return ISB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return ISB_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("isbench %s (commit %s)\n", isb_version_string, isb_git_commit);
        return ISB_EXIT_OK;
    }
    for (int i = 0; i < n_commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "isbench: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return ISB_EXIT_USAGE;
}
