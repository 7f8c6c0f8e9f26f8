/* Error reporting for library code: functions return 0 on success or a negative isb_status, and
 * record a human-readable message (what went wrong and how to fix it) retrievable with
 * isb_last_error(). Library code never exits; the CLI prints the message and picks the exit code.
 *
 * The one error idiom of src/:
 *   - a function that owns nothing returns at the first failure: `ISB_TRY(step());`
 *   - a function that owns resources initialises every handle to NULL/0 first, jumps to ONE
 *     `done:` label on failure (`ISB_CHECK(step());`) and releases there in reverse order of
 *     acquisition, on success and failure alike (the OpenCL SDK samples' pattern).
 * In a debug build (NDEBUG not defined) isb_fail appends the file:line that raised the error. */
#ifndef ISB_UTIL_ERROR_H
#define ISB_UTIL_ERROR_H

#include <stdarg.h>
#include <stddef.h>

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
 * `return isb_fail(ISB_ERR_IO, "cannot open %s: %s", path, strerror(errno));`. `file` NULL: no
 * location; else " [file:line]" is appended (isb_fail passes it in debug builds only). */
int isb_fail_at(const char *file, int line, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#ifdef NDEBUG
#define isb_fail(status, ...) isb_fail_at(NULL, 0, (status), __VA_ARGS__)
#else
#define isb_fail(status, ...) isb_fail_at(__FILE__, __LINE__, (status), __VA_ARGS__)
#endif
/* Prepends context to the recorded message ("while loading X: <old message>") and returns status. */
int isb_fail_context(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *isb_last_error(void);
void isb_clear_error(void);
const char *isb_status_name(int status);

/* Propagate a failing status: `ISB_TRY(isb_do_thing(...));` (functions that own nothing). */
#define ISB_TRY(expr) do { int isb_try_rc_ = (expr); if (isb_try_rc_ < 0) return isb_try_rc_; } while (0)
/* In a function with an `int rc` and a `done:` cleanup label: `ISB_CHECK(isb_do_thing(...));`
 * stores the status in rc and jumps to done on failure. */
#define ISB_CHECK(expr) do { rc = (expr); if (rc < 0) goto done; } while (0)

#endif
