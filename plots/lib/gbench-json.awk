# Google Benchmark JSON output (--benchmark_out_format=json), flattened by json-flatten.awk, as the
# CSV that bench.awk reads: the same columns, so both output formats go through one parser.
# Input lines: "benchmarks[i].field<TAB>value". Output on stdout.
BEGIN {
    FS = "\t"
    print "name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,error_occurred,error_message"
}
function q(s) { gsub(/"/, "\"\"", s); return "\"" s "\"" }
function flush() {
    if (cur == "") return
    printf "%s,%s,%s,%s,%s,,,,%s,%s\n", q(v["name"]), v["iterations"], v["real_time"], v["cpu_time"], v["time_unit"],
           (v["error_occurred"] == "true" ? "true" : ""), q(v["error_message"])
    split("", v)
}
match($1, /^benchmarks\[[0-9]+\]\./) {
    idx = substr($1, 1, RLENGTH - 1); field = substr($1, RLENGTH + 1)
    if (idx != cur) { flush(); cur = idx }
    v[field] = $2
}
END { flush() }
