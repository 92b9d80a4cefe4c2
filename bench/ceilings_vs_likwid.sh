#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rooftime ceilings against likwid-bench (Debian package likwid) on the same machine, in one run.
# Usage: bench/ceilings_vs_likwid.sh [BUILD=build/release] [OUT=bench-out/ceilings] [ROUNDS=3]
#        ANALYSE_ONLY=1 bench/ceilings_vs_likwid.sh ... prints the table again from the raw outputs in OUT.
#
# Runs, ROUNDS times in turn, `rooftime ceilings` (full mode) and then likwid-bench's peakflops kernels on one core
# and its load/store/copy/stream kernels at working sets inside L1, L2 (two sets), L3 (two sets) and DRAM (one
# core, and all cores for DRAM), using the AVX-512 kernels where the CPU has AVX-512 and the AVX/AVX2 ones otherwise. Interleaved rounds:
# on a shared machine the load drifts, and drift then hits both tools alike. Prints a Markdown table: each
# likwid-bench number (per round the best of the level's sets; median of the rounds, with their range) beside
# rooftime's plateau value for that level and its sweep point nearest to likwid's largest set of the level
# (medians of the rounds), the differences of the medians and of each tool's best round (a roof is the best the
# machine was seen to do, and interference on a shared host only ever slows a run), and bytes per cycle at
# rooftime's measured clock. On AVX2 CPUs a second table runs rooftime's own stream kernels inside likwid-bench
# (bench/likwid/*.ptt, which likwid-bench loads from $HOME/.likwid/bench, here a temporary HOME): with equal
# kernels, what differs is the two harnesses. Raw outputs stay in OUT.
set -euo pipefail

build=${1:-build/release}
out=${2:-bench-out/ceilings}
rounds=${3:-3}
rooftime=$build/bin/rooftime
analyse_only=${ANALYSE_ONLY:-0}
if [[ $analyse_only != 1 && ! -x $rooftime ]]; then
    echo "bench/ceilings_vs_likwid.sh: $rooftime is missing; build it: cmake --workflow --preset release" >&2
    exit 2
fi
if [[ $analyse_only != 1 ]] && ! command -v likwid-bench >/dev/null; then
    echo "bench/ceilings_vs_likwid.sh: likwid-bench not found; install it: apt-get install likwid" >&2
    exit 2
fi
mkdir -p "$out"
cores=$(nproc)

if grep -qw avx512f /proc/cpuinfo; then
    v=avx512
    peak64=peakflops_avx512_fma
    peak32=peakflops_sp_avx512_fma
    stream=stream_avx512_fma
else
    v=avx
    peak64=peakflops_avx_fma
    peak32=peakflops_sp_avx_fma
    stream=stream_avx_fma
fi
cache_kib() { # level -> size in KiB of cpu0's data/unified cache at that level (sysfs, else likwid's CPUID)
    local d
    if [[ ! -d /sys/devices/system/cpu/cpu0/cache ]]; then
        likwid-topology 2>/dev/null | awk -v want="$1" '
            /^Level:/ { level = $2 }
            /^Size:/ && level == want { print ($3 == "MB" ? $2 * 1024 : $2); exit }'
        return
    fi
    for d in /sys/devices/system/cpu/cpu0/cache/index*; do
        if [[ $(cat "$d/level") == "$1" && $(cat "$d/type") != Instruction ]]; then
            local s
            s=$(cat "$d/size")
            case $s in *K) echo "${s%K}" ;; *M) echo $((${s%M} * 1024)) ;; *) echo $((s / 1024)) ;; esac
            return
        fi
    done
    echo 0
}
# Working sets (KiB) inside each level: half of L1d; a quarter and half of L2; a sixteenth and a quarter of L3;
# far beyond L3. likwid-bench's value for a level is its best over that level's sets, as rooftime's plateau is
# the level's best: a single set can sit where a shared L3 already declines.
l1=$(($(cache_kib 1) / 2))
l2s=$(($(cache_kib 2) / 4))
l2=$(($(cache_kib 2) / 2))
l3s=$(($(cache_kib 3) / 16))
# Past L2 by a margin on CPUs whose L3 is small against their L2 (8 MiB L3, 1.25 MiB L2: L3/16 would sit in L2).
l3q=$(($(cache_kib 3) / 4))
((l3s < 4 * $(cache_kib 2))) && l3s=$((4 * $(cache_kib 2)))
((l3s >= l3q)) && l3s=$((l3q / 2))
# Without sysfs the L3 size is CPUID's, which in a VM may be the host's whole L3 (508 MiB on the Zen 5 VM):
# sets of 4 and 8 times L2, inside the L3 of any current core complex (16 MiB or more).
if [[ ! -d /sys/devices/system/cpu/cpu0/cache ]]; then
    l3s=$((4 * $(cache_kib 2)))
    l3q=$((8 * $(cache_kib 2)))
fi
dram=1048576

run_likwid() { # name test workgroup round
    local name=$1 test=$2 wg=$3 k=$4
    HOME=$likwid_home likwid-bench -t "$test" -w "$wg" >"$out/likwid-$name.$k.txt" 2>&1 || true
}
# rooftime's kernels as likwid-bench kernels (AVX2 only: on AVX-512 rooftime's streams use zmm, not written yet).
likwid_home=$(mktemp -d)
trap 'rm -rf "$likwid_home"' EXIT
equal=0
if [[ $v == avx ]]; then
    equal=1
    mkdir -p "$likwid_home/.likwid/bench/x86-64"
    cp "$(dirname "$0")/likwid/"*.ptt "$likwid_home/.likwid/bench/x86-64/"
fi
# Re-tabulating: the second table only where the raw outputs have it (runs before session 11 do not).
if [[ $analyse_only == 1 ]] && ! compgen -G "$out/likwid-rtload-*" >/dev/null; then equal=0; fi

for ((k = 1; k <= rounds; k++)); do
    [[ $analyse_only == 1 ]] && break
    echo "== round $k of $rounds: rooftime ceilings --cpu (full mode)" >&2
    /usr/bin/time -f "%e" -o "$out/rooftime.$k.seconds" "$rooftime" ceilings --cpu -o "$out/machine.$k.json" \
        >"$out/rooftime.$k.txt" 2>"$out/rooftime.$k.stderr"
    echo "== round $k of $rounds: likwid-bench" >&2
    run_likwid fp64 "$peak64" "S0:${l1}kB:1" "$k"
    run_likwid fp32 "$peak32" "S0:${l1}kB:1" "$k"
    for kb in $l1 $l2s $l2 $l3s $l3q $dram; do
        run_likwid "load-$kb" "load_$v" "S0:${kb}kB:1" "$k"
        run_likwid "store-$kb" "store_$v" "S0:${kb}kB:1" "$k"
        run_likwid "copy-$kb" "copy_$v" "S0:${kb}kB:1" "$k"
        run_likwid "stream-$kb" "$stream" "S0:${kb}kB:1" "$k"
        if ((equal)); then
            run_likwid "rtload-$kb" rt_read_avx "S0:${kb}kB:1" "$k"
            run_likwid "rtstore-$kb" rt_write_avx "S0:${kb}kB:1" "$k"
            run_likwid "rtcopy-$kb" rt_copy_avx "S0:${kb}kB:1" "$k"
            run_likwid "rtstream-$kb" rt_triad_avx_fma "S0:${kb}kB:1" "$k"
        fi
    done
    run_likwid "load-DRAM-all" "load_$v" "S0:${dram}kB:$cores" "$k"
    run_likwid "stream-DRAM-all" "$stream" "S0:${dram}kB:$cores" "$k"
    if ((equal)); then
        run_likwid "rtload-DRAM-all" rt_read_avx "S0:${dram}kB:$cores" "$k"
        run_likwid "rtstream-DRAM-all" rt_triad_avx_fma "S0:${dram}kB:$cores" "$k"
    fi
done

python3 - "$out" "$l1" "$l2s,$l2" "$l3s,$l3q" "$dram" "$cores" "$v" "$rounds" "$equal" <<'PY'
import json, re, statistics, sys
out, v, rounds, equal = sys.argv[1], sys.argv[7], int(sys.argv[8]), sys.argv[9] == "1"
l1, dram, cores = int(sys.argv[2]), int(sys.argv[5]), int(sys.argv[6])
l2sets = [int(x) for x in sys.argv[3].split(",")]
l3sets = [int(x) for x in sys.argv[4].split(",")]
models = [json.load(open(f"{out}/machine.{k}.json")) for k in range(1, rounds + 1)]
m = models[0]
clock = statistics.median(x["cpu"]["clocks"]["measured_hz"] for x in models)

def summary(values):
    """(median, min, max) of the rounds that gave a value."""
    values = [x for x in values if x is not None]
    return (statistics.median(values), min(values), max(values)) if values else (None, None, None)

def likwid_round(name, key, k):
    try:
        text = open(f"{out}/likwid-{name}.{k}.txt").read()
    except OSError:
        return None
    hit = re.search(rf"^{key}:\s+([0-9.]+)", text, re.M)
    return float(hit.group(1)) * 1e6 if hit else None

def likwid(names, key):
    """Per round the best of likwid-bench's working sets for one level, then summarised over the rounds."""
    def one(k):
        vals = [x for x in (likwid_round(n, key, k) for n in names) if x is not None]
        return max(vals) if vals else None
    return summary(one(k) for k in range(1, rounds + 1))

def ceiling(**want):
    def one(model):
        for c in model["ceilings"]:
            if all(c.get(k) == val for k, val in want.items()):
                return c["value"]
        return None
    return summary(one(x) for x in models)

def nearest(pattern, threads, kib):
    def one(model):
        for s in model["sweeps"]:
            if s["device"] == "cpu" and s["pattern"] == pattern and s["threads"] == threads:
                pts = sorted(s["points"])
                i = min(range(len(pts)), key=lambda k: abs(pts[k][0] / (kib * 1000) - 1))
                return pts[i][1]
        return None
    return summary(one(x) for x in models)

isa = "avx512_fma" if v == "avx512" else "avx2_fma"
patterns = {"load": "read", "store": "write", "copy": "copy", "stream": "triad"}
# likwid-bench's kernel names: its own (prefix "") and rooftime's kernels as .ptt files (prefix "rt").
kernels = {"": {"load": f"load_{v}", "store": f"store_{v}", "copy": f"copy_{v}",
                "stream": "stream_avx512_fma" if v == "avx512" else "stream_avx_fma"},
           "rt": {"load": "rt_read_avx", "store": "rt_write_avx", "copy": "rt_copy_avx", "stream": "rt_triad_avx_fma"}}

def build_rows(prefix):
    rows = []
    if not prefix:
        for prec, name in (("fp64", "fp64"), ("fp32", "fp32")):
            ref = likwid([name], "MFlops/s")
            ours = ceiling(device="cpu", kind="compute", precision=prec, variant=isa, threads=1)
            rows.append((f"peak {prec} {isa}, 1 core", ref, ours, (None, None, None), 1))
    sizes = {"L1": [l1], "L2": l2sets, "L3": l3sets, "DRAM": [dram]}
    for level, sets in sizes.items():
        for lk, pat in patterns.items():
            ref = likwid([f"{prefix}{lk}-{kb}" for kb in sets], "MByte/s")
            ours = ceiling(device="cpu", kind="bandwidth", level=level, pattern=pat, threads=1)
            # rooftime's sweep point at likwid's largest set of the level (its single set before session 7).
            point = nearest(pat, 1, sets[-1])
            label = " and ".join(str(kb) for kb in sets)
            rows.append((f"{level} {kernels[prefix][lk]} / {pat}, 1 core, {label} kB", ref, ours, point, 1))
    for lk, pat in (("load", "read"), ("stream", "triad")):
        ref = likwid([f"{prefix}{lk}-DRAM-all"], "MByte/s")
        ours = ceiling(device="cpu", kind="bandwidth", level="DRAM", pattern=pat, threads=cores)
        point = nearest(pat, cores, dram)
        rows.append((f"DRAM {kernels[prefix][lk]} / {pat}, {cores} cores, {dram} kB", ref, ours, point, cores))
    return rows

def g(x):
    return "-" if x[0] is None else f"{x[0] / 1e9:.1f}"
def spread(x):
    return "" if x[0] is None or rounds < 2 else f" ({x[1] / 1e9:.1f}–{x[2] / 1e9:.1f})"
def ratio(a, b, i=0):
    return None if a[i] is None or b[i] is None else b[i] / a[i] - 1
def d(a, b, i=0):
    r = ratio(a, b, i)
    return "-" if r is None else f"{100 * r:+.1f} %"
def per_cycle(x, threads, bandwidth):
    return "" if x[0] is None or not bandwidth else f"{x[0] / clock / threads:.1f}"
secs = [open(f"{out}/rooftime.{k}.seconds").read().strip() for k in range(1, rounds + 1)]
print(f"{rounds} interleaved rounds; rooftime full mode took {', '.join(secs)} s; CPU {m['cpu']['model']}, "
      f"clock {clock / 1e9:.2f} GHz measured (median of the rounds). Values: medians of the rounds "
      f"(range in parentheses); \"best\": each tool's best round. likwid-bench's value for L2 and L3 is per round "
      f"the better of its two working sets.\n")
def table(rows):
    print("| ceiling | likwid-bench (G/s) | rooftime plateau (G/s) | diff | diff of bests | rooftime point (G/s) "
          "| diff | B/cycle/core likwid / rooftime |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    within = [0, 0, 0]
    for name, ref, ours, point, threads in rows:
        bw = not name.startswith("peak")
        for i, r in enumerate((ratio(ref, ours), ratio(ref, ours, 2), ratio(ref, point))):
            if r is not None and abs(r) <= 0.05:
                within[i] += 1
        bpc = f"{per_cycle(ref, threads, bw)} / {per_cycle(ours, threads, bw)}" if bw else ""
        print(f"| {name} | {g(ref)}{spread(ref)} | {g(ours)}{spread(ours)} | {d(ref, ours)} | {d(ref, ours, 2)} "
              f"| {g(point)}{spread(point)} | {d(ref, point)} | {bpc} |")
    points = sum(1 for r in rows if not r[0].startswith("peak"))
    print(f"\nWithin ±5 % of likwid-bench: plateau {within[0]} of {len(rows)} rows (medians), {within[1]} of "
          f"{len(rows)} (bests); point {within[2]} of {points} bandwidth rows.")

table(build_rows(""))
if equal:
    print("\nThe same streams with rooftime's kernels run by likwid-bench (bench/likwid/*.ptt: equal instructions, "
          "so the differences are the two harnesses):\n")
    table(build_rows("rt"))
PY
