/* Batch assembly on the device: gather images (bytes, uploaded once) by a list of sample indices,
 * random crop with 4-pixel zero padding, horizontal flip, per-channel affine normalisation, into
 * float NCHW. Needs cl/philox.cl prepended. The plain-C twin is isb_augment_reference
 * (src/ref/augment.c): both must stay bit-identical, so keep the arithmetic the same there.
 *
 * Draw per sample: Philox(key = seed, counter = (sample, epoch, ISB_STREAM_AUGMENT, 0)) ->
 *   dx = mulhi(v0, 9) - 4, dy = mulhi(v1, 9) - 4 (9 offsets each, uniform), flip = v2 >> 31.
 * Output pixel (y, x) = image(y + dy, (flip ? 31 - x : x) + dx), zero outside the image (the
 * padding is black before normalisation, as torchvision's RandomCrop(32, padding=4) then Flip).
 * Value = fma(byte, scale[c], bias[c]): one rounding, so every device and the host agree. */

#define ISB_SIDE 32
#define ISB_PLANE (ISB_SIDE * ISB_SIDE)

/* One work-group per batch row; its work-items stride over the row's channels * 32 * 32 outputs
 * (consecutive items write consecutive floats). Each item derives the row's draw itself: one
 * Philox block is cheaper than sharing it through local memory and a barrier. */
__kernel void isb_augment_gather(__global const uchar *pixels, __global const int *labels, const int n_images,
                                 const int channels, __global const int *indices, const int offset,
                                 const uint seed_lo, const uint seed_hi, const uint epoch, const int crop,
                                 const int flip, const float4 scale, const float4 bias,
                                 __global float *x_out, __global int *labels_out) {
    const int row = get_group_id(0);
    const int elems = channels * ISB_PLANE;
    const int sample = indices[offset + row];
    __global float *dst = x_out + (size_t)row * elems;
    if (sample < 0 || sample >= n_images) { /* bad index: a zero image and label -1, never a wild read */
        for (int e = get_local_id(0); e < elems; e += get_local_size(0)) dst[e] = 0.0f;
        if (get_local_id(0) == 0) labels_out[row] = -1;
        return;
    }
    isb_philox4 draw = isb_philox4x32_10((uint)sample, epoch, ISB_STREAM_AUGMENT, 0u, seed_lo, seed_hi);
    const int dx = crop ? (int)isb_mulhi32(draw.v[0], 9u) - 4 : 0;
    const int dy = crop ? (int)isb_mulhi32(draw.v[1], 9u) - 4 : 0;
    const int mirrored = flip ? (int)(draw.v[2] >> 31) : 0;
    __global const uchar *src = pixels + (size_t)sample * elems;
    for (int e = get_local_id(0); e < elems; e += get_local_size(0)) {
        /* Shifts and masks (32 = 2^5), not / and %: clearer for 32x32, and LLVM then emits no
         * `freeze` instruction, which Oclgrind's uninitialised-value checker cannot run. */
        const int c = e >> 10, y = (e >> 5) & (ISB_SIDE - 1), x = e & (ISB_SIDE - 1);
        const int sy = y + dy, sx = (mirrored ? ISB_SIDE - 1 - x : x) + dx;
        const bool inside = sy >= 0 && sy < ISB_SIDE && sx >= 0 && sx < ISB_SIDE;
        const float v = inside ? (float)src[c * ISB_PLANE + sy * ISB_SIDE + sx] : 0.0f;
        const float s = c == 0 ? scale.x : (c == 1 ? scale.y : scale.z);
        const float b = c == 0 ? bias.x : (c == 1 ? bias.y : bias.z);
        dst[e] = fma(v, s, b);
    }
    if (get_local_id(0) == 0) labels_out[row] = labels[sample];
}
