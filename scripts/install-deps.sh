#!/usr/bin/env bash
# install-deps.sh — installs the Debian packages deepedge needs, only those missing.
# Used by the Makefile before every build, so a fresh Debian machine needs nothing else.
set -euo pipefail

PKGS=(build-essential cmake pkg-config
      libgsl-dev libconfig-dev libcunit1-dev libcjson-dev libssl-dev
      gnuplot-nox libopenmpi-dev openmpi-bin
      libjpeg62-turbo-dev libopenblas-dev
      clang libclang-rt-dev)  # the clang build and libFuzzer (make fuzz)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
