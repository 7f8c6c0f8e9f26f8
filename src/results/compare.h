/* isbench compare: two benchmark folders (bench/run.sh) or two training suites side by side, with
 * the statistics a reader needs to tell a difference from noise. Writes compare.md, compare.csv and
 * a gnuplot figure (compare.gp + compare.dat -> compare.png) into the output folder and prints the
 * Markdown table.
 *   - benchmark folders: per benchmark in both, the median time over the repetitions of each side,
 *     the ratio B/A and the Mann–Whitney U p-value (as Google Benchmark's compare.py); sides with
 *     too few repetitions for the test to reach the significance level are said to be so.
 *   - suites: per configuration in both, last and best test accuracy and time to a target accuracy,
 *     each mean ± sd with a 95% interval over seeds, and B - A with Welch's t test. Runs of
 *     different protocols (preset, width, |Z|, weights, dataset) are refused unless forced. */
#ifndef ISB_RESULTS_COMPARE_H
#define ISB_RESULTS_COMPARE_H

#include "util/fileio.h"

#include <stdbool.h>

#define ISB_COMPARE_ALPHA 0.05 /* significance level of every test */

typedef struct {
    const char *a, *b;  /* the two folders: A is the baseline */
    const char *out_dir;
    bool force;         /* compare runs of different protocols anyway (the differences are listed) */
    double target_acc;  /* time-to-target accuracy as a fraction; <= 0: 90% of the best mean last accuracy */
} isb_compare_options;

int isb_compare(const isb_compare_options *o);

/* The two kinds (compare_bench.c, compare_suite.c) and what they share (compare.c): the text of
 * compare.md, compare.csv, compare.dat and compare.gp; writing writes them atomically into out_dir,
 * runs gnuplot there on compare.gp and prints the Markdown. */
typedef struct {
    isb_strbuf md, csv, dat, gp;
} isb_compare_text;
int isb_compare_write_outputs(const char *out_dir, const isb_compare_text *text);
void isb_compare_text_free(isb_compare_text *text);
/* The figure's title line "set title 'B = b  vs  A = a'" (quotes in the paths escaped). */
void isb_compare_title(isb_strbuf *gp, const char *a, const char *b);
/* Whether dir is a configuration folder of a suite: it holds some seed-<k>/manifest.json. */
bool isb_compare_is_config_dir(const char *dir);

int isb_compare_bench(const isb_compare_options *o);
int isb_compare_suites(const isb_compare_options *o);

#endif
