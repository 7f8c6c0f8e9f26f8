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

int isb_write_file_atomic(const char *path, const void *data, size_t len);
/* Reads a whole file into a malloc'd buffer (NUL-terminated; *len excludes the NUL). */
int isb_read_file(const char *path, char **data, size_t *len);
int isb_mkdir_p(const char *path);
bool isb_file_exists(const char *path);

#endif
