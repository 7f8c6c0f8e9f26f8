/* Statistics for comparing results (isbench compare): a sample's mean with a 95% interval, Welch's t
 * test for seeds, and the Mann–Whitney U test for benchmark repetitions as Google Benchmark's
 * compare.py uses it. The distributions (Student's t, the normal) and the enumeration of rank
 * assignments for the exact U come from GSL; nothing here approximates a distribution by hand. */
#ifndef ISB_RESULTS_STATS_H
#define ISB_RESULTS_STATS_H

#include <stdbool.h>

/* n values: mean, sample standard deviation, and the 95% t interval of the mean (NaN where n is
 * too small: sd and interval need n >= 2). */
typedef struct {
    int n;
    double mean, sd, ci_lo, ci_hi;
} isb_summary;
isb_summary isb_summarize(const double *x, int n);

/* Welch's two-sided t test of mean(b) - mean(a). Returns false (p NaN) when it cannot be done:
 * fewer than 2 values on a side, or no spread at all on either side. */
typedef struct {
    double diff, t, df, p;
} isb_welch;
bool isb_welch_test(const isb_summary *a, const isb_summary *b, isb_welch *out);

/* Two-sided Mann–Whitney U p-value of a against b (scipy.stats.mannwhitneyu's "auto": exact
 * distribution for small samples without ties, else the normal approximation with tie and
 * continuity corrections). */
double isb_mann_whitney_p(const double *a, int na, const double *b, int nb);
/* The smallest p-value the exact test can give for these sample sizes (2 / C(na+nb, na)): when it
 * is not below the significance level, no result of the test can mean anything. */
double isb_mann_whitney_min_p(int na, int nb);

#endif
