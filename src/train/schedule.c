/* Learning-rate schedule and early stopping (see schedule.h). */
#include "train/schedule.h"

#include <math.h>

float isb_lr_at(const isb_train_config *cfg, int epochs_done) {
    double lr = cfg->lr;
    for (int i = 0; i < cfg->n_milestones; i++)
        if (epochs_done >= cfg->milestones[i]) lr *= cfg->lr_decay;
    return (float)lr;
}

void isb_early_stop_init(isb_early_stop *es) {
    es->best_acc = -1.0;
    es->bad_evals = 0;
    es->evals = 0;
}

bool isb_early_stop_update(isb_early_stop *es, const isb_train_config *cfg, double test_acc) {
    es->evals++;
    if (cfg->early_stop == ISB_EARLY_STOP_CUMULATIVE) {
        /* the study code: compares accuracies rounded to 3 decimals and never resets the counter */
        double rounded = round(test_acc * 1000.0) / 1000.0;
        if (rounded > es->best_acc) es->best_acc = rounded;
        else es->bad_evals++;
    } else {
        if (test_acc > es->best_acc) {
            es->best_acc = test_acc;
            es->bad_evals = 0;
        } else {
            es->bad_evals++;
        }
    }
    return es->bad_evals >= cfg->patience;
}
