/* isbench data: loads a dataset's training and test sets with every format check the training run
 * applies, and prints what it found (counts per class, measured mean/std next to the normalisation
 * in use). File checksums are the download scripts' job: datasets/get-<name>.sh --verify DIR. */
#include "cli/cli.h"
#include "data/dataset.h"
#include "util/error.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(void) {
    printf("usage: isbench data [info] [--dataset KIND] [--data DIR] [--subset N] [--subset-seed S]\n\n"
           "Loads the training and test sets of KIND (cifar10 (default), cifar100, mnist, fashion-mnist)\n"
           "from DIR (default: $ISBENCH_DATA, else data/<folder>), checking sizes and labels, and prints\n"
           "the image counts per class and each channel's measured mean/std of pixel/255 next to the\n"
           "normalisation values used. --subset N takes the class-balanced training subset a run with\n"
           "the same --subset and --subset-seed would use. Get the data with datasets/get-<kind>.sh;\n"
           "check its md5s with datasets/get-<kind>.sh --verify DIR.\n");
}

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
    static const struct option opts[] = {{"dataset", required_argument, NULL, 'k'},
                                         {"data", required_argument, NULL, 'D'},
                                         {"subset", required_argument, NULL, 's'},
                                         {"subset-seed", required_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *kind = "cifar10", *dir = NULL;
    long subset = 0, seed = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:D:s:S:h", opts, NULL)) != -1) {
        switch (c) {
        case 'k': kind = optarg; break;
        case 'D': dir = optarg; break;
        case 's': if (isb_cli_parse_int("data", "--subset", optarg, 0, 1000000, &subset)) return ISB_EXIT_USAGE; break;
        case 'S': if (isb_cli_parse_int("data", "--subset-seed", optarg, 0, 2147483647L, &seed)) return ISB_EXIT_USAGE; break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("data", "unknown option");
        }
    }
    if (optind < argc && strcmp(argv[optind], "info") == 0) optind++;
    if (optind < argc) return isb_cli_usage_error("data", "unexpected argument '%s'", argv[optind]);
    const char *folder = isb_data_dir(dir, kind);
    char where[4096];
    snprintf(where, sizeof where, "%s", folder); /* isb_data_dir's buffer is reused */
    for (int train = 1; train >= 0; train--) {
        int rc = load_and_describe(kind, where, train, train ? (int)subset : 0, (uint64_t)seed);
        if (rc < 0) return isb_cli_fail("data", rc);
    }
    return ISB_EXIT_OK;
}
