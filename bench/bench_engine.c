/* Benchmarks of the training engine (issue 3, part 2):
 *   train_step.w<W>.device/B:<B>           one training step (forward, loss, backward, SGD), device
 *                                          time; counters: GFLOP/s (3.33 GFLOP per image at w=64,
 *                                          scaled by (w/64)^2) and the per-phase split measured in
 *                                          the model's profiling mode (ms per step): conv_forward,
 *                                          conv_backward, batchnorm, other, conv_layout (im2col +
 *                                          col2im alone) and conv_gemm_est = conv phases - conv_layout;
 *                                          profiled_step_ms includes the layout probes and the
 *                                          clFinish after every layer
 *                                          Also counters launches_per_step, clblast_calls_per_step
 *                                          and alloc_bytes_per_step (must be 0: a step allocates
 *                                          nothing), counted on one traced step. With
 *                                          ISBENCH_STEP_PROFILE=FILE set, a profile pass (own queue
 *                                          with event profiling, a clFinish after every call) appends
 *                                          a per-kernel / per-CLBlast-call table to FILE ("-" =
 *                                          stderr): ms per step, share, calls per step
 *   conv_gemm.clblast.device/W:/B:         every conv GEMM of one step (forward, dW, dX) through CLBlast
 *   conv_gemm.openblas.host/W:/B:          the same shapes through OpenBLAS cblas_sgemm (reference)
 *   conv_wgrad.chunked|single.device/W:/B: every conv weight gradient of a step, chunked reduction
 *                                          (the engine's default) vs one long GEMM
 *   conv_layout.im2col.device/W:/B:        every im2col + col2im of one step (the non-GEMM conv work)
 * Device times are a host clock around clFinish after a warm-up (bench/benches.h). Each benchmark
 * checks its result before timing. Width 64 is slow on a CPU device: select with
 * --benchmark_filter (e.g. 'w16|W:16'). */
#include "benches.h"
#include "util/env.h"
#include "nn/layers.h"
#include "nn/model.h"
#include "nn/resnet18.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/timer.h"

#include <clblast_c.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef ISBENCH_HAVE_OPENBLAS
#include <cblas.h>
#endif

static const isb_bench_env *g_env;

/* docs/protocol-notes.md, note 6: 1.111 GFLOP forward per 32x32 image at width 64; training ~3x forward. */
static double gflop_per_image(int width) { return 3.0 * 1.111 * (width / 64.0) * (width / 64.0); }

static isb_model_config bench_config(int width, int batch) {
    return (isb_model_config){.width = width, .in_channels = 3, .classes = 10, .image_size = 32,
                              .max_batch = batch, .momentum = 0.9f, .weight_decay = 5e-4f, .seed = 1};
}

/* ---- the convolutions of one step ------------------------------------------------------------- */

#define MAX_CONVS (1 + 3 * ISB_RN_BLOCKS)

typedef struct {
    isb_conv_shape s[MAX_CONVS];
    int has_dx[MAX_CONVS]; /* the stem's input needs no gradient */
    int n;
    size_t max_w, max_col, max_y, max_x, max_partials; /* floats */
} step_convs;

static int conv_rows(const isb_conv_shape *s) { return s->cin * s->k * s->k; }
static int conv_cols(const isb_conv_shape *s) {
    int o = isb_conv_out_size(s->h, s->k, s->stride);
    return s->batch * o * o;
}

static int collect_convs(step_convs *c, int width, int batch) {
    isb_model_config cfg = bench_config(width, batch);
    isb_resnet18_plan *p = malloc(sizeof *p);
    if (!p) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    int rc = ISB_OK;
    memset(c, 0, sizeof *c);
    ISB_CHECK(isb_resnet18_plan_make(p, &cfg));
    for (int i = -1; i < ISB_RN_BLOCKS; i++) {
        const isb_rn_conv *list[3] = {&p->stem, NULL, NULL};
        if (i >= 0) {
            list[0] = &p->blocks[i].c1;
            list[1] = &p->blocks[i].c2;
            list[2] = p->blocks[i].has_sc ? &p->blocks[i].sc : NULL;
        }
        for (int j = 0; j < 3 && list[j]; j++) {
            isb_conv_shape s = list[j]->shape;
            s.batch = batch;
            c->s[c->n] = s;
            c->has_dx[c->n] = i >= 0;
            size_t w = (size_t)s.cout * conv_rows(&s), col = (size_t)conv_rows(&s) * conv_cols(&s);
            size_t y = (size_t)s.cout * conv_cols(&s), x = (size_t)s.cin * s.batch * s.h * s.w;
            size_t part = isb_conv_partials_floats(&s, 0);
            if (w > c->max_w) c->max_w = w;
            if (col > c->max_col) c->max_col = col;
            if (y > c->max_y) c->max_y = y;
            if (x > c->max_x) c->max_x = x;
            if (part > c->max_partials) c->max_partials = part;
            c->n++;
        }
    }
done:
    free(p);
    return rc;
}

/* FLOPs of the GEMMs of one step: forward and dW for every conv, dX where needed. */
static double step_gemm_flops(const step_convs *c) {
    double f = 0;
    for (int i = 0; i < c->n; i++)
        f += (2.0 + c->has_dx[i]) * 2.0 * c->s[i].cout * conv_rows(&c->s[i]) * conv_cols(&c->s[i]);
    return f;
}

static void fill_random(float *x, size_t n, uint64_t seed) {
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * isb_rng_uniform(&r) - 1.0f;
}

static int device_random(isb_ocl *ocl, cl_mem *buf, size_t floats, uint64_t seed, const char *what) {
    float *host = malloc(floats * sizeof *host);
    if (!host) return isb_fail(ISB_ERR_MEMORY, "out of host memory for %s", what);
    fill_random(host, floats, seed);
    int rc = ISB_OK;
    ISB_CHECK(isb_ocl_alloc(ocl, buf, floats * sizeof(float), what));
    ISB_CHECK(isb_ocl_write(ocl, *buf, 0, floats * sizeof(float), host));
done:
    free(host);
    return rc;
}

/* ---- the step's trace: counts on every run, the per-kernel table on request ------------------ */

typedef struct {
    isb_model *m;
    cl_mem x, labels;
    int *host_labels;
    isb_batch_io io;
} step_setup;

static void step_setup_free(step_setup *s) {
    isb_ocl_release(&s->x);
    isb_ocl_release(&s->labels);
    isb_model_free(s->m);
    free(s->host_labels);
}

/* A model of `width` with a random batch of B on ocl, after one checked warm-up step (kernel
 * builds, CLBlast's compiled kernels and temporary buffer). */
static int step_setup_make(step_setup *s, isb_ocl *ocl, int width, int B) {
    memset(s, 0, sizeof *s);
    isb_model_config cfg = bench_config(width, B);
    s->host_labels = malloc((size_t)B * sizeof *s->host_labels);
    if (!s->host_labels) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    ISB_TRY(isb_model_create(&s->m, ocl, &cfg));
    ISB_TRY(device_random(ocl, &s->x, (size_t)B * 3 * 32 * 32, 1, "input batch"));
    for (int r = 0; r < B; r++) s->host_labels[r] = r % 10;
    ISB_TRY(isb_ocl_alloc(ocl, &s->labels, (size_t)B * sizeof(int), "labels"));
    ISB_TRY(isb_ocl_write(ocl, s->labels, 0, (size_t)B * sizeof(int), s->host_labels));
    s->io = (isb_batch_io){.x = s->x, .labels = s->labels, .batch = B};
    float loss = NAN;
    ISB_TRY(isb_model_train_step(s->m, &s->io, NULL, 0.01f));
    ISB_TRY(isb_model_read_batch_loss(s->m, &loss));
    if (!(isfinite(loss) && loss > 0))
        return isb_fail(ISB_ERR_NUMERIC, "the warm-up step's loss is %g, not a positive finite number", loss);
    return ISB_OK;
}

/* `steps` traced steps (timed or only counted) into t. */
static int traced_steps(isb_ocl *ocl, step_setup *s, isb_ocl_trace *t, int steps) {
    int rc = ISB_OK;
    isb_ocl_trace_attach(ocl, t);
    for (int i = 0; i < steps; i++) ISB_CHECK(isb_model_train_step(s->m, &s->io, NULL, 0.01f));
    ISB_CHECK(isb_ocl_finish(ocl));
done:
    isb_ocl_trace_attach(ocl, NULL);
    return rc;
}

static int by_time_desc(const void *a, const void *b) {
    double ta = ((const isb_trace_entry *)a)->seconds, tb = ((const isb_trace_entry *)b)->seconds;
    return (ta < tb) - (ta > tb);
}

static void write_profile_table(FILE *f, const isb_ocl *ocl, int width, int B, const isb_ocl_trace *t, int steps,
                                double wall) {
    int n = isb_ocl_trace_entries(t);
    isb_trace_counts c = isb_ocl_trace_counts(t);
    isb_trace_entry *e = malloc((size_t)(n ? n : 1) * sizeof *e);
    if (!e) return;
    for (int i = 0; i < n; i++) e[i] = isb_ocl_trace_entry(t, i);
    qsort(e, (size_t)n, sizeof *e, by_time_desc);
    double total = 0;
    for (int i = 0; i < n; i++) total += e[i].seconds;
    fprintf(f, "# step profile: %s (%s), %s; ResNet18 width %d, batch %d, %d steps\n", ocl->info.name,
            ocl->info.driver_version, isb_clblast_version(), width, B, steps);
    fprintf(f, "# per step: %.1f ms booked, %.1f ms wall (a clFinish after every call), %.0f launches, %.0f CLBlast "
            "calls, %zu bytes allocated\n", total / steps * 1e3, wall / steps * 1e3, (double)c.launches / steps,
            (double)c.clblast_calls / steps, c.alloc_bytes / (size_t)steps);
    fprintf(f, "# clock: device events for kernels (h = host clock around clFinish: CLBlast calls, or no "
            "event profiling)\n%10s %6s %7s  %s\n", "ms/step", "share", "calls", "name");
    for (int i = 0; i < n; i++)
        fprintf(f, "%10.2f %5.1f%% %7.1f  %s%s\n", e[i].seconds / steps * 1e3, 100.0 * e[i].seconds / total,
                (double)e[i].calls / steps, e[i].name, e[i].host_clock ? " (h)" : "");
    fprintf(f, "\n");
    free(e);
}

/* ISBENCH_STEP_PROFILE=FILE: the per-kernel table of `steps` steps on a second queue of the same
 * device opened with event profiling (the benchmark's own queue does not profile). */
static int profile_to_file(int width, int B, const char *path, int steps) {
    const isb_device_info *d = &g_env->ocl->info;
    char selector[32];
    snprintf(selector, sizeof selector, "%d:%d", d->platform_index, d->device_index);
    isb_ocl ocl = {0};
    step_setup s = {0};
    isb_ocl_trace *t = isb_ocl_trace_new(true);
    FILE *f = NULL;
    int rc = t ? isb_ocl_open(&ocl, selector, true) : isb_fail(ISB_ERR_MEMORY, "out of host memory");
    if (rc < 0) goto done;
    rc = step_setup_make(&s, &ocl, width, B); /* isb_ocl_open applied the device's CLBlast tuning */
    if (rc < 0) goto done;
    double t0 = isb_now();
    rc = traced_steps(&ocl, &s, t, steps);
    double wall = isb_now() - t0;
    if (rc < 0) goto done;
    f = strcmp(path, "-") == 0 ? stderr : fopen(path, "a");
    if (!f) {
        rc = isb_fail(ISB_ERR_IO, "cannot open ISBENCH_STEP_PROFILE file %s for appending", path);
        goto done;
    }
    write_profile_table(f, &ocl, width, B, t, steps, wall);
    if (f != stderr) fclose(f);
done:
    step_setup_free(&s);
    isb_ocl_close(&ocl);
    isb_ocl_trace_free(t);
    return rc;
}

/* ---- train_step ------------------------------------------------------------------------------- */

typedef struct {
    int width;
} step_case;
static const step_case g_step_cases[] = {{64}, {16}, {8}};

/* Every counter of a train_step run. Set (as zeros) before anything can fail too: Google
 * Benchmark's CSV reporter aborts when a later run of a family has a counter the first run lacked. */
static void set_step_counters(isb_bench_state *st, int width, int batch, double total, const isb_model_profile *prof,
                              int profiled) {
    int64_t iters = isb_bench_iterations(st);
    double gflop = gflop_per_image(width) * batch;
    isb_bench_set_items_processed(st, iters * batch);
    isb_bench_set_counter(st, "GFLOP/s", total > 0 ? gflop * (double)iters / total : 0, ISB_COUNTER_DEFAULT);
    isb_bench_set_counter(st, "GFLOP_per_step", gflop, ISB_COUNTER_DEFAULT);
    for (int ph = 0; ph < ISB_PHASE_COUNT; ph++) {
        char name[64];
        snprintf(name, sizeof name, "%s_ms", isb_model_phase_name(ph));
        isb_bench_set_counter(st, name, prof->seconds[ph] / profiled * 1e3, ISB_COUNTER_DEFAULT);
    }
    /* the conv phases hold im2col/col2im + GEMMs; conv_layout is the former measured alone */
    double gemm = prof->seconds[ISB_PHASE_CONV_FORWARD] + prof->seconds[ISB_PHASE_CONV_BACKWARD] -
                  prof->seconds[ISB_PHASE_CONV_LAYOUT];
    isb_bench_set_counter(st, "conv_gemm_est_ms", gemm / profiled * 1e3, ISB_COUNTER_DEFAULT);
}

static void set_trace_counters(isb_bench_state *st, isb_trace_counts c, int steps) {
    isb_bench_set_counter(st, "launches_per_step", (double)c.launches / steps, ISB_COUNTER_DEFAULT);
    isb_bench_set_counter(st, "clblast_calls_per_step", (double)c.clblast_calls / steps, ISB_COUNTER_DEFAULT);
    isb_bench_set_counter(st, "alloc_bytes_per_step", (double)c.alloc_bytes / steps, ISB_COUNTER_DEFAULT);
}

enum { PROFILED_STEPS = 2 }; /* steps of the profiling pass */

/* The timed steps: a host clock around each step and its clFinish. */
static int timed_steps(isb_bench_state *st, step_setup *s, double *total) {
    while (isb_bench_keep_running(st)) {
        double t0 = isb_now();
        ISB_TRY(isb_model_train_step(s->m, &s->io, NULL, 0.01f));
        ISB_TRY(isb_ocl_finish(g_env->ocl));
        double t = isb_now() - t0;
        *total += t;
        isb_bench_set_iteration_time(st, t);
    }
    return ISB_OK;
}

/* The per-phase split: a separate pass in profiling mode (a clFinish after every layer). */
static int profiled_steps(isb_bench_state *st, step_setup *s, isb_model_profile *prof, int profiled) {
    int rc = ISB_OK;
    isb_model_set_profile(s->m, prof);
    double t0 = isb_now();
    for (int i = 0; i < profiled; i++) ISB_CHECK(isb_model_train_step(s->m, &s->io, NULL, 0.01f));
    isb_bench_set_counter(st, "profiled_step_ms", (isb_now() - t0) / profiled * 1e3, ISB_COUNTER_DEFAULT);
done:
    isb_model_set_profile(s->m, NULL);
    return rc;
}

/* Set-up, timed steps, the profiled pass, one traced step for the counts and, with
 * ISBENCH_STEP_PROFILE, the per-kernel table. s is released by the caller. */
static int step_passes(isb_bench_state *st, const step_case *sc, int B, step_setup *s, isb_ocl_trace *counts,
                       isb_model_profile *prof, double *total) {
    if (!counts) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    ISB_TRY(step_setup_make(s, g_env->ocl, sc->width, B));
    ISB_TRY(timed_steps(st, s, total));
    ISB_TRY(profiled_steps(st, s, prof, PROFILED_STEPS));
    ISB_TRY(traced_steps(g_env->ocl, s, counts, 1));
    const char *profile_path = isb_env(ISB_ENV_STEP_PROFILE);
    if (profile_path && *profile_path) ISB_TRY(profile_to_file(sc->width, B, profile_path, PROFILED_STEPS));
    return ISB_OK;
}

static void bm_train_step(isb_bench_state *st, void *user) {
    const step_case *sc = user;
    const int B = (int)isb_bench_arg(st, 0);
    step_setup s = {0};
    isb_model_profile prof = {{0}};
    isb_ocl_trace *counts = isb_ocl_trace_new(false);
    set_step_counters(st, sc->width, B, 0, &prof, PROFILED_STEPS);
    isb_bench_set_counter(st, "profiled_step_ms", 0, ISB_COUNTER_DEFAULT);
    set_trace_counters(st, (isb_trace_counts){0}, 1);
    double total = 0;
    int rc = step_passes(st, sc, B, &s, counts, &prof, &total);
    if (rc < 0) {
        isb_bench_fail(st, rc, "train step");
    } else {
        set_step_counters(st, sc->width, B, total, &prof, PROFILED_STEPS);
        set_trace_counters(st, isb_ocl_trace_counts(counts), 1);
    }
    step_setup_free(&s);
    isb_ocl_trace_free(counts);
}

/* ---- conv GEMMs: CLBlast vs OpenBLAS ---------------------------------------------------------- */

typedef struct {
    step_convs c;
    cl_mem w, col, y;
    float *hw, *hcol, *hy;
} gemm_ctx;

static void gemm_ctx_free(gemm_ctx *g) {
    isb_ocl_release(&g->w);
    isb_ocl_release(&g->col);
    isb_ocl_release(&g->y);
    free(g->hw);
    free(g->hcol);
    free(g->hy);
}

/* The three products of every conv with the layers' layouts: y = w col; dw = dy col^T;
 * dcol = w^T dy (row-major, w [M][K], col [K][N], y [M][N]). */
static int clblast_step_gemms(isb_ocl *ocl, const gemm_ctx *g) {
    for (int i = 0; i < g->c.n; i++) {
        const isb_conv_shape *s = &g->c.s[i];
        size_t M = (size_t)s->cout, K = (size_t)conv_rows(s), N = (size_t)conv_cols(s);
        ISB_TRY(isb_clblast_check(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, M, N, K,
                                               1.0f, g->w, 0, K, g->col, 0, N, 0.0f, g->y, 0, N, &ocl->queue, NULL),
                                  "CLBlastSgemm (forward)"));
        ISB_TRY(isb_clblast_check(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeYes, M, K, N,
                                               1.0f, g->y, 0, N, g->col, 0, N, 0.0f, g->w, 0, K, &ocl->queue, NULL),
                                  "CLBlastSgemm (weight gradient)"));
        if (g->c.has_dx[i])
            ISB_TRY(isb_clblast_check(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeYes, CLBlastTransposeNo, K, N,
                                                   M, 1.0f, g->w, 0, K, g->y, 0, N, 0.0f, g->col, 0, N, &ocl->queue,
                                                   NULL),
                                      "CLBlastSgemm (input gradient)"));
    }
    return ISB_OK;
}

static int gemm_setup(isb_bench_state *st, gemm_ctx *g, int device) {
    ISB_TRY(collect_convs(&g->c, (int)isb_bench_arg(st, 0), (int)isb_bench_arg(st, 1)));
    if (device) {
        ISB_TRY(device_random(g_env->ocl, &g->w, g->c.max_w, 1, "GEMM weights"));
        ISB_TRY(device_random(g_env->ocl, &g->col, g->c.max_col, 2, "GEMM columns"));
        return device_random(g_env->ocl, &g->y, g->c.max_y, 3, "GEMM output");
    }
    g->hw = malloc(g->c.max_w * sizeof(float));
    g->hcol = malloc(g->c.max_col * sizeof(float));
    g->hy = malloc(g->c.max_y * sizeof(float));
    if (!g->hw || !g->hcol || !g->hy) return isb_fail(ISB_ERR_MEMORY, "out of host memory for the GEMMs");
    fill_random(g->hw, g->c.max_w, 1);
    fill_random(g->hcol, g->c.max_col, 2);
    fill_random(g->hy, g->c.max_y, 3);
    return ISB_OK;
}

static void set_gemm_counters(isb_bench_state *st, const step_convs *c, double total) {
    double flops = step_gemm_flops(c);
    int64_t iters = isb_bench_iterations(st);
    isb_bench_set_counter(st, "GFLOP/s", total > 0 ? flops * 1e-9 * (double)iters / total : 0, ISB_COUNTER_DEFAULT);
    isb_bench_set_counter(st, "GFLOP_per_step", flops * 1e-9, ISB_COUNTER_DEFAULT);
    int n = 0;
    for (int i = 0; i < c->n; i++) n += 2 + c->has_dx[i];
    isb_bench_set_counter(st, "gemms", n, ISB_COUNTER_DEFAULT);
}

/* CLBlast's SGEMM against plain C on a small conv-like product, before any timing. */
static int check_clblast(isb_ocl *ocl) {
    enum { M = 16, K = 27, N = 300 };
    static float a[M * K], b[K * N], c[M * N], want[M * N];
    fill_random(a, M * K, 4);
    fill_random(b, K * N, 5);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += (double)a[i * K + k] * b[k * N + j];
            want[i * N + j] = (float)s;
        }
    cl_mem da = NULL, db = NULL, dc = NULL;
    int rc = ISB_OK;
    ISB_CHECK(isb_ocl_alloc(ocl, &da, sizeof a, "check A"));
    ISB_CHECK(isb_ocl_alloc(ocl, &db, sizeof b, "check B"));
    ISB_CHECK(isb_ocl_alloc(ocl, &dc, sizeof c, "check C"));
    ISB_CHECK(isb_ocl_write(ocl, da, 0, sizeof a, a));
    ISB_CHECK(isb_ocl_write(ocl, db, 0, sizeof b, b));
    ISB_CHECK(isb_clblast_check(CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, M, N, K, 1.0f,
                                             da, 0, K, db, 0, N, 0.0f, dc, 0, N, &ocl->queue, NULL),
                                "CLBlastSgemm (check)"));
    ISB_CHECK(isb_ocl_read(ocl, dc, 0, sizeof c, c));
    double err = 0, norm = 0;
    for (int i = 0; i < M * N; i++) {
        err += (double)(c[i] - want[i]) * (c[i] - want[i]);
        norm += (double)want[i] * want[i];
    }
    if (!(sqrt(err / norm) < 1e-5))
        ISB_CHECK(isb_fail(ISB_ERR_NUMERIC, "CLBlast SGEMM differs from plain C: normalised error %g", sqrt(err / norm)));
done:
    isb_ocl_release(&da);
    isb_ocl_release(&db);
    isb_ocl_release(&dc);
    return rc;
}

/* The checked set-up, a warm-up (CLBlast compiles its kernels) and the timed iterations: a host
 * clock around each step's GEMMs and their clFinish. g is released by the caller. */
static int clblast_passes(isb_bench_state *st, gemm_ctx *g, double *total) {
    isb_ocl *ocl = g_env->ocl;
    ISB_TRY(check_clblast(ocl));
    ISB_TRY(gemm_setup(st, g, 1));
    ISB_TRY(clblast_step_gemms(ocl, g));
    ISB_TRY(isb_ocl_finish(ocl));
    while (isb_bench_keep_running(st)) {
        double t0 = isb_now();
        ISB_TRY(clblast_step_gemms(ocl, g));
        ISB_TRY(isb_ocl_finish(ocl));
        double t = isb_now() - t0;
        *total += t;
        isb_bench_set_iteration_time(st, t);
    }
    return ISB_OK;
}

static void bm_gemm_clblast(isb_bench_state *st, void *user) {
    (void)user;
    gemm_ctx g = {0};
    set_gemm_counters(st, &g.c, 0); /* all counters exist even if a check fails (see set_step_counters) */
    double total = 0;
    int rc = clblast_passes(st, &g, &total);
    if (rc < 0) isb_bench_fail(st, rc, "CLBlast conv GEMMs");
    else set_gemm_counters(st, &g.c, total);
    gemm_ctx_free(&g);
}

#ifdef ISBENCH_HAVE_OPENBLAS
static void openblas_step_gemms(const gemm_ctx *g) {
    for (int i = 0; i < g->c.n; i++) {
        const isb_conv_shape *s = &g->c.s[i];
        int M = s->cout, K = conv_rows(s), N = conv_cols(s);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, g->hw, K, g->hcol, N, 0.0f, g->hy, N);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, N, 1.0f, g->hy, N, g->hcol, N, 0.0f, g->hw, K);
        if (g->c.has_dx[i])
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, M, 1.0f, g->hw, K, g->hy, N, 0.0f, g->hcol, N);
    }
}

static void bm_gemm_openblas(isb_bench_state *st, void *user) {
    (void)user;
    gemm_ctx g = {0};
    set_gemm_counters(st, &g.c, 0);
    int rc = gemm_setup(st, &g, 0);
    if (rc < 0) {
        isb_bench_fail(st, rc, "OpenBLAS conv GEMMs");
        gemm_ctx_free(&g);
        return;
    }
    openblas_step_gemms(&g); /* warm-up: threads, pages */
    double total = 0;
    while (isb_bench_keep_running(st)) {
        double t0 = isb_now();
        openblas_step_gemms(&g);
        double t = isb_now() - t0;
        total += t;
        isb_bench_set_iteration_time(st, t);
    }
    set_gemm_counters(st, &g.c, total);
    gemm_ctx_free(&g);
}
#endif

/* ---- conv weight gradient: chunked vs single GEMM; im2col/col2im ------------------------------ */

typedef struct {
    step_convs c;
    cl_mem dw, dy, col, partials, x;
    int chunks; /* for the weight-gradient loop */
} conv_ctx;

static int wgrad_all(void *ctx) {
    conv_ctx *k = ctx;
    for (int i = 0; i < k->c.n; i++)
        ISB_TRY(isb_conv2d_weight_grad(g_env->ocl, &k->c.s[i], isb_ds(k->dw, 0), isb_ds(k->dy, 0), isb_ds(k->col, 0),
                                       isb_ds(k->partials, 0), k->chunks));
    return ISB_OK;
}

static int layout_all(void *ctx) {
    conv_ctx *k = ctx;
    for (int i = 0; i < k->c.n; i++) {
        ISB_TRY(isb_im2col(g_env->ocl, &k->c.s[i], isb_ds(k->col, 0), isb_ds(k->x, 0)));
        if (k->c.has_dx[i]) ISB_TRY(isb_col2im(g_env->ocl, &k->c.s[i], isb_ds(k->x, 0), isb_ds(k->col, 0)));
    }
    return ISB_OK;
}

static void conv_ctx_free(conv_ctx *k) {
    cl_mem *bufs[] = {&k->dw, &k->dy, &k->col, &k->partials, &k->x};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
}

/* Chunked and single-GEMM weight gradients agree on the largest-reduction conv of the step. */
static int check_wgrad(conv_ctx *k) {
    isb_ocl *ocl = g_env->ocl;
    const isb_conv_shape *s = &k->c.s[0]; /* the stem: the longest reduction (batch*32*32 columns) */
    size_t nw = (size_t)s->cout * conv_rows(s);
    float *a = malloc(nw * sizeof *a), *b = malloc(nw * sizeof *b);
    int rc = ISB_OK;
    if (!a || !b) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    ISB_CHECK(isb_conv2d_weight_grad(ocl, s, isb_ds(k->dw, 0), isb_ds(k->dy, 0), isb_ds(k->col, 0),
                                     isb_ds(k->partials, 0), 0));
    ISB_CHECK(isb_ocl_read(ocl, k->dw, 0, nw * sizeof *a, a));
    ISB_CHECK(isb_conv2d_weight_grad(ocl, s, isb_ds(k->dw, 0), isb_ds(k->dy, 0), isb_ds(k->col, 0),
                                     isb_ds(k->partials, 0), 1));
    ISB_CHECK(isb_ocl_read(ocl, k->dw, 0, nw * sizeof *b, b));
    double err = 0, norm = 0;
    for (size_t i = 0; i < nw; i++) {
        err += (double)(a[i] - b[i]) * (a[i] - b[i]);
        norm += (double)b[i] * b[i];
    }
    if (!(sqrt(err / norm) < 1e-4))
        ISB_CHECK(isb_fail(ISB_ERR_NUMERIC, "chunked and single-GEMM weight gradients differ: normalised error %g",
                           sqrt(err / norm)));
done:
    free(a);
    free(b);
    return rc;
}

/* The buffers of k (released by the caller), the weight-gradient check, and the timed loop of
 * im2col/col2im (layout) or of the weight gradients. */
static int conv_passes(isb_bench_state *st, conv_ctx *k, bool layout) {
    isb_ocl *ocl = g_env->ocl;
    ISB_TRY(collect_convs(&k->c, (int)isb_bench_arg(st, 0), (int)isb_bench_arg(st, 1)));
    ISB_TRY(device_random(ocl, &k->col, k->c.max_col, 2, "columns"));
    if (layout) {
        ISB_TRY(device_random(ocl, &k->x, k->c.max_x, 1, "conv input"));
        return isb_bench_device_loop(st, ocl, layout_all, k);
    }
    ISB_TRY(device_random(ocl, &k->dy, k->c.max_y, 3, "output gradient"));
    ISB_TRY(isb_ocl_alloc(ocl, &k->dw, k->c.max_w * sizeof(float), "weight gradient"));
    ISB_TRY(isb_ocl_alloc(ocl, &k->partials, (k->c.max_partials + 1) * sizeof(float), "partials"));
    ISB_TRY(check_wgrad(k));
    return isb_bench_device_loop(st, ocl, wgrad_all, k);
}

static void bm_conv(isb_bench_state *st, void *user) {
    const char *what = user; /* "chunked", "single" or "im2col" */
    conv_ctx k = {.chunks = strcmp(what, "single") == 0 ? 1 : 0};
    int rc = conv_passes(st, &k, strcmp(what, "im2col") == 0);
    if (rc < 0 && !isb_bench_error_occurred(st)) isb_bench_fail(st, rc, what);
    conv_ctx_free(&k);
}

/* ---- registration ----------------------------------------------------------------------------- */

void isb_bench_register_engine(const isb_bench_env *env) {
    g_env = env;
    static const char *const b_name[] = {"B", NULL}, *const wb_names[] = {"W", "B", NULL};
    static const int64_t b_args[] = {128}, wb_args[] = {16, 128, 64, 128};
    static char names[8][64];
    for (size_t i = 0; i < sizeof g_step_cases / sizeof g_step_cases[0]; i++) {
        snprintf(names[i], sizeof names[i], "train_step.w%d.device", g_step_cases[i].width);
        isb_bench_register(&(isb_bench_def){.name = names[i], .fn = bm_train_step, .user = (void *)&g_step_cases[i],
                                            .unit = ISB_BENCH_MS, .manual_time = true, .arg_names = b_name,
                                            .args = b_args, .arg_sets = 1});
    }
    isb_bench_register(&(isb_bench_def){.name = "conv_gemm.clblast.device", .fn = bm_gemm_clblast, .unit = ISB_BENCH_MS,
                                        .manual_time = true, .arg_names = wb_names, .args = wb_args, .arg_sets = 2});
#ifdef ISBENCH_HAVE_OPENBLAS
    isb_bench_register(&(isb_bench_def){.name = "conv_gemm.openblas.host", .fn = bm_gemm_openblas,
                                        .unit = ISB_BENCH_MS, .manual_time = true, .arg_names = wb_names,
                                        .args = wb_args, .arg_sets = 2});
#endif
    static const char *const conv_methods[][2] = {{"conv_wgrad.chunked.device", "chunked"},
                                                  {"conv_wgrad.single.device", "single"},
                                                  {"conv_layout.im2col.device", "im2col"}};
    for (int i = 0; i < 3; i++)
        isb_bench_register(&(isb_bench_def){.name = conv_methods[i][0], .fn = bm_conv, .user = (void *)conv_methods[i][1],
                                            .unit = ISB_BENCH_MS, .manual_time = true, .arg_names = wb_names,
                                            .args = wb_args, .arg_sets = 2});
}
