/* Device facts and run provenance (see provenance.h). */
#define _GNU_SOURCE /* getloadavg */
#include "results/provenance.h"
#include "ocl/clblast_tuning.h"
#include "util/fileio.h"
#include "util/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static char command_line[4096] = "";

/* Arguments joined by spaces; one with characters a shell would read is single-quoted. */
void isb_provenance_set_command(int argc, char *const *argv) {
    size_t len = 0;
    command_line[0] = '\0';
    for (int i = 0; i < argc && len + 4 < sizeof command_line; i++) {
        const char *a = argv[i];
        bool plain = a[0] != '\0' && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                               "-_./=:,+@%") == strlen(a);
        int n = plain ? snprintf(command_line + len, sizeof command_line - len, "%s%s", i ? " " : "", a)
                      : snprintf(command_line + len, sizeof command_line - len, "%s'%s'", i ? " " : "", a);
        len += n > 0 ? (size_t)n : 0;
    }
    if (len >= sizeof command_line) command_line[sizeof command_line - 1] = '\0';
}

/* The text after "KEY" and its separator on the first line of FILE starting with KEY ("" if none),
 * without quotes: /proc/cpuinfo's "model name : ...", /etc/os-release's PRETTY_NAME="...". */
static void file_field(const char *file, const char *key, char sep, char *out, size_t size) {
    snprintf(out, size, "unknown");
    FILE *f = fopen(file, "r");
    if (!f) return;
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        char *v = strchr(line, sep);
        if (strncmp(line, key, klen) != 0 || !v) continue;
        v += 1 + strspn(v + 1, " \t\"");
        v[strcspn(v, "\"\n")] = '\0';
        snprintf(out, size, "%s", v);
        break;
    }
    fclose(f);
}

static json_t *host_json(void) {
    char name[256] = "unknown", cpu[256], os[256], kernel[512] = "unknown";
    gethostname(name, sizeof name);
    name[sizeof name - 1] = '\0';
    file_field("/proc/cpuinfo", "model name", ':', cpu, sizeof cpu);
    file_field("/etc/os-release", "PRETTY_NAME", '=', os, sizeof os);
    struct utsname u;
    if (uname(&u) == 0) snprintf(kernel, sizeof kernel, "%s %s %s", u.sysname, u.release, u.machine);
    return json_pack("{s:s, s:s, s:I, s:s, s:s}", "name", name, "cpu", cpu, "cores",
                     (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "os", os, "kernel", kernel);
}

static json_t *device_json(const isb_ocl *ocl) {
    const isb_device_info *d = &ocl->info;
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "name", d->name, "vendor", d->vendor,
                     "driver", d->driver_version, "version", d->device_version, "opencl_c", d->c_version,
                     "platform", d->platform_name, "platform_version", d->platform_version,
                     "compute_units", (json_int_t)d->compute_units, "global_mem_bytes", (json_int_t)d->global_mem);
}

/* [1, 5, 15 minute] load averages, or null where the system does not say. */
static json_t *load_json(double *one_minute) {
    double l[3];
    *one_minute = -1;
    if (getloadavg(l, 3) != 3) return json_null();
    *one_minute = l[0];
    return json_pack("[f, f, f]", l[0], l[1], l[2]);
}

/* json_object_set_new that reports failure, also for a NULL value (json_pack and json_string return
 * NULL for a string that is not UTF-8). */
static bool put(json_t *into, const char *key, json_t *value) {
    return value && json_object_set_new(into, key, value) == 0;
}

bool isb_provenance_add(json_t *into, const isb_ocl *ocl, const char *who) {
    double load;
    bool ok = put(into, "isbench", json_pack("{s:s, s:s}", "version", isb_version_string, "commit", isb_git_commit));
    ok = put(into, "command", json_string(command_line)) && ok;
    ok = put(into, "device", device_json(ocl)) && ok;
    ok = put(into, "clblast", json_string(isb_clblast_version())) && ok;
    ok = put(into, "clblast_tuning", json_string(isb_clblast_tuning_applied())) && ok;
    ok = put(into, "host", host_json()) && ok;
    ok = put(into, "load_average", json_pack("{s:o, s:n}", "start", load_json(&load), "end")) && ok;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 0 && load > (double)cores)
        fprintf(stderr, "[%s] warning: the load average (%.2f) exceeds the %ld cores: other work shares this "
                        "machine, so the timings will be noisy\n", who, load, cores);
    return ok;
}

bool isb_provenance_end(json_t *into) {
    double load;
    json_t *l = json_object_get(into, "load_average");
    return json_is_object(l) && put(l, "end", load_json(&load));
}
