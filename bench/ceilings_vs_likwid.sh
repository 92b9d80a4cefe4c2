#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rooftime ceilings against likwid-bench (Debian package likwid) on the same machine, in one run.
# Usage: bench/ceilings_vs_likwid.sh [BUILD=build/release] [OUT=bench-out/ceilings]
#
# Runs `rooftime ceilings` (full mode) once, then likwid-bench's peakflops kernels on one core and its
# load/store/copy/stream kernels at working sets inside L1, L2, L3 and DRAM (one core, and all cores for
# DRAM), using the AVX-512 kernels where the CPU has AVX-512 and the AVX/AVX2 ones otherwise. Prints a
# Markdown table: each likwid-bench number beside rooftime's plateau value for that level and rooftime's
# sweep point nearest to likwid's working set, with the differences. Each likwid-bench kernel runs three
# times and the best counts, as rooftime keeps the best of its runs. Raw outputs stay in OUT.
set -euo pipefail

build=${1:-build/release}
out=${2:-bench-out/ceilings}
rooftime=$build/bin/rooftime
if [[ ! -x $rooftime ]]; then
    echo "bench/ceilings_vs_likwid.sh: $rooftime is missing; build it: cmake --workflow --preset release" >&2
    exit 2
fi
if ! command -v likwid-bench >/dev/null; then
    echo "bench/ceilings_vs_likwid.sh: likwid-bench not found; install it: apt-get install likwid" >&2
    exit 2
fi
mkdir -p "$out"
cores=$(nproc)

echo "== rooftime ceilings (full mode)" >&2
/usr/bin/time -f "%e" -o "$out/rooftime.seconds" "$rooftime" ceilings --cpu -o "$out/machine.json" \
    >"$out/rooftime.txt" 2>"$out/rooftime.stderr"

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
cache_kib() { # level -> size in KiB of cpu0's data/unified cache at that level (sysfs)
    local d
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
# Working sets (KiB) inside each level: half of L1d, half of L2, a quarter of L3, and far beyond L3.
l1=$(($(cache_kib 1) / 2))
l2=$(($(cache_kib 2) / 2))
l3q=$(($(cache_kib 3) / 4))
dram=1048576

run_likwid() { # name test workgroup: three runs, like rooftime's best-of-N
    local name=$1 test=$2 wg=$3 k
    echo "== likwid-bench -t $test -w $wg (3 runs)" >&2
    for k in 1 2 3; do
        likwid-bench -t "$test" -w "$wg" >"$out/likwid-$name.$k.txt" 2>&1 || true
    done
}

run_likwid fp64 "$peak64" "S0:${l1}kB:1"
run_likwid fp32 "$peak32" "S0:${l1}kB:1"
for level in L1 L2 L3 DRAM; do
    case $level in L1) kb=$l1 ;; L2) kb=$l2 ;; L3) kb=$l3q ;; DRAM) kb=$dram ;; esac
    run_likwid "load-$level" "load_$v" "S0:${kb}kB:1"
    run_likwid "store-$level" "store_$v" "S0:${kb}kB:1"
    run_likwid "copy-$level" "copy_$v" "S0:${kb}kB:1"
    run_likwid "stream-$level" "$stream" "S0:${kb}kB:1"
done
run_likwid "load-DRAM-all" "load_$v" "S0:${dram}kB:$cores"
run_likwid "stream-DRAM-all" "$stream" "S0:${dram}kB:$cores"

python3 - "$out" "$l1" "$l2" "$l3q" "$dram" "$cores" "$v" <<'PY'
import json, re, sys, bisect
out, l1, l2, l3q, dram, cores, v = sys.argv[1], *map(int, sys.argv[2:7]), sys.argv[7]
m = json.load(open(f"{out}/machine.json"))

def likwid(name, key):
    best = None
    for k in (1, 2, 3):
        text = open(f"{out}/likwid-{name}.{k}.txt").read()
        hit = re.search(rf"^{key}:\s+([0-9.]+)", text, re.M)
        if hit:
            best = max(best or 0, float(hit.group(1)) * 1e6)
    return best

def ceiling(**want):
    for c in m["ceilings"]:
        if all(c.get(k) == val for k, val in want.items()):
            return c["value"]
    return None

def nearest(pattern, threads, kib):
    for s in m["sweeps"]:
        if s["device"] == "cpu" and s["pattern"] == pattern and s["threads"] == threads:
            pts = sorted(s["points"])
            sizes = [p[0] for p in pts]
            i = min(range(len(pts)), key=lambda k: abs(sizes[k] / (kib * 1000) - 1))
            return pts[i][1], pts[i][0]
    return None, None

rows = []
isa = "avx512_fma" if v == "avx512" else "avx2_fma"
for prec, name in (("fp64", "fp64"), ("fp32", "fp32")):
    ref = likwid(name, "MFlops/s")
    ours = ceiling(device="cpu", kind="compute", precision=prec, variant=isa, threads=1)
    rows.append((f"peak {prec} {isa}, 1 core", ref, ours, None, "FLOP/s"))
patterns = {"load": "read", "store": "write", "copy": "copy", "stream": "triad"}
sizes = {"L1": l1, "L2": l2, "L3": l3q, "DRAM": dram}
for level, kib in sizes.items():
    for lk, pat in patterns.items():
        ref = likwid(f"{lk}-{level}", "MByte/s")
        ours = ceiling(device="cpu", kind="bandwidth", level=level, pattern=pat, threads=1)
        point, at = nearest(pat, 1, kib)
        rows.append((f"{level} {lk}_{v} / {pat}, 1 core, {kib} kB", ref, ours, point, "B/s"))
for lk, pat in (("load", "read"), ("stream", "triad")):
    ref = likwid(f"{lk}-DRAM-all", "MByte/s")
    ours = ceiling(device="cpu", kind="bandwidth", level="DRAM", pattern=pat, threads=cores)
    point, at = nearest(pat, cores, dram)
    rows.append((f"DRAM {lk}_{v} / {pat}, {cores} cores, {dram} kB", ref, ours, point, "B/s"))

def g(x, unit):
    return "-" if x is None else f"{x / 1e9:.1f}"
def d(a, b):
    return "-" if a is None or b is None else f"{100 * (b / a - 1):+.1f} %"
print(f"rooftime full mode took {open(out + '/rooftime.seconds').read().strip()} s; CPU {m['cpu']['model']}, "
      f"clock {m['cpu']['clocks']['measured_hz'] / 1e9:.2f} GHz measured\n")
print("| ceiling | likwid-bench (G/s) | rooftime plateau (G/s) | diff | rooftime nearest point (G/s) | diff |")
print("|---|---:|---:|---:|---:|---:|")
for name, ref, ours, point, unit in rows:
    print(f"| {name} | {g(ref, unit)} | {g(ours, unit)} | {d(ref, ours)} | {g(point, unit)} | {d(ref, point)} |")
PY
