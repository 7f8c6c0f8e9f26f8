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
#include <math.h>
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

/* What a run's manifest.json records: its status as isb_suite_run_status gives it, and its progress
 * (data_epochs -1 when none). */
typedef struct {
    char status[32];
    int data_epochs;
    int64_t samples_seen;
    double last_acc, best_acc, wall_s; /* NAN before the first evaluation */
} run_record;

static void read_run_record(const char *dir, run_record *rec) {
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_t *m = json_load_file(path, 0, NULL);
    const char *s = json_string_value(json_object_get(m, "status"));
    /* "running" in the manifest of a folder nobody holds: its writer died (SIGKILL, OOM, power) */
    if (s && strcmp(s, "running") == 0 && !lock_held(dir)) s = "interrupted";
    snprintf(rec->status, sizeof rec->status, "%s", s ? s : m ? "unknown" : "new");
    json_t *p = json_object_get(m, "progress"), *f = json_object_get(m, "final");
    rec->data_epochs = json_is_integer(json_object_get(p, "data_epochs"))
                           ? (int)json_integer_value(json_object_get(p, "data_epochs")) : -1;
    rec->samples_seen = json_integer_value(json_object_get(p, "samples_seen"));
    rec->wall_s = json_number_value(json_object_get(p, "wall_s"));
    json_t *last = json_object_get(f, "last_test_acc"), *best = json_object_get(f, "best_test_acc");
    rec->last_acc = json_is_number(last) ? json_number_value(last) : NAN;
    rec->best_acc = json_is_number(best) ? json_number_value(best) : NAN;
    json_decref(m);
}

void isb_suite_run_status(const char *dir, char *status, size_t size) {
    run_record rec;
    read_run_record(dir, &rec);
    snprintf(status, size, "%s", rec.status);
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
    for (int i = 0; i < n; i++) ISB_CHECK(isb_train_config_make(&cfgs[i], o->preset, names[i], o->overrides, o->n_overrides));
    ISB_CHECK(isb_train_env_open(env, ocl, &cfgs[0], isb_data_dir(o->data_dir, cfgs[0].dataset)));
    env->policy = o->policy;
    snprintf(env->check, sizeof env->check, "%s", o->check_verdict ? o->check_verdict : "not run");
    for (int i = 0; i < n; i++) ISB_CHECK(isb_train_config_validate(&cfgs[i], env->train.n)); /* |Z| vs N */
done:
    if (rc < 0) {
        free(cfgs);
        cfgs = NULL;
    }
    *out = cfgs;
    return rc;
}

/* One line per run, from its manifest (another process may have run it meanwhile), with what
 * happened to it in this process when that differs from a plain run. */
static void print_summary(const isb_suite_options *o, const int *runs, int k, const int *status,
                          const isb_run_result *res, double wall) {
    printf("\nsuite %s (preset %s) in %s/%s: %.1f s\n", suite_name(o), o->preset, o->out, suite_name(o), wall);
    printf("%-20s %5s %-12s %7s %10s %9s %9s %9s\n", "config", "seed", "status", "epochs", "samples", "last_acc",
           "best_acc", "wall_s");
    for (int j = 0; j < k; j++) {
        isb_suite_entry e;
        run_record rec;
        isb_suite_entry_at(o, runs[j], &e);
        read_run_record(e.dir, &rec);
        const char *here = status[j] == ISB_ERR_INTERRUPTED ? "" : status[j] < 0 ? "  (this process: refused or failed, "
                           "see above)" : res[j].skipped ? "  (skipped: finished before)" : "";
        if (rec.data_epochs < 0)
            printf("%-20s %5d %-12s %7s %10s %9s %9s %9s%s\n", e.config, e.seed, rec.status, "-", "-", "-", "-", "-",
                   here);
        else
            printf("%-20s %5d %-12s %7d %10" PRId64 " %9.4f %9.4f %9.1f%s\n", e.config, e.seed, rec.status,
                   rec.data_epochs, rec.samples_seen, rec.last_acc, rec.best_acc, rec.wall_s, here);
    }
}

int isb_suite_run(isb_ocl *ocl, const isb_suite_options *o) {
    if (o->seeds < 1) return isb_fail(ISB_ERR_USAGE, "--seeds must be >= 1, got %d", o->seeds);
    ISB_TRY(isb_suite_check_selection(o));
    ISB_TRY(isb_run_name_check("--name", suite_name(o)));
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
