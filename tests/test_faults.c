/* Fault tests of the training-run lifecycle (issue 11), against the isbench binary ($ISBENCH_EXE)
 * on a small synthetic CIFAR-10 set, smoke preset:
 *   - SIGKILL at random instants and inside the write phase (fileio's injection hooks), then a
 *     rerun: final metrics, histograms and manifest equal an uninterrupted run's;
 *   - flipped bytes, truncation, a foreign configuration's checkpoint and out-of-range counters
 *     (with a valid checksum): refused, every result file byte-identical before and after;
 *   - a full disk mid-run (a 128 KiB tmpfs where the machine allows mounting one, and an injected
 *     ENOSPC everywhere): the previous complete state stays, the message says so, and a rerun
 *     finishes with the uninterrupted results;
 *   - the run-folder lock: a live holder is named and nothing is touched, a dead one's is taken over;
 *   - input checks: CIFAR record counts, --out '', strict seeds;
 *   - issue 24: checkpoints that pass the crc but not the sense (pos = zlen, lr, non-finite tensors,
 *     negative variances, num_batches_tracked), a "finished" manifest short of its stop rule, a lost
 *     or unreadable manifest beside a checkpoint, --name outside --out, the messages of its item 8;
 *     every refusal leaves the folder byte-identical, run.lock included.
 * The kill instants are drawn from a fixed seed (printed; ISB_FAULT_SEED=K draws others).
 * ISB_FAULT_TESTS=PATTERN runs only the tests whose names match (cmocka's filter, e.g. "*manifest*"). */
#include "testutil.h"
#include "util/env.h"
#include "data/dataset.h"
#include "results/checkpoint.h"
#include "results/run_lock.h"
#include "config/train_config.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/rng.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[256], data_dir[300], ref_dir[300];
static const char *exe;
static uint64_t fault_seed;
static double reference_s; /* how long the uninterrupted run took */

/* ---- helpers: data, running isbench, comparing run folders ------------------------------------ */

static void write_synthetic_cifar(const char *name, int records, uint64_t seed) {
    size_t rec = 3073, bytes = rec * (size_t)records;
    uint8_t *buf = malloc(bytes);
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < bytes; i++) buf[i] = (uint8_t)isb_rng_below(&r, 256);
    for (int i = 0; i < records; i++) buf[rec * (size_t)i] = (uint8_t)(i % 10);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    TEST_OK(isb_write_file_atomic(path, buf, bytes));
    free(buf);
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (long)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* A kill that must land on a resumable run: when `after_file` is set, run_isbench waits until that
 * file (the first checkpoint) exists, then kills after `fraction` of the time the reference run
 * had left at that point. The instants it used are recorded for the message. */
static struct {
    const char *after_file;
    double fraction;
    double file_at_s, killed_at_s; /* out: when the file appeared, when the kill was sent (-1: never) */
} kill_plan;

static void kill_when_planned(pid_t pid, const struct timespec *t0) {
    kill_plan.file_at_s = kill_plan.killed_at_s = -1;
    while (!isb_file_exists(kill_plan.after_file)) {
        siginfo_t info = {0};
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
            return; /* it ended first: no kill (the status is left for run_isbench's waitpid) */
        sleep_s(0.002);
    }
    kill_plan.file_at_s = seconds_since(t0);
    double left = reference_s - kill_plan.file_at_s;
    sleep_s(kill_plan.fraction * (left > 0 ? left : 0));
    kill_plan.killed_at_s = seconds_since(t0);
    kill(pid, SIGKILL);
}

/* Runs isbench with argv (NULL-terminated) and env assignments ("K=V", NULL-terminated); output to
 * root/log. kill_after_s > 0: SIGKILL after that long; kill_plan.after_file set: as kill_plan says.
 * Returns the exit code, or 128 + signal. */
static int run_isbench(const char *const *env, const char *const *argv, double kill_after_s) {
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char log[400];
    snprintf(log, sizeof log, "%s/log", root);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        for (int i = 0; env && env[i]; i++) putenv((char *)env[i]);
        const char *args[40] = {exe};
        int n = 1;
        for (int i = 0; argv[i] && n < 38; i++) args[n++] = argv[i];
        /* the device self-check is tested by tests/cli_check.d; here it would only cost time */
        if (strcmp(argv[0], "train") == 0 || strcmp(argv[0], "suite") == 0) args[n++] = "--skip-check";
        execv(exe, (char *const *)args);
        _exit(127);
    }
    if (kill_after_s > 0) {
        sleep_s(kill_after_s);
        kill(pid, SIGKILL);
    } else if (kill_plan.after_file) {
        kill_when_planned(pid, &t0);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static char *read_log(void) {
    char path[400], *text = NULL;
    snprintf(path, sizeof path, "%s/log", root);
    if (isb_read_file(path, &text, NULL) < 0) return strdup("");
    return text;
}

static void expect_log(const char *what, const char *needle) {
    char *log = read_log();
    if (!strstr(log, needle)) fail_msg("%s: the output lacks '%s':\n%s", what, needle, log);
    free(log);
}

/* `isbench train` of last-loss-aug (smoke, shrunk to 64 training images in batches of 16 so that
 * each of the ~40 runs here takes about a second) into out, plus extra arguments (NULL-ended). */
static int train_with(const char *const *env, const char *out, const char *const *extra, double kill_s) {
    const char *argv[32] = {"train", "--config", "last-loss-aug", "--preset", "smoke", "--data", data_dir,
                            "--train-subset", "64", "--test-subset", "20", "--batch", "16", "--out", out};
    int n = 15;
    for (int i = 0; extra[i] && n < 31; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    return run_isbench(env, argv, kill_s);
}

static int train(const char *const *env, const char *out, const char *e1, const char *e2, double kill_s) {
    const char *extra[] = {e1, e2, NULL};
    return train_with(env, out, extra, kill_s);
}

static void run_dir_of(char *buf, size_t size, const char *out) {
    snprintf(buf, size, "%s/smoke/last-loss-aug/seed-1", out);
}

static char *file_text(const char *dir, const char *name) {
    char path[1200], *text = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (isb_read_file(path, &text, NULL) < 0) fail_msg("%s", isb_last_error());
    return text;
}

/* metrics.csv without its wall_s column */
static char *metrics_without_wall(const char *dir) {
    char *text = file_text(dir, "metrics.csv"), *o = text;
    int field = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') field = 0;
        else if (*p == ',') field++;
        if (field != 2) *o++ = *p;
    }
    *o = '\0';
    return text;
}

/* The manifest without what differs between equal runs: times, resumes, where the files are, the
 * command line (its --out) and the load average. */
static json_t *manifest_without_times(const char *dir) {
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    if (!m) fail_msg("%s is missing or not JSON", path);
    const char *times[] = {"started", "updated", "ended", "resumed", "command", "load_average"};
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) json_object_del(m, times[i]);
    json_object_del(json_object_get(m, "progress"), "wall_s");
    return m;
}

/* Final results of the run in out equal the reference run's, and nothing is left behind. */
static void assert_same_as_reference(const char *what, const char *out) {
    char dir[400], ref[400];
    run_dir_of(dir, sizeof dir, out);
    run_dir_of(ref, sizeof ref, ref_dir);
    char *a = metrics_without_wall(dir), *b = metrics_without_wall(ref);
    if (strcmp(a, b) != 0) fail_msg("%s: metrics differ from the uninterrupted run:\n%s\nvs\n%s", what, a, b);
    free(a); free(b);
    a = file_text(dir, "scores_hist.csv"), b = file_text(ref, "scores_hist.csv");
    if (strcmp(a, b) != 0) fail_msg("%s: score histograms differ from the uninterrupted run", what);
    free(a); free(b);
    json_t *ma = manifest_without_times(dir), *mb = manifest_without_times(ref);
    if (!json_equal(ma, mb)) {
        char *ta = json_dumps(ma, JSON_INDENT(1)), *tb = json_dumps(mb, JSON_INDENT(1));
        fail_msg("%s: manifests differ:\n%s\nvs\n%s", what, ta, tb);
    }
    json_decref(ma); json_decref(mb);
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.") || strcmp(e->d_name, "checkpoint.isbc") == 0)
            fail_msg("%s: %s was left in the finished run folder", what, e->d_name);
    closedir(d);
}

static void fresh_out(char *out, size_t size, const char *name) {
    snprintf(out, size, "%s/%s", root, name);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    assert_int_equal(system(cmd), 0);
}

/* Every entry of a folder, run.lock included (a refusal must not even rewrite the lock), with its
 * name and bytes (a directory as its name, a symbolic link as its target): the "byte-identical
 * before and after" snapshot. */
static char *snapshot(const char *dir) {
    isb_strbuf b = {0};
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[1400], link[600];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (name[0] == '.') {
        } else if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
            ssize_t got = readlink(path, link, sizeof link - 1);
            link[got > 0 ? got : 0] = '\0';
            isb_strbuf_printf(&b, "== %s -> %s\n", name, link);
        } else if (S_ISDIR(st.st_mode)) {
            isb_strbuf_printf(&b, "== %s/\n", name);
        } else {
            char *text = NULL;
            size_t len = 0;
            TEST_OK(isb_read_file(path, &text, &len));
            isb_strbuf_printf(&b, "== %s %zu\n", name, len);
            for (size_t k = 0; k < len; k++) isb_strbuf_printf(&b, "%02x", (unsigned char)text[k]);
            free(text);
        }
        free(names[i]);
    }
    free(names);
    return b.data ? b.data : strdup("");
}

/* ---- setup: the data and the uninterrupted reference run ----------------------------------------- */

static int setup(void **state) {
    (void)state;
    exe = isb_env(ISB_ENV_EXE);
    if (!exe) exe = "../isbench";
    snprintf(root, sizeof root, "/tmp/isb_faults_XXXXXX");
    if (!mkdtemp(root)) return -1;
    snprintf(data_dir, sizeof data_dir, "%s/data", root);
    snprintf(ref_dir, sizeof ref_dir, "%s/ref", root);
    TEST_OK(isb_mkdir_p(data_dir));
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        write_synthetic_cifar(name, 60, (uint64_t)b);
    }
    write_synthetic_cifar("test_batch.bin", 100, 99);
    setenv("ISBENCH_DATA_ANY_SIZE", "1", 1); /* inherited by the children: the set is small */
    const char *s = getenv("ISB_FAULT_SEED");
    /* fixed by default, so that a failure repeats; ISB_FAULT_SEED=K explores other instants */
    fault_seed = s && *s ? strtoull(s, NULL, 10) : 1;
    printf("# fault instants: ISB_FAULT_SEED=%llu%s\n", (unsigned long long)fault_seed, s && *s ? "" : " (the default)");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = train(NULL, ref_dir, "--checkpoint-every", "0", 0);
    reference_s = seconds_since(&t0);
    if (rc != 0) {
        char *log = read_log();
        fprintf(stderr, "the reference run failed (exit %d):\n%s\n", rc, log);
        free(log);
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "umount '%s/tmpfs' 2>/dev/null; rm -rf '%s'", root, root); /* a failed tmpfs test */
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- (1) kills ------------------------------------------------------------------------------------ */

/* Reruns (without hooks) until the run finishes; each rerun must succeed. */
static void rerun_to_end(const char *what, const char *out) {
    int rc = train(NULL, out, "--checkpoint-every", "0", 0);
    if (rc != 0) {
        char *log = read_log();
        fail_msg("%s: the rerun failed (exit %d):\n%s", what, rc, log);
    }
}

/* Each kill proves itself: the run died of SIGKILL (exit 128 + 9) after its first checkpoint and
 * before its end (not finished, checkpoint there), and the rerun resumed from that checkpoint.
 * (Kills before the first checkpoint are sigkill_inside_the_write_phase's writes 1-4.) The instant
 * is planned from the reference run's length; a run that goes faster than that one (a quieter
 * machine, a warm kernel cache) can end first, so such a miss is retried at half the delay, and
 * only a kill that landed mid-run counts. */
static bool kill_once(const char *ckpt, const char *out, const char *dir, double fraction, char *what, size_t n) {
    kill_plan.after_file = ckpt;
    kill_plan.fraction = fraction;
    /* frequent periodic checkpoints, so some kills land inside or just after one */
    int rc = train(NULL, out, "--checkpoint-every", "0.3", 0);
    kill_plan.after_file = NULL;
    snprintf(what, n, "SIGKILL at %.2f s (first checkpoint at %.2f s, uninterrupted run %.2f s)",
             kill_plan.killed_at_s, kill_plan.file_at_s, reference_s);
    printf("# %s: exit %d\n", what, rc);
    if (rc == 0) return false; /* ended before the kill */
    if (rc != 128 + SIGKILL) fail_msg("%s: the run neither finished nor died of SIGKILL (exit %d)", what, rc);
    char *manifest = file_text(dir, "manifest.json");
    bool finished = strstr(manifest, "\"finished\"") != NULL; /* killed during its exit */
    free(manifest);
    return !finished;
}

static void sigkill_at_random_instants(void **state) {
    (void)state;
    isb_rng r = isb_rng_make(fault_seed, ISB_STREAM_TEST, 1);
    for (int k = 0; k < 3; k++) {
        char out[400], dir[450], ckpt[500], what[160];
        /* at most half of the time left, so that a loaded machine still kills before the end */
        double fraction = 0.5 * (double)isb_rng_below(&r, 1000) / 1000;
        bool mid_run = false;
        for (int attempt = 0; attempt < 5 && !mid_run; attempt++, fraction /= 2) {
            fresh_out(out, sizeof out, "kill");
            run_dir_of(dir, sizeof dir, out);
            snprintf(ckpt, sizeof ckpt, "%s/checkpoint.isbc", dir);
            mid_run = kill_once(ckpt, out, dir, fraction, what, sizeof what);
            if (!mid_run) printf("# the run ended before the kill: again at half the delay\n");
        }
        if (!mid_run) fail_msg("%s: five kills in a row landed after the run's end", what);
        assert_true(isb_file_exists(ckpt));
        rerun_to_end(what, out);
        expect_log(what, "resuming from");
        assert_same_as_reference(what, out);
    }
}

/* The atomic writes of a run without periodic checkpoints: 1-4 the initial files; 5 the checkpoint
 * of data epoch 1, 6-9 its files (manifest last); 10-13 the final files (13: the "finished"
 * manifest), after which the checkpoint is removed. */
static void sigkill_inside_the_write_phase(void **state) {
    (void)state;
    static const struct { const char *hook; int write; } kills[] = {
        {"ISBENCH_FAULT_KILL_IN_WRITE", 1},    {"ISBENCH_FAULT_KILL_IN_WRITE", 5},
        {"ISBENCH_FAULT_KILL_IN_WRITE", 8},    {"ISBENCH_FAULT_KILL_IN_WRITE", 13},
        {"ISBENCH_FAULT_KILL_AFTER_WRITE", 5}, {"ISBENCH_FAULT_KILL_AFTER_WRITE", 7},
        {"ISBENCH_FAULT_KILL_AFTER_WRITE", 12}, {"ISBENCH_FAULT_KILL_AFTER_WRITE", 13},
    };
    for (size_t i = 0; i < sizeof kills / sizeof kills[0]; i++) {
        char out[400], hook[80], what[96];
        fresh_out(out, sizeof out, "killw");
        snprintf(hook, sizeof hook, "%s=%d", kills[i].hook, kills[i].write);
        snprintf(what, sizeof what, "%s", hook);
        const char *env[] = {hook, NULL};
        int rc = train(env, out, "--checkpoint-every", "0", 0);
        if (rc != 128 + SIGKILL) fail_msg("%s: the run was not killed (exit %d): the write count changed?", what, rc);
        rerun_to_end(what, out);
        assert_same_as_reference(what, out);
    }
}

/* ---- (2) a checkpoint that cannot be resumed: refused, nothing changed --------------------------- */

/* An interrupted run (stop after `step`; 4 steps make a data epoch, so step 3 is mid-epoch 1 and
 * step 5 mid-epoch 2) in out/.../seed-1. */
static void interrupted_run_at(char *out, size_t size, const char *name, const char *width, const char *step) {
    fresh_out(out, size, name);
    const char *extra[] = {"--stop-after-step", step, "--width", width, NULL};
    int rc = train_with(NULL, out, extra, 0);
    if (rc != 130) fail_msg("the interrupted run exited %d, expected 130", rc);
}

static void interrupted_run(char *out, size_t size, const char *name, const char *width) {
    interrupted_run_at(out, size, name, width, "3");
}

/* interrupted_run at width 4, and the path of its checkpoint into ck. */
static void interrupted_checkpoint(char *out, size_t size, const char *name, char *ck, size_t ck_size) {
    char dir[600];
    interrupted_run(out, size, name, "4");
    run_dir_of(dir, sizeof dir, out);
    snprintf(ck, ck_size, "%s/checkpoint.isbc", dir);
}

/* The same command with extra arguments is refused naming `needle`, and the run folder, run.lock
 * included, is byte-identical afterwards. */
static void expect_refusal_with(const char *what, const char *out, const char *const *extra, const char *needle) {
    char dir[600];
    run_dir_of(dir, sizeof dir, out);
    char *before = snapshot(dir);
    int rc = train_with(NULL, out, extra, 0);
    if (rc == 0 || rc >= 128) fail_msg("%s: accepted or crashed (exit %d)", what, rc);
    expect_log(what, needle);
    expect_log(what, "nothing was changed");
    char *after = snapshot(dir);
    if (strcmp(before, after) != 0)
        fail_msg("%s: the run folder changed although the resume was refused:\n%.600s\nvs\n%.600s", what, before, after);
    free(before);
    free(after);
}

static void expect_refusal(const char *what, const char *out, const char *needle) {
    const char *extra[] = {"--checkpoint-every", "0", NULL};
    expect_refusal_with(what, out, extra, needle);
}

static void put_file(const char *path, const char *data, size_t len) { TEST_OK(isb_write_file_atomic(path, data, len)); }

/* Rewrites one i64 scalar of a checkpoint, with a valid checksum. */
static void set_counter(const char *path, const char *name, int64_t value) {
    isb_checkpoint ck;
    TEST_OK(isb_checkpoint_read(&ck, path));
    bool found = false;
    for (int i = 0; i < ck.count; i++)
        if (strcmp(ck.tensors[i].name, name) == 0) *(int64_t *)ck.tensors[i].data = value, found = true;
    if (!found) fail_msg("the checkpoint has no %s", name);
    TEST_OK(isb_checkpoint_write(&ck, path));
    isb_checkpoint_free(&ck);
}

static void corrupt_or_foreign_checkpoints_refused(void **state) {
    (void)state;
    char out[400], other[400], dir[600], ck[700], other_ck[700];
    interrupted_run(other, sizeof other, "other", "8"); /* another width: another run */
    interrupted_checkpoint(out, sizeof out, "corrupt", ck, sizeof ck);
    run_dir_of(dir, sizeof dir, other);
    snprintf(other_ck, sizeof other_ck, "%s/checkpoint.isbc", dir);
    char *good, *foreign;
    size_t len, foreign_len;
    TEST_OK(isb_read_file(ck, &good, &len));
    TEST_OK(isb_read_file(other_ck, &foreign, &foreign_len));

    isb_rng r = isb_rng_make(fault_seed, ISB_STREAM_TEST, 2);
    for (int k = 0; k < 3; k++) {
        char *copy = malloc(len), what[64];
        memcpy(copy, good, len);
        size_t at = (size_t)isb_rng_below(&r, len);
        copy[at] ^= (char)(1 + isb_rng_below(&r, 255));
        put_file(ck, copy, len);
        free(copy);
        snprintf(what, sizeof what, "byte %zu flipped", at);
        expect_refusal(what, out, "corrupt");
    }
    put_file(ck, good, len / 2);
    expect_refusal("truncated to half", out, "corrupt");
    put_file(ck, good, len - 1);
    expect_refusal("one byte short", out, "corrupt");
    put_file(ck, foreign, foreign_len);
    expect_refusal("another width's checkpoint", out, "configuration.width is 8 there, 4 here");
    /* counters out of range, with a valid checksum: the crashes and the endless run of issue 11 */
    static const struct { const char *name; int64_t value; } bad[] = {
        {"train/state/data_epochs", 257}, {"train/state/data_epochs", -1}, {"train/state/zlen", -5},
        {"train/state/samples_seen", -((int64_t)1 << 62)}, {"train/state/pos", 1 << 30},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_file(ck, good, len);
        set_counter(ck, bad[i].name, bad[i].value);
        char what[96];
        snprintf(what, sizeof what, "%s = %lld", bad[i].name, (long long)bad[i].value);
        expect_refusal(what, out, "is outside [");
    }
    /* the untouched checkpoint still resumes, to the uninterrupted results */
    put_file(ck, good, len);
    assert_int_equal(train(NULL, out, "--checkpoint-every", "0", 0), 0);
    expect_log("the good checkpoint", "resuming from");
    assert_same_as_reference("the good checkpoint", out);
    free(good);
    free(foreign);
}

/* --restart moves a refused run aside (never deletes it) and starts over. */
static void restart_moves_the_old_run_aside(void **state) {
    (void)state;
    char out[400], dir[600], ck[700];
    interrupted_checkpoint(out, sizeof out, "restart", ck, sizeof ck);
    run_dir_of(dir, sizeof dir, out);
    put_file(ck, "garbage", 7);
    assert_int_not_equal(train(NULL, out, "--checkpoint-every", "0", 0), 0);
    assert_int_equal(train(NULL, out, "--restart", NULL, 0), 0);
    expect_log("--restart", "the old run is kept in");
    char cmd[800];
    snprintf(cmd, sizeof cmd, "test \"$(cat %s.old-*/checkpoint.isbc)\" = garbage", dir);
    assert_int_equal(system(cmd), 0);
    assert_same_as_reference("--restart", out);
}

/* ---- (4) a full disk ------------------------------------------------------------------------------ */

/* After a failed write: the files of the start (no rows), status running, no temporary file left;
 * then a rerun (with room again) finishes with the uninterrupted results. */
static void assert_start_state_then_rerun(const char *what, const char *out, void (*make_room)(const char *)) {
    char dir[600];
    run_dir_of(dir, sizeof dir, out);
    expect_log(what, "No space left on device");
    expect_log(what, "hold the last complete state");
    char *metrics = file_text(dir, "metrics.csv");
    assert_string_equal(metrics, "data_epoch,samples_seen,wall_s,lr,train_loss,train_acc,test_loss,test_acc\n");
    free(metrics);
    json_t *m = manifest_without_times(dir);
    assert_string_equal(json_string_value(json_object_get(m, "status")), "running");
    json_decref(m);
    char *snap = snapshot(dir);
    if (strstr(snap, ".tmp.")) fail_msg("%s: a temporary file was left", what);
    free(snap);
    if (make_room) make_room(out);
    rerun_to_end(what, out);
    assert_same_as_reference(what, out);
}

static void full_disk_keeps_the_previous_state(void **state) {
    (void)state;
    /* write 6 = metrics.csv of data epoch 1, just after its checkpoint (5); write 5 = that checkpoint */
    for (int write = 5; write <= 6; write++) {
        char out[400], hook[64], what[64];
        fresh_out(out, sizeof out, "full");
        snprintf(hook, sizeof hook, "ISBENCH_FAULT_WRITE_FAIL=%d", write);
        snprintf(what, sizeof what, "disk full at write %d", write);
        const char *env[] = {hook, NULL};
        int rc = train(env, out, "--checkpoint-every", "0", 0);
        if (rc == 0 || rc >= 128) fail_msg("%s: exit %d", what, rc);
        assert_start_state_then_rerun(what, out, NULL);
    }
}

static void grow_tmpfs(const char *out) {
    char cmd[500];
    snprintf(cmd, sizeof cmd, "mount -o remount,size=16m '%s'", out);
    assert_int_equal(system(cmd), 0);
}

/* The same on a real full file system where the machine allows it (root, tmpfs): a 128 KiB tmpfs
 * holds the first files but not the checkpoint of data epoch 1 (about 380 KB at width 4). */
static void needs_root_tmpfs_full_keeps_the_previous_state(void **state) {
    (void)state;
    char out[400], cmd[600];
    fresh_out(out, sizeof out, "tmpfs");
    TEST_OK(isb_mkdir_p(out));
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=128k tmpfs '%s' 2>/dev/null", out);
    if (getuid() != 0 || system(cmd) != 0)
        test_skip("a real full tmpfs needs root and mount -t tmpfs (the injected full disk runs everywhere)");
    int rc = train(NULL, out, "--checkpoint-every", "0", 0);
    if (rc == 0 || rc >= 128) fail_msg("a full tmpfs: exit %d", rc);
    assert_start_state_then_rerun("a full tmpfs", out, grow_tmpfs);
    snprintf(cmd, sizeof cmd, "umount '%s'", out);
    assert_int_equal(system(cmd), 0);
}

/* ---- the lock ---------------------------------------------------------------------------------------- */

static void run_lock_names_a_live_holder_and_takes_over_a_dead_one(void **state) {
    (void)state;
    char out[400], dir[600];
    interrupted_run(out, sizeof out, "lock", "4");
    run_dir_of(dir, sizeof dir, out);
    isb_run_lock held;
    TEST_OK(isb_run_lock_take(&held, dir));
    char *before = snapshot(dir), pid[32];
    int rc = train(NULL, out, NULL, NULL, 0);
    assert_int_not_equal(rc, 0);
    snprintf(pid, sizeof pid, "PID and host: %ld ", (long)getpid());
    expect_log("a live lock", pid);
    char *after = snapshot(dir);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* in this process too: a second take fails while the first holds it */
    isb_run_lock second;
    assert_int_equal(isb_run_lock_take(&second, dir), ISB_ERR_USAGE);
    isb_run_lock_release(&held);
    /* a lock file left by a process that is gone (no flock held): taken over */
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, ISB_RUN_LOCK_FILE);
    put_file(path, "999999999 deadhost\n", 19);
    assert_int_equal(train(NULL, out, NULL, NULL, 0), 0);
    assert_same_as_reference("after a stale lock", out);
}

/* ---- input checks ------------------------------------------------------------------------------------ */

static void inputs_refused(void **state) {
    (void)state;
    assert_int_equal(train(NULL, "", NULL, NULL, 0), 2);
    expect_log("--out ''", "--out needs a value (DIR), got ''");
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "smoke", "uniform-aug"));
    const char *bad_seeds[] = {"9223372036854775808", " -1", "-1", "+1", " 1", "1 ", "", "18446744073709551615",
                               "99999999999999999999999", "0x10", "1e3"};
    for (size_t i = 0; i < sizeof bad_seeds / sizeof bad_seeds[0]; i++)
        if (isb_train_config_set(&c, "seed", bad_seeds[i]) != ISB_ERR_USAGE)
            fail_msg("seed '%s' was accepted", bad_seeds[i]);
    TEST_OK(isb_train_config_set(&c, "seed", "9223372036854775807"));
    assert_true(c.seed == 9223372036854775807ull);
    TEST_OK(isb_train_config_set(&c, "seed", "0"));
    assert_true(c.seed == 0);
    /* CIFAR files must hold their official record counts (this set has 60 per batch file) */
    unsetenv("ISBENCH_DATA_ANY_SIZE");
    isb_dataset d = {0};
    int rc = isb_dataset_load(&d, "cifar10", data_dir, true, 0, 0);
    setenv("ISBENCH_DATA_ANY_SIZE", "1", 1);
    assert_int_equal(rc, ISB_ERR_FORMAT);
    assert_non_null(strstr(isb_last_error(), "holds 60 records"));
    assert_non_null(strstr(isb_last_error(), "exactly 10000"));
}

/* ---- issue 24: checkpoints that pass the crc but not the sense, manifests that contradict -------- */

static void put_tensor_value(const char *path, const char *name, int64_t index, double value, bool as_bits) {
    isb_checkpoint ck;
    TEST_OK(isb_checkpoint_read(&ck, path));
    const isb_tensor *t = isb_checkpoint_find(&ck, name);
    if (!t || index >= isb_tensor_numel(t)) fail_msg("the checkpoint has no %s[%lld]", name, (long long)index);
    if (t->dtype == ISB_DTYPE_F32) ((float *)t->data)[index] = (float)value;
    else if (as_bits) memcpy((int64_t *)t->data + index, &value, sizeof value);
    else ((int64_t *)t->data)[index] = (int64_t)value;
    TEST_OK(isb_checkpoint_write(&ck, path));
    isb_checkpoint_free(&ck);
}

static int64_t tensor_i64(const char *path, const char *name) {
    isb_checkpoint ck;
    TEST_OK(isb_checkpoint_read(&ck, path));
    const isb_tensor *t = isb_checkpoint_find(&ck, name);
    if (!t || t->dtype != ISB_DTYPE_I64) fail_msg("the checkpoint has no i64 %s", name);
    int64_t v = *(const int64_t *)t->data;
    isb_checkpoint_free(&ck);
    return v;
}

/* Cases 1-3, 7 and num_batches_tracked of issue 24: each field changed behind a valid crc is
 * refused naming it, before anything is uploaded or written: the folder, run.lock included, stays
 * byte-identical, and the good checkpoint still resumes to the uninterrupted results. */
static void nonsense_behind_a_valid_crc_refused(void **state) {
    (void)state;
    char out[400], ck[700];
    interrupted_checkpoint(out, sizeof out, "sense", ck, sizeof ck);
    char *good;
    size_t len;
    TEST_OK(isb_read_file(ck, &good, &len));
    double zlen = (double)tensor_i64(ck, "train/state/zlen");
    assert_true(zlen > 0);
    static const struct {
        const char *name;
        int64_t index;
        double value;
        bool as_bits; /* a double stored as its bits (the state's floating-point fields) */
        const char *needle;
    } bad[] = {
        {"train/state/pos", 0, -1, false, "pos"}, /* value: zlen, set below */
        {"train/state/lr", 0, 1e300, true, "lr"},
        {"train/state/lr", 0, 0.5, true, "lr"},         /* in range, but not the schedule's lr */
        {"fc.weight", 3, NAN, false, "fc.weight"},
        {"momentum/fc.weight", 0, INFINITY, false, "momentum/fc.weight"},
        {"b1.running_var", 1, -0.5, false, "b1.running_var"},
        {"blocks.0.b1.running_mean", 0, NAN, false, "blocks.0.b1.running_mean"},
        {"b1.num_batches_tracked", 0, -7, false, "num_batches_tracked"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        put_file(ck, good, len);
        put_tensor_value(ck, bad[i].name, bad[i].index, i == 0 ? zlen : bad[i].value, bad[i].as_bits);
        char what[128];
        snprintf(what, sizeof what, "%s[%lld] = %g", bad[i].name, (long long)bad[i].index, i == 0 ? zlen : bad[i].value);
        expect_refusal(what, out, bad[i].needle);
    }
    put_file(ck, good, len);
    assert_int_equal(train(NULL, out, "--checkpoint-every", "0", 0), 0);
    expect_log("the good checkpoint", "resuming from");
    assert_same_as_reference("the good checkpoint", out);
    free(good);
}

static void edit_manifest(const char *dir, const char *key, json_t *value) {
    char path[700];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    assert_non_null(m);
    json_object_set_new(m, key, value);
    assert_int_equal(json_dump_file(m, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER), 0);
    json_decref(m);
}

/* Case 4: a manifest edited to "finished" with epochs left is refused naming the contradiction,
 * and the checkpoint (the only resume state) is kept. */
static void finished_manifest_short_of_its_stop_rule_refused(void **state) {
    (void)state;
    char out[400], dir[600];
    interrupted_run_at(out, sizeof out, "short", "4", "5"); /* data epoch 1 of 2 done */
    run_dir_of(dir, sizeof dir, out);
    edit_manifest(dir, "status", json_string("finished"));
    expect_refusal("a finished manifest with 1 of 2 data epochs", out, "short of its stop rule");
    char ck[700];
    snprintf(ck, sizeof ck, "%s/checkpoint.isbc", dir);
    assert_true(isb_file_exists(ck));
}

/* Case 5: no manifest (or one that cannot be read) beside a checkpoint of this run resumes from the
 * checkpoint and says so; beside another run's checkpoint it is refused. */
static void lost_manifest_resumes_from_a_matching_checkpoint(void **state) {
    (void)state;
    char out[400], other[400], dir[600], path[700], other_ck[700];
    for (int loop = 0; loop <= 1; loop++) {
        interrupted_run(out, sizeof out, "lost", "4");
        run_dir_of(dir, sizeof dir, out);
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        assert_int_equal(unlink(path), 0);
        if (loop) assert_int_equal(symlink("manifest.json", path), 0);
        const char *what = loop ? "a manifest that is a symlink loop" : "a missing manifest";
        assert_int_equal(train(NULL, out, "--checkpoint-every", "0", 0), 0);
        expect_log(what, "resuming from");
        expect_log(what, "manifest.json");
        assert_same_as_reference(what, out);
    }
    interrupted_run(other, sizeof other, "lost-other", "8");
    run_dir_of(dir, sizeof dir, other);
    snprintf(other_ck, sizeof other_ck, "%s/checkpoint.isbc", dir);
    interrupted_run(out, sizeof out, "lost", "4");
    run_dir_of(dir, sizeof dir, out);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    assert_int_equal(unlink(path), 0);
    char *foreign;
    size_t len;
    TEST_OK(isb_read_file(other_ck, &foreign, &len));
    snprintf(path, sizeof path, "%s/checkpoint.isbc", dir);
    put_file(path, foreign, len);
    free(foreign);
    expect_refusal("no manifest beside another run's checkpoint", out, "configuration.width is 8 there, 4 here");
}

/* Case 6: --name is one path component; nothing is written outside --out. */
static void run_names_stay_inside_out(void **state) {
    (void)state;
    char base[400], out[500], cmd[1100];
    fresh_out(base, sizeof base, "names");
    snprintf(out, sizeof out, "%s/out", base);
    TEST_OK(isb_mkdir_p(out));
    const char *names[] = {"../escape", "../escape", "..", "", "/tmp/abs"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *extra[] = {"--name", names[i], NULL};
        const char *argv[] = {"suite", "--preset", "smoke", "--configs", "last-loss-aug", "--data", data_dir,
                              "--train-subset", "64", "--test-subset", "20", "--batch", "16", "--out", out,
                              "--name", names[i], NULL};
        /* train for each name; suite (the same check, in the suite runner) for the first */
        int rc = i == 0 ? run_isbench(NULL, argv, 0) : train_with(NULL, out, extra, 0);
        char what[64];
        snprintf(what, sizeof what, "%s --name '%s'", i == 0 ? "suite" : "train", names[i]);
        if (rc == 0 || rc >= 128) fail_msg("%s: accepted or crashed (exit %d)", what, rc);
        expect_log(what, "--name");
        /* nothing beside --out, nothing in it */
        snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = out && test -z \"$(ls -A '%s')\"", base, out);
        if (system(cmd) != 0) fail_msg("%s: something was written outside --out or into it", what);
    }
}

/* Case 8 and the resume-mismatch message of issue 23: messages that name the real problem. */
static void refusals_name_the_real_problem(void **state) {
    (void)state;
    char out[400], dir[600], path[700];
    interrupted_run(out, sizeof out, "names", "4");
    run_dir_of(dir, sizeof dir, out);
    const char *width3[] = {"--width", "3", NULL};
    expect_refusal_with("another width in the same folder", out, width3, "width is 4 there, 3 here");
    expect_log("another width in the same folder", "--restart");
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0755), 0);
    expect_refusal("a directory named manifest.json", out, "is a directory");

    interrupted_run_at(out, sizeof out, "names", "4", "5"); /* data epoch 1 done: the manifest counts it */
    snprintf(path, sizeof path, "%s/checkpoint.isbc", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(symlink("checkpoint.isbc", path), 0);
    expect_refusal("a checkpoint that is a symlink loop", out, "symbolic link");
}

/* ENOSPC on the first and the last write gives the advice the middle writes give. */
static void full_disk_on_the_first_and_last_write_advises(void **state) {
    (void)state;
    static const int writes[] = {1, 13};
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
        char out[400], hook[64], what[64];
        fresh_out(out, sizeof out, "full-ends");
        snprintf(hook, sizeof hook, "ISBENCH_FAULT_WRITE_FAIL=%d", writes[i]);
        snprintf(what, sizeof what, "disk full at write %d", writes[i]);
        const char *env[] = {hook, NULL};
        int rc = train(env, out, "--checkpoint-every", "0", 0);
        if (rc == 0 || rc >= 128) fail_msg("%s: exit %d", what, rc);
        expect_log(what, "No space left on device");
        expect_log(what, "free space and run the same command again");
        rerun_to_end(what, out);
        assert_same_as_reference(what, out);
    }
}

/* Two plain suites on one folder: a run the other suite holds (here: this test holds its lock) is
 * listed with the status its manifest records, not as "failed, 0 epochs". */
static void suite_summary_takes_the_status_from_the_manifest(void **state) {
    (void)state;
    char out[400], dir[600], ref[600], cmd[2000];
    fresh_out(out, sizeof out, "two-suites");
    run_dir_of(dir, sizeof dir, out);
    run_dir_of(ref, sizeof ref, ref_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp -a '%s/.' '%s/'", dir, ref, dir);
    assert_int_equal(system(cmd), 0);
    isb_run_lock held;
    TEST_OK(isb_run_lock_take(&held, dir));
    char *before = snapshot(dir);
    const char *argv[] = {"suite", "--preset", "smoke", "--configs", "last-loss-aug", "--data", data_dir,
                          "--train-subset", "64", "--test-subset", "20", "--batch", "16", "--out", out, NULL};
    int rc = run_isbench(NULL, argv, 0);
    char *after = snapshot(dir);
    isb_run_lock_release(&held);
    if (strcmp(before, after) != 0) fail_msg("the suite changed a run folder another process holds");
    free(before);
    free(after);
    if (rc >= 128) fail_msg("the suite crashed (exit %d)", rc);
    char *log = read_log(), *line = strstr(log, "\nlast-loss-aug ");
    char status[32] = "";
    int seed = 0, epochs = -1;
    if (!line || sscanf(line + 1, "last-loss-aug %d %31s %d", &seed, status, &epochs) != 3)
        fail_msg("no summary line for last-loss-aug:\n%s", log);
    if (strcmp(status, "finished") != 0 || epochs != 2)
        fail_msg("the summary lists the run as %s with %d epochs; its manifest says finished, 2:\n%s", status, epochs,
                 log);
    free(log);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inputs_refused),
        cmocka_unit_test(corrupt_or_foreign_checkpoints_refused),
        cmocka_unit_test(run_lock_names_a_live_holder_and_takes_over_a_dead_one),
        cmocka_unit_test(full_disk_keeps_the_previous_state),
        cmocka_unit_test(needs_root_tmpfs_full_keeps_the_previous_state),
        cmocka_unit_test(sigkill_inside_the_write_phase),
        cmocka_unit_test(sigkill_at_random_instants),
        cmocka_unit_test(restart_moves_the_old_run_aside),
        cmocka_unit_test(nonsense_behind_a_valid_crc_refused),
        cmocka_unit_test(finished_manifest_short_of_its_stop_rule_refused),
        cmocka_unit_test(lost_manifest_resumes_from_a_matching_checkpoint),
        cmocka_unit_test(run_names_stay_inside_out),
        cmocka_unit_test(refusals_name_the_real_problem),
        cmocka_unit_test(full_disk_on_the_first_and_last_write_advises),
        cmocka_unit_test(suite_summary_takes_the_status_from_the_manifest),
    };
    if (getenv("ISB_FAULT_TESTS")) cmocka_set_test_filter(getenv("ISB_FAULT_TESTS")); /* e.g. "*manifest*" */
    return TEST_RUN_GROUP(tests, setup, teardown); /* ISBENCH_TEST_FILTER does the same */
}
