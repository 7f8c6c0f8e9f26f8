# Normalises the Google Benchmark CSV files of one device directory into one table, on stdout:
#   family method where N Z B seconds other  (one row per benchmark; "-" for an absent argument;
#                                             other = the remaining ARG=value pairs, e.g. W=16)
# Names are <family>.<method>.<where>/<ARG>:<value>/... (docs/results-format.md). Time is real_time
# converted to seconds (device rows use manual time, which Google Benchmark reports as real_time).
# Repetitions: the _median aggregate if present, else the mean of the plain rows. Rows with
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
    if (!is_num(f[col["real_time"]])) die(where() ": real_time '" f[col["real_time"]] "' is not a number")
    u = f[col["time_unit"]]
    scale = u == "ns" ? 1e-9 : u == "us" ? 1e-6 : u == "ms" ? 1e-3 : u == "s" ? 1 : -1
    if (scale < 0) die(where() ": unknown time_unit '" u "' (expected ns, us, ms or s)")
    secs = f[col["real_time"]] * scale
    agg = ""
    if (match(name, /_(mean|median|stddev|cv)$/)) { agg = substr(name, RSTART + 1); name = substr(name, 1, RSTART - 1) }
    if (agg != "" && agg != "median") next
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
    else { sum[key] += secs; cnt[key]++; seen[key] = 1 }
}
END {
    if (died) exit 1
    for (i = 1; i <= files; i++)
        if (!(file_list[i] in table))
            die(file_list[i] ": no Google Benchmark CSV header 'name,iterations,real_time,...' (write it with --benchmark_out_format=csv)")
    for (key in seen) { split(key, kp, SUBSEP); print kp[1], ((key in median) ? median[key] : sum[key] / cnt[key]), kp[2] }
}
