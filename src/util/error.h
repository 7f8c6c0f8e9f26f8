/* Error reporting for library code: functions return 0 on success or a negative isb_status, and
 * record a human-readable message (what went wrong and how to fix it) retrievable with
 * isb_last_error(). Library code never exits; the CLI prints the message and picks the exit code. */
#ifndef ISB_UTIL_ERROR_H
#define ISB_UTIL_ERROR_H

#include <stdarg.h>

typedef enum {
    ISB_OK = 0,
    ISB_ERR_USAGE = -1,      /* bad option or argument */
    ISB_ERR_IO = -2,         /* file missing, unreadable, truncated, not writable */
    ISB_ERR_FORMAT = -3,     /* file present but its content is wrong */
    ISB_ERR_OPENCL = -4,     /* an OpenCL call failed */
    ISB_ERR_NO_DEVICE = -5,  /* no platform, or no device matches the selector */
    ISB_ERR_BUILD = -6,      /* kernel compilation failed (message carries the build log) */
    ISB_ERR_MEMORY = -7,     /* host or device allocation failed */
    ISB_ERR_CLBLAST = -8,    /* a CLBlast routine failed */
    ISB_ERR_NUMERIC = -9,    /* NaN/Inf where a finite value is required */
    ISB_ERR_INTERRUPTED = -10, /* the user asked to stop (Ctrl-C); state was saved */
    ISB_ERR_INTERNAL = -11,
} isb_status;

/* Records the message (printf-style) and returns `status`, so callers can write
 * `return isb_fail(ISB_ERR_IO, "cannot open %s: %s", path, strerror(errno));`. */
int isb_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends context to the recorded message ("while loading X: <old message>") and returns status. */
int isb_fail_context(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *isb_last_error(void);
void isb_clear_error(void);
const char *isb_status_name(int status);

/* Propagate a failing status: `ISB_TRY(isb_do_thing(...));` */
#define ISB_TRY(expr) do { int isb_try_rc_ = (expr); if (isb_try_rc_ < 0) return isb_try_rc_; } while (0)

#endif
