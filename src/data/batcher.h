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

/* ---- additions: the plain-C twin of the kernel (tests, CPU fallback) and its pieces ---------- */

/* One sample's random draw: crop offsets dx, dy in [-4, 4] (0 when crop is off) and the flip.
 * From Philox(seed; counter (sample, epoch, ISB_STREAM_AUGMENT, 0)): dx from word 0, dy from
 * word 1, flip from the top bit of word 2, so switching one augmentation leaves the others alone. */
typedef struct {
    int dx, dy;
    bool flip;
} isb_augment_draw;
isb_augment_draw isb_augment_draw_for(uint64_t seed, int sample, uint32_t epoch, isb_augment aug);

/* Per-channel value = fmaf(byte, scale[c], bias[c]): normalize on: scale = 1/(255 std),
 * bias = -mean/std; off: scale = 1/255, bias = 0. Channels beyond d->channels get 0. */
void isb_augment_affine(const isb_dataset *d, isb_augment aug, float scale[3], float bias[3]);

/* What isb_batcher_assemble computes, on the host, bit for bit: x_out [batch][channels][32][32],
 * labels_out [batch]. An index outside [0, d->n) gives a zero image and label -1, as on the device. */
void isb_augment_reference(const isb_dataset *d, const int32_t *indices, int batch, uint64_t seed,
                           uint32_t epoch, isb_augment aug, float *x_out, int32_t *labels_out);

#endif
