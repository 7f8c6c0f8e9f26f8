/* isbench compare on two benchmark folders: per benchmark, the repetitions of each side. */
#include "results/bench_table.h"
#include "results/compare.h"
#include "results/stats.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/fileio.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The measured repetitions (not aggregates, not failed runs) of one benchmark name, in seconds. */
static int repetitions(const isb_bench_table *t, const char *name, double *out, int max) {
    int n = 0;
    for (int i = 0; i < t->n && n < max; i++) {
        const isb_bench_row *r = &t->rows[i];
        double s = isb_bench_row_seconds(r);
        if (!r->aggregate[0] && !r->error && isfinite(s) && strcmp(r->name, name) == 0) out[n++] = s;
    }
    return n;
}

static bool seen_before(const isb_bench_table *t, int i) {
    for (int j = 0; j < i; j++)
        if (strcmp(t->rows[j].name, t->rows[i].name) == 0 && !t->rows[j].aggregate[0] && !t->rows[j].error) return true;
    return false;
}

static double median(double *x, int n) {
    gsl_sort(x, 1, (size_t)n);
    return gsl_stats_median_from_sorted_data(x, 1, (size_t)n);
}

/* "1.23 ms" */
static void format_time(char *buf, size_t len, double s) {
    if (s >= 1) snprintf(buf, len, "%.3g s", s);
    else if (s >= 1e-3) snprintf(buf, len, "%.3g ms", s * 1e3);
    else if (s >= 1e-6) snprintf(buf, len, "%.3g µs", s * 1e6);
    else snprintf(buf, len, "%.3g ns", s * 1e9);
}

typedef struct {
    isb_compare_text text;
    int compared, significant, too_few, only_a;
} bench_report;

/* The verdict of one benchmark: the U test where the repetitions allow one. */
static const char *verdict(int na, int nb, double p, double ratio, char *buf, size_t len) {
    if (na < 2 || nb < 2 || isb_mann_whitney_min_p(na, nb) >= ISB_COMPARE_ALPHA) {
        snprintf(buf, len, "too few repetitions (%d, %d)", na, nb);
        return buf;
    }
    if (p >= ISB_COMPARE_ALPHA) return "no significant difference";
    return ratio < 1 ? "B faster (significant)" : "B slower (significant)";
}

static void compare_one(bench_report *rep, const char *name, double *a, int na, double *b, int nb) {
    double ma = median(a, na), mb = median(b, nb), ratio = mb / ma;
    double p = isb_mann_whitney_p(a, na, b, nb);
    char why[256], ta[32], tb[32];
    const char *v = verdict(na, nb, p, ratio, why, sizeof why);
    bool tested = strncmp(v, "too few", 7) != 0;
    format_time(ta, sizeof ta, ma);
    format_time(tb, sizeof tb, mb);
    isb_strbuf_printf(&rep->text.md, "| `%s` | %d | %s | %d | %s | %.3f | ", name, na, ta, nb, tb, ratio);
    if (tested) isb_strbuf_printf(&rep->text.md, "%.4f | %s |\n", p, v);
    else isb_strbuf_printf(&rep->text.md, "– | %s |\n", v);
    isb_csv_field(&rep->text.csv, name);
    isb_strbuf_printf(&rep->text.csv, ",%d,%.9g,%.9g,%.9g,%d,%.9g,%.9g,%.9g,%.6g,", na, ma, a[0], a[na - 1], nb, mb, b[0],
                      b[nb - 1], ratio);
    if (tested) isb_strbuf_printf(&rep->text.csv, "%.6g", p);
    isb_strbuf_printf(&rep->text.csv, ",%s\n", tested ? (p < ISB_COMPARE_ALPHA ? "significant" : "not significant") : "too few repetitions");
    isb_strbuf_printf(&rep->text.dat, "%d \"%s\" %.6g %.6g %.6g %d\n", rep->compared, name, ratio, b[0] / a[na - 1],
                      b[nb - 1] / a[0], tested && p < ISB_COMPARE_ALPHA);
    rep->compared++;
    rep->significant += tested && p < ISB_COMPARE_ALPHA;
    rep->too_few += !tested;
}

static void bench_figure(isb_strbuf *gp, const char *a, const char *b, int n) {
    isb_compare_title(gp, a, b);
    isb_strbuf_printf(gp,
                      "# isbench compare: median time B / A per benchmark (log axis), bars from min B / max A to\n"
                      "# max B / min A over the repetitions; filled red: the U test says they differ (p < %.2g).\n"
                      "set terminal pngcairo noenhanced size 1100, %d font 'Helvetica,10'\n"
                      "set output 'compare.png'\n"
                      "set logscale x\nset xlabel 'median time B / A (bars: range over repetitions)'\n"
                      "set yrange [-1:%d]\nset grid x\nset key outside bottom center horizontal\n"
                      "set arrow from 1, graph 0 to 1, graph 1 nohead dt 2\n"
                      "plot 'compare.dat' using 3:1:4:5:ytic(2) with xerrorbars pt 6 lc rgb '#555555' title 'B / A', \\\n"
                      "     '' using ($6 == 1 ? $3 : NaN):1 with points pt 7 ps 1.5 lc rgb '#d62728' title 'significant'\n",
                      ISB_COMPARE_ALPHA, 120 + 22 * n, n);
}

static void bench_header(bench_report *rep, const char *a, const char *b) {
    isb_strbuf_printf(&rep->text.md,
                      "# isbench compare: benchmarks\n\nA = `%s`, B = `%s`. Median over the repetitions of each side; "
                      "ratio = median B / median A (below 1: B is faster); p: two-sided Mann–Whitney U test over the "
                      "repetitions (as Google Benchmark's compare.py), significant below %.2g.\n\n"
                      "| benchmark | reps A | median A | reps B | median B | B / A | p | verdict |\n"
                      "|---|---|---|---|---|---|---|---|\n",
                      a, b, ISB_COMPARE_ALPHA);
    isb_strbuf_printf(&rep->text.csv, "name,reps_a,median_a_s,min_a_s,max_a_s,reps_b,median_b_s,min_b_s,max_b_s,ratio,p_value,verdict\n");
}

static void compare_tables(bench_report *rep, const isb_bench_table *ta, const isb_bench_table *tb, double *a, double *b,
                           int max) {
    for (int i = 0; i < ta->n; i++) {
        const isb_bench_row *r = &ta->rows[i];
        if (r->aggregate[0] || r->error || seen_before(ta, i)) continue;
        int na = repetitions(ta, r->name, a, max), nb = repetitions(tb, r->name, b, max);
        if (na == 0) continue;
        if (nb == 0) { rep->only_a++; continue; }
        compare_one(rep, r->name, a, na, b, nb);
    }
}

int isb_compare_bench(const isb_compare_options *o) {
    isb_bench_table ta = {0}, tb = {0};
    bench_report rep = {0};
    enum { MAX_REPS = 1000 };
    double *a = malloc(MAX_REPS * sizeof *a), *b = malloc(MAX_REPS * sizeof *b);
    int rc = a && b ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory");
    ISB_CHECK(rc);
    ISB_CHECK(isb_bench_table_read_dir(o->a, &ta));
    ISB_CHECK(isb_bench_table_read_dir(o->b, &tb));
    bench_header(&rep, o->a, o->b);
    compare_tables(&rep, &ta, &tb, a, b, MAX_REPS);
    if (rep.compared == 0) {
        rc = isb_fail(ISB_ERR_USAGE, "%s and %s have no benchmark in common (same names, without errors)", o->a, o->b);
        goto done;
    }
    isb_strbuf_printf(&rep.text.md, "\n%d benchmarks compared, %d differ significantly", rep.compared, rep.significant);
    if (rep.too_few)
        isb_strbuf_printf(&rep.text.md, ", %d with too few repetitions for the U test to reach p < %.2g on any data (it needs "
                                   "at least 4 and 4, or 3 and 5: bench/run.sh --repetitions 5), so no verdict is given",
                          rep.too_few, ISB_COMPARE_ALPHA);
    if (rep.only_a) isb_strbuf_printf(&rep.text.md, ", %d only in A (left out)", rep.only_a);
    isb_strbuf_printf(&rep.text.md, ".\n");
    bench_figure(&rep.text.gp, o->a, o->b, rep.compared);
    rc = isb_compare_write_outputs(o->out_dir, &rep.text);
done:
    isb_compare_text_free(&rep.text);
    isb_bench_table_free(&ta);
    isb_bench_table_free(&tb);
    free(a);
    free(b);
    return rc;
}
