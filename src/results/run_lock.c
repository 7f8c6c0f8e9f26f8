/* The run-folder lock (see run_lock.h). */
#include "results/run_lock.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int isb_run_lock_take(isb_run_lock *lock, const char *dir) {
    lock->fd = -1;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, ISB_RUN_LOCK_FILE);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return isb_fail(ISB_ERR_IO, "cannot open the run lock %s: %s (is the folder writable?)", path,
                                strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        char holder[128] = "";
        ssize_t got = pread(fd, holder, sizeof holder - 1, 0);
        holder[got > 0 ? got : 0] = '\0';
        holder[strcspn(holder, "\n")] = '\0';
        close(fd);
        if (err != EWOULDBLOCK)
            return isb_fail(ISB_ERR_IO, "cannot lock %s: %s", path, strerror(err));
        return isb_fail(ISB_ERR_USAGE,
                        "%s is being written by another isbench process (PID and host: %s): nothing was touched; "
                        "wait for it to end, or stop it, or use another --out",
                        dir, holder[0] ? holder : "unknown");
    }
    /* what the file held, so that a refused run can put it back byte for byte */
    lock->previous_len = pread(fd, lock->previous, sizeof lock->previous, 0);
    char host[64] = "?", text[128];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    int len = snprintf(text, sizeof text, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)len, 0) != len) {
        int rc = isb_fail(ISB_ERR_IO, "cannot write the run lock %s: %s (disk full?)", path, strerror(errno));
        close(fd);
        return rc;
    }
    lock->fd = fd;
    return ISB_OK;
}

void isb_run_lock_restore(isb_run_lock *lock) {
    if (lock->fd < 0 || lock->previous_len < 0 || (size_t)lock->previous_len >= sizeof lock->previous) return;
    if (ftruncate(lock->fd, 0) != 0 || pwrite(lock->fd, lock->previous, (size_t)lock->previous_len, 0) != lock->previous_len)
        fprintf(stderr, "warning: cannot restore the run lock's previous content: %s\n", strerror(errno));
}

void isb_run_lock_release(isb_run_lock *lock) {
    if (lock->fd < 0) return;
    close(lock->fd); /* closing the descriptor drops the flock */
    lock->fd = -1;
}
