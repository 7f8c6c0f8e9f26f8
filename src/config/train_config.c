/* Named configurations, presets and key=value overrides of a training run (see train_config.h).
 * One table (`keys`) drives parsing, every range check (of an option as it is set and of the whole
 * configuration in isb_train_config_validate), --help text and the command-line options; the model's
 * limits in it come from nn/model_limits.h. */
#include "config/train_config.h"
#include "config/options.h"
#include "nn/model_limits.h"
#include "util/error.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The study's six first (the default list), then configurations selected by name only. */
static const char *const config_names[] = {"uniform-aug",       "uniform-noaug",     "last-loss-aug",
                                           "last-loss-noaug",   "running-loss-aug",  "running-loss-noaug",
                                           "gradient-norm-aug", "gradient-norm-noaug"};
#define ISB_STUDY_CONFIGS 6
static const char *const preset_names[] = {"paper", "quick", "smoke", "gpu", NULL};

const char *const *isb_train_config_names(int *count) {
    *count = ISB_STUDY_CONFIGS;
    return config_names;
}
const char *const *isb_train_config_all_names(int *count) {
    *count = (int)(sizeof config_names / sizeof config_names[0]);
    return config_names;
}
const char *const *isb_train_preset_names(void) { return preset_names; }

static const char *const early_stop_names[] = {"best", "cumulative", NULL};
/* Each sampler kind's name and the score rule its runs track: the one map from a configuration to a
 * score rule. Uniform runs track the last loss too, so that their score histograms are comparable. */
static const struct {
    const char *name;
    isb_score_rule_kind rule;
} sampler_kinds[] = {
    [ISB_SAMPLER_UNIFORM] = {"uniform", ISB_SCORE_RULE_LAST_LOSS},
    [ISB_SAMPLER_LAST_LOSS] = {"last-loss", ISB_SCORE_RULE_LAST_LOSS},
    [ISB_SAMPLER_RUNNING_LOSS] = {"running-loss", ISB_SCORE_RULE_RUNNING_LOSS},
    [ISB_SAMPLER_GRADIENT_NORM] = {"gradient-norm", ISB_SCORE_RULE_GRADIENT_NORM},
};
#define N_SAMPLER_KINDS (sizeof sampler_kinds / sizeof sampler_kinds[0])

const char *isb_sampler_kind_name(isb_sampler_kind k) {
    return (unsigned)k < N_SAMPLER_KINDS ? sampler_kinds[k].name : "?";
}
isb_score_rule isb_train_config_score_rule(const isb_train_config *c) {
    unsigned k = (unsigned)c->sampler;
    return (isb_score_rule){k < N_SAMPLER_KINDS ? sampler_kinds[k].rule : ISB_SCORE_RULE_NONE, c->beta};
}

/* Presets differ only in scale: data size, network width, number of data epochs, and the lr
 * milestones / patience / warm-up scaled with the number of epochs. */
static void apply_preset(isb_train_config *c, const char *preset) {
    snprintf(c->preset, sizeof c->preset, "%s", preset);
    snprintf(c->dataset, sizeof c->dataset, "cifar10");
    c->lr = 0.01f;
    c->momentum = 0.9f;
    c->weight_decay = 5e-4f;
    c->lr_decay = 0.1f;
    c->batch = 128;
    c->beta = 0.2f;
    c->temperature = 1.0f;
    c->draw = ISB_DRAW_GUMBEL_TOPK;
    c->weights = ISB_WEIGHTS_NONE;
    c->early_stop = ISB_EARLY_STOP_BEST;
    c->seed = 1;
    c->stop_after_step = -1;
    c->stop_in_evaluation = -1;
    if (strcmp(preset, "paper") == 0) {
        /* Appendix A: full CIFAR-10, ResNet18 width 64; the study ran until early stopping. */
        c->width = 64;
        c->milestones[0] = 15; c->milestones[1] = 30; c->n_milestones = 2;
        c->patience = 15;
        c->max_epochs = 100;
        c->warmup_epochs = 5;
    } else if (strcmp(preset, "gpu") == 0) {
        /* A real, shorter study for one current GPU (scripts/main-job.sh picks it there): full
         * CIFAR-10 at width 64, 15 data epochs (~20 s each on an H200: all six configurations in
         * under 30 minutes); the lr decays after about half and four fifths of the run. */
        c->width = 64;
        c->milestones[0] = 8; c->milestones[1] = 12; c->n_milestones = 2;
        c->patience = 5;
        c->max_epochs = 15;
        c->warmup_epochs = 1;
    } else if (strcmp(preset, "quick") == 0) {
        /* Sized for 2 CPU cores with PoCL: all six configurations, one seed, in about 6-10 minutes
         * (561 s for the suite on a fresh 2-core machine with PoCL; 1600 training images).
         * Milestones and patience keep the paper's proportions (lr decays after about half and five
         * sixths of the run). */
        c->width = 8;
        c->train_subset = 1600;
        c->test_subset = 500;
        c->milestones[0] = 3; c->milestones[1] = 5; c->n_milestones = 2;
        c->patience = 3;
        c->max_epochs = 6;
        c->warmup_epochs = 1;
    } else { /* smoke: seconds, for tests */
        c->width = 4;
        c->train_subset = 256;
        c->test_subset = 100;
        c->milestones[0] = 1; c->n_milestones = 1;
        c->patience = 2;
        c->max_epochs = 2;
        c->warmup_epochs = 1;
    }
}

static int list_error(const char *what, const char *got, const char *const *valid, int n) {
    char list[256] = "";
    for (int i = 0; (n < 0 ? valid[i] != NULL : i < n); i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, valid[i], sizeof list - strlen(list) - 1);
    }
    return isb_fail(ISB_ERR_USAGE, "unknown %s '%s': use one of %s", what, got, list);
}

int isb_train_config_init(isb_train_config *cfg, const char *preset, const char *name) {
    memset(cfg, 0, sizeof *cfg);
    int found = 0;
    for (int i = 0; preset_names[i]; i++) found |= strcmp(preset, preset_names[i]) == 0;
    if (!found) return list_error("preset", preset, preset_names, -1);
    int n_names = (int)(sizeof config_names / sizeof config_names[0]);
    const char *const *names = config_names;
    int which = -1;
    for (int i = 0; i < n_names; i++)
        if (strcmp(name, names[i]) == 0) which = i;
    if (which < 0) return list_error("configuration", name, names, n_names);

    apply_preset(cfg, preset);
    snprintf(cfg->name, sizeof cfg->name, "%s", name);
    cfg->sampler = (isb_sampler_kind)(which / 2);
    cfg->augment = which % 2 == 0;
    cfg->normalize = cfg->augment; /* docs/protocol-notes.md, note 5: the study normalised only the augmented runs */
    static const double z_fraction[] = {1.0, 8192.0 / 50000.0, 30000.0 / 50000.0, 8192.0 / 50000.0};
    cfg->z_fraction = z_fraction[cfg->sampler];
    /* Appendix A: only last loss warms up (gradient norm, a last-value score too, does likewise) */
    if (cfg->sampler != ISB_SAMPLER_LAST_LOSS && cfg->sampler != ISB_SAMPLER_GRADIENT_NORM) cfg->warmup_epochs = 0;
    return ISB_OK;
}

/* ---- key table ------------------------------------------------------------------------------ */

/* How a key's value is stored in isb_train_config (its isb_option_def says how it is parsed). */
typedef enum { K_INT, K_LONG, K_U64, K_FLOAT, K_DOUBLE, K_SET_TRUE, K_SET_FALSE, K_ENUM, K_STRING, K_MILESTONES } key_type;

typedef struct {
    isb_option_def opt; /* name (the key), value name, range, choices, help line */
    key_type type;
    size_t offset;
} key_def;

#define F(field) offsetof(isb_train_config, field)
#define NUM(name, metavar, arg, min, max, help) {name, metavar, arg, min, max, NULL, help}
#define SWITCH(name, help) {name, NULL, ISB_ARG_SWITCH, 0, 0, NULL, help}
static const key_def keys[] = {
    {{"dataset", "NAME", ISB_ARG_TEXT, 1, 0, NULL, "cifar10 | cifar100 | mnist | fashion-mnist"}, K_STRING, F(dataset)},
    {NUM("train-subset", "N", ISB_ARG_INT, 0, 1e8, "class-balanced training subset (0 = all)"), K_INT, F(train_subset)},
    {NUM("test-subset", "N", ISB_ARG_INT, 0, 1e8, "class-balanced test subset (0 = all)"), K_INT, F(test_subset)},
    {NUM("width", "C", ISB_ARG_INT, 1, ISB_MODEL_MAX_WIDTH, "ResNet18 base channels (64 = the paper's)"), K_INT, F(width)},
    {NUM("z", "N", ISB_ARG_INT, 0, 1e9, "samples per sampler epoch |Z| (0 = z-fraction of N)"), K_INT, F(z)},
    {NUM("z-fraction", "F", ISB_ARG_DOUBLE, 1e-6, 100, "|Z| / N when --z is 0"), K_DOUBLE, F(z_fraction)},
    {NUM("beta", "B", ISB_ARG_DOUBLE, 0, 1, "running-loss weight, in [0, 1]"), K_FLOAT, F(beta)},
    {NUM("warmup", "E", ISB_ARG_INT, 0, 100000, "uniform warm-up sampler epochs"), K_INT, F(warmup_epochs)},
    {NUM("temperature", "T", ISB_ARG_DOUBLE, 1e-30, 1e30, "p = softmax(S / T), T > 0"), K_FLOAT, F(temperature)},
    {{"draw", "M", ISB_ARG_CHOICE, 0, 0, isb_draw_method_names, "gumbel-topk (default, no replacement) | gumbel-sort | alias | cdf"},
     K_ENUM, F(draw)},
    {{"weights", "W", ISB_ARG_CHOICE, 0, 0, isb_weight_mode_names, "none (default, as the study's code) | inverse-p | ht"},
     K_ENUM, F(weights)},
    {NUM("lr", "LR", ISB_ARG_DOUBLE, 1e-12, 100, "learning rate"), K_FLOAT, F(lr)},
    {NUM("momentum", "M", ISB_ARG_DOUBLE, 0, 0.999999, "SGD momentum"), K_FLOAT, F(momentum)},
    {NUM("weight-decay", "W", ISB_ARG_DOUBLE, 0, 1, "L2 weight decay"), K_FLOAT, F(weight_decay)},
    {NUM("lr-decay", "G", ISB_ARG_DOUBLE, 1e-12, 1, "lr factor at each milestone"), K_FLOAT, F(lr_decay)},
    {NUM("milestones", "A,B,..", ISB_ARG_INT, 1, 1e6, "data epochs after which lr *= lr-decay (each one)"), K_MILESTONES,
     F(milestones)},
    {NUM("batch", "B", ISB_ARG_INT, 1, ISB_MODEL_MAX_BATCH, "mini-batch size"), K_INT, F(batch)},
    {NUM("patience", "K", ISB_ARG_INT, 1, 100000, "early stop after K evaluations without improvement"), K_INT,
     F(patience)},
    {{"early-stop", "R", ISB_ARG_CHOICE, 0, 0, early_stop_names, "best (reset on improvement) | cumulative (study code)"},
     K_ENUM, F(early_stop)},
    {NUM("max-epochs", "E", ISB_ARG_INT, 1, 100000, "cap on data epochs (evaluations)"), K_INT, F(max_epochs)},
    {NUM("seed", "K", ISB_ARG_SEED, 0, 0, "run seed (model init, sampling, augmentation)"), K_U64, F(seed)},
    {SWITCH("normalize", "normalise inputs (default: only with augmentation)"), K_SET_TRUE, F(normalize)},
    {SWITCH("no-normalize", "do not normalise inputs"), K_SET_FALSE, F(normalize)},
    {SWITCH("profile", "synchronise around batch assembly to time `data`"), K_SET_TRUE, F(profile)},
    {NUM("stop-after-step", "K", ISB_ARG_INT, -1, 1e15, "act as if interrupted after K steps (testing resume)"), K_LONG,
     F(stop_after_step)},
    {NUM("stop-in-evaluation", "K", ISB_ARG_INT, -1, 1e15,
         "act as if interrupted after K test batches of an evaluation (testing resume)"),
     K_LONG, F(stop_in_evaluation)},
};
#undef SWITCH
#undef NUM
#undef F
static const int n_keys = (int)(sizeof keys / sizeof keys[0]);

int isb_train_config_key_count(void) { return n_keys; }
const isb_option_def *isb_train_config_key(int i) { return i >= 0 && i < n_keys ? &keys[i].opt : NULL; }

static const key_def *find_key(const char *key) {
    for (int i = 0; i < n_keys; i++)
        if (strcmp(keys[i].opt.name, key) == 0) return &keys[i];
    return NULL;
}

int isb_train_config_key_range(const char *key, double *min, double *max) {
    const key_def *k = find_key(key);
    if (!k) return isb_fail(ISB_ERR_INTERNAL, "no training option '%s' in the key table", key);
    *min = k->opt.min;
    *max = k->opt.max;
    return ISB_OK;
}

const isb_option_def *isb_train_config_find_key(const char *key) {
    const key_def *k = find_key(key);
    return k ? &k->opt : NULL;
}

int isb_train_config_set(isb_train_config *cfg, const char *key, const char *value) {
    const key_def *k = find_key(key);
    if (!k) return isb_fail(ISB_ERR_USAGE, "unknown training option '%s'", key);
    char *field = (char *)cfg + k->offset;
    double v;
    switch (k->type) {
    case K_INT: ISB_TRY(isb_option_parse_number(&k->opt, value, &v)); *(int *)field = (int)v; break;
    case K_LONG: ISB_TRY(isb_option_parse_number(&k->opt, value, &v)); *(long *)field = (long)v; break;
    case K_FLOAT: ISB_TRY(isb_option_parse_number(&k->opt, value, &v)); *(float *)field = (float)v; break;
    case K_DOUBLE: ISB_TRY(isb_option_parse_number(&k->opt, value, &v)); *(double *)field = v; break;
    case K_U64: ISB_TRY(isb_option_parse_seed(&k->opt, value, (uint64_t *)field)); break;
    case K_SET_TRUE: *(bool *)field = true; break;
    case K_SET_FALSE: *(bool *)field = false; break;
    case K_ENUM: return isb_option_parse_choice(&k->opt, value, (int *)field); /* enums follow their name tables */
    case K_STRING:
        if (strlen(value) == 0 || strlen(value) >= sizeof cfg->dataset)
            return isb_fail(ISB_ERR_USAGE, "option --%s: '%s' is empty or too long", key, value);
        snprintf(field, sizeof cfg->dataset, "%s", value);
        break;
    case K_MILESTONES: {
        isb_train_config tmp = *cfg;
        tmp.n_milestones = 0;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", value);
        if (strcmp(buf, "none") != 0) {
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (tmp.n_milestones == ISB_MAX_MILESTONES)
                    return isb_fail(ISB_ERR_USAGE, "option --milestones: at most %d values", ISB_MAX_MILESTONES);
                ISB_TRY(isb_option_parse_number(&k->opt, tok, &v));
                if (tmp.n_milestones > 0 && (int)v <= tmp.milestones[tmp.n_milestones - 1])
                    return isb_fail(ISB_ERR_USAGE, "option --milestones must increase, got '%s'", value);
                tmp.milestones[tmp.n_milestones++] = (int)v;
            }
            if (tmp.n_milestones == 0)
                return isb_fail(ISB_ERR_USAGE, "option --milestones needs A,B,... or 'none', got '%s'", value);
        }
        memcpy(cfg->milestones, tmp.milestones, sizeof cfg->milestones);
        cfg->n_milestones = tmp.n_milestones;
        break;
    }
    }
    return ISB_OK;
}

int isb_train_config_make(isb_train_config *cfg, const char *preset, const char *name,
                          const isb_config_override *overrides, int n_overrides) {
    ISB_TRY(isb_train_config_init(cfg, preset, name));
    for (int i = 0; i < n_overrides; i++) ISB_TRY(isb_train_config_set(cfg, overrides[i].key, overrides[i].value));
    return isb_train_config_validate(cfg, 0);
}

int isb_train_config_z(const isb_train_config *cfg, int n) {
    if (cfg->z > 0) return cfg->z;
    long z = lround(cfg->z_fraction * n);
    return z < 1 ? 1 : (int)z;
}

/* Every numeric field against its key's range: presets and code that fills the struct directly
 * are held to the same limits as the command line. */
static int check_fields(const isb_train_config *cfg) {
    for (int i = 0; i < n_keys; i++) {
        const key_def *k = &keys[i];
        const char *field = (const char *)cfg + k->offset;
        switch (k->type) {
        case K_INT: ISB_TRY(isb_option_check_range(&k->opt, *(const int *)field)); break;
        case K_LONG: ISB_TRY(isb_option_check_range(&k->opt, (double)*(const long *)field)); break;
        case K_FLOAT: ISB_TRY(isb_option_check_range(&k->opt, *(const float *)field)); break;
        case K_DOUBLE: ISB_TRY(isb_option_check_range(&k->opt, *(const double *)field)); break;
        case K_MILESTONES:
            for (int m = 0; m < cfg->n_milestones; m++) ISB_TRY(isb_option_check_range(&k->opt, cfg->milestones[m]));
            break;
        default: break; /* switches, names and seeds: any value that parsed is valid */
        }
    }
    return ISB_OK;
}

static bool draws_without_replacement(const isb_train_config *cfg) {
    return cfg->draw == ISB_DRAW_GUMBEL_TOPK || cfg->draw == ISB_DRAW_GUMBEL_SORT;
}

/* The checks that need the training-set size n. */
static int check_against_n(const isb_train_config *cfg, int n) {
    bool without_replacement = draws_without_replacement(cfg);
    int z = isb_train_config_z(cfg, n);
    bool uniform_z = cfg->sampler == ISB_SAMPLER_UNIFORM;
    if (z > n && (uniform_z || without_replacement))
        return isb_fail(ISB_ERR_USAGE,
                        "|Z| = %d exceeds the %d training samples, impossible %s: lower --z / --z-fraction%s", z, n,
                        uniform_z ? "for a uniform shuffle" : "without replacement",
                        uniform_z ? "" : " or draw with replacement (--draw alias or cdf)");
    if (cfg->batch > n)
        return isb_fail(ISB_ERR_USAGE, "--batch %d exceeds the %d training samples: lower --batch", cfg->batch, n);
    return ISB_OK;
}

int isb_train_config_validate(const isb_train_config *cfg, int n) {
    ISB_TRY(check_fields(cfg));
    if (cfg->weights == ISB_WEIGHTS_HT && !draws_without_replacement(cfg))
        return isb_fail(ISB_ERR_USAGE, "--weights ht is for draws without replacement: use --draw gumbel-topk, or "
                                       "--weights inverse-p with --draw %s", isb_draw_method_name(cfg->draw));
    if (n == 0) n = cfg->train_subset; /* known before loading when a subset is asked for */
    return n > 0 ? check_against_n(cfg, n) : ISB_OK;
}

json_t *isb_train_config_to_json(const isb_train_config *c) {
    json_t *ms = json_array();
    for (int i = 0; i < c->n_milestones; i++) json_array_append_new(ms, json_integer(c->milestones[i]));
    /* floats go through %g-rounded doubles so that 0.01f is written as 0.01, not 0.0099999997764 */
    char buf[32];
#define FLT(x) (snprintf(buf, sizeof buf, "%.7g", (double)(x)), json_real(strtod(buf, NULL)))
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:b, s:s, s:i, s:i, s:i, s:i, s:f, s:o, s:i, s:o, s:s, s:s}",
                          "name", c->name, "preset", c->preset, "sampler", isb_sampler_kind_name(c->sampler),
                          "augment", c->augment, "normalize", c->normalize, "dataset", c->dataset,
                          "train_subset", c->train_subset, "test_subset", c->test_subset, "width", c->width,
                          "z", c->z, "z_fraction", c->z_fraction, "beta", FLT(c->beta),
                          "warmup_epochs", c->warmup_epochs, "temperature", FLT(c->temperature),
                          "draw", isb_draw_method_name(c->draw), "weights", isb_weight_mode_name(c->weights));
    json_object_set_new(o, "lr", FLT(c->lr));
    json_object_set_new(o, "momentum", FLT(c->momentum));
    json_object_set_new(o, "weight_decay", FLT(c->weight_decay));
    json_object_set_new(o, "lr_decay", FLT(c->lr_decay));
    json_object_set_new(o, "batch", json_integer(c->batch));
    json_object_set_new(o, "milestones", ms);
    json_object_set_new(o, "patience", json_integer(c->patience));
    json_object_set_new(o, "early_stop", json_string(early_stop_names[c->early_stop]));
    json_object_set_new(o, "max_epochs", json_integer(c->max_epochs));
    json_object_set_new(o, "seed", json_integer((json_int_t)c->seed));
#undef FLT
    return o;
}
