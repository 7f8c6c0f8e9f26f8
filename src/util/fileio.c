#include "util/fileio.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void isb_strbuf_printf(isb_strbuf *b, const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n > 0) {
        if (b->len + (size_t)n + 1 > b->cap) {
            size_t cap = b->cap ? b->cap : 256;
            while (cap < b->len + (size_t)n + 1) cap *= 2;
            char *p = realloc(b->data, cap);
            if (!p) { va_end(ap); abort(); } /* out of host memory for a text buffer: nothing sane left */
            b->data = p;
            b->cap = cap;
        }
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        b->len += (size_t)n;
    }
    va_end(ap);
}

void isb_strbuf_free(isb_strbuf *b) {
    free(b->data);
    *b = (isb_strbuf){0};
}

int isb_write_file_atomic(const char *path, const void *data, size_t len) {
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return isb_fail(ISB_ERR_MEMORY, "out of host memory writing %s", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        int rc = isb_fail(ISB_ERR_IO, "cannot create %s: %s (is the directory writable?)", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int rc = isb_fail(ISB_ERR_IO, "cannot write %s: %s (disk full?)", tmp, strerror(errno));
            close(fd); unlink(tmp); free(tmp);
            return rc;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int rc = isb_fail(ISB_ERR_IO, "cannot flush %s: %s", tmp, strerror(errno));
        unlink(tmp); free(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        int rc = isb_fail(ISB_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp); free(tmp);
        return rc;
    }
    free(tmp);
    return ISB_OK;
}

int isb_read_file(const char *path, char **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return isb_fail(ISB_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    isb_strbuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.len + n + 1 > b.cap) {
            size_t cap = b.cap ? b.cap : 65536;
            while (cap < b.len + n + 1) cap *= 2;
            char *p = realloc(b.data, cap);
            if (!p) { fclose(f); isb_strbuf_free(&b); return isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", path); }
            b.data = p;
            b.cap = cap;
        }
        memcpy(b.data + b.len, chunk, n);
        b.len += n;
        b.data[b.len] = '\0';
    }
    int err = ferror(f);
    fclose(f);
    if (err) { isb_strbuf_free(&b); return isb_fail(ISB_ERR_IO, "error reading %s", path); }
    if (!b.data && !(b.data = calloc(1, 1))) return isb_fail(ISB_ERR_MEMORY, "out of host memory reading %s", path);
    *data = b.data;
    if (len) *len = b.len;
    return ISB_OK;
}

int isb_mkdir_p(const char *path) {
    char *p = strdup(path);
    if (!p) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                int rc = isb_fail(ISB_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
                free(p);
                return rc;
            }
            *s = c;
            if (c == '\0') break;
        }
    }
    free(p);
    return ISB_OK;
}

bool isb_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}
