/* isbench compare on two training suites: per configuration, the seeds of each side. */
#include "results/compare.h"
#include "results/stats.h"
#include "util/csv.h"
#include "util/error.h"
#include "util/fileio.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_SEEDS = 64, MAX_CONFIGS = 64 };

typedef struct {
    double last, best;   /* test accuracy of the last evaluation, and the highest one */
    double *wall, *acc;  /* every evaluation, for the time to target */
    int n;
} run_result;

typedef struct {
    char name[128];
    run_result runs[MAX_SEEDS];
    int n, unfinished;
    json_t *manifest;    /* of the first finished seed: the protocol */
    char manifest_path[4096];
} config_result;

typedef struct {
    config_result configs[MAX_CONFIGS];
    int n;
} suite_result;

static int read_metrics(const char *path, run_result *r) {
    char *text = NULL, *save = NULL, *f[32];
    size_t len;
    int rc = ISB_OK, cw = -1, ca = -1, cap = 0;
    ISB_CHECK(isb_read_file(path, &text, &len));
    *r = (run_result){.best = -1};
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int nf = isb_csv_split(line, f, 32);
        if (cw < 0) {
            cw = isb_csv_column(f, nf, "wall_s");
            ca = isb_csv_column(f, nf, "test_acc");
            if (cw < 0 || ca < 0) { rc = isb_fail(ISB_ERR_FORMAT, "%s: no wall_s or test_acc column", path); goto done; }
            continue;
        }
        if (nf <= cw || nf <= ca) { rc = isb_fail(ISB_ERR_FORMAT, "%s: a row has %d fields", path, nf); goto done; }
        if (r->n == cap) {
            cap = cap ? 2 * cap : 32;
            double *w = realloc(r->wall, (size_t)cap * sizeof *w), *a = w ? realloc(r->acc, (size_t)cap * sizeof *a) : NULL;
            if (w) r->wall = w;
            if (!a) { rc = isb_fail(ISB_ERR_MEMORY, "out of host memory"); goto done; }
            r->acc = a;
        }
        r->wall[r->n] = atof(f[cw]);
        r->last = r->acc[r->n++] = atof(f[ca]);
        if (r->last > r->best) r->best = r->last;
    }
    if (r->n == 0) rc = isb_fail(ISB_ERR_FORMAT, "%s: no evaluation rows", path);
done:
    free(text);
    return rc;
}

static bool is_seed_folder(const char *name) {
    if (strncmp(name, "seed-", 5) != 0 || !name[5]) return false;
    return strspn(name + 5, "0123456789") == strlen(name + 5); /* seed-1.old-<time> (--restart) is not */
}

static bool finished(json_t *manifest) {
    const char *status = json_string_value(json_object_get(manifest, "status"));
    return status && strcmp(status, "finished") == 0;
}

/* One seed folder: counted only when its manifest says finished. */
static int read_seed(const char *dir, config_result *c) {
    char path[4096];
    ISB_TRY(isb_path_join(path, sizeof path, dir, "manifest.json"));
    json_error_t err;
    json_t *m = json_load_file(path, 0, &err);
    if (!m) return isb_fail(ISB_ERR_FORMAT, "%s: %s", path, err.text);
    if (!finished(m) || c->n == MAX_SEEDS) {
        c->unfinished++;
        json_decref(m);
        return ISB_OK;
    }
    if (!c->manifest) {
        c->manifest = m;
        snprintf(c->manifest_path, sizeof c->manifest_path, "%s", path);
    } else {
        json_decref(m);
    }
    ISB_TRY(isb_path_join(path, sizeof path, dir, "metrics.csv"));
    ISB_TRY(read_metrics(path, &c->runs[c->n]));
    c->n++;
    return ISB_OK;
}

static int read_config(const char *suite, const char *name, config_result *c) {
    char dir[4096];
    ISB_TRY(isb_path_join(dir, sizeof dir, suite, name));
    if (strlen(name) >= sizeof c->name) return isb_fail(ISB_ERR_USAGE, "configuration folder name too long: %s", dir);
    memcpy(c->name, name, strlen(name) + 1);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort), rc = ISB_OK;
    for (int i = 0; i < n; i++) {
        char seed_dir[4096];
        if (!is_seed_folder(list[i]->d_name)) continue;
        ISB_CHECK(isb_path_join(seed_dir, sizeof seed_dir, dir, list[i]->d_name));
        ISB_CHECK(read_seed(seed_dir, c));
    }
done:
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
    return rc;
}

static int read_suite(const char *dir, suite_result *s) {
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort), rc = ISB_OK;
    if (n < 0) return isb_fail(ISB_ERR_IO, "cannot list %s", dir);
    for (int i = 0; i < n; i++) {
        char config_dir[4096];
        bool fits = isb_path_join(config_dir, sizeof config_dir, dir, list[i]->d_name) == ISB_OK;
        if (!fits || list[i]->d_name[0] == '.' || s->n >= MAX_CONFIGS || !isb_compare_is_config_dir(config_dir)) continue;
        ISB_CHECK(read_config(dir, list[i]->d_name, &s->configs[s->n]));
        s->n += s->configs[s->n].n > 0;
    }
    if (s->n == 0)
        ISB_CHECK(isb_fail(ISB_ERR_USAGE, "%s holds no finished run (<config>/seed-<k>/manifest.json with status finished)", dir));
done:
    for (int i = 0; i < n; i++) free(list[i]);
    free(list);
    return rc;
}

static void free_suite(suite_result *s) {
    for (int i = 0; i < MAX_CONFIGS; i++) {
        config_result *c = &s->configs[i];
        for (int k = 0; k < MAX_SEEDS; k++) {
            free(c->runs[k].wall);
            free(c->runs[k].acc);
        }
        json_decref(c->manifest);
    }
}

/* ---- protocol ---------------------------------------------------------------------------------- */

static const struct {
    const char *label, *section, *key; /* manifest.json: section.key, or key at the top when section is NULL */
} protocol_fields[] = {
    {"preset", NULL, "preset"},           {"width", "configuration", "width"}, {"|Z|", "data", "z"},
    {"weights", "configuration", "weights"}, {"dataset", "data", "dataset"},
};

static json_t *protocol_value(json_t *manifest, size_t field) {
    json_t *o = protocol_fields[field].section ? json_object_get(manifest, protocol_fields[field].section) : manifest;
    return json_object_get(o, protocol_fields[field].key);
}

static char *value_text(json_t *v) { return v ? json_dumps(v, JSON_ENCODE_ANY) : strdup("(absent)"); }

/* Appends "FIELD is X in A (path), Y in B (path)" for each differing field; returns how many. */
static int protocol_differences(const config_result *a, const config_result *b, isb_strbuf *out) {
    int n = 0;
    for (size_t f = 0; f < sizeof protocol_fields / sizeof protocol_fields[0]; f++) {
        json_t *va = protocol_value(a->manifest, f), *vb = protocol_value(b->manifest, f);
        if ((!va && !vb) || (va && vb && json_equal(va, vb))) continue;
        char *ta = value_text(va), *tb = value_text(vb);
        isb_strbuf_printf(out, "%s%s: %s is %s in A (%s), %s in B (%s)", n ? "; " : "", a->name, protocol_fields[f].label,
                          ta, a->manifest_path, tb, b->manifest_path);
        free(ta);
        free(tb);
        n++;
    }
    return n;
}

/* ---- statistics per configuration ---------------------------------------------------------------- */

typedef enum { METRIC_LAST, METRIC_BEST, METRIC_TARGET, N_METRICS } metric;
static const char *const metric_names[N_METRICS] = {"last test accuracy (%)", "best test accuracy (%)",
                                                    "time to target (s)"};
static const char *const metric_keys[N_METRICS] = {"last_test_acc", "best_test_acc", "time_to_target_s"};

/* Values of one metric over the seeds of a configuration (seeds that never reach the target have
 * no time to target). */
static int metric_values(const config_result *c, metric m, double target, double *out) {
    int n = 0;
    for (int k = 0; k < c->n; k++) {
        const run_result *r = &c->runs[k];
        if (m == METRIC_LAST) out[n++] = 100 * r->last;
        else if (m == METRIC_BEST) out[n++] = 100 * r->best;
        else
            for (int e = 0; e < r->n; e++)
                if (r->acc[e] >= target) { out[n++] = r->wall[e]; break; }
    }
    return n;
}

static const config_result *find_config(const suite_result *s, const char *name) {
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->configs[i].name, name) == 0) return &s->configs[i];
    return NULL;
}

/* 90% of the highest mean last accuracy of any configuration on either side (as make-figures). */
static double default_target(const suite_result *a, const suite_result *b) {
    double top = 0, v[MAX_SEEDS];
    for (int side = 0; side < 2; side++) {
        const suite_result *s = side ? b : a;
        for (int i = 0; i < s->n; i++) {
            isb_summary m = isb_summarize(v, metric_values(&s->configs[i], METRIC_LAST, 0, v));
            if (m.mean > top) top = m.mean;
        }
    }
    return 0.9 * top / 100;
}

/* ---- report ------------------------------------------------------------------------------------ */

typedef struct {
    isb_compare_text text;
    int rows, significant;
} suite_report;

static void summary_cell(isb_strbuf *md, const isb_summary *s, int seeds) {
    if (s->n == 0) { isb_strbuf_printf(md, "– (0 of %d) |", seeds); return; }
    isb_strbuf_printf(md, "%.2f", s->mean);
    if (s->n >= 2) isb_strbuf_printf(md, " ± %.2f [%.2f, %.2f]", s->sd, s->ci_lo, s->ci_hi);
    if (s->n < seeds) isb_strbuf_printf(md, " (n=%d of %d) |", s->n, seeds);
    else isb_strbuf_printf(md, " (n=%d) |", s->n);
}

static void summary_csv(isb_strbuf *csv, const isb_summary *s) {
    isb_strbuf_printf(csv, ",%d,%.6g,%.6g,%.6g,%.6g", s->n, s->mean, s->sd, s->ci_lo, s->ci_hi);
}

static void compare_metric(suite_report *rep, const config_result *ca, const config_result *cb, metric m, double target) {
    double va[MAX_SEEDS], vb[MAX_SEEDS];
    isb_summary sa = isb_summarize(va, metric_values(ca, m, target, va));
    isb_summary sb = isb_summarize(vb, metric_values(cb, m, target, vb));
    isb_welch w;
    bool tested = isb_welch_test(&sa, &sb, &w);
    bool sig = tested && w.p < ISB_COMPARE_ALPHA;
    isb_strbuf_printf(&rep->text.md, "| %s | %s | ", ca->name, metric_names[m]);
    summary_cell(&rep->text.md, &sa, ca->n);
    isb_strbuf_printf(&rep->text.md, " ");
    summary_cell(&rep->text.md, &sb, cb->n);
    if (tested) isb_strbuf_printf(&rep->text.md, " %+.2f | %.4f | %s |\n", w.diff, w.p, sig ? "**significant**" : "not significant");
    else if (isfinite(w.diff)) isb_strbuf_printf(&rep->text.md, " %+.2f | – | no test (fewer than 2 seeds on a side, or no spread at all) |\n", w.diff);
    else isb_strbuf_printf(&rep->text.md, " – | – | no test |\n");
    isb_csv_field(&rep->text.csv, ca->name);
    isb_strbuf_printf(&rep->text.csv, ",%s", metric_keys[m]);
    summary_csv(&rep->text.csv, &sa);
    summary_csv(&rep->text.csv, &sb);
    isb_strbuf_printf(&rep->text.csv, ",%.6g,%.6g,%.6g,%.6g,%s\n", w.diff, w.t, w.df, w.p,
                      tested ? (sig ? "significant" : "not significant") : "untested");
    rep->rows++;
    rep->significant += sig;
}

/* Figure data: per configuration, mean and 95% interval (the mean itself for one seed) of the last
 * and best accuracy on each side. */
static void figure_row(suite_report *rep, int idx, const config_result *ca, const config_result *cb) {
    isb_strbuf_printf(&rep->text.dat, "%d \"%s\"", idx, ca->name);
    for (metric m = METRIC_LAST; m <= METRIC_BEST; m++)
        for (int side = 0; side < 2; side++) {
            double v[MAX_SEEDS];
            const config_result *c = side ? cb : ca;
            isb_summary s = isb_summarize(v, metric_values(c, m, 0, v));
            isb_strbuf_printf(&rep->text.dat, " %.6g %.6g %.6g", s.mean, isfinite(s.ci_lo) ? s.ci_lo : s.mean,
                              isfinite(s.ci_hi) ? s.ci_hi : s.mean);
        }
    isb_strbuf_printf(&rep->text.dat, "\n");
}

static void suite_figure(isb_strbuf *gp, const char *a, const char *b, int n) {
    isb_compare_title(gp, a, b);
    isb_strbuf_printf(gp,
                      "# isbench compare: last and best test accuracy per configuration, mean over seeds with the\n"
                      "# 95%% interval of the mean, A (open) against B (filled).\n"
                      "set terminal pngcairo noenhanced size 1100, 600 font 'Helvetica,10'\n"
                      "set output 'compare.png'\n"
                      "set xrange [-0.6:%d - 0.4]\nset ylabel 'test accuracy (%%)'\nset grid y\n"
                      "set xtics rotate by -30\nset key outside bottom center horizontal\n"
                      "plot 'compare.dat' using ($1 - 0.21):3:4:5:xtic(2) with yerrorbars pt 6 lc rgb '#1f77b4' title 'last, A', \\\n"
                      "     '' using ($1 - 0.07):6:7:8 with yerrorbars pt 7 lc rgb '#1f77b4' title 'last, B', \\\n"
                      "     '' using ($1 + 0.07):9:10:11 with yerrorbars pt 6 lc rgb '#ff7f0e' title 'best, A', \\\n"
                      "     '' using ($1 + 0.21):12:13:14 with yerrorbars pt 7 lc rgb '#ff7f0e' title 'best, B'\n",
                      n);
}

static void suite_header(suite_report *rep, const isb_compare_options *o, double target) {
    isb_strbuf_printf(&rep->text.md,
                      "# isbench compare: training suites\n\nA = `%s`, B = `%s`. Per configuration: mean ± sd "
                      "[95%% interval of the mean] over the finished seeds. *Last* = the test accuracy of the last "
                      "evaluation, *best* = the highest of any evaluation; time to target = training wall time until "
                      "the test accuracy first reaches %.2f%% (over the seeds that reach it). B − A with Welch's t "
                      "test, significant below p = %.2g.\n\n"
                      "| configuration | metric | A | B | B − A | p (Welch) | verdict |\n|---|---|---|---|---|---|---|\n",
                      o->a, o->b, 100 * target, ISB_COMPARE_ALPHA);
    isb_strbuf_printf(&rep->text.csv, "configuration,metric,n_a,mean_a,sd_a,ci95_lo_a,ci95_hi_a,n_b,mean_b,sd_b,ci95_lo_b,"
                                 "ci95_hi_b,diff,t,df,p_value,verdict\n");
}

/* Refuses (unless forced) configurations whose protocols differ; with --force lists them. */
static int check_protocols(const suite_result *a, const suite_result *b, const isb_compare_options *o, suite_report *rep) {
    isb_strbuf diff = {0};
    int n = 0;
    for (int i = 0; i < a->n; i++) {
        const config_result *cb = find_config(b, a->configs[i].name);
        if (cb) n += protocol_differences(&a->configs[i], cb, &diff);
    }
    int rc = ISB_OK;
    if (n && !o->force)
        rc = isb_fail(ISB_ERR_USAGE, "the runs follow different protocols: %s. Compare like with like, or pass --force "
                                     "to compare them anyway", diff.data);
    else if (n)
        isb_strbuf_printf(&rep->text.md, "\n**Different protocols, compared anyway (--force):** %s.\n", diff.data);
    isb_strbuf_free(&diff);
    return rc;
}

static void compare_configs(suite_report *rep, const suite_result *a, const suite_result *b, double target) {
    for (int i = 0; i < a->n; i++) {
        const config_result *cb = find_config(b, a->configs[i].name);
        if (!cb) continue;
        for (metric m = METRIC_LAST; m < N_METRICS; m++) compare_metric(rep, &a->configs[i], cb, m, target);
        figure_row(rep, rep->rows / N_METRICS - 1, &a->configs[i], cb);
    }
}

static void unmatched_note(suite_report *rep, const suite_result *s, const suite_result *other, const char *side) {
    for (int i = 0; i < s->n; i++)
        if (!find_config(other, s->configs[i].name))
            isb_strbuf_printf(&rep->text.md, "\n`%s` is only in %s: left out.", s->configs[i].name, side);
    for (int i = 0; i < s->n; i++)
        if (s->configs[i].unfinished)
            isb_strbuf_printf(&rep->text.md, "\n%s `%s`: %d unfinished run(s) left out.", side, s->configs[i].name,
                              s->configs[i].unfinished);
}

int isb_compare_suites(const isb_compare_options *o) {
    suite_result *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    suite_report rep = {0};
    int rc = a && b ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory");
    ISB_CHECK(rc);
    ISB_CHECK(read_suite(o->a, a));
    ISB_CHECK(read_suite(o->b, b));
    double target = o->target_acc > 0 ? o->target_acc : default_target(a, b);
    suite_header(&rep, o, target);
    compare_configs(&rep, a, b, target);
    if (rep.rows == 0) {
        rc = isb_fail(ISB_ERR_USAGE, "%s and %s have no configuration in common", o->a, o->b);
        goto done;
    }
    ISB_CHECK(check_protocols(a, b, o, &rep));
    isb_strbuf_printf(&rep.text.md, "\n%d comparisons, %d significant.", rep.rows, rep.significant);
    unmatched_note(&rep, a, b, "A");
    unmatched_note(&rep, b, a, "B");
    isb_strbuf_printf(&rep.text.md, "\n");
    suite_figure(&rep.text.gp, o->a, o->b, rep.rows / N_METRICS);
    rc = isb_compare_write_outputs(o->out_dir, &rep.text);
done:
    isb_compare_text_free(&rep.text);
    if (a) free_suite(a);
    if (b) free_suite(b);
    free(a);
    free(b);
    return rc;
}
