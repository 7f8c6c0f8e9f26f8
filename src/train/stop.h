/* Asking a training run to stop cleanly: SIGINT/SIGTERM only set a flag; the loop polls it after
 * each step, saves a checkpoint and returns ISB_ERR_INTERRUPTED (exit code 130). */
#ifndef ISB_TRAIN_STOP_H
#define ISB_TRAIN_STOP_H

#include <stdbool.h>

/* Installs the SIGINT/SIGTERM handlers (idempotent). A second signal while stopping is ignored:
 * the checkpoint is being written. */
void isb_stop_install_handlers(void);
bool isb_stop_requested(void);
void isb_stop_request(void);   /* what the handler does; also used by the --stop-after-step test hook */
void isb_stop_clear(void);     /* before resuming in the same process (tests) */
/* The signal that raised the flag, or 0. */
int isb_stop_signal(void);

#endif
