/* The isbench checkpoint file (.isbc): named f32/i64 tensors in one little-endian binary file.
 * Owns building, writing (atomically), reading and validating it. Full description with a worked
 * example: docs/checkpoint-format.md; a numpy reader/writer: docs/isbc.py.
 *
 * Layout (all integers little-endian):
 *   header   "ISBC" (4 bytes), version u32 (= 1), tensor count u32
 *   table    per tensor: name length u32, name bytes (UTF-8, no NUL), dtype u32 (1 = f32, 2 = i64),
 *            ndim u32 (0..8), dims int64[ndim], data offset u64 (from the start of the file),
 *            data byte size u64 (= numel * 4 or 8)
 *   data     each tensor's elements, C order, starting at its offset (aligned to 64 bytes so that
 *            numpy/mmap readers get aligned arrays)
 *   trailer  (version 2) crc32 u32 (zlib's) of every byte before it; the file ends there.
 * The reader checks the checksum, then every field against the file size, so a truncated,
 * bit-flipped or inconsistent file is refused with a reason that names the file instead of being
 * read past its end or loaded with wrong numbers. Version 1 files (no trailer) are still read. */
#include "results/checkpoint.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ISBC_MAGIC "ISBC"
#define ISBC_VERSION 2u        /* written; version 1 (no checksum) is still read */
#define ISBC_CRC_BYTES 4
#define ISBC_MAX_DIMS 8
#define ISBC_MAX_NAME 4096
#define ISBC_ALIGN 64

static size_t dtype_size(isb_dtype d) { return d == ISB_DTYPE_I64 ? 8 : 4; }

int64_t isb_tensor_numel(const isb_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->dims[i];
    return n;
}

/* numel of dims with overflow / negativity checks: -1 when invalid. */
static int64_t checked_numel(int ndim, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0) return -1;
        if (dims[i] != 0 && n > INT64_MAX / 8 / dims[i]) return -1;
        n *= dims[i];
    }
    return n;
}

const isb_tensor *isb_checkpoint_find(const isb_checkpoint *ck, const char *name) {
    for (int i = 0; i < ck->count; i++)
        if (strcmp(ck->tensors[i].name, name) == 0) return &ck->tensors[i];
    return NULL;
}

int isb_checkpoint_add(isb_checkpoint *ck, const char *name, isb_dtype dtype, int ndim, const int64_t *dims,
                       const void *data) {
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len > ISBC_MAX_NAME)
        return isb_fail(ISB_ERR_USAGE, "checkpoint tensor name '%.40s' must have 1..%d bytes", name, ISBC_MAX_NAME);
    if (dtype != ISB_DTYPE_F32 && dtype != ISB_DTYPE_I64)
        return isb_fail(ISB_ERR_USAGE, "checkpoint tensor %s: unknown dtype %d (use ISB_DTYPE_F32 or I64)", name,
                        (int)dtype);
    if (ndim < 0 || ndim > ISBC_MAX_DIMS)
        return isb_fail(ISB_ERR_USAGE, "checkpoint tensor %s: %d dimensions, at most %d supported", name, ndim,
                        ISBC_MAX_DIMS);
    if (isb_checkpoint_find(ck, name))
        return isb_fail(ISB_ERR_USAGE, "checkpoint already holds a tensor named %s (names must be unique)", name);
    int64_t numel = checked_numel(ndim, dims);
    if (numel < 0) return isb_fail(ISB_ERR_USAGE, "checkpoint tensor %s: negative or too large dimensions", name);
    size_t bytes = (size_t)numel * dtype_size(dtype);
    isb_tensor *grown = realloc(ck->tensors, (size_t)(ck->count + 1) * sizeof *grown);
    if (!grown) return isb_fail(ISB_ERR_MEMORY, "out of host memory adding checkpoint tensor %s", name);
    ck->tensors = grown;
    isb_tensor *t = &ck->tensors[ck->count];
    memset(t, 0, sizeof *t);
    t->name = malloc(name_len + 1);
    t->data = malloc(bytes ? bytes : 1);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory adding checkpoint tensor %s (%zu bytes)", name, bytes);
    }
    memcpy(t->name, name, name_len + 1);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->dims[i] = dims[i];
    if (bytes && data) memcpy(t->data, data, bytes); /* data NULL: zeros, filled by the caller */
    else if (bytes) memset(t->data, 0, bytes);
    ck->count++;
    return ISB_OK;
}

void isb_checkpoint_free(isb_checkpoint *ck) {
    if (!ck) return;
    for (int i = 0; i < ck->count; i++) {
        free(ck->tensors[i].name);
        free(ck->tensors[i].data);
    }
    free(ck->tensors);
    ck->tensors = NULL;
    ck->count = 0;
}

/* --- little-endian encoding, independent of the host's byte order ------------------------------ */

static bool host_is_little_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}
static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}
/* Copies elements, reversing each element's bytes on a big-endian host. */
static void copy_elements_le(uint8_t *dst, const uint8_t *src, size_t bytes, size_t elem) {
    if (host_is_little_endian()) {
        memcpy(dst, src, bytes);
        return;
    }
    for (size_t i = 0; i < bytes; i += elem)
        for (size_t b = 0; b < elem; b++) dst[i + b] = src[i + elem - 1 - b];
}

/* zlib's crc32 over any length (its length argument is 32-bit). */
static uint32_t file_crc32(const uint8_t *p, size_t len) {
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < len;) {
        uInt chunk = len - done > (1u << 30) ? (1u << 30) : (uInt)(len - done);
        crc = crc32(crc, p + done, chunk);
        done += chunk;
    }
    return (uint32_t)crc;
}

static size_t align_up(size_t x) { return (x + ISBC_ALIGN - 1) / ISBC_ALIGN * ISBC_ALIGN; }

static size_t entry_size(const isb_tensor *t) { return 4 + strlen(t->name) + 4 + 4 + 8 * (size_t)t->ndim + 8 + 8; }

static size_t tensor_bytes(const isb_tensor *t) { return (size_t)isb_tensor_numel(t) * dtype_size(t->dtype); }

int isb_checkpoint_write(const isb_checkpoint *ck, const char *path) {
    size_t table_end = 12;
    for (int i = 0; i < ck->count; i++) table_end += entry_size(&ck->tensors[i]);
    size_t total = table_end;
    for (int i = 0; i < ck->count; i++) total = align_up(total) + tensor_bytes(&ck->tensors[i]);
    total += ISBC_CRC_BYTES;
    uint8_t *buf = calloc(total ? total : 1, 1);
    if (!buf) return isb_fail(ISB_ERR_MEMORY, "out of host memory writing checkpoint %s (%zu bytes)", path, total);

    memcpy(buf, ISBC_MAGIC, 4);
    put_u32(buf + 4, ISBC_VERSION);
    put_u32(buf + 8, (uint32_t)ck->count);
    uint8_t *entry = buf + 12;
    size_t data_at = table_end;
    for (int i = 0; i < ck->count; i++) {
        const isb_tensor *t = &ck->tensors[i];
        size_t name_len = strlen(t->name), bytes = tensor_bytes(t);
        data_at = align_up(data_at);
        put_u32(entry, (uint32_t)name_len);
        memcpy(entry + 4, t->name, name_len);
        entry += 4 + name_len;
        put_u32(entry, (uint32_t)t->dtype);
        put_u32(entry + 4, (uint32_t)t->ndim);
        entry += 8;
        for (int d = 0; d < t->ndim; d++, entry += 8) put_u64(entry, (uint64_t)t->dims[d]);
        put_u64(entry, data_at);
        put_u64(entry + 8, bytes);
        entry += 16;
        copy_elements_le(buf + data_at, t->data, bytes, dtype_size(t->dtype));
        data_at += bytes;
    }
    put_u32(buf + total - ISBC_CRC_BYTES, file_crc32(buf, total - ISBC_CRC_BYTES));
    int rc = isb_write_file_atomic(path, buf, total);
    free(buf);
    return rc;
}

/* --- reading ----------------------------------------------------------------------------------- */

#define CORRUPT(...) isb_fail(ISB_ERR_FORMAT, __VA_ARGS__)

/* Bounds-checked cursor over the table. */
typedef struct {
    const uint8_t *base;
    size_t len, pos;
} cursor;

static bool take(cursor *c, size_t n, const uint8_t **p) {
    if (n > c->len - c->pos) return false;
    *p = c->base + c->pos;
    c->pos += n;
    return true;
}

static int parse(isb_checkpoint *ck, const uint8_t *file, size_t len, const char *path) {
    if (len < 12)
        return CORRUPT("%s is not an isbench checkpoint: %zu bytes, shorter than the 12-byte header "
                       "(truncated or empty file?)", path, len);
    if (memcmp(file, ISBC_MAGIC, 4) != 0)
        return CORRUPT("%s is not an isbench checkpoint: wrong magic (expected \"ISBC\" at the start; "
                       "pass a .isbc file written by isbench or docs/isbc.py)", path);
    uint32_t version = get_u32(file + 4);
    if (version != 1 && version != ISBC_VERSION)
        return CORRUPT("%s: unsupported checkpoint version %u (this isbench reads versions 1..%u; "
                       "re-create the file with this isbench version)", path, version, ISBC_VERSION);
    if (version >= 2) {
        if (len < 12 + ISBC_CRC_BYTES) return CORRUPT("%s is truncated: no room for its checksum", path);
        len -= ISBC_CRC_BYTES;
        uint32_t stored = get_u32(file + len), actual = file_crc32(file, len);
        if (stored != actual)
            return CORRUPT("%s is corrupt: its crc32 is %08x but the file says %08x (a flipped byte, a "
                           "truncated copy or a half-written file); nothing was loaded", path, actual, stored);
    }
    uint32_t count = get_u32(file + 8);
    cursor c = {file, len, 12};
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *p;
        if (!take(&c, 4, &p)) return CORRUPT("%s: truncated in the table at tensor %u of %u", path, i, count);
        uint32_t name_len = get_u32(p);
        if (name_len == 0 || name_len > ISBC_MAX_NAME)
            return CORRUPT("%s: tensor %u has a name length of %u bytes (allowed 1..%d): corrupt table", path, i,
                           name_len, ISBC_MAX_NAME);
        const uint8_t *name_bytes;
        if (!take(&c, name_len, &name_bytes) || !take(&c, 8, &p))
            return CORRUPT("%s: truncated in the table at tensor %u of %u", path, i, count);
        char name[ISBC_MAX_NAME + 1];
        memcpy(name, name_bytes, name_len);
        name[name_len] = '\0';
        if (strlen(name) != name_len) return CORRUPT("%s: tensor %u has a NUL byte in its name", path, i);
        uint32_t dtype = get_u32(p), ndim = get_u32(p + 4);
        if (dtype != ISB_DTYPE_F32 && dtype != ISB_DTYPE_I64)
            return CORRUPT("%s: tensor %s has unknown dtype %u (1 = f32, 2 = i64)", path, name, dtype);
        if (ndim > ISBC_MAX_DIMS)
            return CORRUPT("%s: tensor %s has %u dimensions (at most %d)", path, name, ndim, ISBC_MAX_DIMS);
        int64_t dims[ISBC_MAX_DIMS];
        if (!take(&c, 8 * (size_t)ndim + 16, &p))
            return CORRUPT("%s: truncated in the table at tensor %s", path, name);
        for (uint32_t d = 0; d < ndim; d++) dims[d] = (int64_t)get_u64(p + 8 * d);
        uint64_t offset = get_u64(p + 8 * ndim), bytes = get_u64(p + 8 * ndim + 8);
        int64_t numel = checked_numel((int)ndim, dims);
        if (numel < 0) return CORRUPT("%s: tensor %s has negative or huge dimensions", path, name);
        if (bytes != (uint64_t)numel * dtype_size((isb_dtype)dtype))
            return CORRUPT("%s: tensor %s is inconsistent: its shape holds %lld elements of %zu bytes but the table "
                           "says %llu bytes", path, name, (long long)numel, dtype_size((isb_dtype)dtype),
                           (unsigned long long)bytes);
        if (offset > len || bytes > len - offset)
            return CORRUPT("%s: tensor %s needs bytes %llu..%llu but the file has %zu bytes (truncated file?)", path,
                           name, (unsigned long long)offset, (unsigned long long)(offset + bytes), len);
        int rc = isb_checkpoint_add(ck, name, (isb_dtype)dtype, (int)ndim, dims, NULL);
        if (rc == ISB_ERR_USAGE) return CORRUPT("%s: %s", path, isb_last_error());
        if (rc < 0) return rc;
        isb_tensor *t = &ck->tensors[ck->count - 1];
        copy_elements_le(t->data, file + offset, bytes, dtype_size(t->dtype));
    }
    return ISB_OK;
}

int isb_checkpoint_read(isb_checkpoint *ck, const char *path) {
    ck->tensors = NULL;
    ck->count = 0;
    char *file;
    size_t len;
    ISB_TRY(isb_read_file(path, &file, &len));
    int rc = parse(ck, (const uint8_t *)file, len, path);
    free(file);
    if (rc < 0) isb_checkpoint_free(ck);
    return rc;
}
