/* The statistics behind isbench compare (src/results/stats.c) and the benchmark table reader and
 * writer (src/results/bench_table.c), against values computed independently (R's t.test, scipy's
 * mannwhitneyu documentation example, direct evaluation of the formulas). No device needed. */
#include "testutil.h"
#include "results/bench_table.h"
#include "results/stats.h"
#include "util/csv.h"
#include "util/fileio.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void summary_and_interval(void **state) {
    (void)state;
    const double x[] = {1, 2, 3};
    isb_summary s = isb_summarize(x, 3);
    assert_int_equal(s.n, 3);
    assert_float_equal(s.mean, 2.0, 1e-12);
    assert_float_equal(s.sd, 1.0, 1e-12);
    /* t(0.975, 2) = 4.302653: half width 4.302653 / sqrt(3) */
    assert_float_equal(s.ci_lo, 2.0 - 2.484138, 1e-5);
    assert_float_equal(s.ci_hi, 2.0 + 2.484138, 1e-5);
    isb_summary one = isb_summarize(x, 1);
    assert_true(isnan(one.sd) && isnan(one.ci_lo));
}

static void welch_t(void **state) {
    (void)state;
    const double a[] = {1, 2, 3}, b[] = {4, 5, 6, 7};
    isb_summary sa = isb_summarize(a, 3), sb = isb_summarize(b, 4);
    isb_welch w;
    assert_true(isb_welch_test(&sa, &sb, &w));
    assert_float_equal(w.t, 4.041452, 1e-5);   /* R: t.test(c(4,5,6,7), c(1,2,3)) */
    assert_float_equal(w.df, 4.959184, 1e-5);
    assert_float_equal(w.p, 0.010077, 1e-5);
    isb_summary same = isb_summarize(a, 3);
    assert_true(isb_welch_test(&sa, &same, &w));
    assert_float_equal(w.p, 1.0, 1e-12);
    const double flat[] = {5, 5};
    isb_summary f = isb_summarize(flat, 2);
    assert_false(isb_welch_test(&f, &f, &w)); /* no spread on either side: no test */
    isb_summary one = isb_summarize(a, 1);
    assert_false(isb_welch_test(&sa, &one, &w)); /* one seed: no test */
}

static void mann_whitney(void **state) {
    (void)state;
    /* scipy.stats.mannwhitneyu docs: U = 17, exact two-sided p = 14/126, asymptotic 0.111347 */
    const double males[] = {19, 22, 16, 29, 24}, females[] = {20, 11, 17, 12};
    assert_float_equal(isb_mann_whitney_p(males, 5, females, 4), 14.0 / 126.0, 1e-12);
    assert_float_equal(isb_mann_whitney_p(females, 4, males, 5), 14.0 / 126.0, 1e-12);
    /* fully separated 4 vs 4: the smallest exact p, 2 / C(8,4) */
    const double lo[] = {1, 2, 3, 4}, hi[] = {5, 6, 7, 8};
    assert_float_equal(isb_mann_whitney_p(lo, 4, hi, 4), 2.0 / 70.0, 1e-12);
    assert_float_equal(isb_mann_whitney_min_p(4, 4), 2.0 / 70.0, 1e-12);
    assert_true(isb_mann_whitney_min_p(3, 3) >= 0.05); /* 3 vs 3 can never reach 0.05 */
    /* ties and 9 per side: normal approximation with tie and continuity corrections (U 14, tie
     * term 24, z 2.300609) */
    const double x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9.5}, y[] = {3, 5, 7, 9.5, 10, 11, 12, 13, 14};
    assert_float_equal(isb_mann_whitney_p(x, 9, y, 9), 0.0214137, 1e-6);
    assert_float_equal(isb_mann_whitney_p(x, 9, x, 9), 1.0, 1e-12);
}

/* Google Benchmark JSON with repetitions and aggregates -> the analysis CSV -> read back. */
static void bench_table_round_trip(void **state) {
    (void)state;
    char dir[] = "/tmp/isb-bench-table-XXXXXX", json[256], csv[256];
    assert_non_null(mkdtemp(dir));
    snprintf(json, sizeof json, "%s/sampling.json", dir);
    snprintf(csv, sizeof csv, "%s/sampling.csv", dir);
    const char *text =
        "{\"context\": {}, \"benchmarks\": [\n"
        "{\"name\": \"sampling.cdf.device/N:50000/Z:8192/manual_time\", \"run_name\": \"sampling.cdf.device/N:50000/Z:8192/manual_time\", "
        "\"run_type\": \"iteration\", \"repetition_index\": 0, \"iterations\": 10, \"real_time\": 2.0, \"cpu_time\": 1.0, \"time_unit\": \"ms\"},\n"
        "{\"name\": \"sampling.cdf.device/N:50000/Z:8192/manual_time\", \"run_name\": \"sampling.cdf.device/N:50000/Z:8192/manual_time\", "
        "\"run_type\": \"iteration\", \"repetition_index\": 1, \"iterations\": 10, \"real_time\": 2.2, \"cpu_time\": 1.0, \"time_unit\": \"ms\"},\n"
        "{\"name\": \"sampling.cdf.device/N:50000/Z:8192/manual_time_cv\", \"run_name\": \"sampling.cdf.device/N:50000/Z:8192/manual_time\", "
        "\"run_type\": \"aggregate\", \"aggregate_name\": \"cv\", \"aggregate_unit\": \"percentage\", \"iterations\": 2, "
        "\"real_time\": 0.0671, \"cpu_time\": 0.0, \"time_unit\": \"ms\"},\n"
        "{\"name\": \"train_step.w16.device/B:128/manual_time\", \"run_name\": \"train_step.w16.device/B:128/manual_time\", "
        "\"run_type\": \"iteration\", \"repetition_index\": 0, \"iterations\": 3, \"real_time\": 600, \"cpu_time\": 1, \"time_unit\": \"ms\", "
        "\"label\": \"a, quoted \\\"label\\\"\"}\n]}\n";
    TEST_OK(isb_write_file_atomic(json, text, strlen(text)));
    isb_bench_table t = {0}, back = {0};
    TEST_OK(isb_bench_table_read_file(json, &t));
    assert_int_equal(t.n, 4);
    assert_string_equal(t.rows[2].aggregate, "cv");
    assert_float_equal(t.rows[2].real_time, 6.71, 1e-9); /* percent, not a time */
    assert_true(isnan(isb_bench_row_seconds(&t.rows[2])));
    assert_float_equal(isb_bench_row_seconds(&t.rows[1]), 2.2e-3, 1e-15);
    isb_strbuf out = {0};
    isb_bench_table_write_csv(&t, &out);
    assert_non_null(strstr(out.data, "name,family,method,where,N,Z,B,W,aggregate,repetition,"));
    assert_non_null(strstr(out.data, "sampling.cdf.device/N:50000/Z:8192/manual_time,sampling,cdf,device,50000,8192,,,,1,"));
    assert_non_null(strstr(out.data, "train_step.w16.device/B:128/manual_time,train_step,w16,device,,,128,16,,0,"));
    assert_non_null(strstr(out.data, ",cv,,2,6.71,0,%,"));
    TEST_OK(isb_write_file_atomic(csv, out.data, out.len));
    TEST_OK(isb_bench_table_read_file(csv, &back));
    assert_int_equal(back.n, 4);
    assert_string_equal(back.rows[3].label, "a, quoted \"label\"");
    assert_string_equal(back.rows[2].aggregate, "cv");
    assert_int_equal(back.rows[1].repetition, 1);
    isb_strbuf_free(&out);
    isb_bench_table_free(&t);
    isb_bench_table_free(&back);
    unlink(json);
    unlink(csv);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(summary_and_interval),
        cmocka_unit_test(welch_t),
        cmocka_unit_test(mann_whitney),
        cmocka_unit_test(bench_table_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
