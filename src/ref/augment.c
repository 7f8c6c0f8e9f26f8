/* The plain-C reference of the batch-assembly kernel (cl/augment.cl): the per-sample random draw
 * and the whole gather + crop + flip + normalise on host memory. Written independently of the kernel's indexing, but with the same
 * float arithmetic (one fmaf per output value), so tests can demand bit-identical results. */
#include "ref/augment.h"
#include "util/rng.h"

#include <math.h>
#include <string.h>

#define SIDE 32

isb_augment_draw isb_augment_draw_for(uint64_t seed, int sample, uint32_t epoch, isb_augment aug) {
    isb_philox4 r = isb_philox(seed, (isb_u32)sample, epoch, ISB_STREAM_AUGMENT, 0);
    isb_augment_draw d = {0, 0, false};
    if (aug.crop) {
        d.dx = (int)isb_mulhi32(r.v[0], 9u) - 4; /* floor(u * 9 / 2^32): 9 equally likely offsets */
        d.dy = (int)isb_mulhi32(r.v[1], 9u) - 4;
    }
    if (aug.flip) d.flip = (r.v[2] >> 31) != 0;
    return d;
}

void isb_augment_reference(const isb_dataset *d, const int32_t *indices, int batch, uint64_t seed,
                           uint32_t epoch, isb_augment aug, float *x_out, int32_t *labels_out) {
    float scale[3], bias[3];
    isb_augment_affine(d, aug, scale, bias);
    size_t image = (size_t)d->channels * SIDE * SIDE;
    for (int r = 0; r < batch; r++) {
        float *out = x_out + (size_t)r * image;
        int sample = indices[r];
        if (sample < 0 || sample >= d->n) {
            memset(out, 0, image * sizeof *out);
            labels_out[r] = -1;
            continue;
        }
        isb_augment_draw draw = isb_augment_draw_for(seed, sample, epoch, aug);
        const uint8_t *src = d->pixels + (size_t)sample * image;
        for (int c = 0; c < d->channels; c++)
            for (int y = 0; y < SIDE; y++)
                for (int x = 0; x < SIDE; x++) {
                    /* Crop of the zero-padded image, then the mirror of the crop. */
                    int sy = y + draw.dy, sx = (draw.flip ? SIDE - 1 - x : x) + draw.dx;
                    float v = 0.0f;
                    if (sy >= 0 && sy < SIDE && sx >= 0 && sx < SIDE) v = (float)src[(c * SIDE + sy) * SIDE + sx];
                    out[(c * SIDE + y) * SIDE + x] = fmaf(v, scale[c], bias[c]);
                }
        labels_out[r] = d->labels[sample];
    }
}
