/* One process per run folder: every training run (isbench train, each run of isbench suite, a
 * Slurm array task) holds DIR/run.lock while it writes DIR. The lock is an flock(2) on the file,
 * so the kernel releases it when the holder dies however it dies (SIGKILL, OOM): a lock file left
 * by a dead process is simply taken over. The file holds "PID HOST" of the holder, for the message
 * that names who holds it.
 *
 * CONTRACT used by src/train (the run lifecycle) and by anything that schedules runs. */
#ifndef ISB_RESULTS_RUN_LOCK_H
#define ISB_RESULTS_RUN_LOCK_H

#define ISB_RUN_LOCK_FILE "run.lock"

typedef struct {
    int fd;             /* -1: not held */
    char previous[256]; /* the file's content before this holder wrote its PID and host */
    long previous_len;  /* -1: unreadable; sizeof previous: too long to keep */
} isb_run_lock;

/* Takes DIR/run.lock (DIR must exist). A live holder -> ISB_ERR_USAGE naming its PID and host;
 * nothing in DIR is touched. */
int isb_run_lock_take(isb_run_lock *lock, const char *dir);
/* Puts back what the file held before take (byte for byte), for a run that was refused: a refusal
 * leaves the folder as it was. Nothing happens if that content was unreadable or too long. */
void isb_run_lock_restore(isb_run_lock *lock);
/* Releases it (the file stays; an unheld file means a free folder). Accepts a lock not held. */
void isb_run_lock_release(isb_run_lock *lock);

#endif
