/* Command-line options, each defined once. An option is a row (isb_option_def: name, value name,
 * type, range, help line). The rows several commands share form OPTION GROUPS (device, data,
 * output, run policy, seed, training keys); a command's parser (isb_cmdline) is the groups it
 * expands plus its own rows, each bound to where its value goes. Values are parsed and range-checked
 * by the row, and help lines are generated from the rows, so an option reads and behaves the same in
 * every command (isbench's subcommands and isbench-bench alike).
 *
 * A new command in a few lines, e.g. `isbench tune --device SEL --width W`:
 *
 *     static const isb_option_def width_opt = {"width", "W", ISB_ARG_INT, 1, 1024, NULL, "base channels"};
 *     isb_common_options common = isb_common_defaults();
 *     long width = 64;
 *     isb_cmdline p;
 *     isb_cmdline_init(&p, "tune", "isbench tune [--device SEL] [--width W]", "Tunes CLBlast's GEMMs for one device.");
 *     isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, &common);   // --device SEL -> common.device
 *     isb_cmdline_add(&p, &width_opt, &width);                 // --width W   -> width
 *     int st = isb_cmdline_parse(&p, &argc, argv);             // argv[0] = the command's name
 *     if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st); // src/cli: help -> 0, usage error -> 2
 *
 * The parse contract (every command): isb_cmdline_parse returns ISB_PARSED, ISB_PARSE_HELP (--help
 * or -h was given: print isb_cmdline_print_help, exit 0) or ISB_ERR_USAGE with one message recorded
 * (isb_last_error) naming the option and the fix. It never prints and never exits. */
#ifndef ISB_CONFIG_OPTIONS_H
#define ISB_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config/run_policy.h"
#include "config/train_config.h"

/* The forms of a device selector (src/ocl/ocl.h), as --device's help and isbench --help name them. */
#define ISB_DEVICE_SELECTOR_FORMS "P:D | gpu | cpu | PLATFORM:DEVICE | NAME-SUBSTRING"

typedef enum {
    ISB_ARG_SWITCH,    /* no value; bool * set to true */
    ISB_ARG_TEXT,      /* const char * (the argv string); min 1: an empty value is refused */
    ISB_ARG_INT,       /* long *, an integer in [min, max] */
    ISB_ARG_DOUBLE,    /* double *, a finite number in [min, max] */
    ISB_ARG_SEED,      /* uint64_t *, decimal digits only, 0 .. 2^63-1 (written alike in folders and JSON) */
    ISB_ARG_CHOICE,    /* int *, the index of the value in `choices` */
    ISB_ARG_TEXT_LIST, /* isb_text_list *: the option may be repeated, at most `max` times */
} isb_arg_type;

typedef struct isb_option_def {
    const char *name;     /* the long option without "--" */
    const char *metavar;  /* the value's name in help ("SEL"); NULL for a switch */
    isb_arg_type type;
    double min, max;      /* range of ISB_ARG_INT / ISB_ARG_DOUBLE; see isb_arg_type */
    const char *const *choices; /* ISB_ARG_CHOICE: NULL-terminated */
    const char *help;     /* the help line; '\n' starts a continuation line */
} isb_option_def;

enum { ISB_TEXT_LIST_MAX = 32 };
typedef struct {
    const char *item[ISB_TEXT_LIST_MAX];
    int n;
} isb_text_list;

/* The values of the shared groups; isb_common_defaults() gives each its default. */
typedef struct {
    const char *device;        /* --device SEL; NULL: $ISBENCH_DEVICE, else the default device */
    const char *data;          /* --data DIR; NULL: isb_data_dir's default */
    const char *out;           /* --out DIR (default "results") */
    const char *name;          /* --name SUITE; NULL: the preset */
    const char *preset;        /* --preset P; NULL: the command's default */
    isb_run_policy policy;     /* --checkpoint-every S, --restart */
    uint64_t seed;             /* --seed K */
    isb_config_override overrides[ISB_MAX_OVERRIDES]; /* training keys as given (--lr 0.1, ...) */
    int n_overrides;
} isb_common_options;

isb_common_options isb_common_defaults(void);

typedef enum {
    ISB_GROUP_DEVICE,        /* --device SEL */
    ISB_GROUP_DATA,          /* --data DIR */
    ISB_GROUP_OUTPUT,        /* --out DIR, --name SUITE, --preset P */
    ISB_GROUP_RUN_POLICY,    /* --checkpoint-every S, --restart */
    ISB_GROUP_SEED,          /* --seed K (the training key's row) */
    ISB_GROUP_TRAINING_KEYS, /* every key of the training configuration, recorded as overrides */
} isb_option_group;

enum { ISB_PARSED = 0, ISB_PARSE_HELP = 1 };
enum { ISB_CMDLINE_MAX = 96, ISB_CMDLINE_MAX_OPERANDS = 8 };

typedef struct {
    const isb_option_def *def; /* NULL: a heading line in the help (text in `heading`) */
    const char *heading;
    void *value;
    bool record;               /* a training key: appended to the overrides, checked when applied */
    char letter;               /* a one-letter alias (-o DIR); 0: none */
} isb_cmdline_entry;

typedef struct {
    const char *command;       /* "train"; "isbench-bench" for the bench */
    const char *usage;         /* the usage line(s) after "usage: " */
    const char *about;         /* paragraph(s) after the usage line */
    isb_cmdline_entry entry[ISB_CMDLINE_MAX];
    int n;
    isb_common_options *common; /* where the training keys are recorded */
    int max_operands;          /* operands (non-option arguments) allowed; default 0 */
    const char *operand[ISB_CMDLINE_MAX_OPERANDS];
    int n_operands;
    bool stop_at_operand;      /* stop at the first operand (global options before a command) */
    int next;                  /* after a parse with stop_at_operand: index of the first operand */
    bool keep_unknown;         /* keep unknown arguments in argv (the bench hands them on); *argc shrinks */
    bool exact_names;          /* no unique prefixes of names (the bench: a prefix may be another program's) */
} isb_cmdline;

void isb_cmdline_init(isb_cmdline *p, const char *command, const char *usage, const char *about);
/* Binds one row to where its value goes (the type says what `value` points to). */
void isb_cmdline_add(isb_cmdline *p, const isb_option_def *def, void *value);
/* Gives the row added last a one-letter alias ('o': -o DIR), where a command's users expect one. */
void isb_cmdline_alias(isb_cmdline *p, char letter);
/* Expands a group's rows, bound to the fields of `values`. */
void isb_cmdline_add_group(isb_cmdline *p, isb_option_group group, isb_common_options *values);
/* A heading line in the help, before the rows added after it. */
void isb_cmdline_add_heading(isb_cmdline *p, const char *text);
/* argv[0] is the command's name. --name VALUE and --name=VALUE are accepted, and a unique prefix
 * of a name (unless exact_names). See the parse contract above. With keep_unknown, argv keeps
 * argv[0] and every argument that is not one of p's options, and *argc is their count. */
int isb_cmdline_parse(isb_cmdline *p, int *argc, char **argv);
/* usage line, about text, then one line per option ("  --device SEL    OpenCL device ..."). */
void isb_cmdline_print_help(const isb_cmdline *p, FILE *out);
/* The help line of one row, as isb_cmdline_print_help writes it. */
void isb_option_print_help(const isb_option_def *def, FILE *out);
/* The row of a group's option ("device", "data", ...); NULL if no group has it. */
const isb_option_def *isb_shared_option(const char *name);

/* The one parse of a numeric value against a row: integer rows refuse fractions; out of range or
 * not a number -> ISB_ERR_USAGE naming --<name> and the range. */
int isb_option_parse_number(const isb_option_def *def, const char *text, double *out);
/* The range check alone (NaN fails it). */
int isb_option_check_range(const isb_option_def *def, double v);
int isb_option_parse_seed(const isb_option_def *def, const char *text, uint64_t *out);
/* The index of text in the row's choices; ISB_ERR_USAGE listing them otherwise. */
int isb_option_parse_choice(const isb_option_def *def, const char *text, int *out);

#endif
