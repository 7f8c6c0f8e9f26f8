/* Device batch assembly (isb_batcher): owns the device copy of one dataset (bytes and labels,
 * uploaded once) and enqueues the gather + augmentation kernel of cl/augment.cl. No host
 * round-trip, allocation or build per batch: the kernel is built at creation. */
#include "data/batcher.h"
#include "ocl/programs.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

struct isb_batcher {
    isb_ocl *ocl;
    isb_dataset shape;    /* n, channels, mean, std of the dataset; no host pixel pointers kept */
    cl_mem pixels;        /* uchar [n][channels][32][32] */
    cl_mem labels;        /* int [n] */
    cl_kernel gather;     /* cached by isb_ocl_kernel: not released here */
    size_t local;         /* work-group size for the kernel, from the device query */
};

int isb_batcher_create(isb_batcher **out, isb_ocl *ocl, const isb_dataset *d) {
    *out = NULL;
    if (!d || d->n <= 0 || !d->pixels || !d->labels || d->size != 32 || d->channels < 1 || d->channels > 3)
        return isb_fail(ISB_ERR_USAGE, "isb_batcher_create needs a loaded dataset of 32x32 images with 1-3 "
                        "channels (load it with isb_dataset_load first)");
    isb_batcher *b = calloc(1, sizeof *b);
    if (!b) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    b->ocl = ocl;
    b->shape = *d;
    b->shape.pixels = NULL;
    b->shape.labels = NULL;
    b->shape.source_index = NULL;
    size_t pixel_bytes = (size_t)d->n * (size_t)d->channels * 32 * 32;
    int rc = ISB_OK;
    ISB_CHECK(isb_ocl_kernel(ocl, ISB_PROGRAM_AUGMENT, "", "isb_augment_gather", &b->gather));
    ISB_CHECK(isb_ocl_alloc(ocl, &b->pixels, pixel_bytes, "dataset images (bytes)"));
    ISB_CHECK(isb_ocl_alloc(ocl, &b->labels, (size_t)d->n * sizeof(cl_int), "dataset labels"));
    ISB_CHECK(isb_ocl_write(ocl, b->pixels, 0, pixel_bytes, d->pixels));
    ISB_CHECK(isb_ocl_write(ocl, b->labels, 0, (size_t)d->n * sizeof(cl_int), d->labels));
    b->local = isb_ocl_kernel_wg(ocl, b->gather, 256);
    *out = b;
done:
    if (rc < 0) {
        isb_batcher_free(b);
        return isb_fail_context(rc, "uploading the %s dataset (%d images) to %s", d->name, d->n, ocl->info.name);
    }
    return ISB_OK;
}

void isb_batcher_free(isb_batcher *b) {
    if (!b) return;
    isb_ocl_release(&b->pixels);
    isb_ocl_release(&b->labels);
    free(b);
}

/* Buffer too small for what the kernel will touch: an error now instead of a wild device write. */
static int check_size(cl_mem buf, size_t need, const char *what) {
    size_t have = 0;
    if (!buf) return isb_fail(ISB_ERR_USAGE, "isb_batcher_assemble: %s buffer is NULL", what);
    ISB_TRY(isb_ocl_check(clGetMemObjectInfo(buf, CL_MEM_SIZE, sizeof have, &have, NULL), "clGetMemObjectInfo"));
    if (have < need)
        return isb_fail(ISB_ERR_USAGE, "isb_batcher_assemble: the %s buffer holds %zu bytes but this batch needs "
                        "%zu: allocate it for the largest batch", what, have, need);
    return ISB_OK;
}

void isb_augment_affine(const isb_dataset *d, isb_augment aug, float scale[3], float bias[3]) {
    for (int c = 0; c < 3; c++) {
        scale[c] = bias[c] = 0.0f;
        if (c >= d->channels) continue;
        if (aug.normalize) {
            /* (x/255 - mean)/std folded into one multiply-add; computed in double, rounded once. */
            scale[c] = (float)(1.0 / (255.0 * (double)d->std[c]));
            bias[c] = (float)(-(double)d->mean[c] / (double)d->std[c]);
        } else {
            scale[c] = 1.0f / 255.0f;
        }
    }
}

int isb_batcher_assemble(isb_batcher *b, cl_mem indices, int offset, int batch, uint64_t seed, uint32_t epoch,
                         isb_augment aug, cl_mem x_out, cl_mem labels_out) {
    if (!b) return isb_fail(ISB_ERR_USAGE, "isb_batcher_assemble: no batcher (create it with isb_batcher_create)");
    if (offset < 0 || batch <= 0)
        return isb_fail(ISB_ERR_USAGE, "isb_batcher_assemble: offset %d and batch %d must be >= 0 and > 0",
                        offset, batch);
    size_t image_floats = (size_t)b->shape.channels * 32 * 32;
    ISB_TRY(check_size(indices, ((size_t)offset + (size_t)batch) * sizeof(cl_int), "indices"));
    ISB_TRY(check_size(x_out, (size_t)batch * image_floats * sizeof(cl_float), "image output"));
    ISB_TRY(check_size(labels_out, (size_t)batch * sizeof(cl_int), "label output"));
    float scale[3], bias[3];
    isb_augment_affine(&b->shape, aug, scale, bias);
    cl_float4 scale4 = {{scale[0], scale[1], scale[2], 0.0f}}, bias4 = {{bias[0], bias[1], bias[2], 0.0f}};
    cl_uint seed_lo = (cl_uint)seed, seed_hi = (cl_uint)(seed >> 32), ep = epoch;
    cl_int n = b->shape.n, channels = b->shape.channels, off = offset, crop = aug.crop, flip = aug.flip;
    ISB_TRY(ISB_SET_ARGS(b->gather, ISB_KA(b->pixels), ISB_KA(b->labels), ISB_KA(n), ISB_KA(channels),
                         ISB_KA(indices), ISB_KA(off), ISB_KA(seed_lo), ISB_KA(seed_hi), ISB_KA(ep), ISB_KA(crop),
                         ISB_KA(flip), ISB_KA(scale4), ISB_KA(bias4), ISB_KA(x_out), ISB_KA(labels_out)));
    return isb_ocl_run_groups(b->ocl, b->gather, (size_t)batch, b->local);
}
