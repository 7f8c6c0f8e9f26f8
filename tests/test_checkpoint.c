/* The checkpoint file format (src/results/checkpoint.c): round trip of every dtype and shape, and
 * refusal of a wrong checksum, wrong magic, wrong version, truncation at every length and
 * inconsistent tables, each with a message that names the file and the reason; version 1 files
 * (no checksum) are still read. Host only. */
#include "testutil.h"
#include "results/checkpoint.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[64];

static void tmp_path(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

/* Three tensors: a 2-D f32, a 1-D i64 and a 0-D scalar. */
static void make_sample(isb_checkpoint *ck) {
    float w[2 * 3];
    for (int i = 0; i < 6; i++) w[i] = 0.5f * (float)i - 1.25f;
    int64_t labels[4] = {3, -1, 1LL << 40, 0};
    float scalar = 42.0f;
    TEST_OK(isb_checkpoint_add(ck, "layer1.0.conv1.weight", ISB_DTYPE_F32, 2, (int64_t[]){2, 3}, w));
    TEST_OK(isb_checkpoint_add(ck, "labels", ISB_DTYPE_I64, 1, (int64_t[]){4}, labels));
    TEST_OK(isb_checkpoint_add(ck, "loss", ISB_DTYPE_F32, 0, NULL, &scalar));
}

/* Recomputes the crc32 trailer after an edit, so that the edit reaches the table checks. */
static void reseal(uint8_t *b, size_t len) {
    uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(len - 4));
    for (int i = 0; i < 4; i++) b[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

static void expect_refused(const char *path, const char *reason);

static void write_sample(const char *path, uint8_t **bytes, size_t *len) {
    isb_checkpoint ck = {0};
    make_sample(&ck);
    TEST_OK(isb_checkpoint_write(&ck, path));
    isb_checkpoint_free(&ck);
    char *data;
    TEST_OK(isb_read_file(path, &data, len));
    *bytes = (uint8_t *)data;
}

static void round_trip_keeps_everything(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "rt.isbc");
    isb_checkpoint want = {0}, got = {0};
    make_sample(&want);
    TEST_OK(isb_checkpoint_write(&want, path));
    TEST_OK(isb_checkpoint_read(&got, path));
    assert_int_equal(got.count, want.count);
    for (int i = 0; i < want.count; i++) {
        const isb_tensor *a = &want.tensors[i], *b = isb_checkpoint_find(&got, a->name);
        assert_non_null(b);
        assert_int_equal(a->dtype, b->dtype);
        assert_int_equal(a->ndim, b->ndim);
        for (int d = 0; d < a->ndim; d++) assert_int_equal(a->dims[d], b->dims[d]);
        size_t bytes = (size_t)isb_tensor_numel(a) * (a->dtype == ISB_DTYPE_I64 ? 8 : 4);
        assert_memory_equal(a->data, b->data, bytes);
    }
    assert_int_equal(isb_tensor_numel(isb_checkpoint_find(&got, "loss")), 1);
    assert_null(isb_checkpoint_find(&got, "no.such.tensor"));
    isb_checkpoint_free(&want);
    isb_checkpoint_free(&got);
    isb_checkpoint_free(&got); /* freeing twice is harmless */
}

static void file_is_little_endian_and_documented(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "layout.isbc");
    uint8_t *b;
    size_t len;
    write_sample(path, &b, &len);
    /* header: magic, version 2, 3 tensors; first entry: name length 21 + name, dtype 1, ndim 2, dims 2, 3 */
    assert_memory_equal(b, "ISBC", 4);
    assert_int_equal(b[4] | b[5] << 8, 2);
    assert_int_equal(b[8], 3);
    assert_int_equal(b[12], 21);
    assert_memory_equal(b + 16, "layer1.0.conv1.weight", 21);
    assert_int_equal(b[37], 1);
    assert_int_equal(b[41], 2);
    assert_int_equal(b[45], 2);
    assert_int_equal(b[53], 3);
    uint64_t off = 0;
    for (int i = 7; i >= 0; i--) off = off << 8 | b[61 + i];
    assert_int_equal(off % 64, 0);
    float first;
    memcpy(&first, b + off, 4); /* the test host is little-endian (x86/ARM) */
    assert_true(first == -1.25f);
    /* trailer: crc32 of everything before it */
    uint32_t crc = (uint32_t)b[len - 4] | (uint32_t)b[len - 3] << 8 | (uint32_t)b[len - 2] << 16 |
                   (uint32_t)b[len - 1] << 24;
    assert_int_equal(crc, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
    free(b);
}

static void flipped_byte_refused_and_version_1_still_read(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "crc.isbc");
    uint8_t *b;
    size_t len;
    write_sample(path, &b, &len);
    for (size_t at = 0; at < len; at += 7) { /* every 7th byte, data included */
        b[at] ^= 0x10;
        TEST_OK(isb_write_file_atomic(path, b, len));
        expect_refused(path, at < 4 ? "magic" : at < 8 ? "version" : "corrupt");
        b[at] ^= 0x10;
    }
    b[4] = 1; /* version 1: no trailer, no checksum */
    TEST_OK(isb_write_file_atomic(path, b, len - 4));
    isb_checkpoint ck = {0};
    TEST_OK(isb_checkpoint_read(&ck, path));
    assert_int_equal(ck.count, 3);
    isb_checkpoint_free(&ck);
    free(b);
}

static void expect_refused(const char *path, const char *reason) {
    isb_checkpoint ck = {0};
    int rc = isb_checkpoint_read(&ck, path);
    if (rc != ISB_ERR_FORMAT) fail_msg("reading %s: expected ISB_ERR_FORMAT, got %d (%s)", path, rc, isb_last_error());
    const char *msg = isb_last_error();
    if (!strstr(msg, path) || !strstr(msg, reason))
        fail_msg("message for %s should name the file and say '%s', got: %s", path, reason, msg);
    assert_int_equal(ck.count, 0);
    assert_null(ck.tensors);
}

static void wrong_magic_and_version_refused(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "bad.isbc");
    uint8_t *b;
    size_t len;
    write_sample(path, &b, &len);
    b[0] = 'X';
    TEST_OK(isb_write_file_atomic(path, b, len));
    expect_refused(path, "wrong magic");
    b[0] = 'I';
    b[4] = 7;
    TEST_OK(isb_write_file_atomic(path, b, len));
    expect_refused(path, "version 7");
    free(b);
}

static void every_truncation_refused(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "trunc.isbc");
    uint8_t *b;
    size_t len;
    write_sample(path, &b, &len);
    /* every prefix shorter than the whole file must be refused, none may be read past its end */
    for (size_t cut = 0; cut < len; cut++) {
        TEST_OK(isb_write_file_atomic(path, b, cut));
        isb_checkpoint ck = {0};
        int rc = isb_checkpoint_read(&ck, path);
        if (rc != ISB_ERR_FORMAT) fail_msg("file cut to %zu of %zu bytes was accepted (rc %d)", cut, len, rc);
        if (!strstr(isb_last_error(), path)) fail_msg("message does not name the file: %s", isb_last_error());
    }
    TEST_OK(isb_write_file_atomic(path, b, len / 2));
    expect_refused(path, "truncated");
    free(b);
}

static void inconsistent_table_refused(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "inconsistent.isbc");
    uint8_t *b;
    size_t len;
    write_sample(path, &b, &len);
    b[69]++; /* byte size of the first tensor (2x3 f32 = 24) no longer matches its shape */
    reseal(b, len);
    TEST_OK(isb_write_file_atomic(path, b, len));
    expect_refused(path, "inconsistent");
    b[69]--;
    b[37] = 9; /* unknown dtype */
    reseal(b, len);
    TEST_OK(isb_write_file_atomic(path, b, len));
    expect_refused(path, "dtype");
    free(b);
}

/* Random corruption of the header and table must give a clean result or a clean refusal, never a
 * read out of bounds (the sanitizer build turns any into a failure). */
static void corrupted_tables_never_crash(void **state) {
    (void)state;
    char path[128];
    tmp_path(path, sizeof path, "fuzz.isbc");
    uint8_t *b;
    size_t len;
    write_sample(path, &b, &len);
    uint8_t *copy = malloc(len);
    uint64_t x = 12345;
    int refused = 0;
    for (int trial = 0; trial < 300; trial++) {
        memcpy(copy, b, len);
        for (int flips = 0; flips < 3; flips++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            copy[(x >> 33) % 120] ^= (uint8_t)(1u << ((x >> 20) & 7)); /* header + table: first 120 bytes */
        }
        if (trial % 2) reseal(copy, len); /* half behind a valid checksum: the table checks alone */
        TEST_OK(isb_write_file_atomic(path, copy, len));
        isb_checkpoint ck = {0};
        int rc = isb_checkpoint_read(&ck, path);
        if (rc != ISB_OK && rc != ISB_ERR_FORMAT) fail_msg("trial %d: unexpected status %d", trial, rc);
        refused += rc == ISB_ERR_FORMAT;
        isb_checkpoint_free(&ck);
    }
    assert_true(refused > 150); /* most flips hit a checked field */
    free(copy);
    free(b);
}

static void missing_file_and_bad_add(void **state) {
    (void)state;
    isb_checkpoint ck = {0};
    assert_int_equal(isb_checkpoint_read(&ck, "/nonexistent/dir/x.isbc"), ISB_ERR_IO);
    assert_non_null(strstr(isb_last_error(), "/nonexistent/dir/x.isbc"));
    float x = 1;
    TEST_OK(isb_checkpoint_add(&ck, "a", ISB_DTYPE_F32, 1, (int64_t[]){1}, &x));
    assert_int_equal(isb_checkpoint_add(&ck, "a", ISB_DTYPE_F32, 1, (int64_t[]){1}, &x), ISB_ERR_USAGE);
    assert_non_null(strstr(isb_last_error(), "already"));
    assert_int_equal(isb_checkpoint_add(&ck, "b", ISB_DTYPE_F32, 1, (int64_t[]){-2}, &x), ISB_ERR_USAGE);
    assert_int_equal(ck.count, 1);
    isb_checkpoint_free(&ck);
}

static int setup(void **state) {
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/isbench-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    const char *names[] = {"rt.isbc", "layout.isbc", "bad.isbc", "trunc.isbc", "inconsistent.isbc",
                           "fuzz.isbc", "crc.isbc"};
    char path[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tmp_path(path, sizeof path, names[i]);
        unlink(path);
    }
    rmdir(tmpdir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_everything),
        cmocka_unit_test(file_is_little_endian_and_documented),
        cmocka_unit_test(flipped_byte_refused_and_version_1_still_read),
        cmocka_unit_test(wrong_magic_and_version_refused),
        cmocka_unit_test(every_truncation_refused),
        cmocka_unit_test(inconsistent_table_refused),
        cmocka_unit_test(corrupted_tables_never_crash),
        cmocka_unit_test(missing_file_and_bad_add),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
