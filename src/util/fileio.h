/* Files: atomic writes (temp file + fsync + rename, so a crash never leaves half a result),
 * whole-file reads, directory creation, and a growable string buffer for building CSV/JSON text. */
#ifndef ISB_UTIL_FILEIO_H
#define ISB_UTIL_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;  /* always NUL-terminated when non-NULL */
    size_t len, cap;
} isb_strbuf;

void isb_strbuf_printf(isb_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void isb_strbuf_free(isb_strbuf *b);

/* Temp file PATH.tmp.PID, fsync, rename: PATH is either the old or the new content, never half of
 * one; on any error (a full disk) PATH is left as it was and the temp file removed. Test hooks
 * that inject a full disk or a SIGKILL mid-write: see the top of fileio.c. */
int isb_write_file_atomic(const char *path, const void *data, size_t len);
/* Removes dir's NAME.tmp.PID files whose process is gone (left by a killed writer); returns how
 * many, or a negative status when dir cannot be listed. */
int isb_remove_stale_temp_files(const char *dir);
/* Whether a process with this id exists on this machine. */
bool isb_process_alive(long pid);
/* Reads a whole file into a malloc'd buffer (NUL-terminated; *len excludes the NUL). */
int isb_read_file(const char *path, char **data, size_t *len);
int isb_mkdir_p(const char *path);
/* out = DIR/NAME; a path that does not fit in len is an error naming it. */
int isb_path_join(char *out, size_t len, const char *dir, const char *name);
bool isb_file_exists(const char *path);
/* Whether a directory entry named path exists at all: also a dangling or looping symbolic link,
 * which isb_file_exists (stat) reports as absent. */
bool isb_entry_exists(const char *path);

#endif
