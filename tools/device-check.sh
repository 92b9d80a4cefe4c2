#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Everything rooftime checks on a GPU machine, in one unattended run (under 8 minutes), results in OUT.
# Usage (on the GPU machine, repository root, device-kit/ from tools/device-pack.sh carried along):
#   bash tools/device-check.sh OUT
# OUT receives at most 8 files: summary.md (read this first), system.txt, machine.json (the measured
# machine model, ready for tests/data/machines/), gpu-quick.json, tests-data.tar.gz (recorded profiles, Nsight
# Compute CSVs and the machine file, laid out for tests/data/: `tar xzf tests-data.tar.gz -C tests/data`) and
# logs.tar.gz (every log and raw output). Each step has its own time limit, capped by what is left of the whole
# run's budget (DEVICE_CHECK_BUDGET seconds, default 420); a failing step is reported in summary.md and the next
# one runs. DEVICE_CHECK_PARTS (default "ceilings torch overhead samples python") picks the sections to run.
# Without a GPU the GPU steps are reported as skipped; the CUDA samples and Python scripts still run once, so
# their failure paths (exit 1, exit 2) show in the summary.
set -uo pipefail

out=${1:?usage: tools/device-check.sh OUT}
kit=${KIT:-device-kit}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
kit=$(cd "$kit" && pwd) || {
    echo "device-check: no $kit folder; run tools/device-pack.sh on the build machine and carry device-kit" >&2
    exit 2
}
# The kit's libraries first. Then CUDA libraries the loader would not find by itself: libcupti.so.13 for the CUPTI
# plugin (its RUNPATH is /usr/local/cuda/lib64 only) and libcublas.so.13 for wmma_gemm's HGMMA path and the
# ceilings' cuBLAS cross-check (both dlopen it by soname). Without them the plugin records no kernel and
# cublas_gemm is skipped, silently for the run's purpose; the folder used is said in system.txt.
cuda_extra=
for so in libcupti.so.13 libcublas.so.13; do
    [[ -e /usr/local/cuda/lib64/$so && $so == libcupti.so.13 ]] && continue
    ldconfig -p 2>/dev/null | grep -q "[[:space:]]$so " && continue
    for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/extras/CUPTI/lib64 /usr/local/cuda-13*/lib64 \
        /usr/local/cuda-13*/extras/CUPTI/lib64 /usr/local/cuda*/targets/x86_64-linux/lib \
        $(python3 -c 'import site; print(*site.getsitepackages())' 2>/dev/null | xargs -n1 2>/dev/null |
            sed 's|$|/nvidia/cu13/lib|p; s|/cu13/lib$|/cuda_cupti/lib|p; s|/cuda_cupti/lib$|/cublas/lib|'); do
        if [[ -e $d/$so ]]; then
            [[ :$cuda_extra: == *":$d:"* ]] || cuda_extra+=${cuda_extra:+:}$d
            break
        fi
    done
done
# Runs without rooftime (ncu, the plain and reference Python runs) get the CUDA folders but not the kit's libfmt and
# libsqlite3 (Debian 12 builds), so that ncu and torch load what they would load anyway.
base_ld=$cuda_extra${LD_LIBRARY_PATH:+${cuda_extra:+:}$LD_LIBRARY_PATH}
if [[ -n $base_ld ]]; then plain_env=(env "LD_LIBRARY_PATH=$base_ld"); else plain_env=(env -u LD_LIBRARY_PATH); fi
export LD_LIBRARY_PATH="$kit/lib${cuda_extra:+:$cuda_extra}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ROOFTIME_CACHE_DIR="$out/logs/cache"
rooftime=$kit/bin/rooftime
summary=$out/summary.md
start=$(date +%s)
deadline=$((start + ${DEVICE_CHECK_BUDGET:-420}))
parts=" ${DEVICE_CHECK_PARTS:-ceilings torch overhead samples python} "
# One line per step (name, exit status, seconds) for the comparison tables.
steps_tsv=$out/logs/steps.tsv
: >"$steps_tsv"

say() { echo "$*" | tee -a "$summary"; }
want() { [[ $parts == *" $1 "* ]]; }
skip() {
    say "- step \`$1\`: skipped ($2)"
    printf '%s\tskipped\t0\n' "$1" >>"$steps_tsv"
}
# step NAME LIMIT_SECONDS CMD...: runs CMD with a time limit (never past the run's deadline), logs to
# logs/NAME.log, records status and time.
step() {
    local name=$1 limit=$2
    shift 2
    local t0 t1 rc left
    left=$((deadline - $(date +%s)))
    if ((left < 10)); then
        skip "$name" "the run's budget of ${DEVICE_CHECK_BUDGET:-420} s is spent"
        return 125
    fi
    ((limit > left)) && limit=$left
    t0=$(date +%s.%N)
    timeout --kill-after=10 "$limit" "$@" >"$out/logs/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    say "- step \`$name\`: exit $rc, $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s$([[ $rc == 124 ]] && echo " (time limit $limit s)")"
    # A failure's last line (the program's or rooftime's message), so that summary.md alone says what went wrong.
    ((rc != 0 && rc != 124)) && say "  $(grep -v '^[[:space:]]*$' "$out/logs/$name.log" | tail -1 | cut -c1-300)"
    printf '%s\t%s\t%s\n' "$name" "$rc" "$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")" >>"$steps_tsv"
    return $rc
}
# gpu_step NAME LIMIT CMD...: a step that needs a GPU; reported as skipped without one.
gpu_step() {
    if ((!have_gpu)); then
        skip "$1" "no GPU: nvidia-smi lists none"
        return 125
    fi
    step "$@"
}

echo "# rooftime device check" >"$summary"
say ""
say "kit: $(cat "$kit/BUILD_INFO" 2>/dev/null | tr '\n' ';')"

# 0. The machine, so that a mismatch with the build machine is obvious.
{
    echo "## uname"; uname -a
    echo "## os-release"; cat /etc/os-release 2>/dev/null
    echo "## glibc"; ldd --version 2>&1 | head -1
    echo "## nvidia-smi"; timeout 30 nvidia-smi 2>&1
    echo "## nvidia-smi clocks"; timeout 30 nvidia-smi -q -d CLOCK 2>&1 | head -40
    echo "## nvcc"; timeout 30 nvcc --version 2>&1 | tail -2
    echo "## ncu"; timeout 30 ncu --version 2>&1 | tail -1
    echo "## python/torch"; timeout 60 python3 -c 'import torch,sys; print(sys.version); print(torch.__version__, "CUDA", torch.version.cuda, torch.cuda.get_device_name(0))' 2>&1
    echo "## lscpu"; lscpu 2>&1 | head -20
    echo "## kit libraries (LD_LIBRARY_PATH=$LD_LIBRARY_PATH)"
    ldd "$rooftime" "$kit/bin/rooftime-ceilings-gpu" "$kit/lib/librooftime_collector.so" "$kit/lib/librooftime_cupti.so" 2>&1
    echo "## libcupti.so.13, libcublas.so.13 as ldconfig knows them (else the folders added above)"
    ldconfig -p 2>/dev/null | grep -E 'libcupti\.so\.13|libcublas\.so\.13'
} >"$out/system.txt"
have_gpu=0
timeout 30 nvidia-smi -L 2>/dev/null | grep -q '^GPU ' && have_gpu=1
say "system: $(timeout 30 nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>&1 | head -1); $(ldd --version 2>&1 | head -1)"
if ! "$rooftime" --version >>"$summary" 2>&1; then
    say "FATAL: the kit's rooftime does not run here (see system.txt, kit libraries)"
    tar czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$out/logs"
    exit 1
fi

# 1. Machine model: the GPU companion in quick mode (timed: what `record` measures when nothing is cached), then
# `rooftime ceilings --gpu 0` (GPU 0 in full mode; an error if it cannot be measured) on top of a quick CPU model
# (the GPU-only run keeps the CPU part of the file it writes). The full CPU model is left out: on 16 cores its sweeps
# take minutes of the budget and the GPU checks do not need it (`rooftime ceilings --cpu` on any machine gives it).
if want ceilings; then
say ""
say "## 1. ceilings"
gpu_step gpu-quick 30 bash -c "'$kit/bin/rooftime-ceilings-gpu' --device 0 --quick >'$out/gpu-quick.json'"
gpu_step ceilings-cpu-quick 30 "$rooftime" ceilings --cpu --quick -o "$out/machine.json"
gpu_step ceilings-gpu 120 "$rooftime" ceilings --gpu 0 -o "$out/machine.json"
fi
[[ -s $out/gpu-quick.json ]] || rm -f "$out/gpu-quick.json"
if [[ -s $out/machine.json ]]; then
    "$rooftime" ceilings --show "$out/machine.json" >"$out/logs/machine-show.txt" 2>&1
    sed -n '/^gpu0/,/^$/p' "$out/logs/machine-show.txt" | head -40 >>"$summary"
    grep -A30 '^notes:' "$out/logs/machine-show.txt" | head -30 >>"$summary"
fi

# 2. References measured the same way by PyTorch (cuBLAS GEMM, device copy), to judge the ceilings.
if want torch; then
say ""
say "## 2. PyTorch references"
gpu_step torch-reference 60 "${plain_env[@]}" python3 - <<'PY'
import json, time, torch
dev = torch.device("cuda:0")
res = {}
def timed(fn, reps=10):
    fn(); torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - t) / reps
torch.backends.cuda.matmul.allow_tf32 = False
for name, dtype, n in (("bf16", torch.bfloat16, 8192), ("fp16", torch.float16, 8192), ("fp32", torch.float32, 8192), ("fp64", torch.float64, 4096)):
    a = torch.randn(n, n, device=dev, dtype=dtype); b = torch.randn(n, n, device=dev, dtype=dtype)
    res[f"matmul_{name}_flops"] = 2 * n**3 / timed(lambda: a @ b)
x = torch.empty(2**30, dtype=torch.uint8, device=dev); y = torch.empty_like(x)
res["d2d_copy_bytes_per_s"] = 2 * x.numel() / timed(lambda: y.copy_(x))
z = torch.zeros(1, device=dev)
res["tiny_op_seconds"] = timed(lambda: z.add_(1), reps=2000)
print(json.dumps(res, indent=1))
PY
[[ -f $out/logs/torch-reference.log ]] && cat "$out/logs/torch-reference.log" >>"$summary"
fi

# 3 and 4 (issue 5, CUPTI backend): the CUDA samples and the PyTorch scripts under rooftime (time and counters)
# and under Nsight Compute with the same metrics (cupti-notes.md section 4, Tier 1), compared per kernel.
tier1=gpu__time_duration.sum
for op in dadd dmul dfma fadd fmul ffma hadd hmul hfma; do
    tier1+=,smsp__sass_thread_inst_executed_op_${op}_pred_on.sum
done
tier1+=,dram__bytes_read.sum,dram__bytes_write.sum,lts__t_bytes.sum,l1tex__t_bytes.sum
tier1+=,sm__inst_executed_pipe_tensor.sum,sm__ops_path_tensor_op_hgmma_src_fp16.sum
tier1+=,sm__ops_path_tensor_op_hgmma_src_bf16_dst_fp32.sum,sm__ops_path_tensor_src_fp8.sum
tier1+=,sm__ops_path_tensor_src_fp64.sum
# The peaks and clocks Tier 1 carries on Hopper at no extra pass (plugins/cupti/metric_sets.h, kPeaks*): the same
# metrics for both tools.
for unit in sm dram lts l1tex; do tier1+=,${unit}__cycles_elapsed.avg.per_second; done
for op in dfma ffma hfma; do tier1+=,smsp__sass_thread_inst_executed_op_${op}_pred_on.sum.peak_sustained; done
tier1+=,dram__bytes.sum.peak_sustained,lts__t_bytes.sum.peak_sustained,l1tex__t_bytes.sum.peak_sustained
for path in hgmma_src_fp16 hgmma_src_bf16_dst_fp32 hgmma_src_tf32_dst_fp32 hmma_src_fp16_dst_fp32 \
    hmma_src_bf16_dst_fp32 hmma_src_tf32_dst_fp32; do
    tier1+=,sm__ops_path_tensor_op_${path}.sum.peak_sustained
done
tier1+=,sm__ops_path_tensor_src_fp64.sum.peak_sustained
ncu=${NCU:-$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)}
# ncu_step NAME LIMIT CSV CMD...: Nsight Compute with the Tier-1 metrics, every kernel of every process, no clock
# locking and no cache flush before each pass (as under rooftime: CUPTI's kernel replay flushes nothing; ncu's default
# --cache-control all makes an L2-resident working set cold in every pass, so its DRAM bytes and durations would not
# compare), kernel replay (the default, as CUPTI's), CSV in base units with English numbers (LC_ALL=C, as
# `rooftime import ncu` requires), the program's own output in the log.
ncu_step() {
    local name=$1 limit=$2 csv=$3
    shift 3
    if [[ -z $ncu ]]; then
        skip "$name" "no ncu in PATH, /usr/local/cuda/bin or /opt/nvidia/nsight-compute"
        return 125
    fi
    gpu_step "$name" "$limit" "${plain_env[@]}" LC_ALL=C "$ncu" --target-processes all --replay-mode kernel --clock-control none \
        --cache-control none --metrics "$tier1" --csv --page raw --print-units base --log-file "$csv" "$@"
}
# Profiles and CSVs to keep, laid out as tests/data/gpu/ (tarred at the end); scratch for the rest.
data=$out/logs/tests-data/gpu
work=$out/logs/work
mkdir -p "$data"/{time,counters,ncu,python} "$work"/json
machine_opt=(--no-machine)
# Without this run's ceilings, a machine file carried in the kit (device-kit/machine.json, from an earlier run).
[[ ! -s $out/machine.json && -s $kit/machine.json ]] && cat "$kit/machine.json" >"$out/machine.json"
[[ -s $out/machine.json ]] && machine_opt=(--machine "$out/machine.json")
# record_step NAME LIMIT "MODE [RECORD_OPTION...]" DEST CMD...: rooftime record into a scratch folder
# (`-o DIR/%p.rtdb`); a single profile is kept as DEST, several as DEST's stem plus .PID.rtdb.
record_step() {
    local name=$1 limit=$2 mode dest=$4
    read -ra mode <<<"$3"
    shift 4
    local dir=$work/rec/$name rc
    mkdir -p "$dir"
    step "$name" "$limit" "$rooftime" record --mode "${mode[@]}" "${machine_opt[@]}" -o "$dir/%p.rtdb" -- "$@"
    rc=$?
    # The collector's and the CUPTI plugin's own problems (`rooftime: WHAT; continuing without FEATURE`), once each.
    grep -E '^rooftime: .*(continuing without|cannot|dropped|did not finish)' "$out/logs/$name.log" 2>/dev/null |
        sort -u | head -3 | while read -r line; do say "  $line"; done
    local files=("$dir"/*.rtdb) f to
    # A profile whose process died before closing it keeps its last commits in FILE-wal: moved along with it.
    for f in "${files[@]}"; do
        [[ -f $f ]] || continue
        if ((${#files[@]} == 1)); then to=$dest; else to=${dest%.rtdb}.$(basename "$f"); fi
        mv "$f" "$to"
        for x in wal shm; do [[ -f $f-$x ]] && mv "$f-$x" "$to-$x"; done
    done
    return $rc
}
# report_json PROFILE... > FILE: the per-kernel report the comparisons read.
report_json() { timeout 30 "$rooftime" report --by kernel --format json "$@"; }

# 2b. What CUPTI itself costs per launch (bench/cupti_overhead.cu), configuration by configuration, and rooftime's
# time mode on the same launches: how much of time mode's overhead is CUPTI's floor and how much is rooftime's.
if want overhead; then
say ""
say "## 2b. Launch overhead: bare CUPTI configurations and rooftime --mode time (empty kernels, 30 x 1000 launches)"
ob=$kit/bench/cupti_overhead
if [[ ! -x $ob ]]; then
    skip overhead "$ob missing from the kit"
else
    for round in 1 2; do
        for cfg in plain activity activity-all callbacks both both-ts; do
            gpu_step "cupti-$cfg-$round" 30 "$ob" "$cfg"
        done
        ((have_gpu)) && record_step "cupti-rooftime-$round" 30 time "$work/cupti-rooftime-$round.rtdb" "$ob" plain
        ((have_gpu)) && record_step "cupti-rooftime-offset-$round" 30 time "$work/cupti-rooftime-offset-$round.rtdb" \
            env ROOFTIME_CUPTI_TIMESTAMPS=offset "$ob" plain
    done
    say ""
    say "| run | config | call us per launch | total us per launch |"
    say "|---|---|---|---|"
    for f in "$out"/logs/cupti-*.log; do
        [[ -f $f ]] || continue
        sed -n 's/^# cupti_overhead config=\([^ ]*\) .*call_us=\([^ ]*\) total_us=\([^ ]*\).*/\1 \2 \3/p' "$f" |
            while read -r c u t; do say "| $(basename "$f" .log) | $c | $u | $t |"; done
    done
fi
fi

if want samples; then
say ""
say "## 3. CUDA samples: rooftime (time, counters) and Nsight Compute"
# Sizes small enough for replay (every kernel runs at least twice under counters and ncu); the same arguments in
# every mode, so that the launches compare one to one.
declare -A sample_args=([triad]="--n 16777216 --iters 5" [gemm]="--n 512 --iters 2" [hfma2]="--launches 3"
    [wmma_gemm]="--iters 2" [conv2d]="--iters 2" [lstm_chain]="--steps 50 --threads 2")
cuda_samples="triad gemm hfma2 wmma_gemm conv2d lstm_chain"
# rooftime first for every sample (what issue 5 checks), then ncu for every sample: a slow ncu run can then only cut
# other ncu runs, never a sample's own time and counters profiles.
for s in $cuda_samples; do
    exe=$kit/samples/cuda/$s
    if [[ ! -x $exe ]]; then
        skip "time-$s" "$exe missing from the kit (a build without CUDA?)"
        continue
    fi
    read -ra args <<<"${sample_args[$s]}"
    # The time run goes first, GPU or not: without one it shows the sample's own failure (exit 1, one line).
    record_step "time-$s" 30 time "$data/time/$s.rtdb" "$exe" "${args[@]}"
    if ((!have_gpu)); then
        say "  $(grep -m1 'CUDA error' "$out/logs/time-$s.log" || echo "(no CUDA error line in logs/time-$s.log)")"
        skip "counters-$s" "no GPU: nvidia-smi lists none"
        skip "ncu-$s" "no GPU: nvidia-smi lists none"
        continue
    fi
    record_step "counters-$s" 60 counters "$data/counters/$s.rtdb" "$exe" "${args[@]}"
done
# Tier 2 on the WMMA sample: its mma.sync kernel's tensor FLOPs (2·n³, the sample's `# expect` line), which Tier 1
# cannot count.
if ((have_gpu)) && [[ -x $kit/samples/cuda/wmma_gemm ]]; then
    record_step counters-tier2-wmma_gemm 60 "counters --counter-set tier2" "$data/counters/wmma_gemm-tier2.rtdb" \
        "$kit/samples/cuda/wmma_gemm" --iters 2
    if [[ -f $data/counters/wmma_gemm-tier2.rtdb ]]; then
        report_json "$data/counters/wmma_gemm-tier2.rtdb" >"$work/json/tier2-wmma_gemm.json" 2>/dev/null
        say "  tier 2, FLOPs per launch: $(python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["rows"]:
    print(r["name"][:24], "%.6g" % (r["flops"] / r["count"]) if r.get("flops") is not None else "-", end="; ")' \
            "$work/json/tier2-wmma_gemm.json" 2>&1) expected $(grep -m1 -o 'kernel=wmma_gemm_f16f32 .*' \
            "$out/logs/time-wmma_gemm.log" 2>/dev/null)"
    fi
fi
if ((have_gpu)) && [[ ${DEVICE_CHECK_NCU:-1} != 0 ]]; then
    for s in $cuda_samples; do
        exe=$kit/samples/cuda/$s
        [[ -x $exe ]] || continue
        read -ra args <<<"${sample_args[$s]}"
        ncu_step "ncu-$s" 60 "$data/ncu/$s.csv" "$exe" "${args[@]}"
        # Whatever ncu's exit status (it passes the program's on, and a profiling error can still leave rows), the
        # CSV is imported when there is one.
        if [[ -s $data/ncu/$s.csv ]]; then
            step "ncu-import-$s" 30 "$rooftime" import ncu "$data/ncu/$s.csv" -o "$data/ncu/$s.rtdb"
        fi
    done
    # Triad's HBM bytes with the L2 flushed before every pass (--cache-control all), beside the run above: session 13
    # found that a replayed launch's DRAM writes depend on the dirty lines left in L2 before it (docs/cupti.md).
    if [[ -x $kit/samples/cuda/triad ]]; then
        read -ra args <<<"${sample_args[triad]}"
        gpu_step ncu-cold-triad 40 "${plain_env[@]}" LC_ALL=C "$ncu" --replay-mode kernel --clock-control none \
            --cache-control all --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum --csv \
            --page raw --print-units base --log-file "$work/ncu-cold-triad.csv" "$kit/samples/cuda/triad" "${args[@]}"
        [[ -s $work/ncu-cold-triad.csv ]] &&
            step ncu-import-cold-triad 30 "$rooftime" import ncu "$work/ncu-cold-triad.csv" -o "$work/ncu-cold-triad.rtdb"
    fi
fi
for s in $cuda_samples; do
    for mode in time counters ncu; do
        [[ -f $data/$mode/$s.rtdb ]] && report_json "$data/$mode/$s.rtdb" >"$work/json/$mode-$s.json" 2>"$work/json/$mode-$s.err"
    done
done
[[ -f $work/ncu-cold-triad.rtdb ]] && report_json "$work/ncu-cold-triad.rtdb" >"$work/json/ncucold-triad.json" 2>/dev/null
# The FMA instructions of the ceiling kernels and of the hfma2 sample (session 13: 1024 HFMA2 and no HFMA2.MMA in the
# fp16 kernel's loop, which runs at the fp32 FLOP rate), where the machine has cuobjdump.
cuobjdump=$(command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump 2>/dev/null | head -1)
if [[ -n $cuobjdump ]]; then
    for f in "$kit/bin/rooftime-ceilings-gpu" "$kit/samples/cuda/hfma2" "$kit/samples/cuda/triad"; do
        [[ -x $f ]] || continue
        echo "### $(basename "$f")"
        timeout 60 "$cuobjdump" -sass "$f" 2>&1 | awk '/Function :/ {fn = $3}
            {for (i = 1; i <= NF; i++) if ($i ~ /^(HFMA2|FFMA|DFMA|HMMA|HGMMA)/) {c[fn " " $i]++; break}}
            END {for (k in c) print c[k], k}' | sort -k2
    done >"$out/logs/sass-counts.txt" 2>&1
    say ""
    say "FMA and MMA instructions per kernel (cuobjdump -sass; logs/sass-counts.txt):"
    grep -E 'fmaKernel|hfma2_chain|triad' "$out/logs/sass-counts.txt" | sed 's/^/    /' | cut -c1-200 >>"$summary"
fi
# Kernels under the functions that launched them: one run with host call stacks, then the call-path report.
say ""
say "Call paths: \`rooftime record --call-stacks\` of lstm_chain, then \`rooftime report --by callpath --format json\`."
if ((!have_gpu)); then
    skip stacks-lstm_chain "no GPU: nvidia-smi lists none"
elif [[ ! -x $kit/samples/cuda/lstm_chain ]]; then
    skip stacks-lstm_chain "$kit/samples/cuda/lstm_chain missing from the kit"
else
    mkdir -p "$data/stacks"
    record_step stacks-lstm_chain 30 "time --call-stacks" "$data/stacks/lstm_chain.rtdb" \
        "$kit/samples/cuda/lstm_chain" --steps 10
    if [[ -f $data/stacks/lstm_chain.rtdb ]]; then
        step callpath-lstm_chain 30 bash -c "'$rooftime' report --by callpath --format json \
            '$data/stacks/lstm_chain.rtdb' >'$work/json/callpath-lstm_chain.json'"
        python3 - "$work/json/callpath-lstm_chain.json" >>"$summary" 2>"$work/callpath.err" <<'PY' ||
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
print("")
print("| kind | path | count | time ms |")
print("|---|---|---|---|")
for r in rows:
    path = " > ".join(r.get("path") or [r.get("name") or "?"])
    print(f"| {r.get('kind')} | {path} | {r.get('count')} | {1e3 * (r.get('time_s') or 0):.3f} |")
PY
            say "call-path table failed: $(tail -3 "$work/callpath.err")"
    fi
fi
# CUDA graphs: the same chain captured into one CUDA graph and launched with cudaGraphLaunch. Every kernel
# should carry its graph and node (schema 1.4) and the thread and region of the graph launch; counters mode
# pauses around graph launches, so none is replayed.
say ""
say "CUDA graphs: lstm_chain --graph (40 steps captured, 80 kernels in one graph launched from the lstm_chain region), time and counters."
if ((!have_gpu)); then
    skip graph-lstm_chain "no GPU: nvidia-smi lists none"
else
    mkdir -p "$data/graph"
    for mode in time counters; do
        record_step "graph-lstm_chain-$mode" 30 "$mode" "$data/graph/lstm_chain-$mode.rtdb" \
            "$kit/samples/cuda/lstm_chain" --graph --steps 40
    done
    python3 - "$data/graph" >>"$summary" 2>"$work/graph.err" <<'PY' || say "graph table failed: $(tail -3 "$work/graph.err")"
import os, sqlite3, sys
print("")
print("| mode | kernels | with graph id | graphs | with thread | with region | replayed |")
print("|---|---|---|---|---|---|---|")
for mode in ("time", "counters"):
    path = os.path.join(sys.argv[1], f"lstm_chain-{mode}.rtdb")
    if not os.path.exists(path):
        print(f"| {mode} | missing | | | | | |")
        continue
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    q = lambda sql: db.execute(sql).fetchone()[0]
    print(f"| {mode} | {q('SELECT COUNT(*) FROM kernel')} | {q('SELECT COUNT(graph_id) FROM kernel')} "
          f"| {q('SELECT COUNT(DISTINCT graph_id) FROM kernel')} | {q('SELECT COUNT(thread) FROM kernel')} "
          f"| {q('SELECT COUNT(region) FROM kernel')} | {q('SELECT SUM(replayed) FROM kernel')} |")
print("")
print("Expected: 80 kernels, 80 with a graph id, 1 graph, 80 with thread and region, 0 replayed.")
PY
fi
say ""
say "Per kernel and launch: FLOPs of rooftime --mode counters against ncu (must be equal), and ncu's against the"
say "sample's \`# expect\` line (WMMA's HMMA work is not in Tier 1: expect a mismatch there); HBM bytes (dram read +"
say "write) within 2 %; mean duration of rooftime --mode time against ncu's gpu__time_duration within 10 %. \`-\`: no"
say "value (no such row, or the counter is not in the profile). HBM bytes of working sets that fit in L2 (gemm --n 512,"
say "hfma2, conv2d, lstm_chain) depend on what each replay pass finds in L2 (ncu runs with --cache-control none, as"
say "CUPTI replays): a bytes mismatch there is about residency; triad (384 MiB) is the HBM check."
say ""
python3 - "$work/json" "$out/logs" "$cuda_samples" >>"$summary" 2>"$work/compare-samples.err" <<'PY' || say "comparison failed: $(tail -3 "$work/compare-samples.err")"
import json, os, re, sys

jdir, logs, samples = sys.argv[1], sys.argv[2], sys.argv[3].split()
EXPECT = re.compile(r"^# expect kernel=(\S+) launches=(\d+) fp64=(\S+) fp32=(\S+) fp16=(\S+) tensor=(\S+) bytes=(\S+)")

def key(name):
    # ncu and CUPTI may print a C++ kernel with or without "void " and its parameter list; the samples' kernels are
    # extern "C" and have neither.
    return re.sub(r"^void\s+", "", name).split("(")[0]

def rows(mode, sample):
    try:
        with open(os.path.join(jdir, f"{mode}-{sample}.json")) as f:
            return {key(r["name"]): r for r in json.load(f)["rows"] if r.get("kind") == "kernel"}
    except (OSError, ValueError, KeyError):
        return {}

def expected(sample):
    out = {}
    try:
        with open(os.path.join(logs, f"time-{sample}.log"), errors="replace") as f:
            for line in f:
                m = EXPECT.match(line)
                if m:
                    n = int(m.group(2))
                    try:
                        # launches, FLOPs per launch, bytes per launch
                        out[m.group(1)] = (n, sum(float(m.group(i)) for i in range(3, 7)) / n if n else None,
                                           float(m.group(7)) / n if n else None)
                    except ValueError:  # a line cut short by a killed run
                        pass
    except OSError:
        pass
    return out

def per_launch(r, key):
    if r is None or r.get(key) is None or not r.get("count"):
        return None
    return r[key] / r["count"]

def hbm(r):
    if r is None or not r.get("count"):
        return None
    levels = r.get("bytes_by_level") or {}
    return levels["HBM"] / r["count"] if "HBM" in levels else None

def fmt(v, scale=1.0, digits=4):
    return "-" if v is None else f"{v / scale:.{digits}g}"

def verdict(a, b, tol):
    if a is None or b is None:
        return "-"
    if a == b:
        return "ok"
    rel = abs(a - b) / max(abs(a), abs(b))
    return "ok" if rel <= tol else f"**off {100 * rel:.1f}%**"

print("| sample | kernel | launches exp/time/ctr/ncu | FLOP/launch expected | counters | ncu | FLOPs ctr=ncu | ncu=exp "
      "| HBM B/launch counters | ncu | bytes | mean us time | ncu | time |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
def table(s):
    t, c, n, e = rows("time", s), rows("counters", s), rows("ncu", s), expected(s)
    names = sorted(set(t) | set(c) | set(n) | set(e))
    if not names:
        print(f"| {s} | (no kernel rows in any profile) | | | | | | | | | | | | |")
    for k in names:
        tr, cr, nr = t.get(k), c.get(k), n.get(k)
        launches = "/".join(str(x) if x is not None else "-" for x in (
            e[k][0] if k in e else None, tr and tr["count"], cr and cr["count"], nr and nr["count"]))
        fc, fn = per_launch(cr, "flops"), per_launch(nr, "flops")
        fe = e[k][1] if k in e else None
        bc, bn = hbm(cr), hbm(nr)
        tt, tn = per_launch(tr, "time_s"), per_launch(nr, "time_s")
        tsrc = ""
        if tt is None and per_launch(cr, "time_s") is not None:
            # No kernel times in the time profile: the counters profile's (replayed) durations stand in, marked.
            tt, tsrc = per_launch(cr, "time_s"), " (ctr)"
        print(f"| {s} | {k} | {launches} | {fmt(fe, 1, 6)} | {fmt(fc, 1, 6)} | {fmt(fn, 1, 6)} "
              f"| {verdict(fc, fn, 1e-9)} | {verdict(fe, fn, 1e-9)} | {fmt(bc)} | {fmt(bn)} | {verdict(bc, bn, 0.02)} "
              f"| {fmt(tt, 1e-6)}{tsrc} | {fmt(tn, 1e-6)} | {verdict(tt, tn, 0.10)} |")

for s in samples:
    try:  # one sample's odd data must not cost the other samples' rows
        table(s)
    except Exception as ex:
        print(f"| {s} | (comparison failed: {type(ex).__name__}: {ex}) | | | | | | | | | | | | |")

# Triad's HBM bytes per launch by how L2 was left before each pass: rooftime's replays, ncu without and with a flush,
# and the sample's own count.
try:
    c, n, cold, e = rows("counters", "triad"), rows("ncu", "triad"), rows("ncucold", "triad"), expected("triad")
    print("")
    for k in sorted(set(c) | set(n) | set(cold)):
        exp_bytes = e[k][2] if k in e else None
        print(f"- {k} HBM bytes per launch: rooftime {fmt(hbm(c.get(k)))}, ncu --cache-control none {fmt(hbm(n.get(k)))}, "
              f"ncu --cache-control all {fmt(hbm(cold.get(k)))}, the sample's count {fmt(exp_bytes)}")
except Exception as ex:
    print(f"triad bytes comparison failed: {type(ex).__name__}: {ex}")
PY
fi

if want python; then
say ""
say "## 4. PyTorch scripts: plain, rooftime --mode time, torch.profiler, --mode counters, ncu"
pydir=$kit/samples/python
# lstm_train at --seq 16 (default 64): cuDNN's standard fp32 LSTM launches a recurrent GEMM and a pointwise kernel
# per time step and layer, forward and backward, so that at its default an ncu run (every kernel replayed, tens of ms
# each) would not end within its time limit.
declare -A py_args=([cnn_train]="" [lstm_train]="--seq 16")
# Steps of the replaying runs (counters, ncu). ncu replays every launch (13 s a CNN step on the H200), counters
# mode the first launches of each kernel only, and both pay 10-15 s of start-up: the whole-run goal (counters mode
# at most 1/10 of ncu's wall time) needs about 16 steps, more than this run's budget holds. Measure it in a call of
# its own (tools/README.md): DEVICE_CHECK_PARTS=python DEVICE_CHECK_PY_RUNS="cnn_train:counters cnn_train:ncu"
# DEVICE_CHECK_CNN_REPLAY_STEPS=16 (about 270 s). cuDNN's LSTM under ncu does not end within any limit this budget
# allows (killed at 130 s in session 5): no ncu run for it by default.
declare -A py_replay=([cnn_train]="--steps ${DEVICE_CHECK_CNN_REPLAY_STEPS:-3} --warmup 1" [lstm_train]="--steps 3 --warmup 1")
# DEVICE_CHECK_PY_RUNS: the runs, in order, as SCRIPT:MODE (plain, time, kineto = torch.profiler with CUDA
# activities, the reference for time mode; counters; ncu). Overhead runs alternate so that drift hits every mode.
# Where time mode's cost on the CNN comes from (docs/cupti.md, overhead): timenocupti = the collector without CUPTI
# (CUDA_INJECTION64_PATH unset: NVTX ranges and the process only), timenonvtx = CUPTI without NVTX injection,
# timekernel = CUPTI tracing kernels only (ROOFTIME_CUPTI_ACTIVITIES=none: no memcpy, memset or device records).
# Session 13's runs of the CNN loop differed by 8 % between two plain runs: the time-mode overhead is judged on
# three plain and three time runs, alternating (the table's last lines: median of the runs' medians).
py_runs=${DEVICE_CHECK_PY_RUNS:-"cnn_train:plain lstm_train:plain cnn_train:time lstm_train:time cnn_train:kineto lstm_train:kineto cnn_train:plain cnn_train:time cnn_train:plain cnn_train:time cnn_train:counters lstm_train:counters cnn_train:ncu"}
# Timed steps of the overhead runs (many: a step is a few ms) and of the replaying runs (counters replay the first
# launches of every kernel; ncu replays every launch).
timed_steps="--steps ${DEVICE_CHECK_PY_STEPS:-100} --warmup 10"
declare -A py_seen=()
for run in $py_runs; do
    py=${run%%:*} mode=${run#*:}
    if [[ ! -f $pydir/$py.py ]]; then
        skip "py-$py-$mode" "$pydir/$py.py missing from the kit"
        continue
    fi
    # A second run of the same script and mode gets a suffix: every run keeps its own log.
    n=$((${py_seen[$py-$mode]:-0} + 1)) && py_seen[$py-$mode]=$n
    name=py-$py-$mode$( ((n > 1)) && echo "-$n")
    read -ra pa <<<"${py_args[$py]}"
    read -ra ts <<<"$timed_steps"
    read -ra rs <<<"${py_replay[$py]}"
    case $mode in
    plain) step "$name" 90 "${plain_env[@]}" python3 "$pydir/$py.py" "${pa[@]}" "${ts[@]}" ;;
    kineto) gpu_step "$name" 90 "${plain_env[@]}" python3 "$pydir/$py.py" "${pa[@]}" "${ts[@]}" --torch-profiler ;;
    time)
        ((have_gpu)) || { skip "$name" "no GPU: nvidia-smi lists none"; continue; }
        record_step "$name" 90 time "$data/python/$py-time.rtdb" python3 "$pydir/$py.py" "${pa[@]}" "${ts[@]}" ;;
    timeoff | timenocupti | timenonvtx | timekernel) # time mode, one part changed (above)
        ((have_gpu)) || { skip "$name" "no GPU: nvidia-smi lists none"; continue; }
        case $mode in
        timeoff) change=(ROOFTIME_CUPTI_TIMESTAMPS=offset) ;; # CUPTI's clock shifted by an offset, no callback
        timenocupti) change=(-u CUDA_INJECTION64_PATH) ;;
        timenonvtx) change=(-u NVTX_INJECTION64_PATH) ;;
        timekernel) change=(ROOFTIME_CUPTI_ACTIVITIES=none) ;;
        esac
        record_step "$name" 90 time "$work/$name.rtdb" env "${change[@]}" python3 "$pydir/$py.py" "${pa[@]}" \
            "${ts[@]}" ;;
    counters)
        ((have_gpu)) || { skip "$name" "no GPU: nvidia-smi lists none"; continue; }
        # faulthandler: a crash shows the Python threads' stacks in the log.
        record_step "$name" 120 counters "$data/python/$py-counters.rtdb" \
            env PYTHONFAULTHANDLER=1 python3 "$pydir/$py.py" "${pa[@]}" "${rs[@]}"
        if [[ $(tail -1 "$out/logs/steps.tsv" | cut -f2) == 139 ]]; then
            # A crash: once more under cuda-gdb, the collector set up as `rooftime record` does, for the native
            # stacks of every thread (symbols of rooftime's and CUPTI's libraries only: torch's take minutes).
            gdb=$(command -v cuda-gdb || ls /usr/local/cuda/bin/cuda-gdb 2>/dev/null | head -1)
            if [[ -n $gdb ]]; then
                col=$kit/lib/librooftime_collector.so
                step "gdb-$py-counters" 120 "$gdb" -q -batch -nx -ex 'set pagination off' -ex 'set confirm off' \
                    -ex 'set auto-solib-add off' -ex 'set cuda break_on_launch none' \
                    -ex "set environment LD_PRELOAD=$col" -ex "set environment CUDA_INJECTION64_PATH=$col" \
                    -ex "set environment NVTX_INJECTION64_PATH=$col" -ex 'set environment ROOFTIME_MODE=counters' \
                    -ex "set environment ROOFTIME_OUTPUT=$work/gdb-$py.rtdb" -ex run -ex 'info sharedlibrary' \
                    -ex 'sharedlibrary rooftime' -ex 'sharedlibrary cupti' -ex 'thread apply all bt 30' \
                    --args python3 "$pydir/$py.py" "${pa[@]}" "${rs[@]}"
                say "  cuda-gdb: $(grep -m1 -E 'received signal|exited' "$out/logs/gdb-$py-counters.log")"
            fi
        fi
        ;;
    ncu)
        if [[ ${DEVICE_CHECK_NCU:-1} == 0 ]]; then skip "$name" "DEVICE_CHECK_NCU=0"; continue; fi
        ncu_step "$name" 270 "$work/$py-ncu.csv" python3 "$pydir/$py.py" "${pa[@]}" "${rs[@]}" ;;
    *) skip "$name" "unknown mode '$mode' in DEVICE_CHECK_PY_RUNS" ;;
    esac
done
say ""
say "Step time (\`# step_ms\`, mean of the timed steps, and \`# step_ms_median\`) and wall time of each run; step-time"
say "overheads (mean and median) against the mean of the plain runs' values of the same script; lstm_train runs with"
say "\`--seq 16\` in every mode. plain, the time variants and kineto (torch.profiler, CUDA activities) time"
say "$timed_steps; counters and ncu: cnn_train ${py_replay[cnn_train]}, lstm_train ${py_replay[lstm_train]}."
say ""
python3 - "$out/logs" >>"$summary" 2>"$work/compare-python.err" <<'PY' || say "comparison failed: $(tail -3 "$work/compare-python.err")"
import os, re, sys

logs = sys.argv[1]
runs = []
with open(os.path.join(logs, "steps.tsv")) as f:
    for line in f:
        name, rc, secs = line.rstrip("\n").split("\t")
        m = re.match(r"py-(\w+?)-(plain|time|timeoff|timenocupti|timenonvtx|timekernel|kineto|counters|ncu)(?:-\d+)?$",
                     name)
        if m:
            runs.append((m.group(1), m.group(2), name, rc, float(secs)))

def step_ms(name, key="step_ms"):
    try:
        with open(os.path.join(logs, f"{name}.log"), errors="replace") as f:
            vals = [float(m.group(1)) for m in re.finditer(rf"^# {key} (\S+)", f.read(), re.M)]
        return vals[-1] if vals else None
    except OSError:
        return None

base = {}
for py, mode, name, rc, secs in runs:
    for key in ("step_ms", "step_ms_median"):
        ms = step_ms(name, key)
        if mode == "plain" and ms is not None:
            base.setdefault((py, key), []).append(ms)
print("| script | run | exit | wall s | step ms (mean / median) | overhead (mean / median) |")
print("|---|---|---|---|---|---|")
fmt_ms = lambda v: "-" if v is None else f"{v:.3f}"
for py, mode, name, rc, secs in runs:
    cells, overs = [], []
    for key in ("step_ms", "step_ms_median"):
        ms = step_ms(name, key)
        b = base.get((py, key))
        b = sum(b) / len(b) if b else None
        cells.append(fmt_ms(ms))
        overs.append(f"{100 * (ms - b) / b:+.1f} %" if ms is not None and b and mode not in ("plain", "counters", "ncu")
                     else "-")
    print(f"| {py} | {name[len('py-' + py) + 1:]} | {rc} | {secs:.1f} | {' / '.join(cells)} | {' / '.join(overs)} |")
# Per script and mode with several runs: the median of the runs' median step times, against the plain runs'.
import statistics
print("")
for py in sorted({r[0] for r in runs}):
    med = {}
    for p, mode, name, rc, secs in runs:
        v = step_ms(name, "step_ms_median")
        if p == py and v is not None:
            med.setdefault(mode, []).append(v)
    plain = med.get("plain")
    for mode, vals in sorted(med.items()):
        if mode in ("plain", "counters", "ncu") or not plain:
            continue
        m, b = statistics.median(vals), statistics.median(plain)
        print(f"- {py} {mode}: median of {len(vals)} run(s) {m:.3f} ms against {len(plain)} plain {b:.3f} ms: "
              f"{100 * (m - b) / b:+.1f} %")
PY
fi

# The fixtures for tests/data/gpu/: profiles, ncu CSVs, the machine file and how they were made.
if compgen -G "$data/*/*" >/dev/null || [[ -s $out/machine.json ]]; then
    [[ -s $out/machine.json ]] && cp "$out/machine.json" "$data/machine.json"
    {
        echo "<!-- SPDX-License-Identifier: MIT -->"
        echo "# tests/data/gpu/"
        echo ""
        echo "Written by \`tools/device-check.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), kit commit $(cat "$kit/COMMIT" 2>/dev/null)."
        echo ""
        echo "- card: $(nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
        echo "- driver: $(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>&1 | head -1); CUDA toolkit of the"
        echo "  build: see the kit's BUILD_INFO ($(tr '\n' ';' <"$kit/BUILD_INFO" 2>/dev/null))"
        echo "- ncu: $([[ -n $ncu ]] && "$ncu" --version 2>&1 | tail -1)"
        echo "- host: $(uname -sr), $(ldd --version 2>&1 | head -1)"
        echo ""
        echo "Files:"
        echo ""
        [[ -s $data/machine.json ]] && echo "- \`machine.json\`: \`rooftime ceilings --cpu --quick -o machine.json\`, then \`rooftime ceilings --gpu 0 -o machine.json\` (CPU quick, GPU 0 full; see summary.md for whether the GPU part is there)."
        echo "- \`time/SAMPLE.rtdb\`, \`counters/SAMPLE.rtdb\`: \`rooftime record --mode time|counters $([[ ${machine_opt[0]} == --machine ]] && echo "--machine machine.json" || echo "--no-machine") -o DIR/%p.rtdb -- samples/cuda/SAMPLE ARGS\`"
        echo "  with ARGS per sample:"
        for s in ${cuda_samples:-}; do echo "  - \`$s ${sample_args[$s]}\`"; done
        echo "- \`ncu/SAMPLE.csv\`: \`LC_ALL=C ncu --target-processes all --replay-mode kernel --clock-control none --cache-control none --metrics TIER1 --csv --page raw --print-units base --log-file SAMPLE.csv samples/cuda/SAMPLE ARGS\`,"
        echo "  \`ncu/SAMPLE.rtdb\`: \`rooftime import ncu SAMPLE.csv -o SAMPLE.rtdb\`; TIER1 = \`$tier1\`."
        [[ -d $data/graph ]] && echo "- \`graph/lstm_chain-MODE.rtdb\`: \`rooftime record --mode time|counters -o DIR/%p.rtdb -- samples/cuda/lstm_chain --graph --steps 40\` (kernels of a CUDA graph launch)."
        [[ -d $data/stacks ]] && echo "- \`stacks/lstm_chain.rtdb\`: \`rooftime record --mode time --call-stacks $([[ ${machine_opt[0]} == --machine ]] && echo "--machine machine.json" || echo "--no-machine") -o DIR/%p.rtdb -- samples/cuda/lstm_chain --steps 10\` (for \`report --by callpath\`)."
        echo "- \`python/SCRIPT-time.rtdb\`: \`rooftime record --mode time -- python3 samples/python/SCRIPT.py ARGS ${timed_steps:-}\`"
        echo "  (ARGS: none for cnn_train, \`--seq 16\` for lstm_train; the last such run);"
        echo "  \`python/SCRIPT-counters.rtdb\`: the same with \`--mode counters\` and \`${py_replay[cnn_train]:-}\` (cnn_train), \`${py_replay[lstm_train]:-}\` (lstm_train)."
        echo ""
        echo "Files of a step that failed are kept as they were left; see summary.md of the same run."
    } >"$data/README.md"
    find "$data" -type d -empty -delete
    tar czf "$out/tests-data.tar.gz" -C "$data/.." gpu
fi

say ""
say "total: $(( $(date +%s) - start )) s"
tar czf "$out/logs.tar.gz" --exclude=logs/tests-data -C "$out" logs && rm -rf "$out/logs"
ls -la "$out" >>"$summary"
