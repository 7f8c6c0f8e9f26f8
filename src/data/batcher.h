/* Batches assembled on the device: the dataset is uploaded once as bytes; one kernel gathers a
 * batch from a list of sample indices, applies random crop (4-pixel zero padding) and horizontal
 * flip with the counter-based generator keyed by (seed, epoch, sample index), and normalises.
 *
 * CONTRACT used by src/train. */
#ifndef ISB_DATA_BATCHER_H
#define ISB_DATA_BATCHER_H

#include <stdbool.h>
#include <stdint.h>
#include "data/dataset.h"
#include "ocl/ocl.h"

typedef struct {
    bool crop;       /* random 32x32 crop of the 4-pixel zero-padded image */
    bool flip;       /* horizontal flip with probability 1/2 */
    bool normalize;  /* (x/255 - mean) / std per channel; off: x/255 */
} isb_augment;

typedef struct isb_batcher isb_batcher;

int isb_batcher_create(isb_batcher **b, isb_ocl *ocl, const isb_dataset *d);
void isb_batcher_free(isb_batcher *b); /* NULL-safe */
/* x_out[r] = augment(image[indices[offset + r]]), labels_out[r] = its label, r < batch.
 * Enqueues one kernel; no host round-trip. Buffer sizes are checked on the host (usage error); an
 * index outside [0, n) yields a zero image and label -1 rather than a stray read. */
int isb_batcher_assemble(isb_batcher *b, cl_mem indices, int offset, int batch, uint64_t seed, uint32_t epoch,
                         isb_augment aug, cl_mem x_out, cl_mem labels_out);

/* Per-channel value = fmaf(byte, scale[c], bias[c]): normalize on: scale = 1/(255 std),
 * bias = -mean/std; off: scale = 1/255, bias = 0. Channels beyond d->channels get 0. */
void isb_augment_affine(const isb_dataset *d, isb_augment aug, float scale[3], float bias[3]);

#endif
