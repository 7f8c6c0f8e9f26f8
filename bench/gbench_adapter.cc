// The one C++ file of the benchmarks: implements bench/gbench.h on top of Google Benchmark 1.7.1.
// It holds no benchmark logic; it only translates. Results of each run are captured (for tests
// and summaries) by a display reporter that forwards everything to the library's own reporters.
#include "gbench.h"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

benchmark::State &S(isb_bench_state *st) { return *reinterpret_cast<benchmark::State *>(st); }

benchmark::TimeUnit to_unit(isb_bench_unit u) {
    switch (u) {
    case ISB_BENCH_US: return benchmark::kMicrosecond;
    case ISB_BENCH_MS: return benchmark::kMillisecond;
    case ISB_BENCH_S: return benchmark::kSecond;
    default: return benchmark::kNanosecond;
    }
}

struct captured {
    std::string name, error;
    isb_bench_result result;
    std::vector<std::pair<std::string, double>> counters;
};
std::vector<captured> g_results;

// --benchmark_format / --benchmark_color are read before Initialize consumes them, because a
// custom display reporter replaces the one the library would have built from them.
std::string g_format = "console";
bool g_color = isatty(1);

// Records each run, then lets the library's reporter of the requested format print it.
class capture_reporter : public benchmark::BenchmarkReporter {
  public:
    explicit capture_reporter(std::unique_ptr<benchmark::BenchmarkReporter> inner) : inner_(std::move(inner)) {}
    bool ReportContext(const Context &ctx) override { return inner_->ReportContext(ctx); }
    void ReportRuns(const std::vector<Run> &runs) override {
        for (const Run &r : runs) {
            captured c;
            c.name = r.benchmark_name();
            c.error = r.error_message;
            c.result.iterations = static_cast<int64_t>(r.iterations);
            c.result.real_time = r.GetAdjustedRealTime();
            c.result.cpu_time = r.GetAdjustedCPUTime();
            c.result.error_occurred = r.error_occurred;
            c.result.aggregate = r.run_type == Run::RT_Aggregate;
            // Counters as reported: rates are already divided by time in `r` for iteration runs.
            for (const auto &kv : r.counters) c.counters.emplace_back(kv.first, kv.second.value);
            g_results.push_back(std::move(c));
        }
        inner_->ReportRuns(runs);
    }
    void Finalize() override { inner_->Finalize(); }

  private:
    std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};

}  // namespace

extern "C" {

int isb_bench_initialize(int *argc, char **argv) {
    for (int i = 1; i < *argc; i++) {
        if (std::strncmp(argv[i], "--benchmark_format=", 19) == 0) g_format = argv[i] + 19;
        if (std::strncmp(argv[i], "--benchmark_color=", 18) == 0) {
            std::string v = argv[i] + 18;
            g_color = v == "true" || v == "yes" || v == "1" || (v == "auto" && isatty(1));
        }
    }
    benchmark::Initialize(argc, argv);
    return benchmark::ReportUnrecognizedArguments(*argc, argv) ? -1 : 0;
}

int isb_bench_register(const isb_bench_def *def) {
    if (!def || !def->name || !def->fn) {
        std::fprintf(stderr, "isb_bench_register: a benchmark needs a name and a function\n");
        return -1;
    }
    std::vector<std::string> names;
    for (const char *const *n = def->arg_names; n && *n; n++) names.emplace_back(*n);
    if (!names.empty() && (def->arg_sets <= 0 || !def->args)) {
        std::fprintf(stderr, "isb_bench_register: %s names %zu args but gives no arg vectors\n", def->name,
                     names.size());
        return -1;
    }
    isb_bench_fn fn = def->fn;
    void *user = def->user;
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(
        def->name, [fn, user](benchmark::State &st) { fn(reinterpret_cast<isb_bench_state *>(&st), user); });
    b->Unit(to_unit(def->unit));
    if (def->manual_time) b->UseManualTime();
    if (def->min_time > 0) b->MinTime(def->min_time);
    if (def->iterations > 0) b->Iterations(def->iterations);
    if (def->repetitions > 0) b->Repetitions(def->repetitions);
    if (!names.empty()) {
        b->ArgNames(names);
        for (int s = 0; s < def->arg_sets; s++)
            b->Args(std::vector<int64_t>(def->args + (size_t)s * names.size(),
                                         def->args + (size_t)(s + 1) * names.size()));
    }
    return 0;
}

void isb_bench_add_context(const char *key, const char *value) {
    benchmark::AddCustomContext(key ? key : "", value ? value : "");
}

int isb_bench_run(void) {
    g_results.clear();
    std::unique_ptr<benchmark::BenchmarkReporter> inner;
    if (g_format == "json") {
        inner.reset(new benchmark::JSONReporter);
    } else if (g_format == "csv") {
        // Deprecated upstream but still the reporter behind --benchmark_format=csv in 1.7.1.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        inner.reset(new benchmark::CSVReporter);
#pragma GCC diagnostic pop
    } else {
        inner.reset(new benchmark::ConsoleReporter(g_color ? benchmark::ConsoleReporter::OO_ColorTabular
                                                           : benchmark::ConsoleReporter::OO_Tabular));
    }
    capture_reporter reporter(std::move(inner));
    return static_cast<int>(benchmark::RunSpecifiedBenchmarks(&reporter));
}

int isb_bench_result_count(void) { return static_cast<int>(g_results.size()); }

const isb_bench_result *isb_bench_result_get(int i) {
    if (i < 0 || i >= static_cast<int>(g_results.size())) return nullptr;
    captured &c = g_results[(size_t)i];
    c.result.name = c.name.c_str();  // pointers fixed here: the vector may have moved the strings
    c.result.error_message = c.error.c_str();
    return &c.result;
}

double isb_bench_result_counter(int i, const char *counter) {
    if (i < 0 || i >= static_cast<int>(g_results.size()) || !counter) return NAN;
    for (const auto &kv : g_results[(size_t)i].counters)
        if (kv.first == counter) return kv.second;
    return NAN;
}

void isb_bench_shutdown(void) {
    g_results.clear();
    benchmark::Shutdown();
}

bool isb_bench_keep_running(isb_bench_state *st) { return S(st).KeepRunning(); }
bool isb_bench_keep_running_batch(isb_bench_state *st, int64_t batch) {
    return S(st).KeepRunningBatch(static_cast<benchmark::IterationCount>(batch));
}
void isb_bench_pause_timing(isb_bench_state *st) { S(st).PauseTiming(); }
void isb_bench_resume_timing(isb_bench_state *st) { S(st).ResumeTiming(); }
void isb_bench_set_iteration_time(isb_bench_state *st, double seconds) { S(st).SetIterationTime(seconds); }
int64_t isb_bench_arg(isb_bench_state *st, int index) { return S(st).range(static_cast<size_t>(index)); }
int64_t isb_bench_iterations(isb_bench_state *st) { return static_cast<int64_t>(S(st).iterations()); }
void isb_bench_set_items_processed(isb_bench_state *st, int64_t items) { S(st).SetItemsProcessed(items); }
void isb_bench_set_bytes_processed(isb_bench_state *st, int64_t bytes) { S(st).SetBytesProcessed(bytes); }

void isb_bench_set_counter(isb_bench_state *st, const char *name, double value, int flags) {
    int f = benchmark::Counter::kDefaults;
    if (flags & ISB_COUNTER_RATE) f |= benchmark::Counter::kIsRate;
    if (flags & ISB_COUNTER_AVG_ITERATIONS) f |= benchmark::Counter::kAvgIterations;
    if (flags & ISB_COUNTER_ITERATION_INVARIANT) f |= benchmark::Counter::kIsIterationInvariant;
    if (flags & ISB_COUNTER_INVERT) f |= benchmark::Counter::kInvert;
    benchmark::Counter::OneK k =
        (flags & ISB_COUNTER_BASE_1024) ? benchmark::Counter::kIs1024 : benchmark::Counter::kIs1000;
    S(st).counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f), k);
}

void isb_bench_set_label(isb_bench_state *st, const char *label) { S(st).SetLabel(label ? label : ""); }
void isb_bench_skip_with_error(isb_bench_state *st, const char *msg) { S(st).SkipWithError(msg ? msg : "error"); }
bool isb_bench_error_occurred(isb_bench_state *st) { return S(st).error_occurred(); }

}  // extern "C"
