#include "results/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_combination.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

isb_summary isb_summarize(const double *x, int n) {
    isb_summary s = {.n = n, .mean = NAN, .sd = NAN, .ci_lo = NAN, .ci_hi = NAN};
    if (n < 1) return s;
    s.mean = gsl_stats_mean(x, 1, (size_t)n);
    if (n < 2) return s;
    s.sd = gsl_stats_sd_m(x, 1, (size_t)n, s.mean);
    double half = gsl_cdf_tdist_Pinv(0.975, n - 1) * s.sd / sqrt(n);
    s.ci_lo = s.mean - half;
    s.ci_hi = s.mean + half;
    return s;
}

bool isb_welch_test(const isb_summary *a, const isb_summary *b, isb_welch *out) {
    *out = (isb_welch){.diff = b->mean - a->mean, .t = NAN, .df = NAN, .p = NAN};
    if (a->n < 2 || b->n < 2) return false;
    double va = a->sd * a->sd / a->n, vb = b->sd * b->sd / b->n;
    if (!(va + vb > 0)) return false;
    out->t = out->diff / sqrt(va + vb);
    out->df = (va + vb) * (va + vb) / (va * va / (a->n - 1) + vb * vb / (b->n - 1));
    out->p = 2 * gsl_cdf_tdist_Q(fabs(out->t), out->df);
    return true;
}

/* U statistic of a (pairs a > b count 1, ties 1/2). */
static double u_statistic(const double *a, int na, const double *b, int nb) {
    double u = 0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) u += a[i] > b[j] ? 1.0 : a[i] == b[j] ? 0.5 : 0.0;
    return u;
}

/* sum over groups of tied values of t^3 - t, over the pooled sample (0 without ties). */
static double tie_term(const double *a, int na, const double *b, int nb) {
    int n = na + nb;
    double *all = malloc((size_t)n * sizeof *all);
    if (!all) return NAN;
    memcpy(all, a, (size_t)na * sizeof *all);
    memcpy(all + na, b, (size_t)nb * sizeof *all);
    gsl_sort(all, 1, (size_t)n);
    double term = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && all[j] == all[i]) j++;
        double t = j - i;
        term += t * t * t - t;
        i = j;
    }
    free(all);
    return term;
}

/* Exact two-sided p: the share of all C(na+nb, na) rank assignments whose U is at least as far
 * from na*nb/2 as the observed one (no ties, so ranks are 0..n-1). */
static double exact_p(double u, int na, int nb) {
    gsl_combination *c = gsl_combination_calloc((size_t)(na + nb), (size_t)na);
    if (!c) return NAN;
    double mid = na * (double)nb / 2, dist = fabs(u - mid), extreme = 0, total = 0;
    do {
        double rank_sum = 0;
        for (size_t i = 0; i < (size_t)na; i++) rank_sum += (double)gsl_combination_get(c, i);
        double uc = rank_sum - na * (na - 1) / 2.0;
        extreme += fabs(uc - mid) >= dist - 1e-9;
        total += 1;
    } while (gsl_combination_next(c) == GSL_SUCCESS);
    gsl_combination_free(c);
    return extreme / total;
}

double isb_mann_whitney_p(const double *a, int na, const double *b, int nb) {
    if (na < 1 || nb < 1) return NAN;
    double u = u_statistic(a, na, b, nb), ties = tie_term(a, na, b, nb);
    if (na <= 8 && nb <= 8 && ties == 0) return exact_p(u, na, nb);
    double n = na + nb, mu = na * (double)nb / 2;
    double sigma = sqrt(na * (double)nb / 12.0 * ((n + 1) - ties / (n * (n - 1))));
    if (!(sigma > 0)) return 1.0;
    double z = (fabs(u - mu) - 0.5) / sigma; /* continuity correction */
    double p = 2 * gsl_cdf_ugaussian_Q(z > 0 ? z : 0);
    return p > 1 ? 1 : p;
}

double isb_mann_whitney_min_p(int na, int nb) {
    if (na < 1 || nb < 1) return 1.0;
    return 2.0 / gsl_sf_choose((unsigned)(na + nb), (unsigned)na);
}
