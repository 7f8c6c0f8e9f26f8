#!/bin/bash
# Turns isbench results into paper-style figures (gnuplot: PNG + PDF) and summary tables.
# Owns: finding and checking the inputs, the figure titles/captions, and calling the awk helpers
# (plots/lib/*.awk: validate + aggregate) and gnuplot scripts (plots/*.gp: draw).
# Only bash, POSIX awk and gnuplot are needed (no jq, no python).
set -u
plotdir=$(cd "$(dirname "$0")" && pwd)
lib=$plotdir/lib

usage() {
    cat <<'EOF'
usage: plots/make-figures.sh RESULTS_DIR... [-o OUTDIR] [options]

Each RESULTS_DIR is one of
  a training suite   results/<suite>/ holding <config>/seed-<k>/{metrics,timing,scores_hist}.csv
                     -> Figs. 1-3 (training loss, training accuracy, test accuracy against wall time
                        and against data epochs; mean over seeds, band = min-max over seeds),
                        Figs. 4-5 (score distributions of last and running loss), Fig. 6 (cost
                        breakdown), summary.csv and summary.md
  a benchmark device results/bench/<device-slug>/ holding Google Benchmark *.csv or *.json
                     (+ context.json)
                     -> sampling cost against N, score-update cost (host and device)
  results/bench/     every device directory in it
  results/           every suite and benchmark device directory in it
Two or more benchmark devices also give compare-devices.{png,pdf}: sampling time per device, and as
a share of the training steps it feeds (needs a train_step benchmark row on that device).

Output: OUTDIR (default RESULTS_DIR/figures; with several inputs OUTDIR/<name> each, and the
device comparison in OUTDIR/compare-devices, default <parent of the first device dir>/figures).

Options:
  -o, --out OUTDIR      where the figures go
  --target-acc PCT      target test accuracy (percent) for "time to target"
                        (default: 90% of the best mean last test accuracy over configurations)
  --target-frac F       the fraction of that default (default 0.9)
  --compare-method M    sampling method compared across devices (default full_path; else the
                        fastest device method at each N)
  --formats "png pdf"   output formats (default both)
  -h, --help
Exit status: 0 done, 1 missing or malformed input (the message names the file), 2 usage error.
EOF
}

die() { echo "make-figures: error: $*" >&2; exit 1; }
note() { echo "make-figures: note: $*" >&2; }
usage_error() { echo "make-figures: $*" >&2; echo "Try 'plots/make-figures.sh --help'." >&2; exit 2; }

outdir=""; target_acc=-1; target_frac=0.9; compare_method=full_path; formats="png pdf"
inputs=()
while [ $# -gt 0 ]; do
    case $1 in
        -o|--out) [ $# -ge 2 ] || usage_error "$1 needs a directory"; outdir=$2; shift 2 ;;
        --target-acc) [ $# -ge 2 ] || usage_error "$1 needs a percentage"; target_acc=$2; shift 2 ;;
        --target-frac) [ $# -ge 2 ] || usage_error "$1 needs a fraction"; target_frac=$2; shift 2 ;;
        --compare-method) [ $# -ge 2 ] || usage_error "$1 needs a method"; compare_method=$2; shift 2 ;;
        --formats) [ $# -ge 2 ] || usage_error "$1 needs a list"; formats=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        -*) usage_error "unknown option '$1'" ;;
        *) inputs+=("${1%/}"); shift ;;
    esac
done
[ ${#inputs[@]} -gt 0 ] || usage_error "no RESULTS_DIR given"
awk -v x="$target_acc" 'BEGIN { exit !(x == -1 || (x > 0 && x <= 100)) }' ||
    usage_error "--target-acc must be a percentage in (0,100], got '$target_acc'"
awk -v x="$target_frac" 'BEGIN { exit !(x > 0 && x <= 1) }' || usage_error "--target-frac must be in (0,1], got '$target_frac'"
for f in $formats; do [ "$f" = png ] || [ "$f" = pdf ] || usage_error "--formats takes png and/or pdf, got '$f'"; done
command -v gnuplot >/dev/null || die "gnuplot not found: install it (apt-get install gnuplot-nox)"

# ---- helpers ------------------------------------------------------------------------------------

# A JSON file flattened to "path<TAB>value" lines (dies naming the file if it is malformed).
json_flat() { awk -f "$lib/json-flatten.awk" "$1" || exit 1; }
# First of the given paths present in flattened JSON ($1); empty if none.
json_pick() {
    local flat=$1 k v; shift
    for k in "$@"; do
        v=$(printf '%s\n' "$flat" | awk -F '\t' -v k="$k" '$1 == k && $2 != "" && $2 != "null" { print $2; exit }')
        [ -n "$v" ] && { printf '%s' "$v"; return; }
    done
}
# A gnuplot string literal of $1 for enhanced-text titles: quotes, backslashes and the enhanced-text
# control characters (_ ^ { } @ & ~) escaped, so device names print as they are.
# Lines of $1 become "\n" in the literal.
gp_str() {
    printf '%s\n' "$1" | awk '{ gsub(/\\/, "\\\\\\\\"); gsub(/"/, "\\\""); gsub(/[_^{}@&~]/, "\\\\\\\\&")
                               s = s (NR > 1 ? "\\n" : "") $0 } END { printf "\"%s\"", s }'
}
# A gnuplot string literal of a path (no enhanced-text escapes: gnuplot opens it as a file).
gp_path() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
# Shortens long names to fit a column-wide title.
shorten() { awk -v s="$1" -v n="${2:-44}" 'BEGIN { print (length(s) > n ? substr(s, 1, n - 1) "…" : s) }'; }

# Runs one gnuplot script for every output format and checks that each file came out non-trivial.
# Args: script out-basename, then gnuplot assignments (name=value, value in gnuplot syntax).
plot() {
    local script=$1 out=$2 fmt log; shift 2
    local assigns a
    assigns="plotdir=$(gp_path "$plotdir");"
    for a in "$@"; do assigns="$assigns $a;"; done
    for fmt in $formats; do
        log=$(gnuplot -e "fmt='$fmt'; out=$(gp_path "$out"); $assigns" "$plotdir/$script" 2>&1)
        if [ $? -ne 0 ]; then
            echo "$log" >&2; rm -f "$out.$fmt"
            die "gnuplot failed on $script for $out.$fmt (message above)"
        fi
        # gnuplot's messages go to gnuplot.log beside the figure, not the terminal. Its "empty x range
        # ... adjusting" (one x value, e.g. a single measured size) is harmless: gnuplot widens the
        # axis itself. Anything else is named in a note.
        if [ -n "$log" ]; then
            echo "$log" | sed "s|^|$(basename "$out").$fmt: |" >>"$(dirname "$out")/gnuplot.log"
            grep -v -E 'Warning: empty [xyz2]* ?range|^ *$' <<<"$log" >/dev/null &&
                note "gnuplot printed messages for $(basename "$out").$fmt: see $(dirname "$out")/gnuplot.log"
        fi
        [ "$(wc -c <"$out.$fmt" 2>/dev/null || echo 0)" -gt 1000 ] || die "$out.$fmt is missing or nearly empty after gnuplot"
    done
    made+=("$out")
}
caption() { printf -- '- `%s`: %s\n' "$(basename "$1")" "$2" >>"$captions"; }

# ---- classify the inputs ------------------------------------------------------------------------

is_suite() { compgen -G "$1/*/seed-*" >/dev/null; }
is_bench_device() {
    { [ -f "$1/context.json" ] || compgen -G "$1/*.csv" >/dev/null || compgen -G "$1/*.json" >/dev/null; } &&
        ! is_suite "$1" && [ "$(basename "$1")" != figures ] && [ "$(basename "$1")" != raw ]  # raw/: bench/run.sh's JSON
}
suites=(); benches=()
for d in "${inputs[@]}"; do
    [ -e "$d" ] || die "$d: no such directory (give a results/<suite> or results/bench/<device> directory)"
    [ -d "$d" ] || die "$d: not a directory"
    if is_suite "$d"; then suites+=("$d")
    elif is_bench_device "$d"; then benches+=("$d")
    else
        # A results root or results/bench: the suites and device directories one or two levels down.
        found=0
        for sub in "$d"/*/ "$d"/*/*/; do
            sub=${sub%/}
            [ -d "$sub" ] && [ "$(basename "$sub")" != figures ] || continue
            case $sub in */figures/*) continue ;; esac
            if is_suite "$sub"; then
                [ "$sub" = "$d/$(basename "$sub")" ] && { suites+=("$sub"); found=1; }
            elif is_bench_device "$sub" && ! is_suite "$(dirname "$sub")"; then benches+=("$sub"); found=1; fi
        done
        [ $found -eq 1 ] || die "$d holds neither training results (<config>/seed-<k>/metrics.csv) nor microbenchmark results (*.csv + context.json); see docs/results-format.md"
    fi
done
n_out=$(( ${#suites[@]} + ${#benches[@]} ))
# With -o and several inputs, each gets OUTDIR/<its name>; two inputs of the same name (s1/smoke and
# ref/smoke) get their parent's name in front (s1-smoke, ref-smoke), never one folder for both.
declare -A out_name=() name_count=()
for d in ${suites[@]+"${suites[@]}"} ${benches[@]+"${benches[@]}"}; do
    name_count[$(basename "$d")]=$(( ${name_count[$(basename "$d")]:-0} + 1 ))
done
for d in ${suites[@]+"${suites[@]}"} ${benches[@]+"${benches[@]}"}; do
    name=$(basename "$d")
    [ "${name_count[$name]}" -eq 1 ] || name="$(basename "$(cd "$d/.." && pwd)")-$name"
    for other in "${out_name[@]}"; do
        [ "$other" != "$name" ] || die "$d: two inputs would share the output folder '$name'; give them separate -o runs"
    done
    out_name[$d]=$name
done
out_for() { # input dir -> its output dir
    if [ -z "$outdir" ]; then echo "$1/figures"
    elif [ "$n_out" -eq 1 ]; then echo "$outdir"
    else echo "$outdir/${out_name[$1]}"; fi
}

# ---- training suites ----------------------------------------------------------------------------

make_suite() {
    local dir=$1 out data seed_dirs=() files=() configs=() sd cfg status flat first_flat="" n_configs
    out=$(out_for "$dir"); data=$out/data
    mkdir -p "$data" || die "cannot create $data"; rm -f "$out/gnuplot.log"
    captions=$out/captions.md; made=()
    for sd in "$dir"/*/seed-*; do
        [ -d "$sd" ] || continue
        # seed-<k>.old-<time>: a run that --restart moved aside, not part of the suite.
        [[ $(basename "$sd") =~ ^seed-[0-9]+$ ]] || { note "$sd: not a seed-<k> folder (moved aside by --restart?): ignored"; continue; }
        cfg=$(basename "$(dirname "$sd")")
        [ -f "$sd/manifest.json" ] || die "$sd/manifest.json: missing (every run directory has one; see docs/results-format.md)"
        flat=$(json_flat "$sd/manifest.json") || exit 1
        # The configuration is what the run's manifest says it is (isbench writes the folder from it).
        if [ "$(json_pick "$flat" configuration.name config)" != "$cfg" ]; then
            note "$sd: its manifest.json does not name the configuration '$cfg': ignored"; continue
        fi
        [ -n "$first_flat" ] || first_flat=$flat
        status=$(json_pick "$flat" status)
        if [ ! -f "$sd/metrics.csv" ]; then
            [ "$status" = running ] && { note "$sd: still running, no metrics.csv yet: left out"; continue; }
            die "$sd/metrics.csv: missing (run status '${status:-unknown}')"
        fi
        # An unfinished run before its first evaluation has a header-only metrics.csv: nothing to plot.
        if [ "$status" != finished ] && [ "$(grep -c '[0-9]' "$sd/metrics.csv")" -eq 0 ]; then
            note "$sd: status '${status:-unknown}', no evaluation yet: left out"; continue
        fi
        [ "$status" = finished ] || note "$sd: status '${status:-unknown}' (not finished): plotted as far as it got"
        files+=("$sd/metrics.csv")
        if [ -f "$sd/timing.csv" ]; then files+=("$sd/timing.csv")
        elif [ "$status" = finished ]; then die "$sd/timing.csv: missing in a finished run"
        else note "$sd/timing.csv: missing (run not finished): left out of Fig. 6"; fi
        if [ -f "$sd/scores_hist.csv" ]; then files+=("$sd/scores_hist.csv")
        elif [ "$status" = finished ] && [ "$(json_pick "$flat" configuration.sampler)" != uniform ]; then die "$sd/scores_hist.csv: missing in a finished $cfg run"
        fi
        seed_dirs+=("$sd")
        { [ ${#configs[@]} -gt 0 ] && [ "${configs[-1]}" = "$cfg" ]; } || configs+=("$cfg")
    done
    [ ${#seed_dirs[@]} -gt 0 ] || die "$dir: no run directories <config>/seed-<k>/ with results"
    for f in "${files[@]}"; do [ -s "$f" ] || die "$f: empty file"; done

    awk -v dir="$data" -v target_acc="$target_acc" -v target_frac="$target_frac" -v configs="${configs[*]}" \
        -f "$lib/common.awk" -f "$lib/suite.awk" "${files[@]}" || exit 1

    # Title lines: what, then preset + protocol, then device (from the first run's manifest).
    local preset device driver full_device protocol seeds_txt suite_name draw_text=""
    suite_name=$(basename "$dir")
    preset=$(json_pick "$first_flat" preset configuration.preset); preset=${preset:-$suite_name}
    device=$(json_pick "$first_flat" device.name device); driver=$(json_pick "$first_flat" device.driver)
    device=${device:-unknown device}; full_device="$device${driver:+ (driver $driver)}"
    # The driver goes into the title only when the line stays short enough for one column.
    [ -n "$driver" ] && [ $(( ${#device} + ${#driver} + 10 )) -le 34 ] && device="$device (driver $driver)"
    protocol=$(json_pick "$first_flat" protocol configuration.protocol)
    if [ -z "$protocol" ]; then
        local es w dr
        es=$(json_pick "$first_flat" configuration.early_stop); w=$(json_pick "$first_flat" configuration.weights)
        dr=$(json_pick "$first_flat" configuration.draw)
        protocol="stop ${es:-?}, weights ${w:-?}"
        draw_text=${dr:+, draws by $dr}
    fi
    local others
    others=$(for sd in "${seed_dirs[@]}"; do json_flat "$sd/manifest.json" | awk -F '\t' '$1 == "device.name" { print $2 }'; done | sort -u | wc -l)
    [ "$others" -le 1 ] || note "$dir: runs come from $others different devices; titles name the first one"
    seeds_txt=$(awk -F, 'NR > 1 { if (lo == "" || $2 < lo) lo = $2; if ($2 > hi) hi = $2 } END { print (lo == hi ? lo : lo "–" hi) }' "$out/summary.csv")
    local sub2 sub3
    sub2=$(shorten "$preset preset, $protocol"); sub3=$(shorten "$device")
    local t2; t2=$'\n'"$sub2"$'\n'"$sub3"
    echo "# Figures of $dir" >"$captions"
    echo "" >>"$captions"
    echo "Device: $full_device. Preset: $preset. Protocol: $protocol$draw_text. Seeds per configuration: $seeds_txt. Curves: mean over seeds; shaded band: min to max over seeds. Colour = sampler (uniform blue, last loss orange, running loss green); solid = augmented, dashed = not augmented." >>"$captions"
    echo "" >>"$captions"

    n_configs=$(sed -n 's/^configs = "\(.*\)"/\1/p' "$data/suite-params.gp" | wc -w)
    local fig what ycol logy ylab x xname
    for fig in 1 2 3; do
        case $fig in
            1) what="training loss"; ycol=6; logy=1; ylab="training loss" ;;
            2) what="training accuracy"; ycol=9; logy=0; ylab="training accuracy (%)" ;;
            3) what="test accuracy"; ycol=12; logy=0; ylab="test accuracy (%)" ;;
        esac
        for x in time epoch; do
            [ $x = time ] && xname="wall time" || xname="data epochs"
            plot curves.gp "$out/fig$fig-${what// /-}-$x" "datadir=$(gp_path "$data")" "ycol=$ycol" "logy=$logy" \
                "ylab=$(gp_str "$ylab")" "xaxis='$x'" \
                "title_text=$(gp_str "Fig. $fig: $what against $xname$t2")"
            caption "${made[-1]}" "Fig. $fig: $what against $xname, $n_configs configurations, mean over seeds ($seeds_txt) with min–max band$([ $x = time ] && echo "; x = mean over seeds of the wall time at each evaluation")."
        done
    done

    local sampler num
    for sampler in last-loss running-loss; do
        [ $sampler = last-loss ] && num=4 || num=5
        if ! grep -q "$sampler-" <(grep '^score_configs' "$data/suite-params.gp"); then
            note "$dir: no scores_hist.csv for $sampler: Fig. $num skipped"; continue
        fi
        plot scores.gp "$out/fig$num-scores-$sampler" "datadir=$(gp_path "$data")" "sampler='$sampler'" \
            "title_text=$(gp_str "Fig. $num: scores under ${sampler/-/ }$t2")"
        caption "${made[-1]}" "Fig. $num: distribution of the ${sampler/-/ } scores per data epoch (all seeds pooled): colour = share of the samples in each log-spaced bin; the outer rows are the open bins below 1e-4 and above 1e2."
    done

    if [ "$(grep -c '^[a-z]' "$data/cost.dat")" -gt 0 ]; then
        plot cost.gp "$out/fig6-cost-breakdown" "datadir=$(gp_path "$data")" \
            "title_text=$(gp_str "Fig. 6: where the time goes (mean per run)$t2")"
        caption "${made[-1]}" "Fig. 6: time per run by phase (timing.csv, mean over seeds); init = kernel compilation and one warm-up step before the run's clock; the number above a bar is the sampling share of the total time (init excluded). $(u=$(sed -n 's/^untimed = "\(.*\)"/\1/p' "$data/suite-params.gp"); [ -n "$u" ] && echo "Not timed apart (nan in timing.csv, inside another phase, so not in the legend): $u.")"
    else
        note "$dir: no timing.csv in any run: Fig. 6 skipped"
    fi
    { echo ""; echo "Summary table: summary.csv, summary.md."; } >>"$captions"
    echo "make-figures: $dir -> $out (${#made[@]} figures x $(echo $formats | wc -w) formats, summary.csv, summary.md, captions.md)"
}

# ---- microbenchmarks ----------------------------------------------------------------------------

# Device name of a benchmark directory: context.json, else the CSV context lines, else the slug.
bench_device_name() {
    local d=$1 name="" flat
    if [ -f "$d/context.json" ]; then
        flat=$(json_flat "$d/context.json") || exit 1
        name=$(json_pick "$flat" device.name device context.device)
    fi
    # Google Benchmark JSON keeps the custom context (device, driver) in its "context" object.
    local f
    for f in "$d"/*.json; do
        [ -n "$name" ] || [ ! -f "$f" ] || [ "$(basename "$f")" = context.json ] && continue
        flat=$(json_flat "$f") || exit 1
        name=$(json_pick "$flat" context.device.name context.device)
    done
    [ -n "$name" ] || name=$(cat "$d"/*.csv 2>/dev/null | sed -n 's/^device\(\.name\)\{0,1\}: //p' | head -1)
    printf '%s' "${name:-$(basename "$d")}"
}

# The CLBlast tuning a benchmark directory ran with (context.json's clblast_tuning, as
# isb_clblast_tuning_applied() words it), short: "untuned", "unknown", or each entry's file name
# and match level ("FILE (device level) + FILE (type level)").
bench_device_tuning() {
    local d=$1 text=""
    [ -f "$d/context.json" ] && text=$(json_pick "$(json_flat "$d/context.json")" clblast_tuning context.clblast_tuning)
    case "$text" in
        "") echo unknown ;;
        untuned* | none*) echo untuned ;;
        *) printf '%s\n' "$text" | awk -v RS='; ' 'NF { f = $1; sub(/.*\//, "", f); l = ""
               if (match($0, / at [a-z-]+ level /)) l = " (" substr($0, RSTART + 4, RLENGTH - 5) ")"
               out = out (out ? " + " : "") f l } END { print out }' ;;
    esac
}

# Google Benchmark output files of a device directory: *.csv, and *.json other than context.json.
bench_files() { local f; for f in "$1"/*.csv "$1"/*.json; do [ -e "$f" ] && [ "$(basename "$f")" != context.json ] && echo "$f"; done; }

# Normalised rows of a device directory (lib/bench.awk) into $2; JSON files are converted to the
# same CSV first (into $2.<name>.csv).
bench_table() {
    local d=$1 f csvs=()
    while IFS= read -r f; do
        [ -s "$f" ] || die "$f: empty file"
        case $f in
            *.json) awk -f "$lib/json-flatten.awk" "$f" >"$2.flat" || exit 1
                    awk -f "$lib/gbench-json.awk" "$2.flat" >"$2.$(basename "$f").csv" || exit 1
                    csvs+=("$2.$(basename "$f").csv") ;;
            *) csvs+=("$f") ;;
        esac
    done < <(bench_files "$d")
    [ ${#csvs[@]} -gt 0 ] || die "$d: no benchmark CSV or JSON files (run isbench-bench --benchmark_out=$d/NAME.csv --benchmark_out_format=csv)"
    awk -f "$lib/common.awk" -f "$lib/bench.awk" "${csvs[@]}" >"$2" || exit 1
    [ -s "$2" ] || die "$d: the benchmark files hold no rows without errors"
}

# Series of one benchmark family for a log-log plot: one file per method.where, x = N (or the second
# argument when N does not vary). Per x: |Z| closest to 0.16 N (lib/common.awk), else the largest B.
# Prints the series list.
bench_series() { # table family data-prefix
    awk -v fam="$2" -v pre="$3" -f "$lib/common.awk" -f "$lib/bench-series.awk" "$1"
}

make_bench() {
    local dir=$1 out data table name series
    out=$(out_for "$dir"); data=$out/data
    mkdir -p "$data" || die "cannot create $data"; rm -f "$out/gnuplot.log"
    captions=$out/captions.md; made=()
    table=$data/bench.tsv
    bench_table "$dir" "$table"
    name=$(bench_device_name "$dir") || exit 1
    echo "# Microbenchmark figures of $dir" >"$captions"; echo "" >>"$captions"
    echo "Device: $name. Times per call from Google Benchmark (device rows: device time)." >>"$captions"; echo "" >>"$captions"
    local fam what xl
    for fam in sampling score_update; do
        for f in "$data/$fam"-*.dat; do [ -e "$f" ] && rm -f "$f"; done
        series=$(bench_series "$table" "$fam" "$data/$fam")
        if [ -z "$series" ]; then note "$dir: no $fam benchmark rows: its figure is skipped"; continue; fi
        if [ $fam = sampling ]; then what="sampling cost against N (|Z| ≈ 0.16 N)"; xl="N (scores)"
        else what="score-update cost"; xl="N (scores)"; fi
        local ns one_n=0 at="sampling at the measured |Z| closest to 0.16 N (the last-loss ratio 8192/50000), score updates at the largest batch B measured"
        ns=$(awk -v f=$fam '$1 == f { print $4 }' "$table" | sort -u)
        if [ "$(wc -l <<<"$ns")" -le 1 ]; then  # one N: every measured |Z| (or B) against itself, linear x
            one_n=1
            if [ $fam = sampling ]; then what="sampling cost against |Z| at N = $ns"; xl="|Z| (samples drawn)"
            else what="score-update cost against B at N = $ns"; xl="B (batch)"; fi
            at="every measured $([ $fam = sampling ] && echo "|Z|" || echo B) at N = $ns"
        fi
        plot bench.gp "$out/bench-${fam//_/-}" "datadir=$(gp_path "$data")" "prefix='$fam'" "series='$series'" \
            "xlab=$(gp_str "$xl")" "title_text=$(gp_str "$what"$'\n'"$(shorten "$name")")" "xlinear=$one_n"
        caption "${made[-1]}" "$what on $name, $([ $one_n = 1 ] && echo "log time axis" || echo "log–log"); solid = on the device, dashed = on the host CPU; points = median over the repetitions, bars = their range (min–max); $at."
    done
    echo "make-figures: $dir -> $out (${#made[@]} figures)"
}

# Sampling overhead across devices: time per sampler epoch, and as a share of the training steps of
# that epoch (|Z|/B steps of the device's train_step benchmark).
make_compare() {
    local out data d i=0 list="" names="" steps_note="" t name tuning tuning_note=""
    if [ -n "$outdir" ]; then out=$outdir/compare-devices; else out=$(dirname "${benches[0]}")/figures; fi
    data=$out/data; mkdir -p "$data" || die "cannot create $data"; rm -f "$out/gnuplot.log"
    captions=$out/captions.md; made=()
    local table_csv=$out/compare-devices.csv
    echo "device,slug,method,N,Z,sampling_s,train_step_s,train_step_batch,steps_per_sampler_epoch,share_pct,clblast_tuning" >"$table_csv"
    for d in "${benches[@]}"; do
        i=$((i + 1)); t=$data/dev$i.tsv
        bench_table "$d" "$t"
        name=$(bench_device_name "$d") || exit 1
        tuning=$(bench_device_tuning "$d")
        # Step time: the widest network's train_step row at the largest batch.
        awk -v m="$compare_method" -v dev="$name" -v slug="$(basename "$d")" -v out="$data/dev$i" -v csv="$table_csv" -v tuning="$tuning" \
            -f "$lib/common.awk" -f "$lib/compare.awk" "$t" >"$data/dev$i.info"
        [ -s "$data/dev$i.dat" ] || die "$d: no sampling.*.device benchmark rows to compare"
        sort -n -o "$data/dev$i.dat" "$data/dev$i.dat"
        read -r how step_row <"$data/dev$i.info"
        [ "$how" = method ] || note "$d: no sampling.$compare_method.device rows: compared with the fastest device method at each N"
        if [ "$step_row" = none ]; then
            note "$d: no train_step benchmark row: '$name' is left out of the share panel"
            steps_note="${steps_note:+$steps_note; }$(shorten "$name" 30): no train_step row"
        fi
        # Two directories of the same device model stay apart in the legend by their slugs.
        name=$(shorten "$name" 40)
        case "|$names" in *"|$name|"*) name="$(shorten "$name" 28) ($(basename "$d"))" ;; esac
        # An untuned device runs CLBlast's generic defaults: its GEMM-bound step is not the hardware's.
        [ "$tuning" = untuned ] && name="$name [untuned]"
        tuning_note="${tuning_note:+$tuning_note; }$name: $tuning"
        list="$list dev$i"; names="$names$name|"
    done
    # Rows by device, then N; the same as a Markdown table (a device model measured on several
    # machines, e.g. gathered from bench/run.sh --tag, named with its folder in each row).
    { head -n 1 "$table_csv"; tail -n +2 "$table_csv" | sort -t, -k2,2 -k4,4n; } >"$table_csv.tmp" && mv "$table_csv.tmp" "$table_csv"
    awk -F '",' 'FNR == NR { split($2, f, ","); if (!((f[1], $1) in seen)) { seen[f[1], $1]; slugs[$1]++ }; next }
        FNR == 1 { print "| device | method | N | \\|Z\\| | sampling (ms) | train step (ms) | share of the steps | CLBlast tuning |"; print "|---|---|---:|---:|---:|---:|---:|---|"; next }
        { dev = substr($1, 2); n = split($2, f, ","); if (slugs[$1] > 1) dev = dev " (" f[1] ")"
          printf "| %s | %s | %s | %s | %.4g | %s | %s | %s |\n", dev, f[2], f[3], f[4], 1000 * f[5],
                 (f[6] == "" ? "–" : sprintf("%.4g", 1000 * f[6])), (f[9] == "" ? "–" : f[9] "%"), substr(f[10], 2, length(f[10]) - 2) }' "$table_csv" "$table_csv" >"${table_csv%.csv}.md"
    local share_panel=1
    if ! cat "$data"/dev*.dat | awk '$3 != "NaN" { found = 1 } END { exit !found }'; then
        share_panel=0; note "no device has a train_step benchmark row: the share-of-a-training-step panel is skipped"
    fi
    plot compare.gp "$out/compare-devices" "datadir=$(gp_path "$data")" "series='${list# }'" "names=$(gp_str "${names%|}")" \
        "share_panel=$share_panel" "method_text=$(gp_str "${compare_method//_/ }")" "steps_note=$(gp_str "$steps_note")"
    {
        echo "# Sampling overhead across devices"; echo ""
        echo "- \`compare-devices\`: (a) time of one sampler epoch's sampling (sampling.$compare_method.device, largest |Z| per N; the fastest device method where $compare_method is absent) per device, median over the repetitions with their range (min–max) as bars; (b) that time as a share of the training steps it feeds: |Z|/B steps of the device's train_step row (widest network, largest B).${steps_note:+ Not in (b):$steps_note} CLBlast tuning per device (\`isbench devices\`; [untuned] = CLBlast's generic defaults, run \`isbench tune\`): $tuning_note."
        echo "- \`compare-devices.csv\`, \`compare-devices.md\`: the numbers behind both panels."
    } >"$captions"
    echo "make-figures: ${#benches[@]} devices -> $out (compare-devices, compare-devices.csv, compare-devices.md)"
}

for d in ${suites[@]+"${suites[@]}"}; do make_suite "$d"; done
for d in ${benches[@]+"${benches[@]}"}; do make_bench "$d"; done
[ ${#benches[@]} -ge 2 ] && make_compare
exit 0
