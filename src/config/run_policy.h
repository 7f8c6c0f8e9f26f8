/* How a training run is kept safe and restarted: the run policy, one value given to the run by
 * `isbench train` and `isbench suite` (--checkpoint-every, --restart). It is no part of the
 * experiment: two runs that differ only in policy are the same run. */
#ifndef ISB_CONFIG_RUN_POLICY_H
#define ISB_CONFIG_RUN_POLICY_H

#include <stdbool.h>

#define ISB_CHECKPOINT_EVERY_DEFAULT_S 300.0

typedef struct {
    double checkpoint_every_s; /* a checkpoint at most this long after the last one (0: at evaluations only) */
    bool restart;              /* move an existing run folder aside (DIR.old-TIME) and start it over */
} isb_run_policy;

#define ISB_RUN_POLICY_DEFAULT ((isb_run_policy){.checkpoint_every_s = ISB_CHECKPOINT_EVERY_DEFAULT_S, .restart = false})

#endif
