/* Sampling and score-update microbenchmarks (docs/results-format.md names):
 *   sampling.<softmax|alias|cdf|gumbel_topk|gumbel_sort|full_path>.<host|device>/N:../Z:..,
 *   sampling.successive.host (naive O(Z N), small N only), score_update.<last|running>.<host|device>/N/B,
 *   score_update.<fused_loss|loss_only>.device/N/B (the loss kernel with and without the fused update).
 * Every method's output is checked before it is timed (SkipWithError if the check fails). Device
 * runs report device time (host clock around clFinish after a warm-up) with items/s (draws, or
 * scores for softmax), effective GB/s of the minimum traffic, and floor_ms: that traffic at the
 * device's measured copy bandwidth, the memory-bandwidth floor of the method. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include "nn/layers.h"
#include "ref/sampling.h"
#include "sampling/sampler.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/timer.h"

#define SEED 20240101ULL
#define TEMPERATURE 1.0f

typedef enum { M_SOFTMAX, M_ALIAS, M_CDF, M_GUMBEL_TOPK, M_GUMBEL_SORT, M_FULL_PATH, M_SUCCESSIVE } method_id;
static const char *const method_names[] = {"softmax", "alias", "cdf", "gumbel_topk", "gumbel_sort", "full_path",
                                           "successive"};

static const isb_bench_env *g_env;
static method_id g_methods[] = {M_SOFTMAX, M_ALIAS, M_CDF, M_GUMBEL_TOPK, M_GUMBEL_SORT, M_FULL_PATH, M_SUCCESSIVE};

/* Scores of a trained-ish network: losses spread over [0, 3] (p varies 20x), fixed seed. */
static float *make_scores(int n) {
    float *s = malloc((size_t)n * sizeof *s);
    if (!s) return NULL;
    isb_rng r = isb_rng_make(SEED, ISB_STREAM_TEST, 0);
    for (int i = 0; i < n; i++) s[i] = 3.0f * isb_rng_uniform(&r);
    return s;
}

/* Device copy bandwidth (bytes/s), measured once with a 256 MiB (or smaller) buffer copy. */
static double copy_bandwidth(isb_ocl *ocl) {
    static double bw = 0;
    if (bw > 0) return bw;
    size_t bytes = (size_t)256 << 20;
    if (bytes > ocl->info.max_alloc / 2) bytes = ocl->info.max_alloc / 2;
    cl_mem a = NULL, b = NULL;
    if (isb_ocl_alloc(ocl, &a, bytes, "bandwidth probe") < 0 || isb_ocl_alloc(ocl, &b, bytes, "bandwidth probe") < 0) {
        isb_ocl_release(&a);
        return bw = NAN;
    }
    isb_ocl_fill_zero(ocl, a, 0, bytes);
    double best = INFINITY;
    for (int rep = 0; rep < 4; rep++) {
        double t0 = isb_now();
        isb_ocl_copy(ocl, a, 0, b, 0, bytes, "bandwidth probe");
        isb_ocl_finish(ocl);
        double t = isb_now() - t0;
        if (rep > 0 && t < best) best = t; /* rep 0 is the warm-up */
    }
    isb_ocl_release(&a);
    isb_ocl_release(&b);
    return bw = 2.0 * (double)bytes / best; /* read + write */
}

/* Minimum bytes a method must move on the device (reads of scores, writes of results). */
static double min_bytes(method_id m, int64_t n, int64_t z) {
    switch (m) {
    case M_SOFTMAX: return 8.0 * n;                  /* read S, write p */
    case M_ALIAS: return 12.0 * n + 12.0 * z;        /* read S, write the table; per draw bucket + index */
    case M_CDF: return 4.0 * n + 8.0 * n + 4.0 * z;  /* read S, write the CDF, write indices */
    default: return 4.0 * n + 8.0 * z;               /* read S, write indices + weights */
    }
}

/* ---- output checks (run before timing) ------------------------------------------------------ */
/* Indices in range; without replacement also distinct; with replacement the mean inverse-p
 * weight 1/(N p_i) over the draws is E_p[1/(N p)] = 1 (a wrong distribution moves it). */
static int check_draws(const int *idx, const float *w, int z, int n, int without, char *why, size_t why_len) {
    unsigned char *seen = without ? calloc((size_t)n, 1) : NULL;
    double mean_w = 0;
    for (int j = 0; j < z; j++) {
        if (idx[j] < 0 || idx[j] >= n) {
            snprintf(why, why_len, "draw %d: index %d outside [0, %d)", j, idx[j], n);
            free(seen);
            return -1;
        }
        if (seen && seen[idx[j]]++) {
            snprintf(why, why_len, "draw %d: index %d drawn twice without replacement", j, idx[j]);
            free(seen);
            return -1;
        }
        mean_w += w ? w[j] : 0;
    }
    free(seen);
    mean_w /= z;
    if (w && !without && fabs(mean_w - 1.0) > 0.1) {
        snprintf(why, why_len, "mean inverse-p weight %.3f, expected 1 +- 0.1: draws do not follow p", mean_w);
        return -1;
    }
    return 0;
}

/* ---- device ------------------------------------------------------------------------------- */
typedef struct {
    isb_sampler *sampler;
    method_id method;
    int n, z;
    uint32_t epoch;
    cl_mem scores, indices, weights, p;
} device_run;

static int device_iteration(void *ctx) {
    device_run *r = ctx;
    r->epoch++; /* fresh draws each iteration, as in training */
    /* draw method and weights of each device method; full_path is what the trainer runs per
     * sampler epoch: scores -> shuffled indices + weights */
    static const struct { isb_draw_method draw; isb_weight_mode weights; } draws[] = {
        [M_ALIAS] = {ISB_DRAW_ALIAS, ISB_WEIGHTS_INVERSE_P},
        [M_CDF] = {ISB_DRAW_CDF, ISB_WEIGHTS_INVERSE_P},
        [M_GUMBEL_TOPK] = {ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_NONE},
        [M_GUMBEL_SORT] = {ISB_DRAW_GUMBEL_SORT, ISB_WEIGHTS_NONE},
        [M_FULL_PATH] = {ISB_DRAW_GUMBEL_TOPK, ISB_WEIGHTS_INVERSE_P},
    };
    if (r->method == M_SOFTMAX) return isb_sampler_softmax(r->sampler, r->scores, r->n, TEMPERATURE, r->p);
    if (r->method == M_SUCCESSIVE) return isb_fail(ISB_ERR_INTERNAL, "method %d has no device version", (int)r->method);
    return isb_sampler_draw(r->sampler, r->scores, r->n, r->z, TEMPERATURE, draws[r->method].draw,
                            draws[r->method].weights, SEED, r->epoch, r->indices, r->weights);
}

/* The softmax against the C reference: 0, 1 with the reason in why, or a failure. */
static int check_softmax(const device_run *r, const float *host_scores, char *why, size_t why_len) {
    float *got = malloc((size_t)r->n * sizeof *got), *want = malloc((size_t)r->n * sizeof *want);
    double err = 0, norm = 0;
    int rc = ISB_OK;
    if (!got || !want) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "reading softmax output: out of host memory"));
    ISB_CHECK(isb_ocl_read(g_env->ocl, r->p, 0, (size_t)r->n * sizeof *got, got));
    isb_sref_softmax(want, host_scores, r->n, TEMPERATURE);
    for (int i = 0; i < r->n; i++) {
        err += (double)(got[i] - want[i]) * (got[i] - want[i]);
        norm += (double)want[i] * want[i];
    }
    if (!(sqrt(err / norm) < 1e-4)) {
        snprintf(why, why_len, "softmax normalised error %.3g vs the C reference", sqrt(err / norm));
        rc = 1;
    }
done:
    free(got);
    free(want);
    return rc;
}

/* The draws (indices, weights) checked: 0, 1 with the reason in why, or a failure. */
static int check_draw_output(const device_run *r, char *why, size_t why_len) {
    int *idx = malloc((size_t)r->z * sizeof *idx);
    float *w = malloc((size_t)r->z * sizeof *w);
    int rc = ISB_OK;
    if (!idx || !w) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "reading the draws: out of host memory"));
    ISB_CHECK(isb_ocl_read(g_env->ocl, r->indices, 0, (size_t)r->z * sizeof *idx, idx));
    ISB_CHECK(isb_ocl_read(g_env->ocl, r->weights, 0, (size_t)r->z * sizeof *w, w));
    int without = r->method == M_GUMBEL_TOPK || r->method == M_GUMBEL_SORT || r->method == M_FULL_PATH;
    bool weighted = r->method == M_ALIAS || r->method == M_CDF;
    rc = check_draws(idx, weighted ? w : NULL, r->z, r->n, without, why, why_len) ? 1 : 0;
done:
    free(idx);
    free(w);
    return rc;
}

static int device_check(device_run *r, const float *host_scores, char *why, size_t why_len) {
    ISB_TRY(device_iteration(r));
    ISB_TRY(isb_sampler_check(r->sampler));
    return r->method == M_SOFTMAX ? check_softmax(r, host_scores, why, why_len) : check_draw_output(r, why, why_len);
}

/* The sampler and buffers of r (released by the caller), then one checked draw. */
static int device_setup(device_run *r, const float *scores, char *why, size_t why_len) {
    isb_ocl *ocl = g_env->ocl;
    int n = r->n, z = r->z;
    if (!scores) return isb_fail(ISB_ERR_MEMORY, "host scores");
    ISB_TRY(isb_sampler_create(&r->sampler, ocl, n, z));
    ISB_TRY(isb_ocl_alloc(ocl, &r->scores, (size_t)n * sizeof(float), "scores"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->indices, (size_t)z * sizeof(int), "indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->weights, (size_t)z * sizeof(float), "weights"));
    if (r->method == M_SOFTMAX) ISB_TRY(isb_ocl_alloc(ocl, &r->p, (size_t)n * sizeof(float), "p"));
    ISB_TRY(isb_ocl_write(ocl, r->scores, 0, (size_t)n * sizeof(float), scores));
    return device_check(r, scores, why, why_len);
}

static void bm_device(isb_bench_state *st, void *user) {
    method_id m = *(method_id *)user;
    int n = (int)isb_bench_arg(st, 0), z = m == M_SOFTMAX ? 1 : (int)isb_bench_arg(st, 1);
    isb_ocl *ocl = g_env->ocl;
    device_run r = {.method = m, .n = n, .z = z};
    float *scores = make_scores(n);
    char why[256] = "";
    int rc = device_setup(&r, scores, why, sizeof why);
    if (rc < 0) {
        isb_bench_fail(st, rc, "set-up or check");
    } else if (rc > 0) {
        char msg[320];
        snprintf(msg, sizeof msg, "output check failed, not timed: %s", why);
        isb_bench_skip_with_error(st, msg);
    } else if (isb_bench_device_loop(st, ocl, device_iteration, &r) == 0) {
        double bytes = min_bytes(m, n, z), bw = copy_bandwidth(ocl);
        isb_bench_set_items_processed(st, isb_bench_iterations(st) * (m == M_SOFTMAX ? n : z));
        isb_bench_set_bytes_processed(st, (int64_t)(bytes * (double)isb_bench_iterations(st)));
        isb_bench_set_counter(st, "floor_ms", 1e3 * bytes / bw, ISB_COUNTER_DEFAULT);
    }
    isb_ocl_release(&r.scores);
    isb_ocl_release(&r.indices);
    isb_ocl_release(&r.weights);
    isb_ocl_release(&r.p);
    isb_sampler_free(r.sampler);
    free(scores);
}

/* ---- host ----------------------------------------------------------------------------------- */
typedef struct {
    int n, z;
    float *scores, *p, *w;
    int *idx, *order, *alias;
    uint32_t *thr;
    double *keys;
    unsigned char *taken;
} host_run;

/* The host versions, as a CPU implementation (the PyTorch comparison) would run them. */
static void host_iteration(host_run *h, method_id m, uint32_t epoch) {
    switch (m) {
    case M_SOFTMAX: isb_sref_softmax(h->p, h->scores, h->n, TEMPERATURE); break;
    case M_ALIAS:
        isb_sref_softmax(h->p, h->scores, h->n, TEMPERATURE);
        isb_sref_alias_build(h->thr, h->alias, h->p, h->n);
        isb_sref_alias_draw(h->idx, h->z, h->thr, h->alias, h->n, SEED, epoch);
        break;
    case M_CDF:
        isb_sref_softmax(h->p, h->scores, h->n, TEMPERATURE);
        isb_sref_cdf_draw(h->idx, h->z, h->p, h->n, h->keys, SEED, epoch);
        break;
    case M_GUMBEL_TOPK:
    case M_GUMBEL_SORT: /* the host reference selects then sorts the selection; full sort = same call */
        isb_sref_gumbel_topk(h->idx, h->z, h->scores, h->n, TEMPERATURE, SEED, epoch, h->keys, h->order);
        break;
    case M_FULL_PATH:
        isb_sref_softmax(h->p, h->scores, h->n, TEMPERATURE);
        isb_sref_gumbel_topk(h->idx, h->z, h->scores, h->n, TEMPERATURE, SEED, epoch, h->keys, h->order);
        for (int j = 0; j < h->z; j++) h->w[j] = 1.0f / ((float)h->n * h->p[h->idx[j]]);
        break;
    case M_SUCCESSIVE:
        isb_sref_softmax(h->p, h->scores, h->n, TEMPERATURE);
        isb_sref_successive(h->idx, h->z, h->p, h->n, SEED, epoch, h->taken);
        break;
    }
}

static void bm_host(isb_bench_state *st, void *user) {
    method_id m = *(method_id *)user;
    int n = (int)isb_bench_arg(st, 0), z = m == M_SOFTMAX ? 1 : (int)isb_bench_arg(st, 1);
    size_t nn = (size_t)n;
    host_run h = {.n = n, .z = z, .scores = make_scores(n), .p = malloc(nn * sizeof(float)),
                  .w = malloc((size_t)z * sizeof(float)), .idx = malloc((size_t)z * sizeof(int)),
                  .order = malloc(nn * sizeof(int)), .alias = malloc(nn * sizeof(int)),
                  .thr = malloc(nn * sizeof(uint32_t)), .keys = malloc(nn * sizeof(double)), .taken = malloc(nn)};
    char why[256] = "";
    if (!h.scores || !h.p || !h.w || !h.idx || !h.order || !h.alias || !h.thr || !h.keys || !h.taken) {
        isb_bench_skip_with_error(st, "out of host memory");
    } else {
        host_iteration(&h, m, 0);
        int without = m == M_GUMBEL_TOPK || m == M_GUMBEL_SORT || m == M_FULL_PATH || m == M_SUCCESSIVE;
        if (m != M_SOFTMAX && check_draws(h.idx, NULL, z, n, without, why, sizeof why)) {
            char msg[320];
            snprintf(msg, sizeof msg, "output check failed, not timed: %s", why);
            isb_bench_skip_with_error(st, msg);
        } else {
            uint32_t epoch = 0;
            while (isb_bench_keep_running(st)) host_iteration(&h, m, ++epoch);
            isb_bench_set_items_processed(st, isb_bench_iterations(st) * (m == M_SOFTMAX ? n : z));
            /* Google Benchmark's CSV needs the same counters in every row of a file: no device floor here */
            isb_bench_set_counter(st, "floor_ms", NAN, ISB_COUNTER_DEFAULT);
        }
    }
    free(h.scores); free(h.p); free(h.w); free(h.idx); free(h.order); free(h.alias); free(h.thr); free(h.keys);
    free(h.taken);
}

/* ---- score update ---------------------------------------------------------------------------- */
/* isb_scores_update runs cl/score_rule.cl's isb_score_apply_rows, the code the trainer's loss
 * kernel runs for its score update, so these time exactly what training runs (after the loss). */
#define SCORE_BETA 0.2f
static isb_score_rule g_score_rules[] = {{ISB_SCORE_RULE_LAST_LOSS, SCORE_BETA}, {ISB_SCORE_RULE_RUNNING_LOSS, SCORE_BETA}};

typedef struct {
    int n, b;
    isb_score_rule rule;
    cl_mem scores, indices, losses;
} score_run;

static int score_iteration(void *ctx) {
    score_run *r = ctx;
    return isb_scores_update(g_env->ocl, r->scores, r->indices, r->losses, r->b, r->rule);
}

/* b distinct random rows and their losses. */
static void make_batch(int n, int b, int *idx, float *loss) {
    isb_rng r = isb_rng_make(SEED, ISB_STREAM_TEST, 1);
    for (int j = 0; j < b; j++) {
        idx[j] = (int)(((int64_t)j * n) / b + isb_rng_below(&r, (uint32_t)(n / b > 0 ? n / b : 1))) % n;
        loss[j] = 5.0f * isb_rng_uniform(&r);
    }
}

/* The buffers of r (released by the caller) from a random batch, and one update read back into got. */
static int score_setup(score_run *r, const float *scores, int *idx, float *loss, float *got) {
    isb_ocl *ocl = g_env->ocl;
    int n = r->n, b = r->b;
    if (!scores || !got || !loss || !idx) return isb_fail(ISB_ERR_MEMORY, "host buffers");
    make_batch(n, b, idx, loss);
    ISB_TRY(isb_ocl_alloc(ocl, &r->scores, (size_t)n * sizeof(float), "scores"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->indices, (size_t)b * sizeof(int), "indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->losses, (size_t)b * sizeof(float), "losses"));
    ISB_TRY(isb_ocl_write(ocl, r->scores, 0, (size_t)n * sizeof(float), scores));
    ISB_TRY(isb_ocl_write(ocl, r->indices, 0, (size_t)b * sizeof(int), idx));
    ISB_TRY(isb_ocl_write(ocl, r->losses, 0, (size_t)b * sizeof(float), loss));
    ISB_TRY(score_iteration(r));
    return isb_ocl_read(ocl, r->scores, 0, (size_t)n * sizeof(float), got);
}

static void bm_score_device(isb_bench_state *st, void *user) {
    isb_score_rule rule = *(isb_score_rule *)user;
    int n = (int)isb_bench_arg(st, 0), b = (int)isb_bench_arg(st, 1);
    isb_ocl *ocl = g_env->ocl;
    score_run r = {.n = n, .b = b, .rule = rule};
    float *scores = make_scores(n), *got = malloc((size_t)n * sizeof *got), *loss = malloc((size_t)b * sizeof *loss);
    int *idx = malloc((size_t)b * sizeof *idx);
    int rc = score_setup(&r, scores, idx, loss, got);
    if (rc < 0) {
        isb_bench_fail(st, rc, "set-up");
    } else {
        isb_sref_score_update(scores, idx, loss, b, rule);
        int bad = -1;
        for (int j = 0; j < b && bad < 0; j++)
            if (fabsf(got[idx[j]] - scores[idx[j]]) > 1e-5f * (1 + fabsf(scores[idx[j]]))) bad = idx[j];
        if (bad >= 0) {
            char msg[128];
            snprintf(msg, sizeof msg, "output check failed, not timed: score %d differs from the C reference", bad);
            isb_bench_skip_with_error(st, msg);
        } else if (isb_bench_device_loop(st, ocl, score_iteration, &r) == 0) {
            isb_bench_set_items_processed(st, isb_bench_iterations(st) * b);
        }
    }
    isb_ocl_release(&r.scores);
    isb_ocl_release(&r.indices);
    isb_ocl_release(&r.losses);
    free(scores); free(got); free(loss); free(idx);
}

static void bm_score_host(isb_bench_state *st, void *user) {
    isb_score_rule rule = *(isb_score_rule *)user;
    int n = (int)isb_bench_arg(st, 0), b = (int)isb_bench_arg(st, 1);
    float *scores = make_scores(n), *loss = malloc((size_t)b * sizeof *loss);
    int *idx = malloc((size_t)b * sizeof *idx);
    if (!scores || !loss || !idx) {
        isb_bench_skip_with_error(st, "out of host memory");
    } else {
        make_batch(n, b, idx, loss);
        float expect = isb_score_rule_fold(rule, scores[idx[0]], loss[0]);
        isb_sref_score_update(scores, idx, loss, b, rule);
        if (scores[idx[0]] != expect) {
            isb_bench_skip_with_error(st, "output check failed: the updated score is not the expected one");
        } else {
            while (isb_bench_keep_running(st)) isb_sref_score_update(scores, idx, loss, b, rule);
            isb_bench_set_items_processed(st, isb_bench_iterations(st) * b);
        }
    }
    free(scores); free(loss); free(idx);
}

/* ---- score update fused into the loss kernel (src/nn/layers.h) vs the loss alone ---------------- */
/* The marginal cost of keeping scores: the trainer's softmax cross-entropy (losses, dlogits,
 * correct, batch loss) with the running-loss rule (fused) against no score rule. */
#define LOSS_CLASSES 10

typedef struct {
    isb_loss_args args;
    cl_mem scores, idx, logits, labels, dlogits, losses, correct, batch_loss;
} loss_run;

static int loss_iteration(void *ctx) { return isb_softmax_xent(g_env->ocl, &((loss_run *)ctx)->args); }

/* Host inputs of the loss benchmark: b random rows, their logits and labels. */
typedef struct {
    float *scores, *got, *logits, *losses, *dummy_loss;
    int *labels, *idx;
} loss_host;

static void loss_host_free(loss_host *h) {
    free(h->scores); free(h->got); free(h->logits); free(h->losses); free(h->dummy_loss); free(h->labels); free(h->idx);
}

static int loss_host_make(loss_host *h, int n, int b) {
    size_t bc = (size_t)b * LOSS_CLASSES;
    *h = (loss_host){.scores = make_scores(n), .got = malloc((size_t)n * sizeof(float)), .logits = malloc(bc * sizeof(float)),
                     .losses = malloc((size_t)b * sizeof(float)), .dummy_loss = malloc((size_t)b * sizeof(float)),
                     .labels = malloc((size_t)b * sizeof(int)), .idx = malloc((size_t)b * sizeof(int))};
    if (!h->scores || !h->got || !h->logits || !h->losses || !h->dummy_loss || !h->labels || !h->idx)
        return isb_fail(ISB_ERR_MEMORY, "host");
    make_batch(n, b, h->idx, h->dummy_loss);
    isb_rng r = isb_rng_make(SEED, ISB_STREAM_TEST, 2);
    for (size_t i = 0; i < bc; i++) h->logits[i] = 4.0f * isb_rng_uniform(&r) - 2.0f;
    for (int j = 0; j < b; j++) h->labels[j] = (int)isb_rng_below(&r, LOSS_CLASSES);
    return ISB_OK;
}

static void loss_run_release(loss_run *r) {
    cl_mem *bufs[] = {&r->scores, &r->idx, &r->logits, &r->labels, &r->dlogits, &r->losses, &r->correct, &r->batch_loss};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) isb_ocl_release(bufs[i]);
}

/* The device buffers of r (released by the caller) and its arguments. */
static int loss_setup(loss_run *r, const loss_host *h, int n, int b, int fused) {
    isb_ocl *ocl = g_env->ocl;
    size_t bc = (size_t)b * LOSS_CLASSES;
    ISB_TRY(isb_ocl_alloc(ocl, &r->scores, (size_t)n * sizeof(float), "scores"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->idx, (size_t)b * sizeof(int), "indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->logits, bc * sizeof(float), "logits"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->labels, (size_t)b * sizeof(int), "labels"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->dlogits, bc * sizeof(float), "dlogits"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->losses, (size_t)b * sizeof(float), "losses"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->correct, (size_t)b * sizeof(int), "correct"));
    ISB_TRY(isb_ocl_alloc(ocl, &r->batch_loss, sizeof(float), "batch loss"));
    ISB_TRY(isb_ocl_write(ocl, r->scores, 0, (size_t)n * sizeof(float), h->scores));
    ISB_TRY(isb_ocl_write(ocl, r->idx, 0, (size_t)b * sizeof(int), h->idx));
    ISB_TRY(isb_ocl_write(ocl, r->logits, 0, bc * sizeof(float), h->logits));
    ISB_TRY(isb_ocl_write(ocl, r->labels, 0, (size_t)b * sizeof(int), h->labels));
    r->args = (isb_loss_args){.batch = b, .classes = LOSS_CLASSES, .logits = isb_ds(r->logits, 0),
                              .labels = isb_ds(r->labels, 0), .dlogits = isb_ds(r->dlogits, 0),
                              .losses = isb_ds(r->losses, 0), .correct = isb_ds(r->correct, 0),
                              .batch_loss = isb_ds(r->batch_loss, 0),
                              .score_rule = {fused ? ISB_SCORE_RULE_RUNNING_LOSS : ISB_SCORE_RULE_NONE, SCORE_BETA},
                              .scores = r->scores, .indices = isb_ds(r->idx, 0)};
    /* check: the fused update equals the C update from the kernel's own losses */
    ISB_TRY(loss_iteration(r));
    ISB_TRY(isb_ocl_read(ocl, r->losses, 0, (size_t)b * sizeof(float), h->losses));
    return isb_ocl_read(ocl, r->scores, 0, (size_t)n * sizeof(float), h->got);
}

/* Host inputs and device buffers (both released by the caller), checked once. */
static int loss_prepare(loss_run *r, loss_host *h, int n, int b, int fused) {
    ISB_TRY(loss_host_make(h, n, b));
    return loss_setup(r, h, n, b, fused);
}

static void bm_loss(isb_bench_state *st, void *user) {
    int fused = *(int *)user, n = (int)isb_bench_arg(st, 0), b = (int)isb_bench_arg(st, 1);
    loss_host h;
    loss_run run = {0};
    int rc = loss_prepare(&run, &h, n, b, fused);
    if (rc < 0) {
        isb_bench_fail(st, rc, "set-up");
    } else {
        if (fused) isb_sref_score_update(h.scores, h.idx, h.losses, b, g_score_rules[1]);
        int bad = -1;
        for (int j = 0; j < b && bad < 0; j++)
            if (!(fabsf(h.got[h.idx[j]] - h.scores[h.idx[j]]) <= 1e-5f * (1 + fabsf(h.scores[h.idx[j]])))) bad = h.idx[j];
        if (bad >= 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "output check failed, not timed: score %d is not the C update of the loss", bad);
            isb_bench_skip_with_error(st, msg);
        } else if (isb_bench_device_loop(st, g_env->ocl, loss_iteration, &run) == 0) {
            isb_bench_set_items_processed(st, isb_bench_iterations(st) * b);
        }
    }
    loss_run_release(&run);
    loss_host_free(&h);
}

/* ---- registration ---------------------------------------------------------------------------- */
static const int64_t sizes[] = {50000, 1000000, 10000000, 100000000};

/* Device bytes of a sampling benchmark at n (the largest method: keys padded to a power of two,
 * CDF, alias table, scores, p). */
static uint64_t device_bytes(int64_t n) {
    uint64_t pow2 = 1;
    while ((int64_t)pow2 < n) pow2 <<= 1;
    return 8 * pow2 + 8 * (uint64_t)n + 20 * (uint64_t)n;
}

void isb_bench_register_sampling(const isb_bench_env *env) {
    g_env = env;
    static const char *const nz[] = {"N", "Z", NULL}, *const n_only[] = {"N", NULL}, *const nb[] = {"N", "B", NULL};
    static int64_t nz_args[4 * 3 * 2], n_args[4], nb_args[4 * 2];
    static int64_t small_args[2];
    int sets = 0, n_sets = 0;
    for (int s = 0; s < 4; s++) {
        int64_t n = sizes[s];
        if (n > env->max_n || !isb_bench_fits_device(env, device_bytes(n), 8 * (uint64_t)n * 2)) continue;
        n_args[n_sets] = n;
        nb_args[2 * n_sets] = n;
        nb_args[2 * n_sets + 1] = 128;
        n_sets++;
        const int64_t zs[] = {8192, 30000, (int64_t)(0.16 * (double)n)};
        for (int k = 0; k < 3; k++) {
            if (zs[k] > n || (k == 2 && (zs[k] == 8192 || zs[k] == 30000))) continue;
            nz_args[2 * sets] = n;
            nz_args[2 * sets + 1] = zs[k];
            sets++;
        }
    }
    if (n_sets == 0) return;
    small_args[0] = 50000;
    small_args[1] = 8192;
    char name[96];
    for (int m = M_SOFTMAX; m <= M_FULL_PATH; m++) {
        for (int where = 0; where < 2; where++) {
            snprintf(name, sizeof name, "sampling.%s.%s", method_names[m], where ? "device" : "host");
            isb_bench_def def = {.name = name, .fn = where ? bm_device : bm_host, .user = &g_methods[m],
                                 .unit = ISB_BENCH_MS, .manual_time = where == 1};
            if (m == M_SOFTMAX) {
                def.arg_names = n_only;
                def.args = n_args;
                def.arg_sets = n_sets;
            } else {
                def.arg_names = nz;
                def.args = nz_args;
                def.arg_sets = sets;
            }
            isb_bench_register(&def);
        }
    }
    if (env->max_n >= 50000)
        isb_bench_register(&(isb_bench_def){.name = "sampling.successive.host", .fn = bm_host,
                                            .user = &g_methods[M_SUCCESSIVE], .unit = ISB_BENCH_MS,
                                            .arg_names = nz, .args = small_args, .arg_sets = 1});
    for (int mode = 0; mode < 2; mode++)
        for (int where = 0; where < 2; where++) {
            snprintf(name, sizeof name, "score_update.%s.%s", mode ? "running" : "last", where ? "device" : "host");
            isb_bench_register(&(isb_bench_def){.name = name, .fn = where ? bm_score_device : bm_score_host,
                                                .user = &g_score_rules[mode], .unit = ISB_BENCH_US,
                                                .manual_time = where == 1, .arg_names = nb, .args = nb_args,
                                                .arg_sets = n_sets});
        }
    static int fused_flags[] = {1, 0};
    for (int f = 0; f < 2; f++)
        isb_bench_register(&(isb_bench_def){.name = f == 0 ? "score_update.fused_loss.device" : "score_update.loss_only.device",
                                            .fn = bm_loss, .user = &fused_flags[f], .unit = ISB_BENCH_US,
                                            .manual_time = true, .arg_names = nb, .args = nb_args, .arg_sets = n_sets});
}
