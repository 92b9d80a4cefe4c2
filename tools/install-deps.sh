#!/bin/bash
# SPDX-License-Identifier: MIT
# Installs rooftime's build and test dependencies from Debian 12 packages, idempotently.
# Usage (as root): tools/install-deps.sh [--gui] [--papi] [--fuzz]
# Skips what is present; prints what it installs. Qt (Gui, Svg) is installed by default so that CI builds and
# tests `rooftime plot`; PAPI and the fuzzing toolchain only on request. The build detects every optional part
# and degrades when it is absent.
set -euo pipefail
want=(build-essential cmake ninja-build ccache pkg-config git
      libsqlite3-dev sqlite3 libfmt-dev nlohmann-json3-dev libcli11-dev catch2 libunwind-14-dev
      openmpi-bin # mpirun: the multi-rank test records real MPI ranks
      qt6-base-dev qt6-svg-dev) # rooftime plot (rooftime-plot companion and its tests)
for arg in "$@"; do
    case "$arg" in
    --gui) want+=(libgl-dev) ;; # Qt itself is in the default list
    --papi) want+=(libpapi-dev papi-tools) ;;
    --fuzz) want+=(clang-14 libfuzzer-14-dev) ;;
    *) echo "install-deps: unknown option '$arg' (use --gui, --papi, --fuzz)" >&2; exit 2 ;;
    esac
done
missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#want[@]} packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}; run this script as root (or install them with apt-get)" >&2
    exit 2
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
