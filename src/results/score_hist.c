/* Score histogram bins (see score_hist.h). */
#include "results/score_hist.h"

#include <math.h>
#include <string.h>

#define DECADE_BINS 10
#define LOG_LO (-4)

static double edge(int k) { return pow(10.0, LOG_LO + (double)k / DECADE_BINS); } /* k = 0..60 */

void isb_score_hist_edges(int b, double *lo, double *hi) {
    *lo = b == 0 ? 0.0 : edge(b - 1);
    *hi = b == ISB_HIST_BINS - 1 ? INFINITY : edge(b);
}

int isb_score_hist_bin(float v) {
    if (isnan(v)) return -1;
    double x = v;
    if (x < edge(0)) return 0;
    if (x >= edge(ISB_HIST_BINS - 2)) return ISB_HIST_BINS - 1;
    int k = (int)floor((log10(x) - LOG_LO) * DECADE_BINS);
    /* log10 rounding can be off by one next to an edge: settle it against the edges themselves */
    if (k < 0) k = 0;
    if (k > ISB_HIST_BINS - 3) k = ISB_HIST_BINS - 3;
    while (k > 0 && x < edge(k)) k--;
    while (k < ISB_HIST_BINS - 3 && x >= edge(k + 1)) k++;
    return k + 1;
}

void isb_score_hist_compute(int64_t *counts, const float *scores, int n) {
    memset(counts, 0, ISB_HIST_BINS * sizeof *counts);
    for (int i = 0; i < n; i++) {
        int b = isb_score_hist_bin(scores[i]);
        if (b >= 0) counts[b]++;
    }
}
