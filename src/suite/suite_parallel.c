/* Several runs of the suite at once, one process per run, on several devices of one node (see
 * suite.h). Each child is this program again, `suite <same options> --task K --device SEL`, so it
 * does exactly what the sequential suite does for run K and writes the same files. Its stderr comes
 * through a pipe and is passed on line by line (the child's lines carry its run's label), so the
 * lines of different runs never mix. */
#define _GNU_SOURCE /* pipe2 */
#include "suite/suite.h"
#include "train/stop.h"
#include "util/error.h"
#include "util/timer.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

enum { MAX_JOBS = 64 };

typedef struct {
    pid_t pid;           /* 0: slot free */
    int run, device, fd; /* fd: read end of the child's stderr, -1 once closed */
    double started;
    size_t len;
    char line[4096];     /* the child's unfinished output line */
} child_slot;

typedef struct {
    const isb_suite_options *o;
    const isb_suite_parallel *p;
    child_slot slot[MAX_JOBS];
    int *queue, n_queue, next;  /* selected runs, the next to start */
    int *exit_code;             /* per queue position: exit status, or -1 while not run */
    int *device_of;             /* per queue position */
    int running, done, failed, interrupted;
    bool stopping;
    double t0, next_status;
    const char **argv;          /* the next child's command line (child_argv) */
    char task_text[16];
    int devnull;                /* /dev/null, for the children's stdout */
} parallel_state;

static void flush_line(child_slot *s) {
    if (s->len == 0) return;
    fprintf(stderr, "%.*s%s", (int)s->len, s->line, s->line[s->len - 1] == '\n' ? "" : "\n");
    s->len = 0;
}

/* Reads what the child wrote and passes on its complete lines; returns false at end of file. */
static bool pump(child_slot *s) {
    char buf[4096];
    ssize_t got = read(s->fd, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (got <= 0) return false;
    for (ssize_t i = 0; i < got; i++) {
        s->line[s->len++] = buf[i];
        if (buf[i] == '\n' || s->len == sizeof s->line) flush_line(s);
    }
    return true;
}

static void close_pipe(child_slot *s) {
    while (s->fd >= 0 && pump(s)) {}
    flush_line(s);
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

/* The child's command line: this program's suite options plus --task K --device SEL (built in
 * the parent: after fork, in a process that may have driver threads, only exec-safe calls). */
static void child_argv(parallel_state *st, int run, int device) {
    const isb_suite_parallel *p = st->p;
    int k = 0;
    snprintf(st->task_text, sizeof st->task_text, "%d", run);
    st->argv[k++] = "isbench";
    st->argv[k++] = "suite";
    for (int i = 0; i < p->n_child_args; i++) st->argv[k++] = p->child_args[i];
    st->argv[k++] = "--task";
    st->argv[k++] = st->task_text;
    st->argv[k++] = "--device";
    st->argv[k++] = p->devices[device];
    st->argv[k] = NULL;
}

/* In the child: stderr to the pipe, stdout (its one-run summary) dropped, then exec. */
static void exec_child(const parallel_state *st, int fd_write) {
    static const char msg[] = "isbench suite: cannot start a child process (exec of /proc/self/exe failed)\n";
    if (dup2(fd_write, STDERR_FILENO) < 0 || dup2(st->devnull, STDOUT_FILENO) < 0) _exit(127);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* a killed parent stops its runs (they checkpoint) */
#endif
    execv("/proc/self/exe", (char *const *)st->argv);
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) _exit(127);
    _exit(127);
}

/* The device with the fewest runs in progress (the first such in the list). */
static int least_busy_device(const parallel_state *st) {
    int best = 0, best_n = MAX_JOBS + 1;
    for (int d = 0; d < st->p->n_devices; d++) {
        int n = 0;
        for (int i = 0; i < st->p->jobs; i++) n += st->slot[i].pid && st->slot[i].device == d;
        if (n < best_n) { best = d; best_n = n; }
    }
    return best;
}

static int start_next(parallel_state *st, child_slot *s) {
    int fds[2], q = st->next, device = least_busy_device(st);
    if (pipe2(fds, O_CLOEXEC) < 0) return isb_fail(ISB_ERR_IO, "cannot create a pipe: %s", strerror(errno));
    child_argv(st, st->queue[q], device);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return isb_fail(ISB_ERR_MEMORY, "cannot start a process for run %d: %s", st->queue[q], strerror(errno));
    }
    if (pid == 0) exec_child(st, fds[1]);
    close(fds[1]);
    *s = (child_slot){.pid = pid, .run = q, .device = device, .fd = fds[0], .started = isb_now()};
    st->device_of[q] = device;
    st->next++;
    st->running++;
    return ISB_OK;
}

static void status_line(const parallel_state *st) {
    fprintf(stderr, "[suite] %.0f s: %d of %d runs done (%d failed, %d interrupted), %d running, %d waiting\n",
            isb_now() - st->t0, st->done, st->n_queue, st->failed, st->interrupted, st->running, st->n_queue - st->next);
}

static void reap(parallel_state *st, child_slot *s, int wstatus) {
    int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    /* a child stopped before its handlers were installed dies of the signal: nothing was run yet */
    if (st->stopping && WIFSIGNALED(wstatus)) code = 130;
    close_pipe(s);
    isb_suite_entry e;
    isb_suite_entry_at(st->o, st->queue[s->run], &e);
    char folder[32];
    isb_suite_run_status(e.dir, folder, sizeof folder);
    /* killed (SIGKILL, OOM) with its folder left resumable: interrupted, as --list shows it */
    if (WIFSIGNALED(wstatus) && strcmp(folder, "interrupted") == 0) code = 130;
    st->exit_code[s->run] = code;
    st->running--;
    st->done++;
    if (code != 0 && code != 130) st->failed++;
    if (code == 130) st->interrupted++;
    fprintf(stderr, "[suite] run %d (%s seed %d) on %s: %s (exit %d) after %.0f s\n", e.index, e.config, e.seed,
            st->p->devices[s->device], code == 0 ? "finished" : code == 130 ? "interrupted" : "FAILED", code,
            isb_now() - s->started);
    status_line(st);
    s->pid = 0;
}

/* Waits up to a second for output or an exited child, and handles both. */
static void wait_step(parallel_state *st) {
    struct pollfd pfd[MAX_JOBS];
    int map[MAX_JOBS], n = 0;
    for (int i = 0; i < st->p->jobs; i++)
        if (st->slot[i].pid && st->slot[i].fd >= 0) {
            pfd[n] = (struct pollfd){.fd = st->slot[i].fd, .events = POLLIN};
            map[n++] = i;
        }
    if (poll(pfd, (nfds_t)n, 1000) > 0)
        for (int k = 0; k < n; k++)
            if (pfd[k].revents && !pump(&st->slot[map[k]])) close_pipe(&st->slot[map[k]]);
    for (int i = 0; i < st->p->jobs; i++) {
        int wstatus;
        if (st->slot[i].pid && waitpid(st->slot[i].pid, &wstatus, WNOHANG) == st->slot[i].pid)
            reap(st, &st->slot[i], wstatus);
    }
}

static void ask_children_to_stop(parallel_state *st) {
    st->stopping = true;
    fprintf(stderr, "[suite] stop requested: asking the %d running run%s to save a checkpoint\n", st->running,
            st->running == 1 ? "" : "s");
    for (int i = 0; i < st->p->jobs; i++)
        if (st->slot[i].pid) kill(st->slot[i].pid, SIGTERM);
}

static void print_parallel_summary(const parallel_state *st) {
    printf("\nsuite %s (preset %s) in %s, %d processes on %d devices: %.1f s\n", st->o->name ? st->o->name : st->o->preset,
           st->o->preset, st->o->out, st->p->jobs, st->p->n_devices, isb_now() - st->t0);
    printf("%5s %-20s %5s %-24s %-12s\n", "run", "config", "seed", "device", "status");
    for (int q = 0; q < st->n_queue; q++) {
        isb_suite_entry e;
        isb_suite_entry_at(st->o, st->queue[q], &e);
        int code = st->exit_code[q];
        const char *status = code < 0 ? "not started" : code == 0 ? "finished" : code == 130 ? "interrupted" : "failed";
        printf("%5d %-20s %5d %-24s %-12s\n", e.index, e.config, e.seed,
               code < 0 ? "-" : st->p->devices[st->device_of[q]], status);
    }
}

int isb_suite_run_parallel(const isb_suite_options *o, const isb_suite_parallel *p) {
    if (p->jobs < 1 || p->jobs > MAX_JOBS || p->n_devices < 1)
        return isb_fail(ISB_ERR_USAGE, "--jobs must be in 1..%d and --devices must name a device", MAX_JOBS);
    ISB_TRY(isb_suite_check_selection(o));
    int total = isb_suite_size(o), rc = ISB_OK;
    parallel_state st = {.o = o, .p = p, .t0 = isb_now(), .next_status = isb_now() + p->status_every_s};
    st.devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    st.queue = calloc((size_t)total, sizeof *st.queue);
    st.exit_code = calloc((size_t)total, sizeof *st.exit_code);
    st.device_of = calloc((size_t)total, sizeof *st.device_of);
    st.argv = calloc((size_t)p->n_child_args + 7, sizeof *st.argv);
    if (st.devnull < 0) {
        rc = isb_fail(ISB_ERR_IO, "cannot open /dev/null: %s", strerror(errno));
        goto done;
    }
    if (!st.queue || !st.exit_code || !st.device_of || !st.argv) {
        rc = isb_fail(ISB_ERR_MEMORY, "out of host memory");
        goto done;
    }
    for (int j = 0; j < total; j++)
        if (isb_suite_selected(o, j)) st.exit_code[st.n_queue] = -1, st.queue[st.n_queue++] = j;
    isb_stop_install_handlers();
    while (st.running > 0 || (st.next < st.n_queue && !st.stopping)) {
        if (isb_stop_requested() && !st.stopping) ask_children_to_stop(&st);
        for (int i = 0; i < p->jobs && !st.stopping && st.next < st.n_queue; i++)
            if (!st.slot[i].pid && (rc = start_next(&st, &st.slot[i])) < 0) ask_children_to_stop(&st);
        wait_step(&st);
        if (p->status_every_s > 0 && st.running > 0 && isb_now() >= st.next_status) {
            status_line(&st);
            st.next_status = isb_now() + p->status_every_s;
        }
    }
    print_parallel_summary(&st);
    if (rc < 0) goto done;
    if (st.stopping || (st.interrupted && !st.failed))
        rc = isb_fail(ISB_ERR_INTERRUPTED, "stopped: run the same command again to resume");
    else if (st.failed)
        rc = isb_fail(ISB_ERR_INTERNAL, "%d of %d runs failed (their messages above, and their manifests)", st.failed,
                      st.n_queue);
done:
    free(st.argv);
    free(st.device_of);
    free(st.exit_code);
    free(st.queue);
    if (st.devnull >= 0) close(st.devnull);
    return rc;
}
