/* Device batch assembly (cl/augment.cl through isb_batcher) against its plain-C reference, bit for
 * bit; augmentation off against directly normalised images; crop offsets and flips inferred from
 * the kernel's output and tested for uniformity; draws independent of batch order; bad input.
 * ISB_OCLGRIND_TEST */
#include "testutil.h"
#include "data/batcher.h"
#include "ref/augment.h"
#include "util/error.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A synthetic dataset of n random images (no files). */
static isb_dataset random_dataset(int n, int channels, uint64_t seed) {
    isb_dataset d = {0};
    snprintf(d.name, sizeof d.name, "%s", channels == 3 ? "cifar10" : "mnist");
    d.n = n;
    d.channels = channels;
    d.size = 32;
    d.classes = 10;
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2023f, 0.1994f, 0.2010f};
    for (int c = 0; c < 3; c++) {
        d.mean[c] = channels == 3 ? mean[c] : 0.1307f;
        d.std[c] = channels == 3 ? std[c] : 0.3081f;
    }
    d.pixels = malloc((size_t)n * channels * 1024);
    d.labels = malloc((size_t)n * sizeof *d.labels);
    d.source_index = malloc((size_t)n * sizeof *d.source_index);
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 0);
    for (size_t i = 0; i < (size_t)n * channels * 1024; i++) d.pixels[i] = (uint8_t)isb_rng_u32(&r);
    for (int i = 0; i < n; i++) {
        d.labels[i] = (int32_t)isb_rng_below(&r, 10);
        d.source_index[i] = i;
    }
    return d;
}

typedef struct {
    isb_batcher *b;
    cl_mem indices, x, labels;
    int capacity;
    size_t image;
} device_batch;

static device_batch open_batch(const isb_dataset *d, const int32_t *indices, int n_indices, int capacity) {
    device_batch db = {0};
    TEST_OK(isb_batcher_create(&db.b, test_ocl(), d));
    db.capacity = capacity;
    db.image = (size_t)d->channels * 1024;
    db.indices = test_buffer_from(indices, (size_t)n_indices * sizeof *indices);
    db.x = test_buffer_from(NULL, (size_t)capacity * db.image * sizeof(float));
    db.labels = test_buffer_from(NULL, (size_t)capacity * sizeof(int32_t));
    return db;
}

static void close_batch(device_batch *db) {
    isb_batcher_free(db->b);
    isb_ocl_release(&db->indices);
    isb_ocl_release(&db->x);
    isb_ocl_release(&db->labels);
}

static void assemble(device_batch *db, int offset, int batch, uint64_t seed, uint32_t epoch, isb_augment aug,
                     float *x, int32_t *labels) {
    TEST_OK(isb_batcher_assemble(db->b, db->indices, offset, batch, seed, epoch, aug, db->x, db->labels));
    test_read(db->x, x, (size_t)batch * db->image * sizeof(float));
    test_read(db->labels, labels, (size_t)batch * sizeof(int32_t));
}

/* Every combination of crop / flip / normalise, 3 and 1 channels: identical bits. */
static void kernel_equals_reference_bitwise(void **state) {
    (void)state;
    for (int channels = 3; channels >= 1; channels -= 2) {
        int n = test_size(500, 20), n_idx = test_size(300, 9), offset = test_size(37, 2);
        int batch = n_idx - offset;
        isb_dataset d = random_dataset(n, channels, 11 + (uint64_t)channels);
        int32_t *idx = malloc((size_t)n_idx * sizeof *idx);
        isb_rng r = isb_rng_make(5, ISB_STREAM_TEST, 1);
        for (int i = 0; i < n_idx; i++) idx[i] = (int32_t)isb_rng_below(&r, (uint32_t)n); /* repeats too */
        device_batch db = open_batch(&d, idx, n_idx, batch);
        size_t floats = (size_t)batch * db.image;
        float *got = malloc(floats * sizeof *got), *want = malloc(floats * sizeof *want);
        int32_t *got_l = malloc((size_t)batch * sizeof *got_l), *want_l = malloc((size_t)batch * sizeof *want_l);
        for (int mode = 0; mode < 8; mode++) {
            isb_augment aug = {mode & 1, (mode >> 1) & 1, (mode >> 2) & 1};
            uint64_t seed = 0x123456789abcdef0ull + (uint64_t)mode;
            uint32_t epoch = (uint32_t)(3 + mode);
            assemble(&db, offset, batch, seed, epoch, aug, got, got_l);
            isb_augment_reference(&d, idx + offset, batch, seed, epoch, aug, want, want_l);
            size_t bad = 0;
            for (size_t i = 0; i < floats; i++)
                if (memcmp(&got[i], &want[i], sizeof(float)) != 0 && bad++ < 3)
                    printf("  mismatch at %zu: device %.9g host %.9g\n", i, (double)got[i], (double)want[i]);
            printf("  channels %d crop %d flip %d normalize %d: %zu of %zu values differ\n", channels, aug.crop,
                   aug.flip, aug.normalize, bad, floats);
            assert_int_equal(bad, 0);
            assert_memory_equal(got_l, want_l, (size_t)batch * sizeof *got_l);
            for (int i = 0; i < batch; i++) assert_int_equal(got_l[i], d.labels[idx[offset + i]]);
        }
        free(got); free(want); free(got_l); free(want_l); free(idx);
        close_batch(&db);
        isb_dataset_free(&d);
    }
}

/* Crop and flip off: the gathered images are the raw ones, normalised with the dataset's values. */
static void no_augmentation_is_normalised_raw(void **state) {
    (void)state;
    int n = test_size(64, 6);
    isb_dataset d = random_dataset(n, 3, 21);
    int32_t *idx = malloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++) idx[i] = n - 1 - i;
    device_batch db = open_batch(&d, idx, n, n);
    size_t floats = (size_t)n * db.image;
    float *got = malloc(floats * sizeof *got);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    double worst_norm = 0, worst_raw = 0;
    for (int normalize = 0; normalize <= 1; normalize++) {
        assemble(&db, 0, n, 99, 1, (isb_augment){false, false, normalize}, got, lab);
        for (int r = 0; r < n; r++)
            for (size_t e = 0; e < db.image; e++) {
                int c = (int)(e / 1024);
                double x = d.pixels[(size_t)idx[r] * db.image + e] / 255.0;
                double want = normalize ? (x - d.mean[c]) / d.std[c] : x;
                double err = fabs(got[(size_t)r * db.image + e] - want);
                if (normalize) worst_norm = fmax(worst_norm, err);
                else worst_raw = fmax(worst_raw, err);
            }
    }
    printf("  max |error| normalised %.2e (tolerance 2e-6), raw %.2e (tolerance 2.5e-7)\n", worst_norm, worst_raw);
    assert_true(worst_norm < 2e-6); /* values up to ~2.7: a few float ulps */
    assert_true(worst_raw < 2.5e-7);
    free(got); free(lab); free(idx);
    close_batch(&db);
    isb_dataset_free(&d);
}

/* Chi-square critical value at significance 0.001 (Wilson-Hilferty, z = 3.0902). */
static double chi2_critical_0001(int df) {
    double a = 2.0 / (9.0 * df);
    return df * pow(1.0 - a + 3.0902 * sqrt(a), 3.0);
}

static double chi2(const int *count, int bins, int total) {
    double expect = (double)total / bins, s = 0;
    for (int i = 0; i < bins; i++) s += (count[i] - expect) * (count[i] - expect) / expect;
    return s;
}

/* The draws on the host (many, cheap): dx, dy uniform over 9 values, jointly uniform over 81,
 * flips binomial(n, 1/2); each at significance 0.001 with a fixed seed. */
static void host_draws_are_uniform(void **state) {
    (void)state;
    const int n = 90000;
    int cx[9] = {0}, cy[9] = {0}, cxy[81] = {0}, flips = 0;
    isb_augment all = {true, true, true};
    for (int i = 0; i < n; i++) {
        isb_augment_draw a = isb_augment_draw_for(2024, i, 7, all);
        assert_true(a.dx >= -4 && a.dx <= 4 && a.dy >= -4 && a.dy <= 4);
        cx[a.dx + 4]++;
        cy[a.dy + 4]++;
        cxy[(a.dy + 4) * 9 + a.dx + 4]++;
        flips += a.flip;
    }
    double x2 = chi2(cx, 9, n), y2 = chi2(cy, 9, n), xy2 = chi2(cxy, 81, n);
    double z = (flips - n / 2.0) / sqrt(n / 4.0);
    printf("  chi2 dx %.1f dy %.1f (crit %.1f), joint %.1f (crit %.1f), flips %d/%d z=%.2f\n", x2, y2,
           chi2_critical_0001(8), xy2, chi2_critical_0001(80), flips, n, z);
    assert_true(x2 < chi2_critical_0001(8));
    assert_true(y2 < chi2_critical_0001(8));
    assert_true(xy2 < chi2_critical_0001(80));
    assert_true(fabs(z) < 3.29);
    /* Each switch silences only its own part of the draw. */
    for (int i = 0; i < 100; i++) {
        isb_augment_draw full = isb_augment_draw_for(2024, i, 7, all);
        isb_augment_draw crop = isb_augment_draw_for(2024, i, 7, (isb_augment){true, false, true});
        isb_augment_draw flip = isb_augment_draw_for(2024, i, 7, (isb_augment){false, true, false});
        assert_true(crop.dx == full.dx && crop.dy == full.dy && !crop.flip);
        assert_true(flip.dx == 0 && flip.dy == 0 && flip.flip == full.flip);
    }
}

/* Images whose pixels encode their own coordinates (R = x + 1, G = y + 1, B = 0), so the crop and
 * flip the kernel applied can be read back from its output. */
static void kernel_crops_and_flips_as_drawn(void **state) {
    (void)state;
    const int n = test_size(2700, 90);
    isb_dataset d = random_dataset(n, 3, 1);
    for (int i = 0; i < n; i++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++) {
                uint8_t *p = d.pixels + (size_t)i * 3072 + y * 32 + x;
                p[0] = (uint8_t)(x + 1);
                p[1024] = (uint8_t)(y + 1);
                p[2048] = 0;
            }
    int32_t *idx = malloc((size_t)n * sizeof *idx);
    for (int i = 0; i < n; i++) idx[i] = i;
    int chunk = test_size(300, 90);
    device_batch db = open_batch(&d, idx, n, chunk);
    float *x = malloc((size_t)chunk * 3072 * sizeof *x);
    int32_t *lab = malloc((size_t)chunk * sizeof *lab);
    int cx[9] = {0}, cy[9] = {0}, flips = 0, zero_pad_seen = 0;
    isb_augment aug = {true, true, false};
    for (int off = 0; off < n; off += chunk) {
        assemble(&db, off, chunk, 77, 2, aug, x, lab);
        for (int r = 0; r < chunk; r++) {
            const float *img = x + (size_t)r * 3072;
            /* Unnormalised: value * 255 recovers the byte exactly (well within rounding). */
            int a = (int)lrintf(img[16 * 32 + 16] * 255.0f) - 1, b = (int)lrintf(img[16 * 32 + 17] * 255.0f) - 1;
            int sy = (int)lrintf(img[1024 + 16 * 32 + 16] * 255.0f) - 1;
            bool flip = b < a;           /* mirrored: source x decreases as output x increases */
            int dx = flip ? a - 15 : a - 16, dy = sy - 16;
            isb_augment_draw want = isb_augment_draw_for(77, off + r, 2, aug);
            assert_int_equal(dx, want.dx);
            assert_int_equal(dy, want.dy);
            assert_int_equal(flip, want.flip);
            cx[dx + 4]++;
            cy[dy + 4]++;
            flips += flip;
            /* The padding is black: with a crop offset, the uncovered edge is zero. */
            if (dy > 0) {
                assert_true(img[31 * 32 + 5] == 0.0f && img[1024 + 31 * 32 + 5] == 0.0f);
                zero_pad_seen++;
            }
        }
    }
    double x2 = chi2(cx, 9, n), y2 = chi2(cy, 9, n), z = (flips - n / 2.0) / sqrt(n / 4.0);
    printf("  %d device draws: chi2 dx %.1f dy %.1f (crit %.1f at 0.001), flips %d z=%.2f, padded rows %d\n", n,
           x2, y2, chi2_critical_0001(8), flips, z, zero_pad_seen);
    assert_true(x2 < chi2_critical_0001(8));
    assert_true(y2 < chi2_critical_0001(8));
    assert_true(fabs(z) < 3.29);
    assert_true(zero_pad_seen > 0);
    free(x); free(lab); free(idx);
    close_batch(&db);
    isb_dataset_free(&d);
}

/* A sample's image depends on (seed, epoch, sample), not on where it sits in a batch. */
static void draws_independent_of_batch_order(void **state) {
    (void)state;
    int n = test_size(40, 8);
    isb_dataset d = random_dataset(n, 3, 3);
    int32_t idx[16];
    for (int i = 0; i < 8; i++) { idx[i] = i; idx[8 + i] = 7 - i; } /* 0..7 then 7..0 */
    device_batch db = open_batch(&d, idx, 16, 8);
    float *a = malloc(8 * 3072 * sizeof *a), *b = malloc(8 * 3072 * sizeof *b), *c = malloc(8 * 3072 * sizeof *c);
    int32_t la[8], lb[8], lc[8];
    isb_augment aug = {true, true, true};
    assemble(&db, 0, 8, 5, 4, aug, a, la);
    assemble(&db, 8, 8, 5, 4, aug, b, lb);
    for (int i = 0; i < 8; i++) {
        assert_memory_equal(a + (size_t)i * 3072, b + (size_t)(7 - i) * 3072, 3072 * sizeof(float));
        assert_int_equal(la[i], lb[7 - i]);
    }
    /* Another epoch gives other views (with 8 samples, some draw differs). */
    assemble(&db, 0, 8, 5, 5, aug, c, lc);
    assert_memory_not_equal(a, c, 8 * 3072 * sizeof(float));
    assert_memory_equal(la, lc, sizeof la);
    free(a); free(b); free(c);
    close_batch(&db);
    isb_dataset_free(&d);
}

/* Bad input: clear errors for wrong sizes, and an out-of-range index never reads out of bounds. */
static void bad_input(void **state) {
    (void)state;
    isb_dataset d = random_dataset(4, 3, 8);
    int32_t idx[3] = {1, 4, -2}; /* 4 and -2 are outside [0, 4) */
    device_batch db = open_batch(&d, idx, 3, 2);
    isb_augment aug = {true, true, true};
    int rc = isb_batcher_assemble(db.b, db.indices, 0, 3, 1, 0, aug, db.x, db.labels);
    assert_int_equal(rc, ISB_ERR_USAGE);
    printf("  %s\n", isb_last_error());
    assert_non_null(strstr(isb_last_error(), "image output buffer holds"));
    rc = isb_batcher_assemble(db.b, db.indices, 2, 2, 1, 0, aug, db.x, db.labels);
    assert_int_equal(rc, ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "indices buffer holds 12 bytes"));
    assert_int_equal(isb_batcher_assemble(db.b, db.indices, -1, 1, 1, 0, aug, db.x, db.labels), ISB_ERR_USAGE);
    float x[2 * 3072], want[2 * 3072];
    int32_t lab[2], want_lab[2];
    assemble(&db, 1, 2, 1, 0, aug, x, lab);
    isb_augment_reference(&d, idx + 1, 2, 1, 0, aug, want, want_lab);
    assert_int_equal(lab[0], -1);
    assert_int_equal(lab[1], -1);
    assert_memory_equal(lab, want_lab, sizeof lab);
    for (int i = 0; i < 2 * 3072; i++) assert_true(x[i] == 0.0f && want[i] == 0.0f);
    close_batch(&db);
    isb_batcher *b = NULL;
    isb_dataset empty = {0};
    assert_int_equal(isb_batcher_create(&b, test_ocl(), &empty), ISB_ERR_USAGE);
    assert_null(b);
    isb_batcher_free(NULL);
    assert_int_equal(isb_batcher_assemble(NULL, NULL, 0, 1, 1, 0, (isb_augment){0}, NULL, NULL), ISB_ERR_USAGE);
    isb_dataset_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_equals_reference_bitwise),
        cmocka_unit_test(no_augmentation_is_normalised_raw),
        cmocka_unit_test(host_draws_are_uniform),
        cmocka_unit_test(kernel_crops_and_flips_as_drawn),
        cmocka_unit_test(draws_independent_of_batch_order),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
