# Normalises the benchmark CSV files of one device directory into one table, on stdout:
#   family method where N Z B seconds other min max  (one row per benchmark; "-" for an absent
#       argument; other = the remaining ARG=value pairs, e.g. W=16; min/max over the repetitions)
# Input: bench/run.sh's analysis CSV (an `aggregate` column) or Google Benchmark's own CSV (context
# lines before the header, aggregates as NAME_median, ...). Names are <family>.<method>.<where>/
# <ARG>:<value>/... (docs/results-format.md). Time is real_time converted to seconds (device rows use
# manual time, which Google Benchmark reports as real_time). Repetitions: their median (the
# _median aggregate where only aggregates were kept); min and max show the dispersion. Rows with
# error_occurred are left out with a note. A file without the CSV header row is an error naming it.
# Needs lib/common.awk.

FNR == 1 { in_table = 0; file_list[++files] = FILENAME }
!in_table {
    # Google Benchmark writes its context (date, host, caches, custom context) before the header.
    if ($0 ~ /^"?name"?,/) { need_columns("name,iterations,real_time,time_unit,error_occurred", col); in_table = 1; ncol = 0; for (k in col) ncol++; table[FILENAME] = 1 }
    next
}
/^[ \t\r]*$/ { next }
{
    n = csv_split($0, f)
    if (n < ncol) die(where() ": " n " fields, header has " ncol)
    name = f[col["name"]]
    if (f[col["error_occurred"]] == "true") { note(FILENAME ": skipped " name " (" f[col["error_message"]] ")"); next }
    agg = ("aggregate" in col) ? f[col["aggregate"]] : ""
    if (agg == "" && match(name, /_(mean|median|stddev|cv)$/)) { agg = substr(name, RSTART + 1); name = substr(name, 1, RSTART - 1) }
    if (agg != "" && agg != "median") next
    if (!is_num(f[col["real_time"]])) die(where() ": real_time '" f[col["real_time"]] "' is not a number")
    u = f[col["time_unit"]]
    scale = u == "ns" ? 1e-9 : u == "us" ? 1e-6 : u == "ms" ? 1e-3 : u == "s" ? 1 : -1
    if (scale < 0) die(where() ": unknown time_unit '" u "' (expected ns, us, ms or s)")
    secs = f[col["real_time"]] * scale
    # Drop Google Benchmark's own suffixes; keep ARG:value pairs.
    np = split(name, part, "/")
    base = part[1]; N = "-"; Z = "-"; B = "-"; other = ""
    for (i = 2; i <= np; i++) {
        if (part[i] ~ /^(manual_time|real_time|process_time)$/ || part[i] ~ /^(iterations|repeats|threads|min_time|min_warmup_time):/) continue
        if (split(part[i], kv, ":") != 2 || !is_num(kv[2])) die(where() ": cannot read argument '" part[i] "' of " name " (expected ARG:value)")
        if (kv[1] == "N") N = kv[2]; else if (kv[1] == "Z") Z = kv[2]; else if (kv[1] == "B") B = kv[2]
        else other = other (other == "" ? "" : ",") kv[1] "=" kv[2]
    }
    nd = split(base, d, ".")
    if (nd < 3) die(where() ": benchmark name '" name "' is not <family>.<method>.<where>/...")
    method = d[2]; for (i = 3; i < nd; i++) method = method "." d[i]
    key = d[1] " " method " " d[nd] " " N " " Z " " B SUBSEP (other == "" ? "-" : other)
    if (agg == "median") { median[key] = secs; seen[key] = 1 }
    else { v[key, ++cnt[key]] = secs; seen[key] = 1 }
}
# Median, min and max of the repetitions of key (insertion sort: a handful of values).
function rep_stats(key,    n, i, j, t, a) {
    n = cnt[key]
    for (i = 1; i <= n; i++) { t = v[key, i]; for (j = i; j > 1 && a[j - 1] > t; j--) a[j] = a[j - 1]; a[j] = t }
    lo = a[1]; hi = a[n]
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
    if (died) exit 1
    for (i = 1; i <= files; i++)
        if (!(file_list[i] in table))
            die(file_list[i] ": no Google Benchmark CSV header 'name,iterations,real_time,...' (write it with --benchmark_out_format=csv)")
    for (key in seen) {
        split(key, kp, SUBSEP)
        if (cnt[key] > 0) { m = rep_stats(key); print kp[1], m, kp[2], lo, hi }
        else print kp[1], median[key], kp[2], median[key], median[key]
    }
}
