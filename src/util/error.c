/* The last error message, per thread, grown as needed so that whole kernel build logs fit. */
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char *last_message;

static void set_message(char *msg) {
    free(last_message);
    last_message = msg;
}

static char *vformat(const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

/* The part of a __FILE__ path from the last "src/" (CMake passes absolute paths), else all of it. */
static const char *source_path(const char *file) {
    const char *tail = file;
    for (const char *s = strstr(file, "src/"); s; s = strstr(s + 1, "src/")) tail = s;
    return tail;
}

int isb_fail_at(const char *file, int line, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (msg && file) {
        const char *where = source_path(file);
        size_t n = strlen(msg) + strlen(where) + 24;
        char *located = malloc(n);
        if (located) snprintf(located, n, "%s [%s:%d]", msg, where, line);
        free(msg);
        msg = located;
    }
    set_message(msg);
    return status;
}

int isb_fail_context(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *ctx = vformat(fmt, ap);
    va_end(ap);
    const char *old = last_message ? last_message : "";
    size_t n = (ctx ? strlen(ctx) : 0) + strlen(old) + 3;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s: %s", ctx ? ctx : "", old);
    free(ctx);
    set_message(s);
    return status;
}

const char *isb_last_error(void) { return last_message ? last_message : "no error recorded"; }

void isb_clear_error(void) { set_message(NULL); }

const char *isb_status_name(int status) {
    switch (status) {
    case ISB_OK: return "ok";
    case ISB_ERR_USAGE: return "usage error";
    case ISB_ERR_IO: return "I/O error";
    case ISB_ERR_FORMAT: return "format error";
    case ISB_ERR_OPENCL: return "OpenCL error";
    case ISB_ERR_NO_DEVICE: return "no OpenCL device";
    case ISB_ERR_BUILD: return "kernel build error";
    case ISB_ERR_MEMORY: return "out of memory";
    case ISB_ERR_CLBLAST: return "CLBlast error";
    case ISB_ERR_NUMERIC: return "non-finite value";
    case ISB_ERR_INTERRUPTED: return "interrupted";
    default: return "internal error";
    }
}
