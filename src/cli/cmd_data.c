/* isbench data: loads a dataset's training and test sets with every format check the training run
 * applies, and prints what it found (counts per class, measured mean/std next to the normalisation
 * in use). File checksums are the download scripts' job: datasets/get-<name>.sh --verify DIR. */
#include "cli/cli.h"
#include "config/train_config.h"
#include "data/dataset.h"
#include "util/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char about[] =
    "Loads the training and test sets of --dataset (default cifar10) from --data, checking sizes\n"
    "and labels, and prints the image counts per class and each channel's measured mean/std of\n"
    "pixel/255 next to the normalisation values used. --subset N takes the class-balanced training\n"
    "subset a run with the same --subset and --subset-seed would use. Get the data with\n"
    "datasets/get-<kind>.sh; check its md5s with datasets/get-<kind>.sh --verify DIR.";

static const isb_option_def subset_opt = {"subset", "N", ISB_ARG_INT, 0, 1000000, NULL,
                                          "class-balanced training subset (default 0: all)"};
static const isb_option_def subset_seed_opt = {"subset-seed", "S", ISB_ARG_INT, 0, 2147483647L, NULL,
                                               "seed of the subset (default 0, as training runs use)"};

static int describe(const isb_dataset *d, const char *split) {
    int *count = calloc((size_t)d->classes, sizeof *count);
    if (!count) return isb_fail(ISB_ERR_MEMORY, "out of host memory counting the classes");
    for (int i = 0; i < d->n; i++) count[d->labels[i]]++;
    int lo = d->n, hi = 0;
    for (int c = 0; c < d->classes; c++) {
        if (count[c] < lo) lo = count[c];
        if (count[c] > hi) hi = count[c];
    }
    printf("%-5s %6d images, %d x %dx%d, %d classes, %d to %d images per class\n", split, d->n, d->channels,
           d->size, d->size, d->classes, lo, hi);
    for (int ch = 0; ch < d->channels; ch++) {
        double sum = 0, sq = 0;
        size_t plane = (size_t)d->size * d->size;
        for (int i = 0; i < d->n; i++) {
            const uint8_t *p = d->pixels + ((size_t)i * d->channels + ch) * plane;
            for (size_t k = 0; k < plane; k++) {
                double v = p[k] / 255.0;
                sum += v;
                sq += v * v;
            }
        }
        double n = (double)d->n * plane, mean = sum / n, sd = sqrt(fmax(sq / n - mean * mean, 0.0));
        printf("      channel %d: mean %.4f std %.4f (normalisation uses %.4f / %.4f)\n", ch, mean, sd,
               (double)d->mean[ch], (double)d->std[ch]);
    }
    free(count);
    return ISB_OK;
}

/* One split: loaded with every check, described, released. */
static int load_and_describe(const char *kind, const char *where, int train, int subset, uint64_t seed) {
    isb_dataset d;
    int rc = ISB_OK;
    ISB_CHECK(isb_dataset_load(&d, kind, where, train, subset, seed));
    if (train) printf("%s in %s (statistics over the whole 32x32 plane, padding included)\n", kind, where);
    ISB_CHECK(describe(&d, train ? "train" : "test"));
done:
    isb_dataset_free(&d);
    return rc;
}

int cmd_data(int argc, char **argv) {
    isb_common_options common = isb_common_defaults();
    const char *kind = "cifar10";
    long subset = 0, seed = 0;
    isb_cmdline p;
    isb_cmdline_init(&p, "data", "isbench data [info] [--dataset KIND] [--data DIR] [--subset N] [--subset-seed S]", about);
    isb_cmdline_add(&p, isb_train_config_find_key("dataset"), &kind);
    isb_cmdline_add_group(&p, ISB_GROUP_DATA, &common);
    isb_cmdline_add(&p, &subset_opt, &subset);
    isb_cmdline_add(&p, &subset_seed_opt, &seed);
    p.max_operands = 1;
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);
    if (p.n_operands && strcmp(p.operand[0], "info") != 0)
        return isb_cli_usage_error("data", "unexpected argument '%s'", p.operand[0]);
    char where[4096];
    snprintf(where, sizeof where, "%s", isb_data_dir(common.data, kind)); /* isb_data_dir's buffer is reused */
    for (int train = 1; train >= 0; train--) {
        int rc = load_and_describe(kind, where, train, train ? (int)subset : 0, (uint64_t)seed);
        if (rc < 0) return isb_cli_fail("data", rc);
    }
    return ISB_EXIT_OK;
}
