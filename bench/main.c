/* isbench-bench: the microbenchmark program. Parses its options (config/options.h; --device is the
 * device group's), hands every other flag to Google Benchmark (--benchmark_filter, --benchmark_out=FILE,
 * --benchmark_out_format=csv|json, --benchmark_repetitions, --benchmark_min_time, ...), opens the
 * device (which applies its CLBlast tuning), records the run context (device, driver, CLBlast
 * version and tuning entry) and calls each benchmark file's registration function
 * (bench/benches.h says how to add one). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include <jansson.h>

#include "config/options.h"
#include "results/provenance.h"
#include "util/error.h"
#include "util/fileio.h"

static const struct {
    const char *area;
    void (*fn)(const isb_bench_env *env);
} registrations[] = {
    {"sampling", isb_bench_register_sampling},
    {"engine", isb_bench_register_engine},
    {"data", isb_bench_register_data},
};

static const char about[] =
    "Google Benchmark flags: --benchmark_filter=REGEX --benchmark_out=FILE\n"
    "  --benchmark_out_format=csv|json --benchmark_repetitions=K --benchmark_min_time=SECONDS\n"
    "  --benchmark_list_tests=true; all of them are listed with --help.\n"
    "Exit status: 0 all ran, 1 a benchmark failed its correctness check or the device failed,\n"
    "2 usage error.";

static const isb_option_def bench_opts[] = {
    {"max-n", "N", ISB_ARG_INT, 1, 1e15, NULL, "register no problem size above N (e.g. 10000000 on a CPU device)"},
    {"context", "K=V", ISB_ARG_TEXT_LIST, 0, ISB_TEXT_LIST_MAX, NULL,
     "add K: V to the run context (repeatable; bench/run.sh records the command)"},
    {"device-slug", NULL, ISB_ARG_SWITCH, 0, 0, NULL, "print the device's name as a folder name (results/bench/<slug>) and exit"},
    {"write-context", "FILE", ISB_ARG_TEXT, 1, 0, NULL, "write the run context as JSON to FILE (atomically) and exit"},
    {"end-context", "FILE", ISB_ARG_TEXT, 1, 0, NULL, "add the load average now (load_average.end) to that FILE and exit"},
};

typedef struct {
    isb_common_options common; /* device */
    long max_n;
    isb_text_list contexts;
    bool print_slug;
    const char *context_file, *end_context_file;
} bench_options;

/* Takes our options out of argv, so that Google Benchmark sees only its flags. Returns ISB_PARSED,
 * or the exit code after --help (our options, then the library's) or a usage error. */
static int parse_options(int *argc, char **argv, bench_options *o) {
    void *values[] = {&o->max_n, &o->contexts, &o->print_slug, &o->context_file, &o->end_context_file};
    isb_cmdline p;
    isb_cmdline_init(&p, "isbench-bench", "isbench-bench [--device SEL] [--max-n N] [--benchmark_* flags]", about);
    isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, &o->common);
    for (size_t i = 0; i < sizeof bench_opts / sizeof bench_opts[0]; i++) isb_cmdline_add(&p, &bench_opts[i], values[i]);
    p.keep_unknown = p.exact_names = true;
    int st = isb_cmdline_parse(&p, argc, argv);
    if (st == ISB_PARSE_HELP) {
        isb_cmdline_print_help(&p, stdout);
        char *help[] = {argv[0], "--help", NULL};
        int n = 2;
        return isb_bench_initialize(&n, help) == 0 ? 0 : 2; /* the library prints its flags */
    }
    for (int i = 0; st == ISB_PARSED && i < o->contexts.n; i++)
        if (!strchr(o->contexts.item[i], '='))
            st = isb_fail(ISB_ERR_USAGE, "--context needs KEY=VALUE, got '%s'", o->contexts.item[i]);
    if (st == ISB_PARSED) return ISB_PARSED;
    fprintf(stderr, "isbench-bench: %s\n", isb_last_error());
    isb_cmdline_print_help(&p, stderr);
    return 2;
}

/* Google Benchmark's report context takes strings: nested keys are flattened as "device.name". */
static void add_report_context(const char *prefix, json_t *value) {
    char key[256];
    if (json_is_object(value)) {
        const char *k;
        json_t *v;
        json_object_foreach(value, k, v) {
            snprintf(key, sizeof key, "%s%s%s", prefix, prefix[0] ? "." : "", k);
            add_report_context(key, v);
        }
    } else if (json_is_string(value)) {
        isb_bench_add_context(prefix, json_string_value(value));
    } else if (!json_is_null(value)) {
        char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
        if (text) isb_bench_add_context(prefix, text);
        free(text);
    }
}

/* The run context: the provenance every manifest carries (results/provenance.h, same keys), the
 * size cap, and the --context K=V entries (which may replace a key, e.g. bench/run.sh's command). */
static json_t *make_context(const isb_ocl *ocl, const char *const *contexts, int n_contexts, long long max_n) {
    json_t *context = json_object();
    isb_provenance_add(context, ocl, "isbench-bench");
    json_object_set_new(context, "max_n", json_integer((json_int_t)max_n));
    for (int i = 0; i < n_contexts; i++) {
        char key[128];
        size_t klen = (size_t)(strchr(contexts[i], '=') - contexts[i]);
        snprintf(key, sizeof key, "%.*s", (int)klen, contexts[i]);
        json_object_set_new(context, key, json_string(contexts[i] + klen + 1));
    }
    add_report_context("", context);
    return context;
}

static int write_context(const char *path, const json_t *context) {
    char *text = json_dumps(context, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = text ? isb_write_file_atomic(path, text, strlen(text)) : isb_fail(ISB_ERR_MEMORY, "cannot serialise %s", path);
    free(text);
    return rc;
}

/* --end-context FILE: the load average at the end of the run, into the context written at its start. */
static int end_context(const char *path) {
    json_error_t err;
    json_t *context = json_load_file(path, 0, &err);
    if (!context) {
        fprintf(stderr, "isbench-bench: error: %s: %s (write it with --write-context first)\n", path, err.text);
        return 1;
    }
    isb_provenance_end(context);
    int rc = write_context(path, context);
    json_decref(context);
    if (rc < 0) fprintf(stderr, "isbench-bench: error: %s\n", isb_last_error());
    return rc < 0 ? 1 : 0;
}

/* "NVIDIA H200" -> "nvidia-h200": lower case, runs of other characters become one '-'. */
static void slugify(const char *name, char *out, size_t len) {
    size_t o = 0;
    for (const char *p = name; *p && o + 1 < len; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out[o++] = c;
        else if (o > 0 && out[o - 1] != '-') out[o++] = '-';
    }
    while (o > 0 && out[o - 1] == '-') o--;
    out[o] = '\0';
}

int main(int argc, char **argv) {
    isb_provenance_set_command(argc, argv);
    bench_options o = {.common = isb_common_defaults(), .max_n = 100000000L};
    int st = parse_options(&argc, argv, &o);
    if (st != ISB_PARSED) return st;
    if (o.end_context_file) return end_context(o.end_context_file);
    if (isb_bench_initialize(&argc, argv) != 0) {
        fprintf(stderr, "isbench-bench: unknown arguments (see isbench-bench --help)\n");
        return 2;
    }

    isb_ocl ocl;
    int rc = isb_ocl_open(&ocl, isb_ocl_selector(o.common.device), false);
    if (rc < 0) {
        fprintf(stderr, "isbench-bench: error: %s\n", isb_last_error());
        return 1;
    }
    if (o.print_slug) {
        char slug[256];
        slugify(ocl.info.name, slug, sizeof slug);
        printf("%s\n", slug);
        isb_ocl_close(&ocl);
        return 0;
    }
    json_t *context = make_context(&ocl, o.contexts.item, o.contexts.n, o.max_n);
    if (o.context_file) {
        rc = write_context(o.context_file, context);
        json_decref(context);
        isb_ocl_close(&ocl);
        if (rc < 0) fprintf(stderr, "isbench-bench: error: %s\n", isb_last_error());
        return rc < 0 ? 1 : 0;
    }
    json_decref(context);

    isb_bench_env env = {.ocl = &ocl, .max_n = o.max_n};
    for (size_t i = 0; i < sizeof registrations / sizeof registrations[0]; i++)
        if (registrations[i].fn) registrations[i].fn(&env);  /* NULL: that file is not linked in */

    /* Nothing matched --benchmark_filter (also when only listing): a run that measured nothing is a
     * failure, not a success. */
    if (isb_bench_run() == 0) {
        fprintf(stderr, "isbench-bench: error: no benchmark matches --benchmark_filter (see --benchmark_list_tests=true)\n");
        isb_bench_shutdown();
        isb_ocl_close(&ocl);
        return 1;
    }
    int failed = 0;
    for (int i = 0; i < isb_bench_result_count(); i++) {
        const isb_bench_result *r = isb_bench_result_get(i);
        if (r->error_occurred) {
            if (!failed++) fprintf(stderr, "isbench-bench: failed benchmarks:\n");
            fprintf(stderr, "  %s: %s\n", r->name, r->error_message);
        }
    }
    isb_bench_shutdown();
    isb_ocl_close(&ocl);
    return failed ? 1 : 0;
}
