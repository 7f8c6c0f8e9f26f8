#!/bin/bash
# Writes small, realistic synthetic results in the formats of docs/results-format.md, so the plotting
# scripts can be developed and tested before (and independently of) real runs.
# Usage: make-synthetic-results.sh OUTROOT
#   OUTROOT/smoke/<config>/seed-<k>/{metrics.csv,scores_hist.csv,timing.csv,manifest.json}  (6 configs x 2 seeds)
#   OUTROOT/bench/<slug>/{sampling.csv,score_update.csv or .json,train_step.csv,context.json} (2 devices;
#   the second has no train_step rows, as on a device where the step benchmark was not run)
set -eu
root=${1:?usage: make-synthetic-results.sh OUTROOT}
suite=$root/smoke
configs="uniform-aug uniform-noaug last-loss-aug last-loss-noaug running-loss-aug running-loss-noaug"
epochs=12

write_manifest() { # file config seed
    local sampler=${2%-*aug} aug=true
    case $2 in *-noaug) aug=false ;; esac
    # Same structure as src/train/train.c writes (provenance as src/results/provenance.c, configuration, status).
    cat >"$1" <<EOF
{
  "isbench": {"version": "0.1.0", "commit": "d2ea488"},
  "command": "isbench suite --preset smoke --seeds 2",
  "device": {"name": "pthread-AMD EPYC 7B13", "vendor": "AuthenticAMD", "driver": "5.0+debian",
             "platform": "Portable Computing Language", "compute_units": 2},
  "clblast": "1.5.3", "clblast_tuning": "none",
  "host": {"name": "node1", "cpu": "AMD EPYC 7B13", "cores": 2, "os": "Debian GNU/Linux 12 (bookworm)",
           "kernel": "Linux 6.1.0 x86_64"},
  "load_average": {"start": [0.5, 0.4, 0.3], "end": [1.1, 0.9, 0.5]},
  "suite": "smoke", "preset": "smoke", "config": "$2", "seed": $3,
  "configuration": {"name": "$2", "preset": "smoke", "sampler": "$sampler", "augment": $aug, "width": 16,
                    "train_subset": 2048, "draw": "gumbel_topk", "weights": "none", "lr": 0.01, "batch": 128,
                    "milestones": [5, 9], "early_stop": "cumulative", "seed": $3},
  "started": "2026-11-28T20:00:00Z", "ended": "2026-11-28T20:10:00Z",
  "status": "finished", "stop_reason": "max_epochs", "message": null
}
EOF
}

for config in $configs; do
    for seed in 1 2; do
        dir=$suite/$config/seed-$seed
        mkdir -p "$dir"
        write_manifest "$dir/manifest.json" "$config" "$seed"
        # Curves: loss decays, accuracy saturates (lower test accuracy without augmentation, train
        # accuracy -> 1 without augmentation), lr drops at data epochs 5 and 9; per-seed noise.
        awk -v cfg="$config" -v seed="$seed" -v E=$epochs -v dir="$dir" 'BEGIN {
            srand(seed * 7 + length(cfg)); aug = (cfg !~ /noaug/)
            is_last = (cfg ~ /^last/); is_run = (cfg ~ /^running/)
            step_s = 3.1 + 0.2 * seed + (aug ? 0.3 : 0) + (is_last || is_run ? 0.05 : 0)
            top_test = (aug ? 0.86 : 0.78) + 0.02 * (seed - 1.5); top_train = aug ? 0.90 : 1.0
            m = dir "/metrics.csv"
            print "data_epoch,samples_seen,wall_s,lr,train_loss,train_acc,test_loss,test_acc" > m
            wall = 0
            for (e = 1; e <= E; e++) {
                wall += step_s + rand() * 0.2 + 0.8   # training + evaluation time of one data epoch
                lr = e <= 5 ? 0.01 : (e <= 9 ? 0.001 : 0.0001)
                prog = 1 - exp(-e / (aug ? 3.5 : 2.0))
                tl = 2.3 * exp(-e / (aug ? 4.0 : 2.0)) + (aug ? 0.25 : 0.002) + (is_last || is_run ? 0.03 : 0) + rand() * 0.02
                ta = 0.1 + (top_train - 0.1) * prog - rand() * 0.01; if (ta > 1) ta = 1
                va = 0.1 + (top_test - 0.1) * prog - rand() * 0.02
                vl = 2.3 * exp(-e / 3) + 0.45 + rand() * 0.05
                printf "%d,%d,%.3f,%g,%.5f,%.5f,%.5f,%.5f\n", e, e * 2048, wall, lr, tl, ta, vl, va > m
            }
            t = dir "/timing.csv"
            samp = (is_last || is_run) ? 0.012 * E : 0.002 * E
            print "phase,seconds" > t
            # init: compilation before the clock, long for the first run of the suite only
            printf "init,%.3f\ntraining,%.3f\nevaluation,%.3f\nsampling,%.4f\nscore_update,%.4f\ndata,%.3f\ntotal,%.3f\n",
                (cfg == "uniform-aug" && seed == 1) ? 40 : 2, wall - E * 1.0, E * 0.8, samp, 0.004 * E, E * 0.15, wall + samp > t
            # Score histogram: 60 log bins 1e-4..1e2 plus the two open bins; the distribution of the
            # per-sample losses starts wide around 2 and moves down (faster for running loss).
            h = dir "/scores_hist.csv"
            print "data_epoch,bin_lo,bin_hi,count" > h
            for (e = 1; e <= E; e++) {
                mu = log(2.3) - e * (is_run ? 0.45 : 0.35) * (aug ? 0.6 : 1.0); sd = 0.5 + 0.12 * e
                if (is_last && e <= 2) sd = 0.3          # warm-up epochs: scores still close together
                n = 2048; under = 0; over = 0
                for (b = 0; b < 60; b++) c[b] = 0
                for (k = 0; k < n; k++) {
                    z = sqrt(-2 * log(rand() + 1e-12)) * cos(6.283185 * rand())
                    lg = (mu + sd * z) / log(10)          # log10 of the score
                    if (lg < -4) under++; else if (lg >= 2) over++; else c[int((lg + 4) * 10)]++
                }
                printf "%d,0,1e-04,%d\n", e, under > h
                for (b = 0; b < 60; b++) printf "%d,%.6g,%.6g,%d\n", e, 10 ^ (-4 + b / 10), 10 ^ (-4 + (b + 1) / 10), c[b] > h
                printf "%d,1e+02,inf,%d\n", e, over > h
            }
        }'
    done
done

# Microbenchmarks: Google Benchmark CSV as written with --benchmark_out (context lines first, then the
# header; names quoted; device rows timed manually). Costs scale ~N (host) and ~N/throughput (device).
write_bench() { # slug device-name scale(device speed-up) with_train_step
    local dir=$root/bench/$1
    mkdir -p "$dir"
    cat >"$dir/context.json" <<EOF
{"device": {"name": "$2", "vendor": "synthetic", "driver": "1.0"}, "clblast": "1.5.3",
 "clblast_tuning": "$(case $1 in pocl-cpu) echo "/src/tuning/cpu-default.json at type level [CPU > default > default > default] (XgemmDirect, GemmRoutine)" ;;
                     *) echo "untuned (CLBlast defaults): no entry for GPU > synthetic > default > $2 in /src/tuning" ;; esac)",
 "command": "isbench-bench --benchmark_out=$dir/sampling.csv --benchmark_out_format=csv"}
EOF
    awk -v dir="$dir" -v s="$3" -v with_step="$4" 'function hdr(f) {
            print "2026-11-28T20:30:00+00:00" > f; print "Running ./isbench-bench" > f
            print "Run on (2 X 2450 MHz CPU s)" > f; print "Load Average: 1.20, 1.05, 0.98" > f
            print "name,iterations,real_time,cpu_time,time_unit,bytes_per_second,items_per_second,label,error_occurred,error_message,N" > f
        }
        function row(f, name, t_ns, unit, div) {
            printf "\"%s\",%d,%.4f,%.4f,%s,,,\"a, quoted label\",,,%d\n", name, 100, t_ns / div, t_ns / div * 1.02, unit, 1 > f
        }
        BEGIN {
            f = dir "/sampling.csv"; hdr(f)
            split("softmax alias cdf gumbel_topk gumbel_sort successive full_path", m, " ")
            split("1.0 3.0 2.0 2.5 4.0 30.0 6.0", cost, " ")
            for (i = 1; i <= 7; i++) for (N = 1000; N <= 10000000; N *= 10) {
                Z = int(N * 0.164)
                if (m[i] == "successive" && N > 100000) continue
                t = cost[i] * N * 2 * (1 + 0.05 * log(N)) + 2000
                row(f, "sampling." m[i] ".host/N:" N "/Z:" Z, t, "us", 1000)
                if (m[i] != "successive") row(f, "sampling." m[i] ".device/N:" N "/Z:" Z "/manual_time", t / s + 8000, "us", 1000)
            }
            # An error row must be skipped, not plotted.
            print "\"sampling.alias.device/N:100000000/Z:16400000/manual_time\",0,0,0,us,,,,true,\"out of device memory\"," > f
            f = dir "/score_update.csv"; hdr(f)
            split("last running fused_loss loss_only", u, " "); split("0.2 0.3 1.0 0.8", uc, " ")
            for (i = 1; i <= 4; i++) for (N = 1000; N <= 10000000; N *= 10) {
                row(f, "score_update." u[i] ".host/N:" N "/B:128", uc[i] * 128 * 5 + 0.001 * N, "ns", 1)
                row(f, "score_update." u[i] ".device/N:" N "/B:128/manual_time", uc[i] * 128 * 5 / s + 5000, "ns", 1)
            }
            if (with_step) {
                f = dir "/train_step.csv"; hdr(f)
                row(f, "train_step.w16.device/B:128/manual_time", 4.0e8 / s, "ms", 1e6)
                row(f, "train_step.w64.device/B:128/manual_time", 1.6e9 / s, "ms", 1e6)
            }
        }'
}
write_bench pocl-cpu "pthread-AMD EPYC 7B13" 1 1
write_bench nvidia-h200 "NVIDIA H200" 60 0
# The second device's score updates as Google Benchmark JSON (--benchmark_out_format=json), the other
# output format the scripts read.
awk -F, 'BEGIN { print "{\n  \"context\": {\"device.name\": \"NVIDIA H200\", \"device.driver\": \"580.159.04\"},\n  \"benchmarks\": [" }
    /^"score_update/ { gsub(/"/, "", $1)
        printf "%s    {\"name\": \"%s\", \"run_type\": \"iteration\", \"iterations\": %s, \"real_time\": %s, \"cpu_time\": %s, \"time_unit\": \"%s\"}",
               (n++ ? ",\n" : ""), $1, $2, $3, $4, $5 }
    END { print "\n  ]\n}" }' "$root/bench/nvidia-h200/score_update.csv" >"$root/bench/nvidia-h200/score_update.json"
rm "$root/bench/nvidia-h200/score_update.csv"
