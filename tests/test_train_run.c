/* The training loop end to end on the device, with the `smoke` preset on a small synthetic
 * CIFAR-format dataset written to a temporary folder (so the test needs no download): every
 * configuration runs and writes parseable result files; the same seed gives identical metrics; an
 * interrupted run resumed from its checkpoint gives the metrics of an uninterrupted one; warm-up
 * epochs are a uniform pass over all samples; a finished run is skipped; a directory holding another
 * configuration is refused without touching it. */
#include "testutil.h"
#include "results/run_files.h"
#include "results/score_hist.h"
#include "suite/suite.h"
#include "train/stop.h"
#include "train/train.h"
#include "util/error.h"
#include "util/fileio.h"

#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char data_dir[256], out_dir[256];
static isb_train_env env;

static int setup(void **state) {
    (void)state;
    snprintf(data_dir, sizeof data_dir, "/tmp/isb_train_data_XXXXXX");
    snprintf(out_dir, sizeof out_dir, "/tmp/isb_train_out_XXXXXX");
    if (!mkdtemp(data_dir) || !mkdtemp(out_dir)) return -1;
    test_open_synthetic_env(&env, data_dir);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    isb_train_env_close(&env);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", data_dir, out_dir);
    return system(cmd) == 0 ? 0 : -1;
}

__attribute__((noinline)) static char *read_text(const char *dir, const char *file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = NULL;
    if (isb_read_file(path, &text, NULL) < 0) fail_msg("%s", isb_last_error());
    return text;
}

/* metrics.csv without the wall_s column (the only field that may differ between equal runs) */
static char *metrics_without_wall(const char *dir) {
    char *text = read_text(dir, "metrics.csv"), *out = calloc(strlen(text) + 1, 1), *o = out;
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        int field = 0;
        for (char *p = line; p < end; p++) {
            if (*p == ',') field++;
            if (field != 2) *o++ = *p;
        }
        *o++ = '\n';
        line = *end ? end + 1 : end;
    }
    free(text);
    return out;
}

static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

static void run_config(const char *name, const char *dir, const isb_config_override *ov, int n_ov, int want_rc,
                       isb_run_result *res) {
    isb_train_config c;
    TEST_OK(isb_train_config_make(&c, "smoke", name, ov, n_ov));
    int rc = isb_train_run(&env, &c, dir, "smoke", NULL, res);
    if (rc != want_rc) fail_msg("%s in %s: status %d, expected %d: %s", name, dir, rc, want_rc, isb_last_error());
}

/* The smoke suite (six configurations, seed 1) runs once; later tests compare against its runs. */
static void ensure_suite(void) {
    static bool done;
    if (done) return;
    isb_suite_options o = {.preset = "smoke", .out = out_dir, .data_dir = data_dir, .seeds = 1};
    TEST_OK(isb_suite_run(test_ocl(), &o));
    done = true;
}

static void suite_dir(char *buf, size_t size, const char *name) {
    ensure_suite();
    isb_run_dir_path(buf, size, out_dir, "smoke", name, 1);
}

static void every_configuration_end_to_end(void **state) {
    (void)state;
    ensure_suite();
    int n;
    const char *const *names = isb_train_config_names(&n);
    for (int i = 0; i < n; i++) {
        char dir[512];
        isb_run_dir_path(dir, sizeof dir, out_dir, "smoke", names[i], 1);
        char *metrics = read_text(dir, "metrics.csv");
        int rows = count_lines(metrics) - 1;
        assert_int_equal(rows, 2); /* smoke: 2 data epochs */
        /* every row: 8 numeric fields, accuracies in [0, 1], finite losses */
        char *line = strchr(metrics, '\n') + 1;
        for (int r = 0; r < rows; r++) {
            double v[8];
            int got = sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                             &v[7]);
            assert_int_equal(got, 8);
            assert_int_equal((int)v[0], r + 1);
            assert_true(v[1] >= (double)env.train.n * (r + 1) && v[1] < (double)env.train.n * (r + 1) + 128);
            assert_true(isfinite(v[4]) && isfinite(v[6]) && v[4] > 0 && v[6] > 0);
            assert_true(v[5] >= 0 && v[5] <= 1 && v[7] >= 0 && v[7] <= 1);
            line = strchr(line, '\n') + 1;
        }
        free(metrics);
        char *hist = read_text(dir, "scores_hist.csv");
        assert_int_equal(count_lines(hist), 1 + 2 * ISB_HIST_BINS);
        free(hist);
        char *timing = read_text(dir, "timing.csv");
        assert_non_null(strstr(timing, "\ntraining,"));
        assert_non_null(strstr(timing, "\nsampling,"));
        assert_non_null(strstr(timing, "\ntotal,"));
        free(timing);
        char path[600];
        snprintf(path, sizeof path, "%s/manifest.json", dir);
        json_error_t err;
        json_t *m = json_load_file(path, 0, &err);
        if (!m) fail_msg("%s: %s", path, err.text);
        assert_string_equal(json_string_value(json_object_get(m, "status")), "finished");
        assert_string_equal(json_string_value(json_object_get(m, "config")), names[i]);
        assert_non_null(json_object_get(json_object_get(m, "device"), "name"));
        assert_non_null(json_string_value(json_object_get(m, "clblast")));
        assert_non_null(json_object_get(json_object_get(m, "isbench"), "commit"));
        assert_true(json_is_object(json_object_get(m, "configuration")));
        json_decref(m);
        snprintf(path, sizeof path, "%s/checkpoint.isbc", dir);
        assert_false(isb_file_exists(path)); /* only while unfinished */
        printf("  %-20s ok\n", names[i]);
    }
    /* a second suite run skips every finished run: its summary (stdout) says so for each */
    isb_suite_options o = {.preset = "smoke", .out = out_dir, .data_dir = data_dir, .seeds = 1};
    char summary_path[300];
    snprintf(summary_path, sizeof summary_path, "%s/second-suite.txt", out_dir);
    fflush(stdout);
    int saved = dup(1), fd = open(summary_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = isb_suite_run(test_ocl(), &o);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    TEST_OK(rc);
    char *summary = read_text(out_dir, "second-suite.txt");
    printf("%s", summary);
    int skipped = 0, lines = 0;
    for (const char *p = summary; (p = strstr(p, "(skipped: finished before)")); p++) skipped++;
    for (int i = 0; i < n; i++) lines += strstr(summary, names[i]) != NULL;
    assert_int_equal(lines, n);
    assert_int_equal(skipped, n);
    free(summary);
}

static void same_seed_same_metrics(void **state) {
    (void)state;
    char a[512], b[512], c[512];
    suite_dir(a, sizeof a, "running-loss-aug");
    snprintf(b, sizeof b, "%s/repeat/b", out_dir);
    isb_run_result res;
    run_config("running-loss-aug", b, NULL, 0, ISB_OK, &res);
    char *ma = metrics_without_wall(a), *mb = metrics_without_wall(b);
    assert_string_equal(ma, mb);
    char *ha = read_text(a, "scores_hist.csv"), *hb = read_text(b, "scores_hist.csv");
    assert_string_equal(ha, hb);
    /* another seed gives other numbers (one data epoch is enough to see it) */
    snprintf(c, sizeof c, "%s/repeat/c", out_dir);
    isb_config_override seed2[] = {{"seed", "2"}, {"max-epochs", "1"}};
    run_config("running-loss-aug", c, seed2, 2, ISB_OK, &res);
    char *mc = metrics_without_wall(c);
    assert_int_equal(count_lines(mc), 2);
    assert_memory_not_equal(ma, mc, strlen(mc));
    free(ma); free(mb); free(mc); free(ha); free(hb);
}

/* Interrupted by the test hook `hook` (stop-after-step or stop-in-evaluation) at `at` and resumed =
 * uninterrupted, bit for bit (wall time aside). */
static void check_resume(const char *name, const char *hook, const char *at, const char *tag) {
    char a[512], b[512];
    suite_dir(a, sizeof a, name); /* the uninterrupted run */
    snprintf(b, sizeof b, "%s/resume-%s", out_dir, tag);
    isb_run_result res;
    isb_config_override stop = {hook, at};
    isb_stop_clear();
    run_config(name, b, &stop, 1, ISB_ERR_INTERRUPTED, &res);
    isb_stop_clear();
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoint.isbc", b);
    assert_true(isb_file_exists(path));
    char *manifest = read_text(b, "manifest.json");
    assert_non_null(strstr(manifest, "\"interrupted\""));
    free(manifest);
    run_config(name, b, NULL, 0, ISB_OK, &res);
    assert_true(res.resumed);
    assert_false(isb_file_exists(path));
    char *ma = metrics_without_wall(a), *mb = metrics_without_wall(b);
    printf("  %s interrupted (%s %s) and resumed:\n%s", name, hook, at, mb);
    assert_string_equal(ma, mb);
    char *ha = read_text(a, "scores_hist.csv"), *hb = read_text(b, "scores_hist.csv");
    assert_string_equal(ha, hb);
    free(ma); free(mb); free(ha); free(hb);
}

static void interrupt_and_resume_equals_uninterrupted(void **state) {
    (void)state;
    /* last loss: stopped inside the uniform warm-up epoch; running loss: inside an importance-sampled
     * epoch of the second data epoch, with a data-epoch boundary and partial batches before it */
    check_resume("last-loss-noaug", "stop-after-step", "1", "warmup");
    check_resume("running-loss-aug", "stop-after-step", "4", "sampled");
    /* a stop in the middle of an evaluation (after its first test batch): the evaluation is left
     * pending and done first by the resumed run */
    check_resume("running-loss-aug", "stop-in-evaluation", "1", "in-evaluation");
}

/* After a warm-up epoch (a uniform pass over all N), every score has been set once: none is left
 * at its initial 0. Without warm-up, the importance-sampled epochs (|Z| = 16% of N) leave some. */
static void warmup_is_a_uniform_pass(void **state) {
    (void)state;
    int64_t zero_with = -1, zero_without = -1;
    for (int w = 0; w < 2; w++) {
        char dir[512];
        if (w) {
            suite_dir(dir, sizeof dir, "last-loss-aug"); /* smoke: one warm-up epoch */
        } else {
            snprintf(dir, sizeof dir, "%s/no-warmup", out_dir);
            isb_config_override ov[] = {{"warmup", "0"}, {"max-epochs", "1"}};
            isb_run_result res;
            run_config("last-loss-aug", dir, ov, 2, ISB_OK, &res);
        }
        char *hist = read_text(dir, "scores_hist.csv");
        long long epoch, count;
        double lo, hi;
        assert_int_equal(sscanf(strchr(hist, '\n') + 1, "%lld,%lf,%lf,%lld", &epoch, &lo, &hi, &count), 4);
        assert_int_equal(epoch, 1);
        assert_true(lo == 0);
        *(w ? &zero_with : &zero_without) = count;
        free(hist);
    }
    printf("  scores still 0 after data epoch 1: %lld with warm-up, %lld without\n", (long long)zero_with,
           (long long)zero_without);
    assert_int_equal(zero_with, 0);
    assert_true(zero_without > 0);
}

static void finished_skipped_and_foreign_dir_refused(void **state) {
    (void)state;
    char dir[512];
    suite_dir(dir, sizeof dir, "uniform-noaug");
    isb_run_result res;
    char *before = read_text(dir, "metrics.csv"), *man_before = read_text(dir, "manifest.json");
    run_config("uniform-noaug", dir, NULL, 0, ISB_OK, &res);
    assert_true(res.skipped);
    isb_config_override lr = {"lr", "0.05"};
    run_config("uniform-noaug", dir, &lr, 1, ISB_ERR_USAGE, &res);
    assert_non_null(strstr(isb_last_error(), "another configuration"));
    run_config("last-loss-noaug", dir, NULL, 0, ISB_ERR_USAGE, &res);
    char *after = read_text(dir, "metrics.csv"), *man_after = read_text(dir, "manifest.json");
    assert_string_equal(before, after);
    assert_string_equal(man_before, man_after);
    free(before); free(after); free(man_before); free(man_after);
}

/* Importance weights (copied per batch on the device) and draws with replacement run end to end. */
static void weighted_draws_with_replacement_run(void **state) {
    (void)state;
    const char *modes[][2] = {{"alias", "inverse-p"}, {"gumbel-topk", "ht"}};
    for (int i = 0; i < 2; i++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/weighted-%s", out_dir, modes[i][1]);
        isb_config_override ov[] = {{"draw", modes[i][0]}, {"weights", modes[i][1]}, {"warmup", "0"},
                                    {"temperature", "0.5"}, {"max-epochs", "1"}};
        isb_run_result res;
        run_config("running-loss-noaug", dir, ov, 5, ISB_OK, &res);
        assert_int_equal(res.data_epochs, 1);
        char *m = metrics_without_wall(dir);
        double v[7];
        assert_int_equal(sscanf(strchr(m, '\n') + 1, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4],
                                &v[5], &v[6]), 7);
        assert_true(isfinite(v[3]) && v[3] > 0 && isfinite(v[5]) && v[5] > 0);
        printf("  --draw %s --weights %s: train loss %.4f, test loss %.4f\n", modes[i][0], modes[i][1], v[3], v[5]);
        free(m);
    }
}

static void z_larger_than_n_refused(void **state) {
    (void)state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/bad-z", out_dir);
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "smoke", "last-loss-aug"));
    c.z = env.train.n + 1; /* drawn without replacement */
    isb_run_result res;
    assert_int_equal(isb_train_run(&env, &c, dir, "smoke", NULL, &res), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "without replacement"));
    char path[600];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    assert_false(isb_file_exists(path));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_configuration_end_to_end),
        cmocka_unit_test(same_seed_same_metrics),
        cmocka_unit_test(interrupt_and_resume_equals_uninterrupted),
        cmocka_unit_test(warmup_is_a_uniform_pass),
        cmocka_unit_test(finished_skipped_and_foreign_dir_refused),
        cmocka_unit_test(weighted_draws_with_replacement_run),
        cmocka_unit_test(z_larger_than_n_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
