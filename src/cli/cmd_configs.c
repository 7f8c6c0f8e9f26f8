/* isbench configs: the names of the training configurations (or presets), one per line, from the
 * configuration table (src/train/train_config.c) — so scripts never keep their own list. */
#include "cli/cli.h"
#include "train/train_config.h"

#include <getopt.h>
#include <stdio.h>

static void help(void) {
    printf("usage: isbench configs [--all | --presets]\n\n"
           "Prints the training configurations that `isbench train --config` and `isbench suite` know, one\n"
           "per line in suite order (the study's six, the default of `isbench suite`; with --all also those\n"
           "selected by name only, e.g. gradient-norm-aug; with --presets: the presets). For scripts: `for c in $(isbench configs)`.\n");
}

int cmd_configs(int argc, char **argv) {
    static const struct option opts[] = {{"presets", no_argument, NULL, 'p'}, {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, presets = 0, all = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': presets = 1; break;
        case 'a': all = 1; break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("configs", "unknown option");
        }
    }
    if (optind < argc) return isb_cli_usage_error("configs", "unexpected argument '%s'", argv[optind]);
    if (presets) {
        for (const char *const *p = isb_train_preset_names(); *p; p++) printf("%s\n", *p);
        return ISB_EXIT_OK;
    }
    int n;
    const char *const *names = all ? isb_train_config_all_names(&n) : isb_train_config_names(&n);
    for (int i = 0; i < n; i++) printf("%s\n", names[i]);
    return ISB_EXIT_OK;
}
