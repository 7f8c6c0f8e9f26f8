/* The score rule (score_rule.h). */
#include "sampling/score_rule.h"

#include <stddef.h> /* NULL in util/error.h's isb_fail */

#include "util/error.h"

const char *isb_score_rule_name(isb_score_rule_kind kind) {
    static const char *const names[ISB_SCORE_RULE_KINDS] = {
        [ISB_SCORE_RULE_NONE] = "none", [ISB_SCORE_RULE_LAST_LOSS] = "last-loss",
        [ISB_SCORE_RULE_RUNNING_LOSS] = "running-loss", [ISB_SCORE_RULE_GRADIENT_NORM] = "gradient-norm"};
    return (unsigned)kind < ISB_SCORE_RULE_KINDS ? names[kind] : "?";
}

int isb_score_rule_check(isb_score_rule rule, const char *who) {
    if ((unsigned)rule.kind >= ISB_SCORE_RULE_KINDS)
        return isb_fail(ISB_ERR_USAGE, "%s: score rule %d is not none, last-loss, running-loss or gradient-norm", who,
                        (int)rule.kind);
    if (rule.kind == ISB_SCORE_RULE_RUNNING_LOSS && !(rule.beta >= 0.0f && rule.beta <= 1.0f))
        return isb_fail(ISB_ERR_USAGE, "%s: running-loss beta %g must be in [0, 1]", who, rule.beta);
    return ISB_OK;
}
