/* Suite runner (see suite.h). */
#include "suite/suite.h"
#include "data/dataset.h"
#include "results/run_files.h"
#include "results/run_lock.h"
#include "train/train.h"
#include "util/error.h"
#include "util/timer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char *const *suite_configs(const isb_suite_options *o, int *n) {
    int n_all;
    const char *const *all = isb_train_config_names(&n_all);
    *n = o->configs ? o->n_configs : n_all;
    return o->configs ? o->configs : all;
}

static const char *suite_name(const isb_suite_options *o) { return o->name ? o->name : o->preset; }

int isb_suite_size(const isb_suite_options *o) {
    int n;
    suite_configs(o, &n);
    return n * o->seeds;
}

void isb_suite_entry_at(const isb_suite_options *o, int index, isb_suite_entry *e) {
    int n;
    const char *const *names = suite_configs(o, &n);
    e->index = index;
    e->config = names[index % n];
    e->seed = index / n + 1;
    isb_run_dir_path(e->dir, sizeof e->dir, o->out, suite_name(o), e->config, (uint64_t)e->seed);
}

bool isb_suite_selected(const isb_suite_options *o, int index) {
    if (o->has_task) return index == o->task;
    return o->shard_count <= 1 || index % o->shard_count == o->shard_index;
}

/* A whole decimal number in [0, INT_MAX) ending at *end. */
static bool parse_count(const char *s, char **end, long *v) {
    if (*s < '0' || *s > '9') return false;
    errno = 0;
    *v = strtol(s, end, 10);
    return errno == 0 && *v < 1000000;
}

int isb_suite_parse_shard(const char *text, int *index, int *count) {
    char *end;
    long i, n;
    if (!parse_count(text, &end, &i) || *end != '/' || !parse_count(end + 1, &end, &n) || *end != '\0')
        return isb_fail(ISB_ERR_USAGE, "--shard takes I/N (shard I of N, counted from 0: 0/4, 1/4, 2/4, 3/4), got '%s'",
                        text);
    if (n < 1) return isb_fail(ISB_ERR_USAGE, "--shard %s: the number of shards N must be at least 1", text);
    if (i >= n)
        return isb_fail(ISB_ERR_USAGE, "--shard %s: shard index %ld is out of range: shards of %ld are 0/%ld .. %ld/%ld",
                        text, i, n, n, n - 1, n);
    *index = (int)i;
    *count = (int)n;
    return ISB_OK;
}

int isb_suite_check_selection(const isb_suite_options *o) {
    int m = isb_suite_size(o);
    if (o->has_task && (o->task < 0 || o->task >= m))
        return isb_fail(ISB_ERR_USAGE, "--task %d is out of range: this suite has %d runs, 0..%d (see --list)", o->task, m,
                        m - 1);
    return ISB_OK;
}

/* Whether a process holds DIR/run.lock now: a shared flock on a read-only descriptor is refused
 * only while the writer's exclusive lock is held (the kernel drops it when the holder dies). */
static bool lock_held(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, ISB_RUN_LOCK_FILE);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd); /* drops our shared lock, if taken */
    return held;
}

void isb_suite_run_status(const char *dir, char *status, size_t size) {
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    const char *s = json_string_value(json_object_get(m, "status"));
    /* "running" in the manifest of a folder nobody holds: its writer died (SIGKILL, OOM, power) */
    if (s && strcmp(s, "running") == 0 && !lock_held(dir)) s = "interrupted";
    snprintf(status, size, "%s", s ? s : m ? "unknown" : "new");
    json_decref(m);
}

void isb_suite_list(const isb_suite_options *o, FILE *out) {
    fprintf(out, "index\tconfig\tseed\tfolder\tstatus\n");
    for (int j = 0; j < isb_suite_size(o); j++) {
        if (!isb_suite_selected(o, j)) continue;
        isb_suite_entry e;
        char status[32];
        isb_suite_entry_at(o, j, &e);
        isb_suite_run_status(e.dir, status, sizeof status);
        fprintf(out, "%d\t%s\t%d\t%s\t%s\n", j, e.config, e.seed, e.dir, status);
    }
}

/* The configurations made and checked against the training set of the opened env. */
static int make_configs(isb_train_env *env, isb_ocl *ocl, const isb_suite_options *o, isb_train_config **out) {
    int n, rc = ISB_OK;
    const char *const *names = suite_configs(o, &n);
    isb_train_config *cfgs = calloc((size_t)n, sizeof *cfgs);
    if (!cfgs) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < n; i++) {
        rc = isb_train_config_make(&cfgs[i], o->preset, names[i], o->overrides, o->n_overrides);
        if (rc < 0) goto done;
    }
    rc = isb_train_env_open(env, ocl, &cfgs[0], isb_data_dir(o->data_dir, cfgs[0].dataset));
    env->policy = o->policy;
    for (int i = 0; rc >= 0 && i < n; i++) rc = isb_train_config_validate(&cfgs[i], env->train.n); /* |Z| vs N */
done:
    if (rc < 0) {
        free(cfgs);
        cfgs = NULL;
    }
    *out = cfgs;
    return rc;
}

static void print_summary(const isb_suite_options *o, const int *runs, int k, const int *status,
                          const isb_run_result *res, double wall) {
    printf("\nsuite %s (preset %s) in %s/%s: %.1f s\n", suite_name(o), o->preset, o->out, suite_name(o), wall);
    printf("%-20s %5s %-12s %7s %10s %9s %9s %9s\n", "config", "seed", "status", "epochs", "samples", "last_acc",
           "best_acc", "wall_s");
    for (int j = 0; j < k; j++) {
        isb_suite_entry e;
        isb_suite_entry_at(o, runs[j], &e);
        const char *st = status[j] == ISB_ERR_INTERRUPTED ? "interrupted"
                         : status[j] < 0                 ? "failed"
                         : res[j].skipped                ? "skipped"
                                                         : "finished";
        if (res[j].skipped)
            printf("%-20s %5d %-12s (see its manifest.json)\n", e.config, e.seed, st);
        else
            printf("%-20s %5d %-12s %7d %10" PRId64 " %9.4f %9.4f %9.1f\n", e.config, e.seed, st, res[j].data_epochs,
                   res[j].samples_seen, res[j].last_test_acc, res[j].best_test_acc, res[j].wall_s);
    }
}

int isb_suite_run(isb_ocl *ocl, const isb_suite_options *o) {
    if (o->seeds < 1) return isb_fail(ISB_ERR_USAGE, "--seeds must be >= 1, got %d", o->seeds);
    ISB_TRY(isb_suite_check_selection(o));
    int n, total = isb_suite_size(o), k = 0, first_failure = 0;
    suite_configs(o, &n);
    isb_train_env env = {0};
    isb_train_config *cfgs = NULL;
    isb_run_result *res = calloc((size_t)total, sizeof *res);
    int *status = calloc((size_t)total, sizeof *status), *runs = calloc((size_t)total, sizeof *runs);
    int rc = res && status && runs ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory for the results of %d runs", total);
    if (rc < 0) goto done;
    rc = make_configs(&env, ocl, o, &cfgs);
    if (rc < 0) goto done;

    double t0 = isb_now();
    for (int j = 0; j < total && rc != ISB_ERR_INTERRUPTED; j++) {
        if (!isb_suite_selected(o, j)) continue;
        isb_suite_entry e;
        isb_suite_entry_at(o, j, &e);
        isb_train_config c = cfgs[j % n];
        c.seed = (uint64_t)e.seed;
        char label[96];
        snprintf(label, sizeof label, "%s seed %d (%d/%d)", c.name, e.seed, j + 1, total);
        rc = isb_train_run(&env, &c, e.dir, suite_name(o), label, &res[k]);
        runs[k] = j;
        status[k++] = rc;
        if (rc < 0 && rc != ISB_ERR_INTERRUPTED) {
            fprintf(stderr, "[%s] failed: %s\n", label, isb_last_error());
            if (!first_failure) first_failure = rc;
        }
    }
    print_summary(o, runs, k, status, res, isb_now() - t0);
    if (rc != ISB_ERR_INTERRUPTED && first_failure)
        rc = isb_fail(first_failure, "some runs of the suite failed (see above and their manifests)");
    else if (rc != ISB_ERR_INTERRUPTED)
        rc = ISB_OK;
done:
    free(cfgs);
    isb_train_env_close(&env);
    free(runs);
    free(status);
    free(res);
    return rc;
}
