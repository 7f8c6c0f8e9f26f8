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
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISB_SAMPLE_CHUNK_DRAWS 256 /* draws enqueued between two host synchronisations */

static void help(void) {
    printf("usage: isbench sample --z Z [--scores FILE | --checkpoint FILE] [options]\n\n"
           "Draws Z indices with probability softmax(score / T) on the OpenCL device and prints one\n"
           "'index weight' line per draw, in mini-batch (shuffled) order.\n\n"
           "  --scores FILE        one score per line ('-' or no option: standard input)\n"
           "  --checkpoint FILE    take the scores from a training checkpoint (tensor 'train/scores')\n"
           "  --z Z                number of draws (required)\n"
           "  --method M           alias | cdf (with replacement), gumbel-topk | gumbel-sort (without\n"
           "                       replacement), uniform (first Z of a random permutation). Default gumbel-topk\n"
           "  --temperature T      softmax temperature, in [1e-30, 1e30] (default 1)\n"
           "  --weights W          none | inverse-p (1/(N p_i); unbiased with replacement only) | ht (exact\n"
           "                       Horvitz-Thompson, without replacement only). Default none\n"
           "  --seed S             generator seed (default 0)\n"
           "  --epoch E            epoch counter of the draw (default 0)\n"
           "  --draws K            K independent draws, epochs E .. E+K-1, printed as 'epoch index weight'\n"
           "                       lines (default: one draw, 'index weight' lines)\n"
           "  --device SEL         OpenCL device: P:D | gpu | cpu | NAME-SUBSTRING (default $ISBENCH_DEVICE)\n");
}

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

/* Reads one score per line (lines of any length; blank lines and '#' comments skipped). */
static int read_scores(const char *path, float **out, int *n_out) {
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "r");
    if (!f) return isb_fail(ISB_ERR_IO, "cannot open score file %s: %s", path, strerror(errno));
    const char *name = f == stdin ? "standard input" : path;
    size_t cap = 1024, n = 0, line_cap = 0;
    float *v = malloc(cap * sizeof *v);
    char *line = NULL;
    long lineno = 0;
    int rc = v ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", name);
    while (rc == ISB_OK && getline(&line, &line_cap, f) != -1) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\r' || *p == '\0' || *p == '#') continue;
        if (n == (size_t)1 << 30) {
            rc = isb_fail(ISB_ERR_FORMAT, "%s holds more than 2^30 scores", name);
            break;
        }
        if (n == cap) {
            float *bigger = realloc(v, (cap *= 2) * sizeof *v);
            if (!bigger) { rc = isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", name); break; }
            v = bigger;
        }
        rc = parse_score(name, lineno, p, n, &v[n]);
        n++;
    }
    if (rc == ISB_OK && ferror(f)) rc = isb_fail(ISB_ERR_IO, "reading %s: %s", name, strerror(errno));
    if (f != stdin) fclose(f);
    free(line);
    if (rc == ISB_OK && n == 0) rc = isb_fail(ISB_ERR_FORMAT, "%s holds no scores (one number per line)", name);
    if (rc < 0) { free(v); return rc; }
    *out = v;
    *n_out = (int)n;
    return ISB_OK;
}

/* A training checkpoint keeps the scores as "train/scores" (older files: "scores"). */
static int read_checkpoint_scores(const char *path, float **out, int *n_out) {
    isb_checkpoint ck = {0};
    ISB_TRY(isb_checkpoint_read(&ck, path));
    const isb_tensor *t = isb_checkpoint_find(&ck, "train/scores");
    if (!t) t = isb_checkpoint_find(&ck, "scores");
    int rc = ISB_OK;
    int64_t n = t ? isb_tensor_numel(t) : 0;
    if (!t || t->dtype != ISB_DTYPE_F32 || n < 1 || n > (1 << 30)) {
        rc = isb_fail(ISB_ERR_FORMAT, "checkpoint %s has no float tensor 'train/scores' of 1 to 2^30 entries (is it "
                      "a training checkpoint, checkpoint.isbc in a run folder?)", path);
    } else if (!(*out = malloc((size_t)n * sizeof **out))) {
        rc = isb_fail(ISB_ERR_MEMORY, "out of host memory");
    } else {
        memcpy(*out, t->data, (size_t)n * sizeof **out);
        *n_out = (int)n;
        for (int64_t i = 0; i < n && rc == ISB_OK; i++)
            if (!isfinite((*out)[i]))
                rc = isb_fail(ISB_ERR_NUMERIC, "checkpoint %s: the score of sample %lld is not finite", path, (long long)i);
        if (rc < 0) { free(*out); *out = NULL; }
    }
    isb_checkpoint_free(&ck);
    return rc;
}

static int parse_choice(const char *text, const char *const *names, int count) {
    for (int i = 0; i < count; i++)
        if (strcmp(text, names[i]) == 0) return i;
    return -1;
}

typedef struct {
    const char *scores_path, *ckpt_path, *device;
    long z, seed, epoch, draws;
    double temperature;
    int method, weights; /* method: isb_draw_method, or METHOD_UNIFORM */
    bool epoch_column;   /* --draws given: "epoch index weight" lines */
} sample_options;
#define METHOD_UNIFORM 4

/* Enqueues draw `d` (epoch o->epoch + d) and non-blocking reads of its result into idx/w. */
static int enqueue_draw(isb_ocl *ocl, isb_sampler *s, const sample_options *o, int n, long d, cl_mem dscores,
                        cl_mem didx, cl_mem dw, int *idx, float *w) {
    uint32_t epoch = (uint32_t)(o->epoch + d);
    int z = (int)o->z;
    if (o->method == METHOD_UNIFORM) ISB_TRY(isb_sampler_uniform(s, n, z, (uint64_t)o->seed, epoch, didx, dw));
    else
        ISB_TRY(isb_sampler_draw(s, dscores, n, z, (float)o->temperature, (isb_draw_method)o->method,
                                 (isb_weight_mode)o->weights, (uint64_t)o->seed, epoch, didx, dw));
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

static int sample(const sample_options *o, const float *scores, int n) {
    isb_ocl ocl = {0};
    isb_sampler *s = NULL;
    cl_mem dscores = NULL, didx = NULL, dw = NULL;
    long chunk = o->draws < ISB_SAMPLE_CHUNK_DRAWS ? o->draws : ISB_SAMPLE_CHUNK_DRAWS;
    size_t z = (size_t)o->z;
    int *idx = malloc((size_t)chunk * z * sizeof *idx);
    float *w = malloc((size_t)chunk * z * sizeof *w);
    int rc = idx && w ? ISB_OK : isb_fail(ISB_ERR_MEMORY, "out of host memory for %ld x %zu draws", chunk, z);
    if (rc < 0) goto done;
    if ((rc = isb_ocl_open(&ocl, isb_ocl_selector(o->device), false)) < 0) goto done;
    if ((rc = isb_sampler_create(&s, &ocl, n, (int)z)) < 0) goto done_ocl;
    if ((rc = isb_ocl_alloc(&ocl, &dscores, (size_t)n * sizeof(float), "scores")) < 0) goto done_sampler;
    if ((rc = isb_ocl_alloc(&ocl, &didx, z * sizeof(int), "sample indices")) < 0) goto done_buffers;
    if ((rc = isb_ocl_alloc(&ocl, &dw, z * sizeof(float), "sample weights")) < 0) goto done_buffers;
    if ((rc = isb_ocl_write(&ocl, dscores, 0, (size_t)n * sizeof(float), scores)) < 0) goto done_buffers;
    rc = run_draws(&ocl, s, o, n, dscores, didx, dw, idx, w);
done_buffers:
    isb_ocl_release(&dw);
    isb_ocl_release(&didx);
    isb_ocl_release(&dscores);
done_sampler:
    isb_sampler_free(s);
done_ocl:
    isb_ocl_close(&ocl);
done:
    free(w);
    free(idx);
    return rc;
}

/* Parses the options into o; returns 0, or the exit status for --help or a usage error (< 0 never). */
static int parse_options(int argc, char **argv, sample_options *o, bool *done) {
    static const struct option opts[] = {
        {"scores", required_argument, NULL, 's'}, {"checkpoint", required_argument, NULL, 'c'},
        {"z", required_argument, NULL, 'z'},      {"method", required_argument, NULL, 'm'},
        {"temperature", required_argument, NULL, 't'}, {"weights", required_argument, NULL, 'w'},
        {"seed", required_argument, NULL, 'S'},   {"epoch", required_argument, NULL, 'e'},
        {"draws", required_argument, NULL, 'k'},  {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    /* index = isb_draw_method; "uniform" is the extra last entry */
    static const char *const methods[] = {"alias", "cdf", "gumbel-topk", "gumbel-sort", "uniform"};
    static const char *const weight_names[] = {"none", "inverse-p", "ht"};
    *o = (sample_options){.z = -1, .draws = 1, .temperature = 1.0, .method = ISB_DRAW_GUMBEL_TOPK};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 's': o->scores_path = optarg; break;
        case 'c': o->ckpt_path = optarg; break;
        case 'd': o->device = optarg; break;
        case 'z': rc = isb_cli_parse_int("sample", "--z", optarg, 1, 1L << 30, &o->z); break;
        case 'S': rc = isb_cli_parse_int("sample", "--seed", optarg, 0, 0x7fffffffL, &o->seed); break;
        case 'e': rc = isb_cli_parse_int("sample", "--epoch", optarg, 0, 0x7fffffffL, &o->epoch); break;
        case 'k': rc = isb_cli_parse_int("sample", "--draws", optarg, 1, 0x7fffffffL, &o->draws); o->epoch_column = true; break;
        case 't': rc = isb_cli_parse_double("sample", "--temperature", optarg, 1e-30, 1e30, &o->temperature); break;
        case 'm':
            if ((o->method = parse_choice(optarg, methods, 5)) < 0)
                return isb_cli_usage_error("sample", "--method must be alias, cdf, gumbel-topk, gumbel-sort or uniform, got '%s'",
                                           optarg);
            break;
        case 'w':
            if ((o->weights = parse_choice(optarg, weight_names, 3)) < 0)
                return isb_cli_usage_error("sample", "--weights must be none, inverse-p or ht, got '%s'", optarg);
            break;
        case 'h': help(); *done = true; return ISB_EXIT_OK;
        default: return isb_cli_usage_error("sample", "unknown option");
        }
        if (rc) return rc;
    }
    if (optind < argc) return isb_cli_usage_error("sample", "unexpected argument '%s'", argv[optind]);
    if (o->z < 0) return isb_cli_usage_error("sample", "--z is required (the number of draws)");
    if (o->scores_path && o->ckpt_path) return isb_cli_usage_error("sample", "give --scores or --checkpoint, not both");
    if (o->method == METHOD_UNIFORM && o->weights != ISB_WEIGHTS_NONE)
        return isb_cli_usage_error("sample", "--method uniform has weight 1 for every sample: drop --weights");
    if (o->epoch + o->draws - 1 > 0xFFFFFFFFL)
        return isb_cli_usage_error("sample", "--epoch + --draws - 1 must stay below 2^32 (the epoch counter)");
    return ISB_EXIT_OK;
}

int cmd_sample(int argc, char **argv) {
    sample_options o;
    bool done = false;
    int status = parse_options(argc, argv, &o, &done);
    if (status != ISB_EXIT_OK || done) return status;
    float *scores = NULL;
    int n = 0;
    int rc = o.ckpt_path ? read_checkpoint_scores(o.ckpt_path, &scores, &n) : read_scores(o.scores_path, &scores, &n);
    if (rc == ISB_OK) rc = sample(&o, scores, n);
    free(scores);
    return rc < 0 ? isb_cli_fail("sample", rc) : ISB_EXIT_OK;
}
