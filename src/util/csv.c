#include "util/csv.h"

#include <string.h>

int isb_csv_split(char *line, char **fields, int max) {
    int n = 0;
    char *r = line, *w = line;
    size_t len = strlen(line);
    if (len && line[len - 1] == '\r') line[len - 1] = '\0';
    while (n < max) {
        fields[n++] = w;
        int quoted = 0;
        for (;; r++) {
            if (quoted && *r == '"' && r[1] == '"') { *w++ = '"'; r++; }
            else if (*r == '"') quoted = !quoted;
            else if (*r == '\0' || (*r == ',' && !quoted)) break;
            else *w++ = *r;
        }
        int more = *r == ',';
        *w++ = '\0';
        if (!more) break;
        r++;
    }
    return n;
}

int isb_csv_column(char *const *head, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(head[i], name) == 0) return i;
    return -1;
}

void isb_csv_field(isb_strbuf *b, const char *text) {
    if (!strpbrk(text, ",\"\n\r")) {
        isb_strbuf_printf(b, "%s", text);
        return;
    }
    isb_strbuf_printf(b, "\"");
    for (const char *p = text; *p; p++) {
        if (*p == '"') isb_strbuf_printf(b, "\"");
        isb_strbuf_printf(b, "%c", *p);
    }
    isb_strbuf_printf(b, "\"");
}
