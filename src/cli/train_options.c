/* Configuration keys as long options (see train_options.h). */
#include "cli/train_options.h"
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

struct option *isb_cli_training_options(const struct option *own) {
    const char *const *keys = isb_train_config_keys();
    int n_own = 0, n_keys = 0;
    while (own[n_own].name) n_own++;
    while (keys[2 * n_keys]) n_keys++;
    struct option *all = calloc((size_t)(n_own + n_keys + 1), sizeof *all);
    if (!all) abort(); /* a few hundred bytes at start-up */
    memcpy(all, own, (size_t)n_own * sizeof *all);
    for (int i = 0; i < n_keys; i++)
        all[n_own + i] = (struct option){keys[2 * i], isb_train_config_key_is_flag(keys[2 * i]) ? no_argument
                                                                                               : required_argument,
                                         NULL, ISB_CLI_CONFIG_KEY_BASE + i};
    return all;
}

int isb_cli_add_override(const char *cmd, int c, const char *arg, isb_config_override *ov, int *n) {
    if (*n >= ISB_CLI_MAX_OVERRIDES) return isb_cli_usage_error(cmd, "too many options");
    ov[(*n)++] = (isb_config_override){isb_train_config_keys()[2 * (c - ISB_CLI_CONFIG_KEY_BASE)], arg ? arg : ""};
    return 0;
}

void isb_cli_print_training_keys(FILE *out) {
    const char *const *keys = isb_train_config_keys();
    for (int i = 0; keys[2 * i]; i++) {
        /* a help text is "METAVAR   description" (METAVAR empty for switches) */
        const char *help = keys[2 * i + 1], *gap = strstr(help, "  ");
        const char *desc = gap ? gap + strspn(gap, " ") : help;
        int metavar_len = gap ? (int)(gap - help) : 0;
        char opt[64];
        snprintf(opt, sizeof opt, "--%s%s%.*s", keys[2 * i], metavar_len ? " " : "", metavar_len, help);
        fprintf(out, "  %-22s %s\n", opt, desc);
    }
}

void isb_cli_print_config_names(FILE *out, int indent) {
    int n, column = indent + 1;
    const char *const *names = isb_train_config_names(&n);
    fprintf(out, "%*s", indent, "");
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(names[i]) + 2;
        if (i > 0 && column + len > 100) {
            fprintf(out, ",\n%*s", indent, "");
            column = indent;
        } else if (i > 0) {
            fprintf(out, ", ");
        }
        fprintf(out, "%s", names[i]);
        column += len;
    }
    fprintf(out, "\n");
}
