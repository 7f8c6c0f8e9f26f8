/* A C interface to Google Benchmark (1.7.1, Debian's libbenchmark-dev): every benchmark body in
 * bench/ is C; the one C++ file bench/gbench_adapter.cc maps this header onto benchmark::State and
 * friends. Pattern after IREE's iree/testing/benchmark.h.
 *
 * A benchmark body:
 *
 *     static void bm_thing(isb_bench_state *st, void *user) {
 *         int64_t n = isb_bench_arg(st, 0);              // the N of "family.method.where/N:50000"
 *         ... set up, check correctness (isb_bench_skip_with_error + return on failure) ...
 *         while (isb_bench_keep_running(st)) {
 *             double t0 = isb_now();                       // device-timed (manual_time = true):
 *             enqueue(...); clFinish(queue);               //   host clock around clFinish
 *             isb_bench_set_iteration_time(st, isb_now() - t0);
 *         }
 *         isb_bench_set_items_processed(st, isb_bench_iterations(st) * n);
 *     }
 *
 * and its registration (name and args are copied, `user` must outlive isb_bench_run):
 *
 *     static const char *const names[] = {"N", "Z", NULL};
 *     static const int64_t args[] = {50000, 8192,   1000000, 8192};   // two arg vectors
 *     isb_bench_register(&(isb_bench_def){.name = "sampling.alias.device", .fn = bm_thing,
 *                        .arg_names = names, .args = args, .arg_sets = 2, .manual_time = true,
 *                        .unit = ISB_BENCH_US});
 *
 * Program flow: isb_bench_initialize(&argc, argv) (consumes --benchmark_* flags), isb_bench_register
 * and isb_bench_add_context as needed, isb_bench_run(), isb_bench_shutdown(). */
#ifndef ISB_BENCH_GBENCH_H
#define ISB_BENCH_GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct isb_bench_state isb_bench_state; /* opaque: a benchmark::State */
typedef void (*isb_bench_fn)(isb_bench_state *state, void *user);

typedef enum { ISB_BENCH_NS = 0, ISB_BENCH_US = 1, ISB_BENCH_MS = 2, ISB_BENCH_S = 3 } isb_bench_unit;

/* Counter flags (benchmark::Counter::Flags); combine with |. */
enum {
    ISB_COUNTER_DEFAULT = 0,
    ISB_COUNTER_RATE = 1 << 0,                /* value / elapsed seconds (per-second rate) */
    ISB_COUNTER_AVG_ITERATIONS = 1 << 1,      /* value / iterations */
    ISB_COUNTER_ITERATION_INVARIANT = 1 << 2, /* value * iterations */
    ISB_COUNTER_INVERT = 1 << 3,              /* 1 / value (e.g. seconds per item from a rate) */
    ISB_COUNTER_BASE_1024 = 1 << 4,           /* k/M/G prefixes in powers of 1024 (bytes) */
};

typedef struct {
    const char *name;             /* "<family>.<method>.<where>" (docs/results-format.md) */
    isb_bench_fn fn;
    void *user;                   /* passed to fn; must outlive isb_bench_run */
    isb_bench_unit unit;          /* time unit of the reports (default ns) */
    bool manual_time;             /* fn reports each iteration's time (isb_bench_set_iteration_time) */
    const char *const *arg_names; /* NULL-terminated list of argument names, or NULL for no args */
    const int64_t *args;          /* arg_sets vectors of len(arg_names) values each, one after another */
    int arg_sets;
    double min_time;              /* seconds; 0 = --benchmark_min_time / the library default */
    int64_t iterations;           /* fixed iteration count; 0 = automatic */
    int repetitions;              /* 0 = --benchmark_repetitions / 1 */
} isb_bench_def;

/* Result of one reported run (for tests and summaries), available after isb_bench_run. */
typedef struct {
    const char *name;             /* full name with args, e.g. "sampling.cdf.host/N:50000/Z:8192" */
    int64_t iterations;
    double real_time, cpu_time;   /* per iteration, in the benchmark's unit */
    bool error_occurred;
    const char *error_message;
    bool aggregate;               /* a _mean/_median/_stddev row of repetitions */
} isb_bench_result;

/* --- program level ------------------------------------------------------------------------- */
/* Parses and removes Google Benchmark's flags from argv. Returns 0, or -1 (after printing them)
 * if arguments remain that nobody recognises. --help prints the library's help and exits. */
int isb_bench_initialize(int *argc, char **argv);
/* Registers one benchmark family (one instance per arg vector). Returns 0, or -1 if def is invalid
 * (message on stderr). */
int isb_bench_register(const isb_bench_def *def);
/* Adds a key/value to the run context (console header and the JSON/CSV context). */
void isb_bench_add_context(const char *key, const char *value);
/* Runs the benchmarks selected by --benchmark_filter; returns how many ran (matched). */
int isb_bench_run(void);
int isb_bench_result_count(void);
const isb_bench_result *isb_bench_result_get(int i);
/* Value of a user counter of result i as reported (after rate/avg flags); NAN if absent. */
double isb_bench_result_counter(int i, const char *counter);
void isb_bench_shutdown(void);

/* --- inside a benchmark body --------------------------------------------------------------- */
bool isb_bench_keep_running(isb_bench_state *st);
/* Runs `batch` iterations per check (for very short bodies); may overshoot by batch - 1. */
bool isb_bench_keep_running_batch(isb_bench_state *st, int64_t batch);
void isb_bench_pause_timing(isb_bench_state *st);
void isb_bench_resume_timing(isb_bench_state *st);
/* With manual_time: the measured duration of this iteration, in seconds. */
void isb_bench_set_iteration_time(isb_bench_state *st, double seconds);
int64_t isb_bench_arg(isb_bench_state *st, int index);  /* value of the index-th arg */
int64_t isb_bench_iterations(isb_bench_state *st);      /* iterations run so far */
void isb_bench_set_items_processed(isb_bench_state *st, int64_t items);  /* -> items_per_second */
void isb_bench_set_bytes_processed(isb_bench_state *st, int64_t bytes);  /* -> bytes_per_second */
void isb_bench_set_counter(isb_bench_state *st, const char *name, double value, int flags);
void isb_bench_set_label(isb_bench_state *st, const char *label);
/* Marks the run failed with msg (error_occurred in the reports). Call before the loop, then
 * return without entering it (or break out of it). */
void isb_bench_skip_with_error(isb_bench_state *st, const char *msg);
bool isb_bench_error_occurred(isb_bench_state *st);

#ifdef __cplusplus
}
#endif

#endif
