/* The score rule: which per-sample score importance sampling draws from and how a training step
 * updates it. ONE definition shared by the model's fused loss kernel (nn/), the trainer (train/),
 * the sampler's standalone update and its benchmarks; the device code is cl/score_rule.cl (same
 * numbering), the C reference isb_sref_score_update. */
#ifndef ISB_SAMPLING_SCORE_RULE_H
#define ISB_SAMPLING_SCORE_RULE_H

typedef enum {
    ISB_SCORE_RULE_NONE = 0,          /* scores untouched */
    ISB_SCORE_RULE_LAST_LOSS = 1,     /* S_i = L_r */
    ISB_SCORE_RULE_RUNNING_LOSS = 2,  /* S_i = beta S_i + (1 - beta) L_r */
    ISB_SCORE_RULE_GRADIENT_NORM = 3, /* S_i = ||softmax(z_r) - onehot(y_r)||_2, the gradient-norm upper
                                         bound of Katharopoulos & Fleuret (2018) */
} isb_score_rule_kind;

typedef struct {
    isb_score_rule_kind kind;
    float beta; /* running loss only, in [0, 1] */
} isb_score_rule;

/* "none", "last-loss", "running-loss", "gradient-norm" ("?" otherwise). */
const char *isb_score_rule_name(isb_score_rule_kind kind);
/* ISB_ERR_USAGE naming `who` when the kind is unknown or beta is outside [0, 1]. */
int isb_score_rule_check(isb_score_rule rule, const char *who);
/* One row folded into a score (the C twin of isb_score_fold in cl/score_rule.cl). */
static inline float isb_score_rule_fold(isb_score_rule rule, float s, float value) {
    return rule.kind == ISB_SCORE_RULE_RUNNING_LOSS ? rule.beta * s + (1.0f - rule.beta) * value : value;
}

#endif
