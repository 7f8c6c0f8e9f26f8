/* Suite runner (see suite.h). */
#include "suite/suite.h"
#include "data/dataset.h"
#include "results/run_files.h"
#include "train/train.h"
#include "util/error.h"
#include "util/timer.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int isb_suite_run(isb_ocl *ocl, const isb_suite_options *o) {
    int n_all;
    const char *const *all = isb_train_config_names(&n_all);
    const char *const *names = o->configs ? o->configs : all;
    int n = o->configs ? o->n_configs : n_all;
    const char *suite = o->name ? o->name : o->preset;
    if (o->seeds < 1) return isb_fail(ISB_ERR_USAGE, "--seeds must be >= 1, got %d", o->seeds);

    isb_train_config *cfgs = calloc((size_t)n, sizeof *cfgs);
    if (!cfgs) return isb_fail(ISB_ERR_MEMORY, "out of host memory");
    for (int i = 0; i < n; i++) {
        int rc = isb_train_config_make(&cfgs[i], o->preset, names[i], o->overrides, o->n_overrides);
        if (rc < 0) { free(cfgs); return rc; }
    }
    const char *data_dir = isb_data_dir(o->data_dir, cfgs[0].dataset);
    isb_train_env env;
    int rc = isb_train_env_open(&env, ocl, &cfgs[0], data_dir);
    for (int i = 0; rc >= 0 && i < n; i++) rc = isb_train_config_validate(&cfgs[i], env.train.n); /* |Z| vs N */
    if (rc < 0) { isb_train_env_close(&env); free(cfgs); return rc; }

    int total = n * o->seeds, k = 0, first_failure = 0;
    isb_run_result *res = calloc((size_t)total, sizeof *res);
    int *status = calloc((size_t)total, sizeof *status);
    if (!res || !status) {
        free(res); free(status); free(cfgs);
        isb_train_env_close(&env);
        return isb_fail(ISB_ERR_MEMORY, "out of host memory for the results of %d runs", total);
    }
    double t0 = isb_now();
    for (int seed = 1; seed <= o->seeds && rc != ISB_ERR_INTERRUPTED; seed++) {
        for (int i = 0; i < n; i++, k++) {
            isb_train_config c = cfgs[i];
            c.seed = (uint64_t)seed;
            char dir[4096], label[96];
            isb_run_dir_path(dir, sizeof dir, o->out, suite, c.name, c.seed);
            snprintf(label, sizeof label, "%s seed %d (%d/%d)", c.name, seed, k + 1, total);
            rc = isb_train_run(&env, &c, dir, suite, label, &res[k]);
            status[k] = rc;
            if (rc == ISB_ERR_INTERRUPTED) { k++; break; }
            if (rc < 0) {
                fprintf(stderr, "[%s] failed: %s\n", label, isb_last_error());
                if (!first_failure) first_failure = rc;
            }
        }
    }
    double wall = isb_now() - t0;
    printf("\nsuite %s (preset %s) in %s/%s: %.1f s\n", suite, o->preset, o->out, suite, wall);
    printf("%-20s %5s %-12s %7s %10s %9s %9s\n", "config", "seed", "status", "epochs", "samples", "test_acc", "wall_s");
    for (int j = 0; j < k; j++) {
        const char *st = status[j] == ISB_ERR_INTERRUPTED ? "interrupted"
                         : status[j] < 0                 ? "failed"
                         : res[j].skipped                ? "skipped"
                                                         : "finished";
        if (res[j].skipped)
            printf("%-20s %5d %-12s (see its manifest.json)\n", names[j % n], j / n + 1, st);
        else
            printf("%-20s %5d %-12s %7d %10" PRId64 " %9.4f %9.1f\n", names[j % n], j / n + 1, st, res[j].data_epochs,
                   res[j].samples_seen, res[j].final_test_acc, res[j].wall_s);
    }
    free(res);
    free(status);
    free(cfgs);
    isb_train_env_close(&env);
    if (rc == ISB_ERR_INTERRUPTED) return rc;
    if (first_failure) return isb_fail(first_failure, "some runs of the suite failed (see above and their manifests)");
    return ISB_OK;
}
