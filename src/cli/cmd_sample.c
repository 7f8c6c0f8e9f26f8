/* isbench sample: draws |Z| sample indices from scores with the device sampler and prints
 * "index weight" lines, in mini-batch order. Scores come one per line from a file or stdin, or
 * from the tensor "scores" of a checkpoint. */
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

static void help(void) {
    printf("usage: isbench sample --z Z [--scores FILE | --checkpoint FILE] [options]\n\n"
           "Draws Z indices with probability softmax(score / T) on the OpenCL device and prints one\n"
           "'index weight' line per draw, in mini-batch (shuffled) order.\n\n"
           "  --scores FILE        one score per line ('-' or no option: standard input)\n"
           "  --checkpoint FILE    take the scores from the tensor 'scores' of an isbench checkpoint\n"
           "  --z Z                number of draws (required)\n"
           "  --method M           alias | cdf (with replacement), gumbel-topk | gumbel-sort (without\n"
           "                       replacement), uniform (first Z of a random permutation). Default gumbel-topk\n"
           "  --temperature T      softmax temperature, > 0 (default 1)\n"
           "  --weights W          none | inverse-p (1/(N p_i)) | ht (Horvitz-Thompson, without\n"
           "                       replacement only). Default none\n"
           "  --seed S             generator seed (default 0)\n"
           "  --epoch E            epoch counter of the draw (default 0)\n"
           "  --device SEL         OpenCL device: P:D | gpu | cpu | NAME-SUBSTRING (default $ISBENCH_DEVICE)\n");
}

/* Reads whitespace-separated scores; the error names the line of the first bad value. */
static int read_scores(const char *path, float **out, int *n_out) {
    FILE *f = (!path || strcmp(path, "-") == 0) ? stdin : fopen(path, "r");
    if (!f) return isb_fail(ISB_ERR_IO, "cannot open score file %s: %s", path, strerror(errno));
    const char *name = f == stdin ? "standard input" : path;
    size_t cap = 1024, n = 0;
    float *v = malloc(cap * sizeof *v);
    char line[256];
    int lineno = 0, rc = ISB_OK;
    while (v && fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line, *end;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\0' || *p == '#') continue;
        errno = 0;
        double x = strtod(p, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
        if (end == p || *end != '\0' || errno == ERANGE) {
            line[strcspn(line, "\r\n")] = '\0';
            rc = isb_fail(ISB_ERR_FORMAT, "%s line %d: '%s' is not a number (one score per line)", name, lineno, line);
            break;
        }
        if (!isfinite(x)) {
            rc = isb_fail(ISB_ERR_NUMERIC, "%s line %d: the score of sample %zu is not finite", name, lineno, n);
            break;
        }
        if (n == cap) {
            float *bigger = realloc(v, (cap *= 2) * sizeof *v);
            if (!bigger) { free(v); v = NULL; break; }
            v = bigger;
        }
        v[n++] = (float)x;
    }
    if (f != stdin) fclose(f);
    if (!v) return isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", name);
    if (rc == ISB_OK && n == 0) rc = isb_fail(ISB_ERR_FORMAT, "%s holds no scores (one number per line)", name);
    if (rc == ISB_OK && n > (size_t)(1 << 30)) rc = isb_fail(ISB_ERR_FORMAT, "%s holds more than 2^30 scores", name);
    if (rc < 0) { free(v); return rc; }
    *out = v;
    *n_out = (int)n;
    return ISB_OK;
}

static int read_checkpoint_scores(const char *path, float **out, int *n_out) {
    isb_checkpoint ck = {0};
    ISB_TRY(isb_checkpoint_read(&ck, path));
    const isb_tensor *t = isb_checkpoint_find(&ck, "scores");
    int rc = ISB_OK;
    if (!t || t->dtype != ISB_DTYPE_F32) {
        rc = isb_fail(ISB_ERR_FORMAT, "checkpoint %s has no float tensor 'scores' (is it a training checkpoint?)", path);
    } else {
        int64_t n = isb_tensor_numel(t);
        *out = malloc((size_t)n * sizeof **out);
        if (!*out) rc = isb_fail(ISB_ERR_MEMORY, "out of host memory");
        else {
            memcpy(*out, t->data, (size_t)n * sizeof **out);
            *n_out = (int)n;
        }
    }
    isb_checkpoint_free(&ck);
    return rc;
}

static int parse_choice(const char *text, const char *const *names, int count) {
    for (int i = 0; i < count; i++)
        if (strcmp(text, names[i]) == 0) return i;
    return -1;
}

int cmd_sample(int argc, char **argv) {
    static const struct option opts[] = {
        {"scores", required_argument, NULL, 's'}, {"checkpoint", required_argument, NULL, 'c'},
        {"z", required_argument, NULL, 'z'},      {"method", required_argument, NULL, 'm'},
        {"temperature", required_argument, NULL, 't'}, {"weights", required_argument, NULL, 'w'},
        {"seed", required_argument, NULL, 'S'},   {"epoch", required_argument, NULL, 'e'},
        {"device", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    /* index = isb_draw_method; "uniform" is the extra last entry */
    static const char *const methods[] = {"alias", "cdf", "gumbel-topk", "gumbel-sort", "uniform"};
    static const char *const weight_names[] = {"none", "inverse-p", "ht"};
    const char *scores_path = NULL, *ckpt_path = NULL, *device = NULL;
    long z = -1, seed = 0, epoch = 0;
    double temperature = 1.0;
    int method = ISB_DRAW_GUMBEL_TOPK, weights = ISB_WEIGHTS_NONE;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 's': scores_path = optarg; break;
        case 'c': ckpt_path = optarg; break;
        case 'd': device = optarg; break;
        case 'z': rc = isb_cli_parse_int("sample", "--z", optarg, 1, 1L << 30, &z); break;
        case 'S': rc = isb_cli_parse_int("sample", "--seed", optarg, 0, 0x7fffffffL, &seed); break;
        case 'e': rc = isb_cli_parse_int("sample", "--epoch", optarg, 0, 0x7fffffffL, &epoch); break;
        case 't': rc = isb_cli_parse_double("sample", "--temperature", optarg, 1e-30, 1e30, &temperature); break;
        case 'm':
            if ((method = parse_choice(optarg, methods, 5)) < 0)
                return isb_cli_usage_error("sample", "--method must be alias, cdf, gumbel-topk, gumbel-sort or uniform, got '%s'",
                                           optarg);
            break;
        case 'w':
            if ((weights = parse_choice(optarg, weight_names, 3)) < 0)
                return isb_cli_usage_error("sample", "--weights must be none, inverse-p or ht, got '%s'", optarg);
            break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("sample", "unknown option");
        }
        if (rc) return rc;
    }
    if (optind < argc) return isb_cli_usage_error("sample", "unexpected argument '%s'", argv[optind]);
    if (z < 0) return isb_cli_usage_error("sample", "--z is required (the number of draws)");
    if (scores_path && ckpt_path) return isb_cli_usage_error("sample", "give --scores or --checkpoint, not both");

    float *scores = NULL;
    int n = 0;
    int rc = ckpt_path ? read_checkpoint_scores(ckpt_path, &scores, &n) : read_scores(scores_path, &scores, &n);
    if (rc < 0) return isb_cli_fail("sample", rc);
    bool uniform = method == 4;
    if (uniform && weights != ISB_WEIGHTS_NONE) {
        free(scores);
        return isb_cli_usage_error("sample", "--method uniform has weight 1 for every sample: drop --weights");
    }

    isb_ocl ocl = {0};
    isb_sampler *s = NULL;
    cl_mem dscores = NULL, didx = NULL, dw = NULL;
    int *idx = malloc((size_t)z * sizeof *idx);
    float *w = malloc((size_t)z * sizeof *w);
    rc = (idx && w) ? isb_ocl_open(&ocl, isb_ocl_selector(device), false) : isb_fail(ISB_ERR_MEMORY, "out of host memory");
    if (rc == ISB_OK) rc = isb_sampler_create(&s, &ocl, n, (int)z);
    if (rc == ISB_OK) rc = isb_ocl_alloc(&ocl, &dscores, (size_t)n * sizeof(float), "scores");
    if (rc == ISB_OK) rc = isb_ocl_alloc(&ocl, &didx, (size_t)z * sizeof(int), "sample indices");
    if (rc == ISB_OK) rc = isb_ocl_alloc(&ocl, &dw, (size_t)z * sizeof(float), "sample weights");
    if (rc == ISB_OK) rc = isb_ocl_write(&ocl, dscores, 0, (size_t)n * sizeof(float), scores);
    if (rc == ISB_OK)
        rc = uniform ? isb_sampler_uniform(s, n, (int)z, (uint64_t)seed, (uint32_t)epoch, didx, dw)
                     : isb_sampler_draw(s, dscores, n, (int)z, (float)temperature, (isb_draw_method)method,
                                        (isb_weight_mode)weights, (uint64_t)seed, (uint32_t)epoch, didx, dw);
    if (rc == ISB_OK && !uniform) rc = isb_sampler_check(s);
    if (rc == ISB_OK) rc = isb_ocl_read(&ocl, didx, 0, (size_t)z * sizeof(int), idx);
    if (rc == ISB_OK) rc = isb_ocl_read(&ocl, dw, 0, (size_t)z * sizeof(float), w);
    if (rc == ISB_OK)
        for (long j = 0; j < z; j++) printf("%d %.9g\n", idx[j], w[j]);
    isb_ocl_release(&dscores);
    isb_ocl_release(&didx);
    isb_ocl_release(&dw);
    isb_sampler_free(s);
    isb_ocl_close(&ocl);
    free(scores);
    free(idx);
    free(w);
    return rc < 0 ? isb_cli_fail("sample", rc) : ISB_EXIT_OK;
}
