/* A bounded fuzz of the readers a user's files reach: the checkpoint reader (isb_checkpoint_read),
 * the training-state loader behind resume (isb_train_state_load) and the dataset loaders (CIFAR
 * binary, MNIST IDX). A few hundred seeded mutations each, in seconds, host only (no device), so
 * .ci/run also runs it in the ISBENCH_SANITIZE (ASan + UBSan) build, where any out-of-bounds read,
 * overflow or leak fails it. Besides "no crash" it asserts what must hold: every flipped byte and
 * every truncation of a checkpoint is refused (crc32), and a state that loads satisfies the loop's
 * invariants. ISB_FUZZ_SEED=K repeats a run with another seed. */
#include "testutil.h"
#include "data/dataset.h"
#include "results/checkpoint.h"
#include "results/score_hist.h"
#include "train/train_state.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MUTATIONS 300

static char dir[256], ck_path[300];
static uint64_t seed;
static isb_train_config cfg;
static isb_run_identity id;

/* A consistent mid-run state of the smoke preset (N 256, batch 128): one data epoch done, 300
 * samples seen in 3 steps, 44 of them since that evaluation. */
static void make_state(isb_train_state *s) {
    isb_train_state_init(s, &cfg);
    TEST_OK(isb_train_state_grow_rows(s, 1));
    s->rows[0] = (isb_metrics_row){1, 256, 2.5, 0.01, 2.3, 0.1, 2.31, 0.12};
    s->hist_epochs[0] = 1;
    memset(s->hist, 0, ISB_HIST_BINS * sizeof *s->hist);
    s->hist[10] = 256;
    s->n_rows = 1;
    s->samples_seen = 300, s->step = 3, s->since_eval = 44;
    s->es.evals = 1, s->es.best_acc = 0.12;
    s->zlen = id.z, s->pos = id.z / 2, s->sampler_epoch = 1;
}

static void load_file(char **data, size_t *len) { TEST_OK(isb_read_file(ck_path, data, len)); }

static void write_raw(const char *data, size_t len) { TEST_OK(isb_write_file_atomic(ck_path, data, len)); }

/* Rewrites the crc32 trailer so that a mutation reaches the parser behind the checksum. */
static void fix_crc(char *data, size_t len) {
    if (len < 16) return;
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)data, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) data[len - 4 + i] = (char)(crc >> (8 * i));
}

static int setup(void **state) {
    (void)state;
    const char *s = getenv("ISB_FUZZ_SEED");
    seed = s ? strtoull(s, NULL, 10) : 20261202;
    printf("# ISB_FUZZ_SEED=%llu\n", (unsigned long long)seed);
    snprintf(dir, sizeof dir, "/tmp/isb_fuzz_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(ck_path, sizeof ck_path, "%s/checkpoint.isbc", dir);
    TEST_OK(isb_train_config_init(&cfg, "smoke", "last-loss-aug"));
    TEST_OK(isb_run_identity_make(&id, &cfg, 256, 100, isb_train_config_z(&cfg, 256)));
    isb_train_state st;
    make_state(&st);
    isb_checkpoint ck = {0};
    TEST_OK(isb_train_state_save(&st, 2.5, &id, &ck));
    float scores[256] = {0};
    int64_t dims[1] = {256};
    TEST_OK(isb_checkpoint_add(&ck, "train/scores", ISB_DTYPE_F32, 1, dims, scores));
    TEST_OK(isb_checkpoint_write(&ck, ck_path));
    isb_checkpoint_free(&ck);
    isb_train_state_free(&st);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    isb_run_identity_free(&id);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* What the loop relies on, for any state the loader accepts. */
static void assert_invariants(const isb_train_state *s) {
    assert_true(s->n_rows >= 0 && s->n_rows < id.max_epochs);
    /* up to a step past the data epoch: its evaluation may be pending after a stop */
    assert_true(s->samples_seen >= (int64_t)s->n_rows * id.n &&
                s->samples_seen < (int64_t)(s->n_rows + 1) * id.n + id.batch);
    assert_true(s->zlen >= 0 && s->zlen <= (id.z > id.n ? id.z : id.n) && (s->zlen == 0 || s->pos <= s->zlen));
    assert_true(s->since_eval >= 0 && s->since_eval <= s->samples_seen);
    for (int i = 0; i < s->n_rows; i++) assert_int_equal(s->rows[i].data_epoch, i + 1);
}

/* Reads and loads the checkpoint file; returns whether both accepted it. */
static bool try_load(void) {
    isb_checkpoint ck;
    if (isb_checkpoint_read(&ck, ck_path) < 0) return false;
    isb_train_state s;
    isb_train_state_init(&s, &cfg);
    int rc = isb_train_state_load(&s, &id, &ck, ck_path);
    if (rc >= 0) assert_invariants(&s);
    isb_train_state_free(&s);
    isb_checkpoint_free(&ck);
    return rc >= 0;
}

static void the_unmutated_checkpoint_loads(void **state) {
    (void)state;
    if (!try_load()) fail_msg("%s", isb_last_error());
}

static void flipped_bytes_and_truncations_are_refused(void **state) {
    (void)state;
    char *good;
    size_t len;
    load_file(&good, &len);
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 1);
    for (int k = 0; k < MUTATIONS; k++) {
        char *copy = malloc(len);
        memcpy(copy, good, len);
        size_t at = (size_t)isb_rng_below(&r, len), cut = len;
        if (k % 3 == 2) cut = (size_t)isb_rng_below(&r, len); /* truncated */
        else copy[at] ^= (char)(1 + isb_rng_below(&r, 255));  /* one byte changed */
        write_raw(copy, cut);
        free(copy);
        if (try_load()) fail_msg("mutation %d (byte %zu, length %zu of %zu) was accepted", k, at, cut, len);
    }
    write_raw(good, len);
    free(good);
}

/* Mutations behind a valid checksum: the table parser and the state checks must hold alone. */
static void mutations_behind_a_valid_checksum_never_crash(void **state) {
    (void)state;
    char *good;
    size_t len;
    load_file(&good, &len);
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 2);
    static const int64_t interesting[] = {-1, 0, 1, 2, 255, 256, 257, 1 << 30, INT32_MAX, (int64_t)INT32_MAX + 1,
                                          INT64_MAX, INT64_MIN, -((int64_t)1 << 62)};
    int accepted = 0;
    for (int k = 0; k < MUTATIONS; k++) {
        char *copy = malloc(len);
        memcpy(copy, good, len);
        int flips = 1 + (int)isb_rng_below(&r, 3);
        for (int f = 0; f < flips; f++) {
            size_t at = (size_t)isb_rng_below(&r, len - 4);
            if (k % 2) { /* an interesting 8-byte value at an 8-byte boundary (counters, dims, offsets) */
                at &= ~(size_t)7;
                int64_t v = interesting[isb_rng_below(&r, sizeof interesting / sizeof interesting[0])];
                if (at + 8 <= len - 4) memcpy(copy + at, &v, 8);
            } else {
                copy[at] = (char)isb_rng_below(&r, 256);
            }
        }
        fix_crc(copy, len);
        write_raw(copy, len);
        free(copy);
        accepted += try_load();
    }
    printf("# %d of %d mutations behind a valid checksum still loaded (then satisfied the invariants)\n", accepted,
           MUTATIONS);
    write_raw(good, len);
    free(good);
}

/* ---- datasets -------------------------------------------------------------------------------------- */

static void put(const char *name, const uint8_t *data, size_t len) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    TEST_OK(isb_write_file_atomic(path, data, len));
}

static void try_dataset(const char *kind, bool train) {
    isb_dataset d = {0};
    if (isb_dataset_load(&d, kind, dir, train, 0, 0) >= 0) {
        for (int i = 0; i < d.n; i++) assert_true(d.labels[i] >= 0 && d.labels[i] < d.classes);
        isb_dataset_free(&d);
    }
}

static void cifar_files_never_crash(void **state) {
    (void)state;
    setenv("ISBENCH_DATA_ANY_SIZE", "1", 1); /* small files: the record-count rule is tested elsewhere */
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 3);
    size_t rec = 3073;
    uint8_t *buf = malloc(rec * 4 + 100);
    for (int k = 0; k < MUTATIONS; k++) {
        size_t len = rec * (1 + isb_rng_below(&r, 4));
        for (size_t i = 0; i < len; i += rec) buf[i] = (uint8_t)isb_rng_below(&r, 10);
        int flips = (int)isb_rng_below(&r, 3);
        for (int f = 0; f < flips; f++) buf[isb_rng_below(&r, len)] = (uint8_t)isb_rng_below(&r, 256);
        if (k % 4 == 3) len = isb_rng_below(&r, len + 50);
        put("test_batch.bin", buf, len);
        try_dataset("cifar10", false);
    }
    /* a cut inside a record is always refused */
    put("test_batch.bin", buf, rec + 7);
    isb_dataset d = {0};
    assert_int_equal(isb_dataset_load(&d, "cifar10", dir, false, 0, 0), ISB_ERR_FORMAT);
    free(buf);
}

static void be32_at(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void idx_files_never_crash(void **state) {
    (void)state;
    isb_rng r = isb_rng_make(seed, ISB_STREAM_TEST, 4);
    uint8_t images[16 + 3 * 28 * 28 + 64], labels[8 + 3 + 64];
    for (int k = 0; k < MUTATIONS; k++) {
        memset(images, 7, sizeof images);
        memset(labels, 1, sizeof labels);
        be32_at(images, 0x803), be32_at(images + 4, 3), be32_at(images + 8, 28), be32_at(images + 12, 28);
        be32_at(labels, 0x801), be32_at(labels + 4, 3);
        size_t ilen = 16 + 3 * 28 * 28, llen = 8 + 3;
        uint8_t *target = k % 2 ? images : labels;
        size_t tlen = k % 2 ? 16 : 8; /* mutate the headers: counts, sizes, magic */
        for (int f = 0; f < 2; f++) target[isb_rng_below(&r, tlen)] = (uint8_t)isb_rng_below(&r, 256);
        if (k % 5 == 4) ilen = isb_rng_below(&r, ilen + 64);
        labels[8 + isb_rng_below(&r, 3)] = (uint8_t)isb_rng_below(&r, 12);
        put("t10k-images-idx3-ubyte", images, ilen);
        put("t10k-labels-idx1-ubyte", labels, llen);
        try_dataset("mnist", false);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_unmutated_checkpoint_loads),
        cmocka_unit_test(flipped_bytes_and_truncations_are_refused),
        cmocka_unit_test(mutations_behind_a_valid_checksum_never_crash),
        cmocka_unit_test(cifar_files_never_crash),
        cmocka_unit_test(idx_files_never_crash),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
