/* Host-only pieces of the training loop: named configurations and presets (Appendix A), option
 * parsing and its errors, |Z| scaling, the lr schedule, both early-stopping rules, score histogram
 * bins, the result-file writers and the run-directory ownership check. No device needed. */
#include "testutil.h"
#include "nn/model_limits.h"
#include "nn/resnet18.h"
#include "results/run_files.h"
#include "results/score_hist.h"
#include "train/schedule.h"
#include "config/train_config.h"
#include "util/error.h"
#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void appendix_a_defaults(void **state) {
    (void)state;
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "paper", "last-loss-aug"));
    assert_int_equal(c.sampler, ISB_SAMPLER_LAST_LOSS);
    assert_true(c.augment && c.normalize);
    assert_int_equal(c.width, 64);
    assert_int_equal(c.train_subset, 0);
    assert_int_equal(isb_train_config_z(&c, 50000), 8192);
    assert_int_equal(c.warmup_epochs, 5);
    assert_int_equal(c.batch, 128);
    assert_float_equal(c.lr, 0.01f, 1e-9);
    assert_float_equal(c.momentum, 0.9f, 1e-9);
    assert_float_equal(c.weight_decay, 5e-4f, 1e-12);
    assert_int_equal(c.n_milestones, 2);
    assert_int_equal(c.milestones[0], 15);
    assert_int_equal(c.milestones[1], 30);
    assert_int_equal(c.patience, 15);
    assert_int_equal(c.draw, ISB_DRAW_GUMBEL_TOPK);
    assert_int_equal(c.weights, ISB_WEIGHTS_NONE);

    TEST_OK(isb_train_config_init(&c, "paper", "running-loss-noaug"));
    assert_int_equal(c.sampler, ISB_SAMPLER_RUNNING_LOSS);
    assert_false(c.augment);
    assert_false(c.normalize); /* docs/protocol-notes.md, note 5 */
    assert_int_equal(isb_train_config_z(&c, 50000), 30000);
    assert_float_equal(c.beta, 0.2f, 1e-9);
    assert_int_equal(c.warmup_epochs, 0);

    TEST_OK(isb_train_config_init(&c, "paper", "uniform-noaug"));
    assert_int_equal(isb_train_config_z(&c, 50000), 50000);
    assert_int_equal(c.warmup_epochs, 0);

    /* a subset keeps the fractions of N */
    TEST_OK(isb_train_config_init(&c, "quick", "last-loss-aug"));
    assert_int_equal(isb_train_config_z(&c, c.train_subset), (int)lround(c.train_subset * 8192.0 / 50000.0));
    assert_int_equal(isb_train_config_z(&c, 5000), 819);
    TEST_OK(isb_train_config_init(&c, "quick", "running-loss-aug"));
    assert_int_equal(isb_train_config_z(&c, 5000), 3000);
    assert_true(c.width < 64 && c.train_subset > 0 && c.max_epochs < 100);
}

static void every_name_and_preset_builds(void **state) {
    (void)state;
    int n;
    const char *const *names = isb_train_config_names(&n);
    assert_true(n >= 6); /* the study's six; more samplers may follow */
    for (const char *const *p = isb_train_preset_names(); *p; p++)
        for (int i = 0; i < n; i++) {
            isb_train_config c;
            TEST_OK(isb_train_config_make(&c, *p, names[i], NULL, 0));
            assert_string_equal(c.name, names[i]);
            assert_int_equal(c.augment, strstr(names[i], "-aug") != NULL);
            for (int j = 0; j < i; j++) assert_string_not_equal(names[i], names[j]);
            /* milestones inside the run and patience possible within the cap */
            for (int m = 0; m < c.n_milestones; m++) assert_true(c.milestones[m] <= c.max_epochs);
        }
}

static void overrides_apply_and_check(void **state) {
    (void)state;
    isb_train_config c;
    isb_config_override ov[] = {{"lr", "0.1"}, {"milestones", "3,7"}, {"draw", "alias"}, {"weights", "inverse-p"},
                                {"normalize", ""}, {"z", "100"}, {"early-stop", "cumulative"}, {"seed", "42"}};
    TEST_OK(isb_train_config_make(&c, "quick", "last-loss-noaug", ov, 8));
    assert_float_equal(c.lr, 0.1f, 1e-9);
    assert_int_equal(c.n_milestones, 2);
    assert_int_equal(c.milestones[1], 7);
    assert_int_equal(c.draw, ISB_DRAW_ALIAS);
    assert_int_equal(c.weights, ISB_WEIGHTS_INVERSE_P);
    assert_true(c.normalize);
    assert_int_equal(isb_train_config_z(&c, 5000), 100);
    assert_int_equal(c.early_stop, ISB_EARLY_STOP_CUMULATIVE);
    assert_int_equal(c.seed, 42);
}

static void expect_usage_error(const char *preset, const char *name, const char *key, const char *value,
                               const char *needle) {
    isb_train_config c;
    isb_config_override ov = {key, value};
    int rc = isb_train_config_make(&c, preset, name, key ? &ov : NULL, key ? 1 : 0);
    if (rc != ISB_ERR_USAGE)
        fail_msg("%s %s --%s %s: expected a usage error, got %d", preset, name, key ? key : "", value ? value : "", rc);
    if (!strstr(isb_last_error(), needle))
        fail_msg("error message '%s' lacks '%s'", isb_last_error(), needle);
    printf("  refused as expected: %s\n", isb_last_error());
}

static void bad_input_is_refused(void **state) {
    (void)state;
    expect_usage_error("quick", "uniform-fancy", NULL, NULL, "unknown configuration 'uniform-fancy'");
    expect_usage_error("huge", "uniform-aug", NULL, NULL, "unknown preset 'huge'");
    expect_usage_error("quick", "running-loss-aug", "beta", "1.5", "--beta must be in [0, 1]");
    expect_usage_error("quick", "running-loss-aug", "beta", "-0.1", "--beta");
    expect_usage_error("quick", "last-loss-aug", "temperature", "0", "--temperature");
    expect_usage_error("quick", "last-loss-aug", "temperature", "-1", "--temperature");
    expect_usage_error("quick", "last-loss-aug", "lr", "abc", "--lr needs a number");
    expect_usage_error("quick", "last-loss-aug", "batch", "0", "--batch must be in");
    expect_usage_error("quick", "last-loss-aug", "batch", "12.5", "needs an integer");
    expect_usage_error("quick", "last-loss-aug", "draw", "magic", "use one of alias, cdf, gumbel-topk");
    expect_usage_error("quick", "last-loss-aug", "milestones", "5,3", "must increase");
    expect_usage_error("quick", "last-loss-aug", "seed", "-3", "non-negative");
    expect_usage_error("quick", "last-loss-aug", "nonsense", "1", "unknown training option");

    /* |Z| > N without replacement is only known once N is */
    isb_train_config c;
    isb_config_override ov = {"z", "1500"};
    TEST_OK(isb_train_config_make(&c, "quick", "last-loss-aug", &ov, 1));
    assert_int_equal(isb_train_config_validate(&c, 1000), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "without replacement"));
    printf("  refused as expected: %s\n", isb_last_error());
    c.draw = ISB_DRAW_ALIAS; /* with replacement it is fine */
    TEST_OK(isb_train_config_validate(&c, 1000));
    c.weights = ISB_WEIGHTS_HT; /* Horvitz-Thompson weights need draws without replacement */
    assert_int_equal(isb_train_config_validate(&c, 1000), ISB_ERR_USAGE);
    /* with a subset, |Z| > N is caught before any data is loaded */
    isb_config_override big = {"z", "2001"};
    assert_int_equal(isb_train_config_make(&c, "quick", "last-loss-aug", &big, 1), ISB_ERR_USAGE);
}

static void lr_schedule_steps_at_milestones(void **state) {
    (void)state;
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "paper", "uniform-aug"));
    assert_float_equal(isb_lr_at(&c, 0), 0.01, 1e-9);
    assert_float_equal(isb_lr_at(&c, 14), 0.01, 1e-9);
    assert_float_equal(isb_lr_at(&c, 15), 0.001, 1e-9);
    assert_float_equal(isb_lr_at(&c, 29), 0.001, 1e-9);
    assert_float_equal(isb_lr_at(&c, 30), 0.0001, 1e-10);
    assert_float_equal(isb_lr_at(&c, 99), 0.0001, 1e-10);
}

static void early_stop_rules(void **state) {
    (void)state;
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "paper", "uniform-aug"));
    c.patience = 3;
    /* best: the counter resets on improvement */
    const double accs[] = {0.50, 0.49, 0.48, 0.51, 0.50, 0.50, 0.50};
    isb_early_stop es;
    isb_early_stop_init(&es);
    int stopped_at = -1;
    for (int i = 0; i < 7 && stopped_at < 0; i++)
        if (isb_early_stop_update(&es, &c, accs[i])) stopped_at = i;
    assert_int_equal(stopped_at, 6);
    assert_float_equal(es.best_acc, 0.51, 1e-12);

    /* cumulative: never reset, and 3-decimal rounding makes 0.5004 no improvement over 0.500 */
    c.early_stop = ISB_EARLY_STOP_CUMULATIVE;
    const double accs2[] = {0.500, 0.499, 0.5004, 0.6, 0.7, 0.65};
    isb_early_stop_init(&es);
    stopped_at = -1;
    for (int i = 0; i < 6 && stopped_at < 0; i++)
        if (isb_early_stop_update(&es, &c, accs2[i])) stopped_at = i;
    assert_int_equal(stopped_at, 5);
}

static void histogram_bins(void **state) {
    (void)state;
    double lo, hi, prev_hi = 0;
    for (int b = 0; b < ISB_HIST_BINS; b++) {
        isb_score_hist_edges(b, &lo, &hi);
        assert_true(lo == prev_hi || fabs(lo - prev_hi) < 1e-12 * hi);
        assert_true(hi > lo);
        prev_hi = hi;
    }
    assert_true(isinf(prev_hi));
    isb_score_hist_edges(1, &lo, &hi);
    assert_float_equal(lo, 1e-4, 1e-16);
    isb_score_hist_edges(ISB_HIST_BINS - 1, &lo, &hi);
    assert_float_equal(lo, 1e2, 1e-9);
    /* every value lands in the bin whose edges contain it (random values over the whole range) */
    float v[2000];
    test_fill_uniform(v, 2000, -6, 3, 7);
    for (int i = 0; i < 2000; i++) {
        float x = powf(10.0f, v[i]);
        int b = isb_score_hist_bin(x);
        isb_score_hist_edges(b, &lo, &hi);
        if (!(x >= lo && x < hi)) fail_msg("%g put in bin %d [%g, %g)", (double)x, b, lo, hi);
    }
    assert_int_equal(isb_score_hist_bin(0.0f), 0);
    assert_int_equal(isb_score_hist_bin(-1.0f), 0);
    assert_int_equal(isb_score_hist_bin(1e-4f * 1.0001f), 1);
    assert_int_equal(isb_score_hist_bin(1e9f), ISB_HIST_BINS - 1);
    assert_int_equal(isb_score_hist_bin(NAN), -1);
    int64_t counts[ISB_HIST_BINS];
    float s[5] = {0, 1, 1, 1000, NAN};
    isb_score_hist_compute(counts, s, 5);
    int64_t total = 0;
    for (int b = 0; b < ISB_HIST_BINS; b++) total += counts[b];
    assert_int_equal(total, 4);
    assert_int_equal(counts[isb_score_hist_bin(1.0f)], 2);
}

static char *temp_dir(void) {
    char *d = strdup("/tmp/isb_test_train_XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void result_files_and_ownership(void **state) {
    (void)state;
    char *dir = temp_dir();
    isb_metrics_row rows[2] = {{1, 5000, 1.5, 0.01, 2.0, 0.25, 1.9, 0.3}, {2, 10000, 3.0, 0.01, 1.5, 0.45, 1.4, 0.5}};
    TEST_OK(isb_write_metrics_csv(dir, rows, 2));
    char path[512], *text;
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    TEST_OK(isb_read_file(path, &text, NULL));
    assert_non_null(strstr(text, "data_epoch,samples_seen,wall_s,lr,train_loss,train_acc,test_loss,test_acc\n"));
    assert_non_null(strstr(text, "\n2,10000,3.000,0.01,1.5,0.45,1.4,0.5\n"));
    free(text);

    int epochs[1] = {1};
    int64_t hist[ISB_HIST_BINS] = {0};
    hist[0] = 3;
    TEST_OK(isb_write_scores_hist_csv(dir, epochs, hist, 1));
    snprintf(path, sizeof path, "%s/scores_hist.csv", dir);
    TEST_OK(isb_read_file(path, &text, NULL));
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    assert_int_equal(lines, 1 + ISB_HIST_BINS);
    assert_non_null(strstr(text, "1,0,0.0001,3\n"));
    assert_non_null(strstr(text, "1,100,inf,0\n"));
    free(text);

    isb_phase_times t = {.init = 0.5, .training = 1, .evaluation = 2, .sampling = 3, .score_update = -1, .data = -1,
                         .total = 7};
    TEST_OK(isb_write_timing_csv(dir, &t));
    snprintf(path, sizeof path, "%s/timing.csv", dir);
    TEST_OK(isb_read_file(path, &text, NULL));
    assert_non_null(strstr(text, "phase,seconds\ninit,0.500000\ntraining,1.000000\nevaluation,2.000000\nsampling,3.000000\n"
                                 "score_update,nan\ndata,nan\ntotal,7.000000\n"));
    free(text);

    /* ownership: a new dir is NEW; the same configuration is UNFINISHED/FINISHED; another is refused */
    isb_train_config a, b;
    TEST_OK(isb_train_config_init(&a, "smoke", "uniform-aug"));
    TEST_OK(isb_train_config_init(&b, "smoke", "last-loss-aug"));
    json_t *ja = isb_train_config_to_json(&a), *jb = isb_train_config_to_json(&b);
    isb_run_state st;
    char why[600];
    TEST_OK(isb_run_dir_check(dir, ja, &st, why, sizeof why));
    assert_int_equal(st, ISB_RUN_NEW);
    json_t *m = json_pack("{s:O, s:s}", "configuration", ja, "status", "interrupted");
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    TEST_OK(isb_write_json_atomic(path, m));
    TEST_OK(isb_run_dir_check(dir, ja, &st, why, sizeof why));
    assert_int_equal(st, ISB_RUN_UNFINISHED);
    assert_int_equal(isb_run_dir_check(dir, jb, &st, why, sizeof why), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "another configuration (name is \"uniform-aug\" there, \"last-loss-aug\" here;"));
    assert_non_null(strstr(isb_last_error(), "--restart"));
    printf("  refused as expected: %s\n", isb_last_error());
    /* "finished" only with its stop rule reached: --max-epochs (2 in smoke) data epochs, or an early stop */
    json_object_set_new(m, "status", json_string("finished"));
    json_object_set_new(m, "progress", json_pack("{s:i}", "data_epochs", 1));
    TEST_OK(isb_write_json_atomic(path, m));
    assert_int_equal(isb_run_dir_check(dir, ja, &st, why, sizeof why), ISB_ERR_FORMAT);
    assert_non_null(strstr(isb_last_error(), "short of its stop rule"));
    json_object_set_new(m, "progress", json_pack("{s:i}", "data_epochs", 2));
    TEST_OK(isb_write_json_atomic(path, m));
    TEST_OK(isb_run_dir_check(dir, ja, &st, why, sizeof why));
    assert_int_equal(st, ISB_RUN_FINISHED);
    /* a seed is part of the configuration */
    a.seed = 2;
    json_t *ja2 = isb_train_config_to_json(&a);
    assert_int_equal(isb_run_dir_check(dir, ja2, &st, why, sizeof why), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "(seed is 1 there, 2 here)"));
    json_decref(ja); json_decref(ja2); json_decref(jb); json_decref(m);

    const char *names[] = {"metrics.csv", "scores_hist.csv", "timing.csv", "manifest.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

/* One set of limits: what the options accept, isb_train_config_validate and the model accept too,
 * and a field set directly (not through an option) is held to the option's range. */
static void limits_agree_with_the_model(void **state) {
    (void)state;
    char text[32];
    isb_train_config c;
    TEST_OK(isb_train_config_init(&c, "smoke", "uniform-aug"));
    snprintf(text, sizeof text, "%d", ISB_MODEL_MAX_WIDTH);
    TEST_OK(isb_train_config_set(&c, "width", text));
    isb_model_config mc = {.width = c.width, .in_channels = 3, .classes = 10, .image_size = 32};
    TEST_OK(isb_resnet18_check_config(&mc));
    snprintf(text, sizeof text, "%d", ISB_MODEL_MAX_WIDTH + 1);
    assert_int_equal(isb_train_config_set(&c, "width", text), ISB_ERR_USAGE);
    mc.width = ISB_MODEL_MAX_WIDTH + 1;
    assert_int_equal(isb_resnet18_check_config(&mc), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "model width"));
    snprintf(text, sizeof text, "%d", ISB_MODEL_MAX_BATCH);
    TEST_OK(isb_train_config_set(&c, "batch", text));

    TEST_OK(isb_train_config_init(&c, "smoke", "running-loss-aug"));
    c.beta = 1.5f;
    assert_int_equal(isb_train_config_validate(&c, 0), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "--beta must be in [0, 1]"));
    TEST_OK(isb_train_config_init(&c, "smoke", "running-loss-aug"));
    c.width = ISB_MODEL_MAX_WIDTH + 1;
    assert_int_equal(isb_train_config_validate(&c, 0), ISB_ERR_USAGE);
    TEST_OK(isb_train_config_init(&c, "smoke", "running-loss-aug"));
    c.milestones[0] = 0;
    assert_int_equal(isb_train_config_validate(&c, 0), ISB_ERR_USAGE);
    /* the batch against N, known once the data is */
    TEST_OK(isb_train_config_init(&c, "smoke", "running-loss-aug"));
    TEST_OK(isb_train_config_validate(&c, 0));
    assert_int_equal(isb_train_config_validate(&c, c.batch - 1), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "lower --batch"));
}

/* Errors carry file:line when the caller passes them (isb_fail does in debug builds). */
static void error_location(void **state) {
    (void)state;
    assert_int_equal(isb_fail_at("/home/x/isbench/src/util/thing.c", 42, ISB_ERR_IO, "cannot %s", "read"),
                     ISB_ERR_IO);
    assert_string_equal(isb_last_error(), "cannot read [src/util/thing.c:42]");
    assert_int_equal(isb_fail_at(NULL, 0, ISB_ERR_IO, "cannot %s", "read"), ISB_ERR_IO);
    assert_string_equal(isb_last_error(), "cannot read");
    isb_fail(ISB_ERR_USAGE, "x");
#ifdef NDEBUG
    assert_string_equal(isb_last_error(), "x");
#else
    assert_non_null(strstr(isb_last_error(), "test_train_config.c:"));
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appendix_a_defaults),       cmocka_unit_test(every_name_and_preset_builds),
        cmocka_unit_test(overrides_apply_and_check), cmocka_unit_test(bad_input_is_refused),
        cmocka_unit_test(lr_schedule_steps_at_milestones), cmocka_unit_test(early_stop_rules),
        cmocka_unit_test(histogram_bins),            cmocka_unit_test(result_files_and_ownership),
        cmocka_unit_test(limits_agree_with_the_model), cmocka_unit_test(error_location),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
