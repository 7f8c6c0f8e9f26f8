/* The run lifecycle: the environment runs share, then one run in screenful: open its folder
 * (lock, --restart, ownership), resume or start, loop (train_loop.c), finish (write order in
 * run_save.c). The state is train_state.c's table, the manifest results/manifest.c's. */
#include "train/train.h"
#include "results/manifest.h"
#include "results/run_files.h"
#include "results/run_lock.h"
#include "train/run.h"
#include "train/stop.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/timer.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SUBSET_SEED 0 /* the same subset for every configuration and seed */

/* ---- environment --------------------------------------------------------------------------- */

int isb_train_env_open(isb_train_env *env, isb_ocl *ocl, const isb_train_config *cfg, const char *data_dir) {
    memset(env, 0, sizeof *env);
    env->ocl = ocl;
    snprintf(env->data_dir, sizeof env->data_dir, "%s", data_dir);
    snprintf(env->dataset, sizeof env->dataset, "%s", cfg->dataset);
    env->train_subset = cfg->train_subset;
    env->test_subset = cfg->test_subset;
    env->policy = ISB_RUN_POLICY_DEFAULT;
    int rc = ISB_OK;
    ISB_CHECK(isb_dataset_load(&env->train, cfg->dataset, data_dir, true, cfg->train_subset, SUBSET_SEED));
    ISB_CHECK(isb_dataset_load(&env->test, cfg->dataset, data_dir, false, cfg->test_subset, SUBSET_SEED));
    ISB_CHECK(isb_batcher_create(&env->train_batcher, ocl, &env->train));
    ISB_CHECK(isb_batcher_create(&env->test_batcher, ocl, &env->test));
done:
    if (rc < 0) isb_train_env_close(env); /* releases whatever was opened */
    return rc;
}

void isb_train_env_close(isb_train_env *env) {
    isb_sampler_free(env->sampler);
    isb_batcher_free(env->train_batcher);
    isb_batcher_free(env->test_batcher);
    if (env->train.pixels || env->train.labels) isb_dataset_free(&env->train);
    if (env->test.pixels || env->test.labels) isb_dataset_free(&env->test);
    isb_train_env keep = {.ocl = env->ocl, .policy = env->policy};
    *env = keep;
}

/* The sampler's work buffers are sized by the largest run so far; grown only when needed. */
static int env_sampler(isb_train_env *env, int n, int z) {
    if (env->sampler && env->sampler_n >= n && env->sampler_z >= z) return ISB_OK;
    isb_sampler_free(env->sampler);
    env->sampler = NULL;
    ISB_TRY(isb_sampler_create(&env->sampler, env->ocl, n, z));
    env->sampler_n = n;
    env->sampler_z = z;
    return ISB_OK;
}

static int alloc_buffers(isb_run *r) {
    const isb_train_config *c = r->cfg;
    isb_ocl *ocl = r->ocl;
    int zcap = r->z > r->n ? r->z : r->n; /* warm-up epochs draw N */
    size_t img = (size_t)r->env->train.channels * 32 * 32;
    int since_cap = r->n + c->batch; /* a data epoch ends within the step that crosses N */
    ISB_TRY(isb_ocl_alloc(ocl, &r->scores, (size_t)r->n * sizeof(float), "scores"));
    ISB_TRY(isb_ocl_fill_zero(ocl, r->scores, 0, (size_t)r->n * sizeof(float)));
    ISB_TRY(isb_ocl_alloc(ocl, &r->z_idx, (size_t)zcap * sizeof(int), "sampled indices Z"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->z_w, (size_t)zcap * sizeof(float), "importance weights"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->batch_w, (size_t)c->batch * sizeof(float), "batch weights"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->x, (size_t)c->batch * img * sizeof(float), "input batch"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->labels, (size_t)c->batch * sizeof(int), "batch labels"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->since_loss, (size_t)since_cap * sizeof(float), "training losses"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->since_correct, (size_t)since_cap * sizeof(int), "training hits"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->test_idx, (size_t)r->n_test * sizeof(int), "test indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->test_loss, (size_t)r->n_test * sizeof(float), "test losses"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->test_correct, (size_t)r->n_test * sizeof(int), "test hits"));
    r->h_scores = malloc((size_t)r->n * sizeof(float));
    r->h_since_loss = malloc((size_t)since_cap * sizeof(float));
    r->h_since_correct = malloc((size_t)since_cap * sizeof(int));
    r->h_test_loss = malloc((size_t)r->n_test * sizeof(float));
    r->h_test_correct = malloc((size_t)r->n_test * sizeof(int));
    int *ident = malloc((size_t)r->n_test * sizeof(int));
    if (!r->h_scores || !r->h_since_loss || !r->h_since_correct || !r->h_test_loss || !r->h_test_correct || !ident) {
        free(ident);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory for the result buffers of %d samples", r->n);
    }
    for (int i = 0; i < r->n_test; i++) ident[i] = i;
    int rc = isb_ocl_write(ocl, r->test_idx, 0, (size_t)r->n_test * sizeof(int), ident);
    free(ident);
    return rc;
}

static void free_run(isb_run *r) {
    cl_mem *bufs[] = {&r->scores, &r->z_idx, &r->z_w, &r->batch_w, &r->x, &r->labels, &r->since_loss,
                      &r->since_correct, &r->test_idx, &r->test_loss, &r->test_correct};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
    free(r->h_scores); free(r->h_since_loss); free(r->h_since_correct); free(r->h_test_loss); free(r->h_test_correct);
    isb_train_state_free(&r->s);
    isb_run_identity_free(&r->id);
    isb_model_free(r->model);
    json_decref(r->manifest);
}

/* ---- opening a run folder ------------------------------------------------------------------- */

static int check_inputs(const isb_train_env *env, const isb_train_config *cfg) {
    int n = env->train.n;
    ISB_TRY(isb_train_config_validate(cfg, n));
    if (strcmp(cfg->dataset, env->dataset) != 0 || cfg->train_subset != env->train_subset ||
        cfg->test_subset != env->test_subset)
        return isb_fail(ISB_ERR_INTERNAL, "the loaded data (%s, %d/%d) is not the configuration's (%s, %d/%d)",
                        env->dataset, env->train_subset, env->test_subset, cfg->dataset, cfg->train_subset,
                        cfg->test_subset);
    return ISB_OK;
}

/* --restart: renames dir to dir.old-<UTC time> (never deletes), makes a fresh dir and moves the
 * lock into it. */
static int move_aside(const char *dir, isb_run_lock *lock, const char *label) {
    char aside[4200], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, sizeof aside, "%s.old-%s", dir, stamp);
    for (int k = 2; isb_file_exists(aside) && k < 1000; k++) snprintf(aside, sizeof aside, "%s.old-%s-%d", dir, stamp, k);
    if (rename(dir, aside) != 0)
        return isb_fail(ISB_ERR_IO, "--restart: cannot move %s aside to %s: %s", dir, aside, strerror(errno));
    fprintf(stderr, "[%s] --restart: the old run is kept in %s\n", label, aside);
    isb_run_lock fresh;
    ISB_TRY(isb_mkdir_p(dir));
    ISB_TRY(isb_run_lock_take(&fresh, dir));
    isb_run_lock_release(lock);
    *lock = fresh;
    return ISB_OK;
}

/* mkdir, lock, --restart, what the folder holds (another configuration is refused); *why says why
 * a manifest.json present cannot be read. Reads only, but for a leftover checkpoint of a finished run. */
static int open_run_dir(const isb_run *r, const json_t *config, isb_run_lock *lock, isb_run_state *state, char *why,
                        size_t why_size) {
    ISB_TRY(isb_mkdir_p(r->dir));
    ISB_TRY(isb_run_lock_take(lock, r->dir));
    if (r->env->policy.restart && (isb_entry_exists(r->manifest_path) || isb_entry_exists(r->checkpoint_path)))
        ISB_TRY(move_aside(r->dir, lock, r->label));
    ISB_TRY(isb_run_dir_check(r->dir, config, state, why, why_size));
    /* a kill after the "finished" manifest, before the checkpoint was removed */
    if (*state == ISB_RUN_FINISHED && isb_entry_exists(r->checkpoint_path)) unlink(r->checkpoint_path);
    return ISB_OK;
}

/* The model, the buffers, the identity and a new manifest of a run about to start or resume. */
static int create_run(isb_run *r, const json_t *config) {
    const isb_train_config *cfg = r->cfg;
    isb_train_env *env = r->env;
    isb_model_config mc = {.width = cfg->width, .in_channels = env->train.channels, .classes = env->train.classes,
                           .image_size = env->train.size, .max_batch = cfg->batch, .momentum = cfg->momentum,
                           .weight_decay = cfg->weight_decay, .seed = cfg->seed};
    ISB_TRY(env_sampler(env, r->n, r->z > r->n ? r->z : r->n));
    ISB_TRY(isb_model_create(&r->model, env->ocl, &mc));
    ISB_TRY(alloc_buffers(r));
    ISB_TRY(isb_run_identity_make(&r->id, cfg, r->n, r->n_test, r->z));
    isb_train_state_init(&r->s, cfg);
    isb_manifest_info mi = {.ocl = r->ocl, .suite = r->suite, .preset = cfg->preset, .config_name = cfg->name,
                            .data_dir = env->data_dir, .dataset = cfg->dataset, .seed = cfg->seed,
                            .configuration = config, .train_n = r->n, .test_n = r->n_test, .z = r->z,
                            .model_parameters = isb_model_param_count(r->model),
                            .check = env->check[0] ? env->check : "not run"};
    r->manifest = isb_manifest_new(&mi);
    return r->manifest ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "cannot make the manifest: out of host memory, or a text in it "
                                           "(the --data path, a device name) is not UTF-8");
}

/* ---- resume or start, finish ------------------------------------------------------------------ */

/* Resumes from the checkpoint if there is one (also when the manifest is missing or unreadable: the
 * checkpoint's identity proves it is this run's). A checkpoint that cannot be resumed, or results
 * without a checkpoint, are refused: nothing is written, the message says what to do. */
static int resume_or_start(isb_run *r, isb_run_state state, const char *why, isb_run_result *result) {
    if (isb_entry_exists(r->checkpoint_path)) {
        int rc = isb_run_load_checkpoint(r);
        if (rc < 0)
            return isb_fail_context(rc, "cannot resume the run in %s (nothing was changed; rerun with --restart to "
                                    "start it over, the old folder is kept beside it)", r->dir);
        ISB_TRY(isb_manifest_note_resume(r->manifest, r->manifest_path));
        result->resumed = true;
        if (!r->cfg->profile) r->s.t.data = -1;
        else if (r->s.t.data < 0) r->s.t.data = 0; /* earlier sessions did not time it */
        if (state == ISB_RUN_NEW || state == ISB_RUN_NO_MANIFEST)
            fprintf(stderr, "[%s] %s: the checkpoint belongs to this run, so the run resumes from it and manifest.json "
                    "is written anew from it\n", r->label, state == ISB_RUN_NEW ? "manifest.json is missing" : why);
        fprintf(stderr, "[%s] resuming from %s at data epoch %d, step %" PRId64 "\n", r->label, r->checkpoint_path,
                r->s.n_rows, r->s.step);
    } else if (state == ISB_RUN_NO_MANIFEST) {
        return isb_fail(ISB_ERR_FORMAT, "%s and there is no checkpoint.isbc to resume from: nothing was changed; move "
                        "it away, or rerun with --restart to start the run over (the old folder is kept beside it)", why);
    } else if (state == ISB_RUN_UNFINISHED) {
        int epochs = isb_manifest_data_epochs(r->manifest_path);
        if (epochs > 0)
            return isb_fail(ISB_ERR_FORMAT, "%s records %d data epochs but its checkpoint.isbc is gone, so the run "
                            "cannot resume: nothing was changed; rerun with --restart to start it over (the old "
                            "folder is kept beside it)", r->dir, epochs);
    }
    ISB_TRY(isb_run_warm_up(r)); /* before the clock */
    r->session_start = r->mark = r->last_checkpoint = isb_now();
    isb_progress_start(&r->progress, r->label, r->cfg->max_epochs, r->n, r->s.samples_seen);
    return ISB_OK;
}

/* A failed write (a full disk) stops the run with nothing more written: the advice to rerun. */
static int io_advice(const isb_run *r, int rc) {
    if (rc != ISB_ERR_IO) return rc;
    return isb_fail_context(rc, "the run in %s stopped; its files and checkpoint hold the last complete state (data "
                            "epoch %d or earlier): free space and run the same command again to resume", r->dir,
                            r->s.n_rows);
}

/* Writes the end state of a run that returned rc from the loop; returns the run's status. */
static int finish_run(isb_run *r, int rc, char *reason, size_t reason_size) {
    if (rc == ISB_ERR_INTERRUPTED) {
        int sig = isb_stop_signal();
        snprintf(reason, reason_size, "interrupted (%s) at step %" PRId64 "%s",
                 sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "stop request", r->s.step,
                 isb_run_evaluation_due(r) ? ", before the evaluation of the data epoch it completed" : "");
        ISB_TRY(io_advice(r, isb_run_save_checkpoint(r)));
        ISB_TRY(io_advice(r, isb_run_write_results(r, "interrupted", reason, NULL)));
        fprintf(stderr, "[%s] %s; checkpoint %s\n", r->label, reason, r->checkpoint_path);
        return isb_fail(ISB_ERR_INTERRUPTED, "%s: state saved in %s; run the same command again to resume", reason,
                        r->checkpoint_path);
    }
    if (rc >= 0) {
        /* files, then the "finished" manifest, then the resume state goes */
        ISB_TRY(io_advice(r, isb_run_write_results(r, "finished", reason, NULL)));
        if (unlink(r->checkpoint_path) != 0 && errno != ENOENT)
            return isb_fail(ISB_ERR_IO, "cannot remove %s: %s", r->checkpoint_path, strerror(errno));
        fprintf(stderr, "[%s] finished: %s\n", r->label, reason);
        return ISB_OK;
    }
    if (rc == ISB_ERR_IO) return io_advice(r, rc); /* write nothing more; the last complete state stays */
    /* keep what was measured; the manifest says why it stopped */
    char *msg = strdup(isb_last_error());
    snprintf(reason, reason_size, rc == ISB_ERR_NUMERIC ? "non-finite loss" : "error: %s", isb_status_name(rc));
    isb_run_write_results(r, "failed", reason, msg);
    isb_fail(rc, "%s", msg ? msg : "run failed"); /* the original message, not the writer's */
    free(msg);
    return rc;
}

static void fill_result(const isb_run *r, isb_run_result *res, const char *reason) {
    isb_accuracy_summary a = isb_train_state_accuracy(&r->s, r->cfg->early_stop == ISB_EARLY_STOP_CUMULATIVE);
    res->data_epochs = r->s.n_rows;
    res->samples_seen = r->s.samples_seen;
    res->best_test_acc = a.best;
    res->last_test_acc = a.last;
    res->reported_test_acc = a.reported;
    res->wall_s = isb_run_wall(r);
    snprintf(res->stop_reason, sizeof res->stop_reason, "%s", reason ? reason : "");
}

/* The manifest says "running", then the loop; finish_run handles either's failure. */
static int mark_running_and_loop(isb_run *r, char *reason, size_t len) {
    ISB_TRY(isb_run_write_results(r, "running", NULL, NULL));
    return isb_run_loop(r, reason, len);
}

int isb_train_run(isb_train_env *env, const isb_train_config *cfg, const char *run_dir, const char *suite,
                  const char *label, isb_run_result *result) {
    memset(result, 0, sizeof *result);
    ISB_TRY(check_inputs(env, cfg));
    ISB_TRY(isb_run_name_check("--name", suite)); /* OUT/SUITE/CONFIG stays inside OUT */
    ISB_TRY(isb_run_name_check("--config", cfg->name));
    isb_run r = {.cfg = cfg, .env = env, .ocl = env->ocl, .dir = run_dir, .suite = suite,
                 .label = label ? label : cfg->name, .n = env->train.n, .n_test = env->test.n,
                 .z = isb_train_config_z(cfg, env->train.n)};
    snprintf(r.checkpoint_path, sizeof r.checkpoint_path, "%s/checkpoint.isbc", run_dir);
    snprintf(r.manifest_path, sizeof r.manifest_path, "%s/manifest.json", run_dir);
    json_t *config = isb_train_config_to_json(cfg);
    isb_run_lock lock = {.fd = -1};
    isb_run_state state;
    char reason[160] = "", why[600] = "";
    bool accepted = false; /* until the run is accepted, a refusal leaves run.lock as it was */
    int rc = ISB_OK;
    ISB_CHECK(open_run_dir(&r, config, &lock, &state, why, sizeof why));
    if (state == ISB_RUN_FINISHED) {
        fprintf(stderr, "[%s] %s already holds this finished run: skipped (rerun with --restart to run it again)\n",
                r.label, run_dir);
        result->skipped = true;
        goto done;
    }
    ISB_CHECK(create_run(&r, config));
    ISB_CHECK(resume_or_start(&r, state, why, result)); /* on failure nothing of the run was changed */
    accepted = true;
    int removed = isb_remove_stale_temp_files(run_dir);
    if (removed > 0)
        fprintf(stderr, "[%s] removed %d temporary file(s) of a killed writer in %s\n", r.label, removed, run_dir);
    rc = finish_run(&r, mark_running_and_loop(&r, reason, sizeof reason), reason, sizeof reason);
    fill_result(&r, result, reason);
done:
    if (!accepted) isb_run_lock_restore(&lock);
    free_run(&r);
    isb_run_lock_release(&lock);
    json_decref(config);
    return rc;
}
