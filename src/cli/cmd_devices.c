/* isbench devices: every OpenCL platform and device, with the facts a benchmark result needs. */
#include "cli/cli.h"
#include "ocl/clblast_tuning.h"
#include "ocl/ocl.h"
#include "util/env.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>

static const char about[] =
    "Lists every OpenCL platform and device: name, vendor, driver, OpenCL C version, compute\n"
    "units, clock, memory. '*' marks the device that would be used: the one --device (or\n"
    "ISBENCH_DEVICE) selects, by default the first GPU, else the first device. A bad ISBENCH_DEVICE\n"
    "is reported as a warning and the default is marked. Each device also shows its CLBlast tuning\n"
    "key, the tuning entry that applies and its match level (or \"untuned (CLBlast defaults)\": run\n"
    "`isbench tune`; docs/clblast-tuning.md) and whether isbench can use it.";

/* The device marked '*': the one selected; a selector from the environment that matches none is
 * reported and the default marked, so that the list still helps to fix it. */
static int mark_selected(const isb_device_info *devs, int n, const char *from_cli, int *chosen) {
    const char *selector = isb_ocl_selector(from_cli);
    int rc = isb_ocl_select(devs, n, selector, chosen);
    if (rc >= 0 || selector != isb_env(ISB_ENV_DEVICE)) return rc;
    fprintf(stderr, "isbench devices: warning: %s=%s selects no device; '*' marks the default instead. Set it to "
            "one of the devices below (P:D, gpu, cpu or part of a name) or unset it.\n",
            isb_env_name(ISB_ENV_DEVICE), selector);
    return isb_ocl_select(devs, n, NULL, chosen);
}

int cmd_devices(int argc, char **argv) {
    isb_common_options common = isb_common_defaults();
    isb_cmdline p;
    isb_cmdline_init(&p, "devices", "isbench devices [--device SEL]", about);
    isb_cmdline_add_group(&p, ISB_GROUP_DEVICE, &common);
    int st = isb_cmdline_parse(&p, &argc, argv);
    if (st != ISB_PARSED) return isb_cli_parse_exit(&p, st);

    isb_device_info *devs;
    int n, chosen;
    int rc = isb_ocl_list_devices(&devs, &n);
    if (rc < 0) return isb_cli_fail("devices", rc);
    rc = mark_selected(devs, n, common.device, &chosen);
    if (rc < 0) {
        free(devs);
        return isb_cli_fail("devices", rc);
    }

    int last_platform = -1;
    for (int i = 0; i < n; i++) {
        const isb_device_info *d = &devs[i];
        if (d->platform_index != last_platform) {
            printf("Platform %d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
            last_platform = d->platform_index;
        }
        const char *type = (d->type & CL_DEVICE_TYPE_GPU) ? "GPU" : (d->type & CL_DEVICE_TYPE_CPU) ? "CPU" : "other";
        printf("%s %d:%d  %s%s\n", i == chosen ? "*" : " ", d->platform_index, d->device_index, d->name,
               i == chosen ? "   <- selected" : "");
        printf("      type %s, vendor %s\n", type, d->vendor);
        printf("      driver %s; %s; %s\n", d->driver_version, d->device_version, d->c_version);
        printf("      %u compute units @ %u MHz; global memory %.2f GiB (max buffer %.2f GiB); "
               "local memory %.0f KiB; max work-group %zu\n",
               d->compute_units, d->clock_mhz, d->global_mem / 1073741824.0, d->max_alloc / 1073741824.0,
               d->local_mem / 1024.0, d->max_wg);
        isb_clblast_key key;
        isb_clblast_device_key(d, &key);
        char why[1024];
        const char *limitation = isb_ocl_limitation(d, why, sizeof why);
        printf("      fp64 %s (isbench needs none); CLBlast tuning key %s > %s > %s > %s\n", d->fp64 ? "yes" : "no",
               key.type, key.vendor, key.architecture, key.device);
        printf("      isbench: %s\n", limitation ? limitation : "usable (OpenCL C >= 1.2, full profile)");
        char tuning[4096];
        if (isb_clblast_tuning_describe(d, tuning, sizeof tuning) < 0)
            snprintf(tuning, sizeof tuning, "unusable: %s", isb_last_error());
        printf("      CLBlast tuning: %s\n", tuning);
    }
    free(devs);
    return ISB_EXIT_OK;
}
