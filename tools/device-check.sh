#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Everything rooftime checks on a GPU machine, in one unattended run (under 8 minutes), results in OUT.
# Usage (on the GPU machine, repository root, device-kit/ from tools/device-pack.sh carried along):
#   bash tools/device-check.sh OUT
# OUT receives at most 8 files: summary.md (read this first), system.txt, machine.json (the measured
# machine model, ready for tests/data/machines/), gpu-quick.json, and logs.tar.gz (every log and raw
# output). Each step has its own time limit; a failing step is reported in summary.md and the next one runs.
set -uo pipefail

out=${1:?usage: tools/device-check.sh OUT}
kit=${KIT:-device-kit}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
kit=$(cd "$kit" && pwd) || {
    echo "device-check: no $kit folder; run tools/device-pack.sh on the build machine and carry device-kit" >&2
    exit 2
}
export LD_LIBRARY_PATH="$kit/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ROOFTIME_CACHE_DIR="$out/logs/cache"
rooftime=$kit/bin/rooftime
summary=$out/summary.md
start=$(date +%s)

say() { echo "$*" | tee -a "$summary"; }
# step NAME LIMIT_SECONDS CMD...: runs CMD with a time limit, logs to logs/NAME.log, records status and time.
step() {
    local name=$1 limit=$2
    shift 2
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout --kill-after=10 "$limit" "$@" >"$out/logs/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    say "- step \`$name\`: exit $rc, $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s$([[ $rc == 124 ]] && echo " (time limit $limit s)")"
    return $rc
}

echo "# rooftime device check" >"$summary"
say ""
say "kit: $(cat "$kit/BUILD_INFO" 2>/dev/null | tr '\n' ';')"

# 0. The machine, so that a mismatch with the build machine is obvious.
{
    echo "## uname"; uname -a
    echo "## os-release"; cat /etc/os-release 2>/dev/null
    echo "## glibc"; ldd --version 2>&1 | head -1
    echo "## nvidia-smi"; nvidia-smi 2>&1
    echo "## nvidia-smi clocks"; nvidia-smi -q -d CLOCK 2>&1 | head -40
    echo "## nvcc"; nvcc --version 2>&1 | tail -2
    echo "## ncu"; ncu --version 2>&1 | tail -1
    echo "## python/torch"; python3 -c 'import torch,sys; print(sys.version); print(torch.__version__, torch.cuda.get_device_name(0))' 2>&1
    echo "## lscpu"; lscpu 2>&1 | head -20
    echo "## kit libraries"; ldd "$rooftime" "$kit/bin/rooftime-ceilings-gpu" 2>&1
} >"$out/system.txt"
say "system: $(nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>&1 | head -1); $(ldd --version 2>&1 | head -1)"
if ! "$rooftime" --version >>"$summary" 2>&1; then
    say "FATAL: the kit's rooftime does not run here (see system.txt, kit libraries)"
    tar czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$out/logs"
    exit 1
fi

# 1. Machine model (issue: machine model): GPU companion quick (timed), then the full model of CPU and GPUs.
say ""
say "## 1. ceilings"
step gpu-quick 120 bash -c "'$kit/bin/rooftime-ceilings-gpu' --device 0 --quick >'$out/gpu-quick.json'"
step ceilings-full 420 "$rooftime" ceilings -o "$out/machine.json"
if [[ -s $out/machine.json ]]; then
    "$rooftime" ceilings --show "$out/machine.json" >"$out/logs/machine-show.txt" 2>&1
    sed -n '/^gpu0/,/^$/p' "$out/logs/machine-show.txt" | head -40 >>"$summary"
    grep -A30 '^notes:' "$out/logs/machine-show.txt" | head -30 >>"$summary"
fi

# 2. References measured the same way by PyTorch (cuBLAS GEMM, device copy), to judge the ceilings.
say ""
say "## 2. PyTorch references"
step torch-reference 120 python3 - <<'PY'
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
cat "$out/logs/torch-reference.log" >>"$summary"

say ""
say "total: $(( $(date +%s) - start )) s"
tar czf "$out/logs.tar.gz" -C "$out" logs && rm -rf "$out/logs"
ls -la "$out" >>"$summary"
