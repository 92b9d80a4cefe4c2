#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Host time per kernel launch on the simulated GPU (tests/clients/fake_cupti.h): the stand-in CUPTI alone, then
# under `rooftime record --mode time` with the real CUPTI plugin (its launch callbacks, the collector's launch
# context, the activity buffers and the writer thread). The difference is rooftime's own cost per launch on a
# machine without a GPU; CUPTI's and the driver's own costs are bench/cupti_overhead.cu's, on a GPU.
#
#   bench/cupti_callbacks.sh [BUILD=build/relwt] [ROUNDS=5] [OTHER_PLUGIN_DIR]
#
# BUILD: a build with tests (gpu_sim_client) and CUDA; Release for meaningful numbers:
#   cmake -S . -B build/relwt -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON
#   cmake --build build/relwt --target rooftime rooftime_collector rooftime_cupti gpu_sim_client
# OTHER_PLUGIN_DIR: a folder with another librooftime_cupti.so (say a previous commit's) measured in the same
# rounds (ROOFTIME_PLUGIN_DIR), for an A/B.
set -euo pipefail
build=${1:-build/relwt}
rounds=${2:-5}
other=${3:-}
launches=100000
client="$build/tests/clients/gpu_sim_client"
[[ -x /usr/bin/time ]] || { echo "cupti_callbacks.sh: needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }
[[ -x "$client" ]] || { echo "cupti_callbacks.sh: no $client (build with tests, see the header)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export ROOFTIME_CACHE_DIR="$out/cache"
"$build/bin/rooftime" ceilings --cpu --quick -o "$out/machine.json" >/dev/null 2>&1
ns() { grep -o 'bench [0-9.]* ns' | awk '{print $2}'; }
# CPU time of a whole run (every thread: CUPTI's buffer threads, the writer) per launch, from /usr/bin/time.
cpu() { awk -v n=$((9 * launches)) '/^cpu / {printf "%.0f", ($2 + $3) * 1e9 / n}' "$1"; }
timed() { /usr/bin/time -f 'cpu %U %S' -o "$out/time" "$@"; }
declare -a plain rec alt recCpu altCpu
for ((r = 0; r < rounds; ++r)); do
    plain+=("$("$client" bench $launches | ns)")
    rec+=("$(timed "$build/bin/rooftime" record --mode time --machine "$out/machine.json" -o "$out/p%p.rtdb" -- \
        "$client" bench $launches 2>/dev/null | ns)")
    recCpu+=("$(cpu "$out/time")")
    if [[ -n "$other" ]]; then
        alt+=("$(ROOFTIME_PLUGIN_DIR="$other" timed "$build/bin/rooftime" record --mode time \
            --machine "$out/machine.json" -o "$out/q%p.rtdb" -- "$client" bench $launches 2>/dev/null | ns)")
        altCpu+=("$(cpu "$out/time")")
    fi
    rm -f "$out"/*.rtdb
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mp=$(median "${plain[@]}")
mr=$(median "${rec[@]}")
echo "rounds: $rounds of 9 × $launches launches (each round's figure: its median block)"
echo "plain (stand-in CUPTI, no tool)   ns/launch: ${plain[*]}  median $mp"
echo "rooftime --mode time               ns/launch: ${rec[*]}  median $mr  (+$(awk -v a="$mr" -v b="$mp" 'BEGIN{printf "%.0f", a-b}') ns)"
echo "  CPU of the whole run, all threads, ns/launch: ${recCpu[*]}  median $(median "${recCpu[@]}")"
if [[ -n "$other" ]]; then
    ma=$(median "${alt[@]}")
    echo "rooftime, plugin from $other  ns/launch: ${alt[*]}  median $ma  (+$(awk -v a="$ma" -v b="$mp" 'BEGIN{printf "%.0f", a-b}') ns)"
    echo "  CPU of the whole run, all threads, ns/launch: ${altCpu[*]}  median $(median "${altCpu[@]}")"
fi
