/* The plain-C reference of the batch-assembly kernel (cl/augment.cl), for tests and the host
 * benchmarks: the per-sample random draw and the whole gather + crop + flip + normalise on host memory
 * (ref/augment.c). */
#ifndef ISB_REF_AUGMENT_H
#define ISB_REF_AUGMENT_H

#include "data/batcher.h"

/* One sample's random draw: crop offsets dx, dy in [-4, 4] (0 when crop is off) and the flip.
 * From Philox(seed; counter (sample, epoch, ISB_STREAM_AUGMENT, 0)): dx from word 0, dy from
 * word 1, flip from the top bit of word 2, so switching one augmentation leaves the others alone. */
typedef struct {
    int dx, dy;
    bool flip;
} isb_augment_draw;
isb_augment_draw isb_augment_draw_for(uint64_t seed, int sample, uint32_t epoch, isb_augment aug);

/* What isb_batcher_assemble computes, on the host, bit for bit: x_out [batch][channels][32][32],
 * labels_out [batch]. An index outside [0, d->n) gives a zero image and label -1, as on the device. */
void isb_augment_reference(const isb_dataset *d, const int32_t *indices, int batch, uint64_t seed,
                           uint32_t epoch, isb_augment aug, float *x_out, int32_t *labels_out);

#endif
