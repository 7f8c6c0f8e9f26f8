/* isbench devices: every OpenCL platform and device, with the facts a benchmark result needs. */
#include "cli/cli.h"
#include "ocl/clblast_tuning.h"
#include "ocl/ocl.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

static void help(void) {
    printf("usage: isbench devices [--device SEL]\n\n"
           "Lists every OpenCL platform and device: name, vendor, driver, OpenCL C version, compute\n"
           "units, clock, memory. '*' marks the device that would be used: the one named by --device\n"
           "(or ISBENCH_DEVICE) as P:D, gpu, cpu, PLATFORM:DEVICE name parts or a name substring that\n"
           "matches one device only; by default the first GPU, else the first device. Each device also\n"
           "shows its CLBlast tuning key, the tuning entry that applies and its match level (or \"untuned\n"
           "(CLBlast defaults)\": run `isbench tune`; docs/clblast-tuning.md) and whether isbench can use it.\n");
}

int cmd_devices(int argc, char **argv) {
    static const struct option opts[] = {{"device", required_argument, NULL, 'd'},
                                         {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *device = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': device = optarg; break;
        case 'h': help(); return ISB_EXIT_OK;
        default: return isb_cli_usage_error("devices", "unknown option");
        }
    }
    if (optind < argc) return isb_cli_usage_error("devices", "unexpected argument '%s'", argv[optind]);

    isb_device_info *devs;
    int n, chosen;
    int rc = isb_ocl_list_devices(&devs, &n);
    if (rc < 0) return isb_cli_fail("devices", rc);
    rc = isb_ocl_select(devs, n, isb_ocl_selector(device), &chosen);
    if (rc < 0) { free(devs); return isb_cli_fail("devices", rc); }

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
