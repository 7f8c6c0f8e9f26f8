/* Batch-assembly microbenchmarks: data.assemble.<device|host>/B:<batch>/AUG:<0|1>, i.e. the
 * gather + crop + flip + normalise of one training batch (isb_batcher_assemble, and its plain-C
 * reference for scale). AUG:1 = crop + flip + normalise (the augmented configurations), AUG:0 =
 * plain x/255 (the non-augmented ones). The dataset is a synthetic CIFAR-10-sized set (50000
 * random images, fewer if --max-n is smaller); batches walk a fixed random permutation so reads
 * are scattered as in training. The device output is checked bit-for-bit against the reference
 * before timing. Reports images/s (items_per_second) and bytes/s of output written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include "data/batcher.h"
#include "ref/augment.h"
#include "util/error.h"
#include "util/rng.h"
#include "util/timer.h"

#define SEED 20240101ULL
#define IMAGE (3 * 32 * 32)

typedef struct {
    isb_dataset data;
    int32_t *order;   /* a random permutation of the images: the "epoch" being batched */
    int n;
} data_fixture;

static const isb_bench_env *g_env;
static data_fixture g_fixture; /* built on first use, shared by all runs, freed at process exit */

static int fixture(void) {
    data_fixture *f = &g_fixture;
    if (f->n) return ISB_OK;
    int n = g_env->max_n < 50000 ? (int)g_env->max_n : 50000;
    if (n < 256) n = 256;
    isb_dataset *d = &f->data;
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "cifar10");
    d->n = n;
    d->channels = 3;
    d->size = 32;
    d->classes = 10;
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2023f, 0.1994f, 0.2010f};
    memcpy(d->mean, mean, sizeof mean);
    memcpy(d->std, std, sizeof std);
    d->pixels = malloc((size_t)n * IMAGE);
    d->labels = malloc((size_t)n * sizeof *d->labels);
    f->order = malloc((size_t)n * sizeof *f->order);
    if (!d->pixels || !d->labels || !f->order) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    isb_rng r = isb_rng_make(SEED, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < (size_t)n * IMAGE; i++) d->pixels[i] = (uint8_t)isb_rng_u32(&r);
    for (int i = 0; i < n; i++) {
        d->labels[i] = (int32_t)isb_rng_below(&r, 10);
        f->order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)isb_rng_below(&r, (uint32_t)i + 1);
        int32_t t = f->order[i];
        f->order[i] = f->order[j];
        f->order[j] = t;
    }
    f->n = n;
    return ISB_OK;
}

static isb_augment augment_of(int64_t aug) { return (isb_augment){aug != 0, aug != 0, aug != 0}; }

/* ---- device --------------------------------------------------------------------------------- */

typedef struct {
    isb_batcher *b;
    cl_mem order, x, labels;
    int batch, batches, next;
    isb_augment aug;
} device_ctx;

static int assemble_next(void *p) {
    device_ctx *c = p;
    int offset = (c->next++ % c->batches) * c->batch;
    return isb_batcher_assemble(c->b, c->order, offset, c->batch, SEED, 1, c->aug, c->x, c->labels);
}

/* One batch on the device against the reference, bit for bit. */
static int check_device(device_ctx *c) {
    const isb_dataset *d = &g_fixture.data;
    size_t floats = (size_t)c->batch * IMAGE;
    float *got = malloc(floats * sizeof *got), *want = malloc(floats * sizeof *want);
    int32_t *got_l = malloc((size_t)c->batch * sizeof *got_l), *want_l = malloc((size_t)c->batch * sizeof *want_l);
    int rc = ISB_OK;
    if (!got || !want || !got_l || !want_l) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    ISB_CHECK(isb_batcher_assemble(c->b, c->order, 0, c->batch, SEED, 1, c->aug, c->x, c->labels));
    ISB_CHECK(isb_ocl_read(g_env->ocl, c->x, 0, floats * sizeof *got, got));
    ISB_CHECK(isb_ocl_read(g_env->ocl, c->labels, 0, (size_t)c->batch * sizeof *got_l, got_l));
    isb_augment_reference(d, g_fixture.order, c->batch, SEED, 1, c->aug, want, want_l);
    if (memcmp(got, want, floats * sizeof *got) != 0 || memcmp(got_l, want_l, (size_t)c->batch * sizeof *got_l))
        ISB_CHECK(isb_fail(ISB_ERR_NUMERIC, "device batch differs from the C reference"));
done:
    free(got); free(want); free(got_l); free(want_l);
    return rc;
}

/* The batcher and buffers of c (released by the caller), checked against the reference. */
static int device_setup(device_ctx *c) {
    isb_ocl *ocl = g_env->ocl;
    ISB_TRY(isb_batcher_create(&c->b, ocl, &g_fixture.data));
    ISB_TRY(isb_ocl_alloc(ocl, &c->order, (size_t)g_fixture.n * sizeof(int32_t), "index order"));
    ISB_TRY(isb_ocl_write(ocl, c->order, 0, (size_t)g_fixture.n * sizeof(int32_t), g_fixture.order));
    ISB_TRY(isb_ocl_alloc(ocl, &c->x, (size_t)c->batch * IMAGE * sizeof(float), "batch images"));
    ISB_TRY(isb_ocl_alloc(ocl, &c->labels, (size_t)c->batch * sizeof(int32_t), "batch labels"));
    return check_device(c);
}

static void bm_assemble_device(isb_bench_state *st, void *user) {
    (void)user;
    device_ctx c = {0};
    c.batch = (int)isb_bench_arg(st, 0);
    c.aug = augment_of(isb_bench_arg(st, 1));
    int rc = fixture();
    if (rc < 0) { isb_bench_fail(st, rc, "dataset"); return; }
    c.batches = g_fixture.n / c.batch;
    isb_ocl *ocl = g_env->ocl;
    rc = device_setup(&c);
    if (rc < 0) isb_bench_fail(st, rc, "set-up / correctness check");
    else if (isb_bench_device_loop(st, ocl, assemble_next, &c) == 0) {
        isb_bench_set_items_processed(st, isb_bench_iterations(st) * c.batch);
        isb_bench_set_bytes_processed(st, isb_bench_iterations(st) * c.batch * IMAGE * (int64_t)sizeof(float));
    }
    isb_batcher_free(c.b);
    isb_ocl_release(&c.order);
    isb_ocl_release(&c.x);
    isb_ocl_release(&c.labels);
}

/* ---- host (the C reference, single thread) ---------------------------------------------------- */

static void bm_assemble_host(isb_bench_state *st, void *user) {
    (void)user;
    int batch = (int)isb_bench_arg(st, 0);
    isb_augment aug = augment_of(isb_bench_arg(st, 1));
    int rc = fixture();
    if (rc < 0) { isb_bench_fail(st, rc, "dataset"); return; }
    float *x = malloc((size_t)batch * IMAGE * sizeof *x);
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    if (!x || !labels) {
        isb_bench_skip_with_error(st, "out of host memory");
    } else {
        int batches = g_fixture.n / batch, next = 0;
        while (isb_bench_keep_running(st)) {
            int offset = (next++ % batches) * batch;
            isb_augment_reference(&g_fixture.data, g_fixture.order + offset, batch, SEED, 1, aug, x, labels);
        }
        isb_bench_set_items_processed(st, isb_bench_iterations(st) * batch);
        isb_bench_set_bytes_processed(st, isb_bench_iterations(st) * batch * IMAGE * (int64_t)sizeof(float));
    }
    free(x);
    free(labels);
}

void isb_bench_register_data(const isb_bench_env *env) {
    g_env = env;
    static const char *const names[] = {"B", "AUG", NULL};
    static const int64_t args[] = {128, 1, 128, 0};
    if (!isb_bench_fits_device(env, 50000ull * IMAGE + 128ull * IMAGE * 4, 50000ull * IMAGE)) return;
    isb_bench_register(&(isb_bench_def){.name = "data.assemble.device", .fn = bm_assemble_device, .arg_names = names,
                                        .args = args, .arg_sets = 2, .manual_time = true, .unit = ISB_BENCH_US});
    isb_bench_register(&(isb_bench_def){.name = "data.assemble.host", .fn = bm_assemble_host, .arg_names = names,
                                        .args = args, .arg_sets = 2, .unit = ISB_BENCH_US});
}
