/* The isbench command-line program: one function per subcommand (cmd_<name>.c). Each declares its
 * options as the shared groups it needs plus its own rows (src/config/options.h), parses them with
 * isb_cmdline_parse, and returns an exit code (isb_cli_parse_exit for help and usage errors,
 * isb_cli_fail for failures). Only main() ends the process. */
#ifndef ISB_CLI_CLI_H
#define ISB_CLI_CLI_H

#include "config/options.h"

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} isb_command;

/* Exit codes: 0 ok, 1 runtime failure, 2 usage error, 130 interrupted (state saved). */
enum { ISB_EXIT_OK = 0, ISB_EXIT_FAILURE = 1, ISB_EXIT_USAGE = 2, ISB_EXIT_INTERRUPTED = 130 };

/* Prints "isbench <cmd>: error: <last error>" to stderr and maps the status to an exit code. */
int isb_cli_fail(const char *cmd, int status);
/* Prints "isbench <cmd>: <message>" and a hint to use --help; returns ISB_EXIT_USAGE. */
int isb_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The exit code of a parse that did not end in ISB_PARSED: ISB_PARSE_HELP prints the help to stdout
 * (0); an error prints the recorded message and the hint to use --help (ISB_EXIT_USAGE). */
int isb_cli_parse_exit(const isb_cmdline *p, int status);
/* Every configuration name, comma-separated, on lines that fit a help line's continuation. */
const char *isb_cli_config_names_help(void);

int cmd_devices(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_configs(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_tune(int argc, char **argv);

#endif
