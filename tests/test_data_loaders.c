/* Dataset loaders on small files written here in the exact on-disk formats (CIFAR-10, CIFAR-100,
 * IDX plain and gzip'd), their error messages, class-balanced subsets, the data-folder rule, and
 * the real CIFAR-10 when it is present (a ctest test of its own, reported as skipped when it is not). */
#include "testutil.h"
#include "data/dataset.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- a scratch folder per test ----------------------------------------------------------------- */

static char scratch[64];

static int make_scratch(void **state) {
    (void)state;
    snprintf(scratch, sizeof scratch, "/tmp/isbench-data-test-XXXXXX");
    return mkdtemp(scratch) ? 0 : -1;
}

static int remove_scratch(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const void *data, size_t len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_gz(const char *name, const void *data, size_t len) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", scratch, name);
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(f), Z_OK);
}

/* Pixel byte of record r (global index), channel c, row y, column x: varied, easy to recompute. */
static uint8_t pattern(int r, int c, int y, int x) { return (uint8_t)(r * 7 + c * 50 + y * 3 + x * 5); }
static int label_of(int r, int classes) { return (r * 3 + 1) % classes; }

/* A CIFAR file of `count` records starting at global record `first`; label_bytes 1 or 2. */
static void write_cifar(const char *name, int first, int count, int label_bytes, int classes) {
    size_t rec = (size_t)label_bytes + 3072;
    uint8_t *buf = malloc(rec * (size_t)count);
    for (int i = 0; i < count; i++) {
        uint8_t *p = buf + rec * (size_t)i;
        int r = first + i;
        p[0] = (uint8_t)(label_bytes == 2 ? label_of(r, classes) / 5 : label_of(r, classes));
        if (label_bytes == 2) p[1] = (uint8_t)label_of(r, classes);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++) p[label_bytes + (c * 32 + y) * 32 + x] = pattern(r, c, y, x);
    }
    write_file(name, buf, rec * (size_t)count);
    free(buf);
}

static const int batch_records[5] = {3, 2, 4, 1, 5}; /* 15 training records over five files */

static void write_cifar10_set(void) {
    int first = 0;
    for (int b = 0; b < 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
        write_cifar(name, first, batch_records[b], 1, 10);
        first += batch_records[b];
    }
    write_cifar("test_batch.bin", 100, 7, 1, 10);
}

static void assert_pixels(const isb_dataset *d, int i, int record) {
    const uint8_t *img = d->pixels + (size_t)i * 3 * 1024;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y += 5)
            for (int x = 0; x < 32; x += 3) assert_int_equal(img[(c * 32 + y) * 32 + x], pattern(record, c, y, x));
}

static void expect_error(int rc, int status, const char *a, const char *b, const char *c) {
    const char *msg = isb_last_error();
    printf("  error (%s): %s\n", isb_status_name(rc), msg);
    assert_int_equal(rc, status);
    if (a) assert_non_null(strstr(msg, a));
    if (b) assert_non_null(strstr(msg, b));
    if (c) assert_non_null(strstr(msg, c));
}

/* ---- formats ----------------------------------------------------------------------------------- */

static void cifar10_loads_counts_labels_pixels(void **state) {
    (void)state;
    write_cifar10_set();
    isb_dataset d;
    TEST_OK(isb_dataset_load(&d, "cifar10", scratch, true, 0, 0));
    assert_string_equal(d.name, "cifar10");
    assert_int_equal(d.n, 15);
    assert_int_equal(d.channels, 3);
    assert_int_equal(d.size, 32);
    assert_int_equal(d.classes, 10);
    assert_float_equal(d.mean[0], 0.4914f, 0);
    assert_float_equal(d.std[2], 0.2010f, 0);
    for (int i = 0; i < d.n; i++) { /* files concatenated in order 1..5 */
        assert_int_equal(d.labels[i], label_of(i, 10));
        assert_int_equal(d.source_index[i], i);
        assert_pixels(&d, i, i);
    }
    isb_dataset_free(&d);
    TEST_OK(isb_dataset_load(&d, "cifar10", scratch, false, 0, 0));
    assert_int_equal(d.n, 7);
    assert_int_equal(d.labels[6], label_of(106, 10));
    assert_pixels(&d, 6, 106);
    isb_dataset_free(&d);
    isb_dataset_free(&d); /* twice is harmless */
}

static void cifar100_uses_fine_labels(void **state) {
    (void)state;
    write_cifar("train.bin", 0, 9, 2, 100);
    write_cifar("test.bin", 50, 4, 2, 100);
    isb_dataset d;
    TEST_OK(isb_dataset_load(&d, "cifar100", scratch, true, 0, 0));
    assert_int_equal(d.n, 9);
    assert_int_equal(d.classes, 100);
    assert_float_equal(d.mean[1], 0.4865f, 0);
    for (int i = 0; i < d.n; i++) {
        assert_int_equal(d.labels[i], label_of(i, 100));
        assert_pixels(&d, i, i);
    }
    isb_dataset_free(&d);
    TEST_OK(isb_dataset_load(&d, "cifar100", scratch, false, 0, 0));
    assert_int_equal(d.n, 4);
    assert_int_equal(d.labels[3], label_of(53, 100));
    assert_pixels(&d, 3, 53);
    isb_dataset_free(&d);
}

/* IDX images file of n 28x28 images (big-endian header) and its labels file. */
static void idx_files(int n, uint8_t **images, size_t *images_len, uint8_t **labels, size_t *labels_len) {
    *images_len = 16 + (size_t)n * 784;
    *labels_len = 8 + (size_t)n;
    uint8_t *im = calloc(*images_len, 1), *lb = calloc(*labels_len, 1);
    const uint8_t im_head[16] = {0, 0, 8, 3, 0, 0, (uint8_t)(n >> 8), (uint8_t)n, 0, 0, 0, 28, 0, 0, 0, 28};
    const uint8_t lb_head[8] = {0, 0, 8, 1, 0, 0, (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(im, im_head, 16);
    memcpy(lb, lb_head, 8);
    for (int i = 0; i < n; i++) {
        lb[8 + i] = (uint8_t)label_of(i, 10);
        for (int p = 0; p < 784; p++) im[16 + (size_t)i * 784 + p] = (uint8_t)(1 + (i + p) % 250);
    }
    *images = im;
    *labels = lb;
}

static void check_idx_dataset(const isb_dataset *d, int n) {
    assert_int_equal(d->n, n);
    assert_int_equal(d->channels, 1);
    for (int i = 0; i < n; i++) {
        assert_int_equal(d->labels[i], label_of(i, 10));
        const uint8_t *img = d->pixels + (size_t)i * 1024;
        /* 28x28 centred: rows/columns 0,1 and 30,31 are zero; (y, x) holds source (y-2, x-2). */
        assert_int_equal(img[0], 0);
        assert_int_equal(img[1 * 32 + 15], 0);
        assert_int_equal(img[15 * 32 + 31], 0);
        assert_int_equal(img[31 * 32 + 31], 0);
        assert_int_equal(img[2 * 32 + 2], 1 + (i + 0) % 250);
        assert_int_equal(img[(2 + 27) * 32 + 2 + 27], 1 + (i + 27 * 28 + 27) % 250);
        assert_int_equal(img[(2 + 10) * 32 + 2 + 5], 1 + (i + 10 * 28 + 5) % 250);
    }
}

static void idx_plain_and_gzip(void **state) {
    (void)state;
    uint8_t *im, *lb;
    size_t im_len, lb_len;
    idx_files(12, &im, &im_len, &lb, &lb_len);
    write_file("train-images-idx3-ubyte", im, im_len); /* plain */
    write_file("train-labels-idx1-ubyte", lb, lb_len);
    write_gz("t10k-images-idx3-ubyte.gz", im, im_len); /* gzip'd, as downloaded */
    write_gz("t10k-labels-idx1-ubyte.gz", lb, lb_len);
    isb_dataset d;
    TEST_OK(isb_dataset_load(&d, "mnist", scratch, true, 0, 0));
    check_idx_dataset(&d, 12);
    assert_float_equal(d.mean[0], 0.1307f, 0);
    assert_float_equal(d.std[0], 0.3081f, 0);
    isb_dataset_free(&d);
    TEST_OK(isb_dataset_load(&d, "fashion-mnist", scratch, false, 0, 0));
    check_idx_dataset(&d, 12);
    assert_float_equal(d.mean[0], 0.2860f, 0);
    assert_float_equal(d.std[0], 0.3530f, 0);
    isb_dataset_free(&d);
    free(im);
    free(lb);
}

/* ---- errors: each its own message naming the file and the fix ---------------------------------- */

static void missing_file_names_script_and_option(void **state) {
    (void)state;
    isb_dataset d;
    int rc = isb_dataset_load(&d, "cifar10", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_IO, "data_batch_1.bin", "datasets/get-cifar10.sh", "--data");
    assert_null(d.pixels);
    rc = isb_dataset_load(&d, "fashion-mnist", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_IO, "train-images-idx3-ubyte", "datasets/get-fashion-mnist.sh", "--data");
    rc = isb_dataset_load(&d, "cifar100", scratch, false, 0, 0);
    expect_error(rc, ISB_ERR_IO, "test.bin", "datasets/get-cifar100.sh", "not found");
}

static void truncated_file(void **state) {
    (void)state;
    write_cifar10_set();
    write_cifar("data_batch_3.bin", 0, 2, 1, 10);
    char path[256];
    snprintf(path, sizeof path, "%s/data_batch_3.bin", scratch);
    assert_int_equal(truncate(path, 2 * 3073 - 100), 0);
    isb_dataset d;
    int rc = isb_dataset_load(&d, "cifar10", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "data_batch_3.bin", "truncated", "get-cifar10.sh");
    assert_null(d.pixels); /* nothing half-loaded is handed back */
    /* An IDX file shorter than its header announces. */
    uint8_t *im, *lb;
    size_t im_len, lb_len;
    idx_files(5, &im, &im_len, &lb, &lb_len);
    write_file("train-images-idx3-ubyte", im, im_len - 784);
    write_file("train-labels-idx1-ubyte", lb, lb_len);
    rc = isb_dataset_load(&d, "mnist", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "train-images-idx3-ubyte", "truncated", "announces 5");
    /* A gzip'd file cut short (a broken download). */
    write_gz("t10k-images-idx3-ubyte.gz", im, im_len);
    write_file("t10k-labels-idx1-ubyte", lb, lb_len);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte.gz", scratch);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size / 2), 0);
    rc = isb_dataset_load(&d, "mnist", scratch, false, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "t10k-images-idx3-ubyte.gz is truncated", "compressed stream ends early", NULL);
    free(im);
    free(lb);
}

static void wrong_size_file(void **state) {
    (void)state;
    write_cifar10_set();
    write_file("test_batch.bin", "", 0);
    isb_dataset d;
    int rc = isb_dataset_load(&d, "cifar10", scratch, false, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "test_batch.bin", "wrong size", "empty");
    uint8_t *im, *lb;
    size_t im_len, lb_len;
    idx_files(6, &im, &im_len, &lb, &lb_len);
    write_file("train-images-idx3-ubyte", im, im_len);
    lb[7] = 5; /* a labels file consistent in itself, but with 5 labels for 6 images */
    write_file("train-labels-idx1-ubyte", lb, lb_len - 1);
    rc = isb_dataset_load(&d, "mnist", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "train-labels-idx1-ubyte", "wrong size", "5 labels for the 6 images");
    uint8_t *longer = calloc(im_len + 10, 1);
    memcpy(longer, im, im_len);
    write_file("train-images-idx3-ubyte", longer, im_len + 10);
    rc = isb_dataset_load(&d, "mnist", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "train-images-idx3-ubyte", "wrong size", "announces 6");
    free(longer);
    free(im);
    free(lb);
}

static void label_out_of_range(void **state) {
    (void)state;
    write_cifar10_set();
    uint8_t rec[2 * 3073] = {0};
    rec[3073] = 10; /* the second record says class 10 */
    write_file("data_batch_2.bin", rec, sizeof rec);
    isb_dataset d;
    int rc = isb_dataset_load(&d, "cifar10", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "data_batch_2.bin: record 1 has label 10", "0..9", "get-cifar10.sh");
    uint8_t rec100[3074] = {3, 100};
    write_file("train.bin", rec100, sizeof rec100);
    rc = isb_dataset_load(&d, "cifar100", scratch, true, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "train.bin: record 0 has label 100", "0..99", NULL);
    uint8_t *im, *lb;
    size_t im_len, lb_len;
    idx_files(4, &im, &im_len, &lb, &lb_len);
    lb[8 + 2] = 200;
    write_file("t10k-images-idx3-ubyte", im, im_len);
    write_file("t10k-labels-idx1-ubyte", lb, lb_len);
    rc = isb_dataset_load(&d, "mnist", scratch, false, 0, 0);
    expect_error(rc, ISB_ERR_FORMAT, "item 2 has label 200", "0..9", NULL);
    free(im);
    free(lb);
}

static void bad_arguments(void **state) {
    (void)state;
    isb_dataset d;
    expect_error(isb_dataset_load(&d, "imagenet", scratch, true, 0, 0), ISB_ERR_USAGE, "unknown dataset 'imagenet'",
                 "cifar10", NULL);
    write_cifar10_set();
    expect_error(isb_dataset_load(&d, "cifar10", scratch, true, 16, 0), ISB_ERR_USAGE, "subset of 16", "only 15",
                 NULL);
    expect_error(isb_dataset_load(&d, "cifar10", scratch, true, -1, 0), ISB_ERR_USAGE, "negative", NULL, NULL);
    /* 15 records with labels (3r+1) % 10: class 2 has one image, but a subset of 14 needs two of
     * each of classes 0..3. */
    expect_error(isb_dataset_load(&d, "cifar10", scratch, true, 14, 0), ISB_ERR_USAGE, "needs 2 of class 2",
                 "has only 1", NULL);
}

/* ---- subsets ----------------------------------------------------------------------------------- */

static void subsets_balanced_deterministic_in_order(void **state) {
    (void)state;
    const int records = 400, subset = 23; /* 23 = 2 per class + one more for classes 0, 1, 2 */
    write_cifar("train.bin", 0, records, 2, 100);
    /* CIFAR-10 layout of the same size: five files of 80, labels (3r+1) % 10 (40 per class). */
    for (int b = 0; b < 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b + 1);
        write_cifar(name, b * 80, 80, 1, 10);
    }
    isb_dataset a, b, c;
    TEST_OK(isb_dataset_load(&a, "cifar10", scratch, true, subset, 42));
    TEST_OK(isb_dataset_load(&b, "cifar10", scratch, true, subset, 42));
    TEST_OK(isb_dataset_load(&c, "cifar10", scratch, true, subset, 43));
    assert_int_equal(a.n, subset);
    int per_class[10] = {0};
    for (int i = 0; i < a.n; i++) {
        per_class[a.labels[i]]++;
        if (i > 0) assert_true(a.source_index[i] > a.source_index[i - 1]); /* file order kept */
        assert_int_equal(a.labels[i], label_of(a.source_index[i], 10));  /* rows moved together */
        assert_pixels(&a, i, a.source_index[i]);
    }
    for (int k = 0; k < 10; k++) assert_int_equal(per_class[k], k < 3 ? 3 : 2);
    assert_memory_equal(a.source_index, b.source_index, (size_t)subset * sizeof(int32_t)); /* same seed */
    assert_memory_equal(a.pixels, b.pixels, (size_t)subset * 3072);
    assert_memory_not_equal(a.source_index, c.source_index, (size_t)subset * sizeof(int32_t)); /* other seed */
    isb_dataset_free(&a);
    isb_dataset_free(&b);
    isb_dataset_free(&c);
    /* Subset = everything: the full set. Balanced across 100 classes too. */
    TEST_OK(isb_dataset_load(&a, "cifar10", scratch, true, 400, 1));
    assert_int_equal(a.n, 400);
    assert_int_equal(a.source_index[399], 399);
    isb_dataset_free(&a);
    TEST_OK(isb_dataset_load(&a, "cifar100", scratch, true, 200, 5));
    int per100[100] = {0};
    for (int i = 0; i < a.n; i++) per100[a.labels[i]]++;
    for (int k = 0; k < 100; k++) assert_int_equal(per100[k], 2);
    isb_dataset_free(&a);
}

/* ---- the data folder rule ---------------------------------------------------------------------- */

static void data_dir_precedence(void **state) {
    (void)state;
    unsetenv("ISBENCH_DATA");
    assert_string_equal(isb_data_dir("/my/cifar", "cifar10"), "/my/cifar");
    assert_string_equal(isb_data_dir(NULL, "cifar10"), "data/cifar-10-batches-bin");
    assert_string_equal(isb_data_dir("", "cifar100"), "data/cifar-100-binary");
    assert_string_equal(isb_data_dir(NULL, "fashion-mnist"), "data/fashion-mnist");
    setenv("ISBENCH_DATA", scratch, 1);
    assert_string_equal(isb_data_dir(NULL, "mnist"), scratch); /* the folder itself */
    char sub[128], want[128];
    snprintf(sub, sizeof sub, "%s/mnist", scratch);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(want, sizeof want, "%s/mnist", scratch);
    assert_string_equal(isb_data_dir(NULL, "mnist"), want); /* or a parent of the default folders */
    assert_string_equal(isb_data_dir("/cli/wins", "mnist"), "/cli/wins");
    unsetenv("ISBENCH_DATA");
    rmdir(sub);
}

/* ---- the real CIFAR-10, when present ----------------------------------------------------------- */

static void needs_real_cifar10(void **state) {
    (void)state;
    const char *dir = test_real_cifar10_dir();
    if (!dir) {
        test_skip("real CIFAR-10 not found ($ISBENCH_DATA, ../shared/datasets/cifar-10-batches-bin)");
    }
    printf("  real CIFAR-10 from %s\n", dir);
    isb_dataset d;
    const int first_train[10] = {6, 9, 9, 4, 1, 1, 2, 7, 8, 3}; /* frog, truck, truck, deer, ... */
    const int first_test[10] = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1};  /* cat, ship, ship, airplane, ... */
    for (int train = 1; train >= 0; train--) {
        TEST_OK(isb_dataset_load(&d, "cifar10", dir, train, 0, 0));
        int want_n = train ? 50000 : 10000;
        assert_int_equal(d.n, want_n);
        int per_class[10] = {0};
        for (int i = 0; i < d.n; i++) per_class[d.labels[i]]++;
        for (int k = 0; k < 10; k++) assert_int_equal(per_class[k], want_n / 10);
        for (int i = 0; i < 10; i++) assert_int_equal(d.labels[i], train ? first_train[i] : first_test[i]);
        double mean_red = 0;
        for (int i = 0; i < d.n; i++)
            for (int p = 0; p < 1024; p++) mean_red += d.pixels[(size_t)i * 3072 + p];
        mean_red /= (double)d.n * 1024 * 255;
        printf("  %s: %d images, mean red %.4f\n", train ? "train" : "test", d.n, mean_red);
        if (train) assert_true(mean_red > 0.4904 && mean_red < 0.4924); /* the published 0.4914 */
        isb_dataset_free(&d);
    }
}

/* Debian's dataset-fashion-mnist package (gzip'd IDX), when installed: the real files end to end. */
static void needs_real_fashion_mnist(void **state) {
    (void)state;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (!isb_file_exists("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")) {
        test_skip("%s not found (apt-get install dataset-fashion-mnist)", dir);
    }
    isb_dataset d;
    for (int train = 1; train >= 0; train--) {
        TEST_OK(isb_dataset_load(&d, "fashion-mnist", dir, train, 0, 0));
        int want_n = train ? 60000 : 10000;
        assert_int_equal(d.n, want_n);
        assert_int_equal(d.channels, 1);
        int per_class[10] = {0};
        double mean = 0;
        for (int i = 0; i < d.n; i++) {
            per_class[d.labels[i]]++;
            assert_int_equal(d.pixels[(size_t)i * 1024], 0); /* the 2-pixel border added around 28x28 */
            for (int p = 0; p < 1024; p++) mean += d.pixels[(size_t)i * 1024 + p];
        }
        for (int k = 0; k < 10; k++) assert_int_equal(per_class[k], want_n / 10);
        mean /= (double)d.n * 784 * 255; /* over the original 28x28 pixels */
        printf("  fashion-mnist %s: %d images, mean %.4f\n", train ? "train" : "test", d.n, mean);
        if (train) assert_true(mean > 0.2850 && mean < 0.2870); /* the published 0.2860 */
        isb_dataset_free(&d);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cifar10_loads_counts_labels_pixels, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(cifar100_uses_fine_labels, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(idx_plain_and_gzip, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(missing_file_names_script_and_option, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(truncated_file, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(wrong_size_file, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(label_out_of_range, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(bad_arguments, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(subsets_balanced_deterministic_in_order, make_scratch, remove_scratch),
        cmocka_unit_test_setup_teardown(data_dir_precedence, make_scratch, remove_scratch),
        cmocka_unit_test(needs_real_cifar10),
        cmocka_unit_test(needs_real_fashion_mnist),
    };
    return TEST_RUN_GROUP(tests, NULL, NULL);
}
