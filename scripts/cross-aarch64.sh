#!/usr/bin/env bash
# cross-aarch64.sh — cross-builds deepedge for aarch64 (the Jetson boards) and runs its unit
# suites under qemu-user (`make cross-aarch64`, README.md).
#   1. installs what is missing: the arm64 architecture in dpkg, Debian's cross toolchain
#      (crossbuild-essential-arm64), qemu-user, and the -dev packages of the build as :arm64
#   2. configures build-aarch64/ with cmake/aarch64-linux-gnu.cmake (CUDA off, warnings are errors)
#   3. builds everything (programs, suites, fuzz replayers)
#   4. runs the CUnit suites (tests/test_*.c) through ctest, each binary under qemu-aarch64
# and prints how long each step took. Exits non-zero on the first failure.
# Environment: BUILD_AARCH64 (build-aarch64), BUILD_TYPE (RelWithDebInfo), JOBS (2),
# NICE (10: the niceness of the build and the tests).
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD="${BUILD_AARCH64:-build-aarch64}"
BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
JOBS="${JOBS:-2}"
NICE="${NICE:-10}"
TOOLCHAIN="$PWD/cmake/aarch64-linux-gnu.cmake"

declare -a STEP_NAMES=() STEP_SECS=()
step_start=0
begin() { step_start=$(date +%s.%N); echo "== cross-aarch64: $1" >&2; }
end() {
    local secs
    secs=$(awk -v a="$step_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
    STEP_NAMES+=("$1")
    STEP_SECS+=("$secs")
    echo "== cross-aarch64: $1 took ${secs} s" >&2
}
summary() {
    local rc=$?
    if [ ${#STEP_NAMES[@]} -gt 0 ]; then
        echo "== cross-aarch64: step times" >&2
        for i in "${!STEP_NAMES[@]}"; do
            printf '   %-10s %8s s\n' "${STEP_NAMES[$i]}" "${STEP_SECS[$i]}" >&2
        done
    fi
    [ "$rc" -eq 0 ] || echo "== cross-aarch64: FAILED (exit $rc)" >&2
}
trap summary EXIT

# ---- 1. packages ----
# Debian 12 cannot install three of the build's arm64 packages next to the host's amd64 ones:
# libgsl-dev is not Multi-Arch: same (the :arm64 one would remove the host's), libopenmpi-dev
# depends on gfortran-12 of its architecture (gfortran-12:arm64 conflicts with the host's
# compilers), and libopenmpi3 needs libpmix2 -> libmunge2, which is not Multi-Arch: same
# either. Their arm64 packages (and the two GSL libraries libgsl-dev points at) are
# downloaded with apt-get and unpacked into $OVERLAY instead, outside dpkg's database; the
# toolchain file searches there after / (DE_AARCH64_OVERLAY). Every other package is a
# regular multiarch install, as are the runtime libraries the tests load under qemu: the
# overlay's own dependencies (hwloc, libevent, zlib) and the OpenMP runtime (libgomp1).
begin install
HOST_PKGS=(cmake pkg-config gnuplot-nox crossbuild-essential-arm64 qemu-user)
ARM64_PKGS=(libconfig-dev libcunit1-dev libcjson-dev libssl-dev libopenblas-dev libjpeg62-turbo-dev
            libgomp1 libhwloc15 libevent-core-2.1-7 libevent-pthreads-2.1-7 zlib1g)
OVERLAY_PKGS=(libgsl-dev libgsl27 libgslcblas0 libopenmpi-dev libopenmpi3)
case "$BUILD" in /*) OVERLAY="$BUILD/overlay" ;; *) OVERLAY="$PWD/$BUILD/overlay" ;; esac
SUDO=""
need_root() {
    if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
        command -v sudo >/dev/null 2>&1 || { echo "cross-aarch64: need root or sudo to $1" >&2; exit 1; }
        SUDO=sudo
    fi
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
export DEBIAN_FRONTEND=noninteractive
updated=0
changed=0
apt_update() {
    if [ "$updated" -eq 0 ]; then
        $SUDO apt-get update -qq
        updated=1
    fi
}
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    need_root "add the arm64 architecture to dpkg"
    echo "cross-aarch64: dpkg --add-architecture arm64" >&2
    $SUDO dpkg --add-architecture arm64
    changed=1
fi
missing=()
for p in "${HOST_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
for p in "${ARM64_PKGS[@]}"; do installed "$p:arm64" || missing+=("$p:arm64"); done
if [ ${#missing[@]} -gt 0 ]; then
    need_root "install: ${missing[*]}"
    echo "cross-aarch64: installing ${missing[*]}" >&2
    apt_update
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    changed=1
fi
# The overlay: unpacked again whenever a candidate version changes (its .stamp lists them).
overlay_versions() {
    local p v
    for p in "${OVERLAY_PKGS[@]}"; do
        v=$(apt-cache show --no-all-versions "$p:arm64" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
        [ -n "$v" ] || return 1
        printf '%s=%s\n' "$p" "$v"
    done
}
if ! want=$(overlay_versions); then
    need_root "update the package lists"
    apt_update
    want=$(overlay_versions)
fi
if [ "$(cat "$OVERLAY/.stamp" 2>/dev/null)" != "$want" ]; then
    echo "cross-aarch64: unpacking ${OVERLAY_PKGS[*]} (arm64) into $OVERLAY" >&2
    rm -rf "$OVERLAY" "$OVERLAY.debs"
    mkdir -p "$OVERLAY" "$OVERLAY.debs"
    # as root, apt would download as the _apt user, who cannot write here
    sandbox=()
    [ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
    mapfile -t specs < <(printf '%s\n' "$want" | sed 's/=/:arm64=/')
    download() { (cd "$OVERLAY.debs" && apt-get download -qq "${sandbox[@]}" "${specs[@]}"); }
    if ! download; then # stale package lists: the mirror has moved on
        need_root "update the package lists"
        apt_update
        mapfile -t specs < <(overlay_versions | sed 's/=/:arm64=/')
        want=$(overlay_versions)
        download
    fi
    for deb in "$OVERLAY.debs"/*.deb; do dpkg-deb -x "$deb" "$OVERLAY"; done
    rm -rf "$OVERLAY.debs"
    printf '%s\n' "$want" >"$OVERLAY/.stamp"
    changed=1
fi
[ "$changed" -eq 1 ] || echo "cross-aarch64: nothing to install" >&2
end install

# ---- 2. configure: CUDA off (a cross build must not look for nvcc), warnings are errors ----
begin configure
cmake -S . -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" \
    -DDE_AARCH64_OVERLAY="$OVERLAY" -DDE_CUDA=OFF -DDE_WERROR=ON >/dev/null
end configure

# ---- 3. build ----
begin build
nice -n "$NICE" cmake --build "$BUILD" -j "$JOBS"
end build

# ---- 4. the unit suites under qemu-user ----
# Only the CUnit binaries (one per tests/test_NAME.c, registered as NAME). Left out: the shell
# end-to-end tests (cli, run, decisions, hostile, torture, netns) and mpi_dp, which start the
# programs through a native mpiexec or take far too long under emulation, and the fuzz_*
# corpus replays (every native build runs them).
# One suite at a time: probe's duty-cycle case compares wall times of training steps that
# take seconds under emulation (a 0.25-core budget must make a step >= 2.5x slower); with two
# emulated suites side by side on a 2-core machine the unthrottled steps slow down instead
# (measured: 1.5x at -j2, 4.3x alone).
# DE_TEST_SKIP (tests/de_test.h) leaves out single cases that cannot hold under qemu-user:
#   probe/LC cell with a co-located trainer: it serves edgenet-s at 40 requests/s next to a
#     trainer and must record requests in a 0.6 s window after 0.1 s of warm-up; one emulated
#     batch-1 forward pass takes 0.52 s alone (`deepedge-exec bench train --net edgenet-s
#     --batch 1` under qemu-aarch64), so no request is served inside the window ("profile lc:
#     no request in the 0.6 s window"). A matter of speed, not of the code: the case runs in
#     every native build.
QEMU_SKIP="probe/LC cell with a co-located trainer"
begin test
suites=()
for src in tests/test_*.c; do
    name=${src#tests/test_}
    suites+=("${name%.c}")
done
regex="^($(IFS='|'; echo "${suites[*]}"))\$"
(cd "$BUILD" && DE_TEST_SKIP="$QEMU_SKIP" nice -n "$NICE" ctest --output-on-failure -R "$regex")
end test
