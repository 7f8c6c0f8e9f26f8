/* The isbench command-line program: one function per subcommand (cmd_<name>.c), each parsing its
 * own options with getopt_long, printing --help, and returning one of the exit codes below. */
#ifndef ISB_CLI_CLI_H
#define ISB_CLI_CLI_H

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

/* Option helpers that reject garbage and out-of-range values with a usage error. */
int isb_cli_parse_int(const char *cmd, const char *opt, const char *text, long min, long max, long *out);
int isb_cli_parse_double(const char *cmd, const char *opt, const char *text, double min, double max, double *out);

int cmd_devices(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_suite(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_configs(int argc, char **argv);
int cmd_compare(int argc, char **argv);

#endif
