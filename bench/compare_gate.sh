#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# How often `rooftime compare` raises a false alarm on unchanged code and how often it catches a real slowdown,
# on real recorded runs of this machine, next to the gate most CI scripts use: "fail when the mean time of an
# item grew by 5 % or more" (no statistics). Same runs, same draws, same threshold.
#
# Usage: bench/compare_gate.sh [BUILD=build/release] [OUT=bench-out/compare] [DRAWS=200]
#
# For two run lengths (--iters 10 and 100), records a pool of 24 runs of `triad --n 1000000 --iters I` (A), 12
# runs with 10 % more iterations (B) and 12 with 30 % more (C): more work in the triad region, the slowdowns to
# catch), interleaved so that load on the machine hits all. Then, DRAWS times each, with 3 and with 5 runs per
# side: A runs against other A runs (any alarm is a false alarm), A against B and A against C (the triad region
# must be flagged). Prints the rates of both gates as a Markdown table (about 2 minutes on 2 cores).
set -euo pipefail

build=${1:-build/release}
out=${2:-bench-out/compare}
draws=${3:-200}
rooftime=$build/bin/rooftime
triad=$build/samples/cpu/triad
for f in "$rooftime" "$triad"; do
    if [[ ! -x $f ]]; then
        echo "bench/compare_gate.sh: $f is missing; build it: cmake --workflow --preset release" >&2
        exit 2
    fi
done
rm -rf "$out"
# Two run lengths: short runs (triad ~12 ms per run here) are noisy, longer ones average the noise out.
for iters in 10 100; do
    more=$((iters + iters / 10))
    most=$((iters + 3 * iters / 10))
    mkdir -p "$out/$iters/A" "$out/$iters/B" "$out/$iters/C"
    echo "== recording 24 runs with --iters $iters, 12 with --iters $more and 12 with --iters $most" >&2
    for i in $(seq 1 24); do
        "$rooftime" record -o "$out/$iters/A/%p.rtdb" -- "$triad" --n 1000000 --iters "$iters" >/dev/null 2>&1
        if ((i % 2 == 0)); then
            "$rooftime" record -o "$out/$iters/B/%p.rtdb" -- "$triad" --n 1000000 --iters "$more" >/dev/null 2>&1
        else
            "$rooftime" record -o "$out/$iters/C/%p.rtdb" -- "$triad" --n 1000000 --iters "$most" >/dev/null 2>&1
        fi
    done
done

python3 - "$rooftime" "$out" "$draws" <<'PY'
import glob, json, random, subprocess, sys
rooftime, out, draws = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(7)

def compare(base, cur):
    r = subprocess.run([rooftime, "compare", *base, "--current", *cur, "--format", "json", "--by", "range"],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"rooftime compare failed: {r.stderr}")
    return json.loads(r.stdout)

def naive_alarm(j):
    # The plain gate: any item (or the run) whose mean time per run grew by 5 % or more.
    rows = [j["run"], *j["items"]]
    return [x["name"] for x in rows if x["change"] is not None and x["change"] >= 0.05]

print("| triad per run | runs per side | false alarms: rooftime compare | false alarms: mean +5 % gate | "
      "+10 % caught: rooftime | +10 % caught: mean gate | +30 % caught: rooftime | +30 % caught: mean gate |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
notes = []
for iters in (10, 100):
    A = sorted(glob.glob(f"{out}/{iters}/A/*.rtdb"))
    B = sorted(glob.glob(f"{out}/{iters}/B/*.rtdb"))
    C = sorted(glob.glob(f"{out}/{iters}/C/*.rtdb"))
    times = []
    for f in A:
        j = compare([f], [f])
        times.append(next(x for x in j["items"] if x["name"] == "triad")["baseline"]["mean_s"])
    times.sort()
    mean = sum(times) / len(times)
    cv = (sum((t - mean) ** 2 for t in times) / (len(times) - 1)) ** 0.5 / mean
    for k in (3, 5):
        s = {"same_ours": 0, "same_naive": 0, "slow_ours": 0, "slow_naive": 0, "big_ours": 0, "big_naive": 0}
        for _ in range(draws):
            pick = rng.sample(A, 2 * k)
            j = compare(pick[:k], pick[k:])
            s["same_ours"] += j["failed"]
            s["same_naive"] += bool(naive_alarm(j))
            j = compare(rng.sample(A, k), rng.sample(B, k))
            triad = next(x for x in j["items"] if x["name"] == "triad")
            s["slow_ours"] += triad["verdict"] == "regression"
            s["slow_naive"] += "triad" in naive_alarm(j)
            j = compare(rng.sample(A, k), rng.sample(C, k))
            triad = next(x for x in j["items"] if x["name"] == "triad")
            s["big_ours"] += triad["verdict"] == "regression"
            s["big_naive"] += "triad" in naive_alarm(j)
        r = lambda n: f"{n}/{draws} ({100 * n / draws:.1f} %)"
        print(f"| {1e3 * mean:.1f} ms (run-to-run CV {100 * cv:.1f} %) | {k} | {r(s['same_ours'])} | "
              f"{r(s['same_naive'])} | {r(s['slow_ours'])} | {r(s['slow_naive'])} | {r(s['big_ours'])} | "
              f"{r(s['big_naive'])} |")
PY
