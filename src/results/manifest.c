/* manifest.json (see manifest.h). */
#include "results/manifest.h"
#include "results/provenance.h"
#include "util/error.h"
#include "util/fileio.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

static json_t *now_iso(void) {
    char buf[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_string(buf);
}

static json_t *notes_json(void) {
    return json_pack(
        "{s:s, s:s, s:s, s:s}", "partial_batch",
        "kept: the last mini-batch of a sampler epoch holds the |Z| mod batch remaining samples", "data_epoch",
        "an evaluation after every N training samples (rounded up to the step that reaches them); "
        "lr milestones and early stopping count these evaluations",
        "weights", "importance weights default to none, as in the study's public code (docs/protocol-notes.md, note 3)", "timing",
        "host clock around clFinish at phase boundaries only. init = building every program and GEMM shape of "
        "the run and one warm-up step on scratch state, before the clock (outside total). training = forward, backward, SGD, the "
        "fused score update and (without --profile) batch assembly; score_update is fused into the loss "
        "kernel and cannot be timed apart (nan); data = batch assembly, measured only with --profile "
        "(nan otherwise); sampling = softmax + draw + shuffle + weights per sampler epoch; evaluation = "
        "test forward passes + reading per-sample results; total = run wall time");
}

/* json_object_set_new that reports failure, also for a NULL value (json_pack returns NULL for a NaN
 * or a NULL string): every write into a manifest goes through it. */
static bool put(json_t *m, const char *key, json_t *value) { return value && json_object_set_new(m, key, value) == 0; }

json_t *isb_manifest_new(const isb_manifest_info *in) {
    json_t *m = json_object();
    bool ok = m != NULL;
    ok = ok && isb_provenance_add(m, in->ocl, in->config_name);
    ok = ok && put(m, "check", json_string(in->check ? in->check : "not run"));
    ok = ok && put(m, "suite", json_string(in->suite));
    ok = ok && put(m, "preset", json_string(in->preset));
    ok = ok && put(m, "config", json_string(in->config_name));
    ok = ok && put(m, "seed", json_integer((json_int_t)in->seed));
    ok = ok && put(m, "configuration", json_deep_copy(in->configuration));
    ok = ok && put(m, "data", json_pack("{s:s, s:s, s:i, s:i, s:i, s:I}", "dir", in->data_dir, "dataset", in->dataset,
                                        "train_n", in->train_n, "test_n", in->test_n, "z", in->z, "model_parameters",
                                        (json_int_t)in->model_parameters));
    ok = ok && put(m, "notes", notes_json());
    ok = ok && put(m, "started", now_iso());
    if (!ok) json_decref(m);
    return ok ? m : NULL;
}

int isb_manifest_note_resume(json_t *m, const char *old_path) {
    json_t *old = json_load_file(old_path, 0, NULL);
    json_t *started = old ? json_object_get(old, "started") : NULL;
    bool ok = !json_is_string(started) || put(m, "started", json_incref(started));
    json_t *resumes = old ? json_object_get(old, "resumed") : NULL;
    resumes = json_is_array(resumes) ? json_deep_copy(resumes) : json_array();
    ok = ok && resumes && json_array_append_new(resumes, now_iso()) == 0;
    ok = put(m, "resumed", resumes) && ok;
    json_decref(old);
    return ok ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory updating the manifest");
}

/* A manifest holds finite numbers only (JSON has no NaN): a non-finite one is an error naming it. */
static int check_finite(const isb_manifest_progress *p) {
    const struct { const char *name; double v; bool used; } values[] = {
        {"lr", p->lr, true}, {"wall_s", p->wall_s, true}, {"best_test_acc", p->accuracy.best, p->data_epochs > 0},
        {"last_test_acc", p->accuracy.last, p->data_epochs > 0},
        {"reported_test_acc", p->accuracy.reported, p->data_epochs > 0}};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
        if (values[i].used && !isfinite(values[i].v))
            return isb_fail(ISB_ERR_NUMERIC, "the manifest's %s would be %g: a non-finite value is never written to "
                            "manifest.json (the files keep the last complete state)", values[i].name, values[i].v);
    return ISB_OK;
}

int isb_manifest_update(json_t *m, const isb_manifest_progress *p) {
    ISB_TRY(check_finite(p));
    bool ok = put(m, "status", json_string(p->status)) && put(m, "updated", now_iso());
    if (strcmp(p->status, "running") != 0) {
        ok = ok && put(m, "ended", now_iso()) && isb_provenance_end(m);
    } else json_object_del(m, "ended");
    ok = ok && put(m, "stop_reason", p->stop_reason ? json_string(p->stop_reason) : json_null());
    ok = ok && put(m, "message", p->message ? json_string(p->message) : json_null());
    ok = ok && put(m, "progress", json_pack("{s:i, s:I, s:I, s:I, s:f, s:f}", "data_epochs", p->data_epochs,
                                            "samples_seen", (json_int_t)p->samples_seen, "steps", (json_int_t)p->steps,
                                            "sampler_epochs", (json_int_t)p->sampler_epochs, "lr", p->lr, "wall_s",
                                            p->wall_s));
    if (p->data_epochs)
        /* "last" and "best" by name; "reported" says which of them the early-stopping rule reports. */
        ok = ok && put(m, "final", json_pack("{s:f, s:f, s:f, s:s}", "last_test_acc", p->accuracy.last, "best_test_acc",
                                             p->accuracy.best, "reported_test_acc", p->accuracy.reported, "reported",
                                             p->cumulative ? "last" : "best"));
    return ok ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "cannot update the manifest (out of host memory?)");
}

int isb_manifest_data_epochs(const char *path) {
    if (!isb_file_exists(path)) return -1;
    json_t *m = json_load_file(path, 0, NULL);
    json_t *n = json_object_get(json_object_get(m, "progress"), "data_epochs");
    int epochs = json_is_integer(n) ? (int)json_integer_value(n) : 0;
    json_decref(m);
    return epochs;
}
