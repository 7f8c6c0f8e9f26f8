#!/bin/bash
# Checks that two results folders of a suite hold the same runs with the same results, as a sharded,
# parallel or Slurm-run suite must match a single `isbench suite`:
#   - the same files (figures/ and checkpoint files of unfinished runs aside),
#   - metrics.csv equal except the wall_s column, scores_hist.csv byte for byte,
#   - each manifest.json with status "finished" and the same configuration, suite and seed.
# timing.csv and the manifests' times and device are allowed to differ.
# usage: compare-results.sh EXPECTED_SUITE_DIR ACTUAL_SUITE_DIR   (exit 0 same, 1 different)
set -u
want=${1:?usage: compare-results.sh EXPECTED_SUITE_DIR ACTUAL_SUITE_DIR}
got=${2:?usage: compare-results.sh EXPECTED_SUITE_DIR ACTUAL_SUITE_DIR}
flatten=$(cd "$(dirname "$0")/../plots/lib" && pwd)/json-flatten.awk
bad=0
differ() { echo "compare-results: $*" >&2; bad=1; }

files() { (cd "$1" && find . -path ./figures -prune -o -type f ! -name '*.log' -print | LC_ALL=C sort); }
[ -n "$(files "$want")" ] || differ "$want holds no results"
diff <(files "$want") <(files "$got") >&2 || differ "the folders hold different files (< $want, > $got)"

# metrics.csv without the column named wall_s
no_wall() { awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "wall_s") w = i }
                     { s = ""; for (i = 1; i <= NF; i++) if (i != w) s = s (s == "" ? "" : ",") $i; print s }' "$1"; }
manifest_key() { awk -f "$flatten" "$1" | grep -E '^(configuration\.|suite|seed|config|status)'; }
while read -r f; do
    [ -f "$got/$f" ] || continue
    case $f in
        */metrics.csv) diff <(no_wall "$want/$f") <(no_wall "$got/$f") >&2 || differ "$f: metrics differ" ;;
        */scores_hist.csv) cmp -s "$want/$f" "$got/$f" || differ "$f: score histograms differ" ;;
        */manifest.json)
            grep -q '"status": "finished"' "$got/$f" || differ "$got/$f: run not finished"
            diff <(manifest_key "$want/$f") <(manifest_key "$got/$f") >&2 || differ "$f: configuration differs" ;;
    esac
done < <(files "$want")
n=$(files "$want" | grep -c '/metrics.csv$')
[ $bad -eq 0 ] && echo "compare-results: $got matches $want ($n runs)"
exit $bad
