/* Command-line options shared by `isbench train` and `isbench suite`: every key of the training
 * configuration (src/train/train_config.h) becomes a long option (--lr 0.1, --normalize, ...). */
#ifndef ISB_CLI_TRAIN_OPTIONS_H
#define ISB_CLI_TRAIN_OPTIONS_H

#include <getopt.h>
#include <stdio.h>
#include "train/train_config.h"

/* getopt_long values of the configuration keys start here; a command's own options use smaller ones. */
#define ISB_CLI_CONFIG_KEY_BASE 1000
#define ISB_CLI_MAX_OVERRIDES 64

/* `own` (terminated by a zero entry) followed by every configuration key; malloc'd. */
struct option *isb_cli_training_options(const struct option *own);
/* Records the configuration option `c` (>= ISB_CLI_CONFIG_KEY_BASE) with its argument. Returns 0,
 * or ISB_EXIT_USAGE after printing the error. */
int isb_cli_add_override(const char *cmd, int c, const char *arg, isb_config_override *ov, int *n);
/* The configuration keys with their help, for --help. */
void isb_cli_print_training_keys(FILE *out);
/* The configuration names from the table, comma-separated, on lines indented by `indent` spaces. */
void isb_cli_print_config_names(FILE *out, int indent);

#endif
