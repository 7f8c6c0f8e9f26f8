/* Writers for the files of a run directory and the directory ownership check (see run_files.h). */
#include "results/run_files.h"
#include "util/error.h"
#include "util/fileio.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_buf(const char *dir, const char *name, isb_strbuf *b) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = isb_write_file_atomic(path, b->data ? b->data : "", b->len);
    isb_strbuf_free(b);
    return rc;
}

int isb_write_metrics_csv(const char *dir, const isb_metrics_row *rows, int n) {
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

int isb_run_dir_check(const char *dir, const json_t *config, isb_run_state *state) {
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    *state = ISB_RUN_NEW;
    if (!isb_file_exists(path)) return ISB_OK;
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err);
    if (!m)
        return isb_fail(ISB_ERR_FORMAT, "%s is not valid JSON (%s, line %d): move the directory away or delete it "
                                        "to start this run again", path, err.text, err.line);
    json_t *theirs = json_object_get(m, "configuration");
    if (!theirs || !json_equal(theirs, (json_t *)config)) {
        char *a = theirs ? json_dumps(theirs, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        char *b = json_dumps(config, JSON_COMPACT | JSON_PRESERVE_ORDER);
        int rc = isb_fail(ISB_ERR_USAGE,
                          "%s already holds a run of another configuration (there: %s; asked: %s): nothing was "
                          "overwritten; use another --out, or delete that directory to replace it",
                          dir, a ? a : "(none)", b ? b : "?");
        free(a); free(b);
        json_decref(m);
        return rc;
    }
    const char *status = json_string_value(json_object_get(m, "status"));
    *state = status && strcmp(status, "finished") == 0 ? ISB_RUN_FINISHED : ISB_RUN_UNFINISHED;
    json_decref(m);
    return ISB_OK;
}

void isb_run_dir_path(char *buf, size_t size, const char *out, const char *suite, const char *config, uint64_t seed) {
    snprintf(buf, size, "%s/%s/%s/seed-%" PRIu64, out, suite, config, seed);
}
