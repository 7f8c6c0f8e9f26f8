#include "results/bench_table.h"
#include "util/csv.h"
#include "util/error.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static isb_bench_row *add_row(isb_bench_table *t) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        isb_bench_row *r = realloc(t->rows, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        t->rows = r;
        t->cap = cap;
    }
    isb_bench_row *r = &t->rows[t->n++];
    *r = (isb_bench_row){.repetition = -1, .items_per_second = NAN};
    return r;
}

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }

static void copy_text(char *dst, size_t len, const char *src) { snprintf(dst, len, "%s", src ? src : ""); }

/* Google Benchmark names aggregates NAME_mean, NAME_median, ... in its CSV. */
static void split_aggregate_suffix(isb_bench_row *r) {
    static const char *const suffixes[] = {"_mean", "_median", "_stddev", "_cv", NULL};
    size_t len = strlen(r->name);
    for (const char *const *s = suffixes; *s; s++) {
        size_t sl = strlen(*s);
        if (len > sl && strcmp(r->name + len - sl, *s) == 0) {
            copy_text(r->aggregate, sizeof r->aggregate, *s + 1);
            r->name[len - sl] = '\0';
            return;
        }
    }
}

static double json_number(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static int row_from_json(json_t *b, isb_bench_row *r) {
    json_t *run_name = json_object_get(b, "run_name");
    r->name = dup_or_empty(json_string_value(run_name ? run_name : json_object_get(b, "name")));
    const char *run_type = json_string_value(json_object_get(b, "run_type"));
    if (run_type && strcmp(run_type, "aggregate") == 0)
        copy_text(r->aggregate, sizeof r->aggregate, json_string_value(json_object_get(b, "aggregate_name")));
    else if (!run_name)
        split_aggregate_suffix(r);
    json_t *rep = json_object_get(b, "repetition_index");
    if (json_is_integer(rep)) r->repetition = (int)json_integer_value(rep);
    r->iterations = (long long)json_number(b, "iterations");
    r->real_time = json_number(b, "real_time");
    r->cpu_time = json_number(b, "cpu_time");
    copy_text(r->unit, sizeof r->unit, json_string_value(json_object_get(b, "time_unit")));
    const char *agg_unit = json_string_value(json_object_get(b, "aggregate_unit"));
    r->items_per_second = json_number(b, "items_per_second");
    if (agg_unit && strcmp(agg_unit, "percentage") == 0) { /* fractions in the JSON */
        r->real_time *= 100;
        r->cpu_time *= 100;
        r->items_per_second *= 100;
        copy_text(r->unit, sizeof r->unit, "%");
    }
    r->label = dup_or_empty(json_string_value(json_object_get(b, "label")));
    r->error_message = dup_or_empty(json_string_value(json_object_get(b, "error_message")));
    r->error = json_is_true(json_object_get(b, "error_occurred"));
    return r->name && r->label && r->error_message ? 0 : isb_fail(ISB_ERR_MEMORY, "out of host memory");
}

/* Google Benchmark writes a statistic it cannot compute (the cv of a counter that is always 0) as a
 * bare NaN, -nan or inf, which is not JSON: a copy of `text` with such tokens outside strings as
 * null (no value). NULL when out of memory. */
static char *null_non_finite_tokens(const char *text, size_t len) {
    static const char *const tokens[] = {"-Infinity", "Infinity", "-nan", "-NaN", "-inf", "nan", "NaN", "inf"};
    char *out = malloc(2 * len + 1), *o = out; /* "nan" -> "null" grows by one per 3 bytes at most */
    if (!out) return NULL;
    bool in_string = false;
    for (const char *c = text; *c;) {
        size_t k = 0, n = 0;
        if (!in_string)
            for (; k < sizeof tokens / sizeof tokens[0]; k++)
                if (strncmp(c, tokens[k], n = strlen(tokens[k])) == 0) break;
        if (!in_string && k < sizeof tokens / sizeof tokens[0]) {
            memcpy(o, "null", 4), o += 4, c += n;
            continue;
        }
        if (in_string && *c == '\\' && c[1]) *o++ = *c++;
        else if (*c == '"') in_string = !in_string;
        *o++ = *c++;
    }
    *o = '\0';
    return out;
}

static int read_json(const char *path, isb_bench_table *t) {
    char *text = NULL;
    size_t len = 0;
    ISB_TRY(isb_read_file(path, &text, &len));
    char *json = null_non_finite_tokens(text, len);
    free(text);
    if (!json) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    json_error_t err;
    json_t *root = json_loads(json, 0, &err);
    free(json);
    if (!root) return isb_fail(ISB_ERR_FORMAT, "%s:%d: not JSON (%s)", path, err.line, err.text);
    json_t *list = json_object_get(root, "benchmarks"), *b;
    size_t i;
    int rc = ISB_OK;
    if (!json_is_array(list)) rc = isb_fail(ISB_ERR_FORMAT, "%s: no \"benchmarks\" array (not Google Benchmark JSON)", path);
    json_array_foreach(list, i, b) {
        isb_bench_row *r = add_row(t);
        ISB_CHECK(r ? row_from_json(b, r) : isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    }
done:
    json_decref(root);
    return rc;
}

/* Columns of a CSV header that the rows need; optional ones are -1 when absent. */
typedef struct {
    int name, aggregate, repetition, iterations, real_time, cpu_time, unit, items, label, error, message, n;
} csv_columns;

static int find_columns(char **head, int n, const char *path, csv_columns *c) {
    *c = (csv_columns){.name = isb_csv_column(head, n, "name"), .aggregate = isb_csv_column(head, n, "aggregate"),
                       .repetition = isb_csv_column(head, n, "repetition"),
                       .iterations = isb_csv_column(head, n, "iterations"),
                       .real_time = isb_csv_column(head, n, "real_time"), .cpu_time = isb_csv_column(head, n, "cpu_time"),
                       .unit = isb_csv_column(head, n, "time_unit"), .items = isb_csv_column(head, n, "items_per_second"),
                       .label = isb_csv_column(head, n, "label"), .error = isb_csv_column(head, n, "error_occurred"),
                       .message = isb_csv_column(head, n, "error_message"), .n = n};
    if (c->name < 0 || c->real_time < 0 || c->unit < 0 || c->error < 0)
        return isb_fail(ISB_ERR_FORMAT, "%s: the header lacks name, real_time, time_unit or error_occurred (see docs/results-format.md)", path);
    return ISB_OK;
}

static const char *field(char **f, int nf, int col) { return col >= 0 && col < nf ? f[col] : ""; }

static double number_or_nan(const char *s) {
    char *end;
    double v = strtod(s, &end);
    return *s && !*end ? v : NAN;
}

static int row_from_csv(char **f, int nf, const csv_columns *c, isb_bench_row *r) {
    r->name = strdup(field(f, nf, c->name));
    copy_text(r->aggregate, sizeof r->aggregate, field(f, nf, c->aggregate));
    if (c->aggregate < 0 && r->name) split_aggregate_suffix(r);
    if (*field(f, nf, c->repetition)) r->repetition = atoi(field(f, nf, c->repetition));
    r->iterations = atoll(field(f, nf, c->iterations));
    r->real_time = number_or_nan(field(f, nf, c->real_time));
    r->cpu_time = number_or_nan(field(f, nf, c->cpu_time));
    copy_text(r->unit, sizeof r->unit, field(f, nf, c->unit));
    r->items_per_second = number_or_nan(field(f, nf, c->items));
    r->label = strdup(field(f, nf, c->label));
    r->error_message = strdup(field(f, nf, c->message));
    r->error = strcmp(field(f, nf, c->error), "true") == 0;
    return r->name && r->label && r->error_message ? 0 : isb_fail(ISB_ERR_MEMORY, "out of host memory");
}

/* Google Benchmark writes its context lines before the header: rows start after "name,...". */
static int read_csv(const char *path, isb_bench_table *t) {
    char *text = NULL, *save = NULL, *f[64];
    size_t len;
    csv_columns cols = {.n = 0};
    int rc = ISB_OK;
    ISB_CHECK(isb_read_file(path, &text, &len));
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int nf = isb_csv_split(line, f, 64);
        if (cols.n == 0) {
            if (strcmp(f[0], "name") == 0) ISB_CHECK(find_columns(f, nf, path, &cols));
            continue;
        }
        if (nf == 1 && !*f[0]) continue;
        isb_bench_row *r = add_row(t);
        ISB_CHECK(r ? row_from_csv(f, nf, &cols, r) : isb_fail(ISB_ERR_MEMORY, "out of host memory"));
    }
    if (cols.n == 0) rc = isb_fail(ISB_ERR_FORMAT, "%s: no header line starting with 'name,' (not benchmark CSV)", path);
done:
    free(text);
    return rc;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int isb_bench_table_read_file(const char *path, isb_bench_table *t) {
    if (ends_with(path, ".json")) return read_json(path, t);
    return read_csv(path, t);
}

int isb_bench_table_read_dir(const char *dir, isb_bench_table *t) {
    DIR *d = opendir(dir);
    if (!d) return isb_fail(ISB_ERR_IO, "cannot open benchmark folder %s", dir);
    int rc = ISB_OK, files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (n[0] == '.' || strcmp(n, "context.json") == 0 || !(ends_with(n, ".csv") || ends_with(n, ".json"))) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, n);
        ISB_CHECK(isb_bench_table_read_file(path, t));
        files++;
    }
    if (files == 0) rc = isb_fail(ISB_ERR_IO, "%s holds no benchmark *.csv or *.json files (bench/run.sh writes them)", dir);
done:
    closedir(d);
    return rc;
}

double isb_bench_row_seconds(const isb_bench_row *r) {
    static const struct { const char *unit; double scale; } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(r->unit, units[i].unit) == 0) return r->real_time * units[i].scale;
    return NAN;
}

/* Writes the value of argument ARG ("N:50000" in the name), or of W from a "w16" method. */
static void arg_field(isb_strbuf *out, const char *name, const char *arg) {
    char key[8];
    snprintf(key, sizeof key, "/%s:", arg);
    const char *p = strstr(name, key);
    if (p) {
        isb_strbuf_printf(out, "%lld", atoll(p + strlen(key)));
    } else if (strcmp(arg, "W") == 0 && (p = strstr(name, ".w")) && p[2] >= '0' && p[2] <= '9') {
        isb_strbuf_printf(out, "%lld", atoll(p + 2));
    }
    isb_strbuf_printf(out, ",");
}

/* family,method,where of "<family>.<method>.<where>/args" (method may hold dots). */
static void name_fields(isb_strbuf *out, const char *name) {
    size_t base = strcspn(name, "/");
    const char *first = memchr(name, '.', base), *last = first;
    for (const char *p = first; p && p < name + base; p = memchr(p + 1, '.', (size_t)(name + base - p - 1))) last = p;
    if (!first || last == first) { isb_strbuf_printf(out, ",,,"); return; }
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s", (int)(first - name), name);
    isb_csv_field(out, buf);
    snprintf(buf, sizeof buf, ",%.*s,", (int)(last - first - 1), first + 1);
    isb_strbuf_printf(out, "%s", buf);
    snprintf(buf, sizeof buf, "%.*s", (int)(name + base - last - 1), last + 1);
    isb_csv_field(out, buf);
    isb_strbuf_printf(out, ",");
}

void isb_bench_table_write_csv(const isb_bench_table *t, isb_strbuf *out) {
    isb_strbuf_printf(out, "name,family,method,where,N,Z,B,W,aggregate,repetition,iterations,real_time,cpu_time,"
                           "time_unit,items_per_second,label,error_occurred,error_message\n");
    for (int i = 0; i < t->n; i++) {
        const isb_bench_row *r = &t->rows[i];
        isb_csv_field(out, r->name);
        isb_strbuf_printf(out, ",");
        name_fields(out, r->name);
        for (const char *const *a = (const char *const[]){"N", "Z", "B", "W", NULL}; *a; a++) arg_field(out, r->name, *a);
        isb_strbuf_printf(out, "%s,", r->aggregate);
        if (r->repetition >= 0) isb_strbuf_printf(out, "%d", r->repetition);
        isb_strbuf_printf(out, ",%lld,%.9g,%.9g,%s,", r->iterations, r->real_time, r->cpu_time, r->unit);
        if (!isnan(r->items_per_second)) isb_strbuf_printf(out, "%.9g", r->items_per_second);
        isb_strbuf_printf(out, ",");
        isb_csv_field(out, r->label);
        isb_strbuf_printf(out, ",%s,", r->error ? "true" : "false");
        isb_csv_field(out, r->error_message);
        isb_strbuf_printf(out, "\n");
    }
}

void isb_bench_table_free(isb_bench_table *t) {
    for (int i = 0; i < t->n; i++) {
        free(t->rows[i].name);
        free(t->rows[i].label);
        free(t->rows[i].error_message);
    }
    free(t->rows);
    *t = (isb_bench_table){0};
}
