/* Datasets in host memory, as bytes: CIFAR-10, CIFAR-100 (binary format) and MNIST / Fashion-MNIST
 * (IDX, 28x28 zero-padded to 32x32). Optional deterministic class-balanced subsets.
 *
 * CONTRACT used by src/train and src/cli. */
#ifndef ISB_DATA_DATASET_H
#define ISB_DATA_DATASET_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    char name[32];        /* "cifar10", "cifar100", "mnist", "fashion-mnist" */
    int n;                /* images */
    int channels;         /* 3 or 1 */
    int size;             /* 32 (height = width) */
    int classes;
    uint8_t *pixels;      /* [n][channels][32][32], planar like the CIFAR files */
    int32_t *labels;      /* [n] */
    int32_t *source_index;/* [n] index of each image in the full file order (subsets keep order) */
    float mean[3], std[3];/* per-channel normalisation of pixel/255, this dataset's own values */
} isb_dataset;

/* kind: one of the names above. dir: the folder of the dataset's files. subset: 0 = all, else a
 * deterministic class-balanced subset of that many images (subset % classes == 0 not required:
 * the first subset % classes classes get one more), chosen with subset_seed.
 * Errors name the file and the fix (missing: the download script or --data; truncated; bad label). */
int isb_dataset_load(isb_dataset *d, const char *kind, const char *dir, bool train, int subset,
                     uint64_t subset_seed);
void isb_dataset_free(isb_dataset *d);
/* The data folder to use: the --data value if given, else $ISBENCH_DATA, else a default per kind
 * ("data/cifar-10-batches-bin", ...). Returns a pointer valid until the next call. */
const char *isb_data_dir(const char *from_cli, const char *kind);

#endif
