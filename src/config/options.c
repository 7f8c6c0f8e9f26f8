/* The option rows shared by several commands, and the parser every command uses (options.h). */
#include "config/options.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- the shared rows ------------------------------------------------------------------------- */

static const isb_option_def device_opt = {
    "device", "SEL", ISB_ARG_TEXT, 0, 0, NULL,
    "OpenCL device: " ISB_DEVICE_SELECTOR_FORMS "\n"
    "matching one device (default $ISBENCH_DEVICE, else the first GPU; isbench devices)"};
static const isb_option_def data_opt = {"data", "DIR", ISB_ARG_TEXT, 1, 0, NULL,
                                        "dataset folder (default: $ISBENCH_DATA, else data/<dataset folder>)"};
static const isb_option_def out_opt = {"out", "DIR", ISB_ARG_TEXT, 1, 0, NULL, "results root (default: results)"};
static const isb_option_def name_opt = {"name", "SUITE", ISB_ARG_TEXT, 1, 0, NULL,
                                        "results sub-folder OUT/SUITE (default: the preset)"};
static const isb_option_def preset_opt = {
    "preset", "P", ISB_ARG_TEXT, 1, 0, NULL,
    "paper (width 64, full data, a GPU job) | gpu (width 64, full data, 15 epochs) |\n"
    "quick (2 CPU cores, 6-10 min) | smoke (seconds, for tests); isbench configs --presets"};
static const isb_option_def checkpoint_every_opt = {
    "checkpoint-every", "S", ISB_ARG_DOUBLE, 0, 1e9, NULL,
    "seconds of training between checkpoints (default 300; 0: at evaluations only)"};
static const isb_option_def restart_opt = {"restart", NULL, ISB_ARG_SWITCH, 0, 0, NULL,
                                           "move an existing run folder aside (DIR.old-TIME) and start the run over"};

static const isb_option_def *const shared_opts[] = {&device_opt, &data_opt, &out_opt, &name_opt, &preset_opt,
                                                    &checkpoint_every_opt, &restart_opt};

const isb_option_def *isb_shared_option(const char *name) {
    for (size_t i = 0; i < sizeof shared_opts / sizeof shared_opts[0]; i++)
        if (strcmp(shared_opts[i]->name, name) == 0) return shared_opts[i];
    return isb_train_config_find_key(name); /* --seed: the training key's row */
}

isb_common_options isb_common_defaults(void) {
    return (isb_common_options){.out = "results", .policy = ISB_RUN_POLICY_DEFAULT};
}

/* ---- building a parser ----------------------------------------------------------------------- */

void isb_cmdline_init(isb_cmdline *p, const char *command, const char *usage, const char *about) {
    memset(p, 0, sizeof *p);
    p->command = command;
    p->usage = usage;
    p->about = about;
}

static isb_cmdline_entry *new_entry(isb_cmdline *p) {
    if (p->n == ISB_CMDLINE_MAX) abort(); /* a programming error: raise ISB_CMDLINE_MAX */
    return &p->entry[p->n++];
}

void isb_cmdline_add(isb_cmdline *p, const isb_option_def *def, void *value) {
    *new_entry(p) = (isb_cmdline_entry){.def = def, .value = value};
}

void isb_cmdline_alias(isb_cmdline *p, char letter) {
    if (p->n > 0) p->entry[p->n - 1].letter = letter;
}

void isb_cmdline_add_heading(isb_cmdline *p, const char *text) {
    *new_entry(p) = (isb_cmdline_entry){.heading = text};
}

void isb_cmdline_add_group(isb_cmdline *p, isb_option_group group, isb_common_options *v) {
    switch (group) {
    case ISB_GROUP_DEVICE: isb_cmdline_add(p, &device_opt, &v->device); break;
    case ISB_GROUP_DATA: isb_cmdline_add(p, &data_opt, &v->data); break;
    case ISB_GROUP_OUTPUT:
        isb_cmdline_add(p, &preset_opt, &v->preset);
        isb_cmdline_add(p, &name_opt, &v->name);
        isb_cmdline_add(p, &out_opt, &v->out);
        break;
    case ISB_GROUP_RUN_POLICY:
        isb_cmdline_add(p, &checkpoint_every_opt, &v->policy.checkpoint_every_s);
        isb_cmdline_add(p, &restart_opt, &v->policy.restart);
        break;
    case ISB_GROUP_SEED: isb_cmdline_add(p, isb_train_config_find_key("seed"), &v->seed); break;
    case ISB_GROUP_TRAINING_KEYS:
        p->common = v;
        for (int i = 0; i < isb_train_config_key_count(); i++)
            *new_entry(p) = (isb_cmdline_entry){.def = isb_train_config_key(i), .record = true};
        break;
    }
}

/* ---- values ---------------------------------------------------------------------------------- */

int isb_option_check_range(const isb_option_def *d, double v) {
    if (!(v >= d->min && v <= d->max))
        return isb_fail(ISB_ERR_USAGE, "option --%s must be in [%g, %g], got %g", d->name, d->min, d->max, v);
    return ISB_OK;
}

int isb_option_parse_number(const isb_option_def *d, const char *text, double *out) {
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v))
        return isb_fail(ISB_ERR_USAGE, "option --%s needs %s, got '%s'", d->name,
                        d->type == ISB_ARG_INT ? "an integer" : "a number", text);
    if (d->type == ISB_ARG_INT && v != floor(v))
        return isb_fail(ISB_ERR_USAGE, "option --%s needs an integer, got '%s'", d->name, text);
    ISB_TRY(isb_option_check_range(d, v));
    *out = v;
    return ISB_OK;
}

int isb_option_parse_seed(const isb_option_def *d, const char *text, uint64_t *out) {
    uint64_t v = 0;
    bool ok = text[0] != '\0';
    for (const char *c = text; ok && *c; c++) {
        ok = *c >= '0' && *c <= '9' && v <= (INT64_MAX - (uint64_t)(*c - '0')) / 10;
        v = ok ? v * 10 + (uint64_t)(*c - '0') : v;
    }
    if (!ok)
        return isb_fail(ISB_ERR_USAGE, "option --%s needs a non-negative integer, 0..9223372036854775807 in digits "
                        "only, got '%s'", d->name, text);
    *out = v;
    return ISB_OK;
}

int isb_option_parse_choice(const isb_option_def *d, const char *text, int *out) {
    char list[256] = "";
    for (int i = 0; d->choices[i]; i++) {
        if (strcmp(text, d->choices[i]) == 0) {
            *out = i;
            return ISB_OK;
        }
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, d->choices[i], sizeof list - strlen(list) - 1);
    }
    return isb_fail(ISB_ERR_USAGE, "unknown %s '%s': use one of %s", d->name, text, list);
}

static int record_override(isb_cmdline *p, const isb_option_def *d, const char *text) {
    isb_common_options *c = p->common;
    if (c->n_overrides == ISB_MAX_OVERRIDES)
        return isb_fail(ISB_ERR_USAGE, "too many configuration options (at most %d)", ISB_MAX_OVERRIDES);
    c->overrides[c->n_overrides++] = (isb_config_override){d->name, text ? text : ""};
    return ISB_OK;
}

/* Stores one option's value (text: NULL for a switch). */
static int set_value(isb_cmdline *p, const isb_cmdline_entry *e, const char *text) {
    const isb_option_def *d = e->def;
    double v;
    if (e->record) return record_override(p, d, text);
    switch (d->type) {
    case ISB_ARG_SWITCH: *(bool *)e->value = true; return ISB_OK;
    case ISB_ARG_TEXT:
        if (d->min > 0 && !*text)
            return isb_fail(ISB_ERR_USAGE, "option --%s needs a value (%s), got ''", d->name, d->metavar);
        *(const char **)e->value = text;
        return ISB_OK;
    case ISB_ARG_INT: ISB_TRY(isb_option_parse_number(d, text, &v)); *(long *)e->value = (long)v; return ISB_OK;
    case ISB_ARG_DOUBLE: return isb_option_parse_number(d, text, (double *)e->value);
    case ISB_ARG_SEED: return isb_option_parse_seed(d, text, (uint64_t *)e->value);
    case ISB_ARG_CHOICE: return isb_option_parse_choice(d, text, (int *)e->value);
    case ISB_ARG_TEXT_LIST: {
        isb_text_list *l = e->value;
        if (l->n >= d->max || l->n == ISB_TEXT_LIST_MAX)
            return isb_fail(ISB_ERR_USAGE, "option --%s may be given at most %g times", d->name, d->max);
        l->item[l->n++] = text;
        return ISB_OK;
    }
    }
    return isb_fail(ISB_ERR_INTERNAL, "option --%s has an unknown type", d->name);
}

/* ---- parsing --------------------------------------------------------------------------------- */

/* The entry named by "--name" (len characters of it): the exact name, else (unless exact_only)
 * the one row it is a prefix of. *ambiguous is set when it is a prefix of several. */
static const isb_cmdline_entry *find_entry(const isb_cmdline *p, const char *name, size_t len, bool exact_only,
                                           bool *ambiguous) {
    const isb_cmdline_entry *prefix_of = NULL;
    int n_prefix = 0;
    *ambiguous = false;
    for (int i = 0; len > 0 && i < p->n; i++) {
        const isb_option_def *d = p->entry[i].def;
        if (!d || strncmp(d->name, name, len) != 0) continue;
        if (d->name[len] == '\0') return &p->entry[i];
        prefix_of = &p->entry[i];
        n_prefix++;
    }
    if (exact_only || n_prefix == 0) return NULL;
    *ambiguous = n_prefix > 1;
    return n_prefix == 1 ? prefix_of : NULL;
}

/* One "--name[=value]" at argv[*i] (advancing *i past a separate value). *unknown is set when it
 * is none of p's options. */
static int parse_long_option(isb_cmdline *p, int argc, char **argv, int *i, bool *unknown) {
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    bool ambiguous;
    const isb_cmdline_entry *e = find_entry(p, arg, len, p->exact_names, &ambiguous);
    *unknown = false;
    if (ambiguous) return isb_fail(ISB_ERR_USAGE, "option '--%.*s' is ambiguous: give its full name", (int)len, arg);
    if (!e) {
        *unknown = true;
        return p->keep_unknown ? ISB_OK : isb_fail(ISB_ERR_USAGE, "unknown option '--%.*s'", (int)len, arg);
    }
    const isb_option_def *d = e->def;
    if (d->type == ISB_ARG_SWITCH) {
        if (eq) return isb_fail(ISB_ERR_USAGE, "option --%s takes no value, got '%s'", d->name, argv[*i]);
        return set_value(p, e, NULL);
    }
    if (eq) return set_value(p, e, eq + 1);
    if (*i + 1 >= argc) return isb_fail(ISB_ERR_USAGE, "option --%s needs a value (%s)", d->name, d->metavar);
    return set_value(p, e, argv[++*i]);
}

/* One "-x" or "-xVALUE" at argv[*i]: a row's one-letter alias. *unknown as for long options. */
static int parse_letter(isb_cmdline *p, int argc, char **argv, int *i, bool *unknown) {
    const char *arg = argv[*i];
    const isb_cmdline_entry *e = NULL;
    for (int k = 0; k < p->n && !e; k++)
        if (p->entry[k].def && p->entry[k].letter == arg[1]) e = &p->entry[k];
    *unknown = !e;
    if (!e) return p->keep_unknown ? ISB_OK : isb_fail(ISB_ERR_USAGE, "unknown option '%s'", arg);
    if (e->def->type == ISB_ARG_SWITCH) return arg[2] ? isb_fail(ISB_ERR_USAGE, "unknown option '%s'", arg) : set_value(p, e, NULL);
    if (arg[2]) return set_value(p, e, arg + 2);
    if (*i + 1 >= argc) return isb_fail(ISB_ERR_USAGE, "option -%c needs a value (%s)", arg[1], e->def->metavar);
    return set_value(p, e, argv[++*i]);
}

static int add_operand(isb_cmdline *p, const char *arg) {
    if (p->n_operands >= p->max_operands) return isb_fail(ISB_ERR_USAGE, "unexpected argument '%s'", arg);
    p->operand[p->n_operands++] = arg;
    return ISB_OK;
}

static bool is_help(const char *arg) { return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0; }

int isb_cmdline_parse(isb_cmdline *p, int *argc, char **argv) {
    int kept = 1;
    bool only_operands = false;
    for (int i = 1; i < *argc; i++) {
        const char *arg = argv[i];
        bool unknown = false;
        if (!only_operands && is_help(arg)) return ISB_PARSE_HELP;
        if (!only_operands && strcmp(arg, "--") == 0 && !p->keep_unknown) {
            only_operands = true;
        } else if (!only_operands && strncmp(arg, "--", 2) == 0) {
            ISB_TRY(parse_long_option(p, *argc, argv, &i, &unknown));
        } else if (arg[0] == '-' && arg[1] != '\0' && !only_operands) {
            ISB_TRY(parse_letter(p, *argc, argv, &i, &unknown));
        } else if (p->stop_at_operand) {
            p->next = i;
            return ISB_PARSED;
        } else if (p->keep_unknown) {
            unknown = true;
        } else {
            ISB_TRY(add_operand(p, arg));
        }
        if (unknown) argv[kept++] = argv[i];
    }
    p->next = *argc;
    if (p->keep_unknown) {
        *argc = kept;
        argv[kept] = NULL;
    }
    return ISB_PARSED;
}

/* ---- help ------------------------------------------------------------------------------------ */

static void print_row(const isb_option_def *d, char alias, FILE *out) {
    char head[64], letter[8] = "";
    if (alias) snprintf(letter, sizeof letter, "-%c, ", alias);
    snprintf(head, sizeof head, "%s--%s%s%s", letter, d->name, d->metavar ? " " : "", d->metavar ? d->metavar : "");
    const char *line = d->help;
    int width = (int)strlen(head) > 20 ? (int)strlen(head) : 20;
    fprintf(out, "  %-*s  ", width, head);
    for (const char *nl; (nl = strchr(line, '\n')); line = nl + 1)
        fprintf(out, "%.*s\n%*s", (int)(nl - line), line, width + 4, "");
    fprintf(out, "%s\n", line);
}

void isb_option_print_help(const isb_option_def *d, FILE *out) { print_row(d, 0, out); }

void isb_cmdline_print_help(const isb_cmdline *p, FILE *out) {
    fprintf(out, "usage: %s\n\n%s\n", p->usage, p->about);
    bool heading = false;
    for (int i = 0; i < p->n; i++) {
        if (!p->entry[i].def) {
            fprintf(out, "\n%s\n", p->entry[i].heading);
            heading = true;
            continue;
        }
        if (i == 0 && !heading) fprintf(out, "\noptions:\n");
        print_row(p->entry[i].def, p->entry[i].letter, out);
    }
}
