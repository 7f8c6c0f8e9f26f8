/* isbench-bench: the microbenchmark program. Parses --device and --max-n (removing them from argv),
 * hands every other flag to Google Benchmark (--benchmark_filter, --benchmark_out=FILE,
 * --benchmark_out_format=csv|json, --benchmark_repetitions, --benchmark_min_time, ...), opens the
 * device (which applies its CLBlast tuning), records the run context (device, driver, CLBlast
 * version and tuning entry) and calls each benchmark file's registration function
 * (bench/benches.h says how to add one). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benches.h"
#include <jansson.h>

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

static void usage(FILE *out) {
    fprintf(out,
            "usage: isbench-bench [--device SEL] [--max-n N] [--benchmark_* flags]\n"
            "  --device SEL   OpenCL device: P:D | gpu | cpu | PLATFORM:DEVICE | NAME-SUBSTRING matching one\n"
            "                 device (default $ISBENCH_DEVICE, else the first GPU)\n"
            "  --max-n N      register no problem size above N (e.g. 10000000 on a CPU device)\n"
            "  --context K=V  add K: V to the run context (repeatable; bench/run.sh records the command)\n"
            "  --device-slug  print the device's name as a folder name (results/bench/<slug>) and exit\n"
            "  --write-context FILE  write the run context as JSON to FILE (atomically) and exit\n"
            "  --end-context FILE    add the load average now (load_average.end) to that FILE and exit\n"
            "Google Benchmark flags: --benchmark_filter=REGEX --benchmark_out=FILE\n"
            "  --benchmark_out_format=csv|json --benchmark_repetitions=K --benchmark_min_time=SECONDS\n"
            "  --benchmark_list_tests=true; all of them are listed below.\n"
            "Exit status: 0 all ran, 1 a benchmark failed its correctness check or the device failed,\n"
            "2 usage error.\n\n");
}

/* Value of option `name` at argv[*i] ("--name VALUE" or "--name=VALUE"), advancing *i; NULL if
 * argv[*i] is not that option. Exits with usage on a missing value. */
static const char *take_option(int argc, char **argv, int *i, const char *name) {
    size_t len = strlen(name);
    if (strncmp(argv[*i], name, len) != 0) return NULL;
    if (argv[*i][len] == '=') return argv[*i] + len + 1;
    if (argv[*i][len] != '\0') return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "isbench-bench: option %s needs a value\n", name);
        usage(stderr);
        exit(2);
    }
    return argv[++*i];
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
    const char *device = NULL;
    const char *contexts[32];
    int n_contexts = 0;
    bool print_slug = false;
    const char *context_file = NULL;
    long long max_n = 100000000LL;
    /* Our own options are removed so that Google Benchmark sees only its flags. */
    int kept = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = take_option(argc, argv, &i, "--device"))) {
            device = v;
        } else if ((v = take_option(argc, argv, &i, "--max-n"))) {
            char *end;
            errno = 0;
            max_n = strtoll(v, &end, 10);
            if (errno || *end || max_n < 1) {
                fprintf(stderr, "isbench-bench: --max-n needs a positive integer, got '%s'\n", v);
                return 2;
            }
        } else if ((v = take_option(argc, argv, &i, "--context"))) {
            if (!strchr(v, '=') || n_contexts == 32) {
                fprintf(stderr, "isbench-bench: --context needs KEY=VALUE (at most 32), got '%s'\n", v);
                return 2;
            }
            contexts[n_contexts++] = v;
        } else if ((v = take_option(argc, argv, &i, "--write-context"))) {
            context_file = v;
        } else if ((v = take_option(argc, argv, &i, "--end-context"))) {
            return end_context(v);
        } else if (strcmp(argv[i], "--device-slug") == 0) {
            print_slug = true;
        } else {
            if (strcmp(argv[i], "--help") == 0) usage(stdout); /* then the library's own help */
            argv[kept++] = argv[i];
        }
    }
    argc = kept;
    argv[argc] = NULL;
    if (isb_bench_initialize(&argc, argv) != 0) {
        usage(stderr);
        return 2;
    }

    isb_ocl ocl;
    int rc = isb_ocl_open(&ocl, isb_ocl_selector(device), false);
    if (rc < 0) {
        fprintf(stderr, "isbench-bench: error: %s\n", isb_last_error());
        return 1;
    }
    if (print_slug) {
        char slug[256];
        slugify(ocl.info.name, slug, sizeof slug);
        printf("%s\n", slug);
        isb_ocl_close(&ocl);
        return 0;
    }
    json_t *context = make_context(&ocl, contexts, n_contexts, max_n);
    if (context_file) {
        rc = write_context(context_file, context);
        json_decref(context);
        isb_ocl_close(&ocl);
        if (rc < 0) fprintf(stderr, "isbench-bench: error: %s\n", isb_last_error());
        return rc < 0 ? 1 : 0;
    }
    json_decref(context);

    isb_bench_env env = {.ocl = &ocl, .max_n = max_n};
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
