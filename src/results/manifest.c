/* manifest.json (see manifest.h). */
#include "results/manifest.h"
#include "results/provenance.h"
#include "util/fileio.h"

#include <math.h>
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

json_t *isb_manifest_new(const isb_manifest_info *in) {
    json_t *m = json_object();
    isb_provenance_add(m, in->ocl, in->config_name);
    json_object_set_new(m, "suite", json_string(in->suite));
    json_object_set_new(m, "preset", json_string(in->preset));
    json_object_set_new(m, "config", json_string(in->config_name));
    json_object_set_new(m, "seed", json_integer((json_int_t)in->seed));
    json_object_set_new(m, "configuration", json_deep_copy(in->configuration));
    json_object_set_new(m, "data", json_pack("{s:s, s:s, s:i, s:i, s:i, s:I}", "dir", in->data_dir, "dataset",
                                             in->dataset, "train_n", in->train_n, "test_n", in->test_n, "z", in->z,
                                             "model_parameters", (json_int_t)in->model_parameters));
    json_object_set_new(m, "notes", notes_json());
    json_object_set_new(m, "started", now_iso());
    return m;
}

void isb_manifest_note_resume(json_t *m, const char *old_path) {
    json_t *old = json_load_file(old_path, 0, NULL);
    json_t *started = old ? json_object_get(old, "started") : NULL;
    if (started) json_object_set(m, "started", started);
    json_t *resumes = old ? json_object_get(old, "resumed") : NULL;
    resumes = json_is_array(resumes) ? json_deep_copy(resumes) : json_array();
    json_array_append_new(resumes, now_iso());
    json_object_set_new(m, "resumed", resumes);
    json_decref(old);
}

void isb_manifest_update(json_t *m, const isb_manifest_progress *p) {
    json_object_set_new(m, "status", json_string(p->status));
    json_object_set_new(m, "updated", now_iso());
    if (strcmp(p->status, "running") != 0) {
        json_object_set_new(m, "ended", now_iso());
        isb_provenance_end(m);
    } else json_object_del(m, "ended");
    json_object_set_new(m, "stop_reason", p->stop_reason ? json_string(p->stop_reason) : json_null());
    json_object_set_new(m, "message", p->message ? json_string(p->message) : json_null());
    json_object_set_new(m, "progress",
                        json_pack("{s:i, s:I, s:I, s:I, s:f, s:f}", "data_epochs", p->data_epochs, "samples_seen",
                                  (json_int_t)p->samples_seen, "steps", (json_int_t)p->steps, "sampler_epochs",
                                  (json_int_t)p->sampler_epochs, "lr", p->lr, "wall_s", p->wall_s));
    if (p->data_epochs)
        /* "last" and "best" by name; "reported" says which of them the early-stopping rule reports. */
        json_object_set_new(m, "final", json_pack("{s:f, s:f, s:f, s:s}", "last_test_acc", p->accuracy.last,
                                                  "best_test_acc", p->accuracy.best, "reported_test_acc",
                                                  p->accuracy.reported, "reported", p->cumulative ? "last" : "best"));
}

int isb_manifest_data_epochs(const char *path) {
    if (!isb_file_exists(path)) return -1;
    json_t *m = json_load_file(path, 0, NULL);
    json_t *n = json_object_get(json_object_get(m, "progress"), "data_epochs");
    int epochs = json_is_integer(n) ? (int)json_integer_value(n) : 0;
    json_decref(m);
    return epochs;
}
