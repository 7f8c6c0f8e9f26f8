/* The configuration of one training run: the six named configurations of the study (sampler ×
 * augmentation), the presets (paper / gpu / quick / smoke) and every hyper-parameter of Appendix A as an
 * overridable key (the same keys are the command-line options: `lr` is --lr). Pure host code:
 * knows nothing of OpenCL, the model or the data.
 *
 * Order of construction: preset → named configuration defaults → key=value overrides → validate. */
#ifndef ISB_CONFIG_TRAIN_CONFIG_H
#define ISB_CONFIG_TRAIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "sampling/sampler.h"

typedef enum {
    ISB_SAMPLER_UNIFORM = 0, ISB_SAMPLER_LAST_LOSS = 1, ISB_SAMPLER_RUNNING_LOSS = 2,
    ISB_SAMPLER_GRADIENT_NORM = 3 /* not in the study's six: selected by name (--configs) */
} isb_sampler_kind;

/* best: stop after `patience` consecutive evaluations without a new best test accuracy, report the
 * best. cumulative: the study code's rule — a never-reset counter of evaluations whose accuracy,
 * rounded to 3 decimals, is not above the best so far; reports the last accuracy. */
typedef enum { ISB_EARLY_STOP_BEST = 0, ISB_EARLY_STOP_CUMULATIVE = 1 } isb_early_stop_mode;

#define ISB_MAX_MILESTONES 8

typedef struct {
    char name[32];            /* "uniform-aug", ... */
    char preset[16];          /* "paper", "gpu", "quick", "smoke" */
    isb_sampler_kind sampler;
    bool augment;             /* random crop (4-pixel padding) + horizontal flip */
    bool normalize;           /* per-channel mean/std; default = augment (docs/protocol-notes.md, note 5) */

    /* data */
    char dataset[32];         /* "cifar10", ... (src/data/dataset.h) */
    int train_subset;         /* 0 = full training set, else class-balanced subset of this size */
    int test_subset;

    /* model */
    int width;                /* base channels: 64 = the paper's ResNet18 */

    /* sampling (Algorithm 1) */
    int z;                    /* samples per sampler epoch |Z|; 0 = z_fraction * N */
    double z_fraction;        /* |Z| / N when z == 0 (1, 8192/50000, 30000/50000) */
    float beta;               /* running-loss weight */
    int warmup_epochs;        /* uniform sampler epochs (of N samples) before importance sampling */
    float temperature;        /* p = softmax(S / T) */
    isb_draw_method draw;
    isb_weight_mode weights;  /* default none: the study code had them off (docs/protocol-notes.md, note 3) */

    /* optimisation */
    float lr, momentum, weight_decay, lr_decay;
    int batch;
    int milestones[ISB_MAX_MILESTONES]; /* data epochs after which lr *= lr_decay */
    int n_milestones;
    int patience;
    isb_early_stop_mode early_stop;
    int max_epochs;           /* cap on data epochs (evaluations) */

    /* run */
    uint64_t seed;
    bool profile;             /* also synchronise around batch assembly to time `data` separately */
    long stop_after_step;     /* test hook: behave as if interrupted after this many steps (-1: never) */
    long stop_in_evaluation;  /* test hook: ... after this many test batches of an evaluation (-1: never) */
} isb_train_config;

/* The six configuration names in suite order; *count set to 6. */
const char *const *isb_train_config_names(int *count);
/* Every configuration --config accepts: the study's six, then those selected by name only. */
const char *const *isb_train_config_all_names(int *count);
/* The presets, NULL-terminated: "paper", "quick", "smoke", "gpu". */
const char *const *isb_train_preset_names(void);

/* preset defaults + the named configuration's defaults (Appendix A). Unknown names → ISB_ERR_USAGE
 * listing the valid ones. */
int isb_train_config_init(isb_train_config *cfg, const char *preset, const char *name);
/* Sets one key (the long option name without "--", e.g. "lr", "draw", "milestones") from text,
 * checking its type and range. Errors (ISB_ERR_USAGE) name the option and the allowed values. */
int isb_train_config_set(isb_train_config *cfg, const char *key, const char *value);
/* The settable keys: each is a row of the option table (config/options.h) whose name is the key and
 * the long option (--lr, --normalize, ...). */
struct isb_option_def;
int isb_train_config_key_count(void);
const struct isb_option_def *isb_train_config_key(int i); /* 0 <= i < count, else NULL */
const struct isb_option_def *isb_train_config_find_key(const char *key); /* NULL: no such key */
/* The range [min, max] the key table gives a numeric key (the option's limits), for checks of
 * values that come from elsewhere (a checkpoint); ISB_ERR_INTERNAL for an unknown key. */
int isb_train_config_key_range(const char *key, double *min, double *max);

/* One --key value given on the command line (value "" for switches). */
typedef struct {
    const char *key, *value;
} isb_config_override;
#define ISB_MAX_OVERRIDES 64

/* init(preset, name), then every override in order, then validate(cfg, 0). */
int isb_train_config_make(isb_train_config *cfg, const char *preset, const char *name,
                          const isb_config_override *overrides, int n_overrides);

/* |Z| for a training set of n samples. */
int isb_train_config_z(const isb_train_config *cfg, int n);
/* The one validation of a configuration: every field against the key table's range (the limits
 * the options are parsed with), the cross-field rules, and with n > 0 (the training-set size; 0:
 * not yet known, the subset size is used if one is set) |Z| and the batch against N.
 * ISB_ERR_USAGE naming the option and the fix. isb_train_run calls it with the loaded N. */
int isb_train_config_validate(const isb_train_config *cfg, int n);

/* The configuration as a JSON object (every hyper-parameter; new reference). Two runs with equal
 * objects are the same experiment. */
json_t *isb_train_config_to_json(const isb_train_config *cfg);

const char *isb_sampler_kind_name(isb_sampler_kind k);
/* The score rule a configuration's runs track (its sampler kind's, with its beta). */
isb_score_rule isb_train_config_score_rule(const isb_train_config *cfg);

#endif
