/* isbench sample: draws |Z| sample indices from scores with the device sampler and prints
 * "index weight" lines in mini-batch order, or with --draws K the draws of epochs e .. e+K-1 in
 * one process as "epoch index weight" lines. Scores come one per line from a file or stdin, or
 * from a training checkpoint's tensor "train/scores". */
#include "cli/cli.h"
#include "ocl/ocl.h"
#include "results/checkpoint.h"
#include "sampling/sampler.h"
#include "util/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISB_SAMPLE_CHUNK_DRAWS 256 /* draws enqueued between two host synchronisations */

static const char about[] =
    "Draws Z indices with probability softmax(score / T) on the OpenCL device and prints one\n"
    "'index weight' line per draw, in mini-batch (shuffled) order. The seed defaults to 0.";

/* index = isb_draw_method; "uniform" is the extra last entry */
static const char *const methods[] = {ISB_DRAW_METHOD_NAMES, "uniform", NULL};
static const isb_option_def sample_opts[] = {
    {"scores", "FILE", ISB_ARG_TEXT, 1, 0, NULL, "one score per line ('-' or no option: standard input)"},
    {"checkpoint", "FILE", ISB_ARG_TEXT, 1, 0, NULL, "take the scores from a training checkpoint (tensor 'train/scores')"},
    {"z", "Z", ISB_ARG_INT, 1, 1L << 30, NULL, "number of draws (required)"},
    {"method", "M", ISB_ARG_CHOICE, 0, 0, methods,
     "alias | cdf (with replacement), gumbel-topk | gumbel-sort (without\n"
     "replacement), uniform (first Z of a random permutation). Default gumbel-topk"},
    {"temperature", "T", ISB_ARG_DOUBLE, 1e-30, 1e30, NULL, "softmax temperature (default 1)"},
    {"weights", "W", ISB_ARG_CHOICE, 0, 0, isb_weight_mode_names,
     "none | inverse-p (1/(N p_i); unbiased with replacement only) | ht (exact\n"
     "Horvitz-Thompson, without replacement only). Default none"},
    {"epoch", "E", ISB_ARG_INT, 0, 0x7fffffffL, NULL, "epoch counter of the draw (default 0)"},
    {"draws", "K", ISB_ARG_INT, 1, 0x7fffffffL, NULL,
     "K independent draws, epochs E .. E+K-1, printed as 'epoch index weight'\n"
     "lines (default: one draw, 'index weight' lines)"},
};

/* One score from one line (already stripped of leading blanks); the error names the line. */
static int parse_score(const char *name, long lineno, char *p, size_t n, float *out) {
    char *end;
    errno = 0;
    double x = strtod(p, &end);
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
    if (end == p || *end != '\0' || errno == ERANGE || fabs(x) > 3.4028234663852886e38) {
        p[strcspn(p, "\r\n")] = '\0';
        if (strlen(p) > 60) strcpy(p + 57, "...");
        return isb_fail(ISB_ERR_FORMAT, "%s line %ld: '%s' is not a number that fits a float (one score per line)",
                        name, lineno, p);
    }
    if (!isfinite(x))
        return isb_fail(ISB_ERR_NUMERIC, "%s line %ld: the score of sample %zu is not finite", name, lineno, n);
    *out = (float)x;
    return ISB_OK;
}

/* Room for score n in *v (of *cap), at most 2^30 scores. */
static int grow(float **v, size_t *cap, size_t n, const char *name) {
    if (n == (size_t)1 << 30) return isb_fail(ISB_ERR_FORMAT, "%s holds more than 2^30 scores", name);
    if (n < *cap) return ISB_OK;
    float *bigger = realloc(*v, *cap * 2 * sizeof **v);
    if (!bigger) return isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", name);
    *v = bigger;
    *cap *= 2;
    return ISB_OK;
}

/* Reads one score per line (lines of any length; blank lines and '#' comments skipped). */
static int read_scores(const char *path, float **out, int *n_out) {
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "r");
    if (!f) return isb_fail(ISB_ERR_IO, "cannot open score file %s: %s", path, strerror(errno));
    const char *name = f == stdin ? "standard input" : path;
    size_t cap = 1024, n = 0, line_cap = 0;
    float *v = malloc(cap * sizeof *v);
    char *line = NULL;
    long lineno = 0;
    int rc = ISB_OK;
    if (!v) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", name));
    while (getline(&line, &line_cap, f) != -1) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\r' || *p == '\0' || *p == '#') continue;
        ISB_CHECK(grow(&v, &cap, n, name));
        ISB_CHECK(parse_score(name, lineno, p, n, &v[n]));
        n++;
    }
    if (ferror(f)) ISB_CHECK(isb_fail(ISB_ERR_IO, "reading %s: %s", name, strerror(errno)));
    if (n == 0) ISB_CHECK(isb_fail(ISB_ERR_FORMAT, "%s holds no scores (one number per line)", name));
    *out = v;
    *n_out = (int)n;
    v = NULL;
done:
    if (f != stdin) fclose(f);
    free(line);
    free(v);
    return rc;
}

/* A training checkpoint keeps the scores as "train/scores" (older files: "scores"). */
static int read_checkpoint_scores(const char *path, float **out, int *n_out) {
    isb_checkpoint ck = {0};
    float *v = NULL;
    int rc = ISB_OK;
    ISB_CHECK(isb_checkpoint_read(&ck, path));
    const isb_tensor *t = isb_checkpoint_find(&ck, "train/scores");
    if (!t) t = isb_checkpoint_find(&ck, "scores");
    int64_t n = t ? isb_tensor_numel(t) : 0;
    if (!t || t->dtype != ISB_DTYPE_F32 || n < 1 || n > (1 << 30))
        ISB_CHECK(isb_fail(ISB_ERR_FORMAT, "checkpoint %s has no float tensor 'train/scores' of 1 to 2^30 entries (is "
                           "it a training checkpoint, checkpoint.isbc in a run folder?)", path));
    if (!(v = malloc((size_t)n * sizeof *v))) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    memcpy(v, t->data, (size_t)n * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            ISB_CHECK(isb_fail(ISB_ERR_NUMERIC, "checkpoint %s: the score of sample %lld is not finite", path,
                               (long long)i));
    *out = v;
    *n_out = (int)n;
    v = NULL;
done:
    free(v);
    isb_checkpoint_free(&ck);
    return rc;
}

typedef struct {
    isb_common_options common; /* device, seed */
    const char *scores_path, *ckpt_path;
    long z, epoch, draws;      /* draws 0: not given (one draw, no epoch column) */
    double temperature;
    int method, weights; /* method: isb_draw_method, or METHOD_UNIFORM */
    bool epoch_column;   /* --draws given: "epoch index weight" lines */
} sample_options;
#define METHOD_UNIFORM (ISB_DRAW_GUMBEL_SORT + 1) /* methods[] after the draw methods */

/* Enqueues draw `d` (epoch o->epoch + d) and non-blocking reads of its result into idx/w. */
static int enqueue_draw(isb_ocl *ocl, isb_sampler *s, const sample_options *o, int n, long d, cl_mem dscores,
                        cl_mem didx, cl_mem dw, int *idx, float *w) {
    uint32_t epoch = (uint32_t)(o->epoch + d);
    int z = (int)o->z;
    if (o->method == METHOD_UNIFORM) ISB_TRY(isb_sampler_uniform(s, n, z, o->common.seed, epoch, didx, dw));
    else
        ISB_TRY(isb_sampler_draw(s, dscores, n, z, (float)o->temperature, (isb_draw_method)o->method,
                                 (isb_weight_mode)o->weights, o->common.seed, epoch, didx, dw));
    /* the queue is in order: the next draw's kernels run after these reads */
    ISB_TRY(isb_ocl_check(clEnqueueReadBuffer(ocl->queue, didx, CL_FALSE, 0, (size_t)z * sizeof(int), idx, 0, NULL, NULL),
                          "reading the sample indices"));
    return isb_ocl_check(clEnqueueReadBuffer(ocl->queue, dw, CL_FALSE, 0, (size_t)z * sizeof(float), w, 0, NULL, NULL),
                         "reading the sample weights");
}

/* All draws, ISB_SAMPLE_CHUNK_DRAWS at a time: enqueue, wait, check the device flags, print. */
static int run_draws(isb_ocl *ocl, isb_sampler *s, const sample_options *o, int n, cl_mem dscores, cl_mem didx,
                     cl_mem dw, int *idx, float *w) {
    size_t z = (size_t)o->z;
    for (long first = 0; first < o->draws; first += ISB_SAMPLE_CHUNK_DRAWS) {
        long count = o->draws - first < ISB_SAMPLE_CHUNK_DRAWS ? o->draws - first : ISB_SAMPLE_CHUNK_DRAWS;
        for (long d = 0; d < count; d++)
            ISB_TRY(enqueue_draw(ocl, s, o, n, first + d, dscores, didx, dw, idx + d * z, w + d * z));
        ISB_TRY(isb_ocl_check(clFinish(ocl->queue), "clFinish (sampling)"));
        ISB_TRY(isb_sampler_check(s));
        for (long d = 0; d < count; d++)
            for (size_t j = 0; j < z; j++) {
                if (o->epoch_column) printf("%ld ", o->epoch + first + d);
                printf("%d %.9g\n", idx[d * z + j], w[d * z + j]);
            }
    }
    return fflush(stdout) == 0 ? ISB_OK : isb_fail(ISB_ERR_IO, "writing the draws: %s", strerror(errno));
}

/* The device buffers of the draws. */
typedef struct {
    cl_mem scores, idx, w;
} sample_buffers;

static int upload(isb_ocl *ocl, sample_buffers *b, const float *scores, int n, size_t z) {
    ISB_TRY(isb_ocl_alloc(ocl, &b->scores, (size_t)n * sizeof(float), "scores"));
    ISB_TRY(isb_ocl_alloc(ocl, &b->idx, z * sizeof(int), "sample indices"));
    ISB_TRY(isb_ocl_alloc(ocl, &b->w, z * sizeof(float), "sample weights"));
    return isb_ocl_write(ocl, b->scores, 0, (size_t)n * sizeof(float), scores);
}

static int sample(const sample_options *o, const float *scores, int n) {
    isb_ocl ocl = {0};
    isb_sampler *s = NULL;
    sample_buffers b = {0};
    long chunk = o->draws < ISB_SAMPLE_CHUNK_DRAWS ? o->draws : ISB_SAMPLE_CHUNK_DRAWS;
    size_t z = (size_t)o->z;
    int *idx = malloc((size_t)chunk * z * sizeof *idx);
    float *w = malloc((size_t)chunk * z * sizeof *w);
    int rc = ISB_OK;
    if (!idx || !w) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory for %ld x %zu draws", chunk, z));
    ISB_CHECK(isb_ocl_open(&ocl, isb_ocl_selector(o->common.device), false));
    ISB_CHECK(isb_sampler_create(&s, &ocl, n, (int)z));
    ISB_CHECK(upload(&ocl, &b, scores, n, z));
    ISB_CHECK(run_draws(&ocl, s, o, n, b.scores, b.idx, b.w, idx, w));
done:
    isb_ocl_release(&b.w);
    isb_ocl_release(&b.idx);
    isb_ocl_release(&b.scores);
    isb_sampler_free(s);
    isb_ocl_close(&ocl);
    free(w);
    free(idx);
    return rc;
}

static int read_and_sample(const sample_options *o) {
    float *scores = NULL;
    int n = 0, rc = ISB_OK;
    ISB_CHECK(o->ckpt_path ? read_checkpoint_scores(o->ckpt_path, &scores, &n) : read_scores(o->scores_path, &scores, &n));
    ISB_CHECK(sample(o, scores, n));
done:
    free(scores);
    return rc;
}

/* Option combinations the rows cannot check alone. */
static int check_options(sample_options *o) {
    if (o->z < 0) return isb_cli_usage_error("sample", "--z is required (the number of draws)");
    if (o->scores_path && o->ckpt_path) return isb_cli_usage_error("sample", "give --scores or --checkpoint, not both");
    if (o->method == METHOD_UNIFORM && o->weights != ISB_WEIGHTS_NONE)
        return isb_cli_usage_error("sample", "--method uniform has weight 1 for every sample: drop --weights");
    o->epoch_column = o->draws > 0;
    if (!o->epoch_column) o->draws = 1;
    if (o->epoch + o->draws - 1 > 0xFFFFFFFFL)
        return isb_cli_usage_error("sample", "--epoch + --draws - 1 must stay below 2^32 (the epoch counter)");
    return ISB_EXIT_OK;
}

int cmd_sample(int argc, char **argv) {
    sample_options o = {.common = isb_common_defaults(), .z = -1, .temperature = 1.0, .method = ISB_DRAW_GUMBEL_TOPK};
    void *values[] = {&o.scores_path, &o.ckpt_path, &o.z, &o.method, &o.temperature, &o.weights, &o.epoch, &o.draws};
    isb_cmdline p;
    isb_cmdline_init(&p, "sample", "isbench sample --z Z [--scores FILE | --checkpoint FILE] [options]", about);
    for (size_t i = 0; i < sizeof sample_opts / sizeof sample_opts[0]; i++) isb_cmdline_add(&p, &sample_opts[i], values[i]);
    isb_cmdline_add_group(&p, ISB_GROUP_SEED, &o.common);
    isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, &o.common);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    if ((st = check_options(&o)) != ISB_EXIT_OK) return st;
    int rc = read_and_sample(&o);
    return rc < 0 ? isb_cli_fail("sample", rc) : ISB_EXIT_OK;
}
