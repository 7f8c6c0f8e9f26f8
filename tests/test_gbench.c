/* The C interface to Google Benchmark (bench/gbench.h): a tiny registered benchmark runs, its
 * counters, items/s, label and manual time arrive in the captured results with the arg names in
 * the benchmark name, the label and the context reach the written JSON results, and a benchmark
 * that calls skip_with_error is reported as failed. */
#include "testutil.h"
#include "gbench.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int body_calls;
static char out_path[] = "/tmp/isb_gbench_XXXXXX"; /* the JSON results (--benchmark_out) */
static int64_t seen_args[2][2];

static void bm_tiny(isb_bench_state *st, void *user) {
    int *calls = user;
    (*calls)++;
    int64_t n = isb_bench_arg(st, 0);
    seen_args[n == 7 ? 0 : 1][0] = n;
    seen_args[n == 7 ? 0 : 1][1] = isb_bench_arg(st, 1);
    volatile int64_t sink = 0;
    while (isb_bench_keep_running(st)) {
        for (int64_t i = 0; i < n; i++) sink += i;
        isb_bench_set_iteration_time(st, 1e-3); /* manual time: 1 ms per iteration */
    }
    isb_bench_set_items_processed(st, isb_bench_iterations(st) * n);
    isb_bench_set_counter(st, "answer", 42.0, ISB_COUNTER_DEFAULT);
    isb_bench_set_counter(st, "per_iter", (double)isb_bench_iterations(st) * 3.0, ISB_COUNTER_AVG_ITERATIONS);
    isb_bench_set_label(st, "tiny-label");
}

static void bm_fails(isb_bench_state *st, void *user) {
    (void)user;
    isb_bench_skip_with_error(st, "reference check failed");
    while (isb_bench_keep_running(st)) {
    }
}

static int find(const char *name) {
    for (int i = 0; i < isb_bench_result_count(); i++)
        if (strcmp(isb_bench_result_get(i)->name, name) == 0) return i;
    return -1;
}

static void registered_benchmark_runs(void **state) {
    (void)state;
    static const char *const names[] = {"N", "Z", NULL};
    static const int64_t args[] = {7, 3, 11, 5};
    assert_int_equal(isb_bench_register(&(isb_bench_def){.name = "test.tiny.host", .fn = bm_tiny,
                                                          .user = &body_calls, .arg_names = names,
                                                          .args = args, .arg_sets = 2, .manual_time = true,
                                                          .unit = ISB_BENCH_US}),
                     0);
    assert_int_equal(isb_bench_register(&(isb_bench_def){.name = "test.fails.host", .fn = bm_fails}), 0);
    /* a def with named args but no vectors is refused */
    assert_int_equal(isb_bench_register(&(isb_bench_def){.name = "test.bad", .fn = bm_fails, .arg_names = names}),
                     -1);
    isb_bench_add_context("device", "test-device");

    int ran = isb_bench_run();
    assert_int_equal(ran, 3);
    assert_true(body_calls >= 2);
    assert_int_equal(seen_args[0][0], 7);
    assert_int_equal(seen_args[0][1], 3);
    assert_int_equal(seen_args[1][0], 11);
    assert_int_equal(seen_args[1][1], 5);

    int i = find("test.tiny.host/N:7/Z:3/manual_time");
    if (i < 0) {
        for (int k = 0; k < isb_bench_result_count(); k++) print_error("got: %s\n", isb_bench_result_get(k)->name);
        fail_msg("benchmark test.tiny.host/N:7/Z:3 missing from the results");
    }
    const isb_bench_result *r = isb_bench_result_get(i);
    assert_false(r->error_occurred);
    assert_true(r->iterations > 0);
    /* manual time of 1 ms per iteration, reported in microseconds */
    assert_true(fabs(r->real_time - 1000.0) < 1e-6);
    assert_true(fabs(isb_bench_result_counter(i, "answer") - 42.0) < 1e-12);
    assert_true(fabs(isb_bench_result_counter(i, "per_iter") - 3.0) < 1e-12);
    /* items/s = iterations * N / (iterations * 1 ms) */
    assert_true(fabs(isb_bench_result_counter(i, "items_per_second") - 7000.0) < 1e-6);
    assert_true(isnan(isb_bench_result_counter(i, "no_such_counter")));

    assert_true(find("test.tiny.host/N:11/Z:5/manual_time") >= 0);
    int f = find("test.fails.host");
    assert_true(f >= 0);
    assert_true(isb_bench_result_get(f)->error_occurred);
    assert_string_equal(isb_bench_result_get(f)->error_message, "reference check failed");

    /* the label and the context reach the written results (--benchmark_out, JSON) */
    json_error_t err;
    json_t *out = json_load_file(out_path, 0, &err);
    if (!out) fail_msg("%s: %s", out_path, err.text);
    assert_string_equal(json_string_value(json_object_get(json_object_get(out, "context"), "device")), "test-device");
    size_t k;
    json_t *b, *tiny = NULL;
    json_array_foreach(json_object_get(out, "benchmarks"), k, b)
        if (strcmp(json_string_value(json_object_get(b, "name")), "test.tiny.host/N:7/Z:3/manual_time") == 0) tiny = b;
    if (!tiny) fail_msg("%s lacks test.tiny.host/N:7/Z:3/manual_time", out_path);
    assert_string_equal(json_string_value(json_object_get(tiny, "label")), "tiny-label");
    json_decref(out);
}

int main(int argc, char **argv) {
    /* A short minimum time keeps the test quick; the flags are consumed by Google Benchmark. */
    char min_time[] = "--benchmark_min_time=0.01", out_flag[300], format[] = "--benchmark_out_format=json";
    int fd = mkstemp(out_path);
    if (fd < 0) return 1;
    close(fd);
    snprintf(out_flag, sizeof out_flag, "--benchmark_out=%s", out_path);
    char *bench_argv[] = {argv[0], min_time, out_flag, format, NULL};
    int bench_argc = 4;
    (void)argc;
    if (isb_bench_initialize(&bench_argc, bench_argv) != 0) return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(registered_benchmark_runs)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    isb_bench_shutdown();
    unlink(out_path);
    return failed;
}
