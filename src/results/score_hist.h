/* Score histograms (Appendix B): the same 62 bins for every data epoch of every run, so the plots
 * can stack them: [0, 1e-4), 60 log-spaced bins from 1e-4 to 1e2 (10 per decade), [1e2, inf).
 * Negative values (not produced by a loss) go to the first bin; NaN is not counted. */
#ifndef ISB_RESULTS_SCORE_HIST_H
#define ISB_RESULTS_SCORE_HIST_H

#include <stdint.h>

#define ISB_HIST_BINS 62

/* Edges of bin b (hi = INFINITY for the last). */
void isb_score_hist_edges(int b, double *lo, double *hi);
/* Bin index of a value, or -1 for NaN. */
int isb_score_hist_bin(float v);
/* counts[ISB_HIST_BINS] = 0, then adds every score. */
void isb_score_hist_compute(int64_t *counts, const float *scores, int n);

#endif
