/* The suite's run matrix (src/suite/suite.h), host only: run numbering, shards that partition the
 * matrix for every shard count, --task, and the parsing of I/N with its errors. No device needed. */
#include "testutil.h"
#include "suite/suite.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

static isb_suite_options options(const char *const *configs, int n_configs, int seeds) {
    return (isb_suite_options){.preset = "smoke", .out = "res", .configs = configs, .n_configs = n_configs,
                               .seeds = seeds, .shard_index = 0, .shard_count = 1};
}

static void runs_are_numbered_seed_by_seed(void **state) {
    (void)state;
    isb_suite_options o = options(NULL, 0, 3); /* all six configurations */
    assert_int_equal(isb_suite_size(&o), 18);
    isb_suite_entry e;
    isb_suite_entry_at(&o, 0, &e);
    assert_string_equal(e.config, "uniform-aug");
    assert_int_equal(e.seed, 1);
    assert_string_equal(e.dir, "res/smoke/uniform-aug/seed-1");
    isb_suite_entry_at(&o, 13, &e);
    assert_string_equal(e.config, "uniform-noaug");
    assert_int_equal(e.seed, 3);
    const char *two[] = {"running-loss-noaug", "last-loss-aug"};
    o = options(two, 2, 2);
    o.name = "mine";
    isb_suite_entry_at(&o, 3, &e);
    assert_string_equal(e.config, "last-loss-aug");
    assert_int_equal(e.seed, 2);
    assert_string_equal(e.dir, "res/mine/last-loss-aug/seed-2");
}

/* For every matrix size and shard count, each run belongs to exactly one shard, and the shards'
 * sizes differ by at most one. */
static void shards_partition_the_matrix(void **state) {
    (void)state;
    const char *configs[] = {"uniform-aug", "uniform-noaug", "last-loss-aug"};
    for (int n_configs = 1; n_configs <= 3; n_configs++)
        for (int seeds = 1; seeds <= 7; seeds++)
            for (int shards = 1; shards <= 25; shards++) {
                isb_suite_options o = options(configs, n_configs, seeds);
                int m = isb_suite_size(&o), min = m, max = 0;
                int owners[21] = {0};
                o.shard_count = shards;
                for (o.shard_index = 0; o.shard_index < shards; o.shard_index++) {
                    int mine = 0;
                    for (int j = 0; j < m; j++)
                        if (isb_suite_selected(&o, j)) owners[j]++, mine++;
                    if (mine < min) min = mine;
                    if (mine > max) max = mine;
                }
                for (int j = 0; j < m; j++) assert_int_equal(owners[j], 1);
                assert_true(max - min <= 1);
            }
}

static void task_selects_one_run(void **state) {
    (void)state;
    isb_suite_options o = options(NULL, 0, 2);
    o.has_task = true;
    o.task = 7;
    for (int j = 0; j < isb_suite_size(&o); j++) assert_int_equal(isb_suite_selected(&o, j), j == 7);
    TEST_OK(isb_suite_check_selection(&o));
    o.task = 12;
    assert_int_equal(isb_suite_check_selection(&o), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "--task 12 is out of range: this suite has 12 runs, 0..11"));
}

static void shard_specs_parse_or_fail_clearly(void **state) {
    (void)state;
    int i = -1, n = -1;
    TEST_OK(isb_suite_parse_shard("0/1", &i, &n));
    assert_true(i == 0 && n == 1);
    TEST_OK(isb_suite_parse_shard("17/18", &i, &n));
    assert_true(i == 17 && n == 18);
    const struct { const char *text, *message; } bad[] = {
        {"4/4", "shard index 4 is out of range: shards of 4 are 0/4 .. 3/4"},
        {"0/0", "the number of shards N must be at least 1"},
        {"1", "--shard takes I/N"},       {"1/", "--shard takes I/N"},   {"/4", "--shard takes I/N"},
        {"-1/4", "--shard takes I/N"},    {"1/4x", "--shard takes I/N"}, {"a/b", "--shard takes I/N"},
        {"1/+4", "--shard takes I/N"},    {"", "--shard takes I/N"},     {"99999999999/3", "--shard takes I/N"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        i = n = -7;
        assert_int_equal(isb_suite_parse_shard(bad[k].text, &i, &n), ISB_ERR_USAGE);
        if (!strstr(isb_last_error(), bad[k].message)) fail_msg("'%s': got '%s'", bad[k].text, isb_last_error());
        assert_true(i == -7 && n == -7); /* nothing written on error */
    }
}

static void list_prints_the_selected_runs(void **state) {
    (void)state;
    const char *two[] = {"uniform-aug", "running-loss-aug"};
    isb_suite_options o = options(two, 2, 2);
    o.shard_index = 1;
    o.shard_count = 2;
    char buf[1024] = "";
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    isb_suite_list(&o, f);
    fclose(f);
    assert_string_equal(buf, "index\tconfig\tseed\tfolder\tstatus\n"
                             "1\trunning-loss-aug\t1\tres/smoke/running-loss-aug/seed-1\tnew\n"
                             "3\trunning-loss-aug\t2\tres/smoke/running-loss-aug/seed-2\tnew\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(runs_are_numbered_seed_by_seed), cmocka_unit_test(shards_partition_the_matrix),
        cmocka_unit_test(task_selects_one_run),           cmocka_unit_test(shard_specs_parse_or_fail_clearly),
        cmocka_unit_test(list_prints_the_selected_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
