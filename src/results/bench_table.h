/* Microbenchmark results as rows: read from Google Benchmark's JSON or CSV output, or from the
 * analysis CSV that bench/run.sh writes (docs/results-format.md), and written as that analysis CSV:
 * header on the first line, one row per repetition or aggregate, the arguments N, Z, B, W in columns
 * of their own, cv as a percentage. */
#ifndef ISB_RESULTS_BENCH_TABLE_H
#define ISB_RESULTS_BENCH_TABLE_H

#include "util/fileio.h"

#include <stdbool.h>

typedef struct {
    char *name;           /* without an aggregate suffix: "sampling.cdf.host/N:50000/Z:8192" */
    char aggregate[16];   /* "" for a measured repetition, else mean, median, stddev, cv, ... */
    int repetition;       /* repetition index, -1 when the input does not say */
    long long iterations;
    double real_time, cpu_time; /* per iteration in unit; cv rows: percent */
    char unit[8];         /* ns, us, ms, s; "%" for cv */
    double items_per_second;    /* NaN when absent */
    char *label, *error_message;
    bool error;
} isb_bench_row;

typedef struct {
    isb_bench_row *rows;
    int n, cap;
} isb_bench_table;

/* Appends the rows of one file: *.json (Google Benchmark JSON) or *.csv (Google Benchmark CSV with
 * its context lines, or the analysis CSV). */
int isb_bench_table_read_file(const char *path, isb_bench_table *t);
/* Appends every *.csv and *.json of a bench/run.sh folder except context.json. */
int isb_bench_table_read_dir(const char *dir, isb_bench_table *t);
/* The analysis CSV of all rows. */
void isb_bench_table_write_csv(const isb_bench_table *t, isb_strbuf *out);
/* real_time in seconds; NaN for a row whose unit is not a time. */
double isb_bench_row_seconds(const isb_bench_row *r);
void isb_bench_table_free(isb_bench_table *t);

#endif
