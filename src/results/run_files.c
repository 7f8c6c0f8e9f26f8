/* Writers for the files of a run directory and the directory ownership check (see run_files.h). */
#include "results/run_files.h"
#include "util/error.h"
#include "util/fileio.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int write_buf(const char *dir, const char *name, isb_strbuf *b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = isb_write_file_atomic(path, b->data ? b->data : "", b->len);
    isb_strbuf_free(b);
    return rc;
}

/* A result file holds finite numbers only: a non-finite one is an error naming it, not a "nan" cell. */
static int check_row(const char *dir, const isb_metrics_row *r) {
    const double v[] = {r->wall_s, r->lr, r->train_loss, r->train_acc, r->test_loss, r->test_acc};
    static const char *const names[] = {"wall_s", "lr", "train_loss", "train_acc", "test_loss", "test_acc"};
    for (int i = 0; i < 6; i++)
        if (!isfinite(v[i]))
            return isb_fail(ISB_ERR_NUMERIC, "%s/metrics.csv: data epoch %d's %s would be %g: a non-finite value is never "
                            "written (the files keep the last complete state)", dir, r->data_epoch, names[i], v[i]);
    return ISB_OK;
}

int isb_write_metrics_csv(const char *dir, const isb_metrics_row *rows, int n) {
    for (int i = 0; i < n; i++) ISB_TRY(check_row(dir, &rows[i]));
    isb_strbuf b = {0};
    isb_strbuf_printf(&b, "data_epoch,samples_seen,wall_s,lr,train_loss,train_acc,test_loss,test_acc\n");
    for (int i = 0; i < n; i++) {
        const isb_metrics_row *r = &rows[i];
        isb_strbuf_printf(&b, "%d,%" PRId64 ",%.3f,%.7g,%.9g,%.9g,%.9g,%.9g\n", r->data_epoch, r->samples_seen,
                          r->wall_s, r->lr, r->train_loss, r->train_acc, r->test_loss, r->test_acc);
    }
    return write_buf(dir, "metrics.csv", &b);
}

int isb_write_scores_hist_csv(const char *dir, const int *epochs, const int64_t *hist, int n) {
    isb_strbuf b = {0};
    isb_strbuf_printf(&b, "data_epoch,bin_lo,bin_hi,count\n");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < ISB_HIST_BINS; k++) {
            double lo, hi;
            isb_score_hist_edges(k, &lo, &hi);
            isb_strbuf_printf(&b, "%d,%.6g,%.6g,%" PRId64 "\n", epochs[i], lo, hi,
                              hist[(size_t)i * ISB_HIST_BINS + k]);
        }
    return write_buf(dir, "scores_hist.csv", &b);
}

static void timing_row(isb_strbuf *b, const char *phase, double s) {
    if (s < 0) isb_strbuf_printf(b, "%s,nan\n", phase);
    else isb_strbuf_printf(b, "%s,%.6f\n", phase, s);
}

int isb_write_timing_csv(const char *dir, const isb_phase_times *t) {
    const double v[] = {t->training, t->evaluation, t->sampling, t->score_update, t->data, t->total};
    for (int i = 0; i < 6; i++)
        if (!isfinite(v[i]))
            return isb_fail(ISB_ERR_NUMERIC, "%s/timing.csv: a phase time would be %g: a non-finite value is never "
                            "written (a phase not measured is negative, written as nan)", dir, v[i]);
    isb_strbuf b = {0};
    isb_strbuf_printf(&b, "phase,seconds\n");
    timing_row(&b, "init", t->init);
    timing_row(&b, "training", t->training);
    timing_row(&b, "evaluation", t->evaluation);
    timing_row(&b, "sampling", t->sampling);
    timing_row(&b, "score_update", t->score_update);
    timing_row(&b, "data", t->data);
    timing_row(&b, "total", t->total);
    return write_buf(dir, "timing.csv", &b);
}

int isb_write_json_atomic(const char *path, const json_t *json) {
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!text) return isb_fail(ISB_ERR_MEMORY, "cannot serialise JSON for %s", path);
    size_t len = strlen(text);
    char *lined = realloc(text, len + 2);
    if (!lined) {
        free(text);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory writing %s", path);
    }
    lined[len] = '\n';
    int rc = isb_write_file_atomic(path, lined, len + 1);
    free(lined);
    return rc;
}

/* Appends "key is A there, B here" for each differing key (one level into nested objects), up to
 * three, to buf; returns how many differ in all. */
static int add_differences(const json_t *theirs, const json_t *ours, const char *prefix, char *buf, size_t size,
                           int found) {
    const char *key;
    json_t *mine;
    json_object_foreach((json_t *)ours, key, mine) {
        json_t *other = json_object_get(theirs, key);
        if (other && json_equal(other, mine)) continue;
        if (other && json_is_object(mine) && json_is_object(other) && !*prefix) {
            found = add_differences(other, mine, key, buf, size, found);
            continue;
        }
        if (found++ >= 3) continue;
        char *a = other ? json_dumps(other, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        char *b = json_dumps(mine, JSON_ENCODE_ANY | JSON_COMPACT);
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s%s%s is %s there, %s here", used ? "; " : "", prefix, *prefix ? "." : "",
                 key, a ? a : "(missing)", b ? b : "?");
        free(a);
        free(b);
    }
    return found;
}

void isb_json_differences(const json_t *theirs, const json_t *ours, char *buf, size_t size) {
    buf[0] = '\0';
    int found = add_differences(theirs, ours, "", buf, size, 0);
    size_t used = strlen(buf);
    if (found > 3) snprintf(buf + used, size - used, "; and %d more", found - 3);
    else if (found == 0) snprintf(buf, size, "it holds fields this run does not have");
}

int isb_run_name_check(const char *option, const char *name) {
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(name, '/'))
        return isb_fail(ISB_ERR_USAGE, "%s '%s' must be one folder name inside --out: not empty, not . or .., no /", option,
                        name);
    return ISB_OK;
}

/* A "finished" manifest must have reached its stop rule: --max-epochs data epochs, or an early stop
 * (which takes more than `patience` evaluations). Anything else contradicts itself. */
static int check_finished(const char *path, const json_t *m) {
    const json_t *config = json_object_get(m, "configuration");
    json_int_t epochs = json_integer_value(json_object_get(json_object_get(m, "progress"), "data_epochs"));
    json_int_t max_epochs = json_integer_value(json_object_get(config, "max_epochs"));
    json_int_t patience = json_integer_value(json_object_get(config, "patience"));
    const char *reason = json_string_value(json_object_get(m, "stop_reason"));
    bool early = reason && strncmp(reason, ISB_STOP_REASON_EARLY, strlen(ISB_STOP_REASON_EARLY)) == 0;
    if (epochs >= 1 && epochs <= max_epochs && (epochs == max_epochs || (early && epochs > patience))) return ISB_OK;
    return isb_fail(ISB_ERR_FORMAT, "%s says \"finished\", but its progress (%lld of %lld data epochs, stop reason "
                    "\"%s\") is short of its stop rule (--max-epochs %lld, or an early stop after more than --patience "
                    "%lld evaluations): the folder contradicts itself, so nothing was changed (its checkpoint, if any, "
                    "is kept); check how it got there, then rerun with --restart to start the run over (the old "
                    "folder is kept beside it)", path, (long long)epochs, (long long)max_epochs, reason ? reason : "none",
                    (long long)max_epochs, (long long)patience);
}

int isb_run_dir_check(const char *dir, const json_t *config, isb_run_state *state, char *why, size_t why_size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    *state = ISB_RUN_NEW;
    why[0] = '\0';
    struct stat st;
    if (lstat(path, &st) != 0) return ISB_OK;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return isb_fail(ISB_ERR_IO, "%s is a directory, not the run's manifest file: nothing was changed; move it away "
                        "(a run folder's manifest.json is a file) and run the same command again", path);
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err);
    if (!m || !json_is_object(m)) {
        snprintf(why, why_size, "%s cannot be read (%s)", path, m ? "not a JSON object" : err.text);
        json_decref(m);
        *state = ISB_RUN_NO_MANIFEST;
        return ISB_OK;
    }
    json_t *theirs = json_object_get(m, "configuration");
    int rc = ISB_OK;
    if (!json_is_object(theirs) || !json_equal(theirs, (json_t *)config)) {
        char diff[1024] = "it records no configuration";
        if (json_is_object(theirs)) isb_json_differences(theirs, config, diff, sizeof diff);
        rc = isb_fail(ISB_ERR_USAGE, "%s already holds a run of another configuration (%s): nothing was changed; use --name "
                      "(or another --out) for a new run folder, or --restart to move this one aside and start over",
                      dir, diff);
    } else {
        const char *status = json_string_value(json_object_get(m, "status"));
        *state = status && strcmp(status, "finished") == 0 ? ISB_RUN_FINISHED : ISB_RUN_UNFINISHED;
        if (*state == ISB_RUN_FINISHED) rc = check_finished(path, m);
    }
    json_decref(m);
    return rc;
}

void isb_run_dir_path(char *buf, size_t size, const char *out, const char *suite, const char *config, uint64_t seed) {
    snprintf(buf, size, "%s/%s/%s/seed-%" PRIu64, out, suite, config, seed);
}
