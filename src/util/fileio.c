#include "util/fileio.h"
#include "util/env.h"
#include "util/error.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
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

/* ---- fault injection for the tests (docs/checkpoint-format.md, "Fault tests") ---------------
 * ISBENCH_FAULT_WRITE_FAIL=K   the K-th and every later atomic write of this process fails with
 *                              ENOSPC after half of its temporary file is written (a full disk);
 * ISBENCH_FAULT_KILL_IN_WRITE=K   SIGKILL in the middle of the K-th atomic write;
 * ISBENCH_FAULT_KILL_AFTER_WRITE=K   SIGKILL right after the K-th atomic write is renamed into place.
 * Unset (the normal case) they cost one getenv per write. */
static long fault_setting(isb_env_var var) {
    const char *v = isb_env(var);
    return v && *v ? strtol(v, NULL, 10) : 0;
}

static long atomic_writes; /* atomic writes begun by this process */

static int write_span(int fd, const char *p, size_t left) {
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return -1;
        p += w;
        left -= (size_t)w;
    }
    return 0;
}

/* Writes the first half, lets an injected fault strike, then the second half. */
static int write_all(int fd, const char *p, size_t len, long write_no) {
    size_t half = len / 2;
    if (write_span(fd, p, half) != 0) return -1;
    if (fault_setting(ISB_ENV_FAULT_KILL_IN_WRITE) == write_no) raise(SIGKILL);
    long fail_from = fault_setting(ISB_ENV_FAULT_WRITE_FAIL);
    if (fail_from > 0 && write_no >= fail_from) {
        errno = ENOSPC;
        return -1;
    }
    return write_span(fd, p + half, len - half);
}

int isb_write_file_atomic(const char *path, const void *data, size_t len) {
    long write_no = ++atomic_writes;
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp) return isb_fail(ISB_ERR_MEMORY, "out of host memory writing %s", path);
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int rc = ISB_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        rc = isb_fail(ISB_ERR_IO, "cannot create %s: %s (is the directory writable?)", tmp, strerror(errno));
        goto done;
    }
    if (write_all(fd, data, len, write_no) != 0) {
        rc = isb_fail(ISB_ERR_IO, "cannot write %s: %s (disk full?); %s was left as it was", tmp, strerror(errno),
                      path);
        close(fd);
        goto remove_tmp;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        rc = isb_fail(ISB_ERR_IO, "cannot flush %s: %s (disk full?); %s was left as it was", tmp, strerror(errno),
                      path);
        goto remove_tmp;
    }
    if (rename(tmp, path) != 0) {
        rc = isb_fail(ISB_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto remove_tmp;
    }
    if (fault_setting(ISB_ENV_FAULT_KILL_AFTER_WRITE) == write_no) raise(SIGKILL);
    goto done;
remove_tmp:
    unlink(tmp);
done:
    free(tmp);
    return rc;
}

/* "NAME.tmp.PID" -> PID, or 0 when the name is not a temporary file of isb_write_file_atomic. */
static long temp_file_pid(const char *name) {
    const char *t = strstr(name, ".tmp.");
    while (t && strstr(t + 1, ".tmp.")) t = strstr(t + 1, ".tmp.");
    if (!t || t == name || !t[5]) return 0;
    char *end;
    long pid = strtol(t + 5, &end, 10);
    return *end == '\0' && pid > 0 ? pid : 0;
}

int isb_remove_stale_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return isb_fail(ISB_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long pid = temp_file_pid(e->d_name);
        if (pid == 0 || pid == (long)getpid() || isb_process_alive(pid)) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}

bool isb_process_alive(long pid) {
    if (pid <= 0) return false;
    return kill((pid_t)pid, 0) == 0 || errno == EPERM; /* EPERM: alive, another user's */
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

bool isb_entry_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

int isb_path_join(char *out, size_t len, const char *dir, const char *name) {
    int n = snprintf(out, len, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= len) return isb_fail(ISB_ERR_USAGE, "path too long: %s/%s", dir, name);
    return ISB_OK;
}
