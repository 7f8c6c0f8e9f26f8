/* Reading and writing CSV fields: "quoted, fields" with "" escapes, as Google Benchmark writes names
 * and labels. */
#ifndef ISB_UTIL_CSV_H
#define ISB_UTIL_CSV_H

#include "util/fileio.h"

/* Splits one line in place into at most max fields (pointers into line); returns the count. A
 * trailing '\r' is dropped. */
int isb_csv_split(char *line, char **fields, int max);
/* Index of the column called name in a split header, or -1. */
int isb_csv_column(char *const *head, int n, const char *name);
/* Appends text as one CSV field, quoted only when it holds a comma, a quote or a line break. */
void isb_csv_field(isb_strbuf *b, const char *text);

#endif
