/* isbench compare A B: two benchmark folders or two training suites side by side (src/results/compare.h). */
#include "cli/cli.h"
#include "results/compare.h"

#include <libgen.h>
#include <stdio.h>
#include <string.h>

static const char about[] =
    "Compares two benchmark folders (bench/run.sh: results/bench/<device>) or two training suites\n"
    "(results/<suite>); A is the baseline. Writes DIR/compare.md, compare.csv and compare.png (gnuplot,\n"
    "from compare.gp + compare.dat) and prints the table.\n"
    "  benchmark folders: per benchmark, the median time over the repetitions of each side, B / A, and\n"
    "      the two-sided Mann–Whitney U p-value (as Google Benchmark's compare.py); with too few\n"
    "      repetitions for p < 0.05 to be possible it says so (bench/run.sh --repetitions 5).\n"
    "  suites: per configuration, last and best test accuracy and time to target accuracy, mean ± sd\n"
    "      with a 95% interval over the finished seeds, and B - A with Welch's t test (p < 0.05).\n"
    "      Runs of different protocols (preset, width, |Z|, weights, dataset) are refused, naming the field.";

static const isb_option_def compare_opts[] = {
    {"out", "DIR", ISB_ARG_TEXT, 1, 0, NULL, "output folder (default: compare-<A>-vs-<B>)"},
    {"force", NULL, ISB_ARG_SWITCH, 0, 0, NULL, "compare runs of different protocols anyway (the differences are listed)"},
    {"target-acc", "PCT", ISB_ARG_DOUBLE, 0.01, 100, NULL,
     "time-to-target accuracy in percent (default: 90% of the best mean last\n"
     "test accuracy of any configuration on either side, as make-figures)"},
};

int cmd_compare(int argc, char **argv) {
    isb_compare_options o = {0};
    double pct = 0;
    void *values[] = {&o.out_dir, &o.force, &pct};
    isb_cmdline p;
    isb_cmdline_init(&p, "compare", "isbench compare A B [-o DIR] [--force] [--target-acc PCT]", about);
    for (size_t i = 0; i < sizeof compare_opts / sizeof compare_opts[0]; i++) {
        isb_cmdline_add(&p, &compare_opts[i], values[i]);
        if (i == 0) isb_cmdline_alias(&p, 'o'); /* -o DIR */
    }
    p.max_operands = 2;
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    if (p.n_operands != 2) return isb_cli_usage_error("compare", "needs two folders, A and B (got %d)", p.n_operands);
    o.a = p.operand[0];
    o.b = p.operand[1];
    o.target_acc = pct / 100;
    char default_out[1024], a_copy[512], b_copy[512];
    if (!o.out_dir) {
        snprintf(a_copy, sizeof a_copy, "%s", o.a);
        snprintf(b_copy, sizeof b_copy, "%s", o.b);
        snprintf(default_out, sizeof default_out, "compare-%s-vs-%s", basename(a_copy), basename(b_copy));
        o.out_dir = default_out;
    }
    int rc = isb_compare(&o);
    return rc < 0 ? isb_cli_fail("compare", rc) : ISB_EXIT_OK;
}
