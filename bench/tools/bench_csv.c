/* isbench-bench-csv: Google Benchmark JSON (--benchmark_out_format=json) -> the analysis CSV of
 * docs/results-format.md (header on the first line, one row per repetition or aggregate, N, Z, B,
 * W in columns, cv in percent). bench/run.sh writes every <family>.csv through it: Google
 * Benchmark's own CSV puts context lines before the header and reports cv in the time unit. */
#include "results/bench_table.h"
#include "util/error.h"
#include "util/fileio.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--help") == 0) {
        fprintf(argc == 2 ? stdout : stderr, "usage: isbench-bench-csv IN.json OUT.csv   (OUT written atomically)\n");
        return argc == 2 ? 0 : 2;
    }
    isb_bench_table t = {0};
    isb_strbuf out = {0};
    int rc = isb_bench_table_read_file(argv[1], &t);
    if (rc == ISB_OK) {
        isb_bench_table_write_csv(&t, &out);
        rc = isb_write_file_atomic(argv[2], out.data, out.len);
    }
    if (rc < 0) fprintf(stderr, "isbench-bench-csv: error: %s\n", isb_last_error());
    isb_strbuf_free(&out);
    isb_bench_table_free(&t);
    return rc < 0 ? 1 : 0;
}
