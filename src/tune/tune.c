/* Owns the search of `isbench tune` (tune.h): candidates, the budget, progress, the crossover
 * choice and the tuning entry it writes. */
#include "tune/tune.h"

#include <float.h>
#include <jansson.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "ocl/clblast_tuning.h"
#include "results/provenance.h"
#include "train/stop.h"
#include "tune/tune_space.h"
#include "tune/tune_workload.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/timer.h"

#define ALL_DIRECT ((size_t)1 << 20) /* XGEMM_MIN_INDIRECT_SIZE: (2^20)^3 multiply-adds, beyond any GEMM */
#define ALL_INDIRECT ((size_t)1)     /* m*n*k < 1 never holds */
#define MAX_SEEN 4096
#define TIMED_PASSES 3 /* best of three: one pass of the same set varies by about 6 % on a quiet 2-core machine */
#define GIVE_UP 1.3 /* a candidate slower than this times its kernel's best is not timed again */

typedef struct {
    isb_tune_params params;
    double seconds, per_shape[ISB_GEMM_LOG_MAX];
    bool have;
} best_of_kernel;

typedef enum { MEASURED, WRONG, FAILED } verdict;

typedef struct {
    isb_ocl *ocl;
    isb_tune_workload *w;
    const isb_tune_options *o;
    isb_tune_result *r;
    double start, search_start; /* the command's start; the search's (the budget's) */
    isb_rng rng;
    best_of_kernel best[2]; /* by isb_tune_kernel */
    isb_tune_params seen[MAX_SEEN];
    int n_seen;
    double slowest_s; /* the longest candidate so far (at first the setup), kernel builds included */
    bool budget_ended;
    bool used[2];     /* by isb_tune_kernel: the kernels the chosen crossover runs */
    json_t *provenance; /* device, host, command, load average at the start and the end */
} search;

static double elapsed(const search *s) { return isb_now() - s->start; }
/* Seconds of the search budget used: setup (the step's capture, the reference, the parameters in
 * force) is not counted, so a loaded machine's slow setup does not eat the search. */
static double searched(const search *s) { return s->search_start > 0 ? isb_now() - s->search_start : 0; }

static int override_params(isb_ocl *ocl, const isb_tune_params *p) {
    return isb_clblast_override(ocl, isb_tune_kernel_name(p->kernel), 32, (size_t)isb_tune_param_count(p->kernel),
                                isb_tune_param_names(p->kernel), p->v);
}

static int override_crossover(isb_ocl *ocl, size_t size) {
    const char *name = "XGEMM_MIN_INDIRECT_SIZE";
    return isb_clblast_override(ocl, "GemmRoutine", 32, 1, &name, &size);
}

/* Checks, then times, what is in force after `params` (NULL: nothing new) and the crossover (0:
 * unchanged). why receives the reason of a WRONG or FAILED verdict. */
static int check_and_time(search *s, const isb_tune_params *params, size_t crossover, bool sabotage, double give_up,
                          double *seconds, double *per_shape, bool *correct, char *why, size_t len) {
    if (params) ISB_TRY(override_params(s->ocl, params));
    if (crossover) ISB_TRY(override_crossover(s->ocl, crossover));
    ISB_TRY(isb_tune_workload_check(s->w, sabotage, correct, why, len));
    return *correct ? isb_tune_workload_time(s->w, TIMED_PASSES, give_up, seconds, per_shape) : ISB_OK;
}

static verdict evaluate(search *s, const isb_tune_params *params, size_t crossover, bool sabotage, double give_up,
                        double *seconds, double *per_shape, char *why, size_t len) {
    bool correct = true;
    if (check_and_time(s, params, crossover, sabotage, give_up, seconds, per_shape, &correct, why, len) == ISB_OK)
        return correct ? MEASURED : WRONG;
    snprintf(why, len, "%s", isb_last_error());
    isb_clear_error();
    return FAILED;
}

/* One line per candidate; p NULL: the parameters in force at the start. */
static void progress(const search *s, const isb_tune_params *p, verdict v, double seconds, const char *why) {
    char text[512] = "(the parameters in force at the start)";
    if (p) isb_tune_params_text(p, text, sizeof text);
    double left = s->o->budget_s - searched(s), best = DBL_MAX;
    for (int k = 0; k < 2; k++)
        if (s->best[k].have && s->best[k].seconds < best) best = s->best[k].seconds;
    fprintf(s->o->progress, "tune: %4.0f s, ETA %4.0f s  #%-3d %-11s %s: ", elapsed(s), left > 0 ? left : 0,
            s->r->candidates, p ? isb_tune_kernel_name(p->kernel) : "as found", text);
    if (v == MEASURED) fprintf(s->o->progress, "%.1f ms", seconds * 1e3);
    else fprintf(s->o->progress, "%s (%s)", v == WRONG ? "REJECTED, wrong results" : "failed", why);
    fprintf(s->o->progress, "  | best %.1f ms, as found %.1f ms, %d rejected\n", best < DBL_MAX ? best * 1e3 : NAN,
            s->r->as_found_s * 1e3, s->r->rejected + s->r->failed);
    fflush(s->o->progress);
}

static bool seen_before(search *s, const isb_tune_params *p) {
    for (int i = 0; i < s->n_seen; i++)
        if (isb_tune_params_equal(&s->seen[i], p)) return true;
    if (s->n_seen < MAX_SEEN) s->seen[s->n_seen++] = *p;
    return false;
}

/* One candidate of `p`'s kernel, with every product on that kernel's path. */
static void try_candidate(search *s, const isb_tune_params *p) {
    best_of_kernel *best = &s->best[p->kernel];
    double seconds = 0, per_shape[ISB_GEMM_LOG_MAX];
    char why[512] = "";
    size_t crossover = p->kernel == ISB_TUNE_DIRECT ? ALL_DIRECT : ALL_INDIRECT;
    double started = isb_now();
    verdict v = evaluate(s, p, crossover, false, best->have ? GIVE_UP * best->seconds : DBL_MAX, &seconds,
                         per_shape, why, sizeof why);
    s->slowest_s = fmax(s->slowest_s, isb_now() - started);
    s->r->candidates++;
    s->r->rejected += v == WRONG;
    s->r->failed += v == FAILED;
    if (v == MEASURED && (!best->have || seconds < best->seconds)) {
        *best = (best_of_kernel){.params = *p, .seconds = seconds, .have = true};
        memcpy(best->per_shape, per_shape, sizeof per_shape);
    }
    progress(s, p, v, seconds, why);
}

/* Whether another candidate may start before `until`: one is not started when a candidate as slow
 * as the slowest so far would end past the whole budget. A new parameter set's kernel builds take
 * minutes on a 2-core PoCL CPU, so without this the budget could be overrun by one build. */
static bool may_start(search *s, double until) {
    if (isb_stop_requested() || searched(s) >= until) return false;
    if (searched(s) + s->slowest_s <= s->o->budget_s) return true;
    if (!s->budget_ended) /* said once */
        fprintf(s->o->progress, "tune: %4.0f s, search ends: %.0f s of the budget left, and a candidate (or the "
                "setup, which built the parameters in force) took up to %.0f s, kernel builds included\n",
                elapsed(s), s->o->budget_s - searched(s), s->slowest_s);
    s->budget_ended = true;
    return false;
}

/* Seeds first, then neighbours of the best so far, until `until` seconds have passed. */
static void search_kernel(search *s, isb_tune_kernel kernel, double until) {
    isb_tune_params seeds[8], next;
    int n = isb_tune_seeds(kernel, &s->ocl->info, seeds, 8);
    for (int i = 0; i < n && may_start(s, until); i++)
        if (!seen_before(s, &seeds[i])) try_candidate(s, &seeds[i]);
    for (int misses = 0; misses < 100 && may_start(s, until);) {
        const isb_tune_params *from = s->best[kernel].have ? &s->best[kernel].params : n > 0 ? &seeds[0] : NULL;
        if (!from || !isb_tune_neighbour(from, &s->ocl->info, &s->rng, &next)) break;
        if (seen_before(s, &next)) { misses++; continue; }
        try_candidate(s, &next);
    }
}

/* The smallest size whose cube exceeds v: with it as the crossover, a product of v multiply-adds
 * still runs the direct kernel. */
static size_t smallest_cube_above(size_t v) {
    size_t size = (size_t)cbrt((double)v);
    size = size > 1 ? size - 1 : 1;
    while (size * size * size <= v) size++;
    return size;
}

static size_t multiply_adds(const isb_gemm_call *g) { return g->m * g->n * g->k; }

/* The crossover that minimises the step's GEMM time given each product's time on the direct and
 * on the indirect path: CLBlast runs the direct kernel when m*n*k < size^3 (per batch item). */
static size_t best_crossover(const search *s, double *predicted) {
    const isb_gemm_log *log = isb_tune_workload_log(s->w);
    const best_of_kernel *d = &s->best[ISB_TUNE_DIRECT], *x = &s->best[ISB_TUNE_XGEMM];
    *predicted = d->have ? d->seconds : x->seconds;
    if (!x->have) return ALL_DIRECT;
    if (!d->have) return ALL_INDIRECT;
    size_t best_size = ALL_DIRECT;
    for (int c = -1; c < log->n; c++) { /* -1: everything indirect; c: shape c and smaller direct */
        size_t size = c < 0 ? ALL_INDIRECT : smallest_cube_above(multiply_adds(&log->calls[c]));
        double t = 0;
        for (int i = 0; i < log->n; i++)
            t += (double)log->calls[i].calls *
                 (multiply_adds(&log->calls[i]) < size * size * size ? d->per_shape[i] : x->per_shape[i]);
        if (t < *predicted) {
            *predicted = t;
            best_size = size;
        }
    }
    return best_size;
}

static json_t *kernel_json(const char *kernel, const char *const *names, const size_t *values, int n, double ms) {
    json_t *params = json_object();
    for (int i = 0; i < n; i++) json_object_set_new(params, names[i], json_integer((json_int_t)values[i]));
    return json_pack("{s:s, s:i, s:s, s:f, s:o}", "kernel", kernel, "precision", 32, "tuner", "isbench tune",
                     "best_ms", ms, "parameters", params);
}

/* "pthread-skylake-avx512-intel-r-xeon-r-processor-3-1-debian-clblast-1-5-3.json" */
static void entry_name(const isb_device_info *info, char *out, size_t len) {
    char raw[1024];
    snprintf(raw, sizeof raw, "%s %s %s", info->name, info->driver_version, isb_clblast_version());
    size_t n = 0;
    for (const char *c = raw; *c && n + 6 < len; c++) {
        bool alnum = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9');
        if (alnum) out[n++] = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        else if (n > 0 && out[n - 1] != '-') out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-') n--;
    snprintf(out + n, len - n, ".json");
}

static int entry_path(const search *s, char *out, size_t len) {
    if (s->o->out_path) {
        snprintf(out, len, "%s", s->o->out_path);
        return ISB_OK;
    }
    char dir[2048], name[512];
    ISB_TRY(isb_clblast_tuning_user_dir(dir, sizeof dir));
    ISB_TRY(isb_mkdir_p(dir));
    entry_name(&s->ocl->info, name, sizeof name);
    if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len)
        return isb_fail(ISB_ERR_USAGE, "the tuning folder path %s is too long: pass a file with --out", dir);
    return ISB_OK;
}

static json_t *entry_json(const search *s, size_t crossover) {
    const isb_device_info *info = &s->ocl->info;
    isb_clblast_key key;
    isb_clblast_device_key(info, &key);
    char when[32];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    json_t *kernels = json_array();
    for (int k = 0; k < 2; k++)
        if (s->used[k])
            json_array_append_new(kernels, kernel_json(isb_tune_kernel_name((isb_tune_kernel)k),
                                                       isb_tune_param_names((isb_tune_kernel)k), s->best[k].params.v,
                                                       isb_tune_param_count((isb_tune_kernel)k), s->best[k].seconds * 1e3));
    const char *routine = "XGEMM_MIN_INDIRECT_SIZE";
    json_array_append_new(kernels, kernel_json("GemmRoutine", &routine, &crossover, 1, s->r->tuned_s * 1e3));
    return json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s, "
                     "s:{s:i, s:i, s:i, s:I, s:f, s:f, s:i, s:i, s:i, s:f}, s:o}",
                     "format", "isbench-clblast-tuning/2", "match", "type", key.type, "vendor", key.vendor,
                     "architecture", key.architecture, "device", key.device, "exact", "driver_version",
                     info->driver_version, "clblast_version", isb_clblast_version(), "tuned_on", "device", info->name,
                     "driver_version", info->driver_version, "platform", info->platform_name, "clblast_version",
                     isb_clblast_version(), "tuned_at", when, "command", s->o->command ? s->o->command : "isbench tune",
                     "note", "the step's GEMM time (each shape's time x its calls per step) before (as_found_ms) and "
                     "after (tuned_ms); Xgemm and XgemmDirect each tuned with every product on its path, then "
                     "the crossover from the per-shape times",
                     "objective", "width", s->o->width, "batch", s->o->batch, "gemm_shapes", s->r->shapes,
                     "gemm_calls", (json_int_t)s->r->calls, "as_found_ms", s->r->as_found_s * 1e3, "tuned_ms",
                     s->r->tuned_s * 1e3, "candidates", s->r->candidates, "rejected", s->r->rejected, "failed",
                     s->r->failed, "seconds", elapsed(s), "kernels", kernels);
}

static int write_entry(search *s, size_t crossover) {
    json_t *root = entry_json(s, crossover);
    if (root && s->provenance) {
        isb_provenance_end(s->provenance);
        json_object_set(root, "provenance", s->provenance);
    }
    char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
    int rc = ISB_OK;
    ISB_CHECK(text ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory writing the tuning entry"));
    ISB_CHECK(entry_path(s, s->r->path, sizeof s->r->path));
    ISB_CHECK(isb_write_file_atomic(s->r->path, text, strlen(text)));
    rc = isb_clblast_tuning_check_file(s->r->path); /* what was written is what the loader accepts */
done:
    if (rc < 0) s->r->path[0] = '\0';
    free(text);
    json_decref(root);
    return rc;
}

static void describe_choice(search *s, size_t crossover) {
    size_t used = 0;
    for (int k = 0; k < 2; k++) {
        if (!s->used[k]) continue;
        char text[512];
        isb_tune_params_text(&s->best[k].params, text, sizeof text);
        used += (size_t)snprintf(s->r->chosen + used, sizeof s->r->chosen - used, "%s %s; ",
                                 isb_tune_kernel_name((isb_tune_kernel)k), text);
        if (used >= sizeof s->r->chosen) return;
    }
    snprintf(s->r->chosen + used, sizeof s->r->chosen - used, "XGEMM_MIN_INDIRECT_SIZE=%zu%s", crossover,
             crossover == ALL_DIRECT ? " (all direct)" : crossover == ALL_INDIRECT ? " (all indirect)" : "");
}

/* The winners the crossover runs and the crossover, timed together; written when at least as fast
 * as what was in force at the start (within timing noise). A crossover that sends every product to
 * one kernel leaves the other unused: the entry then holds that kernel's winner alone, already
 * checked and timed on this path, because an unused winner would still change the GEMM program's
 * source and cost every later run (and a re-check here) a build of minutes on a CPU. */
static int finish(search *s) {
    if (!s->best[ISB_TUNE_DIRECT].have && !s->best[ISB_TUNE_XGEMM].have) return ISB_OK;
    double predicted = 0, per_shape[ISB_GEMM_LOG_MAX];
    size_t crossover = best_crossover(s, &predicted);
    s->used[ISB_TUNE_DIRECT] = crossover != ALL_INDIRECT && s->best[ISB_TUNE_DIRECT].have;
    s->used[ISB_TUNE_XGEMM] = crossover != ALL_DIRECT && s->best[ISB_TUNE_XGEMM].have;
    describe_choice(s, crossover);
    if (s->used[ISB_TUNE_DIRECT] && s->used[ISB_TUNE_XGEMM]) {
        char why[512] = "";
        for (int k = 0; k < 2; k++) ISB_TRY(override_params(s->ocl, &s->best[k].params));
        verdict v = evaluate(s, NULL, crossover, false, DBL_MAX, &s->r->tuned_s, per_shape, why, sizeof why);
        if (v != MEASURED)
            return isb_fail(ISB_ERR_CLBLAST, "the combined best parameters (%s) %s: %s", s->r->chosen,
                            v == WRONG ? "gave wrong results" : "failed", why);
        fprintf(s->o->progress, "tune: combined: %.1f ms (predicted %.1f ms from the per-shape times)\n",
                s->r->tuned_s * 1e3, predicted * 1e3);
    } else {
        s->r->tuned_s = s->best[s->used[ISB_TUNE_DIRECT] ? ISB_TUNE_DIRECT : ISB_TUNE_XGEMM].seconds; /* as measured */
    }
    if (s->r->tuned_s > 1.05 * s->r->as_found_s) return ISB_OK; /* nothing faster found: keep what applies */
    return write_entry(s, crossover);
}

/* The profile behind the objective: which products the step's GEMM time goes to. */
static void print_shapes(const search *s, const double *per_shape) {
    const isb_gemm_log *log = isb_tune_workload_log(s->w);
    fprintf(s->o->progress, "tune: %-4s %-3s %7s %7s %5s %5s %5s %9s %7s %6s\n", "", "op", "m", "n", "k", "batch",
            "calls", "ms/call", "GFLOP/s", "share");
    for (int i = 0; i < log->n; i++) {
        const isb_gemm_call *g = &log->calls[i];
        double flop = 2.0 * (double)multiply_adds(g) * (double)g->batch;
        fprintf(s->o->progress, "tune: #%-3d %s%s  %7zu %7zu %5zu %5zu %5ld %9.2f %7.1f %5.1f%%\n", i + 1,
                g->a_trans ? "T" : "N", g->b_trans ? "T" : "N", g->m, g->n, g->k, g->batch, g->calls,
                per_shape[i] * 1e3, flop / per_shape[i] * 1e-9, 100.0 * (double)g->calls * per_shape[i] / s->r->as_found_s);
    }
}

static int measure_as_found(search *s) {
    char why[512] = "";
    double per_shape[ISB_GEMM_LOG_MAX];
    verdict v = evaluate(s, NULL, 0, false, DBL_MAX, &s->r->as_found_s, per_shape, why, sizeof why);
    if (v == MEASURED && s->o->show_shapes) print_shapes(s, per_shape);
    if (v == MEASURED) return ISB_OK;
    return isb_fail(ISB_ERR_CLBLAST, "the GEMMs with the parameters in force (%s) %s: %s", isb_clblast_tuning_applied(),
                    v == WRONG ? "give wrong results" : "fail", why);
}

/* Test hook: the parameters in force (built already: no compile time), with one output value
 * corrupted, as a candidate that computes wrongly; the check must reject it. */
static void try_corrupted_candidate(search *s) {
    double seconds = 0;
    char why[512] = "";
    verdict v = evaluate(s, NULL, 0, true, DBL_MAX, &seconds, NULL, why, sizeof why);
    s->r->candidates++;
    s->r->rejected += v == WRONG;
    s->r->failed += v == FAILED;
    progress(s, NULL, v, seconds, why);
}

int isb_tune_run(isb_ocl *ocl, const isb_tune_options *o, isb_tune_result *r) {
    search *s = calloc(1, sizeof *s);
    isb_gemm_log *log = calloc(1, sizeof *log);
    int rc = ISB_OK;
    memset(r, 0, sizeof *r);
    ISB_CHECK(s && log ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    *s = (search){.ocl = ocl, .o = o, .r = r, .start = isb_now(), .rng = isb_rng_make(7, 6, 0x7e)};
    isb_stop_install_handlers();
    /* now, so that a machine already busy is reported before the minutes of the search, not after */
    s->provenance = json_object();
    if (s->provenance) isb_provenance_add(s->provenance, ocl, "isbench tune");
    ISB_CHECK(isb_tune_capture_step(ocl, o->width, o->batch, log));
    double captured = elapsed(s);
    ISB_CHECK(isb_tune_workload_create(ocl, log, &s->w));
    double referenced = elapsed(s);
    r->shapes = log->n;
    for (int i = 0; i < log->n; i++) r->calls += log->calls[i].calls;
    ISB_CHECK(measure_as_found(s));
    if (isb_stop_requested()) ISB_CHECK(isb_fail(ISB_ERR_INTERRUPTED, "interrupted before the search began: nothing tuned"));
    fprintf(o->progress, "tune: %d GEMM shapes, %ld calls per step (width %d, batch %d); as found: %.1f ms "
            "(setup: step captured in %.1f s, host reference %.1f s, as-found check and timing %.1f s)\n",
            r->shapes, r->calls, o->width, o->batch, r->as_found_s * 1e3, captured, referenced - captured,
            elapsed(s) - referenced);
    /* what one candidate may cost, until one has run: capturing the step built the parameters in
     * force (when PoCL's cache lacked them), and their check and timing is a candidate's; on a
     * fresh CPU machine that build takes minutes, and a budget shorter than that then ends the
     * search before a build it could not stop */
    s->slowest_s = fmax(captured, elapsed(s) - referenced);
    s->search_start = isb_now();
    if (o->test_bad_candidate) try_corrupted_candidate(s);
    search_kernel(s, ISB_TUNE_DIRECT, 0.55 * o->budget_s);
    search_kernel(s, ISB_TUNE_XGEMM, 0.92 * o->budget_s);
    r->interrupted = isb_stop_requested();
    if (searched(s) > o->budget_s) /* a build cannot be stopped once CLBlast has started it */
        fprintf(o->progress, "tune: the search ran %.0f s past its budget: the last candidate's kernel builds "
                "(a new parameter set builds in minutes on a CPU) could not be foreseen or stopped\n",
                searched(s) - o->budget_s);
    ISB_CHECK(finish(s));
done:
    r->elapsed_s = s ? elapsed(s) : 0;
    if (s) {
        isb_tune_workload_free(s->w);
        json_decref(s->provenance);
    }
    free(s);
    free(log);
    return rc;
}
