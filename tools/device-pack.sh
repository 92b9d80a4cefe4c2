#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Packs what tools/device-check.sh needs on a GPU machine into device-kit/ (ignored by git): the release
# binaries, the collector, the built samples (cpu/, cuda/), the PyTorch scripts (samples/python), and the
# shared libraries a machine without Debian's packages lacks (libfmt, libsqlite3).
# Usage: tools/device-pack.sh [BUILD=build/release]
# Then, through the device tool: carry ["device-kit"], command "bash tools/device-check.sh $OUT".
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
if [[ ! -x $build/bin/rooftime ]]; then
    echo "tools/device-pack.sh: $build/bin/rooftime is missing; build it: cmake --workflow --preset release" >&2
    exit 2
fi
if [[ ! -x $build/bin/rooftime-ceilings-gpu ]]; then
    echo "tools/device-pack.sh: $build/bin/rooftime-ceilings-gpu is missing: this build has no CUDA" >&2
    exit 2
fi
rm -rf device-kit
mkdir -p device-kit/bin device-kit/lib device-kit/samples
cp "$build/bin/rooftime" "$build/bin/rooftime-ceilings-gpu" device-kit/bin/
cp "$build/lib/librooftime_collector.so" device-kit/lib/
# The CUPTI backend, loaded by the collector from its own folder; it finds libcupti.so.13 through its RUNPATH
# (/usr/local/cuda/lib64), i.e. the GPU machine's own CUPTI, which must match its driver.
if [[ -f $build/lib/librooftime_cupti.so ]]; then
    cp "$build/lib/librooftime_cupti.so" device-kit/lib/
else
    echo "device-pack: warning: no $build/lib/librooftime_cupti.so (built without CUPTI): GPU kernels will not be recorded" >&2
fi
cp -r "$build/samples/." device-kit/samples/
# The CUPTI overhead benchmark (bench/cupti_overhead.cu), when this build has it.
if [[ -x $build/bench/cupti_overhead ]]; then
    mkdir -p device-kit/bench
    cp "$build/bench/cupti_overhead" device-kit/bench/
fi
find device-kit/samples \( -name '*.cmake' -o -name CMakeFiles \) -prune -exec rm -rf {} + 2>/dev/null || true
if [[ ! -d device-kit/samples/cuda ]]; then
    echo "tools/device-pack.sh: warning: $build/samples/cuda is missing; the kit has no CUDA samples" >&2
fi
mkdir -p device-kit/samples/python
cp samples/python/*.py device-kit/samples/python/
# Libraries outside glibc and the GCC runtime: the GPU machine's OS need not have them.
for f in device-kit/bin/* device-kit/lib/librooftime_collector.so; do
    ldd "$f" | awk '/=> \// {print $3}'
done | sort -u | grep -Ev '/(libc|libm|libdl|libpthread|librt|libgcc_s|libstdc\+\+|ld-linux[^/]*)\.so' |
    while read -r lib; do cp -L "$lib" device-kit/lib/; done
git rev-parse HEAD >device-kit/COMMIT 2>/dev/null || echo unknown >device-kit/COMMIT
{
    echo "built on: $(. /etc/os-release && echo "$PRETTY_NAME"), $(ldd --version | head -1)"
    echo "commit: $(cat device-kit/COMMIT)"
} >device-kit/BUILD_INFO
du -sh device-kit
ls device-kit/lib
