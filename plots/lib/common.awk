# Helpers shared by the plotting awk programs (load with: awk -f lib/common.awk -f prog.awk).
# Plain POSIX awk (Debian's default mawk): no gawk extensions.

# Splits one CSV line into f[1..n] and returns n. Handles "quoted, fields" and "" escapes, which
# Google Benchmark writes for names and labels.
function csv_split(line, f,    n, i, c, q, cur) {
    n = 0; cur = ""; q = 0
    sub(/\r$/, "", line)
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (q) {
            if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur "\""; i++ } else q = 0 }
            else cur = cur c
        } else if (c == "\"") q = 1
        else if (c == ",") { f[++n] = cur; cur = "" }
        else cur = cur c
    }
    f[++n] = cur
    return n
}

# A finite decimal number (integer, fraction or exponent form).
function is_num(s) { return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/ }

# Stops with a message naming the file and line: no silent empty plots.
function die(msg) {
    printf "make-figures: error: %s\n", msg > "/dev/stderr"
    died = 1; exit 1
}
function where() { return FILENAME ":" FNR }
function note(msg) { printf "make-figures: note: %s\n", msg > "/dev/stderr" }

# Maps header names to column numbers in col[]; dies naming the file if a required column is missing.
function need_columns(required, col,    n, f, i, want, k) {
    n = csv_split($0, f)
    split("", col)
    for (i = 1; i <= n; i++) col[f[i]] = i
    k = split(required, want, ",")
    for (i = 1; i <= k; i++)
        if (!(want[i] in col))
            die(FILENAME ": header lacks column '" want[i] "' (expected " required "; see docs/results-format.md)")
}
function is_nan(s) { return tolower(s) ~ /^[-+]?(nan|inf|infinity)$/ }

# Sampling benchmarks measure several |Z| per N; curves against N use the |Z| closest to the study's
# last-loss ratio |Z|/N = 8192/50000 (about 0.16), so every N is measured at the same relative size.
function z_ratio_distance(z, n) { return (z + 0 > 0 && n + 0 > 0) ? abs_(log(z / (0.16384 * n))) : 1e9 }
function abs_(x) { return x < 0 ? -x : x }
