/* The score rule: which per-sample score importance sampling draws from and how a training step
 * updates it, for the model's fused loss kernel (nn/), the trainer (train/), the sampler's
 * standalone update and its benchmarks. The kinds (isb_score_rule_kind) and the fold are defined
 * once, in cl/score_rule.cl, which the host includes here and the device prepends to its programs;
 * the C reference of the whole update is isb_sref_score_update. */
#ifndef ISB_SAMPLING_SCORE_RULE_H
#define ISB_SAMPLING_SCORE_RULE_H

#include "score_rule.cl"

typedef struct {
    isb_score_rule_kind kind;
    float beta; /* running loss only, in [0, 1] */
} isb_score_rule;

/* "none", "last-loss", "running-loss", "gradient-norm" ("?" otherwise). */
const char *isb_score_rule_name(isb_score_rule_kind kind);
/* ISB_ERR_USAGE naming `who` when the kind is unknown or beta is outside [0, 1]. */
int isb_score_rule_check(isb_score_rule rule, const char *who);
/* One row folded into a score: the device's own isb_score_fold (cl/score_rule.cl). */
static inline float isb_score_rule_fold(isb_score_rule rule, float s, float value) {
    return isb_score_fold((int)rule.kind, rule.beta, s, value);
}

#endif
