#include "results/compare.h"
#include "util/error.h"
#include "util/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum { KIND_NONE, KIND_BENCH, KIND_SUITE } folder_kind;

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool isb_compare_is_config_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool found = false;
    char path[4096];
    for (struct dirent *e; !found && (e = readdir(d));)
        found = strncmp(e->d_name, "seed-", 5) == 0 && snprintf(path, sizeof path, "%s/%s/manifest.json", dir, e->d_name) < (int)sizeof path &&
                isb_file_exists(path);
    closedir(d);
    return found;
}

/* A suite holds <config>/seed-<k>/manifest.json; a benchmark folder holds context.json or
 * Google Benchmark *.csv / *.json files. */
static folder_kind kind_of(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/context.json", dir);
    if (isb_file_exists(path)) return KIND_BENCH;
    DIR *d = opendir(dir);
    if (!d) return KIND_NONE;
    folder_kind kind = KIND_NONE;
    for (struct dirent *e; kind == KIND_NONE && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.') continue;
        if ((len > 4 && strcmp(e->d_name + len - 4, ".csv") == 0) || (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0))
            kind = KIND_BENCH;
        if (e->d_name[0] != '.' && isb_path_join(path, sizeof path, dir, e->d_name) == ISB_OK && isb_compare_is_config_dir(path))
            kind = KIND_SUITE;
    }
    closedir(d);
    return kind;
}

int isb_compare(const isb_compare_options *o) {
    gsl_set_error_handler_off(); /* GSL reports through return values here, never abort() */
    folder_kind ka = kind_of(o->a), kb = kind_of(o->b);
    const char *what = "neither a training suite (<config>/seed-<k>/manifest.json) nor a benchmark folder "
                       "(bench/run.sh: *.csv + context.json)";
    if (!is_dir(o->a)) return isb_fail(ISB_ERR_IO, "%s: no such folder", o->a);
    if (!is_dir(o->b)) return isb_fail(ISB_ERR_IO, "%s: no such folder", o->b);
    if (ka == KIND_NONE) return isb_fail(ISB_ERR_USAGE, "%s is %s", o->a, what);
    if (kb == KIND_NONE) return isb_fail(ISB_ERR_USAGE, "%s is %s", o->b, what);
    if (ka != kb)
        return isb_fail(ISB_ERR_USAGE, "%s is a %s but %s is a %s: compare two suites or two benchmark folders", o->a,
                        ka == KIND_SUITE ? "training suite" : "benchmark folder", o->b,
                        kb == KIND_SUITE ? "training suite" : "benchmark folder");
    return ka == KIND_BENCH ? isb_compare_bench(o) : isb_compare_suites(o);
}

/* gnuplot compare.gp in out_dir; its messages go to compare.gnuplot.log, not the terminal. */
static int run_gnuplot(const char *out_dir) {
    pid_t pid = fork();
    if (pid < 0) return isb_fail(ISB_ERR_IO, "cannot start gnuplot: %s", strerror(errno));
    if (pid == 0) {
        int log = -1;
        if (chdir(out_dir) == 0) log = open("compare.gnuplot.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log >= 0) dup2(log, 2);
        execlp("gnuplot", "gnuplot", "compare.gp", (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        fprintf(stderr, "isbench compare: note: gnuplot not found: the figure is not drawn (apt-get install gnuplot-nox; "
                        "then run gnuplot compare.gp in %s)\n", out_dir);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return isb_fail(ISB_ERR_IO, "gnuplot failed on %s/compare.gp: see %s/compare.gnuplot.log", out_dir, out_dir);
    return ISB_OK;
}

int isb_compare_write_outputs(const char *out_dir, const isb_compare_text *text) {
    ISB_TRY(isb_mkdir_p(out_dir));
    const struct { const char *name, *text; } files[] = {
        {"compare.md", text->md.data}, {"compare.csv", text->csv.data}, {"compare.dat", text->dat.data}, {"compare.gp", text->gp.data}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", out_dir, files[i].name);
        ISB_TRY(isb_write_file_atomic(path, files[i].text, strlen(files[i].text)));
    }
    ISB_TRY(run_gnuplot(out_dir));
    fputs(text->md.data, stdout);
    printf("\nisbench compare: wrote %s/compare.md, compare.csv and compare.png\n", out_dir);
    return ISB_OK;
}

void isb_compare_text_free(isb_compare_text *text) {
    isb_strbuf_free(&text->md);
    isb_strbuf_free(&text->csv);
    isb_strbuf_free(&text->dat);
    isb_strbuf_free(&text->gp);
}

/* text inside a gnuplot single-quoted string: ' doubles. */
static void gp_single_quoted(isb_strbuf *gp, const char *text) {
    for (const char *p = text; *p; p++) {
        if (*p == '\'') isb_strbuf_printf(gp, "'");
        isb_strbuf_printf(gp, "%c", *p);
    }
}

void isb_compare_title(isb_strbuf *gp, const char *a, const char *b) {
    isb_strbuf_printf(gp, "set title 'B = ");
    gp_single_quoted(gp, b);
    isb_strbuf_printf(gp, "  vs  A = ");
    gp_single_quoted(gp, a);
    isb_strbuf_printf(gp, "'\n");
}
