/* isbench configs: the names of the training configurations (or presets), one per line, from the
 * configuration table (src/config/train_config.c) — so scripts never keep their own list. */
#include "cli/cli.h"
#include "config/train_config.h"

#include <stdbool.h>
#include <stdio.h>

static const char about[] =
    "Prints the training configurations that `isbench train --config` and `isbench suite` know, one\n"
    "per line in suite order (the study's six, the default of `isbench suite`; with --all also those\n"
    "selected by name only, e.g. gradient-norm-aug; with --presets: the presets). For scripts:\n"
    "`for c in $(isbench configs)`.";

static const isb_option_def configs_opts[] = {
    {"all", NULL, ISB_ARG_SWITCH, 0, 0, NULL, "also the configurations selected by name only"},
    {"presets", NULL, ISB_ARG_SWITCH, 0, 0, NULL, "the presets instead"},
};

int cmd_configs(int argc, char **argv) {
    bool all = false, presets = false;
    isb_cmdline p;
    isb_cmdline_init(&p, "configs", "isbench configs [--all | --presets]", about);
    isb_cmdline_add(&p, &configs_opts[0], &all);
    isb_cmdline_add(&p, &configs_opts[1], &presets);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    if (presets) {
        for (const char *const *name = isb_train_preset_names(); *name; name++) printf("%s\n", *name);
        return ISB_EXIT_OK;
    }
    int n;
    const char *const *names = all ? isb_train_config_all_names(&n) : isb_train_config_names(&n);
    for (int i = 0; i < n; i++) printf("%s\n", names[i]);
    return ISB_EXIT_OK;
}
