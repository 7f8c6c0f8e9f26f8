/* A bounded fuzz of the readers a user's files reach: the checkpoint reader (isb_checkpoint_read),
 * everything a resume checks behind it (isb_run_checkpoint_check: run identity, training state,
 * device tensors, model and momentum) and the dataset loaders (CIFAR binary, MNIST IDX). A few
 * hundred seeded mutations each, in seconds, host only (no device), so .ci/run also runs it in the
 * ISBENCH_SANITIZE (ASan + UBSan) build, where any out-of-bounds read, overflow or leak fails it.
 * Besides "no crash" it asserts what must hold: every flipped byte and every truncation of a
 * checkpoint is refused (crc32), and a checkpoint that passes the checks satisfies the loop's
 * invariants (positions, schedule, finite tensors, variances >= 0, step counters).
 * ISB_FUZZ_FIX_CRC=1 (the ctest test_fuzz_readers_crc) re-computes the crc after every mutation,
 * so that all of them, flips, truncations and special values (NaN, Inf, -1, huge counters), reach
 * the checks behind the checksum. ISB_FUZZ_SEED=K repeats a run with another seed. */
#include "testutil.h"
#include "data/dataset.h"
#include "results/checkpoint.h"
#include "results/score_hist.h"
#include "nn/resnet18.h"
#include "train/run.h"
#include "train/train_state.h"
#include "util/error.h"
#include "util/fileio.h"
#include "util/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MUTATIONS 300

static char dir[256], ck_path[300];
static uint64_t seed;
static bool fix_crc_mode; /* ISB_FUZZ_FIX_CRC=1 */
static isb_train_config cfg;
static isb_run_identity id;
static isb_resnet18_plan plan;

/* A consistent mid-run state of the smoke preset (N 256, batch 128): one data epoch done, 300
 * samples seen in 3 steps, 44 of them since that evaluation. */
static void make_state(isb_train_state *s) {
    isb_train_state_init(s, &cfg);
    TEST_OK(isb_train_state_grow_rows(s, 1));
    s->rows[0] = (isb_metrics_row){1, 256, 2.5, isb_lr_at(&cfg, 0), 2.3, 0.1, 2.31, 0.12};
    s->lr = isb_lr_at(&cfg, 1);
    s->hist_epochs[0] = 1;
    memset(s->hist, 0, ISB_HIST_BINS * sizeof *s->hist);
    s->hist[10] = 256;
    s->n_rows = 1;
    s->samples_seen = 300, s->step = 3, s->since_eval = 44;
    s->es.evals = 1, s->es.best_acc = 0.12;
    s->zlen = id.z, s->pos = id.z / 2, s->sampler_epoch = 1;
}

/* A byte position to mutate: half of them in the first 40 KB (the table, the identity and the
 * training state, which the model's tensor data after them would otherwise outnumber). */
static size_t mutation_at(isb_rng *r, size_t len) {
    size_t span = isb_rng_below(r, 2) && len > 40000 ? 40000 : len;
    return (size_t)isb_rng_below(r, span);
}

/* Checkpoint mutations per test; more where the crc is fixed, as all of them reach the checks. */
static int checkpoint_mutations(void) { return fix_crc_mode ? 3 * MUTATIONS : MUTATIONS; }

static void load_file(char **data, size_t *len) { TEST_OK(isb_read_file(ck_path, data, len)); }

/* A plain write (no fsync: thousands of them, and nothing here needs them durable). */
static void write_path(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void write_raw(const char *data, size_t len) { write_path(ck_path, data, len); }

/* Rewrites the crc32 trailer so that a mutation reaches the parser behind the checksum. */
static void fix_crc(char *data, size_t len) {
    if (len < 16) return;
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)data, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) data[len - 4 + i] = (char)(crc >> (8 * i));
}

/* The device tensors of a run in the state s: scores [N], Z and its weights [zlen], the training
 * results since the last evaluation [since_eval]. */
static void add_device_tensors(isb_checkpoint *ck, const isb_train_state *s) {
    static float zeros[512];
    static int64_t indices[512], hits[512];
    for (int i = 0; i < 512; i++) indices[i] = i % id.n, hits[i] = i % 2;
    const struct { const char *name; int64_t n; bool is_int; } t[] = {
        {"train/scores", id.n, false}, {"train/z_indices", s->zlen, true}, {"train/z_weights", s->zlen, false},
        {"train/since_loss", s->since_eval, false}, {"train/since_correct", s->since_eval, true}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_true(t[i].n <= 512);
        TEST_OK(isb_checkpoint_add(ck, t[i].name, t[i].is_int ? ISB_DTYPE_I64 : ISB_DTYPE_F32, 1, &t[i].n,
                                   !t[i].is_int ? (const void *)zeros : i == 1 ? (const void *)indices : (const void *)hits));
    }
}

/* The model as a run saves it: PyTorch-initialised parameters and statistics, momentum, and
 * num_batches_tracked = the state's step in every BN layer. */
static void add_model_tensors(isb_checkpoint *ck, const isb_train_state *s) {
    float *params = malloc(plan.n_params * sizeof(float)), *stats = malloc(plan.n_stats * sizeof(float));
    float *mom = calloc(plan.n_params, sizeof(float));
    isb_resnet18_init(&plan, 1, params, stats);
    for (int i = 0; i < plan.n_tensors; i++) {
        const isb_rn_tensor *t = &plan.tensors[i];
        char name[96];
        TEST_OK(isb_checkpoint_add(ck, t->name, ISB_DTYPE_F32, t->ndim, t->dims, (t->is_stat ? stats : params) + t->off));
        snprintf(name, sizeof name, ISB_RN_MOMENTUM_PREFIX "%s", t->name);
        if (!t->is_stat) TEST_OK(isb_checkpoint_add(ck, name, ISB_DTYPE_F32, t->ndim, t->dims, mom + t->off));
        if (isb_resnet18_tracked_name(t, name, sizeof name))
            TEST_OK(isb_checkpoint_add(ck, name, ISB_DTYPE_I64, 0, NULL, &s->step));
    }
    free(params);
    free(stats);
    free(mom);
}

static int setup(void **state) {
    (void)state;
    const char *s = getenv("ISB_FUZZ_SEED"), *fix = getenv("ISB_FUZZ_FIX_CRC");
    seed = s ? strtoull(s, NULL, 10) : 20261202;
    fix_crc_mode = fix && strcmp(fix, "1") == 0;
    printf("# ISB_FUZZ_SEED=%llu%s\n", (unsigned long long)seed, fix_crc_mode ? " ISB_FUZZ_FIX_CRC=1" : "");
    snprintf(dir, sizeof dir, "/tmp/isb_fuzz_XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(ck_path, sizeof ck_path, "%s/checkpoint.isbc", dir);
    TEST_OK(isb_train_config_init(&cfg, "smoke", "last-loss-aug"));
    TEST_OK(isb_run_identity_make(&id, &cfg, 256, 100, isb_train_config_z(&cfg, 256)));
    isb_model_config mc = {.width = cfg.width, .in_channels = 3, .classes = 10, .image_size = 32,
                           .max_batch = cfg.batch, .momentum = cfg.momentum, .weight_decay = cfg.weight_decay};
    TEST_OK(isb_resnet18_plan_make(&plan, &mc));
    isb_train_state st;
    make_state(&st);
    isb_checkpoint ck = {0};
    TEST_OK(isb_train_state_save(&st, 2.5, &id, &ck));
    add_device_tensors(&ck, &st);
    add_model_tensors(&ck, &st);
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

/* What the loop relies on, for any checkpoint the checks accept. */
static void assert_invariants(const isb_train_state *s, const isb_checkpoint *ck) {
    assert_true(s->n_rows >= 0 && s->n_rows < id.cfg.max_epochs);
    /* up to a step past the data epoch: its evaluation may be pending after a stop */
    assert_true(s->samples_seen >= (int64_t)s->n_rows * id.n &&
                s->samples_seen < (int64_t)(s->n_rows + 1) * id.n + id.cfg.batch);
    assert_true(s->zlen >= 0 && s->zlen <= (id.z > id.n ? id.z : id.n) && (s->zlen == 0 || s->pos < s->zlen));
    assert_true(s->since_eval >= 0 && s->since_eval <= s->samples_seen);
    assert_true(s->lr == isb_lr_at(&cfg, s->n_rows));
    assert_true(s->es.bad_evals >= 0 && s->es.bad_evals < cfg.patience);
    for (int i = 0; i < s->n_rows; i++) assert_int_equal(s->rows[i].data_epoch, i + 1);
    for (int i = 0; i < ck->count; i++) {
        const isb_tensor *t = &ck->tensors[i];
        bool variance = strstr(t->name, ".running_var") != NULL;
        for (int64_t k = 0; t->dtype == ISB_DTYPE_F32 && k < isb_tensor_numel(t); k++) {
            float v = ((const float *)t->data)[k];
            if (!isfinite(v) || (variance && v < 0)) fail_msg("accepted with %s[%lld] = %g", t->name, (long long)k, v);
        }
        if (strstr(t->name, "num_batches_tracked")) assert_true(*(const int64_t *)t->data == s->step);
    }
}

/* Reads the checkpoint file and checks it as a resume does; returns whether both accepted it. */
static bool try_load(void) {
    isb_checkpoint ck;
    if (isb_checkpoint_read(&ck, ck_path) < 0) return false;
    isb_train_state s;
    isb_train_state_init(&s, &cfg);
    int rc = isb_run_checkpoint_check(&ck, &id, &plan, &s, ck_path);
    if (rc >= 0) assert_invariants(&s, &ck);
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
    int accepted = 0;
    for (int k = 0; k < checkpoint_mutations(); k++) {
        char *copy = malloc(len);
        memcpy(copy, good, len);
        size_t at = mutation_at(&r, len), cut = len;
        if (k % 3 == 2) cut = (size_t)isb_rng_below(&r, len); /* truncated */
        else copy[at] ^= (char)(1 + isb_rng_below(&r, 255));  /* one byte changed */
        if (fix_crc_mode) fix_crc(copy, cut); /* then only the checks behind the checksum refuse it */
        write_raw(copy, cut);
        free(copy);
        bool loaded = try_load();
        accepted += loaded;
        if (loaded && !fix_crc_mode) fail_msg("mutation %d (byte %zu, length %zu of %zu) was accepted", k, at, cut, len);
    }
    printf("# %d of %d flips and truncations%s were accepted (then satisfied the invariants)\n", accepted,
           checkpoint_mutations(), fix_crc_mode ? " with a re-computed crc" : "");
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
    static const float specials[] = {NAN, INFINITY, -INFINITY, -1.0f, -0.5f, 1e30f, 1e-30f, 0.5f, 100.0f, 1e38f};
    int accepted = 0;
    for (int k = 0; k < checkpoint_mutations(); k++) {
        char *copy = malloc(len);
        memcpy(copy, good, len);
        int flips = 1 + (int)isb_rng_below(&r, 3);
        for (int f = 0; f < flips; f++) {
            size_t at = mutation_at(&r, len - 4);
            if (k % 3 == 1) { /* an interesting 8-byte value at an 8-byte boundary (counters, dims, offsets) */
                at &= ~(size_t)7;
                int64_t v = interesting[isb_rng_below(&r, sizeof interesting / sizeof interesting[0])];
                if (at + 8 <= len - 4) memcpy(copy + at, &v, 8);
            } else if (k % 3 == 2) { /* a special float or double at a 4-byte boundary (tensor values, lr) */
                at &= ~(size_t)3;
                float f = specials[isb_rng_below(&r, sizeof specials / sizeof specials[0])];
                double d = f;
                if (isb_rng_below(&r, 2) && at + 8 <= len - 4) memcpy(copy + at, &d, 8);
                else memcpy(copy + at, &f, 4);
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
           checkpoint_mutations());
    write_raw(good, len);
    free(good);
}

/* ---- datasets -------------------------------------------------------------------------------------- */

static void put(const char *name, const uint8_t *data, size_t len) {
    char path[400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    write_path(path, data, len);
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
