/* Dataset loaders: CIFAR-10 / CIFAR-100 binary batches and MNIST-style IDX files (plain or .gz)
 * into an isb_dataset of planar bytes, with checks whose errors name the file and the fix; the
 * deterministic class-balanced subsets; and where the data folder is. Knows nothing of devices. */
#include "data/dataset.h"
#include "util/env.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IMAGE_SIDE 32
#define PLANE (IMAGE_SIDE * IMAGE_SIDE)

typedef struct {
    const char *name;     /* the kind, as given to isb_dataset_load */
    const char *folder;   /* default folder under data/ (what the download script creates) */
    const char *script;   /* datasets/get-<script>.sh */
    int channels, classes;
    float mean[3], std[3];
} kind_info;

static const kind_info kinds[] = {
    {"cifar10", "cifar-10-batches-bin", "cifar10", 3, 10,
     {0.4914f, 0.4822f, 0.4465f}, {0.2023f, 0.1994f, 0.2010f}},
    {"cifar100", "cifar-100-binary", "cifar100", 3, 100,
     {0.5071f, 0.4865f, 0.4409f}, {0.2673f, 0.2564f, 0.2762f}},
    {"mnist", "mnist", "mnist", 1, 10, {0.1307f}, {0.3081f}},
    {"fashion-mnist", "fashion-mnist", "fashion-mnist", 1, 10, {0.2860f}, {0.3530f}},
};

static const kind_info *find_kind(const char *name) {
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (name && strcmp(name, kinds[i].name) == 0) return &kinds[i];
    return NULL;
}

static int unknown_kind(const char *name) {
    return isb_fail(ISB_ERR_USAGE, "unknown dataset '%s': use cifar10, cifar100, mnist or fashion-mnist",
                    name ? name : "(null)");
}

const char *isb_data_dir(const char *from_cli, const char *kind) {
    static char path[4096];
    if (from_cli && *from_cli) return from_cli;
    const kind_info *k = find_kind(kind);
    const char *folder = k ? k->folder : (kind ? kind : "");
    /* $ISBENCH_DATA may be the dataset folder itself or a parent holding the default folders. */
    const char *env = isb_env(ISB_ENV_DATA);
    if (env && *env) {
        snprintf(path, sizeof path, "%s/%s", env, folder);
        if (isb_file_exists(path)) return path;
        snprintf(path, sizeof path, "%s", env);
        return path;
    }
    snprintf(path, sizeof path, "data/%s", folder);
    return path;
}

/* ---- whole-file reads through zlib (it passes plain files through unchanged) ------------------- */

typedef struct {
    uint8_t *data;
    size_t len;
    char path[4096]; /* the file actually read: name or name.gz */
} file_bytes;

/* The Python (pickle) CIFAR archives (torchvision's cifar-10-batches-py, cifar-100-python) hold
 * data_batch_1 / train without the .bin the binary version has: a common mix-up worth naming. */
static bool pickle_layout(const char *dir) {
    static const char *const marks[] = {"data_batch_1", "batches.meta", "meta", "cifar-10-batches-py", "cifar-100-python"};
    char path[4096];
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (isb_path_join(path, sizeof path, dir, marks[i]) == ISB_OK && isb_file_exists(path)) return true;
    size_t len = strlen(dir);
    return (len >= 3 && strcmp(dir + len - 3, "-py") == 0) || (len >= 7 && strcmp(dir + len - 7, "-python") == 0);
}

static int missing_file(const kind_info *k, const char *dir, const char *name) {
    if (strncmp(k->name, "cifar", 5) == 0 && pickle_layout(dir))
        return isb_fail(ISB_ERR_IO,
                        "%s dataset file not found: %s/%s. %s looks like the Python (pickle) version of the "
                        "dataset (torchvision's cifar-10-batches-py / cifar-100-python), which isbench does not "
                        "read: it needs the binary version (%s/*.bin). datasets/get-%s.sh downloads and checks it "
                        "(it fills data/%s); then pass --data data/%s",
                        k->name, dir, name, dir, k->folder, k->script, k->folder, k->folder);
    return isb_fail(ISB_ERR_IO,
                    "%s dataset file not found: %s/%s (nor %s.gz). Download it with "
                    "datasets/get-%s.sh (it fills data/%s), or pass --data DIR (or set ISBENCH_DATA) "
                    "to the folder that holds %s",
                    k->name, dir, name, name, k->script, k->folder, name);
}

/* Doubles the buffer of f (1 MiB to start). */
static int grow_file_buffer(file_bytes *f, size_t *cap) {
    size_t want = *cap ? 2 * *cap : (size_t)1 << 20;
    uint8_t *grown = realloc(f->data, want);
    if (!grown) return isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", f->path);
    f->data = grown;
    *cap = want;
    return ISB_OK;
}

static int read_dataset_file(const kind_info *k, const char *dir, const char *name, file_bytes *f) {
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s/%s", dir, name);
    if (!isb_file_exists(f->path)) {
        snprintf(f->path, sizeof f->path, "%s/%s.gz", dir, name);
        if (!isb_file_exists(f->path)) return missing_file(k, dir, name);
    }
    gzFile gz = gzopen(f->path, "rb");
    if (!gz) return isb_fail(ISB_ERR_IO, "cannot open %s: %s (check its permissions)", f->path, strerror(errno));
    int rc = ISB_OK, zerr;
    size_t cap = 0;
    for (;;) {
        if (f->len == cap) ISB_CHECK(grow_file_buffer(f, &cap));
        int got = gzread(gz, f->data + f->len, (unsigned)(cap - f->len < (1u << 30) ? cap - f->len : (1u << 30)));
        if (got < 0)
            ISB_CHECK(isb_fail(ISB_ERR_IO, "%s is corrupt or truncated (%s): re-download it with datasets/get-%s.sh",
                               f->path, gzerror(gz, &zerr), k->script));
        if (got == 0) break;
        f->len += (size_t)got;
    }
    /* zlib reports a gzip stream cut short only here, after handing out what it had. */
    gzerror(gz, &zerr);
    if (zerr == Z_BUF_ERROR)
        ISB_CHECK(isb_fail(ISB_ERR_FORMAT, "%s is truncated: the compressed stream ends early. Re-download it with "
                           "datasets/get-%s.sh", f->path, k->script));
done:
    gzclose(gz);
    if (rc < 0) {
        free(f->data);
        f->data = NULL;
    }
    return rc;
}

/* Appends n images (planar, PLANE bytes per channel) and labels to d. */
static int grow_dataset(isb_dataset *d, int add) {
    size_t n = (size_t)d->n + (size_t)add;
    uint8_t *pixels = realloc(d->pixels, n * (size_t)d->channels * PLANE);
    if (pixels) d->pixels = pixels;
    int32_t *labels = realloc(d->labels, n * sizeof *labels);
    if (labels) d->labels = labels;
    if (!pixels || !labels) return isb_fail(ISB_ERR_MEMORY, "out of host memory for %zu images", n);
    return ISB_OK;
}

/* ---- CIFAR binary: records of label byte(s) then R, G, B planes of 32x32 ---------------------- */

/* The official files hold exactly `expected` records: a copy cut at a record boundary would
 * otherwise train on less data silently. ISBENCH_DATA_ANY_SIZE=1 accepts any whole number of
 * records, for the test suite's small synthetic sets only (never for a measurement). */
static int check_record_count(const kind_info *k, const file_bytes *f, size_t count, size_t expected) {
    const char *any = isb_env(ISB_ENV_DATA_ANY_SIZE);
    if (count == expected || (any && strcmp(any, "1") == 0)) return ISB_OK;
    return isb_fail(ISB_ERR_FORMAT, "%s holds %zu records, but every %s file of this name holds exactly %zu (cut "
                    "short or padded?). Re-download it with datasets/get-%s.sh or point --data at a good copy",
                    f->path, count, k->name, expected, k->script);
}

/* Whether a CIFAR file holds a whole number of records, as many as expected, and how many. */
static int count_cifar_records(const kind_info *k, const file_bytes *f, size_t record, size_t expected,
                               size_t *count) {
    if (f->len == 0)
        return isb_fail(ISB_ERR_FORMAT, "%s has the wrong size: it is empty. Re-download it with "
                        "datasets/get-%s.sh or point --data at a good copy", f->path, k->script);
    if (f->len % record != 0)
        return isb_fail(ISB_ERR_FORMAT,
                        "%s is truncated: %zu bytes is not a whole number of %zu-byte %s records "
                        "(it ends %zu bytes into a record). Re-download it with datasets/get-%s.sh",
                        f->path, f->len, record, k->name, f->len % record, k->script);
    *count = f->len / record;
    ISB_TRY(check_record_count(k, f, *count, expected));
    if (*count > (size_t)(INT32_MAX / 4))
        return isb_fail(ISB_ERR_FORMAT, "%s has the wrong size: %zu records is more than isbench handles", f->path,
                        *count);
    return ISB_OK;
}

static int load_cifar_file(isb_dataset *d, const kind_info *k, const char *dir, const char *name,
                           int label_bytes, size_t expected_records) {
    file_bytes f;
    ISB_TRY(read_dataset_file(k, dir, name, &f));
    size_t record = (size_t)label_bytes + 3 * PLANE, count = 0;
    int rc = ISB_OK, first = d->n;
    ISB_CHECK(count_cifar_records(k, &f, record, expected_records, &count));
    ISB_CHECK(grow_dataset(d, (int)count));
    for (size_t r = 0; r < count; r++) {
        const uint8_t *rec = f.data + r * record;
        /* CIFAR-100 records carry (coarse, fine): the fine label is the class. */
        int label = rec[label_bytes - 1];
        if (label >= k->classes || (label_bytes == 2 && rec[0] >= 20)) {
            char coarse[32] = "";
            if (label_bytes == 2) snprintf(coarse, sizeof coarse, " (coarse label %d of 0..19)", rec[0]);
            ISB_CHECK(isb_fail(ISB_ERR_FORMAT,
                               "%s: record %zu has label %d%s, but %s labels are 0..%d: the file is corrupt or "
                               "not a %s binary file (CIFAR-10 records are 3073 bytes, CIFAR-100 3074). "
                               "Re-download it with datasets/get-%s.sh",
                               f.path, r, label, coarse, k->name, k->classes - 1, k->name, k->script));
        }
        d->labels[first + (int)r] = label;
        memcpy(d->pixels + (size_t)(first + (int)r) * 3 * PLANE, rec + label_bytes, 3 * PLANE);
    }
    d->n += (int)count;
done:
    free(f.data);
    return rc;
}

static int load_cifar(isb_dataset *d, const kind_info *k, const char *dir, bool train) {
    if (strcmp(k->name, "cifar100") == 0)
        return load_cifar_file(d, k, dir, train ? "train.bin" : "test.bin", 2, train ? 50000 : 10000);
    if (!train) return load_cifar_file(d, k, dir, "test_batch.bin", 1, 10000);
    for (int b = 1; b <= 5; b++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", b);
        ISB_TRY(load_cifar_file(d, k, dir, name, 1, 10000));
    }
    return ISB_OK;
}

/* ---- IDX (MNIST, Fashion-MNIST): big-endian header, then bytes; images centred in 32x32 ------- */

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Checks an IDX file's magic and that its length matches the header exactly. */
static int check_idx(const kind_info *k, const file_bytes *f, uint32_t magic, size_t header, size_t item_bytes,
                     uint32_t *count) {
    if (f->len < 8 || be32(f->data) != magic)
        return isb_fail(ISB_ERR_FORMAT, "%s is not an IDX %s file (magic 0x%08x, expected 0x%08x): wrong or "
                        "corrupt file; re-download it with datasets/get-%s.sh", f->path,
                        magic == 0x803 ? "image" : "label", f->len >= 4 ? be32(f->data) : 0, magic, k->script);
    if (f->len < header)
        return isb_fail(ISB_ERR_FORMAT, "%s is truncated: %zu bytes, shorter than its %zu-byte header. "
                        "Re-download it with datasets/get-%s.sh", f->path, f->len, header, k->script);
    *count = be32(f->data + 4);
    size_t want = header + (size_t)*count * item_bytes;
    if (f->len < want)
        return isb_fail(ISB_ERR_FORMAT, "%s is truncated: its header announces %u items (%zu bytes) but it "
                        "holds %zu bytes. Re-download it with datasets/get-%s.sh",
                        f->path, *count, want, f->len, k->script);
    if (f->len > want)
        return isb_fail(ISB_ERR_FORMAT, "%s has the wrong size: its header announces %u items (%zu bytes) but "
                        "it holds %zu bytes. Re-download it with datasets/get-%s.sh",
                        f->path, *count, want, f->len, k->script);
    if (*count > (uint32_t)(INT32_MAX / 4))
        return isb_fail(ISB_ERR_FORMAT, "%s has the wrong size: %u items", f->path, *count);
    return ISB_OK;
}

/* Image side lengths from an IDX image header: 1..32 pixels. */
static int idx_image_size(const file_bytes *im, uint32_t *rows, uint32_t *cols) {
    if (im->len < 16) return ISB_OK; /* check_idx names the short file */
    *rows = be32(im->data + 8);
    *cols = be32(im->data + 12);
    if (*rows == 0 || *cols == 0 || *rows > IMAGE_SIDE || *cols > IMAGE_SIDE)
        return isb_fail(ISB_ERR_FORMAT, "%s holds %ux%u images; isbench takes 1..32 pixels a side (MNIST is "
                        "28x28): wrong file", im->path, *rows, *cols);
    return ISB_OK;
}

/* Labels and images (centred in the 32x32 plane: MNIST gets 2 pixels of zeros on every side). */
static int copy_idx_items(isb_dataset *d, const kind_info *k, const file_bytes *im, const file_bytes *lb,
                          uint32_t n, uint32_t rows, uint32_t cols) {
    uint32_t top = (IMAGE_SIDE - rows) / 2, left = (IMAGE_SIDE - cols) / 2;
    memset(d->pixels, 0, (size_t)n * PLANE);
    for (uint32_t i = 0; i < n; i++) {
        int label = lb->data[8 + i];
        if (label >= k->classes)
            return isb_fail(ISB_ERR_FORMAT, "%s: item %u has label %d, but %s labels are 0..%d: the file is "
                            "corrupt; re-download it with datasets/get-%s.sh",
                            lb->path, i, label, k->name, k->classes - 1, k->script);
        d->labels[i] = label;
        const uint8_t *src = im->data + 16 + (size_t)i * rows * cols;
        for (uint32_t y = 0; y < rows; y++)
            memcpy(d->pixels + (size_t)i * PLANE + (top + y) * IMAGE_SIDE + left, src + y * cols, cols);
    }
    d->n = (int)n;
    return ISB_OK;
}

static int load_idx(isb_dataset *d, const kind_info *k, const char *dir, bool train) {
    const char *images_name = train ? "train-images-idx3-ubyte" : "t10k-images-idx3-ubyte";
    const char *labels_name = train ? "train-labels-idx1-ubyte" : "t10k-labels-idx1-ubyte";
    file_bytes im = {0}, lb = {0};
    uint32_t n_images = 0, n_labels = 0, rows = 0, cols = 0;
    int rc = ISB_OK;
    ISB_CHECK(read_dataset_file(k, dir, images_name, &im));
    ISB_CHECK(read_dataset_file(k, dir, labels_name, &lb));
    ISB_CHECK(idx_image_size(&im, &rows, &cols));
    ISB_CHECK(check_idx(k, &im, 0x803, 16, (size_t)rows * cols, &n_images));
    ISB_CHECK(check_idx(k, &lb, 0x801, 8, 1, &n_labels));
    if (n_images != n_labels)
        ISB_CHECK(isb_fail(ISB_ERR_FORMAT, "%s has the wrong size: %u labels for the %u images of %s; the two files "
                           "come from different downloads. Re-download with datasets/get-%s.sh",
                           lb.path, n_labels, n_images, im.path, k->script));
    ISB_CHECK(grow_dataset(d, (int)n_images));
    ISB_CHECK(copy_idx_items(d, k, &im, &lb, n_images, rows, cols));
done:
    free(lb.data);
    free(im.data);
    return rc;
}

/* ---- class-balanced subsets -------------------------------------------------------------------- */

typedef struct {
    uint32_t key;
    int index;
} keyed_index;

static int by_key_then_index(const void *a, const void *b) {
    const keyed_index *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Keeps, per class c, the subset/classes (+1 for c < subset % classes) images with the smallest
 * Philox keys (counter = (file index, 0, ISB_STREAM_SUBSET, 0)): a uniform choice that depends only
 * on the seed and each image's own index, kept in file order. */
/* Marks in keep[] the images of class c with the `want` smallest keys. */
static void keep_smallest_keys(const isb_dataset *d, int c, int want, uint64_t seed, keyed_index *keys, bool *keep) {
    int m = 0;
    for (int i = 0; i < d->n; i++)
        if (d->labels[i] == c) keys[m++] = (keyed_index){isb_philox(seed, (isb_u32)i, 0, ISB_STREAM_SUBSET, 0).v[0], i};
    qsort(keys, (size_t)m, sizeof *keys, by_key_then_index);
    for (int j = 0; j < want; j++) keep[keys[j].index] = true;
}

/* Moves the kept images (and labels, source indices) to the front, in file order. */
static void compact(isb_dataset *d, const bool *keep) {
    int out = 0;
    size_t image = (size_t)d->channels * PLANE;
    for (int i = 0; i < d->n; i++) {
        if (!keep[i]) continue;
        if (out != i) memmove(d->pixels + (size_t)out * image, d->pixels + (size_t)i * image, image);
        d->labels[out] = d->labels[i];
        d->source_index[out] = d->source_index[i];
        out++;
    }
    d->n = out;
}

/* Keeps, per class c, the subset/classes (+1 for c < subset % classes) images with the smallest
 * Philox keys (counter = (file index, 0, ISB_STREAM_SUBSET, 0)): a uniform choice that depends only
 * on the seed and each image's own index, kept in file order. */
static int take_subset(isb_dataset *d, int subset, uint64_t seed) {
    int classes = d->classes;
    int *class_count = calloc((size_t)classes, sizeof *class_count);
    keyed_index *keys = malloc((size_t)d->n * sizeof *keys);
    bool *keep = calloc((size_t)d->n, sizeof *keep);
    int rc = ISB_OK;
    if (!class_count || !keys || !keep) ISB_CHECK(isb_fail(ISB_ERR_MEMORY, "out of host memory choosing a subset"));
    for (int i = 0; i < d->n; i++) class_count[d->labels[i]]++;
    for (int c = 0; c < classes; c++) {
        int want = subset / classes + (c < subset % classes ? 1 : 0);
        if (want > class_count[c])
            ISB_CHECK(isb_fail(ISB_ERR_USAGE, "a class-balanced subset of %d %s images needs %d of class %d, but "
                               "the data has only %d: use a smaller subset", subset, d->name, want, c, class_count[c]));
        keep_smallest_keys(d, c, want, seed, keys, keep);
    }
    compact(d, keep);
done:
    free(keep);
    free(keys);
    free(class_count);
    return rc;
}

/* ---- the contract ------------------------------------------------------------------------------ */

void isb_dataset_free(isb_dataset *d) {
    if (!d) return;
    free(d->pixels);
    free(d->labels);
    free(d->source_index);
    d->pixels = NULL;
    d->labels = NULL;
    d->source_index = NULL;
    d->n = 0;
}

/* Every image numbered by its place in the files, before any subset is taken. */
static int number_images(isb_dataset *d) {
    d->source_index = malloc((size_t)d->n * sizeof *d->source_index);
    if (!d->source_index) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < d->n; i++) d->source_index[i] = i;
    return ISB_OK;
}

int isb_dataset_load(isb_dataset *d, const char *kind, const char *dir, bool train, int subset,
                     uint64_t subset_seed) {
    memset(d, 0, sizeof *d);
    const kind_info *k = find_kind(kind);
    if (!k) return unknown_kind(kind);
    if (subset < 0) return isb_fail(ISB_ERR_USAGE, "subset size %d is negative: use 0 for all images", subset);
    if (!dir || !*dir) dir = isb_data_dir(NULL, kind);
    snprintf(d->name, sizeof d->name, "%s", k->name);
    d->channels = k->channels;
    d->size = IMAGE_SIDE;
    d->classes = k->classes;
    for (int c = 0; c < 3; c++) {
        d->mean[c] = c < k->channels ? k->mean[c] : 0.0f;
        d->std[c] = c < k->channels ? k->std[c] : 1.0f;
    }
    const char *split = train ? "training" : "test";
    int rc = ISB_OK;
    ISB_CHECK(k->channels == 3 ? load_cifar(d, k, dir, train) : load_idx(d, k, dir, train));
    if (d->n == 0)
        ISB_CHECK(isb_fail(ISB_ERR_FORMAT, "the %s %s set in %s has no images: re-download it with "
                           "datasets/get-%s.sh", k->name, split, dir, k->script));
    ISB_CHECK(number_images(d));
    if (subset > d->n)
        ISB_CHECK(isb_fail(ISB_ERR_USAGE, "subset of %d images asked, but the %s %s set has only %d: use at most %d",
                           subset, k->name, split, d->n, d->n));
    if (subset > 0 && subset < d->n) ISB_CHECK(take_subset(d, subset, subset_seed));
done:
    if (rc < 0) isb_dataset_free(d);
    return rc;
}
