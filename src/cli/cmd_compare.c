/* isbench compare A B: two benchmark folders or two training suites side by side (src/results/compare.h). */
#include "cli/cli.h"
#include "results/compare.h"

#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

static void help(void) {
    printf("usage: isbench compare A B [-o DIR] [--force] [--target-acc PCT]\n\n"
           "Compares two benchmark folders (bench/run.sh: results/bench/<device>) or two training suites\n"
           "(results/<suite>); A is the baseline. Writes DIR/compare.md, compare.csv and compare.png (gnuplot,\n"
           "from compare.gp + compare.dat) and prints the table.\n"
           "  benchmark folders: per benchmark, the median time over the repetitions of each side, B / A, and\n"
           "      the two-sided Mann–Whitney U p-value (as Google Benchmark's compare.py); with too few\n"
           "      repetitions for p < 0.05 to be possible it says so (bench/run.sh --repetitions 5).\n"
           "  suites: per configuration, last and best test accuracy and time to target accuracy, mean ± sd\n"
           "      with a 95%% interval over the finished seeds, and B - A with Welch's t test (p < 0.05).\n"
           "      Runs of different protocols (preset, width, |Z|, weights, dataset) are refused, naming the field.\n"
           "  -o, --out DIR      output folder (default: compare-<A>-vs-<B>)\n"
           "  --force            compare runs of different protocols anyway (the differences are listed)\n"
           "  --target-acc PCT   time-to-target accuracy in percent (default: 90%% of the best mean last\n"
           "                     test accuracy of any configuration on either side, as make-figures)\n");
}

int cmd_compare(int argc, char **argv) {
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'}, {"force", no_argument, NULL, 'f'},
                                         {"target-acc", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    isb_compare_options o = {0};
    double pct = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 'f': o.force = true; break;
        case 't':
            if (isb_cli_parse_double("compare", "--target-acc", optarg, 0.01, 100, &pct)) return ISB_EXIT_USAGE;
            o.target_acc = pct / 100;
            break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("compare", "unknown option");
        }
    }
    if (argc - optind != 2) return isb_cli_usage_error("compare", "needs two folders, A and B (got %d)", argc - optind);
    o.a = argv[optind];
    o.b = argv[optind + 1];
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
